// The memory model and `bench cost` on real parts: exact parameter counts of published shapes, the
// exact weight/gradient/optimizer bytes of GPT-2 small, real training steps of tiny models measured
// in this process and held against the model's prediction, and the command's bad input.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COST_FORMAT, predictEnginePoint, relDiff, type CostFile, type CostPoint } from '../harness/cost/command.js';
import { writeModelSizeFile } from '../harness/cost/report-input.js';
import { measureClaimsAtSize } from '../harness/cost/at-size.js';
import { atSizeOutcomes, loadModelSize } from '../reports/model-size.js';
import { measureCost, type CostApproach } from '../harness/cost/measure.js';
import { loraParameters, predictMemory } from '../harness/cost/memory-model.js';
import { countShapeParameters, engineConfigOf, NAMED_SHAPES, namedShape, parseShape, type ModelShape } from '../harness/cost/shapes.js';
import { GPT2_SMALL_CONFIG } from '../harness/engine/config.js';
import { countBaseParameters, countQloraBaseBytes } from '../harness/engine/params.js';
import { UsageError } from '../harness/errors.js';

const BENCH = join(fileURLToPath(new URL('../../', import.meta.url)), 'harness', 'bin', 'bench.js');

test('published shapes have their published parameter counts', () => {
  const expected: Record<keyof typeof NAMED_SHAPES, number> = {
    'gpt2-small': 124_439_808, 'gpt2-medium': 354_823_168, 'gpt2-xl': 1_557_611_200,
    '3b': 3_212_749_824, '7b': 6_738_415_616, '13b': 13_015_864_320, '70b': 68_976_648_192,
    // LLaMA-65B publishes no exact count; this is what its config gives.
    '65b': 65_285_660_672,
  };
  for (const [name, n] of Object.entries(expected)) assert.equal(countShapeParameters(namedShape(name, 'test').shape), n, name);
  // The GPT-2 counting agrees with the engine's own (harness/engine/params.ts).
  const small = engineConfigOf(NAMED_SHAPES['gpt2-small'].shape);
  assert.ok(!('problem' in small));
  assert.deepEqual(small, GPT2_SMALL_CONFIG);
  assert.equal(countBaseParameters(small), 124_439_808);
});

test('memory model: GPT-2 small weights, gradients and AdamW state, exactly', () => {
  const shape = NAMED_SHAPES['gpt2-small'].shape;
  const full = predictEnginePoint(shape, 'full', 2, 128, 8, 'wasm');
  assert.equal(full.weightsBytes, 497_759_232);
  assert.equal(full.gradientsBytes, 497_759_232);
  assert.equal(full.optimizerBytes, 995_518_464);
  const lora = predictEnginePoint(shape, 'lora', 2, 128, 8, 'wasm');
  // r·(768 + 2304) per block on attn.c_attn, 12 blocks.
  assert.equal(lora.params.trainable, 294_912);
  assert.equal(lora.weightsBytes, 497_759_232 + 4 * 294_912);
  assert.equal(lora.gradientsBytes, 4 * 294_912);
  assert.equal(lora.optimizerBytes, 8 * 294_912);
  const qlora = predictEnginePoint(shape, 'qlora', 2, 128, 8, 'wasm');
  assert.equal(qlora.weightsBytes, countQloraBaseBytes(GPT2_SMALL_CONFIG) + 4 * 294_912);
  // Projection precisions: AMP keeps an fp32 master and a bf16 copy, pure bf16 2 + 2 + 4 bytes.
  const seven = NAMED_SHAPES['7b'].shape;
  const acts = { kind: 'korthikanti', recompute: true, flash: true } as const;
  const amp = predictMemory({ shape: seven, approach: { kind: 'full' }, precision: 'bf16-mixed', optimizer: 'adamw', batch: 1, seqLen: 512, activations: acts });
  assert.equal(amp.weightsBytes + amp.gradientsBytes + amp.optimizerBytes, 18 * 6_738_415_616);
  const bf16 = predictMemory({ shape: seven, approach: { kind: 'full' }, precision: 'bf16', optimizer: 'adamw', batch: 1, seqLen: 512, activations: acts });
  assert.equal(bf16.weightsBytes + bf16.gradientsBytes + bf16.optimizerBytes, 8 * 6_738_415_616);
  // Llama LoRA on q and v: r·(4096 + 4096) twice per block, 32 blocks.
  assert.equal(loraParameters(seven, 8, 'qv'), 32 * 2 * 8 * 8192);
  // 8-bit Adam: two 1-byte moments plus an fp32 absmax per 2048 values each.
  const eight = predictMemory({ shape: seven, approach: { kind: 'lora', rank: 8, targets: 'qv' }, precision: 'bf16-mixed', optimizer: 'adamw-8bit', batch: 1, seqLen: 512, activations: acts });
  assert.equal(eight.optimizerBytes, Math.round((2 + 8 / 2048) * 32 * 2 * 8 * 8192));
  // Recomputation keeps each layer's 2·s·b·h input and one layer: far less than every layer.
  const noCkpt = predictMemory({ shape: seven, approach: { kind: 'full' }, precision: 'bf16', optimizer: 'adamw', batch: 1, seqLen: 512, activations: { kind: 'korthikanti', recompute: false, flash: false } });
  // Per layer s·b·h·(34 + 5·a·s/h) with a SwiGLU MLP (3 + 6·f/h instead of 19), plus 6 bytes per logit.
  const sbh = 512 * 4096, perLayer = sbh * (11 + 3 + (6 * 11008) / 4096 + 4) + 5 * 32 * 512 * 512;
  assert.equal(noCkpt.activationsBytes, 32 * perLayer + 6 * 512 * 32000);
  assert.equal(bf16.activationsBytes, 32 * 2 * sbh + sbh * (11 + 3 + (6 * 11008) / 4096 + 4) + 6 * 512 * 32000);
});

const TINY: ModelShape = { family: 'gpt2', vocab: 1500, width: 96, layers: 2, heads: 4, kvHeads: 4, mlpWidth: 384, context: 48, tied: true };
const tinyPoints: CostPoint[] = [];

test('memory model against real training steps of tiny models (each category)', async () => {
  const shape = TINY;
  const config = engineConfigOf(shape);
  assert.ok(!('problem' in config));
  for (const approach of ['full', 'lora', 'qlora'] as CostApproach[]) {
    const m = await measureCost({ shapeName: 'tiny', config, approach, batch: 3, seqLen: 48, rank: 4, targets: ['attn.c_attn'], timedSteps: 1, backend: 'wasm' });
    const p = predictEnginePoint(shape, approach, 3, 48, 4, 'wasm');
    assert.equal(m.memory.weightsBytes, p.weightsBytes, `${approach} weights`);
    assert.equal(m.memory.gradientsBytes, p.gradientsBytes, `${approach} gradients`);
    assert.equal(m.memory.optimizerBytes, p.optimizerBytes, `${approach} optimizer`);
    const d = relDiff(p.activationsBytes, m.memory.activationsBytes);
    assert.ok(Math.abs(d) <= 0.1, `${approach} activations: predicted ${p.activationsBytes}, measured ${m.memory.activationsBytes} (${(100 * d).toFixed(1)}%)`);
    assert.ok(m.tokensPerSec > 0 && Number.isFinite(m.loss));
    tinyPoints.push({
      shape: 'tiny', approach, batch: 3, seqLen: 48, backend: m.backend, backendReason: 'wasm', params: m.params, measured: m.memory,
      predicted: { ...p }, rssPeakBytes: m.rssPeakBytes, tokensPerSec: m.tokensPerSec, stepSec: m.stepSec,
    });
  }
});

test('the report reads the measured points from model-size.json and decides the two memory claims at size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adaptbench-cost-test-'));
  try {
    const cost: CostFile = { format: COST_FORMAT, createdAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: process.version }, batch: 3, seqLen: 48, rank: 4, points: tinyPoints, unmeasured: [] };
    writeFileSync(join(dir, 'cost.json'), JSON.stringify(cost));
    assert.throws(() => writeModelSizeFile(dir, { costPath: join(dir, 'cost.json'), project: '8b' }), /unknown shape "8b"/);
    assert.ok(!existsSync(join(dir, 'model-size.json')), 'nothing written on bad input');
    writeModelSizeFile(dir, { costPath: join(dir, 'cost.json'), project: '7b' });
    const file = loadModelSize(dir)!;
    assert.equal(file.points.length, 3);
    assert.equal(file.projection?.title, 'Llama-2-7B');
    assert.equal(file.projection?.rows.find((r) => r.label === 'Full (AMP)')?.publishedGb, 120);
    const out = atSizeOutcomes(file);
    const full = tinyPoints.find((p) => p.approach === 'full')!, lora = tinyPoints.find((p) => p.approach === 'lora')!, qlora = tinyPoints.find((p) => p.approach === 'qlora')!;
    assert.equal(out['lora-less-memory-at-size']?.verdict, lora.measured.peakBytes < full.measured.peakBytes ? 'held' : 'not-held');
    // At this size the fp32 embeddings dominate: 4-bit linear weights cut the whole far less than fourfold.
    assert.ok(lora.measured.weightsBytes / qlora.measured.weightsBytes < 3.5);
    assert.equal(out['quantized-fourfold-at-size']?.verdict, 'not-held');
    assert.match(out['quantized-fourfold-at-size']!.finding, /tiny: weights/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench all\'s at-size claims: the run\'s own <run>/cost/cost.json makes model-size.json, measured once', () => {
  const run = mkdtempSync(join(tmpdir(), 'adaptbench-cost-run-'));
  try {
    const cost: CostFile = { format: COST_FORMAT, createdAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: process.version }, batch: 3, seqLen: 48, rank: 4, points: tinyPoints, unmeasured: [] };
    mkdirSync(join(run, 'cost'));
    writeFileSync(join(run, 'cost', 'cost.json'), JSON.stringify(cost));
    const lines: string[] = [];
    assert.equal(measureClaimsAtSize(run, (l) => lines.push(l)), join(run, 'model-size.json'));
    assert.deepEqual(lines, [], 'a resumed run does not measure again');
    assert.equal(loadModelSize(run)!.costFile, join(run, 'cost', 'cost.json'));
    assert.equal(loadModelSize(run)!.points.length, 3);
    // `bench report` without --cost reads the run's own measurement as well.
    rmSync(join(run, 'model-size.json'));
    writeModelSizeFile(run, {});
    assert.equal(loadModelSize(run)!.costFile, join(run, 'cost', 'cost.json'));
  } finally {
    rmSync(run, { recursive: true, force: true });
  }
});

test('--shape and shape names: every problem named', () => {
  const s = parseShape('family=llama,layers=32,width=4096,heads=32,mlp=11008,vocab=32000,context=4096');
  assert.equal(countShapeParameters(s), 6_738_415_616, 'Llama-2-7B given by hand');
  assert.throws(() => parseShape('layers=2,width=64,heads=4,vocab=100,depth=3'), (e: unknown) => e instanceof UsageError && /unknown key "depth"/.test(e.message));
  assert.throws(() => parseShape('layers=two,width=64,heads=4,vocab=100'), (e: unknown) => e instanceof UsageError && /layers must be a positive integer \(got "two"\)/.test(e.message));
  assert.throws(() => parseShape('layers=2,width=64,heads=5,vocab=100'), (e: unknown) => e instanceof UsageError && /divisible by heads/.test(e.message));
  assert.throws(() => parseShape('family=llama,layers=2,width=64,heads=4,vocab=100'), (e: unknown) => e instanceof UsageError && /mlp is required/.test(e.message));
  assert.throws(() => namedShape('8b', '--project'), (e: unknown) => e instanceof UsageError && /unknown shape "8b".*7b/.test(e.message));
  const llama = engineConfigOf(NAMED_SHAPES['7b'].shape);
  assert.ok('problem' in llama && /GPT-2-family/.test(llama.problem));
});

test('bench cost --project prints the projection beside the published figures; bad input exits 2', () => {
  const ok = spawnSync(process.execPath, [BENCH, 'cost', '--project', '7b,70b', '--measured', join(fileURLToPath(new URL('../../', import.meta.url)), 'test', 'fixtures-missing.json')], { encoding: 'utf8' });
  assert.equal(ok.status, 2, 'a --measured file that does not exist is bad input');
  assert.match(ok.stderr, /--measured .*no such file/);
  const r = spawnSync(process.execPath, [BENCH, 'cost', '--project', '7b,70b', '--out', '/nonexistent-adaptbench'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /PROJECTION \(not measured\) for Llama-2-7B: 6,738,415,616 parameters/);
  assert.match(r.stdout, /PROJECTION \(not measured\) for Llama-2-70B/);
  assert.match(r.stdout, /Full \(AMP\).* 120 /);
  assert.match(r.stdout, /LLaMA-Factory README/);
  assert.match(r.stdout, /Korthikanti et al\. 2022/);
  for (const [args, pattern] of [
    [['--project', '8b'], /unknown shape "8b"/],
    [['--shape', 'layers=2,width=64'], /heads is required/],
    [['--shapes', '7b'], /cannot train this shape: the engine builds GPT-2-family models only/],
    [['--approach', 'adapter'], /unknown approach "adapter"/],
  ] as const) {
    const bad = spawnSync(process.execPath, [BENCH, 'cost', ...args], { encoding: 'utf8' });
    assert.equal(bad.status, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, pattern);
  }
});
