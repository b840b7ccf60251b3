// `bench merge <run-dir...> --out <dir>`: shard folders (or any run folders of one plan) into one run
// folder, then its reports. Like Playwright's merge-reports it replays recorded results and runs
// nothing. The merged folder is an ordinary run of the whole plan: its manifest lists every cell of
// the plan, the report marks the ones without a result, and `--resume` on it runs exactly those.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadRun, writeReports, type LoadedRun } from '../reports/index.js';
import { UsageError } from './errors.js';
import { configDifferences, configHashOf, runIdOf, type WrittenManifest } from './manifest.js';
import { METRICS, type MetricId } from './metrics/definitions.js';
import type { CellResult, CellSpec } from './results.js';
import { cellLogPath, cellResultPath, cellsDir, manifestPath, writeJsonAtomic } from './run-files.js';
import { acquireRunLock, makeRunDir, activeLockHolder, writeProblem, type RunLock } from './run-lock.js';
import { formatShard } from './shard.js';

/** A cell found in more than one input folder, and which copy the merge kept. */
export interface DuplicateCell {
  readonly id: string;
  /** Input folders holding it, in the order given. */
  readonly in: readonly string[];
  readonly kept: string;
  /** Empty when every copy measured the same (timings aside). */
  readonly differences: readonly string[];
  readonly why: string;
}

/** Recorded in the merged manifest as `merged`. */
export interface MergeRecord {
  readonly command: string;
  readonly at: string;
  readonly sources: ReadonlyArray<{ readonly dir: string; readonly runId: string; readonly shard: string | null; readonly gitCommit: string | null; readonly cells: number }>;
  readonly duplicates: readonly DuplicateCell[];
  readonly missing: readonly string[];
}

export interface MergeOutcome {
  readonly out: string;
  readonly cells: number;
  readonly failed: number;
  readonly missing: readonly CellSpec[];
  readonly duplicates: readonly DuplicateCell[];
  /** The command that runs the missing and failed cells into the merged folder. */
  readonly resume: string;
  readonly files: readonly string[];
}

/**
 * Metrics that differ between two runs of the same cell on the same plan: times, rates, latency and
 * process memory. Two copies of a cell that differ only in these measured the same thing.
 */
export function variesBetweenRuns(id: string): boolean {
  const unit = (METRICS as Readonly<Record<string, { unit: string } | undefined>>)[id]?.unit ?? '';
  return id.startsWith('latency.') || id === 'memory.rssPeakBytes' || id === 'memory.gpuPeakBytes' || unit === 's' || unit === 'ms' || unit.endsWith('/s');
}

/** What differs between two results of one cell, ignoring what varies between runs. */
export function cellDifferences(a: CellResult, b: CellResult, names: readonly [string, string]): string[] {
  if (a.status !== b.status) return [`status: ${a.status} ${names[0]}, ${b.status} ${names[1]}`];
  if (a.status === 'failed' || b.status === 'failed') return [];
  const ids = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].filter((id) => !variesBetweenRuns(id)).sort();
  const diffs: string[] = [];
  for (const id of ids) {
    const x = a.metrics[id as MetricId] ?? null, y = b.metrics[id as MetricId] ?? null;
    if (x !== y) diffs.push(`${id}: ${x} ${names[0]}, ${y} ${names[1]}`);
  }
  return diffs;
}

/** The plan's cells as a folder records them: a shard's whole plan, or a run's own cells. */
const planCellsOf = (m: WrittenManifest): readonly CellSpec[] => m.shard?.planCells ?? m.cells;

/** The command that made the plan, without what names one folder or shard. */
export function planCommandOf(command: string): string {
  return command.replace(/ --(?:shard|out)(?:=| )(?:'[^']*'|\S+)/g, '').replace(/ --resume\b/g, '');
}

interface Copy { readonly dir: string; readonly result: CellResult }

/** Completed before failed (a retry that succeeded replaces the failure), then the later finish, then the order given. */
function pick(copies: readonly Copy[]): { kept: Copy; why: string } {
  const order = copies.map((c, i) => ({ c, i })).sort((x, y) =>
    (x.c.result.status === 'completed' ? 0 : 1) - (y.c.result.status === 'completed' ? 0 : 1)
    || y.c.result.finishedAt.localeCompare(x.c.result.finishedAt) || x.i - y.i);
  const kept = order[0]!.c;
  const statuses = new Set(copies.map((c) => c.result.status));
  const why = statuses.size > 1 ? 'the completed copy (a retry that succeeded replaces a failure)'
    : new Set(copies.map((c) => c.result.finishedAt)).size > 1 ? `the copy that finished last (${kept.result.finishedAt}), the latest attempt`
      : 'the first folder given (the copies finished at the same time)';
  return { kept, why };
}

function checkOutFolder(out: string, inputs: readonly string[]): void {
  if (inputs.includes(out)) throw new UsageError(`--out ${out} is also an input folder. Fix: merge into a new folder, e.g. --out merged`);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out ${out}: is a file, not a folder. Fix: give a folder path that does not exist yet`);
  if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`--out ${out}: the folder is not empty. Fix: choose a new folder (bench merge never mixes into an existing run)`);
}

/** Loads every input and checks they are one plan; throws UsageError naming the first difference. */
async function loadPlan(dirs: readonly string[]): Promise<LoadedRun[]> {
  const runs: LoadedRun[] = [];
  for (const dir of dirs) {
    const holder = activeLockHolder(dir);
    if (holder) throw new UsageError(`${dir} is still being written by ${holder}. Fix: merge once every shard has ended`);
    const run = await loadRun(dir);
    if (!(run.manifest as WrittenManifest).config) {
      throw new UsageError(`${manifestPath(dir)} records no resolved config, so its plan cannot be checked. Fix: merge only folders written by this adaptbench version`);
    }
    runs.push(run);
  }
  const first = runs[0]!, fm = first.manifest as WrittenManifest;
  for (const run of runs.slice(1)) {
    const m = run.manifest as WrittenManifest;
    if (m.configHash !== fm.configHash || configHashOf(m.config) !== configHashOf(fm.config)) {
      const diffs = configDifferences(fm.config, m.config, [`in ${first.dir}`, `in ${run.dir}`]);
      throw new UsageError(`cannot merge ${run.dir} with ${first.dir}: they are different plans (config hash ${fm.configHash.slice(0, 12)} and ${m.configHash.slice(0, 12)}):\n  `
        + `${(diffs.length ? diffs : ['the recorded config hashes differ']).join('\n  ')}\nFix: merge only the shards of one plan (the same command, code and data; only --shard and --out may differ)`);
    }
    const a = planCellsOf(fm).map((c) => c.id).join('\n'), b = planCellsOf(m).map((c) => c.id).join('\n');
    if (a !== b) {
      throw new UsageError(`cannot merge ${run.dir} with ${first.dir}: same config, but their plans list different cells (written by different adaptbench versions?). Fix: re-run the shards with one version`);
    }
  }
  return runs;
}

/** Merges `dirs` into `out`; throws UsageError (exit 2) for different plans or a bad --out. */
export async function mergeRuns(inputs: readonly string[], outArg: string, command: string, log: (line: string) => void = console.log): Promise<MergeOutcome> {
  if (inputs.length === 0) throw new UsageError('bench merge needs at least one run folder. Example: bench merge shards/* --out merged');
  const dirs = inputs.map((d) => resolve(d));
  const twice = dirs.find((d, i) => dirs.indexOf(d) !== i);
  if (twice) throw new UsageError(`${twice} is given twice. Fix: give each shard folder once`);
  const out = resolve(outArg);
  checkOutFolder(out, dirs);
  const runs = await loadPlan(dirs);
  const base = runs[0]!.manifest as WrittenManifest;
  const plan = planCellsOf(base);

  const copies = new Map<string, Copy[]>(plan.map((c) => [c.id, []]));
  for (const run of runs) {
    for (const result of run.cells) {
      const list = copies.get(result.cell.id);
      if (list) list.push({ dir: run.dir, result });
      else log(`merge: ${run.dir} holds ${result.cell.id}, which is not in the plan: left out`);
    }
  }
  const kept: Copy[] = [];
  const missing: CellSpec[] = [];
  const duplicates: DuplicateCell[] = [];
  for (const spec of plan) {
    const list = copies.get(spec.id)!;
    if (list.length === 0) {
      missing.push(spec);
      continue;
    }
    const { kept: k, why } = pick(list);
    kept.push(k);
    if (list.length > 1) {
      const differences = list.filter((c) => c !== k).flatMap((c) => cellDifferences(k.result, c.result, [`in ${k.dir}`, `in ${c.dir}`]));
      duplicates.push({ id: spec.id, in: list.map((c) => c.dir), kept: k.dir, differences, why: differences.length ? why : 'identical measurements (timings aside)' });
    }
  }

  const planCommand = planCommandOf(base.command);
  const resume = `${planCommand} --out ${out} --resume`;
  const fresh = !existsSync(out);
  let lock: RunLock;
  try {
    makeRunDir(out);
    lock = acquireRunLock(out, command);
  } catch (err) {
    throw writeProblem(err, out, null);
  }
  try {
    mkdirSync(cellsDir(out), { recursive: true });
    for (const { dir, result } of kept) {
      writeJsonAtomic(cellResultPath(out, result.cell.id), result);
      const logFile = cellLogPath(dir, result.cell.id);
      if (existsSync(logFile)) {
        const tmp = `${cellLogPath(out, result.cell.id)}.tmp-${process.pid}`;
        copyFileSync(logFile, tmp);
        renameSync(tmp, cellLogPath(out, result.cell.id));
      }
    }
    const merged: MergeRecord = {
      command, at: new Date().toISOString(),
      sources: runs.map((r) => {
        const m = r.manifest as WrittenManifest;
        return { dir: r.dir, runId: m.runId, shard: m.shard ? formatShard(m.shard) : null, gitCommit: m.gitCommit, cells: r.cells.length };
      }),
      duplicates, missing: missing.map((c) => c.id),
    };
    const { shard: _shard, ...rest } = base;
    const manifest: WrittenManifest & { merged: MergeRecord } = { ...rest, runId: runIdOf(new Date()), command: planCommand, cells: [...plan], merged };
    // The manifest goes last: a merge cut short leaves no folder that looks like a finished run.
    writeJsonAtomic(manifestPath(out), manifest);
    const { files } = await writeReports(out);
    const commits = new Set(merged.sources.map((s) => s.gitCommit));
    if (commits.size > 1) log(`merge: note: the folders ran different commits (${[...commits].map((c) => c?.slice(0, 12) ?? 'unknown').join(', ')})`);
    for (const d of duplicates) {
      log(`merge: ${d.id} is in ${d.in.length} folders; kept the one in ${d.kept}: ${d.why}`);
      for (const line of d.differences) log(`merge:     differs: ${line}`);
    }
    const failed = kept.filter((k) => k.result.status === 'failed').length;
    log(`merge: ${kept.length} of ${plan.length} cells from ${runs.length} folder(s) into ${out} (${failed} failed, ${missing.length} missing, ${duplicates.length} found twice or more)`);
    if (missing.length) log(`merge: missing (no folder holds a result): ${missing.map((c) => c.id).join(', ')}`);
    if (missing.length || failed) log(`merge: to run the missing and failed cells into the merged folder: ${resume}`);
    return { out, cells: kept.length, failed, missing, duplicates, resume, files };
  } catch (err) {
    // A merge cut short is worth nothing: remove the folder it made rather than leave part of one.
    if (fresh) rmSync(out, { recursive: true, force: true });
    throw writeProblem(err, out, null);
  } finally {
    lock.release();
  }
}

/** Adds `bench merge` to the program. Exit 0 when every cell of the plan completed, 1 when some are missing or failed. */
export function registerMergeCommand(program: Command, setExit: (code: number) => void, command: string): void {
  program.command('merge').description('combine the run folders of one plan\'s shards into one run folder, with its reports')
    .argument('<run-dir...>', 'shard run folders (written with --shard) or other run folders of the same plan')
    .requiredOption('--out <dir>', 'the merged run folder (new or empty)')
    .action(async (dirs: string[], flags: { out: string }) => {
      const r = await mergeRuns(dirs, flags.out, command);
      for (const f of r.files) console.log(`report: ${f}`);
      setExit(r.missing.length > 0 || r.failed > 0 ? 1 : 0);
    });
}
