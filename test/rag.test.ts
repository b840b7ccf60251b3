// The rag approach on real parts: a tiny checkpoint made by the real pretraining code (and a copy of
// it with a longer context, so whole passages fit), the knowledge-qa suite, real indexes. Answer
// quality is ~0 with these models; what is tested is retrieval, the prompts and what is recorded.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rag } from '../adapters/rag.js';
import type { ApproachOutcome, CellContext } from '../adapters/types.js';
import { formatPrompt } from '../datasets/episodes.js';
import { initBackend } from '../harness/engine/backend.js';
import { loadCheckpoint, saveCheckpoint } from '../harness/engine/checkpoint.js';
import { GPT } from '../harness/engine/model.js';
import { ANSWER_MAX_NEW_TOKENS } from '../harness/evaluation.js';
import { pretrain } from '../harness/pretrain.js';
import type { CellResult, CompletedCell } from '../harness/results.js';
import { ModelEmbedder, TfidfEmbedder } from '../harness/retrieval/embedders.js';
import { buildIndex } from '../harness/retrieval/indexes.js';
import { evaluateRun } from '../harness/retrieval/metrics.js';
import { parseTrecQrels, parseTrecRun } from '../harness/retrieval/trec.js';
import { RetrievalInputError, row } from '../harness/retrieval/vectors.js';
import { knowledgeQa } from '../suites/knowledge-qa/suite.js';
import { cellContext } from './context.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'harness', 'bin', 'bench.js');
const tmp = mkdtempSync(join(tmpdir(), 'adaptbench-rag-test-'));
const tiny = join(tmp, 'tiny');
const wide = join(tmp, 'wide');
const data = knowledgeQa.buildData(0);

before(async () => {
  await pretrain({ preset: 'tiny', seed: 0, out: tiny, log: () => {} });
  // The tiny model's 128-token context holds no whole country document; this one holds three.
  const t = loadCheckpoint(tiny);
  const model = GPT.init({ ...t.header.config, nCtx: 1024 }, 1);
  await saveCheckpoint(wide, model, t.tokenizer, { note: 'rag test: tiny tokenizer, random weights, 1024-token context' });
  model.dispose();
  t.model.dispose();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

async function runRag(checkpoint: string, overrides: Record<string, unknown>): Promise<{ outcome: ApproachOutcome; ctx: CellContext }> {
  const backend = await initBackend();
  const config = Object.freeze({ ...rag.defaults, ...overrides });
  assert.deepEqual(rag.validateConfig(config), []);
  const ctx = cellContext({ suite: knowledgeQa, data, config, base: loadCheckpoint(checkpoint), backend });
  return { outcome: await rag.run(ctx), ctx };
}

const retrievalInputs = (o: ApproachOutcome): Record<string, unknown> => o.extra!.inputs!['retrieval'] as Record<string, unknown>;

describe('rag approach', () => {
  test('prompts hold the top-k documents of an independent brute-force search, in rank order, and fit the context', async () => {
    const { outcome, ctx } = await runRag(wide, { index: 'exact', k: 3, tfidfDim: 1024, order: 'best-first' });
    const questions = data.test.filter((_, i) => i % 41 === 0);
    const prompts = await outcome.prompts(questions);
    // The same retrieval computed here from the parts: tfidf fitted on the documents, brute force.
    const e = new TfidfEmbedder({ dim: 1024 });
    e.fit(data.documents.map((d) => d.text));
    const exact = buildIndex({ type: 'exact' }, e.embed(data.documents.map((d) => d.text)));
    const qv = e.embed(questions.map((q) => q.fields['question']!));
    const budget = ctx.base.model.config.nCtx - ANSWER_MAX_NEW_TOKENS;
    questions.forEach((q, i) => {
      const top = exact.search(row(qv, i), 3).ids.map((id) => data.documents[id]!.text);
      assert.equal(prompts[i], formatPrompt({ passages: top, question: q.fields['question']!, leadIn: q.fields['leadIn']! }));
      assert.ok(prompts[i]!.includes(data.documents.find((d) => d.id === q.docIds[0])!.text), `the gold document is in the prompt for ${q.id}`);
      assert.ok(ctx.base.tokenizer.encode(prompts[i]!).length <= budget);
    });
    const m = outcome.extra!.metrics!;
    assert.ok(m['retrieval.recallAt1']! >= 0.99, `tfidf recall@1 ${m['retrieval.recallAt1']}`);
    assert.equal(m['retrieval.annRecallAt10'], 1, 'the exact index is its own ground truth');
    assert.equal(m['retrieval.passagesPerPrompt'], 3);
    const r = retrievalInputs(outcome);
    assert.equal(r['k'], 3);
    assert.deepEqual(r['index'], { type: 'exact' });
    assert.equal((r['embedder'] as { name: string }).name, 'tfidf');
    assert.deepEqual(r['chunking'], { chunkTokens: 0, chunks: 250, documents: 250, oversized: 0 });
    outcome.dispose?.();
    ctx.base.model.dispose();
    // best-last: the same passages, the best one next to the question.
    const last = await runRag(wide, { index: 'exact', k: 3, tfidfDim: 1024, order: 'best-last' });
    const reversed = await last.outcome.prompts(questions);
    questions.forEach((q, i) => {
      const top = exact.search(row(qv, i), 3).ids.map((id) => data.documents[id]!.text);
      assert.equal(reversed[i], formatPrompt({ passages: [...top].reverse(), question: q.fields['question']!, leadIn: q.fields['leadIn']! }));
    });
    last.outcome.dispose?.();
    last.ctx.base.model.dispose();
  });

  test('a short context drops the lowest-ranked passages, cuts the last one, and records it', async () => {
    const { outcome, ctx } = await runRag(tiny, { k: 3 });
    const budget = ctx.base.model.config.nCtx - ANSWER_MAX_NEW_TOKENS;
    const prompts = await outcome.prompts(data.test.slice(0, 40));
    prompts.forEach((p, i) => {
      const q = data.test[i]!;
      const bare = formatPrompt({ passages: [], question: q.fields['question']!, leadIn: q.fields['leadIn']! });
      // Within the budget, or (when not even the question fits) without any passage.
      assert.ok(ctx.base.tokenizer.encode(p).length <= budget || p === bare, `prompt ${i} overflows`);
    });
    const m = outcome.extra!.metrics!;
    assert.ok(m['retrieval.passagesPerPrompt']! < 1.01, 'at most one (cut) passage fits in 104 tokens');
    const context = retrievalInputs(outcome)['context'] as Record<string, number>;
    assert.equal(context['promptBudgetTokens'], budget);
    assert.equal(context['promptsWithFewerThanK'], data.test.length);
    assert.ok(context['promptsWithCutPassage']! > 0);
    assert.match(outcome.extra!.notes!['retrieval.passagesPerPrompt']!, /prompts hold fewer to leave 24 answer tokens/);
    // hnswlib (the default index) against exact search, document-level figures in [0, 1].
    assert.ok(m['retrieval.annRecallAt10']! >= 0.95);
    for (const id of ['retrieval.recallAt1', 'retrieval.recallAt5', 'retrieval.recallAt10', 'retrieval.mrrAt10', 'retrieval.ndcgAt10'] as const) {
      assert.ok(m[id]! >= 0 && m[id]! <= 1, id);
    }
    assert.ok(m['retrieval.recallAt1']! <= m['retrieval.recallAt5']! && m['retrieval.recallAt5']! <= m['retrieval.recallAt10']!);
    assert.ok(m['retrieval.indexBytes']! > 0 && m['retrieval.queriesPerSec']! > 0);
    outcome.dispose?.();
    ctx.base.model.dispose();
  });

  test('chunks: documents split into sentence chunks are retrieved and still judged per document', async () => {
    const { outcome, ctx } = await runRag(wide, { index: 'faiss', factory: 'Flat', chunkTokens: 40, k: 4, tfidfDim: 512 });
    const r = retrievalInputs(outcome);
    const chunking = r['chunking'] as { chunks: number };
    assert.ok(chunking.chunks > 250, `${chunking.chunks} chunks`);
    const [prompt] = await outcome.prompts([data.test[0]!]);
    assert.equal(prompt!.split('\n').length, 4 + 2, 'four passage lines, the question, the answer lead-in');
    assert.ok(outcome.extra!.metrics!['retrieval.recallAt10']! > 0.9);
    outcome.dispose?.();
    ctx.base.model.dispose();
  });

  test('the model embedder: unit vectors, independent of batching, dimension of the model, centring optional', async () => {
    await initBackend();
    const base = loadCheckpoint(tiny);
    const texts = data.documents.slice(0, 20).map((d) => d.text);
    for (const center of [false, true]) {
      const a = new ModelEmbedder(base.model, base.tokenizer, base.header.contentHash, { batchSize: 7, center });
      a.fit(texts);
      const v = a.embed([...texts, '']);
      assert.equal(v.dim, base.model.config.nEmbd);
      for (let i = 0; i < 20; i++) assert.ok(Math.abs(Math.hypot(...row(v, i)) - 1) < 1e-5);
      assert.ok(row(v, 20).every((x) => x === 0), 'empty text embeds to zeros');
      // Batching does not change a text's vector (right padding under causal attention).
      const b = new ModelEmbedder(base.model, base.tokenizer, base.header.contentHash, { batchSize: 32, center });
      b.fit(texts);
      const w = b.embed(texts);
      for (let i = 0; i < 20 * v.dim; i++) assert.ok(Math.abs(v.data[i]! - w.data[i]!) < 1e-4);
      if (center) {
        // Centred on the corpus mean: the corpus's vectors (before normalising) sum to zero, so
        // their unit vectors cannot all lean the same way.
        const sum = new Float64Array(v.dim);
        for (let i = 0; i < 20; i++) row(v, i).forEach((x, j) => { sum[j]! += x; });
        assert.ok(Math.hypot(...sum) < 20 * 0.9, 'centred vectors do not share one direction');
      }
    }
    base.model.dispose();
  });

  test('bad config and input: k above the corpus, unknown embedder, index or factory string', async () => {
    await assert.rejects(runRag(tiny, { k: 251 }), (err: unknown) => {
      assert.ok(err instanceof RetrievalInputError);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /k = 251 is larger than the corpus: suite knowledge-qa has 250 chunk\(s\).*Fix: set k to at most 250/);
      return true;
    });
    const problems = (o: Record<string, unknown>): string => rag.validateConfig({ ...rag.defaults, ...o }).join('; ');
    assert.match(problems({ embedder: 'bert' }), /approach\.rag\.embedder must be one of tfidf, model/);
    assert.match(problems({ index: 'annoy' }), /approach\.rag\.index must be one of exact, hnswlib, faiss/);
    assert.match(problems({ index: 'faiss', factory: 'Bogus' }), /approach\.rag\.factory: faiss factory string "Bogus" is not valid/);
    assert.match(problems({ k: 0 }), /approach\.rag\.k must be a positive integer/);
    assert.match(problems({ order: 'random' }), /approach\.rag\.order must be one of best-first, best-last/);
    assert.equal(problems({ index: 'faiss', factory: 'IVF16+Flat' }), '');
  });
});

describe('bench run with rag', () => {
  const bench = (args: string[]) => spawnSync(process.execPath, [BENCH, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

  test('cells record retrieval metrics, the report shows them, --export-trec writes files that evaluate to the same figures', () => {
    const out = join(tmp, 'run');
    const r = bench(['run', 'knowledge-qa', '--approach', 'rag,rag:embedder=model:index=faiss:factory=IVF8+Flat', '--seeds', '1', '--limit-test', '8', '--checkpoint', tiny, '--export-trec', '--out', out]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    for (const label of ['rag', 'rag-embeddermodel-indexfaiss-factoryIVF8_Flat']) {
      const id = `knowledge-qa__${label}__seed0`;
      const cell = JSON.parse(readFileSync(join(out, 'cells', `${id}.json`), 'utf8')) as CellResult;
      assert.equal(cell.status, 'completed', cell.status === 'failed' ? cell.error.message : '');
      const m = (cell as CompletedCell).metrics;
      const run = parseTrecRun(readFileSync(join(out, 'trec', `${id}.run`), 'utf8'));
      const qrels = parseTrecQrels(readFileSync(join(out, 'trec', `${id}.qrels`), 'utf8'));
      assert.equal(run.size, data.test.length);
      const again = evaluateRun(run, qrels);
      for (const [metric, value] of [['retrieval.recallAt1', again.recallAt1], ['retrieval.recallAt5', again.recallAt5], ['retrieval.recallAt10', again.recallAt10], ['retrieval.mrrAt10', again.mrrAt10], ['retrieval.ndcgAt10', again.ndcgAt10]] as const) {
        assert.ok(Math.abs(m[metric]! - value) < 1e-12, `${label} ${metric}: recorded ${m[metric]}, from the TREC files ${value}`);
      }
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /Retrieval recall@1/);
    assert.match(html, /Retrieval nDCG@10/);
    // The Retrieval section names the embedder and index behind each row.
    assert.match(html, /<th scope="row">rag<\/th><td>tfidf \(4096-d\)<\/td><td>hnswlib, M 16, efConstruction 200, ef 64, seed 100<\/td>/);
    assert.match(html, /model \(32-d\)<\/td><td>faiss, factory IVF8,Flat, nprobe 8<\/td>/);
    assert.match(readFileSync(join(out, 'results.csv'), 'utf8').split('\n')[0]!, /,retrieval\.mrrAt10,/);
  });

  test('an unknown factory string stops the run before anything is written (exit 2)', () => {
    const out = join(tmp, 'bad');
    const r = bench(['run', 'knowledge-qa', '--approach', 'rag:index=faiss:factory=Bogus', '--seeds', '1', '--checkpoint', tiny, '--out', out]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /factory string "Bogus" is not valid/);
    assert.ok(!existsSync(out), 'no run folder is left behind');
  });

  test('k above the corpus stops the run before anything is written (exit 2), for rag and lora-rag', () => {
    for (const approach of ['rag:k=251', 'lora-rag:k=251', 'rag:k=9999:chunkTokens=16']) {
      const out = join(tmp, `bad-k-${approach.replace(/[^a-z0-9]+/g, '_')}`);
      const r = bench(['run', 'knowledge-qa', '--approach', `base,${approach}`, '--seeds', '1', '--checkpoint', tiny, '--out', out]);
      assert.equal(r.status, 2, `${approach}: ${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /k = \d+ is larger than the corpus: \d+ chunk\(s\) to retrieve from .*Fix: set k to at most \d+/);
      assert.ok(!existsSync(out), `${approach}: no run folder is left behind`);
    }
  });
});
