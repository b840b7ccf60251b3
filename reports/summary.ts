// Per (suite, label) summaries over seeds, and which row is best per metric. Pure functions of the
// cell results, so the CSV, the HTML and later the claims ledger agree on every number.
import { METRIC_IDS, METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import { computeStatistics, quantileSorted } from '../harness/metrics/stats.js';
import { createRng } from '../datasets/rng.js';
import type { CellResult, CompletedCell, FailedCell, Interval, RunManifest } from '../harness/results.js';

/** One metric of one (suite, label) group, over the seeds whose cell completed and reported it. */
export interface MetricSummary {
  /** Number of values (seeds) summarised. */
  readonly n: number;
  /** Arithmetic mean of the values. */
  readonly mean: number;
  /** Median of the values (mean of the middle two for even n). */
  readonly median: number;
  /** The value a report shows: the median for timings (see TIMING_UNITS), else the mean. */
  readonly point: number;
  /** Sample standard deviation (n - 1 denominator); null with one value. */
  readonly sd: number | null;
  /**
   * 95% interval: for n >= 2, timings get a bootstrap interval of the median, other metrics Student t over
   * seeds (widened to the cells' own); with one seed the cell's own (e.g. Wilson), else null.
   */
  readonly interval: Interval | null;
}

export interface GroupSummary {
  readonly suite: string;
  /** Row label, e.g. 'lora-r8'. */
  readonly label: string;
  /** Approach name behind the label, e.g. 'lora'. */
  readonly approach: string;
  /** Seeds whose cell completed, ascending. */
  readonly seeds: readonly number[];
  /** Completed cells of this group, by ascending seed. */
  readonly completed: readonly CompletedCell[];
  /** Failed cells of this group, counted apart from the summaries. */
  readonly failed: readonly FailedCell[];
  /** Summaries of the metrics with at least one value. */
  readonly metrics: Partial<Record<MetricId, MetricSummary>>;
  /** Distinct notes the cells give per metric (why a value is null, how it was measured). */
  readonly notes: Partial<Record<MetricId, readonly string[]>>;
}

/**
 * Units of timings and rates: never below zero, and skewed (a slow seed is far slower, never far
 * faster), so a symmetric Student t interval over a few seeds can reach below zero.
 */
export const TIMING_UNITS: ReadonlySet<string> = new Set(['s', 'ms', 'tokens/s', 'samples/s', 'queries/s']);

/** How summaries over seeds are made, in words (the data dictionary and the report name them). */
export const MEAN_ESTIMATE = 'mean; 95% interval: the wider of Student t over seeds and the mean of the cells\' own intervals';

/** Resamples of the timing bootstrap. */
export const BOOTSTRAP_RESAMPLES = 2000;
export const TIMING_ESTIMATE = `median; 95% interval: percentile bootstrap of the median over seeds (${BOOTSTRAP_RESAMPLES} resamples, seeded by the values)`;

/**
 * 95% percentile bootstrap interval of the median: resample the values with replacement, take each
 * resample's median, and read the 2.5th and 97.5th percentiles. Seeded by the values themselves, so the
 * same numbers always give the same interval; it stays within [min, max], never below zero.
 */
export function bootstrapMedianInterval(values: readonly number[], resamples = BOOTSTRAP_RESAMPLES): Interval {
  const rng = createRng(`median-bootstrap:${values.join(',')}`);
  const medians: number[] = [];
  const draw: number[] = new Array<number>(values.length);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < values.length; i++) draw[i] = values[rng.int(values.length)]!;
    medians.push(quantileSorted([...draw].sort((x, y) => x - y), 0.5));
  }
  medians.sort((x, y) => x - y);
  return {
    low: quantileSorted(medians, 0.025), high: quantileSorted(medians, 0.975),
    method: `median, 95% percentile bootstrap over ${values.length} seeds (${resamples} resamples, seeded)`,
  };
}

/**
 * Summary of one metric's values. `within` are the cells' own intervals (e.g. Wilson over test
 * questions), where they have them. With one seed the cell's own interval is the interval. With
 * several, the spread over seeds alone would miss the sampling of the test set, which the seeds
 * often share (a user's suite, task-adapt's fixed split; a deterministic row then has zero spread):
 * the interval is the wider of Student t over seeds and the mean of the cells' own intervals.
 * Timings (`timing`) are summarised by their median with a bootstrap interval instead.
 */
export function summarizeValues(values: readonly number[], within: readonly Interval[] = [], timing = false): MetricSummary | null {
  if (values.length === 0) return null;
  // computeStatistics: Student t margin (harness/metrics/stats.ts), NaN spread below 2 values.
  const st = computeStatistics([...values].sort((a, b) => a - b));
  const own = within.length === values.length && within.length > 0
    ? { low: within.reduce((a, w) => a + w.low, 0) / within.length, high: within.reduce((a, w) => a + w.high, 0) / within.length, method: within[0]!.method }
    : null;
  let interval: Interval | null;
  if (values.length < 2) {
    interval = own ? { low: own.low, high: own.high, method: `${own.method} (one seed: within the cell)` } : null;
  } else if (timing) {
    interval = bootstrapMedianInterval(values);
  } else {
    const t = { low: st.mean - st.moe, high: st.mean + st.moe };
    interval = own && (own.low < t.low || own.high > t.high)
      ? { low: Math.min(t.low, own.low), high: Math.max(t.high, own.high), method: `the wider of student-t 95% over ${values.length} seeds and the mean of the cells' own intervals (${own.method})` }
      : { ...t, method: `student-t 95% over ${values.length} seeds` };
  }
  const point = timing && values.length >= 2 ? st.p50 : st.mean;
  return { n: values.length, mean: st.mean, median: st.p50, point, sd: values.length >= 2 ? st.sd : null, interval };
}

function summarizeGroup(suite: string, label: string, approach: string, cells: readonly CellResult[]): GroupSummary {
  const completed = cells.filter((c): c is CompletedCell => c.status === 'completed')
    .sort((a, b) => a.cell.seed - b.cell.seed);
  const failed = cells.filter((c): c is FailedCell => c.status === 'failed')
    .sort((a, b) => a.cell.seed - b.cell.seed);
  const metrics: Partial<Record<MetricId, MetricSummary>> = {};
  const notes: Partial<Record<MetricId, readonly string[]>> = {};
  for (const id of METRIC_IDS) {
    const reporting = completed.filter((c) => typeof c.metrics[id] === 'number');
    const values = reporting.map((c) => c.metrics[id] as number);
    const within = reporting.map((c) => c.intervals[id]).filter((x): x is Interval => x !== undefined);
    const s = summarizeValues(values, within, TIMING_UNITS.has(METRICS[id].unit));
    if (s) metrics[id] = s;
    const distinct = [...new Set(completed.map((c) => c.notes[id]).filter((n): n is string => typeof n === 'string'))];
    if (distinct.length > 0) notes[id] = distinct;
  }
  return { suite, label, approach, seeds: completed.map((c) => c.cell.seed), completed, failed, metrics, notes };
}

/**
 * One summary per (suite, label), in the manifest's suite order and the order labels first appear;
 * groups the manifest does not name come last.
 */
export function summarizeRun(cells: readonly CellResult[], manifest?: Pick<RunManifest, 'suites' | 'cells'>): GroupSummary[] {
  const keyOf = (suite: string, label: string): string => JSON.stringify([suite, label]);
  const order: string[] = [];
  const meta = new Map<string, { suite: string; label: string; approach: string }>();
  const add = (suite: string, label: string, approach: string): void => {
    const key = keyOf(suite, label);
    if (meta.has(key)) return;
    meta.set(key, { suite, label, approach });
    order.push(key);
  };
  if (manifest) {
    const rank = new Map(manifest.suites.map((s, i) => [s, i]));
    const specs = [...manifest.cells].sort((a, b) => (rank.get(a.suite) ?? Infinity) - (rank.get(b.suite) ?? Infinity));
    for (const spec of specs) add(spec.suite, spec.label, spec.approach);
  }
  for (const c of cells) add(c.cell.suite, c.cell.label, c.cell.approach);

  const bucket = new Map<string, CellResult[]>();
  for (const c of cells) {
    const key = keyOf(c.cell.suite, c.cell.label);
    const list = bucket.get(key);
    if (list) list.push(c);
    else bucket.set(key, [c]);
  }
  // Groups with no result file at all (none of their cells ran yet) are left out: nothing to summarise.
  return order.filter((k) => bucket.has(k)).map((k) => {
    const m = meta.get(k)!;
    return summarizeGroup(m.suite, m.label, m.approach, bucket.get(k)!);
  });
}

/** Where the best row stands against the others. */
export type Separation =
  /** Its interval overlaps no other row's: the claim "best" holds at 95%. */
  | 'separated'
  /** Its interval overlaps at least one other row's interval (listed in `overlapping`). */
  | 'not-separable'
  /** It or a competitor has no interval (one seed without a within-cell interval): cannot tell. */
  | 'no-interval'
  /** Only one row has a value: nothing to compare. */
  | 'only-one';

export interface BestResult {
  /** Label of the row with the best mean. */
  readonly best: string;
  /** Label of the row with the second-best mean, if any. */
  readonly runnerUp: string | null;
  readonly separation: Separation;
  /** Labels whose interval overlaps the best's (or that lack one), best first by mean. */
  readonly overlapping: readonly string[];
}

function overlaps(a: Interval, b: Interval): boolean {
  return a.low <= b.high && b.low <= a.high;
}

/**
 * The best row for one metric by mean, and whether its interval separates from every other row's.
 * Returns null when no row has a value or the metric has no better direction.
 */
export function bestOf(
  rows: ReadonlyArray<{ readonly label: string; readonly summary: MetricSummary | undefined }>,
  higherIsBetter: boolean | null,
): BestResult | null {
  if (higherIsBetter === null) return null;
  const ranked = rows
    .filter((r): r is { label: string; summary: MetricSummary } => r.summary !== undefined)
    .sort((a, b) => (higherIsBetter ? b.summary.mean - a.summary.mean : a.summary.mean - b.summary.mean));
  const [first, second] = ranked;
  if (!first) return null;
  if (!second) return { best: first.label, runnerUp: null, separation: 'only-one', overlapping: [] };
  const rest = ranked.slice(1);
  const bestInterval = first.summary.interval;
  const unknown = bestInterval === null || rest.some((r) => r.summary.interval === null);
  const overlapping = rest
    .filter((r) => bestInterval === null || r.summary.interval === null || overlaps(bestInterval, r.summary.interval))
    .map((r) => r.label);
  const separation: Separation = rest.some((r) => bestInterval && r.summary.interval && overlaps(bestInterval, r.summary.interval))
    ? 'not-separable'
    : unknown ? 'no-interval' : 'separated';
  return { best: first.label, runnerUp: second.label, separation, overlapping };
}
