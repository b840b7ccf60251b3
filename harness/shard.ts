// Splitting a run's cells over machines: `--shard i/n` runs the i-th of n parts of the plan, as
// Playwright's `--shard=i/n` does with test files. The engines that run the parts (a CI matrix, a
// Kubernetes Indexed Job) already exist; this module only decides which cells are whose.
//
// Playwright cuts its ordered test list into n contiguous ranges of about equal count. That balances
// badly here: a plan has few cells (tens) and a fine-tuning cell costs several times a base cell, so
// equal counts can put every fine-tuning cell in one shard. Instead each cell, most expensive first,
// goes to the shard with the least expected cost so far (longest-processing-time-first). The result
// depends only on the plan's cells and this file's cost table, never on the machine or the clock, so
// every shard of a CI matrix computes the same split independently.
import { UsageError } from './errors.js';
import type { CellSpec } from './results.js';

/** 1-based, as `--shard 2/3` is written: the second of three shards. */
export interface ShardSpec {
  readonly index: number;
  readonly total: number;
}

/** Kubernetes sets this in every pod of an Indexed Job: the completion index, 0-based. */
export const SHARD_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** Kubernetes gives pods no total: the Job sets it to its `completions` (deploy/kubernetes/). */
export const SHARD_TOTAL_ENV = 'ADAPTBENCH_SHARD_TOTAL';

const SHARD_EXAMPLE = 'Example: --shard 2/3 (the second of three shards), or --shard auto inside a Kubernetes Indexed Job';

function wholeNumber(raw: string | undefined): number | null {
  if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

/** `i/n` or `auto` (index from JOB_COMPLETION_INDEX + 1, total from ADAPTBENCH_SHARD_TOTAL). */
export function parseShard(value: string, env: Readonly<Record<string, string | undefined>> = process.env): ShardSpec {
  const v = value.trim();
  if (v === 'auto') {
    const index0 = wholeNumber(env[SHARD_INDEX_ENV]);
    const total = wholeNumber(env[SHARD_TOTAL_ENV]);
    if (index0 === null) {
      throw new UsageError(`--shard auto: ${SHARD_INDEX_ENV} is ${env[SHARD_INDEX_ENV] === undefined ? 'not set' : `"${env[SHARD_INDEX_ENV]}", not a whole number`} `
        + `(Kubernetes sets it in the pods of a Job with completionMode: Indexed). Fix: run inside such a Job, or give --shard i/n`);
    }
    if (total === null || total < 1) {
      throw new UsageError(`--shard auto: ${SHARD_TOTAL_ENV} is ${env[SHARD_TOTAL_ENV] === undefined ? 'not set' : `"${env[SHARD_TOTAL_ENV]}", not a positive whole number`}. `
        + `Fix: set it in the Job's pod template to the Job's completions (see deploy/kubernetes/bench-job.yaml)`);
    }
    if (index0 >= total) {
      throw new UsageError(`--shard auto: ${SHARD_INDEX_ENV}=${index0} is not below ${SHARD_TOTAL_ENV}=${total}. Fix: set ${SHARD_TOTAL_ENV} to the Job's completions`);
    }
    return { index: index0 + 1, total };
  }
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const index = m ? wholeNumber(m[1]) : null, total = m ? wholeNumber(m[2]) : null;
  if (index === null || total === null) throw new UsageError(`--shard must be i/n or auto (got "${value}"). ${SHARD_EXAMPLE}`);
  if (total < 1 || index < 1 || index > total) {
    throw new UsageError(`--shard ${v}: the shard index must be between 1 and the total (1-based, as in 1/${Math.max(total, 1)}). ${SHARD_EXAMPLE}`);
  }
  return { index, total };
}

export const formatShard = (s: ShardSpec): string => `${s.index}/${s.total}`;

/**
 * Expected wall seconds of a cell of each approach: one seed of knowledge-qa with the default model,
 * 100 test questions (the smoke preset), measured in one `bench all` process on the 2-core development
 * machine while other work ran (README, "Sharding"). Only the ratios matter. An approach not listed
 * costs as much as the most expensive one listed, so a new approach is never assumed cheap.
 */
export const EXPECTED_CELL_SECONDS: Readonly<Record<string, number>> = Object.freeze({
  base: 34,
  'full-ft': 182,
  lora: 250,
  qlora: 247,
  rag: 93,
  'lora-rag': 330,
});

export function expectedCellSeconds(cell: CellSpec): number {
  return EXPECTED_CELL_SECONDS[cell.approach] ?? Math.max(...Object.values(EXPECTED_CELL_SECONDS));
}

/**
 * The cells of every shard, each list in plan order. Most expensive cell first, to the shard with
 * the least expected seconds so far; ties go to the cell earlier in the plan and the lower shard.
 * With more shards than cells the last shards are empty.
 */
export function partitionCells(cells: readonly CellSpec[], total: number, cost: (c: CellSpec) => number = expectedCellSeconds): CellSpec[][] {
  if (!Number.isSafeInteger(total) || total < 1) throw new RangeError(`shard total must be a positive integer (got ${total})`);
  const order = cells.map((cell, i) => ({ i, cost: cost(cell) })).sort((a, b) => b.cost - a.cost || a.i - b.i);
  const load = new Array<number>(total).fill(0);
  const owner = new Array<number>(cells.length);
  for (const { i, cost: c } of order) {
    let best = 0;
    for (let s = 1; s < total; s++) if (load[s]! < load[best]!) best = s;
    owner[i] = best;
    load[best]! += c;
  }
  const shards: CellSpec[][] = Array.from({ length: total }, () => []);
  cells.forEach((cell, i) => shards[owner[i]!]!.push(cell));
  return shards;
}

/** The cells shard `spec` runs, in plan order. */
export function shardCells(cells: readonly CellSpec[], spec: ShardSpec): CellSpec[] {
  return partitionCells(cells, spec.total)[spec.index - 1] ?? [];
}

/** What a shard's manifest records, so `bench merge` can check plans and list missing cells. */
export interface ShardInfo extends ShardSpec {
  /** Every cell of the plan, in plan order (the manifest's `cells` are this shard's). */
  readonly planCells: readonly CellSpec[];
  /** Expected seconds of this shard's cells, from the cost table. */
  readonly expectedSec: number;
}

export function shardInfo(planCells: readonly CellSpec[], spec: ShardSpec): { info: ShardInfo; cells: CellSpec[] } {
  const cells = shardCells(planCells, spec);
  return { cells, info: { ...spec, planCells: [...planCells], expectedSec: cells.reduce((s, c) => s + expectedCellSeconds(c), 0) } };
}
