// One approach's training cost at one shape, measured in this process with the same code the cells
// use (adapters/training.ts: gradient bytes, AdamW state bytes, a profiled step split by category).
// Weights are randomly initialised (uniform, the quicker to draw): memory and speed do not depend on their values.
import { measureGradientBytes, profiledTrainStep } from '../../adapters/training.js';
import { initBackend, tf, type BackendName } from '../engine/backend.js';
import type { ModelConfig } from '../engine/config.js';
import { LoraAdapter, QloraAdapter } from '../engine/lora.js';
import { GPT } from '../engine/model.js';
import type { LinearModule } from '../engine/params.js';
import { AdamW, DEFAULT_TRAIN_OPTIONS, trainStep, type Batch } from '../engine/train.js';
import { median } from '../metrics/stats.js';

export const COST_APPROACHES = ['full', 'lora', 'qlora'] as const;
export type CostApproach = (typeof COST_APPROACHES)[number];

export interface MeasureRequest {
  readonly shapeName: string;
  readonly config: ModelConfig;
  readonly approach: CostApproach;
  readonly batch: number;
  readonly seqLen: number;
  readonly rank: number;
  readonly targets: readonly LinearModule[];
  /** Timed steps after the profiled step. */
  readonly timedSteps: number;
  readonly backend: BackendName;
}

/** What one process measured. */
export interface CostMeasurement {
  readonly request: MeasureRequest;
  readonly backend: string;
  readonly params: { readonly total: number; readonly trainable: number };
  /** Engine bytes (tf.memory / tf.profile), as the cells measure them. */
  readonly memory: { readonly peakBytes: number; readonly weightsBytes: number; readonly gradientsBytes: number; readonly optimizerBytes: number; readonly activationsBytes: number };
  /** The process's peak resident set (getrusage maxrss), everything included: Node, the engine, set-up copies. */
  readonly rssPeakBytes: number;
  /** Median over the timed steps of batch x seqLen / step time. */
  readonly tokensPerSec: number;
  readonly stepSec: readonly number[];
  readonly loss: number;
}

/** LoRA as the cells default it: alpha 2r, no dropout. */
const loraSettings = (r: MeasureRequest) => ({ rank: r.rank, alpha: 2 * r.rank, dropout: 0, targets: r.targets });

export async function measureCost(r: MeasureRequest): Promise<CostMeasurement> {
  const info = await initBackend(r.backend);
  const n = r.batch * r.seqLen;
  const V = r.config.vocabSize;
  // Fixed pseudo-random tokens: every approach and shape sees the same batch.
  const batch: Batch = {
    batchSize: r.batch, seqLen: r.seqLen,
    ids: Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % V),
    targets: Int32Array.from({ length: n }, (_, i) => (i * 104729 + 7) % V),
    weights: new Float32Array(n).fill(1),
  };
  const before = tf.memory().numBytes;
  const model = GPT.init(r.config, 1, 'uniform');
  let trainable: Map<string, tf.Variable>;
  let decayed: Set<string>;
  let adapter: LoraAdapter | null = null;
  if (r.approach === 'full') {
    trainable = model.params;
    decayed = new Set(model.specs.filter((s) => s.kind === 'linear' || s.kind === 'embedding').map((s) => s.name));
  } else {
    adapter = r.approach === 'lora' ? new LoraAdapter(r.config, loraSettings(r), 1) : QloraAdapter.attach(model, loraSettings(r), 1);
    model.adapter = adapter;
    for (const v of model.params.values()) v.trainable = false;
    trainable = adapter.variables();
    decayed = new Set();
  }
  const weightsBytes = tf.memory().numBytes - before;
  let trainableCount = 0;
  for (const v of trainable.values()) trainableCount += v.size;
  let baseCount = 0;
  for (const spec of model.specs) baseCount += spec.shape.reduce((a, b) => a * b, 1);

  const gradientsBytes = measureGradientBytes(model, trainable, batch);
  const beforeOptimizer = tf.memory().numBytes;
  const optimizer = new AdamW(trainable, decayed, DEFAULT_TRAIN_OPTIONS);
  const optimizerBytes = tf.memory().numBytes - beforeOptimizer;
  const lr = 1e-5;
  // measureGradientBytes ran a forward and backward pass already: kernels are set up, so no warm-up step.
  const profiled = await profiledTrainStep(model, trainable, optimizer, batch, lr, 1, { weightsBytes, gradientsBytes, optimizerBytes });
  const stepSec: number[] = [];
  let loss = profiled.loss;
  for (let s = 0; s < r.timedSteps; s++) {
    const t0 = performance.now();
    loss = trainStep(model, trainable, optimizer, batch, lr, 1).loss;
    stepSec.push((performance.now() - t0) / 1000);
  }
  optimizer.dispose();
  adapter?.dispose();
  model.dispose();
  return {
    request: r,
    backend: info.name,
    params: { total: baseCount + (adapter ? trainableCount : 0), trainable: trainableCount },
    memory: profiled.memory,
    rssPeakBytes: process.resourceUsage().maxRSS * 1024,
    tokensPerSec: median(stepSec.map((s) => n / s)),
    stepSec,
    loss,
  };
}
