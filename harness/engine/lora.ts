// LoRA and QLoRA as LinearAdapters of the GPT (model.adapter): the base stays frozen and each
// targeted linear layer gets y = xW + b + (alpha/r)·x·A·B, with A random (PEFT's Kaiming-uniform,
// bound 1/sqrt(in)) and B = 0, so an untrained adapter leaves the model exactly as it was. QLoRA
// also replaces every frozen linear weight by its NF4 form (./nf4.ts), dequantised on the fly.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { tf } from './backend.js';
import type { ModelConfig } from './config.js';
import { GPT, type LinearAdapter } from './model.js';
import { LINEAR_MODULES, LINEAR_MODULE_NAMES, countLoraParameters, type LinearModule } from './params.js';
import { Nf4Weight, QuantizationErrorMeter, dequantizeNf4, quantizeNf4, type QuantizationError } from './nf4.js';

/** What a LoRA adapter is: its shape and scale. Recorded in the adapter file and in results. */
export interface LoraSettings {
  /** Rank r of A [in, r] and B [r, out]. */
  readonly rank: number;
  /** The delta is scaled by alpha / r. */
  readonly alpha: number;
  /** Dropout on the adapter's input during training (0 = none), as PEFT's lora_dropout. */
  readonly dropout: number;
  /** Block-level module names adapted in every block, in LINEAR_MODULE_NAMES order. */
  readonly targets: readonly LinearModule[];
}

/** Suffixes accepted for a target (as PEFT matches target_modules): `c_proj` means both c_proj layers. */
const TARGET_ALIASES: Readonly<Record<string, readonly LinearModule[]>> = Object.freeze({
  all: LINEAR_MODULE_NAMES,
  c_attn: ['attn.c_attn'],
  c_fc: ['mlp.c_fc'],
  c_proj: ['attn.c_proj', 'mlp.c_proj'],
  ...Object.fromEntries(LINEAR_MODULE_NAMES.map((m) => [m, [m]])),
});

/** Valid target names, for error messages and `bench list`. */
export const TARGET_NAMES = Object.freeze(Object.keys(TARGET_ALIASES));

/**
 * Targets from config: `all`, one name, or several joined by `+` (`attn.c_attn+mlp.c_fc`; `,` and
 * `:` already separate approaches and options on the command line), or an array of names.
 */
export function parseTargets(value: unknown): { targets: LinearModule[] } | { problem: string } {
  const names = Array.isArray(value) ? value : typeof value === 'string' ? value.split('+') : null;
  if (!names || names.length === 0) return { problem: `must be a module name or a +-joined list of them (got ${JSON.stringify(value)}); valid: ${TARGET_NAMES.join(', ')}` };
  const chosen = new Set<LinearModule>();
  for (const raw of names) {
    const name = String(raw).trim();
    const modules = Object.hasOwn(TARGET_ALIASES, name) ? TARGET_ALIASES[name] : undefined;
    if (!modules) return { problem: `unknown target module "${name}"; valid target modules: ${TARGET_NAMES.join(', ')} (join several with +, e.g. attn.c_attn+mlp.c_fc)` };
    for (const m of modules) chosen.add(m);
  }
  return { targets: LINEAR_MODULE_NAMES.filter((m) => chosen.has(m)) };
}

/** Problems with LoRA options that need no model (each names its key under `prefix`). */
export function loraConfigProblems(c: Readonly<Record<string, unknown>>, prefix: string): string[] {
  const problems: string[] = [];
  const rank = c['rank'], alpha = c['alpha'], dropout = c['dropout'];
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) {
    problems.push(`${prefix}.rank must be a positive integer (got ${JSON.stringify(rank)}). Example: ${prefix.split('.').pop()}:rank=8`);
  }
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) {
    problems.push(`${prefix}.alpha must be a number greater than 0 (got ${JSON.stringify(alpha)}); the delta is scaled by alpha/rank`);
  }
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    problems.push(`${prefix}.dropout must be a number in [0, 1) (got ${JSON.stringify(dropout)})`);
  }
  const t = parseTargets(c['targets']);
  if ('problem' in t) problems.push(`${prefix}.targets: ${t.problem}`);
  return problems;
}

/** Problems that need the model's shape: a rank above min(in, out) of a targeted layer adds nothing a full update could not. */
export function loraModelProblems(c: Readonly<Record<string, unknown>>, model: ModelConfig, prefix: string): string[] {
  const t = parseTargets(c['targets']);
  const rank = c['rank'];
  if ('problem' in t || typeof rank !== 'number') return [];
  const limits = t.targets.map((m) => ({ m, max: Math.min(...LINEAR_MODULES[m]) * model.nEmbd }));
  const tight = limits.reduce((a, b) => (b.max < a.max ? b : a));
  return rank > tight.max
    ? [`${prefix}.rank ${rank} is larger than target layer ${tight.m} allows (min(in, out) = ${tight.max} with nEmbd ${model.nEmbd}); use a rank from 1 to ${tight.max}`]
    : [];
}

/** LoRA settings from a validated approach config. */
export function loraSettingsOf(c: Readonly<Record<string, unknown>>): LoraSettings {
  const t = parseTargets(c['targets']);
  if ('problem' in t) throw new Error(t.problem);
  return { rank: c['rank'] as number, alpha: c['alpha'] as number, dropout: c['dropout'] as number, targets: t.targets };
}

/** Full module names (`h.0.attn.c_attn`) a LoRA adapter covers, block by block. */
export function loraModules(config: ModelConfig, targets: readonly LinearModule[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < config.nLayer; i++) for (const t of targets) out.push(`h.${i}.${t}`);
  return out;
}

const blockModule = (module: string): LinearModule => module.replace(/^h\.\d+\./, '') as LinearModule;

/** A LoRA adapter over a GPT's linear layers. Attach with `model.adapter = adapter`. */
export class LoraAdapter implements LinearAdapter {
  readonly config: ModelConfig;
  readonly settings: LoraSettings;
  /** alpha / rank. */
  readonly scale: number;
  /** Full module names adapted, in block order. */
  readonly modules: readonly string[];
  readonly a = new Map<string, tf.Variable>();
  readonly b = new Map<string, tf.Variable>();
  /** Dropout applies only while training. */
  training = false;
  private mergedInto: GPT | null = null;
  private readonly op: (x: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
  private dropoutCalls = 0;
  private readonly seed: number;

  constructor(config: ModelConfig, settings: LoraSettings, seed: number) {
    const problems = [...loraConfigProblems({ ...settings }, 'lora'), ...loraModelProblems({ ...settings }, config, 'lora')];
    if (problems.length) throw new Error(problems.join('; '));
    this.config = config;
    this.settings = settings;
    this.scale = settings.alpha / settings.rank;
    this.modules = loraModules(config, settings.targets);
    this.seed = seed;
    this.op = loraDeltaOp(this.scale);
    const prefix = `lora${nextInstance()}/`;
    this.modules.forEach((module, i) => {
      const [fin, fout] = LINEAR_MODULES[blockModule(module)];
      const inDim = fin * config.nEmbd, outDim = fout * config.nEmbd;
      const bound = 1 / Math.sqrt(inDim);
      // A fixed, non-zero seed per module: reproducible whatever was initialised before.
      const a = tf.tidy(() => tf.randomUniform([inDim, settings.rank], -bound, bound, 'float32', seed * 7919 + i + 1));
      const b = tf.zeros([settings.rank, outDim]);
      this.a.set(module, tf.variable(a, true, `${prefix}${module}.lora_A`));
      this.b.set(module, tf.variable(b, true, `${prefix}${module}.lora_B`));
      a.dispose();
      b.dispose();
    });
  }

  /** (alpha/r)·x·A·B for adapted modules; null elsewhere and while merged. */
  delta(module: string, x: tf.Tensor2D): tf.Tensor2D | null {
    if (this.mergedInto) return null;
    const a = this.a.get(module), b = this.b.get(module);
    if (!a || !b) return null;
    const input = this.training && this.settings.dropout > 0
      ? tf.dropout(x, this.settings.dropout, undefined, this.seed * 1_000_003 + ++this.dropoutCalls) as tf.Tensor2D
      : x;
    return this.op(input, a as tf.Tensor2D, b as tf.Tensor2D);
  }

  /** The trainable variables, keyed `h.0.attn.c_attn.lora_A` / `.lora_B` (what the optimiser updates). */
  variables(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const m of this.modules) {
      out.set(`${m}.lora_A`, this.a.get(m)!);
      out.set(`${m}.lora_B`, this.b.get(m)!);
    }
    return out;
  }

  /** Exact parameter count (closed form, params.ts). */
  get parameterCount(): number {
    return countLoraParameters(this.config, this.settings.rank, this.settings.targets);
  }

  /** (alpha/r)·A·B of one module, [in, out]. */
  deltaWeight(module: string): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.matMul(this.a.get(module)!, this.b.get(module)!), this.scale) as tf.Tensor2D);
  }

  get merged(): boolean {
    return this.mergedInto !== null;
  }

  /** Folds (alpha/r)·A·B into W of `model` (fp32 weights): the model then serves without the adapter's matmuls. */
  merge(model: GPT): void {
    if (this.mergedInto) throw new Error('LoRA adapter is already merged');
    for (const m of this.modules) {
      const w = model.p(`${m}.weight`);
      // The sum is freed once assigned (the variable keeps its own copy of the values).
      tf.tidy(() => { w.assign(tf.add(w, this.deltaWeight(m))); });
    }
    this.mergedInto = model;
  }

  /** Takes (alpha/r)·A·B out of W again (equal to the unmerged weights up to float rounding). */
  unmerge(): void {
    const model = this.mergedInto;
    if (!model) throw new Error('LoRA adapter is not merged');
    for (const m of this.modules) {
      const w = model.p(`${m}.weight`);
      tf.tidy(() => { w.assign(tf.sub(w, this.deltaWeight(m))); });
    }
    this.mergedInto = null;
  }

  /** Writes the adapter file (config + A, B); returns its size in bytes. */
  save(path: string, meta: Readonly<Record<string, unknown>> = {}): number {
    const bytes = encodeAdapter(this, meta);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    return bytes.length;
  }

  dispose(): void {
    for (const v of [...this.a.values(), ...this.b.values()]) v.dispose();
  }
}

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/**
 * s·(x·A)·B as one op with its gradients written out: with u = x·A [N, r] and g = s·dy·Bᵀ [N, r],
 * dx = g·Aᵀ, dA = xᵀ·g, dB = s·uᵀ·dy. Why: as separate ops, tfjs keeps the product, the scaled
 * product and the gradient of each, all [N, out], until the end of the backward pass, which made a
 * LoRA training step need more memory than a full fine-tuning one; here only u and g are extra.
 */
function loraDeltaOp(scale: number): (x: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D {
  return tf.customGrad(((x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const u = tf.matMul(x as tf.Tensor2D, a as tf.Tensor2D);
    const value = tf.matMul(tf.mul(u, scale) as tf.Tensor2D, b as tf.Tensor2D);
    save([x, a, b, u]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs, as, bs, us] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const g = tf.mul(tf.matMul(dy as tf.Tensor2D, bs, false, true), scale) as tf.Tensor2D;
      return [tf.matMul(g, as, false, true), tf.matMul(xs, g, true, false), tf.mul(tf.matMul(us, dy as tf.Tensor2D, true, false), scale)];
    };
    return { value, gradFunc };
  }) as unknown as CustomGradFn) as (x: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
}

let instances = 0;
const nextInstance = (): number => ++instances;

// Adapter file: magic line, uint32 LE header length, JSON header (format, settings, model config,
// tensor table, caller's metadata such as the base checkpoint's hash), zero padding to 4 bytes,
// then the float32 LE values of every A and B. One file, so its size is what a user ships.
export const ADAPTER_FORMAT = 'adaptbench-lora/1';
const MAGIC = Buffer.from('ADAPTBENCH-LORA\n');

interface AdapterHeader {
  readonly format: typeof ADAPTER_FORMAT;
  readonly settings: LoraSettings;
  readonly model: ModelConfig;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly tensors: ReadonlyArray<{ name: string; shape: number[]; offset: number; length: number }>;
}

function encodeAdapter(adapter: LoraAdapter, meta: Readonly<Record<string, unknown>>): Buffer {
  const tensors: Array<{ name: string; shape: number[]; offset: number; length: number }> = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const [name, v] of adapter.variables()) {
    const data = v.dataSync() as Float32Array;
    tensors.push({ name, shape: [...v.shape], offset, length: data.length });
    chunks.push(data);
    offset += data.length;
  }
  const header: AdapterHeader = { format: ADAPTER_FORMAT, settings: adapter.settings, model: adapter.config, meta, tensors };
  const json = Buffer.from(JSON.stringify(header));
  const lengthField = Buffer.alloc(4);
  lengthField.writeUInt32LE(json.length);
  const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  const body = new Float32Array(offset);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return Buffer.concat([MAGIC, lengthField, json, Buffer.alloc(pad), Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
}

/** Reads an adapter file back into a new adapter (for the model config it names). */
export function loadAdapter(path: string): { adapter: LoraAdapter; meta: Readonly<Record<string, unknown>> } {
  const buf = readFileSync(path);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${path}: not an adaptbench LoRA adapter file`);
  const len = buf.readUInt32LE(MAGIC.length);
  const header = JSON.parse(buf.subarray(MAGIC.length + 4, MAGIC.length + 4 + len).toString('utf8')) as AdapterHeader;
  if (header.format !== ADAPTER_FORMAT) throw new Error(`${path}: format ${String(header.format)} is not ${ADAPTER_FORMAT}`);
  const start = MAGIC.length + 4 + len + ((4 - ((MAGIC.length + 4 + len) % 4)) % 4);
  const values = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  const adapter = new LoraAdapter(header.model, header.settings, 1);
  const vars = adapter.variables();
  for (const t of header.tensors) {
    const v = vars.get(t.name);
    if (!v) throw new Error(`${path}: tensor ${t.name} does not belong to this adapter`);
    v.assign(tf.tensor(values.subarray(t.offset, t.offset + t.length), t.shape));
  }
  return { adapter, meta: header.meta };
}

/**
 * QLoRA: LoRA over a base whose linear weights are stored in NF4. `weight(module)` dequantises a
 * layer's weight for the forward pass; the fp32 copies are gone from the model (deleted from
 * `model.params`), so only the 4-bit form is held.
 */
export class QloraAdapter extends LoraAdapter {
  readonly quantized: ReadonlyMap<string, Nf4Weight>;
  /** Round-trip error of the quantised weights against the fp32 ones they replaced. */
  readonly quantizationError: QuantizationError;

  private constructor(config: ModelConfig, settings: LoraSettings, seed: number, quantized: Map<string, Nf4Weight>, error: QuantizationError) {
    super(config, settings, seed);
    this.quantized = quantized;
    this.quantizationError = error;
  }

  /**
   * Quantises every linear weight of `model` (all four modules of every block) to NF4, removes the
   * fp32 variables from the model, and attaches a LoRA adapter on `settings.targets`.
   */
  static attach(model: GPT, settings: LoraSettings, seed: number): QloraAdapter {
    const quantized = new Map<string, Nf4Weight>();
    const meter = new QuantizationErrorMeter();
    for (const spec of model.specs) {
      if (spec.kind !== 'linear') continue;
      const v = model.p(spec.name);
      const values = v.dataSync() as Float32Array;
      const data = quantizeNf4(values, [spec.shape[0]!, spec.shape[1]!]);
      meter.add(values, dequantizeNf4(data));
      quantized.set(spec.name.replace(/\.weight$/, ''), new Nf4Weight(data));
      model.params.delete(spec.name);
      v.dispose();
    }
    const adapter = new QloraAdapter(model.config, settings, seed, quantized, meter.result());
    model.adapter = adapter;
    return adapter;
  }

  /** The dequantised weight of a quantised module (a new tensor, freed by the caller's tidy). */
  weight(module: string): tf.Tensor2D | null {
    return this.quantized.get(module)?.dequantize() ?? null;
  }

  /** Engine bytes of the NF4 storage. */
  get quantizedBytes(): number {
    let n = 0;
    for (const q of this.quantized.values()) n += q.bytes;
    return n;
  }

  /** Weights quantised. */
  get quantizedCount(): number {
    let n = 0;
    for (const q of this.quantized.values()) n += q.size;
    return n;
  }

  override merge(): void {
    throw new Error('a QLoRA adapter cannot be merged into 4-bit weights: use toFullPrecision(), which gives an fp32 model');
  }

  /**
   * The merged model: W = dequant(NF4) + (alpha/r)·A·B in fp32 for every quantised layer, other
   * parameters copied. Merging leaves 4-bit storage behind: the result is a full-precision model
   * with the same function as the quantised base plus the adapter.
   */
  toFullPrecision(model: GPT): GPT {
    const weights = new Map<string, Float32Array>();
    for (const spec of model.specs) {
      const module = spec.name.replace(/\.weight$/, '');
      const q = spec.kind === 'linear' ? this.quantized.get(module) : undefined;
      if (!q) {
        weights.set(spec.name, model.p(spec.name).dataSync() as Float32Array);
        continue;
      }
      const w = tf.tidy(() => {
        const base = q.dequantize();
        return this.a.has(module) ? tf.add(base, this.deltaWeight(module)) : base;
      });
      weights.set(spec.name, w.dataSync() as Float32Array);
      w.dispose();
    }
    return GPT.fromWeights(model.config, weights);
  }

  override dispose(): void {
    super.dispose();
    for (const q of this.quantized.values()) q.dispose();
  }
}
