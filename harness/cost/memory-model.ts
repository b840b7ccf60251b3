// A closed-form model of training memory, by category (weights as stored, gradients, optimizer
// state, activations), for GPT-2- and Llama-family shapes, three precisions, two optimizers and
// three approaches. It is checked against `bench cost`'s measurements at GPT-2 small and medium
// shapes before it is used to project to sizes this machine cannot train.
import { ABSMAX_BLOCK, NF4_BLOCK, nf4StoredBytes } from '../engine/params.js';
import { countShapeParameters, type ModelShape } from './shapes.js';

export const PRECISIONS = ['fp32', 'bf16-mixed', 'bf16'] as const;
/** fp32 everywhere (this engine); bf16 compute with fp32 master weights and fp32 gradients (PyTorch AMP); bf16 weights, gradients and optimizer state. */
export type Precision = (typeof PRECISIONS)[number];
export const OPTIMIZERS = ['adamw', 'adamw-8bit'] as const;
export type Optimizer = (typeof OPTIMIZERS)[number];

export type Approach =
  | { readonly kind: 'full' }
  | { readonly kind: 'lora'; readonly rank: number; readonly targets: LoraTargets }
  /** QLoRA: frozen linear weights in NF4 with double-quantised absmax (bits 4), or LLM.int8-style 8-bit (bits 8). */
  | { readonly kind: 'qlora'; readonly rank: number; readonly targets: LoraTargets; readonly bits: 4 | 8 };

/** Which linear layers carry adapters: the attention's query/key/value projection(s) only, or every linear layer. */
export type LoraTargets = 'qkv' | 'qv' | 'all';

/**
 * How activations are counted.
 * - `engine`: this engine (tfjs, fp32, fused kernels) on a backend, fitted to its own tf.profile censuses.
 * - `korthikanti`: a PyTorch-style 16-bit training step, Korthikanti et al. 2022, "Reducing Activation
 *   Recomputation in Large Transformer Models", eq. (1): s·b·h·(34 + 5·a·s/h) bytes per layer; with
 *   `recompute` (full activation checkpointing) only each layer's 2·s·b·h-byte input is kept, plus one
 *   layer's activations while it is recomputed; with `flash`, no s x s attention matrix is kept (the 5·a·s/h term).
 */
export type ActivationAccounting =
  | { readonly kind: 'engine'; readonly backend: 'wasm' | 'cpu' }
  | { readonly kind: 'korthikanti'; readonly recompute: boolean; readonly flash: boolean };

export interface MemoryModelInput {
  readonly shape: ModelShape;
  readonly approach: Approach;
  readonly precision: Precision;
  readonly optimizer: Optimizer;
  readonly batch: number;
  readonly seqLen: number;
  readonly activations: ActivationAccounting;
}

export interface MemoryPrediction {
  readonly params: { readonly total: number; readonly trainable: number };
  readonly weightsBytes: number;
  readonly gradientsBytes: number;
  readonly optimizerBytes: number;
  readonly activationsBytes: number;
  /** The sum of the four. */
  readonly peakBytes: number;
  /** How each category was counted, one line each. */
  readonly formulas: Readonly<Record<'weights' | 'gradients' | 'optimizer' | 'activations', string>>;
}

interface LinearLayer {
  readonly rows: number;
  readonly cols: number;
  /** Whether LoRA with `targets` adapts it. */
  readonly targeted: (t: LoraTargets) => boolean;
}

/** The linear layers of one block, [in, out]. */
function blockLinears(s: ModelShape): LinearLayer[] {
  const d = s.width, kv = (s.kvHeads * d) / s.heads, f = s.mlpWidth;
  if (s.family === 'gpt2') {
    return [
      { rows: d, cols: 3 * d, targeted: () => true }, // attn.c_attn (q, k, v fused)
      { rows: d, cols: d, targeted: (t) => t === 'all' },
      { rows: d, cols: f, targeted: (t) => t === 'all' },
      { rows: f, cols: d, targeted: (t) => t === 'all' },
    ];
  }
  return [
    { rows: d, cols: d, targeted: () => true }, // q_proj
    { rows: d, cols: kv, targeted: (t) => t !== 'qv' }, // k_proj
    { rows: d, cols: kv, targeted: () => true }, // v_proj
    { rows: d, cols: d, targeted: (t) => t === 'all' }, // o_proj
    { rows: d, cols: f, targeted: (t) => t === 'all' }, // gate_proj
    { rows: d, cols: f, targeted: (t) => t === 'all' }, // up_proj
    { rows: f, cols: d, targeted: (t) => t === 'all' }, // down_proj
  ];
}

/** LoRA parameters: r·(in + out) per adapted layer per block. */
export function loraParameters(s: ModelShape, rank: number, targets: LoraTargets): number {
  return s.layers * blockLinears(s).filter((l) => l.targeted(targets)).reduce((n, l) => n + rank * (l.rows + l.cols), 0);
}

/** Bytes of one frozen linear matrix quantised to `bits`: NF4 with double quantisation (as harness/engine/nf4.ts stores it), or int8 with an fp32 scale per row. */
function quantizedBytes(rows: number, cols: number, bits: 4 | 8): number {
  return bits === 4 ? nf4StoredBytes(rows * cols) : rows * cols + 4 * rows;
}

/**
 * Activations of this engine (tfjs, fp32, fused kernels), as counts of fp32 values (4 bytes each),
 * in the form of Korthikanti's per-layer s·b·h·(34 + 5·a·s/h):
 *   4 x [ L x (perTokenWidth·N·d + perScore·B·H·T² + perWidthSq·d²) + perTokenVocab·N·V + perVocabWidth·V·d + perTokenWidthOut·N·d ]
 * (N = B·T tokens). Why not 34 and 5: the engine keeps fp32 (4 bytes, not 2) and tfjs keeps every
 * tensor of the forward pass until the backward pass ends: each linear's product and its
 * bias-added sum, customGrad's output copies, the attention probabilities and their copy (2 per
 * score), the logits and their softmax (2 per N·V); on wasm and cpu the tied embedding is copied
 * for the gather and for the head (2 per V·d). LoRA adds its x·A·B branch on c_attn (5.5 more per
 * token and width). For full fine-tuning the peak falls late in the backward pass, where a
 * weight-sized operand of every layer is live (12·d² per layer; the gradients are their own
 * category); for QLoRA the backward pass dequantises NF4 weights again (10·d² per layer).
 * The counts were read off least-squares fits of tf.profile peaks at 11 small shapes per approach
 * (V 1000-5000, d 64-768, 1-3 layers, 4-12 heads, 32-128 tokens, wasm; full fine-tuning on the cpu
 * backend gave the same bytes at the 9 shapes tried), which the rounded counts reproduce within 1.5%; `bench cost` checks them at GPT-2 small
 * and medium shapes.
 */
export const ENGINE_ACTIVATION_COUNTS = Object.freeze({
  full: { perTokenWidth: 39, perScore: 2, perWidthSq: 12, perTokenVocab: 2, perVocabWidth: 4, perTokenWidthOut: 15 },
  lora: { perTokenWidth: 44.5, perScore: 2, perWidthSq: 0, perTokenVocab: 2, perVocabWidth: 2, perTokenWidthOut: 11 },
  qlora: { perTokenWidth: 48.5, perScore: 2, perWidthSq: 10, perTokenVocab: 2, perVocabWidth: 2, perTokenWidthOut: 2 },
} as const);

export function predictMemory(input: MemoryModelInput): MemoryPrediction {
  const { shape: s, approach: a, precision, optimizer } = input;
  const P = countShapeParameters(s);
  const trainable = a.kind === 'full' ? P : loraParameters(s, a.rank, a.targets);
  const computeBytes = precision === 'fp32' ? 4 : 2;

  // Weights as stored.
  let weightsBytes: number;
  let weights: string;
  if (a.kind === 'full') {
    weightsBytes = precision === 'bf16-mixed' ? 6 * P : computeBytes * P;
    weights = precision === 'bf16-mixed' ? '4 B fp32 master + 2 B bf16 copy per parameter' : `${computeBytes} B per parameter`;
  } else {
    // Adapters train in fp32 (PEFT keeps them in fp32 under autocast; this engine is fp32 throughout).
    const adapterBytes = 4 * trainable;
    if (a.kind === 'lora') {
      weightsBytes = computeBytes * P + adapterBytes;
      weights = `frozen base ${computeBytes} B per parameter + adapters 4 B per parameter`;
    } else {
      let linearCount = 0, linearBytes = 0;
      for (const l of blockLinears(s)) {
        linearCount += s.layers * l.rows * l.cols;
        linearBytes += s.layers * quantizedBytes(l.rows, l.cols, a.bits);
      }
      weightsBytes = linearBytes + computeBytes * (P - linearCount) + adapterBytes;
      weights = a.bits === 4
        ? `linear weights NF4 (4 bits + 8-bit absmax per ${NF4_BLOCK} + fp32 scale per ${ABSMAX_BLOCK} absmax: ~4.127 bits), embeddings and norms ${computeBytes} B, adapters 4 B per parameter`
        : `linear weights int8 + fp32 scale per row, embeddings and norms ${computeBytes} B, adapters 4 B per parameter`;
    }
  }

  // Gradients: as many as trainable parameters, in the precision they are accumulated in.
  const gradBytesPer = a.kind !== 'full' || precision !== 'bf16' ? 4 : 2;
  const gradientsBytes = gradBytesPer * trainable;
  const gradients = `${gradBytesPer} B per trainable parameter`;

  // Optimizer: AdamW's two moments; 8-bit Adam (bitsandbytes, blockwise, block 2048) stores each in 1 byte + an fp32 absmax per block.
  let optBytesPer: number;
  if (optimizer === 'adamw-8bit') optBytesPer = 2 + 8 / 2048;
  else optBytesPer = a.kind === 'full' && precision === 'bf16' ? 4 : 8;
  const optimizerBytes = Math.round(optBytesPer * trainable);
  const optimizerText = optimizer === 'adamw-8bit' ? 'two moments in 8 bits + fp32 absmax per 2048 (8-bit Adam)' : `two moments, ${optBytesPer / 2} B each, per trainable parameter`;

  const { bytes: activationsBytes, formula: activations } = activationBytes(input);
  return {
    params: { total: a.kind === 'full' ? P : P + trainable, trainable },
    weightsBytes, gradientsBytes, optimizerBytes, activationsBytes,
    peakBytes: weightsBytes + gradientsBytes + optimizerBytes + activationsBytes,
    formulas: { weights, gradients, optimizer: optimizerText, activations },
  };
}

function activationBytes(input: MemoryModelInput): { bytes: number; formula: string } {
  const { shape: s, approach: a, batch: B, seqLen: T } = input;
  const N = B * T, d = s.width, L = s.layers, H = s.heads, V = s.vocab;
  const acc = input.activations;
  if (acc.kind === 'engine') {
    const c = ENGINE_ACTIVATION_COUNTS[a.kind];
    const values = L * (c.perTokenWidth * N * d + c.perScore * B * H * T * T + c.perWidthSq * d * d)
      + c.perTokenVocab * N * V + c.perVocabWidth * V * d + c.perTokenWidthOut * N * d;
    return {
      bytes: Math.round(4 * values),
      formula: `engine (${acc.backend}, fp32, fused kernels), ${a.kind}: 4 B x [L(${c.perTokenWidth}·N·d + ${c.perScore}·B·H·T² + ${c.perWidthSq}·d²) + ${c.perTokenVocab}·N·V + ${c.perVocabWidth}·V·d + ${c.perTokenWidthOut}·N·d], N = B·T (Korthikanti et al. 2022's form, counted for this engine)`,
    };
  }
  // Korthikanti et al. 2022, eq. (1), for 16-bit activations: per layer s·b·h·34 + 5·a·s²·b bytes
  // (attention 11·sbh + 5·as²b, MLP 19·sbh, LayerNorms 4·sbh). The MLP's 19 assumes a 4h GELU MLP
  // (2 input + 8 GELU input + 8 second-linear input + 1 dropout mask); a SwiGLU MLP of width f keeps
  // its input (2), gate and up outputs and their product (3 x 2·f/h) and a mask (1).
  const mlp = s.family === 'gpt2' ? 3 + (16 * s.mlpWidth) / (4 * d) : 3 + (6 * s.mlpWidth) / d;
  const perLayerLinear = N * d * (11 + mlp + 4);
  const perLayerScores = acc.flash ? 0 : 5 * H * T * T * B;
  const perLayer = perLayerLinear + perLayerScores;
  // Logits in bf16 and their fp32 upcast for the loss (as Hugging Face's causal LM loss does).
  const logits = N * V * (2 + 4);
  const bytes = acc.recompute ? L * 2 * N * d + perLayer + logits : L * perLayer + logits;
  const mlpText = s.family === 'gpt2' ? '19' : `${mlp.toFixed(1)}`;
  return {
    bytes,
    formula: `Korthikanti et al. 2022 eq. (1): per layer s·b·h·(${(11 + mlp + 4).toFixed(1)}${acc.flash ? '' : ' + 5·a·s/h'}) bytes (MLP ${mlpText}·sbh)`
      + `${acc.recompute ? ', with full recomputation: 2·sbh per layer + one layer' : ''}${acc.flash ? ', FlashAttention (no s x s scores kept)' : ''}; + logits 6·N·V bytes (bf16 + fp32 upcast)`,
  };
}
