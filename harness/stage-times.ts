// The end-of-run table: where the run's time went, per suite and per stage (sums over completed
// cells of their time.* metrics), so a CI log shows which suite and which stage to shrink.
import type { MetricId } from './metrics/definitions.js';
import type { CellResult } from './results.js';

/** The stages in the order a cell runs them, with their column heads. */
const STAGES: ReadonlyArray<readonly [MetricId, string]> = [
  ['time.prepareSec', 'prepare'], ['time.beforeSec', 'before'], ['time.adaptSec', 'adapt'], ['time.updateSec', 'update'],
  ['time.forgettingSec', 'after'], ['time.qualitySec', 'quality'], ['time.latencySec', 'latency'],
];

interface Row {
  readonly name: string;
  readonly cells: number;
  /** Seconds per stage, then "other" (process start, assembling), then the cells' wall time. */
  readonly seconds: number[];
}

function rowOf(name: string, cells: readonly CellResult[]): Row {
  const seconds = STAGES.map(([id]) => cells.reduce((s, c) => s + (c.status === 'completed' ? c.metrics[id] ?? 0 : 0), 0));
  const wall = cells.reduce((s, c) => s + c.wallSec, 0);
  const staged = seconds.reduce((a, b) => a + b, 0);
  return { name, cells: cells.length, seconds: [...seconds, wall - staged, wall] };
}

/**
 * The table as text. Failed cells count in the wall time only (their stages were not recorded).
 * The update column appears only when a cell has an update stage.
 */
export function stageTimeTable(results: readonly CellResult[]): string {
  const suites = [...new Set(results.map((r) => r.cell.suite))];
  const rows = [...suites.map((s) => rowOf(s, results.filter((r) => r.cell.suite === s))), rowOf('total', results)];
  const hasUpdate = results.some((r) => r.status === 'completed' && r.metrics['time.updateSec'] != null);
  const heads = ['suite', 'cells', ...STAGES.map(([, h]) => h), 'other', 'cell wall'];
  const keep = heads.map((h) => h !== 'update' || hasUpdate);
  const table = [heads, ...rows.map((r) => [r.name, String(r.cells), ...r.seconds.map((x) => x.toFixed(1))])].map((cols) => cols.filter((_, i) => keep[i]));
  const widths = table[0]!.map((_, i) => Math.max(...table.map((cols) => cols[i]!.length)));
  const line = (cols: readonly string[]): string => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return ['seconds per suite and stage (sums over cells):', ...table.map(line)].join('\n');
}
