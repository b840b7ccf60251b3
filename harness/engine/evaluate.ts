// Evaluation the approaches share: per-token cross-entropy on held-out text, and greedy generation.
import { tf } from './backend.js';
import type { GPT } from './model.js';
import type { BpeTokenizer } from './tokenizer.js';
import { tokenCrossEntropy } from './model.js';

/**
 * Mean per-token cross-entropy (nats) of `tokens` under the model, over windows of the model's
 * context (non-overlapping; each window predicts its own next tokens), `batchSize` windows at once.
 */
export function meanCrossEntropy(model: GPT, tokens: Int32Array, opts: { seqLen?: number; batchSize?: number; maxTokens?: number } = {}): { ce: number; tokens: number } {
  const seqLen = Math.min(opts.seqLen ?? model.config.nCtx, model.config.nCtx);
  const batchSize = opts.batchSize ?? 8;
  const usable = Math.min(tokens.length - 1, opts.maxTokens ?? Infinity);
  const windows = Math.floor(usable / seqLen);
  if (windows < 1) throw new Error(`cross-entropy needs at least ${seqLen + 1} tokens (got ${tokens.length})`);
  let sum = 0, count = 0;
  for (let w0 = 0; w0 < windows; w0 += batchSize) {
    const rows = Math.min(batchSize, windows - w0);
    const ids = new Int32Array(rows * seqLen), targets = new Int32Array(rows * seqLen);
    for (let r = 0; r < rows; r++) {
      const start = (w0 + r) * seqLen;
      ids.set(tokens.subarray(start, start + seqLen), r * seqLen);
      targets.set(tokens.subarray(start + 1, start + seqLen + 1), r * seqLen);
    }
    const total = tf.tidy(() => {
      const logits = model.logits(model.hidden(tf.tensor2d(ids, [rows, seqLen], 'int32')));
      return tf.sum(tokenCrossEntropy(logits, tf.tensor1d(targets, 'int32'), model.config.vocabSize));
    });
    sum += total.dataSync()[0]!;
    total.dispose();
    count += rows * seqLen;
  }
  return { ce: sum / count, tokens: count };
}

export interface GenerateOptions {
  /** New tokens at most. */
  readonly maxNewTokens: number;
  /** Generation of a sequence stops after any of these token ids (kept in the output). */
  readonly stopIds: readonly number[];
  /** Prompts generated together (right-padded; causal attention keeps padding out of each prompt). */
  readonly batchSize?: number;
  /** Called after each batch with the prompts done so far. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Indices ordered by length, shortest first (ties by index): batches of similar lengths waste less
 * on padding; callers restore their order through the indices.
 */
function shortestFirst(lengths: readonly number[]): number[] {
  return lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
}

/**
 * Greedy decoding for many prompts, with a key/value cache: batched by length, prompts are
 * left-padded to the batch's longest (padding masked out of attention, positions counted from each
 * prompt's first token), prefilled once, then each step feeds one new token per row. Prompts keep
 * their last nCtx - maxNewTokens tokens. Returns the new tokens of each prompt, in their order.
 */
export function generateGreedy(model: GPT, prompts: readonly number[][], o: GenerateOptions): number[][] {
  const out: number[][] = prompts.map(() => []);
  const bs = o.batchSize ?? 16;
  const stop = new Set(o.stopIds);
  const ctx = model.config.nCtx;
  const keep = Math.max(1, ctx - o.maxNewTokens);
  // A batch prefills its longest prompt's length for every row: each answer goes back to its prompt's place.
  const order = shortestFirst(prompts.map((p) => Math.min(p.length, keep)));
  for (let b0 = 0; b0 < prompts.length; b0 += bs) {
    const batch = order.slice(b0, b0 + bs);
    const rows = batch.map((i) => prompts[i]!.slice(-keep));
    const n = rows.length;
    const len = Math.max(...rows.map((r) => r.length));
    const pad = rows.map((r) => len - r.length);
    const ids = new Int32Array(n * len), positions = new Int32Array(n * len), keyMask = new Float32Array(n * len);
    rows.forEach((r, i) => {
      ids.set(r, i * len + pad[i]!);
      for (let j = 0; j < len; j++) {
        positions[i * len + j] = Math.max(0, j - pad[i]!);
        keyMask[i * len + j] = j < pad[i]! ? -1e9 : 0;
      }
    });
    let mask: tf.Tensor = tf.keep(tf.tensor4d(keyMask, [n, 1, 1, len]));
    const first = tf.tidy(() => {
      const r = model.decode(tf.tensor2d(ids, [n, len], 'int32'), { positions: tf.tensor2d(positions, [n, len], 'int32'), keyMask: mask, past: null });
      const last = tf.gather(r.hidden, tf.tensor1d(rows.map((_, i) => i * len + len - 1), 'int32'));
      return { next: tf.argMax(model.logits(last), 1), present: r.present };
    });
    let cache = first.present;
    let next = first.next;
    const done = rows.map(() => false);
    for (let step = 0; ; step++) {
      const tokens = next.dataSync();
      next.dispose();
      tokens.forEach((tkn, i) => {
        if (done[i]) return;
        out[batch[i]!]!.push(tkn);
        if (stop.has(tkn)) done[i] = true;
      });
      if (step + 1 >= o.maxNewTokens || len + step + 1 >= ctx || done.every(Boolean)) break;
      const grown = tf.tidy(() => tf.concat([mask, tf.zeros([n, 1, 1, 1])], 3)); // the zeros column is freed by the tidy
      mask.dispose();
      mask = grown;
      const r = tf.tidy(() => {
        const stepPositions = tf.tensor2d(rows.map((_, i) => len + step - pad[i]!), [n, 1], 'int32');
        const d = model.decode(tf.tensor2d(Int32Array.from(tokens), [n, 1], 'int32'), { positions: stepPositions, keyMask: mask, past: cache });
        return { next: tf.argMax(model.logits(d.hidden), 1), present: d.present };
      });
      for (const c of cache) { c.k.dispose(); c.v.dispose(); }
      cache = r.present;
      next = r.next;
    }
    for (const c of cache) { c.k.dispose(); c.v.dispose(); }
    mask.dispose();
    o.onProgress?.(b0 + n, prompts.length);
  }
  return out;
}

/**
 * Log-likelihood of each continuation given its prompt: the sum over the continuation's tokens of
 * log p(token | everything before it), as lm-evaluation-harness scores multiple choice. Sequences
 * (prompt + continuation) must fit the context; they are right-padded in batches (causal attention
 * keeps the padding out of every scored position) and only the scored positions reach the LM head.
 */
export function continuationLogLikelihoods(model: GPT, pairs: ReadonlyArray<{ readonly prompt: readonly number[]; readonly continuation: readonly number[] }>, batchSize = 16, onProgress?: (done: number, total: number) => void): number[] {
  const out: number[] = new Array(pairs.length).fill(0);
  const nCtx = model.config.nCtx;
  pairs.forEach((p, i) => {
    if (p.prompt.length === 0 || p.continuation.length === 0) throw new Error(`continuation ${i}: prompt and continuation must both have tokens`);
    if (p.prompt.length + p.continuation.length > nCtx) {
      throw new Error(`continuation ${i}: ${p.prompt.length} prompt + ${p.continuation.length} continuation tokens exceed the model's context of ${nCtx}`);
    }
  });
  const order = shortestFirst(pairs.map((p) => p.prompt.length + p.continuation.length));
  for (let b0 = 0; b0 < order.length; b0 += batchSize) {
    const rows = order.slice(b0, b0 + batchSize);
    const len = Math.max(...rows.map((i) => pairs[i]!.prompt.length + pairs[i]!.continuation.length)) - 1;
    const ids = new Int32Array(rows.length * len);
    const gatherAt: number[] = [], targets: number[] = [], owner: number[] = [];
    rows.forEach((i, r) => {
      const seq = [...pairs[i]!.prompt, ...pairs[i]!.continuation];
      ids.set(seq.slice(0, len), r * len);
      for (let j = pairs[i]!.prompt.length; j < seq.length; j++) {
        gatherAt.push(r * len + j - 1);
        targets.push(seq[j]!);
        owner.push(i);
      }
    });
    const nll = tf.tidy(() => {
      const hidden = model.hidden(tf.tensor2d(ids, [rows.length, len], 'int32'));
      const logits = model.logits(tf.gather(hidden, tf.tensor1d(gatherAt, 'int32')));
      return tokenCrossEntropy(logits, tf.tensor1d(targets, 'int32'), model.config.vocabSize);
    });
    const values = nll.dataSync();
    nll.dispose();
    values.forEach((v, k) => { out[owner[k]!]! -= v; });
    onProgress?.(b0 + rows.length, order.length);
  }
  return out;
}

/** Held-out Brown tokens evaluated, at most: enough for a stable mean, small enough for 2 cores. */
export const BROWN_EVAL_MAX_TOKENS = 32_768;

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
export function brownCrossEntropy(model: GPT, tokenizer: BpeTokenizer, docs: ReadonlyArray<{ readonly text: string }>, maxTokens = BROWN_EVAL_MAX_TOKENS): { ce: number; tokens: number; tokensPerSec: number } {
  const tokens = documentTokens(tokenizer, docs, maxTokens);
  const t0 = performance.now();
  const r = meanCrossEntropy(model, tokens);
  const seconds = (performance.now() - t0) / 1000;
  return { ce: r.ce, tokens: r.tokens, tokensPerSec: r.tokens / seconds };
}
