// One cell, in-process: load the base, build the suite's data, let the approach adapt, then measure
// quality, forgetting, parameters, memory and throughput with the same code for every approach.
// The runner runs this in a child process per cell (harness/cell-worker.ts).
import { execFile } from 'node:child_process';
import { getApproach } from '../adapters/registry.js';
import type { ApproachOutcome, MemoryBreakdown } from '../adapters/types.js';
import { heldOutCapability } from '../datasets/capability.js';
import { exactMatch } from '../datasets/episodes.js';
import { contentHash } from '../datasets/hash.js';
import { createRng } from '../datasets/rng.js';
import { getSuite } from '../suites/registry.js';
import type { QaExample, Suite } from '../suites/types.js';
import { initBackend, tf, type BackendInfo } from './engine/backend.js';
import { loadCheckpoint } from './engine/checkpoint.js';
import { meanCrossEntropy } from './engine/evaluate.js';
import type { GPT } from './engine/model.js';
import type { BpeTokenizer } from './engine/tokenizer.js';
import { UsageError } from './errors.js';
import { latencySettingsFor } from './export/latency.js';
import { latencyPrompt, measureServingLatency } from './export/serving-latency.js';
import { ANSWER_MAX_NEW_TOKENS, BROWN_EVAL_MAX_TOKENS, answerPrompts, brownCrossEntropy, documentTokens, readingComprehension } from './evaluation.js';
import { METRIC_IDS, type MetricId } from './metrics/definitions.js';
import { tokenF1 } from './metrics/quality.js';
import { meanInterval, wilsonInterval } from './metrics/stats.js';
import { RESULT_SCHEMA_VERSION, type CellResult, type CellSpec, type CompletedCell, type Interval } from './results.js';

/** Everything a worker needs to run one cell; written by the runner as `jobs/<id>.json`. */
export interface CellJob {
  readonly spec: CellSpec;
  /** Absolute path of the base checkpoint folder. */
  readonly checkpointDir: string;
  /** Backend requested with --backend; undefined picks the best that starts. */
  readonly backend?: string;
  /** Test questions evaluated at most (--limit-test); overrides the suite's budget. */
  readonly testLimit?: number;
}

export interface CellRunOptions {
  readonly log: (line: string) => void;
  /** Epoch ms the cell's process started (cell.wallSec counts from here); default: now. */
  readonly startedAtMs?: number;
}

/**
 * Test questions evaluated per cell when neither --limit-test nor the suite sets a budget: all.
 * Measured: all 1243 of knowledge-qa take 10.4 s with the default model size on 2 cores (KV-cached
 * greedy decoding, every answer at its 24-token maximum), so there is no need to subsample.
 */
export const DEFAULT_TEST_QUESTIONS = Infinity;
/** Prompts generated together; part of the decoding settings recorded in every result. */
export const EVAL_BATCH_SIZE = 32;
/** Windows of the model's context in the profiled evaluation batch (meanCrossEntropy's default batch). */
const PROFILE_WINDOWS = 8;

/** The suite's test-question budget, where it declares one (`budget.testQuestions`). */
export function testBudgetOf(suite: Suite): number | null {
  const n = suite.budget?.testQuestions;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * `n` test questions, stratified by attribute (each attribute's share kept, largest remainders
 * rounded up), drawn with a seeded shuffle, returned in the split's order. All when n >= length.
 */
export function selectTestSubset(test: readonly QaExample[], n: number, seedKey: string): QaExample[] {
  if (n >= test.length) return [...test];
  const rng = createRng(seedKey);
  const byAttribute = new Map<string, number[]>();
  test.forEach((q, i) => {
    const list = byAttribute.get(q.attribute) ?? [];
    list.push(i);
    byAttribute.set(q.attribute, list);
  });
  const groups = [...byAttribute.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const quotas = groups.map(([, idx]) => (n * idx.length) / test.length);
  const take = quotas.map(Math.floor);
  let left = n - take.reduce((a, b) => a + b, 0);
  const byRemainder = quotas.map((q, g) => ({ g, r: q - Math.floor(q) })).sort((a, b) => b.r - a.r || a.g - b.g);
  for (const { g } of byRemainder) {
    if (left === 0) break;
    take[g]! += 1;
    left -= 1;
  }
  const chosen = groups.flatMap(([, idx], g) => rng.shuffle(idx).slice(0, take[g]));
  return chosen.sort((a, b) => a - b).map((i) => test[i]!);
}

interface Capability {
  readonly brownCe: number;
  readonly brownTokens: number;
  readonly brownTokensPerSec: number;
  readonly rcCorrect: number;
  readonly rcTotal: number;
}

function measureCapability(model: GPT, tokenizer: BpeTokenizer, cap: ReturnType<typeof heldOutCapability>, who: string): Capability {
  const brown = brownCrossEntropy(model, tokenizer, cap.brown);
  if (!Number.isFinite(brown.ce)) {
    throw new Error(`held-out Brown cross-entropy of the ${who} is ${brown.ce}: its weights or outputs are not finite. Fix: re-create the checkpoint (\`bench pretrain\`) or lower the approach's learning rate`);
  }
  const rc = readingComprehension(model, tokenizer, cap.rc);
  return { brownCe: brown.ce, brownTokens: brown.tokens, brownTokensPerSec: brown.tokensPerSec, rcCorrect: rc.correct, rcTotal: rc.total };
}

/** Peak engine bytes over one evaluation batch, for approaches that do not train. */
async function profileEvaluationBatch(model: GPT, tokenizer: BpeTokenizer, cap: ReturnType<typeof heldOutCapability>, weightsBytes: number): Promise<MemoryBreakdown> {
  const windowTokens = PROFILE_WINDOWS * model.config.nCtx;
  const tokens = documentTokens(tokenizer, cap.brown, windowTokens);
  const info = await tf.profile(() => {
    meanCrossEntropy(model, tokens, { batchSize: PROFILE_WINDOWS, maxTokens: windowTokens });
  });
  return { peakBytes: info.peakBytes, weightsBytes, gradientsBytes: 0, optimizerBytes: 0, activationsBytes: info.peakBytes - weightsBytes };
}

/**
 * Peak device memory of this process, sampled with nvidia-smi every 500 ms while the cell runs.
 * Only where a CUDA backend runs; elsewhere there is no device to sample.
 */
function startGpuSampler(backend: BackendInfo): { stop(): { bytes: number | null; note: string } } {
  if (backend.accelerator !== 'cuda') {
    return { stop: () => ({ bytes: null, note: `accelerator: none (${backend.name} backend runs on the CPU); not measurable here` }) };
  }
  let peakMiB: number | null = null;
  let lastError = '';
  const sample = (): void => {
    execFile('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], (err, stdout) => {
      if (err) {
        lastError = err.message;
        return;
      }
      for (const line of stdout.split('\n')) {
        const [pid, used] = line.split(',').map((s) => s.trim());
        if (Number(pid) === process.pid && Number.isFinite(Number(used))) peakMiB = Math.max(peakMiB ?? 0, Number(used));
      }
    });
  };
  sample();
  const timer = setInterval(sample, 500);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (peakMiB === null) return { bytes: null, note: `nvidia-smi gave no sample for this process${lastError ? `: ${lastError}` : ''}` };
      return { bytes: peakMiB * 1024 * 1024, note: 'nvidia-smi --query-compute-apps used_memory of this process, sampled every 500 ms' };
    },
  };
}

const wilson = (correct: number, n: number): Interval => ({ ...wilsonInterval(correct, n), method: 'Wilson score, 95%, over questions' });

/** Runs one cell and returns its result; an error anywhere becomes a failed result, never a throw. */
export async function runCell(job: CellJob, opts: CellRunOptions): Promise<CellResult> {
  const startedAtMs = opts.startedAtMs ?? Date.now();
  const startedAt = new Date(startedAtMs).toISOString();
  const { spec } = job;
  const log = opts.log;
  let backend: BackendInfo | null = null;
  let outcome: ApproachOutcome | null = null;
  let baseModel: GPT | null = null;
  try {
    backend = await initBackend(job.backend);
    const gpu = startGpuSampler(backend);
    log(`backend: ${backend.name} (${backend.attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ')})`);

    const base = loadCheckpoint(job.checkpointDir);
    baseModel = base.model;
    const { tokenizer } = base;
    log(`checkpoint ${job.checkpointDir} (${base.header.contentHash.slice(0, 12)}), config ${JSON.stringify(base.header.config)}`);
    const suite = await getSuite(spec.suite);
    const data = suite.buildData(spec.seed);
    const approach = await getApproach(spec.approach);
    const problems = [...approach.validateConfig(spec.approachConfig), ...(approach.validateForModel?.(spec.approachConfig, base.header.config) ?? [])];
    if (problems.length) throw new UsageError(`invalid config for ${spec.label}: ${problems.join('; ')}`);
    const cap = heldOutCapability(spec.seed);

    const budget = job.testLimit ?? testBudgetOf(suite) ?? DEFAULT_TEST_QUESTIONS;
    const testItems = selectTestSubset(data.test, budget, `test-subset:${suite.name}:${spec.seed}`);
    if (testItems.length === 0) throw new UsageError(`suite ${suite.name}: the test split is empty for seed ${spec.seed}`);

    // The "before" of forgetting: the base model measured in this cell, on this backend.
    log('measuring the base model on held-out capability (before)');
    const before = measureCapability(base.model, tokenizer, cap, 'base model');
    log(`before: Brown CE ${before.brownCe.toFixed(4)}, RC EM ${before.rcCorrect}/${before.rcTotal}`);

    log(`running approach ${approach.name} ${JSON.stringify(spec.approachConfig)}`);
    const lastTenth = new Map<string, number>();
    outcome = await approach.run({
      suite, data, seed: spec.seed, config: spec.approachConfig, base, backend, log,
      progress: (phase, done, total) => {
        const tenth = total > 0 ? Math.floor((10 * done) / total) : 10;
        if (tenth !== lastTenth.get(phase)) {
          lastTenth.set(phase, tenth);
          log(`${phase}: ${done}/${total}`);
        }
      },
    });
    const model = outcome.model;

    // The same object, unadapted, is the same model: reuse "before" so the deltas are exactly 0.
    const unchanged = model === base.model && model.adapter === null;
    const after = unchanged ? before : measureCapability(model, tokenizer, cap, `${spec.label} model`);
    if (!unchanged) log(`after: Brown CE ${after.brownCe.toFixed(4)}, RC EM ${after.rcCorrect}/${after.rcTotal}`);

    log(`answering ${testItems.length} of ${data.test.length} test questions`);
    const prompts = await outcome.prompts(testItems);
    if (prompts.length !== testItems.length) throw new Error(`approach ${approach.name} returned ${prompts.length} prompts for ${testItems.length} test questions`);
    const answers = answerPrompts(model, tokenizer, prompts, EVAL_BATCH_SIZE);
    const correctFlags = answers.predictions.map((p, i) => exactMatch(p, testItems[i]!.answer));
    const correct = correctFlags.filter(Boolean).length;
    const f1s = answers.predictions.map((p, i) => tokenF1(p, testItems[i]!.answer));
    const f1 = meanInterval(f1s);
    log(`test EM ${correct}/${testItems.length}`);

    const params = outcome.params;
    const memory = outcome.memory ?? (await profileEvaluationBatch(model, tokenizer, cap, 4 * params.total));
    const gpuPeak = gpu.stop();
    const training = outcome.training;

    // Inference latency after merging (issue 6), last: the RSS peak is read before it, so that
    // onnxruntime's sessions do not count as the approach's memory.
    const rssPeakBytes = process.resourceUsage().maxRSS * 1024;
    const latencySettings = latencySettingsFor(model.config);
    log(`timing inference latency: ONNX exports in onnxruntime-node, and the model as trained in tfjs`);
    const latency = await measureServingLatency({
      base: base.model, served: model, ...(outcome.serving ? { serving: outcome.serving } : {}), approach: approach.name,
      prompt: latencyPrompt(tokenizer, data.documents.map((d) => d.text), latencySettings.promptTokens),
      promptSource: `the first ${latencySettings.promptTokens} tokens of the suite's documents`,
      settings: latencySettings, seedKey: `latency:${spec.id}`, log,
    });

    const metrics: Partial<Record<MetricId, number | null>> = {
      'quality.exactMatch': correct / testItems.length,
      'quality.tokenF1': f1s.reduce((a, b) => a + b, 0) / f1s.length,
      'forgetting.heldOutBrownCe': after.brownCe,
      'forgetting.ceDelta': after.brownCe - before.brownCe,
      'forgetting.heldOutRcExactMatch': after.rcCorrect / after.rcTotal,
      'forgetting.rcDelta': after.rcCorrect / after.rcTotal - before.rcCorrect / before.rcTotal,
      'params.total': params.total,
      'params.trainable': params.trainable,
      'params.trainablePct': (100 * params.trainable) / params.total,
      'memory.peakBytes': memory.peakBytes,
      'memory.weightsBytes': memory.weightsBytes,
      'memory.gradientsBytes': memory.gradientsBytes,
      'memory.optimizerBytes': memory.optimizerBytes,
      'memory.activationsBytes': memory.activationsBytes,
      'memory.gpuPeakBytes': gpuPeak.bytes,
      'train.tokensPerSec': training?.tokensPerSec ?? null,
      'train.wallSec': training?.wallSec ?? null,
      'eval.tokensPerSec': after.brownTokensPerSec,
      'eval.generatedTokensPerSec': answers.generatedTokens / answers.seconds,
      ...outcome.extra?.metrics,
      ...latency.metrics,
    };
    const notes: Partial<Record<MetricId, string>> = {
      'memory.peakBytes': outcome.memory
        ? 'tf.profile().peakBytes over one training step'
        : `tf.profile().peakBytes over one evaluation batch (${PROFILE_WINDOWS} x ${model.config.nCtx} held-out Brown tokens); ${approach.name} does not train`,
      'memory.gpuPeakBytes': gpuPeak.note,
      ...(training ? {} : { 'train.tokensPerSec': `${approach.name} does not train`, 'train.wallSec': `${approach.name} does not train` }),
      ...(unchanged ? { 'forgetting.ceDelta': 'the served model is the base model: 0 by construction', 'forgetting.rcDelta': 'the served model is the base model: 0 by construction' } : {}),
      ...outcome.extra?.notes,
      'memory.rssPeakBytes': 'peak resident set size of the cell\'s process before the latency measurement (onnxruntime\'s sessions are not the approach\'s memory)',
      ...latency.notes,
    };
    const intervals: Partial<Record<MetricId, Interval>> = {
      'quality.exactMatch': wilson(correct, testItems.length),
      'forgetting.heldOutRcExactMatch': wilson(after.rcCorrect, after.rcTotal),
      ...(f1 ? { 'quality.tokenF1': { low: f1.low, high: f1.high, method: 'Student t, 95%, over questions' } } : {}),
      ...latency.intervals,
    };
    const allTest = testItems.length === data.test.length;
    const inputs = {
      suite: { name: suite.name, version: suite.version, contentHash: data.contentHash, trainExamples: data.train.length, testQuestions: data.test.length, documents: data.documents.length },
      test: {
        evaluated: testItems.length,
        of: data.test.length,
        selection: allTest ? 'all' : 'stratified by attribute, seeded',
        selectionSeed: allTest ? null : `test-subset:${suite.name}:${spec.seed}`,
        budgetFrom: job.testLimit !== undefined ? '--limit-test' : testBudgetOf(suite) !== null ? 'suite budget' : 'harness default (all)',
        idsHash: contentHash(testItems.map((q) => q.id)),
      },
      heldOut: { contentHash: cap.contentHash, brownDocuments: cap.brown.length, brownTokens: after.brownTokens, brownMaxTokens: BROWN_EVAL_MAX_TOKENS, rcItems: after.rcTotal },
      decoding: { strategy: 'greedy', maxNewTokens: ANSWER_MAX_NEW_TOKENS, stopAt: ['newline', 'end-of-text'], batchSize: EVAL_BATCH_SIZE },
      checkpoint: { dir: job.checkpointDir, contentHash: base.header.contentHash, config: base.header.config },
      approach: { name: approach.name, label: spec.label, config: spec.approachConfig },
      training,
      ...outcome.extra?.inputs,
      ...latency.inputs,
    };
    const samples = testItems.slice(0, 5).map((q, i) => ({ question: q.question, gold: q.answer, predicted: answers.predictions[i]!, correct: correctFlags[i]! }));
    metrics['memory.rssPeakBytes'] = rssPeakBytes;
    const finishedAtMs = Date.now();
    metrics['cell.wallSec'] = (finishedAtMs - startedAtMs) / 1000;
    // Every metric in every result: null, with the reason, where this approach does not measure it.
    for (const id of METRIC_IDS) {
      if (metrics[id] !== undefined) continue;
      metrics[id] = null;
      notes[id] ??= `not measured by ${approach.name}`;
    }
    const result: CompletedCell = {
      schemaVersion: RESULT_SCHEMA_VERSION, cell: spec, status: 'completed', startedAt, finishedAt: new Date(finishedAtMs).toISOString(),
      wallSec: (finishedAtMs - startedAtMs) / 1000, backend, metrics, intervals, notes, inputs, samples,
    };
    return result;
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    log(`failed: ${e.stack ?? e.message}`);
    const finishedAtMs = Date.now();
    return {
      schemaVersion: RESULT_SCHEMA_VERSION, cell: spec, status: 'failed', startedAt, finishedAt: new Date(finishedAtMs).toISOString(),
      wallSec: (finishedAtMs - startedAtMs) / 1000, backend, error: { message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
    };
  } finally {
    outcome?.dispose?.();
    baseModel?.dispose();
  }
}
