// Inference latency, timed with tinybench after warm-up. A request is what a deployed decoder does
// for one user: a prefill of a fixed-length prompt, then one cached step per further new token,
// greedy. Each request is one tinybench sample; inside it, the prefill and every step are timed
// with the same clock, which gives the per-token and prefill figures.
//
// ONNX variants (base, served, unmerged) are timed interleaved: rounds in which every variant runs
// a few requests, the order reversed every other round, so that load from other processes on a
// shared machine falls on all of them alike. Ratios to the base model come with a 95% percentile
// bootstrap interval that resamples whole rounds (keeping each round's variants together, which is
// what makes the comparison paired), seeded so that the same samples give the same interval.
import { Bench, type Task } from 'tinybench';
import { createRng } from '../../datasets/rng.js';
import type { ModelConfig } from '../engine/config.js';
import type { GPT } from '../engine/model.js';
import { computeStatistics, quantileSorted } from '../metrics/stats.js';
import { onnxGreedy, type OnnxDecoder, type RequestPhase } from './session.js';
import { tfjsGreedy } from './tfjs-decoder.js';

export interface LatencySettings {
  /** Prompt length of every request, tokens. */
  readonly promptTokens: number;
  /** New tokens per request (the first from the prefill, the rest one cached step each). */
  readonly newTokens: number;
  /** Interleaved rounds of the ONNX variants. */
  readonly rounds: number;
  /** Requests per variant per round (tinybench iterations). */
  readonly requestsPerRound: number;
  /** Untimed requests per variant before the first round (tinybench warm-up). */
  readonly warmupRequests: number;
  /** Timed requests of the tfjs model (it is slower: fewer are enough for a median). */
  readonly tfjsRequests: number;
  /** Bootstrap resamples of the ratio intervals. */
  readonly bootstrapResamples: number;
}

/**
 * Per cell: 64-token prompts (between a closed-book question, ~25 tokens, and a RAG prompt, ~230)
 * and 24 new tokens (the evaluation's answer budget, ANSWER_MAX_NEW_TOKENS). 20 rounds x 2
 * requests give 40 requests and 920 decode steps per variant, about a second per variant for the
 * default model on one onnxruntime thread (~20 ms a request); short rounds pair the variants closely.
 */
export const LATENCY_SETTINGS: LatencySettings = Object.freeze({
  promptTokens: 64,
  newTokens: 24,
  rounds: 20,
  requestsPerRound: 2,
  warmupRequests: 3,
  tfjsRequests: 8,
  bootstrapResamples: 2000,
});

/**
 * The cell's settings for a model: LATENCY_SETTINGS where prompt and new tokens fit its context; for
 * a smaller context, a quarter of it for new tokens and the rest for the prompt.
 */
export function latencySettingsFor(config: ModelConfig, s: LatencySettings = LATENCY_SETTINGS): LatencySettings {
  if (s.promptTokens + s.newTokens <= config.nCtx) return s;
  const newTokens = Math.max(1, Math.min(s.newTokens, Math.floor(config.nCtx / 4)));
  return { ...s, newTokens, promptTokens: Math.max(1, config.nCtx - newTokens) };
}

/** Problems with a prompt length and number of new tokens for a model: each says what and how to fix. */
export function requestProblems(promptTokens: number, newTokens: number, config: ModelConfig, where: { prompt: string; newTokens: string }): string[] {
  const p: string[] = [];
  if (!Number.isInteger(newTokens) || newTokens < 1) p.push(`${where.newTokens} must be a positive integer (got ${newTokens}): a request generates at least one token. Example: ${where.newTokens} 24`);
  if (!Number.isInteger(promptTokens) || promptTokens < 1) p.push(`${where.prompt} must be a positive integer (got ${promptTokens}). Example: ${where.prompt} 64`);
  if (p.length === 0 && promptTokens + newTokens > config.nCtx) {
    p.push(`a prompt of ${promptTokens} tokens plus ${newTokens} new tokens exceeds the model's context of ${config.nCtx} tokens. Fix: make ${where.prompt} + ${where.newTokens} at most ${config.nCtx}, e.g. ${where.prompt} ${Math.max(1, config.nCtx - newTokens)}`);
  }
  return p;
}

/** Summary of latency samples (ms): tinybench's definitions (harness/metrics/stats.ts) plus p95. */
export interface LatencyStats {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
  /** Half-width of the 95% Student-t interval of the mean. */
  readonly moe: number;
  readonly samples: number;
}

export function latencyStats(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const s = computeStatistics(sorted);
  return { p50: s.p50, p95: quantileSorted(sorted, 0.95), p99: s.p99, mean: s.mean, moe: s.moe, samples: s.samplesCount };
}

/** Samples of one variant in one round, ms. */
export interface RoundSamples {
  readonly request: number[];
  readonly prefill: number[];
  readonly token: number[];
}

export interface VariantLatency {
  readonly request: LatencyStats;
  readonly prefill: LatencyStats;
  readonly token: LatencyStats;
  readonly rounds: readonly RoundSamples[];
}

/** A request function timed by tinybench; `record` receives the inner phase times of timed requests only. */
type Request = (record: (phase: RequestPhase, ms: number) => void) => Promise<unknown> | unknown;

/**
 * Adds `request` to `bench` as a task whose inner times go to `into` during the timed phase only
 * (tinybench calls beforeAll with 'warmup' or 'run' before each phase).
 */
function addRequestTask(bench: Bench, name: string, request: Request, into: RoundSamples, isAsync: boolean): void {
  let timed = false;
  const record = (phase: RequestPhase, ms: number): void => {
    if (timed) into[phase].push(ms);
  };
  // `async` set explicitly: otherwise tinybench calls the function once more to find out.
  bench.add(name, () => request(record), { async: isAsync, beforeAll: (mode) => { timed = mode === 'run'; } });
}

/** The request samples of a finished task; throws with tinybench's error when it did not complete. */
function requestSamples(task: Task): number[] {
  const r = task.result;
  if (r.state === 'errored') throw r.error;
  if (r.state !== 'completed') throw new Error(`latency task ${task.name} ended ${r.state}`);
  return [...(r.latency.samples ?? [])];
}

function summarize(rounds: readonly RoundSamples[]): VariantLatency {
  const all = (k: keyof RoundSamples): number[] => rounds.flatMap((r) => r[k]);
  return { request: latencyStats(all('request')), prefill: latencyStats(all('prefill')), token: latencyStats(all('token')), rounds };
}

/** Times ONNX decoders interleaved (see the top of this file); results by variant name. */
export async function timeOnnxInterleaved(variants: ReadonlyArray<{ name: string; decoder: OnnxDecoder }>, prompt: readonly number[], s: LatencySettings): Promise<Map<string, VariantLatency>> {
  const rounds = new Map<string, RoundSamples[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < s.rounds; round++) {
    const bench = new Bench({
      name: `onnx latency, round ${round + 1}`,
      iterations: s.requestsPerRound, time: 0,
      warmup: round === 0, warmupIterations: s.warmupRequests, warmupTime: 0,
      retainSamples: true, throws: true,
    });
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const samples = new Map<string, RoundSamples>();
    for (const v of order) {
      const into: RoundSamples = { request: [], prefill: [], token: [] };
      samples.set(v.name, into);
      addRequestTask(bench, v.name, (record) => onnxGreedy(v.decoder, [prompt], s.newTokens, { timer: record }), into, true);
    }
    for (const task of await bench.run()) {
      const into = samples.get(task.name)!;
      into.request.push(...requestSamples(task));
      rounds.get(task.name)!.push(into);
    }
  }
  return new Map([...rounds].map(([name, r]) => [name, summarize(r)]));
}

/** Times the tfjs model (as trained: adapter attached, not merged) on the same requests. */
export async function timeTfjs(model: GPT, prompt: readonly number[], s: LatencySettings): Promise<VariantLatency> {
  const bench = new Bench({
    name: 'tfjs latency', iterations: s.tfjsRequests, time: 0,
    warmup: true, warmupIterations: 2, warmupTime: 0, retainSamples: true, throws: true,
  });
  const into: RoundSamples = { request: [], prefill: [], token: [] };
  addRequestTask(bench, 'tfjs', (record) => tfjsGreedy(model, [prompt], s.newTokens, { timer: record }), into, false);
  const [task] = await bench.run();
  into.request.push(...requestSamples(task!));
  return summarize([into]);
}

/** A ratio of medians with its interval. */
export interface RatioInterval {
  readonly ratio: number;
  readonly low: number;
  readonly high: number;
  /** Whether the interval leaves out 1.0. */
  readonly separableFromOne: boolean;
}

function medianOf(values: number[]): number {
  values.sort((a, b) => a - b);
  return quantileSorted(values, 0.5);
}

/**
 * median(variant samples) / median(base samples) of one phase, with a 95% percentile bootstrap
 * interval over rounds: each resample draws rounds with replacement and takes both variants'
 * samples of the drawn rounds, so noise shared by a round stays paired.
 */
export function ratioToBase(base: readonly RoundSamples[], variant: readonly RoundSamples[], phase: keyof RoundSamples, resamples: number, seedKey: string): RatioInterval {
  if (base.length !== variant.length || base.length === 0) throw new Error(`ratioToBase: ${base.length} base rounds, ${variant.length} variant rounds`);
  const ratio = medianOf(variant.flatMap((r) => r[phase])) / medianOf(base.flatMap((r) => r[phase]));
  const rng = createRng(seedKey);
  const ratios: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const vs: number[] = [], bs: number[] = [];
    for (let k = 0; k < base.length; k++) {
      const r = rng.int(base.length);
      vs.push(...variant[r]![phase]);
      bs.push(...base[r]![phase]);
    }
    ratios.push(medianOf(vs) / medianOf(bs));
  }
  ratios.sort((a, b) => a - b);
  const low = quantileSorted(ratios, 0.025), high = quantileSorted(ratios, 0.975);
  return { ratio, low, high, separableFromOne: low > 1 || high < 1 };
}
