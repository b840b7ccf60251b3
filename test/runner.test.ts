// End to end through the real CLI (node harness/bin/bench.js), on a tiny checkpoint made by the real
// pretraining code. Cells evaluate 20 test questions (--limit-test) to keep the file near a minute
// and a half on 2 cores.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint, saveCheckpoint } from '../harness/engine/checkpoint.js';
import { countBaseParameters } from '../harness/engine/params.js';
import { METRIC_IDS, type MetricId } from '../harness/metrics/definitions.js';
import { pretrain } from '../harness/pretrain.js';
import type { CellResult, CompletedCell, FailedCell } from '../harness/results.js';
import { runCell, type CellJob, type StageMessage } from '../harness/cell.js';
import { formatStage } from '../harness/runner.js';
import { tf } from '../harness/engine/backend.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'harness', 'bin', 'bench.js');
const LIMIT = ['--limit-test', '20'];
/** Metrics that measure time or process memory: they may differ between two runs of the same cell. */
const VARYING: ReadonlySet<MetricId> = new Set(['eval.tokensPerSec', 'eval.generatedTokensPerSec', 'cell.wallSec', 'memory.rssPeakBytes', 'train.tokensPerSec', 'train.wallSec']);

let tmp = '';
let tiny = '';
let firstRun: Promise<{ dir: string; exit: Exit }> | null = null;

interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function bench(args: readonly string[], opts: { detached?: boolean; onSpawn?: (pid: number) => void; env?: Record<string, string> } = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], { cwd: ROOT, env: { ...process.env, CI: 'true', ...opts.env }, detached: opts.detached ?? false });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const readCell = (run: string, id: string): CellResult => JSON.parse(readFileSync(join(run, 'cells', `${id}.json`), 'utf8')) as CellResult;
const cellId = (seed: number): string => `knowledge-qa__base__seed${seed}`;

function completed(r: CellResult): CompletedCell {
  assert.equal(r.status, 'completed', r.status === 'failed' ? r.error.message : '');
  return r as CompletedCell;
}

async function waitFor<T>(what: string, probe: () => T | null | undefined, timeoutMs = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Latency figures (issue 6) are timings too: their metrics, intervals and notes, and the timing parts of inputs.latency. */
const isLatency = ([k]: [string, unknown]): boolean => k.startsWith('latency.');

/** Everything in a completed result that must not change between two runs of the same cell. */
function stablePart(r: CompletedCell): unknown {
  const metrics = Object.fromEntries(Object.entries(r.metrics).filter((e) => !VARYING.has(e[0] as MetricId) && !isLatency(e) && !e[0].startsWith('time.')));
  const intervals = Object.fromEntries(Object.entries(r.intervals).filter((e) => !isLatency(e)));
  const notes = Object.fromEntries(Object.entries(r.notes).filter((e) => !isLatency(e)));
  const { variants: _timings, wallSec: _wallSec, ...latency } = (r.inputs['latency'] ?? {}) as Record<string, unknown>;
  return { cell: r.cell, metrics, intervals, inputs: { ...r.inputs, latency }, samples: r.samples, notes };
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'adaptbench-runner-'));
  tiny = join(tmp, 'tiny');
  await pretrain({ preset: 'tiny', seed: 0, out: tiny, log: () => {} });
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The plain 2-seed run: made once, by whichever test needs it first. */
function runOnce(): Promise<{ dir: string; exit: Exit }> {
  firstRun ??= (async () => {
    const dir = join(tmp, 'run1');
    const exit = await bench(['run', 'knowledge-qa', '--approach', 'base', '--seeds', '2', '--out', dir, '--checkpoint', tiny, ...LIMIT]);
    return { dir, exit };
  })();
  return firstRun;
}

test('bench run: 2 seeds complete, with the manifest and every metric', async () => {
  const { dir: run1, exit: r } = await runOnce();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[1\/2\] knowledge-qa base seed 0: completed in [\d.]+ s/);
  assert.match(r.stdout, /\[2\/2\] knowledge-qa base seed 1: completed in [\d.]+ s/);

  const manifest = JSON.parse(readFileSync(join(run1, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(manifest['seeds'], [0, 1]);
  assert.deepEqual(manifest['suites'], ['knowledge-qa']);
  assert.match(String(manifest['configHash']), /^[0-9a-f]{64}$/);
  const hashes = manifest['dataHashes'] as Record<string, string>;
  assert.equal(hashes['checkpoint'], loadCheckpoint(tiny).header.contentHash);
  for (const key of ['suite:knowledge-qa:seed0', 'suite:knowledge-qa:seed1', 'heldOut:seed0', 'heldOut:seed1']) assert.match(hashes[key] ?? '', /^[0-9a-f]{64}$/, key);
  assert.equal((manifest['packages'] as Record<string, string | null>)['commander'], '14.0.3');
  assert.equal(manifest['node'], process.version);

  const config = loadCheckpoint(tiny).header.config;
  for (const seed of [0, 1]) {
    const cell = completed(readCell(run1, cellId(seed)));
    for (const id of METRIC_IDS) assert.ok(id in cell.metrics, `metric ${id} missing`);
    const m = cell.metrics;
    assert.equal(m['params.total'], countBaseParameters(config));
    assert.equal(m['params.trainable'], 0);
    assert.equal(m['forgetting.ceDelta'], 0);
    assert.equal(m['forgetting.rcDelta'], 0);
    assert.ok((m['forgetting.heldOutBrownCe'] ?? 0) > 0);
    assert.equal(m['memory.weightsBytes'], 4 * countBaseParameters(config));
    assert.ok((m['memory.peakBytes'] ?? 0) > (m['memory.weightsBytes'] ?? 0));
    assert.equal(m['memory.gpuPeakBytes'], null);
    assert.match(cell.notes['memory.gpuPeakBytes'] ?? '', /accelerator: none/);
    assert.ok((m['memory.rssPeakBytes'] ?? 0) > 10e6);
    assert.ok((m['eval.generatedTokensPerSec'] ?? 0) > 0);
    const em = m['quality.exactMatch'];
    assert.ok(typeof em === 'number' && em >= 0 && em <= 1);
    const ci = cell.intervals['quality.exactMatch'];
    assert.ok(ci && ci.low <= em && em <= ci.high && ci.high > 0);
    assert.equal((cell.inputs['test'] as { evaluated: number }).evaluated, 20);
    assert.equal((cell.inputs['decoding'] as { strategy: string }).strategy, 'greedy');
    assert.equal(cell.samples.length, 5);
  }
  assert.ok(existsSync(join(run1, 'report.html')), 'reports are written after the cells');
});

test('kill mid-run, then --resume runs only the missing cell, which matches the first run exactly', async () => {
  const { dir: run1 } = await runOnce();
  const run = join(tmp, 'killed');
  const args = ['run', 'knowledge-qa', '--approach', 'base', '--seeds', '2', '--out', run, '--checkpoint', tiny, ...LIMIT];
  let pid = 0;
  const killed = bench(args, { detached: true, onSpawn: (p) => { pid = p; } });
  await waitFor('the first cell result', () => (existsSync(join(run, 'cells', `${cellId(0)}.json`)) ? true : null));
  // The whole process group, as Ctrl-C or a CI timeout would: the runner and its running cell.
  process.kill(-pid, 'SIGKILL');
  const k = await killed;
  assert.equal(k.signal, 'SIGKILL');
  assert.ok(!existsSync(join(run, 'cells', `${cellId(1)}.json`)), 'the second cell did not finish');
  const firstMtime = statSync(join(run, 'cells', `${cellId(0)}.json`)).mtimeMs;

  const r = await bench([...args, '--resume']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[1\/2\] knowledge-qa base seed 0: skipped \(completed earlier\)/);
  assert.match(r.stdout, /\[2\/2\] knowledge-qa base seed 1: completed in/);
  assert.equal(statSync(join(run, 'cells', `${cellId(0)}.json`)).mtimeMs, firstMtime, 'the finished cell was not run again');
  for (const seed of [0, 1]) {
    assert.deepEqual(stablePart(completed(readCell(run, cellId(seed)))), stablePart(completed(readCell(run1, cellId(seed)))), `seed ${seed}`);
  }

  const mismatch = await bench(['run', 'knowledge-qa', '--approach', 'base', '--seeds', '3', '--out', run, '--checkpoint', tiny, ...LIMIT, '--resume']);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /does not match the run in .*\n\s+seeds: \[0,1\] then, \[0,1,2\] now/);
  assert.ok(!existsSync(join(run, 'cells', `${cellId(2)}.json`)));
});

const FORGETTING: readonly MetricId[] = ['forgetting.heldOutBrownCe', 'forgetting.ceDelta', 'forgetting.heldOutRcExactMatch', 'forgetting.rcDelta', 'forgetting.suiteHeldOutCe', 'forgetting.suiteCeDelta'];
const STAGE_IDS: readonly MetricId[] = ['time.prepareSec', 'time.beforeSec', 'time.adaptSec', 'time.forgettingSec', 'time.qualitySec', 'time.latencySec'];

test('"before" is measured once per run and shared through <run>/cache; a cell measuring it itself gets the same forgetting figures', async () => {
  const run = join(tmp, 'cached');
  const r = await bench(['run', 'knowledge-qa', '--approach', 'base,lora', '--seeds', '1', '--train-steps', '2', '--out', run, '--checkpoint', tiny, ...LIMIT]);
  assert.equal(r.code, 0, r.stderr);
  const base = completed(readCell(run, 'knowledge-qa__base__seed0'));
  const lora = completed(readCell(run, 'knowledge-qa__lora__seed0'));
  const key = (base.inputs['before'] as { key: string }).key;
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.deepEqual(base.inputs['before'], { from: 'measured in this cell', key });
  assert.deepEqual(lora.inputs['before'], { from: 'run cache', key });
  assert.deepEqual(readdirSync(join(run, 'cache')), [`before-${key}.json`]);

  // The lora cell again, in this process, without a cache: it measures "before" itself.
  const job = JSON.parse(readFileSync(join(run, 'jobs', `${lora.cell.id}.json`), 'utf8')) as CellJob;
  const stages: StageMessage[] = [];
  const alone = completed(await runCell(job, { log: () => {}, stage: (stage, done, total) => stages.push({ stage, ...(done !== undefined ? { done, total } : {}) }) }));
  assert.deepEqual(alone.inputs['before'], { from: 'measured in this cell', key });
  for (const id of FORGETTING) assert.equal(lora.metrics[id], alone.metrics[id], id);
  assert.notEqual(lora.metrics['forgetting.ceDelta'], 0, 'lora changed the model: the equality is not 0 = 0');

  // Stages in order, the units of training and answering last at their totals.
  const names = stages.map((s) => s.stage).filter((s, i, all) => s !== all[i - 1]);
  assert.deepEqual(names, ['prepare', 'before', 'adapt', 'training', 'after', 'quality', 'answering', 'latency']);
  assert.deepEqual(stages.filter((s) => s.stage === 'training').at(-1), { stage: 'training', done: 2, total: 2 });
  assert.deepEqual(stages.filter((s) => s.stage === 'answering').at(-1), { stage: 'answering', done: 20, total: 20 });
  assert.equal(formatStage({ stage: 'training', done: 40, total: 100 }), 'training 40/100');
  assert.equal(formatStage({ stage: 'latency' }), 'latency');

  // Time per stage: every stage timed; the base model is not measured "after"; the cache read is quicker than measuring.
  for (const c of [base, lora, alone]) for (const id of STAGE_IDS) assert.equal(typeof c.metrics[id], 'number', `${c.cell.id} ${id}`);
  assert.equal(base.metrics['time.forgettingSec'], 0);
  assert.equal(lora.metrics['time.updateSec'], null);
  assert.ok(lora.metrics['time.beforeSec']! < base.metrics['time.beforeSec']!, 'reading the cache is quicker than measuring');

  // Memory by phase: the training step where the approach trains, serving for every approach.
  assert.equal(base.metrics['memory.trainPeakBytes'], null);
  assert.equal(base.notes['memory.trainPeakBytes'], 'base does not train');
  assert.ok(base.metrics['memory.servePeakBytes']! <= base.metrics['memory.peakBytes']!);
  assert.equal(lora.metrics['memory.trainPeakBytes'], lora.metrics['memory.peakBytes']);
  assert.ok(lora.metrics['memory.servePeakBytes']! > 0);
  // The same served model and batch: the same serving peak, whatever else its process holds (this one holds more).
  assert.equal(lora.metrics['memory.servePeakBytes'], alone.metrics['memory.servePeakBytes']);

  // The end-of-run table: sums over the run's cells, per stage, in the printed precision.
  const lines = r.stdout.split('\n');
  const head = lines.findIndex((l) => l.startsWith('seconds per suite and stage'));
  assert.ok(head >= 0, r.stdout);
  const columns = lines[head + 1]!.trim().split(/\s{2,}/);
  assert.deepEqual(columns, ['suite', 'cells', 'prepare', 'before', 'adapt', 'after', 'quality', 'latency', 'other', 'cell wall']);
  for (const name of ['knowledge-qa', 'total']) {
    const row = lines.find((l) => l.startsWith(`${name} `))!.trim().split(/\s+/);
    const sum = (id: MetricId): string => (base.metrics[id]! + lora.metrics[id]!).toFixed(1);
    assert.deepEqual(row.slice(0, 8), [name, '2', ...STAGE_IDS.map(sum)]);
    assert.equal(row[9], (base.wallSec + lora.wallSec).toFixed(1));
  }
  assert.match(r.stdout, /\nrun wall time [\d.]+ s\n/);
});

test('a cell whose process is killed is recorded as failed, its temporary folder removed; the other cell completes; exit 1', async () => {
  const run = join(tmp, 'crash');
  const temp = join(tmp, 'crash-tmp');
  mkdirSync(temp);
  let pid = 0;
  const running = bench(['run', 'knowledge-qa', '--approach', 'base', '--seeds', '2', '--out', run, '--checkpoint', tiny, ...LIMIT], { onSpawn: (p) => { pid = p; }, env: { TMPDIR: temp } });
  const worker = await waitFor('the first cell process', () => {
    let out = '';
    try {
      out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
    } catch {
      return null; // ps exits 1 while the runner has no child yet
    }
    const line = out.split('\n').find((l) => l.includes('cell-worker.js') && l.includes(cellId(0)));
    return line ? Number(line.trim().split(/\s+/)[0]) : null;
  });
  // The cell writes its temporary files to a folder of its own, made for it in the runner's TMPDIR.
  const cellTemp = readFileSync(`/proc/${worker}/environ`, 'utf8').split('\0').find((e) => e.startsWith('TMPDIR='))!.slice('TMPDIR='.length);
  assert.equal(dirname(cellTemp), temp);
  assert.ok(existsSync(cellTemp));
  process.kill(worker, 'SIGKILL');
  const r = await running;
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(readdirSync(temp), [], 'both cells\' temporary folders are gone, the killed one\'s too');
  assert.match(r.stdout, /\[1\/2\] knowledge-qa base seed 0: failed/);
  const failed = readCell(run, cellId(0)) as FailedCell;
  assert.equal(failed.status, 'failed');
  assert.match(failed.error.message, /process was killed by SIGKILL without writing a result/);
  completed(readCell(run, cellId(1)));
});

test('a checkpoint with non-finite weights fails its cells with the reason, exit 1', async () => {
  const broken = join(tmp, 'nan-checkpoint');
  const { model, tokenizer, header } = loadCheckpoint(tiny);
  const w = model.p('ln_f.weight');
  w.assign(tf.fill(w.shape, NaN));
  await saveCheckpoint(broken, model, tokenizer, header.meta);
  model.dispose();
  const run = join(tmp, 'nan-run');
  const r = await bench(['run', 'knowledge-qa', '--approach', 'base', '--seeds', '1', '--out', run, '--checkpoint', broken, ...LIMIT]);
  assert.equal(r.code, 1, r.stderr);
  const cell = readCell(run, cellId(0)) as FailedCell;
  assert.equal(cell.status, 'failed');
  assert.match(cell.error.message, /held-out Brown cross-entropy of the base model is NaN/);
  assert.match(cell.error.stack ?? '', /at measureCapability/);
});

test('bad input: clear message, exit 2, no output folder', async (t) => {
  const aFile = join(tmp, 'a-file');
  writeFileSync(aFile, 'not a folder\n');
  const tampered = join(tmp, 'tampered');
  cpSync(tiny, tampered, { recursive: true });
  const weights = readFileSync(join(tampered, 'weights.bin'));
  weights[100] = weights[100]! ^ 0xff;
  writeFileSync(join(tampered, 'weights.bin'), weights);

  const cases: Array<[string, string[], RegExp]> = [
    ['unknown suite', ['run', 'no-such-suite'], /unknown suite "no-such-suite". Built-in suites: corpus-wide, fresh-facts, knowledge-qa, task-adapt; or give the path of a suite folder/],
    ['unknown approach', ['run', 'knowledge-qa', '--approach', 'base,no-such'], /unknown approach "no-such". Valid approaches: base/],
    // A repeated --approach adds to the list: the bad first one is not dropped in favour of the last.
    ['unknown approach, flag repeated', ['run', 'knowledge-qa', '--approach', 'no-such', '--approach', 'base'], /unknown approach "no-such". Valid approaches: base/],
    ['unknown approach option', ['run', 'knowledge-qa', '--approach', 'base:rank=4'], /approach.base has no option "rank"/],
    ['unknown flag', ['run', 'knowledge-qa', '--frobnicate'], /unknown option '--frobnicate'/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['seeds not a number', ['run', 'knowledge-qa', '--seeds', 'abc'], /--seeds must be a positive integer \(got "abc"\)/],
    ['zero seeds', ['run', 'knowledge-qa', '--seeds', '0'], /--seeds must be a positive integer \(got "0"\)/],
    ['negative seed', ['run', 'knowledge-qa', '--seed-list', '1,-2'], /--seed-list must be a non-negative integer \(got "-2"\)/],
    ['out is a file', ['run', 'knowledge-qa', '--out', aFile], /is a file, not a folder/],
    ['modified checkpoint', ['run', 'knowledge-qa', '--checkpoint', tampered], /content hash mismatch/],
  ];
  for (const [name, args, message] of cases) {
    await t.test(name, async () => {
      const out = join(tmp, `bad-${name.replaceAll(' ', '-')}`);
      const full = args.includes('--out') ? args : [...args, '--out', out];
      const withCheckpoint = full.includes('--checkpoint') || full[0] !== 'run' ? full : [...full, '--checkpoint', tiny];
      const r = await bench(withCheckpoint);
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'a usage error prints no stack');
      assert.ok(!existsSync(out), 'no output folder is created');
    });
  }
  assert.equal(readFileSync(aFile, 'utf8'), 'not a folder\n');
  assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('bad-')), []);
});
