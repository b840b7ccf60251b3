// `bench perf`: training throughput of the engine on a fixed model and batch, against the machine's
// measured sgemm peak and, with --vs-torch, against the PyTorch reference (shared/reference/
// torch_tiny_gpt.py) run in the same invocation, interleaved, so both see the same machine state.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initBackend, tf, type BackendInfo } from './engine/backend.js';
import type { ModelConfig } from './engine/config.js';
import { loadBlas } from './engine/kernels.js';
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

export interface PerfReport {
  readonly shape: ModelConfig & { batch: number; seqLen: number };
  readonly backend: BackendInfo;
  readonly sgemmPeakGflops: number | null;
  readonly flopsFormula: string;
  readonly torch: string | null;
  readonly rows: PerfRow[];
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
  for (let r = 0; r < o.repeats; r++) {
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
    rows,
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
  return lines.join('\n');
}
