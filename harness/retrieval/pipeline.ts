// Chunks -> vectors -> index, and the measurements of that index on a set of queries: retrieval
// quality against qrels (BEIR), ANN recall against exact search (ann-benchmarks), queries per second,
// build time and index size. Used by the rag and lora-rag approaches and by `bench retrieval`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Chunk } from './chunking.js';
import type { Embedder } from './embedders.js';
import type { IndexFileInfo, IndexSpec, VectorIndex } from './indexes.js';
import { buildIndex, loadIndex, saveIndex } from './indexes.js';
import type { Qrels, RetrievalQuality } from './metrics.js';
import { annRecall, evaluateRun } from './metrics.js';
import type { Neighbors, Vectors } from './vectors.js';
import { RetrievalInputError, cosineDistance, row } from './vectors.js';

/** Timed runs over the query set; queries per second is the best (ann-benchmarks: best of 3). */
export const QPS_RUNS = 3;
/**
 * A cell times searches on at most this many of its queries (the first ones): enough for a stable
 * rate, repeated to MIN_RUN_SEC per run, without timing passes over a whole split in every cell.
 */
export const QPS_QUERIES = 256;
/** k of the ANN recall and of the timed searches (recall@10, as ann-benchmarks reports). */
export const ANN_K = 10;

/** An index built over a corpus's chunks, written to disk and read back (hash-verified), plus its exact twin. */
export interface BuiltRetrieval {
  readonly embedder: Embedder;
  readonly chunks: readonly Chunk[];
  readonly vectors: Vectors;
  /** The index as read back from disk: what is searched. */
  readonly index: VectorIndex;
  /** Brute force over the same vectors: the ground truth. */
  readonly exact: VectorIndex;
  /** Seconds to embed the chunks (fit included). */
  readonly embedSec: number;
  /** Seconds to build the index from the vectors (training included, writing excluded). */
  readonly buildSec: number;
  /** index.json of the written index: bytes, sha256, spec. */
  readonly file: IndexFileInfo;
  /** Where the index was written. */
  readonly dir: string;
  /** Removes the index folder when it is a temporary one. */
  dispose(): void;
}

/**
 * Fits the embedder on the chunks, embeds them, builds the index, writes it to `dir` (default: a
 * temporary folder, removed by dispose) and reads it back through the hash check.
 */
export function buildRetrieval(chunks: readonly Chunk[], embedder: Embedder, spec: IndexSpec, opts: { dir?: string; meta?: Record<string, unknown>; onProgress?: (done: number, total: number) => void } = {}): BuiltRetrieval {
  if (chunks.length === 0) throw new RetrievalInputError('the corpus to index is empty (0 chunks). Fix: give at least one document');
  const t0 = performance.now();
  const texts = chunks.map((c) => c.text);
  embedder.fit(texts);
  const vectors = embedder.embed(texts);
  const embedSec = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const built = buildIndex(spec, vectors, opts.onProgress);
  const buildSec = (performance.now() - t1) / 1000;
  const temporary = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'adaptbench-index-'));
  try {
    saveIndex(built, dir, { embedder: embedder.settings, chunks: chunks.length, ...opts.meta });
    const { index, info } = loadIndex(dir);
    const exact = buildIndex({ type: 'exact' }, vectors);
    return {
      embedder, chunks, vectors, index, exact, embedSec, buildSec, file: info, dir,
      dispose: () => {
        if (temporary) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (temporary) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A query with an id (qrels refer to it) and its text. */
export interface Query {
  readonly id: string;
  readonly text: string;
}

/** What an index returned for one query: chunks, and documents ranked by their best chunk. */
export interface QueryResult {
  readonly queryId: string;
  /** Chunk rows, nearest first. */
  readonly chunks: readonly number[];
  /** Their cosine distances. */
  readonly distances: readonly number[];
  /** Distinct documents in the order of their best chunk, at most 10. */
  readonly docs: readonly string[];
  /** 1 - distance of each document's best chunk. */
  readonly docScores: readonly number[];
}

export interface RetrievalEvaluation {
  readonly results: readonly QueryResult[];
  /** BEIR figures of the document ranking against the qrels; null without qrels (nothing to judge against). */
  readonly quality: RetrievalQuality | null;
  /** ann-benchmarks recall@annK of the index against exact search, over the same queries. */
  readonly annRecall: number;
  readonly annK: number;
  /** Single-thread searches per second at k = annK (queriesPerSecond), over the first `timedQueries` queries. */
  readonly queriesPerSec: number;
  readonly timedQueries: number;
  /** Seconds to embed the queries. */
  readonly embedSec: number;
}

/** Search depth that yields `docs` distinct documents whatever the chunking: docs x the most chunks any document has. */
export function depthFor(chunks: readonly Chunk[], docs: number): number {
  const perDoc = new Map<string, number>();
  for (const c of chunks) perDoc.set(c.docId, (perDoc.get(c.docId) ?? 0) + 1);
  return Math.min(chunks.length, docs * Math.max(...perDoc.values()));
}

/** Best of `runs` timed calls of `pass`, in seconds. */
export function bestOf(runs: number, pass: () => void): number {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    pass();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

/** A timed run lasts at least this long: small query sets are repeated within a run, so timer and scheduler noise stay small. */
export const MIN_RUN_SEC = 0.2;

/** How many passes of `pass` make one timed run of at least MIN_RUN_SEC (one untimed pass first, which also warms up). */
export function passesPerRun(pass: () => void): number {
  const t0 = performance.now();
  pass();
  const once = (performance.now() - t0) / 1000;
  return Math.max(1, Math.ceil(MIN_RUN_SEC / Math.max(once, 1e-6)));
}

/**
 * Queries per second of `searchAll` (one search per query, `n` queries): the best of `runs` timed
 * runs, each of enough passes over the queries to last MIN_RUN_SEC.
 */
export function queriesPerSecond(n: number, searchAll: () => void, runs = QPS_RUNS, warmPassSec?: number): number {
  // A pass already made (and timed) by the caller warms up and calibrates as well as a new one.
  const reps = warmPassSec !== undefined ? Math.max(1, Math.ceil(MIN_RUN_SEC / Math.max(warmPassSec, 1e-6))) : passesPerRun(searchAll);
  const best = bestOf(runs, () => {
    for (let r = 0; r < reps; r++) searchAll();
  });
  return (n * reps) / best;
}

/**
 * Embeds the queries, searches the index (deep enough for `depth` chunks and 10 distinct documents),
 * and measures retrieval quality, ANN recall and queries per second.
 */
export function evaluateRetrieval(r: BuiltRetrieval, queries: readonly Query[], qrels: Qrels | null, depth = 10): RetrievalEvaluation {
  if (queries.length === 0) throw new RetrievalInputError('no queries to evaluate retrieval on');
  const t0 = performance.now();
  const qv = r.embedder.embed(queries.map((q) => q.text));
  const embedSec = (performance.now() - t0) / 1000;
  const searchDepth = Math.max(Math.min(depth, r.index.size), depthFor(r.chunks, 10));
  const annK = Math.min(ANN_K, r.index.size);
  const results: QueryResult[] = [];
  const truth: number[][] = [];
  const found: number[][] = [];
  queries.forEach((q, i) => {
    const query = row(qv, i);
    const hit: Neighbors = r.index.search(query, searchDepth);
    const docs: string[] = [];
    const docScores: number[] = [];
    hit.ids.forEach((c, j) => {
      const doc = r.chunks[c]!.docId;
      if (docs.length < 10 && !docs.includes(doc)) {
        docs.push(doc);
        docScores.push(1 - hit.distances[j]!);
      }
    });
    results.push({ queryId: q.id, chunks: hit.ids, distances: hit.distances, docs, docScores });
    truth.push(r.exact.search(query, annK).distances);
    // ann-benchmarks recomputes the distances of what the index returned with the true metric. A
    // search at the same k is the one just made (searches are deterministic): not made twice.
    const top = searchDepth === annK ? hit.ids : r.index.search(query, annK).ids;
    found.push(top.map((c) => cosineDistance(query, row(r.vectors, c))));
  });
  const quality = qrels ? evaluateRun(new Map(results.map((x) => [x.queryId, x.docs])), qrels) : null;
  const timed = Math.min(qv.count, QPS_QUERIES);
  const queriesPerSec = queriesPerSecond(timed, () => {
    for (let i = 0; i < timed; i++) r.index.search(row(qv, i), annK);
  });
  return { results, quality, annRecall: annRecall(truth, found, annK), annK, queriesPerSec, timedQueries: timed, embedSec };
}

/** An index brought up to date with rewritten documents, and what that took. */
export interface Reindexed {
  readonly built: BuiltRetrieval;
  /** Chunks embedded again (those of the rewritten documents). */
  readonly rows: readonly number[];
  /** Seconds to embed the rewritten chunks. */
  readonly embedSec: number;
  /** Seconds to update the index with them. */
  readonly indexSec: number;
  /** How the index changed: in place, or rebuilt from the stored vectors. */
  readonly how: string;
}

/**
 * Re-embeds only the chunks of the rewritten documents, with the embedder as fitted on the first
 * corpus (a team does not refit its vectoriser for a few changed documents), and updates the index.
 * `changed` holds the new chunks of those documents, which must chunk into as many pieces as before
 * (so every other row keeps its number); otherwise RetrievalInputError.
 */
export function reindexChunks(r: BuiltRetrieval, changed: readonly Chunk[]): Reindexed {
  const byDoc = new Map<string, Chunk[]>();
  for (const c of changed) byDoc.set(c.docId, [...(byDoc.get(c.docId) ?? []), c]);
  const chunks = [...r.chunks];
  const rows: number[] = [];
  for (const [docId, fresh] of byDoc) {
    const old = chunks.flatMap((c, i) => (c.docId === docId ? [i] : []));
    if (old.length !== fresh.length) {
      throw new RetrievalInputError(`document ${docId} has ${fresh.length} chunk(s) after the update and ${old.length} before: an in-place update needs as many. Fix: keep each rewritten document's length, or index whole documents (chunkTokens=0)`);
    }
    old.forEach((row, j) => { chunks[row] = fresh[j]!; rows.push(row); });
  }
  rows.sort((a, b) => a - b);
  const t0 = performance.now();
  const embedded = r.embedder.embed(rows.map((i) => chunks[i]!.text));
  const embedSec = (performance.now() - t0) / 1000;
  const data = new Float32Array(r.vectors.data);
  rows.forEach((i, j) => data.set(row(embedded, j), i * r.vectors.dim));
  const vectors: Vectors = { dim: r.vectors.dim, count: r.vectors.count, data };
  const t1 = performance.now();
  const { index, how } = r.index.replaceRows(rows, vectors);
  const indexSec = (performance.now() - t1) / 1000;
  const exact = buildIndex({ type: 'exact' }, vectors);
  return { built: { ...r, chunks, vectors, index, exact }, rows, embedSec, indexSec, how };
}

/**
 * How far an updated index agrees with one built from scratch on the new chunks (same fitted
 * embedder, same spec): whether the stored vectors are identical, and the share of queries whose
 * top-k rows are the same.
 */
export function agreementWithRebuild(updated: BuiltRetrieval, queries: Vectors, k: number): { vectorsIdentical: boolean; agreement: number } {
  const fresh = updated.embedder.embed(updated.chunks.map((c) => c.text));
  const vectorsIdentical = fresh.data.length === updated.vectors.data.length && fresh.data.every((x, i) => Object.is(x, updated.vectors.data[i]));
  const rebuilt = buildIndex(updated.index.spec(), fresh);
  const depth = Math.min(k, rebuilt.size);
  let same = 0;
  for (let i = 0; i < queries.count; i++) {
    const a = updated.index.search(row(queries, i), depth).ids;
    const b = rebuilt.search(row(queries, i), depth).ids;
    if (a.length === b.length && a.every((x, j) => x === b[j])) same += 1;
  }
  return { vectorsIdentical, agreement: queries.count ? same / queries.count : 1 };
}
