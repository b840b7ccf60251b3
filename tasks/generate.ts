// generate: a short answer generated greedily (KV-cached, stopped at a newline or end of text) and
// scored against one or more gold answers: exact match after the suite's normalisation, and SQuAD's
// token F1, each the best over the gold answers.
import { generateGreedy } from '../harness/engine/evaluate.js';
import { tokenF1 } from '../harness/metrics/quality.js';
import { meanInterval, wilsonInterval } from '../harness/metrics/stats.js';
import type { Example } from '../datasets/examples.js';
import type { FieldProblem, TaskSpec, TaskType } from './types.js';

/** Normalisations, applied in this order whatever order suite.json lists them in. */
export const NORMALIZATIONS = ['case', 'punctuation', 'articles', 'whitespace'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

/** New tokens generated per answer by default (the longest knowledge-qa answers need ~20). */
export const DEFAULT_MAX_NEW_TOKENS = 24;
/** Prompts generated together: part of the decoding settings recorded in every result. */
export const GENERATE_BATCH_SIZE = 32;

interface GenerateSpec {
  readonly type: 'generate';
  readonly normalize: readonly Normalization[];
  readonly maxNewTokens: number;
}

const specOf = (spec: TaskSpec): GenerateSpec => spec as unknown as GenerateSpec;

/** `text` under the listed normalisations. */
export function normalizeAnswer(text: string, normalize: readonly Normalization[]): string {
  let s = text;
  if (normalize.includes('case')) s = s.toLowerCase();
  if (normalize.includes('punctuation')) s = s.replace(/[\p{P}\p{S}]/gu, ' ');
  if (normalize.includes('articles')) s = s.replace(/\b(a|an|the)\b/giu, ' ');
  if (normalize.includes('whitespace')) s = s.trim().replace(/\s+/g, ' ');
  return s;
}

/**
 * The answer in generated text: up to the first newline, trimmed, and without what the target
 * template puts after `{answer}` on its line (" {answer}.\n" -> a trailing "." is removed once).
 */
export function extractAnswer(generated: string, targetTemplate: string): string {
  const after = targetTemplate.slice(targetTemplate.indexOf('{answer}') + '{answer}'.length);
  const suffix = after.split('\n')[0]!.trim();
  const nl = generated.indexOf('\n');
  const line = (nl === -1 ? generated : generated.slice(0, nl)).trim();
  return (suffix !== '' && line.endsWith(suffix) ? line.slice(0, -suffix.length) : line).trim();
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

export const generate: TaskType = Object.freeze<TaskType>({
  name: 'generate',
  description: 'A short answer generated greedily, scored against gold answers: exact match after the suite\'s normalisation, token F1.',
  metrics: Object.freeze([
    { id: 'quality.exactMatch', higherIsBetter: true },
    { id: 'quality.tokenF1', higherIsBetter: true },
  ] as const),
  goldKeys: Object.freeze(['answer', 'answers']),
  targetField: 'answer',
  demonstrations: false,
  stratifyBy: null,
  parseSpec(raw) {
    const problems: FieldProblem[] = [];
    const normalize = raw['normalize'] ?? ['whitespace'];
    if (!isStringList(normalize) || normalize.some((n) => !(NORMALIZATIONS as readonly string[]).includes(n))) {
      problems.push({ field: 'task.normalize', message: `must be a list of ${NORMALIZATIONS.join(', ')} (got ${JSON.stringify(normalize)})`, fix: 'e.g. "normalize": ["whitespace", "case"]' });
    }
    const maxNewTokens = raw['maxNewTokens'] ?? DEFAULT_MAX_NEW_TOKENS;
    if (!(Number.isInteger(maxNewTokens) && (maxNewTokens as number) >= 1 && (maxNewTokens as number) <= 256)) {
      problems.push({ field: 'task.maxNewTokens', message: `must be an integer from 1 to 256 (got ${JSON.stringify(maxNewTokens)})`, fix: `leave it out for ${DEFAULT_MAX_NEW_TOKENS}` });
    }
    for (const k of Object.keys(raw)) {
      if (!['type', 'normalize', 'maxNewTokens'].includes(k)) problems.push({ field: `task.${k}`, message: 'is not a generate option', fix: 'generate takes normalize and maxNewTokens' });
    }
    return { spec: { type: 'generate', normalize: isStringList(normalize) ? normalize : ['whitespace'], maxNewTokens }, problems };
  },
  parseGold(raw) {
    const problems: FieldProblem[] = [];
    const has = (k: string): boolean => raw[k] !== undefined;
    if (has('label')) problems.push({ field: 'label', message: 'a generate suite has answers, not labels', fix: 'use "answer" (or "answers"), or make the suite a choice task' });
    if (has('answer') && has('answers')) return { problems: [...problems, { field: 'answers', message: 'both "answer" and "answers" given', fix: 'keep one: "answers": ["a", "b"] holds several' }] };
    const answers = has('answers') ? raw['answers'] : has('answer') ? [raw['answer']] : undefined;
    const key = has('answers') ? 'answers' : 'answer';
    if (answers === undefined) return { problems: [...problems, { field: 'answer', message: 'missing', fix: 'add "answer": "<gold answer>" (or "answers": [...])' }] };
    if (!isStringList(answers) || answers.length === 0 || answers.some((a) => a.trim() === '')) {
      return { problems: [...problems, { field: key, message: `must be ${key === 'answer' ? 'a non-empty string' : 'a non-empty list of non-empty strings'} (got ${JSON.stringify(raw[key]).slice(0, 80)})`, fix: 'give the gold answer as text' }] };
    }
    return { answers, problems };
  },
  target(ex: Example, targetTemplate: string): string {
    return targetTemplate.replaceAll('{answer}', () => ex.answers![0]!);
  },
  answerRoom(spec) {
    return specOf(spec).maxNewTokens;
  },
  evaluate({ model, tokenizer, spec, targetTemplate, examples, prompts, questions, progress }) {
    const { normalize, maxNewTokens } = specOf(spec);
    const newline = tokenizer.encode('\n');
    const stopIds = [tokenizer.eotId, ...(newline.length === 1 ? newline : [])];
    const t0 = performance.now();
    const out = generateGreedy(model, prompts.map((p) => tokenizer.encode(p)), { maxNewTokens, stopIds, batchSize: GENERATE_BATCH_SIZE, ...(progress ? { onProgress: progress } : {}) });
    const seconds = (performance.now() - t0) / 1000;
    const predictions = out.map((ids) => extractAnswer(tokenizer.decode(ids.filter((t) => t !== tokenizer.eotId)), targetTemplate));
    const golds = examples.map((ex) => ex.answers ?? []);
    const correct = predictions.map((p, i) => golds[i]!.some((g) => generate.matches(p, g, spec)));
    const f1s = predictions.map((p, i) => Math.max(...golds[i]!.map((g) => tokenF1(p, g))));
    const n = examples.length;
    const hits = correct.filter(Boolean).length;
    const f1 = meanInterval(f1s);
    const generated = out.reduce((s, ids) => s + ids.length, 0);
    return {
      metrics: {
        'quality.exactMatch': hits / n,
        'quality.tokenF1': f1s.reduce((a, b) => a + b, 0) / n,
        'eval.generatedTokensPerSec': generated / seconds,
      },
      intervals: {
        'quality.exactMatch': { ...wilsonInterval(hits, n), method: 'Wilson score, 95%, over questions' },
        ...(f1 ? { 'quality.tokenF1': { low: f1.low, high: f1.high, method: 'Student t, 95%, over questions' } } : {}),
      },
      notes: {},
      samples: examples.slice(0, 5).map((ex, i) => ({ question: questions[i]!, gold: golds[i]!.join(' | '), predicted: predictions[i]!, correct: correct[i]! })),
      predictions,
      confusion: null,
      settings: { strategy: 'greedy', maxNewTokens, stopAt: ['newline', 'end-of-text'], batchSize: GENERATE_BATCH_SIZE, normalize },
    };
  },
  matches(prediction, answer, spec) {
    const { normalize } = specOf(spec);
    return normalizeAnswer(prediction, normalize) === normalizeAnswer(answer, normalize);
  },
});
