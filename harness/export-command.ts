// `bench export <run> <approach> --out model.onnx`: a cell's served model as an ONNX file to take away.
//
// Run folders keep results, not weights (a full checkpoint is 4.35 MB per cell of the default model,
// 50+ MB for `bench all`). The model is re-created instead: the cell's approach is run again with
// the cell's recorded config, seed, checkpoint and backend, which gives the same weights (training is
// deterministic for a seed on a backend), and the sha256 of the served weights that the cell recorded
// proves it. The file is checked against the tfjs model (logits and greedy tokens) before it is
// written, to a temporary name renamed into place: a failure leaves nothing behind.
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { getApproach } from '../adapters/registry.js';
import type { ApproachOutcome } from '../adapters/types.js';
import { suiteFromSource } from '../suites/registry.js';
import { withTrainSteps } from '../suites/types.js';
import { SuitePrompts } from '../tasks/prompts.js';
import { taskTypeOf } from '../tasks/registry.js';
import { initBackend } from './engine/backend.js';
import type { ModelConfig } from './engine/config.js';
import { loadCheckpoint, type LoadedCheckpoint } from './engine/checkpoint.js';
import { UsageError } from './errors.js';
import type { CellInputs, CellResult, CompletedCell, RunManifest } from './results.js';
import { cellResultPath, manifestPath } from './run-files.js';
import { LOGITS_TOLERANCE, compareWithTfjs, type Equivalence } from './export/equivalence.js';
import { gptToOnnx, ONNX_OPSET, type GptGraphSource } from './export/gpt-onnx.js';
import { LATENCY_SETTINGS, requestProblems } from './export/latency.js';
import { latencyPrompt, producerVersion, weightsSha256 } from './export/serving-latency.js';
import { ORT_THREADING, OnnxDecoder } from './export/session.js';
import { exportSafetensors, sourceIdsOf, type SafetensorsExport } from './export/safetensors-export.js';

export const EXPORT_FORMS = ['merged', 'unmerged'] as const;
export type ExportForm = (typeof EXPORT_FORMS)[number];
export const EXPORT_FORMATS = ['onnx', 'safetensors'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportRequest {
  readonly run: string;
  /** The approach's row label in the run (its name, without a sweep). */
  readonly approach: string;
  readonly out: string;
  /** Which seed's cell; default the run's first. */
  readonly seed?: number;
  /** Which suite's cell, in a run of several suites. */
  readonly suite?: string;
  readonly form: ExportForm;
  /** onnx (a file, the default) or safetensors (a folder in the Hugging Face GPT-2 layout). */
  readonly format?: ExportFormat;
  /** The check against tfjs: prompt length and new tokens. */
  readonly promptTokens: number;
  readonly newTokens: number;
  readonly log: (line: string) => void;
}

export interface ExportResult {
  readonly file: string;
  readonly bytes: number;
  readonly cellId: string;
  readonly equivalence: Equivalence;
  readonly servedWeightsSha256: string;
  /** Whether the re-created weights were checked against the run's record (false: the run predates the record). */
  readonly verified: boolean;
  /** With --format safetensors: the folder written and its read-back check. */
  readonly safetensors?: SafetensorsExport;
}

interface CellRecord {
  readonly cell: CompletedCell;
  readonly checkpointDir: string;
  readonly checkpointHash: string;
  readonly config: ModelConfig;
  readonly servedSha256: string | null;
}

/** Finds the cell and checks everything that needs no model: a bad request stops here, before any work. */
function findCell(req: ExportRequest): CellRecord & { runId: string } {
  const runDir = resolve(req.run);
  if (!existsSync(manifestPath(runDir))) {
    throw new UsageError(`${runDir} holds no run (no manifest.json). Fix: give a run folder written by \`bench run\`, e.g. results/<run id>`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath(runDir), 'utf8')) as RunManifest;
  const labels = [...new Set(manifest.cells.map((c) => c.label))];
  const labelled = manifest.cells.filter((c) => c.label === req.approach);
  if (labelled.length === 0) {
    throw new UsageError(`run ${runDir} has no approach "${req.approach}"; its approaches are ${labels.join(', ')}. Fix: e.g. bench export ${req.run} ${labels[0] ?? 'base'} --out model.onnx`);
  }
  const suites = [...new Set(labelled.map((c) => c.suite))];
  if (req.suite === undefined && suites.length > 1) {
    throw new UsageError(`run ${runDir} has ${req.approach} cells in ${suites.length} suites (${suites.join(', ')}). Fix: add --suite ${suites[0]}`);
  }
  const rows = req.suite === undefined ? labelled : labelled.filter((c) => c.suite === req.suite);
  if (rows.length === 0) throw new UsageError(`run ${runDir} has no ${req.approach} cell of suite "${req.suite}"; its suites are ${suites.join(', ')}. Fix: --suite ${suites[0]}`);
  const spec = req.seed === undefined ? rows[0]! : rows.find((c) => c.seed === req.seed);
  if (!spec) throw new UsageError(`run ${runDir} has no ${req.approach} cell for seed ${req.seed}; its seeds are ${rows.map((c) => c.seed).join(', ')}. Fix: --seed ${rows[0]!.seed}`);
  const path = cellResultPath(runDir, spec.id);
  if (!existsSync(path)) throw new UsageError(`cell ${spec.id} of run ${runDir} has no result (the run did not reach it). Fix: finish the run with \`bench run ... --resume --out ${req.run}\``);
  const result = JSON.parse(readFileSync(path, 'utf8')) as CellResult;
  if (result.status !== 'completed') throw new UsageError(`cell ${spec.id} failed (${result.error.message.split('\n')[0]}); there is no served model to export. Fix: see ${path.replace(/\.json$/, '.log')}`);
  const checkpoint = result.inputs.checkpoint as CellInputs['checkpoint'] | undefined;
  if (!checkpoint) throw new UsageError(`cell ${spec.id} does not record its checkpoint (inputs.checkpoint); it cannot be re-created`);
  const latency = result.inputs.latency;
  return { cell: result, runId: manifest.runId, checkpointDir: checkpoint.dir, checkpointHash: checkpoint.contentHash, config: checkpoint.config, servedSha256: latency?.servedWeightsSha256 ?? null };
}

function checkOut(out: string): string {
  const file = resolve(out);
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`--out ${out} is a folder. Fix: give a file path, e.g. --out ${out.replace(/\/$/, '')}/model.onnx`);
  if (!existsSync(dirname(file))) throw new UsageError(`--out ${out}: the folder ${dirname(file)} does not exist. Fix: create it first, or write elsewhere`);
  return file;
}

/** The served model's graph source in the asked form, or a UsageError saying why there is none. */
function graphSource(outcome: ApproachOutcome, form: ExportForm, weights: ReadonlyMap<string, Float32Array>, label: string): GptGraphSource {
  const config = outcome.model.config;
  if (form === 'merged') return { config, weights };
  const unmerged = outcome.serving?.unmerged;
  if (!unmerged) throw new UsageError(`--form unmerged: ${label} has no adapter, so no unmerged form. Fix: leave out --form unmerged (its model is exported as served)`);
  if ('unavailable' in unmerged) throw new UsageError(`--form unmerged: ${unmerged.unavailable}. Fix: export the merged form (leave out --form unmerged)`);
  return { config, weights: unmerged.weights, adapter: unmerged.adapter };
}

export async function exportFromRun(req: ExportRequest): Promise<ExportResult> {
  const found = findCell(req);
  if (req.format === 'safetensors' && req.form === 'unmerged') throw new UsageError('--form unmerged: the safetensors layout holds one GPT-2 model, the merged one. Fix: leave out --form unmerged');
  const file = req.format === 'safetensors' ? resolve(req.out) : checkOut(req.out);
  if (req.format === 'safetensors' && existsSync(file)) throw new UsageError(`--out ${req.out} already exists. Fix: give a new folder for the safetensors layout`);
  const problems = requestProblems(req.promptTokens, req.newTokens, found.config, { prompt: '--prompt-tokens', newTokens: '--new-tokens' });
  if (problems.length) throw new UsageError(problems.join('; '));
  const spec = found.cell.cell;
  // The cell recorded whether it had an unmerged form: say so now rather than after re-training.
  const unmergedNote = found.cell.notes['export.unmergedLogitsMaxAbsDiff'];
  if (req.form === 'unmerged' && found.cell.metrics['export.unmergedLogitsMaxAbsDiff'] == null && unmergedNote && !unmergedNote.startsWith('latency not measured')) {
    throw new UsageError(`--form unmerged: ${unmergedNote}. Fix: export the merged form (leave out --form unmerged)`);
  }
  const approach = await getApproach(spec.approach);

  const backendName = found.cell.backend?.name;
  const backend = await initBackend(backendName);
  let base: LoadedCheckpoint | null = null;
  let outcome: ApproachOutcome | null = null;
  let decoder: OnnxDecoder | null = null;
  let trained: { model: ApproachOutcome['model']; dispose(): void } | null = null;
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    base = loadCheckpoint(found.checkpointDir);
    if (base.header.contentHash !== found.checkpointHash) {
      throw new UsageError(`the checkpoint at ${found.checkpointDir} (content hash ${base.header.contentHash.slice(0, 12)}) is not the one cell ${spec.id} ran with (${found.checkpointHash.slice(0, 12)}). Fix: restore that checkpoint at that path`);
    }
    // The cell's own training budget (--train-steps may have capped the suite's).
    const recordedSteps = found.cell.inputs.trainBudget?.steps;
    const suite = withTrainSteps(await suiteFromSource(spec.suite, found.cell.inputs.suite?.source ?? { kind: 'built-in' }), recordedSteps);
    const data = suite.buildData(spec.seed);
    if (found.cell.inputs.suite && data.contentHash !== found.cell.inputs.suite.contentHash) {
      throw new UsageError(`suite ${spec.suite} now hashes to ${data.contentHash.slice(0, 12)}, the cell ran on ${found.cell.inputs.suite.contentHash.slice(0, 12)}: its files changed since the run. Fix: restore them, or export from a new run`);
    }
    const prompts = new SuitePrompts(suite, taskTypeOf(suite.task), base.tokenizer, base.model.config.nCtx);
    req.log(`re-creating ${spec.label} (seed ${spec.seed}) as cell ${spec.id} made it: ${approach.name} on ${backend.name}, checkpoint ${base.header.contentHash.slice(0, 12)}`);
    const lastTenth = new Map<string, number>();
    outcome = await approach.run({
      suite, data, prompts, seed: spec.seed, config: spec.approachConfig, base, backend, log: req.log,
      progress: (phase, done, total) => {
        const tenth = total > 0 ? Math.floor((10 * done) / total) : 10;
        if (tenth !== lastTenth.get(phase)) {
          lastTenth.set(phase, tenth);
          req.log(`${phase}: ${done}/${total}`);
        }
      },
    });
    const weights = await outcome.model.weights();
    const sha = weightsSha256(weights, outcome.model.specs);
    if (found.servedSha256 && sha !== found.servedSha256) {
      throw new Error(`the re-created ${spec.label} model differs from the one the run served (weights sha256 ${sha.slice(0, 16)} vs ${found.servedSha256.slice(0, 16)}): training did not reproduce here (backend ${backend.name}; the run used ${backendName ?? 'unknown'}). Nothing written`);
    }
    req.log(found.servedSha256 ? `the re-created model is the run's served model (weights sha256 ${sha.slice(0, 16)})` : 'the run records no hash of its served weights (made before latency was measured): the re-created model cannot be checked against it');
    if (req.format === 'safetensors') {
      const prompt = latencyPrompt(base.tokenizer, data.documents.map((d) => d.text), req.promptTokens);
      const st = await exportSafetensors(file, outcome.model, base.tokenizer, sourceIdsOf(base.header), prompt, {
        adaptbench_run: found.runId, adaptbench_cell: spec.id, base_checkpoint_sha256: found.checkpointHash, served_weights_sha256: sha,
      });
      const eq = { maxAbsDiff: st.readBackMaxAbsDiff, maxAbsLogit: NaN, tokensEqual: true, onnxTokens: [], tfjsTokens: [], prompts: 1, newTokens: 0 };
      return { file, bytes: st.bytes, cellId: spec.id, equivalence: eq, servedWeightsSha256: sha, verified: found.servedSha256 !== null, safetensors: st };
    }
    const source = graphSource(outcome, req.form, weights, spec.label);
    const bytes = gptToOnnx(source, {
      producerVersion: producerVersion(),
      docString: `adaptbench: ${spec.label} (${req.form}) of cell ${spec.id}, run ${found.runId}. Inputs input_ids, position_ids, attention_mask, past_key_values.N.key/value; outputs logits, present.N.key/value.`,
      metadata: {
        run: found.runId, cell: spec.id, suite: spec.suite, approach: spec.label, seed: String(spec.seed), form: req.form,
        base_checkpoint_sha256: found.checkpointHash, served_weights_sha256: sha,
        // The tokenizer travels with the model, so the file is usable on its own.
        tokenizer: JSON.stringify(base.tokenizer.toJSON()),
      },
    });
    decoder = await OnnxDecoder.load(bytes, source.config);
    if (req.form === 'unmerged') trained = await outcome.serving!.asTrained();
    const prompt = latencyPrompt(base.tokenizer, data.documents.map((d) => d.text), req.promptTokens);
    const eq = await compareWithTfjs(decoder, trained?.model ?? outcome.model, [prompt], req.newTokens);
    if (!(eq.maxAbsDiff <= LOGITS_TOLERANCE) || !eq.tokensEqual) {
      throw new Error(`the ONNX model does not match the tfjs model: max |logits diff| ${eq.maxAbsDiff.toExponential(2)} (tolerance ${LOGITS_TOLERANCE}), greedy tokens ${eq.tokensEqual ? 'equal' : 'differ'}. Nothing written`);
    }
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
    return { file, bytes: bytes.length, cellId: spec.id, equivalence: eq, servedWeightsSha256: sha, verified: found.servedSha256 !== null };
  } finally {
    rmSync(tmp, { force: true });
    await decoder?.release();
    trained?.dispose();
    outcome?.dispose?.();
    base?.model.dispose();
  }
}

/** Integers, negative ones included, so that a bad count gets the clear message of requestProblems. */
function anyInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${flag} must be an integer (got "${value}")`);
    return n;
  };
}

export function registerExportCommand(program: Command, setExit: (code: number) => void): void {
  program.command('export').description('write a cell\'s served model as ONNX (re-created from the run: same approach, config, seed and backend), checked against tfjs first')
    .argument('<run>', 'run folder, e.g. results/20250101-120000')
    .argument('<approach>', 'approach row of the run, e.g. lora')
    .requiredOption('--out <file>', 'the .onnx file to write (--format safetensors: a new folder)')
    .addOption(new Option('--format <format>', 'onnx, or safetensors: the Hugging Face GPT-2 layout (config.json, model.safetensors, vocab.json, merges.txt)').choices([...EXPORT_FORMATS]).default('onnx'))
    .option('--seed <n>', 'the seed whose cell to export (default: the run\'s first)', anyInteger('--seed'))
    .option('--suite <name>', 'the suite whose cell to export, in a run of several suites')
    .addOption(new Option('--form <form>', 'merged: as served; unmerged: the adapter branch x·A·B kept in the graph').choices([...EXPORT_FORMS]).default('merged'))
    .option('--prompt-tokens <n>', 'prompt length of the check against tfjs', anyInteger('--prompt-tokens'), LATENCY_SETTINGS.promptTokens)
    .option('--new-tokens <n>', 'new tokens of the check against tfjs', anyInteger('--new-tokens'), LATENCY_SETTINGS.newTokens)
    .action(async (run: string, approach: string, flags: { out: string; seed?: number; suite?: string; form: ExportForm; format: ExportFormat; promptTokens: number; newTokens: number }) => {
      const r = await exportFromRun({
        run, approach, out: flags.out, form: flags.form, format: flags.format, promptTokens: flags.promptTokens, newTokens: flags.newTokens, log: (line) => console.log(line),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        ...(flags.suite !== undefined ? { suite: flags.suite } : {}),
      });
      if (r.safetensors) {
        console.log(`safetensors: ${r.safetensors.files.join(', ')} (${r.bytes} bytes), cell ${r.cellId}; read back: max |logits diff| ${r.safetensors.readBackMaxAbsDiff} on a ${flags.promptTokens}-token prompt. Import it with \`bench import ${r.file}\``);
        setExit(0);
        return;
      }
      console.log([
        `onnx: ${r.file} (${r.bytes} bytes, opset ${ONNX_OPSET}), ${flags.form} form of cell ${r.cellId}`,
        `checked against tfjs on a ${flags.promptTokens}-token prompt and ${flags.newTokens} new tokens: max |logits diff| ${r.equivalence.maxAbsDiff.toExponential(2)} (<= ${LOGITS_TOLERANCE}), greedy tokens equal`,
        `inputs: input_ids, position_ids, attention_mask [batch, past + sequence], past_key_values.N.key/value [batch, heads, past, head_dim] (past 0 for the prefill); outputs: logits, present.N.key/value`,
        `the tokenizer is in the model's metadata (key "tokenizer"); latency in results was measured with onnxruntime-node, intraOpNumThreads ${ORT_THREADING.intraOpNumThreads}, interOpNumThreads ${ORT_THREADING.interOpNumThreads}, ${ORT_THREADING.executionMode}`,
      ].join('\n'));
      setExit(0);
    });
}
