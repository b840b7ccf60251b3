// Seeded synthetic vectors for the retrieval benchmark: a mixture of clusters, each spread along its
// own random low-dimensional subspace plus a little isotropic noise, then L2-normalised. Real text
// embeddings have a low intrinsic dimension; isotropic noise in all 128 dimensions is the known worst
// case of ANN search (every distance alike) and is available with intrinsicDim = dim.
import { createRng } from '../../datasets/rng.js';
import type { Vectors } from './vectors.js';
import { normalizeRows } from './vectors.js';

export interface ClusteredOptions {
  /** Vectors to index. */
  readonly count: number;
  /** Query vectors, drawn from the same mixture, not indexed. */
  readonly queries: number;
  readonly dim: number;
  readonly clusters: number;
  /** Dimension of each cluster's subspace. */
  readonly intrinsicDim: number;
  /** Standard deviation along a cluster's subspace, per coordinate (cluster centres have 1). */
  readonly spread: number;
  /** Standard deviation of the isotropic noise, per coordinate. */
  readonly noise: number;
  readonly seed: number;
}

export const CLUSTERED_DEFAULTS = Object.freeze({ dim: 128, clusters: 100, intrinsicDim: 32, spread: 1, noise: 0.1, queries: 1000, seed: 0 });

/** Base and query vectors of the mixture, unit length; the same options always give the same vectors. */
export function clusteredVectors(o: ClusteredOptions): { base: Vectors; queries: Vectors } {
  const rng = createRng(`clustered:${o.seed}:${o.dim}:${o.clusters}:${o.intrinsicDim}`);
  const centres = Float64Array.from({ length: o.clusters * o.dim }, () => rng.normal());
  // Cluster j's map from its subspace: dim x intrinsicDim, entries N(0, spread^2 / intrinsicDim).
  const scale = o.spread / Math.sqrt(o.intrinsicDim);
  const bases = Float64Array.from({ length: o.clusters * o.dim * o.intrinsicDim }, () => rng.normal() * scale);
  const draw = (n: number, stream: string): Vectors => {
    const r = createRng(`${stream}:${o.seed}`);
    const data = new Float32Array(n * o.dim);
    const z = new Float64Array(o.intrinsicDim);
    for (let i = 0; i < n; i++) {
      const c = r.int(o.clusters);
      for (let t = 0; t < o.intrinsicDim; t++) z[t] = r.normal();
      const a = c * o.dim * o.intrinsicDim;
      for (let j = 0; j < o.dim; j++) {
        let x = centres[c * o.dim + j]! + o.noise * r.normal();
        for (let t = 0; t < o.intrinsicDim; t++) x += bases[a + j * o.intrinsicDim + t]! * z[t]!;
        data[i * o.dim + j] = x;
      }
    }
    return normalizeRows({ dim: o.dim, count: n, data });
  };
  return { base: draw(o.count, `clustered-base:${o.count}`), queries: draw(o.queries, `clustered-queries:${o.count}`) };
}
