// PNG files of the report's charts, for READMEs and CI artifacts: the configs charts.ts built for
// the page, drawn by chartjs-node-canvas with the same plugins, on a white background.
import type { ChartConfiguration } from 'chart.js';
import { DependencyError } from '../harness/errors.js';
import { CHART_PLUGINS } from './chart-plugins.js';
import type { DrawnChart } from './chart-sections.js';

export const PNG_WIDTH = 1000;
export const PNG_HEIGHT = 560;

interface NodeCanvasRenderer {
  renderToBuffer(config: ChartConfiguration): Promise<Buffer>;
}

async function renderer(): Promise<NodeCanvasRenderer> {
  try {
    const { ChartJSNodeCanvas } = await import('chartjs-node-canvas');
    return new ChartJSNodeCanvas({ width: PNG_WIDTH, height: PNG_HEIGHT, backgroundColour: 'white' });
  } catch (err) {
    throw new DependencyError(`The CSV and HTML reports are written, but PNG charts need chartjs-node-canvas and its native canvas module, which did not load `
      + `(${(err as Error).message.split('\n')[0]}). Fix: run \`npm run setup\` (it installs libcairo2-dev libpango1.0-dev `
      + 'libjpeg-dev libgif-dev librsvg2-dev and builds canvas), then `bench report <run>`; `bench doctor` shows what is missing.');
  }
}

/** One PNG per drawn chart, named `<key>.png`. */
export async function renderChartPngs(charts: readonly DrawnChart[]): Promise<Array<{ readonly name: string; readonly png: Buffer }>> {
  if (charts.length === 0) return [];
  const canvas = await renderer();
  const out: Array<{ name: string; png: Buffer }> = [];
  for (const chart of charts) {
    // chartjs-node-canvas writes into the config (responsive, animation): give it a copy.
    const config = { ...structuredClone(chart.config), plugins: [...CHART_PLUGINS] } as ChartConfiguration;
    out.push({ name: `${chart.key}.png`, png: await canvas.renderToBuffer(config) });
  }
  return out;
}
