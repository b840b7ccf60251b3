// The report's chart sections and the scripts that draw them in the page: chart.js itself (its UMD
// build, inlined so the file opens offline and from file://), our plugins' source, and the configs
// charts.ts built. The same configs go to the PNG files (png.ts).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chartPluginsSource } from './chart-plugins.js';
import { CHART_KINDS } from './charts.js';
import type { ChartKind, ChartView } from './charts.js';
import { escapeHtml } from './format.js';
import type { ReportSection } from './context.js';

export type DrawnChart = Extract<ChartView, { state: 'drawn' }>;

export function drawnChartsOf(views: readonly ChartView[]): DrawnChart[] {
  return views.filter((v): v is DrawnChart => v.state === 'drawn');
}

/** Element id of a chart's canvas. */
export const canvasId = (key: string): string => `canvas-${key}`;

function figureHtml(view: ChartView): string {
  if (view.state === 'not-measured') {
    return `<p class="not-measured" id="fig-${escapeHtml(view.key)}">${escapeHtml(view.title)}: not measured on this run: ${escapeHtml(view.reason)}.</p>`;
  }
  const caption = [CHART_KINDS[view.kind].howToRead, ...view.notes].map((t) => escapeHtml(t)).join(' ');
  return `<figure class="chart" id="fig-${escapeHtml(view.key)}"><div class="chart-box">`
    + `<canvas id="${escapeHtml(canvasId(view.key))}" role="img" aria-label="${escapeHtml(view.title)}"></canvas>`
    + '<noscript>Charts need JavaScript; the PNG files in the run\'s charts/ folder show the same.</noscript></div>'
    + `<figcaption>${caption}</figcaption></figure>`;
}

/** The section of one chart kind: a figure per suite, or what was not measured; null where the run has none (no sweep). */
export function chartSection(kind: ChartKind): ReportSection {
  const viewsOf = (charts: readonly ChartView[]) => charts.filter((v) => v.kind === kind);
  return {
    id: `chart-${kind}`,
    title: CHART_KINDS[kind].title,
    render(ctx) {
      const views = viewsOf(ctx.charts);
      return views.length ? views.map(figureHtml).join('\n') : null;
    },
    charts: (ctx) => viewsOf(ctx.charts),
  };
}

let chartJs: string | null = null;

/** chart.js's UMD build (it sets window.Chart), without its source-map comment (nothing to fetch). */
function chartJsSource(): string {
  if (chartJs === null) {
    // The package's exports do not expose dist/chart.umd.js; its main entry sits beside it.
    const main = createRequire(import.meta.url).resolve('chart.js');
    const text = readFileSync(join(dirname(main), 'chart.umd.js'), 'utf8');
    chartJs = text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  }
  return chartJs;
}

/** JSON that is also safe inside a script element and a JavaScript source. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The page's scripts: chart.js, then one that draws every chart. It records the outcome per chart in
 * `window.adaptbenchCharts` (true drawn, or the error) and logs failures to the console, where the
 * browser test looks.
 */
export function chartRuntimeScripts(charts: readonly DrawnChart[]): string[] {
  const configs = Object.fromEntries(charts.map((c) => [canvasId(c.key), c.config]));
  const init = `(function () {
  'use strict';
  var plugins = ${chartPluginsSource()};
  var configs = ${scriptJson(configs)};
  var outcome = {};
  Object.keys(configs).forEach(function (id) {
    try {
      var canvas = document.getElementById(id);
      if (!canvas) throw new Error('no canvas #' + id);
      var config = configs[id];
      config.plugins = plugins;
      new Chart(canvas, config);
      outcome[id] = true;
    } catch (err) {
      outcome[id] = String(err && err.message || err);
      console.error('adaptbench: chart ' + id + ' was not drawn: ' + outcome[id]);
    }
  });
  window.adaptbenchCharts = outcome;
})();`;
  return [chartJsSource(), init];
}
