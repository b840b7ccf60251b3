// A real vector set for the retrieval benchmark: sentences of the text the project ships (Brown, the
// SpamAssassin mail, the country documents), embedded by a real embedder. Queries are held-out
// sentences (never in the indexed set). Embeddings are cached on disk by content hash, since the
// model embedder takes minutes on 100k sentences and the vectors are a pure function of the inputs.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBrown } from '../../datasets/brown.js';
import { loadCountries } from '../../datasets/countries.js';
import { entityDocument } from '../../datasets/episodes.js';
import { contentHash, sha256Hex } from '../../datasets/hash.js';
import { createRng } from '../../datasets/rng.js';
import { loadSpamAssassin } from '../../datasets/spam.js';
import { sentences } from './chunking.js';
import type { Embedder } from './embedders.js';
import type { Vectors } from './vectors.js';
import { RetrievalInputError, vectorsOf } from './vectors.js';

/** Sentences shorter than this many words ("Hi.", "Thanks,") are left out: they repeat across texts and say little. */
export const MIN_SENTENCE_WORDS = 4;

export const TEXT_SOURCES = ['brown', 'mail', 'countries'] as const;
export type TextSource = (typeof TEXT_SOURCES)[number];

export interface TextSentence {
  readonly source: TextSource;
  readonly text: string;
}

let pool: readonly TextSentence[] | undefined;

/**
 * Every distinct sentence of at least MIN_SENTENCE_WORDS words from Brown (paragraph by paragraph),
 * the mail bodies and the country documents, sorted by text (code-unit order); a sentence in several
 * sources keeps the first source in that order. About 106k sentences.
 */
export function sentencePool(): readonly TextSentence[] {
  if (pool) return pool;
  const seen = new Map<string, TextSource>();
  const add = (source: TextSource, texts: readonly string[]): void => {
    for (const t of texts) if (t.split(/\s+/).length >= MIN_SENTENCE_WORDS && !seen.has(t)) seen.set(t, source);
  };
  add('brown', loadBrown().flatMap((d) => d.text.split('\n').flatMap(sentences)));
  add('mail', loadSpamAssassin().flatMap((m) => sentences(m.body)));
  add('countries', loadCountries().flatMap((e) => sentences(entityDocument(e))));
  pool = Object.freeze([...seen].map(([text, source]) => ({ source, text })).sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0)));
  return pool;
}

export interface TextSplit {
  readonly base: readonly TextSentence[];
  readonly queries: readonly TextSentence[];
}

/** A seeded shuffle of the pool: the first `queries` sentences are the queries, the next `count` are indexed. */
export function textSplit(count: number, queries: number, seed: number): TextSplit {
  const all = sentencePool();
  if (count + queries > all.length) {
    throw new RetrievalInputError(`the text set has ${all.length} distinct sentences; ${count} indexed + ${queries} queries ask for more. Fix: ask for at most ${all.length - queries} vectors (--text-size) or fewer queries`);
  }
  const order = createRng(`text-set:${seed}`).shuffle(all);
  return { queries: order.slice(0, queries), base: order.slice(queries, queries + count) };
}

/** How many sentences of each source. */
export function sourceCounts(s: readonly TextSentence[]): Record<TextSource, number> {
  const out = Object.fromEntries(TEXT_SOURCES.map((k) => [k, 0])) as Record<TextSource, number>;
  for (const x of s) out[x.source] += 1;
  return out;
}

export interface EmbeddedTexts {
  readonly base: Vectors;
  readonly queries: Vectors;
  /** Hash of the embedder's settings, the fitted corpus and the texts: names the cache file. */
  readonly key: string;
  /** Whether the vectors were read from the cache. */
  readonly cached: boolean;
  /** Seconds spent fitting and embedding (0 when cached). */
  readonly embedSec: number;
}

/**
 * Fits `embedder` on the base texts and embeds base and queries, or reads the vectors from
 * `cacheDir/<key>.f32` when a run with the same embedder settings and texts wrote them.
 */
export function embedTexts(embedder: Embedder, split: TextSplit, cacheDir: string): EmbeddedTexts {
  const base = split.base.map((s) => s.text), queries = split.queries.map((s) => s.text);
  const key = contentHash({ embedder: embedder.settings, base: sha256Hex(base.join('\n')), queries: sha256Hex(queries.join('\n')) });
  const file = join(cacheDir, `${key}.f32`);
  const values = (base.length + queries.length) * embedder.dim;
  if (existsSync(file)) {
    const bytes = readFileSync(file);
    if (bytes.byteLength !== values * 4) throw new RetrievalInputError(`embedding cache ${file} holds ${bytes.byteLength} bytes, expected ${values * 4}. Fix: delete the file (it is rebuilt)`);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return { ...splitRows(data, embedder.dim, base.length), key, cached: true, embedSec: 0 };
  }
  const t0 = performance.now();
  embedder.fit(base);
  const b = embedder.embed(base), q = embedder.embed(queries);
  const embedSec = (performance.now() - t0) / 1000;
  mkdirSync(cacheDir, { recursive: true });
  const data = new Float32Array(values);
  data.set(b.data);
  data.set(q.data, b.data.length);
  // Written whole under another name first: an interrupted run never leaves a short file behind.
  writeFileSync(`${file}.partial`, data);
  renameSync(`${file}.partial`, file);
  return { base: b, queries: q, key, cached: false, embedSec };
}

function splitRows(data: Float32Array, dim: number, baseCount: number): { base: Vectors; queries: Vectors } {
  return { base: vectorsOf(data.subarray(0, baseCount * dim), dim), queries: vectorsOf(data.subarray(baseCount * dim), dim) };
}
