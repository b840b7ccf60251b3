// Evaluation shared by pretraining (its learning curve) and every approach (quality and forgetting),
// so "before" and "after" are measured by exactly the same code.
import { exactMatch, extractAnswer, type EpisodeQa } from '../datasets/episodes.js';
import { generateGreedy } from './engine/evaluate.js';

export { BROWN_EVAL_MAX_TOKENS, brownCrossEntropy, documentTokens } from './engine/evaluate.js';
import type { GPT } from './engine/model.js';
import type { BpeTokenizer } from './engine/tokenizer.js';

/** New tokens generated per answer, at most (the longest answers need ~20). */
export const ANSWER_MAX_NEW_TOKENS = 24;

export interface AnswerRun {
  readonly predictions: string[];
  readonly generatedTokens: number;
  readonly seconds: number;
}

/** Greedy answers to prompts that end with an answer lead-in; stops at a newline or end of text. */
export function answerPrompts(model: GPT, tokenizer: BpeTokenizer, prompts: readonly string[], batchSize = 32): AnswerRun {
  const newline = tokenizer.encode('\n');
  const stopIds = [tokenizer.eotId, ...(newline.length === 1 ? newline : [])];
  const t0 = performance.now();
  const out = generateGreedy(model, prompts.map((p) => tokenizer.encode(p)), { maxNewTokens: ANSWER_MAX_NEW_TOKENS, stopIds, batchSize });
  const seconds = (performance.now() - t0) / 1000;
  return {
    predictions: out.map((ids) => extractAnswer(tokenizer.decode(ids.filter((t) => t !== tokenizer.eotId)))),
    generatedTokens: out.reduce((n, ids) => n + ids.length, 0),
    seconds,
  };
}

export interface ExactMatchRun extends AnswerRun {
  readonly correct: number;
  readonly total: number;
  readonly exactMatch: number;
}

export function exactMatchOf(model: GPT, tokenizer: BpeTokenizer, items: ReadonlyArray<{ prompt: string; answer: string }>, batchSize = 32): ExactMatchRun {
  const run = answerPrompts(model, tokenizer, items.map((i) => i.prompt), batchSize);
  const correct = run.predictions.filter((p, i) => exactMatch(p, items[i]!.answer)).length;
  return { ...run, correct, total: items.length, exactMatch: items.length ? correct / items.length : 0 };
}

/** Reading comprehension on held-out entities: exact match with the passage in the prompt. */
export function readingComprehension(model: GPT, tokenizer: BpeTokenizer, items: readonly EpisodeQa[]): ExactMatchRun {
  return exactMatchOf(model, tokenizer, items);
}
