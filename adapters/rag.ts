// rag: no training. The suite's documents are chunked, embedded and indexed; each example's top-k
// chunks go into its prompt (passages, then the example) and the base model answers. A choice suite
// without documents retrieves its labelled training examples instead, shown as demonstrations.
// The retrieval half (everything but the model) is exported for lora-rag, which serves the same way.
import { tf } from '../harness/engine/backend.js';
import { countBaseParameters } from '../harness/engine/params.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import { chunkDocuments } from '../harness/retrieval/chunking.js';
import type { Embedder } from '../harness/retrieval/embedders.js';
import { EMBEDDER_NAMES, MODEL_EMBEDDER_DEFAULTS, ModelEmbedder, TfidfEmbedder } from '../harness/retrieval/embedders.js';
import { checkFactory } from '../harness/retrieval/faiss.js';
import type { IndexSpec } from '../harness/retrieval/indexes.js';
import { INDEX_DEFAULTS, INDEX_TYPES, describeIndex } from '../harness/retrieval/indexes.js';
import { evidenceCoverage, qrelsOf } from '../harness/retrieval/metrics.js';
import type { BuiltRetrieval, RetrievalEvaluation } from '../harness/retrieval/pipeline.js';
import { MIN_RUN_SEC, QPS_RUNS, agreementWithRebuild, buildRetrieval, evaluateRetrieval, reindexChunks, type Reindexed } from '../harness/retrieval/pipeline.js';
import { RetrievalInputError, row } from '../harness/retrieval/vectors.js';
import type { BpeTokenizer } from '../harness/engine/tokenizer.js';
import { dataAfterUpdate, type Example } from '../suites/types.js';
import type { RetrievalCorpus } from '../tasks/prompts.js';
import type { Approach, ApproachConfig, ApproachOutcome, CellContext, PromptsAtK, SweepK, UpdateOutcome } from './types.js';

/** One retrieval option: its default, what a valid value is, and what it does. */
interface RetrievalOption<V> {
  readonly default: V;
  /** One line on what the option does. */
  readonly doc: string;
  /** Whether a value is well-formed; when not, the message says it `must be ${mustBe}`. */
  valid(value: unknown): value is V;
  readonly mustBe: string;
  /** A further problem of a well-formed value, given the other options; null when none. */
  problem?(value: V, config: ApproachConfig): string | null;
}

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

const oneOf = <T extends string>(values: readonly T[], value: T, doc: string): RetrievalOption<T> =>
  ({ default: value, doc, valid: (v): v is T => (values as readonly unknown[]).includes(v), mustBe: `one of ${values.join(', ')}` });
const integer = (min: number, value: number, doc: string, mustBe: string): RetrievalOption<number> =>
  ({ default: value, doc, valid: (v): v is number => isInt(v, min), mustBe });
const optionalCount = (doc: string): RetrievalOption<number | null> =>
  ({ default: null, doc, valid: (v): v is number | null => v === null || isInt(v, 1), mustBe: 'a positive integer' });

/** Where the best passage goes in a prompt: first, or last (next to the question). */
export const PASSAGE_ORDERS = ['best-first', 'best-last'] as const;

/** `IVF64+Flat` -> `IVF64,Flat`: --approach is a comma list, so commas in a factory string are written '+'. */
export function factoryString(raw: string): string {
  return raw.replaceAll('+', ',');
}

/** Retrieval options shared by rag and lora-rag, in the order of their defaults (and of their problems). */
export const RETRIEVAL_OPTIONS = Object.freeze({
  embedder: oneOf(EMBEDDER_NAMES, 'tfidf', 'tfidf (hashed character n-grams) or model (the base model\'s mean-pooled hidden states).'),
  index: oneOf(INDEX_TYPES, 'hnswlib', 'exact, hnswlib or faiss.'),
  k: integer(1, 3, 'Passages retrieved per question (fewer where the context cannot hold k; see retrieval.passagesPerPrompt).', 'a positive integer'),
  // Why best-last: measured with base-v1 on 400 knowledge-qa test questions (seed 0, k = 3), exact
  // match 0.085 best-last, 0.043 best-first (Wilson intervals [0.061, 0.116] and [0.027, 0.067]).
  order: oneOf(PASSAGE_ORDERS, 'best-last', 'Order of the passages in the prompt: best-last puts the best passage next to the question.'),
  chunkTokens: integer(0, 0, 'Tokens per chunk, whole sentences packed; 0 keeps each document whole.', 'a non-negative integer, 0 for whole documents'),
  tfidfDim: integer(2, 4096, 'tfidf: hash buckets (vector dimension).', 'an integer >= 2'),
  center: {
    default: MODEL_EMBEDDER_DEFAULTS.center,
    doc: 'model embedder: subtract the corpus mean before normalising (off: it measured worse, see ModelEmbedderOptions).',
    valid: (v: unknown): v is boolean => typeof v === 'boolean',
    mustBe: 'true or false',
  } satisfies RetrievalOption<boolean>,
  M: integer(2, INDEX_DEFAULTS.hnswlib.M, 'hnswlib graph degree.', 'an integer >= 2'),
  efConstruction: integer(1, INDEX_DEFAULTS.hnswlib.efConstruction, 'HNSW build list, for hnswlib and faiss HNSW alike.', 'a positive integer'),
  ef: integer(1, INDEX_DEFAULTS.hnswlib.ef, 'hnswlib search list.', 'a positive integer'),
  factory: {
    default: INDEX_DEFAULTS.faiss.factory,
    doc: 'faiss index_factory string; in --approach write its commas as \'+\' (IVF64+Flat).',
    valid: (v: unknown): v is string => typeof v === 'string' && v !== '',
    mustBe: 'a faiss index_factory string such as Flat, HNSW32 or IVF64+Flat',
    problem(value: string, config: ApproachConfig): string | null {
      if (config['index'] !== 'faiss') return null;
      try {
        checkFactory(factoryString(value));
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    },
  } satisfies RetrievalOption<string>,
  nprobe: optionalCount('faiss IVF lists probed; null: INDEX_DEFAULTS.faissIvfNprobe.'),
  efSearch: optionalCount('faiss HNSW search list; null: INDEX_DEFAULTS.faissHnswEfSearch.'),
});

/** A valid value of every retrieval option. */
export type RetrievalOptions = { readonly [K in keyof typeof RETRIEVAL_OPTIONS]: (typeof RETRIEVAL_OPTIONS)[K] extends RetrievalOption<infer V> ? V : never };

/** Every retrieval option with its default: what --approach rag:key=value may override. */
export const RETRIEVAL_DEFAULTS: RetrievalOptions = Object.freeze(
  Object.fromEntries(Object.entries(RETRIEVAL_OPTIONS).map(([key, o]) => [key, o.default])) as unknown as RetrievalOptions,
);

/** The retrieval options of a resolved approach config, the index ones gathered into its spec. */
export interface RetrievalConfig extends Pick<RetrievalOptions, 'embedder' | 'k' | 'order' | 'chunkTokens' | 'tfidfDim' | 'center'> {
  readonly index: IndexSpec;
}

/** Problems with the retrieval options of `config`, each naming `approach.<name>.<key>`. */
export function retrievalConfigProblems(config: ApproachConfig, name: string): string[] {
  return (Object.entries(RETRIEVAL_OPTIONS) as Array<[string, RetrievalOption<unknown>]>).flatMap(([key, o]) => {
    const value = config[key];
    if (!o.valid(value)) return [`approach.${name}.${key} must be ${o.mustBe} (got ${JSON.stringify(value)})`];
    const problem = o.problem?.(value, config) ?? null;
    return problem === null ? [] : [`approach.${name}.${key}: ${problem}`];
  });
}

/**
 * Problems of a valid retrieval config with one suite's data: an empty corpus, or k above the number
 * of chunks it makes. The same chunking as the cell, so the runner can refuse before it writes anything.
 */
export function retrievalDataProblems(config: ApproachConfig, corpus: RetrievalCorpus, tokenizer: BpeTokenizer, name: string): string[] {
  const cfg = retrievalConfig(config);
  let chunks: number;
  try {
    chunks = chunkDocuments(corpus.documents, cfg.chunkTokens, (t) => tokenizer.encode(t).length).chunks.length;
  } catch (err) {
    if (err instanceof RetrievalInputError) return [`approach.${name}: ${err.message}`];
    throw err;
  }
  return cfg.k > chunks
    ? [`approach.${name}.k = ${cfg.k} is larger than the corpus: ${chunks} chunk(s) to retrieve from (chunkTokens ${cfg.chunkTokens}). Fix: set k to at most ${chunks}, e.g. --approach ${name}:k=${Math.min(chunks, 3)}`]
    : [];
}

/** The retrieval options, typed; call after retrievalConfigProblems found none. */
export function retrievalConfig(config: ApproachConfig): RetrievalConfig {
  const c = config as unknown as RetrievalOptions;
  const index: IndexSpec = c.index === 'exact' ? { type: c.index }
    : c.index === 'hnswlib' ? { type: c.index, M: c.M, efConstruction: c.efConstruction, ef: c.ef, seed: INDEX_DEFAULTS.hnswlib.seed }
    : {
      type: c.index, factory: factoryString(c.factory), nprobe: c.nprobe, efSearch: c.efSearch,
      // One build-effort option for both HNSW implementations; an IVF or flat faiss index has none.
      efConstruction: /HNSW/.test(c.factory) ? c.efConstruction : null,
    };
  return { embedder: c.embedder, index, k: c.k, order: c.order, chunkTokens: c.chunkTokens, tfidfDim: c.tfidfDim, center: c.center };
}

function makeEmbedder(cfg: RetrievalConfig, ctx: CellContext): Embedder {
  return cfg.embedder === 'tfidf'
    ? new TfidfEmbedder({ dim: cfg.tfidfDim })
    : new ModelEmbedder(ctx.base.model, ctx.base.tokenizer, ctx.base.header.contentHash, { center: cfg.center });
}

/** A retriever built for one cell, with its measurements, ready to make prompts. */
export interface CellRetrieval {
  readonly built: BuiltRetrieval;
  readonly evaluation: RetrievalEvaluation;
  /** What was retrieved from: the suite's documents, or its labelled training examples. */
  readonly corpus: RetrievalCorpus;
  /** Prompts with retrieved passages, fitted to the context; for any examples. */
  prompts(examples: readonly Example[]): string[];
  /** The same prompts at another k, with the evidence each holds (at the cell's k, exactly `prompts`' own); nothing is counted as served. */
  promptsAtK(examples: readonly Example[], k: SweepK): PromptsAtK;
  /** retrieval.* metrics, their notes, and what retrieval was given (for the result's inputs). */
  readonly metrics: Partial<Record<MetricId, number | null>>;
  readonly notes: Partial<Record<MetricId, string>>;
  readonly inputs: Readonly<Record<string, unknown>>;
  /** The k passages (chunk texts, best first) retrieved for a question text, before fitting. */
  passagesFor(questions: readonly string[], k: number): string[][];
}

/**
 * Chunks the suite's documents, embeds and indexes them, measures retrieval on every test question
 * of the split, and prepares fitted prompts. Bad input (k above the number of chunks, an empty
 * corpus, an unknown factory string) throws RetrievalInputError.
 */
export function prepareRetrieval(ctx: CellContext, cfg: RetrievalConfig, updated?: BuiltRetrieval): CellRetrieval {
  const tok = ctx.base.tokenizer;
  // An index already brought up to date (reindexForUpdate) serves the documents as they now are.
  const corpus = ctx.prompts.retrievalCorpus(updated ? dataAfterUpdate(ctx.data) : ctx.data);
  const { chunks, oversized } = chunkDocuments(corpus.documents, cfg.chunkTokens, (t) => tok.encode(t).length);
  if (cfg.k > chunks.length) {
    throw new RetrievalInputError(`k = ${cfg.k} is larger than the corpus: suite ${ctx.suite.name} has ${chunks.length} chunk(s) to retrieve from. Fix: set k to at most ${chunks.length}`);
  }
  const embedder = updated?.embedder ?? makeEmbedder(cfg, ctx);
  ctx.log(`retrieval: ${chunks.length} chunks of ${corpus.documents.length} ${corpus.kind}, embedder ${embedder.name}, index ${describeIndex(cfg.index)}`);
  const built = updated ?? buildRetrieval(chunks, embedder, cfg.index, {
    meta: { suite: ctx.suite.name, suiteHash: ctx.data.contentHash },
    onProgress: (done, total) => ctx.progress('indexing', done, total),
  });
  try {
    const test = ctx.data.test;
    // Demonstrations have no relevance judgements: retrieval quality is then not measured, only used.
    const judged = corpus.kind === 'documents' && ctx.data.qrels.length > 0;
    const evaluation = evaluateRetrieval(built, test.map((ex) => ({ id: ex.id, text: ctx.prompts.query(ex) })), judged ? qrelsOf(ctx.data.qrels) : null, cfg.k);
    const budget = ctx.prompts.testBudget;
    const key = (ex: Example): string => `${ex.id}\u0000${ctx.prompts.query(ex)}`;
    // Each example's ranking of chunks: the evaluation's (the cell's own k cuts from it) where it is
    // deep enough, else a search that deep; "as many as fit" searches as deep as a prompt could use
    // (a passage takes at least one token).
    const evaluated = new Map(test.map((ex, i) => [key(ex), evaluation.results[i]!.chunks]));
    const searched = new Map<string, readonly number[]>();
    const rankings = (examples: readonly Example[], depth: number): Array<readonly number[]> => {
      const known = (ex: Example): readonly number[] | undefined => {
        const r = evaluated.get(key(ex));
        return r && r.length >= depth ? r : searched.get(`${depth}\u0000${key(ex)}`);
      };
      const missing = examples.filter((ex) => !known(ex));
      if (missing.length) {
        const qv = embedder.embed(missing.map((ex) => ctx.prompts.query(ex)));
        missing.forEach((ex, i) => searched.set(`${depth}\u0000${key(ex)}`, built.index.search(row(qv, i), depth).ids));
      }
      return examples.map((ex) => known(ex)!);
    };
    // Fitting drops the lowest-ranked passages; the kept ones are then arranged in the configured order.
    const fitTop = (ex: Example, ranking: readonly number[], n: number) => {
      const top = ranking.slice(0, n).map((c) => chunks[c]!);
      const fit = ctx.prompts.withPassages(ex, top.map((c) => c.text), cfg.order);
      const inPrompt = top.slice(0, fit.passages.length).map((c) => c.docId);
      return { ...fit, inPrompt, coverage: evidenceCoverage(ex.docIds, inPrompt) };
    };
    // The most passages of `ranking` a prompt holds whole: doubling, then bisection (a longer prefix never takes fewer tokens).
    const mostThatFit = (ex: Example, ranking: readonly number[]): number => {
      const f = ctx.prompts.fitExample(ex, budget).ex;
      const fits = (n: number): boolean => ctx.prompts.tokenizer.encode(ctx.prompts.render(f, ranking.slice(0, n).map((c) => chunks[c]!.text))).length <= budget;
      let lo = 0, hi = 1;
      while (hi <= ranking.length && fits(hi)) [lo, hi] = [hi, 2 * hi];
      hi = Math.min(hi, ranking.length + 1);
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (fits(mid)) lo = mid;
        else hi = mid;
      }
      return lo;
    };
    const fitted = new Map<string, ReturnType<typeof fitTop>>();
    const fitsAt = (examples: readonly Example[], k: SweepK): Array<ReturnType<typeof fitTop>> => {
      const ranked = rankings(examples, k === 'fit' ? Math.min(built.index.size, budget) : Math.min(k, built.index.size));
      return examples.map((ex, i) => {
        const id = `${k}\u0000${key(ex)}`;
        let fit = fitted.get(id);
        if (!fit) {
          // Where no passage fits whole, the best one is cut to fit, as at any k.
          fit = fitTop(ex, ranked[i]!, k === 'fit' ? Math.max(1, mostThatFit(ex, ranked[i]!)) : k);
          fitted.set(id, fit);
        }
        return fit;
      });
    };
    const promptsAtK = (examples: readonly Example[], k: SweepK): PromptsAtK => {
      const fits = fitsAt(examples, k);
      return { prompts: fits.map((f) => f.prompt), coverage: fits.map((f) => f.coverage), passages: fits.map((f) => f.passages.length) };
    };

    let kept = 0, reduced = 0, truncated = 0, gold = 0, maxTokens = 0, over = 0;
    fitsAt(test, cfg.k).forEach((fit, i) => {
      kept += fit.passages.length;
      if (fit.passages.length < cfg.k) reduced += 1;
      if (fit.truncated) truncated += 1;
      if (fit.inPrompt.some((d) => test[i]!.docIds.includes(d))) gold += 1;
      maxTokens = Math.max(maxTokens, fit.tokens);
      if (fit.tokens > budget) over += 1;
    });

    const passagesFor = (questions: readonly string[], k: number): string[][] => {
      const qv = embedder.embed(questions);
      return questions.map((_, i) => built.index.search(row(qv, i), Math.min(k, built.index.size)).ids.map((c) => chunks[c]!.text));
    };
    const prompts = (examples: readonly Example[]): string[] => fitsAt(examples, cfg.k).map((fit) => {
      ctx.prompts.record('test', fit.exampleTokensCut);
      return fit.prompt;
    });

    const quality = evaluation.quality;
    const where = `embedder ${embedder.name}, index ${describeIndex(built.index.spec())}, ${chunks.length} chunks; over all ${quality?.queries ?? test.length} test examples of the split`;
    const metrics: Partial<Record<MetricId, number | null>> = {
      'retrieval.recallAt1': quality?.recallAt1 ?? null,
      'retrieval.recallAt5': quality?.recallAt5 ?? null,
      'retrieval.recallAt10': quality?.recallAt10 ?? null,
      'retrieval.mrrAt10': quality?.mrrAt10 ?? null,
      'retrieval.ndcgAt10': quality?.ndcgAt10 ?? null,
      'retrieval.annRecallAt10': evaluation.annRecall,
      'retrieval.queriesPerSec': evaluation.queriesPerSec,
      'retrieval.buildSec': built.buildSec,
      'retrieval.indexBytes': built.file.bytes,
      'retrieval.passagesPerPrompt': kept / test.length,
      'retrieval.goldInPrompt': judged ? gold / test.length : null,
    };
    const beir = judged ? `BEIR, document level (${where})` : `not measured: the ${corpus.kind} retrieved from have no relevance judgements (labelled training examples shown as demonstrations)`;
    const notes: Partial<Record<MetricId, string>> = {
      'retrieval.recallAt1': beir, 'retrieval.recallAt5': beir, 'retrieval.recallAt10': beir, 'retrieval.mrrAt10': beir, 'retrieval.ndcgAt10': beir,
      'retrieval.annRecallAt10': `ann-benchmarks recall@${evaluation.annK} against exact search (${where})`,
      'retrieval.queriesPerSec': `single thread, k = ${evaluation.annK}, over the first ${evaluation.timedQueries} of the ${test.length} test questions: best of ${QPS_RUNS} runs of at least ${MIN_RUN_SEC} s${built.index.type === 'faiss' ? `, OMP_NUM_THREADS=${built.file.threads ?? 'unset'}` : ''}`,
      'retrieval.passagesPerPrompt': `k = ${cfg.k}; ${reduced} of ${test.length} prompts hold fewer to leave ${ctx.base.model.config.nCtx - budget} answer tokens in the ${ctx.base.model.config.nCtx}-token context${truncated ? `; ${truncated} hold one passage cut at its end` : ''}${over ? `; in ${over} the question alone exceeds the budget (no passage; generation keeps the prompt's last tokens)` : ''}`,
      'retrieval.goldInPrompt': !judged ? beir : truncated ? `counts the ${truncated} prompts whose only passage was cut, whether or not the answer survived the cut` : 'over all test questions of the split',
    };
    const docIds = corpus.documents.map((d) => d.id);
    const docIndex = new Map(docIds.map((id, i) => [id, i]));
    const inputs = {
      retrieval: {
        embedder: embedder.settings,
        index: built.index.spec(),
        indexFile: { bytes: built.file.bytes, sha256: built.file.sha256, ...(built.file.threads ? { ompThreads: built.file.threads } : {}) },
        k: cfg.k,
        order: cfg.order,
        corpus: corpus.kind,
        chunking: { chunkTokens: cfg.chunkTokens, chunks: chunks.length, documents: corpus.documents.length, oversized },
        context: { nCtx: ctx.base.model.config.nCtx, answerTokens: ctx.base.model.config.nCtx - budget, promptBudgetTokens: budget, promptsWithFewerThanK: reduced, promptsWithCutPassage: truncated, promptsOverBudgetWithoutPassages: over, maxPromptTokens: maxTokens },
        distance: 'cosine (1 - inner product of L2-normalised vectors)',
        evaluatedOn: { questions: test.length, split: 'test', embedSec: evaluation.embedSec, corpusEmbedSec: built.embedSec },
        // The document ranking of every test question, for `--export-trec` (TREC run format).
        run: {
          documents: docIds,
          queries: evaluation.results.map((r) => r.queryId),
          ranks: evaluation.results.map((r) => r.docs.map((d) => docIndex.get(d)!)),
          scores: evaluation.results.map((r) => r.docScores.map((s) => Number(s.toFixed(6)))),
        },
      },
    };
    return { built, evaluation, corpus, prompts, promptsAtK, metrics, notes, inputs, passagesFor };
  } catch (err) {
    built.dispose();
    throw err;
  }
}

/**
 * The update of a suite's changed facts, as a team with a RAG system makes it: the index of the old
 * documents, then only the rewritten documents embedded again (with the embedder as fitted) and put
 * in its place. Timed and profiled; the result is checked against an index built from scratch.
 */
export async function reindexForUpdate(ctx: CellContext, cfg: RetrievalConfig): Promise<{ built: BuiltRetrieval; outcome: UpdateOutcome }> {
  const update = ctx.data.update;
  if (!update) throw new Error(`suite ${ctx.suite.name} has no update to re-index`);
  const tok = ctx.base.tokenizer;
  const count = (t: string): number => tok.encode(t).length;
  const old = chunkDocuments(ctx.prompts.retrievalCorpus(ctx.data).documents, cfg.chunkTokens, count).chunks;
  const before = buildRetrieval(old, makeEmbedder(cfg, ctx), cfg.index, { meta: { suite: ctx.suite.name, suiteHash: ctx.data.contentHash } });
  try {
    const rewritten = chunkDocuments(update.documents, cfg.chunkTokens, count).chunks;
    let done!: Reindexed;
    const t0 = performance.now();
    const info = await tf.profile(() => { done = reindexChunks(before, rewritten); });
    const wallSec = (performance.now() - t0) / 1000;
    const queries = done.built.embedder.embed(ctx.data.test.map((ex) => ctx.prompts.query(ex)));
    const check = agreementWithRebuild(done.built, queries, cfg.k);
    const vectorBytes = 4 * done.rows.length * done.built.vectors.dim;
    // tf.profile reports no peak where nothing ran on the engine (the tf-idf embedder is plain JS).
    const embedPeak = Number.isFinite(info.peakBytes) ? info.peakBytes : 0;
    ctx.log(`update: ${update.documents.length} documents (${done.rows.length} chunks) embedded again in ${done.embedSec.toFixed(3)} s, index updated in ${done.indexSec.toFixed(3)} s (${done.how}); `
      + `top-${cfg.k} equal to a rebuild's for ${(100 * check.agreement).toFixed(1)}% of test queries, vectors ${check.vectorsIdentical ? 'identical' : 'DIFFERENT'}`);
    if (!check.vectorsIdentical) throw new Error('re-embedding the rewritten documents gave vectors that differ from embedding the new corpus from scratch: the update is wrong');
    return {
      built: done.built,
      outcome: {
        how: `re-embedded the ${update.documents.length} rewritten documents and updated the index (${done.how})`,
        wallSec, tokens: rewritten.reduce((n, c) => n + count(c.text), 0), peakBytes: embedPeak + vectorBytes, documents: update.documents.length, indexAgreement: check.agreement,
        notes: {
          'update.wallSec': `embedding the ${done.rows.length} rewritten chunks (${done.embedSec.toFixed(3)} s) and updating the index (${done.indexSec.toFixed(3)} s); the embedder stays as fitted on the first corpus`,
          'update.peakBytes': `tf.profile().peakBytes of the re-embedding (${embedPeak}; 0 for an embedder that runs no model) plus the ${vectorBytes} bytes of the new vectors`,
          'update.tokens': 'tokens of the rewritten chunks embedded again',
          'update.indexAgreement': `over the ${ctx.data.test.length} test queries at k = ${cfg.k}, against ${describeIndex(done.built.index.spec())} built from scratch on every chunk of the new corpus with the same fitted embedder; the stored vectors are bit-identical to embedding that corpus from scratch`,
        },
        inputs: { update: { index: done.how, rows: done.rows.length, documents: update.documents.length, vectorsIdenticalToRebuild: check.vectorsIdentical } },
      },
    };
  } catch (err) {
    before.dispose();
    throw err;
  }
}

export const rag: Approach = Object.freeze({
  name: 'rag',
  description: 'No training: retrieve the top-k chunks of the suite\'s documents for each example (tfidf or model embedder; exact, hnswlib or faiss index; a choice suite without documents retrieves labelled training examples as demonstrations) and answer with the base model.',
  defaults: RETRIEVAL_DEFAULTS,
  validateConfig: (config: ApproachConfig) => retrievalConfigProblems(config, 'rag'),
  validateForData: (config: ApproachConfig, corpus: RetrievalCorpus, tokenizer: BpeTokenizer) => retrievalDataProblems(config, corpus, tokenizer, 'rag'),
  async run(ctx: CellContext): Promise<ApproachOutcome> {
    const cfg = retrievalConfig(ctx.config);
    const update = ctx.data.update ? await reindexForUpdate(ctx, cfg) : null;
    const r = prepareRetrieval(ctx, cfg, update?.built);
    return {
      ...(update ? { update: update.outcome } : {}),
      model: ctx.base.model,
      prompts: async (examples) => r.prompts(examples),
      retrieval: { k: cfg.k, promptsAtK: r.promptsAtK },
      params: { total: countBaseParameters(ctx.base.header.config), trainable: 0 },
      training: null,
      memory: null,
      extra: { metrics: r.metrics, notes: r.notes, inputs: r.inputs },
      dispose: () => r.built.dispose(),
    };
  },
});
