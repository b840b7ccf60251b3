// LoRA and QLoRA adapters (harness/engine/lora.ts) on small real models: an untrained adapter is
// the base exactly; merging changes logits only by rounding; only A and B train; the adapter's
// written-out gradients equal autodiff's; closed-form parameter counts; the adapter file; QLoRA's
// NF4 base and its full-precision merge; and bad options rejected with exit 2 before any output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, tf } from '../harness/engine/backend.js';
import { DEFAULT_MODEL_CONFIG, GPT2_SMALL_CONFIG, type ModelConfig } from '../harness/engine/config.js';
import { GPT, type LinearAdapter } from '../harness/engine/model.js';
import { LoraAdapter, QloraAdapter, loadAdapter, loraConfigProblems, loraModelProblems, parseTargets, type LoraSettings } from '../harness/engine/lora.js';
import { dequantizeNf4 } from '../harness/engine/nf4.js';
import {
  countBaseParameters, countLinearWeights, countLoraParameters, countQloraBaseBytes, nf4StoredBytes, LINEAR_MODULE_NAMES, parameterShapes, sizeOf,
} from '../harness/engine/params.js';
import { AdamW, DEFAULT_TRAIN_OPTIONS, trainStep, type Batch } from '../harness/engine/train.js';
import { learningRateProblems } from '../adapters/training.js';

await initBackend('wasm');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TINY: ModelConfig = { vocabSize: 300, nCtx: 32, nEmbd: 32, nLayer: 2, nHead: 2 };
const ALL: LoraSettings = { rank: 4, alpha: 8, dropout: 0, targets: LINEAR_MODULE_NAMES };

function ids(config: ModelConfig, rows: number, len: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => tf.randomUniform([rows, len], 0, config.vocabSize, 'int32', seed) as tf.Tensor2D);
}
function logits(model: GPT, x: tf.Tensor2D): Float32Array {
  const t = tf.tidy(() => model.logits(model.hidden(x)));
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}
function relMax(a: Float32Array, b: Float32Array): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return d / s;
}
async function copy(model: GPT): Promise<GPT> {
  return GPT.fromWeights(model.config, await model.weights());
}
/** Gives every B a non-zero value, as training would. */
function randomizeB(adapter: LoraAdapter, seed: number): void {
  let k = 0;
  for (const b of adapter.b.values()) b.assign(tf.tidy(() => tf.randomNormal(b.shape, 0, 0.2, 'float32', seed + ++k)));
}
function batchOf(config: ModelConfig, rows: number, len: number, seed: number): Batch {
  const x = ids(config, rows, len + 1, seed);
  const all = x.dataSync() as Int32Array;
  x.dispose();
  const idsArr = new Int32Array(rows * len), targets = new Int32Array(rows * len);
  for (let r = 0; r < rows; r++) for (let j = 0; j < len; j++) {
    idsArr[r * len + j] = all[r * (len + 1) + j]!;
    targets[r * len + j] = all[r * (len + 1) + j + 1]!;
  }
  return { batchSize: rows, seqLen: len, ids: idsArr, targets, weights: new Float32Array(rows * len).fill(1) };
}

test('a LoRA model before training gives exactly the base model\'s logits', async () => {
  const base = GPT.init(TINY, 11);
  const model = await copy(base);
  const adapter = new LoraAdapter(TINY, ALL, 3);
  model.adapter = adapter;
  const x = ids(TINY, 3, 20, 5);
  assert.deepEqual(logits(model, x), logits(base, x));
  // A is random (not zero): the identity comes from B = 0, as in PEFT.
  assert.ok(tf.tidy(() => tf.max(tf.abs(adapter.a.get('h.0.attn.c_attn')!)).dataSync()[0]!) > 0);
  x.dispose(); adapter.dispose(); model.dispose(); base.dispose();
});

test('merged and unmerged LoRA give the same logits (max abs diff <= 1e-5 of their scale); unmerge restores W', async () => {
  const base = GPT.init(TINY, 12);
  const model = await copy(base);
  const adapter = new LoraAdapter(TINY, ALL, 4);
  model.adapter = adapter;
  randomizeB(adapter, 100);
  const x = ids(TINY, 2, 24, 6);
  const unmerged = logits(model, x);
  assert.ok(relMax(unmerged, logits(base, x)) > 1e-2, 'the adapter changes the model');
  const w0 = model.p('h.1.mlp.c_fc.weight').dataSync().slice();
  adapter.merge(model);
  assert.ok(adapter.merged);
  const merged = logits(model, x);
  assert.ok(relMax(merged, unmerged) <= 1e-5, `merged vs unmerged: ${relMax(merged, unmerged)}`);
  // The same with the adapter detached: the merged weights alone carry the change.
  model.adapter = null;
  assert.deepEqual(logits(model, x), merged);
  model.adapter = adapter;
  adapter.unmerge();
  const w1 = model.p('h.1.mlp.c_fc.weight').dataSync();
  assert.ok(relMax(w1 as Float32Array, w0 as Float32Array) < 1e-6);
  assert.ok(relMax(logits(model, x), unmerged) <= 1e-5);
  assert.throws(() => adapter.unmerge(), /not merged/);
  x.dispose(); adapter.dispose(); model.dispose(); base.dispose();
});

test('LoRA training updates only A and B; the adapter op\'s gradients equal autodiff of x·A·B', async () => {
  const model = GPT.init(TINY, 13);
  const adapter = new LoraAdapter(TINY, { rank: 3, alpha: 6, dropout: 0, targets: ['attn.c_attn', 'mlp.c_proj'] }, 5);
  model.adapter = adapter;
  randomizeB(adapter, 200);
  const batch = batchOf(TINY, 2, 16, 7);
  const vars = adapter.variables();
  const inputs = (): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] => [
    tf.tensor2d(batch.ids, [2, 16], 'int32'), tf.tensor1d(batch.targets, 'int32'), tf.tensor1d(batch.weights),
  ];
  const grads = (): Map<string, Float32Array> => {
    const r = tf.tidy(() => { const [i, t, w] = inputs(); return tf.variableGrads(() => model.loss(i, t, w), [...vars.values()]); });
    const out = new Map([...vars].map(([n, v]) => [n, r.grads[v.name]!.dataSync() as Float32Array]));
    r.value.dispose();
    for (const g of Object.values(r.grads)) g.dispose();
    return out;
  };
  const custom = grads();
  // The same adapter as composed tfjs ops, differentiated by tfjs itself.
  const reference: LinearAdapter = {
    delta: (module, x) => {
      const a = adapter.a.get(module), b = adapter.b.get(module);
      return a && b ? tf.mul(tf.matMul(tf.matMul(x, a as tf.Tensor2D), b as tf.Tensor2D), adapter.scale) as tf.Tensor2D : null;
    },
  };
  model.adapter = reference;
  const auto = grads();
  for (const [name, g] of custom) assert.ok(relMax(g, auto.get(name)!) < 1e-4, `${name}: ${relMax(g, auto.get(name)!)}`);
  model.adapter = adapter;

  const frozen = new Map([...model.params].map(([n, v]) => [n, v.dataSync().slice()]));
  const before = new Map([...vars].map(([n, v]) => [n, v.dataSync().slice()]));
  const optimizer = new AdamW(vars, new Set(), { ...DEFAULT_TRAIN_OPTIONS, weightDecay: 0 });
  for (let s = 0; s < 3; s++) trainStep(model, vars, optimizer, batch, 1e-2, 1);
  optimizer.dispose();
  for (const [n, v] of model.params) assert.deepEqual(v.dataSync(), frozen.get(n), `frozen ${n} changed`);
  for (const [n, v] of vars) assert.notDeepEqual(v.dataSync(), before.get(n), `${n} did not train`);
  adapter.dispose(); model.dispose();
});

test('LoRA dropout acts on the adapter\'s input while training only', async () => {
  const model = GPT.init(TINY, 15);
  const adapter = new LoraAdapter(TINY, { ...ALL, dropout: 0.5 }, 8);
  model.adapter = adapter;
  randomizeB(adapter, 500);
  const x = ids(TINY, 2, 16, 9);
  const evalA = logits(model, x), evalB = logits(model, x);
  assert.deepEqual(evalA, evalB, 'no dropout in evaluation');
  adapter.training = true;
  const trainA = logits(model, x), trainB = logits(model, x);
  adapter.training = false;
  assert.ok(relMax(trainA, evalA) > 1e-3 && relMax(trainA, trainB) > 1e-3, 'a new mask per call while training');
  x.dispose(); adapter.dispose(); model.dispose();
});

test('parameter counts in closed form: GPT-2 small with LoRA r=8 on c_attn is PEFT\'s 294,912 of 124,734,720', () => {
  assert.equal(countLoraParameters(GPT2_SMALL_CONFIG, 8, ['attn.c_attn']), 294_912);
  assert.equal(countBaseParameters(GPT2_SMALL_CONFIG) + 294_912, 124_734_720);
  // All four linear layers, rank r: r * (d + 3d + d + d + d + 4d + 4d + d) = 16 r d per block.
  assert.equal(countLoraParameters(GPT2_SMALL_CONFIG, 16, LINEAR_MODULE_NAMES), 12 * 16 * 16 * 768);
  assert.equal(countLinearWeights(GPT2_SMALL_CONFIG), 12 * 12 * 768 * 768);
  for (const config of [TINY, DEFAULT_MODEL_CONFIG, { vocabSize: 500, nCtx: 64, nEmbd: 48, nLayer: 3, nHead: 4 }]) {
    for (const settings of [ALL, { rank: 1, alpha: 1, dropout: 0, targets: ['attn.c_attn'] }, { rank: 16, alpha: 32, dropout: 0.1, targets: ['attn.c_proj', 'mlp.c_proj'] }] as LoraSettings[]) {
      const adapter = new LoraAdapter(config, settings, 1);
      let counted = 0;
      for (const v of adapter.variables().values()) counted += v.size;
      assert.equal(counted, countLoraParameters(config, settings.rank, settings.targets), JSON.stringify({ config, settings }));
      assert.equal(adapter.parameterCount, counted);
      adapter.dispose();
    }
    const linear = parameterShapes(config).filter((s) => s.kind === 'linear');
    assert.equal(linear.reduce((n, s) => n + sizeOf(s.shape), 0), countLinearWeights(config));
    assert.equal(countQloraBaseBytes(config),
      4 * (countBaseParameters(config) - countLinearWeights(config)) + linear.reduce((n, s) => n + nf4StoredBytes(sizeOf(s.shape)), 0));
  }
  // Default model with QLoRA: linear weights at ~4.128 bits, everything else fp32.
  const bits = (8 * (countQloraBaseBytes(DEFAULT_MODEL_CONFIG) - 4 * (countBaseParameters(DEFAULT_MODEL_CONFIG) - countLinearWeights(DEFAULT_MODEL_CONFIG)))) / countLinearWeights(DEFAULT_MODEL_CONFIG);
  assert.ok(bits > 4.127 && bits < 4.13, `bits ${bits}`);
});

test('the adapter file holds the config and A, B: small, and it loads back to the same adapter', async () => {
  const adapter = new LoraAdapter(DEFAULT_MODEL_CONFIG, { rank: 8, alpha: 16, dropout: 0, targets: ['attn.c_attn'] }, 9);
  randomizeB(adapter, 300);
  const dir = mkdtempSync(join(tmpdir(), 'adaptbench-lora-test-'));
  try {
    const path = join(dir, 'a.lora');
    const size = adapter.save(path, { baseCheckpoint: 'abc' });
    assert.equal(statSync(path).size, size);
    const payload = 4 * adapter.parameterCount; // 65,536 bytes for r=8 on c_attn of the default model
    assert.equal(payload, 65_536);
    assert.ok(size > payload && size < payload + 4096, `file ${size} bytes`);
    const { adapter: back, meta } = loadAdapter(path);
    assert.deepEqual(meta, { baseCheckpoint: 'abc' });
    assert.deepEqual(back.settings, adapter.settings);
    for (const [n, v] of adapter.variables()) assert.deepEqual(back.variables().get(n)!.dataSync(), v.dataSync());
    back.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    adapter.dispose();
  }
});

test('QLoRA stores the linear weights as NF4 only, computes with their dequantised form, and merges to a full-precision model', async () => {
  const base = GPT.init(TINY, 14);
  const before = tf.memory().numBytes;
  const model = await copy(base);
  const adapter = QloraAdapter.attach(model, ALL, 6);
  // Engine bytes: NF4 linear weights + fp32 rest + fp32 adapter; no fp32 linear weight is left.
  assert.equal(tf.memory().numBytes - before, countQloraBaseBytes(TINY) + 4 * adapter.parameterCount);
  assert.ok([...model.params.keys()].every((n) => !parameterShapes(TINY).some((s) => s.kind === 'linear' && s.name === n)));
  assert.ok(adapter.quantizationError.meanRel > 0.03 && adapter.quantizationError.meanRel < 0.15);

  // With B = 0 the model is exactly an fp32 model whose linear weights are the dequantised ones.
  const x = ids(TINY, 2, 20, 8);
  const reference = await copy(base);
  for (const [module, q] of adapter.quantized) reference.p(`${module}.weight`).assign(tf.tensor(dequantizeNf4(q.toData()), [...q.shape]));
  assert.deepEqual(logits(model, x), logits(reference, x));

  randomizeB(adapter, 400);
  const unmerged = logits(model, x);
  const merged = adapter.toFullPrecision(model);
  assert.equal(merged.params.size, parameterShapes(TINY).length, 'the merged model has every fp32 parameter');
  assert.ok(relMax(logits(merged, x), unmerged) <= 1e-5);
  assert.throws(() => adapter.merge(), /full-precision|fp32/);
  x.dispose(); merged.dispose(); reference.dispose(); adapter.dispose(); model.dispose(); base.dispose();
});

test('bad LoRA options are named: rank, alpha, dropout, targets (with the valid names), learning rate', () => {
  const ok = { rank: 8, alpha: 16, dropout: 0, targets: 'attn.c_attn', lr: 0.01 };
  assert.deepEqual(loraConfigProblems(ok, 'approach.lora'), []);
  const one = (patch: Record<string, unknown>): string => loraConfigProblems({ ...ok, ...patch }, 'approach.lora').join('; ');
  assert.match(one({ rank: 0 }), /approach\.lora\.rank must be a positive integer \(got 0\)/);
  assert.match(one({ rank: -4 }), /rank must be a positive integer \(got -4\)/);
  assert.match(one({ rank: 2.5 }), /rank must be a positive integer/);
  assert.match(one({ alpha: 0 }), /approach\.lora\.alpha must be a number greater than 0/);
  assert.match(one({ alpha: -1 }), /alpha must be a number greater than 0 \(got -1\)/);
  assert.match(one({ dropout: 1 }), /dropout must be a number in \[0, 1\)/);
  assert.match(one({ targets: 'attn.c_q' }), /unknown target module "attn\.c_q"; valid target modules: all, c_attn, c_fc, c_proj, attn\.c_attn, attn\.c_proj, mlp\.c_fc, mlp\.c_proj/);
  assert.deepEqual(parseTargets('c_proj+attn.c_attn'), { targets: ['attn.c_attn', 'attn.c_proj', 'mlp.c_proj'] });
  assert.deepEqual(parseTargets('all'), { targets: LINEAR_MODULE_NAMES });
  assert.match(loraModelProblems({ ...ok, rank: 129 }, DEFAULT_MODEL_CONFIG, 'approach.lora').join(), /rank 129 is larger than target layer attn\.c_attn allows \(min\(in, out\) = 128/);
  assert.deepEqual(loraModelProblems({ ...ok, rank: 128 }, DEFAULT_MODEL_CONFIG, 'approach.lora'), []);
  for (const lr of [0, -1e-3, 'fast', Infinity]) assert.match(learningRateProblems({ lr }, 'lora').join(), /approach\.lora\.lr must be a positive number/);
});

test('bench run with a bad fine-tuning option exits 2 with the reason and creates no output folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adaptbench-badopt-'));
  try {
    const cases: Array<[string, RegExp]> = [
      ['lora:rank=0', /approach\.lora\.rank must be a positive integer/],
      ['lora:rank=-2', /rank must be a positive integer \(got -2\)/],
      ['qlora:alpha=0', /approach\.qlora\.alpha must be a number greater than 0/],
      ['lora:targets=attn.c_q', /unknown target module "attn\.c_q"; valid target modules: all, c_attn/],
      ['full-ft:lr=0', /approach\.full-ft\.lr must be a positive number/],
      ['qlora:lr=-0.1', /approach\.qlora\.lr must be a positive number/],
    ];
    for (const [spec, message] of cases) {
      const out = join(dir, 'run');
      const r = spawnSync(process.execPath, [join(ROOT, 'harness/bin/bench.js'), 'run', 'knowledge-qa', '--approach', `base,${spec}`, '--out', out], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
      assert.equal(r.status, 2, `${spec}: ${r.stderr}`);
      assert.match(r.stderr, message, spec);
      assert.equal(existsSync(out), false, `${spec} left ${out} behind`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
