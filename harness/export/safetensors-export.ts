// `bench export ... --format safetensors`: a served model in the Hugging Face GPT-2 layout, read back
// and run before the command reports success, so a file that would not give the same logits never
// leaves the machine.
import { rmSync } from 'node:fs';
import { tf } from '../engine/backend.js';
import type { CheckpointHeader } from '../engine/checkpoint.js';
import type { ModelConfig } from '../engine/config.js';
import { readHfGpt2, writeHfGpt2 } from '../engine/hf-gpt2.js';
import { GPT } from '../engine/model.js';
import type { BpeTokenizer } from '../engine/tokenizer.js';

/** The id permutation an imported checkpoint records (meta.import.sourceIdOf), so an export restores the source's ids. */
export function sourceIdsOf(header: CheckpointHeader): Int32Array | null {
  const ids = (header.meta['import'] as { sourceIdOf?: number[] | null } | undefined)?.sourceIdOf;
  return Array.isArray(ids) ? Int32Array.from(ids) : null;
}

/** max |a - b| of the logits of two models on the same token rows. */
export function logitsMaxAbsDiff(a: GPT, b: GPT, rows: number[][]): number {
  return tf.tidy(() => {
    const ids = tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
    const diff = tf.max(tf.abs(tf.sub(a.logits(a.hidden(ids)), b.logits(b.hidden(ids)))));
    return diff.dataSync()[0]!;
  });
}

export interface SafetensorsExport {
  readonly dir: string;
  readonly files: string[];
  readonly bytes: number;
  /** max |logits difference| between the served model and the model read back from the files: 0 when exact. */
  readonly readBackMaxAbsDiff: number;
}

/** Writes `model` to `dir` and checks the read-back model's logits on `prompt`; removes `dir` if they differ. */
export async function exportSafetensors(dir: string, model: GPT, tokenizer: BpeTokenizer, sourceIdOf: Int32Array | null, prompt: number[], metadata: Readonly<Record<string, string>>): Promise<SafetensorsExport> {
  const config: ModelConfig = model.config;
  const { files, bytes } = writeHfGpt2(dir, config, await model.weights(), tokenizer, sourceIdOf, metadata);
  const back = readHfGpt2(dir);
  const reread = GPT.fromWeights(back.config, back.weights);
  try {
    const diff = logitsMaxAbsDiff(model, reread, [prompt]);
    if (diff !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the model read back from ${dir} gives different logits (max |diff| ${diff}); the folder was removed`);
    }
    return { dir, files, bytes, readBackMaxAbsDiff: diff };
  } finally {
    reread.dispose();
  }
}
