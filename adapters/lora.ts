// LoRA: a frozen copy of the base with low-rank adapters (harness/engine/lora.ts) on the target
// layers; only A and B train. Served merged (W + (alpha/r)·A·B, no extra matmuls), which is how a
// LoRA model is deployed; the cell checks that merging changes the logits only by float rounding.
import type { ModelConfig } from '../harness/engine/config.js';
import { GPT } from '../harness/engine/model.js';
import { LoraAdapter, loraConfigProblems, loraModelProblems, loraSettingsOf, type LoraSettings } from '../harness/engine/lora.js';
import { restoreAdapter, snapshotAdapter } from '../harness/export/adapter-snapshot.js';
import { runAdapterApproach, type AdapterServing } from './adapter-approach.js';
import { learningRateProblems, updateModeProblems } from './training.js';
import type { Approach, ApproachConfig, ApproachOutcome, CellContext } from './types.js';

/** LoRA options shared by lora and qlora: PEFT's common rank 8, alpha 2r, no dropout, the fused attention projection. */
export const LORA_DEFAULTS = Object.freeze({ rank: 8, alpha: 16, dropout: 0, targets: 'attn.c_attn' });

/**
 * Served merged in place (lora, lora-rag): the unmerged and as-trained forms are captured first,
 * from the frozen base's weights (training leaves them as they were) and A, B.
 */
export function mergedLora(settings: LoraSettings, seed: number): AdapterServing<LoraAdapter> {
  return {
    merged: 'merged the adapter',
    async forms(model, adapter) {
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
    },
    merge(model, adapter) {
      adapter.merge(model);
      model.adapter = null;
      return model;
    },
    notes: {
      'params.total': 'frozen base plus adapter parameters (as PEFT counts them); the merged model has the base\'s count',
      'serve.weightsBytes': 'served merged: (alpha/r)·A·B folded into the fp32 weights',
    },
  };
}

export const lora: Approach = Object.freeze({
  name: 'lora',
  description: 'LoRA: frozen base, trainable low-rank A·B on the target layers (rank, alpha, dropout, targets: attn.c_attn, c_proj, mlp.c_fc, ... or all); served merged.',
  // Adapters start at 0 and have few parameters: a learning rate ~10x full fine-tuning's, as is usual for LoRA.
  defaults: Object.freeze({ lr: 1e-2, ...LORA_DEFAULTS, update: 'continue' }),
  validateConfig: (config: ApproachConfig) => [...learningRateProblems(config, 'lora'), ...loraConfigProblems(config, 'approach.lora'), ...updateModeProblems(config, 'lora')],
  validateForModel: (config: ApproachConfig, model: ModelConfig) => loraModelProblems(config, model, 'approach.lora'),
  async run(ctx: CellContext): Promise<ApproachOutcome> {
    const settings = loraSettingsOf(ctx.config);
    return runAdapterApproach(ctx, {
      approach: 'lora',
      attach: (m) => (m.adapter = new LoraAdapter(m.config, settings, ctx.seed)),
      serving: mergedLora(settings, ctx.seed),
      prompts: async (examples) => ctx.prompts.closedBook(examples),
      extra: () => ({ inputs: { lora: settings, served: 'merged into the fp32 base weights (forgetting and quality measured on the merged model)' } }),
    });
  },
});
