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
  /**
   * For a lower-is-better metric with a pass bound: any value at or below it is as good as any
   * other, so a change that stays within it is never a regression (float noise is not one).
   */
  readonly acceptableUpTo?: number;
}

/** A 95% interval for a metric, with how it was computed. */
export interface Interval {
  readonly low: number;
  readonly high: number;
  readonly method: string;
}

/** The largest logit difference an ONNX export may show against tfjs (float32 rounding of a reordered sum). */
export const LOGITS_TOLERANCE = 1e-4;

export const METRICS = {
  'quality.exactMatch': {
    label: 'Exact match', unit: '', higherIsBetter: true,
    description: 'Share of test questions whose greedy answer (up to the first newline, one trailing "." removed) equals the gold answer exactly; 95% Wilson interval over questions.',
  },
  'quality.tokenF1': {
    label: 'Token F1', unit: '', higherIsBetter: true,
    description: 'Mean over test questions of the F1 of whitespace tokens between predicted and gold answer (SQuAD style).',
  },
  'quality.accuracy': {
    label: 'Accuracy', unit: '', higherIsBetter: true,
    description: 'choice tasks: share of test examples whose highest-log-likelihood label is the gold one; 95% Wilson interval over examples.',
  },
  'quality.macroF1': {
    label: 'Macro-F1', unit: '', higherIsBetter: true,
    description: 'choice tasks: unweighted mean over labels of per-label F1 (labels neither gold nor predicted left out); 95% percentile bootstrap interval over examples.',
  },
  'quality.majorityClassRate': {
    label: 'Majority-class rate', unit: '', higherIsBetter: null,
    description: 'choice tasks: the accuracy of always answering the most frequent gold label of the evaluated test examples (the floor a classifier must beat).',
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
  'forgetting.suiteHeldOutCe': {
    label: 'Suite held-out CE', unit: 'nats/token', higherIsBetter: false,
    description: 'Mean per-token cross-entropy on the held-out text the suite ships (files.heldOut: the user\'s own original capability), after adaptation.',
  },
  'forgetting.suiteCeDelta': {
    label: 'Forgetting on suite held-out text', unit: 'nats/token', higherIsBetter: false,
    description: 'Suite held-out cross-entropy after adaptation minus before (0 for base); null where the suite ships no held-out text.',
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
  // Where a cell's time goes, stage by stage (they add up to about cell.wallSec, process start aside).
  'time.prepareSec': { label: 'Time: prepare', unit: 's', higherIsBetter: false, description: 'Seconds to start the backend, load the checkpoint, build the suite\'s data and prompts.' },
  'time.beforeSec': { label: 'Time: capability before', unit: 's', higherIsBetter: false, description: 'Seconds measuring the base model\'s held-out capability (0 when read from the cache of an identical earlier measurement).' },
  'time.adaptSec': { label: 'Time: adapt', unit: 's', higherIsBetter: false, description: 'Seconds the approach ran: training, indexing, merging (its update to changed facts aside, in time.updateSec).' },
  'time.updateSec': { label: 'Time: update', unit: 's', higherIsBetter: false, description: 'Seconds of the update to changed facts (update.wallSec; suites with an update); time.adaptSec excludes them.' },
  'time.forgettingSec': { label: 'Time: capability after', unit: 's', higherIsBetter: false, description: 'Seconds measuring the adapted model\'s held-out capability.' },
  'time.qualitySec': { label: 'Time: quality', unit: 's', higherIsBetter: false, description: 'Seconds answering and scoring the test examples (the k sweep included).' },
  'time.latencySec': { label: 'Time: latency', unit: 's', higherIsBetter: false, description: 'Seconds exporting to ONNX and timing inference latency.' },
  // issue 4: fine-tuning
  'train.samplesPerSec': {
    label: 'Training samples/s', unit: 'samples/s', higherIsBetter: true,
    description: 'Training examples (questions and documents) started per second, median over the same timed steps as training throughput.',
  },
  'train.finalLoss': {
    label: 'Final training loss', unit: 'nats/token', higherIsBetter: null,
    description: 'Mean training loss (per loss-bearing token) over the last tenth of the optimiser steps.',
  },
  'memory.analyticWeightsBytes': {
    label: 'Weights (analytical)', unit: 'bytes', higherIsBetter: false,
    description: 'Closed-form bytes of the trained model\'s weights as stored: 4 per fp32 parameter; NF4 layers 4.127 bits per weight (packed codes, 8-bit absmax codes, fp32 scales and mean); to compare with the measured figure.',
  },
  'memory.analyticGradientsBytes': {
    label: 'Gradients (analytical)', unit: 'bytes', higherIsBetter: false,
    description: 'Closed-form bytes of gradients: 4 per trainable parameter.',
  },
  'memory.analyticOptimizerBytes': {
    label: 'Optimizer state (analytical)', unit: 'bytes', higherIsBetter: false,
    description: 'Closed-form bytes of AdamW state: 8 per trainable parameter (two fp32 moments).',
  },
  'memory.bitsPerBaseParam': {
    label: 'Stored bits per base parameter', unit: 'bits', higherIsBetter: false,
    description: 'Bits the trained model stores per parameter of the frozen or trained base, over all base parameters: 32 for fp32; QLoRA mixes NF4 linear weights with fp32 embeddings, norms and biases.',
  },
  'quant.bitsPerQuantizedWeight': {
    label: 'Bits per NF4 weight', unit: 'bits', higherIsBetter: false,
    description: 'Stored bits per quantised linear weight (QLoRA): 4-bit code + 8-bit absmax per 64 + fp32 scale per 256 blocks + fp32 mean per matrix, about 4.127.',
  },
  'quant.meanAbsError': {
    label: 'Quantisation error, mean', unit: '', higherIsBetter: false,
    description: 'Mean |w - dequant(quant(w))| over the quantised base weights (NF4 with double-quantised absmax).',
  },
  'quant.maxAbsError': {
    label: 'Quantisation error, max', unit: '', higherIsBetter: false,
    description: 'Max |w - dequant(quant(w))| over the quantised base weights.',
  },
  'quant.meanRelError': {
    label: 'Quantisation error, mean relative', unit: '', higherIsBetter: false,
    description: 'Mean absolute quantisation error divided by the mean |w| of the quantised weights.',
  },
  'quant.maxRelError': {
    label: 'Quantisation error, max relative', unit: '', higherIsBetter: false,
    description: 'Max absolute quantisation error divided by the max |w| of the quantised weights.',
  },
  'quant.ceDelta': {
    label: 'CE cost of quantising', unit: 'nats/token', higherIsBetter: false,
    description: 'Held-out Brown cross-entropy of the NF4-quantised base (before training; the adapter adds 0) minus that of the fp32 base, on the first 16,384 held-out tokens.',
  },
  'artifact.adapterBytes': {
    label: 'Adapter file size', unit: 'bytes', higherIsBetter: false,
    description: 'Bytes of the saved adapter file (settings and A, B in fp32): what LoRA or QLoRA ships on top of the base checkpoint.',
  },
  'artifact.checkpointBytes': {
    label: 'Full checkpoint size', unit: 'bytes', higherIsBetter: false,
    description: 'Bytes of a full checkpoint (header with tokenizer + fp32 weights) of the served model, written the same way for every approach; full-ft ships this.',
  },
  'serve.weightsBytes': {
    label: 'Served weights', unit: 'bytes', higherIsBetter: false,
    description: 'Bytes of the weights of the model evaluated: LoRA merged into fp32 W; merging a QLoRA model gives a full-precision model (dequantised NF4 + (alpha/r)A B, fp32), not a 4-bit one.',
  },
  'serve.mergeLogitsRelDiff': {
    label: 'Merged vs unmerged logits', unit: '', higherIsBetter: false,
    description: 'Max |logits(merged) - logits(base + adapter)| / max |logits| on two training rows: the merge changes the numbers only by float rounding.',
  },
  // issue 5: retrieval
  'retrieval.recallAt1': {
    label: 'Retrieval recall@1', unit: '', higherIsBetter: true,
    description: 'BEIR recall@1 against the suite\'s qrels: relevant documents in the top 1 over all relevant documents, averaged over the test questions (document-level, as trec_eval computes it).',
  },
  'retrieval.recallAt5': {
    label: 'Retrieval recall@5', unit: '', higherIsBetter: true,
    description: 'BEIR recall@5 against the suite\'s qrels, averaged over the test questions.',
  },
  'retrieval.recallAt10': {
    label: 'Retrieval recall@10', unit: '', higherIsBetter: true,
    description: 'BEIR recall@10 against the suite\'s qrels, averaged over the test questions.',
  },
  'retrieval.mrrAt10': {
    label: 'Retrieval MRR@10', unit: '', higherIsBetter: true,
    description: 'Mean over test questions of 1/rank of the first relevant document in the top 10 (0 if none).',
  },
  'retrieval.ndcgAt10': {
    label: 'Retrieval nDCG@10', unit: '', higherIsBetter: true,
    description: 'nDCG@10 with linear gains (the qrels\' relevance) and log2(rank + 1) discounts, over the ideal ordering of the qrels (trec_eval ndcg_cut.10), averaged over test questions.',
  },
  'retrieval.annRecallAt10': {
    label: 'ANN recall@10 vs exact', unit: '', higherIsBetter: true,
    description: 'ann-benchmarks recall@10 of the index against exact search: per query, the share of the 10 results whose cosine distance is within the true 10th neighbour\'s + 1e-3; averaged over test questions.',
  },
  'retrieval.queriesPerSec': {
    label: 'Retrieval queries/s', unit: 'queries/s', higherIsBetter: true,
    description: 'Index searches per second at k = 10, one query per call, single thread, the best of 3 timed runs over the first 256 test questions (a run repeats them to last at least 0.2 s; embedding excluded).',
  },
  'retrieval.buildSec': {
    label: 'Index build time', unit: 's', higherIsBetter: false,
    description: 'Seconds to build the index from the chunk vectors (training included; embedding and writing excluded).',
  },
  'retrieval.indexBytes': {
    label: 'Index size', unit: 'bytes', higherIsBetter: false,
    description: 'Bytes of the index as written to disk by its library (vectors included).',
  },
  'retrieval.passagesPerPrompt': {
    label: 'Passages per prompt', unit: 'count', higherIsBetter: null,
    description: 'Mean number of retrieved passages kept in a test prompt after fitting the context (k, less the passages dropped so the answer still fits).',
  },
  'retrieval.goldInPrompt': {
    label: 'Gold passage in prompt', unit: '', higherIsBetter: true,
    description: 'Share of test prompts that contain a passage of the document stating the answer, after fitting the context.',
  },
  'retrieval.evidenceCoverage': {
    label: 'Evidence coverage', unit: '', higherIsBetter: true,
    description: 'Mean over test questions of the share of the documents its answer needs (its docIds) that have a passage in its prompt, after fitting the context; 0 for a closed-book prompt.',
  },
  // The k sweep (suites with kSweep: corpus-wide): the same retriever at k = 1, 3, 10 and as many
  // passages as fit the context, each k answered and scored like the cell's own k.
  'sweep.coverageAtK1': { label: 'Evidence coverage, k = 1', unit: '', higherIsBetter: true, description: 'retrieval.evidenceCoverage with 1 passage retrieved per question.' },
  'sweep.coverageAtK3': { label: 'Evidence coverage, k = 3', unit: '', higherIsBetter: true, description: 'retrieval.evidenceCoverage with 3 passages retrieved per question.' },
  'sweep.coverageAtK10': { label: 'Evidence coverage, k = 10', unit: '', higherIsBetter: true, description: 'retrieval.evidenceCoverage with 10 passages retrieved per question (fewer reach the prompt where the context cannot hold them).' },
  'sweep.coverageAtFit': { label: 'Evidence coverage, k = as many as fit', unit: '', higherIsBetter: true, description: 'retrieval.evidenceCoverage with as many passages as the context holds (sweep.kFit).' },
  'sweep.kFit': { label: 'k that fits the context', unit: 'count', higherIsBetter: null, description: 'Mean number of passages that fit a test prompt when retrieval asks for every chunk: the k of the sweep.*AtFit metrics.' },
  'sweep.headlineAtK1': { label: 'Headline metric, k = 1', unit: '', higherIsBetter: true, description: 'The suite\'s headline metric with 1 passage retrieved per question.' },
  'sweep.headlineAtK3': { label: 'Headline metric, k = 3', unit: '', higherIsBetter: true, description: 'The suite\'s headline metric with 3 passages retrieved per question.' },
  'sweep.headlineAtK10': { label: 'Headline metric, k = 10', unit: '', higherIsBetter: true, description: 'The suite\'s headline metric with 10 passages retrieved per question.' },
  'sweep.headlineAtFit': { label: 'Headline metric, k = as many as fit', unit: '', higherIsBetter: true, description: 'The suite\'s headline metric with as many passages as fit the context.' },
  // Facts that change (fresh-facts): every approach is adapted on the old facts, then updated with
  // the changed documents (re-indexed, or trained on further), and asked about every fact again.
  'fresh.newFactAccuracy': { label: 'Changed facts: new answer', unit: '', higherIsBetter: true, description: 'Exact match against the new value, over test questions on facts changed by the update.' },
  'fresh.staleRate': { label: 'Changed facts: stale answer', unit: '', higherIsBetter: false, description: 'Share of test questions on changed facts answered with the old value (exact match against it).' },
  'fresh.unchangedAccuracy': { label: 'Unchanged facts', unit: '', higherIsBetter: true, description: 'Exact match over test questions on facts the update left alone, after the update (did it break them).' },
  'update.wallSec': { label: 'Update time', unit: 's', higherIsBetter: false, description: 'Wall time of the update: re-embedding and re-indexing the changed documents, or training on them (or retraining from the base).' },
  'update.tokens': { label: 'Update tokens', unit: 'tokens', higherIsBetter: false, description: 'Tokens the update processed: embedded for re-indexing, or seen by the optimiser in training.' },
  'update.peakBytes': { label: 'Update peak memory', unit: 'bytes', higherIsBetter: false, description: 'Peak engine bytes (tf.profile) over the update\'s heaviest step: a training step, or the re-embedding; plus the index\'s bytes when re-indexing.' },
  'update.documents': { label: 'Documents updated', unit: 'count', higherIsBetter: null, description: 'Documents re-embedded (retrieval) or trained on (fine-tuning) in the update.' },
  'update.indexAgreement': { label: 'Re-indexed = rebuilt', unit: '', higherIsBetter: true, description: 'Share of test queries whose top-k ids from the updated index equal those of an index built from scratch on the new documents (1 for exact search by construction).' },
  // Peak memory by phase, so rows that train and rows that do not compare on the same phase.
  'memory.trainPeakBytes': { label: 'Peak memory, training step', unit: 'bytes', higherIsBetter: false, description: 'tf.profile().peakBytes over one training step; null for approaches that do not train.' },
  'memory.servePeakBytes': { label: 'Peak memory, serving', unit: 'bytes', higherIsBetter: false, description: 'The served model\'s weights plus tf.profile().peakBytes over one evaluation batch (8 x context held-out Brown tokens) above the bytes live before it, for every approach: what else the cell holds does not count.' },
  // issue 6: inference latency after merging. The served model exported to ONNX and run by
  // onnxruntime-node, timed with tinybench after warm-up; a request is a prefill of a fixed-length
  // prompt then one cached decode step per new token (harness/export/).
  'latency.requestP50Ms': {
    label: 'Request latency p50', unit: 'ms', higherIsBetter: false,
    description: 'Median time of one request (prefill of the fixed prompt, then the fixed number of new tokens, greedy, KV cache) of the served model (adapters merged) in onnxruntime-node.',
  },
  'latency.requestP95Ms': { label: 'Request latency p95', unit: 'ms', higherIsBetter: false, description: '95th percentile of the request time (as latency.requestP50Ms).' },
  'latency.requestP99Ms': { label: 'Request latency p99', unit: 'ms', higherIsBetter: false, description: '99th percentile of the request time (as latency.requestP50Ms).' },
  'latency.requestMeanMs': { label: 'Request latency mean', unit: 'ms', higherIsBetter: false, description: 'Mean request time (as latency.requestP50Ms); tinybench\'s margin of error in latency.requestMoeMs.' },
  'latency.requestMoeMs': { label: 'Request latency margin', unit: 'ms', higherIsBetter: null, description: 'Half-width of the 95% interval of the mean request time (Student t over requests, tinybench\'s moe).' },
  'latency.prefillP50Ms': { label: 'Prefill latency p50', unit: 'ms', higherIsBetter: false, description: 'Median time of the prefill of the fixed prompt (the first new token\'s logits), served model in onnxruntime-node.' },
  'latency.prefillP95Ms': { label: 'Prefill latency p95', unit: 'ms', higherIsBetter: false, description: '95th percentile of the prefill time.' },
  'latency.prefillP99Ms': { label: 'Prefill latency p99', unit: 'ms', higherIsBetter: false, description: '99th percentile of the prefill time.' },
  'latency.tokenP50Ms': { label: 'Per-token latency p50', unit: 'ms', higherIsBetter: false, description: 'Median time of one cached decode step (one generated token), served model in onnxruntime-node.' },
  'latency.tokenP95Ms': { label: 'Per-token latency p95', unit: 'ms', higherIsBetter: false, description: '95th percentile of the decode-step time.' },
  'latency.tokenP99Ms': { label: 'Per-token latency p99', unit: 'ms', higherIsBetter: false, description: '99th percentile of the decode-step time.' },
  'latency.tokenMeanMs': { label: 'Per-token latency mean', unit: 'ms', higherIsBetter: false, description: 'Mean decode-step time; margin of error in latency.tokenMoeMs.' },
  'latency.tokenMoeMs': { label: 'Per-token latency margin', unit: 'ms', higherIsBetter: null, description: 'Half-width of the 95% interval of the mean decode-step time (Student t over decode steps, tinybench\'s moe).' },
  'latency.tokenRatioToBase': {
    label: 'Per-token latency / base', unit: '', higherIsBetter: false,
    description: 'Median decode-step time of the served model over the base model\'s, both exported to ONNX and timed interleaved in the same process; 1.0 = no added latency.',
  },
  'latency.tokenRatioToBaseLow': { label: 'Per-token latency / base, 95% low', unit: '', higherIsBetter: null, description: 'Lower end of the 95% bootstrap interval of latency.tokenRatioToBase.' },
  'latency.tokenRatioToBaseHigh': { label: 'Per-token latency / base, 95% high', unit: '', higherIsBetter: null, description: 'Upper end of the 95% bootstrap interval of latency.tokenRatioToBase.' },
  'latency.unmergedTokenP50Ms': { label: 'Unmerged per-token latency p50', unit: 'ms', higherIsBetter: false, description: 'Median decode-step time in onnxruntime-node with the adapter branch x·A·B kept in the graph (LoRA-family approaches only).' },
  'latency.unmergedRequestP50Ms': { label: 'Unmerged request latency p50', unit: 'ms', higherIsBetter: false, description: 'Median request time with the adapter branch kept in the graph (LoRA-family approaches only).' },
  'latency.unmergedTokenRatioToBase': { label: 'Unmerged per-token latency / base', unit: '', higherIsBetter: false, description: 'Median decode-step time of the unmerged ONNX model over the base model\'s, timed interleaved in the same process.' },
  'latency.unmergedTokenRatioToBaseLow': { label: 'Unmerged per-token / base, 95% low', unit: '', higherIsBetter: null, description: 'Lower end of the 95% bootstrap interval of latency.unmergedTokenRatioToBase.' },
  'latency.unmergedTokenRatioToBaseHigh': { label: 'Unmerged per-token / base, 95% high', unit: '', higherIsBetter: null, description: 'Upper end of the 95% bootstrap interval of latency.unmergedTokenRatioToBase.' },
  'latency.tfjsTokenP50Ms': { label: 'tfjs per-token latency p50', unit: 'ms', higherIsBetter: false, description: 'Median decode-step time of the model as trained (adapter unmerged) in the training framework (tfjs, the run\'s backend), same prompt and cache.' },
  'latency.tfjsRequestP50Ms': { label: 'tfjs request latency p50', unit: 'ms', higherIsBetter: false, description: 'Median request time of the model as trained (adapter unmerged) in tfjs, same prompt and new tokens.' },
  'latency.requestRatioToBase': {
    label: 'Request latency / base', unit: '', higherIsBetter: false,
    description: 'Median request time of the served model over the base model\'s, both in onnxruntime-node, timed interleaved in the same process; 1.0 = no added latency.',
  },
  'latency.requestRatioToBaseLow': { label: 'Request latency / base, 95% low', unit: '', higherIsBetter: null, description: 'Lower end of the 95% bootstrap interval of latency.requestRatioToBase.' },
  'latency.requestRatioToBaseHigh': { label: 'Request latency / base, 95% high', unit: '', higherIsBetter: null, description: 'Upper end of the 95% bootstrap interval of latency.requestRatioToBase.' },
  'latency.baseTokenP50Ms': { label: 'Base per-token latency p50 (same cell)', unit: 'ms', higherIsBetter: false, description: 'Median decode-step time of the base model\'s ONNX export, timed in this cell interleaved with the served model: the denominator of the ratios.' },
  'latency.baseRequestP50Ms': { label: 'Base request latency p50 (same cell)', unit: 'ms', higherIsBetter: false, description: 'Median request time of the base model\'s ONNX export, timed in this cell interleaved with the served model.' },
  'export.logitsMaxAbsDiff': {
    label: 'ONNX vs tfjs logits, max diff', unit: '', higherIsBetter: false, acceptableUpTo: LOGITS_TOLERANCE,
    description: 'Max |logits(ONNX) - logits(tfjs)| of the served model over the latency prompt\'s prefill and every decode step (the exported model is the model when <= 1e-4 and greedy tokens agree).',
  },
  'export.unmergedLogitsMaxAbsDiff': {
    label: 'Unmerged ONNX vs tfjs logits, max diff', unit: '', higherIsBetter: false, acceptableUpTo: LOGITS_TOLERANCE,
    description: 'Max |logits(ONNX, adapter branch in the graph) - logits(tfjs model as trained)| over the same prefill and decode steps.',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricId = keyof typeof METRICS;
export const METRIC_IDS = Object.keys(METRICS) as MetricId[];
