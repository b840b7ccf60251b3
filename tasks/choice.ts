// choice: classification or multiple choice. The model is not asked to write the label: each
// label's continuation is scored by its log-likelihood after the prompt and the highest wins, as
// lm-evaluation-harness scores multiple_choice, so a small model is judged on what it prefers.
import { createRng } from '../datasets/rng.js';
import type { Example } from '../datasets/examples.js';
import { continuationLogLikelihoods } from '../harness/engine/evaluate.js';
import { quantileSorted, wilsonInterval } from '../harness/metrics/stats.js';
import type { ConfusionMatrix, FieldProblem, TaskSpec, TaskType } from './types.js';

/** Resamples of the bootstrap interval of macro-F1. */
export const BOOTSTRAP_RESAMPLES = 1000;
/** Sequences (prompt + one label's continuation) scored together. */
export const CHOICE_BATCH_SIZE = 16;

interface ChoiceSpec {
  readonly type: 'choice';
  readonly labels: readonly string[];
}

const specOf = (spec: TaskSpec): ChoiceSpec => spec as unknown as ChoiceSpec;

/** The continuation for `label` after a prompt: the target template with `{label}` filled in. */
export function labelContinuation(targetTemplate: string, label: string): string {
  return targetTemplate.replaceAll('{label}', () => label);
}

/** Counts of gold (rows) against predicted (columns) labels. */
export function confusionMatrix(labels: readonly string[], gold: readonly string[], predicted: readonly string[]): ConfusionMatrix {
  const at = new Map(labels.map((l, i) => [l, i]));
  const counts = labels.map(() => labels.map(() => 0));
  gold.forEach((g, i) => { counts[at.get(g)!]![at.get(predicted[i]!)!]! += 1; });
  return { labels: [...labels], counts };
}

/**
 * Macro-F1 over every label of the label set: the unweighted mean of per-label F1, where a label
 * that is neither gold nor predicted anywhere counts F1 = 0 only if it is gold somewhere (else it
 * is left out, as scikit-learn does with labels absent from both).
 */
export function macroF1(m: ConfusionMatrix): number {
  const f1s: number[] = [];
  m.labels.forEach((_, k) => {
    const tp = m.counts[k]![k]!;
    const goldK = m.counts[k]!.reduce((a, b) => a + b, 0);
    const predK = m.counts.reduce((a, row) => a + row[k]!, 0);
    if (goldK === 0 && predK === 0) return;
    f1s.push(tp === 0 ? 0 : (2 * tp) / (goldK + predK));
  });
  return f1s.length ? f1s.reduce((a, b) => a + b, 0) / f1s.length : 0;
}

/** Percentile bootstrap 95% interval of macro-F1 over examples, seeded. */
export function macroF1Interval(labels: readonly string[], gold: readonly string[], predicted: readonly string[], seedKey: string): { low: number; high: number } {
  const rng = createRng(seedKey);
  const n = gold.length;
  const values: number[] = [];
  for (let b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
    const g: string[] = [], p: string[] = [];
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      g.push(gold[j]!);
      p.push(predicted[j]!);
    }
    values.push(macroF1(confusionMatrix(labels, g, p)));
  }
  values.sort((a, b) => a - b);
  return { low: quantileSorted(values, 0.025), high: quantileSorted(values, 0.975) };
}

export const choice: TaskType = Object.freeze<TaskType>({
  name: 'choice',
  description: 'Classification or multiple choice: the label whose continuation has the highest log-likelihood after the prompt; accuracy and macro-F1 with intervals, a confusion matrix.',
  metrics: Object.freeze([
    { id: 'quality.accuracy', higherIsBetter: true },
    { id: 'quality.macroF1', higherIsBetter: true },
  ] as const),
  goldKeys: Object.freeze(['label']),
  targetField: 'label',
  demonstrations: true,
  stratifyBy: 'label',
  parseSpec(raw) {
    const problems: FieldProblem[] = [];
    const labels = raw['labels'];
    const ok = Array.isArray(labels) && labels.length >= 2 && labels.every((l) => typeof l === 'string' && l.trim() !== '');
    if (!ok) {
      problems.push({ field: 'task.labels', message: `must list at least two non-empty labels (got ${JSON.stringify(labels)})`, fix: 'e.g. "labels": ["spam", "ham"]' });
    } else if (new Set(labels).size !== labels.length) {
      problems.push({ field: 'task.labels', message: `lists a label twice (${JSON.stringify(labels)})`, fix: 'list each label once' });
    }
    for (const k of Object.keys(raw)) {
      if (!['type', 'labels'].includes(k)) problems.push({ field: `task.${k}`, message: 'is not a choice option', fix: 'choice takes labels' });
    }
    return { spec: { type: 'choice', labels: ok ? [...(labels as string[])] : [] }, problems };
  },
  parseGold(raw, spec) {
    const labels = specOf(spec).labels;
    for (const k of ['answer', 'answers']) {
      if (raw[k] !== undefined) return { problems: [{ field: k, message: 'a choice suite has labels, not answers', fix: `use "label": one of ${JSON.stringify(labels)}` }] };
    }
    const label = raw['label'];
    if (label === undefined) return { problems: [{ field: 'label', message: 'missing', fix: `add "label": one of ${JSON.stringify(labels)}` }] };
    if (typeof label !== 'string') return { problems: [{ field: 'label', message: `must be a string (got ${JSON.stringify(label)})`, fix: `use one of ${JSON.stringify(labels)}` }] };
    if (labels.length && !labels.includes(label)) {
      return { problems: [{ field: 'label', message: `"${label}" is not in the suite's label set ${JSON.stringify(labels)}`, fix: 'correct the label, or add it to task.labels in suite.json' }] };
    }
    return { label, problems: [] };
  },
  target(ex: Example, targetTemplate: string): string {
    return labelContinuation(targetTemplate, ex.label!);
  },
  answerRoom(spec, targetTemplate, tokenizer) {
    return Math.max(...specOf(spec).labels.map((l) => tokenizer.encode(labelContinuation(targetTemplate, l)).length));
  },
  evaluate({ model, tokenizer, spec, targetTemplate, examples, prompts, questions, seedKey, progress }) {
    const { labels } = specOf(spec);
    const continuations = labels.map((l) => tokenizer.encode(labelContinuation(targetTemplate, l)));
    const encoded = prompts.map((p) => tokenizer.encode(p));
    const pairs = encoded.flatMap((prompt) => continuations.map((continuation) => ({ prompt, continuation })));
    const ll = continuationLogLikelihoods(model, pairs, CHOICE_BATCH_SIZE, progress && ((done) => progress(Math.floor(done / labels.length), examples.length)));
    const predicted = examples.map((_, i) => {
      let best = 0;
      for (let k = 1; k < labels.length; k++) if (ll[i * labels.length + k]! > ll[i * labels.length + best]!) best = k;
      return labels[best]!;
    });
    const gold = examples.map((ex) => ex.label!);
    const n = examples.length;
    const hits = predicted.filter((p, i) => p === gold[i]).length;
    const confusion = confusionMatrix(labels, gold, predicted);
    const f1 = macroF1(confusion);
    const goldCounts = labels.map((_, k) => confusion.counts[k]!.reduce((a, b) => a + b, 0));
    const majority = Math.max(...goldCounts);
    return {
      metrics: {
        'quality.accuracy': hits / n,
        'quality.macroF1': f1,
        'quality.majorityClassRate': majority / n,
      },
      intervals: {
        'quality.accuracy': { ...wilsonInterval(hits, n), method: 'Wilson score, 95%, over test examples' },
        'quality.macroF1': { ...macroF1Interval(labels, gold, predicted, `${seedKey}:macro-f1`), method: `percentile bootstrap, 95%, ${BOOTSTRAP_RESAMPLES} resamples of the test examples, seeded` },
      },
      notes: {
        'quality.majorityClassRate': `always answering "${labels[goldCounts.indexOf(majority)]}" would score this accuracy on these ${n} test examples`,
      },
      samples: examples.slice(0, 5).map((ex, i) => ({ question: questions[i]!, gold: gold[i]!, predicted: predicted[i]!, correct: predicted[i] === gold[i] })),
      predictions: predicted,
      confusion,
      settings: { strategy: 'highest log-likelihood label', score: 'sum of the log-probabilities of the label continuation\'s tokens', continuations: labels.map((l) => labelContinuation(targetTemplate, l)), batchSize: CHOICE_BATCH_SIZE },
    };
  },
  matches: (prediction, answer) => prediction === answer,
});
