// Full fine-tuning: a copy of the base with every parameter trainable, AdamW, on the suite's
// training data and budget (adapters/training.ts). It serves as trained, and ships a full checkpoint.
import { tf } from '../harness/engine/backend.js';
import { countBaseParameters } from '../harness/engine/params.js';
import { copyOf, fineTuneWithUpdate, fullCheckpointBytes, learningRateProblems, updateModeProblems } from './training.js';
import type { Approach, ApproachConfig, ApproachOutcome, CellContext } from './types.js';

/** AdamW's decoupled decay on linear and embedding weights, as in pretraining. */
export const FULL_FT_WEIGHT_DECAY = 0.01;

export const fullFt: Approach = Object.freeze({
  name: 'full-ft',
  description: 'Full fine-tuning: every parameter trainable (AdamW) on the training questions and documents; ships a full checkpoint. On a suite with an update, update=continue trains further on the changed documents, update=retrain retrains from the base on everything.',
  defaults: Object.freeze({ lr: 1e-3, update: 'continue' }),
  validateConfig: (config: ApproachConfig) => [...learningRateProblems(config, 'full-ft'), ...updateModeProblems(config, 'full-ft')],
  async run(ctx: CellContext): Promise<ApproachOutcome> {
    const before = tf.memory().numBytes;
    const model = await copyOf(ctx.base.model);
    const weightsBytes = tf.memory().numBytes - before;
    try {
      const total = countBaseParameters(model.config);
      const decayed = new Set(model.specs.filter((s) => s.kind === 'linear' || s.kind === 'embedding').map((s) => s.name));
      const { result: r, update } = await fineTuneWithUpdate(ctx, {
        approach: 'full-ft', model, trainable: model.params, decayed, lr: ctx.config['lr'] as number,
        weightDecay: FULL_FT_WEIGHT_DECAY, weightsBytes, analyticWeightsBytes: 4 * total,
      });
      const checkpointBytes = await fullCheckpointBytes(model, ctx.base.tokenizer);
      return {
        model,
        prompts: async (examples) => ctx.prompts.closedBook(examples),
        params: { total, trainable: total },
        training: r.training,
        memory: r.memory,
        extra: {
          metrics: {
            ...r.metrics,
            'memory.bitsPerBaseParam': 32,
            'artifact.checkpointBytes': checkpointBytes,
            'artifact.adapterBytes': null,
            'serve.weightsBytes': 4 * total,
          },
          notes: { ...r.notes, 'artifact.adapterBytes': 'full-ft has no adapter: it ships the full checkpoint' },
          inputs: { ...r.inputs, served: 'the fine-tuned fp32 model as trained' },
        },
        ...(update ? { update } : {}),
        dispose: () => model.dispose(),
      };
    } catch (err) {
      model.dispose();
      throw err;
    }
  },
});
