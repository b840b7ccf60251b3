// Checkpoints: a JSON header (config, tokenizer, metadata, tensor table) and a raw little-endian
// float32 weights file, with a content hash over the model that is verified on every load, so a run
// never silently evaluates a modified or truncated model.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModelConfig } from './config.js';
import { GPT } from './model.js';
import { BpeTokenizer, type TokenizerJSON } from './tokenizer.js';

export const CHECKPOINT_FORMAT = 'adaptbench-checkpoint/1';

export interface CheckpointHeader {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly config: ModelConfig;
  readonly tokenizer: TokenizerJSON;
  /** Free-form provenance: corpus hashes, pretraining settings and metrics, learning curve. */
  readonly meta: Record<string, unknown>;
  readonly tensors: ReadonlyArray<{ name: string; shape: readonly number[]; offset: number; length: number }>;
  /**
   * sha256 over what determines the model's behaviour: format, config, tokenizer, tensor table and
   * the weights file. `meta` (provenance, timings) is left out, so the same seed on the same backend
   * reproduces the same hash.
   */
  readonly contentHash: string;
}

/** A checkpoint that cannot be used as it is: exit 2, with what and how to fix it. */
export class CheckpointError extends Error {
  readonly exitCode = 2;
}

/** Keys sorted at every level, so the hash does not depend on insertion order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function hashOf(header: Omit<CheckpointHeader, 'contentHash'>, weights: Uint8Array): string {
  const { meta: _provenance, ...model } = header;
  return createHash('sha256').update(canonical(model)).update(weights).digest('hex');
}

/** Writes `dir/checkpoint.json` and `dir/weights.bin` atomically (a temporary folder renamed into place). */
export async function saveCheckpoint(dir: string, model: GPT, tokenizer: BpeTokenizer, meta: Record<string, unknown>): Promise<CheckpointHeader> {
  const weights = await model.weights();
  const tensors: Array<{ name: string; shape: readonly number[]; offset: number; length: number }> = [];
  let total = 0;
  for (const spec of model.specs) {
    const length = weights.get(spec.name)!.length;
    tensors.push({ name: spec.name, shape: spec.shape, offset: total, length });
    total += length;
  }
  const flat = new Float32Array(total);
  for (const t of tensors) flat.set(weights.get(t.name)!, t.offset);
  const bytes = new Uint8Array(flat.buffer);
  const body = { format: CHECKPOINT_FORMAT, config: model.config, tokenizer: tokenizer.toJSON(), meta, tensors } as const;
  const header: CheckpointHeader = { ...body, contentHash: hashOf(body, bytes) };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'weights.bin'), bytes);
  writeFileSync(join(tmp, 'checkpoint.json'), `${JSON.stringify(header, null, 1)}\n`);
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return header;
}

export interface LoadedCheckpoint {
  readonly header: CheckpointHeader;
  readonly model: GPT;
  readonly tokenizer: BpeTokenizer;
}

/** Reads and verifies a checkpoint's header and weights, without building the model. */
export function readCheckpoint(dir: string): { header: CheckpointHeader; weights: Map<string, Float32Array> } {
  const headerPath = join(dir, 'checkpoint.json'), weightsPath = join(dir, 'weights.bin');
  if (!existsSync(headerPath) || !existsSync(weightsPath)) {
    throw new CheckpointError(`checkpoint ${dir}: checkpoint.json or weights.bin is missing. Fix: run \`bench pretrain\` or restore the folder from git`);
  }
  let header: CheckpointHeader;
  try {
    header = JSON.parse(readFileSync(headerPath, 'utf8')) as CheckpointHeader;
  } catch (err) {
    throw new CheckpointError(`checkpoint ${headerPath}: not valid JSON (${(err as Error).message}). Fix: restore it from git or re-run \`bench pretrain\``);
  }
  if (header.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`checkpoint ${headerPath}: format "${String(header.format)}" is not ${CHECKPOINT_FORMAT}`);
  const raw = readFileSync(weightsPath);
  const { contentHash, ...body } = header;
  const actual = hashOf(body, raw);
  if (actual !== contentHash) {
    throw new CheckpointError(`checkpoint ${dir}: content hash mismatch (expected ${contentHash}, got ${actual}): the files were modified or are incomplete. Fix: restore them with \`git checkout -- ${dir}\` or re-run \`bench pretrain\``);
  }
  const flat = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const weights = new Map<string, Float32Array>();
  for (const t of header.tensors) weights.set(t.name, flat.subarray(t.offset, t.offset + t.length));
  return { header, weights };
}

export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const { header, weights } = readCheckpoint(dir);
  return { header, model: GPT.fromWeights(header.config, weights), tokenizer: BpeTokenizer.fromJSON(header.tokenizer) };
}
