// A user's own use case end to end through the real CLI: the worked example in examples/ and a suite
// written by hand in a temporary folder, every approach, on the tiny checkpoint. Then what a team does
// with the run: resume it, rebuild its report, compare it, export TREC files and a served model, and
// see a changed suite file refused by its content hash.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CellResult, CompletedCell, RunManifest } from '../harness/results.js';
import { tinyCheckpoint, writeReviewsSuite } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APPROACHES = ['base', 'full-ft', 'lora', 'qlora', 'rag', 'lora-rag'];
const tmp = mkdtempSync(join(tmpdir(), 'adaptbench-user-suite-'));
const faq = join(tmp, 'support-faq');
const reviews = join(tmp, 'reviews');
const run = join(tmp, 'run');
let first: Exit;

interface Exit { code: number | null; stdout: string; stderr: string }

function bench(args: readonly string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'harness', 'bin', 'bench.js'), ...args], { cwd: tmp, env: { ...process.env, CI: 'true' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cell = (suite: string, approach: string): CompletedCell => {
  const r = JSON.parse(readFileSync(join(run, 'cells', `${suite}__${approach}__seed0.json`), 'utf8')) as CellResult;
  assert.equal(r.status, 'completed', r.status === 'failed' ? r.error.message : '');
  return r as CompletedCell;
};

before(async () => {
  // The worked example is copied, so that the test can change a file of it afterwards.
  cpSync(join(ROOT, 'examples', 'support-faq'), faq, { recursive: true });
  writeReviewsSuite(reviews);
  const tiny = await tinyCheckpoint();
  first = await bench(['run', faq, './reviews', '--approach', APPROACHES.join(','), '--seeds', '1', '--checkpoint', tiny, '--out', run, '--export-trec']);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('both suites run under all six approaches from the CLI, each scored on its own task type', () => {
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /12 cells \(2 suites x 6 approaches x 1 seed\)/);
  assert.match(first.stdout, /12 completed, 0 failed/);
  for (const a of APPROACHES) {
    const g = cell('support-faq', a);
    assert.deepEqual(g.inputs.suite.source, { kind: 'folder', path: faq });
    assert.equal(g.inputs.suite.taskType, 'generate');
    assert.deepEqual(g.inputs.suite.headline, { id: 'quality.tokenF1', higherIsBetter: true });
    assert.equal(typeof g.metrics['quality.tokenF1'], 'number');
    assert.equal(g.metrics['quality.accuracy'], null);
    assert.equal(g.notes['quality.accuracy'], 'not a generate metric');
    assert.equal(typeof g.metrics['forgetting.suiteCeDelta'], 'number', 'the example ships held-out text');
    assert.equal(g.confusion, undefined);
    const c = cell('reviews', a);
    assert.equal(c.inputs.suite.taskType, 'choice');
    assert.deepEqual(c.confusion?.labels, ['positive', 'negative']);
    assert.equal(c.confusion!.counts.flat().reduce((x, y) => x + y, 0), 8);
    assert.equal(c.metrics['quality.majorityClassRate'], 0.5);
    assert.equal(c.metrics['quality.exactMatch'], null);
    assert.equal(c.metrics['forgetting.suiteCeDelta'], null);
    assert.deepEqual(c.inputs['fit'], {
      rule: 'no fit field: an over-long prompt keeps its last tokens', testPromptBudgetTokens: (c.inputs['fit'] as { testPromptBudgetTokens: number }).testPromptBudgetTokens,
      test: { prompts: 8, cut: 0, tokensCut: 0 }, train: { prompts: ['full-ft', 'lora', 'qlora', 'lora-rag'].includes(a) ? 16 : 0, cut: 0, tokensCut: 0 },
    });
  }
  // RAG on a classification suite without documents retrieves labelled training examples; they have no qrels.
  const rag = cell('reviews', 'rag');
  assert.equal(rag.inputs.retrieval?.corpus, 'demonstrations');
  assert.equal(rag.metrics['retrieval.recallAt10'], null);
  assert.equal(cell('support-faq', 'rag').inputs.retrieval?.corpus, 'documents');
  assert.equal(typeof cell('support-faq', 'rag').metrics['retrieval.recallAt10'], 'number');
});

test('the manifest resolves each suite to its source and content hash; the report covers both', () => {
  const m = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')) as RunManifest;
  assert.deepEqual(m.suites, ['support-faq', 'reviews']);
  assert.deepEqual(m.suiteSources, { 'support-faq': { kind: 'folder', path: faq }, reviews: { kind: 'folder', path: reviews } });
  assert.equal(m.dataHashes['suite:support-faq:seed0'], cell('support-faq', 'base').inputs.suite.contentHash);
  const html = readFileSync(join(run, 'report.html'), 'utf8');
  assert.ok(html.includes('support-faq') && html.includes('reviews'));
  const csv = readFileSync(join(run, 'results.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(csv.length, 1 + 12);
});

test('--export-trec writes the rankings of the cells that retrieved documents, not of demonstrations', () => {
  assert.deepEqual(readdirSync(join(run, 'trec')).sort(), [
    'support-faq__lora-rag__seed0.qrels', 'support-faq__lora-rag__seed0.run', 'support-faq__rag__seed0.qrels', 'support-faq__rag__seed0.run',
  ]);
  assert.equal(readFileSync(join(run, 'trec', 'support-faq__rag__seed0.qrels'), 'utf8').trimEnd().split('\n').length, 12);
});

test('resume, report and compare work on the run as on a built-in suite\'s', async () => {
  const resumed = await bench(['run', faq, './reviews', '--approach', APPROACHES.join(','), '--seeds', '1', '--checkpoint', join(tmpdir(), `adaptbench-test-fixtures-${process.ppid}`, 'tiny-seed0'), '--out', run, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /12 completed \(12 from before\), 0 failed/);
  const report = await bench(['report', run]);
  assert.equal(report.code, 0, report.stderr);
  const compare = await bench(['compare', run, run]);
  assert.equal(compare.code, 0, compare.stderr + compare.stdout);
});

test('bench export re-creates a cell of the user\'s suite; a suite file changed since the run is refused by its hash', async () => {
  const out = join(tmp, 'lora.onnx');
  const ambiguous = await bench(['export', run, 'lora', '--out', out]);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /has lora cells in 2 suites \(support-faq, reviews\)\. Fix: add --suite support-faq/);
  const ok = await bench(['export', run, 'lora', '--suite', 'support-faq', '--out', out]);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.ok(existsSync(out));
  appendFileSync(join(faq, 'test.jsonl'), `${JSON.stringify({ id: 'new', question: 'Is there a free plan?', answer: 'no', docIds: ['plans/basic'] })}\n`);
  const changed = await bench(['export', run, 'lora', '--suite', 'support-faq', '--out', join(tmp, 'again.onnx')]);
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /suite support-faq now hashes to [0-9a-f]{12}, the cell ran on [0-9a-f]{12}: its files changed since the run/);
  assert.ok(!existsSync(join(tmp, 'again.onnx')));
});
