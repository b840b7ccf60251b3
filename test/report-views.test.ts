// The report of a real run, in a real browser. A tiny checkpoint from the real pretraining code, one
// real run through the CLI (base, full-ft, lora at two ranks, qlora, rag; 2 seeds; 8 test questions),
// then: report.html opened from a file:// URL in Debian's chromium (headless, driven by
// playwright-core): every chart drawn, no console error, no network request, a screenshot kept in
// test-artifacts/report/; the PNG charts; dataset text with <script> shown as text; and
// `bench compare` on the same run (exit 0) and on a copy made worse on purpose (exit 1). A second,
// smaller real run of two suites (knowledge-qa and task-adapt: base, lora, rag; 1 seed; 4 training
// steps) checks that the decision map opens the page.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { pretrain } from '../harness/pretrain.js';
import type { CellResult, RunManifest } from '../harness/results.js';
import { buildReportContext, CLAIMS, decisionMap, loadRun } from '../reports/index.js';
import { formatSummary } from '../reports/format.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'harness', 'bin', 'bench.js');
/** Where CI picks up what this test leaves for people to look at (git-ignored). */
const ARTIFACTS = join(ROOT, 'test-artifacts', 'report');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const APPROACHES = 'base,full-ft,lora,lora:rank=2,qlora,rag';
const XSS_QUESTION = '<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2"> What is the capital of Zorvia?';

let tmp = '';
let tiny = '';
let runDir = '';
let browser: Browser | null = null;

interface Exit { code: number | null; stdout: string; stderr: string }

function bench(args: readonly string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], { cwd: ROOT, env: { ...process.env, CI: 'true' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'adaptbench-report-views-'));
  tiny = join(tmp, 'tiny');
  await pretrain({ preset: 'tiny', seed: 0, out: tiny, log: () => {} });
  runDir = join(tmp, 'run');
  const r = await bench(['run', 'knowledge-qa', '--approach', APPROACHES, '--seeds', '2', '--limit-test', '8', '--checkpoint', tiny, '--out', runDir]);
  assert.equal(r.code, 0, `the run failed:\n${r.stdout}\n${r.stderr}`);
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function launch(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: install it with \`apt-get install chromium\` (npm run setup does), or set CHROMIUM_PATH`);
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
  return browser;
}

/** What the page shows, seen from inside it (no DOM types in this project: the probe declares what it reads). */
interface PageProbe {
  canvases: Array<{ id: string; width: number; height: number; painted: number; hasChart: boolean; points: number }>;
  outcome: Record<string, true | string> | null;
  xss: unknown;
  injected: boolean;
  text: string;
}

interface ProbeGlobals {
  document: {
    querySelectorAll(s: string): Iterable<{ id: string; width: number; height: number; getContext(t: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }>;
    getElementById(id: string): unknown;
    body: { innerText: string };
  };
  Chart?: { getChart(c: unknown): { getDatasetMeta(i: number): { data: Array<{ x: number; y: number }> }; data: { datasets: unknown[] } } | undefined };
  adaptbenchCharts?: Record<string, true | string>;
  __xss?: unknown;
}

function probePage(): PageProbe {
  const g = globalThis as unknown as ProbeGlobals;
  const canvases: PageProbe['canvases'] = [];
  for (const canvas of g.document.querySelectorAll('canvas')) {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted += 1;
    const chart = g.Chart?.getChart(canvas);
    let points = 0;
    if (chart) {
      chart.data.datasets.forEach((_, i) => {
        points += chart.getDatasetMeta(i).data.filter((el) => Number.isFinite(el.x) && Number.isFinite(el.y)).length;
      });
    }
    canvases.push({ id: canvas.id, width: canvas.width, height: canvas.height, painted, hasChart: chart !== undefined, points });
  }
  return {
    canvases, outcome: g.adaptbenchCharts ?? null, xss: g.__xss ?? null,
    injected: g.document.getElementById('injected') !== null, text: g.document.body.innerText,
  };
}

/** Opens a report from its file:// URL; collects console errors, page errors and every request. */
async function openReport(file: string, screenshot: string): Promise<{ probe: PageProbe; errors: string[]; requests: string[]; url: string }> {
  const b = await launch();
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  const url = pathToFileURL(file).href;
  try {
    await page.goto(url, { waitUntil: 'load' });
    const probe = await page.evaluate(probePage);
    await page.screenshot({ path: screenshot, fullPage: true });
    return { probe, errors, requests, url };
  } finally {
    await page.close();
  }
}

test('report.html of a real run opens from file:// in chromium: every chart drawn, no console error, no request', async (t) => {
  const ctx = buildReportContext(await loadRun(runDir));
  const drawn = ctx.charts.filter((c) => c.state === 'drawn');
  // This run has every view but latency (measured only where the ONNX export ran) and, at two ranks, a sweep.
  for (const kind of ['memory-breakdown', 'quality-memory', 'train-throughput', 'retrieval', 'learning-forgetting', 'rank-sweep']) {
    assert.ok(drawn.some((c) => c.kind === kind), `no ${kind} chart with data`);
  }
  const screenshot = join(ARTIFACTS, 'report.png');
  const { probe, errors, requests, url } = await openReport(join(runDir, 'report.html'), screenshot);
  t.diagnostic(`screenshot: ${screenshot}`);
  console.log(`screenshot of the report: ${screenshot}`);

  assert.deepEqual(errors, [], 'console errors');
  assert.deepEqual(requests.filter((u) => u !== url), [], 'the page made network requests');
  assert.deepEqual(probe.canvases.map((c) => c.id).sort(), drawn.map((c) => `canvas-${c.key}`).sort(), 'a canvas per drawn chart');
  assert.deepEqual(Object.values(probe.outcome ?? {}).filter((v) => v !== true), [], 'a chart failed to draw');
  for (const c of probe.canvases) {
    assert.ok(c.hasChart && c.points > 0, `${c.id}: no chart or no data points`);
    assert.ok(c.width > 300 && c.height > 200, `${c.id}: ${c.width}x${c.height}`);
    assert.ok(c.painted > 0.02 * c.width * c.height, `${c.id}: only ${c.painted} of ${c.width * c.height} pixels painted`);
  }

  // The verdict comes first and states its rule; every claim has a verdict; what was not measured says so.
  const text = probe.text;
  assert.match(text, /(Recommended: \S+|No recommendation)/);
  assert.match(text, /Rule: Among the rows, take the one with the highest mean exact match/);
  for (const id of Object.keys(CLAIMS) as Array<keyof typeof CLAIMS>) assert.ok(text.includes(CLAIMS[id].claim), `claim missing: ${id}`);
  const topk = ctx.ledger.find((r) => r.id === 'topk-corpus-wide')!;
  assert.equal(topk.verdict, 'not-measured', 'no corpus-wide suite in this run');
  assert.match(text, /GPU memory: not measured: no GPU/);
  assert.match(text, /Pareto front \(dashed\): /);
  cpSync(join(runDir, 'report.html'), join(ARTIFACTS, 'report.html'));
});

test('PNG charts: one per drawn chart, the same views, not blank', async () => {
  const ctx = buildReportContext(await loadRun(runDir));
  const drawn = ctx.charts.filter((c) => c.state === 'drawn');
  const files = readdirSync(join(runDir, 'charts')).sort();
  assert.deepEqual(files, drawn.map((c) => `${c.key}.png`).sort());
  const pngs = files.map((f) => readFileSync(join(runDir, 'charts', f)));
  for (const [i, png] of pngs.entries()) {
    assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${files[i]}: not a PNG`);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [1000, 560], `${files[i]}: size`);
  }
  // Decode them in the browser: share of pixels that are not the white background.
  const page = await (await launch()).newPage();
  try {
    const inked = await page.evaluate(async (sources: string[]) => {
      const g = globalThis as unknown as {
        Image: new () => { src: string; decode(): Promise<void>; width: number; height: number };
        document: { createElement(t: 'canvas'): { width: number; height: number; getContext(t: '2d'): { drawImage(i: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } };
      };
      const shares: number[] = [];
      for (const src of sources) {
        const img = new g.Image();
        img.src = src;
        await img.decode();
        const canvas = g.document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const c = canvas.getContext('2d');
        c.drawImage(img, 0, 0);
        const { data } = c.getImageData(0, 0, img.width, img.height);
        let ink = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i]! < 235 || data[i + 1]! < 235 || data[i + 2]! < 235) ink += 1;
        shares.push(ink / (img.width * img.height));
      }
      return shares;
    }, pngs.map((p) => `data:image/png;base64,${p.toString('base64')}`));
    inked.forEach((share, i) => assert.ok(share > 0.01, `${files[i]}: ${(share * 100).toFixed(2)}% ink: blank?`));
  } finally {
    await page.close();
  }
  mkdirSync(join(ARTIFACTS, 'charts'), { recursive: true });
  for (const f of files) cpSync(join(runDir, 'charts', f), join(ARTIFACTS, 'charts', f));
});

test('dataset text with <script> is shown as text, never run (bench report on a copy of the run)', async () => {
  const dir = join(tmp, 'xss');
  cpSync(runDir, dir, { recursive: true });
  const file = join(dir, 'cells', 'knowledge-qa__rag__seed0.json');
  const cell = JSON.parse(readFileSync(file, 'utf8')) as CellResult;
  assert.equal(cell.status, 'completed');
  if (cell.status !== 'completed') return;
  const samples = [{ question: XSS_QUESTION, gold: '</td></tr></table><b id="injected">Quellport</b>', predicted: '<!-- x', correct: false }, ...cell.samples.slice(1)];
  writeFileSync(file, JSON.stringify({ ...cell, samples }));
  const r = await bench(['report', dir, '--memory-budget', '1KiB']);
  assert.equal(r.code, 0, r.stderr);
  const screenshot = join(ARTIFACTS, 'report-xss.png');
  const { probe, errors, requests, url } = await openReport(join(dir, 'report.html'), screenshot);
  assert.deepEqual(errors, []);
  assert.deepEqual(requests.filter((u) => u !== url), [], 'the injected <img> made a request');
  assert.equal(probe.xss, null, 'the injected script ran');
  assert.equal(probe.injected, false, 'the injected element exists');
  assert.ok(probe.text.includes('<script>window.__xss = 1</script>'), 'the question is not shown as text');
  assert.ok(probe.text.includes('<b id="injected">Quellport</b>'));
  assert.match(probe.text, /No recommendation: no row fits the memory budget/);
  assert.deepEqual(Object.values(probe.outcome ?? {}).filter((v) => v !== true), [], 'charts still draw');
});

/** A copy of the run made worse on purpose: every cell's peak memory x1.5, and the rag row's cells removed. */
function worseCopy(): string {
  const dir = join(tmp, 'worse');
  cpSync(runDir, dir, { recursive: true });
  for (const name of readdirSync(join(dir, 'cells')).filter((n) => n.endsWith('.json'))) {
    const file = join(dir, 'cells', name);
    if (name.startsWith('knowledge-qa__rag__')) {
      rmSync(file);
      continue;
    }
    const cell = JSON.parse(readFileSync(file, 'utf8')) as CellResult;
    if (cell.status !== 'completed') continue;
    const peak = cell.metrics['memory.peakBytes'];
    writeFileSync(file, JSON.stringify({ ...cell, metrics: { ...cell.metrics, 'memory.peakBytes': typeof peak === 'number' ? peak * 1.5 : peak } }));
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, runId: `${manifest.runId}-worse` }));
  return dir;
}

test('bench compare: exit 0 on the same run, 1 on a run made worse on purpose; the markdown fits a PR comment', async (t) => {
  const same = await bench(['compare', runDir, runDir, '--out', join(tmp, 'same')]);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /compare: 0 regressed, 0 row\(s\) lost, 0 improved/);
  const sameMd = readFileSync(join(tmp, 'same', 'compare.md'), 'utf8');
  assert.match(sameMd, /^## ✅ adaptbench compare: no regression\n/);
  // The run's decision map follows the comparison, for the CI job summary.
  assert.match(sameMd, /\n## Decision map\n\n\| Use case \| base \| full-ft \| lora \| lora-rank2 \| qlora \| rag \| Recommended \| Claims \|\n/);

  const worse = worseCopy();
  const r = await bench(['compare', runDir, worse]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const md = readFileSync(join(worse, 'compare.md'), 'utf8');
  const html = readFileSync(join(worse, 'compare.html'), 'utf8');
  writeFileSync(join(ARTIFACTS, 'compare.md'), md);
  writeFileSync(join(ARTIFACTS, 'compare.html'), html);
  t.diagnostic(`compare markdown: ${join(ARTIFACTS, 'compare.md')}`);
  console.log(md);

  // 5 rows kept (base, full-ft, lora, lora-rank2, qlora) x peak memory 1.5x; the rag row lost.
  assert.match(md, /^## ❌ adaptbench compare: 5 regressions, 1 row lost\n/);
  assert.match(md, /Threshold: 10% worse; a change counts only where the 95% intervals over seeds separate\./);
  const regressions = md.slice(md.indexOf('### Regressions'), md.indexOf('\n\n', md.indexOf('| Suite')));
  const rows = regressions.split('\n').filter((l) => l.startsWith('| knowledge-qa'));
  assert.equal(rows.length, 5);
  for (const row of rows) {
    assert.match(row, /\| Peak engine memory \| .* \| 1\.50× \| lower \|$/);
    assert.equal(row.split(' | ').length, 7, `a table row with a broken column: ${row}`);
  }
  assert.match(md, /\*\*Rows lost\*\* \(completed in the baseline, no completed cell in the run\): knowledge-qa\/rag\./);
  assert.ok(md.length < 20_000, `${md.length} characters: too long for a comment`);
  assert.ok(!/<(?!\/?(details|summary)\b)/.test(md.replace(/&lt;/g, '')), 'raw HTML in the markdown');
  assert.match(html, /<tr class="st-regressed">/);

  // Gate only on quality: memory is not judged, the lost row still is.
  const quality = await bench(['compare', runDir, worse, '--metrics', 'quality.', '--out', join(tmp, 'q')]);
  assert.equal(quality.code, 1);
  assert.match(quality.stdout, /compare: 0 regressed, 1 row\(s\) lost/);
  // A threshold above the change: 1.5x is 50% worse.
  const loose = await bench(['compare', runDir, worse, '--metric-threshold', 'memory.peakBytes=60', '--out', join(tmp, 'loose')]);
  assert.match(loose.stdout, /compare: 0 regressed, 1 row\(s\) lost/);
});

test('bench compare: bad usage is exit 2 with what, where and how to fix', async () => {
  const missing = await bench(['compare', join(tmp, 'nope'), runDir]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /baseline .*nope holds no run \(no manifest\.json\)\. Fix: /);
  const metric = await bench(['compare', runDir, runDir, '--metric-threshold', 'quality.bogus=5', '--out', join(tmp, 'bad')]);
  assert.equal(metric.code, 2);
  assert.match(metric.stderr, /unknown metric "quality\.bogus"/);
  const threshold = await bench(['compare', runDir, runDir, '--threshold', 'ten']);
  assert.equal(threshold.code, 2);
  assert.match(threshold.stderr, /--threshold must be a percentage \(got "ten"\)/);
});

test('the decision map of a real two-suite run opens the page: one row per suite, a recommendation each, every metric one click away', async () => {
  const pairDir = join(tmp, 'pair');
  const r = await bench(['run', 'knowledge-qa', 'task-adapt', '--approach', 'base,lora,rag', '--seeds', '1', '--limit-test', '8',
    '--train-steps', '4', '--checkpoint', tiny, '--out', pairDir]);
  assert.equal(r.code, 0, `the run failed:\n${r.stdout}\n${r.stderr}`);
  const map = decisionMap(buildReportContext(await loadRun(pairDir)));
  assert.deepEqual(map.rows.map((x) => x.suite.name), ['knowledge-qa', 'task-adapt']);
  assert.deepEqual(map.columns, ['base', 'lora', 'rag']);

  const b = await launch();
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('request', (q) => requests.push(q.url()));
  const url = pathToFileURL(join(pairDir, 'report.html')).href;
  try {
    await page.goto(url, { waitUntil: 'load' });
    assert.equal(await page.locator('section').first().getAttribute('id'), 'decision-map', 'the decision map comes first');
    await page.locator('#decision-map').screenshot({ path: join(ARTIFACTS, 'decision-map.png') });
    const table = page.locator('#decision-map table.decision-map');
    assert.deepEqual(await table.locator('thead th').allInnerTexts(), ['Use case', 'base', 'lora', 'rag', 'Recommended', 'Claims']);
    const rows = table.locator('tbody tr');
    assert.equal(await rows.count(), 2);
    for (const [i, row] of map.rows.entries()) {
      const cells = rows.nth(i).locator('td');
      assert.match(await rows.nth(i).locator('th').innerText(), new RegExp(`^${row.suite.name}\\n`));
      // Every cell of the real run shows a headline value, and the recommended row is tagged.
      for (const [k, cell] of row.cells.entries()) {
        const text = await cells.nth(k).innerText();
        assert.ok(cell?.headline && text.startsWith(formatSummary(cell.headline.id, cell.headline.summary)), `${row.suite.name}/${map.columns[k]}: ${text}`);
      }
      const choice = row.recommendation?.state === 'chosen' ? row.recommendation.choice : null;
      assert.ok(choice !== null, `${row.suite.name}: no recommendation`);
      assert.equal(await rows.nth(i).locator('.tag', { hasText: 'recommended' }).count(), 1);
      assert.match(await cells.nth(map.columns.length).innerText(), new RegExp(`^${choice} \\(`));
      assert.ok((await cells.nth(map.columns.length + 1).locator('li').count()) > 0, `${row.suite.name}: no claim decided on it`);
    }
    // The short summary table shows; the full one opens on a click, without any network.
    const all = page.locator('#summary details.all-metrics').first();
    assert.equal(await all.locator('table').isVisible(), false);
    await all.locator('summary').click();
    assert.equal(await all.locator('table').isVisible(), true);
  } finally {
    await page.close();
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(requests.filter((u) => u !== url), [], 'the page made network requests');
  const csv = readFileSync(join(pairDir, 'decision.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(csv.length, 1 + 6, 'decision.csv: one line per (suite, row)');
  assert.ok(readFileSync(join(pairDir, 'data-dictionary.csv'), 'utf8').includes('\nquality.accuracy,every CSV,Accuracy,,true,'));
});
