// The training loop every approach shares: AdamW with decoupled weight decay, linear warm-up then
// cosine decay, global-norm gradient clipping, and a NaN/Inf check that stops the run clearly.
import { tf } from './backend.js';
import type { GPT } from './model.js';
import { fusedActive, fusedAdamW } from './fused.js';

export interface TrainOptions {
  /** Optimiser steps. */
  readonly steps: number;
  /** Peak learning rate (after warm-up). */
  readonly lr: number;
  /** Steps of linear warm-up from 0 to `lr`. */
  readonly warmupSteps: number;
  /** Cosine decay ends at lr * minLrRatio. */
  readonly minLrRatio: number;
  /** AdamW's decoupled decay, applied to linear and embedding weights only. */
  readonly weightDecay: number;
  /** Global gradient norm is clipped to this (0 disables). */
  readonly clipNorm: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'steps' | 'lr'> = Object.freeze({
  warmupSteps: 20,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  clipNorm: 1.0,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
});

/** Learning rate at (0-based) `step`: linear warm-up, then cosine to lr * minLrRatio. */
export function learningRate(o: Pick<TrainOptions, 'steps' | 'lr' | 'warmupSteps' | 'minLrRatio'>, step: number): number {
  if (step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  const span = Math.max(1, o.steps - o.warmupSteps);
  const progress = Math.min(1, (step - o.warmupSteps) / span);
  return o.lr * (o.minLrRatio + (1 - o.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** A batch of token ids [B, T] with next-token targets and per-position loss weights. */
export interface Batch {
  readonly batchSize: number;
  readonly seqLen: number;
  readonly ids: Int32Array;
  readonly targets: Int32Array;
  readonly weights: Float32Array;
}

/** Thrown when the loss or gradient norm is NaN or infinite: the cell fails with this message. */
export class DivergenceError extends Error {}

export class AdamW {
  private readonly m = new Map<string, tf.Tensor>();
  private readonly v = new Map<string, tf.Tensor>();
  private t = 0;
  private readonly vars: ReadonlyMap<string, tf.Variable>;
  private readonly decayed: ReadonlySet<string>;
  private readonly o: Omit<TrainOptions, 'steps' | 'lr' | 'warmupSteps' | 'minLrRatio'>;
  constructor(
    vars: ReadonlyMap<string, tf.Variable>,
    decayed: ReadonlySet<string>,
    o: Omit<TrainOptions, 'steps' | 'lr' | 'warmupSteps' | 'minLrRatio'>,
  ) {
    this.vars = vars;
    this.decayed = decayed;
    this.o = o;
    for (const [name, p] of vars) {
      this.m.set(name, tf.keep(tf.zerosLike(p)));
      this.v.set(name, tf.keep(tf.zerosLike(p)));
    }
  }

  /** Bytes of optimiser state (two fp32 moments per trainable parameter). */
  get stateBytes(): number {
    let n = 0;
    for (const t of this.m.values()) n += t.size * 8;
    return n;
  }

  /** Applies one update; `gradScale` is the clipping factor. */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number, gradScale: number): void {
    this.t += 1;
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.o;
    const c1 = 1 - b1 ** this.t, c2 = 1 - b2 ** this.t;
    for (const [name, p] of this.vars) {
      const g0 = grads.get(name);
      if (!g0) continue;
      if (fusedActive()) {
        const [p1, m1, v1] = fusedAdamW(p, this.m.get(name)!, this.v.get(name)!, g0, {
          lr, beta1: b1, beta2: b2, c1, c2, eps, decay: this.decayed.has(name) ? weightDecay : 0, gradScale,
        });
        p.assign(p1);
        p1.dispose();
        this.m.get(name)!.dispose();
        this.v.get(name)!.dispose();
        this.m.set(name, m1);
        this.v.set(name, v1);
        continue;
      }
      const [m, v] = tf.tidy(() => {
        const g = gradScale === 1 ? g0 : tf.mul(g0, gradScale);
        const m1 = tf.add(tf.mul(this.m.get(name)!, b1), tf.mul(g, 1 - b1));
        const v1 = tf.add(tf.mul(this.v.get(name)!, b2), tf.mul(tf.square(g), 1 - b2));
        const update = tf.div(tf.mul(m1, 1 / c1), tf.add(tf.sqrt(tf.mul(v1, 1 / c2)), eps));
        const decay = this.decayed.has(name) ? tf.mul(p, weightDecay) : null;
        p.assign(tf.sub(p, tf.mul(decay ? tf.add(update, decay) : update, lr)));
        return [m1, v1];
      });
      this.m.get(name)!.dispose();
      this.v.get(name)!.dispose();
      this.m.set(name, m);
      this.v.set(name, v);
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

export interface StepResult {
  readonly loss: number;
  readonly gradNorm: number;
  readonly lr: number;
}

/**
 * One optimiser step on `batch` over the trainable variables `vars` (a subset of the model's
 * parameters, or adapter weights). Returns the loss before the update.
 */
export function trainStep(
  model: GPT, vars: ReadonlyMap<string, tf.Variable>, optimizer: AdamW, batch: Batch, lr: number, clipNorm: number,
): StepResult {
  const names = [...vars.keys()];
  const { value, grads } = tf.tidy(() => {
    const ids = tf.tensor2d(batch.ids, [batch.batchSize, batch.seqLen], 'int32');
    const targets = tf.tensor1d(batch.targets, 'int32');
    const weights = tf.tensor1d(batch.weights, 'float32');
    return tf.variableGrads(() => model.loss(ids, targets, weights), names.map((n) => vars.get(n)!));
  });
  const gradMap = new Map<string, tf.Tensor>();
  // variableGrads keys by variable name; map back to our parameter names.
  names.forEach((n) => {
    const g = grads[vars.get(n)!.name];
    if (g) gradMap.set(n, g);
  });
  const normSq = tf.tidy(() => tf.addN([...gradMap.values()].map((g) => tf.sum(tf.square(g)))));
  const [loss, sq] = [value.dataSync()[0]!, normSq.dataSync()[0]!];
  value.dispose();
  normSq.dispose();
  const gradNorm = Math.sqrt(sq);
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    for (const g of gradMap.values()) g.dispose();
    throw new DivergenceError(`training diverged: loss ${loss}, gradient norm ${gradNorm} (try a lower learning rate)`);
  }
  const scale = clipNorm > 0 && gradNorm > clipNorm ? clipNorm / gradNorm : 1;
  optimizer.apply(gradMap, lr, scale);
  for (const g of gradMap.values()) g.dispose();
  return { loss, gradNorm, lr };
}

/**
 * Cuts a token stream into `batchSize` rows of `seqLen` inputs with shifted targets, starting at
 * `offset` (wrapping around), with every position weighted 1.
 */
export function streamBatch(stream: Int32Array, offset: number, batchSize: number, seqLen: number): Batch {
  const ids = new Int32Array(batchSize * seqLen);
  const targets = new Int32Array(batchSize * seqLen);
  const n = stream.length;
  for (let r = 0; r < batchSize; r++) {
    const start = (offset + r * seqLen) % n;
    for (let j = 0; j < seqLen; j++) {
      ids[r * seqLen + j] = stream[(start + j) % n]!;
      targets[r * seqLen + j] = stream[(start + j + 1) % n]!;
    }
  }
  return { batchSize, seqLen, ids, targets, weights: new Float32Array(batchSize * seqLen).fill(1) };
}
