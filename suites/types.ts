// A suite is data plus a declarative definition (suite.json), so built-in suites and a user's own are
// the same kind of thing: the runner, the cell, the approaches and the reports read only these types,
// and a built-in suite builds its data in code into exactly the form a user's files load into.
import type { Example, Qrel, SuiteDocument } from '../datasets/examples.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { TaskSpec } from '../tasks/types.js';

export type { Example, Qrel, SuiteDocument, TaskSpec };

/** Everything one cell of a suite trains and evaluates on. */
export interface SuiteData {
  /** Knowledge documents: what RAG indexes (may be empty for a classification suite). */
  readonly documents: readonly SuiteDocument[];
  readonly train: readonly Example[];
  readonly test: readonly Example[];
  /** Relevance judgements for train and test examples (from their docIds or the qrels file). */
  readonly qrels: readonly Qrel[];
  /** The user's held-out text of the model's original capability, measured for forgetting besides the built-in set; null when the suite has none. */
  readonly heldOut: ReadonlyArray<{ readonly id: string; readonly text: string }> | null;
  /** Facts that change after adaptation (suite.json `update`); null when the suite has none. */
  readonly update: SuiteUpdate | null;
  /** contentHash of the definition and every file, for the run manifest. */
  readonly contentHash: string;
}

/**
 * What changes after every approach was adapted: documents rewritten (each replaces the document
 * of the same id) and training examples on the changed facts. Test examples with a `previous` field
 * ask about a changed fact; `previous` is the old answer (the stale one).
 */
export interface SuiteUpdate {
  readonly documents: readonly SuiteDocument[];
  readonly train: readonly Example[];
}

/** The suite's data as it stands after its update: rewritten documents in place of the old ones (same order). */
export function dataAfterUpdate(data: SuiteData): SuiteData {
  if (!data.update) return data;
  const rewritten = new Map(data.update.documents.map((d) => [d.id, d]));
  return { ...data, documents: data.documents.map((d) => rewritten.get(d.id) ?? d) };
}

/** The test field that marks a changed fact and holds its old answer. */
export const PREVIOUS_FIELD = 'previous';

/** Which end of the fitted field survives when an input is longer than the room left for it. */
export const FIT_KEEPS = ['start', 'end', 'both'] as const;
export type FitKeep = (typeof FIT_KEEPS)[number];

/** The prompt format: `{name}` is filled from the example's fields. */
export interface PromptSpec {
  /** The example's prompt, e.g. "Q: {question}\nA:". */
  readonly template: string;
  /** What the model continues with: generate fills `{answer}`, choice fills `{label}`, e.g. " {answer}\n". */
  readonly target: string;
  /** One retrieved passage (or demonstration) before the prompt; `{text}` is its text. */
  readonly passage: string;
  /** The retrieval query for an example (RAG). */
  readonly query: string;
  /** The field cut when a prompt does not fit, and which end survives; null cuts the whole prompt from its start (keeps the end). */
  readonly fit: { readonly field: string | null; readonly keep: FitKeep };
}

/** Optimiser steps, rows per step and tokens per row: identical for every fine-tuning approach of a suite. */
export interface SuiteTrainBudget {
  readonly steps: number;
  readonly batchSize: number;
  readonly seqLen: number;
}

/** What a cell may spend. */
export interface SuiteBudget {
  readonly train: SuiteTrainBudget;
  /** Test examples evaluated per cell (a seeded stratified subset when smaller than the split); null: all. */
  readonly testExamples: number | null;
}

/** A metric the suite reports, with its direction; the first is the suite's headline. */
export interface SuiteMetric {
  readonly id: MetricId;
  readonly higherIsBetter: boolean;
}

/** The files of a suite folder, relative to it. */
export interface SuiteFiles {
  readonly documents: string | null;
  readonly train: string;
  readonly test: string;
  readonly qrels: string | null;
  readonly heldOut: string | null;
}

/** suite.json, validated and with every default filled in. */
export interface SuiteDefinition {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly useCase: string;
  readonly task: TaskSpec;
  readonly prompt: PromptSpec;
  /** Headline first. */
  readonly metrics: readonly SuiteMetric[];
  readonly budget: SuiteBudget;
  /** The example field (or `label`) the test subset is stratified by; null: none. */
  readonly stratifyBy: string | null;
  readonly files: SuiteFiles;
  /** Whether rag and lora-rag cells also answer the test set at k = 1, 3, 10 and as many as fit (harness/k-sweep.ts). */
  readonly kSweep: boolean;
  /** The update of changed facts: its files and its fine-tuning budget; null: none. */
  readonly update: SuiteUpdateSpec | null;
}

/** suite.json's `update`: the changed documents and training examples (files in the folder), and the update's steps. */
export interface SuiteUpdateSpec {
  readonly documents: string;
  readonly train: string;
  readonly steps: number;
}

/** Where a suite comes from: the registry, or a folder (absolute path) the user gave. */
export type SuiteSource = { readonly kind: 'built-in' } | { readonly kind: 'folder'; readonly path: string };

/** A loaded suite: its definition, its source and its data per seed. */
export interface Suite extends SuiteDefinition {
  readonly source: SuiteSource;
  /**
   * The suite's data for `seed`. A user's files are the same for every seed; a built-in suite may
   * vary the order and phrasing choices with it, never the facts.
   */
  buildData(seed: number): SuiteData;
}

/** The suite with its training budget capped at `steps` (--train-steps); the suite itself without a cap. */
export function withTrainSteps(suite: Suite, steps: number | undefined): Suite {
  const train = suite.budget.train;
  if (steps === undefined || steps >= train.steps) return suite;
  const update = suite.update && { ...suite.update, steps: Math.min(steps, suite.update.steps) };
  return Object.freeze({ ...suite, budget: { ...suite.budget, train: { ...train, steps } }, update });
}
