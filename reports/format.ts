// How text and numbers read in the HTML and markdown views: significant digits, thousands separators, bytes
// in binary units. The CSV keeps plain decimals instead (csv.ts), so spreadsheets read raw values.
import { METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { Interval } from '../harness/results.js';
import { plainDecimal } from './csv.js';
import type { MetricSummary } from './summary.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML content and in quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

/**
 * Text safe inside a markdown table cell or a sentence: no emphasis, code, links or HTML, no column
 * breaks. Characters that only mean something at a line start (#, >, +) cannot be at one here.
 */
export function markdownText(value: string): string {
  return value.replace(/[\\`*_[\]|~]/g, (ch) => `\\${ch}`).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\r?\n/g, ' ');
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

function grouped(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** `digits` significant digits without trailing zeros; integers with thousands separators from 1000 up. */
export function formatNumber(value: number, digits = 4): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return grouped(value);
  const text = value.toPrecision(digits);
  return text.includes('e') || !text.includes('.') ? text : text.replace(/\.?0+$/, '');
}

/** Bytes in binary units with 4 significant digits: 1536 -> '1.5 KiB'. */
export function formatBytes(bytes: number): string {
  let scaled = Math.abs(bytes);
  let i = 0;
  while (scaled >= 1024 && i < BYTE_UNITS.length - 1) {
    scaled /= 1024;
    i += 1;
  }
  return `${bytes < 0 ? '-' : ''}${formatNumber(scaled, 4)} ${BYTE_UNITS[i]}`;
}

/** A metric value for a table cell; the unit is in the column header except where bytes are scaled. */
export function formatMetric(id: MetricId, value: number): { readonly text: string; readonly title: string } {
  const unit: string = METRICS[id].unit;
  const raw = `${plainDecimal(value)}${unit ? ` ${unit}` : ''}`;
  switch (unit) {
    case 'bytes': return { text: formatBytes(value), title: `${grouped(value)} bytes` };
    case 'count': return { text: Number.isInteger(value) ? grouped(value) : formatNumber(value), title: raw };
    case '': return { text: formatNumber(value, 3), title: raw };
    case '%': return { text: `${formatNumber(value, 3)}%`, title: raw };
    default: return { text: formatNumber(value, 4), title: raw };
  }
}

/** An interval beside its mean: '± 0.03' when symmetric, else '[0.38, 0.46]'. */
export function formatInterval(id: MetricId, mean: number, iv: Interval): string {
  const up = iv.high - mean;
  const down = mean - iv.low;
  const symmetric = Math.abs(up - down) <= 1e-9 * Math.max(1, Math.abs(mean));
  return symmetric
    ? `± ${formatMetric(id, up).text}`
    : `[${formatMetric(id, iv.low).text}, ${formatMetric(id, iv.high).text}]`;
}

/** Units the formatted text already shows (bytes are scaled, % is appended) or that need no word. */
const SHOWN_UNITS: ReadonlySet<string> = new Set(['', 'bytes', '%', 'count']);

/** A value with its unit for prose: '12.3 MiB', '4.68 nats/token', '0.42'. */
export function formatWithUnit(id: MetricId, value: number): string {
  const unit: string = METRICS[id].unit;
  const text = formatMetric(id, value).text;
  return SHOWN_UNITS.has(unit) ? text : `${text} ${unit}`;
}

/** A summary for prose: its point value (mean, or median for timings) with its unit, then the interval where it has width: '0.42 [0.38, 0.46]'. */
export function formatSummary(id: MetricId, s: MetricSummary): string {
  const iv = s.interval && s.interval.high > s.interval.low ? ` ${formatInterval(id, s.point, s.interval)}` : '';
  return `${formatWithUnit(id, s.point)}${iv}`;
}
