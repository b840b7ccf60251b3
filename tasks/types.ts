// The one interface every task type implements. A task type owns what differs between kinds of use
// case: which record keys carry the gold (answers, a label), the continuation a model is trained to
// produce, how a test prompt is answered and scored, and the metrics that come out. The cell, the
// runner and the approaches know task types only through this interface and tasks/registry.ts.
import type { Example } from '../datasets/examples.js';
import type { GPT } from '../harness/engine/model.js';
import type { BpeTokenizer } from '../harness/engine/tokenizer.js';
import type { Interval, MetricId } from '../harness/metrics/definitions.js';

/** suite.json's `task` object with its defaults filled in; each task type reads its own keys. */
export type TaskSpec = Readonly<{ type: string } & Record<string, unknown>>;

/** One problem found in a suite's definition or data: what and how to fix it. `field` is a dotted path. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

/** A metric a task reports, with its direction. */
export interface TaskMetric {
  readonly id: MetricId;
  readonly higherIsBetter: boolean;
}

/** A few test predictions, for the report (dataset text: escape before showing). */
export interface Sample {
  readonly question: string;
  readonly gold: string;
  readonly predicted: string;
  readonly correct: boolean;
}

/** Counts of gold label (row) against predicted label (column), in `labels` order. */
export interface ConfusionMatrix {
  readonly labels: readonly string[];
  readonly counts: readonly (readonly number[])[];
}

/** What scoring the test prompts gave. */
export interface TaskEvaluation {
  readonly metrics: Partial<Record<MetricId, number | null>>;
  readonly intervals: Partial<Record<MetricId, Interval>>;
  readonly notes: Partial<Record<MetricId, string>>;
  readonly samples: readonly Sample[];
  /** Every example's answer, in order (for scores over parts of the test set, e.g. changed facts). */
  readonly predictions: readonly string[];
  readonly confusion: ConfusionMatrix | null;
  /** How the model was asked: decoding or scoring settings, recorded in the result's inputs. */
  readonly settings: Readonly<Record<string, unknown>>;
}

export interface EvaluateInput {
  readonly model: GPT;
  readonly tokenizer: BpeTokenizer;
  readonly spec: TaskSpec;
  /** The suite's target template (`{answer}` or `{label}` filled in by the task). */
  readonly targetTemplate: string;
  readonly examples: readonly Example[];
  /** The prompt of each example, in order, already fitted to leave `answerRoom` tokens. */
  readonly prompts: readonly string[];
  /** What each example asks, for the samples shown in reports (the suite's query template). */
  readonly questions: readonly string[];
  /** Told the examples answered so far, as answering goes. */
  readonly progress?: (done: number, total: number) => void;
  /** Seeds anything random in scoring (bootstrap intervals). */
  readonly seedKey: string;
}

/** One task type. Implementations are small objects, one module each, in tasks/. */
export interface TaskType {
  /** Registry name, the `task.type` of suite.json. */
  readonly name: string;
  /** One line for `bench list` and the README. */
  readonly description: string;
  /** Every metric it reports, the default headline first. */
  readonly metrics: readonly TaskMetric[];
  /** The record keys it reads besides the template fields (e.g. 'answer', 'answers', 'label'). */
  readonly goldKeys: readonly string[];
  /** The placeholder of the target template it fills with the gold: 'answer' for `{answer}`. */
  readonly targetField: string;
  /** Whether, without documents, RAG retrieves the labelled training examples as demonstrations. */
  readonly demonstrations: boolean;
  /** The default test-subset stratification: a record key or null. */
  readonly stratifyBy: string | null;
  /** suite.json's `task` object checked and with defaults filled in; problems name `task.<key>`. */
  parseSpec(raw: Readonly<Record<string, unknown>>): { spec: TaskSpec; problems: FieldProblem[] };
  /** The gold of one record (a JSONL line), or problems naming the record's key. */
  parseGold(raw: Readonly<Record<string, unknown>>, spec: TaskSpec): { answers?: string[]; label?: string; problems: FieldProblem[] };
  /** The continuation trained on after the example's prompt. */
  target(ex: Example, targetTemplate: string): string;
  /** Tokens a test prompt must leave free in the context (new tokens, or the longest label continuation). */
  answerRoom(spec: TaskSpec, targetTemplate: string, tokenizer: BpeTokenizer): number;
  /** Answers and scores the test prompts. */
  evaluate(input: EvaluateInput): TaskEvaluation;
  /** Whether a prediction counts as the given answer, by the task's own scoring (exact match after its normalisation, or the label). */
  matches(prediction: string, answer: string, spec: TaskSpec): boolean;
}
