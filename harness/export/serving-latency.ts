// The latency block of a cell (issue 6): the base model and the served model exported to ONNX (and
// the adapter kept unmerged, where the approach has one), each checked against its tfjs model, then
// timed interleaved in onnxruntime-node; the model as trained timed in tfjs. Every approach goes
// through the same code; what does not apply is null with the reason.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServingForms } from '../../adapters/types.js';
import type { ModelConfig } from '../engine/config.js';
import type { GPT } from '../engine/model.js';
import type { BpeTokenizer } from '../engine/tokenizer.js';
import { PROJECT_ROOT } from '../manifest.js';
import type { MetricId } from '../metrics/definitions.js';
import type { Interval } from '../results.js';
import { LOGITS_TOLERANCE, compareWithTfjs, type Equivalence } from './equivalence.js';
import { ONNX_OPSET, gptToOnnx, type GptGraphSource } from './gpt-onnx.js';
import { LATENCY_SETTINGS, ratioToBase, timeOnnxInterleaved, timeTfjs, type LatencySettings, type RatioInterval, type VariantLatency } from './latency.js';
import { ORT_THREADING, OnnxDecoder, ortVersion } from './session.js';

/** The project's version, written into every exported model. */
export function producerVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** sha256 of a model's fp32 weights in parameter order: `bench export` checks a re-created model against it. */
export function weightsSha256(weights: ReadonlyMap<string, Float32Array>, order: readonly { name: string }[]): string {
  const h = createHash('sha256');
  for (const { name } of order) {
    const w = weights.get(name);
    if (!w) throw new Error(`weightsSha256: no weight ${name}`);
    h.update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  }
  return h.digest('hex');
}

/**
 * A fixed prompt of `n` tokens: the start of the given texts (the suite's documents), repeated if
 * they are short. Token values do not change the work a request does; the length does.
 */
export function latencyPrompt(tokenizer: BpeTokenizer, texts: readonly string[], n: number): number[] {
  const out: number[] = [];
  for (let pass = 0; out.length < n; pass++) {
    for (const t of texts) {
      out.push(...tokenizer.encode(t), tokenizer.eotId);
      if (out.length >= n) break;
    }
    if (pass === 0 && out.length === 0) throw new Error('latencyPrompt: the texts give no tokens');
  }
  return out.slice(0, n);
}

/** Every metric this block fills: the cell notes the reason on each when the block cannot run. */
export const SERVING_LATENCY_METRICS: readonly MetricId[] = Object.freeze([
  'latency.requestP50Ms', 'latency.requestP95Ms', 'latency.requestP99Ms', 'latency.requestMeanMs', 'latency.requestMoeMs',
  'latency.prefillP50Ms', 'latency.prefillP95Ms', 'latency.prefillP99Ms',
  'latency.tokenP50Ms', 'latency.tokenP95Ms', 'latency.tokenP99Ms', 'latency.tokenMeanMs', 'latency.tokenMoeMs',
  'latency.tokenRatioToBase', 'latency.tokenRatioToBaseLow', 'latency.tokenRatioToBaseHigh',
  'latency.requestRatioToBase', 'latency.requestRatioToBaseLow', 'latency.requestRatioToBaseHigh',
  'latency.baseTokenP50Ms', 'latency.baseRequestP50Ms',
  'latency.unmergedTokenP50Ms', 'latency.unmergedRequestP50Ms',
  'latency.unmergedTokenRatioToBase', 'latency.unmergedTokenRatioToBaseLow', 'latency.unmergedTokenRatioToBaseHigh',
  'latency.tfjsTokenP50Ms', 'latency.tfjsRequestP50Ms',
  'export.logitsMaxAbsDiff', 'export.unmergedLogitsMaxAbsDiff',
] as const);

const UNMERGED_METRICS: readonly MetricId[] = [
  'latency.unmergedTokenP50Ms', 'latency.unmergedRequestP50Ms',
  'latency.unmergedTokenRatioToBase', 'latency.unmergedTokenRatioToBaseLow', 'latency.unmergedTokenRatioToBaseHigh',
  'export.unmergedLogitsMaxAbsDiff',
];

export interface ServingLatencyInput {
  /** The base checkpoint's model: the reference every ratio divides by. */
  readonly base: GPT;
  /** The model the approach serves (merged where it has an adapter). */
  readonly served: GPT;
  readonly serving?: ServingForms;
  /** The approach's name, for notes. */
  readonly approach: string;
  readonly prompt: readonly number[];
  /** Seeds the bootstrap: the same samples give the same intervals. */
  readonly seedKey: string;
  readonly settings?: LatencySettings;
  /** What the prompt is, for the record. */
  readonly promptSource: string;
  readonly log: (line: string) => void;
}

export interface ServingLatency {
  readonly metrics: Partial<Record<MetricId, number | null>>;
  readonly notes: Partial<Record<MetricId, string>>;
  readonly intervals: Partial<Record<MetricId, Interval>>;
  readonly inputs: Readonly<Record<string, unknown>>;
}

const fmt = (ms: number): string => `${ms.toFixed(3)} ms`;
const ratioText = (r: RatioInterval): string =>
  `${r.ratio.toFixed(3)} [${r.low.toFixed(3)}, ${r.high.toFixed(3)}]: ${r.separableFromOne ? 'the interval leaves out 1.0 (separable from 1.0)' : 'the interval holds 1.0 (not separable from 1.0)'}`;

function exportBytes(src: GptGraphSource, variant: string): Uint8Array {
  return gptToOnnx(src, { producerVersion: producerVersion(), docString: `adaptbench ${variant} model`, metadata: { variant } });
}

function checkText(e: Equivalence): string {
  return `max |logits(onnx) - logits(tfjs)| = ${e.maxAbsDiff.toExponential(2)} (logits up to ${e.maxAbsLogit.toFixed(2)}; tolerance ${LOGITS_TOLERANCE}) over the prefill and ${e.newTokens - 1} steps; greedy tokens ${e.tokensEqual ? 'equal' : 'DIFFER'}`;
}

/**
 * Measures the block. Never throws: when something here fails (onnxruntime missing, an export
 * problem), every latency metric is noted with the reason and the cell's other results stand.
 */
export async function measureServingLatency(input: ServingLatencyInput): Promise<ServingLatency> {
  try {
    return await measure(input);
  } catch (err) {
    const reason = `latency not measured: ${(err as Error).message.split('\n')[0]}`;
    input.log(`latency: ${reason}`);
    return { metrics: {}, notes: Object.fromEntries(SERVING_LATENCY_METRICS.map((id) => [id, reason])), intervals: {}, inputs: { latency: { error: (err as Error).stack ?? String(err) } } };
  }
}

async function measure(input: ServingLatencyInput): Promise<ServingLatency> {
  const s = input.settings ?? LATENCY_SETTINGS;
  const config: ModelConfig = input.served.config;
  const prompt = input.prompt;
  const servedIsBase = input.served === input.base;
  const unmerged = input.serving && 'weights' in input.serving.unmerged ? input.serving.unmerged : null;
  const t0 = performance.now();

  const baseWeights = await input.base.weights();
  const servedWeights = servedIsBase ? baseWeights : await input.served.weights();
  const decoders: OnnxDecoder[] = [];
  const load = async (bytes: Uint8Array): Promise<OnnxDecoder> => {
    const d = await OnnxDecoder.load(bytes, config);
    decoders.push(d);
    return d;
  };
  try {
    const baseBytes = exportBytes({ config, weights: baseWeights }, 'base');
    const servedBytes = servedIsBase ? baseBytes : exportBytes({ config, weights: servedWeights }, 'served');
    const baseDec = await load(baseBytes);
    // A second session even when the served model is the base: the ratio is then an A/A comparison.
    const servedDec = await load(servedBytes);
    const unmergedBytes = unmerged ? exportBytes({ config, weights: unmerged.weights, adapter: unmerged.adapter }, 'unmerged') : null;
    const unmergedDec = unmergedBytes ? await load(unmergedBytes) : null;

    // Every session runs the same check once, the A/A case included: a session that had run an
    // extra request before timing was measured faster than its twin (0.85 [0.82, 0.89] once).
    const eqBase = await compareWithTfjs(baseDec, input.base, [prompt], s.newTokens);
    const eqServed = await compareWithTfjs(servedDec, input.served, [prompt], s.newTokens);
    input.log(`latency: ONNX (opset ${ONNX_OPSET}) ${(servedBytes.length / 2 ** 20).toFixed(2)} MiB; served model vs tfjs: ${checkText(eqServed)}`);

    const asTrained = input.serving ? await input.serving.asTrained() : null;
    let eqUnmerged: Equivalence | null = null;
    let onnx: Map<string, VariantLatency>;
    let tfjs: VariantLatency;
    try {
      const trained = asTrained?.model ?? input.served;
      if (unmergedDec) {
        eqUnmerged = await compareWithTfjs(unmergedDec, trained, [prompt], s.newTokens);
        input.log(`latency: unmerged ONNX vs the tfjs model as trained: ${checkText(eqUnmerged)}`);
      }
      const variants = [{ name: 'base', decoder: baseDec }, { name: 'served', decoder: servedDec }, ...(unmergedDec ? [{ name: 'unmerged', decoder: unmergedDec }] : [])];
      onnx = await timeOnnxInterleaved(variants, prompt, s);
      tfjs = await timeTfjs(trained, prompt, s);
    } finally {
      asTrained?.dispose();
    }

    const base = onnx.get('base')!, served = onnx.get('served')!, unm = onnx.get('unmerged') ?? null;
    const tokenRatio = ratioToBase(base.rounds, served.rounds, 'token', s.bootstrapResamples, `${input.seedKey}:token`);
    const requestRatio = ratioToBase(base.rounds, served.rounds, 'request', s.bootstrapResamples, `${input.seedKey}:request`);
    const unmergedRatio = unm ? ratioToBase(base.rounds, unm.rounds, 'token', s.bootstrapResamples, `${input.seedKey}:unmerged`) : null;
    input.log(`latency: per token p50 base ${fmt(base.token.p50)}, served ${fmt(served.token.p50)} (ratio ${ratioText(tokenRatio)})`
      + `${unm && unmergedRatio ? `, unmerged ${fmt(unm.token.p50)} (ratio ${ratioText(unmergedRatio)})` : ''}, tfjs ${fmt(tfjs.token.p50)}; `
      + `request p50 served ${fmt(served.request.p50)}, tfjs ${fmt(tfjs.request.p50)}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const metrics: Partial<Record<MetricId, number | null>> = {
      'latency.requestP50Ms': served.request.p50, 'latency.requestP95Ms': served.request.p95, 'latency.requestP99Ms': served.request.p99,
      'latency.requestMeanMs': served.request.mean, 'latency.requestMoeMs': served.request.moe,
      'latency.prefillP50Ms': served.prefill.p50, 'latency.prefillP95Ms': served.prefill.p95, 'latency.prefillP99Ms': served.prefill.p99,
      'latency.tokenP50Ms': served.token.p50, 'latency.tokenP95Ms': served.token.p95, 'latency.tokenP99Ms': served.token.p99,
      'latency.tokenMeanMs': served.token.mean, 'latency.tokenMoeMs': served.token.moe,
      'latency.tokenRatioToBase': tokenRatio.ratio, 'latency.tokenRatioToBaseLow': tokenRatio.low, 'latency.tokenRatioToBaseHigh': tokenRatio.high,
      'latency.requestRatioToBase': requestRatio.ratio, 'latency.requestRatioToBaseLow': requestRatio.low, 'latency.requestRatioToBaseHigh': requestRatio.high,
      'latency.baseTokenP50Ms': base.token.p50, 'latency.baseRequestP50Ms': base.request.p50,
      'latency.unmergedTokenP50Ms': unm?.token.p50 ?? null, 'latency.unmergedRequestP50Ms': unm?.request.p50 ?? null,
      'latency.unmergedTokenRatioToBase': unmergedRatio?.ratio ?? null, 'latency.unmergedTokenRatioToBaseLow': unmergedRatio?.low ?? null, 'latency.unmergedTokenRatioToBaseHigh': unmergedRatio?.high ?? null,
      'latency.tfjsTokenP50Ms': tfjs.token.p50, 'latency.tfjsRequestP50Ms': tfjs.request.p50,
      'export.logitsMaxAbsDiff': eqServed.maxAbsDiff, 'export.unmergedLogitsMaxAbsDiff': eqUnmerged?.maxAbsDiff ?? null,
    };

    const where = `onnxruntime-node ${ortVersion()} (intraOpNumThreads ${ORT_THREADING.intraOpNumThreads}, interOpNumThreads ${ORT_THREADING.interOpNumThreads}, ${ORT_THREADING.executionMode}), `
      + `${prompt.length}-token prompt, ${s.newTokens} new tokens, ${s.rounds} interleaved rounds x ${s.requestsPerRound} requests after ${s.warmupRequests} warm-up requests`;
    const aa = servedIsBase ? `; ${input.approach} serves the base model itself, so this is an A/A comparison of two sessions of the same graph: it shows the method's noise` : '';
    const pairing = `interleaved with the base model in the same process; 95% percentile bootstrap over rounds (${s.bootstrapResamples} resamples, paired, seeded)`;
    const noUnmerged = !input.serving
      ? `${input.approach} has no adapter: there is nothing to keep unmerged`
      : 'unavailable' in input.serving.unmerged ? input.serving.unmerged.unavailable : '';
    const notes: Partial<Record<MetricId, string>> = {
      'latency.requestP50Ms': `served model in ${where}; the same fixed prompt for every approach, so retrieval time and the longer prompts of approaches that retrieve are not in it (see retrieval.queriesPerSec, and prefill latency for the cost of length)`,
      'latency.prefillP50Ms': `prefill of the ${prompt.length}-token prompt, timed inside each request (${where})`,
      'latency.tokenP50Ms': `each cached decode step of each timed request (${served.token.samples} steps; ${where})`,
      'latency.tokenRatioToBase': `${ratioText(tokenRatio)}; ${pairing}${aa}`,
      'latency.requestRatioToBase': `${ratioText(requestRatio)}; ${pairing}${aa}`,
      'latency.baseTokenP50Ms': `the base model's ONNX export, timed in this cell interleaved with the served model (${where})`,
      'latency.tfjsTokenP50Ms': `the model as trained${input.serving ? ' (adapter attached, not merged)' : ''} in tfjs (model.decode with its cache), ${s.tfjsRequests} timed requests after 2 warm-up, same prompt and new tokens`,
      'latency.tfjsRequestP50Ms': `the model as trained${input.serving ? ' (adapter attached, not merged)' : ''} in tfjs, ${s.tfjsRequests} timed requests`,
      'export.logitsMaxAbsDiff': checkText(eqServed),
      ...(unm && unmergedRatio && eqUnmerged
        ? {
          'latency.unmergedTokenP50Ms': `the adapter branch x·A·B kept in the ONNX graph (${where})`,
          'latency.unmergedTokenRatioToBase': `${ratioText(unmergedRatio)}; ${pairing}`,
          'export.unmergedLogitsMaxAbsDiff': `against the tfjs model as trained: ${checkText(eqUnmerged)}`,
        }
        : Object.fromEntries(UNMERGED_METRICS.map((id) => [id, noUnmerged]))),
    };
    const mean = (v: VariantLatency['token'], what: string): Interval => ({ low: v.mean - v.moe, high: v.mean + v.moe, method: `Student t, 95%, over ${v.samples} ${what}` });
    const boot = (r: RatioInterval): Interval => ({ low: r.low, high: r.high, method: `percentile bootstrap, 95%, ${s.bootstrapResamples} resamples of ${s.rounds} interleaved rounds (paired), seeded` });
    const intervals: Partial<Record<MetricId, Interval>> = {
      'latency.requestMeanMs': mean(served.request, 'requests'),
      'latency.tokenMeanMs': mean(served.token, 'decode steps'),
      'latency.tokenRatioToBase': boot(tokenRatio),
      'latency.requestRatioToBase': boot(requestRatio),
      ...(unmergedRatio ? { 'latency.unmergedTokenRatioToBase': boot(unmergedRatio) } : {}),
    };
    const summary = (v: VariantLatency): Record<string, unknown> => ({ request: v.request, prefill: v.prefill, token: v.token });
    const inputs = {
      latency: {
        settings: s,
        prompt: { tokens: prompt.length, source: input.promptSource },
        onnxruntime: { package: 'onnxruntime-node', version: ortVersion(), executionProvider: 'cpu', ...ORT_THREADING },
        onnx: { opset: ONNX_OPSET, servedBytes: servedBytes.length, unmergedBytes: unmergedBytes?.length ?? null, io: 'input_ids, position_ids, attention_mask, past_key_values.N.key/value -> logits, present.N.key/value (one graph: prefill with past length 0, then one token per call)' },
        timing: 'tinybench (one sample per request, warm-up first); prefill and decode steps timed inside each request with performance.now; ONNX variants interleaved in rounds, the order reversed every other round',
        variants: { base: summary(base), served: summary(served), ...(unm ? { unmerged: summary(unm) } : {}), tfjs: summary(tfjs) },
        servedIsBase,
        servedWeightsSha256: weightsSha256(servedWeights, input.served.specs),
        equivalence: {
          tolerance: LOGITS_TOLERANCE,
          base: { maxAbsDiff: eqBase.maxAbsDiff, tokensEqual: eqBase.tokensEqual },
          served: { maxAbsDiff: eqServed.maxAbsDiff, maxAbsLogit: eqServed.maxAbsLogit, tokensEqual: eqServed.tokensEqual },
          ...(eqUnmerged ? { unmerged: { maxAbsDiff: eqUnmerged.maxAbsDiff, maxAbsLogit: eqUnmerged.maxAbsLogit, tokensEqual: eqUnmerged.tokensEqual } } : {}),
        },
        wallSec: (performance.now() - t0) / 1000,
      },
    };
    return { metrics, notes, intervals, inputs };
  } finally {
    for (const d of decoders) await d.release();
  }
}
