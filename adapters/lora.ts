// LoRA: a frozen copy of the base with low-rank adapters (harness/engine/lora.ts) on the target
// layers; only A and B train. Served merged (W + (alpha/r)·A·B, no extra matmuls), which is how a
// LoRA model is deployed; the cell checks that merging changes the logits only by float rounding.
import { join } from 'node:path';
import { tf } from '../harness/engine/backend.js';
import type { ModelConfig } from '../harness/engine/config.js';
import { GPT } from '../harness/engine/model.js';
import { LoraAdapter, loraConfigProblems, loraModelProblems, loraSettingsOf, type LoraSettings } from '../harness/engine/lora.js';
import { restoreAdapter, snapshotAdapter } from '../harness/export/adapter-snapshot.js';
import { countBaseParameters } from '../harness/engine/params.js';
import { checkIds, fineTune, frozenCopyWith, fullCheckpointBytes, learningRateProblems, logitsOf, relMaxDiff, scratchDir } from './training.js';
import type { Approach, ApproachConfig, ApproachOutcome, CellContext, ServingForms } from './types.js';

/** LoRA options shared by lora and qlora: PEFT's common rank 8, alpha 2r, no dropout, the fused attention projection. */
export const LORA_DEFAULTS = Object.freeze({ rank: 8, alpha: 16, dropout: 0, targets: 'attn.c_attn' });

/**
 * The unmerged and as-trained forms of a LoRA model (lora, lora-rag), captured after training and
 * before merging: the frozen base's weights (training leaves them as they were) and A, B.
 */
export async function loraServingForms(model: GPT, adapter: LoraAdapter, settings: LoraSettings, seed: number): Promise<ServingForms> {
  if (adapter.merged) throw new Error('loraServingForms: capture the forms before merging');
  const weights = await model.weights();
  const snap = snapshotAdapter(adapter);
  return {
    unmerged: { weights, adapter: snap },
    asTrained: async () => {
      const m = GPT.fromWeights(model.config, weights);
      const a = new LoraAdapter(model.config, settings, seed);
      restoreAdapter(a, snap);
      m.adapter = a;
      return { model: m, dispose: () => { a.dispose(); m.dispose(); } };
    },
  };
}

/**
 * A trained LoRA model made ready to serve (lora, lora-rag): the adapter file's size, the unmerged
 * forms (for the latency measurements), then the merge, checked against the unmerged logits.
 */
export async function mergeTrainedLora(ctx: CellContext, approach: string, model: GPT, adapter: LoraAdapter, settings: LoraSettings, ids: tf.Tensor2D):
  Promise<{ adapterBytes: number; serving: ServingForms; mergeDiff: number; checkpointBytes: number }> {
  const scratch = scratchDir(approach);
  let adapterBytes: number;
  try {
    adapterBytes = adapter.save(join(scratch.dir, 'adapter.lora'), { baseCheckpoint: ctx.base.header.contentHash, suite: ctx.suite.name, seed: ctx.seed });
  } finally {
    scratch.remove();
  }
  const serving = await loraServingForms(model, adapter, settings, ctx.seed);
  const unmerged = logitsOf(model, ids);
  adapter.merge(model);
  model.adapter = null;
  const mergeDiff = relMaxDiff(logitsOf(model, ids), unmerged);
  const checkpointBytes = await fullCheckpointBytes(model, ctx.base.tokenizer);
  return { adapterBytes, serving, mergeDiff, checkpointBytes };
}

export const lora: Approach = Object.freeze({
  name: 'lora',
  description: 'LoRA: frozen base, trainable low-rank A·B on the target layers (rank, alpha, dropout, targets: attn.c_attn, c_proj, mlp.c_fc, ... or all); served merged.',
  // Adapters start at 0 and have few parameters: a learning rate ~10x full fine-tuning's, as is usual for LoRA.
  defaults: Object.freeze({ lr: 1e-2, ...LORA_DEFAULTS }),
  validateConfig: (config: ApproachConfig) => [...learningRateProblems(config, 'lora'), ...loraConfigProblems(config, 'approach.lora')],
  validateForModel: (config: ApproachConfig, model: ModelConfig) => loraModelProblems(config, model, 'approach.lora'),
  async run(ctx: CellContext): Promise<ApproachOutcome> {
    const settings = loraSettingsOf(ctx.config);
    const { model, adapter, weightsBytes } = await frozenCopyWith(ctx, (m) => (m.adapter = new LoraAdapter(m.config, settings, ctx.seed)));
    const ids = checkIds(ctx);
    try {
      const base = countBaseParameters(model.config);
      const trainable = adapter.parameterCount;
      const total = base + trainable;
      const r = await fineTune(ctx, {
        approach: 'lora', model, trainable: adapter.variables(), decayed: new Set(), lr: ctx.config['lr'] as number,
        weightDecay: 0, weightsBytes, analyticWeightsBytes: 4 * total, setTraining: (on) => { adapter.training = on; },
      });
      const { adapterBytes, serving, mergeDiff, checkpointBytes } = await mergeTrainedLora(ctx, 'lora', model, adapter, settings, ids);
      ctx.log(`merged the adapter: logits differ by ${mergeDiff.toExponential(2)} of their scale; adapter file ${adapterBytes} bytes, full checkpoint ${checkpointBytes} bytes`);
      return {
        model,
        prompts: async (examples) => ctx.prompts.closedBook(examples),
        params: { total, trainable },
        training: r.training,
        memory: r.memory,
        serving,
        extra: {
          metrics: {
            ...r.metrics,
            'memory.bitsPerBaseParam': 32,
            'artifact.adapterBytes': adapterBytes,
            'artifact.checkpointBytes': checkpointBytes,
            'serve.weightsBytes': 4 * base,
            'serve.mergeLogitsRelDiff': mergeDiff,
          },
          notes: {
            ...r.notes,
            'params.total': 'frozen base plus adapter parameters (as PEFT counts them); the merged model has the base\'s count',
            'serve.weightsBytes': 'served merged: (alpha/r)·A·B folded into the fp32 weights',
          },
          inputs: { ...r.inputs, lora: settings, served: 'merged into the fp32 base weights (forgetting and quality measured on the merged model)' },
        },
        dispose: () => {
          adapter.dispose();
          model.dispose();
        },
      };
    } catch (err) {
      adapter.dispose();
      model.dispose();
      throw err;
    } finally {
      ids.dispose();
    }
  },
});
