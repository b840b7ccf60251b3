// The same greedy requests in the training framework: the tfjs model's own decode() with its key/value
// cache, laid out as the engine's generateGreedy lays out a batch (left padding, per-row positions,
// an additive key mask), but for a fixed number of new tokens and with the hooks that the ONNX side
// has, so equivalence and timing compare like with like.
import { tf } from '../engine/backend.js';
import type { GPT, LayerCache } from '../engine/model.js';
import { leftPad, type GreedyHooks } from './session.js';

/** Exactly `newTokens` greedy tokens per prompt from the tfjs model (adapter as attached). */
export function tfjsGreedy(model: GPT, prompts: readonly (readonly number[])[], newTokens: number, hooks: GreedyHooks = {}): number[][] {
  const now = (): number => performance.now();
  let t0 = now();
  const b = leftPad(prompts);
  const n = b.rows, len = b.len;
  const keyMask = Float32Array.from(b.mask, (m) => (m ? 0 : -1e9));
  let mask: tf.Tensor = tf.keep(tf.tensor4d(keyMask, [n, 1, 1, len]));
  const first = tf.tidy(() => {
    const r = model.decode(tf.tensor2d(b.ids, [n, len], 'int32'), { positions: tf.tensor2d(b.positions, [n, len], 'int32'), keyMask: mask, past: null });
    if (hooks.logits) {
      // Every position's logits, for comparison; a request without hooks computes the last ones only.
      const all = model.logits(r.hidden);
      hooks.logits(0, all.dataSync() as Float32Array, len);
    }
    const last = tf.gather(r.hidden, tf.tensor1d(Array.from({ length: n }, (_, i) => i * len + len - 1), 'int32'));
    return { next: tf.argMax(model.logits(last), 1), present: r.present };
  });
  let cache: LayerCache[] = first.present;
  let next = Array.from(first.next.dataSync());
  first.next.dispose();
  hooks.timer?.('prefill', now() - t0);
  const out = next.map((t) => [t]);
  try {
    for (let step = 0; step + 1 < newTokens; step++) {
      t0 = now();
      // In a tidy: the zeros would otherwise outlive the step (generateGreedy leaks one per step).
      const grown = tf.tidy(() => tf.concat([mask, tf.zeros([n, 1, 1, 1])], 3));
      mask.dispose();
      mask = grown;
      const tokens = next;
      const r = tf.tidy(() => {
        const positions = tf.tensor2d(b.pad.map((p) => len + step - p), [n, 1], 'int32');
        const d = model.decode(tf.tensor2d(Int32Array.from(tokens), [n, 1], 'int32'), { positions, keyMask: mask, past: cache });
        const logits = model.logits(d.hidden);
        if (hooks.logits) hooks.logits(step + 1, logits.dataSync() as Float32Array, 1);
        return { next: tf.argMax(logits, 1), present: d.present };
      });
      for (const c of cache) { c.k.dispose(); c.v.dispose(); }
      cache = r.present;
      next = Array.from(r.next.dataSync());
      r.next.dispose();
      hooks.timer?.('token', now() - t0);
      next.forEach((t, i) => out[i]!.push(t));
    }
  } finally {
    for (const c of cache) { c.k.dispose(); c.v.dispose(); }
    mask.dispose();
  }
  return out;
}
