// The top of the report, readable in a minute: per suite, the recommendation (with the rule that
// produced it and the numbers behind it) and a one-line-per-claim summary of the ledger; then the
// ledger in full further down. All text comes from recommend.ts and ledger.ts, never by hand.
import { METRICS } from '../harness/metrics/definitions.js';
import type { ReportContext, ReportSection } from './context.js';
import { escapeHtml, formatSummary } from './format.js';
import { VERDICT_TEXT, verdictCounts } from './ledger.js';
import type { ClaimResult, Verdict } from './ledger.js';
import { COST_METRIC } from './recommend.js';
import type { Recommendation } from './recommend.js';
import { againstFloor } from './suite-info.js';
import type { GroupSummary } from './summary.js';

const badge = (v: Verdict): string => `<span class="v v-${v}">${escapeHtml(VERDICT_TEXT[v])}</span>`;

/** The recommendation as sentences with its numbers (HTML, escaped). */
export function recommendationHtml(rec: Recommendation): string {
  const budget = rec.memoryBudgetBytes === null ? '' : ` Memory budget: ${rec.memoryBudgetBytes.toLocaleString('en-US')} bytes.`;
  if (rec.state === 'none') return `<p class="rec"><b>No recommendation</b>: ${escapeHtml(rec.why)}.${escapeHtml(budget)}</p>`;
  const byLabel = new Map(rec.candidates.map((c) => [c.label, c]));
  const q = (label: string) => formatSummary(rec.headline.id, byLabel.get(label)!.quality);
  const cost = (label: string) => {
    const c = byLabel.get(label)!.cost;
    return c ? formatSummary(COST_METRIC, c) : 'not measured';
  };
  const qName = METRICS[rec.headline.id].label.toLowerCase();
  const chosen = rec.choice;
  let why: string;
  if (rec.candidates.length === 1) {
    why = `It is the only row that reports ${qName}, so nothing was compared: ${chosen} ${q(chosen)}.`;
  } else if (rec.isBase) {
    why = rec.tied.length === 1
      ? `The unadapted base has the best ${qName}, ${q(chosen)}, separated from every other row.`
      : `No approach is separably better than the unadapted base on ${qName}: ${rec.tied.map((l) => `${l} ${q(l)}`).join(', ')} `
        + `are not separable from the best (${rec.leader}). Do not adapt for this, or narrow the intervals first (more seeds, more test questions).`;
  } else if (rec.reason === 'separated-best') {
    const runnerUp = rec.candidates.find((c) => c.label !== chosen);
    why = `Best ${qName}, separated from every other row: ${chosen} ${q(chosen)}`
      + `${runnerUp ? ` against the next best, ${runnerUp.label} ${q(runnerUp.label)}` : ''}. Peak memory ${cost(chosen)}.`;
  } else {
    const others = rec.tied.filter((l) => l !== chosen);
    // Say so where the memory does not separate either: the tie-break then rests on means alone.
    const mine = byLabel.get(chosen)!.cost?.interval;
    const close = others.filter((l) => {
      const o = byLabel.get(l)!.cost?.interval;
      return !mine || !o || (mine.low <= o.high && o.low <= mine.high);
    });
    why = `${rec.tied.length} rows are tied for the best ${qName} (their 95% intervals overlap ${rec.leader}'s): `
      + `${rec.tied.map((l) => `${l} ${q(l)}`).join(', ')}. ${chosen} needs the least peak memory of them: ${cost(chosen)}`
      + ` against ${others.map((l) => `${l} ${cost(l)}`).join(', ')}.`
      + (close.length ? ` Its memory is not separable from ${close.join(', ')} either: on this run ${close.length > 1 ? 'they are' : 'that is'} as good a choice.` : '');
  }
  const over = rec.overBudget.length ? ` Over the budget, so not considered: ${rec.overBudget.join(', ')}.` : '';
  return `<p class="rec"><b>Recommended: ${escapeHtml(chosen)}</b>${rec.isBase ? ' (no adaptation)' : ''}. ${escapeHtml(why)}${escapeHtml(over)}${escapeHtml(budget)}</p>`;
}

/**
 * Where the headline has a floor (accuracy: the majority-class rate), the rows not separably above
 * it, in words: a classifier no better than always answering the most frequent label learned nothing usable.
 */
function floorHtml(rec: Recommendation, groups: readonly GroupSummary[]): string {
  const checks = groups.filter((g) => g.suite === rec.suite)
    .flatMap((g) => { const f = againstFloor(g, rec.headline); return f ? [{ g, f }] : []; });
  const first = checks[0];
  if (!first) return '';
  const q = METRICS[rec.headline.id].label.toLowerCase();
  const floor = `${METRICS[first.f.floor].label} ${formatSummary(first.f.floor, first.f.summary)} (always answering the most frequent label).`;
  const stuck = checks.filter((c) => c.f.clears !== true);
  const chosen = rec.state === 'chosen' && stuck.some((c) => c.g.label === rec.choice)
    ? ` That includes the recommended ${rec.choice}${stuck.length === checks.length ? ': no approach on this run does the task usably' : ''}.` : '';
  const text = stuck.length === 0
    ? `${floor} Every row's ${q} is separably above it.`
    : `${floor} Not separably above it, so nothing usable learned: ${stuck.map((c) => `${c.g.label} ${formatSummary(rec.headline.id, c.g.metrics[rec.headline.id]!)}`).join(', ')}.${chosen}`;
  return `<p class="floor">${escapeHtml(text)}</p>`;
}

function claimLine(r: ClaimResult, showSuite: boolean): string {
  return `<li>${badge(r.verdict)} ${escapeHtml(r.claim)}${showSuite && r.suite ? ` <span class="note">(${escapeHtml(r.suite)})</span>` : ''} `
    + `<span class="note">${escapeHtml(r.finding)}</span></li>`;
}

export const verdictSection: ReportSection = {
  id: 'verdict',
  title: 'Verdict',
  render(ctx: ReportContext) {
    const parts: string[] = [];
    const many = ctx.recommendations.length > 1;
    for (const rec of ctx.recommendations) {
      const info = ctx.suites.find((s) => s.name === rec.suite);
      const useCase = info?.useCase ?? info?.description;
      const kind = info?.taskType ? `${info.taskType} task, ` : '';
      parts.push(`<div class="verdict-box">${many ? `<h3>${escapeHtml(rec.suite)}</h3>` : ''}`
        + `<p><b>Use case</b> (${escapeHtml(rec.suite)}; ${escapeHtml(kind)}ranked on ${escapeHtml(METRICS[rec.headline.id].label.toLowerCase())}): `
        + `${escapeHtml(useCase ?? 'not described by this adaptbench')}</p>`
        + recommendationHtml(rec)
        + floorHtml(rec, ctx.groups)
        + `<p class="note">Rule: ${escapeHtml(rec.rule)}</p></div>`);
    }
    if (parts.length === 0) parts.push('<p>No suite has a completed cell: nothing to recommend.</p>');
    const counts = verdictCounts(ctx.ledger);
    const summary = (Object.keys(counts) as Verdict[]).filter((v) => counts[v] > 0).map((v) => `${counts[v]} ${VERDICT_TEXT[v]}`).join(', ');
    const suites = new Set(ctx.ledger.map((r) => r.suite).filter((s) => s !== null));
    parts.push(`<p><b>Claims the articles make, checked on this run</b>: ${escapeHtml(summary)}. `
      + 'Each rule and its numbers: <a href="#ledger">Claims ledger</a>.</p>'
      + `<ul class="claims">${ctx.ledger.map((r) => claimLine(r, suites.size > 1)).join('')}</ul>`);
    return parts.join('\n');
  },
};

export const ledgerSection: ReportSection = {
  id: 'ledger',
  title: 'Claims ledger',
  render(ctx: ReportContext) {
    const rows = ctx.ledger.map((r) => `<tr><td><b>${escapeHtml(r.claim)}</b><br><span class="note">${escapeHtml(r.source)}</span></td>`
      + `<td>${badge(r.verdict)}</td><td>${escapeHtml(r.suite ?? '—')}</td><td>${escapeHtml(r.finding)}</td>`
      + `<td class="rule">${escapeHtml(r.rule)}</td></tr>`).join('\n');
    return '<p class="note">Held: the 95% intervals over seeds separate in the claimed direction. Not held: they separate the other way. '
      + 'Not separable: they overlap, so this run cannot tell. Not measured on this run: a row, metric or suite the claim needs is missing.</p>'
      + '<div class="scroll"><table class="ledger"><thead><tr><th>Claim</th><th>Verdict</th><th>Suite</th><th>Numbers</th><th>Rule</th></tr></thead>'
      + `<tbody>\n${rows}\n</tbody></table></div>`;
  },
};
