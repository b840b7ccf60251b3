// The canonical record of a run: one JSON file per cell and one manifest. CSV, HTML and PNG are
// views of these files, so `bench report <run>` can rebuild them at any time.
import type { BackendInfo } from './engine/backend.js';
import type { SuiteMetric, SuiteSource } from '../suites/types.js';
import type { ConfusionMatrix, Sample } from '../tasks/types.js';
import type { ModelConfig } from './engine/config.js';
import type { Interval, MetricId } from './metrics/definitions.js';

export type { ConfusionMatrix, Interval, Sample };

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


interface CellCommon {
  readonly schemaVersion: typeof RESULT_SCHEMA_VERSION;
  readonly cell: CellSpec;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallSec: number;
  readonly backend: BackendInfo | null;
}

/** The suite a cell ran, as its result records it: enough to rebuild its data and to read its metrics. */
export interface SuiteInputs {
  readonly name: string;
  readonly version: string;
  /** suite.json's one-liners (dataset text: escape before showing). */
  readonly description: string;
  readonly useCase: string;
  readonly source: SuiteSource;
  readonly contentHash: string;
  readonly taskType: string;
  /** The suite's headline metric (its verdicts and recommendation use it). */
  readonly headline: SuiteMetric;
  readonly metrics: readonly SuiteMetric[];
  readonly trainExamples: number;
  readonly testQuestions: number;
  readonly documents: number;
}

/** What a cell was given, typed where the readers (reports, TREC export, bench export) read it; approaches add their own keys. */
export interface CellInputs {
  readonly suite: SuiteInputs;
  readonly checkpoint: { readonly dir: string; readonly contentHash: string; readonly config: ModelConfig };
  readonly approach: { readonly name: string; readonly label: string; readonly config: Readonly<Record<string, unknown>> };
  readonly retrieval?: RetrievalInputs;
  /** The training budget the cell was given: the suite's, or capped by --train-steps. */
  readonly trainBudget?: { readonly steps: number; readonly batchSize: number; readonly seqLen: number; readonly stepsFrom: string };
  readonly latency?: { readonly servedWeightsSha256?: string };
  readonly [key: string]: unknown;
}

/** The retrieval a rag or lora-rag cell used, with the document ranking of every test question. */
export interface RetrievalInputs {
  readonly embedder?: { readonly name?: string; readonly dim?: number };
  readonly index?: Readonly<Record<string, unknown>>;
  readonly k?: number;
  readonly corpus?: 'documents' | 'demonstrations';
  readonly chunking?: { readonly chunkTokens?: number; readonly chunks?: number };
  readonly run?: { readonly documents: readonly string[]; readonly queries: readonly string[]; readonly ranks: readonly (readonly number[])[]; readonly scores: readonly (readonly number[])[] };
}

export interface CompletedCell extends CellCommon {
  readonly status: 'completed';
  /** Every measured metric; null where it cannot be measured here (with the reason in `notes`). */
  readonly metrics: Partial<Record<MetricId, number | null>>;
  readonly intervals: Partial<Record<MetricId, Interval>>;
  /** Why a metric is null or how it was obtained, by metric id. */
  readonly notes: Partial<Record<MetricId, string>>;
  /** What the cell was given: data hashes, sizes, budgets, decoding settings. */
  readonly inputs: CellInputs;
  /** A few test predictions, for the report (dataset text: escape before showing). */
  readonly samples: readonly Sample[];
  /** choice suites: gold against predicted labels over the evaluated test examples. */
  readonly confusion?: ConfusionMatrix;
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
  /** Where each suite comes from, by name: built in, or the folder it was read from. */
  readonly suiteSources?: Readonly<Record<string, SuiteSource>>;
  readonly cells: readonly CellSpec[];
  /** sha256 of the canonical resolved config (suites, approaches, seeds, budgets). */
  readonly configHash: string;
  /** The resolved config that configHash covers, so --resume can say what differs. */
  readonly config: unknown;
  /** Content hash of each suite's data and of the base checkpoint. */
  readonly dataHashes: Readonly<Record<string, string>>;
}
