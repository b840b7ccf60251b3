// Sharding, merging, the run-folder lock and faults, through the real CLI on a tiny checkpoint made by
// the real pretraining code. One plan (knowledge-qa, base and rag, 2 seeds, 20 test questions: 4
// cells) runs unsharded, killed with SIGKILL at several points and resumed, and as 3 shards in
// separate processes; the merged shards must hold the same cells with the same measurements.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { MetricId } from '../harness/metrics/definitions.js';
import { variesBetweenRuns } from '../harness/merge.js';
import { pretrain } from '../harness/pretrain.js';
import type { CellResult, CellSpec, CompletedCell } from '../harness/results.js';
import { acquireRunLock, LOCK_FILE, STALE_AFTER_MS } from '../harness/run-lock.js';
import { parseShard, partitionCells } from '../harness/shard.js';
import { loadRun } from '../reports/load.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'harness', 'bin', 'bench.js');
const CELL_IDS = ['knowledge-qa__base__seed0', 'knowledge-qa__rag__seed0', 'knowledge-qa__base__seed1', 'knowledge-qa__rag__seed1'];

let tmp = '';
let tiny = '';
const plan = (): string[] => ['run', 'knowledge-qa', '--approach', 'base,rag', '--seeds', '2', '--limit-test', '20', '--checkpoint', tiny];

interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function bench(args: readonly string[], opts: { onSpawn?: (pid: number) => void; onStdout?: (all: string) => void } = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], { cwd: ROOT, env: { ...process.env, CI: 'true' }, detached: true });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); opts.onStdout?.(stdout); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function waitFor<T>(what: string, probe: () => T | null | undefined, timeoutMs = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Gone, or a zombie nobody has reaped yet. */
function stopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/**
 * Everything in a completed result that must not change between two runs of the same cell: what
 * `bench merge` compares (timings, rates and latency aside, and their notes, which may say where a
 * cached "before" came from).
 */
function stablePart(r: CellResult): unknown {
  assert.equal(r.status, 'completed', r.status === 'failed' ? r.error.message : '');
  const c = r as CompletedCell;
  const stable = <T>(o: Readonly<Record<string, T>>) => Object.fromEntries(Object.entries(o).filter(([k]) => !variesBetweenRuns(k)));
  const metrics = stable(c.metrics);
  const intervals = stable(c.intervals);
  const notes = stable(c.notes);
  return { cell: c.cell, metrics, intervals, notes, samples: c.samples };
}

const cellFiles = (run: string): string[] => readdirSync(join(run, 'cells')).filter((f) => f.endsWith('.json')).sort();
const readCell = (run: string, id: string): CellResult => JSON.parse(readFileSync(join(run, 'cells', `${id}.json`), 'utf8')) as CellResult;
const sectionsOf = (run: string): string[] => [...readFileSync(join(run, 'report.html'), 'utf8').matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]!);

/** Every file under `dir`, relative. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

/** After any kill: every result file is whole and valid (loadRun checks each), none is named twice. */
async function assertNoHalfWrittenResult(run: string): Promise<string[]> {
  const loaded = await loadRun(run);
  const ids = loaded.cells.map((c) => c.cell.id);
  assert.equal(new Set(ids).size, ids.length);
  return ids;
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'adaptbench-shard-'));
  tiny = join(tmp, 'tiny');
  await pretrain({ preset: 'tiny', seed: 0, out: tiny, log: () => {} });
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('--shard: parsed from i/n or from the Indexed Job environment; bad values say how to fix them', () => {
  assert.deepEqual(parseShard('2/3'), { index: 2, total: 3 });
  assert.deepEqual(parseShard('auto', { JOB_COMPLETION_INDEX: '0', ADAPTBENCH_SHARD_TOTAL: '4' }), { index: 1, total: 4 });
  assert.deepEqual(parseShard('auto', { JOB_COMPLETION_INDEX: '3', ADAPTBENCH_SHARD_TOTAL: '4' }), { index: 4, total: 4 });
  assert.throws(() => parseShard('0/3'), /--shard 0\/3: the shard index must be between 1 and the total/);
  assert.throws(() => parseShard('4/3'), /--shard 4\/3: the shard index must be between 1 and the total/);
  assert.throws(() => parseShard('two'), /--shard must be i\/n or auto \(got "two"\)/);
  assert.throws(() => parseShard('auto', {}), /JOB_COMPLETION_INDEX is not set/);
  assert.throws(() => parseShard('auto', { JOB_COMPLETION_INDEX: '1' }), /ADAPTBENCH_SHARD_TOTAL is not set/);
  assert.throws(() => parseShard('auto', { JOB_COMPLETION_INDEX: '4', ADAPTBENCH_SHARD_TOTAL: '4' }), /JOB_COMPLETION_INDEX=4 is not below ADAPTBENCH_SHARD_TOTAL=4/);
});

test('partition: every cell in one shard, balanced by cost (largest first to the lightest shard), in plan order', () => {
  const cell = (id: string): CellSpec => ({ id, suite: 's', approach: id, label: id, approachConfig: {}, seed: 0 });
  const cost: Record<string, number> = { A: 5, B: 3, C: 3, D: 2, E: 2, F: 1 };
  const cells = ['A', 'B', 'C', 'D', 'E', 'F'].map(cell);
  const ids = (shards: CellSpec[][]): string[][] => shards.map((s) => s.map((c) => c.id));
  // By hand: A->1 (5,0), B->2 (5,3), C->2 (5,6), D->1 (7,6), E->2 (7,8), F->1 (8,8). Equal counts
  // in contiguous ranges (Playwright's way) would give A,B,C = 11 against D,E,F = 5.
  assert.deepEqual(ids(partitionCells(cells, 2, (c) => cost[c.id]!)), [['A', 'D', 'F'], ['B', 'C', 'E']]);
  assert.deepEqual(ids(partitionCells(cells, 3, (c) => cost[c.id]!)), [['A', 'F'], ['B', 'D'], ['C', 'E']]);
  assert.deepEqual(ids(partitionCells(cells.slice(0, 2), 3, (c) => cost[c.id]!)), [['A'], ['B'], []]);
  // The default cost table, on the 4-cell plan of the tests below: each rag cell alone, both base cells together.
  const planCells = CELL_IDS.map((id) => ({ ...cell(id), approach: id.split('__')[1]! }));
  assert.deepEqual(ids(partitionCells(planCells, 3)), [['knowledge-qa__rag__seed0'], ['knowledge-qa__rag__seed1'], ['knowledge-qa__base__seed0', 'knowledge-qa__base__seed1']]);
});

test('the run-folder lock: refused while its holder lives, taken over when it is stale', () => {
  const dir = join(tmp, 'lock');
  mkdirSync(dir);
  const lock = acquireRunLock(dir, 'bench test');
  assert.throws(() => acquireRunLock(dir, 'bench second'), /is being written by bench test \(pid \d+ on .*\)\. Fix: wait for it to end/);
  lock.release();
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
  // A holder on another host (a shared volume): refused while it refreshes the lock, taken over after.
  const path = join(dir, LOCK_FILE);
  writeFileSync(path, JSON.stringify({ host: 'another-node', pid: 1, pidStart: null, since: 'then', command: 'bench elsewhere', token: 'x' }));
  assert.throws(() => acquireRunLock(dir, 'bench here'), /being written by bench elsewhere \(pid 1 on another-node/);
  const old = new Date(Date.now() - STALE_AFTER_MS - 5_000);
  utimesSync(path, old, old);
  const taken = acquireRunLock(dir, 'bench here');
  assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { command: string }).command, 'bench here');
  taken.release();
  // A holder on this host that no longer runs (a process that has exited): taken over at once.
  const dead = spawnSync('true').pid;
  writeFileSync(path, JSON.stringify({ host: hostname(), pid: dead, pidStart: null, since: 'then', command: 'bench dead', token: 'y' }));
  acquireRunLock(dir, 'bench after').release();
  assert.ok(!existsSync(path));
});

let unsharded: Promise<string> | null = null;

/**
 * The unsharded run, killed with SIGKILL at several points and resumed each time: while its first
 * cell runs (the whole process group, as a CI timeout does), while its second cell runs (the runner
 * alone: its cell process must stop too), and while it writes its reports.
 */
function runUnshardedWithKills(): Promise<string> {
  unsharded ??= (async () => {
    const run = join(tmp, 'unsharded');
    const args = [...plan(), '--out', run];
    const mtimes = new Map<string, number>();
    const checkKept = async (): Promise<void> => {
      for (const id of await assertNoHalfWrittenResult(run)) {
        const m = statSync(join(run, 'cells', `${id}.json`)).mtimeMs;
        if (!mtimes.has(id)) mtimes.set(id, m);
        assert.equal(m, mtimes.get(id), `${id} was not run again`);
      }
    };

    // 1. During the first cell.
    let pid = 0;
    let running = bench(args, { onSpawn: (p) => { pid = p; } });
    await waitFor('the first cell job', () => (existsSync(join(run, 'jobs', `${CELL_IDS[0]}.json`)) ? true : null));
    process.kill(-pid, 'SIGKILL');
    assert.equal((await running).signal, 'SIGKILL');
    assert.deepEqual(await assertNoHalfWrittenResult(run), []);
    assert.ok(existsSync(join(run, LOCK_FILE)), 'the killed run left its lock');

    // 2. The runner alone, during the second cell; a second writer is refused while it runs.
    running = bench([...args, '--resume'], { onSpawn: (p) => { pid = p; } });
    await waitFor('the first cell result', () => (existsSync(join(run, 'cells', `${CELL_IDS[0]}.json`)) ? true : null));
    const second = await bench([...args, '--resume']);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /run folder .*unsharded is being written by bench run knowledge-qa .* \(pid \d+ on .*\)\. Fix: wait for it to end/);
    const worker = await waitFor('the second cell process', () => {
      const out = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
      const line = out.split('\n').find((l) => l.includes('cell-worker.js') && l.includes(CELL_IDS[1]!));
      return line ? Number(line.trim().split(/\s+/)[0]) : null;
    });
    process.kill(pid, 'SIGKILL');
    const r2 = await running;
    assert.equal(r2.signal, 'SIGKILL');
    assert.match(r2.stderr, /took over the lock of .*unsharded from pid \d+ on .*: process \d+ no longer runs/);
    // It stops when its event loop next turns (a long computation delays that on a busy machine).
    await waitFor('the orphaned cell process to stop', () => (stopped(worker) ? true : null), 120_000);
    await checkKept();

    // 3. While writing the reports, after every cell.
    let killed = false;
    running = bench([...args, '--resume'], {
      onSpawn: (p) => { pid = p; },
      onStdout: (out) => {
        if (!killed && /\d+ completed \(\d+ from before\), 0 failed/.test(out)) {
          killed = true;
          process.kill(-pid, 'SIGKILL');
        }
      },
    });
    const r3 = await running;
    assert.equal(r3.signal, 'SIGKILL', r3.stdout);
    assert.match(r3.stdout, /\[1\/4\] knowledge-qa base seed 0: skipped \(completed earlier\)/);
    await checkKept();
    assert.deepEqual(cellFiles(run), CELL_IDS.map((id) => `${id}.json`).sort());

    // 4. The last resume runs no cell and writes the reports.
    const r4 = await bench([...args, '--resume']);
    assert.equal(r4.code, 0, r4.stderr);
    assert.equal(r4.stdout.match(/skipped \(completed earlier\)/g)?.length, 4);
    await checkKept();
    const left = filesUnder(run).filter((f) => /\.tmp-\d+$/.test(f) || f.endsWith(LOCK_FILE));
    assert.deepEqual(left, [], 'no temporary file and no lock is left');
    return run;
  })();
  return unsharded;
}

let shardDirs: Promise<string[]> | null = null;
function runShards(): Promise<string[]> {
  shardDirs ??= (async () => {
    const dirs: string[] = [];
    for (const i of [1, 2, 3]) {
      const dir = join(tmp, `shard-${i}`);
      const r = await bench([...plan(), '--shard', `${i}/3`, '--out', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`shard ${i}/3 of the plan's 4: 1 suite x 2 approaches x 2 seeds`));
      dirs.push(dir);
    }
    return dirs;
  })();
  return shardDirs;
}

test('kill -9 at several points, then --resume: every cell once, none lost, nothing half-written', async () => {
  // The shards of the next tests run meanwhile: the machine's cores are used while this one waits.
  const [run] = await Promise.all([runUnshardedWithKills(), runShards()]);
  const loaded = await loadRun(run);
  assert.deepEqual(loaded.cells.map((c) => c.cell.id), CELL_IDS);
  assert.equal(loaded.missing.length, 0);
});

test('3 shards in separate processes, merged: the same cells, measurements and report sections as unsharded', async () => {
  const [run, dirs] = await Promise.all([runUnshardedWithKills(), runShards()]);
  const manifests = dirs.map((d) => JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as { configHash: string; cells: CellSpec[]; shard: { index: number; total: number; planCells: CellSpec[] } });
  assert.deepEqual(manifests.map((m) => m.cells.map((c) => c.id)), [['knowledge-qa__rag__seed0'], ['knowledge-qa__rag__seed1'], ['knowledge-qa__base__seed0', 'knowledge-qa__base__seed1']]);
  assert.deepEqual(manifests.map((m) => [m.shard.index, m.shard.total, m.shard.planCells.length]), [[1, 3, 4], [2, 3, 4], [3, 3, 4]]);
  const unshardedManifest = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')) as { configHash: string };
  assert.deepEqual(new Set(manifests.map((m) => m.configHash)), new Set([unshardedManifest.configHash]));

  const merged = join(tmp, 'merged');
  const r = await bench(['merge', ...dirs, '--out', merged]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /merge: 4 of 4 cells from 3 folder\(s\) into .*merged \(0 failed, 0 missing, 0 found twice or more\)/);
  assert.deepEqual(cellFiles(merged), cellFiles(run));
  for (const id of CELL_IDS) assert.deepEqual(stablePart(readCell(merged, id)), stablePart(readCell(run, id)), id);
  assert.deepEqual(sectionsOf(merged), sectionsOf(run));
  const m = JSON.parse(readFileSync(join(merged, 'manifest.json'), 'utf8')) as { configHash: string; cells: CellSpec[]; command: string; shard?: unknown };
  assert.equal(m.configHash, unshardedManifest.configHash);
  assert.deepEqual(m.cells.map((c) => c.id), CELL_IDS);
  assert.equal(m.shard, undefined);
  assert.match(m.command, /^bench run knowledge-qa --approach base,rag --seeds 2 --limit-test 20 --checkpoint \S+$/);
});

test('merge: a cell found twice is kept once, and differing copies are named with the one kept and why', async () => {
  const [run, dirs] = await Promise.all([runUnshardedWithKills(), runShards()]);
  // A retried shard 3 (Kubernetes running an index twice): same measurements.
  const identical = join(tmp, 'merged-dup');
  const r = await bench(['merge', ...dirs, run, '--out', identical]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /merge: 4 of 4 cells from 4 folder\(s\) into .* \(0 failed, 0 missing, 4 found twice or more\)/);
  assert.match(r.stdout, /merge: knowledge-qa__base__seed0 is in 2 folders; kept the one in .*shard-3: identical measurements \(timings aside\)/);
  assert.deepEqual(cellFiles(identical), CELL_IDS.map((id) => `${id}.json`).sort());

  // A copy whose quality differs, finished later: kept, and the difference is named.
  const retried = join(tmp, 'shard-3-retried');
  cpSync(dirs[2]!, retried, { recursive: true });
  const file = join(retried, 'cells', 'knowledge-qa__base__seed1.json');
  const cell = JSON.parse(readFileSync(file, 'utf8')) as CompletedCell & { metrics: Record<MetricId, number | null> };
  const em = cell.metrics['quality.exactMatch'];
  cell.metrics['quality.exactMatch'] = 0.5;
  writeFileSync(file, JSON.stringify({ ...cell, finishedAt: '2999-01-01T00:00:00.000Z' }));
  const differ = join(tmp, 'merged-differ');
  const d = await bench(['merge', dirs[2]!, retried, '--out', differ]);
  assert.equal(d.code, 1, d.stderr); // shards 1 and 2 are not given: their cells are missing
  assert.match(d.stdout, new RegExp(`knowledge-qa__base__seed1 is in 2 folders; kept the one in .*shard-3-retried: the copy that finished last \\(2999-01-01T00:00:00.000Z\\), the latest attempt\\n`
    + `merge:     differs: quality.exactMatch: 0.5 in .*shard-3-retried, ${em} in .*shard-3\\n`));
  assert.equal((readCell(differ, 'knowledge-qa__base__seed1') as CompletedCell).metrics['quality.exactMatch'], 0.5);
});

test('merge: missing cells are listed and marked in the report; bench run --resume on the merged folder completes them', async () => {
  const [run, dirs] = await Promise.all([runUnshardedWithKills(), runShards()]);
  const merged = join(tmp, 'merged-partial');
  const r = await bench(['merge', dirs[0]!, dirs[1]!, '--out', merged]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /merge: missing \(no folder holds a result\): knowledge-qa__base__seed0, knowledge-qa__base__seed1\n/);
  const resume = /to run the missing and failed cells into the merged folder: (.*)\n/.exec(r.stdout)?.[1];
  assert.match(resume ?? '', /^bench run knowledge-qa --approach base,rag --seeds 2 --limit-test 20 --checkpoint \S+ --out \S+merged-partial --resume$/);
  assert.ok(sectionsOf(merged).includes('missing'));
  assert.match(readFileSync(join(merged, 'report.html'), 'utf8'), /<code>knowledge-qa__base__seed0<\/code>/);

  const done = await bench(resume!.split(' ').slice(1));
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /\[1\/4\] knowledge-qa base seed 0: completed in/);
  assert.match(done.stdout, /\[2\/4\] knowledge-qa rag seed 0: skipped \(completed earlier\)/);
  assert.ok(!sectionsOf(merged).includes('missing'));
  assert.deepEqual(sectionsOf(merged), sectionsOf(run));
  for (const id of CELL_IDS) assert.deepEqual(stablePart(readCell(merged, id)), stablePart(readCell(run, id)), id);

  // Resuming a shard's folder as another shard would mix two cell lists: refused.
  const wrong = await bench([...plan(), '--shard', '2/3', '--out', dirs[0]!, '--resume']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--resume: .*shard-1 holds shard 1\/3 of its plan, this command asks for shard 2\/3\. Fix: resume with --shard 1\/3/);
});

test('merge: folders of different plans exit 2 naming the difference, and write nothing', async () => {
  const dirs = await runShards();
  // More shards than cells: shard 9 of 9 holds none, so this costs no cell.
  const other = join(tmp, 'other-plan');
  const e = await bench(['run', 'knowledge-qa', '--approach', 'base,rag', '--seeds', '3', '--limit-test', '20', '--checkpoint', tiny, '--shard', '9/9', '--out', other]);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /run .*other-plan: 0 cells \(shard 9\/9 of the plan's 6/);
  const out = join(tmp, 'merged-refused');
  const r = await bench(['merge', dirs[0]!, other, '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot merge .*other-plan with .*shard-1: they are different plans \(config hash [0-9a-f]{12} and [0-9a-f]{12}\):\n  seeds: \[0,1\] in .*shard-1, \[0,1,2\] in .*other-plan\n/);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.ok(!existsSync(out));
  const same = await bench(['merge', dirs[0]!, '--out', dirs[0]!]);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /--out .*shard-1 is also an input folder/);
});

/** Whether this machine lets an unprivileged process mount a private tmpfs (user and mount namespaces). */
const canUnshare = (): boolean => spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']).status === 0;

test('a full disk (at the start or during the run) or a read-only --out: exit 2 with what to do; finished cells kept, no half-made folder', { skip: !canUnshare() && 'unshare --user --mount is not allowed here' }, () => {
  const mnt = join(tmp, 'mnt');
  mkdirSync(mnt);
  const args = [...plan(), '--out', join(mnt, 'run')].map((a) => `'${a}'`).join(' ');
  const script = (mountOptions: string, fill: boolean): string => [
    `mount -t tmpfs -o ${mountOptions} tmpfs '${mnt}'`,
    fill ? `dd if=/dev/zero of='${mnt}/filler' bs=4k 2>/dev/null; true` : 'true',
    `'${process.execPath}' '${BENCH}' ${args}; echo "exit=$?"`,
    `echo "left: $(ls -A '${mnt}' | tr '\\n' ' ')"`,
  ].join('\n');
  const full = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script('size=256k', true)], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.match(full.stdout, /exit=2\n/);
  assert.match(full.stdout, /left: filler \n/);
  assert.match(full.stderr, /bench: cannot write .*mnt\/run\S*: the disk is full \(ENOSPC\)\. Fix: free space on that disk, or give an --out folder on another disk/);
  // The disk fills up during the run, after the first cell: that cell is kept, the run stops with
  // the command that finishes it, and once there is space again that command does.
  const first = join(mnt, 'run', 'cells', `${CELL_IDS[0]}.json`);
  const base = ['run', 'knowledge-qa', '--approach', 'base', '--seeds', '2', '--limit-test', '20', '--checkpoint', tiny, '--out', join(mnt, 'run')];
  const midRun = [
    `mount -t tmpfs -o size=1m tmpfs '${mnt}'`,
    `'${process.execPath}' '${BENCH}' ${base.map((a) => `'${a}'`).join(' ')} > '${tmp}/full.out' 2> '${tmp}/full.err' &`,
    'pid=$!',
    `while [ ! -f '${first}' ] && kill -0 $pid 2>/dev/null; do sleep 0.1; done`,
    `dd if=/dev/zero of='${mnt}/filler' bs=4k 2>/dev/null`,
    'wait $pid; echo "exit=$?"',
    `echo "partial=$(find '${mnt}/run' -name '*.tmp-*' | wc -l)"`,
    `'${process.execPath}' -e 'console.log("first=" + JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).status)' '${first}'`,
    `rm '${mnt}/filler'`,
    `'${process.execPath}' '${BENCH}' ${[...base, '--resume'].map((a) => `'${a}'`).join(' ')} > '${tmp}/resume.out' 2>&1; echo "resume=$?"`,
    `echo "results=$(ls '${mnt}/run/cells/' | grep -c 'json$')"`,
  ].join('\n');
  const mid = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', midRun], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(mid.stdout, 'exit=2\npartial=0\nfirst=completed\nresume=0\nresults=2\n', `${mid.stderr}\n${readFileSync(join(tmp, 'resume.out'), 'utf8')}`);
  assert.match(readFileSync(join(tmp, 'full.err'), 'utf8'), new RegExp(`bench: cannot write .*mnt/run/\\S+: the disk is full \\(ENOSPC\\)\\. Cells that finished are kept in .*mnt/run/cells\\. `
    + `Fix: free space on that disk, or give an --out folder on another disk; then finish the run with: bench run knowledge-qa --approach base --seeds 2 .* --resume\n`));

  const ro = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script('ro', false)], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.match(ro.stdout, /exit=2\n/);
  assert.match(ro.stdout, /left: \n/);
  assert.match(ro.stderr, /bench: cannot write .*mnt\/run: the file system is read-only \(EROFS\)\. Fix: give an --out folder on a writable file system/);
});

/** `bench ...` command lines in a YAML file's shell strings, with their subcommand and flags. */
function benchCommands(text: string): Array<{ sub: string; flags: string[]; line: string }> {
  const found: Array<{ sub: string; flags: string[]; line: string }> = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(/(?:npx (?:--no-install )?bench|node harness\/bin\/bench\.js) (\w+)([^;\n|&]*)/g)) {
        found.push({ sub: m[1]!, flags: [...m[2]!.matchAll(/(?:^|\s)(--[a-z-]+)/g)].map((f) => f[1]!), line: m[0] });
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  for (const doc of text.split(/^---$/m)) visit(parseYaml(doc));
  return found;
}

test('the GitHub Actions workflow and the Kubernetes Jobs parse and call only real commands and flags', () => {
  const workflow = readFileSync(join(ROOT, '.github', 'workflows', 'bench.yml'), 'utf8');
  const wf = parseYaml(workflow) as { jobs: Record<string, { strategy?: { matrix: { shard: number[] } }; needs?: string; steps: Array<{ uses?: string; run?: string; with?: Record<string, string> }> }> };
  assert.deepEqual(wf.jobs['shard']!.strategy!.matrix.shard, [1, 2, 3]);
  const upload = wf.jobs['shard']!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'));
  assert.equal(upload?.with?.['name'], 'shard-${{ matrix.shard }}-of-${{ strategy.job-total }}-attempt-${{ github.run_attempt }}');
  assert.equal(wf.jobs['merge']!.needs, 'shard');
  assert.equal(wf.jobs['merge']!.steps.find((s) => s.uses?.startsWith('actions/download-artifact'))?.with?.['pattern'], 'shard-*');
  assert.ok(existsSync(join(ROOT, 'baselines', 'smoke', 'manifest.json')), 'the pull-request baseline is in the repository');

  const job = parseYaml(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'bench-job.yaml'), 'utf8')) as { spec: { completionMode: string; completions: number; template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }>; volumes: Array<{ persistentVolumeClaim: { claimName: string } }> } } } };
  assert.equal(job.spec.completionMode, 'Indexed');
  assert.equal(job.spec.template.spec.containers[0]!.env.find((e) => e.name === 'ADAPTBENCH_SHARD_TOTAL')?.value, String(job.spec.completions));
  const volume = parseYaml(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'volume.yaml'), 'utf8')) as { metadata: { name: string } };
  assert.equal(job.spec.template.spec.volumes[0]!.persistentVolumeClaim.claimName, volume.metadata.name);

  const commands = [workflow, readFileSync(join(ROOT, 'deploy', 'kubernetes', 'bench-job.yaml'), 'utf8'), readFileSync(join(ROOT, 'deploy', 'kubernetes', 'merge-job.yaml'), 'utf8')].flatMap(benchCommands);
  assert.deepEqual([...new Set(commands.map((c) => c.sub))].sort(), ['all', 'compare', 'merge']);
  const help = new Map<string, string>();
  for (const c of commands) {
    if (!help.has(c.sub)) {
      const r = spawnSync(process.execPath, [BENCH, c.sub, '--help'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `bench ${c.sub} --help: ${r.stderr}`);
      help.set(c.sub, r.stdout);
    }
    for (const flag of c.flags) assert.match(help.get(c.sub)!, new RegExp(`${flag}\\b`), `${c.line}: bench ${c.sub} has no ${flag}`);
  }
  assert.match(help.get('all')!, /--preset <name>.*\n?.*smoke/);
});
