// report.html: one self-contained file (inline CSS and scripts, no network, readable from file://).
// The page is a header plus a list of sections: the verdict first (recommendation and claims
// ledger), then the summary tables per suite and the charts, then the details. Every string from a
// dataset, a result or the manifest goes through escapeHtml.
import { METRIC_IDS, METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { RunManifest } from '../harness/results.js';
import { chartRuntimeScripts, chartSection, drawnChartsOf } from './chart-sections.js';
import type { ReportContext, ReportSection } from './context.js';
import { plainDecimal } from './csv.js';
import { escapeHtml, formatInterval, formatMetric } from './format.js';
import { againstFloor, FLOORS } from './suite-info.js';
import type { SuiteInfo } from './suite-info.js';
import { BOOTSTRAP_RESAMPLES, bestOf, TIMING_UNITS } from './summary.js';
import type { BestResult, GroupSummary, MetricSummary } from './summary.js';
import { decisionSection } from './decision.js';
import { ledgerSection, verdictSection } from './verdict.js';
import { modelSizeSection } from './model-size.js';

export { escapeHtml } from './format.js';

/** The backend as the run recorded it: reports read results, never the engine. */
type BackendInfo = NonNullable<RunManifest['backend']>;

function bestTag(best: BestResult): string {
  switch (best.separation) {
    case 'separated': return '<span class="tag">best</span>';
    case 'not-separable':
      return `<span class="tag ns">best, not separable from ${escapeHtml(best.overlapping.join(', '))}</span>`;
    case 'no-interval': return '<span class="tag ns">best, no interval to compare</span>';
    case 'only-one': return '';
  }
}

/** Where a row does not clear its metric's floor (accuracy at the majority-class rate), a tag that says so. */
function floorTag(g: GroupSummary, id: MetricId, higherIsBetter: boolean | null): string {
  const f = higherIsBetter === null ? null : againstFloor(g, { id, higherIsBetter });
  return f && f.clears !== true ? ` <span class="tag ns">not separably above the ${escapeHtml(METRICS[f.floor].label.toLowerCase())}</span>` : '';
}

function metricCell(id: MetricId, g: GroupSummary, s: MetricSummary | undefined, best: BestResult | null, higherIsBetter: boolean | null): string {
  if (!s) {
    const why = g.notes[id]?.join('; ') ?? (g.completed.length === 0 ? 'no completed cell' : 'not measured');
    return `<td class="na" title="${escapeHtml(why)}">—</td>`;
  }
  const v = formatMetric(id, s.point);
  const details = [
    `mean ${plainDecimal(s.mean)}`, `median ${plainDecimal(s.median)}`,
    s.sd === null ? '' : `sd ${plainDecimal(s.sd)}`,
    s.interval ? `95% [${plainDecimal(s.interval.low)}, ${plainDecimal(s.interval.high)}] (${s.interval.method})` : 'no interval',
    `n=${s.n}`, v.title,
  ].filter((d) => d !== '').join('; ');
  const isBest = best !== null && best.best === g.label && best.separation !== 'only-one';
  // A zero-width interval (the same value every seed, e.g. parameter counts) adds nothing to read.
  const ci = s.interval && s.interval.high > s.interval.low
    ? ` <span class="ci">${escapeHtml(formatInterval(id, s.point, s.interval))}</span>` : '';
  const n = s.n < g.completed.length ? ` <span class="n">n=${s.n}</span>` : '';
  return `<td class="num${isBest ? ' best' : ''}" title="${escapeHtml(details)}">${escapeHtml(v.text)}${ci}${n}`
    + `${isBest && best ? ` ${bestTag(best)}` : ''}${floorTag(g, id, higherIsBetter)}</td>`;
}

/** The suite's own metrics first (headline first), each followed by its floor, then every other metric some row reports. */
function columnsOf(suite: SuiteInfo, groups: readonly GroupSummary[]): MetricId[] {
  const declared = suite.metrics.flatMap((m) => [m.id, ...(FLOORS[m.id] ? [FLOORS[m.id]!] : [])]);
  const ordered = [...new Set([...declared, ...METRIC_IDS])];
  return ordered.filter((id) => groups.some((g) => g.metrics[id] !== undefined));
}

/**
 * The short view: the suite's own metrics (headline first) with their floors, forgetting, peak memory by
 * phase (memory.peakBytes only where no row has a per-phase figure: older results), training and update
 * time, and serving latency (request p50, else per-token p50).
 */
function shortColumnsOf(suite: SuiteInfo, groups: readonly GroupSummary[]): MetricId[] {
  const has = (id: MetricId) => groups.some((g) => g.metrics[id] !== undefined);
  const declared = suite.metrics.flatMap((m) => [m.id, ...(FLOORS[m.id] ? [FLOORS[m.id]!] : [])]);
  const byPhase: MetricId[] = ['memory.trainPeakBytes', 'memory.servePeakBytes'];
  const memory: MetricId[] = byPhase.some(has) ? byPhase : ['memory.peakBytes'];
  const latency: MetricId[] = has('latency.requestP50Ms') ? ['latency.requestP50Ms'] : ['latency.tokenP50Ms'];
  return [...new Set([...declared, 'forgetting.ceDelta', ...memory, 'train.wallSec', 'update.wallSec', ...latency] as MetricId[])].filter(has);
}

function suiteHeading(suite: SuiteInfo): string {
  const what = [suite.taskType ? `${suite.taskType} task` : '', `headline: ${METRICS[suite.headline.id].label.toLowerCase()}`]
    .filter((t) => t !== '').join('; ');
  return `<h3 id="suite-${escapeHtml(suite.name)}">${escapeHtml(suite.name)} <span class="note">(${escapeHtml(what)})</span></h3>`
    + (suite.description ? `<p class="note">${escapeHtml(suite.description)}</p>` : '');
}

/** One table of a suite's rows over `columns`. */
function metricTable(suite: SuiteInfo, groups: readonly GroupSummary[], columns: readonly MetricId[]): string {
  // The suite's declared direction wins over the metric's default: it is what the suite ranks on.
  const direction = (id: MetricId) => suite.metrics.find((m) => m.id === id)?.higherIsBetter ?? METRICS[id].higherIsBetter;
  const best = new Map(columns.map((id) => [id, bestOf(
    groups.map((g) => ({ label: g.label, summary: g.metrics[id] })), direction(id),
  )]));
  const head = columns.map((id) => {
    const def = METRICS[id];
    const up = direction(id);
    const arrow = up === null ? '' : up ? ' ↑' : ' ↓';
    const headline = id === suite.headline.id ? '<br><span class="tag">headline</span>' : '';
    return `<th title="${escapeHtml(`${id}: ${def.description}`)}">${escapeHtml(def.label)}${arrow}`
      + `${def.unit ? `<br><span class="unit">${escapeHtml(def.unit)}</span>` : ''}${headline}</th>`;
  }).join('');
  const rows = groups.map((g) => {
    const name = g.approach === g.label ? '' : ` <span class="approach">${escapeHtml(g.approach)}</span>`;
    const seeds = `${g.completed.length}${g.failed.length ? ` <span class="failed">+${g.failed.length} failed</span>` : ''}`;
    const cells = columns.map((id) => metricCell(id, g, g.metrics[id], best.get(id) ?? null, direction(id))).join('');
    return `<tr><th scope="row">${escapeHtml(g.label)}${name}</th><td class="num" title="seeds: ${escapeHtml(g.seeds.join(', '))}">${seeds}</td>${cells}</tr>`;
  }).join('\n');
  return `<div class="scroll"><table class="summary"><thead><tr><th>Approach</th><th>Seeds</th>${head}</tr></thead>`
    + `<tbody>\n${rows}\n</tbody></table></div>`;
}

/** A suite's short table, then every metric one click away, then what was not measured. */
function suiteTable(suite: SuiteInfo, groups: readonly GroupSummary[]): string {
  const columns = columnsOf(suite, groups);
  const failed = groups.reduce((sum, g) => sum + g.failed.length, 0);
  const heading = suiteHeading(suite);
  if (columns.length === 0) {
    return `${heading}<p>No completed cell in this suite${failed ? ` (${failed} failed: see Failed cells)` : ''}.</p>`;
  }
  return `${heading}${metricTable(suite, groups, shortColumnsOf(suite, groups))}`
    + `<details class="all-metrics"><summary>All ${columns.length} metrics of ${escapeHtml(suite.name)}</summary>${metricTable(suite, groups, columns)}</details>`
    + notMeasuredList(groups);
}

/** The metrics no row of a suite measured, with the cells' reasons: the table drops their columns, the page says so. */
function notMeasuredList(groups: readonly GroupSummary[]): string {
  if (!groups.some((g) => g.completed.length > 0)) return '';
  const absent = METRIC_IDS.filter((id) => groups.every((g) => g.metrics[id] === undefined));
  if (absent.length === 0) return '';
  const items = absent.map((id) => {
    const notes = [...new Set(groups.flatMap((g) => (g.notes[id] ?? []).map((n) => `${g.label}: ${n}`)))];
    return `<li><b>${escapeHtml(METRICS[id].label)}</b> <code>${escapeHtml(id)}</code>: `
      + `${escapeHtml(notes.length ? notes.join('; ') : 'no cell reports it (measured by a newer adaptbench, or not by these approaches)')}</li>`;
  }).join('');
  return `<details class="absent"><summary>${absent.length} metric(s) not measured on this run, and why</summary><ul>${items}</ul></details>`;
}

const summarySection: ReportSection = {
  id: 'summary',
  title: 'Summary',
  render(ctx) {
    const intro = '<p class="note">Per suite, the metrics that decide (its own, forgetting, peak memory by phase, training and update time, '
      + 'latency); every metric is one click below each table, and in summary.csv (columns by metric id, explained in data-dictionary.csv). '
      + 'Quality and other metrics: mean over seeds with its 95% interval (the wider of Student t over seeds and the mean of the cells\' own '
      + 'intervals; with one seed, the cell\'s own interval where it has one, e.g. Wilson over questions). '
      + `Timings and rates (units ${[...TIMING_UNITS].join(', ')}), which cannot go below zero: the median over seeds with a 95% percentile bootstrap `
      + `interval of the median (${BOOTSTRAP_RESAMPLES} resamples, seeded by the values). ↑/↓: which direction is better. `
      + 'The best value per column is highlighted; "not separable" names the rows whose interval overlaps it, '
      + 'so no claim that it is better is made. Hover a value for mean, median, sd, the interval\'s method and the raw number.</p>';
    const tables = ctx.suites.map((suite) => suiteTable(suite, ctx.groups.filter((g) => g.suite === suite.name)));
    return intro + tables.join('\n');
  },
};

const failuresSection: ReportSection = {
  id: 'failures',
  title: 'Failed cells',
  render(ctx) {
    const failed = ctx.groups.flatMap((g) => g.failed);
    if (failed.length === 0) return '<p>No cell failed.</p>';
    const rows = failed.map((f) => `<tr><td>${escapeHtml(f.cell.suite)}</td><td>${escapeHtml(f.cell.label)}</td>`
      + `<td class="num">${escapeHtml(f.cell.seed)}</td><td><code>${escapeHtml(f.cell.id)}</code></td>`
      + `<td><pre class="error">${escapeHtml(f.error.message)}</pre>`
      + `${f.error.stack ? `<details><summary>stack</summary><pre>${escapeHtml(f.error.stack)}</pre></details>` : ''}</td></tr>`);
    return '<table><thead><tr><th>Suite</th><th>Label</th><th>Seed</th><th>Cell</th><th>Error</th></tr></thead>'
      + `<tbody>\n${rows.join('\n')}\n</tbody></table>`;
  },
};

const missingSection: ReportSection = {
  id: 'missing',
  title: 'Cells without a result',
  render(ctx) {
    if (ctx.run.missing.length === 0) return null;
    const items = ctx.run.missing.map((c) => `<li><code>${escapeHtml(c.id)}</code></li>`).join('');
    return `<p>The manifest lists ${ctx.run.missing.length} cell(s) with no result file (an interrupted run?). `
      + 'Run the same command again with <code>--resume</code> to complete them, then <code>bench report</code>.</p>'
      + `<ul>${items}</ul>`;
  },
};

/** A row's confusion matrix summed over its seeds, labels in first-seen order; null where no cell records one. */
function summedConfusion(g: GroupSummary): { labels: string[]; counts: number[][]; seeds: number[] } | null {
  const cells = g.completed.filter((c) => c.confusion !== undefined);
  if (cells.length === 0) return null;
  const labels = [...new Set(cells.flatMap((c) => c.confusion!.labels))];
  const at = new Map(labels.map((l, i) => [l, i]));
  const counts = labels.map(() => labels.map(() => 0));
  for (const { confusion } of cells) {
    confusion!.labels.forEach((gold, r) => confusion!.labels.forEach((predicted, k) => {
      counts[at.get(gold)!]![at.get(predicted)!]! += confusion!.counts[r]?.[k] ?? 0;
    }));
  }
  return { labels, counts, seeds: cells.map((c) => c.cell.seed) };
}

function confusionTable(g: GroupSummary): string {
  const m = summedConfusion(g);
  if (!m) return '';
  const total = m.counts.flat().reduce((a, b) => a + b, 0);
  const head = m.labels.map((l) => `<th>${escapeHtml(l)}</th>`).join('');
  const rows = m.labels.map((gold, r) => `<tr><th scope="row">${escapeHtml(gold)}</th>`
    + m.counts[r]!.map((n, k) => `<td class="num${r === k ? ' best' : ''}">${n}</td>`).join('')
    + `<td class="num">${m.counts[r]!.reduce((a, b) => a + b, 0)}</td></tr>`).join('');
  const seeds = m.seeds.length === 1 ? `seed ${m.seeds[0]}` : `summed over ${m.seeds.length} seeds (${m.seeds.join(', ')})`;
  return `<figure class="confusion"><figcaption><b>${escapeHtml(g.label)}</b>: ${escapeHtml(seeds)}, ${total} test predictions</figcaption>`
    + `<table><thead><tr><th>gold ↓ / predicted →</th>${head}<th>total</th></tr></thead><tbody>${rows}</tbody></table></figure>`;
}

const confusionSection: ReportSection = {
  id: 'confusion',
  title: 'Confusion matrices',
  render(ctx) {
    const parts = ctx.suites.map((suite) => {
      const tables = ctx.groups.filter((g) => g.suite === suite.name).map(confusionTable).filter((t) => t !== '');
      return tables.length ? `<h3>${escapeHtml(suite.name)}</h3><div class="confusions">${tables.join('')}</div>` : '';
    }).filter((p) => p !== '');
    if (parts.length === 0) return null;
    return '<p class="note">Per approach, test examples by gold label (rows) and predicted label (columns), counts summed over '
      + 'the seeds (each seed evaluates its own test subset); the diagonal is correct.</p>' + parts.join('\n');
  },
};

/** Samples shown per (suite, label): from the lowest seed's completed cell. */
const SAMPLES_PER_LABEL = 3;

const samplesSection: ReportSection = {
  id: 'samples',
  title: 'Sample predictions',
  render(ctx) {
    const parts: string[] = [];
    for (const { name: suite, taskType } of ctx.suites) {
      const rows: string[] = [];
      for (const g of ctx.groups.filter((x) => x.suite === suite)) {
        const cell = g.completed.find((c) => c.samples.length > 0);
        if (!cell) continue;
        for (const s of cell.samples.slice(0, SAMPLES_PER_LABEL)) {
          rows.push(`<tr><td>${escapeHtml(g.label)}</td><td class="num">${escapeHtml(cell.cell.seed)}</td>`
            + `<td><div class="text">${escapeHtml(s.question)}</div></td><td>${escapeHtml(s.gold)}</td>`
            + `<td>${escapeHtml(s.predicted)}</td><td class="${s.correct ? 'ok">✓ yes' : 'bad">✗ no'}</td></tr>`);
        }
      }
      if (rows.length === 0) continue;
      parts.push(`<h3>${escapeHtml(suite)}</h3><table class="samples"><thead><tr><th>Approach</th><th>Seed</th>`
        + `<th>${taskType === 'choice' ? 'Input' : 'Question'}</th><th>Gold</th><th>Predicted</th><th>Correct</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`);
    }
    return parts.length ? parts.join('\n') : '<p>No samples recorded.</p>';
  },
};

function backendHtml(b: BackendInfo | null): string {
  if (!b) return 'not recorded';
  const kernels = b.kernels
    ? `; matmul: ${b.kernels.matmul} (${b.kernels.matmulReason}), segment sum: ${b.kernels.segmentSum}` : '';
  return escapeHtml(`${b.name} (tfjs backend "${b.tfjsBackend}", accelerator: ${b.accelerator}${kernels})`);
}

function attemptsHtml(b: BackendInfo | null): string {
  if (!b || b.attempts.length === 0) return 'none recorded';
  return `<ol>${b.attempts.map((a) => `<li><b>${escapeHtml(a.backend)}</b> (${a.ok ? 'used' : 'not used'}): `
    + `${escapeHtml(a.reason)}</li>`).join('')}</ol>`;
}

function kvTable(entries: ReadonlyArray<readonly [string, string]>, valueIsHtml = false): string {
  return `<table class="kv"><tbody>${entries.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th>`
    + `<td>${valueIsHtml ? v : escapeHtml(v)}</td></tr>`).join('')}</tbody></table>`;
}

const manifestSection: ReportSection = {
  id: 'manifest',
  title: 'Run manifest',
  render(ctx) {
    const m = ctx.run.manifest;
    const commit = m.gitCommit === null
      ? 'unknown (not run from a git checkout)'
      : `<code>${escapeHtml(m.gitCommit)}</code>${m.gitDirty ? ' <span class="failed">with uncommitted changes</span>' : ''}`;
    // A cell runs in its own process and records its backend; say so where one differs from the run's.
    const runBackend = m.backend?.name ?? null;
    const cellBackends = new Map<string, number>();
    for (const c of ctx.run.cells) {
      const name = c.backend?.name ?? 'not recorded';
      cellBackends.set(name, (cellBackends.get(name) ?? 0) + 1);
    }
    const differs = [...cellBackends.keys()].some((k) => k !== runBackend);
    const packages = Object.entries(m.packages)
      .map(([name, version]) => [name, version ?? 'not installed'] as const);
    const hashes = Object.entries(m.dataHashes);
    const rows: Array<readonly [string, string]> = [
      ['Run id', escapeHtml(m.runId)],
      ['Created', escapeHtml(m.createdAt)],
      ['Command', `<code>${escapeHtml(m.command)}</code>`],
      ['Git commit', commit],
      ['Node', escapeHtml(m.node)],
      ['OS', escapeHtml(m.os)],
      ['CPU', escapeHtml(`${m.cpu.model} (${m.cpu.cores} cores)`)],
      ['Backend', backendHtml(m.backend)],
      ['Backend attempts', attemptsHtml(m.backend)],
      ...(differs ? [['Cell backends', escapeHtml([...cellBackends].map(([k, n]) => `${k}: ${n} cell(s)`).join(', '))] as const] : []),
      ['Seeds', escapeHtml(m.seeds.join(', '))],
      ['Suites', escapeHtml(m.suites.join(', '))],
      ['Config hash', `<code>${escapeHtml(m.configHash)}</code>`],
      ['Data hashes', hashes.length ? kvTable(hashes.map(([k, v]) => [k, v] as const)) : 'none recorded'],
      ['Packages', packages.length ? kvTable(packages) : 'none recorded'],
    ];
    return kvTable(rows, true);
  },
};

const definitionsSection: ReportSection = {
  id: 'definitions',
  title: 'Metric definitions',
  render() {
    const items = METRIC_IDS.map((id) => {
      const def = METRICS[id];
      const dir = def.higherIsBetter === null ? '' : def.higherIsBetter ? ', higher is better' : ', lower is better';
      return `<dt>${escapeHtml(def.label)} <code>${escapeHtml(id)}</code>`
        + `<span class="unit"> ${escapeHtml(def.unit || 'ratio')}${dir}</span></dt><dd>${escapeHtml(def.description)}</dd>`;
    }).join('\n');
    return `<details><summary>${METRIC_IDS.length} metrics: what each measures and how</summary><dl>\n${items}\n</dl></details>`;
  },
};

/** Retrieval metrics shown per retrieving row, next to what produced them. */
const RETRIEVAL_COLUMNS: readonly MetricId[] = [
  'retrieval.recallAt1', 'retrieval.recallAt5', 'retrieval.recallAt10', 'retrieval.mrrAt10', 'retrieval.ndcgAt10',
  'retrieval.annRecallAt10', 'retrieval.queriesPerSec', 'retrieval.passagesPerPrompt',
];

/** "hnswlib M16 efC200 ef64" from a recorded index spec (inputs.retrieval.index). */
function indexText(spec: Record<string, unknown> | undefined): string {
  if (!spec) return 'not recorded';
  const { type, ...rest } = spec;
  return [String(type), ...Object.entries(rest).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${String(v)}`)].join(', ');
}

const retrievalSection: ReportSection = {
  id: 'retrieval',
  title: 'Embedders and indexes',
  render(ctx) {
    const rows: string[] = [];
    for (const g of ctx.groups) {
      const r = g.completed.find((c) => c.inputs?.retrieval !== undefined)?.inputs.retrieval;
      if (!r) continue;
      const embedder = r.embedder ? `${r.embedder.name ?? '?'} (${r.embedder.dim ?? '?'}-d)` : 'not recorded';
      // A choice suite without documents retrieves labelled training examples, shown as demonstrations.
      const what = r.corpus === 'demonstrations' ? 'demonstrations' : 'documents';
      const chunks = r.chunking ? `${r.chunking.chunkTokens ? `${r.chunking.chunkTokens} tokens` : `whole ${what}`}, ${r.chunking.chunks ?? '?'} chunks` : `${what}, chunking not recorded`;
      const cells = RETRIEVAL_COLUMNS.map((id) => {
        const m = g.metrics[id];
        if (!m) return '<td class="na">—</td>';
        const ci = m.interval && m.interval.high > m.interval.low ? ` <span class="ci">${escapeHtml(formatInterval(id, m.point, m.interval))}</span>` : '';
        return `<td class="num">${escapeHtml(formatMetric(id, m.point).text)}${ci}</td>`;
      }).join('');
      rows.push(`<tr><td>${escapeHtml(g.suite)}</td><th scope="row">${escapeHtml(g.label)}</th><td>${escapeHtml(embedder)}</td>`
        + `<td>${escapeHtml(indexText(r.index))}</td><td class="num">${escapeHtml(r.k ?? '?')}</td><td>${escapeHtml(chunks)}</td>${cells}</tr>`);
    }
    if (rows.length === 0) return null;
    const head = RETRIEVAL_COLUMNS.map((id) => `<th title="${escapeHtml(METRICS[id].description)}">${escapeHtml(METRICS[id].label)}</th>`).join('');
    return '<p class="note">Each retrieving row with the embedder and index it used. Recall@k, MRR@10 and nDCG@10 are BEIR\'s, '
      + 'against the suite\'s relevance judgements on every test question; ANN recall@10 is ann-benchmarks\', against exact search. '
      + 'Mean over seeds with its 95% interval where the seeds differ.</p>'
      + `<div class="scroll"><table class="summary"><thead><tr><th>Suite</th><th>Row</th><th>Embedder</th><th>Index</th><th>k</th><th>Chunks</th>${head}</tr></thead>`
      + `<tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
  },
};

/** The report's sections, in page order: the decision map, the verdict, numbers, charts, the ledger in full, then details. */
export const REPORT_SECTIONS: readonly ReportSection[] = [
  decisionSection, verdictSection, summarySection, confusionSection,
  chartSection('memory-breakdown'), modelSizeSection, chartSection('quality-memory'), chartSection('train-throughput'), chartSection('latency'),
  chartSection('retrieval'), retrievalSection, chartSection('learning-forgetting'), chartSection('rank-sweep'),
  ledgerSection, failuresSection, missingSection, samplesSection, manifestSection, definitionsSection,
];

/** The page's style sheet; compare.html uses it too. */
export const REPORT_CSS = `
:root { color-scheme: light; --line: #d0d7de; --muted: #57606a; --best: #dafbe1; --warn: #9a6700; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5rem; color: #1f2328; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); }
nav a { margin-right: 1rem; } .note, .unit, .approach, .n { color: var(--muted); font-size: .85em; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } th, td { border: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top; }
thead th { background: #f6f8fa; font-weight: 600; text-align: left; }
.scroll { overflow-x: auto; } .summary th[scope=row] { position: sticky; left: 0; background: #fff; text-align: left; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.best { background: var(--best); font-weight: 600; } .ci { color: var(--muted); font-weight: normal; }
.tag { display: block; font-size: .75em; font-weight: normal; color: #1a7f37; } .tag.ns { color: var(--warn); }
td.na { color: var(--muted); text-align: center; } .failed, .bad { color: #cf222e; } .ok { color: #1a7f37; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; } .text { white-space: pre-wrap; max-height: 12em; overflow: auto; max-width: 60ch; }
.samples td { max-width: 30ch; word-break: break-word; } .kv th { text-align: left; background: #f6f8fa; white-space: nowrap; }
.confusions { display: flex; flex-wrap: wrap; gap: 0 1.5rem; } figure.confusion { margin: 0; } .floor { margin-top: -.25rem; }
dt { font-weight: 600; margin-top: .5rem; } dd { margin-left: 1.5rem; } code { font-size: .9em; }
.verdict-box { border: 1px solid var(--line); border-radius: 6px; padding: .25rem 1rem; margin: .5rem 0 1rem; background: #f6f8fa; }
.rec { font-size: 1.1em; } .v { display: inline-block; min-width: 7.5em; padding: 0 .4em; border-radius: 3px; font-size: .85em; font-weight: 600; text-align: center; }
.v-held { background: #dafbe1; color: #116329; } .v-not-held { background: #ffebe9; color: #a40e26; }
.v-not-separable { background: #fff8c5; color: #7d4e00; } .v-not-measured { background: #eaeef2; color: #57606a; }
.claims li { margin: .25rem 0; } .ledger td { max-width: 48ch; } .ledger .rule { color: var(--muted); font-size: .85em; }
figure.chart { margin: .5rem 0 1.5rem; max-width: 980px; } .chart-box { position: relative; height: 380px; }
figcaption { color: var(--muted); font-size: .85em; margin-top: .25rem; } .not-measured { color: var(--muted); font-style: italic; }
.decision-map td { min-width: 11em; } .decision-map ul.costs { list-style: none; margin: .2rem 0 0; padding: 0; color: var(--muted); font-size: .85em; }
.decision-map td.best ul.costs { font-weight: normal; }
@media print { .scroll { overflow: visible; } details { display: block; } }
`;

/** Keeps a script's text from closing its own element early. */
function scriptText(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** The whole report page for a loaded run and its summaries. */
export function renderReport(ctx: ReportContext, sections: readonly ReportSection[] = REPORT_SECTIONS): string {
  const m = ctx.run.manifest;
  const suites = ctx.suites.map((s) => s.name);
  const rendered = sections
    .map((s) => ({ s, body: s.render(ctx) }))
    .filter((r): r is { s: ReportSection; body: string } => r.body !== null);
  const charts = rendered.flatMap((r) => drawnChartsOf(r.s.charts?.(ctx) ?? []));
  const scripts = [...rendered.flatMap((r) => r.s.scripts?.(ctx) ?? []), ...(charts.length ? chartRuntimeScripts(charts) : [])];
  // No source may be fetched: the page must read the same offline, and dataset text can never load anything.
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data:${scripts.length ? "; script-src 'unsafe-inline'" : ''}`;
  const title = `adaptbench report ${m.runId}: ${suites.join(', ')}`;
  const completed = ctx.run.cells.filter((c) => c.status === 'completed').length;
  const failed = ctx.run.cells.length - completed;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>adaptbench report <code>${escapeHtml(m.runId)}</code></h1>
<p>Suites: ${escapeHtml(suites.join(', '))}. Created ${escapeHtml(m.createdAt)}. `
    + `${completed} cell(s) completed, ${failed} failed, ${ctx.run.missing.length} without a result.</p>
<nav>${rendered.map((r) => `<a href="#${escapeHtml(r.s.id)}">${escapeHtml(r.s.title)}</a>`).join('')}</nav>
</header>
${rendered.map((r) => `<section id="${escapeHtml(r.s.id)}">\n<h2>${escapeHtml(r.s.title)}</h2>\n${r.body}\n</section>`).join('\n')}
${scripts.map((code) => `<script>${scriptText(code)}</script>`).join('\n')}
</body>
</html>
`;
}
