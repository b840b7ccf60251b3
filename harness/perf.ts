// `bench perf`: training throughput of the engine on a fixed model and batch, against the machine's
// measured sgemm peak and, with --vs-torch, against the PyTorch reference (shared/reference/
// torch_tiny_gpt.py) run in the same invocation, interleaved, so both see the same machine state.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, tf, type BackendInfo } from './engine/backend.js';
import type { ModelConfig } from './engine/config.js';
import { loadBlas } from './engine/kernels.js';
import { generateGreedy, meanCrossEntropy } from './engine/evaluate.js';
import { GPT } from './engine/model.js';
import { LoraAdapter, QloraAdapter } from './engine/lora.js';
import { countBaseParameters } from './engine/params.js';
import { AdamW, DEFAULT_TRAIN_OPTIONS, trainStep, type Batch } from './engine/train.js';
import { median } from './metrics/stats.js';
import { UsageError } from './errors.js';

/** The reference's defaults (torch_tiny_gpt.py): vocabulary 2048, d 128, 4 layers, 4 heads, ctx 64, batch 16. */
export const REFERENCE_SHAPE = Object.freeze({ vocabSize: 2048, nEmbd: 128, nLayer: 4, nHead: 4, nCtx: 64, batch: 16, rank: 8 });

export type PerfApproach = 'full' | 'lora' | 'qlora';

/** How an approach makes a model whose trainable variables are timed. */
export type PerfSetup = (model: GPT, rank: number) => { vars: Map<string, tf.Variable>; dispose(): void };

/** LoRA on the fused attention projection (the reference's choice), alpha 16 as the reference. */
const loraSettings = (rank: number) => ({ rank, alpha: 16, dropout: 0, targets: ['attn.c_attn'] as const });

const setups = new Map<PerfApproach, PerfSetup>([
  ['full', (model) => ({ vars: model.params, dispose: () => {} })],
  ['lora', (model, rank) => {
    const adapter = new LoraAdapter(model.config, { ...loraSettings(rank), targets: ['attn.c_attn'] }, 1);
    model.adapter = adapter;
    return { vars: adapter.variables(), dispose: () => adapter.dispose() };
  }],
  ['qlora', (model, rank) => {
    const adapter = QloraAdapter.attach(model, { ...loraSettings(rank), targets: ['attn.c_attn'] }, 1);
    return { vars: adapter.variables(), dispose: () => adapter.dispose() };
  }],
]);

export interface PerfOptions {
  readonly model: ModelConfig;
  readonly batch: number;
  readonly steps: number;
  readonly warmup: number;
  readonly repeats: number;
  readonly rank: number;
  readonly approaches: readonly PerfApproach[];
  readonly vsTorch: boolean;
  /** Also time inference: evaluation (forward, no gradient) and KV-cached greedy generation. */
  readonly inference: boolean;
  readonly backend?: string;
  readonly log: (line: string) => void;
}

export interface PerfRow {
  readonly approach: PerfApproach;
  /** tokens/s of each repeat (each the median over its timed steps). */
  readonly tokensPerSec: number[];
  readonly medianTokensPerSec: number;
  readonly gflopsPerSec: number;
  readonly shareOfSgemmPeak: number;
  readonly trainableParams: number;
  readonly torchTokensPerSec: number[] | null;
  readonly torchMedian: number | null;
  /** ours / torch, medians; > 1 means faster than PyTorch. */
  readonly ratio: number | null;
}

/** Inference rates of the base model (no adapter), medians over repeats. */
export interface InferenceRates {
  /** Evaluation: forward pass and per-token cross-entropy over the timed batch, tokens scored per second. */
  readonly evalTokensPerSec: number[];
  /** Greedy generation with the KV cache: GENERATION prompts, new tokens per second. */
  readonly generatedTokensPerSec: number[];
}

/** The generation workload of --inference: 32 prompts of 64 tokens, 24 new tokens each (never stopping early). */
export const GENERATION = Object.freeze({ prompts: 32, promptTokens: 64, newTokens: 24, batchSize: 32 });

export interface PerfReport {
  readonly shape: ModelConfig & { batch: number; seqLen: number };
  readonly backend: BackendInfo;
  readonly sgemmPeakGflops: number | null;
  readonly flopsFormula: string;
  readonly torch: string | null;
  readonly rows: PerfRow[];
  readonly inference: InferenceRates | null;
}

/**
 * Training FLOPs per token: 2 per multiply-add in the forward pass over the matmul weights
 * (12·L·d² linear + V·d tied head) plus attention's 2·L·T·d (scores and weighted values), then
 * x3 for full fine-tuning (forward, input and weight gradients) or x2 + the adapters for LoRA and
 * QLoRA (frozen weights need no weight gradient).
 */
export function trainFlopsPerToken(c: ModelConfig, seqLen: number, approach: PerfApproach, trainableParams: number): number {
  const matmul = 2 * (12 * c.nLayer * c.nEmbd * c.nEmbd + c.vocabSize * c.nEmbd);
  const attention = 2 * c.nLayer * seqLen * c.nEmbd;
  const forward = matmul + attention;
  return approach === 'full' ? 3 * forward : 2 * forward + 6 * trainableParams;
}

/** Best-of-5 OpenBLAS sgemm rate on 1024x1024x1024, in GFLOP/s; null without the addon. */
export function measureSgemmPeak(): number | null {
  const { addon } = loadBlas();
  if (!addon) return null;
  const n = 1024;
  const a = new Float32Array(n * n).fill(0.5), b = new Float32Array(n * n).fill(0.25), c = new Float32Array(n * n);
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    addon.sgemm(a, 0, 0, b, 0, 0, c, 0, 0, 1, n, n, n, 0, 0);
    if (i > 0) best = Math.min(best, performance.now() - t);
  }
  return (2 * n * n * n) / (best / 1000) / 1e9;
}

const REFERENCE_SCRIPT = fileURLToPath(new URL('../../../shared/reference/torch_tiny_gpt.py', import.meta.url));

/** Runs the PyTorch reference once; returns tokens/s by approach ('full', 'lora'). */
function runTorch(o: PerfOptions): Record<string, number> {
  const args = [REFERENCE_SCRIPT, '--vocab', o.model.vocabSize, '--d', o.model.nEmbd, '--layers', o.model.nLayer, '--heads', o.model.nHead,
    '--ctx', o.model.nCtx, '--batch', o.batch, '--rank', o.rank, '--steps', o.steps, '--threads', 2].map(String);
  const out = execFileSync('/usr/bin/python3', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const rates: Record<string, number> = {};
  for (const line of out.split('\n').filter((l) => l.startsWith('{'))) {
    const r = JSON.parse(line) as { approach: string; tokens_per_s: number };
    rates[r.approach] = r.tokens_per_s;
  }
  return rates;
}

/** Checks that the reference can run here, or says how to make it run. */
function torchProblem(): string | null {
  if (!existsSync(REFERENCE_SCRIPT)) return `the reference script ${REFERENCE_SCRIPT} is missing (it lives in the shared/ folder beside the checkout)`;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'PyTorch is not installed for /usr/bin/python3: apt-get install -y python3-torch';
  }
}

/** tokens/s of one approach: `steps` timed steps after `warmup`, median step time. */
function timeApproach(o: PerfOptions, approach: PerfApproach, batch: Batch): { tokensPerSec: number; trainable: number } {
  const setup = setups.get(approach);
  if (!setup) throw new UsageError(`bench perf: approach "${approach}" is not available (known: ${[...setups.keys()].join(', ')})`);
  const model = GPT.init(o.model, 1);
  const { vars, dispose } = setup(model, o.rank);
  const decayed = new Set([...vars.keys()].filter((n) => n.endsWith('.weight') && !n.includes('ln_')));
  const optimizer = new AdamW(vars, decayed, DEFAULT_TRAIN_OPTIONS);
  const times: number[] = [];
  for (let s = 0; s < o.warmup + o.steps; s++) {
    const t = performance.now();
    trainStep(model, vars, optimizer, batch, 1e-4, 1);
    if (s >= o.warmup) times.push(performance.now() - t);
  }
  let trainable = 0;
  for (const v of vars.values()) trainable += v.size;
  optimizer.dispose();
  dispose();
  model.dispose();
  return { tokensPerSec: (batch.batchSize * batch.seqLen) / (median(times) / 1000), trainable };
}

/** One repeat of --inference on a freshly initialised base model: evaluation and generation rates. */
function timeInference(o: PerfOptions, batch: Batch): { evalTokensPerSec: number; generatedTokensPerSec: number } {
  const model = GPT.init(o.model, 1);
  const tokens = Int32Array.from({ length: batch.ids.length + 1 }, (_, i) => batch.ids[i % batch.ids.length]!);
  meanCrossEntropy(model, tokens, { batchSize: batch.batchSize }); // warm-up
  let t = performance.now();
  const scored = meanCrossEntropy(model, tokens, { batchSize: batch.batchSize }).tokens;
  const evalTokensPerSec = scored / ((performance.now() - t) / 1000);
  const promptTokens = Math.min(GENERATION.promptTokens, o.model.nCtx - GENERATION.newTokens);
  const prompts = Array.from({ length: GENERATION.prompts }, (_, p) => Array.from(batch.ids.subarray(p * promptTokens, (p + 1) * promptTokens)));
  const gen = { maxNewTokens: GENERATION.newTokens, stopIds: [], batchSize: GENERATION.batchSize };
  generateGreedy(model, prompts.slice(0, 2), gen); // warm-up
  t = performance.now();
  const generated = generateGreedy(model, prompts, gen).reduce((n, g) => n + g.length, 0);
  const generatedTokensPerSec = generated / ((performance.now() - t) / 1000);
  model.dispose();
  return { evalTokensPerSec, generatedTokensPerSec };
}

export async function runPerf(o: PerfOptions): Promise<PerfReport> {
  if (o.vsTorch) {
    const problem = torchProblem();
    if (problem) throw new UsageError(`bench perf --vs-torch: ${problem}`);
  }
  const backend = await initBackend(o.backend);
  const seqLen = o.model.nCtx;
  const n = o.batch * seqLen;
  const ids = Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % o.model.vocabSize);
  const targets = Int32Array.from({ length: n }, (_, i) => (i * 104729 + 7) % o.model.vocabSize);
  const batch: Batch = { batchSize: o.batch, seqLen, ids, targets, weights: new Float32Array(n).fill(1) };
  const peak = measureSgemmPeak();
  o.log(`backend ${backend.name} (matmul ${backend.kernels?.matmul ?? 'tfjs'}, fused kernels ${backend.fused.mode}); sgemm peak ${peak?.toFixed(1) ?? 'n/a'} GFLOP/s; ` +
    `model ${countBaseParameters(o.model)} parameters, batch ${o.batch} x ${seqLen}`);
  const ours = new Map<PerfApproach, number[]>(o.approaches.map((a) => [a, []]));
  const trainable = new Map<PerfApproach, number>();
  const torch = new Map<string, number[]>([['full', []], ['lora', []]]);
  const inference: InferenceRates | null = o.inference ? { evalTokensPerSec: [], generatedTokensPerSec: [] } : null;
  for (let r = 0; r < o.repeats; r++) {
    if (inference) {
      const rates = timeInference(o, batch);
      inference.evalTokensPerSec.push(rates.evalTokensPerSec);
      inference.generatedTokensPerSec.push(rates.generatedTokensPerSec);
      o.log(`repeat ${r + 1}/${o.repeats} inference: eval ${rates.evalTokensPerSec.toFixed(0)} tokens/s, generation ${rates.generatedTokensPerSec.toFixed(0)} new tokens/s`);
    }
    for (const a of o.approaches) {
      const { tokensPerSec, trainable: t } = timeApproach(o, a, batch);
      ours.get(a)!.push(tokensPerSec);
      trainable.set(a, t);
      o.log(`repeat ${r + 1}/${o.repeats} ${a}: ${tokensPerSec.toFixed(0)} tokens/s`);
    }
    if (o.vsTorch) {
      const rates = runTorch(o);
      for (const [k, v] of Object.entries(rates)) torch.get(k)?.push(v);
      o.log(`repeat ${r + 1}/${o.repeats} torch: ${Object.entries(rates).map(([k, v]) => `${k} ${v} tokens/s`).join(', ')}`);
    }
  }
  const rows: PerfRow[] = o.approaches.map((a) => {
    const tps = ours.get(a)!;
    const med = median(tps);
    const flops = trainFlopsPerToken(o.model, seqLen, a, trainable.get(a) ?? 0);
    // The reference has full and LoRA; QLoRA is compared with its LoRA (PyTorch has no NF4 here).
    const t = o.vsTorch ? torch.get(a === 'full' ? 'full' : 'lora')! : null;
    const tMed = t && t.length ? median(t) : null;
    return {
      approach: a, tokensPerSec: tps, medianTokensPerSec: med, gflopsPerSec: (med * flops) / 1e9,
      shareOfSgemmPeak: peak ? (med * flops) / 1e9 / peak : NaN, trainableParams: trainable.get(a) ?? 0,
      torchTokensPerSec: t, torchMedian: tMed, ratio: tMed ? med / tMed : null,
    };
  });
  tf.disposeVariables();
  return {
    shape: { ...o.model, batch: o.batch, seqLen }, backend, sgemmPeakGflops: peak,
    flopsFormula: 'full: 3 x forward; lora/qlora: 2 x forward + 6 x trainable; forward = 2 x (12 L d^2 + V d) + 2 L T d per token',
    torch: o.vsTorch ? 'torch (Debian python3-torch), shared/reference/torch_tiny_gpt.py, 2 threads' : null,
    rows, inference,
  };
}

export function formatPerf(r: PerfReport): string {
  const lines = [`training throughput, ${r.shape.nLayer} layers d=${r.shape.nEmbd} V=${r.shape.vocabSize}, batch ${r.shape.batch} x ${r.shape.seqLen}, backend ${r.backend.name}`];
  lines.push('approach  tokens/s (median)  GFLOP/s  % sgemm peak  torch tokens/s  ours/torch');
  for (const row of r.rows) {
    lines.push([row.approach.padEnd(8), row.medianTokensPerSec.toFixed(0).padStart(17), row.gflopsPerSec.toFixed(1).padStart(8),
      (100 * row.shareOfSgemmPeak).toFixed(1).padStart(13), (row.torchMedian?.toFixed(0) ?? '-').padStart(15),
      (row.ratio?.toFixed(2) ?? '-').padStart(11)].join(' '));
  }
  lines.push(`sgemm peak ${r.sgemmPeakGflops?.toFixed(1) ?? 'n/a'} GFLOP/s; FLOPs: ${r.flopsFormula}`);
  if (r.inference) {
    lines.push(`inference (base model): evaluation ${median(r.inference.evalTokensPerSec).toFixed(0)} tokens/s (batch ${r.shape.batch} x ${r.shape.seqLen}); ` +
      `greedy generation ${median(r.inference.generatedTokensPerSec).toFixed(0)} new tokens/s (${GENERATION.prompts} prompts x ${GENERATION.promptTokens} tokens, ${GENERATION.newTokens} new, KV cache)`);
  }
  return lines.join('\n');
}

/**
 * Engine paths, each selected by environment variables read when the engine starts, so each runs
 * in its own process: `tfjs` is the straightforward tfjs path (tfjs's own kernels; only the
 * missing gather gradient added), `blas` adds the OpenBLAS matmul, `fused` (the default) adds the
 * fused kernels.
 */
export const ENGINE_PATHS = Object.freeze({
  tfjs: { ADAPTBENCH_BLAS: 'off', ADAPTBENCH_KERNELS: 'plain' },
  blas: { ADAPTBENCH_KERNELS: 'plain' },
  fused: {},
} as const);
export type EnginePath = keyof typeof ENGINE_PATHS;

export interface PathsReport {
  readonly paths: readonly EnginePath[];
  /** Per path, one report per repeat (each from its own process, repeats interleaved across paths). */
  readonly reports: Readonly<Record<string, PerfReport[]>>;
  readonly torch: Readonly<Record<string, number[]>> | null;
}

/**
 * --paths: each repeat runs every path in a child `bench perf --repeats 1` with that path's
 * environment, interleaved (path A, path B, ..., then torch), so slow drifts of a shared machine
 * hit every path alike; figures are medians over repeats.
 */
export function runPerfPaths(o: PerfOptions, paths: readonly EnginePath[], childArgs: readonly string[], scratch: string): PathsReport {
  const bench = fileURLToPath(new URL('../../harness/bin/bench.js', import.meta.url));
  const reports: Record<string, PerfReport[]> = Object.fromEntries(paths.map((p) => [p, []]));
  const torch: Record<string, number[]> | null = o.vsTorch ? { full: [], lora: [] } : null;
  for (let r = 0; r < o.repeats; r++) {
    for (const path of paths) {
      const json = join(scratch, `${path}-${r}.json`);
      const env = { ...process.env, ...ENGINE_PATHS[path] };
      const res = spawnSync(process.execPath, [bench, 'perf', ...childArgs, '--repeats', '1', '--json', json], { env, encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`bench perf, path ${path}, failed (exit ${res.status}):\n${res.stderr}`);
      const report = JSON.parse(readFileSync(json, 'utf8')) as PerfReport;
      reports[path]!.push(report);
      o.log(`repeat ${r + 1}/${o.repeats} ${path}: ${report.rows.map((row) => `${row.approach} ${row.medianTokensPerSec.toFixed(0)}`).join(', ')} tokens/s` +
        (report.inference ? `; eval ${report.inference.evalTokensPerSec[0]!.toFixed(0)}, generation ${report.inference.generatedTokensPerSec[0]!.toFixed(0)} tokens/s` : ''));
    }
    if (torch) {
      const rates = runTorch(o);
      for (const [k, v] of Object.entries(rates)) torch[k]?.push(v);
      o.log(`repeat ${r + 1}/${o.repeats} torch: ${Object.entries(rates).map(([k, v]) => `${k} ${v} tokens/s`).join(', ')}`);
    }
  }
  return { paths, reports, torch };
}

export function formatPerfPaths(r: PathsReport): string {
  const first = r.reports[r.paths[0]!]![0]!;
  const lines = [`engine paths, ${first.shape.nLayer} layers d=${first.shape.nEmbd} V=${first.shape.vocabSize}, batch ${first.shape.batch} x ${first.shape.seqLen}, backend ${first.backend.name}; medians over ${r.reports[r.paths[0]!]!.length} interleaved repeats`];
  lines.push(`path     measure             tokens/s  x ${r.paths[0]}${r.torch ? '  ours/torch' : ''}`);
  const medianOf = (path: EnginePath, pick: (rep: PerfReport) => number | undefined): number | null => {
    const xs = r.reports[path]!.map(pick).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : null;
  };
  const measures: Array<[string, (rep: PerfReport) => number | undefined, string | null]> = [
    ...first.rows.map((row): [string, (rep: PerfReport) => number | undefined, string | null] =>
      [`train ${row.approach}`, (rep) => rep.rows.find((x) => x.approach === row.approach)?.medianTokensPerSec, row.approach === 'full' ? 'full' : 'lora']),
    ...(first.inference ? [
      ['eval', (rep: PerfReport) => rep.inference?.evalTokensPerSec[0], null] as [string, (rep: PerfReport) => number | undefined, string | null],
      ['generation', (rep: PerfReport) => rep.inference?.generatedTokensPerSec[0], null] as [string, (rep: PerfReport) => number | undefined, string | null],
    ] : []),
  ];
  for (const [name, pick, torchKey] of measures) {
    const baseline = medianOf(r.paths[0]!, pick);
    for (const path of r.paths) {
      const m = medianOf(path, pick);
      const t = r.torch && torchKey ? median(r.torch[torchKey]!) : null;
      lines.push([path.padEnd(8), name.padEnd(16), (m?.toFixed(0) ?? '-').padStart(12), (m && baseline ? (m / baseline).toFixed(2) : '-').padStart(6 + r.paths[0]!.length),
        ...(r.torch ? [(m && t ? (m / t).toFixed(2) : '-').padStart(12)] : [])].join(' '));
    }
  }
  return lines.join('\n');
}
