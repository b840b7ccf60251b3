// CSV views of a run: results.csv (one row per cell), summary.csv (one row per suite and label), and
// data-dictionary.csv beside them. Metric columns are named by their stable ids (quality.exactMatch),
// as people load them into pandas; the label, unit and definition are in the data dictionary.
import { stringify } from 'csv-stringify/sync';
import { METRIC_IDS, METRICS } from '../harness/metrics/definitions.js';
import type { MetricDefinition, MetricId } from '../harness/metrics/definitions.js';
import type { CellResult } from '../harness/results.js';
import { MEAN_ESTIMATE, TIMING_ESTIMATE, TIMING_UNITS } from './summary.js';
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

/** A metric's CSV column: its stable id, with a suffix for a part of it (`quality.exactMatch.ci95Low`). */
export function metricColumn(id: MetricId, part?: 'ci95Low' | 'ci95High' | 'n'): string {
  return part ? `${id}.${part}` : id;
}

/** results.csv: suite, approach, label, seed, status, error, then every metric in METRICS order. */
export function resultsCsv(cells: readonly CellResult[]): string {
  // Interval columns only for metrics some cell gives an interval for, right after the metric's column.
  const withInterval = new Set<MetricId>(
    METRIC_IDS.filter((id) => cells.some((c) => c.status === 'completed' && c.intervals[id] !== undefined)),
  );
  const header = ['suite', 'approach', 'label', 'seed', 'status', 'error'];
  for (const id of METRIC_IDS) {
    header.push(metricColumn(id));
    if (withInterval.has(id)) header.push(metricColumn(id, 'ci95Low'), metricColumn(id, 'ci95High'));
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

/** summary.csv: one row per (suite, label); per metric its value over seeds (the mean; the median for timings), 95% interval and n. */
export function summaryCsv(groups: readonly GroupSummary[]): string {
  const header = ['suite', 'approach', 'label', 'seedsCompleted', 'cellsFailed'];
  for (const id of METRIC_IDS) {
    header.push(metricColumn(id), metricColumn(id, 'ci95Low'), metricColumn(id, 'ci95High'), metricColumn(id, 'n'));
  }
  const rows: string[][] = [header];
  for (const g of groups) {
    const row = [g.suite, g.approach, g.label, plainDecimal(g.completed.length), plainDecimal(g.failed.length)];
    for (const id of METRIC_IDS) {
      const s = g.metrics[id];
      row.push(plainDecimal(s?.point), plainDecimal(s?.interval?.low), plainDecimal(s?.interval?.high), s ? plainDecimal(s.n) : '0');
    }
    rows.push(row);
  }
  return stringify(rows);
}

/** The columns of the CSV files that are not metrics, with what they hold. */
const PLAIN_COLUMNS: ReadonlyArray<readonly [string, string, string]> = [
  ['suite', 'every CSV', 'Suite (use case) name.'],
  ['approach', 'every CSV', 'Approach behind the row: base, full-ft, lora, qlora, rag, lora-rag.'],
  ['label', 'every CSV', 'Row label: the approach with its settings, e.g. lora:rank=2.'],
  ['seed', 'results.csv', 'Seed of the cell.'],
  ['status', 'results.csv', 'completed or failed.'],
  ['error', 'results.csv', 'Error message of a failed cell.'],
  ['seedsCompleted', 'summary.csv, decision.csv', 'Seeds whose cell completed.'],
  ['cellsFailed', 'summary.csv', 'Cells that failed (not in the summaries).'],
  ['<metric>.ci95Low', 'every CSV', 'Lower end of the metric\'s 95% interval (per cell in results.csv: the cell\'s own; over seeds in summary.csv and decision.csv).'],
  ['<metric>.ci95High', 'every CSV', 'Upper end of the metric\'s 95% interval.'],
  ['<metric>.n', 'summary.csv', 'Number of seeds that reported the metric.'],
];

/**
 * data-dictionary.csv: what every CSV column of a run means. One row per plain column, then one per
 * metric id with its label, unit, better direction, the value summary.csv and decision.csv give for it
 * over seeds, and its definition, all from harness/metrics/definitions.ts.
 */
export function dataDictionaryCsv(): string {
  const rows: string[][] = [['column', 'files', 'label', 'unit', 'higherIsBetter', 'overSeeds', 'description']];
  for (const [column, files, description] of PLAIN_COLUMNS) rows.push([column, files, '', '', '', '', description]);
  for (const id of METRIC_IDS) {
    const def: MetricDefinition = METRICS[id];
    rows.push([id, 'every CSV', def.label, def.unit, def.higherIsBetter === null ? '' : String(def.higherIsBetter),
      TIMING_UNITS.has(def.unit) ? TIMING_ESTIMATE : MEAN_ESTIMATE, def.description]);
  }
  return stringify(rows);
}
