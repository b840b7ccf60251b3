// Retrieval: metrics against cases computed by hand, exact search against a sort of every distance,
// hnswlib and faiss recall on a small synthetic set, index files (round trip, hash mismatch), bad
// input (exit 2), the tfidf embedder, chunking, context fitting, TREC files, and `bench retrieval`.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BpeTokenizer } from '../harness/engine/tokenizer.js';
import { chunkDocuments, sentences } from '../harness/retrieval/chunking.js';
import { fitPrompt } from '../harness/retrieval/context.js';
import { TfidfEmbedder, charNgrams } from '../harness/retrieval/embedders.js';
import { readFaissParams } from '../harness/retrieval/faiss.js';
import type { IndexSpec, VectorIndex } from '../harness/retrieval/indexes.js';
import { INDEX_DEFAULTS, INDEX_FILE, buildIndex, loadIndex, saveIndex } from '../harness/retrieval/indexes.js';
import { annRecall, annRecallOfQuery, evaluateRun, ndcgAt, qrelsOf, recallAt, reciprocalRankAt } from '../harness/retrieval/metrics.js';
import { loadFaiss } from '../harness/retrieval/native.js';
import { CLUSTERED_DEFAULTS, clusteredVectors } from '../harness/retrieval/synthetic.js';
import { MIN_SENTENCE_WORDS, embedTexts, sentencePool, textSplit } from '../harness/retrieval/text-set.js';
import { parseTrecQrels, parseTrecRun, trecQrels, trecRun } from '../harness/retrieval/trec.js';
import type { Vectors } from '../harness/retrieval/vectors.js';
import { RetrievalInputError, cosineDistance, normalizeRows, row } from '../harness/retrieval/vectors.js';
import { createRng } from '../datasets/rng.js';
import { sha256Hex } from '../datasets/hash.js';
import { TEXT_TFIDF_DIM } from '../harness/retrieval-bench.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'harness', 'bin', 'bench.js');
const tmp = mkdtempSync(join(tmpdir(), 'adaptbench-retrieval-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const close = (actual: number, expected: number, what: string, tolerance = 1e-12): void => assert.ok(Math.abs(actual - expected) < tolerance, `${what}: ${actual} != ${expected}`);

function randomUnit(n: number, dim: number, seed: string): Vectors {
  const rng = createRng(seed);
  return normalizeRows({ dim, count: n, data: Float32Array.from({ length: n * dim }, () => rng.normal()) });
}

function expectInputError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RetrievalInputError, `expected RetrievalInputError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('retrieval metrics (hand-computed)', () => {
  const judged = new Map([['b', 2], ['d', 1], ['e', 1]]);
  const ranked = ['a', 'b', 'c', 'd'];

  test('recall@k counts relevant documents found over all relevant ones', () => {
    assert.equal(recallAt(ranked, judged, 1), 0);
    assert.equal(recallAt(ranked, judged, 2), 1 / 3);
    assert.equal(recallAt(ranked, judged, 5), 2 / 3); // e is never retrieved
    assert.equal(recallAt(['d', 'e', 'b'], judged, 10), 1);
  });

  test('MRR@k is 1/rank of the first relevant document, 0 past k', () => {
    assert.equal(reciprocalRankAt(ranked, judged, 10), 1 / 2);
    assert.equal(reciprocalRankAt(ranked, judged, 1), 0);
    assert.equal(reciprocalRankAt(['d'], judged, 10), 1);
    assert.equal(reciprocalRankAt(['x', 'y', 'z'], judged, 10), 0);
  });

  test('nDCG@k uses linear gains and log2(rank + 1) discounts over the ideal order', () => {
    // DCG = 2/log2(3) + 1/log2(5); ideal: 2/log2(2) + 1/log2(3) + 1/log2(4).
    close(ndcgAt(ranked, judged, 10), 1.6925360652163082 / 3.1309297535714578, 'graded');
    close(ndcgAt(ranked, judged, 10), 0.5405857679450102, 'graded, as a number');
    // Binary: relevant at ranks 2 and 3 of [x, r1, r2]: (1/log2(3) + 1/2) / (1 + 1/log2(3)).
    close(ndcgAt(['x', 'r1', 'r2'], new Map([['r1', 1], ['r2', 1]]), 10), 0.6934264036172708, 'binary');
    assert.equal(ndcgAt(['b', 'd', 'e'], judged, 10), 1);
    assert.equal(ndcgAt(['a', 'c'], judged, 10), 0);
    // The cut: d at rank 4 does not count at k = 3.
    close(ndcgAt(ranked, judged, 3), (2 / Math.log2(3)) / (2 + 1 / Math.log2(3) + 1 / 2), 'cut at 3');
  });

  test('evaluateRun averages over judged queries, skips unjudged ones, ignores repeated documents', () => {
    const qrels = qrelsOf([
      { queryId: 'q1', docId: 'd1', relevance: 1 },
      { queryId: 'q2', docId: 'd9', relevance: 1 },
    ]);
    const run = new Map([
      ['q1', ['d1', 'd2']], // rank 1
      ['q2', ['d3', 'd3', 'd9']], // rank 2 once the repeat of d3 is dropped
      ['q3', ['d1']], // no judgement: left out
    ]);
    const r = evaluateRun(run, qrels);
    assert.equal(r.queries, 2);
    assert.equal(r.recallAt1, 0.5);
    assert.equal(r.recallAt5, 1);
    assert.equal(r.mrrAt10, (1 + 1 / 2) / 2);
    close(r.ndcgAt10, (1 + 1 / Math.log2(3)) / 2, 'mean nDCG');
  });

  test('ann-benchmarks recall: within the true k-th distance + 1e-3 counts, past it does not', () => {
    assert.equal(annRecallOfQuery([0.1, 0.2, 0.3], [0.1, 0.3009, 0.5], 3), 2 / 3);
    assert.equal(annRecallOfQuery([0.1, 0.2, 0.3], [0.1, 0.3011, 0.5], 3), 1 / 3);
    // Ties with the true k-th neighbour are as good as it, whichever id the index picked.
    assert.equal(annRecallOfQuery([0.1, 0.2, 0.2], [0.2, 0.2, 0.1], 3), 1);
    // Fewer results than k count the missing ones as misses.
    assert.equal(annRecallOfQuery([0.1, 0.2], [0.1], 2), 1 / 2);
    assert.equal(annRecall([[0.1, 0.2], [0.1, 0.2]], [[0.1, 0.2], [0.5, 0.6]], 2), 1 / 2);
  });
});

describe('indexes', () => {
  const base = randomUnit(300, 16, 'exact-base');
  const queries = randomUnit(20, 16, 'exact-queries');

  test('exact search equals sorting every distance', () => {
    const exact = buildIndex({ type: 'exact' }, base);
    for (let q = 0; q < queries.count; q++) {
      const query = row(queries, q);
      const all = Array.from({ length: base.count }, (_, i) => ({ i, d: cosineDistance(query, row(base, i)) })).sort((a, b) => a.d - b.d || a.i - b.i);
      const got = exact.search(query, 7);
      assert.deepEqual(got.ids, all.slice(0, 7).map((x) => x.i));
      got.distances.forEach((d, j) => close(d, all[j]!.d, 'distance'));
    }
  });

  const synthetic = clusteredVectors({ count: 2000, queries: 100, dim: 32, clusters: 20, intrinsicDim: 8, spread: 1, noise: 0.1, seed: 3 });
  const exact = buildIndex({ type: 'exact' }, synthetic.base);
  const truth = Array.from({ length: synthetic.queries.count }, (_, q) => exact.search(row(synthetic.queries, q), 10).distances);
  const recallOf = (index: VectorIndex): number => annRecall(truth, Array.from({ length: synthetic.queries.count }, (_, q) => {
    const query = row(synthetic.queries, q);
    return index.search(query, 10).ids.map((id) => cosineDistance(query, row(synthetic.base, id)));
  }), 10);

  test('every index answers nearest first, with the cosine distances of what it returns', () => {
    for (const spec of [INDEX_DEFAULTS.hnswlib, INDEX_DEFAULTS.faiss, { type: 'faiss', factory: 'IVF16,Flat', nprobe: 4, efSearch: null, efConstruction: null } as const]) {
      const index = buildIndex(spec, synthetic.base);
      for (let q = 0; q < 20; q++) {
        const query = row(synthetic.queries, q);
        const r = index.search(query, 10);
        r.distances.forEach((d, j) => {
          if (j > 0) assert.ok(d >= r.distances[j - 1]!, `${spec.type}: results out of order`);
          close(d, cosineDistance(query, row(synthetic.base, r.ids[j]!)), `${spec.type} distance`, 1e-5);
        });
      }
    }
  });

  test('hnswlib and faiss HNSW reach recall@10 >= 0.95 at their defaults; faiss Flat is exact', () => {
    assert.ok(recallOf(buildIndex(INDEX_DEFAULTS.hnswlib, synthetic.base)) >= 0.95);
    assert.ok(recallOf(buildIndex(INDEX_DEFAULTS.faiss, synthetic.base)) >= 0.95);
    assert.equal(recallOf(buildIndex({ type: 'faiss', factory: 'Flat', nprobe: null, efSearch: null, efConstruction: null }, synthetic.base)), 1);
    // A starved hnswlib graph (M 2, ef 1) is measurably worse: the metric can fail.
    assert.ok(recallOf(buildIndex({ type: 'hnswlib', M: 2, efConstruction: 2, ef: 1, seed: 1 }, synthetic.base)) < 0.95);
  });

  test('faiss nprobe and efSearch take effect (set through the serialised index)', () => {
    const ivf = buildIndex({ type: 'faiss', factory: 'IVF32,Flat', nprobe: 1, efSearch: null, efConstruction: null }, synthetic.base);
    assert.deepEqual(ivf.spec(), { type: 'faiss', factory: 'IVF32,Flat', nprobe: 1, efSearch: null, efConstruction: null });
    const low = recallOf(ivf);
    ivf.tune({ nprobe: 32 });
    assert.equal(recallOf(ivf), 1, 'probing every list is exhaustive');
    assert.ok(low < 0.9, `nprobe 1 recall ${low} should be well below nprobe 32's`);
    const hnsw = buildIndex({ type: 'faiss', factory: 'HNSW8', nprobe: null, efSearch: 1, efConstruction: null }, synthetic.base);
    assert.deepEqual(hnsw.spec(), { type: 'faiss', factory: 'HNSW8', nprobe: null, efSearch: 1, efConstruction: 200 }, 'efConstruction: the harness default');
    const starved = recallOf(hnsw);
    hnsw.tune({ efSearch: 256 });
    assert.ok(recallOf(hnsw) > starved);
    expectInputError(() => hnsw.tune({ nprobe: 4 }), /nprobe applies only to IVF indexes/);
  });

  test('serialised faiss layout: nlist and nprobe, efConstruction and efSearch are where the reader looks', () => {
    const faiss = loadFaiss();
    const ivf = faiss.Index.fromFactory(8, 'IVF4,Flat', faiss.MetricType.METRIC_INNER_PRODUCT);
    ivf.train(Array.from(randomUnit(64, 8, 'layout').data));
    assert.deepEqual(readFaissParams(ivf.toBuffer()), { family: 'ivf', fourcc: 'IwFl', nlist: 4, nprobe: 1 });
    const hnsw = faiss.Index.fromFactory(8, 'HNSW16', faiss.MetricType.METRIC_INNER_PRODUCT);
    hnsw.add(Array.from(randomUnit(64, 8, 'layout').data));
    assert.deepEqual(readFaissParams(hnsw.toBuffer()), { family: 'hnsw', fourcc: 'IHNf', efConstruction: 40, efSearch: 16 });
  });

  const specs: IndexSpec[] = [
    { type: 'exact' },
    INDEX_DEFAULTS.hnswlib,
    { type: 'faiss', factory: 'HNSW16', nprobe: null, efSearch: 32, efConstruction: null },
    { type: 'faiss', factory: 'IVF8,Flat', nprobe: 4, efSearch: null, efConstruction: null },
  ];
  for (const spec of specs) {
    test(`${spec.type} ${spec.type === 'faiss' ? spec.factory : ''}: written, read back with the same answers, spec and hash`, () => {
      const index = buildIndex(spec, synthetic.base);
      const dir = join(tmp, `roundtrip-${spec.type}-${spec.type === 'faiss' ? spec.factory.replace(/\W/g, '') : ''}`);
      const info = saveIndex(index, dir, { test: true });
      assert.equal(info.bytes, readFileSync(join(dir, INDEX_FILE)).length);
      assert.match(info.sha256, /^[0-9a-f]{64}$/);
      const { index: back } = loadIndex(dir);
      assert.deepEqual(back.spec(), index.spec());
      for (let q = 0; q < 10; q++) assert.deepEqual(back.search(row(synthetic.queries, q), 5), index.search(row(synthetic.queries, q), 5));
    });
  }

  test('an index file that does not match its hash is refused (exit 2)', () => {
    const dir = join(tmp, 'tampered');
    saveIndex(buildIndex(INDEX_DEFAULTS.hnswlib, base), dir);
    const file = join(dir, INDEX_FILE);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(file, bytes);
    expectInputError(() => loadIndex(dir), /sha256 mismatch.*Fix: delete/);
    rmSync(file);
    expectInputError(() => loadIndex(dir), /index\.bin or index\.json is missing/);
  });

  test('bad input: k above the corpus, wrong dimension, empty corpus, unknown type or factory, not unit length', () => {
    for (const spec of specs.slice(0, 3)) {
      const index = buildIndex(spec, base);
      expectInputError(() => index.search(row(queries, 0), 301), /k = 301 is larger than the corpus \(300 vectors/);
      expectInputError(() => index.search(new Float32Array(8), 3), /query has dimension 8, the index holds 16-dimensional/);
    }
    expectInputError(() => buildIndex(INDEX_DEFAULTS.hnswlib, { dim: 16, count: 0, data: new Float32Array(0) }), /empty corpus/);
    expectInputError(() => buildIndex({ type: 'annoy' } as unknown as IndexSpec, base), /"annoy" is not an index type. Valid types: exact, hnswlib, faiss/);
    expectInputError(() => buildIndex({ type: 'faiss', factory: 'HNSW32,Bogus', nprobe: null, efSearch: null, efConstruction: null }, base), /factory string "HNSW32,Bogus" is not valid.*Fix: use an index_factory string/);
    expectInputError(() => buildIndex({ type: 'exact' }, { dim: 2, count: 1, data: Float32Array.of(3, 4) }), /vector 0 has norm 5\.000000/);
    expectInputError(() => buildIndex({ type: 'faiss', factory: 'IVF64,Flat', nprobe: null, efSearch: null, efConstruction: null }, { dim: 16, count: 10, data: base.data.slice(0, 160) }), /cannot be trained on 10 vectors/);
  });
});

describe('embedders, chunking, context', () => {
  const docs = [
    { id: 'niger', text: 'Niger is a country in Africa. The capital of Niger is Niamey.' },
    { id: 'nigeria', text: 'Nigeria is a country in Africa. The capital of Nigeria is Abuja.' },
    { id: 'france', text: 'France is a country in Europe. The capital of France is Paris.' },
  ];

  test('tfidf: unit vectors, deterministic, names retrieve their document, empty text is all zeros', () => {
    const e = new TfidfEmbedder({ dim: 512 });
    e.fit(docs.map((d) => d.text));
    const v = e.embed(docs.map((d) => d.text));
    for (let i = 0; i < v.count; i++) close(Math.hypot(...row(v, i)), 1, 'norm (float32)', 1e-6);
    const e2 = new TfidfEmbedder({ dim: 512 });
    e2.fit(docs.map((d) => d.text));
    assert.deepEqual(e2.embed(['Where is Niger?']).data, e.embed(['Where is Niger?']).data);
    const index = buildIndex({ type: 'exact' }, v);
    for (const [question, want] of [['What city is the seat of government of Niger?', 'niger'], ['Nigeria has its capital in which city?', 'nigeria'], ['In what part of the world is France found?', 'france']] as const) {
      assert.equal(docs[index.search(row(e.embed([question]), 0), 1).ids[0]!]!.id, want, question);
    }
    assert.ok(e.embed(['']).data.every((x) => x === 0));
    // A sparse query (a few of 512 buckets) is scored over its nonzero terms only: bit for bit the dense sum.
    for (const question of ['Where is Niger?', 'capital of France', 'Abuja']) {
      const query = row(e.embed([question]), 0);
      assert.ok(4 * query.filter((x) => x !== 0).length < query.length, `${question}: the sparse path is taken`);
      const dense = Array.from({ length: v.count }, (_, i) => ({ i, d: cosineDistance(query, row(v, i)) })).sort((a, b) => a.d - b.d || a.i - b.i);
      const got = index.search(query, v.count);
      assert.deepEqual(got.ids, dense.map((x) => x.i), question);
      assert.deepEqual(got.distances, dense.map((x) => x.d), question);
    }
    assert.deepEqual(charNgrams('Côte', 3, 3), [' co', 'cot', 'ote', 'te ']);
  });

  test('chunking: whole documents by default; sentences packed to a token budget, abbreviations kept', () => {
    assert.deepEqual(sentences('The capital of U.S. Virgin Islands is Charlotte Amalie. The capital of Grenada is St. George\'s. End!'), [
      'The capital of U.S. Virgin Islands is Charlotte Amalie.', 'The capital of Grenada is St. George\'s.', 'End!',
    ]);
    const chars = (t: string): number => t.length;
    assert.deepEqual(chunkDocuments(docs, 0, chars).chunks.map((c) => c.id), ['niger', 'nigeria', 'france']);
    const split = chunkDocuments(docs.slice(0, 1), 30, chars);
    assert.deepEqual(split.chunks, [
      { id: 'niger#0', docId: 'niger', text: 'Niger is a country in Africa.' },
      { id: 'niger#1', docId: 'niger', text: 'The capital of Niger is Niamey.' },
    ]);
    assert.equal(split.oversized, 1);
    expectInputError(() => chunkDocuments([], 0, chars), /empty \(0 documents\)/);
  });

  test('fitPrompt keeps the best passages that fit, cuts one when none fits, and says so', () => {
    const tok = new BpeTokenizer([]); // bytes as tokens: a token count is a byte count
    const p = ['AAAA.', 'BBBB.', 'CCCC.'];
    const render = (question: string) => (ps: readonly string[]): string => `${ps.map((x) => `${x}\n`).join('')}Q: ${question}\nA: It is`;
    const full = fitPrompt(p, render('Q?'), tok, 1000);
    assert.equal(full.prompt, 'AAAA.\nBBBB.\nCCCC.\nQ: Q?\nA: It is');
    assert.equal(full.tokens, full.prompt.length);
    assert.equal(full.dropped, 0);
    const two = fitPrompt(p, render('Q?'), tok, full.tokens - 1);
    assert.deepEqual(two.passages, ['AAAA.', 'BBBB.']);
    assert.equal(two.dropped, 1);
    const cut = fitPrompt(['A long passage here.'], render('Q?'), tok, 'A long\nQ: Q?\nA: It is'.length);
    assert.deepEqual(cut.passages, ['A long']);
    assert.ok(cut.truncated);
    assert.ok(cut.tokens <= 'A long\nQ: Q?\nA: It is'.length);
    const none = fitPrompt(p, render('A question longer than the budget?'), tok, 10);
    assert.deepEqual(none.passages, []);
    assert.equal(none.dropped, 3);
  });
});

describe('text set (real sentences)', () => {
  const split = textSplit(2000, 100, 0);
  const hashOf = (v: Vectors): string => sha256Hex(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
  const recallOf = (base: Vectors, queries: Vectors, index: VectorIndex): number => {
    const exact = buildIndex({ type: 'exact' }, base);
    const truth = Array.from({ length: queries.count }, (_, q) => exact.search(row(queries, q), 10).distances);
    return annRecall(truth, Array.from({ length: queries.count }, (_, q) => {
      const query = row(queries, q);
      return index.search(query, 10).ids.map((id) => cosineDistance(query, row(base, id)));
    }), 10);
  };

  test('the pool has 100k+ distinct sentences; queries are held out; the split depends only on the seed', () => {
    const pool = sentencePool();
    assert.ok(pool.length >= 101_000, `${pool.length} sentences`);
    assert.equal(new Set(pool.map((s) => s.text)).size, pool.length);
    assert.ok(pool.every((s) => s.text.split(/\s+/).length >= MIN_SENTENCE_WORDS));
    const indexed = new Set(split.base.map((s) => s.text));
    assert.equal(split.queries.filter((q) => indexed.has(q.text)).length, 0);
    assert.deepEqual(textSplit(2000, 100, 0), split);
    assert.notDeepEqual(textSplit(2000, 100, 1).queries, split.queries);
    expectInputError(() => textSplit(pool.length, 1, 0), /distinct sentences.*Fix/);
  });

  test('vectors are deterministic and cached by content hash; exact search recall@10 is 1', () => {
    const first = embedTexts(new TfidfEmbedder({ dim: TEXT_TFIDF_DIM }), split, join(tmp, 'cache-a'));
    const again = embedTexts(new TfidfEmbedder({ dim: TEXT_TFIDF_DIM }), split, join(tmp, 'cache-b'));
    const cached = embedTexts(new TfidfEmbedder({ dim: TEXT_TFIDF_DIM }), split, join(tmp, 'cache-a'));
    assert.deepEqual([first.cached, again.cached, cached.cached], [false, false, true]);
    assert.equal(again.key, first.key);
    assert.equal(hashOf(again.base), hashOf(first.base));
    assert.equal(hashOf(cached.base), hashOf(first.base));
    assert.equal(hashOf(cached.queries), hashOf(first.queries));
    assert.notEqual(embedTexts(new TfidfEmbedder({ dim: 128 }), split, join(tmp, 'cache-a')).key, first.key, 'other settings, other file');
    assert.equal(recallOf(first.base, first.queries, buildIndex({ type: 'exact' }, first.base)), 1);
  });

  test('hnswlib at ef 32 finds every neighbour on the clustered set but not on real text', () => {
    const text = embedTexts(new TfidfEmbedder({ dim: TEXT_TFIDF_DIM }), split, join(tmp, 'cache-a'));
    const clustered = clusteredVectors({ ...CLUSTERED_DEFAULTS, count: 2000, queries: 100 });
    const spec = { ...INDEX_DEFAULTS.hnswlib, ef: 32 };
    assert.equal(recallOf(clustered.base, clustered.queries, buildIndex(spec, clustered.base)), 1);
    const real = recallOf(text.base, text.queries, buildIndex(spec, text.base));
    // 100 queries x 10 neighbours: recall is a whole number of thousandths.
    assert.equal(Math.round(real * 1000), 857, `text set recall@10 ${real}`);
  });
});

describe('TREC files', () => {
  test('a run written and read back ranks as we ranked, ties included, and evaluates the same', () => {
    const queries = [
      { queryId: 'q1', docs: ['d2', 'd1', 'd3'], scores: [0.9, 0.9, 0.1] },
      { queryId: 'q2', docs: ['d4', 'd5'], scores: [0.5, 0.25] },
    ];
    const text = trecRun(queries, 'rag');
    assert.equal(text.split('\n')[0], 'q1 Q0 d2 1 0.900000 rag');
    assert.equal(text.split('\n')[1], 'q1 Q0 d1 2 0.899999 rag', 'a tie is written just below, so trec_eval keeps our order');
    const back = parseTrecRun(text);
    assert.deepEqual(back.get('q1'), ['d2', 'd1', 'd3']);
    const qrelRows = [{ queryId: 'q1', docId: 'd1', relevance: 1 }, { queryId: 'q2', docId: 'd5', relevance: 2 }];
    const qrelsText = trecQrels(qrelRows);
    assert.equal(qrelsText, 'q1 0 d1 1\nq2 0 d5 2\n');
    assert.deepEqual(evaluateRun(back, parseTrecQrels(qrelsText)), evaluateRun(new Map(queries.map((q) => [q.queryId, q.docs])), qrelsOf(qrelRows)));
    assert.throws(() => trecRun([{ queryId: 'q 1', docs: ['d'], scores: [1] }], 'rag'), /white space/);
  });
});

describe('bench retrieval', () => {
  const bench = (args: string[]) => spawnSync(process.execPath, [BENCH, 'retrieval', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

  test('k larger than the corpus and an unknown factory string exit 2 with what and how to fix', () => {
    const big = bench(['--sizes', '50', '--k', '100', '--no-suite', '--no-text', '--out', join(tmp, 'rb-k')]);
    assert.equal(big.status, 2, big.stderr);
    assert.match(big.stderr, /--k 100 is larger than the corpus of 50 vectors.*Fix/);
    const bogus = bench(['--sizes', '50', '--ivf', 'IVF8,Bogus', '--no-suite', '--no-text', '--out', join(tmp, 'rb-f')]);
    assert.equal(bogus.status, 2, bogus.stderr);
    assert.match(bogus.stderr, /factory string "IVF8,Bogus" is not valid/);
  });

  test('a small run writes the table and JSON with every index family, every set and the overhead', () => {
    const out = join(tmp, 'rb');
    const r = bench(['--sizes', '1000', '--queries', '50', '--text-size', '500', '--cache', join(tmp, 'rb-cache'), '--ef', '10,64', '--ef-search', '16,64', '--nprobe', '1,8', '--no-suite', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'retrieval.json'), 'utf8')) as { rows: Array<{ dataset: string; index: string; recallAt10: number; queriesPerSec: number; indexBytes: number; isDefault: boolean }>; overhead: Array<{ overheadPct: number }> };
    assert.deepEqual([...new Set(report.rows.map((x) => x.dataset))], ['clustered-1k', 'text-500/tfidf', 'text-500/model']);
    const names = report.rows.filter((x) => x.dataset === 'clustered-1k').map((x) => x.index);
    for (const want of ['exact', 'hnswlib M16 efC200 ef10', 'hnswlib M16 efC200 ef64', 'faiss Flat', 'faiss HNSW32 efC200 efSearch16', 'faiss IVF16,Flat nprobe1', 'faiss IVF16,Flat nprobe8']) {
      assert.ok(names.includes(want), `${want} in ${names.join(', ')}`);
    }
    for (const x of report.rows.filter((y) => y.index === 'exact')) assert.equal(x.recallAt10, 1, x.dataset);
    for (const x of report.rows) assert.ok(x.queriesPerSec > 0 && x.indexBytes > 0 && x.recallAt10 >= 0 && x.recallAt10 <= 1);
    assert.equal(report.overhead.length, 6);
    const table = readFileSync(join(out, 'retrieval.txt'), 'utf8');
    assert.match(table, /bare queries\/s/);
    assert.match(table, /^text-500\/model +faiss IVF8,Flat nprobe1 /m);
  });
});
