// Vectors as one contiguous float32 matrix (rows of `dim` values), the unit every embedder returns and
// every index takes. Distances are cosine distances on L2-normalised rows, 1 - <a, b>, everywhere:
// the exact index, hnswlib ('ip' space), faiss (inner product, converted) and the ANN recall.

/** Bad retrieval input (dimension, k, empty corpus, unknown index, corrupt index file): exit 2. */
export class RetrievalInputError extends Error {
  readonly exitCode = 2;
}

/** `count` rows of `dim` float32 values, row-major. */
export interface Vectors {
  readonly dim: number;
  readonly count: number;
  readonly data: Float32Array;
}

/** Nearest neighbours of one query, nearest first. */
export interface Neighbors {
  /** Row numbers of the indexed vectors (0-based, in the order they were added). */
  readonly ids: number[];
  /** Cosine distances, 1 - inner product, as the index computed them. */
  readonly distances: number[];
}

/** Norms within this of 1 count as unit length (float32 rounding of long vectors stays far inside it). */
const UNIT_TOLERANCE = 1e-3;

/** A Vectors value over `data`, checked for shape. */
export function vectorsOf(data: Float32Array, dim: number): Vectors {
  if (!Number.isInteger(dim) || dim < 1) throw new RetrievalInputError(`vector dimension must be a positive integer (got ${dim})`);
  if (data.length % dim !== 0) throw new RetrievalInputError(`${data.length} values are not a whole number of ${dim}-dimensional vectors`);
  return { dim, count: data.length / dim, data };
}

/** Row `i` as a view (no copy). */
export function row(v: Vectors, i: number): Float32Array {
  return v.data.subarray(i * v.dim, (i + 1) * v.dim);
}

/** Rows `ids` copied into a new matrix. */
export function selectRows(v: Vectors, ids: readonly number[]): Vectors {
  const out = new Float32Array(ids.length * v.dim);
  ids.forEach((id, j) => out.set(row(v, id), j * v.dim));
  return { dim: v.dim, count: ids.length, data: out };
}

/** Scales every row to unit L2 norm in place; all-zero rows stay zero. Returns `v`. */
export function normalizeRows(v: Vectors): Vectors {
  for (let i = 0; i < v.count; i++) {
    const r = row(v, i);
    let s = 0;
    for (let j = 0; j < r.length; j++) s += r[j]! * r[j]!;
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < r.length; j++) r[j]! *= inv;
  }
  return v;
}

/** Inner product, accumulated in float64. */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
}

/** The cosine distance the whole package uses: 1 - <a, b> on unit vectors. */
export function cosineDistance(a: Float32Array, b: Float32Array): number {
  return 1 - dot(a, b);
}

/**
 * Throws RetrievalInputError unless every row has dimension `dim` and unit norm (or is all zeros,
 * what an embedder gives for empty text). `what` and `where` go into the message.
 */
export function checkVectors(v: Vectors, dim: number, what: string): void {
  if (v.dim !== dim) {
    throw new RetrievalInputError(`${what}: vectors have dimension ${v.dim}, the index holds ${dim}-dimensional vectors. Fix: embed with the embedder the index was built with`);
  }
  if (v.data.length !== v.count * v.dim) throw new RetrievalInputError(`${what}: ${v.data.length} values for ${v.count} x ${v.dim}`);
  for (let i = 0; i < v.count; i++) {
    const r = row(v, i);
    let s = 0;
    for (let j = 0; j < r.length; j++) s += r[j]! * r[j]!;
    if (!Number.isFinite(s)) throw new RetrievalInputError(`${what}: vector ${i} has a non-finite value`);
    if (s !== 0 && Math.abs(Math.sqrt(s) - 1) > UNIT_TOLERANCE) {
      throw new RetrievalInputError(`${what}: vector ${i} has norm ${Math.sqrt(s).toFixed(6)}; distances are cosine on L2-normalised vectors. Fix: normalise it (normalizeRows)`);
    }
  }
}

/** Checks one query against an index of `dim` dimensions and `size` vectors, for `k` neighbours. */
export function checkQuery(query: Float32Array, k: number, dim: number, size: number, where: string): void {
  if (query.length !== dim) {
    throw new RetrievalInputError(`${where}: query has dimension ${query.length}, the index holds ${dim}-dimensional vectors. Fix: embed the query with the embedder the index was built with`);
  }
  if (!Number.isInteger(k) || k < 1) throw new RetrievalInputError(`${where}: k must be a positive integer (got ${k})`);
  if (k > size) {
    throw new RetrievalInputError(`${where}: k = ${k} is larger than the corpus (${size} vector${size === 1 ? '' : 's'} indexed). Fix: ask for at most ${size} neighbours, or index more documents`);
  }
}
