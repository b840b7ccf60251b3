// The one interface every approach implements. The cell (harness/cell.ts) loads the base model and
// the suite's data, hands them to the approach, and measures whatever model and prompts come back
// with the same code for every approach; the runner knows approaches only through the registry.
import type { BackendInfo } from '../harness/engine/backend.js';
import type { LoadedCheckpoint } from '../harness/engine/checkpoint.js';
import type { UnmergedAdapter } from '../harness/export/gpt-onnx.js';
import type { ModelConfig } from '../harness/engine/config.js';
import type { GPT } from '../harness/engine/model.js';
import type { BpeTokenizer } from '../harness/engine/tokenizer.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { Example, Suite, SuiteData } from '../suites/types.js';
import type { RetrievalCorpus, SuitePrompts } from '../tasks/prompts.js';

/** An approach's options: plain JSON values (recorded in results and in the config hash). */
export type ApproachConfig = Readonly<Record<string, unknown>>;

/** What an approach is given for one cell. */
export interface CellContext {
  readonly suite: Suite;
  /** The suite's data for this cell's seed: train, test, documents, qrels. */
  readonly data: SuiteData;
  /** The suite's prompts, targets and fitting, the same for every approach (tasks/prompts.ts). */
  readonly prompts: SuitePrompts;
  readonly seed: number;
  /** The approach's defaults with the cell's overrides applied, already validated. */
  readonly config: ApproachConfig;
  /**
   * The base checkpoint, loaded and hash-verified. Shared with the measurements of the "before"
   * state: never change `base.model` in place; adapt `base.model.clone()` instead.
   */
  readonly base: LoadedCheckpoint;
  readonly backend: BackendInfo;
  /** One line to the cell's log. */
  readonly log: (line: string) => void;
  /** Progress of a long phase (training, indexing): `done` of `total` units. */
  readonly progress: (phase: string, done: number, total: number) => void;
}

/** Memory over the approach's heaviest phase, in bytes (DESIGN.md, memory.*). */
export interface MemoryBreakdown {
  /** Peak engine bytes (tf.profile().peakBytes) over one training step. */
  readonly peakBytes: number;
  /** Stored weights of the served model (4-bit for QLoRA's frozen weights). */
  readonly weightsBytes: number;
  readonly gradientsBytes: number;
  readonly optimizerBytes: number;
  /** peakBytes minus the three above. */
  readonly activationsBytes: number;
}

/** What training did, for approaches that train. */
export interface TrainingSummary {
  readonly steps: number;
  readonly batchSize: number;
  readonly seqLen: number;
  /** Tokens seen by the optimiser, all steps together. */
  readonly tokens: number;
  readonly wallSec: number;
  /** Median over timed steps after warm-up. */
  readonly tokensPerSec: number;
  readonly finalLoss: number;
}

/** The frozen base's fp32 weights and an adapter kept apart from them (exported with x·A·B in the graph). */
export interface UnmergedForm {
  readonly weights: ReadonlyMap<string, Float32Array>;
  readonly adapter: UnmergedAdapter;
}

/**
 * The other forms of a served model with an adapter, for the latency measurements (issue 6). The
 * served model is merged in place, so these are captured before merging.
 */
export interface ServingForms {
  /** The model as trained (adapter attached, not merged), built anew; the caller disposes it. */
  asTrained(): Promise<{ readonly model: GPT; dispose(): void }>;
  /** The unmerged form, or why the approach has none to export. */
  readonly unmerged: UnmergedForm | { readonly unavailable: string };
}

/** How many passages to retrieve for a prompt: a count, or as many as fit the context. */
export type SweepK = number | 'fit';

/** Test prompts at one k, with what reached each after fitting the context. */
export interface PromptsAtK {
  readonly prompts: readonly string[];
  /** Per example: the share of its docIds with a passage in its prompt; null where it names none. */
  readonly coverage: ReadonlyArray<number | null>;
  /** Per example: passages in its prompt. */
  readonly passages: readonly number[];
}

/** What an approach hands back to be measured. */
export interface ApproachOutcome {
  /** The model to evaluate: `ctx.base.model` itself when nothing was adapted. */
  readonly model: GPT;
  /**
   * The prompt for each test example, in order (ctx.prompts): closed-book for approaches without
   * retrieval, with retrieved passages for RAG. Answering and scoring are the task type's, the same for all.
   */
  prompts(examples: readonly Example[]): Promise<string[]>;
  /**
   * Approaches that retrieve: their k, and the test prompts at any k with the evidence each holds
   * (evidence coverage and the k sweep, harness/k-sweep.ts). Absent for closed-book approaches.
   */
  readonly retrieval?: {
    readonly k: number;
    promptsAtK(examples: readonly Example[], k: SweepK): PromptsAtK;
  };
  /** Exact parameter counts of the served model (for QLoRA: quantised base plus adapters). */
  readonly params: { readonly total: number; readonly trainable: number };
  /** Null when the approach does not train (base, rag). */
  readonly training: TrainingSummary | null;
  /** Measured over a training step; null when there is none, and the cell profiles an evaluation batch. */
  readonly memory: MemoryBreakdown | null;
  /** Absent where the served model is the model as trained (no adapter: base, rag, full-ft). */
  readonly serving?: ServingForms;
  /** Approach-specific results, e.g. retrieval.* metrics, with notes and what it was given. */
  readonly extra?: {
    readonly metrics?: Partial<Record<MetricId, number | null>>;
    readonly notes?: Partial<Record<MetricId, string>>;
    readonly inputs?: Readonly<Record<string, unknown>>;
  };
  /** What the update to changed facts did and cost (suites with an update; ctx.data.update); absent otherwise. */
  readonly update?: UpdateOutcome;
  /** Frees the approach's tensors (adapted copies, indexes) after measurement. */
  dispose?(): void;
}

/** An approach's update to the suite's changed facts: re-indexing, training further, or retraining. */
export interface UpdateOutcome {
  /** One line on what was done, for the report. */
  readonly how: string;
  readonly wallSec: number;
  /** Tokens embedded again, or seen by the optimiser. */
  readonly tokens: number;
  /** Engine bytes at the update's peak (update.peakBytes). */
  readonly peakBytes: number;
  readonly documents: number;
  /** Re-indexing: share of test queries whose top-k equals a from-scratch rebuild's; null for training. */
  readonly indexAgreement: number | null;
  readonly notes: Partial<Record<MetricId, string>>;
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** One adaptation method. Implementations are small objects, one module each, in adapters/. */
export interface Approach {
  /** Registry name, e.g. 'lora'. */
  readonly name: string;
  /** One line for `bench list` and reports. */
  readonly description: string;
  /** Every option with its default; a cell's overrides may only name these keys. */
  readonly defaults: ApproachConfig;
  /** Problems with a resolved config, each naming the key: 'approach.lora.rank must be ...'. */
  validateConfig(config: ApproachConfig): string[];
  /**
   * Problems that depend on the base model's shape (e.g. a LoRA rank above what a target layer
   * allows), checked once the checkpoint's config is known; absent when there are none.
   */
  validateForModel?(config: ApproachConfig, model: ModelConfig): string[];
  /**
   * Problems that depend on a suite's data (e.g. k above the number of passages to retrieve from),
   * checked by the runner for every suite and seed before the run folder is written.
   */
  validateForData?(config: ApproachConfig, corpus: RetrievalCorpus, tokenizer: BpeTokenizer): string[];
  run(ctx: CellContext): Promise<ApproachOutcome>;
}
