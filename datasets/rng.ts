// A seeded PRNG for every random choice in datasets and suites. Math.random is never used, so the
// same seed gives the same data on every machine and every Node version.

/** A deterministic random stream. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n); n must be a positive integer. */
  int(n: number): number;
  /** One element of a non-empty array, uniformly. */
  pick<T>(arr: readonly T[]): T;
  /** A new array with the elements of `arr` in uniformly random order (Fisher–Yates). */
  shuffle<T>(arr: readonly T[]): T[];
  /** Standard normal sample (mean 0, variance 1), Box–Muller. */
  normal(): number;
}

/** 32-bit hash of a string (xmur3): turns readable seeds like "pretrain-rc" into PRNG state. */
function xmur3(s: string): () => number {
  let h = 1779033703 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  return () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return h >>> 0;
  };
}

/**
 * A PRNG (sfc32, 128-bit state: passes PractRand far beyond what dataset generation needs) seeded by
 * a string or number. Numbers are seeded through their decimal string, so `createRng(7)` and
 * `createRng('7')` are the same stream.
 */
export function createRng(seed: string | number): Rng {
  const h = xmur3(String(seed));
  let a = h();
  let b = h();
  let c = h();
  let d = h();
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs: sfc32 starts poorly mixed from a hashed state.
  for (let i = 0; i < 15; i++) next();

  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(next() * n);
  };
  return {
    next,
    int,
    pick<T>(arr: readonly T[]): T {
      if (arr.length === 0) throw new RangeError('rng.pick: empty array');
      return arr[int(arr.length)] as T;
    },
    shuffle<T>(arr: readonly T[]): T[] {
      const out = arr.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = out[i] as T;
        out[i] = out[j] as T;
        out[j] = tmp;
      }
      return out;
    },
    normal(): number {
      // 1 - next() is in (0, 1], so the log is finite.
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}
