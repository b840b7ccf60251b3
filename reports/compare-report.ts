// The two views of a comparison: markdown short enough for a pull-request comment (what got worse,
// what got better, what cannot be told apart; everything else is counted), and a self-contained
// HTML page with every compared value.
import { METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { Comparison, MetricComparison, MetricStatus } from './compare.js';
import { formatSummary, markdownText } from './format.js';
import { escapeHtml, REPORT_CSS } from './html.js';

const STATUS_TEXT: Readonly<Record<MetricStatus, string>> = {
  regressed: 'regressed',
  improved: 'improved',
  'not-separable': 'beyond the threshold, not separable',
  'within-threshold': 'within the threshold',
  informational: 'no better direction',
  missing: 'in one run only',
};

/** Page and markdown order: what needs attention first. */
const STATUS_ORDER: readonly MetricStatus[] = ['regressed', 'not-separable', 'improved', 'missing', 'within-threshold', 'informational'];

/** Rows per markdown table; the rest are counted. */
const MARKDOWN_ROWS = 25;

const percent = (x: number) => `${Math.round(x * 1000) / 10}%`;
const shortCommit = (c: string | null) => (c ? c.slice(0, 10) : 'no commit recorded');

function ratioText(m: MetricComparison): string {
  // A ratio of two numbers of opposite sign (a delta crossing 0) says nothing about size.
  if (m.ratio !== null) return m.ratio < 0 ? 'sign changed' : `${m.ratio.toPrecision(3)}×`;
  if (m.baseline && m.run) return m.run.mean === 0 ? 'both 0' : 'from 0';
  return '';
}

function valueText(id: MetricId, s: MetricComparison['baseline']): string {
  return s ? `${formatSummary(id, s)}${s.n > 1 ? ` (n=${s.n})` : ''}` : 'not measured';
}

const betterText = (id: MetricId) => (METRICS[id].higherIsBetter === null ? '—' : METRICS[id].higherIsBetter ? 'higher' : 'lower');

function thresholdLine(c: Comparison): string {
  const per = Object.entries(c.options.metricThresholds ?? {}).map(([id, t]) => `${id} ${percent(t as number)}`);
  return `Threshold: ${percent(c.options.threshold)} worse${per.length ? ` (${per.join(', ')})` : ''}; `
    + (c.options.strict ? 'strict: the threshold alone decides.' : 'a change counts only where the 95% intervals over seeds separate.')
    + (c.options.metrics?.length ? ` Metrics judged: ${c.options.metrics.join(', ')}.` : '');
}

function headline(c: Comparison): string {
  const lost = c.rows.filter((r) => r.status === 'lost').length;
  if (c.regressions === 0) return 'no regression';
  const regressed = c.regressions - lost;
  return [regressed ? `${regressed} regression${regressed === 1 ? '' : 's'}` : '', lost ? `${lost} row${lost === 1 ? '' : 's'} lost` : '']
    .filter((s) => s !== '').join(', ');
}

/** Markdown for a pull-request comment. */
export function comparisonMarkdown(c: Comparison): string {
  const lines: string[] = [];
  lines.push(`## ${c.regressions ? '❌' : '✅'} adaptbench compare: ${headline(c)}`, '');
  lines.push(`Baseline **${markdownText(c.baseline.runId)}** (\`${shortCommit(c.baseline.gitCommit)}\`) → run **${markdownText(c.run.runId)}** (\`${shortCommit(c.run.gitCommit)}\`). ${thresholdLine(c)}`, '');
  if (c.differences.length) lines.push(`> **The runs differ besides the code:** ${c.differences.map(markdownText).join('; ')}.`, '');
  // Largest changes first; long lists are cut (compare.html has every value) and the secondary ones
  // folded, so the comment stays readable and under GitHub's size limit.
  const table = (title: string, list: readonly MetricComparison[], folded: boolean) => {
    if (list.length === 0) return;
    const sorted = [...list].sort((a, b) => Math.abs(b.worsening ?? 0) - Math.abs(a.worsening ?? 0));
    const shown = sorted.slice(0, MARKDOWN_ROWS);
    const body = ['| Suite | Row | Metric | Baseline | Run | Run / baseline | Better |', '|---|---|---|---:|---:|---:|---|',
      ...shown.map((m) => `| ${markdownText(m.suite)} | ${markdownText(m.row)} | ${markdownText(METRICS[m.metric].label)} `
        + `| ${markdownText(valueText(m.metric, m.baseline))} | ${markdownText(valueText(m.metric, m.run))} | ${ratioText(m)} | ${betterText(m.metric)} |`)];
    if (sorted.length > shown.length) body.push('', `… and ${sorted.length - shown.length} more in compare.html.`);
    if (folded) lines.push(`<details><summary>${markdownText(title)} (${list.length})</summary>`, '', ...body, '', '</details>', '');
    else lines.push(`### ${title} (${list.length})`, '', ...body, '');
  };
  const by = (s: MetricStatus) => c.metrics.filter((m) => m.status === s);
  table('Regressions', by('regressed'), false);
  table('Improvements', by('improved'), true);
  table('Beyond the threshold but not separable', by('not-separable'), true);
  const lost = c.rows.filter((r) => r.status === 'lost');
  const fresh = c.rows.filter((r) => r.status === 'new');
  if (lost.length) lines.push(`**Rows lost** (completed in the baseline, no completed cell in the run): ${lost.map((r) => markdownText(`${r.suite}/${r.row}`)).join(', ')}.`, '');
  if (fresh.length) lines.push(`New rows (not judged): ${fresh.map((r) => markdownText(`${r.suite}/${r.row}`)).join(', ')}.`, '');
  const within = by('within-threshold').length;
  const info = by('informational').length;
  const missing = by('missing').length;
  lines.push(`${within} value${within === 1 ? '' : 's'} within the threshold, ${info} without a better direction, ${missing} measured in one run only; `
    + `${c.rows.filter((r) => r.status === 'both').length} row(s) compared. Every value: compare.html.`, '');
  return lines.join('\n');
}

/** Self-contained HTML page with every compared value. */
export function comparisonHtml(c: Comparison): string {
  const sorted = [...c.metrics].sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status));
  const rows = sorted.map((m) => {
    const def = METRICS[m.metric];
    return `<tr class="st-${m.status}"><td>${escapeHtml(m.suite)}</td><th scope="row">${escapeHtml(m.row)}</th>`
      + `<td title="${escapeHtml(def.description)}">${escapeHtml(def.label)} <code>${escapeHtml(m.metric)}</code></td>`
      + `<td class="num">${escapeHtml(valueText(m.metric, m.baseline))}</td><td class="num">${escapeHtml(valueText(m.metric, m.run))}</td>`
      + `<td class="num">${escapeHtml(ratioText(m))}</td><td>${betterText(m.metric)}</td>`
      + `<td class="num">${m.worsening === null ? '' : escapeHtml(Number.isFinite(m.worsening) ? percent(m.worsening) : m.worsening > 0 ? '+∞' : '−∞')}</td>`
      + `<td class="num">${escapeHtml(percent(m.threshold))}</td><td>${escapeHtml(STATUS_TEXT[m.status])}</td></tr>`;
  }).join('\n');
  const rowList = c.rows.filter((r) => r.status !== 'both')
    .map((r) => `<li>${escapeHtml(`${r.suite}/${r.row}`)}: ${r.status === 'lost' ? '<span class="failed">lost</span> (completed in the baseline, not in the run)' : 'new in the run (not judged)'}</li>`).join('');
  const csp = "default-src 'none'; style-src 'unsafe-inline'";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`adaptbench compare ${c.baseline.runId} → ${c.run.runId}`)}</title>
<style>${REPORT_CSS}
tr.st-regressed td, tr.st-regressed th { background: #ffebe9; } tr.st-improved td, tr.st-improved th { background: var(--best); }
tr.st-not-separable td, tr.st-not-separable th { background: #fff8c5; }
</style>
</head>
<body>
<h1>adaptbench compare: ${escapeHtml(headline(c))}</h1>
<p>Baseline <b>${escapeHtml(c.baseline.runId)}</b> (<code>${escapeHtml(shortCommit(c.baseline.gitCommit))}</code>, ${escapeHtml(c.baseline.dir)}) → run
<b>${escapeHtml(c.run.runId)}</b> (<code>${escapeHtml(shortCommit(c.run.gitCommit))}</code>, ${escapeHtml(c.run.dir)}).</p>
<p>${escapeHtml(thresholdLine(c))} Exit status: ${c.regressions ? '1 (the gate fails)' : '0'}.</p>
${c.differences.length ? `<p class="failed">The runs differ besides the code: ${escapeHtml(c.differences.join('; '))}.</p>` : ''}
${rowList ? `<ul>${rowList}</ul>` : ''}
<div class="scroll"><table class="summary"><thead><tr><th>Suite</th><th>Row</th><th>Metric</th><th>Baseline</th><th>Run</th>
<th>Run / baseline</th><th>Better</th><th>Worse by</th><th>Threshold</th><th>Status</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
</body>
</html>
`;
}
