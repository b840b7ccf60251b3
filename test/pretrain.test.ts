// Pretraining is a real, deterministic run: the tiny preset twice gives the same checkpoint hash,
// and the checkpoint kept in the repository loads with its hash verified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pretrain, SHIPPED_BASE_DIR } from '../harness/pretrain.js';
import { readCheckpoint } from '../harness/engine/checkpoint.js';
import { countBaseParameters } from '../harness/engine/params.js';

test('pretraining is reproducible: same seed, same backend, same content hash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pretrain-'));
  try {
    const lines: string[] = [];
    const a = await pretrain({ preset: 'tiny', seed: 5, out: join(dir, 'a'), backend: 'wasm', log: (l) => lines.push(l) });
    const b = await pretrain({ preset: 'tiny', seed: 5, out: join(dir, 'b'), backend: 'wasm', log: () => {} });
    assert.equal(a.contentHash, b.contentHash);
    assert.equal(a.curve.length, 2, 'tiny preset evaluates twice');
    assert.ok(a.curve.every((p) => Number.isFinite(p.heldOutBrownCe) && p.heldOutRcExactMatch >= 0));
    assert.ok(lines.some((l) => /held-out RC exact match/.test(l)));
    const c = await pretrain({ preset: 'tiny', seed: 6, out: join(dir, 'c'), backend: 'wasm', log: () => {} });
    assert.notEqual(c.contentHash, a.contentHash, 'another seed gives another model');
    // Continuing keeps the starting checkpoint's tokenizer and config, moves its weights, and is
    // deterministic too; the starting point is recorded.
    const d1 = await pretrain({ preset: 'tiny', seed: 5, from: join(dir, 'a'), steps: 6, out: join(dir, 'd1'), backend: 'wasm', log: () => {} });
    const d2 = await pretrain({ preset: 'tiny', seed: 5, from: join(dir, 'a'), steps: 6, out: join(dir, 'd2'), backend: 'wasm', log: () => {} });
    assert.equal(d1.contentHash, d2.contentHash);
    const start = readCheckpoint(join(dir, 'a')), cont = readCheckpoint(join(dir, 'd1'));
    assert.deepEqual(cont.header.tokenizer, start.header.tokenizer);
    assert.deepEqual(cont.header.config, start.header.config);
    assert.notDeepEqual(cont.weights.get('wte.weight'), start.weights.get('wte.weight'));
    assert.deepEqual((cont.header.meta as { continuedFrom: unknown }).continuedFrom, { checkpoint: join(dir, 'a'), contentHash: a.contentHash });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped base checkpoint verifies and records how it was made', () => {
  const { header, weights } = readCheckpoint(SHIPPED_BASE_DIR);
  let n = 0;
  for (const w of weights.values()) n += w.length;
  assert.equal(n, countBaseParameters(header.config));
  const meta = header.meta as { preset: string; curve: unknown[]; final: { heldOutRcExactMatch: number }; code: { commit: string | null } };
  assert.equal(meta.preset, 'default');
  assert.ok(meta.curve.length >= 2, 'learning curve recorded');
  assert.ok(typeof meta.final.heldOutRcExactMatch === 'number');
  // It continues base-v1, which is kept beside it: the chain from scratch is checkable.
  const from = (header.meta as { continuedFrom: { checkpoint: string; contentHash: string } }).continuedFrom;
  assert.equal(from.checkpoint, 'base-v1');
  assert.equal(readCheckpoint(join(dirname(SHIPPED_BASE_DIR), 'base-v1')).header.contentHash, from.contentHash);
});
