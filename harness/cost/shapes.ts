// Named model shapes with their published configurations, and user-given shapes (`--shape
// layers=32,width=4096,...`). A shape is all the memory model needs: the parameter count follows
// from it exactly (GPT-2 small: 124,439,808; Llama-2-7B: 6,738,415,616).
import type { ModelConfig } from '../engine/config.js';
import { UsageError } from '../errors.js';

/** A decoder's shape, GPT-2 family (LayerNorm with bias, fused biased linears, GELU MLP, learned positions) or Llama family (RMSNorm, no biases, SwiGLU MLP, rotary positions, grouped-query attention). */
export interface ModelShape {
  readonly family: 'gpt2' | 'llama';
  readonly vocab: number;
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  /** Key/value heads (grouped-query attention); equal to heads without it. */
  readonly kvHeads: number;
  /** Inner width of the MLP (GPT-2: 4 x width; Llama: the SwiGLU width). */
  readonly mlpWidth: number;
  /** Longest context (GPT-2's learned position table has this many rows). */
  readonly context: number;
  /** Whether the LM head shares the token embedding. */
  readonly tied: boolean;
}

export interface NamedShape {
  readonly shape: ModelShape;
  /** What the name stands for. */
  readonly title: string;
  /** Where the configuration was published. */
  readonly source: string;
}

/** Published configurations (the model's config.json on the Hugging Face Hub, or its paper). */
export const NAMED_SHAPES = Object.freeze({
  'gpt2-small': {
    title: 'GPT-2 small (124M)',
    source: 'openai-community/gpt2 config.json: n_embd 768, n_layer 12, n_head 12, n_positions 1024, vocab_size 50257',
    shape: { family: 'gpt2', vocab: 50257, width: 768, layers: 12, heads: 12, kvHeads: 12, mlpWidth: 3072, context: 1024, tied: true },
  },
  'gpt2-medium': {
    title: 'GPT-2 medium (355M)',
    source: 'openai-community/gpt2-medium config.json: n_embd 1024, n_layer 24, n_head 16, n_positions 1024, vocab_size 50257',
    shape: { family: 'gpt2', vocab: 50257, width: 1024, layers: 24, heads: 16, kvHeads: 16, mlpWidth: 4096, context: 1024, tied: true },
  },
  'gpt2-xl': {
    title: 'GPT-2 XL (1.5B)',
    source: 'openai-community/gpt2-xl config.json: n_embd 1600, n_layer 48, n_head 25, n_positions 1024, vocab_size 50257',
    shape: { family: 'gpt2', vocab: 50257, width: 1600, layers: 48, heads: 25, kvHeads: 25, mlpWidth: 6400, context: 1024, tied: true },
  },
  '3b': {
    title: 'Llama-3.2-3B',
    source: 'meta-llama/Llama-3.2-3B config.json: hidden_size 3072, intermediate_size 8192, num_hidden_layers 28, num_attention_heads 24, num_key_value_heads 8, vocab_size 128256, tie_word_embeddings true',
    shape: { family: 'llama', vocab: 128256, width: 3072, layers: 28, heads: 24, kvHeads: 8, mlpWidth: 8192, context: 131072, tied: true },
  },
  '7b': {
    title: 'Llama-2-7B',
    source: 'meta-llama/Llama-2-7b-hf config.json: hidden_size 4096, intermediate_size 11008, num_hidden_layers 32, num_attention_heads 32, vocab_size 32000; Touvron et al. 2023, Table 1',
    shape: { family: 'llama', vocab: 32000, width: 4096, layers: 32, heads: 32, kvHeads: 32, mlpWidth: 11008, context: 4096, tied: false },
  },
  '13b': {
    title: 'Llama-2-13B',
    source: 'meta-llama/Llama-2-13b-hf config.json: hidden_size 5120, intermediate_size 13824, num_hidden_layers 40, num_attention_heads 40, vocab_size 32000',
    shape: { family: 'llama', vocab: 32000, width: 5120, layers: 40, heads: 40, kvHeads: 40, mlpWidth: 13824, context: 4096, tied: false },
  },
  '65b': {
    title: 'LLaMA-65B',
    source: 'Touvron et al. 2023, "LLaMA", Table 2: dimension 8192, 64 heads, 80 layers; huggyllama/llama-65b config.json: intermediate_size 22016, vocab_size 32000',
    shape: { family: 'llama', vocab: 32000, width: 8192, layers: 80, heads: 64, kvHeads: 64, mlpWidth: 22016, context: 2048, tied: false },
  },
  '70b': {
    title: 'Llama-2-70B',
    source: 'meta-llama/Llama-2-70b-hf config.json: hidden_size 8192, intermediate_size 28672, num_hidden_layers 80, num_attention_heads 64, num_key_value_heads 8, vocab_size 32000',
    shape: { family: 'llama', vocab: 32000, width: 8192, layers: 80, heads: 64, kvHeads: 8, mlpWidth: 28672, context: 4096, tied: false },
  },
} as const satisfies Record<string, NamedShape>);
export type ShapeName = keyof typeof NAMED_SHAPES;
export const SHAPE_NAMES = Object.keys(NAMED_SHAPES) as ShapeName[];

/** Parameters of a shape, exactly: GPT-2 as harness/engine/params.ts counts it; Llama as its modules are. */
export function countShapeParameters(s: ModelShape): number {
  const d = s.width, headDim = d / s.heads, kv = s.kvHeads * headDim;
  if (s.family === 'gpt2') {
    const perBlock = d * 3 * d + 3 * d + d * d + d + d * s.mlpWidth + s.mlpWidth + s.mlpWidth * d + d + 4 * d;
    return s.vocab * d + s.context * d + s.layers * perBlock + 2 * d + (s.tied ? 0 : s.vocab * d);
  }
  const perBlock = d * d + 2 * d * kv + d * d + 3 * d * s.mlpWidth + 2 * d;
  return s.vocab * d + s.layers * perBlock + d + (s.tied ? 0 : s.vocab * d);
}

/** The engine's config for a GPT-2-family shape the engine can build, or why it cannot. */
export function engineConfigOf(s: ModelShape): ModelConfig | { problem: string } {
  if (s.family !== 'gpt2') return { problem: `the engine builds GPT-2-family models only (this shape is ${s.family}: RMSNorm, SwiGLU, rotary positions)` };
  if (!s.tied) return { problem: 'the engine ties the LM head to wte (tied=false is not supported)' };
  if (s.mlpWidth !== 4 * s.width) return { problem: `the engine's MLP is 4 x width (${4 * s.width}); mlp=${s.mlpWidth} is not supported` };
  if (s.kvHeads !== s.heads) return { problem: 'the engine has no grouped-query attention (kvHeads must equal heads)' };
  return { vocabSize: s.vocab, nCtx: s.context, nEmbd: s.width, nLayer: s.layers, nHead: s.heads };
}

/** The keys `--shape` takes, each with what it sets. */
const SHAPE_KEYS = Object.freeze({
  family: 'gpt2 or llama (default gpt2)',
  vocab: 'vocabulary size',
  width: 'hidden size',
  layers: 'blocks',
  heads: 'attention heads',
  kvHeads: 'key/value heads (default: heads)',
  mlp: 'MLP inner width (default: 4 x width for gpt2; required for llama)',
  context: 'context length (default 2048)',
  tied: 'true or false: LM head tied to the embedding (default true for gpt2, false for llama)',
} as const);

/**
 * `layers=32,width=4096,heads=32,vocab=32000,mlp=11008,family=llama` -> a shape. Every problem is
 * named with its key and how to fix it.
 */
export function parseShape(text: string): ModelShape {
  const given = new Map<string, string>();
  const problems: string[] = [];
  for (const pair of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : pair;
    if (eq <= 0) { problems.push(`"${pair}" is not key=value`); continue; }
    if (!(key in SHAPE_KEYS)) { problems.push(`unknown key "${key}" (known: ${Object.keys(SHAPE_KEYS).join(', ')})`); continue; }
    given.set(key, pair.slice(eq + 1).trim());
  }
  const family = given.get('family') ?? 'gpt2';
  if (family !== 'gpt2' && family !== 'llama') problems.push(`family must be gpt2 or llama (got "${family}")`);
  const int = (key: string, fallback?: number): number => {
    const raw = given.get(key);
    if (raw === undefined) {
      if (fallback === undefined) problems.push(`${key} is required (${SHAPE_KEYS[key as keyof typeof SHAPE_KEYS]})`);
      return fallback ?? 0;
    }
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) problems.push(`${key} must be a positive integer (got "${raw}")`);
    return n;
  };
  const width = int('width'), layers = int('layers'), heads = int('heads'), vocab = int('vocab');
  const kvHeads = int('kvHeads', heads);
  const mlpWidth = int('mlp', family === 'gpt2' ? 4 * width : undefined);
  const context = int('context', 2048);
  const tiedRaw = given.get('tied');
  if (tiedRaw !== undefined && tiedRaw !== 'true' && tiedRaw !== 'false') problems.push(`tied must be true or false (got "${tiedRaw}")`);
  const tied = tiedRaw === undefined ? family === 'gpt2' : tiedRaw === 'true';
  if (problems.length === 0 && width % heads !== 0) problems.push(`width (${width}) must be divisible by heads (${heads})`);
  if (problems.length === 0 && heads % kvHeads !== 0) problems.push(`heads (${heads}) must be divisible by kvHeads (${kvHeads})`);
  if (problems.length) {
    throw new UsageError(`--shape: ${problems.join('; ')}. Example: --shape family=llama,layers=32,width=4096,heads=32,mlp=11008,vocab=32000`);
  }
  return { family: family as 'gpt2' | 'llama', vocab, width, layers, heads, kvHeads, mlpWidth, context, tied };
}

/** A named shape, or a usage error listing the names. */
export function namedShape(name: string, flag: string): NamedShape {
  const hit = (NAMED_SHAPES as Record<string, NamedShape>)[name.trim().toLowerCase()];
  if (!hit) throw new UsageError(`${flag}: unknown shape "${name}" (known: ${SHAPE_NAMES.join(', ')}; or give your own with --shape layers=...,width=...,heads=...,vocab=...)`);
  return hit;
}
