// Evidence coverage and the k sweep. How much of what an answer needs reaches the model's context
// is a property of retrieval and fitting alone, so it is measured for every cell the same way: a
// closed-book prompt holds no document; a retrieving approach's prompts hold the passages that
// survived fitting. Where the suite sets kSweep, retrieving approaches also answer the test set at
// k = 1, 3, 10 and as many as fit, scored by the cell's own quality stage: the limit of top-k
// retrieval as a curve, whose coverage is deterministic even where a small model answers poorly.
import type { ApproachOutcome, PromptsAtK, SweepK } from '../adapters/types.js';
import type { Example, Suite } from '../suites/types.js';
import type { TaskEvaluation } from '../tasks/types.js';
import type { Interval, MetricId } from './metrics/definitions.js';

/** The k of the sweep, each with its metric ids. */
export const SWEEP = Object.freeze([
  { k: 1, coverage: 'sweep.coverageAtK1', headline: 'sweep.headlineAtK1' },
  { k: 3, coverage: 'sweep.coverageAtK3', headline: 'sweep.headlineAtK3' },
  { k: 10, coverage: 'sweep.coverageAtK10', headline: 'sweep.headlineAtK10' },
  { k: 'fit', coverage: 'sweep.coverageAtFit', headline: 'sweep.headlineAtFit' },
] as const satisfies ReadonlyArray<{ k: SweepK; coverage: MetricId; headline: MetricId }>);

const SWEEP_IDS: readonly MetricId[] = [...SWEEP.flatMap((s) => [s.coverage, s.headline]), 'sweep.kFit'];

export interface EvidenceInput {
  readonly suite: Suite;
  readonly approach: string;
  readonly outcome: ApproachOutcome;
  /** The test examples the cell evaluated, in order. */
  readonly examples: readonly Example[];
  /** The cell's own quality: the headline at the approach's k, not answered again. */
  readonly quality: TaskEvaluation;
  /** The cell's quality stage: answers and scores the prompts `outcome` makes. */
  answer(outcome: ApproachOutcome): Promise<TaskEvaluation>;
  readonly log: (line: string) => void;
}

export interface EvidenceResult {
  readonly metrics: Partial<Record<MetricId, number | null>>;
  readonly notes: Partial<Record<MetricId, string>>;
  readonly intervals: Partial<Record<MetricId, Interval>>;
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** Mean of the examples' coverage, leaving out those that name no document; null when none does. */
export function meanCoverage(at: PromptsAtK): number | null {
  const known = at.coverage.filter((c): c is number => c !== null);
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** retrieval.evidenceCoverage for any cell, and the sweep.* metrics (null with the reason where there is no sweep). */
export async function measureEvidence(input: EvidenceInput): Promise<EvidenceResult> {
  const { suite, approach, outcome, examples, quality } = input;
  const n = examples.length;
  const judged = examples.filter((ex) => ex.docIds.length > 0).length;
  const retrieval = outcome.retrieval;
  const metrics: Partial<Record<MetricId, number | null>> = {};
  const notes: Partial<Record<MetricId, string>> = {};
  const intervals: Partial<Record<MetricId, Interval>> = {};
  const over = `over the ${judged} of ${n} evaluated test questions that name the documents their answer needs (docIds)`;

  if (judged === 0) {
    metrics['retrieval.evidenceCoverage'] = null;
    notes['retrieval.evidenceCoverage'] = `not measurable: no evaluated test question of suite ${suite.name} names the documents its answer needs (docIds)`;
  } else if (!retrieval) {
    metrics['retrieval.evidenceCoverage'] = 0;
    notes['retrieval.evidenceCoverage'] = 'closed-book: no document reaches the context';
  } else {
    metrics['retrieval.evidenceCoverage'] = meanCoverage(retrieval.promptsAtK(examples, retrieval.k));
    notes['retrieval.evidenceCoverage'] = `k = ${retrieval.k}, the cell's own prompts; ${over}; a passage cut to fit counts; deterministic (retrieval and fitting, no answer)`;
  }

  if (!suite.kSweep || !retrieval) {
    const why = !suite.kSweep ? `suite ${suite.name} does not set kSweep` : `${approach} does not retrieve (closed-book): no k to sweep`;
    for (const id of SWEEP_IDS) {
      metrics[id] = null;
      notes[id] = why;
    }
    return { metrics, notes, intervals, inputs: {} };
  }

  const headline = suite.metrics[0]!.id;
  // Two k that give the same prompts (k = 10 and as many as fit, where 10 do not fit) are answered once.
  const answered = new Map<string, { k: SweepK; evaluation: TaskEvaluation }>();
  const perK: Array<{ k: SweepK; passagesPerPrompt: number; coverage: number | null; headline: number | null }> = [];
  for (const s of SWEEP) {
    const at = retrieval.promptsAtK(examples, s.k);
    const key = at.prompts.join('\u0000');
    const same = answered.get(key);
    let evaluation: TaskEvaluation;
    let source: string;
    if (s.k === retrieval.k) {
      evaluation = quality;
      source = 'the cell\'s own answers';
    } else if (same) {
      evaluation = same.evaluation;
      source = `the same prompts as k = ${same.k}, answered once`;
    } else {
      input.log(`k sweep: answering ${n} test questions at k = ${s.k}`);
      evaluation = await input.answer({ ...outcome, prompts: async () => [...at.prompts] });
      source = 'answered and scored by the cell\'s quality stage';
    }
    if (!same) answered.set(key, { k: s.k, evaluation });
    const passages = mean(at.passages);
    const coverage = meanCoverage(at);
    metrics[s.coverage] = coverage;
    metrics[s.headline] = evaluation.metrics[headline] ?? null;
    const interval = evaluation.intervals[headline];
    if (interval) intervals[s.headline] = interval;
    const asked = s.k === 'fit' ? 'as many passages as fit' : `${s.k} passage${s.k === 1 ? '' : 's'} asked for`;
    notes[s.coverage] = judged ? `${asked}, ${passages.toFixed(2)} per prompt after fitting; ${over}; deterministic (retrieval and fitting, no answer)` : notes['retrieval.evidenceCoverage']!;
    notes[s.headline] = `${headline} over ${n} test questions, ${asked}: ${source}`;
    if (s.k === 'fit') {
      metrics['sweep.kFit'] = passages;
      notes['sweep.kFit'] = `mean over ${n} test questions of the passages a prompt holds whole (a prompt where none does holds the best one, cut: 1)`;
    }
    perK.push({ k: s.k, passagesPerPrompt: passages, coverage, headline: metrics[s.headline] ?? null });
  }
  return { metrics, notes, intervals, inputs: { kSweep: { cellK: retrieval.k, headline, questions: n, judgedQuestions: judged, perK } } };
}
