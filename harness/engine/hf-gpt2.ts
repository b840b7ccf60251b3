// GPT-2 checkpoints in the Hugging Face layout (config.json, model.safetensors, vocab.json +
// merges.txt or tokenizer.json), read into the engine's parameters and tokenizer, and written back.
// The engine is GPT-2's architecture with GPT-2's names and Conv1D [in, out] layout, so weights map
// one to one; what the engine does not implement (another activation, an untied head, another MLP
// width, attention scaling variants) is refused with the config field that asks for it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { configProblems, type ModelConfig } from './config.js';
import { parseMergesTxt, parseTokenizerJson, tokenizerFromVocab, vocabAndMerges, type ImportedTokenizer } from './gpt2-tokenizer.js';
import { parameterShapes, sizeOf } from './params.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import type { BpeTokenizer } from './tokenizer.js';

export const HF_FILES = Object.freeze({ config: 'config.json', weights: 'model.safetensors', vocab: 'vocab.json', merges: 'merges.txt', tokenizerJson: 'tokenizer.json' });
/** The layer-norm epsilon the engine uses (GPT-2's). */
const ENGINE_LN_EPS = 1e-5;
/** Buffers GPT-2 checkpoints carry that are not parameters (causal masks). */
const BUFFER_SUFFIXES = ['.attn.bias', '.attn.masked_bias'];

export interface HfGpt2 {
  readonly config: ModelConfig;
  /** Engine parameters by GPT-2 name, wte rows in the engine tokenizer's id order. */
  readonly weights: Map<string, Float32Array>;
  readonly tokenizer: BpeTokenizer;
  /** sourceIdOf[engineId] = the id in the files' vocabulary; null when the two numberings agree. */
  readonly sourceIdOf: Int32Array | null;
  /** sha256 of each file read, by file name. */
  readonly fileHashes: Readonly<Record<string, string>>;
  /** Stored dtypes of the weights (F32, F16, BF16), with how many tensors each. */
  readonly dtypes: Readonly<Record<string, number>>;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The engine config for a GPT-2 config.json, or every problem with it, each naming the field. */
export function engineConfigFromHf(raw: Record<string, unknown>, file: string): ModelConfig {
  const problems: string[] = [];
  const int = (...keys: string[]): number => {
    for (const k of keys) if (raw[k] !== undefined && raw[k] !== null) return raw[k] as number;
    problems.push(`${keys.join(' or ')} is missing`);
    return NaN;
  };
  const config: ModelConfig = { vocabSize: int('vocab_size'), nCtx: int('n_positions', 'n_ctx'), nEmbd: int('n_embd'), nLayer: int('n_layer'), nHead: int('n_head') };
  if (raw['model_type'] !== undefined && raw['model_type'] !== 'gpt2') problems.push(`model_type is ${JSON.stringify(raw['model_type'])}; the engine runs GPT-2-family models only ("gpt2")`);
  const act = raw['activation_function'] ?? 'gelu_new';
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') problems.push(`activation_function ${JSON.stringify(act)} is not supported: the engine's MLP uses GPT-2's tanh-approximated GELU ("gelu_new")`);
  const inner = raw['n_inner'];
  if (inner !== undefined && inner !== null && inner !== 4 * (raw['n_embd'] as number)) problems.push(`n_inner ${String(inner)} is not supported: the engine's MLP width is 4 x n_embd (${4 * (raw['n_embd'] as number)}), n_inner null`);
  const eps = raw['layer_norm_epsilon'];
  if (eps !== undefined && eps !== ENGINE_LN_EPS) problems.push(`layer_norm_epsilon ${String(eps)} is not supported: the engine uses ${ENGINE_LN_EPS}`);
  if (raw['tie_word_embeddings'] === false) problems.push('tie_word_embeddings false is not supported: the engine ties the LM head to wte');
  if (raw['scale_attn_weights'] === false) problems.push('scale_attn_weights false is not supported: the engine scales attention by 1/sqrt(head_dim)');
  if (raw['scale_attn_by_inverse_layer_idx'] === true) problems.push('scale_attn_by_inverse_layer_idx true is not supported');
  if (problems.length === 0) problems.push(...configProblems(config).map((p) => p.replace(/^model\./, '')));
  if (problems.length) throw new InputError(`${file}: ${problems.join('; ')}`);
  return config;
}

/** Checks that a folder has what an import needs, before anything is read: each missing file named, with the fix. */
export function hfFolderProblems(dir: string): string[] {
  const problems: string[] = [];
  if (!existsSync(dir)) return [`${dir} does not exist`];
  for (const f of [HF_FILES.config, HF_FILES.weights]) if (!existsSync(join(dir, f))) problems.push(`${join(dir, f)} is missing`);
  const hasPair = existsSync(join(dir, HF_FILES.vocab)) && existsSync(join(dir, HF_FILES.merges));
  if (!hasPair && !existsSync(join(dir, HF_FILES.tokenizerJson))) {
    problems.push(`${dir} has no tokenizer: it needs ${HF_FILES.vocab} and ${HF_FILES.merges}, or ${HF_FILES.tokenizerJson}`);
  }
  return problems;
}

function readTokenizer(dir: string): ImportedTokenizer {
  const vocabPath = join(dir, HF_FILES.vocab), mergesPath = join(dir, HF_FILES.merges);
  if (existsSync(vocabPath) && existsSync(mergesPath)) {
    let vocab: Record<string, number>;
    try {
      vocab = JSON.parse(readFileSync(vocabPath, 'utf8')) as Record<string, number>;
    } catch (err) {
      throw new InputError(`${vocabPath}: not valid JSON (${(err as Error).message})`);
    }
    return tokenizerFromVocab(vocab, parseMergesTxt(readFileSync(mergesPath, 'utf8'), mergesPath), { vocab: vocabPath, merges: mergesPath });
  }
  const path = join(dir, HF_FILES.tokenizerJson);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const { vocab, merges } = parseTokenizerJson(json, path);
  return tokenizerFromVocab(vocab, merges, { vocab: path, merges: path });
}

/** Reads a Hugging Face GPT-2 folder. Every problem names the file and the field or tensor. */
export function readHfGpt2(dir: string): HfGpt2 {
  const problems = hfFolderProblems(dir);
  if (problems.length) throw new InputError(`${problems.join('; ')}. Fix: give a folder as Hugging Face saves a GPT-2 model (save_pretrained with its tokenizer), or one written by \`bench export --format safetensors\``);
  const configPath = join(dir, HF_FILES.config);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`${configPath}: not valid JSON (${(err as Error).message})`);
  }
  const config = engineConfigFromHf(raw, configPath);
  const weightsPath = join(dir, HF_FILES.weights);
  const file = readSafetensors(weightsPath);
  const { tokenizer, sourceIdOf } = readTokenizer(dir);
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new InputError(`${configPath}: vocab_size ${config.vocabSize} does not match the tokenizer's ${tokenizer.vocabSize} tokens. Fix: use the tokenizer files saved with this model`);
  }
  const byName = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  const dtypes: Record<string, number> = {};
  for (const [name, t] of file.tensors) {
    const plain = name.replace(/^transformer\./, '');
    if (BUFFER_SUFFIXES.some((s) => plain.endsWith(s))) continue;
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    byName.set(plain, t);
  }
  const head = byName.get('lm_head.weight');
  byName.delete('lm_head.weight');
  const weights = new Map<string, Float32Array>();
  const tensorProblems: string[] = [];
  for (const spec of parameterShapes(config)) {
    const t = byName.get(spec.name);
    byName.delete(spec.name);
    if (!t) { tensorProblems.push(`tensor ${spec.name} (or transformer.${spec.name}) is missing`); continue; }
    if (t.shape.length !== spec.shape.length || t.shape.some((n, i) => n !== spec.shape[i])) {
      tensorProblems.push(`tensor ${spec.name} has shape [${t.shape}], config.json implies [${spec.shape}]`);
      continue;
    }
    weights.set(spec.name, t.data);
  }
  for (const extra of byName.keys()) tensorProblems.push(`tensor ${extra} is not a GPT-2 parameter the engine has`);
  if (head && weights.get('wte.weight') && !head.data.every((v, i) => v === weights.get('wte.weight')![i])) {
    tensorProblems.push('lm_head.weight differs from wte.weight: an untied LM head is not supported (the engine ties it to wte)');
  }
  if (tensorProblems.length) throw new InputError(`${weightsPath}: ${tensorProblems.slice(0, 8).join('; ')}${tensorProblems.length > 8 ? `; and ${tensorProblems.length - 8} more` : ''}`);
  const identity = sourceIdOf.every((s, i) => s === i);
  if (!identity) {
    // Rows of the token embedding follow the files' ids; the engine's tokenizer numbers tokens its own way.
    const src = weights.get('wte.weight')!, d = config.nEmbd;
    const permuted = new Float32Array(src.length);
    for (let i = 0; i < sourceIdOf.length; i++) permuted.set(src.subarray(sourceIdOf[i]! * d, (sourceIdOf[i]! + 1) * d), i * d);
    weights.set('wte.weight', permuted);
  }
  const fileHashes: Record<string, string> = {};
  for (const f of Object.values(HF_FILES)) if (existsSync(join(dir, f))) fileHashes[f] = sha256(join(dir, f));
  return { config, weights, tokenizer, sourceIdOf: identity ? null : sourceIdOf, fileHashes, dtypes };
}

/** config.json of a GPT-2 model the engine runs, as transformers' GPT2Config writes it. */
export function hfConfigOf(config: ModelConfig, eotId: number): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2',
    vocab_size: config.vocabSize, n_positions: config.nCtx, n_ctx: config.nCtx, n_embd: config.nEmbd, n_layer: config.nLayer, n_head: config.nHead, n_inner: null,
    activation_function: 'gelu_new', layer_norm_epsilon: ENGINE_LN_EPS, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, initializer_range: 0.02,
    scale_attn_weights: true, tie_word_embeddings: true, bos_token_id: eotId, eos_token_id: eotId, torch_dtype: 'float32',
  };
}

/**
 * Writes a model in the Hugging Face GPT-2 layout: config.json, model.safetensors (F32, names as
 * GPT2LMHeadModel.save_pretrained writes them: `transformer.` + GPT-2 name, the tied head left out),
 * vocab.json, merges.txt and tokenizer_config.json. With `sourceIdOf` (a model imported from files
 * with their own numbering) the ids and embedding rows go back to that numbering. Written to a
 * temporary folder renamed into place: a failure leaves nothing behind.
 */
export function writeHfGpt2(dir: string, config: ModelConfig, weights: ReadonlyMap<string, Float32Array>, tokenizer: BpeTokenizer, sourceIdOf: Int32Array | null, metadata: Readonly<Record<string, string>> = {}): { files: string[]; bytes: number } {
  if (existsSync(dir)) throw new InputError(`--out ${dir} already exists. Fix: give a new folder (nothing was written)`);
  if (!existsSync(dirname(dir))) throw new InputError(`--out ${dir}: the folder ${dirname(dir)} does not exist. Fix: create it first`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    const d = config.nEmbd;
    const tensors = parameterShapes(config).map((spec) => {
      let data = weights.get(spec.name);
      if (!data || data.length !== sizeOf(spec.shape)) throw new Error(`writeHfGpt2: parameter ${spec.name} is missing or has the wrong size`);
      if (spec.name === 'wte.weight' && sourceIdOf) {
        const out = new Float32Array(data.length);
        for (let i = 0; i < sourceIdOf.length; i++) out.set(data.subarray(i * d, (i + 1) * d), sourceIdOf[i]! * d);
        data = out;
      }
      return { name: `transformer.${spec.name}`, shape: spec.shape, data };
    });
    let bytes = writeSafetensors(join(tmp, HF_FILES.weights), tensors, { format: 'pt', ...metadata });
    const { vocabJson, mergesTxt } = vocabAndMerges(tokenizer, sourceIdOf ? (i) => sourceIdOf[i]! : undefined);
    const texts: Array<[string, string]> = [
      [HF_FILES.config, `${JSON.stringify(hfConfigOf(config, sourceIdOf ? sourceIdOf[tokenizer.eotId]! : tokenizer.eotId), null, 2)}\n`],
      [HF_FILES.vocab, vocabJson],
      [HF_FILES.merges, mergesTxt],
      ['tokenizer_config.json', `${JSON.stringify({ tokenizer_class: 'GPT2Tokenizer', model_max_length: config.nCtx, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', add_prefix_space: false }, null, 2)}\n`],
    ];
    for (const [name, body] of texts) {
      writeFileSync(join(tmp, name), body);
      bytes += Buffer.byteLength(body);
    }
    renameSync(tmp, dir);
    return { files: [HF_FILES.config, HF_FILES.weights, HF_FILES.vocab, HF_FILES.merges, 'tokenizer_config.json'].map((f) => join(dir, f)), bytes };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
