// The GPT-2-family decoder (harness/engine/model.ts) as one ONNX graph with a key/value cache, the
// way decoders are deployed: a request is a prefill of the prompt (past length 0) followed by one
// call per new token that feeds back the previous call's keys and values. Input and output names
// follow Hugging Face Optimum's decoder exports (`past_key_values.N.key`, `present.N.key`), so tools
// that serve those (transformers.js, onnxruntime-genai's conventions) recognise the layout.
//
// The arithmetic mirrors the tfjs model op for op (same mask values, the same order of scaling and
// masking, tanh GELU, LayerNorm eps 1e-5, the tied head), so logits match to float rounding.
import type { ModelConfig } from '../engine/config.js';
import { LINEAR_MODULES, parameterShapes, type LinearModule } from '../engine/params.js';
import { OnnxGraph, attr } from './onnx-graph.js';

/**
 * Opset 17: the first with LayerNormalization as a standard op (one node instead of seven, which
 * onnxruntime runs as one fused kernel); every other op used here is older.
 */
export const ONNX_OPSET = 17;

/** Added to attention scores of masked keys: the value the tfjs model uses. */
const MASKED = -1e9;
const LN_EPS = 1e-5;
const GELU_C = Math.sqrt(2 / Math.PI);

/** One LoRA branch kept apart from W: A [in, r], B [r, out], row-major. */
export interface LoraBranch {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly rank: number;
}

/** An adapter exported unmerged: y = x·W + b + scale·(x·A)·B on each module it covers. */
export interface UnmergedAdapter {
  /** alpha / rank. */
  readonly scale: number;
  /** By module name without `.weight`, e.g. `h.0.attn.c_attn`. */
  readonly branches: ReadonlyMap<string, LoraBranch>;
}

/** What the exporter reads: the model's shape and fp32 weights by GPT-2 name, and an adapter kept unmerged, if any. */
export interface GptGraphSource {
  readonly config: ModelConfig;
  readonly weights: ReadonlyMap<string, Float32Array>;
  readonly adapter?: UnmergedAdapter | null;
}

/** Names of the graph's inputs and outputs, per layer where there is a cache. */
export interface DecoderIo {
  /** int64 [batch, sequence]: token ids. */
  readonly inputIds: 'input_ids';
  /** int64 [batch, sequence]: position of each token (counted from each row's first real token). */
  readonly positionIds: 'position_ids';
  /** int64 [batch, past_sequence + sequence]: 1 for real tokens, 0 for padding, over past and new tokens. */
  readonly attentionMask: 'attention_mask';
  /** float32 [batch, heads, past_sequence, head_dim] per layer; past_sequence is 0 for a prefill. */
  readonly pastKeys: readonly string[];
  readonly pastValues: readonly string[];
  /** float32 [batch, sequence, vocab]. */
  readonly logits: 'logits';
  /** float32 [batch, heads, past_sequence + sequence, head_dim] per layer: the next call's past. */
  readonly presentKeys: readonly string[];
  readonly presentValues: readonly string[];
}

export function decoderIo(config: ModelConfig): DecoderIo {
  const layers = Array.from({ length: config.nLayer }, (_, i) => i);
  return {
    inputIds: 'input_ids', positionIds: 'position_ids', attentionMask: 'attention_mask',
    pastKeys: layers.map((i) => `past_key_values.${i}.key`),
    pastValues: layers.map((i) => `past_key_values.${i}.value`),
    logits: 'logits',
    presentKeys: layers.map((i) => `present.${i}.key`),
    presentValues: layers.map((i) => `present.${i}.value`),
  };
}

const moduleDims = (config: ModelConfig, module: string): readonly [number, number] => {
  const [fin, fout] = LINEAR_MODULES[module.replace(/^h\.\d+\./, '') as LinearModule];
  return [fin * config.nEmbd, fout * config.nEmbd];
};

/** Checks every weight and branch against the config's shapes before a graph is built. */
function sourceProblems(src: GptGraphSource): string[] {
  const problems: string[] = [];
  for (const spec of parameterShapes(src.config)) {
    const w = src.weights.get(spec.name);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!w) problems.push(`weight ${spec.name} is missing`);
    else if (w.length !== size) problems.push(`weight ${spec.name} has ${w.length} values, expected ${size} for [${spec.shape.join(', ')}]`);
  }
  for (const [module, br] of src.adapter?.branches ?? []) {
    if (!src.weights.has(`${module}.weight`)) {
      problems.push(`adapter branch ${module} is on no linear layer of the model`);
      continue;
    }
    const [fin, fout] = moduleDims(src.config, module);
    if (br.a.length !== fin * br.rank || br.b.length !== br.rank * fout) problems.push(`adapter branch ${module}: A or B does not match [${fin}, ${br.rank}] x [${br.rank}, ${fout}]`);
  }
  return problems;
}

export interface GptOnnxInfo {
  readonly producerVersion: string;
  readonly docString: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The model as ONNX bytes (one graph for prefill and cached decode steps). */
export function gptToOnnx(src: GptGraphSource, info: GptOnnxInfo): Uint8Array {
  const problems = sourceProblems(src);
  if (problems.length) throw new Error(`cannot export the model to ONNX: ${problems.join('; ')}`);
  const { config, weights } = src;
  const { nEmbd: d, nHead: nh, nLayer, vocabSize } = config;
  const hd = d / nh;
  const io = decoderIo(config);
  const g = new OnnxGraph('adaptbench_gpt');
  const w = (name: string): string => {
    const spec = parameterShapes(config).find((s) => s.name === name)!;
    return g.weight(name, weights.get(name)!, spec.shape);
  };
  const param = new Map<string, string>();
  for (const spec of parameterShapes(config)) param.set(spec.name, w(spec.name));
  const p = (name: string): string => param.get(name)!;

  g.input(io.inputIds, 'int64', ['batch', 'sequence']);
  g.input(io.positionIds, 'int64', ['batch', 'sequence']);
  g.input(io.attentionMask, 'int64', ['batch', 'total_sequence']);
  for (let i = 0; i < nLayer; i++) {
    g.input(io.pastKeys[i]!, 'float32', ['batch', nh, 'past_sequence', hd]);
    g.input(io.pastValues[i]!, 'float32', ['batch', nh, 'past_sequence', hd]);
  }

  // The residual stream is [batch * sequence, d], as in the tfjs model: every linear layer is one Gemm.
  const idsShape = g.op1('Shape', [io.inputIds]);
  const tok = g.op1('Gather', [p('wte.weight'), io.inputIds], { axis: attr.int(0) });
  const pos = g.op1('Gather', [p('wpe.weight'), io.positionIds], { axis: attr.int(0) });
  let x = g.op1('Reshape', [g.op1('Add', [tok, pos]), g.int64([-1, d])]);

  // Additive mask [batch, 1, sequence, total]: MASKED on padding keys (attention_mask 0) plus MASKED
  // on keys after the query's own position (query j sits at past + j); the tfjs model adds the same two.
  const total = g.op1('Gather', [g.op1('Shape', [io.attentionMask]), g.int64([1], true)], { axis: attr.int(0) });
  const seq = g.op1('Gather', [idsShape, g.int64([1], true)], { axis: attr.int(0) });
  const past = g.op1('Sub', [total, seq]);
  const keyMask = g.op1('Mul', [g.op1('Sub', [g.float(1), g.op1('Cast', [io.attentionMask], { to: attr.int(1) })]), g.float(MASKED)]);
  const keyIdx = g.op1('Unsqueeze', [g.op1('Range', [g.int64([0], true), total, g.int64([1], true)]), g.int64([0])]);
  const queryIdx = g.op1('Unsqueeze', [g.op1('Range', [past, total, g.int64([1], true)]), g.int64([1])]);
  const causal = g.op1('Where', [g.op1('Greater', [keyIdx, queryIdx]), g.float(MASKED), g.float(0)]);
  const mask = g.op1('Add', [g.op1('Unsqueeze', [keyMask, g.int64([1, 2])]), causal]);

  const headsShape = g.op1('Concat', [idsShape, g.int64([nh, hd])], { axis: attr.int(0) });
  const toHeads = (z: string): string => g.op1('Transpose', [g.op1('Reshape', [z, headsShape])], { perm: attr.ints([0, 2, 1, 3]) });
  const layerNorm = (prefix: string, z: string): string =>
    g.op1('LayerNormalization', [z, p(`${prefix}.weight`), p(`${prefix}.bias`)], { axis: attr.int(-1), epsilon: attr.float(LN_EPS) });
  const linear = (module: string, z: string): string => {
    const y = g.op1('Gemm', [z, p(`${module}.weight`), p(`${module}.bias`)]);
    const br = src.adapter?.branches.get(module);
    if (!br) return y;
    // The unmerged branch, in the order the tfjs adapter computes it: (x·A)·scale, then ·B.
    const [fin, fout] = moduleDims(config, module);
    const a = g.weight(`${module}.lora_A`, br.a, [fin, br.rank]);
    const b = g.weight(`${module}.lora_B`, br.b, [br.rank, fout]);
    const u = g.op1('Mul', [g.op1('MatMul', [z, a]), g.float(src.adapter!.scale)]);
    return g.op1('Add', [y, g.op1('MatMul', [u, b])]);
  };
  const gelu = (z: string): string => {
    const cube = g.op1('Mul', [g.op1('Mul', [z, z]), z]);
    const inner = g.op1('Mul', [g.op1('Add', [z, g.op1('Mul', [cube, g.float(0.044715)])]), g.float(GELU_C)]);
    return g.op1('Mul', [g.op1('Mul', [z, g.float(0.5)]), g.op1('Add', [g.op1('Tanh', [inner]), g.float(1)])]);
  };

  for (let i = 0; i < nLayer; i++) {
    const pre = `h.${i}`;
    const qkv = linear(`${pre}.attn.c_attn`, layerNorm(`${pre}.ln_1`, x));
    const [q, k, v] = g.op('Split', [qkv, g.int64([d, d, d])], { axis: attr.int(1) }, 3) as [string, string, string];
    const keys = g.op1('Concat', [io.pastKeys[i]!, toHeads(k)], { axis: attr.int(2) }, io.presentKeys[i]!);
    const values = g.op1('Concat', [io.pastValues[i]!, toHeads(v)], { axis: attr.int(2) }, io.presentValues[i]!);
    const scores = g.op1('Mul', [g.op1('MatMul', [toHeads(q), g.op1('Transpose', [keys], { perm: attr.ints([0, 1, 3, 2]) })]), g.float(1 / Math.sqrt(hd))]);
    const probs = g.op1('Softmax', [g.op1('Add', [scores, mask])], { axis: attr.int(-1) });
    const att = g.op1('Transpose', [g.op1('MatMul', [probs, values])], { perm: attr.ints([0, 2, 1, 3]) });
    x = g.op1('Add', [x, linear(`${pre}.attn.c_proj`, g.op1('Reshape', [att, g.int64([-1, d])]))]);
    const ff = linear(`${pre}.mlp.c_proj`, gelu(linear(`${pre}.mlp.c_fc`, layerNorm(`${pre}.ln_2`, x))));
    x = g.op1('Add', [x, ff]);
  }
  // Tied head: h·wteᵀ with Gemm's transB, so the file holds wte once.
  const logits2d = g.op1('Gemm', [layerNorm('ln_f', x), p('wte.weight')], { transB: attr.int(1) });
  g.op1('Reshape', [logits2d, g.op1('Concat', [idsShape, g.int64([vocabSize])], { axis: attr.int(0) })], {}, io.logits);

  g.output(io.logits, 'float32', ['batch', 'sequence', vocabSize]);
  for (let i = 0; i < nLayer; i++) {
    g.output(io.presentKeys[i]!, 'float32', ['batch', nh, 'total_sequence', hd]);
    g.output(io.presentValues[i]!, 'float32', ['batch', nh, 'total_sequence', hd]);
  }
  return g.encode({
    opset: ONNX_OPSET,
    producerName: 'adaptbench',
    producerVersion: info.producerVersion,
    docString: info.docString,
    metadata: {
      architecture: 'gpt2',
      n_ctx: String(config.nCtx), n_embd: String(d), n_layer: String(nLayer), n_head: String(nh), vocab_size: String(vocabSize),
      adapter: src.adapter ? `lora unmerged (scale ${src.adapter.scale}, ${src.adapter.branches.size} modules)` : 'none (merged or no adapter)',
      ...info.metadata,
    },
  });
}
