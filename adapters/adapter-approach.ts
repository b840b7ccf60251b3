// The path every adapter approach (lora, qlora, lora-rag) takes: a frozen copy of the base with an
// adapter, trained by the shared loop (training.ts), its adapter file sized, its other serving
// forms captured, then merged for serving and checked against the unmerged logits. A module states
// only what is its own (how the adapter attaches, how the base is stored, how it is served, its own
// measurements); what a cell holds is freed here, on success and on error alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../harness/engine/backend.js';
import type { ModelConfig } from '../harness/engine/config.js';
import type { LoraAdapter } from '../harness/engine/lora.js';
import type { GPT } from '../harness/engine/model.js';
import { countBaseParameters } from '../harness/engine/params.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { Example } from '../suites/types.js';
import type { TrainingExample } from '../tasks/prompts.js';
import { copyOf, fineTune, fineTuneWithUpdate, fullCheckpointBytes, type FineTuneResult, type FineTuneSpec } from './training.js';
import type { ApproachOutcome, CellContext, ServingForms } from './types.js';

/** What holds engine memory until it is freed: a model, an adapter, an index. */
export interface Owned {
  dispose(): void;
}

/** What an approach adds to the result: its own metrics, their notes, and what it was given. */
export type ApproachExtra = NonNullable<ApproachOutcome['extra']>;

/** How a trained adapter is served: the forms kept for the latency measurements, and the merge. */
export interface AdapterServing<A extends LoraAdapter> {
  /** For the log, e.g. 'merged the adapter'. */
  readonly merged: string;
  /** The as-trained and unmerged forms, captured before merging. */
  forms(model: GPT, adapter: A): Promise<ServingForms>;
  /** The model served: the trained model merged in place, or a new one (the trained one is then freed). */
  merge(model: GPT, adapter: A): GPT;
  /** Notes on the served model's counts and bytes (params.total, serve.weightsBytes). */
  readonly notes: Partial<Record<MetricId, string>>;
}

/** What one adapter approach states for itself; `P` is what its preparation hands to training and to its extra. */
export interface AdapterRecipe<A extends LoraAdapter, P> {
  /** Registry name: messages, the scratch folder. */
  readonly approach: string;
  /** Attaches a fresh adapter to the copy of the base (and, for qlora, quantises it). */
  attach(model: GPT): A;
  /** Bytes of the frozen base's weights as stored for training, from the closed-form counts; fp32 when absent. */
  readonly baseWeightsBytes?: (config: ModelConfig) => number;
  /** Entries of the adapter file's header beside the base checkpoint, suite and seed. */
  readonly adapterFileMeta?: Readonly<Record<string, unknown>>;
  /** Work on the adapted copy before training (measurements, training examples). */
  prepare?(model: GPT, adapter: A): P;
  /** The examples to train on instead of the suite's (lora-rag's retrieval-augmented ones). */
  examples?(prepared: P): readonly TrainingExample[];
  readonly serving: AdapterServing<A>;
  /** The prompt for each test example (closed-book, or with retrieved passages). */
  prompts(examples: readonly Example[]): Promise<string[]>;
  /** The approach's own metrics, notes and inputs, once trained. */
  extra(training: FineTuneResult, prepared: P): ApproachExtra;
  /** What the approach built before the copy (lora-rag's index): freed with the rest. */
  readonly owns?: readonly Owned[];
}

/** Runs an adapter approach for one cell; see the top of this file. */
export async function runAdapterApproach<A extends LoraAdapter, P = void>(ctx: CellContext, recipe: AdapterRecipe<A, P>): Promise<ApproachOutcome> {
  // Freed last-acquired first, with the outcome or on the first error.
  const owned: Owned[] = [...(recipe.owns ?? [])];
  const free = (): void => { for (const x of owned.splice(0).reverse()) x.dispose(); };
  let ids: tf.Tensor2D | null = null;
  try {
    // The copy and its adapter are the trained model's weights as the cell measures them.
    const before = tf.memory().numBytes;
    const model = await copyOf(ctx.base.model);
    owned.push(model);
    const adapter = recipe.attach(model);
    owned.push(adapter);
    const weightsBytes = tf.memory().numBytes - before;
    for (const v of model.params.values()) v.trainable = false;
    ids = checkIds(ctx);

    const prepared = recipe.prepare ? recipe.prepare(model, adapter) : (undefined as P);
    const base = countBaseParameters(model.config);
    const trainable = adapter.parameterCount;
    const baseBytes = recipe.baseWeightsBytes?.(model.config) ?? 4 * base;
    const spec: FineTuneSpec = {
      approach: recipe.approach, model, trainable: adapter.variables(), decayed: new Set(), lr: ctx.config['lr'] as number,
      weightDecay: 0, weightsBytes, analyticWeightsBytes: baseBytes + 4 * trainable, setTraining: (on) => { adapter.training = on; },
      ...(recipe.examples ? { examples: recipe.examples(prepared) } : {}),
    };
    // An approach with its own examples (lora-rag) takes in changed facts by its index, not by training.
    const { result: t, update } = recipe.examples ? { result: await fineTune(ctx, spec), update: undefined } : await fineTuneWithUpdate(ctx, spec);

    const scratch = scratchDir(recipe.approach);
    let adapterBytes: number;
    try {
      adapterBytes = adapter.save(join(scratch.dir, 'adapter.lora'), { baseCheckpoint: ctx.base.header.contentHash, ...recipe.adapterFileMeta, suite: ctx.suite.name, seed: ctx.seed });
    } finally {
      scratch.remove();
    }
    const serving = await recipe.serving.forms(model, adapter);
    const unmerged = logitsOf(model, ids);
    const served = recipe.serving.merge(model, adapter);
    if (served !== model) owned.push(served);
    const mergeDiff = relMaxDiff(logitsOf(served, ids), unmerged);
    const checkpointBytes = await fullCheckpointBytes(served, ctx.base.tokenizer);
    ctx.log(`${recipe.serving.merged}: logits differ by ${mergeDiff.toExponential(2)} of their scale; adapter file ${adapterBytes} bytes, full checkpoint ${checkpointBytes} bytes`);
    if (served !== model) {
      // Only the merged model is served: the trained one goes now, not with the outcome.
      for (const x of [adapter, model]) {
        x.dispose();
        owned.splice(owned.indexOf(x), 1);
      }
    }

    const own = recipe.extra(t, prepared);
    return {
      model: served,
      prompts: recipe.prompts,
      params: { total: base + trainable, trainable },
      training: t.training,
      memory: t.memory,
      serving,
      extra: {
        metrics: {
          ...t.metrics,
          ...own.metrics,
          'memory.bitsPerBaseParam': (8 * baseBytes) / base,
          'artifact.adapterBytes': adapterBytes,
          'artifact.checkpointBytes': checkpointBytes,
          'serve.weightsBytes': 4 * base,
          'serve.mergeLogitsRelDiff': mergeDiff,
        },
        notes: { ...t.notes, ...own.notes, ...recipe.serving.notes },
        inputs: { ...t.inputs, ...own.inputs },
      },
      ...(update ? { update } : {}),
      dispose: free,
    };
  } catch (err) {
    free();
    throw err;
  } finally {
    ids?.dispose();
  }
}

/** A scratch folder for one approach's files, removed by the returned function. */
function scratchDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `adaptbench-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Two rows of 32 tokens from the suite's first documents (or, without documents, its first training
 * prompts): a fixed input to compare two forms of a model on.
 */
export function checkIds(ctx: CellContext): tf.Tensor2D {
  const rows = 2, len = 32;
  const tok = ctx.base.tokenizer;
  const texts = ctx.prompts.sampleTexts(ctx.data);
  const ids: number[] = [];
  for (const text of texts) {
    ids.push(...tok.encode(text), tok.eotId);
    if (ids.length >= rows * len) break;
  }
  while (ids.length < rows * len) ids.push(tok.eotId);
  return tf.tensor2d(ids.slice(0, rows * len), [rows, len], 'int32');
}

/** The model's logits for `ids`, as plain numbers. */
export function logitsOf(model: GPT, ids: tf.Tensor2D): Float32Array {
  const t = tf.tidy(() => model.logits(model.hidden(ids)));
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

/** Max |a - b| / max |b|. */
export function relMaxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / Math.max(s, 1e-12);
}
