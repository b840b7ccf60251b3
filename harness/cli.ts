// The `bench` command line. Exit codes: 0 success, 1 a cell failed (or an unexpected error, printed
// with its stack), 2 bad usage, configuration or input (printed as what, where and how to fix).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { approachNames, defaultApproaches, getApproach } from '../adapters/registry.js';
import { checkSuiteFolder } from '../suites/folder.js';
import { getSuite, suiteNames } from '../suites/registry.js';
import { formatProblem } from '../suites/validate.js';
import { TASK_TYPES } from '../tasks/registry.js';
import { BACKENDS, initBackend } from './engine/backend.js';
import { exitCodeOf, UsageError } from './errors.js';
import { writeReports } from '../reports/index.js';
import { formatDoctor, runDoctor, type DoctorCheck } from './doctor.js';
import { pretrain, PRETRAIN_PRESET_NAMES, type PretrainPresetName } from './pretrain.js';
import { seedRange } from './plan.js';
import { manifestPath } from './run-files.js';
import { runBench } from './runner.js';
import { registerMergeCommand } from './merge.js';
import { parseShard } from './shard.js';
import { registerRetrievalCommand } from './retrieval-bench.js';
import { parseBytes, registerCompareCommand } from '../reports/commands.js';
import { registerExportCommand } from './export-command.js';
import { exportTrec } from './trec-export.js';
import { registerCostCommand } from './cost/command.js';
import { registerImportCommand } from './import-command.js';
import { writeModelSizeFile } from './cost/report-input.js';
import { measureClaimsAtSize } from './cost/at-size.js';
import { runIdOf } from './manifest.js';
import { ENGINE_PATHS, formatPerf, formatPerfPaths, REFERENCE_SHAPE, runPerf, runPerfPaths, type EnginePath, type PerfApproach } from './perf.js';
import { DEFAULT_MODEL_CONFIG } from './engine/config.js';
import { mkdtempSync, rmSync, writeFileSync as writeFile } from 'node:fs';
import { tmpdir } from 'node:os';

/** Seeds of `bench all` and, without --seeds, of `bench run`. */
const DEFAULT_SEEDS = 3;

/**
 * Named budgets for `bench all` and `bench run` (--preset); a flag given as well wins. `smoke` is the
 * pull-request lane: every suite and approach, one seed, 100 test questions and at most 20 training
 * steps per cell (two fifths of the built-in suites' 50: it catches breakage, not small regressions);
 * its baseline is baselines/smoke. The full run (3 seeds, the suites' own budgets) stays the nightly job.
 */
const RUN_PRESETS = Object.freeze({
  smoke: Object.freeze({ seeds: 1, limitTest: 100, trainSteps: 20 }),
});
type RunPresetName = keyof typeof RUN_PRESETS;

function integerParser(flag: string, min: 0 | 1): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${flag} must be a ${min === 1 ? 'positive' : 'non-negative'} integer (got "${value}"). Example: ${flag} ${min === 1 ? 3 : 0}`);
    }
    return n;
  };
}

function seedListParser(value: string): number[] {
  const parse = integerParser('--seed-list', 0);
  const seeds = value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(parse);
  if (seeds.length === 0) throw new InvalidArgumentError('--seed-list needs at least one seed. Example: --seed-list 0,1,2');
  if (new Set(seeds).size !== seeds.length) throw new InvalidArgumentError(`--seed-list has a seed twice ("${value}")`);
  return seeds;
}

/**
 * A comma-separated option that may also be repeated: `--approach a --approach b,c` is [a, b, c]
 * (a repeated flag that silently kept only its last value lost cells). A default is replaced, not
 * extended: commander passes it as `previous` on the first occurrence.
 */
const commaList = (defaults?: readonly string[]) => (value: string, previous?: string[]): string[] => [
  ...(previous && previous !== defaults ? previous : []),
  ...value.split(',').map((s) => s.trim()).filter((s) => s !== ''),
];
const PERF_DEFAULT_APPROACHES: string[] = ['full'];

/** The command as typed, for the manifest (arguments with spaces quoted). */
function commandLine(argv: readonly string[]): string {
  return ['bench', ...argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))].join(' ');
}

interface RunFlags {
  seeds?: number;
  seedList?: number[];
  out?: string;
  resume?: boolean;
  backend?: string;
  checkpoint?: string;
  limitTest?: number;
  trainSteps?: number;
  shard?: string;
  preset?: RunPresetName;
}

function runOptions(cmd: Command): Command {
  return cmd
    .option('--seeds <n>', `run seeds 0..n-1 (default ${DEFAULT_SEEDS})`, integerParser('--seeds', 1))
    .option('--seed-list <list>', 'run exactly these seeds, e.g. 1,2,3 (instead of --seeds)', seedListParser)
    .option('--out <dir>', 'run folder (default results/<UTC time>)')
    .option('--resume', 'finish the run in --out: skip cells that completed, run the rest')
    .addOption(new Option('--backend <name>', 'engine backend (default: the best that starts)').choices([...BACKENDS]))
    .option('--checkpoint <dir>', 'base checkpoint folder (default: the shipped harness/models/base-v2)')
    .option('--limit-test <n>', 'evaluate at most n test questions per cell (recorded in each result)', integerParser('--limit-test', 1))
    .option('--train-steps <n>', 'at most n optimiser steps per fine-tuning cell, instead of each suite\'s budget (recorded in each result)', integerParser('--train-steps', 1))
    .option('--shard <i/n>', 'run only the i-th of n parts of the plan\'s cells (balanced by expected cost); auto: i from JOB_COMPLETION_INDEX + 1, n from ADAPTBENCH_SHARD_TOTAL')
    .addOption(new Option('--preset <name>', 'a named budget: smoke (1 seed, 100 test questions, at most 20 training steps per cell; the pull-request lane)').choices(Object.keys(RUN_PRESETS)));
}

function seedsOf(flags: RunFlags): number[] {
  if (flags.seeds !== undefined && flags.seedList !== undefined) {
    throw new UsageError('--seeds and --seed-list both given: use one (--seeds 3 runs seeds 0,1,2)');
  }
  return flags.seedList ?? seedRange(flags.seeds ?? DEFAULT_SEEDS);
}

function runRequest(suites: string[], approaches: string[], given: RunFlags, argv: readonly string[]): Parameters<typeof runBench>[0] {
  const preset = given.preset ? RUN_PRESETS[given.preset] : undefined;
  const flags: RunFlags = !preset ? given : {
    ...given,
    ...(given.seeds === undefined && given.seedList === undefined ? { seeds: preset.seeds } : {}),
    ...(given.limitTest === undefined ? { limitTest: preset.limitTest } : {}),
    ...(given.trainSteps === undefined ? { trainSteps: preset.trainSteps } : {}),
  };
  return {
    suites,
    approaches,
    seeds: seedsOf(flags),
    resume: flags.resume === true,
    command: commandLine(argv),
    ...(flags.out !== undefined ? { out: flags.out } : {}),
    ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
    ...(flags.checkpoint !== undefined ? { checkpoint: flags.checkpoint } : {}),
    ...(flags.limitTest !== undefined ? { testLimit: flags.limitTest } : {}),
    ...(flags.trainSteps !== undefined ? { trainSteps: flags.trainSteps } : {}),
    ...(flags.shard !== undefined ? { shard: parseShard(flags.shard) } : {}),
  };
}

async function listCommand(): Promise<void> {
  const lines: string[] = ['Built-in suites (bench run <suite>):'];
  for (const name of suiteNames()) {
    const s = await getSuite(name);
    lines.push(`  ${name} (v${s.version}, ${s.task.type}, headline ${s.metrics[0]!.id})`, `      ${s.description}`, `      use case: ${s.useCase}`);
  }
  lines.push('', 'Your own suite (bench run ./my-suite, bench all --suite ./my-suite):',
    '  a folder with suite.json (name, version, description, useCase, task, prompt, metrics, budget, files)',
    '  beside documents.jsonl ({"id", "text"}), train.jsonl and test.jsonl (one JSON example per line).',
    '  Schema: suites/suite.schema.json; a worked example: examples/support-faq/; check it with `bench validate <folder>`.',
    '', 'Task types (suite.json "task": { "type": ... }):');
  for (const t of Object.values(TASK_TYPES)) lines.push(`  ${t.name}`, `      ${t.description}`, `      metrics: ${t.metrics.map((m) => m.id).join(', ')}; gold: ${t.goldKeys.join(' or ')}`);
  lines.push('', 'Approaches (--approach name or name:key=value:key=value):');
  for (const name of approachNames()) {
    const a = await getApproach(name);
    const opts = Object.entries(a.defaults).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    lines.push(`  ${name}`, `      ${a.description}`, `      options: ${opts.length ? opts.join(', ') : 'none'}`);
  }
  console.log(lines.join('\n'));
}

/** `bench validate`: every problem of a suite folder at once; 0 when it is valid, 2 when not. */
function validateCommand(path: string): number {
  const check = checkSuiteFolder(path);
  if (check.problems.length) {
    console.error(`bench: suite ${path} is not valid (${check.problems.length} problem${check.problems.length === 1 ? '' : 's'}):`);
    for (const p of check.problems) console.error(`  ${formatProblem(p)}`);
    return 2;
  }
  const d = check.definition!, data = check.data!;
  const options = Object.entries(d.task).filter(([k]) => k !== 'type').map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  const labels = options.length ? ` (${options.join('; ')})` : '';
  console.log([
    `suite ${d.name} v${d.version} in ${check.dir} is valid`,
    `  task: ${d.task.type}${labels}; headline metric ${d.metrics[0]!.id}`,
    `  ${data.documents.length} documents, ${data.train.length} train and ${data.test.length} test examples, ${data.qrels.length} relevance judgements${data.heldOut ? `, ${data.heldOut.length} held-out texts` : ''}`,
    `  budget: ${d.budget.train.steps} steps x ${d.budget.train.batchSize} rows x ${d.budget.train.seqLen} tokens; ${d.budget.testExamples ?? 'all'} test examples per cell`,
    `  content hash ${data.contentHash}`,
    `run it: bench run ${path}`,
  ].join('\n'));
  return 0;
}

/** The engine's backend choice as a doctor check: which would run, and every candidate's reason. */
async function backendCheck(requested?: string): Promise<DoctorCheck[]> {
  try {
    const info = await initBackend(requested);
    const reasons = BACKENDS.map((b) => {
      const a = info.attempts.find((x) => x.backend === b);
      return a ? `${b}: ${a.ok ? a.reason : `not used (${a.reason})`}` : `${b}: ${requested ? 'not requested' : 'not tried, an earlier one started'}`;
    });
    return [{ name: 'engine backend', version: info.name, status: 'ok', required: true, detail: `${info.name} would run${requested ? ' (--backend)' : ` (best first: ${BACKENDS.join(', ')})`}; ${reasons.join('; ')}` }];
  } catch (err) {
    return [{ name: 'engine backend', version: null, status: 'broken', required: true, detail: (err as Error).message, fix: 'run `npm run setup`; the wasm and cpu backends need only npm packages' }];
  }
}

async function doctorCommand(flags: { backend?: string }): Promise<number> {
  const report = await runDoctor(() => backendCheck(flags.backend));
  console.log(formatDoctor(report));
  // A required dependency that does not work is a missing-dependency problem: exit 2, as DESIGN.md asks.
  return report.ok ? 0 : 2;
}

async function pretrainCommand(flags: { preset: PretrainPresetName; seed: number; steps?: number; out?: string; from?: string; backend?: string }): Promise<void> {
  const out = resolve(flags.out ?? join('results', `pretrain-${flags.preset}-seed${flags.seed}`));
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new UsageError(`--out ${out}: is a file. Fix: give a folder path for the checkpoint`);
    // The checkpoint replaces the folder: only ever replace a checkpoint, never other files.
    if (readdirSync(out).length > 0 && !existsSync(join(out, 'checkpoint.json'))) {
      throw new UsageError(`--out ${out}: the folder holds files that are not a checkpoint, and pretraining would replace it. Fix: choose a new folder`);
    }
  }
  const r = await pretrain({
    preset: flags.preset, seed: flags.seed, out, log: (line) => console.log(line),
    ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
    ...(flags.from !== undefined ? { from: resolve(flags.from) } : {}),
    ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
  });
  console.log(`checkpoint ${r.dir} (content hash ${r.contentHash}) in ${r.seconds.toFixed(1)} s\nuse it with: bench run <suite> --checkpoint ${r.dir}`);
}

interface PerfFlags {
  reference: boolean; vocab?: number; d?: number; layers?: number; heads?: number; ctx?: number; batch?: number;
  rank: number; steps: number; warmup: number; repeats: number; approach: string[]; vsTorch: boolean; json?: string; backend?: string;
  inference: boolean; paths?: string[];
}

async function perfCommand(flags: PerfFlags): Promise<void> {
  const base = flags.reference ? { ...REFERENCE_SHAPE } : { ...DEFAULT_MODEL_CONFIG, batch: 16 };
  const model = {
    vocabSize: flags.vocab ?? base.vocabSize, nEmbd: flags.d ?? base.nEmbd, nLayer: flags.layers ?? base.nLayer,
    nHead: flags.heads ?? base.nHead, nCtx: flags.ctx ?? base.nCtx,
  };
  if (model.nEmbd % model.nHead !== 0) throw new UsageError(`--d ${model.nEmbd} must be divisible by --heads ${model.nHead}`);
  const known = ['full', 'lora', 'qlora'];
  const bad = flags.approach.filter((a) => !known.includes(a));
  if (bad.length) throw new UsageError(`--approach: unknown ${bad.join(', ')}; valid: ${known.join(', ')}`);
  const options = {
    model, batch: flags.batch ?? base.batch, steps: flags.steps, warmup: flags.warmup, repeats: flags.repeats, rank: flags.rank,
    approaches: flags.approach as PerfApproach[], vsTorch: flags.vsTorch, inference: flags.inference, log: (l: string) => console.log(l),
    ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
  };
  let report: unknown;
  if (flags.paths) {
    const paths = Object.keys(ENGINE_PATHS);
    const bad = flags.paths.filter((p) => !paths.includes(p));
    if (bad.length) throw new UsageError(`--paths: unknown ${bad.join(', ')}; valid: ${paths.join(', ')}`);
    // The children time one shape and approach list; the parent interleaves them and runs torch.
    const childArgs = ['--vocab', model.vocabSize, '--d', model.nEmbd, '--layers', model.nLayer, '--heads', model.nHead, '--ctx', model.nCtx,
      '--batch', options.batch, '--rank', flags.rank, '--steps', flags.steps, '--warmup', flags.warmup, '--approach', flags.approach.join(','),
      ...(flags.inference ? ['--inference'] : []), ...(flags.backend ? ['--backend', flags.backend] : [])].map(String);
    const scratch = mkdtempSync(join(tmpdir(), 'adaptbench-perf-'));
    try {
      const paths = runPerfPaths(options, flags.paths as EnginePath[], childArgs, scratch);
      console.log(formatPerfPaths(paths));
      report = paths;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  } else {
    const single = await runPerf(options);
    console.log(formatPerf(single));
    report = single;
  }
  if (flags.json) {
    writeFile(flags.json, `${JSON.stringify(report, null, 1)}\n`);
    console.log(`json: ${flags.json}`);
  }
}

async function reportCommand(run: string, flags: { memoryBudget?: number; project?: string; cost?: string }): Promise<void> {
  const dir = resolve(run);
  if (!existsSync(manifestPath(dir))) {
    throw new UsageError(`run folder ${dir} holds no run (no manifest.json). Fix: give a run folder, e.g. results/<run id>`);
  }
  const modelSize = writeModelSizeFile(dir, { ...(flags.project ? { project: flags.project } : {}), ...(flags.cost ? { costPath: flags.cost } : {}) });
  if (modelSize) console.log(`report: ${modelSize}`);
  const { files } = await writeReports(dir, { memoryBudgetBytes: flags.memoryBudget ?? null });
  for (const f of files) console.log(`report: ${f}`);
}

/** A new run folder, named as the runner names it, for commands that need it after the run. */
function newRunFolder(): string {
  const id = runIdOf(new Date());
  let out = join('results', id);
  for (let k = 2; existsSync(out); k++) out = join('results', `${id}-${k}`);
  return out;
}

export function buildProgram(argv: readonly string[], setExit: (code: number) => void): Command {
  const program = new Command('bench')
    .description('Measure full fine-tuning, LoRA, QLoRA, RAG and LoRA+RAG on identical tasks.')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`bench: ${text.replace(/^error: /, '')}`) })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  runOptions(program.command('all').description(`every built-in suite (or those of --suite) x every approach (and the retrain rows on suites whose facts change), ${DEFAULT_SEEDS} seeds`)
    .option('--suite <list>', 'suites instead of every built-in one: names or suite folders, comma-separated or repeated (e.g. --suite knowledge-qa,./my-suite)', commaList())
    .option('--no-cost', 'skip measuring memory at GPT-2 sizes (the ledger\'s at-size claims then stay not measured)'))
    .action(async (flags: RunFlags & { suite?: string[]; cost: boolean }) => {
      // A shard measures no cost: the shards of one plan would each measure the same points.
      if (!flags.cost || flags.shard !== undefined) {
        setExit(await runBench(runRequest(flags.suite ?? suiteNames(), defaultApproaches(), flags, argv)));
        return;
      }
      const out = flags.out ?? newRunFolder();
      const req = runRequest(flags.suite ?? suiteNames(), defaultApproaches(), { ...flags, out }, argv);
      const code = await runBench(flags.out === undefined ? { ...req, command: `${req.command} --out ${out}` } : req);
      if (measureClaimsAtSize(resolve(out), (line) => console.log(line))) {
        const { files } = await writeReports(resolve(out));
        for (const f of files) console.log(`report: ${f}`);
      }
      setExit(code);
    });

  runOptions(
    program.command('run').description('run suites with some approaches and seeds')
      .argument('<suite...>', `built-in suites (${suiteNames().join(', ')}) or suite folders (./my-suite)`)
      .option('--approach <list>', 'comma-separated approaches, each name or name:key=value:... (default: all)', commaList())
      .option('--export-trec', 'also write each retrieving cell\'s document ranking and qrels in TREC format to <run>/trec/'),
  ).action(async (suites: string[], flags: RunFlags & { approach?: string[]; exportTrec?: boolean }) => {
    if (!flags.exportTrec) {
      setExit(await runBench(runRequest(suites, flags.approach ?? defaultApproaches(), flags, argv)));
      return;
    }
    // The export needs the run folder: pick it here (as the runner would) and record it in the command.
    const out = flags.out ?? newRunFolder();
    const req = runRequest(suites, flags.approach ?? defaultApproaches(), { ...flags, out }, argv);
    const code = await runBench(flags.out === undefined ? { ...req, command: `${req.command} --out ${out}` } : req);
    const files = await exportTrec(resolve(out));
    console.log(files.length ? files.map((f) => `trec: ${f}`).join('\n') : 'trec: no cell retrieved (only rag and lora-rag cells have a ranking to export)');
    setExit(code);
  });

  program.command('list').description('suites, task types and approaches, with what each is for, and how to write your own suite').action(listCommand);

  program.command('validate').description('check a suite folder whole without running it: every problem, with file, line and field')
    .argument('<suite>', 'suite folder (holding suite.json)')
    .action((path: string) => setExit(validateCommand(path)));

  registerRetrievalCommand(program, setExit);

  registerExportCommand(program, setExit);

  registerCostCommand(program);

  registerImportCommand(program);

  program.command('doctor').description('check every dependency and which engine backend would run')
    .addOption(new Option('--backend <name>', 'check this backend only').choices([...BACKENDS]))
    .action(async (flags: { backend?: string }) => setExit(await doctorCommand(flags)));

  program.command('pretrain').description('train a base checkpoint (deterministic for a seed)')
    .addOption(new Option('--preset <name>', 'recipe: default (continues base-v1: base-v2), base-v1 (from scratch), tiny (tests)').choices([...PRETRAIN_PRESET_NAMES]).default('default'))
    .option('--seed <n>', 'seed', integerParser('--seed', 0), 0)
    .option('--steps <n>', 'optimiser steps (default: the preset\'s)', integerParser('--steps', 1))
    .option('--out <dir>', 'checkpoint folder (default results/pretrain-<preset>-seed<seed>)')
    .option('--from <dir>', 'continue from this checkpoint, with its model and tokenizer (default: the preset\'s)')
    .addOption(new Option('--backend <name>', 'engine backend').choices([...BACKENDS]))
    .action(pretrainCommand);

  program.command('perf').description('training tokens/s of the engine (vs PyTorch with --vs-torch), GFLOP/s and share of sgemm peak')
    .option('--reference', 'use the PyTorch reference\'s shape (ctx 64, batch 16) instead of the default model\'s', false)
    .option('--vocab <n>', 'vocabulary size', integerParser('--vocab', 1))
    .option('--d <n>', 'model width', integerParser('--d', 1))
    .option('--layers <n>', 'blocks', integerParser('--layers', 1))
    .option('--heads <n>', 'attention heads', integerParser('--heads', 1))
    .option('--ctx <n>', 'sequence length', integerParser('--ctx', 1))
    .option('--batch <n>', 'sequences per step', integerParser('--batch', 1))
    .option('--rank <n>', 'LoRA rank', integerParser('--rank', 1), 8)
    .option('--steps <n>', 'timed steps per repeat', integerParser('--steps', 1), 10)
    .option('--warmup <n>', 'untimed steps first', integerParser('--warmup', 0), 3)
    .option('--repeats <n>', 'repeats (medians are reported)', integerParser('--repeats', 1), 3)
    .option('--approach <list>', 'full, lora, qlora', commaList(PERF_DEFAULT_APPROACHES), PERF_DEFAULT_APPROACHES)
    .option('--vs-torch', 'run the PyTorch reference in the same invocation (needs python3-torch)', false)
    .option('--inference', 'also time evaluation and KV-cached greedy generation of the base model', false)
    .option('--paths <list>', 'compare engine paths, each in its own process, repeats interleaved: tfjs (tfjs kernels), blas (+ OpenBLAS matmul), fused (+ fused kernels, the default)', commaList())
    .option('--json <file>', 'also write the figures as JSON')
    .addOption(new Option('--backend <name>', 'engine backend').choices([...BACKENDS]))
    .action(perfCommand);

  program.command('report').description('rebuild the CSV, HTML and PNG reports of a run from its JSON')
    .argument('<run>', 'run folder, e.g. results/20250101-120000')
    .option('--memory-budget <size>', 'recommend only rows whose peak memory fits, e.g. 512MiB', parseBytes('--memory-budget'))
    .option('--project <shape>', 'add a projection to this size to "At your model size" (7b, 13b, 70b, 3b, 65b, gpt2-xl)')
    .option('--cost <file>', 'the `bench cost` measurements to show (default results/cost/cost.json where it exists)')
    .action(reportCommand);

  registerCompareCommand(program, setExit);

  registerMergeCommand(program, setExit, commandLine(argv));

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram(argv, (c) => {
    code = c;
  });
  try {
    if (argv.length <= 2) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync([...argv]);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    const exit = exitCodeOf(err);
    const e = err instanceof Error ? err : new Error(String(err));
    if (exit === 2) console.error(`bench: ${e.message}`);
    else console.error(`bench: unexpected error: ${e.stack ?? e.message}`);
    return exit;
  }
}

// Exit explicitly: the engine's backends may keep threads alive after the work is done.
process.exit(await main(process.argv));
