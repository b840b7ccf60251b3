// NF4 storage (harness/engine/nf4.ts) against what the QLoRA paper's scheme implies: the code book
// from its construction, the round-trip error of normal weights from the code book and the
// distribution of a block's maximum, the per-weight bound from the code book's widest gap, and the
// stored size (4.127 bits per weight) as the engine counts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../harness/engine/backend.js';
import { createRng } from '../datasets/rng.js';
import {
  ABSMAX_BLOCK, DYNAMIC_MAP, NF4_BLOCK, NF4_CODE, NF4_MAX_HALF_GAP, Nf4Weight, QuantizationErrorMeter,
  dequantizeAbsmax, dequantizeNf4, expectedNf4AbsError, nf4BitsPerWeight, nf4StoredBytes, normalFloatCodeBook, quantizeNf4,
} from '../harness/engine/nf4.js';

await initBackend('wasm');

function normalMatrix(rows: number, cols: number, sigma: number, seed: string): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: rows * cols }, () => sigma * rng.normal());
}

test('the 16 NF4 code values are the paper\'s normal-quantile construction: asymmetric, exact 0 and +-1', () => {
  const derived = normalFloatCodeBook();
  assert.equal(NF4_CODE.length, 16);
  derived.forEach((v, i) => assert.ok(Math.abs(v - NF4_CODE[i]!) < 1e-6, `code ${i}: derived ${v}, table ${NF4_CODE[i]}`));
  assert.equal(NF4_CODE.filter((v) => v > 0).length, 8);
  assert.equal(NF4_CODE.filter((v) => v < 0).length, 7);
  assert.ok(NF4_CODE.includes(0) && NF4_CODE[0] === -1 && NF4_CODE[15] === 1);
  // The widest gap is between -1 and the next code: half of it bounds the normalised error.
  assert.ok(Math.abs(NF4_MAX_HALF_GAP - (1 - 0.6961928009986877) / 2) < 1e-12);
  // bitsandbytes' signed dynamic map: 256 sorted values, 0 and 1 included.
  assert.equal(DYNAMIC_MAP.length, 256);
  assert.ok(DYNAMIC_MAP.includes(0) && DYNAMIC_MAP[255] === 1);
  for (let i = 1; i < 256; i++) assert.ok(DYNAMIC_MAP[i]! > DYNAMIC_MAP[i - 1]!);
});

test('an NF4 round trip of N(0, sigma^2) weights has the mean error the scheme implies, and every weight is within its bound', () => {
  const sigma = 0.02, rows = 512, cols = 512;
  const expected = expectedNf4AbsError(NF4_BLOCK); // E|w - Q(w)| / sigma
  // Sanity of the integral: well inside half the mean code spacing (~0.13 of absmax ~ 2.6 sigma).
  assert.ok(expected > 0.05 && expected < 0.1, `expected ${expected}`);
  for (const seed of ['a', 'b']) {
    const w = normalMatrix(rows, cols, sigma, `nf4-roundtrip-${seed}`);
    const q = quantizeNf4(w, [rows, cols]);
    const back = dequantizeNf4(q);
    const meter = new QuantizationErrorMeter();
    meter.add(w, back);
    const err = meter.result();
    // 262,144 weights in 4,096 blocks: the sample mean is within 1% of its expectation; 2% leaves
    // room for the double quantisation of absmax, which the integral leaves out.
    assert.ok(Math.abs(err.meanAbs / sigma / expected - 1) < 0.02, `mean |error| / sigma ${err.meanAbs / sigma} vs expected ${expected}`);
    // Relative to the weights: E|w| = sigma * sqrt(2/pi).
    assert.ok(Math.abs(err.meanRel - expected / Math.sqrt(2 / Math.PI)) < 0.002, `relative error ${err.meanRel}`);
    // Per weight: |w - q·M̂| <= half the widest gap times the exact absmax, plus |M - M̂|.
    const absmax = dequantizeAbsmax(q, rows * cols / NF4_BLOCK);
    let worstSlack = Infinity, worstDq = 0;
    for (let b = 0; b < absmax.length; b++) {
      let m = 0;
      for (let i = b * NF4_BLOCK; i < (b + 1) * NF4_BLOCK; i++) m = Math.max(m, Math.abs(w[i]!));
      const dqErr = Math.abs(m - absmax[b]!);
      worstDq = Math.max(worstDq, dqErr / m);
      const bound = NF4_MAX_HALF_GAP * m + dqErr;
      for (let i = b * NF4_BLOCK; i < (b + 1) * NF4_BLOCK; i++) worstSlack = Math.min(worstSlack, bound - Math.abs(w[i]! - back[i]!));
    }
    assert.ok(worstSlack >= -1e-9, `a weight exceeds its bound by ${-worstSlack}`);
    // Double quantisation: each absmax within half the dynamic map's widest gap times its group's scale.
    let mapHalfGap = 0;
    for (let i = 1; i < 256; i++) mapHalfGap = Math.max(mapHalfGap, (DYNAMIC_MAP[i]! - DYNAMIC_MAP[i - 1]!) / 2);
    for (let b = 0; b < absmax.length; b++) {
      let m = 0;
      for (let i = b * NF4_BLOCK; i < (b + 1) * NF4_BLOCK; i++) m = Math.max(m, Math.abs(w[i]!));
      assert.ok(Math.abs(m - absmax[b]!) <= mapHalfGap * q.absmaxScales[Math.floor(b / ABSMAX_BLOCK)]! * (1 + 1e-6) + 1e-9, `absmax ${b}`);
    }
    assert.ok(worstDq < 0.01, `absmax double-quantisation error ${worstDq}`);
  }
});

test('an all-zero block stays exactly zero and the block maximum is reproduced up to its double quantisation', () => {
  const w = normalMatrix(4, 64, 1, 'nf4-zero');
  w.fill(0, 64, 128);
  const back = dequantizeNf4(quantizeNf4(w, [4, 64]));
  for (let i = 64; i < 128; i++) assert.equal(back[i], 0);
  const maxIdx = w.subarray(0, 64).reduce((best, v, i, arr) => (Math.abs(v) > Math.abs(arr[best]!) ? i : best), 0);
  assert.ok(Math.abs(back[maxIdx]! - w[maxIdx]!) < 0.01 * Math.abs(w[maxIdx]!));
});

test('stored size: 4 + 8/64 + 32/(64*256) bits per weight, and exactly that many engine bytes', () => {
  assert.ok(Math.abs(nf4BitsPerWeight(1 << 20) - (4 + 8 / 64 + 32 / (64 * ABSMAX_BLOCK))) < 1e-4);
  assert.equal(nf4StoredBytes(128 * 384), 4 * (49152 / 8) + 4 * (768 / 4) + 4 * 3 + 4);
  const w = normalMatrix(128, 384, 0.02, 'nf4-bytes');
  const before = tf.memory().numBytes;
  const stored = new Nf4Weight(quantizeNf4(w, [128, 384]));
  assert.equal(tf.memory().numBytes - before, nf4StoredBytes(w.length));
  assert.equal(stored.bytes, nf4StoredBytes(w.length));
  stored.dispose();
  assert.equal(tf.memory().numBytes, before);
});

test('the dequantisation kernel (wasm and cpu) gives exactly the JS reference, and leaks nothing', async () => {
  const w = normalMatrix(96, 200, 0.05, 'nf4-kernel'); // 19,200 weights: a partial last absmax group
  const q = quantizeNf4(w, [96, 200]);
  const reference = dequantizeNf4(q);
  for (const backend of ['wasm', 'cpu'] as const) {
    await tf.setBackend(backend);
    const stored = new Nf4Weight(q);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => tf.add(stored.dequantize(), 0));
    assert.deepEqual(out.shape, [96, 200]);
    assert.deepEqual(out.dataSync(), reference, `${backend} kernel`);
    out.dispose();
    assert.equal(tf.memory().numTensors, before);
    stored.dispose();
  }
  await tf.setBackend('wasm');
});
