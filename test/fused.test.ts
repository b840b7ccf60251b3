// The fused native kernels against plain tfjs compositions of the same maths, forward and
// gradient, on odd shapes (sizes that are not multiples of anything convenient).
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../harness/engine/backend.js';
import { fusedActive, fusedAdamW, fusedAttention, fusedCrossEntropy, fusedGelu, fusedLayerNorm } from '../harness/engine/fused.js';

const backend = await initBackend('wasm');

function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(tf.max(tf.abs(b)).dataSync()[0]!, 1e-12));
}

/** Causal attention written with plain ops: split, heads, scaled scores, mask, softmax, merge. */
function plainAttention(qkv: tf.Tensor, b: number, t: number, h: number): tf.Tensor {
  const d = qkv.shape[1]! / 3, hd = d / h;
  const heads = (z: tf.Tensor): tf.Tensor => tf.transpose(tf.reshape(z, [b, t, h, hd]), [0, 2, 1, 3]);
  const [q, k, v] = tf.split(qkv, 3, 1);
  const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0)), -1e9);
  const att = tf.softmax(tf.add(tf.mul(tf.matMul(heads(q!), heads(k!), false, true), 1 / Math.sqrt(hd)), mask));
  return tf.reshape(tf.transpose(tf.matMul(att, heads(v!)), [0, 2, 1, 3]), [b * t, d]);
}

test('fused kernels are active on wasm when the native addon is built', () => {
  assert.equal(backend.fused.mode, 'fused', backend.fused.reason);
  assert.ok(fusedActive());
});

test('fused causal attention matches the plain composition, values and gradient', () => {
  for (const [b, t, h, hd] of [[2, 7, 3, 5], [1, 1, 1, 4], [3, 33, 2, 8]] as const) {
    const qkv = tf.randomNormal([b * t, 3 * h * hd], 0, 1, 'float32', 21);
    const dy = tf.randomNormal([b * t, h * hd], 0, 1, 'float32', 22);
    assert.ok(relDiff(fusedAttention(qkv as tf.Tensor2D, b, t, h), plainAttention(qkv, b, t, h)) < 1e-5, `values ${[b, t, h, hd]}`);
    const gf = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fusedAttention(x as tf.Tensor2D, b, t, h), dy)))(qkv);
    const gp = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(plainAttention(x, b, t, h), dy)))(qkv);
    assert.ok(relDiff(gf, gp) < 1e-4, `gradient ${[b, t, h, hd]}: ${relDiff(gf, gp)}`);
  }
});

test('fused LayerNorm matches the plain composition, values and all three gradients', () => {
  const plain = (x: tf.Tensor, g: tf.Tensor, bb: tf.Tensor): tf.Tensor => {
    const mean = tf.mean(x, -1, true);
    const c = tf.sub(x, mean);
    return tf.add(tf.mul(tf.mul(c, tf.rsqrt(tf.add(tf.mean(tf.square(c), -1, true), 1e-5))), g), bb);
  };
  const x = tf.randomNormal([11, 13], 2, 3, 'float32', 31);
  const g = tf.randomNormal([13], 1, 0.3, 'float32', 32), bb = tf.randomNormal([13], 0, 0.3, 'float32', 33);
  const dy = tf.randomNormal([11, 13], 0, 1, 'float32', 34);
  assert.ok(relDiff(fusedLayerNorm(x as tf.Tensor2D, g, bb, 1e-5), plain(x, g, bb)) < 1e-5);
  const gf = tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(fusedLayerNorm(a as tf.Tensor2D, c, e, 1e-5), dy)))([x, g, bb]);
  const gp = tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(plain(a, c, e), dy)))([x, g, bb]);
  gf.forEach((t, i) => assert.ok(relDiff(t, gp[i]!) < 1e-4, `gradient ${i}: ${relDiff(t, gp[i]!)}`));
  // Only the input's gradient (as for a frozen norm under LoRA).
  const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(fusedLayerNorm(a as tf.Tensor2D, g, bb, 1e-5), dy)))(x);
  assert.ok(relDiff(gx, gp[0]!) < 1e-4);
});

test('fused GELU and cross-entropy match the plain compositions, values and gradients', () => {
  const plainGelu = (z: tf.Tensor): tf.Tensor => tf.mul(tf.mul(z, 0.5), tf.add(tf.tanh(tf.mul(tf.add(z, tf.mul(tf.pow(z, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));
  const x = tf.randomNormal([9, 17], 0, 2, 'float32', 41);
  assert.ok(relDiff(fusedGelu(x as tf.Tensor2D), plainGelu(x)) < 1e-5);
  const dy = tf.randomNormal([9, 17], 0, 1, 'float32', 42);
  const gf = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(fusedGelu(z as tf.Tensor2D), dy)))(x);
  const gp = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(plainGelu(z), dy)))(x);
  assert.ok(relDiff(gf, gp) < 1e-5);

  const logits = tf.randomNormal([13, 29], 0, 4, 'float32', 43);
  const targets = tf.tensor1d([0, 28, 3, 3, 14, 2, 5, 4, 0, 6, 27, 1, 9], 'int32');
  const plainCe = (z: tf.Tensor): tf.Tensor => tf.neg(tf.sum(tf.mul(tf.logSoftmax(z), tf.oneHot(targets, 29)), 1));
  assert.ok(relDiff(fusedCrossEntropy(logits as tf.Tensor2D, targets), plainCe(logits)) < 1e-5);
  const w = tf.range(1, 14);
  const cf = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(fusedCrossEntropy(z as tf.Tensor2D, targets), w)))(logits);
  const cp = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(plainCe(z), w)))(logits);
  assert.ok(relDiff(cf, cp) < 1e-5);
  assert.throws(() => fusedCrossEntropy(logits as tf.Tensor2D, tf.tensor1d(Array(13).fill(29), 'int32')), /outside the vocabulary/);
});

test('fused AdamW gives the textbook update and leaves its inputs untouched', () => {
  const n = 37;
  const p = tf.randomNormal([n], 0, 1, 'float32', 51), m = tf.randomNormal([n], 0, 0.1, 'float32', 52);
  const v = tf.abs(tf.randomNormal([n], 0, 0.1, 'float32', 53)), g = tf.randomNormal([n], 0, 1, 'float32', 54);
  const a = { lr: 0.01, beta1: 0.9, beta2: 0.95, c1: 1 - 0.9 ** 3, c2: 1 - 0.95 ** 3, eps: 1e-8, decay: 0.1, gradScale: 0.5 };
  const before = p.dataSync().slice();
  const [p1, m1, v1] = fusedAdamW(p, m, v, g, a);
  const gs = tf.mul(g, a.gradScale);
  const mr = tf.add(tf.mul(m, a.beta1), tf.mul(gs, 1 - a.beta1));
  const vr = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(gs), 1 - a.beta2));
  const upd = tf.div(tf.div(mr, a.c1), tf.add(tf.sqrt(tf.div(vr, a.c2)), a.eps));
  const pr = tf.sub(p, tf.mul(tf.add(upd, tf.mul(p, a.decay)), a.lr));
  assert.ok(relDiff(m1, mr) < 1e-6 && relDiff(v1, vr) < 1e-6 && relDiff(p1, pr) < 1e-6);
  assert.deepEqual(p.dataSync(), before, 'the input parameter is not modified in place');
});

test('fused kernels give the same bits on one thread and on two (each splits its loop)', () => {
  // Shapes large enough that every kernel splits its rows, columns or elements over two threads.
  const child = `
    const { initBackend, tf } = await import(${JSON.stringify(new URL('../harness/engine/backend.js', import.meta.url).href)});
    const f = await import(${JSON.stringify(new URL('../harness/engine/fused.js', import.meta.url).href)});
    const { loadBlas } = await import(${JSON.stringify(new URL('../harness/engine/kernels.js', import.meta.url).href)});
    const { createHash } = await import('node:crypto');
    await initBackend('wasm');
    const hash = createHash('sha256');
    const add = (...ts) => ts.forEach((t) => hash.update(Buffer.from(t.dataSync().buffer)));
    const qkv = tf.randomNormal([4 * 64, 96], 0, 1, 'float32', 1), dyA = tf.randomNormal([4 * 64, 32], 0, 1, 'float32', 2);
    add(f.fusedAttention(qkv, 4, 64, 2), tf.grad((x) => tf.sum(tf.mul(f.fusedAttention(x, 4, 64, 2), dyA)))(qkv));
    const x = tf.randomNormal([2048, 48], 1, 2, 'float32', 3), g = tf.randomNormal([48], 1, 0.3, 'float32', 4), b = tf.randomNormal([48], 0, 0.3, 'float32', 5);
    const dyL = tf.randomNormal([2048, 48], 0, 1, 'float32', 6);
    add(f.fusedLayerNorm(x, g, b, 1e-5), ...tf.grads((a, c, e) => tf.sum(tf.mul(f.fusedLayerNorm(a, c, e, 1e-5), dyL)))([x, g, b]));
    const z = tf.randomNormal([512, 96], 0, 3, 'float32', 7), dyG = tf.randomNormal([512, 96], 0, 1, 'float32', 8);
    add(f.fusedGelu(z), tf.grad((a) => tf.sum(tf.mul(f.fusedGelu(a), dyG)))(z));
    const logits = tf.randomNormal([300, 200], 0, 4, 'float32', 9), targets = tf.tensor1d(Array.from({ length: 300 }, (_, i) => (i * 37) % 200), 'int32');
    add(f.fusedCrossEntropy(logits, targets), tf.grad((a) => tf.sum(f.fusedCrossEntropy(a, targets)))(logits));
    const n = 40000, p = tf.randomNormal([n], 0, 1, 'float32', 10), m = tf.randomNormal([n], 0, 0.1, 'float32', 11);
    const v = tf.abs(tf.randomNormal([n], 0, 0.1, 'float32', 12)), gr = tf.randomNormal([n], 0, 1, 'float32', 13);
    add(...f.fusedAdamW(p, m, v, gr, { lr: 0.01, beta1: 0.9, beta2: 0.95, c1: 0.271, c2: 0.143, eps: 1e-8, decay: 0.1, gradScale: 0.5 }));
    console.log(JSON.stringify({ threads: loadBlas().addon.fusedThreads(), sha256: hash.digest('hex') }));
  `;
  const run = (threads: string): { threads: number; sha256: string } => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8', env: { ...process.env, ADAPTBENCH_NATIVE_THREADS: threads } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { threads: number; sha256: string };
  };
  const one = run('1'), two = run('2');
  assert.deepEqual([one.threads, two.threads], [1, 2]);
  assert.equal(two.sha256, one.sha256);
});

test('ADAPTBENCH_GELU=tanh switches GELU to its tanhf form: other last bits, the same function, and the backend says so', () => {
  const child = `
    const { initBackend, tf } = await import(${JSON.stringify(new URL('../harness/engine/backend.js', import.meta.url).href)});
    const f = await import(${JSON.stringify(new URL('../harness/engine/fused.js', import.meta.url).href)});
    const info = await initBackend('wasm');
    const x = tf.randomNormal([64, 96], 0, 3, 'float32', 61), dy = tf.randomNormal([64, 96], 0, 1, 'float32', 62);
    const y = f.fusedGelu(x), dx = tf.grad((a) => tf.sum(tf.mul(f.fusedGelu(a), dy)))(x);
    console.log(JSON.stringify({ reason: info.fused.reason, y: Array.from(y.dataSync()), dx: Array.from(dx.dataSync()) }));
  `;
  const run = (gelu: string | undefined): { reason: string; y: number[]; dx: number[] } => {
    const env = { ...process.env };
    if (gelu === undefined) delete env['ADAPTBENCH_GELU'];
    else env['ADAPTBENCH_GELU'] = gelu;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { reason: string; y: number[]; dx: number[] };
  };
  const sigmoid = run(undefined), tanh = run('tanh');
  assert.doesNotMatch(sigmoid.reason, /tanhf/);
  assert.match(tanh.reason, /GELU in its tanhf form \(ADAPTBENCH_GELU=tanh\)/);
  for (const k of ['y', 'dx'] as const) {
    const a = sigmoid[k], b = tanh[k];
    assert.ok(a.some((v, i) => v !== b[i]), `${k}: the two forms give other bits somewhere`);
    const scale = Math.max(...b.map(Math.abs));
    assert.ok(a.every((v, i) => Math.abs(v - b[i]!) <= 1e-5 * scale), `${k}: the same function to float precision (the plain-composition tests allow 1e-5 too)`);
  }
});
