// Evaluation shared by pretraining (its learning curve) and every approach (quality and forgetting),
// so "before" and "after" are measured by exactly the same code.
import type { BrownDoc } from '../datasets/brown.js';
import { exactMatch, extractAnswer, type EpisodeQa } from '../datasets/episodes.js';
import { meanCrossEntropy, generateGreedy } from './engine/evaluate.js';
import type { GPT } from './engine/model.js';
import type { BpeTokenizer } from './engine/tokenizer.js';

/** Held-out Brown tokens evaluated, at most: enough for a stable mean, small enough for 2 cores. */
export const BROWN_EVAL_MAX_TOKENS = 32_768;
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

/** Tokens of documents joined by end-of-text, as pretraining saw text. */
export function documentTokens(tokenizer: BpeTokenizer, docs: ReadonlyArray<{ text: string }>, maxTokens = Infinity): Int32Array {
  const ids: number[] = [];
  for (const d of docs) {
    if (ids.length > maxTokens) break;
    ids.push(...tokenizer.encode(d.text), tokenizer.eotId);
  }
  return Int32Array.from(ids.slice(0, Math.min(ids.length, maxTokens + 1)));
}

/** Mean per-token cross-entropy on held-out Brown documents, with throughput. */
export function brownCrossEntropy(model: GPT, tokenizer: BpeTokenizer, docs: readonly BrownDoc[], maxTokens = BROWN_EVAL_MAX_TOKENS): { ce: number; tokens: number; tokensPerSec: number } {
  const tokens = documentTokens(tokenizer, docs, maxTokens);
  const t0 = performance.now();
  const r = meanCrossEntropy(model, tokens);
  const seconds = (performance.now() - t0) / 1000;
  return { ce: r.ce, tokens: r.tokens, tokensPerSec: r.tokens / seconds };
}
