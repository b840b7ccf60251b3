// CSV views of a run: results.csv (one row per cell) and summary.csv (one row per suite and label).
// Headers come from METRICS, with the unit in parentheses, so a column means the same in every run.
import { stringify } from 'csv-stringify/sync';
import { METRIC_IDS, METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { CellResult } from '../harness/results.js';
import type { GroupSummary } from './summary.js';

/**
 * A number as a plain decimal ('0.0000001', '1230000000000000000000'): no exponent, no locale,
 * so every spreadsheet and parser reads it alike. Empty for null, undefined and non-finite values.
 */
export function plainDecimal(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign = '', int = '', frac = '', exp = '0'] = match;
  const digits = int + frac;
  const point = int.length + Number(exp); // position of the decimal point within `digits`
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** `Label (unit)`, or `Label` for a unitless metric; `part` goes before the unit: `Exact match 95% low`. */
export function metricHeader(id: MetricId, part?: string): string {
  const def = METRICS[id];
  const name = part ? `${def.label} ${part}` : def.label;
  return def.unit ? `${name} (${def.unit})` : name;
}

/** results.csv: suite, approach, label, seed, status, error, then every metric in METRICS order. */
export function resultsCsv(cells: readonly CellResult[]): string {
  // Interval columns only for metrics some cell gives an interval for, right after the metric's column.
  const withInterval = new Set<MetricId>(
    METRIC_IDS.filter((id) => cells.some((c) => c.status === 'completed' && c.intervals[id] !== undefined)),
  );
  const header = ['suite', 'approach', 'label', 'seed', 'status', 'error'];
  for (const id of METRIC_IDS) {
    header.push(metricHeader(id));
    if (withInterval.has(id)) header.push(metricHeader(id, '95% low'), metricHeader(id, '95% high'));
  }
  const rows: string[][] = [header];
  for (const c of cells) {
    const row = [c.cell.suite, c.cell.approach, c.cell.label, plainDecimal(c.cell.seed), c.status,
      c.status === 'failed' ? c.error.message : ''];
    for (const id of METRIC_IDS) {
      const done = c.status === 'completed';
      row.push(done ? plainDecimal(c.metrics[id]) : '');
      if (withInterval.has(id)) {
        const iv = done ? c.intervals[id] : undefined;
        row.push(plainDecimal(iv?.low), plainDecimal(iv?.high));
      }
    }
    rows.push(row);
  }
  return stringify(rows);
}

/** summary.csv: one row per (suite, label); per metric the mean, 95% interval and n over seeds. */
export function summaryCsv(groups: readonly GroupSummary[]): string {
  const header = ['suite', 'approach', 'label', 'seeds completed', 'cells failed'];
  for (const id of METRIC_IDS) {
    header.push(metricHeader(id, 'mean'), metricHeader(id, 'ci95 low'), metricHeader(id, 'ci95 high'), `${METRICS[id].label} n`);
  }
  const rows: string[][] = [header];
  for (const g of groups) {
    const row = [g.suite, g.approach, g.label, plainDecimal(g.completed.length), plainDecimal(g.failed.length)];
    for (const id of METRIC_IDS) {
      const s = g.metrics[id];
      row.push(plainDecimal(s?.mean), plainDecimal(s?.interval?.low), plainDecimal(s?.interval?.high), s ? plainDecimal(s.n) : '0');
    }
    rows.push(row);
  }
  return stringify(rows);
}
