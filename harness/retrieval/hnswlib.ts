// hnswlib (hnswlib-node): a hierarchical navigable small-world graph in the 'ip' space, whose distance
// is 1 - <a, b>: on unit vectors, the cosine distance the exact index gives.
import type { HnswIndex } from './native.js';
import { loadHnswlib } from './native.js';
import type { Neighbors, Vectors } from './vectors.js';
import { RetrievalInputError, checkQuery, row } from './vectors.js';

/** Build and search settings (hnswlib's names). */
export interface HnswSettings {
  /** Graph degree. */
  readonly M: number;
  /** Candidate list size while building. */
  readonly efConstruction: number;
  /** Candidate list size while searching (hnswlib uses max(ef, k)). */
  readonly ef: number;
  /** Seed of the level assignment: the same seed and insertion order give the same graph. */
  readonly seed: number;
}

export class HnswSearch {
  readonly dim: number;
  readonly size: number;
  private readonly index: HnswIndex;
  private ef: number;
  /** The query as the binding takes it (a JS array), reused: the binding reads it synchronously. */
  private readonly scratch: number[];

  private constructor(index: HnswIndex, dim: number, size: number, ef: number) {
    this.index = index;
    this.scratch = new Array<number>(dim).fill(0);
    this.dim = dim;
    this.size = size;
    this.ef = ef;
    index.setEf(ef);
  }

  static build(vectors: Vectors, s: HnswSettings, onProgress?: (done: number, total: number) => void): HnswSearch {
    const { HierarchicalNSW } = loadHnswlib();
    const index = new HierarchicalNSW('ip', vectors.dim);
    index.initIndex({ maxElements: vectors.count, m: s.M, efConstruction: s.efConstruction, randomSeed: s.seed });
    const step = Math.max(1, Math.floor(vectors.count / 100));
    for (let i = 0; i < vectors.count; i++) {
      index.addPoint(Array.from(row(vectors, i)), i);
      if (onProgress && (i + 1) % step === 0) onProgress(i + 1, vectors.count);
    }
    return new HnswSearch(index, vectors.dim, vectors.count, s.ef);
  }

  /**
   * Replaces the vectors of existing labels in place: hnswlib's addPoint on a label it holds updates
   * that element and repairs its neighbourhood, so only the changed rows are re-inserted.
   */
  replace(rows: readonly number[], vectors: Vectors): void {
    for (const i of rows) this.index.addPoint(Array.from(row(vectors, i)), i);
  }

  static readFile(file: string, dim: number, ef: number): HnswSearch {
    const { HierarchicalNSW } = loadHnswlib();
    const index = new HierarchicalNSW('ip', dim);
    try {
      index.readIndexSync(file);
    } catch (err) {
      throw new RetrievalInputError(`${file}: hnswlib cannot read it (${(err as Error).message}). Fix: rebuild the index`);
    }
    if (index.getNumDimensions() !== dim) throw new RetrievalInputError(`${file}: holds ${index.getNumDimensions()}-dimensional vectors, its metadata says ${dim}. Fix: rebuild the index`);
    return new HnswSearch(index, dim, index.getCurrentCount(), ef);
  }

  get currentEf(): number {
    return this.ef;
  }

  setEf(ef: number): void {
    if (!Number.isInteger(ef) || ef < 1) throw new RetrievalInputError(`hnswlib ef must be a positive integer (got ${ef})`);
    this.ef = ef;
    this.index.setEf(ef);
  }

  search(query: Float32Array, k: number): Neighbors {
    checkQuery(query, k, this.dim, this.size, 'hnswlib index');
    for (let j = 0; j < query.length; j++) this.scratch[j] = query[j]!;
    const r = this.index.searchKnn(this.scratch, k);
    return { ids: r.neighbors, distances: r.distances };
  }

  writeFile(file: string): void {
    this.index.writeIndexSync(file);
  }
}
