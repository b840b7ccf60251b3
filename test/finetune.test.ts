// Fine-tuning approaches (full-ft, lora, qlora) on a tiny checkpoint made by the real pretraining
// code: the shared training data and its packing, a few real training steps per approach with the
// memory categories measured against the closed-form ones, divergence, and the whole CLI run with
// the CSV and HTML columns the issue asks for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LORA_DEFAULTS } from '../adapters/lora.js';
import { getApproach } from '../adapters/registry.js';
import { runCell } from '../harness/cell.js';
import { planTraining, trainingExamples, trainBudgetOf } from '../adapters/training.js';
import type { ApproachOutcome, CellContext } from '../adapters/types.js';
import { formatTarget } from '../datasets/episodes.js';
import { initBackend, tf, type BackendInfo } from '../harness/engine/backend.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../harness/engine/checkpoint.js';
import { countBaseParameters, countLoraParameters, countQloraBaseBytes } from '../harness/engine/params.js';
import { DivergenceError } from '../harness/engine/train.js';
import { approachLabel } from '../harness/plan.js';
import { pretrain } from '../harness/pretrain.js';
import type { CellResult, CompletedCell } from '../harness/results.js';
import { knowledgeQa } from '../suites/knowledge-qa/suite.js';
import { cellContext } from './context.js';
import type { Suite } from '../suites/types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let backend: BackendInfo;
let tmp = '';
let tinyDir = '';
let tiny: LoadedCheckpoint;

before(async () => {
  backend = await initBackend('wasm');
  tmp = mkdtempSync(join(tmpdir(), 'adaptbench-finetune-'));
  tinyDir = join(tmp, 'tiny');
  await pretrain({ preset: 'tiny', seed: 0, out: tinyDir, log: () => {} });
  tiny = loadCheckpoint(tinyDir);
});

after(() => {
  tiny?.model.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** knowledge-qa with a budget of a few steps: a real, short fine-tuning. */
const SMALL: Suite = { ...knowledgeQa, budget: { train: { steps: 6, batchSize: 4, seqLen: 64 }, testExamples: null } };

function context(config: Record<string, unknown>, suite: Suite = SMALL, seed = 0): CellContext {
  return cellContext({ suite, seed, config, base: tiny, backend });
}

async function runApproach(name: string, overrides: Record<string, unknown> = {}): Promise<ApproachOutcome> {
  const approach = await getApproach(name);
  const config = { ...approach.defaults, ...overrides };
  assert.deepEqual(approach.validateConfig(config), []);
  return approach.run(context(config));
}

const within = (measured: number, analytic: number, share = 0.1): boolean => Math.abs(measured - analytic) <= share * analytic;

test('training data: answers only carry loss in questions, documents carry it everywhere, packing is deterministic per seed', () => {
  const data = knowledgeQa.buildData(0);
  const tok = tiny.tokenizer;
  const prompts = cellContext({ suite: knowledgeQa, data, config: {}, base: tiny, backend }).prompts;
  const examples = trainingExamples(prompts, data.train, data.documents, 128);
  assert.equal(examples.length, data.train.length + data.documents.length);
  const q = examples[0]!;
  assert.equal(q.kind, 'qa');
  assert.equal(tok.decode(q.tokens.filter((_, i) => q.lossOn[i])), formatTarget(data.train[0]!.answers![0]!));
  assert.equal(q.tokens.at(-1), tok.eotId);
  const d = examples.find((e) => e.kind === 'document')!;
  assert.ok(d.lossOn.every(Boolean));

  const budget = { steps: 30, batchSize: 8, seqLen: 64 };
  const a = planTraining(examples, budget, 'finetune:knowledge-qa:0', tok.eotId);
  const b = planTraining(examples, budget, 'finetune:knowledge-qa:0', tok.eotId);
  const c = planTraining(examples, budget, 'finetune:knowledge-qa:1', tok.eotId);
  assert.equal(a.batches.length, 30);
  assert.deepEqual(a.batches, b.batches, 'same suite and seed: the same rows in the same order');
  assert.notDeepEqual(a.batches[0]!.ids, c.batches[0]!.ids, 'another seed: another order');
  for (const batch of a.batches) {
    assert.equal(batch.ids.length, 8 * 64);
    for (let k = 0; k < batch.ids.length; k++) {
      // Targets are the next input within a row; padding (end-of-text filler) never carries loss.
      if ((k + 1) % 64 !== 0 && batch.weights[k]! > 0) assert.equal(batch.targets[k], batch.ids[k + 1]);
    }
  }
  assert.ok(a.lossShare > 0.1 && a.lossShare < 0.9, `loss share ${a.lossShare}`);
  assert.ok(a.paddingShare < 0.25, `padding share ${a.paddingShare}`);
  assert.equal(a.examplesPerStep.reduce((x, y) => x + y, 0) > 0, true);
  assert.deepEqual(trainBudgetOf(knowledgeQa, 256), knowledgeQa.budget.train);
  assert.throws(() => trainBudgetOf(knowledgeQa, 64), /seqLen 128 exceeds the model's context of 64/);
});

test('full-ft trains every parameter; measured weights, gradients and optimizer state agree with the closed form within 10%', async () => {
  const out = await runApproach('full-ft');
  try {
    const total = countBaseParameters(tiny.header.config);
    assert.deepEqual(out.params, { total, trainable: total });
    const m = out.memory!;
    assert.ok(within(m.weightsBytes, 4 * total), `weights ${m.weightsBytes} vs ${4 * total}`);
    assert.ok(within(m.gradientsBytes, 4 * total), `gradients ${m.gradientsBytes} vs ${4 * total}`);
    assert.ok(within(m.optimizerBytes, 8 * total), `optimizer ${m.optimizerBytes} vs ${8 * total}`);
    assert.ok(m.activationsBytes > 0 && m.peakBytes === m.weightsBytes + m.gradientsBytes + m.optimizerBytes + m.activationsBytes);
    assert.equal(out.extra?.metrics?.['memory.analyticWeightsBytes'], 4 * total);
    assert.equal(out.training?.steps, 6);
    assert.ok(out.training!.tokensPerSec > 0 && Number.isFinite(out.training!.finalLoss));
    assert.notEqual(out.model, tiny.model, 'the base stays untouched');
    assert.ok((out.extra?.metrics?.['artifact.checkpointBytes'] ?? 0) > 4 * total);
  } finally {
    out.dispose?.();
  }
});

test('lora trains only its adapter, ships a small file, and serves merged; memory agrees with the closed form', async () => {
  const out = await runApproach('lora', { rank: 4, alpha: 8, targets: 'all' });
  try {
    const base = countBaseParameters(tiny.header.config);
    const lora = countLoraParameters(tiny.header.config, 4, ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']);
    assert.deepEqual(out.params, { total: base + lora, trainable: lora });
    const m = out.memory!;
    assert.ok(within(m.weightsBytes, 4 * (base + lora)), `weights ${m.weightsBytes}`);
    assert.ok(within(m.gradientsBytes, 4 * lora), `gradients ${m.gradientsBytes} vs ${4 * lora}`);
    assert.ok(within(m.optimizerBytes, 8 * lora), `optimizer ${m.optimizerBytes} vs ${8 * lora}`);
    const x = out.extra!.metrics!;
    assert.ok(x['serve.mergeLogitsRelDiff']! <= 1e-5);
    assert.ok(x['artifact.adapterBytes']! > 4 * lora && x['artifact.adapterBytes']! < 4 * lora + 4096);
    assert.ok(x['artifact.adapterBytes']! < x['artifact.checkpointBytes']! / 2);
    assert.equal(out.model.adapter, null, 'served merged');
  } finally {
    out.dispose?.();
  }
});

test('qlora holds the base in NF4 (~4.13 bits per linear weight); memory agrees with the closed form; merged model is fp32', async () => {
  const out = await runApproach('qlora');
  try {
    const config = tiny.header.config;
    const base = countBaseParameters(config);
    const lora = countLoraParameters(config, 8, ['attn.c_attn']);
    assert.deepEqual(out.params, { total: base + lora, trainable: lora });
    const m = out.memory!;
    const analytic = countQloraBaseBytes(config) + 4 * lora;
    assert.ok(within(m.weightsBytes, analytic), `weights ${m.weightsBytes} vs ${analytic}`);
    assert.ok(m.weightsBytes < 0.6 * 4 * base, 'well under the fp32 base');
    assert.ok(within(m.gradientsBytes, 4 * lora) && within(m.optimizerBytes, 8 * lora));
    const x = out.extra!.metrics!;
    assert.ok(x['quant.bitsPerQuantizedWeight']! > 4.12 && x['quant.bitsPerQuantizedWeight']! < 4.2, `bits ${x['quant.bitsPerQuantizedWeight']}`);
    assert.ok(x['memory.bitsPerBaseParam']! < 32);
    assert.ok(x['quant.meanRelError']! > 0.03 && x['quant.meanRelError']! < 0.15);
    assert.ok(x['serve.mergeLogitsRelDiff']! <= 1e-5);
    assert.equal(x['serve.weightsBytes'], 4 * base, 'merging a QLoRA model gives a full-precision model');
    assert.equal(out.model.params.size, out.model.specs.length);
  } finally {
    out.dispose?.();
  }
});

test('a loss that becomes NaN or infinite stops the approach with a DivergenceError naming the step', async () => {
  await assert.rejects(runApproach('full-ft', { lr: 1e30 }), (err: unknown) => {
    assert.ok(err instanceof DivergenceError);
    assert.match((err as Error).message, /full-ft: training diverged at step \d+ of 6/);
    return true;
  });
});

/** RFC 4180 rows as objects keyed by the header (quoted fields may hold commas, quotes, newlines). */
function csvObjects(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [], field = '', quoted = false;
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
  const [head = [], ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}

test('a LoRA rank larger than the checkpoint\'s layers allows fails the cell with the reason (checked against the model)', async () => {
  const spec = { id: 'knowledge-qa__lora-rank64__seed0', suite: 'knowledge-qa', approach: 'lora', label: 'lora-rank64', approachConfig: { ...LORA_DEFAULTS, lr: 0.01, rank: 64 }, seed: 0 };
  const r = await runCell({ spec, suiteSource: { kind: 'built-in' }, checkpointDir: tinyDir, testLimit: 5 }, { log: () => {} });
  assert.equal(r.status, 'failed');
  assert.match(r.status === 'failed' ? r.error.message : '', /approach\.lora\.rank 64 is larger than target layer attn\.c_attn allows \(min\(in, out\) = 32/);
});

function bench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'harness', 'bin', 'bench.js'), ...args], { cwd: ROOT, env: { ...process.env, CI: 'true' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('bench run knowledge-qa with base, full-ft, lora, qlora and a diverging row: the others complete, CSV and HTML show every column', async () => {
  const out = join(tmp, 'run');
  const r = await bench(['run', 'knowledge-qa', '--approach', 'base,full-ft,lora,qlora,full-ft:lr=1e30', '--seeds', '1', '--limit-test', '10', '--checkpoint', tinyDir, '--out', out]);
  assert.equal(r.code, 1, `a failed cell makes exit 1\n${r.stdout}\n${r.stderr}`);
  const cell = (label: string): CellResult => JSON.parse(readFileSync(join(out, 'cells', `knowledge-qa__${label}__seed0.json`), 'utf8')) as CellResult;
  const failed = cell(approachLabel('full-ft', { lr: 1e30 }));
  assert.equal(failed.status, 'failed');
  assert.match(failed.status === 'failed' ? failed.error.message : '', /training diverged at step/);
  const done = Object.fromEntries(['base', 'full-ft', 'lora', 'qlora'].map((l) => [l, cell(l) as CompletedCell]));
  for (const [label, c] of Object.entries(done)) assert.equal(c.status, 'completed', `${label}: ${JSON.stringify((c as unknown as { error?: unknown }).error)}`);
  for (const label of ['full-ft', 'lora', 'qlora']) {
    const c = done[label]!;
    for (const id of ['train.tokensPerSec', 'memory.weightsBytes', 'memory.gradientsBytes', 'memory.optimizerBytes', 'memory.activationsBytes', 'memory.peakBytes',
      'memory.bitsPerBaseParam', 'artifact.checkpointBytes', 'forgetting.ceDelta', 'forgetting.rcDelta', 'params.trainable', 'params.total'] as const) {
      assert.equal(typeof c.metrics[id], 'number', `${label} ${id}`);
    }
    assert.ok(c.metrics['forgetting.ceDelta'] !== 0, `${label}: the served model is measured after adaptation`);
    assert.deepEqual((c.inputs['training'] as { steps: number }).steps, knowledgeQa.budget?.train?.steps);
  }
  assert.equal(typeof done['lora']!.metrics['artifact.adapterBytes'], 'number');
  assert.equal(typeof done['qlora']!.metrics['quant.bitsPerQuantizedWeight'], 'number');
  // The same data, steps and batch for every fine-tuning row; learning rates recorded per row.
  const ft = (label: string): Record<string, unknown> => done[label]!.inputs['fineTuning'] as Record<string, unknown>;
  assert.deepEqual(ft('lora')['budget'], ft('full-ft')['budget']);
  assert.equal(ft('lora')['dataOrderSeed'], ft('qlora')['dataOrderSeed']);
  assert.equal(ft('full-ft')['lr'], 1e-3);

  const rows = csvObjects(readFileSync(join(out, 'results.csv'), 'utf8'));
  const byLabel = new Map(rows.map((row) => [row['label']!, row]));
  for (const id of ['quality.exactMatch', 'params.trainable', 'params.total', 'memory.weightsBytes', 'memory.gradientsBytes', 'memory.optimizerBytes',
    'memory.activationsBytes', 'memory.analyticWeightsBytes', 'memory.bitsPerBaseParam', 'artifact.adapterBytes', 'train.tokensPerSec', 'forgetting.ceDelta'] as const) {
    // Columns are named by metric id (labels and units are in data-dictionary.csv).
    assert.ok(id in rows[0]!, `results.csv has ${id}`);
  }
  assert.notEqual(byLabel.get('qlora')!['quant.bitsPerQuantizedWeight'], '');
  assert.notEqual(byLabel.get('lora')!['artifact.adapterBytes'], '');
  assert.ok('quality.exactMatch.ci95Low' in rows[0]!);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const label of ['Adapter file size', 'Bits per NF4 weight', 'Stored bits per base parameter', 'Optimizer state', 'Gradients', 'Activations', 'Training throughput', 'Forgetting (CE delta)', 'Trainable parameters']) {
    assert.ok(html.includes(label), `report.html shows ${label}`);
  }
});
