import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { tokenF1 } from '../harness/metrics/quality.js';
import { computeStatistics, meanInterval, median, quantileSorted, tCritical95, wilsonInterval } from '../harness/metrics/stats.js';

/** Equal up to float rounding of the same formula written differently. */
function close(actual: number, expected: number, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${actual} != ${expected}`);
}

test('computeStatistics of 1..5: every field by hand', () => {
  const s = computeStatistics([1, 2, 3, 4, 5]);
  // Squared deviations 4+1+0+1+4 = 10 over n-1 = 4: variance 2.5.
  assert.equal(s.mean, 3);
  close(s.sd, Math.sqrt(2.5));
  close(s.sem, Math.sqrt(0.5));
  // t(0.975, df 4) = 2.776.
  close(s.moe, Math.sqrt(0.5) * 2.776);
  close(s.rme, ((Math.sqrt(0.5) * 2.776) / 3) * 100);
  assert.equal(s.p50, 3);
  assert.equal(s.p75, 4);
  // Position (5-1)*0.99 = 3.96: 4 + 0.96 * (5 - 4).
  close(s.p99, 4.96);
  assert.equal(s.min, 1);
  assert.equal(s.max, 5);
  assert.equal(s.samplesCount, 5);
});

test('computeStatistics: interpolated quantiles, one sample, bad input', () => {
  const s = computeStatistics([10, 20, 30, 40]);
  assert.equal(s.p50, 25);
  // Position 3*0.75 = 2.25: 30 + 0.25 * 10.
  assert.equal(s.p75, 32.5);
  const one = computeStatistics([7]);
  assert.equal(one.mean, 7);
  assert.equal(one.p99, 7);
  assert.ok(Number.isNaN(one.sd) && Number.isNaN(one.moe), 'no spread from one sample');
  assert.throws(() => computeStatistics([]), /no samples/);
  assert.throws(() => computeStatistics([2, 1]), /sorted/);
  assert.equal(quantileSorted([1, 3], 0.5), 2);
});

test('tCritical95: table values, conservative between rows, z in the limit', () => {
  assert.equal(tCritical95(1), 12.706);
  assert.equal(tCritical95(2), 4.303);
  assert.equal(tCritical95(30), 2.042);
  assert.equal(tCritical95(35), 2.042);
  assert.equal(tCritical95(200), 1.98);
  assert.equal(tCritical95(10_000_000), 1.96);
  assert.throws(() => tCritical95(0), /positive integer/);
});

test('median of unsorted values', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('wilsonInterval: textbook values', () => {
  // 8/10: p = 0.8, z^2 = 3.8416; centre 0.99208 / 1.38416, half (1.96 / 1.38416) * sqrt(0.016 + 0.009604).
  const w = wilsonInterval(8, 10);
  close(w.low, 0.99208 / 1.38416 - (1.96 / 1.38416) * Math.sqrt(0.025604), 1e-12);
  close(w.high, 0.99208 / 1.38416 + (1.96 / 1.38416) * Math.sqrt(0.025604), 1e-12);
  assert.equal(w.low.toFixed(4), '0.4902');
  assert.equal(w.high.toFixed(4), '0.9433');
  // 0/10: low is exactly 0, high = 3.8416 / 13.8416.
  const zero = wilsonInterval(0, 10);
  assert.equal(zero.low, 0);
  close(zero.high, 3.8416 / 13.8416);
  const all = wilsonInterval(10, 10);
  assert.equal(all.high, 1);
  close(all.low, 1 - 3.8416 / 13.8416);
  assert.throws(() => wilsonInterval(1, 0), /positive integer/);
  assert.throws(() => wilsonInterval(11, 10), /successes/);
});

test('meanInterval: Student t 95%, none from one value', () => {
  const r = meanInterval([1, 2, 3, 4, 5]);
  assert.ok(r);
  assert.equal(r.mean, 3);
  close(r.halfWidth, 2.776 * Math.sqrt(0.5));
  close(r.low, 3 - 2.776 * Math.sqrt(0.5));
  close(r.high, 3 + 2.776 * Math.sqrt(0.5));
  // Two values 2 and 4: sd sqrt(2), sem 1, t(df 1) 12.706.
  const two = meanInterval([2, 4]);
  assert.ok(two);
  close(two.low, 3 - 12.706);
  close(two.high, 3 + 12.706);
  assert.equal(meanInterval([1]), null);
  assert.equal(meanInterval([]), null);
});

test('tokenF1: SQuAD normalisation and partial credit', () => {
  assert.equal(tokenF1('Paris', 'Paris'), 1);
  assert.equal(tokenF1('the Euro', 'Euro'), 1);
  assert.equal(tokenF1('paris.', 'Paris'), 1);
  // 3 predicted tokens, 1 gold, 1 shared: precision 1/3, recall 1, F1 0.5.
  assert.equal(tokenF1('French and English', 'English'), 0.5);
  // Counted with multiplicity: "x y y" and "x x y" share one x and one y: precision 2/3, recall 2/3.
  close(tokenF1('x y y', 'x x y'), 2 / 3);
  assert.equal(tokenF1('', ''), 1);
  assert.equal(tokenF1('Rome', ''), 0);
  assert.equal(tokenF1('Rome', 'Paris'), 0);
});
