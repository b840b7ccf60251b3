// One cell, in-process, in named stages: prepare (backend, base, suite, data, approach, prompts),
// adapt (the approach), measure (quality by the suite's task type; forgetting; cost: parameters,
// memory, throughput, latency) and assemble the result. The same code for every approach and every
// task type: the cell knows neither by name. The runner runs this in a child process per cell
// (harness/cell-worker.ts).
import { execFile } from 'node:child_process';
import { getApproach } from '../adapters/registry.js';
import type { Approach, ApproachOutcome, MemoryBreakdown } from '../adapters/types.js';
import { heldOutCapability } from '../datasets/capability.js';
import { contentHash } from '../datasets/hash.js';
import { createRng } from '../datasets/rng.js';
import { suiteFromSource } from '../suites/registry.js';
import { withTrainSteps, type Example, type Suite, type SuiteData, type SuiteSource } from '../suites/types.js';
import { SuitePrompts } from '../tasks/prompts.js';
import { taskTypeOf } from '../tasks/registry.js';
import type { TaskEvaluation, TaskType } from '../tasks/types.js';
import { initBackend, tf, type BackendInfo } from './engine/backend.js';
import { loadCheckpoint, type LoadedCheckpoint } from './engine/checkpoint.js';
import { meanCrossEntropy } from './engine/evaluate.js';
import type { GPT } from './engine/model.js';
import type { BpeTokenizer } from './engine/tokenizer.js';
import { UsageError } from './errors.js';
import { latencySettingsFor } from './export/latency.js';
import { latencyPrompt, measureServingLatency } from './export/serving-latency.js';
import { measureEvidence } from './k-sweep.js';
import { BROWN_EVAL_MAX_TOKENS, brownCrossEntropy, documentTokens, readingComprehension } from './evaluation.js';
import { beforeKey, readBefore, writeBefore } from './before-cache.js';
import { METRIC_IDS, type Interval, type MetricId } from './metrics/definitions.js';
import { wilsonInterval } from './metrics/stats.js';
import { freshFactScores } from './fresh-facts.js';
import { RESULT_SCHEMA_VERSION, type CellInputs, type CellResult, type CellSpec, type CompletedCell } from './results.js';

/** Everything a worker needs to run one cell; written by the runner as `jobs/<id>.json`. */
export interface CellJob {
  readonly spec: CellSpec;
  /** Where the suite comes from: built in (by name), or the user's folder (absolute path). */
  readonly suiteSource: SuiteSource;
  /** Absolute path of the base checkpoint folder. */
  readonly checkpointDir: string;
  /** Backend requested with --backend; undefined picks the best that starts. */
  readonly backend?: string;
  /** Test questions evaluated at most (--limit-test); overrides the suite's budget. */
  readonly testLimit?: number;
  /** Optimiser steps at most (--train-steps); caps the suite's training budget. */
  readonly trainSteps?: number;
}

/** The stage a cell runs and, where it counts units, how far it is: the worker sends it to the runner. */
export interface StageMessage {
  readonly stage: string;
  readonly done?: number;
  readonly total?: number;
}

export interface CellRunOptions {
  readonly log: (line: string) => void;
  /** Epoch ms the cell's process started (cell.wallSec counts from here); default: now. */
  readonly startedAtMs?: number;
  /** The run's cache folder, where cells share the base model's "before"; none: always measured. */
  readonly cacheDir?: string;
  /** The stage running now and, where it counts units (training steps, answers), how far it is. */
  readonly stage?: (stage: string, done?: number, total?: number) => void;
}

/**
 * Times the cell's stages into their time.* metrics; each stage is also announced to opts.stage.
 * A stage timed twice adds up (quality, then the k sweep where a suite has one).
 */
function stageClock(stage: CellRunOptions['stage']) {
  const seconds: Partial<Record<MetricId, number>> = {};
  return {
    seconds,
    async time<T>(id: MetricId, name: string, fn: () => T | Promise<T>): Promise<T> {
      stage?.(name);
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        seconds[id] = (seconds[id] ?? 0) + (performance.now() - t0) / 1000;
      }
    },
  };
}

/**
 * Test examples evaluated per cell when neither --limit-test nor the suite sets a budget: all.
 * Measured: all 1243 of knowledge-qa take 10.4 s with the default model size on 2 cores (KV-cached
 * greedy decoding, every answer at its 24-token maximum), so there is no need to subsample.
 */
export const DEFAULT_TEST_QUESTIONS = Infinity;
/** Windows of the model's context in the profiled evaluation batch (meanCrossEntropy's default batch). */
const PROFILE_WINDOWS = 8;

/** The suite's test-example budget, where it declares one (`budget.testExamples`). */
export function testBudgetOf(suite: Suite): number | null {
  return suite.budget.testExamples;
}

/** The stratum of a test example: the suite's stratifyBy field (or its label); '' without one. */
export function stratumOf(ex: Example, stratifyBy: string | null): string {
  if (stratifyBy === null) return '';
  return (stratifyBy === 'label' ? ex.label : ex.fields[stratifyBy]) ?? '';
}

/**
 * `n` test examples, stratified by the suite's stratifyBy (each stratum's share kept, largest
 * remainders rounded up), drawn with a seeded shuffle, returned in the split's order. All when n >= length.
 */
export function selectTestSubset(test: readonly Example[], n: number, seedKey: string, stratifyBy: string | null): Example[] {
  if (n >= test.length) return [...test];
  const rng = createRng(seedKey);
  const byStratum = new Map<string, number[]>();
  test.forEach((ex, i) => {
    const key = stratumOf(ex, stratifyBy);
    const list = byStratum.get(key) ?? [];
    list.push(i);
    byStratum.set(key, list);
  });
  const groups = [...byStratum.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
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

/**
 * Peak engine bytes over one evaluation batch of the served model. `memory` is the engine's whole
 * peak (memory.peakBytes of approaches that do not train); `servePeakBytes` counts only the served
 * model's weights, its causal mask and the batch, not what else the cell holds (the base model
 * beside a merged copy).
 */
async function profileEvaluationBatch(model: GPT, tokenizer: BpeTokenizer, cap: ReturnType<typeof heldOutCapability>, weightsBytes: number): Promise<{ memory: MemoryBreakdown; servePeakBytes: number }> {
  const windowTokens = PROFILE_WINDOWS * model.config.nCtx;
  const tokens = documentTokens(tokenizer, cap.brown, windowTokens);
  // The causal mask is serving memory: built inside the profile every time, whether or not a
  // "before" measured in this process built it already.
  model.releaseCaches();
  const live = tf.memory().numBytes;
  const info = await tf.profile(() => {
    meanCrossEntropy(model, tokens, { batchSize: PROFILE_WINDOWS, maxTokens: windowTokens });
  });
  return {
    memory: { peakBytes: info.peakBytes, weightsBytes, gradientsBytes: 0, optimizerBytes: 0, activationsBytes: info.peakBytes - weightsBytes },
    servePeakBytes: weightsBytes + info.peakBytes - live,
  };
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

/** Cross-entropy of the suite's own held-out text (the user's original capability), in windows that fit. */
function suiteHeldOutCe(model: GPT, tokenizer: BpeTokenizer, texts: ReadonlyArray<{ text: string }>): { ce: number; tokens: number } {
  const tokens = documentTokens(tokenizer, texts, BROWN_EVAL_MAX_TOKENS);
  if (tokens.length < 2) throw new UsageError('the suite\'s held-out file has too little text to measure (fewer than 2 tokens). Fix: add text to it');
  return meanCrossEntropy(model, tokens, { seqLen: Math.min(model.config.nCtx, tokens.length - 1) });
}


/** What the prepare stage gives the others. */
interface Prepared {
  readonly backend: BackendInfo;
  readonly base: LoadedCheckpoint;
  readonly suite: Suite;
  readonly data: SuiteData;
  readonly task: TaskType;
  readonly prompts: SuitePrompts;
  readonly approach: Approach;
  readonly testItems: readonly Example[];
  readonly cap: ReturnType<typeof heldOutCapability>;
}

/** Prepare: the backend, the base checkpoint, the suite and its data, the approach and its config, the prompts and the test subset. */
async function prepare(job: CellJob, log: (line: string) => void, backend: BackendInfo, base: LoadedCheckpoint): Promise<Prepared> {
  const { spec } = job;
  log(`checkpoint ${job.checkpointDir} (${base.header.contentHash.slice(0, 12)}), config ${JSON.stringify(base.header.config)}`);
  const suite = withTrainSteps(await suiteFromSource(spec.suite, job.suiteSource), job.trainSteps);
  const data = suite.buildData(spec.seed);
  const task = taskTypeOf(suite.task);
  const approach = await getApproach(spec.approach);
  const problems = [...approach.validateConfig(spec.approachConfig), ...(approach.validateForModel?.(spec.approachConfig, base.header.config) ?? [])];
  if (problems.length) throw new UsageError(`invalid config for ${spec.label}: ${problems.join('; ')}`);
  const budget = job.testLimit ?? testBudgetOf(suite) ?? DEFAULT_TEST_QUESTIONS;
  const testItems = selectTestSubset(data.test, budget, `test-subset:${suite.name}:${spec.seed}`, suite.stratifyBy);
  if (testItems.length === 0) throw new UsageError(`suite ${suite.name}: the test split is empty for seed ${spec.seed}`);
  const prompts = new SuitePrompts(suite, task, base.tokenizer, base.model.config.nCtx);
  return { backend, base, suite, data, task, prompts, approach, testItems, cap: heldOutCapability(spec.seed) };
}

/** Forgetting: held-out capability (Brown CE, reading comprehension) and the suite's own held-out text, if any. */
interface CapabilityWithSuite extends Capability {
  readonly suiteCe: number | null;
}

function measureAllCapability(model: GPT, p: Prepared, who: string): CapabilityWithSuite {
  const c = measureCapability(model, p.base.tokenizer, p.cap, who);
  return { ...c, suiteCe: p.data.heldOut ? suiteHeldOutCe(model, p.base.tokenizer, p.data.heldOut).ce : null };
}

/** Quality: the approach's prompts for the test subset, answered and scored by the suite's task type. */
async function measureQuality(p: Prepared, outcome: ApproachOutcome, seedKey: string, stage: CellRunOptions['stage']): Promise<TaskEvaluation> {
  const prompts = await outcome.prompts(p.testItems);
  if (prompts.length !== p.testItems.length) throw new Error(`approach ${p.approach.name} returned ${prompts.length} prompts for ${p.testItems.length} test examples`);
  return p.task.evaluate({
    model: outcome.model, tokenizer: p.base.tokenizer, spec: p.suite.task, targetTemplate: p.suite.prompt.target,
    examples: p.testItems, prompts, questions: p.testItems.map((ex) => p.prompts.query(ex)), seedKey,
    ...(stage ? { progress: (done: number, total: number) => stage('answering', done, total) } : {}),
  });
}

/** Runs one cell and returns its result; an error anywhere becomes a failed result, never a throw. */
export async function runCell(job: CellJob, opts: CellRunOptions): Promise<CellResult> {
  const startedAtMs = opts.startedAtMs ?? Date.now();
  const startedAt = new Date(startedAtMs).toISOString();
  const { spec } = job;
  const log = opts.log;
  // Set inside the stages, read by the catch and the finally.
  const held: { backend: BackendInfo | null; outcome: ApproachOutcome | null; baseModel: GPT | null } = { backend: null, outcome: null, baseModel: null };
  try {
    const clock = stageClock(opts.stage);
    // Prepare.
    const { gpu, p } = await clock.time('time.prepareSec', 'prepare', async () => {
      const backend = await initBackend(job.backend);
      held.backend = backend;
      const gpu = startGpuSampler(backend);
      log(`backend: ${backend.name} (${backend.attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ')})`);
      const base = loadCheckpoint(job.checkpointDir);
      held.baseModel = base.model;
      return { gpu, p: await prepare(job, log, backend, base) };
    });
    const { suite, data, approach, testItems, task, base } = p;
    const tokenizer = base.tokenizer;

    // The "before" of forgetting: the base model on this backend, measured once per run (the cache).
    const beforeCache = {
      key: beforeKey({
        checkpointHash: base.header.contentHash, heldOutHash: p.cap.contentHash, suiteHeldOut: data.heldOut ?? null, backend: { name: p.backend.name, matmul: p.backend.kernels?.matmul ?? null, fused: p.backend.fused.mode, fusedKernels: p.backend.fused.reason },
        settings: { brownMaxTokens: BROWN_EVAL_MAX_TOKENS },
      }),
      hit: false,
    };
    const before = await clock.time('time.beforeSec', 'before', () => {
      const cached = opts.cacheDir !== undefined ? readBefore<CapabilityWithSuite>(opts.cacheDir, beforeCache.key) : null;
      if (cached) {
        beforeCache.hit = true;
        log(`the base model's held-out capability (before): read from the run's cache (${beforeCache.key.slice(0, 12)})`);
        return cached;
      }
      log('measuring the base model on held-out capability (before)');
      const measured = measureAllCapability(base.model, p, 'base model');
      if (opts.cacheDir !== undefined) writeBefore(opts.cacheDir, beforeCache.key, measured);
      return measured;
    });
    log(`before: Brown CE ${before.brownCe.toFixed(4)}, RC EM ${before.rcCorrect}/${before.rcTotal}${before.suiteCe !== null ? `, suite held-out CE ${before.suiteCe.toFixed(4)}` : ''}`);

    // Adapt.
    log(`running approach ${approach.name} ${JSON.stringify(spec.approachConfig)} on ${suite.name} (${task.name})`);
    const lastTenth = new Map<string, number>();
    const served = await clock.time('time.adaptSec', 'adapt', () => approach.run({
      suite, data, prompts: p.prompts, seed: spec.seed, config: spec.approachConfig, base, backend: p.backend, log,
      progress: (phase, done, total) => {
        opts.stage?.(phase, done, total);
        const tenth = total > 0 ? Math.floor((10 * done) / total) : 10;
        if (tenth !== lastTenth.get(phase)) {
          lastTenth.set(phase, tenth);
          log(`${phase}: ${done}/${total}`);
        }
      },
    }));
    held.outcome = served;
    const model = served.model;

    // Measure: forgetting. The same object, unadapted, is the same model: reuse "before" so the deltas are exactly 0.
    const unchanged = model === base.model && model.adapter === null;
    // The update runs inside the approach (after adapting, before serving): its seconds are its own stage.
    if (served.update) {
      clock.seconds['time.updateSec'] = served.update.wallSec;
      clock.seconds['time.adaptSec'] = (clock.seconds['time.adaptSec'] ?? 0) - served.update.wallSec;
    }
    if (unchanged) clock.seconds['time.forgettingSec'] = 0;
    const after = unchanged ? before : await clock.time('time.forgettingSec', 'after', () => measureAllCapability(model, p, `${spec.label} model`));
    if (!unchanged) log(`after: Brown CE ${after.brownCe.toFixed(4)}, RC EM ${after.rcCorrect}/${after.rcTotal}`);

    // Measure: quality, by the task type.
    log(`answering ${testItems.length} of ${data.test.length} test examples (${task.name})`);
    const quality = await clock.time('time.qualitySec', 'quality', () => measureQuality(p, served, `quality:${spec.id}`, opts.stage));
    // A suite whose facts changed: the scores on changed and unchanged facts, and the update's cost.
    const fresh = data.update ? freshFactScores(task, suite.task, testItems, quality.predictions, served.update, approach.name) : null;
    const headline = suite.metrics[0]!.id;
    log(`test ${headline} ${String(fresh?.metrics[headline] ?? quality.metrics[headline])}`);
    // Evidence coverage, and the k sweep where the suite asks for it: answering again, so quality's time.
    const measureCoverage = () => measureEvidence({
      suite, approach: approach.name, outcome: served, examples: testItems, quality, log, answer: (o) => measureQuality(p, o, `quality:${spec.id}`, opts.stage),
    });
    const evidence = suite.kSweep ? await clock.time('time.qualitySec', 'k sweep', measureCoverage) : await measureCoverage();

    // Measure: cost. Serving memory for every approach, so rows that train and rows that do not
    // compare on the same phase; the training step's peak where the approach trains.
    const params = served.params;
    const { serve, rssPeakBytes, gpuPeak, latency } = await clock.time('time.latencySec', 'latency', async () => {
      const serve = await profileEvaluationBatch(model, tokenizer, p.cap, 4 * params.total);
      const gpuPeak = gpu.stop();
      // Inference latency after merging, last: the RSS peak is read before it, so that onnxruntime's
      // sessions do not count as the approach's memory.
      const rssPeakBytes = process.resourceUsage().maxRSS * 1024;
      const latencySettings = latencySettingsFor(model.config);
      log('timing inference latency: ONNX exports in onnxruntime-node, and the model as trained in tfjs');
      const latency = await measureServingLatency({
        base: base.model, served: model, ...(served.serving ? { serving: served.serving } : {}), approach: approach.name,
        prompt: latencyPrompt(tokenizer, p.prompts.sampleTexts(data), latencySettings.promptTokens),
        promptSource: `the first ${latencySettings.promptTokens} tokens of the suite's ${data.documents.length ? 'documents' : 'training examples'}`,
        settings: latencySettings, seedKey: `latency:${spec.id}`, log,
      });
      return { serve, rssPeakBytes, gpuPeak, latency };
    });
    const memory = served.memory ?? serve.memory;
    const training = served.training;

    // Assemble.
    const metrics: Partial<Record<MetricId, number | null>> = {
      ...quality.metrics,
      'forgetting.heldOutBrownCe': after.brownCe,
      'forgetting.ceDelta': after.brownCe - before.brownCe,
      'forgetting.heldOutRcExactMatch': after.rcCorrect / after.rcTotal,
      'forgetting.rcDelta': after.rcCorrect / after.rcTotal - before.rcCorrect / before.rcTotal,
      'forgetting.suiteHeldOutCe': after.suiteCe,
      'forgetting.suiteCeDelta': after.suiteCe !== null && before.suiteCe !== null ? after.suiteCe - before.suiteCe : null,
      'params.total': params.total,
      'params.trainable': params.trainable,
      'params.trainablePct': (100 * params.trainable) / params.total,
      'memory.peakBytes': memory.peakBytes,
      'memory.weightsBytes': memory.weightsBytes,
      'memory.gradientsBytes': memory.gradientsBytes,
      'memory.optimizerBytes': memory.optimizerBytes,
      'memory.activationsBytes': memory.activationsBytes,
      'memory.gpuPeakBytes': gpuPeak.bytes,
      'memory.trainPeakBytes': served.memory?.peakBytes ?? null,
      'memory.servePeakBytes': serve.servePeakBytes,
      'train.tokensPerSec': training?.tokensPerSec ?? null,
      'train.wallSec': training?.wallSec ?? null,
      'eval.tokensPerSec': after.brownTokensPerSec,
      ...served.extra?.metrics,
      ...fresh?.metrics,
      ...evidence.metrics,
      ...latency.metrics,
      ...clock.seconds,
    };
    const notes: Partial<Record<MetricId, string>> = {
      ...quality.notes,
      'memory.peakBytes': served.memory
        ? 'tf.profile().peakBytes over one training step'
        : `tf.profile().peakBytes over one evaluation batch (${PROFILE_WINDOWS} x ${model.config.nCtx} held-out Brown tokens); ${approach.name} does not train`,
      'memory.gpuPeakBytes': gpuPeak.note,
      ...(served.memory ? {} : { 'memory.trainPeakBytes': `${approach.name} does not train` }),
      'memory.servePeakBytes': `the served model's weights (4 bytes per parameter) plus tf.profile().peakBytes over one evaluation batch (${PROFILE_WINDOWS} x ${model.config.nCtx} held-out Brown tokens) above the engine bytes live before it`,
      ...(training ? {} : { 'train.tokensPerSec': `${approach.name} does not train`, 'train.wallSec': `${approach.name} does not train` }),
      ...(unchanged ? { 'forgetting.ceDelta': 'the served model is the base model: 0 by construction', 'forgetting.rcDelta': 'the served model is the base model: 0 by construction' } : {}),
      ...(data.heldOut ? {} : { 'forgetting.suiteHeldOutCe': `suite ${suite.name} ships no held-out text (files.heldOut)`, 'forgetting.suiteCeDelta': `suite ${suite.name} ships no held-out text (files.heldOut)` }),
      ...served.extra?.notes,
      ...fresh?.notes,
      ...(unchanged ? { 'time.forgettingSec': 'the served model is the base model: "before" stands for "after"' } : {}),
      ...(unchanged && beforeCache.hit ? { 'eval.tokensPerSec': 'the base model\'s Brown evaluation rate, measured by an earlier cell of this run (the run\'s cache of "before")' } : {}),
      ...evidence.notes,
      'memory.rssPeakBytes': 'peak resident set size of the cell\'s process before the latency measurement (onnxruntime\'s sessions are not the approach\'s memory)',
      ...latency.notes,
    };
    const intervals: Partial<Record<MetricId, Interval>> = {
      ...quality.intervals,
      ...fresh?.intervals,
      ...evidence.intervals,
      'forgetting.heldOutRcExactMatch': wilson(after.rcCorrect, after.rcTotal),
      ...latency.intervals,
    };
    const allTest = testItems.length === data.test.length;
    const inputs: CellInputs = {
      suite: {
        name: suite.name, version: suite.version, description: suite.description, useCase: suite.useCase, source: suite.source, contentHash: data.contentHash, taskType: task.name,
        headline: suite.metrics[0]!, metrics: suite.metrics, trainExamples: data.train.length, testQuestions: data.test.length, documents: data.documents.length,
      },
      test: {
        evaluated: testItems.length,
        of: data.test.length,
        selection: allTest ? 'all' : suite.stratifyBy === null ? 'seeded random subset' : `stratified by ${suite.stratifyBy}, seeded`,
        selectionSeed: allTest ? null : `test-subset:${suite.name}:${spec.seed}`,
        budgetFrom: job.testLimit !== undefined ? '--limit-test' : testBudgetOf(suite) !== null ? 'suite budget' : 'harness default (all)',
        idsHash: contentHash(testItems.map((q) => q.id)),
      },
      trainBudget: { ...suite.budget.train, stepsFrom: job.trainSteps === suite.budget.train.steps ? '--train-steps' : 'suite budget' },
      fit: p.prompts.fitSummary(),
      heldOut: { contentHash: p.cap.contentHash, brownDocuments: p.cap.brown.length, brownTokens: after.brownTokens, brownMaxTokens: BROWN_EVAL_MAX_TOKENS, rcItems: after.rcTotal, suiteTexts: data.heldOut?.length ?? 0 },
      decoding: quality.settings,
      checkpoint: { dir: job.checkpointDir, contentHash: base.header.contentHash, config: base.header.config },
      approach: { name: approach.name, label: spec.label, config: spec.approachConfig },
      training,
      before: { from: beforeCache.hit ? 'run cache' : 'measured in this cell', key: beforeCache.key },
      ...served.extra?.inputs,
      ...fresh?.inputs,
      ...evidence.inputs,
      ...latency.inputs,
    };
    metrics['memory.rssPeakBytes'] = rssPeakBytes;
    const finishedAtMs = Date.now();
    metrics['cell.wallSec'] = (finishedAtMs - startedAtMs) / 1000;
    // Every metric in every result: null, with the reason, where this cell does not measure it.
    for (const id of METRIC_IDS) {
      if (metrics[id] !== undefined) continue;
      metrics[id] = null;
      notes[id] ??= (id.startsWith('fresh.') || id.startsWith('update.')) && !data.update ? `suite ${suite.name} has no update of its facts`
        : task.metrics.some((m) => m.id === id) || !id.startsWith('quality.') ? `not measured by ${approach.name}` : `not a ${task.name} metric`;
    }
    const result: CompletedCell = {
      schemaVersion: RESULT_SCHEMA_VERSION, cell: spec, status: 'completed', startedAt, finishedAt: new Date(finishedAtMs).toISOString(),
      wallSec: (finishedAtMs - startedAtMs) / 1000, backend: p.backend, metrics, intervals, notes, inputs, samples: quality.samples,
      ...(quality.confusion ? { confusion: quality.confusion } : {}),
    };
    return result;
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    log(`failed: ${e.stack ?? e.message}`);
    const finishedAtMs = Date.now();
    return {
      schemaVersion: RESULT_SCHEMA_VERSION, cell: spec, status: 'failed', startedAt, finishedAt: new Date(finishedAtMs).toISOString(),
      wallSec: (finishedAtMs - startedAtMs) / 1000, backend: held.backend, error: { message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
    };
  } finally {
    held.outcome?.dispose?.();
    held.baseModel?.dispose();
  }
}
