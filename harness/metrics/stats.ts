// Statistics for results: summaries of repeated measurements and 95% intervals. Pure functions;
// the tests check them against values computed by hand.

/** Summary of a sample, as tinybench reports it. Undefined spreads (fewer than 2 samples) are NaN. */
export interface Statistics {
  /** Arithmetic mean. */
  readonly mean: number;
  /** Sample standard deviation (n - 1 in the denominator). */
  readonly sd: number;
  /** Standard error of the mean: sd / sqrt(n). */
  readonly sem: number;
  /** Margin of error at 95%: sem times Student's t critical value for n - 1 degrees of freedom. */
  readonly moe: number;
  /** Relative margin of error: 100 * moe / mean, in percent. */
  readonly rme: number;
  /** Median (linear interpolation between closest ranks). */
  readonly p50: number;
  /** 75th percentile (linear interpolation). */
  readonly p75: number;
  /** 99th percentile (linear interpolation). */
  readonly p99: number;
  /** Smallest sample. */
  readonly min: number;
  /** Largest sample. */
  readonly max: number;
  /** Number of samples. */
  readonly samplesCount: number;
}

/**
 * Two-sided 95% critical values of Student's t by degrees of freedom (1-30, then selected).
 * Between listed values the next lower listed df is used, which widens the interval slightly:
 * never narrower than the truth.
 */
const T_95: ReadonlyArray<readonly [df: number, t: number]> = Object.freeze([
  [1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [6, 2.447], [7, 2.365], [8, 2.306],
  [9, 2.262], [10, 2.228], [11, 2.201], [12, 2.179], [13, 2.16], [14, 2.145], [15, 2.131], [16, 2.12],
  [17, 2.11], [18, 2.101], [19, 2.093], [20, 2.086], [21, 2.08], [22, 2.074], [23, 2.069], [24, 2.064],
  [25, 2.06], [26, 2.056], [27, 2.052], [28, 2.048], [29, 2.045], [30, 2.042], [40, 2.021], [50, 2.009],
  [60, 2.0], [80, 1.99], [100, 1.984], [120, 1.98], [1000, 1.962], [100_000, 1.96],
] as const);
const Z_95 = 1.96;

/** Two-sided 95% critical value of Student's t with `df` degrees of freedom (df >= 1). */
export function tCritical95(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`tCritical95: df must be a positive integer (got ${df})`);
  let t = T_95[0]![1];
  for (const [d, v] of T_95) {
    if (d > df) break;
    t = v;
  }
  return t;
}

/** Quantile `q` of ascending `sorted` values, linear between closest ranks (numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantileSorted: no values');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const a = sorted[lo]!;
  const b = sorted[lo + 1];
  return b === undefined ? a : a + (pos - lo) * (b - a);
}

/** Summary statistics of `sortedSamples` (ascending; throws when empty or unsorted). */
export function computeStatistics(sortedSamples: readonly number[]): Statistics {
  const n = sortedSamples.length;
  if (n === 0) throw new RangeError('computeStatistics: no samples');
  for (let i = 1; i < n; i++) {
    if (!(sortedSamples[i - 1]! <= sortedSamples[i]!)) throw new RangeError('computeStatistics: samples must be sorted ascending and not NaN');
  }
  const mean = sortedSamples.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? NaN : Math.sqrt(sortedSamples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const sem = sd / Math.sqrt(n);
  const moe = n < 2 ? NaN : sem * tCritical95(n - 1);
  return {
    mean,
    sd,
    sem,
    moe,
    rme: (moe / mean) * 100,
    p50: quantileSorted(sortedSamples, 0.5),
    p75: quantileSorted(sortedSamples, 0.75),
    p99: quantileSorted(sortedSamples, 0.99),
    min: sortedSamples[0]!,
    max: sortedSamples[n - 1]!,
    samplesCount: n,
  };
}

/** Median of values in any order. */
export function median(values: readonly number[]): number {
  return quantileSorted([...values].sort((a, b) => a - b), 0.5);
}

/**
 * Wilson score interval for a proportion (successes out of n), 95% by default. Unlike the normal
 * approximation it stays inside [0, 1] and is not empty at 0 or n successes.
 */
export function wilsonInterval(successes: number, n: number, z = Z_95): { low: number; high: number } {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`wilsonInterval: n must be a positive integer (got ${n})`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: successes must be an integer in [0, ${n}] (got ${successes})`);
  }
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Clamp float dust (e.g. 1.0000000000000002) at the ends.
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Mean with a Student-t 95% interval. Null with fewer than two values: one value says nothing
 * about spread, and a made-up interval would be worse than none.
 */
export function meanInterval(values: readonly number[]): { mean: number; low: number; high: number; halfWidth: number; n: number } | null {
  const n = values.length;
  if (n < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const halfWidth = (sd / Math.sqrt(n)) * tCritical95(n - 1);
  return { mean, low: mean - halfWidth, high: mean + halfWidth, halfWidth, n };
}
