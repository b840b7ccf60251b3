// Chart configs of a run's main views, built once from the summaries over seeds. The HTML page and
// the PNG files draw these same configs (html.ts with chart.js in the browser, png.ts with
// chartjs-node-canvas), so a chart in a README shows exactly what the report shows.
//
// Configs are plain data (no functions): they are inlined into the page as JSON and cloned for
// each PNG. Units are scaled here (bytes to MiB, ...) and named in the axis titles for the same reason.
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { DatasetMarks } from './chart-plugins.js';
import { suiteInfo } from './suite-info.js';
import type { SuiteInfo, SuiteMetric } from './suite-info.js';
import type { GroupSummary, MetricSummary } from './summary.js';

/** The views, in page order: id, title, and how to read the chart (shown under it). */
export const CHART_KINDS = {
  'memory-breakdown': {
    title: 'Memory breakdown',
    howToRead: 'Mean over seeds of the engine-tracked bytes of the heaviest phase, split by category: a training step for '
      + 'approaches that train, one evaluation batch for those that do not (base, rag). Activations are the peak minus the rest.',
  },
  'quality-memory': {
    title: 'Quality against peak memory',
    howToRead: 'Each point is an approach: the mean of the suite\'s headline metric (named on the axis) against mean peak engine '
      + 'memory, with 95% intervals over seeds as whiskers. The dashed line joins the Pareto front: the rows no other row beats on '
      + 'both quality and memory (by means).',
  },
  'train-throughput': {
    title: 'Training throughput',
    howToRead: 'Training tokens per second, median over timed steps after warm-up, then the median over seeds with its 95% bootstrap interval. '
      + 'Only approaches that train have a bar.',
  },
  latency: {
    title: 'Latency after merging',
    howToRead: 'Per-token decode latency of the served model over the base model\'s, timed interleaved in one process '
      + '(1.0 = no added latency): merged adapter, and the adapter kept unmerged where measured. Whiskers: 95% intervals. '
      + 'The base row is the base timed against itself: how far it strays from 1.0 is the timing noise of this machine.',
  },
  retrieval: {
    title: 'Retrieval recall and answer quality',
    howToRead: 'For each retrieving approach: BEIR recall@1/5/10 and nDCG@10 against the suite\'s relevance judgements, the share '
      + 'of prompts that hold the gold passage, and the suite\'s headline metric. High recall with low quality means '
      + 'the model fails to read, not the retriever to find.',
  },
  'learning-forgetting': {
    title: 'Learning against forgetting',
    howToRead: 'Learning: the suite\'s headline metric (named on the axis). Forgetting: held-out Brown cross-entropy after adaptation '
      + 'minus before (right is worse; base and rag sit at 0 by construction). Whiskers: 95% intervals over seeds.',
  },
  'rank-sweep': {
    title: 'LoRA rank sweep',
    howToRead: 'Rows of one approach that differ only in rank: the suite\'s headline metric (solid, left axis, 95% intervals) and forgetting '
      + '(dashed, right axis) against the rank.',
  },
} as const;

export type ChartKind = keyof typeof CHART_KINDS;
export const CHART_KIND_IDS = Object.keys(CHART_KINDS) as ChartKind[];

interface ChartCommon {
  /** Unique in the run, safe in file names and HTML ids: `<suite>-<kind>`. */
  readonly key: string;
  readonly kind: ChartKind;
  readonly suite: string;
  readonly title: string;
}

/** A chart with data, or the reason there is none: the report says so instead of drawing nothing. */
export type ChartView =
  | (ChartCommon & { readonly state: 'drawn'; readonly config: ChartConfiguration; readonly notes: readonly string[] })
  | (ChartCommon & { readonly state: 'not-measured'; readonly reason: string });

/** Hue per approach name, so a row keeps its colour in every chart; variants of an approach get lighter shades. */
const HUES: Readonly<Record<string, readonly [hue: number, saturation: number, lightness: number]>> = {
  base: [210, 8, 45], 'full-ft': [355, 70, 47], lora: [212, 90, 44], qlora: [265, 60, 52], rag: [135, 65, 32], 'lora-rag': [32, 95, 42],
};

function rowColors(groups: readonly GroupSummary[]): Map<string, string> {
  const seen = new Map<string, number>();
  const colors = new Map<string, string>();
  for (const g of groups) {
    const k = seen.get(g.approach) ?? 0;
    seen.set(g.approach, k + 1);
    const [h, s, l] = HUES[g.approach] ?? [30, 10, 35];
    colors.set(g.label, `hsl(${h}, ${s}%, ${Math.min(80, l + 13 * k)}%)`);
  }
  return colors;
}

const BREAKDOWN: ReadonlyArray<readonly [MetricId, string]> = [
  ['memory.weightsBytes', 'hsl(212, 45%, 55%)'],
  ['memory.gradientsBytes', 'hsl(28, 85%, 55%)'],
  ['memory.optimizerBytes', 'hsl(355, 65%, 55%)'],
  ['memory.activationsBytes', 'hsl(170, 45%, 45%)'],
];

const BYTE_SCALES = [[1024 ** 3, 'GiB'], [1024 ** 2, 'MiB'], [1024, 'KiB'], [1, 'bytes']] as const;

/** The binary unit that keeps the largest value at 1 or more: axis values stay short. */
export function byteScale(max: number): { readonly divisor: number; readonly unit: string } {
  const found = BYTE_SCALES.find(([d]) => max >= d) ?? BYTE_SCALES[BYTE_SCALES.length - 1]!;
  return { divisor: found[0], unit: found[1] };
}

/** Mean and interval of a metric, scaled; null where the row has no value. */
function point(g: GroupSummary, id: MetricId, divisor = 1): { mean: number; interval: readonly [number, number] | null } | null {
  const s: MetricSummary | undefined = g.metrics[id];
  if (!s) return null;
  return { mean: s.mean / divisor, interval: s.interval ? [s.interval.low / divisor, s.interval.high / divisor] : null };
}

/** The interval of a metric whose cells give their own bounds as separate metrics (`<id>Low`, `<id>High`). */
export function intervalWithBounds(g: GroupSummary, id: MetricId, low: MetricId, high: MetricId): readonly [number, number] | null {
  const s = g.metrics[id];
  if (!s) return null;
  if (s.n >= 2 && s.interval) return [s.interval.low, s.interval.high];
  const lo = g.metrics[low];
  const hi = g.metrics[high];
  // One seed: the cell's own (bootstrap) interval is the only spread there is.
  if (lo && hi && lo.n === 1 && hi.n === 1) return [lo.mean, hi.mean];
  return s.interval ? [s.interval.low, s.interval.high] : null;
}

/** Why a metric has no value in any of these rows: the cells' own notes, or a plain statement. */
export function missingReason(groups: readonly GroupSummary[], ids: readonly MetricId[]): string {
  const notes = new Set<string>();
  for (const g of groups) for (const id of ids) for (const n of g.notes[id] ?? []) notes.add(`${g.label}: ${n}`);
  const names = ids.map((id) => METRICS[id].label).join(', ');
  return notes.size ? `no row reports ${names} (${[...notes].slice(0, 6).join('; ')}${notes.size > 6 ? '; ...' : ''})`
    : `no row reports ${names}`;
}

type Dataset = ChartDataset & DatasetMarks;

const axisTitle = (text: string) => ({ display: true, text });
const betterText = (m: SuiteMetric): string => (m.higherIsBetter ? 'higher is better' : 'lower is better');

function baseOptions(title: string, legend: boolean): NonNullable<ChartConfiguration['options']> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: {
      title: { display: true, text: title, font: { size: 15 } },
      legend: { display: legend, position: 'bottom' },
    },
  };
}

interface Builder {
  (suite: SuiteInfo, groups: readonly GroupSummary[], colors: ReadonlyMap<string, string>, title: string):
    { config: ChartConfiguration; notes: string[] } | { reason: string } | null;
}

const memoryBreakdown: Builder = (_suite, groups, _colors, title) => {
  const rows = groups.filter((g) => BREAKDOWN.some(([id]) => g.metrics[id]));
  if (rows.length === 0) return { reason: missingReason(groups, BREAKDOWN.map(([id]) => id)) };
  const max = Math.max(...rows.map((g) => BREAKDOWN.reduce((sum, [id]) => sum + (g.metrics[id]?.mean ?? 0), 0)));
  const { divisor, unit } = byteScale(max);
  const datasets: Dataset[] = BREAKDOWN.map(([id, color]) => ({
    type: 'bar', label: METRICS[id].label, backgroundColor: color, stack: 'memory',
    data: rows.map((g) => { const m = g.metrics[id]; return m ? m.mean / divisor : null; }),
  }));
  const options = baseOptions(title, true);
  options.scales = { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: axisTitle(unit) } };
  const notes: string[] = [];
  const gpu = groups.filter((g) => g.metrics['memory.gpuPeakBytes']);
  const why = [...new Set(groups.flatMap((g) => g.notes['memory.gpuPeakBytes'] ?? []))];
  // "no GPU" only where every cell says it ran without an accelerator; otherwise the notes say why.
  const noGpu = groups.every((g) => g.completed.every((c) => c.backend?.accelerator === 'none'));
  notes.push(gpu.length === 0
    ? `GPU memory: not measured${noGpu ? ': no GPU' : ''}${why.length ? ` (${why.join('; ')})` : ''}.`
    : `GPU memory peak: ${gpu.map((g) => `${g.label} ${(g.metrics['memory.gpuPeakBytes']!.mean / 1024 ** 2).toFixed(1)} MiB`).join(', ')} (not in the bars: sampled from the device, not engine-tracked).`);
  return { config: { type: 'bar', data: { labels: rows.map((g) => g.label), datasets }, options }, notes };
};

/** Rows not beaten on both quality (higher) and memory (lower) by another row, by means, cheapest first. */
export function paretoFront(points: ReadonlyArray<{ label: string; quality: number; memory: number }>): string[] {
  const front = points.filter((p) => !points.some((q) => q !== p && q.quality >= p.quality && q.memory <= p.memory
    && (q.quality > p.quality || q.memory < p.memory)));
  return front.sort((a, b) => a.memory - b.memory || b.quality - a.quality).map((p) => p.label);
}

function scatter(
  groups: readonly GroupSummary[], colors: ReadonlyMap<string, string>, title: string,
  x: { id: MetricId; divisor: number; axis: string; fromZero: boolean }, y: SuiteMetric, yPrefix: string,
): { datasets: Dataset[]; options: NonNullable<ChartConfiguration['options']>; rows: GroupSummary[] } {
  const rows = groups.filter((g) => g.metrics[x.id] && g.metrics[y.id]);
  const datasets: Dataset[] = rows.map((g) => {
    const px = point(g, x.id, x.divisor)!;
    const py = point(g, y.id)!;
    return {
      type: 'scatter', label: g.label, data: [{ x: px.mean, y: py.mean }], backgroundColor: colors.get(g.label) ?? '#888',
      pointRadius: 6, pointHoverRadius: 8, abPointLabel: g.label, abIntervalX: [px.interval], abIntervalY: [py.interval],
    };
  });
  const options = baseOptions(title, false);
  // y is a share (exact match, accuracy): from 0, so equal bars of different rows read as equal.
  options.scales = {
    // Memory from 0 too: an axis from 130.2 to 132 MiB would make a 1% difference look like a gulf.
    x: { type: 'linear', ...(x.fromZero ? { min: 0 } : {}), title: axisTitle(x.axis) },
    y: { type: 'linear', min: 0, title: axisTitle(`${yPrefix}${METRICS[y.id].label}, ${betterText(y)}`) },
  };
  return { datasets, options, rows };
}

const qualityMemory: Builder = (suite, groups, colors, title) => {
  const q = suite.headline;
  const ids: MetricId[] = [q.id, 'memory.peakBytes'];
  const present = groups.filter((g) => ids.every((id) => g.metrics[id]));
  if (present.length === 0) return { reason: missingReason(groups, ids) };
  const { divisor, unit } = byteScale(Math.max(...present.map((g) => g.metrics['memory.peakBytes']!.mean)));
  const s = scatter(groups, colors, title, { id: 'memory.peakBytes', divisor, axis: `Peak engine memory (${unit}), lower is better`, fromZero: true }, q, '');
  // The front reads "higher is better": a lower-is-better headline enters negated.
  const front = paretoFront(s.rows.map((g) => ({ label: g.label, quality: (q.higherIsBetter ? 1 : -1) * g.metrics[q.id]!.mean, memory: g.metrics['memory.peakBytes']!.mean })));
  const byLabel = new Map(s.rows.map((g) => [g.label, g]));
  s.datasets.push({
    type: 'scatter', label: 'Pareto front', showLine: true, borderDash: [6, 4], borderColor: '#57606a', borderWidth: 1.5,
    pointRadius: 0, backgroundColor: 'transparent',
    data: front.map((l) => ({ x: byLabel.get(l)!.metrics['memory.peakBytes']!.mean / divisor, y: byLabel.get(l)!.metrics[q.id]!.mean })),
  });
  s.options.plugins!.legend = { display: true, position: 'bottom' };
  return {
    config: { type: 'scatter', data: { datasets: s.datasets }, options: s.options },
    notes: [`Pareto front (dashed): ${front.join(' → ')}.`],
  };
};

const trainThroughput: Builder = (_suite, groups, colors, title) => {
  const id: MetricId = 'train.tokensPerSec';
  const rows = groups.filter((g) => g.metrics[id]);
  if (rows.length === 0) return { reason: missingReason(groups, [id]) };
  const datasets: Dataset[] = [{
    type: 'bar', label: METRICS[id].label, data: rows.map((g) => g.metrics[id]!.point),
    backgroundColor: rows.map((g) => colors.get(g.label) ?? '#888'), abIntervalY: rows.map((g) => point(g, id)!.interval),
  }];
  const options = baseOptions(title, false);
  options.scales = { y: { beginAtZero: true, title: axisTitle(`${METRICS[id].unit}, higher is better`) } };
  const idle = groups.filter((g) => !g.metrics[id]).map((g) => g.label);
  return { config: { type: 'bar', data: { labels: rows.map((g) => g.label), datasets }, options },
    notes: idle.length ? [`No training, so no bar: ${idle.join(', ')}.`] : [] };
};

const LATENCY_SERIES: ReadonlyArray<{ id: MetricId; low: MetricId; high: MetricId; label: string; color: string }> = [
  { id: 'latency.tokenRatioToBase', low: 'latency.tokenRatioToBaseLow', high: 'latency.tokenRatioToBaseHigh', label: 'merged (served)', color: 'hsl(212, 70%, 50%)' },
  { id: 'latency.unmergedTokenRatioToBase', low: 'latency.unmergedTokenRatioToBaseLow', high: 'latency.unmergedTokenRatioToBaseHigh', label: 'adapter unmerged', color: 'hsl(28, 85%, 55%)' },
];

const latency: Builder = (_suite, groups, _colors, title) => {
  const rows = groups.filter((g) => LATENCY_SERIES.some((s) => g.metrics[s.id]));
  if (rows.length === 0) return { reason: missingReason(groups, ['latency.tokenRatioToBase', 'latency.tokenP50Ms']) };
  const datasets: Dataset[] = LATENCY_SERIES.filter((s) => rows.some((g) => g.metrics[s.id])).map((s) => ({
    type: 'bar', label: s.label, backgroundColor: s.color,
    data: rows.map((g) => g.metrics[s.id]?.mean ?? null),
    abIntervalY: rows.map((g) => intervalWithBounds(g, s.id, s.low, s.high)),
  }));
  // The base's own latency, as a line across every row: a bar reaching it adds nothing.
  datasets.push({
    type: 'line', label: 'base = 1.0', data: rows.map(() => 1), borderColor: '#57606a', borderDash: [6, 4], borderWidth: 1.5,
    pointRadius: 0, backgroundColor: 'transparent',
  });
  const options = baseOptions(title, true);
  options.scales = { y: { beginAtZero: true, title: axisTitle('per-token latency / base (1.0 = none added), lower is better') } };
  const p50 = rows.filter((g) => g.metrics['latency.tokenP50Ms']).map((g) => `${g.label} ${g.metrics['latency.tokenP50Ms']!.mean.toPrecision(3)} ms`);
  return { config: { type: 'bar', data: { labels: rows.map((g) => g.label), datasets }, options },
    notes: p50.length ? [`Per-token p50, merged, in onnxruntime-node: ${p50.join(', ')}.`] : [] };
};

const RETRIEVAL_SERIES: ReadonlyArray<readonly [MetricId, string]> = [
  ['retrieval.recallAt1', 'hsl(135, 45%, 70%)'], ['retrieval.recallAt5', 'hsl(135, 50%, 52%)'], ['retrieval.recallAt10', 'hsl(135, 60%, 35%)'],
  ['retrieval.ndcgAt10', 'hsl(190, 55%, 45%)'], ['retrieval.goldInPrompt', 'hsl(265, 45%, 60%)'],
];

const retrieval: Builder = (suite, groups, _colors, title) => {
  const rows = groups.filter((g) => g.metrics['retrieval.recallAt10'] || g.metrics['retrieval.recallAt1']);
  if (rows.length === 0) return { reason: missingReason(groups, ['retrieval.recallAt10']) };
  const series = [...RETRIEVAL_SERIES, [suite.headline.id, 'hsl(28, 85%, 50%)'] as const];
  const datasets: Dataset[] = series.map(([id, color]) => ({
    type: 'bar', label: METRICS[id].label, backgroundColor: color,
    data: rows.map((g) => g.metrics[id]?.mean ?? null), abIntervalY: rows.map((g) => point(g, id)?.interval ?? null),
  }));
  const options = baseOptions(title, true);
  options.scales = { y: { beginAtZero: true, max: 1, title: axisTitle('share (0 to 1), higher is better') } };
  return { config: { type: 'bar', data: { labels: rows.map((g) => g.label), datasets }, options }, notes: [] };
};

const learningForgetting: Builder = (suite, groups, colors, title) => {
  const ids: MetricId[] = [suite.headline.id, 'forgetting.ceDelta'];
  if (!groups.some((g) => ids.every((id) => g.metrics[id]))) return { reason: missingReason(groups, ids) };
  const s = scatter(groups, colors, title, { id: 'forgetting.ceDelta', divisor: 1, axis: 'Forgetting: held-out CE after − before (nats/token), lower is better', fromZero: false },
    suite.headline, 'Learning: ');
  return { config: { type: 'scatter', data: { datasets: s.datasets }, options: s.options }, notes: [] };
};

/** Sweeps: rows of one approach whose configs differ only in `rank`, at least two ranks. */
export function rankSweeps(groups: readonly GroupSummary[]): Array<{ approach: string; rows: Array<{ rank: number; group: GroupSummary }> }> {
  const families = new Map<string, Array<{ rank: number; group: GroupSummary }>>();
  for (const g of groups) {
    const config = g.completed[0]?.cell.approachConfig;
    const rank = config?.['rank'];
    if (typeof rank !== 'number') continue;
    const { rank: _rank, ...rest } = config!;
    const key = JSON.stringify([g.approach, Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))]);
    const list = families.get(key) ?? [];
    list.push({ rank, group: g });
    families.set(key, list);
  }
  return [...families.values()]
    .filter((rows) => new Set(rows.map((r) => r.rank)).size >= 2)
    .map((rows) => ({ approach: rows[0]!.group.approach, rows: [...rows].sort((a, b) => a.rank - b.rank) }));
}

const rankSweep: Builder = (suite, groups, colors, title) => {
  const q = suite.headline.id;
  const sweeps = rankSweeps(groups);
  if (sweeps.length === 0) return null; // no sweep in this run: the view is left out, not "not measured"
  const ranks = [...new Set(sweeps.flatMap((s) => s.rows.map((r) => r.rank)))].sort((a, b) => a - b);
  const datasets: Dataset[] = [];
  sweeps.forEach((sweep, k) => {
    const color = colors.get(sweep.rows[0]!.group.label) ?? '#888';
    const at = (rank: number) => sweep.rows.find((r) => r.rank === rank)?.group;
    const name = sweeps.length > 1 ? `${sweep.approach} #${k + 1}` : sweep.approach;
    datasets.push({
      type: 'line', label: `${name}: ${METRICS[q].label}`, yAxisID: 'y', borderColor: color, backgroundColor: color,
      data: ranks.map((r) => at(r)?.metrics[q]?.mean ?? null), spanGaps: true,
      abIntervalY: ranks.map((r) => { const g = at(r); return g ? point(g, q)?.interval ?? null : null; }),
    }, {
      type: 'line', label: `${name}: forgetting (CE delta)`, yAxisID: 'y1', borderColor: color, backgroundColor: color, borderDash: [6, 4],
      data: ranks.map((r) => at(r)?.metrics['forgetting.ceDelta']?.mean ?? null), spanGaps: true,
    });
  });
  const options = baseOptions(title, true);
  options.scales = {
    x: { title: axisTitle('LoRA rank') },
    y: { position: 'left', min: 0, title: axisTitle(`${METRICS[q].label}, ${betterText(suite.headline)}`) },
    y1: { position: 'right', grid: { drawOnChartArea: false }, title: axisTitle('forgetting, CE delta (nats/token), lower is better') },
  };
  const rows = sweeps.flatMap((s) => s.rows.map((r) => `${r.group.label} (rank ${r.rank})`));
  return { config: { type: 'line', data: { labels: ranks.map(String), datasets }, options }, notes: [`Rows: ${rows.join(', ')}.`] };
};

const BUILDERS: Readonly<Record<ChartKind, Builder>> = {
  'memory-breakdown': memoryBreakdown,
  'quality-memory': qualityMemory,
  'train-throughput': trainThroughput,
  latency,
  retrieval,
  'learning-forgetting': learningForgetting,
  'rank-sweep': rankSweep,
};

/** "Knowledge QA" -> "knowledge-qa": safe in file names and element ids. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

/** Every view of every suite, in CHART_KINDS order per suite, quality on the suite's headline; views a run cannot have (no sweep) are left out. */
export function buildCharts(suites: readonly string[], groups: readonly GroupSummary[]): ChartView[] {
  const views: ChartView[] = [];
  const colors = rowColors(groups);
  for (const suite of suites) {
    const rows = groups.filter((g) => g.suite === suite);
    if (rows.length === 0) continue;
    const info = suiteInfo(suite, rows);
    for (const kind of CHART_KIND_IDS) {
      const title = suites.length > 1 ? `${CHART_KINDS[kind].title} (${suite})` : CHART_KINDS[kind].title;
      const built = BUILDERS[kind](info, rows, colors, title);
      if (built === null) continue;
      const common = { key: `${slug(suite)}-${kind}`, kind, suite, title };
      views.push('reason' in built
        ? { ...common, state: 'not-measured', reason: built.reason }
        : { ...common, state: 'drawn', config: built.config, notes: built.notes });
    }
  }
  return views;
}
