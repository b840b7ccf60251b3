// The recommendation and the claims ledger are pure functions of a run's results: crafted cell
// results (three seeds per row, values chosen so the 95% intervals separate or overlap by hand)
// go through the real summaries, and the verdicts must follow the numbers when they change.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { DEFAULT_MODEL_CONFIG } from '../harness/engine/config.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import { RESULT_SCHEMA_VERSION } from '../harness/results.js';
import type { CellInputs, CellResult, CompletedCell, RunManifest } from '../harness/results.js';
import {
  buildCharts, buildReportContext, decisionCsv, decisionMap, decisionMarkdown, evaluateLedger, paretoFront, rankSweeps, recommend, renderReport, summarizeRun,
} from '../reports/index.js';
import type { ClaimId, GroupSummary, Verdict } from '../reports/index.js';

const SUITE = 'knowledge-qa';
const MiB = 1024 ** 2;

/** A metric's value per seed: one number (the same every seed: a zero-width interval) or three. */
type Values = number | readonly [number, number, number];
type Row = { label: string; approach: string; config?: Record<string, unknown>; metrics: Partial<Record<MetricId, Values>>; suite?: string };

/** Suites by task type, as cells record them: a choice suite ranks on accuracy, a generate one on exact match. */
const CHOICE_SUITES = new Set(['task-adapt', 'my-tickets']);

function inputsOf(suite: string, r: Row): CellInputs {
  const choice = CHOICE_SUITES.has(suite);
  const metrics = choice
    ? [{ id: 'quality.accuracy', higherIsBetter: true }, { id: 'quality.macroF1', higherIsBetter: true }] as const
    : [{ id: 'quality.exactMatch', higherIsBetter: true }, { id: 'quality.tokenF1', higherIsBetter: true }] as const;
  return {
    suite: {
      name: suite, version: '1.0.0', description: `${suite} data`, useCase: suite === SUITE ? 'Answer <b>questions</b>.' : `${suite} use`, source: { kind: 'built-in' }, contentHash: `hash-${suite}`, taskType: choice ? 'choice' : 'generate',
      headline: metrics[0], metrics, trainExamples: 100, testQuestions: 50, documents: choice ? 0 : 25,
    },
    checkpoint: { dir: '/checkpoints/base', contentHash: 'ckpt', config: DEFAULT_MODEL_CONFIG },
    approach: { name: r.approach, label: r.label, config: r.config ?? {} },
  };
}

function cells(rows: readonly Row[]): CellResult[] {
  const out: CellResult[] = [];
  for (const r of rows) {
    for (const seed of [0, 1, 2]) {
      const metrics: Partial<Record<MetricId, number | null>> = {};
      for (const [id, v] of Object.entries(r.metrics) as Array<[MetricId, Values]>) metrics[id] = typeof v === 'number' ? v : v[seed]!;
      const suite = r.suite ?? SUITE;
      const cell: CompletedCell = {
        schemaVersion: RESULT_SCHEMA_VERSION,
        cell: { id: `${suite}__${r.label}__seed${seed}`, suite, approach: r.approach, label: r.label, approachConfig: r.config ?? {}, seed },
        startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', wallSec: 60, backend: null,
        status: 'completed', metrics, intervals: {}, notes: {}, inputs: inputsOf(suite, r), samples: [],
      };
      out.push(cell);
    }
  }
  return out;
}

const groupsOf = (rows: readonly Row[]): GroupSummary[] => summarizeRun(cells(rows));
/** [m - d, m, m + d]: sd d, 95% half-width 4.303 d / sqrt(3) = 2.484 d. */
const spread = (m: number, d: number): readonly [number, number, number] => [m - d, m, m + d];

/** A run with every approach; `over` replaces some rows' metrics. */
function run(over: Record<string, Partial<Record<MetricId, Values>>> = {}): Row[] {
  const rows: Row[] = [
    { label: 'base', approach: 'base', metrics: { 'quality.exactMatch': spread(0.05, 0.01), 'memory.peakBytes': 40 * MiB, 'params.total': 1_088_256, 'params.trainable': 0, 'forgetting.ceDelta': 0, 'memory.weightsBytes': 4.15 * MiB } },
    { label: 'full-ft', approach: 'full-ft', config: { lr: 1e-3 }, metrics: { 'quality.exactMatch': spread(0.30, 0.01), 'memory.peakBytes': 200 * MiB, 'params.total': 1_088_256, 'params.trainable': 1_088_256, 'forgetting.ceDelta': spread(0.40, 0.02), 'memory.weightsBytes': 4.15 * MiB } },
    { label: 'lora', approach: 'lora', config: { lr: 1e-2, rank: 8, alpha: 16 }, metrics: { 'quality.exactMatch': spread(0.28, 0.01), 'memory.peakBytes': 120 * MiB, 'params.total': 1_100_544, 'params.trainable': 12_288, 'forgetting.ceDelta': spread(0.05, 0.01), 'memory.weightsBytes': 4.2 * MiB } },
    { label: 'qlora', approach: 'qlora', config: { lr: 1e-2, rank: 8, alpha: 16 }, metrics: { 'quality.exactMatch': spread(0.27, 0.01), 'memory.peakBytes': 110 * MiB, 'params.trainable': 12_288, 'memory.weightsBytes': 0.9 * MiB, 'memory.bitsPerBaseParam': 6.5 } },
    { label: 'rag', approach: 'rag', metrics: { 'quality.exactMatch': spread(0.60, 0.01), 'memory.peakBytes': 130 * MiB, 'params.trainable': 0, 'forgetting.ceDelta': 0 } },
  ];
  return rows.map((r) => ({ ...r, metrics: { ...r.metrics, ...over[r.label] } }));
}

function verdict(rows: readonly Row[], id: ClaimId, suites: readonly string[] = [SUITE]): Verdict {
  const r = evaluateLedger(suites, groupsOf(rows)).filter((c) => c.id === id);
  assert.equal(r.length, 1, `${id}: one result`);
  return r[0]!.verdict;
}

test('recommendation: the separated best wins; a tie goes to the cheapest; a budget and the base are stated', () => {
  const clear = recommend(SUITE, groupsOf(run()));
  assert.equal(clear.state, 'chosen');
  assert.ok(clear.state === 'chosen' && clear.choice === 'rag' && clear.reason === 'separated-best' && !clear.isBase);
  assert.deepEqual(clear.state === 'chosen' && clear.tied, ['rag']);
  assert.match(clear.rule, /highest mean exact match/);

  // lora catches up with rag (intervals overlap): both tied, lora is cheaper (120 vs 130 MiB).
  const tie = recommend(SUITE, groupsOf(run({ lora: { 'quality.exactMatch': spread(0.59, 0.01) } })));
  assert.ok(tie.state === 'chosen');
  assert.deepEqual([tie.choice, tie.leader, tie.reason, [...tie.tied].sort()], ['lora', 'rag', 'cheapest-of-tie', ['lora', 'rag']]);

  // A budget of 125 MiB leaves full-ft and rag out, and names them.
  const budget = recommend(SUITE, groupsOf(run()), { memoryBudgetBytes: 125 * MiB });
  assert.ok(budget.state === 'chosen');
  assert.deepEqual(budget.overBudget, ['full-ft', 'rag']);
  // Left: base 0.05, lora 0.28, qlora 0.27 (lora and qlora overlap): qlora is cheaper (110 MiB).
  assert.equal(budget.choice, 'qlora');
  assert.match(budget.rule, /fits the budget of 131,072,000 bytes/);

  // Nothing separably better than base: recommend not adapting.
  const flat = recommend(SUITE, groupsOf(run({ rag: { 'quality.exactMatch': spread(0.06, 0.03) }, lora: { 'quality.exactMatch': spread(0.05, 0.03) },
    'full-ft': { 'quality.exactMatch': spread(0.04, 0.03) }, qlora: { 'quality.exactMatch': spread(0.05, 0.04) } })));
  assert.ok(flat.state === 'chosen' && flat.choice === 'base' && flat.isBase);
  // A tie with the base goes to the base even where another tied row needs less memory.
  const lighter = recommend(SUITE, groupsOf(run({ rag: { 'quality.exactMatch': spread(0.06, 0.01), 'memory.peakBytes': 30 * MiB } })
    .filter((r) => r.approach === 'base' || r.approach === 'rag')));
  assert.ok(lighter.state === 'chosen' && lighter.leader === 'rag' && lighter.choice === 'base' && lighter.isBase);

  const none = recommend(SUITE, groupsOf(run()), { memoryBudgetBytes: MiB });
  assert.ok(none.state === 'none' && /no row fits the memory budget/.test(none.why));
  assert.equal(recommend('task-adapt', groupsOf(run())).state, 'none');
});

test('ledger: each claim is held, not held or not separable as the numbers move, and not measured without them', () => {
  // LoRA needs less memory: 120 vs 200 MiB (exact), then equal-ish with spread, then more.
  assert.equal(verdict(run(), 'lora-less-memory'), 'held');
  assert.equal(verdict(run({ lora: { 'memory.peakBytes': spread(190 * MiB, 10 * MiB) } }), 'lora-less-memory'), 'not-separable');
  assert.equal(verdict(run({ lora: { 'memory.peakBytes': 250 * MiB } }), 'lora-less-memory'), 'not-held');

  // Comparable quality: 0.28 ± 0.025 vs 0.30 ± 0.025: low 0.255 >= high 0.325 - 0.05 = 0.275? No: not separable.
  assert.equal(verdict(run(), 'lora-comparable'), 'not-separable');
  assert.equal(verdict(run({ lora: { 'quality.exactMatch': 0.30 }, 'full-ft': { 'quality.exactMatch': 0.31 } }), 'lora-comparable'), 'held');
  assert.equal(verdict(run({ lora: { 'quality.exactMatch': spread(0.10, 0.01) } }), 'lora-comparable'), 'not-held');
  // Both at the base's level: "comparable" only vacuously, so no verdict.
  const nothing = evaluateLedger([SUITE], groupsOf(run({ lora: { 'quality.exactMatch': 0.05 }, 'full-ft': { 'quality.exactMatch': 0.05 } })))
    .find((c) => c.id === 'lora-comparable')!;
  assert.equal(nothing.verdict, 'not-separable');
  assert.match(nothing.finding, /full fine-tuning is not separably better than base 0\.05 ± 0\.0248, so there is nothing learned to compare/);

  // Far fewer parameters: 12,288 of 1,088,256 (1.1%); then as many as a tenth and more.
  assert.equal(verdict(run(), 'lora-fewer-params'), 'held');
  assert.equal(verdict(run({ lora: { 'params.trainable': 200_000 } }), 'lora-fewer-params'), 'not-held');
  // Without a full-ft row, the base's total is what full fine-tuning would train.
  const noFull = run().filter((r) => r.approach !== 'full-ft');
  const fewer = evaluateLedger([SUITE], groupsOf(noFull)).find((c) => c.id === 'lora-fewer-params')!;
  assert.equal(fewer.verdict, 'held');
  assert.match(fewer.finding, /full fine-tuning 1,088,256/);
  assert.equal(verdict(noFull, 'lora-less-memory'), 'not-measured');
  assert.match(evaluateLedger([SUITE], groupsOf(noFull)).find((c) => c.id === 'lora-less-memory')!.finding, /Not measured on this run: no full-ft row in knowledge-qa/);

  // Forgetting: 0.05 vs 0.40 nats/token.
  assert.equal(verdict(run(), 'lora-forgets-less'), 'held');
  assert.equal(verdict(run({ lora: { 'forgetting.ceDelta': spread(0.5, 0.01) } }), 'lora-forgets-less'), 'not-held');
  assert.equal(verdict(run({ lora: { 'forgetting.ceDelta': spread(0.38, 0.05) } }), 'lora-forgets-less'), 'not-separable');

  // Quantisation: 4.2 / 0.9 = 4.67-fold; then 4.2 / 2.1 = 2-fold.
  assert.equal(verdict(run(), 'quantized-fourfold'), 'held');
  assert.equal(verdict(run({ qlora: { 'memory.weightsBytes': 2.1 * MiB } }), 'quantized-fourfold'), 'not-held');

  // RAG on new knowledge: 0.60 vs base 0.05; a rag that trains is not "without retraining".
  assert.equal(verdict(run(), 'rag-new-knowledge'), 'held');
  assert.equal(verdict(run({ rag: { 'quality.exactMatch': spread(0.06, 0.01) } }), 'rag-new-knowledge'), 'not-separable');
  assert.equal(verdict(run({ rag: { 'params.trainable': 10 } }), 'rag-new-knowledge'), 'not-held');
  // Only on suites of new facts: a task suite does not measure it.
  const task = run().map((r) => ({ ...r, suite: 'task-adapt' }));
  const onTask = evaluateLedger(['task-adapt'], groupsOf(task)).find((c) => c.id === 'rag-new-knowledge')!;
  assert.deepEqual([onTask.verdict, onTask.finding], ['not-measured', 'Not measured on this run: needs a suite of facts the base never saw (knowledge-qa, fresh-facts, or a generate suite with documents), not in this run.']);

  // Latency: not in these results; then from one seed's bootstrap bounds, and over seeds.
  assert.equal(verdict(run(), 'merged-no-latency'), 'not-measured');
  // Over seeds: the Student t interval of the per-seed ratios decides.
  assert.equal(verdict(run({ lora: { 'latency.tokenRatioToBase': spread(1.0, 0.01) } }), 'merged-no-latency'), 'held');
  assert.equal(verdict(run({ lora: { 'latency.tokenRatioToBase': spread(1.3, 0.02) } }), 'merged-no-latency'), 'not-held');
  assert.equal(verdict(run({ lora: { 'latency.tokenRatioToBase': spread(1.05, 0.02) } }), 'merged-no-latency'), 'not-separable');

  // Top-k on corpus-wide questions: not measured without that suite; held when rag fails there.
  assert.equal(verdict(run(), 'topk-corpus-wide'), 'not-measured');
  const wide = [...run(), { label: 'rag', approach: 'rag', suite: 'corpus-wide', metrics: { 'quality.exactMatch': spread(0.02, 0.01) } }];
  assert.equal(verdict(wide, 'topk-corpus-wide', [SUITE, 'corpus-wide']), 'held');
});

test('latency claim with one seed reads the cell\'s own bootstrap bounds', () => {
  const one = (ratio: number, low: number, high: number) => {
    const c = cells(run({ lora: { 'latency.tokenRatioToBase': ratio, 'latency.tokenRatioToBaseLow': low, 'latency.tokenRatioToBaseHigh': high } }))
      .filter((x) => x.cell.seed === 0);
    return evaluateLedger([SUITE], summarizeRun(c)).find((x) => x.id === 'merged-no-latency')!;
  };
  assert.equal(one(1.01, 0.99, 1.03).verdict, 'held');
  assert.equal(one(1.2, 1.1, 1.3).verdict, 'not-held');
  assert.equal(one(1.04, 1.0, 1.08).verdict, 'not-separable');
  assert.match(one(1.01, 0.99, 1.03).finding, /1\.01 \[0\.990, 1\.03\] times the base's per-token latency/);
});

test('charts: the Pareto front, rank sweeps, and views without data say so', () => {
  assert.deepEqual(paretoFront([
    { label: 'base', quality: 0.05, memory: 40 }, { label: 'lora', quality: 0.28, memory: 120 }, { label: 'full-ft', quality: 0.30, memory: 200 },
    { label: 'qlora', quality: 0.27, memory: 125 }, { label: 'rag', quality: 0.60, memory: 130 },
  ]), ['base', 'lora', 'rag']);

  const sweep = [...run(), { label: 'lora-rank2', approach: 'lora', config: { lr: 1e-2, rank: 2, alpha: 16 }, metrics: { 'quality.exactMatch': spread(0.2, 0.01), 'forgetting.ceDelta': 0.01 } },
    { label: 'lora-alpha8', approach: 'lora', config: { lr: 1e-2, rank: 8, alpha: 8 }, metrics: { 'quality.exactMatch': 0.1 } }];
  const sweeps = rankSweeps(groupsOf(sweep));
  assert.deepEqual(sweeps.map((s) => [s.approach, s.rows.map((r) => `${r.group.label}@${r.rank}`)]), [['lora', ['lora-rank2@2', 'lora@8']]],
    'lora-alpha8 differs in alpha, not only rank: not part of the sweep');

  const views = buildCharts([SUITE], groupsOf(run()));
  const state = Object.fromEntries(views.map((v) => [v.kind, v.state]));
  assert.deepEqual(state, {
    'memory-breakdown': 'drawn', 'quality-memory': 'drawn', 'train-throughput': 'not-measured', latency: 'not-measured',
    retrieval: 'not-measured', 'learning-forgetting': 'drawn',
  }, 'no rank sweep in this run: that view is left out');
  const q = views.find((v) => v.kind === 'quality-memory')!;
  assert.ok(q.state === 'drawn' && q.notes.some((n) => n === 'Pareto front (dashed): base → qlora → lora → rag.'));
  assert.equal(JSON.stringify(q.state === 'drawn' ? q.config : null).includes('function'), false, 'configs are plain data');
});

test('the page states the rule and the verdicts, and both change with the numbers', () => {
  const manifest = (rows: readonly Row[]): RunManifest => ({
    schemaVersion: RESULT_SCHEMA_VERSION, runId: 'crafted', createdAt: '2026-01-01T00:00:00.000Z', command: 'bench run knowledge-qa', gitCommit: null, gitDirty: null,
    packages: {}, node: 'v20', os: 'linux', cpu: { model: 'cpu', cores: 2 }, backend: null, seeds: [0, 1, 2], suites: [SUITE],
    cells: cells(rows).map((c) => c.cell), configHash: 'x', config: {}, dataHashes: {},
  });
  const page = (rows: readonly Row[]) => {
    const c = cells(rows);
    return renderReport(buildReportContext({ dir: '/tmp/crafted', manifest: manifest(rows), cells: c, missing: [] }));
  };
  const first = page(run());
  assert.match(first, /<b>Recommended: rag<\/b>\. Best exact match, separated from every other row: rag 0\.6 ± 0\.0248/);
  assert.ok(first.includes('Answer &lt;b&gt;questions&lt;/b&gt;.'), 'the use case is escaped');
  assert.match(first, /Rule: Among the rows, take the one with the highest mean exact match/);
  assert.match(first, /<span class="v v-held">held<\/span> LoRA needs less memory to train than full fine-tuning\./);
  const second = page(run({ lora: { 'memory.peakBytes': 250 * MiB, 'quality.exactMatch': spread(0.59, 0.01) } }));
  assert.match(second, /<b>Recommended: rag<\/b>\. 2 rows are tied for the best exact match/);
  assert.match(second, /<span class="v v-not-held">not held<\/span> LoRA needs less memory to train than full fine-tuning\./);
});

/** A spam-or-ham run: accuracy with the majority-class rate 0.6 beside it; `suite` renames it (a user's choice suite). */
function taskRun(over: Record<string, Partial<Record<MetricId, Values>>> = {}, suite = 'task-adapt'): Row[] {
  const rows: Row[] = [
    { label: 'base', approach: 'base', metrics: { 'quality.accuracy': spread(0.58, 0.01), 'memory.peakBytes': 40 * MiB } },
    { label: 'full-ft', approach: 'full-ft', metrics: { 'quality.accuracy': spread(0.82, 0.01), 'memory.peakBytes': 200 * MiB } },
    { label: 'lora', approach: 'lora', metrics: { 'quality.accuracy': spread(0.90, 0.01), 'memory.peakBytes': 120 * MiB } },
    { label: 'rag', approach: 'rag', metrics: { 'quality.accuracy': spread(0.70, 0.01), 'memory.peakBytes': 130 * MiB } },
  ];
  return rows.map((r) => ({ ...r, suite, metrics: { ...r.metrics, 'quality.majorityClassRate': 0.6, ...over[r.label] } }));
}

const PAIR = ['task-adapt', SUITE];
const pairClaim = (rows: readonly Row[], suites: readonly string[] = PAIR) =>
  evaluateLedger(suites, groupsOf(rows)).filter((c) => c.id === 'ft-task-rag-knowledge');

test('each suite ranks on its own headline: accuracy on a choice suite, exact match on a generate one', () => {
  const groups = groupsOf([...run(), ...taskRun()]);
  const task = recommend('task-adapt', groups);
  // lora 0.9 [0.875, 0.925] is separated from full-ft 0.82 [0.795, 0.845] and rag 0.7.
  assert.ok(task.state === 'chosen');
  assert.deepEqual([task.headline.id, task.choice, task.reason], ['quality.accuracy', 'lora', 'separated-best']);
  assert.match(task.rule, /take the one with the highest mean accuracy \(the suite's headline metric\)/);
  const knowledge = recommend(SUITE, groups);
  assert.ok(knowledge.state === 'chosen' && knowledge.headline.id === 'quality.exactMatch' && knowledge.choice === 'rag');

  const q = buildCharts(PAIR, groups).find((v) => v.kind === 'quality-memory' && v.suite === 'task-adapt')!;
  assert.ok(q.state === 'drawn');
  assert.deepEqual(q.notes, ['Pareto front (dashed): base → lora.']);
  const y = (q.config.options?.scales?.['y'] as { title: { text: string } }).title.text;
  assert.equal(y, 'Accuracy, higher is better');

  // Per-suite claims run on every suite, each on its headline; rag-new-knowledge on the knowledge suite only.
  const ledger = evaluateLedger(PAIR, groups);
  const comparable = ledger.filter((c) => c.id === 'lora-comparable');
  assert.deepEqual(comparable.map((c) => [c.suite, c.verdict]), [['task-adapt', 'held'], [SUITE, 'not-separable']]);
  assert.match(comparable[0]!.finding, /^lora 0\.9 ± 0\.0248 vs full-ft 0\.82 ± 0\.0248: LoRA's low end/);
  assert.deepEqual(ledger.filter((c) => c.id === 'rag-new-knowledge').map((c) => [c.suite, c.verdict]), [[SUITE, 'held']]);
});

test('claim "fine-tuning for tasks, RAG for knowledge": held, not held either way, not separable, and not measured naming the missing suite', () => {
  const held = pairClaim([...taskRun(), ...run()]);
  assert.equal(held.length, 1);
  assert.deepEqual([held[0]!.verdict, held[0]!.suite], ['held', 'task-adapt + knowledge-qa']);
  assert.equal(held[0]!.finding, 'task-adapt (accuracy): best fine-tuning lora 0.9 ± 0.0248 vs rag 0.7 ± 0.0248 (majority-class rate 0.6): '
    + 'fine-tuning separably better. knowledge-qa (exact match): best fine-tuning full-ft 0.3 ± 0.0248 vs rag 0.6 ± 0.0248: rag separably better.');
  assert.deepEqual(held[0]!.evidence.map((e) => `${e.suite}/${e.row}/${e.metric}`),
    ['task-adapt/lora/quality.accuracy', 'task-adapt/rag/quality.accuracy', 'knowledge-qa/full-ft/quality.exactMatch', 'knowledge-qa/rag/quality.exactMatch']);

  // rag ahead on the task, or fine-tuning ahead on knowledge: either reversal is "not held".
  const taskReversed = pairClaim([...taskRun({ rag: { 'quality.accuracy': spread(0.97, 0.005) } }), ...run()])[0]!;
  assert.equal(taskReversed.verdict, 'not-held');
  assert.match(taskReversed.finding, /vs rag 0\.97 ± 0\.0124 \(majority-class rate 0\.6\): rag separably better\./);
  assert.equal(pairClaim([...taskRun(), ...run({ rag: { 'quality.exactMatch': spread(0.10, 0.01) } })])[0]!.verdict, 'not-held');
  // rag within reach of lora on the task: the task half cannot be told.
  const close = pairClaim([...taskRun({ rag: { 'quality.accuracy': spread(0.89, 0.01) } }), ...run()])[0]!;
  assert.equal(close.verdict, 'not-separable');
  assert.match(close.finding, /rag 0\.89 ± 0\.0248 \(majority-class rate 0\.6\): the intervals overlap\./);

  // Not measured only where a suite of the pair is missing, and it says which.
  assert.deepEqual(pairClaim(run(), [SUITE]).map((c) => [c.verdict, c.finding]), [['not-measured',
    'Not measured on this run: needs a task-adaptation suite (task-adapt, or any choice suite); this run has knowledge-qa.']]);
  assert.deepEqual(pairClaim(taskRun(), ['task-adapt']).map((c) => c.finding), [
    'Not measured on this run: needs a suite of facts the base never saw (knowledge-qa, fresh-facts, or a generate suite with documents); this run has task-adapt.']);
  // A pair without a rag row says what is missing.
  assert.match(pairClaim([...taskRun().filter((r) => r.approach !== 'rag'), ...run()])[0]!.finding, /no rag row in task-adapt/);
});

test('the pair is found by task type where no built-in suite is in the run, and the built-in one wins where it is', () => {
  // A user's choice suite and a user's generate suite with documents.
  const users = [...taskRun({}, 'my-tickets'), ...run().map((r) => ({ ...r, suite: 'my-docs' }))];
  const byType = pairClaim(users, ['my-tickets', 'my-docs'])[0]!;
  assert.deepEqual([byType.verdict, byType.suite], ['held', 'my-tickets + my-docs']);
  // my-tickets says the opposite (rag ahead), but task-adapt is in the run: it decides.
  const mixed = [...taskRun({ rag: { 'quality.accuracy': spread(0.97, 0.005) } }, 'my-tickets'), ...taskRun(), ...run()];
  const preferred = pairClaim(mixed, ['my-tickets', ...PAIR])[0]!;
  assert.deepEqual([preferred.verdict, preferred.suite], ['held', 'task-adapt + knowledge-qa']);
});

test('the page shows each suite\'s verdict on its headline, and a choice row at the majority-class rate learned nothing usable', () => {
  const page = (rows: readonly Row[]) => {
    const c = cells(rows);
    const manifest: RunManifest = {
      schemaVersion: RESULT_SCHEMA_VERSION, runId: 'pair', createdAt: '2026-01-01T00:00:00.000Z', command: 'bench run task-adapt knowledge-qa', gitCommit: null, gitDirty: null,
      packages: {}, node: 'v20', os: 'linux', cpu: { model: 'cpu', cores: 2 }, backend: null, seeds: [0, 1, 2], suites: PAIR,
      cells: c.map((x) => x.cell), configHash: 'x', config: {}, dataHashes: {},
    };
    return renderReport(buildReportContext({ dir: '/tmp/pair', manifest, cells: c, missing: [] }));
  };
  const html = page([...taskRun(), ...run()]);
  assert.match(html, /<b>Use case<\/b> \(task-adapt; choice task, ranked on accuracy\)/);
  assert.match(html, /<b>Recommended: lora<\/b>\. Best accuracy, separated from every other row: lora 0\.9 ± 0\.0248 against the next best, full-ft 0\.82 ± 0\.0248\./);
  assert.ok(html.includes('<p class="floor">Majority-class rate 0.6 (always answering the most frequent label). '
    + 'Not separably above it, so nothing usable learned: base 0.58 ± 0.0248.</p>'));
  assert.match(html, /<b>Recommended: rag<\/b>\. Best exact match/);
  // In the summary table the majority-class rate sits right after accuracy, the headline first.
  const table = html.slice(html.indexOf('<h3 id="suite-task-adapt">'), html.indexOf('<h3 id="suite-knowledge-qa">'));
  const heads = [...table.matchAll(/<th title="[^"]*">([^<↑↓]+)/g)].map((m) => m[1]!.trim());
  assert.deepEqual(heads.slice(0, 2), ['Accuracy', 'Majority-class rate']);
  assert.match(table, /0\.58 <span class="ci">± 0\.0248<\/span> <span class="tag ns">not separably above the majority-class rate<\/span>/);
  assert.ok(html.includes('<span class="v v-held">held</span> Fine-tuning (LoRA/full) for task adaptation, RAG for knowledge.'));

  // Every row at the majority-class rate: the base is recommended, and the page says nothing learned the task.
  const flat = page([...taskRun({ 'full-ft': { 'quality.accuracy': spread(0.6, 0.01) }, lora: { 'quality.accuracy': spread(0.6, 0.01) }, rag: { 'quality.accuracy': spread(0.6, 0.01) } }), ...run()]);
  assert.match(flat, /<b>Recommended: base<\/b> \(no adaptation\)/);
  // One row only: nothing was compared, and the page says so rather than "separated from every other row".
  assert.ok(page([...taskRun().filter((r) => r.approach === 'base'), ...run()])
    .includes('<b>Recommended: base</b> (no adaptation). It is the only row that reports accuracy, so nothing was compared: base 0.58 ± 0.0248.</p>'));
  assert.match(flat, /so nothing usable learned: base 0\.58 ± 0\.0248, full-ft 0\.6 ± 0\.0248, lora 0\.6 ± 0\.0248, rag 0\.6 ± 0\.0248\. That includes the recommended base: no approach on this run does the task usably\.<\/p>/);
});

/**
 * fresh-facts after the update: new-fact accuracy, stale rate and update time per row. 'lora-updateretrain'
 * (from --approach lora:update=retrain) is lora retrained from the base on every document (the slow, thorough update).
 */
function freshRun(over: Record<string, Partial<Record<MetricId, Values>>> = {}): Row[] {
  const rows: Row[] = [
    { label: 'base', approach: 'base', metrics: { 'fresh.newFactAccuracy': 0, 'fresh.staleRate': spread(0.3, 0.01) } },
    { label: 'full-ft', approach: 'full-ft', metrics: { 'fresh.newFactAccuracy': spread(0.30, 0.01), 'fresh.staleRate': spread(0.40, 0.01), 'update.wallSec': spread(60, 2) } },
    { label: 'lora', approach: 'lora', metrics: { 'fresh.newFactAccuracy': spread(0.20, 0.01), 'fresh.staleRate': spread(0.50, 0.01), 'update.wallSec': spread(40, 2) } },
    { label: 'lora-updateretrain', approach: 'lora', metrics: { 'fresh.newFactAccuracy': spread(0.35, 0.01), 'fresh.staleRate': spread(0.10, 0.01), 'update.wallSec': spread(200, 5) } },
    { label: 'rag', approach: 'rag', metrics: { 'fresh.newFactAccuracy': spread(0.70, 0.01), 'fresh.staleRate': spread(0.05, 0.01), 'update.wallSec': spread(2, 0.2), 'fresh.unchangedAccuracy': spread(0.6, 0.01) } },
    { label: 'lora-rag', approach: 'lora-rag', metrics: { 'fresh.newFactAccuracy': spread(0.65, 0.01), 'fresh.staleRate': spread(0.06, 0.01), 'update.wallSec': spread(3, 0.2) } },
  ];
  return rows.map((r) => ({ ...r, suite: 'fresh-facts', metrics: { ...r.metrics, ...over[r.label] } }));
}

const freshClaim = (rows: readonly Row[], suites: readonly string[] = ['fresh-facts']) => {
  const r = evaluateLedger(suites, groupsOf(rows)).filter((c) => c.id === 'rag-fresh-facts');
  assert.equal(r.length, 1);
  return r[0]!;
};

test('claim "re-index, do not retrain": held, not held, not separable, and not measured, with or without the retrain rows', () => {
  // rag 0.7 ± 0.0248 new facts in 2 s against the best fine-tuning row, lora retrained from the base: 0.35 ± 0.0248 in 200 s.
  const held = freshClaim(freshRun());
  assert.deepEqual([held.verdict, held.suite], ['held', 'fresh-facts']);
  assert.equal(held.finding, 'changed facts: new answer rag 0.7 ± 0.0248 vs lora-updateretrain 0.35 ± 0.0248; '
    + 'changed facts: stale answer rag 0.05 ± 0.0248 vs lora-updateretrain 0.1 ± 0.0248; '
    + 'update time rag 2 s ± 0.2 vs lora-updateretrain 200 s ± 5: re-indexing gets more new facts right, in less time.');
  assert.deepEqual(held.evidence.map((e) => `${e.row}/${e.metric}`), ['rag/fresh.newFactAccuracy', 'lora-updateretrain/fresh.newFactAccuracy',
    'rag/fresh.staleRate', 'lora-updateretrain/fresh.staleRate', 'rag/update.wallSec', 'lora-updateretrain/update.wallSec', 'rag/fresh.unchangedAccuracy']);
  // Update time is a timing: the median over seeds with its bootstrap interval, [min, max] with 3 seeds.
  assert.deepEqual(held.evidence[4]!.summary.interval && [held.evidence[4]!.summary.interval.low, held.evidence[4]!.summary.interval.high], [1.8, 2.2]);

  // Without the retrain rows (not run), full-ft is the best fine-tuning row.
  const noRetrain = freshClaim(freshRun().filter((r) => !r.label.includes('retrain')));
  assert.equal(noRetrain.verdict, 'held');
  assert.match(noRetrain.finding, /^changed facts: new answer rag 0\.7 ± 0\.0248 vs full-ft 0\.3 ± 0\.0248;/);

  // Fine-tuning separably better on new facts: not held.
  const behind = freshClaim(freshRun({ rag: { 'fresh.newFactAccuracy': spread(0.2, 0.01) }, 'lora-rag': { 'fresh.newFactAccuracy': spread(0.1, 0.01) } }));
  assert.deepEqual([behind.verdict, behind.finding.split(': ').at(-1)], ['not-held', 'fine-tuning gets separably more new facts right.']);
  // Re-indexing slower than retraining: not held, whatever the accuracy.
  assert.equal(freshClaim(freshRun({ rag: { 'update.wallSec': spread(300, 5) } })).verdict, 'not-held');
  // Accuracy within reach of the retrained row: not separable, though re-indexing is faster.
  const close = freshClaim(freshRun({ rag: { 'fresh.newFactAccuracy': spread(0.36, 0.01) }, 'lora-rag': { 'fresh.newFactAccuracy': spread(0.3, 0.01) } }));
  assert.deepEqual([close.verdict, close.finding.split(': ').at(-1)], ['not-separable', 'the new-fact accuracy intervals do not separate, and re-indexing is separably faster.']);

  // Not measured: without the suite, without a retrieval row, without an update time.
  assert.equal(freshClaim(run(), [SUITE]).finding, 'Not measured on this run: needs the fresh-facts suite (facts that change after adaptation), not in this run.');
  assert.equal(freshClaim(freshRun().filter((r) => !r.approach.includes('rag'))).finding, 'Not measured on this run: no rag or lora-rag row reports Changed facts: new answer in fresh-facts.');
  const untimed = freshRun().map((r) => (r.label === 'rag' ? { ...r, metrics: { ...r.metrics, 'update.wallSec': undefined } } : r)) as Row[];
  assert.equal(freshClaim(untimed.map((r) => ({ ...r, metrics: Object.fromEntries(Object.entries(r.metrics).filter(([, v]) => v !== undefined)) }))).finding,
    'Not measured on this run: the rag row reports no Update time.');
});

test('claim "top-k cannot answer over the whole corpus" on a corpus-wide suite ranked on exact match, with evidence coverage', () => {
  const wide = (em: Values): Row[] => [...run(), { label: 'rag', approach: 'rag', suite: 'corpus-wide', metrics: { 'quality.exactMatch': em, 'retrieval.evidenceCoverage': spread(0.12, 0.01) } }];
  const held = evaluateLedger([SUITE, 'corpus-wide'], groupsOf(wide(spread(0.02, 0.01)))).find((c) => c.id === 'topk-corpus-wide')!;
  assert.deepEqual([held.verdict, held.suite], ['held', 'corpus-wide']);
  assert.equal(held.finding, 'rag on corpus-wide 0.02 ± 0.0248 vs on knowledge-qa 0.6 ± 0.0248: separably lower. '
    + 'Evidence coverage on corpus-wide: 0.12 ± 0.0248 of the documents an answer needs reached the prompt.');
  assert.deepEqual(held.evidence.map((e) => `${e.suite}/${e.metric}`), ['corpus-wide/quality.exactMatch', 'knowledge-qa/quality.exactMatch', 'corpus-wide/retrieval.evidenceCoverage']);
  assert.equal(evaluateLedger([SUITE, 'corpus-wide'], groupsOf(wide(spread(0.59, 0.01)))).find((c) => c.id === 'topk-corpus-wide')!.verdict, 'not-separable');
  assert.equal(evaluateLedger([SUITE, 'corpus-wide'], groupsOf(wide(spread(0.9, 0.01)))).find((c) => c.id === 'topk-corpus-wide')!.verdict, 'not-held');
});

test('after the four suites every claim but the two `bench cost` ones is decided; none is "not measured"', () => {
  const all = [...taskRun(), ...run(), ...freshRun(),
    { label: 'rag', approach: 'rag', suite: 'corpus-wide', metrics: { 'quality.exactMatch': spread(0.02, 0.01) } },
    ...run({ lora: { 'latency.tokenRatioToBase': spread(1.0, 0.01) } }).filter((r) => r.label === 'lora').map((r) => ({ ...r, suite: 'task-adapt', label: 'lora' }))];
  const ledger = evaluateLedger(['knowledge-qa', 'task-adapt', 'fresh-facts', 'corpus-wide'], groupsOf(all));
  const unmeasured = [...new Set(ledger.filter((c) => c.verdict === 'not-measured').map((c) => c.id))];
  // The latency claim needs a measured latency: the crafted knowledge-qa lora row has none, the task-adapt one does.
  assert.deepEqual(unmeasured, ['lora-less-memory-at-size', 'quantized-fourfold-at-size']);
});

test('decision map: one row per suite, one column per row label, headline with interval, costs by phase, recommendation, claims', () => {
  const rows = [...taskRun(), ...run({
    lora: { 'memory.trainPeakBytes': 120 * MiB, 'memory.servePeakBytes': 30 * MiB, 'train.wallSec': spread(100, 10), 'latency.requestP50Ms': spread(40, 2) },
    rag: { 'memory.servePeakBytes': 35 * MiB, 'latency.tokenP50Ms': spread(4, 0.5) },
  })];
  const c = cells(rows);
  const manifest: RunManifest = {
    schemaVersion: RESULT_SCHEMA_VERSION, runId: 'pair', createdAt: '2026-01-01T00:00:00.000Z', command: 'bench run task-adapt knowledge-qa', gitCommit: null, gitDirty: null,
    packages: {}, node: 'v20', os: 'linux', cpu: { model: 'cpu', cores: 2 }, backend: null, seeds: [0, 1, 2], suites: PAIR,
    cells: c.map((x) => x.cell), configHash: 'x', config: {}, dataHashes: {},
  };
  const ctx = buildReportContext({ dir: '/tmp/pair', manifest, cells: c, missing: [] });
  const map = decisionMap(ctx);
  assert.deepEqual(map.columns, ['base', 'full-ft', 'lora', 'rag', 'qlora']);
  assert.deepEqual(map.rows.map((r) => [r.suite.name, r.recommendation?.state === 'chosen' && r.recommendation.choice]), [['task-adapt', 'lora'], [SUITE, 'rag']]);
  assert.equal(map.rows[0]!.cells[4], null, 'no qlora row in task-adapt');
  const lora = map.rows[1]!.cells[2]!;
  assert.deepEqual([lora.headline?.id, lora.trainMemory?.summary.mean, lora.serveMemory?.summary.mean, lora.heaviestMemory, lora.latency?.id, lora.updateSec],
    ['quality.exactMatch', 120 * MiB, 30 * MiB, null, 'latency.requestP50Ms', null]);
  // Training time is a timing: median 100 s, bootstrap interval [90, 110].
  assert.deepEqual([lora.trainSec?.summary.point, lora.trainSec?.summary.interval?.low, lora.trainSec?.summary.interval?.high], [100, 90, 110]);
  // Rows with no per-phase figure (these crafted results, like older runs) fall back to the heaviest phase, and the map says so.
  assert.equal(map.rows[1]!.cells[0]!.heaviestMemory?.summary.mean, 40 * MiB);
  assert.equal(map.usesHeaviest, true);
  assert.deepEqual(map.rows[0]!.claims.map((r) => [r.id, r.verdict]).filter(([id]) => id === 'ft-task-rag-knowledge' || id === 'lora-comparable'),
    [['lora-comparable', 'held'], ['ft-task-rag-knowledge', 'held']]);

  const html = renderReport(ctx);
  assert.ok(html.indexOf('<section id="decision-map">') < html.indexOf('<section id="verdict">'), 'the map comes first');
  const section = html.slice(html.indexOf('<section id="decision-map">'), html.indexOf('<section id="verdict">'));
  assert.ok(section.includes('<thead><tr><th>Use case</th><th>base</th><th>full-ft</th><th>lora</th><th>rag</th><th>qlora</th><th>Recommended</th><th>Claims</th></tr></thead>'));
  assert.ok(section.includes('<td class="dm-cell best"><b>0.6 ± 0.0248</b> <span class="tag">recommended</span><ul class="costs"><li>serve mem 35 MiB</li><li>token p50 4 ms ± 0.5</li></ul></td>'));
  assert.ok(section.includes('<li>train mem 120 MiB</li><li>serve mem 30 MiB</li><li>train 100 s ± 10</li><li>request p50 40 ms ± 2</li>'));
  assert.match(section, /<td><b>lora \(separably best\)<\/b><\/td>/);
  assert.match(section, /<span class="v v-held" title="held">confirms<\/span> <span title="[^"]*">Fine-tuning \(LoRA\/full\) for task adaptation, RAG for knowledge\.<\/span>/);
  assert.match(section, /peak mem\*: these results predate peak memory by phase/);
  assert.match(section, /Rule for the recommendation, each suite on its own headline metric \(as for task-adapt\): Among the rows, take the one with the highest mean accuracy/);

  const csv = decisionCsv(map).trimEnd().split('\n');
  assert.equal(csv[0], 'suite,approach,label,recommended,headlineMetric,headline,headline.ci95Low,headline.ci95High,'
    + 'memory.trainPeakBytes,memory.trainPeakBytes.ci95Low,memory.trainPeakBytes.ci95High,memory.servePeakBytes,memory.servePeakBytes.ci95Low,memory.servePeakBytes.ci95High,'
    + 'memory.peakBytes,memory.peakBytes.ci95Low,memory.peakBytes.ci95High,train.wallSec,train.wallSec.ci95Low,train.wallSec.ci95High,'
    + 'update.wallSec,update.wallSec.ci95Low,update.wallSec.ci95High,latency.requestP50Ms,latency.requestP50Ms.ci95Low,latency.requestP50Ms.ci95High,'
    + 'latency.tokenP50Ms,latency.tokenP50Ms.ci95Low,latency.tokenP50Ms.ci95High,claimsConfirmed,claimsContradicted,claimsNotSeparable');
  assert.equal(csv.length, 1 + 4 + 5, 'one line per (suite, row)');
  const loraLine = csv.find((l) => l.startsWith('knowledge-qa,lora,lora,'))!;
  assert.match(loraLine, /^knowledge-qa,lora,lora,false,quality\.exactMatch,0\.28,0\.255\d*,0\.304\d*,125829120,125829120,125829120,31457280,31457280,31457280,,,,100,90,110,,,,40,38,42,,,,/);

  const md = decisionMarkdown(map);
  assert.ok(md.startsWith('## Decision map\n\n| Use case | base | full-ft | lora | rag | qlora | Recommended | Claims |\n|---|---|---|---|---|---|---|---|\n'));
  assert.match(md, /\n\| knowledge-qa \(exact match\) \| [^\n]* \| ✅ 0\.6 ± 0\.0248 · serve mem 35 MiB · token p50 4 ms ± 0\.5 \| [^|]+ \| rag \(separably best\) \| [^\n]*confirms: RAG handles new knowledge without retraining\./);
  assert.ok(!/<(?!\/?(details|summary)\b)/.test(md.replace(/&lt;/g, '')), 'raw HTML in the markdown');
  for (const line of md.split('\n').filter((l) => l.startsWith('| task-adapt') || l.startsWith('| knowledge-qa'))) {
    assert.equal(line.split(' | ').length, 1 + 5 + 2, `a row with a broken column: ${line}`);
  }
});
