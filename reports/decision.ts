// The decision map: one row per suite (use case), one column per approach row; each cell the suite's
// headline metric with its interval and the costs that matter (peak memory by phase, training time,
// update time where the suite updates, serving latency); per use case the recommended row by
// recommend.ts's rule and the claims its numbers decided. The page people share: first in
// report.html, as decision.csv, and as markdown in compare.md. Built from the report context only,
// so every number is the one the summary tables and the ledger show.
import { stringify } from 'csv-stringify/sync';
import { METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { ReportContext, ReportSection } from './context.js';
import { metricColumn, plainDecimal } from './csv.js';
import { escapeHtml, formatSummary, markdownText } from './format.js';
import { VERDICT_TEXT } from './ledger.js';
import type { ClaimResult } from './ledger.js';
import type { Recommendation } from './recommend.js';
import type { SuiteInfo } from './suite-info.js';
import type { GroupSummary, MetricSummary } from './summary.js';

/** A cost figure of a cell: which metric it is and its summary over seeds. */
export interface Figure {
  readonly id: MetricId;
  readonly summary: MetricSummary;
}

export interface DecisionCell {
  readonly label: string;
  readonly approach: string;
  readonly headline: Figure | null;
  /** Peak memory of a training step; null for rows that do not train. */
  readonly trainMemory: Figure | null;
  /** Peak memory serving (one evaluation batch), for every row. */
  readonly serveMemory: Figure | null;
  /** memory.peakBytes (the heaviest phase), only where the results have no per-phase figure (older runs). */
  readonly heaviestMemory: Figure | null;
  readonly trainSec: Figure | null;
  /** Only in suites with an update (fresh-facts). */
  readonly updateSec: Figure | null;
  /** Request latency p50, else per-token p50. */
  readonly latency: Figure | null;
  readonly recommended: boolean;
}

export interface DecisionRow {
  readonly suite: SuiteInfo;
  /** One entry per column of the map; null where the suite has no completed cell of that row. */
  readonly cells: ReadonlyArray<DecisionCell | null>;
  readonly recommendation: Recommendation | null;
  /** Whether any row of the suite measured an update (then update time is shown). */
  readonly hasUpdate: boolean;
  /** Ledger results decided on this suite (alone or in a pair). */
  readonly claims: readonly ClaimResult[];
}

export interface DecisionMap {
  /** Row labels across every suite, in first-seen order. */
  readonly columns: readonly string[];
  readonly rows: readonly DecisionRow[];
  /** Whether some cell fell back to memory.peakBytes for want of per-phase figures. */
  readonly usesHeaviest: boolean;
}

/** The metrics the map reads besides the headline, in decision.csv's column order. */
const DECISION_METRICS: readonly MetricId[] = [
  'memory.trainPeakBytes', 'memory.servePeakBytes', 'memory.peakBytes', 'train.wallSec', 'update.wallSec',
  'latency.requestP50Ms', 'latency.tokenP50Ms',
];

const figure = (g: GroupSummary, id: MetricId): Figure | null => {
  const summary = g.metrics[id];
  return summary ? { id, summary } : null;
};

/** Ledger results whose suite is `suite`, or a pair ('a + b') that includes it. */
function claimsOf(suite: string, ledger: readonly ClaimResult[]): ClaimResult[] {
  return ledger.filter((r) => r.suite !== null && r.suite.split(' + ').includes(suite));
}

export function decisionMap(ctx: Pick<ReportContext, 'groups' | 'suites' | 'recommendations' | 'ledger'>): DecisionMap {
  const withCells = ctx.groups.filter((g) => g.completed.length > 0);
  const columns = [...new Set(withCells.map((g) => g.label))];
  let usesHeaviest = false;
  const rows = ctx.suites.filter((s) => withCells.some((g) => g.suite === s.name)).map((suite): DecisionRow => {
    const recommendation = ctx.recommendations.find((r) => r.suite === suite.name) ?? null;
    const choice = recommendation?.state === 'chosen' ? recommendation.choice : null;
    const hasUpdate = withCells.some((g) => g.suite === suite.name && g.metrics['update.wallSec'] !== undefined);
    const cells = columns.map((label): DecisionCell | null => {
      const g = withCells.find((x) => x.suite === suite.name && x.label === label);
      if (!g) return null;
      const trainMemory = figure(g, 'memory.trainPeakBytes');
      const serveMemory = figure(g, 'memory.servePeakBytes');
      const heaviestMemory = trainMemory || serveMemory ? null : figure(g, 'memory.peakBytes');
      if (heaviestMemory) usesHeaviest = true;
      return {
        label, approach: g.approach, headline: figure(g, suite.headline.id), trainMemory, serveMemory, heaviestMemory,
        trainSec: figure(g, 'train.wallSec'), updateSec: hasUpdate ? figure(g, 'update.wallSec') : null,
        latency: figure(g, 'latency.requestP50Ms') ?? figure(g, 'latency.tokenP50Ms'),
        recommended: label === choice,
      };
    });
    return { suite, cells, recommendation, hasUpdate, claims: claimsOf(suite.name, ctx.ledger) };
  });
  return { columns, rows, usesHeaviest };
}

/** The costs of a cell as short phrases: 'train 3.1 MiB', 'serve 1.2 MiB', 'train 12.4 s', 'p50 41 ms'. */
function costPhrases(c: DecisionCell): string[] {
  const f = (x: Figure) => formatSummary(x.id, x.summary);
  const out: string[] = [];
  if (c.trainMemory) out.push(`train mem ${f(c.trainMemory)}`);
  if (c.serveMemory) out.push(`serve mem ${f(c.serveMemory)}`);
  if (c.heaviestMemory) out.push(`peak mem* ${f(c.heaviestMemory)}`);
  if (c.trainSec) out.push(`train ${f(c.trainSec)}`);
  if (c.updateSec) out.push(`update ${f(c.updateSec)}`);
  if (c.latency) out.push(`${c.latency.id === 'latency.requestP50Ms' ? 'request' : 'token'} p50 ${f(c.latency)}`);
  return out;
}

const VERDICT_WORD: Readonly<Record<ClaimResult['verdict'], string>> = {
  held: 'confirms', 'not-held': 'contradicts', 'not-separable': 'cannot tell', 'not-measured': 'not measured',
};

function recommendationText(rec: Recommendation | null): string {
  if (!rec) return 'no recommendation';
  if (rec.state === 'none') return `none: ${rec.why}`;
  const how = rec.isBase ? 'no adaptation separably better' : rec.reason === 'separated-best' ? 'separably best' : `cheapest of ${rec.tied.length} tied`;
  return `${rec.choice} (${how})`;
}

/** Notes under the map: how to read a cell, the rules, the interval methods. */
function notes(map: DecisionMap): string[] {
  const rules = [...new Set(map.rows.map((r) => r.recommendation?.rule).filter((r): r is string => r !== undefined))];
  return [
    'Each cell: the suite\'s headline metric (mean over seeds, 95% interval), then its costs: peak engine memory of a training step '
      + '(rows that train) and of serving (every row: the phase all rows share), training time, update time (suites with an update), '
      + 'serving latency p50. Timings are medians over seeds with a 95% percentile bootstrap interval.',
    ...(map.usesHeaviest ? ['peak mem*: these results predate peak memory by phase; the figure is memory.peakBytes, the heaviest phase (a training step for rows that train, an evaluation batch otherwise), so rows that train and rows that do not are not compared on the same phase.'] : []),
    // The rule differs between suites only in the headline metric it names: state it once.
    ...rules.slice(0, 1).map((r) => `Rule for the recommendation${rules.length > 1 ? `, each suite on its own headline metric (as for ${map.rows[0]!.suite.name})` : ''}: ${r}`),
    'Claims: the ledger\'s verdicts decided on the suite: confirms (held), contradicts (not held), cannot tell (not separable).',
  ];
}

function cellHtml(c: DecisionCell | null): string {
  if (!c) return '<td class="na">—</td>';
  const head = c.headline ? escapeHtml(formatSummary(c.headline.id, c.headline.summary)) : '—';
  const costs = costPhrases(c).map((p) => `<li>${escapeHtml(p)}</li>`).join('');
  return `<td class="dm-cell${c.recommended ? ' best' : ''}"><b>${head}</b>${c.recommended ? ' <span class="tag">recommended</span>' : ''}`
    + `${costs ? `<ul class="costs">${costs}</ul>` : ''}</td>`;
}

function claimsHtml(claims: readonly ClaimResult[]): string {
  if (claims.length === 0) return '<span class="note">none decided here</span>';
  return `<ul class="costs">${claims.map((r) => `<li><span class="v v-${r.verdict}" title="${escapeHtml(VERDICT_TEXT[r.verdict])}">${escapeHtml(VERDICT_WORD[r.verdict])}</span> `
    + `<span title="${escapeHtml(r.finding)}">${escapeHtml(r.claim)}</span></li>`).join('')}</ul>`;
}

export function decisionHtml(map: DecisionMap): string {
  if (map.rows.length === 0) return '<p>No suite has a completed cell: nothing to map.</p>';
  const head = map.columns.map((l) => `<th>${escapeHtml(l)}</th>`).join('');
  const rows = map.rows.map((r) => `<tr><th scope="row">${escapeHtml(r.suite.name)}<br><span class="unit">${escapeHtml(METRICS[r.suite.headline.id].label.toLowerCase())} `
    + `${r.suite.headline.higherIsBetter ? '↑' : '↓'}</span></th>${r.cells.map(cellHtml).join('')}`
    + `<td><b>${escapeHtml(recommendationText(r.recommendation))}</b></td><td>${claimsHtml(r.claims)}</td></tr>`).join('\n');
  return `<div class="scroll"><table class="summary decision-map"><thead><tr><th>Use case</th>${head}<th>Recommended</th><th>Claims</th></tr></thead>`
    + `<tbody>\n${rows}\n</tbody></table></div>${notes(map).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('')}`;
}

export const decisionSection: ReportSection = {
  id: 'decision-map',
  title: 'Decision map',
  render: (ctx) => decisionHtml(decisionMap(ctx)),
};

/** The map as markdown (compare.md, a CI job summary): plain table cells, no HTML. */
export function decisionMarkdown(map: DecisionMap): string {
  const lines = ['## Decision map', ''];
  if (map.rows.length === 0) return [...lines, 'No suite has a completed cell.', ''].join('\n');
  lines.push(`| Use case | ${map.columns.map(markdownText).join(' | ')} | Recommended | Claims |`, `|---|${map.columns.map(() => '---|').join('')}---|---|`);
  for (const r of map.rows) {
    const cells = r.cells.map((c) => {
      if (!c) return '—';
      const head = c.headline ? formatSummary(c.headline.id, c.headline.summary) : '—';
      return markdownText([`${c.recommended ? '✅ ' : ''}${head}`, ...costPhrases(c)].join(' · '));
    });
    const claims = r.claims.map((x) => `${VERDICT_WORD[x.verdict]}: ${x.claim}`).join('; ') || 'none decided here';
    lines.push(`| ${markdownText(`${r.suite.name} (${METRICS[r.suite.headline.id].label.toLowerCase()})`)} | ${cells.join(' | ')} `
      + `| ${markdownText(recommendationText(r.recommendation))} | ${markdownText(claims)} |`);
  }
  lines.push('', ...notes(map).flatMap((n) => [markdownText(n), '']));
  return lines.join('\n');
}

/**
 * decision.csv: one line per (suite, row) of the map, metric columns by id (data-dictionary.csv):
 * the headline as `headline` with its metric id in `headlineMetric`, then the cost metrics.
 */
export function decisionCsv(map: DecisionMap): string {
  const header = ['suite', 'approach', 'label', 'recommended', 'headlineMetric', 'headline', 'headline.ci95Low', 'headline.ci95High'];
  for (const id of DECISION_METRICS) header.push(metricColumn(id), metricColumn(id, 'ci95Low'), metricColumn(id, 'ci95High'));
  header.push('claimsConfirmed', 'claimsContradicted', 'claimsNotSeparable');
  const rows: string[][] = [header];
  const numbers = (s: MetricSummary | undefined) => [plainDecimal(s?.point), plainDecimal(s?.interval?.low), plainDecimal(s?.interval?.high)];
  for (const r of map.rows) {
    const ids = (v: ClaimResult['verdict']) => r.claims.filter((x) => x.verdict === v).map((x) => x.id).join(';');
    for (const c of r.cells) {
      if (!c) continue;
      const figures: Array<Figure | null> = [c.trainMemory, c.serveMemory, c.heaviestMemory, c.trainSec, c.updateSec, c.latency];
      const byId = new Map(figures.filter((f): f is Figure => f !== null).map((f) => [f.id, f.summary]));
      rows.push([r.suite.name, c.approach, c.label, String(c.recommended), r.suite.headline.id, ...numbers(c.headline?.summary),
        ...DECISION_METRICS.flatMap((id) => numbers(byId.get(id))), ids('held'), ids('not-held'), ids('not-separable')]);
    }
  }
  return stringify(rows);
}
