// `bench compare <baseline> <run>`: per (suite, row, metric) the ratio of the run's mean to the
// baseline's, which direction is better, and whether it got worse beyond a threshold. A change
// beyond the threshold counts only where the 95% intervals over seeds separate (as every claim in
// the report does), unless `strict`; rows that lost every completed cell count as regressions.
// Pure: the CLI gates on `regressions`, compare-report.ts renders the markdown and HTML.
import { METRIC_IDS, METRICS } from '../harness/metrics/definitions.js';
import type { MetricDefinition, MetricId } from '../harness/metrics/definitions.js';
import { UsageError } from '../harness/errors.js';
import type { LoadedRun } from './load.js';
import { summarizeRun } from './summary.js';
import type { GroupSummary, MetricSummary } from './summary.js';

export interface CompareOptions {
  /** Relative change in the worse direction beyond which a metric regresses: 0.1 = 10%. */
  readonly threshold: number;
  /** Per-metric thresholds that replace `threshold`. */
  readonly metricThresholds?: Readonly<Partial<Record<MetricId, number>>>;
  /** Metric ids or prefixes ending in '.' (e.g. 'quality.') to judge; default every metric. */
  readonly metrics?: readonly string[];
  /** Judge on the threshold alone, even where the intervals overlap. */
  readonly strict?: boolean;
}

export const DEFAULT_THRESHOLD = 0.1;

export type MetricStatus =
  /** Worse beyond the threshold, intervals separate (or none to compare, or strict). Fails the gate. */
  | 'regressed'
  /** Better beyond the threshold, intervals separate (or none, or strict). */
  | 'improved'
  /** Beyond the threshold either way, but the intervals overlap: no claim. */
  | 'not-separable'
  /** Within the threshold, or identical. */
  | 'within-threshold'
  /** No better direction (a count, a share): shown, never judged. */
  | 'informational'
  /** In one run only (the other has no value). */
  | 'missing';

export interface MetricComparison {
  readonly suite: string;
  readonly row: string;
  readonly metric: MetricId;
  readonly baseline: MetricSummary | null;
  readonly run: MetricSummary | null;
  /** run mean / baseline mean; null where the baseline mean is 0 or a side is missing. */
  readonly ratio: number | null;
  /** Relative change towards worse (positive) or better (negative); null without a direction or a value. */
  readonly worsening: number | null;
  readonly threshold: number;
  readonly status: MetricStatus;
  /** Whether the 95% intervals separate; null where a side has none. */
  readonly separated: boolean | null;
}

export interface RowComparison {
  readonly suite: string;
  readonly row: string;
  /** 'lost': the baseline has completed cells for it, the run none (a regression); 'new': only in the run. */
  readonly status: 'both' | 'lost' | 'new';
  readonly baselineSeeds: number;
  readonly runSeeds: number;
}

export interface Comparison {
  readonly baseline: { readonly dir: string; readonly runId: string; readonly gitCommit: string | null; readonly createdAt: string };
  readonly run: { readonly dir: string; readonly runId: string; readonly gitCommit: string | null; readonly createdAt: string };
  readonly options: Required<Pick<CompareOptions, 'threshold' | 'strict'>> & Pick<CompareOptions, 'metricThresholds' | 'metrics'>;
  /** What differs between the runs besides the code: config hash, data and checkpoint hashes, seeds, backend. */
  readonly differences: readonly string[];
  readonly rows: readonly RowComparison[];
  readonly metrics: readonly MetricComparison[];
  /** Regressed metrics plus lost rows: the gate fails when this is above 0. */
  readonly regressions: number;
}

/** Checks options; UsageError (exit 2) names the option and a valid example. */
export function checkCompareOptions(o: CompareOptions): void {
  const ok = (v: number) => Number.isFinite(v) && v >= 0;
  if (!ok(o.threshold)) throw new UsageError(`--threshold must be a non-negative percentage (got ${o.threshold * 100}). Example: --threshold 10`);
  for (const [id, v] of Object.entries(o.metricThresholds ?? {})) {
    if (!(id in METRICS)) throw new UsageError(`--metric-threshold: unknown metric "${id}". Metric ids are listed under "Metric definitions" in any report, e.g. quality.exactMatch`);
    if (!ok(v as number)) throw new UsageError(`--metric-threshold ${id}: must be a non-negative percentage. Example: --metric-threshold ${id}=5`);
  }
  for (const m of o.metrics ?? []) {
    if (!METRIC_IDS.some((id) => id === m || (m.endsWith('.') && id.startsWith(m)))) {
      throw new UsageError(`--metrics: "${m}" matches no metric; give ids (quality.exactMatch) or prefixes ending in "." (quality., memory.)`);
    }
  }
}

function selected(id: MetricId, metrics: readonly string[] | undefined): boolean {
  return !metrics || metrics.length === 0 || metrics.some((m) => m === id || (m.endsWith('.') && id.startsWith(m)));
}

function separatedOf(a: MetricSummary, b: MetricSummary): boolean | null {
  if (!a.interval || !b.interval) return null;
  return a.interval.high < b.interval.low || b.interval.high < a.interval.low;
}

/** One metric of one row: ratio, direction, status. */
export function compareMetric(
  suite: string, row: string, metric: MetricId,
  baseline: MetricSummary | null, run: MetricSummary | null, threshold: number, strict: boolean,
): MetricComparison {
  const common = { suite, row, metric, baseline, run, threshold };
  if (!baseline || !run) return { ...common, ratio: null, worsening: null, status: 'missing', separated: null };
  const ratio = baseline.mean !== 0 ? run.mean / baseline.mean : null;
  const separated = separatedOf(baseline, run);
  const def: MetricDefinition = METRICS[metric];
  const better = def.higherIsBetter;
  if (better === null) return { ...common, ratio, worsening: null, status: 'informational', separated };
  const diff = run.mean - baseline.mean;
  // Relative to the baseline's size; from a baseline of 0 any change is infinitely large.
  const relative = diff === 0 ? 0 : baseline.mean === 0 ? Math.sign(diff) * Infinity : diff / Math.abs(baseline.mean);
  const worsening = better ? -relative : relative;
  let status: MetricStatus = 'within-threshold';
  const bothAcceptable = def.acceptableUpTo !== undefined && baseline.mean <= def.acceptableUpTo && run.mean <= def.acceptableUpTo;
  if (Math.abs(worsening) > threshold && !bothAcceptable) {
    status = !strict && separated === false ? 'not-separable' : worsening > 0 ? 'regressed' : 'improved';
  }
  return { ...common, ratio, worsening, status, separated };
}

function differencesOf(a: LoadedRun, b: LoadedRun): string[] {
  const out: string[] = [];
  const ma = a.manifest;
  const mb = b.manifest;
  if (ma.configHash !== mb.configHash) out.push(`config hash ${ma.configHash.slice(0, 12)} → ${mb.configHash.slice(0, 12)}`);
  const keys = [...new Set([...Object.keys(ma.dataHashes), ...Object.keys(mb.dataHashes)])].sort();
  const changed = keys.filter((k) => ma.dataHashes[k] !== mb.dataHashes[k]);
  if (changed.length) out.push(`data hashes differ: ${changed.slice(0, 6).join(', ')}${changed.length > 6 ? `, and ${changed.length - 6} more` : ''}`);
  if (ma.seeds.join(',') !== mb.seeds.join(',')) out.push(`seeds ${ma.seeds.join(',')} → ${mb.seeds.join(',')}`);
  if ((ma.backend?.name ?? null) !== (mb.backend?.name ?? null)) out.push(`backend ${ma.backend?.name ?? 'unknown'} → ${mb.backend?.name ?? 'unknown'}`);
  if (ma.cpu.model !== mb.cpu.model || ma.cpu.cores !== mb.cpu.cores) out.push(`machine ${ma.cpu.model} (${ma.cpu.cores} cores) → ${mb.cpu.model} (${mb.cpu.cores} cores)`);
  return out;
}

/** Compares two loaded runs row by row (suite and label) and metric by metric. */
export function compareRuns(baseline: LoadedRun, run: LoadedRun, options: CompareOptions): Comparison {
  checkCompareOptions(options);
  const strict = options.strict ?? false;
  const before = summarizeRun(baseline.cells, baseline.manifest);
  const after = summarizeRun(run.cells, run.manifest);
  const key = (g: GroupSummary) => JSON.stringify([g.suite, g.label]);
  const afterByKey = new Map(after.map((g) => [key(g), g]));
  const beforeKeys = new Set(before.map(key));

  const rows: RowComparison[] = [];
  const metrics: MetricComparison[] = [];
  for (const b of before) {
    const a = afterByKey.get(key(b));
    const runSeeds = a?.completed.length ?? 0;
    if (b.completed.length === 0) continue; // nothing measured in the baseline: nothing to hold the run to
    if (runSeeds === 0) {
      rows.push({ suite: b.suite, row: b.label, status: 'lost', baselineSeeds: b.completed.length, runSeeds });
      continue;
    }
    rows.push({ suite: b.suite, row: b.label, status: 'both', baselineSeeds: b.completed.length, runSeeds });
    for (const id of METRIC_IDS) {
      if (!selected(id, options.metrics)) continue;
      const x = b.metrics[id] ?? null;
      const y = a!.metrics[id] ?? null;
      if (!x && !y) continue;
      metrics.push(compareMetric(b.suite, b.label, id, x, y, options.metricThresholds?.[id] ?? options.threshold, strict));
    }
  }
  for (const a of after) {
    if (!beforeKeys.has(key(a)) && a.completed.length > 0) rows.push({ suite: a.suite, row: a.label, status: 'new', baselineSeeds: 0, runSeeds: a.completed.length });
  }
  const side = (r: LoadedRun) => ({ dir: r.dir, runId: r.manifest.runId, gitCommit: r.manifest.gitCommit, createdAt: r.manifest.createdAt });
  return {
    baseline: side(baseline),
    run: side(run),
    options: { threshold: options.threshold, strict, metricThresholds: options.metricThresholds, metrics: options.metrics },
    differences: differencesOf(baseline, run),
    rows,
    metrics,
    regressions: metrics.filter((m) => m.status === 'regressed').length + rows.filter((r) => r.status === 'lost').length,
  };
}
