// Brute force: every stored vector is compared with the query. Slow on large corpora, but exact, so
// it is the ground truth the approximate indexes are measured against.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Neighbors, Vectors } from './vectors.js';
import { RetrievalInputError, checkQuery, dot, row } from './vectors.js';

const MAGIC = 'ABEXACT1';
const HEADER_BYTES = MAGIC.length + 8;

/** The exact index's data: the vectors themselves. */
export class ExactSearch {
  readonly dim: number;
  readonly size: number;
  private readonly vectors: Vectors;

  constructor(vectors: Vectors) {
    this.vectors = vectors;
    this.dim = vectors.dim;
    this.size = vectors.count;
  }

  /**
   * The k nearest by cosine distance, nearest first; ties keep the lower row number first, so the
   * answer is a pure function of the data.
   */
  search(query: Float32Array, k: number): Neighbors {
    checkQuery(query, k, this.dim, this.size, 'exact index');
    const similarity = this.similarityTo(query);
    const ids: number[] = [];
    const distances: number[] = [];
    for (let i = 0; i < this.size; i++) {
      const d = 1 - similarity(i);
      if (ids.length === k && d >= distances[k - 1]!) continue;
      let pos = ids.length === k ? k - 1 : ids.length;
      while (pos > 0 && distances[pos - 1]! > d) pos -= 1;
      ids.splice(pos, 0, i);
      distances.splice(pos, 0, d);
      if (ids.length > k) {
        ids.pop();
        distances.pop();
      }
    }
    return { ids, distances };
  }

  /**
   * The inner product of the query with row i. A sparse query (tf-idf: a few terms of thousands of
   * buckets) skips its zero terms: the same products summed in the same order, so the same bits as
   * the dense sum (a zero product adds nothing), in a fraction of the time.
   */
  private similarityTo(query: Float32Array): (i: number) => number {
    const nonzero: number[] = [];
    for (let j = 0; j < query.length; j++) if (query[j] !== 0) nonzero.push(j);
    if (4 * nonzero.length >= query.length) return (i) => dot(query, row(this.vectors, i));
    const data = this.vectors.data, dim = this.dim;
    return (i) => {
      const base = i * dim;
      let s = 0;
      for (const j of nonzero) s += query[j]! * data[base + j]!;
      return s;
    };
  }

  /** `ABEXACT1`, dim and count as uint32 LE, then the float32 LE rows. */
  writeFile(file: string): void {
    const out = Buffer.alloc(HEADER_BYTES + this.vectors.data.byteLength);
    out.write(MAGIC, 0, 'latin1');
    out.writeUInt32LE(this.dim, MAGIC.length);
    out.writeUInt32LE(this.size, MAGIC.length + 4);
    Buffer.from(this.vectors.data.buffer, this.vectors.data.byteOffset, this.vectors.data.byteLength).copy(out, HEADER_BYTES);
    writeFileSync(file, out);
  }

  static readFile(file: string): ExactSearch {
    const raw = readFileSync(file);
    if (raw.length < HEADER_BYTES || raw.toString('latin1', 0, MAGIC.length) !== MAGIC) {
      throw new RetrievalInputError(`${file}: not an exact index file (no ${MAGIC} header). Fix: rebuild the index`);
    }
    const dim = raw.readUInt32LE(MAGIC.length), count = raw.readUInt32LE(MAGIC.length + 4);
    if (raw.length !== HEADER_BYTES + 4 * dim * count) {
      throw new RetrievalInputError(`${file}: ${raw.length} bytes, expected ${HEADER_BYTES + 4 * dim * count} for ${count} x ${dim}. Fix: rebuild the index`);
    }
    const data = new Float32Array(dim * count);
    Buffer.from(data.buffer).set(raw.subarray(HEADER_BYTES));
    return new ExactSearch({ dim, count, data });
  }
}
