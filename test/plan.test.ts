import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ATTRIBUTES } from '../datasets/entities.js';
import { selectTestSubset } from '../harness/cell.js';
import { approachLabel, expandCells, parseApproachSpec, resolveApproaches } from '../harness/plan.js';
import { knowledgeQa } from '../suites/knowledge-qa/suite.js';

test('parseApproachSpec: name, key=value options, typed values, and errors', () => {
  assert.deepEqual(parseApproachSpec('base'), { name: 'base', overrides: {} });
  assert.deepEqual(parseApproachSpec('lora:rank=8:alpha=16:targets=all:merge=true'), {
    name: 'lora', overrides: { rank: 8, alpha: 16, targets: 'all', merge: true },
  });
  assert.throws(() => parseApproachSpec('lora:rank'), /"rank" is not key=value/);
  assert.throws(() => parseApproachSpec('lora:rank=8:rank=4'), /given twice/);
  assert.throws(() => parseApproachSpec(':rank=8'), /empty approach name/);
  assert.equal(approachLabel('lora', { rank: 8, alpha: 16 }), 'lora-rank8-alpha16');
  assert.equal(approachLabel('base', {}), 'base');
});

test('resolveApproaches: unknown approach and unknown option are usage errors (exit 2)', async () => {
  const [plan] = await resolveApproaches(['base']);
  assert.deepEqual(plan, { name: 'base', label: 'base', config: {} });
  await assert.rejects(resolveApproaches(['nope']), (e: Error & { exitCode?: number }) => e.exitCode === 2 && /unknown approach "nope". Valid approaches: base/.test(e.message));
  await assert.rejects(resolveApproaches(['base:foo=1']), /approach.base has no option "foo"; it takes no options/);
  await assert.rejects(resolveApproaches(['base', 'base']), /given twice/);
});

test('expandCells: suite x seed x approach, ids stable', () => {
  const cells = expandCells(['knowledge-qa'], [{ name: 'base', label: 'base', config: {} }], [0, 2]);
  assert.deepEqual(cells.map((c) => c.id), ['knowledge-qa__base__seed0', 'knowledge-qa__base__seed2']);
  assert.equal(cells[1]!.seed, 2);
});

test('selectTestSubset: stratified by attribute, seeded, in split order', () => {
  const test = knowledgeQa.buildData(0).test;
  const pick = selectTestSubset(test, 100, 'k:0', 'attribute');
  assert.equal(pick.length, 100);
  assert.equal(new Set(pick.map((q) => q.id)).size, 100);
  for (const attr of ATTRIBUTES) {
    const share = (100 * test.filter((q) => q.fields['attribute'] === attr).length) / test.length;
    const got = pick.filter((q) => q.fields['attribute'] === attr).length;
    assert.ok(got === Math.floor(share) || got === Math.ceil(share), `${attr}: ${got} for a share of ${share}`);
  }
  const order = pick.map((q) => test.indexOf(q));
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  assert.deepEqual(selectTestSubset(test, 100, 'k:0', 'attribute').map((q) => q.id), pick.map((q) => q.id));
  assert.notDeepEqual(selectTestSubset(test, 100, 'k:1', 'attribute').map((q) => q.id), pick.map((q) => q.id));
  assert.equal(selectTestSubset(test, 5000, 'k:0', 'attribute').length, test.length);
});
