// Chart.js plugins shared by the two renderers: the HTML page (chart.js in the browser) and the PNG
// files (chartjs-node-canvas). Chart.js draws no error bars or point labels by itself, and the
// report needs both: an interval per mean, and which approach a scatter point is.
//
// Each hook is a plain function that uses only its arguments: the page gets its source text
// (Function.prototype.toString) inlined, so it must not reference imports or module-level values.
// The browser test fails on any console error, which is where a broken hook would show.
import type { Chart, Plugin } from 'chart.js';

/** A [low, high] interval per data point (null where there is none), in the axis's units. */
export type PointIntervals = ReadonlyArray<readonly [number, number] | null>;

/**
 * Extra fields our chart builders put on a dataset. Chart.js keeps dataset objects as given, so the
 * hooks read them back from `chart.data.datasets` (resolved plugin options would be proxied).
 */
export interface DatasetMarks {
  /** Vertical whisker per point (bars, lines, scatter y). */
  readonly abIntervalY?: PointIntervals;
  /** Horizontal whisker per point (scatter x). */
  readonly abIntervalX?: PointIntervals;
  /** Text drawn beside every point of the dataset (scatter: the row's label). */
  readonly abPointLabel?: string;
}

/** Draws each point's interval as a whisker with caps, over the dataset's own scales. */
function drawIntervals(chart: Chart): void {
  const ctx = chart.ctx;
  const area = chart.chartArea;
  ctx.save();
  // A whisker longer than the axis (two seeds give wide Student t intervals) is cut at the plot's
  // edge, without its cap there: the reader sees that it goes on.
  ctx.beginPath();
  ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
  ctx.clip();
  ctx.strokeStyle = '#24292f';
  ctx.lineWidth = 1.5;
  const cap = 4;
  chart.data.datasets.forEach((dataset, i) => {
    if (!chart.isDatasetVisible(i)) return;
    const marks = dataset as { abIntervalY?: PointIntervals; abIntervalX?: PointIntervals };
    if (!marks.abIntervalY && !marks.abIntervalX) return;
    const meta = chart.getDatasetMeta(i);
    const yScale = chart.scales[meta.yAxisID ?? 'y'];
    const xScale = chart.scales[meta.xAxisID ?? 'x'];
    meta.data.forEach((el, j) => {
      const iy = marks.abIntervalY?.[j];
      if (iy && yScale) {
        const top = yScale.getPixelForValue(iy[1]);
        const bottom = yScale.getPixelForValue(iy[0]);
        ctx.beginPath();
        ctx.moveTo(el.x, top); ctx.lineTo(el.x, bottom);
        ctx.moveTo(el.x - cap, top); ctx.lineTo(el.x + cap, top);
        ctx.moveTo(el.x - cap, bottom); ctx.lineTo(el.x + cap, bottom);
        ctx.stroke();
      }
      const ix = marks.abIntervalX?.[j];
      if (ix && xScale) {
        const left = xScale.getPixelForValue(ix[0]);
        const right = xScale.getPixelForValue(ix[1]);
        ctx.beginPath();
        ctx.moveTo(left, el.y); ctx.lineTo(right, el.y);
        ctx.moveTo(left, el.y - cap); ctx.lineTo(left, el.y + cap);
        ctx.moveTo(right, el.y - cap); ctx.lineTo(right, el.y + cap);
        ctx.stroke();
      }
    });
  });
  ctx.restore();
}

/** Writes a dataset's `abPointLabel` beside each of its points, so a scatter needs no legend lookup. */
function drawPointLabels(chart: Chart): void {
  const ctx = chart.ctx;
  ctx.save();
  ctx.font = '12px sans-serif';
  ctx.fillStyle = '#24292f';
  ctx.textBaseline = 'bottom';
  ctx.textAlign = 'left';
  const lineHeight = 14;
  // Boxes of the labels drawn so far: rows at the same point (equal means) get stacked labels.
  const placed: Array<{ left: number; top: number; right: number; bottom: number }> = [];
  chart.data.datasets.forEach((dataset, i) => {
    const text = (dataset as { abPointLabel?: string }).abPointLabel;
    if (!text || !chart.isDatasetVisible(i)) return;
    for (const el of chart.getDatasetMeta(i).data) {
      const width = ctx.measureText(text).width;
      // Left of the point where the label would leave the chart area on the right.
      const left = el.x + 7 + width > chart.chartArea.right ? el.x - 7 - width : el.x + 7;
      let bottom = el.y - 4;
      for (let tries = 0; tries < 12; tries++) {
        const box = { left, top: bottom - lineHeight, right: left + width, bottom };
        if (!placed.some((p) => box.left < p.right && p.left < box.right && box.top < p.bottom && p.top < box.bottom)) break;
        bottom -= lineHeight;
      }
      placed.push({ left, top: bottom - lineHeight, right: left + width, bottom });
      ctx.fillText(text, left, bottom);
    }
  });
  ctx.restore();
}

/** Plugin id -> afterDatasetsDraw hook: the one table both renderers are built from. */
const HOOKS = [
  ['abIntervals', drawIntervals],
  ['abPointLabels', drawPointLabels],
] as const;

/** The plugins as objects, for chartjs-node-canvas (a chart config's `plugins`). */
export const CHART_PLUGINS: readonly Plugin[] = HOOKS.map(([id, hook]) => ({ id, afterDatasetsDraw: hook }));

/** The same plugins as JavaScript source: an array expression for the page's inline script. */
export function chartPluginsSource(): string {
  return `[${HOOKS.map(([id, hook]) => `{ id: ${JSON.stringify(id)}, afterDatasetsDraw: ${hook.toString()} }`).join(',\n')}]`;
}
