// Evaluation the approaches share: per-token cross-entropy on held-out text, and greedy generation.
import { tf } from './backend.js';
import type { GPT } from './model.js';
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
}

/**
 * Greedy decoding for many prompts. Each step runs the batch to its current longest length and
 * reads the logits at each sequence's own last position. Prompts longer than the context keep
 * their last tokens. Returns the new tokens of each prompt.
 */
export function generateGreedy(model: GPT, prompts: readonly number[][], o: GenerateOptions): number[][] {
  const out: number[][] = prompts.map(() => []);
  const bs = o.batchSize ?? 16;
  const stop = new Set(o.stopIds);
  const ctx = model.config.nCtx;
  for (let b0 = 0; b0 < prompts.length; b0 += bs) {
    const idx = prompts.slice(b0, b0 + bs).map((_, i) => b0 + i);
    const seqs = idx.map((i) => prompts[i]!.slice(-(ctx - 1)));
    const done = idx.map(() => false);
    for (let step = 0; step < o.maxNewTokens && done.some((d) => !d); step++) {
      const live = seqs.map((s) => s.slice(-ctx));
      const len = Math.max(...live.map((s) => s.length));
      const ids = new Int32Array(live.length * len);
      const lastRows = new Int32Array(live.length);
      live.forEach((s, r) => {
        ids.set(s, r * len);
        lastRows[r] = r * len + s.length - 1;
      });
      const next = tf.tidy(() => {
        const h = model.hidden(tf.tensor2d(ids, [live.length, len], 'int32'));
        return tf.argMax(model.logits(tf.gather(h, tf.tensor1d(lastRows, 'int32'))), 1);
      });
      const tokens = next.dataSync();
      next.dispose();
      seqs.forEach((s, r) => {
        if (done[r]) return;
        const t = tokens[r]!;
        s.push(t);
        out[idx[r]!]!.push(t);
        if (stop.has(t)) done[r] = true;
      });
    }
  }
  return out;
}
