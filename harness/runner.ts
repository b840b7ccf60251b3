// A run: validate everything, write the manifest, run each cell in its own process (one at a time:
// memory figures stay per cell and a crashing cell cannot take the run down), then write reports.
// Every cell's result lands in `<run>/cells/<id>.json` as soon as it ends, so an interrupted run
// loses no finished cell and `--resume` runs only the rest.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getApproach } from '../adapters/registry.js';
import { heldOutCapability } from '../datasets/capability.js';
import { resolveSuite } from '../suites/registry.js';
import type { Suite, SuiteSource } from '../suites/types.js';
import { SuitePrompts } from '../tasks/prompts.js';
import { taskTypeOf } from '../tasks/registry.js';
import type { CellJob, StageMessage } from './cell.js';
import { initBackend, type BackendInfo } from './engine/backend.js';
import { readCheckpoint } from './engine/checkpoint.js';
import { BpeTokenizer } from './engine/tokenizer.js';
import { UsageError } from './errors.js';
import { configDifferences, configHashOf, createManifest, runIdOf, type ResolvedRunConfig, type WrittenManifest } from './manifest.js';
import { writeReports } from '../reports/index.js';
import { SHIPPED_BASE_DIR } from './pretrain.js';
import { expandCells, resolveApproaches } from './plan.js';
import { createProgress } from './progress.js';
import { RESULT_SCHEMA_VERSION, type CellResult, type CellSpec, type FailedCell } from './results.js';
import { cellJobPath, cellLogPath, cellResultPath, cellsDir, manifestPath, writeJsonAtomic } from './run-files.js';
import { acquireRunLock, makeRunDir, clearPartialWrites, writeProblem, type RunLock } from './run-lock.js';
import { formatShard, shardInfo, type ShardSpec } from './shard.js';
import { stageTimeTable } from './stage-times.js';

export interface RunRequest {
  readonly suites: readonly string[];
  /** Approach specs: `name` or `name:key=value:...`. */
  readonly approaches: readonly string[];
  readonly seeds: readonly number[];
  /** Run folder; default `results/<runId>` in the working directory. */
  readonly out?: string;
  readonly resume: boolean;
  readonly backend?: string;
  /** Base checkpoint folder; default the shipped one. */
  readonly checkpoint?: string;
  /** Test questions per cell at most (--limit-test). */
  readonly testLimit?: number;
  /** Optimiser steps per fine-tuning cell at most (--train-steps); the suites' budgets otherwise. */
  readonly trainSteps?: number;
  /** The command line, as recorded in the manifest. */
  readonly command: string;
  /** Run only this shard of the plan's cells (--shard i/n). */
  readonly shard?: ShardSpec;
}

const WORKER = fileURLToPath(new URL('./cell-worker.js', import.meta.url));

/** A result file's status, or null when it is missing or unreadable (then the cell runs again). */
function readResultStatus(path: string): CellResult['status'] | null {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<CellResult>;
    return r.status === 'completed' || r.status === 'failed' ? r.status : null;
  } catch {
    return null;
  }
}

function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

interface Prepared {
  readonly runDir: string;
  readonly runId: string;
  readonly cells: readonly CellSpec[];
  readonly config: ResolvedRunConfig;
  readonly backend: BackendInfo;
  readonly checkpointDir: string;
  readonly suiteSources: Readonly<Record<string, SuiteSource>>;
  /** The manifest to write, or null when resuming (the run keeps its original manifest). */
  readonly manifest: WrittenManifest | null;
}

/** Every check, before anything is written: a bad request leaves nothing behind. */
async function prepare(req: RunRequest): Promise<Prepared> {
  if (req.suites.length === 0) throw new UsageError('no suite given. Example: bench run knowledge-qa (see `bench list`)');
  // Every suite is resolved and validated whole (a folder's files too) before anything is written.
  const suites: Suite[] = [];
  for (const ref of [...new Set(req.suites)]) {
    const suite = await resolveSuite(ref);
    const twin = suites.find((s) => s.name === suite.name);
    if (twin) throw new UsageError(`two suites are named "${suite.name}" (${twin.source.kind === 'folder' ? twin.source.path : 'built in'} and ${ref}); cells are named by suite. Fix: give one of them another "name" in its suite.json`);
    suites.push(suite);
  }
  const approaches = await resolveApproaches(req.approaches);
  if (req.seeds.length === 0) throw new UsageError('no seeds: give --seeds n (n >= 1) or --seed-list 0,1,2');
  for (const s of req.seeds) {
    if (!Number.isSafeInteger(s) || s < 0) throw new UsageError(`seed ${s} is not a non-negative integer`);
  }
  if (new Set(req.seeds).size !== req.seeds.length) throw new UsageError(`--seed-list has a seed twice (${req.seeds.join(',')})`);
  if (req.trainSteps !== undefined && !(Number.isInteger(req.trainSteps) && req.trainSteps >= 2)) {
    throw new UsageError(`--train-steps must be an integer of at least 2: one training step is profiled for memory, the others timed (got ${req.trainSteps}). Example: --train-steps 20`);
  }
  if (req.testLimit !== undefined && !(Number.isInteger(req.testLimit) && req.testLimit > 0)) {
    throw new UsageError(`--limit-test must be a positive integer (got ${req.testLimit})`);
  }
  if (req.resume && req.out === undefined) {
    throw new UsageError('--resume needs the run folder to resume: --out results/<run>');
  }

  const checkpointDir = resolve(req.checkpoint ?? SHIPPED_BASE_DIR);
  // Verifies the content hash: a modified checkpoint stops here (CheckpointError, exit 2).
  const checkpoint = readCheckpoint(checkpointDir);
  const checkpointHash = checkpoint.header.contentHash;
  const backend = await initBackend(req.backend);

  const now = new Date();
  const runId = runIdOf(now);
  let runDir: string;
  if (req.out !== undefined) {
    runDir = resolve(req.out);
  } else {
    runDir = resolve('results', runId);
    for (let k = 2; existsSync(runDir); k++) runDir = resolve('results', `${runId}-${k}`);
  }
  if (existsSync(runDir) && !statSync(runDir).isDirectory()) {
    throw new UsageError(`--out ${req.out ?? runDir}: is a file, not a folder. Fix: give a folder path that does not exist yet (or a run folder with --resume)`);
  }
  const hasManifest = existsSync(manifestPath(runDir));
  if (existsSync(runDir) && !req.resume && readdirSync(runDir).length > 0) {
    throw new UsageError(`--out ${runDir}: the folder is not empty${hasManifest ? ' (it holds a run)' : ''}. Fix: add --resume to finish that run, or choose a new folder`);
  }

  const dataHashes: Record<string, string> = { checkpoint: checkpointHash };
  for (const a of approaches) {
    const problems = (await getApproach(a.name)).validateForModel?.(a.config, checkpoint.header.config) ?? [];
    if (problems.length) throw new UsageError(`--approach ${a.label}, with the base model at ${checkpointDir}: ${problems.join('; ')}`);
  }
  const tokenizer = BpeTokenizer.fromJSON(checkpoint.header.tokenizer);
  for (const suite of suites) {
    if (suite.budget.train.seqLen > checkpoint.header.config.nCtx) {
      throw new UsageError(`suite ${suite.name}: budget.train.seqLen ${suite.budget.train.seqLen} exceeds the base model's context of ${checkpoint.header.config.nCtx} tokens. Fix: set it to at most ${checkpoint.header.config.nCtx} in suite.json`);
    }
    const prompts = new SuitePrompts(suite, taskTypeOf(suite.task), tokenizer, checkpoint.header.config.nCtx);
    if (prompts.testBudget < 1) throw new UsageError(`suite ${suite.name}: its answers need the whole ${checkpoint.header.config.nCtx}-token context, leaving no room for a prompt. Fix: shorten the labels or task.maxNewTokens`);
    for (const seed of req.seeds) {
      const data = suite.buildData(seed);
      dataHashes[`suite:${suite.name}:seed${seed}`] = data.contentHash;
      const corpus = prompts.retrievalCorpus(data);
      for (const a of approaches) {
        const problems = (await getApproach(a.name)).validateForData?.(a.config, corpus, tokenizer) ?? [];
        if (problems.length) throw new UsageError(`--approach ${a.label}, on suite ${suite.name} (seed ${seed}): ${problems.join('; ')}`);
      }
    }
  }
  for (const seed of req.seeds) dataHashes[`heldOut:seed${seed}`] = heldOutCapability(seed).contentHash;
  const config: ResolvedRunConfig = {
    // By name and version; the data's content hash is in dataHashes. A folder's path is not hashed,
    // so a suite folder moved to another place (the same files) resumes and compares as before.
    suites: suites.map((s) => ({ name: s.name, version: s.version })),
    approaches: approaches.map((a) => ({ name: a.name, label: a.label, config: a.config })),
    seeds: [...req.seeds],
    testLimit: req.testLimit ?? null,
    // Only when given, so that the hash of every run without it stays what it was.
    ...(req.trainSteps !== undefined ? { trainSteps: req.trainSteps } : {}),
    backend: backend.name,
    dataHashes,
    resultSchemaVersion: RESULT_SCHEMA_VERSION,
  };
  const cells = expandCells(suites.map((s) => s.name), approaches, req.seeds, new Set(suites.filter((s) => s.update !== null).map((s) => s.name)));
  const suiteSources: Record<string, SuiteSource> = Object.fromEntries(suites.map((s) => [s.name, s.source]));

  if (req.resume && hasManifest) {
    let previous: WrittenManifest;
    try {
      previous = JSON.parse(readFileSync(manifestPath(runDir), 'utf8')) as WrittenManifest;
    } catch (err) {
      throw new UsageError(`--resume: ${manifestPath(runDir)} is not valid JSON (${(err as Error).message}). Fix: start a new run with another --out`);
    }
    if (previous.configHash !== configHashOf(config)) {
      const diffs = previous.config ? configDifferences(previous.config, config) : ['the manifest records no resolved config'];
      throw new UsageError(`--resume: this command does not match the run in ${runDir} (config hash ${previous.configHash.slice(0, 12)} then, ${configHashOf(config).slice(0, 12)} now):\n  ${diffs.join('\n  ')}\nFix: repeat the run's own command (${previous.command}) with --resume, or start a new run with another --out`);
    }
    return { runDir, runId: previous.runId, cells, config, backend, checkpointDir, suiteSources, manifest: null };
  }
  return { runDir, runId, cells, config, backend, checkpointDir, suiteSources, manifest: createManifest({ runId, command: req.command, backend, cells, config, suiteSources }) };
}

/**
 * Narrows a prepared run to one shard's cells. The config, and so its hash, stays the plan's. A
 * resumed folder must hold the same shard: resuming shard 2/3 as 1/3, or a whole run as a shard,
 * would mix two cell lists in one folder.
 */
function applyShard(p: Prepared, req: RunRequest): Prepared {
  if (p.manifest === null) {
    const recorded = (JSON.parse(readFileSync(manifestPath(p.runDir), 'utf8')) as WrittenManifest).shard;
    const was = recorded ? `shard ${formatShard(recorded)}` : 'the whole plan';
    const now = req.shard ? `shard ${formatShard(req.shard)}` : 'the whole plan';
    if (was !== now) {
      throw new UsageError(`--resume: ${p.runDir} holds ${was} of its plan, this command asks for ${now}. Fix: ${recorded ? `resume with --shard ${formatShard(recorded)}` : 'drop --shard'}, or start a new run with another --out`);
    }
  }
  if (!req.shard) return p;
  const { cells, info } = shardInfo(p.cells, req.shard);
  return { ...p, cells, manifest: p.manifest ? { ...p.manifest, cells, shard: info } : null };
}

/** The command that finishes this run after an interruption. */
const resumeCommandOf = (req: RunRequest, runDir: string): string =>
  req.command.includes('--resume') ? req.command : `${req.command} --resume${req.out === undefined ? ` --out ${runDir}` : ''}`;

/** Runs one cell's process; resolves with how it ended. `onStage` hears the stage it reports. */
function runWorker(jobFile: string, logFile: string, onSpawn: (pid: number | undefined) => void, onStage: (m: StageMessage) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done, fail) => {
    const fd = openSync(logFile, 'w');
    // The cell's temporary files (indexes, adapter checkpoints, ONNX exports) go to a folder of its
    // own, removed when it ends: a cell stopped half-way (interrupted, killed) leaves nothing behind.
    const scratch = mkdtempSync(join(tmpdir(), 'adaptbench-cell-'));
    const clean = (): void => rmSync(scratch, { recursive: true, force: true });
    try {
      // The IPC channel closes when this process dies, however it dies: the cell then exits too
      // (cell-worker.ts) instead of running on beside a resumed run.
      const child = spawn(process.execPath, [WORKER, jobFile], { stdio: ['ignore', fd, fd, 'ipc'], env: { ...process.env, TMPDIR: scratch } });
      onSpawn(child.pid);
      child.on('message', (m) => onStage(m as StageMessage));
      child.on('error', (err) => {
        clean();
        fail(err);
      });
      child.on('exit', (code, signal) => {
        clean();
        done({ code, signal });
      });
    } catch (err) {
      clean();
      throw err;
    } finally {
      closeSync(fd);
    }
  });
}

const describe = (c: CellSpec): string => `${c.suite} ${c.label} seed ${c.seed}`;

/** A stage as the progress bar shows it: "training 40/100", "quality", ... */
export const formatStage = (m: StageMessage): string => (m.done !== undefined && m.total !== undefined ? `${m.stage} ${m.done}/${m.total}` : m.stage);

/**
 * Runs a request; returns the exit code (0 every cell completed, 1 any failed). Bad input, a run
 * folder in use and a failed write (disk full, no permission) throw UsageError.
 */
export async function runBench(req: RunRequest): Promise<number> {
  const p = applyShard(await prepare(req), req);
  const fresh = !existsSync(p.runDir);
  let lock: RunLock;
  try {
    makeRunDir(p.runDir);
    lock = acquireRunLock(p.runDir, req.command);
  } catch (err) {
    // Only a folder this call made, and only while empty: another process may have made it since.
    if (fresh) {
      try {
        rmdirSync(p.runDir);
      } catch {
        // not empty or not there: leave it
      }
    }
    throw writeProblem(err, p.runDir, null);
  }
  const release = (): void => lock.release();
  process.once('exit', release);
  try {
    try {
      for (const f of clearPartialWrites(p.runDir)) console.log(`removed ${f} (a write cut short by an earlier process)`);
      mkdirSync(cellsDir(p.runDir), { recursive: true });
      mkdirSync(resolve(p.runDir, 'jobs'), { recursive: true });
      if (p.manifest) writeJsonAtomic(manifestPath(p.runDir), p.manifest);
    } catch (err) {
      // Nothing ran yet: a new folder goes away whole rather than stay half-made.
      if (fresh) rmSync(p.runDir, { recursive: true, force: true });
      throw writeProblem(err, p.runDir, null);
    }
    return await runCells(p, req);
  } catch (err) {
    throw writeProblem(err, p.runDir, resumeCommandOf(req, p.runDir));
  } finally {
    process.removeListener('exit', release);
    lock.release();
  }
}

async function runCells(p: Prepared, req: RunRequest): Promise<number> {
  const total = p.cells.length;
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : what.endsWith('h') ? 'es' : 's'}`;
  const { suites, approaches, seeds } = p.config;
  const planned = p.manifest?.shard?.planCells.length;
  const shard = req.shard ? `shard ${formatShard(req.shard)} of the plan${planned === undefined ? '' : `'s ${planned}`}: ` : '';
  console.log(`run ${p.runDir}: ${count(total, 'cell')} (${shard}${count(suites.length, 'suite')} x ${count(approaches.length, 'approach')} x ${count(seeds.length, 'seed')}), backend ${p.backend.name}${p.manifest ? '' : ', resuming'}`);
  const progress = createProgress(total, 'cells');
  let currentPid: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    progress.stop();
    if (currentPid !== undefined) {
      try {
        process.kill(currentPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    console.error(`\ninterrupted (${signal}): finished cells are kept in ${p.runDir}/cells. Resume with: ${resumeCommandOf(req, p.runDir)}`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let completed = 0, failed = 0, skipped = 0;
  const runStartMs = Date.now();
  try {
    for (const [i, cell] of p.cells.entries()) {
      const tag = `[${i + 1}/${total}] ${describe(cell)}`;
      const resultFile = cellResultPath(p.runDir, cell.id);
      if (req.resume && readResultStatus(resultFile) === 'completed') {
        skipped += 1;
        completed += 1;
        progress.log(`${tag}: skipped (completed earlier)`);
        progress.update(i + 1, '');
        continue;
      }
      progress.update(i, describe(cell));
      const job: CellJob = {
        spec: cell,
        suiteSource: p.suiteSources[cell.suite]!,
        checkpointDir: p.checkpointDir,
        ...(req.backend !== undefined ? { backend: req.backend } : {}),
        ...(req.testLimit !== undefined ? { testLimit: req.testLimit } : {}),
        ...(req.trainSteps !== undefined ? { trainSteps: req.trainSteps } : {}),
      };
      // A failed result from an earlier attempt must not stand in for this attempt's.
      rmSync(resultFile, { force: true });
      const jobFile = cellJobPath(p.runDir, cell.id);
      writeJsonAtomic(jobFile, job);
      const logFile = cellLogPath(p.runDir, cell.id);
      const t0 = Date.now();
      const exit = await runWorker(jobFile, logFile, (pid) => {
        currentPid = pid;
      }, (m) => progress.update(i, `${describe(cell)}: ${formatStage(m)}`));
      currentPid = undefined;
      let status = readResultStatus(resultFile);
      if (status === null) {
        const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
        const result: FailedCell = {
          schemaVersion: RESULT_SCHEMA_VERSION, cell, status: 'failed', startedAt: new Date(t0).toISOString(), finishedAt: new Date().toISOString(),
          wallSec: (Date.now() - t0) / 1000, backend: null,
          error: { message: `the cell's process ${how} without writing a result (see ${logFile})`, stack: logTail(logFile) },
        };
        writeJsonAtomic(resultFile, result);
        status = 'failed';
      }
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      if (status === 'completed') completed += 1;
      else failed += 1;
      progress.log(`${tag}: ${status} in ${seconds} s${status === 'failed' ? ` (see ${cellResultPath(p.runDir, cell.id)} and ${logFile})` : ''}`);
      progress.update(i + 1, '');
    }
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  console.log(`${completed} completed${skipped ? ` (${skipped} from before)` : ''}, ${failed} failed; results in ${p.runDir}`);
  const results = p.cells.flatMap((c) => {
    try {
      return [JSON.parse(readFileSync(cellResultPath(p.runDir, c.id), 'utf8')) as CellResult];
    } catch {
      return [];
    }
  });
  console.log(`${stageTimeTable(results)}\nrun wall time ${((Date.now() - runStartMs) / 1000).toFixed(1)} s`);
  const { files } = await writeReports(p.runDir);
  for (const f of files) console.log(`report: ${f}`);
  return failed === 0 ? 0 : 1;
}
