// A suite is data plus a description: declarative, so the runner, reports and manifests can treat
// every suite the same way and record exactly what each cell was given.
import type { Attribute } from '../datasets/entities.js';

/** One question with its gold answer. */
export interface QaExample {
  /** Unique within the suite data; qrels refer to it. */
  id: string;
  /** Name of the entity asked about. */
  entity: string;
  /** Which fact is asked. */
  attribute: Attribute;
  /** The question text (a filled QUESTION_TEMPLATES phrasing). */
  question: string;
  /** Answer lead-in the prompt ends with (answerLeadIn). */
  leadIn: string;
  /** Gold answer, compared with exactMatch. */
  answer: string;
  /** Id of the document that states the answer. */
  docId: string;
}

/** A relevance judgement, as in TREC/BEIR qrels. */
export interface Qrel {
  /** QaExample id. */
  queryId: string;
  /** Document id. */
  docId: string;
  /** Graded relevance; 1 = relevant. */
  relevance: number;
}

/** Everything one cell of a suite trains and evaluates on. */
export interface SuiteData {
  /** Knowledge documents: what RAG indexes. */
  documents: Array<{ id: string; text: string }>;
  /** Training questions (train phrasings). */
  train: QaExample[];
  /** Evaluation questions (test phrasings only). */
  test: QaExample[];
  /** Relevance judgements for every train and test question. */
  qrels: Qrel[];
  /** contentHash of { documents, train, test, qrels }, for the run manifest. */
  contentHash: string;
}

/** A benchmark suite. */
export interface Suite {
  /** Registry name, e.g. "knowledge-qa". */
  name: string;
  /** Bumped whenever the data or prompts change, so results from different versions are not mixed. */
  version: string;
  /** One line: what the suite contains. */
  description: string;
  /** One line: the user's situation the suite stands for. */
  useCase: string;
  /** The suite's data for `seed`: the facts never depend on it, only order and phrasing choices. */
  buildData(seed: number): SuiteData;
  /** What a cell may spend; absent fields mean the harness defaults (e.g. every test question). */
  budget?: SuiteBudget;
}

/** Per-suite limits, recorded in each result's inputs. */
export interface SuiteBudget {
  /** Test questions evaluated per cell: a seeded subset stratified by attribute when smaller than the split. */
  testQuestions?: number;
  /** Fine-tuning budget, the same for every approach that trains (full-ft, lora, qlora). */
  train?: SuiteTrainBudget;
}

/** Optimiser steps, rows per step and tokens per row: identical for every fine-tuning approach of a suite. */
export interface SuiteTrainBudget {
  readonly steps: number;
  readonly batchSize: number;
  readonly seqLen: number;
}
