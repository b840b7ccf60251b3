// The data a suite is made of, in the form every loader produces (a user's JSONL files and the
// built-in generators alike): documents to retrieve from, examples to train and test on, qrels.

/** What RAG indexes: one passage of the suite's knowledge. */
export interface SuiteDocument {
  readonly id: string;
  readonly text: string;
  readonly title?: string;
}

/** One train or test example. Templates name its `fields`; the task type reads `answers` or `label`. */
export interface Example {
  /** Unique within the suite's train and test files; qrels refer to it. */
  readonly id: string;
  /** Text fields the prompt templates fill in (`{question}`), all strings. */
  readonly fields: Readonly<Record<string, string>>;
  /** generate: gold answers (the first is the one trained on); absent for choice. */
  readonly answers?: readonly string[];
  /** choice: the gold label, one of the suite's labels; absent for generate. */
  readonly label?: string;
  /** Documents relevant to the example (qrels with relevance 1); empty when none are known. */
  readonly docIds: readonly string[];
}

/** A relevance judgement, as in TREC/BEIR qrels. */
export interface Qrel {
  /** Example id. */
  readonly queryId: string;
  /** Document id. */
  readonly docId: string;
  /** Graded relevance; 1 = relevant. */
  readonly relevance: number;
}

