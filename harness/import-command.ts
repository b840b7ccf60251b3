// `bench import <dir>`: a GPT-2-family checkpoint in the Hugging Face layout made into a checkpoint
// the harness runs (`bench run ... --checkpoint <out>`), with its content hash, and the hashes of the
// files it came from in its provenance.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { BACKENDS, initBackend } from './engine/backend.js';
import { loadCheckpoint, saveCheckpoint } from './engine/checkpoint.js';
import { readHfGpt2 } from './engine/hf-gpt2.js';
import { GPT } from './engine/model.js';
import { countBaseParameters } from './engine/params.js';
import { UsageError } from './errors.js';

export interface ImportResult {
  readonly dir: string;
  readonly contentHash: string;
  readonly parameters: number;
  readonly renumbered: boolean;
}

export async function importCheckpoint(source: string, out: string, backend?: string): Promise<ImportResult> {
  const dir = resolve(source), target = resolve(out);
  if (existsSync(target)) throw new UsageError(`--out ${out} already exists. Fix: give a new folder (nothing was written)`);
  if (!existsSync(dirname(target))) throw new UsageError(`--out ${out}: the folder ${dirname(target)} does not exist. Fix: create it first`);
  const hf = readHfGpt2(dir);
  await initBackend(backend);
  const model = GPT.fromWeights(hf.config, hf.weights);
  try {
    await saveCheckpoint(target, model, hf.tokenizer, {
      import: {
        from: dir, files: hf.fileHashes, dtypes: hf.dtypes,
        // The files' token ids, by engine id: the export restores them (null: the numberings agree).
        sourceIdOf: hf.sourceIdOf ? Array.from(hf.sourceIdOf) : null,
        note: 'weights widened to fp32; the token embedding\'s rows reordered to the engine tokenizer\'s ids where the files number tokens differently',
      },
    });
  } finally {
    model.dispose();
  }
  // Read back through the loader every run uses: the hash is verified there.
  const loaded = loadCheckpoint(target);
  loaded.model.dispose();
  return { dir: target, contentHash: loaded.header.contentHash, parameters: countBaseParameters(hf.config), renumbered: hf.sourceIdOf !== null };
}

export function registerImportCommand(program: Command): void {
  program.command('import').description('read a GPT-2-family checkpoint in the Hugging Face layout (config.json, model.safetensors, vocab.json + merges.txt or tokenizer.json) into a checkpoint for --checkpoint')
    .argument('<dir>', 'the Hugging Face model folder')
    .option('--out <dir>', 'the checkpoint folder to write (default results/imported/<name>)')
    .addOption(new Option('--backend <name>', 'engine backend').choices([...BACKENDS]))
    .action(async (source: string, flags: { out?: string; backend?: string }) => {
      const r = await importCheckpoint(source, flags.out ?? join('results', 'imported', basename(resolve(source))), flags.backend);
      console.log(`checkpoint: ${r.dir} (${r.parameters.toLocaleString('en-US')} parameters, content hash ${r.contentHash})${r.renumbered ? '; token ids renumbered to the engine tokenizer\'s (recorded; an export restores them)' : ''}`);
      console.log(`run it: bench run knowledge-qa --checkpoint ${r.dir} --approach base,lora`);
    });
}
