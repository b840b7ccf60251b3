import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_MODEL_CONFIG } from '../harness/engine/config.js';
import { InputError } from '../harness/errors.js';
import { METRIC_IDS, type MetricId } from '../harness/metrics/definitions.js';
import { RESULT_SCHEMA_VERSION } from '../harness/results.js';
import type { CellResult, CellSpec, CompletedCell, FailedCell, Interval, RunManifest } from '../harness/results.js';
import {
  bestOf, buildReportContext, formatBytes, loadRun, plainDecimal, renderReport, summarizeValues, writeReports,
} from '../reports/index.js';
import { bootstrapMedianInterval, MEAN_ESTIMATE, TIMING_ESTIMATE } from '../reports/summary.js';

const SUITE = 'knowledge-qa';
const SEEDS = [1, 2, 3];
const XSS = '<script>alert(1)</script> What is the capital of Zorvia?';
const FAIL_MESSAGE = 'training loss became NaN at step 12, "lora-r8" seed 3\nFix: lower --lr <b>below</b> 1e-3';
const COMMIT = '3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39';

const BACKEND = {
  name: 'wasm', tfjsBackend: 'wasm', accelerator: 'none',
  kernels: { matmul: 'openblas', matmulReason: 'libopenblas loaded', segmentSum: 'engine' },
  fused: { mode: 'fused', reason: 'native fused kernels' },
  attempts: [
    { backend: 'tensorflow', ok: false, reason: '@tensorflow/tfjs-node-gpu: not installed; @tensorflow/tfjs-node: not installed' },
    { backend: 'wasm', ok: true, reason: 'started; matmul: openblas (libopenblas loaded)' },
  ],
} as const;

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'adaptbench-reports-'));
  tempDirs.push(dir);
  return dir;
}

function spec(approach: string, label: string, seed: number): CellSpec {
  return { id: `${SUITE}__${label}__seed${seed}`, suite: SUITE, approach, label, approachConfig: { rank: 8 }, seed };
}

/** Exact match per (label, seed), and the peak bytes: the numbers the assertions check by hand. */
const EXACT: Record<string, number[]> = { base: [0.2, 0.25, 0.3], 'lora-r8': [0.6, 0.7] };
const PEAK: Record<string, number[]> = { base: [1048576, 1048576, 1048576], 'lora-r8': [3145728, 3150000] };

function completed(approach: string, label: string, seed: number): CompletedCell {
  const i = seed - 1;
  const em = EXACT[label]![i]!;
  const wilson: Interval = { low: em - 0.08, high: em + 0.09, method: 'wilson' };
  const metrics: Partial<Record<MetricId, number | null>> = {
    'quality.exactMatch': em,
    'quality.tokenF1': em + 0.1,
    'params.total': 1_234_567,
    'params.trainable': label === 'base' ? 0 : 16_384,
    'memory.peakBytes': PEAK[label]![i]!,
    'memory.gpuPeakBytes': null,
    'train.tokensPerSec': label === 'base' ? null : 290.5 + seed,
    'cell.wallSec': 12.5 + seed,
  };
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    cell: spec(approach, label, seed),
    startedAt: '2025-11-22T08:00:00.000Z',
    finishedAt: '2025-11-22T08:00:14.000Z',
    wallSec: 14,
    backend: BACKEND,
    status: 'completed',
    metrics,
    intervals: { 'quality.exactMatch': wilson },
    notes: { 'memory.gpuPeakBytes': 'CPU backend: no device memory to sample' },
    inputs: {
      suite: {
        name: SUITE, version: '1.0.0', description: 'Countries', useCase: 'Answer questions about facts', source: { kind: 'built-in' }, contentHash: 'd474a5', taskType: 'generate',
        headline: { id: 'quality.exactMatch', higherIsBetter: true },
        metrics: [{ id: 'quality.exactMatch', higherIsBetter: true }, { id: 'quality.tokenF1', higherIsBetter: true }],
        trainExamples: 200, testQuestions: 100, documents: 250,
      },
      checkpoint: { dir: '/checkpoints/base', contentHash: 'b45e', config: DEFAULT_MODEL_CONFIG },
      approach: { name: approach, label, config: { rank: 8 } },
    },
    samples: [
      { question: XSS, gold: 'Quellport', predicted: label === 'base' ? 'Paris' : 'Quellport', correct: label !== 'base' },
      { question: 'What is the currency of Zorvia?', gold: 'ZRV', predicted: 'ZRV', correct: true },
    ],
  };
}

function failed(approach: string, label: string, seed: number): FailedCell {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    cell: spec(approach, label, seed),
    startedAt: '2025-11-22T08:01:00.000Z',
    finishedAt: '2025-11-22T08:01:03.000Z',
    wallSec: 3,
    backend: BACKEND,
    status: 'failed',
    error: { message: FAIL_MESSAGE, stack: 'Error: training loss became NaN\n    at train (train.js:1:1)' },
  };
}

/** A run folder as the runner writes it: 2 approaches x 3 seeds, lora-r8 seed 3 failed; `extra` cells of other suites after them. */
function makeRun(extra: readonly CellResult[] = []): { dir: string; cells: CellResult[] } {
  const dir = tempDir();
  mkdirSync(join(dir, 'cells'));
  const cells: CellResult[] = [];
  for (const [approach, label] of [['base', 'base'], ['lora', 'lora-r8']] as const) {
    for (const seed of SEEDS) cells.push(label === 'lora-r8' && seed === 3 ? failed(approach, label, seed) : completed(approach, label, seed));
  }
  cells.push(...extra);
  const manifest: RunManifest = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    runId: 'run-20251122-0800',
    createdAt: '2025-11-22T08:00:00.000Z',
    command: 'bench run knowledge-qa --approach base,lora --seeds 3',
    gitCommit: COMMIT,
    gitDirty: false,
    packages: { '@tensorflow/tfjs': '4.22.0', 'csv-stringify': '6.9.0', '@tensorflow/tfjs-node': null },
    node: 'v20.19.0',
    os: 'linux 6.1.0 x64',
    cpu: { model: 'AMD EPYC 7B13', cores: 2 },
    backend: BACKEND,
    seeds: SEEDS,
    suites: [...new Set(cells.map((c) => c.cell.suite))],
    cells: cells.map((c) => c.cell),
    configHash: 'c0ffee1234',
    dataHashes: { 'knowledge-qa': 'd474a5', base: 'b45e' },
    config: { suites: ['knowledge-qa'] },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  for (const c of cells) {
    writeFileSync(join(dir, 'cells', `${c.cell.id}.json`), JSON.stringify(c, null, 2));
    writeFileSync(join(dir, 'cells', `${c.cell.id}.log`), 'not json {');
  }
  return { dir, cells };
}

/** RFC 4180 reader: quoted fields may hold commas, doubled quotes and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

function column(rows: string[][], name: string): number {
  const i = rows[0]!.indexOf(name);
  assert.ok(i >= 0, `column "${name}" missing from header: ${rows[0]!.join(' | ')}`);
  return i;
}

function near(actual: string | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && actual !== '', `${what}: empty`);
  assert.ok(Math.abs(Number(actual) - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
}

test('writeReports writes its files atomically, and results.csv reads back with metric-id columns and values', async () => {
  const { dir } = makeRun();
  const { files } = await writeReports(dir);
  assert.deepEqual(files.slice(0, 5), ['results.csv', 'summary.csv', 'data-dictionary.csv', 'decision.csv', 'report.html'].map((f) => join(dir, f)));
  // Then one PNG per chart with data: this run has exact match and peak memory (quality vs memory) and throughput.
  assert.deepEqual(files.slice(5), ['knowledge-qa-quality-memory.png', 'knowledge-qa-train-throughput.png'].map((f) => join(dir, 'charts', f)));
  for (const f of files) assert.ok(existsSync(f), `${f} not written`);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), [], 'temporary files left behind');
  assert.deepEqual(readdirSync(join(dir, 'charts')).filter((n) => n.includes('.tmp-')), [], 'temporary files left behind');

  const rows = parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8'));
  assert.equal(rows.length, 1 + 6, 'header plus one row per cell');
  assert.deepEqual(rows[0]!.slice(0, 6), ['suite', 'approach', 'label', 'seed', 'status', 'error']);
  assert.ok(rows.every((r) => r.length === rows[0]!.length), 'ragged rows: a quoted field was split');
  const peak = column(rows, 'memory.peakBytes');
  column(rows, 'train.tokensPerSec');
  column(rows, 'forgetting.heldOutBrownCe');
  const em = column(rows, 'quality.exactMatch');
  assert.equal(column(rows, 'quality.exactMatch.ci95Low'), em + 1, 'interval columns follow their metric');
  assert.equal(column(rows, 'quality.exactMatch.ci95High'), em + 2);
  assert.ok(!rows[0]!.includes('memory.peakBytes.ci95Low'), 'no interval columns for metrics without intervals');

  const baseSeed2 = rows.find((r) => r[2] === 'base' && r[3] === '2')!;
  assert.equal(baseSeed2[peak], '1048576');
  assert.equal(baseSeed2[em], '0.25');
  assert.equal(baseSeed2[column(rows, 'quality.exactMatch.ci95High')], String(0.25 + 0.09));
  assert.equal(baseSeed2[column(rows, 'memory.gpuPeakBytes')], '', 'null is an empty cell');
  assert.equal(baseSeed2[column(rows, 'params.trainable')], '0');

  const failedRow = rows.find((r) => r[4] === 'failed')!;
  assert.deepEqual(failedRow.slice(0, 5), [SUITE, 'lora', 'lora-r8', '3', 'failed']);
  assert.equal(failedRow[5], FAIL_MESSAGE, 'the error survives quoting (comma, quotes, newline)');
  assert.equal(failedRow[peak], '');
});

test('summary.csv gives mean and Student t interval (timings: median and bootstrap interval) and n per (suite, label), by hand', async () => {
  const { dir } = makeRun();
  await writeReports(dir);
  const rows = parseCsv(readFileSync(join(dir, 'summary.csv'), 'utf8'));
  assert.equal(rows.length, 1 + 2);
  const base = rows.find((r) => r[2] === 'base')!;
  const lora = rows.find((r) => r[2] === 'lora-r8')!;
  assert.equal(base[column(rows, 'seedsCompleted')], '3');
  assert.equal(lora[column(rows, 'seedsCompleted')], '2');
  assert.equal(lora[column(rows, 'cellsFailed')], '1');

  // t(0.975, df) as harness/metrics/stats.ts tabulates it: 4.303 (df 2), 12.706 (df 1).
  // base exact match 0.2, 0.25, 0.3: mean 0.25, sd 0.05, half width 4.303 * 0.05 / sqrt(3) = 0.124216910...
  near(base[column(rows, 'quality.exactMatch')], 0.25, 'base mean');
  near(base[column(rows, 'quality.exactMatch.ci95Low')], 0.125783089583852, 'base low');
  near(base[column(rows, 'quality.exactMatch.ci95High')], 0.374216910416148, 'base high');
  assert.equal(base[column(rows, 'quality.exactMatch.n')], '3');
  // lora peak bytes 3145728, 3150000: mean 3147864, sd 4272 / sqrt(2), sem 2136, half width 12.706 * 2136 = 27140.016.
  near(lora[column(rows, 'memory.peakBytes')], 3147864, 'lora mean');
  near(lora[column(rows, 'memory.peakBytes.ci95Low')], 3120723.984, 'lora low');
  near(lora[column(rows, 'memory.peakBytes.ci95High')], 3175004.016, 'lora high');
  // A metric every cell reports as null has no summary.
  assert.equal(base[column(rows, 'memory.gpuPeakBytes')], '');
  assert.equal(base[column(rows, 'memory.gpuPeakBytes.n')], '0');
  // A timing: base cell wall time 13.5, 14.5, 15.5 s. The median, 14.5; with 3 seeds a resample's median is the
  // smallest value with probability 7/27 (two or three draws of it), far above 2.5%: the interval is [min, max].
  assert.deepEqual([14.5, 13.5, 15.5, 3].map(String), ['cell.wallSec', 'cell.wallSec.ci95Low', 'cell.wallSec.ci95High', 'cell.wallSec.n'].map((c) => base[column(rows, c)]));

  // data-dictionary.csv: every metric column of the CSVs, with its label, unit, direction and how seeds are summarised.
  const dict = parseCsv(readFileSync(join(dir, 'data-dictionary.csv'), 'utf8'));
  assert.deepEqual(dict[0], ['column', 'files', 'label', 'unit', 'higherIsBetter', 'overSeeds', 'description']);
  const entry = (c: string) => dict.find((r) => r[0] === c)!;
  assert.deepEqual(entry('memory.peakBytes').slice(2, 6), ['Peak engine memory', 'bytes', 'false', MEAN_ESTIMATE]);
  assert.deepEqual(entry('cell.wallSec').slice(2, 6), ['Cell wall time', 's', 'false', TIMING_ESTIMATE]);
  assert.equal(entry('params.total')[4], '', 'no better direction');
  for (const header of [...rows[0]!, ...parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8'))[0]!, ...parseCsv(readFileSync(join(dir, 'decision.csv'), 'utf8'))[0]!]) {
    const key = header.replace(/\.(ci95Low|ci95High|n)$/, '');
    assert.ok(dict.some((r) => r[0] === header || r[0] === key || r[0] === `<metric>${header.slice(key.length)}`) || header.startsWith('headline') || header.startsWith('claims') || ['recommended', 'headlineMetric'].includes(header),
      `${header}: not in the data dictionary`);
  }
});

test('timings summarise as a median with a seeded bootstrap interval that cannot go below zero', () => {
  // Student t over 1, 2, 30 s: mean 11, half width 4.303 * 16.46 / sqrt(3) = 40.9, so its low end would be -29.9 s.
  const t = summarizeValues([1, 2, 30])!;
  assert.ok(t.interval!.low < 0);
  const s = summarizeValues([1, 2, 30], [], true)!;
  assert.deepEqual([s.point, s.median, s.mean, s.interval!.low, s.interval!.high], [2, 2, 11, 1, 30]);
  assert.match(s.interval!.method, /^median, 95% percentile bootstrap over 3 seeds \(2000 resamples, seeded\)$/);
  // Seeded by the values: the same numbers, the same interval; more seeds, a narrower one inside [min, max].
  const many = [5, 6, 6, 7, 7, 7, 8, 8, 9, 40];
  const a = bootstrapMedianInterval(many);
  assert.deepEqual(bootstrapMedianInterval(many), a);
  assert.ok(a.low >= 5 && a.high < 40 && a.low <= 7 && a.high >= 7, `${a.low}, ${a.high}`);
});

test('report.html is self-contained, escapes dataset text, and shows labels, failures and the manifest', async () => {
  const { dir } = makeRun();
  await writeReports(dir);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.ok(!html.includes('<script>alert'), 'dataset text was not escaped');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the escaped question is missing');
  // The only scripts are chart.js and the one that draws the charts; outside them nothing names a URL or a source.
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  assert.equal(scripts.length, 2, 'chart.js and the drawing script');
  assert.match(scripts[0]!, /Chart\.js v4/);
  assert.ok(scripts.every((s) => !s.includes('alert(1)')), 'dataset text reached a script');
  const markup = html.replace(/<script>[\s\S]*?<\/script>/g, '');
  assert.ok(!/<script/i.test(markup), 'a script element outside the two');
  assert.ok(!/https?:\/\//i.test(markup), 'the report references a network resource');
  assert.ok(!/<link\b|\bsrc=/i.test(markup), 'the report loads an external resource');
  assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:; script-src &#39;unsafe-inline&#39;"/);
  for (const label of ['base', 'lora-r8']) assert.ok(html.includes(`<th scope="row">${label}`), `row ${label} missing`);
  assert.ok(html.includes('training loss became NaN at step 12, &quot;lora-r8&quot; seed 3'), 'failed cell error missing');
  assert.ok(html.includes('&lt;b&gt;below&lt;/b&gt;'), 'error text not escaped');
  assert.ok(!html.includes('<b>below</b>'));
  assert.ok(html.includes(COMMIT), 'git commit missing');
  assert.ok(html.includes('AMD EPYC 7B13 (2 cores)'));
  assert.ok(html.includes('<b>tensorflow</b> (not used): @tensorflow/tfjs-node-gpu: not installed; @tensorflow/tfjs-node: not installed'),
    'every backend attempt is shown with its reason');
  assert.ok(html.includes('not installed</td>'), 'a package without a version');
  assert.ok(html.includes('c0ffee1234') && html.includes('d474a5'), 'config and data hashes');
  assert.ok(html.includes('Peak engine memory') && html.includes('<span class="unit">bytes</span>'));
  assert.ok(html.includes(`<details><summary>${METRIC_IDS.length} metrics`), 'definitions are collapsible');
  assert.ok(html.includes('Mean per-token cross-entropy on Brown documents'), 'metric descriptions');
  // Exact match: base 0.25 [0.126, 0.374] vs lora 0.65 [0.015, 1.29]: overlapping, so no claim.
  assert.ok(html.includes('best, not separable from base'), 'overlapping intervals must say not separable');
  // Peak bytes: base 1 MiB (sd 0, so no ± shown) vs lora ~3 MiB [3.12e6, 3.18e6]: separated, lower is better.
  assert.match(html, /<td class="num best" title="[^"]*1,048,576 bytes">1 MiB <span class="tag">best<\/span>/);
  assert.ok(html.includes('1,234,567'), 'counts get thousands separators');
  assert.ok(html.includes('>Peak engine memory ↓<br>'), 'metric columns carry label, direction and unit');
  assert.ok(!html.includes('>GPU memory peak ↓<br>'), 'a metric with no value in the suite gets no column');
});

test('loadRun names a corrupt cell file and how to fix it, and writes no report', async () => {
  const { dir, cells } = makeRun();
  const bad = join(dir, 'cells', `${cells[1]!.cell.id}.json`);
  writeFileSync(bad, '{"schemaVersion": 1, "cell": {"id": ');
  await assert.rejects(writeReports(dir), (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.ok(err.message.includes(bad), `message does not name ${bad}: ${err.message}`);
    assert.match(err.message, /not valid JSON/);
    assert.match(err.message, /--resume/);
    return true;
  });
  assert.ok(!existsSync(join(dir, 'report.html')) && !existsSync(join(dir, 'results.csv')), 'partial reports written');

  writeFileSync(bad, JSON.stringify({ ...cells[1], status: 'running' }));
  await assert.rejects(loadRun(dir), /"status" must be "completed" or "failed", got "running"/);
  writeFileSync(bad, JSON.stringify(cells[2]));
  await assert.rejects(loadRun(dir), /holds cell "knowledge-qa__base__seed3" but is named for "knowledge-qa__base__seed2"/);
});

test('loadRun: a missing or invalid manifest is an InputError naming manifest.json; absent cells are listed', async () => {
  const empty = tempDir();
  await assert.rejects(loadRun(empty), (err: unknown) =>
    err instanceof InputError && err.message.includes(join(empty, 'manifest.json')) && /not a run folder/.test(err.message));
  writeFileSync(join(empty, 'manifest.json'), JSON.stringify({ schemaVersion: RESULT_SCHEMA_VERSION, runId: 7 }));
  await assert.rejects(loadRun(empty), /manifest\.json: "runId" must be a string/);

  const { dir, cells } = makeRun();
  const gone = cells[0]!.cell.id;
  rmSync(join(dir, 'cells', `${gone}.json`));
  const run = await loadRun(dir);
  assert.deepEqual(run.missing.map((c) => c.id), [gone]);
  assert.equal(run.cells.length, 5);
  await writeReports(dir);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.ok(html.includes(`<code>${gone}</code>`) && html.includes('--resume'), 'missing cells are listed with the fix');
});

test('summaries: median and sd over seeds, one seed uses the cell interval, best is separable only without overlap', () => {
  const s = summarizeValues([1, 2, 3, 10])!;
  assert.equal(s.n, 4);
  assert.equal(s.mean, 4);
  assert.equal(s.median, 2.5);
  assert.equal(s.sd, Math.sqrt(50 / 3), 'sample sd: squared deviations 9 + 4 + 1 + 36 = 50 over n - 1');
  near(String(s.interval!.high), 4 + 3.182 * Math.sqrt(50 / 3) / 2, 't(0.975, 3) = 3.182, sem = sd / 2');
  const one = summarizeValues([0.5], [{ low: 0.4, high: 0.6, method: 'wilson' }])!;
  assert.deepEqual([one.interval?.low, one.interval?.high, one.sd], [0.4, 0.6, null]);
  assert.match(one.interval!.method, /^wilson/);
  // Seeds that agree (a shared test set, a deterministic row): the cells' own intervals, not zero width.
  const same = summarizeValues([0.7, 0.7, 0.7], [{ low: 0.6, high: 0.78, method: 'wilson' }, { low: 0.6, high: 0.78, method: 'wilson' }, { low: 0.62, high: 0.8, method: 'wilson' }])!;
  assert.deepEqual([same.interval?.low, same.interval?.high], [(0.6 + 0.6 + 0.62) / 3, (0.78 + 0.78 + 0.8) / 3]);
  assert.match(same.interval!.method, /^the wider of student-t 95% over 3 seeds and the mean of the cells' own intervals \(wilson\)$/);
  // Seeds that spread more than a cell's own interval keep the t interval.
  const spread = summarizeValues([0.1, 0.5, 0.9], [{ low: 0.05, high: 0.15, method: 'w' }, { low: 0.45, high: 0.55, method: 'w' }, { low: 0.85, high: 0.95, method: 'w' }])!;
  assert.equal(spread.interval!.method, 'student-t 95% over 3 seeds');
  assert.equal(summarizeValues([0.5])!.interval, null);
  assert.equal(summarizeValues([]), null);

  const row = (label: string, mean: number, low: number, high: number) =>
    ({ label, summary: { n: 3, mean, median: mean, point: mean, sd: 1, interval: { low, high, method: 't' } } });
  assert.deepEqual(bestOf([row('a', 1, 0.9, 1.1), row('b', 2, 1.9, 2.1)], true),
    { best: 'b', runnerUp: 'a', separation: 'separated', overlapping: [] });
  assert.equal(bestOf([row('a', 1, 0.9, 1.1), row('b', 2, 1.9, 2.1)], false)!.best, 'a');
  // The runner-up is separated but a wide third row overlaps the best: still no claim.
  assert.deepEqual(bestOf([row('a', 3, 2.9, 3.1), row('b', 2, 1.9, 2.1), row('c', 1, -5, 5)], true),
    { best: 'a', runnerUp: 'b', separation: 'not-separable', overlapping: ['c'] });
  assert.equal(bestOf([row('a', 1, 0.9, 1.1)], true)!.separation, 'only-one');
  const noInterval = { label: 'd', summary: { n: 1, mean: 0, median: 0, point: 0, sd: null, interval: null } };
  assert.deepEqual(bestOf([row('a', 3, 2.9, 3.1), noInterval], true),
    { best: 'a', runnerUp: 'd', separation: 'no-interval', overlapping: ['d'] });
  assert.equal(bestOf([row('a', 1, 0.9, 1.1), row('b', 2, 1.9, 2.1)], null), null);
});

test('numbers: plain decimals in CSV, binary units in HTML', () => {
  assert.equal(plainDecimal(1e-7), '0.0000001');
  assert.equal(plainDecimal(-1.5e-7), '-0.00000015');
  assert.equal(plainDecimal(1.25e21), '1250000000000000000000');
  assert.equal(plainDecimal(0.1), '0.1');
  assert.equal(plainDecimal(null), '');
  assert.equal(plainDecimal(Number.NaN), '');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(3147864), '3.002 MiB');
});

/** A user's choice suite whose labels and description are hostile: dataset text the page must show as text. */
const INBOX = 'my-inbox';
const SPAM = '<script>alert("spam")</script>';
const HAM = 'ham & "eggs"';
const INBOX_DESCRIPTION = '<img src=x onerror=alert(2)> Sort the team inbox';

/** One choice cell: gold (rows) against predicted (columns) for [SPAM, HAM], and the metrics those counts give. */
function choiceCell(approach: string, seed: number, counts: number[][]): CompletedCell {
  const n = counts.flat().reduce((a, b) => a + b, 0);
  const accuracy = (counts[0]![0]! + counts[1]![1]!) / n;
  const cell = completed(approach, approach === 'base' ? 'base' : 'lora-r8', seed);
  const id = `${INBOX}__${approach}__seed${seed}`;
  const suite = {
    name: INBOX, version: '0.1.0', source: { kind: 'folder', path: '/home/user/my-inbox' }, contentHash: 'feed01', taskType: 'choice',
    headline: { id: 'quality.accuracy', higherIsBetter: true },
    metrics: [{ id: 'quality.accuracy', higherIsBetter: true }, { id: 'quality.macroF1', higherIsBetter: true }],
    trainExamples: 40, testQuestions: n, documents: 0,
    // A user's text: the report shows it, escaped.
    description: INBOX_DESCRIPTION,
    useCase: 'Keep <b>spam</b> out',
  } as const;
  return {
    ...cell,
    cell: { ...cell.cell, id, suite: INBOX, label: approach, approachConfig: {} },
    metrics: {
      ...cell.metrics, 'quality.exactMatch': null, 'quality.tokenF1': null,
      'quality.accuracy': accuracy, 'quality.macroF1': accuracy, 'quality.majorityClassRate': 0.5,
    },
    intervals: { 'quality.accuracy': { low: accuracy - 0.2, high: Math.min(1, accuracy + 0.1), method: 'wilson' } },
    notes: { 'quality.exactMatch': 'not a choice metric', 'quality.majorityClassRate': `always answering "${SPAM}" would score this accuracy` },
    inputs: { ...cell.inputs, suite },
    samples: [{ question: 'Subject: cheap meds', gold: SPAM, predicted: HAM, correct: false }],
    confusion: { labels: [SPAM, HAM], counts },
  };
}

test('a run of a generate and a choice suite: confusion matrices summed over seeds, majority-class rate, hostile labels and description escaped, CSV rows', async () => {
  // Accuracy per seed: base 0.6, 0.5, 0.4 (mean 0.5 ± 0.248); lora 0.9, 1, 0.95 (mean 0.95 ± 0.124, widened to its cells'
  // own intervals [acc - 0.2, min(1, acc + 0.1)] on average: [0.75, 1.07]); 20 examples, half of each label.
  const inbox = [
    choiceCell('base', 1, [[6, 4], [4, 6]]), choiceCell('base', 2, [[5, 5], [5, 5]]), choiceCell('base', 3, [[4, 6], [6, 4]]),
    choiceCell('lora', 1, [[10, 0], [2, 8]]), choiceCell('lora', 2, [[10, 0], [0, 10]]), choiceCell('lora', 3, [[10, 0], [1, 9]]),
  ];
  const { dir } = makeRun(inbox);
  await writeReports(dir);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');

  // The hostile text shows only escaped: no element, no script, no attribute it could open.
  const markup = html.replace(/<script>[\s\S]*?<\/script>/g, '');
  assert.ok(!markup.includes('<script>alert("spam")') && !/<img/i.test(markup), 'a label or the description became markup');
  assert.equal(html.split('<script>').length - 1, 2, 'only chart.js and the drawing script');
  assert.ok(html.includes(`<p class="note">&lt;img src=x onerror=alert(2)&gt; Sort the team inbox</p>`), 'the description, escaped, under the suite heading');

  // lora: [[10, 0], [2, 8]] + [[10, 0], [0, 10]] + [[10, 0], [1, 9]] = [[30, 0], [3, 27]].
  const spam = '&lt;script&gt;alert(&quot;spam&quot;)&lt;/script&gt;';
  const ham = 'ham &amp; &quot;eggs&quot;';
  assert.ok(html.includes('<figure class="confusion"><figcaption><b>lora</b>: summed over 3 seeds (1, 2, 3), 60 test predictions</figcaption>'
    + `<table><thead><tr><th>gold ↓ / predicted →</th><th>${spam}</th><th>${ham}</th><th>total</th></tr></thead><tbody>`
    + `<tr><th scope="row">${spam}</th><td class="num best">30</td><td class="num">0</td><td class="num">30</td></tr>`
    + `<tr><th scope="row">${ham}</th><td class="num">3</td><td class="num best">27</td><td class="num">30</td></tr></tbody></table></figure>`),
  'lora\'s confusion matrix, summed over its seeds');
  assert.match(html, /<b>base<\/b>: summed over 3 seeds \(1, 2, 3\), 60 test predictions<\/figcaption>.*?<td class="num best">15<\/td><td class="num">15<\/td><td class="num">30<\/td>/);
  assert.equal([...html.matchAll(/<figure class="confusion">/g)].length, 2, 'no matrix for the generate suite');

  // The choice suite's table: accuracy (its headline), then the majority-class rate; base's interval [0.252, 0.748] holds 0.5.
  const table = html.slice(html.indexOf(`<h3 id="suite-${INBOX}">`), html.indexOf('</table>', html.indexOf(`<h3 id="suite-${INBOX}">`)));
  assert.match(table, /^<h3 id="suite-my-inbox">my-inbox <span class="note">\(choice task; headline: accuracy\)<\/span><\/h3>/);
  const heads = [...table.matchAll(/<th title="[^"]*">([^<↑↓]+)/g)].map((m) => m[1]!.trim());
  assert.deepEqual(heads.slice(0, 3), ['Accuracy', 'Majority-class rate', 'Macro-F1']);
  assert.match(table, /<th scope="row">base<\/th><td class="num" title="seeds: 1, 2, 3">3<\/td><td class="num" title="[^"]*">0\.5 <span class="ci">± 0\.248<\/span> <span class="tag ns">not separably above the majority-class rate<\/span><\/td>/);
  assert.match(table, /<th scope="row">lora<\/th><td class="num" title="seeds: 1, 2, 3">3<\/td><td class="num best" title="[^"]*">0\.95 <span class="ci">\[0\.75, 1\.07\]<\/span> <span class="tag">best<\/span><\/td>/);
  // The recommendation ranks my-inbox on accuracy and knowledge-qa on exact match; a user suite's use case is not known to this adaptbench.
  assert.match(html, /<b>Use case<\/b> \(my-inbox; choice task, ranked on accuracy\): Keep &lt;b&gt;spam&lt;\/b&gt; out<\/p><p class="rec"><b>Recommended: lora<\/b>/);
  assert.ok(html.includes('<p class="floor">Majority-class rate 0.5 (always answering the most frequent label). Not separably above it, so nothing usable learned: base 0.5 ± 0.248.</p>'));
  assert.match(html, /<b>Use case<\/b> \(knowledge-qa; generate task, ranked on exact match\)/);
  // No rag row: the pair claim names what it lacks.
  assert.ok(html.includes('Not measured on this run: no rag row in my-inbox.'));

  // results.csv: one row per cell, the choice metrics filled for the choice suite's cells only.
  const rows = parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8'));
  assert.equal(rows.length, 1 + 6 + 6);
  const acc = column(rows, 'quality.accuracy');
  assert.equal(column(rows, 'quality.accuracy.ci95Low'), acc + 1);
  const loraSeed2 = rows.find((r) => r[0] === INBOX && r[2] === 'lora' && r[3] === '2')!;
  assert.deepEqual([loraSeed2[acc], loraSeed2[column(rows, 'quality.macroF1')], loraSeed2[column(rows, 'quality.majorityClassRate')], loraSeed2[column(rows, 'quality.exactMatch')]],
    ['1', '1', '0.5', '']);
  const generate = rows.find((r) => r[0] === SUITE && r[2] === 'base')!;
  assert.deepEqual([generate[acc], generate[column(rows, 'quality.majorityClassRate')]], ['', '']);
});

test('results without a recorded suite (written before suites declared a headline) rank on exact match', async () => {
  const { dir, cells } = makeRun();
  for (const c of cells.filter((x) => x.status === 'completed')) {
    writeFileSync(join(dir, 'cells', `${c.cell.id}.json`), JSON.stringify({ ...c, inputs: { trainExamples: 200 } }));
  }
  const ctx = buildReportContext(await loadRun(dir));
  assert.deepEqual(ctx.suites.map((s) => [s.name, s.taskType, s.headline.id]), [[SUITE, null, 'quality.exactMatch']]);
  assert.deepEqual(ctx.recommendations.map((r) => r.headline.id), ['quality.exactMatch']);
  const html = renderReport(ctx);
  assert.match(html, /<h3 id="suite-knowledge-qa">knowledge-qa <span class="note">\(headline: exact match\)<\/span><\/h3>/);
});
