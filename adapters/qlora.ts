// QLoRA: the base's linear weights stored in NF4 with double-quantised absmax constants
// (harness/engine/nf4.ts), dequantised on the fly in the forward pass, with LoRA adapters on the
// target layers trained in fp32. Served merged, which gives a full-precision model (dequantised
// NF4 + (alpha/r)·A·B in fp32): the same function as the 4-bit base with its adapter, not 4-bit.
import { heldOutCapability } from '../datasets/capability.js';
import type { ModelConfig } from '../harness/engine/config.js';
import type { GPT } from '../harness/engine/model.js';
import { QloraAdapter, loraConfigProblems, loraModelProblems, loraSettingsOf, type LoraSettings } from '../harness/engine/lora.js';
import type { QuantizationError } from '../harness/engine/nf4.js';
import { countLinearWeights, countQloraBaseBytes } from '../harness/engine/params.js';
import { brownCrossEntropy } from '../harness/engine/evaluate.js';
import { restoreAdapter, snapshotAdapter } from '../harness/export/adapter-snapshot.js';
import { runAdapterApproach, type AdapterServing } from './adapter-approach.js';
import { LORA_DEFAULTS } from './lora.js';
import { copyOf, learningRateProblems, updateModeProblems } from './training.js';
import type { Approach, ApproachConfig, ApproachOutcome, CellContext } from './types.js';

/** Why a QLoRA model has no unmerged ONNX form here (the note on its unmerged latency metrics). */
export const QLORA_UNMERGED_NOTE = 'no unmerged ONNX form: ONNX has no NF4 operator (onnxruntime\'s 4-bit MatMulNBits is int4 with zero points), so the graph would hold the dequantised fp32 base plus the branch x·A·B, the same graph and cost as lora\'s unmerged row';

/** Held-out Brown tokens on which the cost of quantising alone is measured. */
export const QUANT_CE_TOKENS = 16_384;

/** What quantising the base did and cost, measured on the adapted copy before training. */
interface QuantCost {
  /** Engine bytes of the NF4 storage, and how many weights it holds. */
  readonly quantizedBytes: number;
  readonly quantizedWeights: number;
  readonly error: QuantizationError;
  /** Median milliseconds to dequantise every NF4 layer once. */
  readonly dequantMs: number;
  /** Held-out Brown cross-entropy of the NF4 base (B = 0) and of the fp32 base. */
  readonly ceQuant: number;
  readonly ceBase: number;
}

export const qlora: Approach = Object.freeze({
  name: 'qlora',
  description: 'QLoRA: LoRA over a base whose linear weights are stored in 4-bit NF4 (block 64, double-quantised absmax), dequantised on the fly; merging gives a full-precision model.',
  defaults: Object.freeze({ lr: 1e-2, ...LORA_DEFAULTS, update: 'continue' }),
  validateConfig: (config: ApproachConfig) => [...learningRateProblems(config, 'qlora'), ...loraConfigProblems(config, 'approach.qlora'), ...updateModeProblems(config, 'qlora')],
  validateForModel: (config: ApproachConfig, model: ModelConfig) => loraModelProblems(config, model, 'approach.qlora'),
  async run(ctx: CellContext): Promise<ApproachOutcome> {
    const settings = loraSettingsOf(ctx.config);
    return runAdapterApproach<QloraAdapter, QuantCost>(ctx, {
      approach: 'qlora',
      attach: (m) => QloraAdapter.attach(m, settings, ctx.seed),
      baseWeightsBytes: countQloraBaseBytes,
      adapterFileMeta: { baseQuantization: 'NF4, block 64, absmax double-quantised (8-bit dynamic map, block 256)' },
      prepare: (model, adapter) => quantCost(ctx, model, adapter),
      serving: fullPrecision(ctx, settings),
      prompts: async (examples) => ctx.prompts.closedBook(examples),
      extra: (t, q) => ({
        metrics: {
          'quant.bitsPerQuantizedWeight': (8 * q.quantizedBytes) / q.quantizedWeights,
          'quant.meanAbsError': q.error.meanAbs,
          'quant.maxAbsError': q.error.maxAbs,
          'quant.meanRelError': q.error.meanRel,
          'quant.maxRelError': q.error.maxRel,
          'quant.ceDelta': q.ceQuant - q.ceBase,
        },
        notes: {
          'params.total': 'quantised base parameters plus adapter parameters',
          'memory.bitsPerBaseParam': 'NF4 linear weights (4.127 bits) with fp32 embeddings, norms and biases, over all base parameters',
        },
        inputs: {
          qlora: { ...settings, dequantizeAllLayersMs: q.dequantMs, dequantizeShareOfStep: q.dequantMs / 1000 / (t.training.batchSize * t.training.seqLen / t.training.tokensPerSec), quantized: 'every linear weight (c_attn, attn.c_proj, c_fc, mlp.c_proj); embeddings, norms and biases stay fp32', nf4Block: 64, absmaxBlock: 256 },
          served: 'merged into a full-precision (fp32) model: dequantised NF4 + (alpha/r)·A·B; forgetting and quality measured on it (the same function as the 4-bit base with its adapter)',
        },
      }),
    });
  },
});

/** Logs what quantising did and measures what it costs: dequantisation time and held-out cross-entropy. */
function quantCost(ctx: CellContext, model: GPT, adapter: QloraAdapter): QuantCost {
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
  return { quantizedBytes, quantizedWeights: countLinearWeights(model.config), error: err, dequantMs, ceQuant, ceBase };
}

/**
 * Served merged into a new full-precision model (dequantised NF4 + (alpha/r)·A·B). As trained, for
 * serving from tfjs: the same NF4 base (quantisation is deterministic) and A, B; no unmerged form.
 */
function fullPrecision(ctx: CellContext, settings: LoraSettings): AdapterServing<QloraAdapter> {
  return {
    merged: 'merged into a full-precision model',
    async forms(_model, adapter) {
      const snap = snapshotAdapter(adapter);
      return {
        unmerged: { unavailable: QLORA_UNMERGED_NOTE },
        asTrained: async () => {
          const m = await copyOf(ctx.base.model);
          const a = QloraAdapter.attach(m, settings, ctx.seed);
          restoreAdapter(a, snap);
          return { model: m, dispose: () => { a.dispose(); m.dispose(); } };
        },
      };
    },
    merge: (model, adapter) => adapter.toFullPrecision(model),
    notes: { 'serve.weightsBytes': 'merging a QLoRA model gives a full-precision model: dequantised NF4 + (alpha/r)·A·B in fp32, 4 bytes per parameter' },
  };
}

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
