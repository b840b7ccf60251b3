// The "before" of forgetting, the base model's held-out capability, is the same for every cell of one
// checkpoint, seed, suite held-out text and backend: the first cell to measure it keeps it in
// <run>/cache/, and the run's other cells read it instead of measuring it again. Doubles survive
// JSON exactly (shortest round-trip form), so a read value is the measured one, bit for bit.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentHash } from '../datasets/hash.js';
import { writeJsonAtomic } from './run-files.js';

/** What decides the measurement: anything else changing it must be added here. */
export interface BeforeKeyInputs {
  readonly checkpointHash: string;
  readonly heldOutHash: string;
  /** The suite's own held-out texts, or null without. */
  readonly suiteHeldOut: unknown;
  /** The backend and the kernels it runs (their sums may round differently). */
  readonly backend: unknown;
  /** The measuring code's settings (token caps), so a change to them misses the cache. */
  readonly settings: unknown;
}

export const beforeKey = (k: BeforeKeyInputs): string =>
  contentHash({ ...k, suiteHeldOut: k.suiteHeldOut === null ? null : contentHash(k.suiteHeldOut) });

const pathOf = (cacheDir: string, key: string): string => join(cacheDir, `before-${key}.json`);

/** The cached value, or null when absent or unreadable (then the cell measures it). */
export function readBefore<T>(cacheDir: string, key: string): T | null {
  const path = pathOf(cacheDir, key);
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { key?: string; value?: T };
    return v.key === key && v.value !== undefined ? v.value : null;
  } catch {
    return null;
  }
}

/** Written atomically: a cell running beside this one reads the whole value or none. */
export function writeBefore(cacheDir: string, key: string, value: unknown): void {
  mkdirSync(cacheDir, { recursive: true });
  writeJsonAtomic(pathOf(cacheDir, key), { key, value });
}
