// How `bench compare` judges one metric, by hand: direction, threshold, intervals, a baseline of 0,
// and the markdown's escaping. The whole command runs on a real run in report-views.test.ts.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { compareMetric } from '../reports/compare.js';
import { markdownText } from '../reports/format.js';
import type { MetricSummary } from '../reports/index.js';

const s = (mean: number, half: number | null = 0): MetricSummary => ({
  n: 3, mean, median: mean, point: mean, sd: half === null ? null : half, interval: half === null ? null : { low: mean - half, high: mean + half, method: 't' },
});

test('compareMetric: worse beyond the threshold regresses only where the intervals separate, unless strict', () => {
  // Lower is better for memory: 100 -> 120 is 20% worse.
  const worse = compareMetric('kqa', 'lora', 'memory.peakBytes', s(100), s(120), 0.1, false);
  assert.deepEqual([worse.status, worse.ratio, worse.worsening, worse.separated], ['regressed', 1.2, 0.2, true]);
  assert.equal(compareMetric('kqa', 'lora', 'memory.peakBytes', s(100, 15), s(120, 15), 0.1, false).status, 'not-separable');
  assert.equal(compareMetric('kqa', 'lora', 'memory.peakBytes', s(100, 15), s(120, 15), 0.1, true).status, 'regressed');
  assert.equal(compareMetric('kqa', 'lora', 'memory.peakBytes', s(100), s(105), 0.1, false).status, 'within-threshold');
  assert.equal(compareMetric('kqa', 'lora', 'memory.peakBytes', s(100), s(80), 0.1, false).status, 'improved');
  // Higher is better for exact match: 0.5 -> 0.4 is 20% worse; without intervals the threshold alone decides.
  const em = compareMetric('kqa', 'rag', 'quality.exactMatch', s(0.5, null), s(0.4, null), 0.1, false);
  assert.deepEqual([em.status, em.separated], ['regressed', null]);
  assert.ok(Math.abs(em.worsening! - 0.2) < 1e-12);
  // From 0: no ratio, any change is beyond the threshold.
  const zero = compareMetric('kqa', 'lora', 'forgetting.ceDelta', s(0), s(0.01), 0.1, false);
  assert.deepEqual([zero.ratio, zero.worsening, zero.status], [null, Infinity, 'regressed']);
  assert.equal(compareMetric('kqa', 'base', 'forgetting.ceDelta', s(0), s(0), 0.1, false).status, 'within-threshold');
  // Float noise under the export's pass bound is not a regression; crossing the bound is.
  assert.equal(compareMetric('kqa', 'lora', 'export.logitsMaxAbsDiff', s(2e-6), s(9e-6), 0.1, true).status, 'within-threshold');
  assert.equal(compareMetric('kqa', 'lora', 'export.logitsMaxAbsDiff', s(2e-6), s(3e-4), 0.1, true).status, 'regressed');
  // No better direction: shown, never judged; a side missing: listed.
  assert.equal(compareMetric('kqa', 'lora', 'params.trainable', s(10), s(1000), 0.1, false).status, 'informational');
  assert.equal(compareMetric('kqa', 'lora', 'quality.exactMatch', s(0.5), null, 0.1, false).status, 'missing');
});

test('markdownText: labels cannot break a table or inject markup', () => {
  assert.equal(markdownText('lora|rank_8 *x* [a](b) `c` <script>'), 'lora\\|rank\\_8 \\*x\\* \\[a\\](b) \\`c\\` &lt;script>');
  assert.equal(markdownText('a\nb & c'), 'a b &amp; c');
});
