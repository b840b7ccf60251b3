// Retrieval metrics, as the field defines them.
// - ANN quality (ann-benchmarks, `knn_threshold` and `get_recall_values`): for each query, the share
//   of the index's k results whose distance is at most the true k-th neighbour's distance + 1e-3;
//   distances are recomputed with the true metric, not taken from the index.
// - Retrieval quality against relevance judgements (BEIR, through pytrec_eval/trec_eval): recall@k,
//   MRR@k and nDCG@k with linear gains and log2 discounts, averaged over the queries that have at
//   least one relevant document.

/** ann-benchmarks' tolerance on distances. */
export const ANN_EPSILON = 1e-3;

/**
 * ann-benchmarks recall@k of one query: `trueDistances` are the exact neighbours' distances in
 * ascending order (at least k), `resultDistances` the true-metric distances of what the index
 * returned, in its order (fewer than k counts the missing ones as misses).
 */
export function annRecallOfQuery(trueDistances: readonly number[], resultDistances: readonly number[], k: number, epsilon = ANN_EPSILON): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`recall@k: k must be a positive integer (got ${k})`);
  if (trueDistances.length < k) throw new RangeError(`recall@${k}: the ground truth has only ${trueDistances.length} neighbours`);
  const threshold = trueDistances[k - 1]! + epsilon;
  let hits = 0;
  for (let i = 0; i < Math.min(k, resultDistances.length); i++) if (resultDistances[i]! <= threshold) hits += 1;
  return hits / k;
}

/** Mean ann-benchmarks recall@k over queries. */
export function annRecall(trueDistances: ReadonlyArray<readonly number[]>, resultDistances: ReadonlyArray<readonly number[]>, k: number, epsilon = ANN_EPSILON): number {
  if (trueDistances.length !== resultDistances.length) throw new RangeError(`recall@${k}: ${trueDistances.length} ground-truth rows for ${resultDistances.length} result rows`);
  if (trueDistances.length === 0) throw new RangeError(`recall@${k}: no queries`);
  let sum = 0;
  for (let q = 0; q < trueDistances.length; q++) sum += annRecallOfQuery(trueDistances[q]!, resultDistances[q]!, k, epsilon);
  return sum / trueDistances.length;
}

/**
 * Evidence coverage of one prompt: the share of the documents an answer needs (docIds, deduplicated)
 * that have a passage in it (retrieval.evidenceCoverage); null where the example names none.
 */
export function evidenceCoverage(needed: readonly string[], inPrompt: readonly string[]): number | null {
  const want = new Set(needed);
  if (want.size === 0) return null;
  const present = new Set(inPrompt);
  return [...want].filter((d) => present.has(d)).length / want.size;
}

/** Relevance judgements of one query: document id -> graded relevance (> 0 is relevant). */
export type Judgements = ReadonlyMap<string, number>;

/** recall@k: relevant documents in the top k over all relevant documents of the query. */
export function recallAt(ranked: readonly string[], judged: Judgements, k: number): number {
  const relevant = [...judged.values()].filter((r) => r > 0).length;
  if (relevant === 0) throw new RangeError('recall: the query has no relevant document');
  const top = new Set(ranked.slice(0, k));
  let found = 0;
  for (const [doc, rel] of judged) if (rel > 0 && top.has(doc)) found += 1;
  return found / relevant;
}

/** Reciprocal rank of the first relevant document within the top k, 0 when there is none. */
export function reciprocalRankAt(ranked: readonly string[], judged: Judgements, k: number): number {
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((judged.get(ranked[i]!) ?? 0) > 0) return 1 / (i + 1);
  return 0;
}

/** nDCG@k: sum of rel_i / log2(i + 1) over ranks i = 1..k, over the same for the ideal order (trec_eval's ndcg_cut). */
export function ndcgAt(ranked: readonly string[], judged: Judgements, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) dcg += (judged.get(ranked[i]!) ?? 0) / Math.log2(i + 2);
  const ideal = [...judged.values()].filter((r) => r > 0).sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((s, rel, i) => s + rel / Math.log2(i + 2), 0);
  if (idcg === 0) throw new RangeError('nDCG: the query has no relevant document');
  return dcg / idcg;
}

/** Relevance judgements of many queries: query id -> judgements. */
export type Qrels = ReadonlyMap<string, Judgements>;

/** qrels from (queryId, docId, relevance) rows. */
export function qrelsOf(rows: ReadonlyArray<{ readonly queryId: string; readonly docId: string; readonly relevance: number }>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const m = out.get(r.queryId) ?? new Map<string, number>();
    m.set(r.docId, r.relevance);
    out.set(r.queryId, m);
  }
  return out;
}

/** BEIR's figures for a run, averaged over evaluated queries. */
export interface RetrievalQuality {
  readonly recallAt1: number;
  readonly recallAt5: number;
  readonly recallAt10: number;
  readonly mrrAt10: number;
  readonly ndcgAt10: number;
  /** Queries averaged over: those of the run with at least one relevant document. */
  readonly queries: number;
}

/**
 * Evaluates ranked document lists (query id -> document ids, best first; later duplicates ignored)
 * against qrels. Queries of the run without a relevant judgement are left out, as trec_eval does.
 */
export function evaluateRun(run: ReadonlyMap<string, readonly string[]>, qrels: Qrels): RetrievalQuality {
  const sums = { recallAt1: 0, recallAt5: 0, recallAt10: 0, mrrAt10: 0, ndcgAt10: 0 };
  let n = 0;
  for (const [queryId, rankedRaw] of run) {
    const judged = qrels.get(queryId);
    if (!judged || ![...judged.values()].some((r) => r > 0)) continue;
    const ranked = [...new Set(rankedRaw)];
    sums.recallAt1 += recallAt(ranked, judged, 1);
    sums.recallAt5 += recallAt(ranked, judged, 5);
    sums.recallAt10 += recallAt(ranked, judged, 10);
    sums.mrrAt10 += reciprocalRankAt(ranked, judged, 10);
    sums.ndcgAt10 += ndcgAt(ranked, judged, 10);
    n += 1;
  }
  if (n === 0) throw new RangeError('no query of the run has a relevant judgement in the qrels');
  return {
    recallAt1: sums.recallAt1 / n, recallAt5: sums.recallAt5 / n, recallAt10: sums.recallAt10 / n,
    mrrAt10: sums.mrrAt10 / n, ndcgAt10: sums.ndcgAt10 / n, queries: n,
  };
}
