// The engine on real, small inputs: exact parameter counts, the tokenizer, checkpoints, and the
// engine's own kernels (BLAS matmul, segment sum, fused linear/GELU/cross-entropy gradients)
// against tfjs's plain implementations, forward and gradient, on odd shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '../harness/engine/backend.js';
import { DEFAULT_MODEL_CONFIG, GPT2_SMALL_CONFIG, type ModelConfig } from '../harness/engine/config.js';
import { countBaseParameters, countLoraParameters, parameterShapes, sizeOf } from '../harness/engine/params.js';
import { BpeTokenizer } from '../harness/engine/tokenizer.js';
import { GPT, affine, frozenAffine, gelu, tokenCrossEntropy } from '../harness/engine/model.js';
import { saveCheckpoint, loadCheckpoint, CheckpointError } from '../harness/engine/checkpoint.js';
import { AdamW, DEFAULT_TRAIN_OPTIONS, learningRate, trainStep, streamBatch } from '../harness/engine/train.js';
import { generateGreedy } from '../harness/engine/evaluate.js';

const backend = await initBackend('wasm');
const TINY: ModelConfig = { vocabSize: 300, nCtx: 16, nEmbd: 16, nLayer: 2, nHead: 2 };

/** Max |a - b| relative to max |b| (the scale of the reference). */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const [d, s] = tf.tidy(() => [tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!, tf.max(tf.abs(b)).dataSync()[0]!]);
  return d! / Math.max(s!, 1e-12);
}

test('parameter counts are exact: GPT-2 small has 124,439,808', () => {
  assert.equal(countBaseParameters(GPT2_SMALL_CONFIG), 124_439_808);
  for (const c of [GPT2_SMALL_CONFIG, DEFAULT_MODEL_CONFIG, TINY]) {
    const fromShapes = parameterShapes(c).reduce((n, s) => n + sizeOf(s.shape), 0);
    assert.equal(fromShapes, countBaseParameters(c), `closed form vs shapes for ${JSON.stringify(c)}`);
  }
  // d=128, 4 layers: 2048*128 + 256*128 + 4*(12*128^2 + 13*128) + 2*128
  assert.equal(countBaseParameters(DEFAULT_MODEL_CONFIG), 1_088_256);
  // LoRA rank 8 on c_attn (128 -> 384) in 4 blocks: 4 * 8 * (128 + 384)
  assert.equal(countLoraParameters(DEFAULT_MODEL_CONFIG, 8, ['attn.c_attn']), 16_384);
});

test('a GPT built from the config has exactly the counted parameters, with GPT-2 names', () => {
  const model = GPT.init(TINY, 3);
  let n = 0;
  for (const v of model.params.values()) n += v.size;
  assert.equal(n, countBaseParameters(TINY));
  assert.deepEqual(model.p('h.1.attn.c_attn.weight').shape, [16, 48]);
  assert.deepEqual(model.p('h.0.mlp.c_proj.weight').shape, [64, 16]);
  model.dispose();
});

test('the BPE tokenizer is deterministic, round-trips text, and reserves end-of-text', () => {
  const corpus = ['the cat sat on the mat. ', 'the capital of Paros is Numa.\n', 'über café 東京 ✓'];
  const a = BpeTokenizer.train(corpus, 300), b = BpeTokenizer.train(corpus, 300);
  assert.deepEqual(a.toJSON(), b.toJSON());
  assert.ok(a.merges.length > 10);
  for (const text of [...corpus, 'unseen wörds, 123 <|endoftext|> tail']) assert.equal(a.decode(a.encode(text)), text);
  assert.equal(a.encode('<|endoftext|>')[0], a.eotId);
  assert.ok(a.encode('the cat').length < 'the cat'.length, 'merges shorten common words');
  const back = BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
  assert.deepEqual(back.encode('the mat'), a.encode('the mat'));
});

test('the BLAS matmul kernel matches the plain one, for every transpose and batch layout', () => {
  assert.equal(backend.kernels?.matmul, 'openblas', `BLAS addon should be built by the set-up: ${backend.kernels?.matmulReason}`);
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[2, 3, 7, 5], [2, 3, 5, 4], false, false],
    [[2, 3, 7, 5], [2, 3, 4, 5], false, true],
    [[4, 7, 5], [5, 3], false, false], // broadcast b over the batch
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = tf.randomNormal(sa, 0, 1, 'float32', 11), b = tf.randomNormal(sb, 0, 1, 'float32', 12);
    const got = tf.matMul(a, b, ta, tb);
    // Reference: explicit transposes, then products summed in float64 in JS.
    const swap = (t: tf.Tensor): tf.Tensor => tf.transpose(t, [...t.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : 2 * all.length - 3 - i)));
    const A = ta ? swap(a) : a, B = tb ? swap(b) : b;
    const flatA = A.reshape([-1, ...A.shape.slice(-2)]).arraySync() as number[][][];
    const flatB = B.reshape([-1, ...B.shape.slice(-2)]).arraySync() as number[][][];
    const out = (got.reshape([-1, ...got.shape.slice(-2)]).arraySync() as number[][][]);
    out.forEach((m, bi) => m.forEach((row, i) => row.forEach((v, j) => {
      const am = flatA[flatA.length === 1 ? 0 : bi]!, bm = flatB[flatB.length === 1 ? 0 : bi]!;
      let ref = 0;
      for (let k = 0; k < am[0]!.length; k++) ref += am[i]![k]! * bm[k]![j]!;
      assert.ok(Math.abs(v - ref) < 1e-4 * (1 + Math.abs(ref)), `case ${JSON.stringify([sa, sb, ta, tb])} [${bi},${i},${j}]: ${v} vs ${ref}`);
    })));
  }
});

test('the gradient of gather (embedding) works on wasm and matches a one-hot matmul', () => {
  const table = tf.randomNormal([9, 5], 0, 1, 'float32', 3);
  const ids = tf.tensor1d([1, 4, 4, 8, 0, 1, 1], 'int32');
  const dy = tf.randomNormal([7, 5], 0, 1, 'float32', 4);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), dy)))(table);
  const ref = tf.matMul(tf.oneHot(ids, 9).toFloat(), dy, true, false);
  assert.ok(relDiff(g, ref) < 1e-6);
});

test('fused linear, GELU and cross-entropy give the plain ops\' values and gradients', () => {
  const x = tf.randomNormal([13, 6], 0, 1, 'float32', 5);
  const w = tf.randomNormal([6, 11], 0, 0.5, 'float32', 6);
  const b = tf.randomNormal([11], 0, 0.5, 'float32', 7);
  const plainAffine = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor): tf.Tensor => tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb);
  const plainGelu = (z: tf.Tensor): tf.Tensor => tf.mul(tf.mul(z, 0.5), tf.add(tf.tanh(tf.mul(tf.add(z, tf.mul(tf.pow(z, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));
  const weightsOut = tf.randomNormal([13, 11], 0, 1, 'float32', 8);
  const loss = (f: (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.Tensor, g: (z: tf.Tensor) => tf.Tensor) =>
    (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor): tf.Scalar => tf.sum(tf.mul(g(f(xx, ww, bb)), weightsOut));
  const fused = tf.grads(loss((a, c, d) => affine(a as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor1D), (z) => gelu(z as tf.Tensor2D)))([x, w, b]);
  const plain = tf.grads(loss(plainAffine, plainGelu))([x, w, b]);
  fused.forEach((g, i) => assert.ok(relDiff(g, plain[i]!) < 1e-5, `gradient ${i}: ${relDiff(g, plain[i]!)}`));
  assert.ok(relDiff(gelu(x as tf.Tensor2D), plainGelu(x)) < 1e-6);
  // The frozen form: the same value and dx, with W produced afresh in backward (as QLoRA's dequantisation is).
  let weightCalls = 0;
  const frozen = (xx: tf.Tensor): tf.Tensor => frozenAffine(xx as tf.Tensor2D, () => { weightCalls += 1; return tf.clone(w) as tf.Tensor2D; }, b as tf.Tensor1D);
  assert.ok(relDiff(frozen(x), plainAffine(x, w, b)) < 1e-6);
  weightCalls = 0;
  const dxFrozen = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(plainGelu(frozen(xx)), weightsOut)))(x);
  assert.equal(weightCalls, 2, 'W is made once in forward and once in backward');
  assert.ok(relDiff(dxFrozen, plain[0]!) < 1e-5, `frozen dx: ${relDiff(dxFrozen, plain[0]!)}`);

  const logits = tf.randomNormal([10, 7], 0, 3, 'float32', 9);
  const targets = tf.tensor1d([0, 6, 3, 3, 1, 2, 5, 4, 0, 6], 'int32');
  const plainCe = (z: tf.Tensor): tf.Tensor => tf.neg(tf.sum(tf.mul(tf.logSoftmax(z), tf.oneHot(targets, 7)), 1));
  assert.ok(relDiff(tokenCrossEntropy(logits as tf.Tensor2D, targets, 7), plainCe(logits)) < 1e-6);
  const gf = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tokenCrossEntropy(z as tf.Tensor2D, targets, 7), tf.range(1, 11))))(logits);
  const gp = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(plainCe(z), tf.range(1, 11))))(logits);
  assert.ok(relDiff(gf, gp) < 1e-5);
});

test('model gradients agree with central finite differences', () => {
  const model = GPT.init(TINY, 4);
  const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]], [2, 6], 'int32');
  const targets = tf.tensor1d([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 'int32');
  const weights = tf.ones([12]) as tf.Tensor1D;
  const name = 'h.1.mlp.c_fc.weight';
  const v = model.p(name);
  const { grads } = tf.variableGrads(() => model.loss(ids, targets, weights), [v]);
  const g = grads[v.name]!.dataSync();
  const base = v.dataSync().slice();
  const eps = 1e-2;
  for (const i of [0, 17, 100, 255]) {
    const at = (delta: number): number => {
      const w = base.slice();
      w[i] = w[i]! + delta;
      v.assign(tf.tensor(w, v.shape));
      return model.loss(ids, targets, weights).dataSync()[0]!;
    };
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    assert.ok(Math.abs(numeric - g[i]!) < 2e-3 + 0.05 * Math.abs(g[i]!), `d loss / d ${name}[${i}]: analytic ${g[i]} vs numeric ${numeric}`);
  }
  model.dispose();
});

test('training lowers the loss, is reproducible for a seed, and stops on divergence', () => {
  const run = (): number[] => {
    const model = GPT.init(TINY, 7);
    const opt = new AdamW(model.params, new Set(), DEFAULT_TRAIN_OPTIONS);
    const stream = Int32Array.from({ length: 400 }, (_, i) => (i * 37) % 50);
    const losses = [];
    for (let s = 0; s < 25; s++) losses.push(trainStep(model, model.params, opt, streamBatch(stream, s * 64, 4, 16), 3e-3, 1).loss);
    model.dispose();
    opt.dispose();
    return losses;
  };
  const a = run(), b = run();
  assert.deepEqual(a, b, 'same seed, same backend: identical losses');
  assert.ok(a.at(-1)! < a[0]! - 0.5, `loss should fall: ${a[0]} -> ${a.at(-1)}`);
  const model = GPT.init(TINY, 7);
  const opt = new AdamW(model.params, new Set(), DEFAULT_TRAIN_OPTIONS);
  model.p('wte.weight').assign(tf.fill([300, 16], NaN));
  assert.throws(() => trainStep(model, model.params, opt, streamBatch(Int32Array.from([1, 2, 3, 4]), 0, 1, 3), 1e-3, 1), /training diverged/);
  model.dispose();
  assert.equal(learningRate({ steps: 100, lr: 1, warmupSteps: 10, minLrRatio: 0.1 }, 4), 0.5);
  assert.ok(Math.abs(learningRate({ steps: 100, lr: 1, warmupSteps: 10, minLrRatio: 0.1 }, 99) - 0.1) < 1e-3);
});

test('checkpoints round-trip and a modified weights file is refused with exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
  try {
    const model = GPT.init(TINY, 9);
    const tok = BpeTokenizer.train(['some text to learn merges from, text text text'], 300);
    const header = await saveCheckpoint(join(dir, 'm'), model, tok, { note: 'test' });
    const loaded = loadCheckpoint(join(dir, 'm'));
    assert.equal(loaded.header.contentHash, header.contentHash);
    const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    assert.deepEqual(loaded.model.logits(loaded.model.hidden(ids)).dataSync(), model.logits(model.hidden(ids)).dataSync());
    assert.deepEqual(generateGreedy(loaded.model, [[1, 2, 3]], { maxNewTokens: 4, stopIds: [] }), generateGreedy(model, [[1, 2, 3]], { maxNewTokens: 4, stopIds: [] }));
    const weightsPath = join(dir, 'm', 'weights.bin');
    const bytes = readFileSync(weightsPath);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(weightsPath, bytes);
    assert.throws(() => loadCheckpoint(join(dir, 'm')), (err: unknown) => err instanceof CheckpointError && err.exitCode === 2 && /content hash mismatch/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('batched greedy generation equals one-at-a-time generation (padding does not leak)', () => {
  const model = GPT.init(TINY, 10);
  const prompts = [[5, 6, 7], [1], [9, 9, 9, 9, 9, 2]];
  const together = generateGreedy(model, prompts, { maxNewTokens: 5, stopIds: [], batchSize: 3 });
  // Again, once the model's causal-mask cache holds this prompt length: nothing else may remain.
  const tensorsBefore = tf.memory().numTensors;
  assert.deepEqual(generateGreedy(model, prompts, { maxNewTokens: 5, stopIds: [], batchSize: 3 }), together);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'generation leaves no tensor behind');
  const alone = prompts.map((p) => generateGreedy(model, [p], { maxNewTokens: 5, stopIds: [] })[0]);
  assert.deepEqual(together, alone);
  model.dispose();
});

test('cached generation gives the same tokens as recomputing the whole sequence each step', () => {
  const model = GPT.init(TINY, 12);
  const naive = (prompt: number[], steps: number): number[] => {
    const seq = [...prompt];
    for (let s = 0; s < steps; s++) {
      const h = model.hidden(tf.tensor2d([seq], [1, seq.length], 'int32'));
      const next = tf.argMax(model.logits(tf.slice(h, [seq.length - 1, 0], [1, -1])), 1).dataSync()[0]!;
      seq.push(next);
    }
    return seq.slice(prompt.length);
  };
  const prompts = [[3, 1, 4, 1, 5], [9, 2], [6, 5, 3, 5, 8, 9, 7]];
  const cached = generateGreedy(model, prompts, { maxNewTokens: 6, stopIds: [], batchSize: 3 });
  assert.deepEqual(cached, prompts.map((p) => naive(p, 6)));
  model.dispose();
});

test('a cloned model has its own copy of the weights and frees all of it on dispose', async () => {
  const model = GPT.init(TINY, 13);
  const before = tf.memory().numBytes;
  const copy = model.clone();
  assert.ok(tf.memory().numBytes - before >= countBaseParameters(TINY) * 4, 'the copy holds its own weights');
  const zeros = tf.zeros([300, 16]);
  copy.p('wte.weight').assign(zeros);
  zeros.dispose();
  assert.notEqual((await model.p('wte.weight').data())[0], 0, 'the original is untouched');
  copy.dispose();
  assert.equal(tf.memory().numBytes, before);
  model.dispose();
});
