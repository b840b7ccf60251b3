// A LoRA adapter's trained values as plain arrays, and back: what exporting it unmerged needs, and
// what rebuilding the model as trained needs after the served copy has been merged.
import { tf } from '../engine/backend.js';
import type { LoraAdapter } from '../engine/lora.js';
import type { UnmergedAdapter } from './gpt-onnx.js';

/** A and B of every module the adapter covers, copied out of the engine, with its scale. */
export function snapshotAdapter(adapter: LoraAdapter): UnmergedAdapter {
  const branches = new Map<string, { a: Float32Array; b: Float32Array; rank: number }>();
  for (const m of adapter.modules) {
    const a = adapter.a.get(m), b = adapter.b.get(m);
    if (!a || !b) throw new Error(`LoRA adapter lacks A or B of ${m}`);
    branches.set(m, { a: Float32Array.from(a.dataSync() as Float32Array), b: Float32Array.from(b.dataSync() as Float32Array), rank: adapter.settings.rank });
  }
  return { scale: adapter.scale, branches };
}

/** Sets a fresh adapter (same settings) to the values of a snapshot. */
export function restoreAdapter(adapter: LoraAdapter, snap: UnmergedAdapter): void {
  if (adapter.scale !== snap.scale) throw new Error(`adapter scale ${adapter.scale} differs from the snapshot's ${snap.scale}`);
  for (const m of adapter.modules) {
    const br = snap.branches.get(m);
    const a = adapter.a.get(m), b = adapter.b.get(m);
    if (!br || !a || !b) throw new Error(`the adapter snapshot has no branch for ${m}`);
    // In a tidy: the variables keep the values, the temporary handles go.
    tf.tidy(() => {
      a.assign(tf.tensor(br.a, a.shape));
      b.assign(tf.tensor(br.b, b.shape));
    });
  }
}
