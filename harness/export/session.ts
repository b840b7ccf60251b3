// Serving an exported decoder with onnxruntime-node: one session per model, fixed thread settings
// (recorded with every measurement), and greedy generation with the key/value cache the graph
// returns, batched with left padding exactly as the engine's generateGreedy does.
import { createRequire } from 'node:module';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ModelConfig } from '../engine/config.js';
import { DependencyError } from '../errors.js';
import { decoderIo, type DecoderIo } from './gpt-onnx.js';

type Ort = typeof import('onnxruntime-node');
const require = createRequire(import.meta.url);
let ort: Ort | undefined;

/** onnxruntime-node (CommonJS), loaded on first use, with a fix when it does not load. */
export function loadOrt(): Ort {
  if (ort) return ort;
  try {
    ort = require('onnxruntime-node') as Ort;
  } catch (err) {
    throw new DependencyError(`onnxruntime-node does not load (${(err as Error).message.split('\n')[0]}). Fix: \`npm install\` with \`onnxruntime-node-install=skip\` in .npmrc (the CPU binaries come with the package); \`bench doctor\` checks it`);
  }
  return ort;
}

/** onnxruntime's session settings that decide speed, as recorded in results. */
export interface OrtThreading {
  readonly intraOpNumThreads: number;
  readonly interOpNumThreads: number;
  readonly executionMode: 'sequential' | 'parallel';
  readonly graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
}

/**
 * One thread, sequential, every graph optimisation. Why one: a decode step of these models is a
 * chain of ops of a few hundred thousand multiply-adds each, below what pays for handing work to a
 * second thread, and the 2-core machines this runs on are shared with the rest of the run; one thread
 * also gives every variant the same, steadier conditions. Latency figures hold for these settings only.
 */
export const ORT_THREADING: OrtThreading = Object.freeze({
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

/** onnxruntime's version as the package reports it. */
export function ortVersion(): string {
  const versions = (loadOrt().env as { versions?: Record<string, string> }).versions;
  return versions?.['node'] ?? versions?.['common'] ?? 'unknown';
}

/** The key/value cache between calls: per layer [batch, heads, length, head_dim]. */
export interface OnnxCache {
  readonly keys: readonly Tensor[];
  readonly values: readonly Tensor[];
  readonly length: number;
}

/** One call of the decoder graph. */
export interface DecoderCall {
  readonly batch: number;
  readonly seq: number;
  /** [batch * seq] token ids and positions, row-major. */
  readonly ids: ArrayLike<number>;
  readonly positions: ArrayLike<number>;
  /** [batch * (past + seq)]: 1 for a real token, 0 for padding. */
  readonly mask: ArrayLike<number>;
  /** null: a prefill (the graph gets zero-length past tensors). */
  readonly past: OnnxCache | null;
}

const int64 = (values: ArrayLike<number>): BigInt64Array => BigInt64Array.from(Array.from(values, (v) => BigInt(v)));

/** A decoder exported by gpt-onnx.ts, in an onnxruntime session. */
export class OnnxDecoder {
  readonly io: DecoderIo;
  readonly session: InferenceSession;
  readonly config: ModelConfig;
  readonly threading: OrtThreading;

  private constructor(session: InferenceSession, config: ModelConfig, threading: OrtThreading) {
    this.session = session;
    this.config = config;
    this.threading = threading;
    this.io = decoderIo(config);
  }

  /** Loads a model from its bytes or a file path. */
  static async load(model: Uint8Array | string, config: ModelConfig, threading: OrtThreading = ORT_THREADING): Promise<OnnxDecoder> {
    const { InferenceSession } = loadOrt();
    const options: InferenceSession.SessionOptions = { ...threading, logSeverityLevel: 3 };
    const session = typeof model === 'string' ? await InferenceSession.create(model, options) : await InferenceSession.create(model, options);
    const io = decoderIo(config);
    const missing = [io.inputIds, io.positionIds, io.attentionMask, ...io.pastKeys, ...io.pastValues].filter((n) => !session.inputNames.includes(n));
    if (missing.length) {
      await session.release();
      throw new Error(`the ONNX model is not an adaptbench decoder for this config: it lacks inputs ${missing.join(', ')}`);
    }
    return new OnnxDecoder(session, config, threading);
  }

  /** Runs the graph once: logits [batch, seq, vocab] and the cache grown by `seq`. */
  async forward(call: DecoderCall): Promise<{ logits: Float32Array; present: OnnxCache }> {
    const { Tensor: T } = loadOrt();
    const { nHead, nEmbd, nLayer } = this.config;
    const hd = nEmbd / nHead;
    const pastLen = call.past?.length ?? 0;
    const feeds: Record<string, Tensor> = {
      [this.io.inputIds]: new T('int64', int64(call.ids), [call.batch, call.seq]),
      [this.io.positionIds]: new T('int64', int64(call.positions), [call.batch, call.seq]),
      [this.io.attentionMask]: new T('int64', int64(call.mask), [call.batch, pastLen + call.seq]),
    };
    const empty = new Float32Array(0);
    for (let i = 0; i < nLayer; i++) {
      feeds[this.io.pastKeys[i]!] = call.past?.keys[i] ?? new T('float32', empty, [call.batch, nHead, 0, hd]);
      feeds[this.io.pastValues[i]!] = call.past?.values[i] ?? new T('float32', empty, [call.batch, nHead, 0, hd]);
    }
    const out = await this.session.run(feeds);
    const tensor = (name: string): Tensor => {
      const t = out[name];
      if (!t) throw new Error(`the ONNX model gave no output ${name}`);
      return t as Tensor;
    };
    return {
      logits: tensor(this.io.logits).data as Float32Array,
      present: { keys: this.io.presentKeys.map(tensor), values: this.io.presentValues.map(tensor), length: pastLen + call.seq },
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Which part of a request a time belongs to: the prompt's prefill (first new token) or one cached step. */
export type RequestPhase = 'prefill' | 'token';

/** What greedy generation reports as it goes, for equivalence checks and timing. */
export interface GreedyHooks {
  /** Milliseconds of each phase: inputs built, graph run, next tokens picked. */
  readonly timer?: (phase: RequestPhase, ms: number) => void;
  /** Logits of every call: [rows, seq, vocab] for the prefill, [rows, 1, vocab] for a step. */
  readonly logits?: (call: number, logits: Float32Array, seq: number) => void;
}

/** Row-wise argmax over [rows, vocab] (first index on ties, as tf.argMax). */
export function argmaxRows(values: Float32Array, rows: number, vocab: number, rowOffset = 0, rowStride = vocab): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const o = rowOffset + r * rowStride;
    let best = 0;
    for (let j = 1; j < vocab; j++) if (values[o + j]! > values[o + best]!) best = j;
    out.push(best);
  }
  return out;
}

/** Left padding of a batch of prompts, as generateGreedy lays them out. */
export interface PaddedBatch {
  readonly rows: number;
  readonly len: number;
  readonly pad: readonly number[];
  readonly ids: Int32Array;
  readonly positions: Int32Array;
  /** 1 for a real token, 0 for padding. */
  readonly mask: Int32Array;
}

export function leftPad(prompts: readonly (readonly number[])[], padId = 0): PaddedBatch {
  const rows = prompts.length;
  const len = Math.max(...prompts.map((p) => p.length));
  const pad = prompts.map((p) => len - p.length);
  const ids = new Int32Array(rows * len).fill(padId), positions = new Int32Array(rows * len), mask = new Int32Array(rows * len);
  prompts.forEach((p, i) => {
    ids.set(p, i * len + pad[i]!);
    for (let j = 0; j < len; j++) {
      positions[i * len + j] = Math.max(0, j - pad[i]!);
      mask[i * len + j] = j < pad[i]! ? 0 : 1;
    }
  });
  return { rows, len, pad, ids, positions, mask };
}

/**
 * Exactly `newTokens` greedy tokens per prompt (no stop token: requests of a fixed length), with
 * the cache: one prefill of the left-padded prompts, then one call per further token.
 */
export async function onnxGreedy(decoder: OnnxDecoder, prompts: readonly (readonly number[])[], newTokens: number, hooks: GreedyHooks = {}): Promise<number[][]> {
  const vocab = decoder.config.vocabSize;
  const now = (): number => performance.now();
  let t0 = now();
  const b = leftPad(prompts);
  let r = await decoder.forward({ batch: b.rows, seq: b.len, ids: b.ids, positions: b.positions, mask: b.mask, past: null });
  hooks.logits?.(0, r.logits, b.len);
  let next = argmaxRows(r.logits, b.rows, vocab, (b.len - 1) * vocab, b.len * vocab);
  hooks.timer?.('prefill', now() - t0);
  const out = next.map((t) => [t]);
  let mask = Array.from(b.mask);
  for (let step = 0; step + 1 < newTokens; step++) {
    t0 = now();
    // Each row's mask grows by one real token; the new token sits after its row's last one.
    const grown: number[] = [];
    const width = b.len + step;
    for (let i = 0; i < b.rows; i++) grown.push(...mask.slice(i * width, (i + 1) * width), 1);
    mask = grown;
    const positions = b.pad.map((p) => b.len + step - p);
    r = await decoder.forward({ batch: b.rows, seq: 1, ids: next, positions, mask, past: r.present });
    hooks.logits?.(step + 1, r.logits, 1);
    next = argmaxRows(r.logits, b.rows, vocab);
    hooks.timer?.('token', now() - t0);
    next.forEach((t, i) => out[i]!.push(t));
  }
  return out;
}
