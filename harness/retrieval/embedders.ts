// Embedders behind one interface: text in, unit vectors out (all-zero for text with nothing to embed).
// - `tfidf`: hashed character n-gram TF-IDF, dense. Good at names, deterministic, no model.
// - `model`: the base model's final hidden states (after ln_f), mean-pooled over the text's tokens.
import { tf } from '../engine/backend.js';
import type { GPT } from '../engine/model.js';
import type { BpeTokenizer } from '../engine/tokenizer.js';
import type { Vectors } from './vectors.js';
import { RetrievalInputError, normalizeRows, row } from './vectors.js';

export const EMBEDDER_NAMES = ['tfidf', 'model'] as const;
export type EmbedderName = (typeof EMBEDDER_NAMES)[number];

export interface Embedder {
  readonly name: EmbedderName;
  readonly dim: number;
  /** Every setting that changes the vectors, as recorded in results. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Fits corpus statistics (IDF; the model embedder's centring) on the indexed corpus. Call once, before embed. */
  fit(corpus: readonly string[]): void;
  /** One unit vector per text (all zeros where a text has no n-gram or token). */
  embed(texts: readonly string[]): Vectors;
}

// ---------------------------------------------------------------- tfidf

export interface TfidfOptions {
  /** Hash buckets = vector dimension. */
  readonly dim: number;
  /** Shortest and longest character n-gram. */
  readonly ngramMin: number;
  readonly ngramMax: number;
}

export const TFIDF_DEFAULTS: TfidfOptions = Object.freeze({ dim: 4096, ngramMin: 3, ngramMax: 5 });

/** FNV-1a, 32 bits, over UTF-16 code units: the same bucket for the same n-gram on every platform. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Lower case, accents removed (NFD, combining marks dropped), split into words of letters and digits. */
export function tfidfWords(text: string): string[] {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Character n-grams of each word padded with one space on either side (scikit-learn's `char_wb`),
 * so n-grams never span two words and word starts and ends are marked.
 */
export function charNgrams(text: string, min: number, max: number): string[] {
  const out: string[] = [];
  for (const w of tfidfWords(text)) {
    const padded = ` ${w} `;
    for (let n = min; n <= max; n++) for (let i = 0; i + n <= padded.length; i++) out.push(padded.slice(i, i + n));
  }
  return out;
}

export class TfidfEmbedder implements Embedder {
  readonly name = 'tfidf';
  readonly dim: number;
  readonly settings: Readonly<Record<string, unknown>>;
  private readonly opts: TfidfOptions;
  private idf: Float64Array | null = null;

  constructor(opts: Partial<TfidfOptions> = {}) {
    const o = { ...TFIDF_DEFAULTS, ...opts };
    if (!Number.isInteger(o.dim) || o.dim < 2) throw new RetrievalInputError(`tfidf dim must be an integer >= 2 (got ${o.dim})`);
    if (!Number.isInteger(o.ngramMin) || !Number.isInteger(o.ngramMax) || o.ngramMin < 1 || o.ngramMax < o.ngramMin) {
      throw new RetrievalInputError(`tfidf n-gram range must be integers with 1 <= ngramMin <= ngramMax (got ${o.ngramMin}..${o.ngramMax})`);
    }
    this.opts = o;
    this.dim = o.dim;
    this.settings = {
      name: 'tfidf', dim: o.dim, ngramMin: o.ngramMin, ngramMax: o.ngramMax,
      text: 'NFD, accents removed, lower case, n-grams within space-padded words',
      hashing: 'FNV-1a 32-bit of the n-gram (UTF-16 code units) mod dim, no sign',
      tf: '1 + ln(count)', idf: 'ln((1 + N) / (1 + df)) + 1, fitted on the indexed corpus', norm: 'L2',
    };
  }

  private counts(text: string): Map<number, number> {
    const m = new Map<number, number>();
    for (const g of charNgrams(text, this.opts.ngramMin, this.opts.ngramMax)) {
      const b = fnv1a(g) % this.dim;
      m.set(b, (m.get(b) ?? 0) + 1);
    }
    return m;
  }

  fit(corpus: readonly string[]): void {
    if (corpus.length === 0) throw new RetrievalInputError('tfidf: cannot fit IDF on an empty corpus. Fix: give at least one document');
    const df = new Float64Array(this.dim);
    for (const text of corpus) for (const b of this.counts(text).keys()) df[b]! += 1;
    const n = corpus.length;
    this.idf = df.map((d) => Math.log((1 + n) / (1 + d)) + 1);
  }

  embed(texts: readonly string[]): Vectors {
    const idf = this.idf;
    if (!idf) throw new Error('tfidf: embed before fit; fit the embedder on the indexed corpus first');
    const data = new Float32Array(texts.length * this.dim);
    texts.forEach((text, i) => {
      for (const [b, c] of this.counts(text)) data[i * this.dim + b] = (1 + Math.log(c)) * idf[b]!;
    });
    return normalizeRows({ dim: this.dim, count: texts.length, data });
  }
}

// ---------------------------------------------------------------- model

export interface ModelEmbedderOptions {
  /** Texts per forward pass. */
  readonly batchSize: number;
  /**
   * Subtract the indexed corpus's mean pooled state (from documents and queries alike) before
   * normalising, against the common direction mean-pooled states share. Off by default: on
   * knowledge-qa with base-v1 it lowered nDCG@10 on every seed (0.38 -> 0.36 with exact search),
   * since questions do not share the documents' mean.
   */
  readonly center: boolean;
}

export const MODEL_EMBEDDER_DEFAULTS: ModelEmbedderOptions = Object.freeze({ batchSize: 32, center: false });

export class ModelEmbedder implements Embedder {
  readonly name = 'model';
  readonly dim: number;
  readonly settings: Readonly<Record<string, unknown>>;
  private readonly model: GPT;
  private readonly tokenizer: BpeTokenizer;
  private readonly opts: ModelEmbedderOptions;
  private mean: Float64Array | null = null;
  /** Texts cut to the model's context by the last embed call. */
  truncated = 0;

  constructor(model: GPT, tokenizer: BpeTokenizer, checkpointHash: string, opts: Partial<ModelEmbedderOptions> = {}) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.opts = { ...MODEL_EMBEDDER_DEFAULTS, ...opts };
    if (!Number.isInteger(this.opts.batchSize) || this.opts.batchSize < 1) throw new RetrievalInputError(`model embedder batchSize must be a positive integer (got ${this.opts.batchSize})`);
    this.dim = model.config.nEmbd;
    this.settings = {
      name: 'model', dim: this.dim, checkpoint: checkpointHash, layer: 'final hidden state (after ln_f)', pooling: 'mean over the text\'s tokens',
      maxTokens: model.config.nCtx, truncation: 'first nCtx tokens kept', center: this.opts.center, batchSize: this.opts.batchSize, norm: 'L2',
    };
  }

  /** Mean-pooled final hidden states, before centring and normalisation. */
  private pooled(texts: readonly string[]): Float64Array {
    const d = this.dim, ctx = this.model.config.nCtx;
    const out = new Float64Array(texts.length * d);
    const tokens = texts.map((t) => this.tokenizer.encode(t));
    this.truncated = tokens.filter((t) => t.length > ctx).length;
    // Similar lengths together, so little of each batch is padding.
    const order = tokens.map((_, i) => i).filter((i) => tokens[i]!.length > 0).sort((a, b) => tokens[a]!.length - tokens[b]!.length || a - b);
    for (let b0 = 0; b0 < order.length; b0 += this.opts.batchSize) {
      const batch = order.slice(b0, b0 + this.opts.batchSize);
      const rows = batch.map((i) => tokens[i]!.slice(0, ctx));
      const len = Math.max(...rows.map((r) => r.length));
      // Right padding: attention is causal, so padding after a text cannot change its states.
      const ids = new Int32Array(batch.length * len).fill(this.tokenizer.eotId);
      const mask = new Float32Array(batch.length * len);
      rows.forEach((r, i) => {
        ids.set(r, i * len);
        mask.fill(1, i * len, i * len + r.length);
      });
      const sums = tf.tidy(() => {
        const h = tf.reshape(this.model.hidden(tf.tensor2d(ids, [batch.length, len], 'int32')), [batch.length, len, d]);
        return tf.sum(tf.mul(h, tf.tensor3d(mask, [batch.length, len, 1])), 1);
      });
      const values = sums.dataSync();
      sums.dispose();
      batch.forEach((textIndex, i) => {
        const n = rows[i]!.length;
        for (let j = 0; j < d; j++) out[textIndex * d + j] = values[i * d + j]! / n;
      });
    }
    return out;
  }

  fit(corpus: readonly string[]): void {
    if (corpus.length === 0) throw new RetrievalInputError('model embedder: cannot fit on an empty corpus. Fix: give at least one document');
    if (!this.opts.center) return;
    const p = this.pooled(corpus), d = this.dim;
    const mean = new Float64Array(d);
    for (let i = 0; i < corpus.length; i++) for (let j = 0; j < d; j++) mean[j]! += p[i * d + j]! / corpus.length;
    this.mean = mean;
  }

  embed(texts: readonly string[]): Vectors {
    if (this.opts.center && !this.mean) throw new Error('model embedder: embed before fit; fit it on the indexed corpus first (centring needs the corpus mean)');
    const p = this.pooled(texts), d = this.dim;
    const v: Vectors = { dim: d, count: texts.length, data: new Float32Array(texts.length * d) };
    for (let i = 0; i < texts.length; i++) {
      const r = row(v, i);
      let any = false;
      for (let j = 0; j < d; j++) {
        const x = p[i * d + j]!;
        if (x !== 0) any = true;
        r[j] = x - (this.mean?.[j] ?? 0);
      }
      if (!any) r.fill(0); // nothing was embedded (empty text): keep it all-zero, not minus the mean
    }
    return normalizeRows(v);
  }
}
