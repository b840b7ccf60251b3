// Every metric a cell can report, defined once. The CSV, the HTML report, `bench compare` and the
// tests read names, units and directions from here, so a metric means the same thing everywhere.
// Definitions follow ../shared/DESIGN.md ("Metrics (binding definitions)").

export interface MetricDefinition {
  /** Column header label. */
  readonly label: string;
  /** Unit shown in headers ('' for a plain ratio). */
  readonly unit: string;
  /** Which direction is better; null where neither is (e.g. a count). */
  readonly higherIsBetter: boolean | null;
  /** What is measured, and how, in one sentence. */
  readonly description: string;
}

export const METRICS = {
  'quality.exactMatch': {
    label: 'Exact match', unit: '', higherIsBetter: true,
    description: 'Share of test questions whose greedy answer (up to the first newline, one trailing "." removed) equals the gold answer exactly; 95% Wilson interval over questions.',
  },
  'quality.tokenF1': {
    label: 'Token F1', unit: '', higherIsBetter: true,
    description: 'Mean over test questions of the F1 of whitespace tokens between predicted and gold answer (SQuAD style).',
  },
  'forgetting.heldOutBrownCe': {
    label: 'Held-out Brown CE', unit: 'nats/token', higherIsBetter: false,
    description: 'Mean per-token cross-entropy on Brown documents never trained on (the original capability), after adaptation.',
  },
  'forgetting.ceDelta': {
    label: 'Forgetting (CE delta)', unit: 'nats/token', higherIsBetter: false,
    description: 'Held-out Brown cross-entropy after adaptation minus before (0 for base).',
  },
  'forgetting.heldOutRcExactMatch': {
    label: 'Held-out reading comprehension EM', unit: '', higherIsBetter: true,
    description: 'Exact match answering questions about unseen fictional entities from a 3-document passage in the prompt, after adaptation.',
  },
  'forgetting.rcDelta': {
    label: 'Reading comprehension change', unit: '', higherIsBetter: true,
    description: 'Held-out reading-comprehension exact match after adaptation minus before (0 for base).',
  },
  'params.total': {
    label: 'Total parameters', unit: 'count', higherIsBetter: null,
    description: 'Exact count of all parameters of the served model (closed form, harness/engine/params.ts).',
  },
  'params.trainable': {
    label: 'Trainable parameters', unit: 'count', higherIsBetter: null,
    description: 'Exact count of parameters the approach updates (0 for base and rag).',
  },
  'params.trainablePct': {
    label: 'Trainable share', unit: '%', higherIsBetter: null,
    description: '100 * trainable / total.',
  },
  'memory.peakBytes': {
    label: 'Peak engine memory', unit: 'bytes', higherIsBetter: false,
    description: 'Peak bytes held by engine tensors during the cell\'s heaviest phase (tf.profile().peakBytes over a training step; over an evaluation batch for approaches that do not train).',
  },
  'memory.weightsBytes': {
    label: 'Weights', unit: 'bytes', higherIsBetter: false,
    description: 'Bytes of stored model weights (fp32 = 4 bytes per parameter).',
  },
  'memory.gradientsBytes': {
    label: 'Gradients', unit: 'bytes', higherIsBetter: false,
    description: 'Bytes of gradients of the trainable parameters in a training step (0 without training).',
  },
  'memory.optimizerBytes': {
    label: 'Optimizer state', unit: 'bytes', higherIsBetter: false,
    description: 'Bytes of AdamW moments (2 fp32 values per trainable parameter; 0 without training).',
  },
  'memory.activationsBytes': {
    label: 'Activations', unit: 'bytes', higherIsBetter: false,
    description: 'Peak engine bytes minus weights, gradients and optimizer state.',
  },
  'memory.rssPeakBytes': {
    label: 'Process RSS peak', unit: 'bytes', higherIsBetter: false,
    description: 'Peak resident set size of the cell\'s own process (process.resourceUsage().maxRSS).',
  },
  'memory.gpuPeakBytes': {
    label: 'GPU memory peak', unit: 'bytes', higherIsBetter: false,
    description: 'Peak device memory sampled with nvidia-smi during the cell; empty on CPU backends (not measurable there).',
  },
  'train.tokensPerSec': {
    label: 'Training throughput', unit: 'tokens/s', higherIsBetter: true,
    description: 'Training tokens per second, median over timed steps after warm-up.',
  },
  'train.wallSec': {
    label: 'Training wall time', unit: 's', higherIsBetter: false,
    description: 'Wall-clock seconds of the training loop.',
  },
  'eval.tokensPerSec': {
    label: 'Evaluation throughput', unit: 'tokens/s', higherIsBetter: true,
    description: 'Tokens processed per second by the held-out cross-entropy evaluation (forward only).',
  },
  'eval.generatedTokensPerSec': {
    label: 'Generation throughput', unit: 'tokens/s', higherIsBetter: true,
    description: 'New tokens per second of batched greedy generation on the test questions.',
  },
  'cell.wallSec': {
    label: 'Cell wall time', unit: 's', higherIsBetter: false,
    description: 'Wall-clock seconds of the whole cell, from process start to result.',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricId = keyof typeof METRICS;
export const METRIC_IDS = Object.keys(METRICS) as MetricId[];
