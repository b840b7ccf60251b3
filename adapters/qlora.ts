// QLoRA: the base's linear weights stored in NF4 with double-quantised absmax constants
// (harness/engine/nf4.ts), dequantised on the fly in the forward pass, with LoRA adapters on the
// target layers trained in fp32. Served merged, which gives a full-precision model (dequantised
// NF4 + (alpha/r)·A·B in fp32): the same function as the 4-bit base with its adapter, not 4-bit.
import { join } from 'node:path';
import { heldOutCapability } from '../datasets/capability.js';
import type { ModelConfig } from '../harness/engine/config.js';
import type { GPT } from '../harness/engine/model.js';
import { QloraAdapter, loraConfigProblems, loraModelProblems, loraSettingsOf } from '../harness/engine/lora.js';
import { countBaseParameters, countLinearWeights, countQloraBaseBytes } from '../harness/engine/params.js';
import { brownCrossEntropy } from '../harness/engine/evaluate.js';
import { restoreAdapter, snapshotAdapter } from '../harness/export/adapter-snapshot.js';
import { LORA_DEFAULTS } from './lora.js';
import { checkIds, copyOf, fineTune, frozenCopyWith, fullCheckpointBytes, learningRateProblems, logitsOf, relMaxDiff, scratchDir } from './training.js';
import type { Approach, ApproachConfig, ApproachOutcome, CellContext, ServingForms } from './types.js';

/** Why a QLoRA model has no unmerged ONNX form here (the note on its unmerged latency metrics). */
export const QLORA_UNMERGED_NOTE = 'no unmerged ONNX form: ONNX has no NF4 operator (onnxruntime\'s 4-bit MatMulNBits is int4 with zero points), so the graph would hold the dequantised fp32 base plus the branch x·A·B, the same graph and cost as lora\'s unmerged row';

/** Held-out Brown tokens on which the cost of quantising alone is measured. */
export const QUANT_CE_TOKENS = 16_384;

export const qlora: Approach = Object.freeze({
  name: 'qlora',
  description: 'QLoRA: LoRA over a base whose linear weights are stored in 4-bit NF4 (block 64, double-quantised absmax), dequantised on the fly; merging gives a full-precision model.',
  defaults: Object.freeze({ lr: 1e-2, ...LORA_DEFAULTS }),
  validateConfig: (config: ApproachConfig) => [...learningRateProblems(config, 'qlora'), ...loraConfigProblems(config, 'approach.qlora')],
  validateForModel: (config: ApproachConfig, model: ModelConfig) => loraModelProblems(config, model, 'approach.qlora'),
  async run(ctx: CellContext): Promise<ApproachOutcome> {
    const settings = loraSettingsOf(ctx.config);
    const { model, adapter, weightsBytes } = await frozenCopyWith(ctx, (m) => QloraAdapter.attach(m, settings, ctx.seed));
    const ids = checkIds(ctx);
    let served: GPT | null = null;
    try {
      const config = model.config;
      const base = countBaseParameters(config);
      const trainable = adapter.parameterCount;
      const total = base + trainable;
      const baseBytes = countQloraBaseBytes(config);
      const quantizedBytes = adapter.quantizedBytes;
      const err = adapter.quantizationError;
      ctx.log(`quantised ${adapter.quantizedCount.toLocaleString('en-US')} linear weights to NF4: ${quantizedBytes} bytes (${((8 * quantizedBytes) / adapter.quantizedCount).toFixed(4)} bits each), `
        + `error mean ${err.meanAbs.toExponential(3)} (${(100 * err.meanRel).toFixed(2)}% of mean |w|), max ${err.maxAbs.toExponential(3)}`);

      // On-the-fly dequantisation must not be what a step waits for: time it for every layer.
      const dequantMs = dequantizeAllMs(adapter);
      ctx.log(`dequantising all ${adapter.quantized.size} NF4 layers takes ${dequantMs.toFixed(2)} ms (median of 5), once per forward pass`);

      // The cost of quantising alone: B = 0, so this is exactly the NF4 base.
      const brown = heldOutCapability(ctx.seed).brown;
      const ceQuant = brownCrossEntropy(model, ctx.base.tokenizer, brown, QUANT_CE_TOKENS).ce;
      const ceBase = brownCrossEntropy(ctx.base.model, ctx.base.tokenizer, brown, QUANT_CE_TOKENS).ce;
      ctx.log(`held-out Brown CE on ${QUANT_CE_TOKENS} tokens: fp32 base ${ceBase.toFixed(4)}, NF4 base ${ceQuant.toFixed(4)}`);

      const r = await fineTune(ctx, {
        approach: 'qlora', model, trainable: adapter.variables(), decayed: new Set(), lr: ctx.config['lr'] as number,
        weightDecay: 0, weightsBytes, analyticWeightsBytes: baseBytes + 4 * trainable, setTraining: (on) => { adapter.training = on; },
      });
      const scratch = scratchDir('qlora');
      let adapterBytes: number;
      try {
        adapterBytes = adapter.save(join(scratch.dir, 'adapter.lora'), {
          baseCheckpoint: ctx.base.header.contentHash, baseQuantization: 'NF4, block 64, absmax double-quantised (8-bit dynamic map, block 256)', suite: ctx.suite.name, seed: ctx.seed,
        });
      } finally {
        scratch.remove();
      }
      // As trained, for serving from tfjs: the same NF4 base (quantisation is deterministic) and A, B.
      const snap = snapshotAdapter(adapter);
      const serving: ServingForms = {
        unmerged: { unavailable: QLORA_UNMERGED_NOTE },
        asTrained: async () => {
          const m = await copyOf(ctx.base.model);
          const a = QloraAdapter.attach(m, settings, ctx.seed);
          restoreAdapter(a, snap);
          return { model: m, dispose: () => { a.dispose(); m.dispose(); } };
        },
      };
      const unmerged = logitsOf(model, ids);
      served = adapter.toFullPrecision(model);
      const mergeDiff = relMaxDiff(logitsOf(served, ids), unmerged);
      const checkpointBytes = await fullCheckpointBytes(served, ctx.base.tokenizer);
      ctx.log(`merged into a full-precision model: logits differ by ${mergeDiff.toExponential(2)} of their scale; adapter file ${adapterBytes} bytes`);
      const result = served;
      return {
        model: result,
        prompts: async (examples) => ctx.prompts.closedBook(examples),
        params: { total, trainable },
        training: r.training,
        memory: r.memory,
        serving,
        extra: {
          metrics: {
            ...r.metrics,
            'memory.bitsPerBaseParam': (8 * baseBytes) / base,
            'quant.bitsPerQuantizedWeight': (8 * quantizedBytes) / countLinearWeights(config),
            'quant.meanAbsError': err.meanAbs,
            'quant.maxAbsError': err.maxAbs,
            'quant.meanRelError': err.meanRel,
            'quant.maxRelError': err.maxRel,
            'quant.ceDelta': ceQuant - ceBase,
            'artifact.adapterBytes': adapterBytes,
            'artifact.checkpointBytes': checkpointBytes,
            'serve.weightsBytes': 4 * base,
            'serve.mergeLogitsRelDiff': mergeDiff,
          },
          notes: {
            ...r.notes,
            'params.total': 'quantised base parameters plus adapter parameters',
            'memory.bitsPerBaseParam': 'NF4 linear weights (4.127 bits) with fp32 embeddings, norms and biases, over all base parameters',
            'serve.weightsBytes': 'merging a QLoRA model gives a full-precision model: dequantised NF4 + (alpha/r)·A·B in fp32, 4 bytes per parameter',
          },
          inputs: {
            ...r.inputs,
            qlora: { ...settings, dequantizeAllLayersMs: dequantMs, dequantizeShareOfStep: dequantMs / 1000 / (r.training.batchSize * r.training.seqLen / r.training.tokensPerSec), quantized: 'every linear weight (c_attn, attn.c_proj, c_fc, mlp.c_proj); embeddings, norms and biases stay fp32', nf4Block: 64, absmaxBlock: 256 },
            served: 'merged into a full-precision (fp32) model: dequantised NF4 + (alpha/r)·A·B; forgetting and quality measured on it (the same function as the 4-bit base with its adapter)',
          },
        },
        dispose: () => result.dispose(),
      };
    } catch (e) {
      served?.dispose();
      throw e;
    } finally {
      ids.dispose();
      adapter.dispose();
      model.dispose();
    }
  },
});

/** Median over 5 runs of the milliseconds to dequantise every NF4 layer once (what one forward pass adds). */
function dequantizeAllMs(adapter: QloraAdapter): number {
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    for (const q of adapter.quantized.values()) {
      const w = q.dequantize();
      w.dataSync();
      w.dispose();
    }
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[2]!;
}
