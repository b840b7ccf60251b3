// Parameter names and shapes of the GPT-2 family, and exact parameter counts, in one place.
// The model builds its variables from `parameterShapes`, so the closed-form counts below and the
// model cannot drift apart (a test checks both, and GPT-2 small's published 124,439,808).
import type { ModelConfig } from './config.js';

/** One named parameter with GPT-2's name and Conv1D layout ([in, out] for linear weights). */
export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Linear weights are decayed by AdamW and are the targets of LoRA/QLoRA; biases and norms are not. */
  readonly kind: 'embedding' | 'linear' | 'bias' | 'norm';
}

/** The linear layers of one block, by GPT-2 module name, with [in, out] factors of nEmbd. */
export const LINEAR_MODULES = {
  'attn.c_attn': [1, 3],
  'attn.c_proj': [1, 1],
  'mlp.c_fc': [1, 4],
  'mlp.c_proj': [4, 1],
} as const;
export type LinearModule = keyof typeof LINEAR_MODULES;
export const LINEAR_MODULE_NAMES = Object.keys(LINEAR_MODULES) as LinearModule[];

export function parameterShapes(c: ModelConfig): ParameterSpec[] {
  const d = c.nEmbd;
  const specs: ParameterSpec[] = [
    { name: 'wte.weight', shape: [c.vocabSize, d], kind: 'embedding' },
    { name: 'wpe.weight', shape: [c.nCtx, d], kind: 'embedding' },
  ];
  for (let i = 0; i < c.nLayer; i++) {
    const p = `h.${i}.`;
    specs.push({ name: `${p}ln_1.weight`, shape: [d], kind: 'norm' }, { name: `${p}ln_1.bias`, shape: [d], kind: 'norm' });
    for (const [module, [fin, fout]] of Object.entries(LINEAR_MODULES)) {
      if (module === 'mlp.c_fc') {
        specs.push({ name: `${p}ln_2.weight`, shape: [d], kind: 'norm' }, { name: `${p}ln_2.bias`, shape: [d], kind: 'norm' });
      }
      specs.push({ name: `${p}${module}.weight`, shape: [fin * d, fout * d], kind: 'linear' });
      specs.push({ name: `${p}${module}.bias`, shape: [fout * d], kind: 'bias' });
    }
  }
  specs.push({ name: 'ln_f.weight', shape: [d], kind: 'norm' }, { name: 'ln_f.bias', shape: [d], kind: 'norm' });
  return specs;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Closed form: embeddings V*d + T*d; per block 12*d^2 (linear weights) + 13*d (biases 9d, norms 4d);
 * final norm 2d. The LM head is tied to wte, so it adds nothing.
 */
export function countBaseParameters(c: ModelConfig): number {
  const d = c.nEmbd;
  return c.vocabSize * d + c.nCtx * d + c.nLayer * (12 * d * d + 13 * d) + 2 * d;
}

/** Parameters a LoRA adapter of rank r adds: r*(in+out) per targeted linear layer per block. */
export function countLoraParameters(c: ModelConfig, rank: number, targets: readonly LinearModule[]): number {
  let perBlock = 0;
  for (const t of targets) {
    const [fin, fout] = LINEAR_MODULES[t];
    perBlock += rank * (fin + fout) * c.nEmbd;
  }
  return c.nLayer * perBlock;
}

/** Weights of the linear layers (c_attn, c_proj, c_fc, mlp c_proj): 12*d^2 per block. QLoRA stores these in NF4. */
export function countLinearWeights(c: ModelConfig): number {
  let perBlock = 0;
  for (const [fin, fout] of Object.values(LINEAR_MODULES)) perBlock += fin * fout * c.nEmbd * c.nEmbd;
  return c.nLayer * perBlock;
}

/** Weights per NF4 block (one absmax constant each), as in QLoRA. */
export const NF4_BLOCK = 64;
/** Absmax constants per block of QLoRA's second-level (8-bit) quantisation, each block with an fp32 scale. */
export const ABSMAX_BLOCK = 256;

/**
 * Bytes of one NF4 matrix of `size` weights as stored: 4-bit codes packed 8 per int32, 8-bit absmax
 * codes packed 4 per int32, one fp32 scale per 256 absmax constants, one fp32 mean. For large
 * matrices 4 + 8/64 + 32/(64*256) = 4.127 bits per weight.
 */
export function nf4StoredBytes(size: number): number {
  const blocks = Math.ceil(size / NF4_BLOCK);
  return 4 * Math.ceil(size / 8) + 4 * Math.ceil(blocks / 4) + 4 * Math.ceil(blocks / ABSMAX_BLOCK) + 4;
}

/** Bytes of the base model's weights as QLoRA stores them: every linear weight in NF4, the rest fp32. */
export function countQloraBaseBytes(c: ModelConfig): number {
  let bytes = 0;
  for (const spec of parameterShapes(c)) {
    const n = sizeOf(spec.shape);
    bytes += spec.kind === 'linear' ? nf4StoredBytes(n) : 4 * n;
  }
  return bytes;
}

/** Bytes per trainable parameter over one training step with AdamW in fp32: weight, gradient, two moments. */
export const FP32_BYTES = 4;
export const ADAMW_STATE_BYTES = 8;
