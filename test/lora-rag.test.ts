// lora-rag on real parts: RAFT examples from the real retriever over knowledge-qa, and one cell
// end to end on a tiny checkpoint made by the real pretraining code.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lora } from '../adapters/lora.js';
import { loraRag, raftExamples } from '../adapters/lora-rag.js';
import { qlora } from '../adapters/qlora.js';
import { formatPrompt, formatTarget } from '../datasets/episodes.js';
import { prepareRetrieval, retrievalConfig } from '../adapters/rag.js';
import type { CellContext } from '../adapters/types.js';
import { initBackend, tf } from '../harness/engine/backend.js';
import { loadCheckpoint } from '../harness/engine/checkpoint.js';
import { pretrain } from '../harness/pretrain.js';
import { DivergenceError } from '../harness/engine/train.js';
import type { CellResult, CompletedCell } from '../harness/results.js';
import { knowledgeQa } from '../suites/knowledge-qa/suite.js';
import { cellContext } from './context.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'adaptbench-lora-rag-test-'));
const tiny = join(tmp, 'tiny');
const data = knowledgeQa.buildData(0);

before(async () => {
  await pretrain({ preset: 'tiny', seed: 0, out: tiny, log: () => {} });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('RAFT examples: the gold passage in oracleShare of them, never in the others; loss on the answer only', async () => {
  const backend = await initBackend();
  const config = Object.freeze({ ...loraRag.defaults, index: 'exact', tfidfDim: 1024 });
  assert.deepEqual(loraRag.validateConfig(config), []);
  const base = loadCheckpoint(tiny);
  const ctx: CellContext = cellContext({ suite: knowledgeQa, data, config, base, backend });
  const r = prepareRetrieval(ctx, retrievalConfig(config));
  const tok = base.tokenizer;
  const gold = (i: number): string => data.documents.find((d) => d.id === data.train[i]!.docIds[0])!.text;
  // Passage lines of a prompt: everything before the question line (the last passage may be cut at its end).
  const passageLines = (prompt: string): string[] => prompt.slice(0, prompt.lastIndexOf('Q: ')).split('\n').filter((l) => l !== '');
  const all = raftExamples(ctx, r, 3, 1);
  assert.equal(all.stats.examples, data.train.length);
  // Every example holds the gold passage, but those whose question leaves no room in the 128-token row for a passage line (one token and a newline) (tiny tokenizer).
  const noRoom = data.train.filter((q) => tok.encode(formatPrompt({ passages: [], question: q.fields['question']!, leadIn: q.fields['leadIn']! })).length + 2 > 128 - tok.encode(formatTarget(q.answers![0]!)).length).length;
  assert.equal(all.stats.withGold, data.train.length - noRoom, 'oracleShare 1: every example with room holds the gold passage');
  const none = raftExamples(ctx, r, 3, 0);
  assert.equal(none.stats.withGold, 0);
  none.examples.forEach((e, i) => {
    if (i % 50 !== 0) return;
    const prompt = tok.decode(e.tokens.filter((_, j) => !e.lossOn[j]));
    const lines = passageLines(prompt);
    assert.ok(lines.every((l) => !gold(i).startsWith(l)), `no-gold example ${i} holds the gold passage`);
    const answer = tok.decode(e.tokens.filter((_, j) => e.lossOn[j]));
    assert.equal(answer, ` ${data.train[i]!.answers![0]!}.\n`);
  });
  // And in the oracle examples, one passage line is (a cut of) the gold document.
  all.examples.forEach((e, i) => {
    if (i % 50 !== 0) return;
    assert.ok(passageLines(tok.decode(e.tokens.filter((_, j) => !e.lossOn[j]))).some((l) => gold(i).startsWith(l)), `oracle example ${i} lacks the gold passage`);
  });
  const mixed = raftExamples(ctx, r, 3, 0.8);
  const share = mixed.stats.withGold / mixed.stats.examples;
  assert.ok(share > 0.75 && share < 0.85, `gold share ${share}`);
  r.built.dispose();
  base.model.dispose();
});

test('a lora-rag cell trains, serves with retrieval, and records both', () => {
  const out = join(tmp, 'run');
  const r = spawnSync(process.execPath, [join(ROOT, 'harness', 'bin', 'bench.js'), 'run', 'knowledge-qa', '--approach', 'lora-rag', '--seeds', '1', '--limit-test', '8', '--checkpoint', tiny, '--out', out],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const cell = JSON.parse(readFileSync(join(out, 'cells', 'knowledge-qa__lora-rag__seed0.json'), 'utf8')) as CellResult;
  assert.equal(cell.status, 'completed', cell.status === 'failed' ? cell.error.message : '');
  const c = cell as CompletedCell;
  assert.ok(c.metrics['params.trainable']! > 0);
  assert.ok(c.metrics['train.tokensPerSec']! > 0);
  assert.ok(c.metrics['retrieval.recallAt10']! > 0.9, 'tfidf retrieval');
  const raft = c.inputs['raft'] as { examples: number; withGold: number };
  assert.equal(raft.examples, data.train.length);
  assert.ok(raft.withGold > 0 && raft.withGold < raft.examples);
});

test('lora, qlora and lora-rag free every tensor they made: with the outcome, and when training diverges', async () => {
  const backend = await initBackend();
  const base = loadCheckpoint(tiny);
  const suite = { ...knowledgeQa, budget: { ...knowledgeQa.budget, train: { steps: 3, batchSize: 2, seqLen: 64 } } };
  const ctxFor = (approach: typeof lora, lr: number): CellContext =>
    cellContext({ suite, data, config: Object.freeze({ ...approach.defaults, lr, ...(approach === loraRag ? { index: 'exact', tfidfDim: 1024 } : {}) }), base, backend });
  // The base model keeps what it caches once used (qlora measures it): one run first, then count.
  (await qlora.run(ctxFor(qlora, 1e-2))).dispose?.();
  for (const approach of [lora, qlora, loraRag]) {
    const before = tf.memory().numTensors;
    const outcome = await approach.run(ctxFor(approach, 1e-2));
    assert.ok(outcome.extra?.metrics?.['serve.mergeLogitsRelDiff']! < 1e-4, `${approach.name}: merged logits as trained`);
    outcome.dispose?.();
    assert.equal(tf.memory().numTensors, before, `${approach.name}: tensors left after dispose`);
    await assert.rejects(approach.run(ctxFor(approach, 1e30)), DivergenceError);
    assert.equal(tf.memory().numTensors, before, `${approach.name}: tensors left after diverging`);
  }
  base.model.dispose();
});
