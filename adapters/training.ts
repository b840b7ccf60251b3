// What the fine-tuning approaches (full-ft, lora, qlora) share, so that they differ only in which
// weights train and how the base is stored: the training data (same examples, same packing, same
// order for a suite and seed), the budget (steps, batch, row length from the suite), the schedule,
// and the measurements of a training step (memory by category, throughput, wall time).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../datasets/rng.js';
import { tf } from '../harness/engine/backend.js';
import { saveCheckpoint } from '../harness/engine/checkpoint.js';
import { GPT } from '../harness/engine/model.js';
import type { BpeTokenizer } from '../harness/engine/tokenizer.js';
import { AdamW, DEFAULT_TRAIN_OPTIONS, DivergenceError, learningRate, trainStep, type Batch, type TrainOptions } from '../harness/engine/train.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import { dataAfterUpdate, type Suite, type SuiteData, type SuiteTrainBudget } from '../suites/types.js';
import type { SuitePrompts, TrainingExample } from '../tasks/prompts.js';
import type { ApproachConfig, CellContext, MemoryBreakdown, TrainingSummary, UpdateOutcome } from './types.js';

/** Steps left out of the throughput median: the first ones pay for allocation and kernel set-up. */
export const WARMUP_STEPS = 2;
/** The step profiled for memory (tf.profile slows it down, so it is not timed either). */
export const PROFILE_STEP = 1;
/** Share of steps spent in linear learning-rate warm-up; cosine decay to 10% follows. */
const WARMUP_SHARE = 0.1;

/** The suite's fine-tuning budget (validated with the suite), checked against the model's context. */
export function trainBudgetOf(suite: Suite, nCtx: number): SuiteTrainBudget {
  const b = suite.budget.train;
  if (b.seqLen > nCtx) throw new Error(`suite ${suite.name}: budget.train.seqLen ${b.seqLen} exceeds the model's context of ${nCtx} tokens`);
  return b;
}

/** `approach.<name>.lr must be ...` when the learning rate is not a positive finite number. */
export function learningRateProblems(config: ApproachConfig, approach: string): string[] {
  const lr = config['lr'];
  return typeof lr === 'number' && Number.isFinite(lr) && lr > 0
    ? []
    : [`approach.${approach}.lr must be a positive number (got ${JSON.stringify(lr)}). Example: ${approach}:lr=0.001`];
}

export type { TrainingExample };

/**
 * The fine-tuning examples of a suite: every training example as its closed-book prompt followed by
 * its target, loss on the target only (the prompt is given at test time, so modelling it would
 * spend the budget on the prompts' wording and pull the model further from the base); and every
 * knowledge document as plain text with loss on every token, as in pretraining. Documents are in
 * because RAG reads them: fine-tuning gets the same facts, plus the training examples, in the form
 * each approach can use. Prompt and target are tokenised apart, exactly as at test time, where the
 * prompt is encoded alone and the answer generated or scored.
 */
export function trainingExamples(prompts: SuitePrompts, train: SuiteData['train'], documents: SuiteData['documents'], seqLen: number): TrainingExample[] {
  const eot = prompts.tokenizer.eotId;
  const out: TrainingExample[] = train.map((ex) => prompts.trainingExample(ex, seqLen));
  for (const d of documents) {
    const tokens = [...prompts.tokenizer.encode(d.text), eot];
    out.push({ kind: 'document', tokens, lossOn: tokens.map(() => true) });
  }
  return out;
}

/** The rows of every step, in order, plus what they hold. */
export interface TrainingPlan {
  readonly batches: readonly Batch[];
  /** Examples that start in each step's rows (for samples/s). */
  readonly examplesPerStep: readonly number[];
  readonly examples: { readonly qa: number; readonly documents: number; readonly tokens: number };
  /** Passes over the examples the steps make (fractional). */
  readonly epochs: number;
  /** Share of row positions whose prediction carries loss. */
  readonly lossShare: number;
  /** Share of row positions that are padding. */
  readonly paddingShare: number;
  /** Questions longer than a row, kept from their end. */
  readonly truncatedQuestions: number;
}

/**
 * Packs examples into rows of seqLen + 1 tokens (seqLen inputs, seqLen shifted targets), each
 * example followed by end-of-text, as the base saw documents in pretraining; an example that does
 * not fit in what is left of a row starts the next one, and the rest of the row is padding with
 * weight 0. A document longer than a row is cut into row-sized pieces; a question longer than a
 * row (only with tiny tokenizers) keeps its last tokens. Each epoch shuffles the
 * examples with a generator seeded by suite and seed only, so every approach of a cell trains on
 * the same rows in the same order.
 */
export function planTraining(examples: readonly TrainingExample[], budget: SuiteTrainBudget, seedKey: string, padId: number): TrainingPlan {
  const { steps, batchSize, seqLen } = budget;
  const width = seqLen + 1;
  const pieces: Array<{ tokens: readonly number[]; lossOn: readonly boolean[] }> = [];
  let truncated = 0;
  for (const e of examples) {
    if (e.tokens.length <= width) {
      pieces.push(e);
      continue;
    }
    if (e.kind === 'qa') {
      // Keep the answer and the end of the prompt, as generation keeps a prompt's last tokens.
      pieces.push({ tokens: e.tokens.slice(-width), lossOn: e.lossOn.slice(-width) });
      truncated += 1;
      continue;
    }
    for (let s = 0; s < e.tokens.length; s += width) pieces.push({ tokens: e.tokens.slice(s, s + width), lossOn: e.lossOn.slice(s, s + width) });
  }
  const rng = createRng(seedKey);
  const rowsNeeded = steps * batchSize;
  const rows: Array<{ tokens: number[]; lossOn: boolean[]; starts: number }> = [];
  let epochs = 0;
  while (rows.length < rowsNeeded) {
    let row = { tokens: [] as number[], lossOn: [] as boolean[], starts: 0 };
    let used = 0;
    for (const p of rng.shuffle(pieces)) {
      if (rows.length >= rowsNeeded) break;
      if (row.tokens.length + p.tokens.length > width) {
        rows.push(row);
        row = { tokens: [], lossOn: [], starts: 0 };
        if (rows.length >= rowsNeeded) break;
      }
      row.tokens.push(...p.tokens);
      row.lossOn.push(...p.lossOn);
      row.starts += 1;
      used += 1;
    }
    if (row.tokens.length > 0 && rows.length < rowsNeeded) rows.push(row);
    epochs += used / pieces.length;
  }
  let lossPositions = 0, padPositions = 0;
  const batches: Batch[] = [];
  const examplesPerStep: number[] = [];
  for (let s = 0; s < steps; s++) {
    const ids = new Int32Array(batchSize * seqLen).fill(padId);
    const targets = new Int32Array(batchSize * seqLen).fill(padId);
    const weights = new Float32Array(batchSize * seqLen);
    let starts = 0;
    for (let r = 0; r < batchSize; r++) {
      const row = rows[s * batchSize + r]!;
      starts += row.starts;
      for (let j = 0; j < seqLen; j++) {
        const k = r * seqLen + j;
        if (j < row.tokens.length) ids[k] = row.tokens[j]!;
        if (j + 1 < row.tokens.length) {
          targets[k] = row.tokens[j + 1]!;
          weights[k] = row.lossOn[j + 1] ? 1 : 0;
        } else {
          padPositions += 1;
        }
        lossPositions += weights[k]!;
      }
    }
    batches.push({ batchSize, seqLen, ids, targets, weights });
    examplesPerStep.push(starts);
  }
  const positions = steps * batchSize * seqLen;
  return {
    batches, examplesPerStep, epochs,
    examples: {
      qa: examples.filter((e) => e.kind === 'qa').length,
      documents: examples.filter((e) => e.kind === 'document').length,
      tokens: examples.reduce((n, e) => n + e.tokens.length, 0),
    },
    lossShare: lossPositions / positions,
    paddingShare: padPositions / positions,
    truncatedQuestions: truncated,
  };
}

/** What an approach hands to the shared training loop. */
export interface FineTuneSpec {
  /** Registry name, for messages. */
  readonly approach: string;
  /** The model trained (with its adapter attached, if any). */
  readonly model: GPT;
  /** The only variables that get gradients and optimiser state. */
  readonly trainable: ReadonlyMap<string, tf.Variable>;
  /** Names (keys of `trainable`) that AdamW decays. */
  readonly decayed: ReadonlySet<string>;
  readonly lr: number;
  readonly weightDecay: number;
  /** Engine bytes of the trained model's weights as stored, measured when it was built. */
  readonly weightsBytes: number;
  /** The same from the closed-form counts (bytes per parameter x counts). */
  readonly analyticWeightsBytes: number;
  /** Called with true before training and false after (LoRA dropout). */
  readonly setTraining?: (on: boolean) => void;
  /** The examples to train on, instead of the suite's (trainingExamples): lora-rag's retrieval-augmented ones. */
  readonly examples?: readonly TrainingExample[];
  /** Steps instead of the suite's budget.train.steps (an update's), batch and row length unchanged. */
  readonly steps?: number;
  /** Names this training's data order; default: the cell's adaptation. */
  readonly phase?: string;
}

/** What the training loop measured. */
export interface FineTuneResult {
  readonly training: TrainingSummary;
  readonly memory: MemoryBreakdown;
  readonly metrics: Partial<Record<MetricId, number | null>>;
  readonly notes: Partial<Record<MetricId, string>>;
  readonly inputs: Readonly<Record<string, unknown>>;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Engine bytes of the gradients of `trainable` on one batch (variableGrads' output), measured, then freed. */
export function measureGradientBytes(model: GPT, trainable: ReadonlyMap<string, tf.Variable>, batch: Batch): number {
  const inputs = (): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] => [
    tf.tensor2d(batch.ids, [batch.batchSize, batch.seqLen], 'int32'), tf.tensor1d(batch.targets, 'int32'), tf.tensor1d(batch.weights, 'float32'),
  ];
  // A forward pass first, so that caches the model keeps (e.g. its causal mask) are not counted as gradients.
  tf.tidy(() => { model.loss(...inputs()); });
  const before = tf.memory().numBytes;
  const r = tf.tidy(() => {
    const [ids, targets, weights] = inputs();
    return tf.variableGrads(() => model.loss(ids, targets, weights), [...trainable.values()]);
  });
  const bytes = tf.memory().numBytes - before - 4 * r.value.size;
  r.value.dispose();
  for (const g of Object.values(r.grads)) g.dispose();
  return bytes;
}

/**
 * One training step under tf.profile, its peak split by category. Engine bytes that are not this
 * training's (a cell's copy of the base, caches) are live before the step: the step's own peak is
 * the profile's peak without them; activations are what remains of it.
 */
export async function profiledTrainStep(model: GPT, trainable: ReadonlyMap<string, tf.Variable>, optimizer: AdamW, batch: Batch, lr: number, clipNorm: number,
  known: { weightsBytes: number; gradientsBytes: number; optimizerBytes: number }): Promise<{ loss: number; memory: MemoryBreakdown; outsideBytes: number }> {
  const { weightsBytes, gradientsBytes, optimizerBytes } = known;
  const outsideBytes = tf.memory().numBytes - weightsBytes - optimizerBytes;
  let r: { loss: number } = { loss: NaN };
  const info = await tf.profile(() => { r = trainStep(model, trainable, optimizer, batch, lr, clipNorm); });
  const peakBytes = info.peakBytes - outsideBytes;
  const memory = { peakBytes, weightsBytes, gradientsBytes, optimizerBytes, activationsBytes: peakBytes - weightsBytes - gradientsBytes - optimizerBytes };
  return { loss: r.loss, memory, outsideBytes };
}

/**
 * Trains `spec.model` on the suite's rows for the suite's budget with AdamW, and measures: the
 * memory of one training step by category, the median tokens/s and samples/s over timed steps,
 * and wall time. A NaN or infinite loss ends the cell with a DivergenceError naming the step.
 */
export async function fineTune(ctx: CellContext, spec: FineTuneSpec): Promise<FineTuneResult> {
  const { model, trainable } = spec;
  const tokenizer = ctx.base.tokenizer;
  const suiteBudget = trainBudgetOf(ctx.suite, model.config.nCtx);
  const budget = spec.steps === undefined ? suiteBudget : { ...suiteBudget, steps: spec.steps };
  const examples = spec.examples ?? trainingExamples(ctx.prompts, ctx.data.train, ctx.data.documents, budget.seqLen);
  const seedKey = spec.phase === undefined ? `finetune:${ctx.suite.name}:${ctx.seed}` : `${spec.phase}:${ctx.suite.name}:${ctx.seed}`;
  const plan = planTraining(examples, budget, seedKey, tokenizer.eotId);
  const opts: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    steps: budget.steps,
    lr: spec.lr,
    warmupSteps: Math.max(1, Math.round(WARMUP_SHARE * budget.steps)),
    weightDecay: spec.weightDecay,
  };
  let trainableCount = 0;
  for (const v of trainable.values()) trainableCount += v.size;
  ctx.log(`${spec.approach}: ${budget.steps} steps x ${budget.batchSize} rows x ${budget.seqLen} tokens, ${trainableCount.toLocaleString('en-US')} trainable parameters, lr ${spec.lr}, `
    + `${plan.examples.qa} questions + ${plan.examples.documents} documents (${plan.epochs.toFixed(2)} epochs), loss on ${(100 * plan.lossShare).toFixed(1)}% of positions`);

  const first = plan.batches[0];
  if (!first) throw new Error('fine-tuning budget has no steps');
  spec.setTraining?.(true);
  const gradientsBytes = measureGradientBytes(model, trainable, first);
  const beforeOptimizer = tf.memory().numBytes;
  const optimizer = new AdamW(trainable, spec.decayed, opts);
  const optimizerBytes = tf.memory().numBytes - beforeOptimizer;

  const stepSec: number[] = [];
  const losses: number[] = [];
  let memory: MemoryBreakdown | null = null;
  let outsideBytes = 0;
  const t0 = performance.now();
  try {
    for (let step = 0; step < budget.steps; step++) {
      const batch = plan.batches[step]!;
      const lr = learningRate(opts, step);
      let loss: number;
      try {
        if (step === PROFILE_STEP) {
          const profiled = await profiledTrainStep(model, trainable, optimizer, batch, lr, opts.clipNorm, { weightsBytes: spec.weightsBytes, gradientsBytes, optimizerBytes });
          loss = profiled.loss;
          memory = profiled.memory;
          outsideBytes = profiled.outsideBytes;
        } else {
          const s0 = performance.now();
          loss = trainStep(model, trainable, optimizer, batch, lr, opts.clipNorm).loss;
          if (step >= WARMUP_STEPS) stepSec.push((performance.now() - s0) / 1000);
        }
      } catch (err) {
        if (err instanceof DivergenceError) {
          throw new DivergenceError(`${spec.approach}: ${err.message.replace(/^training diverged/, `training diverged at step ${step + 1} of ${budget.steps} (lr ${lr.toPrecision(3)} of peak ${spec.lr})`)}`);
        }
        throw err;
      }
      losses.push(loss);
      ctx.progress('training', step + 1, budget.steps);
      if ((step + 1) % Math.max(1, Math.round(budget.steps / 10)) === 0 || step + 1 === budget.steps) {
        ctx.log(`step ${step + 1}/${budget.steps}: loss ${loss.toFixed(4)}, lr ${lr.toPrecision(3)}`);
      }
    }
  } finally {
    spec.setTraining?.(false);
    optimizer.dispose();
  }
  const wallSec = (performance.now() - t0) / 1000;
  // With fewer steps than warm-up + profile, the profiled or warm-up steps are all there is: time them all.
  const timed = stepSec.length > 0 ? stepSec : [wallSec / budget.steps];
  const tokensPerStep = budget.batchSize * budget.seqLen;
  const tokensPerSec = median(timed.map((s) => tokensPerStep / s));
  const timedSamples = plan.examplesPerStep.slice(WARMUP_STEPS).filter((_, i) => i + WARMUP_STEPS !== PROFILE_STEP);
  const samplesPerSec = stepSec.length > 0 ? median(stepSec.map((s, i) => (timedSamples[i] ?? 0) / s)) : plan.examplesPerStep[0]! / timed[0]!;
  if (!memory) throw new Error(`fine-tuning needs at least ${PROFILE_STEP + 1} steps to profile one (budget.train.steps is ${budget.steps})`);
  const mem: MemoryBreakdown = memory;
  const analytic = {
    weights: spec.analyticWeightsBytes,
    gradients: 4 * trainableCount,
    optimizer: 8 * trainableCount,
  };
  const lastTenth = losses.slice(-Math.max(1, Math.round(losses.length / 10)));
  const training: TrainingSummary = {
    steps: budget.steps, batchSize: budget.batchSize, seqLen: budget.seqLen,
    tokens: budget.steps * tokensPerStep, wallSec, tokensPerSec,
    finalLoss: lastTenth.reduce((a, b) => a + b, 0) / lastTenth.length,
  };
  ctx.log(`trained in ${wallSec.toFixed(1)} s: ${tokensPerSec.toFixed(0)} tokens/s (median of ${timed.length} steps), memory peak ${(mem.peakBytes / 2 ** 20).toFixed(1)} MiB `
    + `(weights ${(mem.weightsBytes / 2 ** 20).toFixed(2)}, gradients ${(mem.gradientsBytes / 2 ** 20).toFixed(2)}, optimizer ${(mem.optimizerBytes / 2 ** 20).toFixed(2)}, activations ${(mem.activationsBytes / 2 ** 20).toFixed(1)} MiB)`);
  return {
    training,
    memory: mem,
    metrics: {
      'memory.analyticWeightsBytes': analytic.weights,
      'memory.analyticGradientsBytes': analytic.gradients,
      'memory.analyticOptimizerBytes': analytic.optimizer,
      'train.samplesPerSec': samplesPerSec,
      'train.finalLoss': training.finalLoss,
    },
    notes: {
      'memory.peakBytes': `tf.profile().peakBytes over training step ${PROFILE_STEP + 1} minus the ${outsideBytes} engine bytes live before it that are not this training's (the cell's own copy of the base model, caches)`,
      'memory.weightsBytes': 'engine bytes added by building the trained model (clone, quantisation, adapters), measured with tf.memory()',
      'memory.gradientsBytes': 'engine bytes of the gradients tf.variableGrads returns for the trainable variables on the first batch, measured with tf.memory()',
      'memory.optimizerBytes': 'engine bytes added by creating AdamW\'s two moments, measured with tf.memory()',
      'memory.activationsBytes': 'peak minus weights, gradients and optimizer state: forward tensors kept for the backward pass, gradients of activations (tfjs frees them only when the backward pass ends), temporaries; tfjs counts bytes per tensor handle, so a buffer shared by two handles (a clone saved for the backward pass, a reshape) counts twice: an upper bound',
      'train.tokensPerSec': `median over ${timed.length} timed steps of (batch x row length) / step time; steps 1-${WARMUP_STEPS} (warm-up) and step ${PROFILE_STEP + 1} (profiled) not timed`,
    },
    inputs: {
      fineTuning: {
        lr: spec.lr, schedule: `linear warm-up over ${opts.warmupSteps} steps, cosine to ${opts.minLrRatio} x lr`,
        optimizer: { name: 'AdamW', beta1: opts.beta1, beta2: opts.beta2, eps: opts.eps, weightDecay: opts.weightDecay, clipNorm: opts.clipNorm },
        budget, dataOrderSeed: seedKey, trainableParameters: trainableCount,
        data: {
          ...plan.examples, epochs: plan.epochs, lossShare: plan.lossShare, paddingShare: plan.paddingShare, truncatedQuestions: plan.truncatedQuestions,
          loss: 'questions: answer tokens only; documents: every token',
        },
        finalLoss: 'mean training loss over the last tenth of the steps',
      },
    },
  };
}

/** Bytes of a folder's files (non-recursive is enough for checkpoints). */
function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** Writes `model` as a full checkpoint to a temporary folder and returns its size in bytes (folder removed). */
export async function fullCheckpointBytes(model: GPT, tokenizer: BpeTokenizer): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'adaptbench-ckpt-'));
  try {
    await saveCheckpoint(join(dir, 'checkpoint'), model, tokenizer, {});
    return folderBytes(join(dir, 'checkpoint'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An independent copy of `model` built from its weights. Why not GPT.clone(): it keeps the
 * intermediate clone of every variable alive (the variable shares its data), which doubles the
 * engine's byte count of the copy and would double the measured weights.
 */
export async function copyOf(model: GPT): Promise<GPT> {
  return GPT.fromWeights(model.config, await model.weights());
}

/** How a fine-tuning approach takes in changed facts: train further from the adapted model, or retrain from the base on everything. */
export const UPDATE_MODES = ['continue', 'retrain'] as const;
export type UpdateMode = (typeof UPDATE_MODES)[number];

/** `approach.<name>.update must be ...` when the update mode is not one of UPDATE_MODES. */
export function updateModeProblems(config: ApproachConfig, approach: string): string[] {
  return (UPDATE_MODES as readonly unknown[]).includes(config['update'])
    ? []
    : [`approach.${approach}.update must be ${UPDATE_MODES.join(' or ')} (got ${JSON.stringify(config['update'])}). Example: ${approach}:update=retrain`];
}

/**
 * The fine-tuning of a cell, with the suite's update where it has one. `continue` trains on the old
 * facts (the suite's data), then further on the rewritten documents and their questions for
 * update.steps with a fresh optimiser, as a team would resume from its adapted model. `retrain`
 * trains once, from the starting model, on everything as it now is: the rewritten documents in
 * place of the old, the training examples about no rewritten document, and the update's examples;
 * the update then costs that whole training.
 */
export async function fineTuneWithUpdate(ctx: CellContext, spec: FineTuneSpec): Promise<{ result: FineTuneResult; update?: UpdateOutcome }> {
  const update = ctx.data.update;
  if (!update || !ctx.suite.update) return { result: await fineTune(ctx, spec) };
  const steps = ctx.suite.update.steps;
  const { seqLen } = trainBudgetOf(ctx.suite, spec.model.config.nCtx);
  const rewritten = new Set(update.documents.map((d) => d.id));
  const mode = ctx.config['update'] as UpdateMode;
  if (mode === 'retrain') {
    const documents = dataAfterUpdate(ctx.data).documents;
    const train = [...ctx.data.train.filter((ex) => !ex.docIds.some((id) => rewritten.has(id))), ...update.train];
    const t0 = performance.now();
    const result = await fineTune(ctx, { ...spec, examples: trainingExamples(ctx.prompts, train, documents, seqLen), phase: 'retrain' });
    return {
      result,
      update: {
        how: `retrained from the base on everything as it now is: ${documents.length} documents (${update.documents.length} rewritten) and ${train.length} training examples, ${result.training.steps} steps`,
        wallSec: (performance.now() - t0) / 1000, tokens: result.training.tokens, peakBytes: result.memory.peakBytes, documents: documents.length, indexAgreement: null,
        notes: {
          'update.wallSec': 'the whole retraining from the base (the suite\'s training budget), which replaces the adaptation to the old facts',
          'update.peakBytes': 'tf.profile().peakBytes of a training step of the retraining',
          'update.indexAgreement': `${spec.approach} has no index`,
        },
        inputs: { update: { mode, examples: train.length, documents: documents.length, rewrittenDocuments: update.documents.length } },
      },
    };
  }
  const result = await fineTune(ctx, spec);
  const t0 = performance.now();
  const further = await fineTune(ctx, { ...spec, examples: trainingExamples(ctx.prompts, update.train, update.documents, seqLen), steps, phase: 'update' });
  return {
    result,
    update: {
      how: `trained further on the ${update.documents.length} rewritten documents and their ${update.train.length} questions: ${steps} steps, fresh AdamW, learning rate schedule restarted`,
      wallSec: (performance.now() - t0) / 1000, tokens: further.training.tokens, peakBytes: further.memory.peakBytes, documents: update.documents.length, indexAgreement: null,
      notes: {
        'update.wallSec': `${steps} training steps on the rewritten documents and their questions, from the adapted model`,
        'update.peakBytes': 'tf.profile().peakBytes of a training step of the update',
        'update.indexAgreement': `${spec.approach} has no index`,
      },
      inputs: { update: { mode, steps, finalLoss: further.training.finalLoss, examples: update.train.length, documents: update.documents.length } },
    },
  };
}
