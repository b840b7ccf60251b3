// The run manifest: what ran, on what, from which code and data, so a result can be reproduced
// and two runs can be told apart.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { cpus, release, type } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentHash } from '../datasets/hash.js';
import type { SuiteSource } from '../suites/types.js';
import type { BackendInfo } from './engine/backend.js';
import type { ShardInfo } from './shard.js';
import { RESULT_SCHEMA_VERSION, type CellSpec, type RunManifest } from './results.js';

/** The project folder (this file runs from dist/harness/). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

function git(args: string[], cwd: string): string | null {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * The commit checked out and whether the tree differs from it. Both null when the project is not
 * its own git checkout (a tarball, or vendored inside another repository); commit null before the
 * first commit.
 */
export function gitState(root = PROJECT_ROOT): { commit: string | null; dirty: boolean | null } {
  const top = git(['rev-parse', '--show-toplevel'], root);
  if (top === null || realpathSync(top) !== realpathSync(root)) return { commit: null, dirty: null };
  const commit = git(['rev-parse', '--verify', '--quiet', 'HEAD'], root);
  const status = git(['status', '--porcelain'], root);
  return { commit: commit || null, dirty: status === null ? null : status !== '' };
}

/** Installed version of every package named in package.json (null where it is not installed). */
export function packageVersions(root = PROJECT_ROOT): Record<string, string | null> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const names = [...new Set(['dependencies', 'optionalDependencies', 'devDependencies'].flatMap((k) => Object.keys(pkg[k] ?? {})))].sort();
  const out: Record<string, string | null> = {};
  for (const name of names) {
    const file = join(root, 'node_modules', name, 'package.json');
    let version: string | null = null;
    if (existsSync(file)) {
      try {
        version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
      } catch {
        version = null;
      }
    }
    out[name] = version;
  }
  return out;
}

/** Run id and default folder name: the UTC start time, `YYYYMMDD-HHMMSS`. */
export function runIdOf(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Everything that decides a run's results; its hash must match for `--resume`. */
export interface ResolvedRunConfig {
  readonly suites: ReadonlyArray<{ readonly name: string; readonly version: string }>;
  readonly approaches: ReadonlyArray<{ readonly name: string; readonly label: string; readonly config: Readonly<Record<string, unknown>> }>;
  readonly seeds: readonly number[];
  /** --limit-test, or null for the suite's budget. */
  readonly testLimit: number | null;
  /** --train-steps, where given (absent: the suites' budgets). */
  readonly trainSteps?: number;
  /** The backend that runs (requested or chosen): one run never mixes backends. */
  readonly backend: string;
  /** Base checkpoint, suite data per seed, held-out data per seed: content hashes. */
  readonly dataHashes: Readonly<Record<string, string>>;
  readonly resultSchemaVersion: number;
}

/**
 * The manifest as written: the schema's fields plus the resolved config its hash is taken over. A
 * shard's manifest lists its own cells in `cells` and the whole plan in `shard.planCells`; the
 * config, and so the hash, is the plan's, the same in every shard.
 */
export type WrittenManifest = RunManifest & { readonly config: ResolvedRunConfig; readonly shard?: ShardInfo };

export function configHashOf(config: ResolvedRunConfig): string {
  return contentHash(config);
}

/** Top-level keys of two resolved configs that differ, each with both values, for a --resume or merge error. */
export function configDifferences(before: ResolvedRunConfig, now: ResolvedRunConfig, names: readonly [string, string] = ['then', 'now']): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])] as Array<keyof ResolvedRunConfig>;
  const diffs: string[] = [];
  for (const k of keys) {
    const a = before[k], b = now[k];
    if (contentHash(a ?? null) === contentHash(b ?? null)) continue;
    if (k === 'dataHashes') {
      const da = a as Record<string, string>, db = b as Record<string, string>;
      for (const name of [...new Set([...Object.keys(da), ...Object.keys(db)])]) {
        if (da[name] !== db[name]) diffs.push(`dataHashes.${name}: ${da[name]?.slice(0, 12) ?? 'absent'} ${names[0]}, ${db[name]?.slice(0, 12) ?? 'absent'} ${names[1]}`);
      }
    } else {
      diffs.push(`${k}: ${JSON.stringify(a)} ${names[0]}, ${JSON.stringify(b)} ${names[1]}`);
    }
  }
  return diffs;
}

export function createManifest(args: {
  runId: string;
  command: string;
  backend: BackendInfo;
  cells: readonly CellSpec[];
  config: ResolvedRunConfig;
  suiteSources: Readonly<Record<string, SuiteSource>>;
}): WrittenManifest {
  const { commit, dirty } = gitState();
  const cpuList = cpus();
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    runId: args.runId,
    createdAt: new Date().toISOString(),
    command: args.command,
    gitCommit: commit,
    gitDirty: dirty,
    packages: packageVersions(),
    node: process.version,
    os: `${type()} ${release()}`,
    cpu: { model: cpuList[0]?.model.trim() ?? 'unknown', cores: cpuList.length },
    backend: args.backend,
    seeds: args.config.seeds,
    suites: args.config.suites.map((s) => s.name),
    suiteSources: args.suiteSources,
    cells: args.cells,
    configHash: configHashOf(args.config),
    dataHashes: args.config.dataHashes,
    config: args.config,
  };
}
