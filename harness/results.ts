// The canonical record of a run: one JSON file per cell and one manifest. CSV, HTML and PNG are
// views of these files, so `bench report <run>` can rebuild them at any time.
import type { BackendInfo } from './engine/backend.js';
import type { MetricId } from './metrics/definitions.js';

export const RESULT_SCHEMA_VERSION = 1;

/** One unit of work: a suite, an approach (with its config) and a seed. */
export interface CellSpec {
  /** `${suite}__${approachLabel}__seed${seed}`: the result file's name, stable across runs. */
  readonly id: string;
  readonly suite: string;
  /** Approach name from the registry, e.g. 'base'. */
  readonly approach: string;
  /** Row label, distinct per config in a sweep, e.g. 'lora-r8'. Equals `approach` without a sweep. */
  readonly label: string;
  /** The approach's resolved config, recorded as run. */
  readonly approachConfig: Readonly<Record<string, unknown>>;
  readonly seed: number;
}

/** A 95% interval for a metric, with how it was computed. */
export interface Interval {
  readonly low: number;
  readonly high: number;
  readonly method: string;
}

interface CellCommon {
  readonly schemaVersion: typeof RESULT_SCHEMA_VERSION;
  readonly cell: CellSpec;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallSec: number;
  readonly backend: BackendInfo | null;
}

export interface CompletedCell extends CellCommon {
  readonly status: 'completed';
  /** Every measured metric; null where it cannot be measured here (with the reason in `notes`). */
  readonly metrics: Partial<Record<MetricId, number | null>>;
  readonly intervals: Partial<Record<MetricId, Interval>>;
  /** Why a metric is null or how it was obtained, by metric id. */
  readonly notes: Partial<Record<MetricId, string>>;
  /** What the cell was given: data hashes, sizes, budgets, decoding settings. */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** A few test predictions, for the report (dataset text: escape before showing). */
  readonly samples: ReadonlyArray<{ question: string; gold: string; predicted: string; correct: boolean }>;
}

export interface FailedCell extends CellCommon {
  readonly status: 'failed';
  readonly error: { readonly message: string; readonly stack?: string };
}

export type CellResult = CompletedCell | FailedCell;

export interface RunManifest {
  readonly schemaVersion: typeof RESULT_SCHEMA_VERSION;
  readonly runId: string;
  readonly createdAt: string;
  readonly command: string;
  readonly gitCommit: string | null;
  readonly gitDirty: boolean | null;
  readonly packages: Readonly<Record<string, string | null>>;
  readonly node: string;
  readonly os: string;
  readonly cpu: { readonly model: string; readonly cores: number };
  readonly backend: BackendInfo | null;
  readonly seeds: readonly number[];
  readonly suites: readonly string[];
  readonly cells: readonly CellSpec[];
  /** sha256 of the canonical resolved config (suites, approaches, seeds, budgets). */
  readonly configHash: string;
  /** The resolved config that configHash covers, so --resume can say what differs. */
  readonly config: unknown;
  /** Content hash of each suite's data and of the base checkpoint. */
  readonly dataHashes: Readonly<Record<string, string>>;
}
