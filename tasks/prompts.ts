// Prompts of a suite, the same for every approach: the example's prompt from the suite's template,
// retrieved passages before it, the continuation trained on, and the fitting of long inputs into the
// model's context. Fitting cuts the field the suite names (keeping its start, its end or both ends)
// and counts every cut, so nothing is cut silently.
import type { Example, SuiteDocument } from '../datasets/examples.js';
import type { BpeTokenizer } from '../harness/engine/tokenizer.js';
import { fitPrompt, type FittedPrompt } from '../harness/retrieval/context.js';
import { renderTemplate } from '../suites/template.js';
import type { SuiteData, SuiteDefinition } from '../suites/types.js';
import type { TaskType } from './types.js';

/** What fitting did over a set of prompts. */
export interface FitCounts {
  /** Prompts built. */
  prompts: number;
  /** Prompts whose example had to be cut to fit (its fit field, or the whole prompt from its start). */
  cut: number;
  /** Tokens removed by those cuts, all prompts together. */
  tokensCut: number;
}

/** A training example: its tokens (ending with end-of-text) and which of them carry loss. */
export interface TrainingExample {
  readonly kind: 'qa' | 'document';
  readonly tokens: readonly number[];
  /** lossOn[k]: whether predicting tokens[k] (from the tokens before it) counts in the loss. */
  readonly lossOn: readonly boolean[];
}

/** Marks where the middle of a field was cut when both ends are kept. */
export const CUT_MARK = ' … ';

/** The retrieval corpus of a suite: its documents, or for a choice suite without any, its labelled training examples. */
export interface RetrievalCorpus {
  readonly kind: 'documents' | 'demonstrations';
  readonly documents: readonly SuiteDocument[];
}

export class SuitePrompts {
  readonly suite: SuiteDefinition;
  readonly task: TaskType;
  readonly tokenizer: BpeTokenizer;
  /** Tokens a test prompt may take: the context less the task's answer room. */
  readonly testBudget: number;
  /** Fitting of test prompts (closed-book and with passages) and of training rows. */
  readonly counts: { readonly test: FitCounts; readonly train: FitCounts } = {
    test: { prompts: 0, cut: 0, tokensCut: 0 },
    train: { prompts: 0, cut: 0, tokensCut: 0 },
  };

  constructor(suite: SuiteDefinition, task: TaskType, tokenizer: BpeTokenizer, nCtx: number) {
    this.suite = suite;
    this.task = task;
    this.tokenizer = tokenizer;
    this.testBudget = nCtx - task.answerRoom(suite.task, suite.prompt.target, tokenizer);
  }

  /** The example's prompt after `passages`, as built, without fitting. */
  render(ex: Example, passages: readonly string[] = []): string {
    const p = this.suite.prompt;
    return passages.map((text) => renderTemplate(p.passage, { text })).join('') + renderTemplate(p.template, ex.fields);
  }

  /** The retrieval query of the example. */
  query(ex: Example): string {
    return renderTemplate(this.suite.prompt.query, ex.fields);
  }

  /** The continuation trained on after the prompt. */
  target(ex: Example): string {
    // Fields first, the gold left as a placeholder for the task type to fill in.
    const gold = this.task.targetField;
    return this.task.target(ex, renderTemplate(this.suite.prompt.target, { ...ex.fields, [gold]: `{${gold}}` }));
  }

  /** A labelled training example as a demonstration: its prompt and its target. */
  demonstration(ex: Example): string {
    return this.render(ex) + this.target(ex);
  }

  /** Texts that stand for the suite's inputs (fixed model inputs to compare or time on): its documents, or its labelled training examples. */
  sampleTexts(data: SuiteData): string[] {
    return data.documents.length ? data.documents.map((d) => d.text) : data.train.map((ex) => this.demonstration(ex));
  }

  /** What RAG retrieves from for this suite: its documents, or (where the task type allows) its labelled training examples. */
  retrievalCorpus(data: SuiteData): RetrievalCorpus {
    if (data.documents.length > 0 || !this.task.demonstrations) return { kind: 'documents', documents: data.documents };
    return { kind: 'demonstrations', documents: data.train.map((ex) => ({ id: ex.id, text: this.demonstration(ex) })) };
  }

  /**
   * The example with its fit field cut so that its prompt alone takes at most `budget` tokens, and
   * the tokens cut. Where no fit field is named, or cutting it all is not enough, the rest stays
   * over the budget and is counted: generation and training rows keep a prompt's last tokens.
   */
  fitExample(ex: Example, budget: number): { ex: Example; tokensCut: number } {
    const tokens = this.tokenizer.encode(this.render(ex)).length;
    if (tokens <= budget) return { ex, tokensCut: 0 };
    const { field, keep } = this.suite.prompt.fit;
    if (field === null) return { ex, tokensCut: tokens - budget };
    const ids = this.tokenizer.encode(ex.fields[field] ?? '');
    const cut = (n: number): string => {
      if (n >= ids.length) return ex.fields[field] ?? '';
      if (keep === 'start') return this.tokenizer.decode(ids.slice(0, n));
      if (keep === 'end') return this.tokenizer.decode(ids.slice(ids.length - n));
      const head = Math.ceil(n / 2);
      return this.tokenizer.decode(ids.slice(0, head)) + CUT_MARK + this.tokenizer.decode(ids.slice(ids.length - (n - head)));
    };
    const withField = (n: number): Example => ({ ...ex, fields: { ...ex.fields, [field]: cut(n) } });
    const length = (n: number): number => this.tokenizer.encode(this.render(withField(n))).length;
    // The most field tokens with which the prompt fits: binary search (fewer tokens never make it longer).
    let lo = 0, hi = ids.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (length(mid) <= budget) lo = mid;
      else hi = mid - 1;
    }
    const fitted = withField(lo);
    const left = length(lo);
    return { ex: fitted, tokensCut: tokens - Math.min(left, budget) };
  }

  /** Counts one prompt served (test) or trained on (train) whose example lost `tokensCut` tokens to fitting. */
  record(which: 'test' | 'train', tokensCut: number): void {
    const c = this.counts[which];
    c.prompts += 1;
    if (tokensCut > 0) {
      c.cut += 1;
      c.tokensCut += tokensCut;
    }
  }

  /** The closed-book test prompt of each example, fitted. */
  closedBook(examples: readonly Example[]): string[] {
    return examples.map((ex) => {
      const f = this.fitExample(ex, this.testBudget);
      this.record('test', f.tokensCut);
      return this.render(f.ex);
    });
  }

  /**
   * The test prompt with as many of `passages` (best first) as fit after the fitted example; the
   * passages are then arranged best-last or best-first.
   */
  withPassages(ex: Example, passages: readonly string[], order: 'best-first' | 'best-last', budget = this.testBudget): FittedPrompt & { readonly exampleTokensCut: number } {
    const f = this.fitExample(ex, budget);
    const fit = fitPrompt(passages, (ps) => this.render(f.ex, ps), this.tokenizer, budget);
    if (order === 'best-first' || fit.passages.length < 2) return { ...fit, exampleTokensCut: f.tokensCut };
    return { ...fit, prompt: this.render(f.ex, [...fit.passages].reverse()), exampleTokensCut: f.tokensCut };
  }


  /** Tokens a training row leaves for the prompt of `ex`: the row less its target and end-of-text. */
  rowBudget(ex: Example, seqLen: number): number {
    return seqLen + 1 - this.tokenizer.encode(this.target(ex)).length - 1;
  }

  /** A training row's example: the prompt (fitted to the row) then the target, loss on the target only. */
  trainingExample(ex: Example, seqLen: number, prompt?: string): TrainingExample {
    let text = prompt;
    if (text === undefined) {
      const f = this.fitExample(ex, this.rowBudget(ex, seqLen));
      this.record('train', f.tokensCut);
      text = this.render(f.ex);
    }
    const p = this.tokenizer.encode(text);
    const t = this.tokenizer.encode(this.target(ex));
    return { kind: 'qa', tokens: [...p, ...t, this.tokenizer.eotId], lossOn: [...p.map(() => false), ...t.map(() => true), false] };
  }

  /** What fitting did, for the result's inputs. */
  fitSummary(): Readonly<Record<string, unknown>> {
    const { field, keep } = this.suite.prompt.fit;
    return {
      rule: field === null ? 'no fit field: an over-long prompt keeps its last tokens' : `field "${field}" cut, keeping its ${keep === 'both' ? 'start and end' : keep}`,
      testPromptBudgetTokens: this.testBudget,
      test: { ...this.counts.test },
      train: { ...this.counts.train },
    };
  }
}
