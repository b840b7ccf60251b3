// `bench cost`: training memory and throughput measured at GPT-2 small and medium shapes (each
// approach in its own process, so one measurement's allocations never inflate another's), checked
// against the closed-form memory model, and `--project`: the model's prediction for sizes this
// machine cannot train, next to published figures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { COST_APPROACHES, measureCost, type CostApproach, type CostMeasurement, type MeasureRequest } from './measure.js';
import { predictMemory, type MemoryPrediction } from './memory-model.js';
import { PUBLISHED } from './published.js';
import { engineConfigOf, NAMED_SHAPES, namedShape, parseShape, type ModelShape, type NamedShape, type ShapeName } from './shapes.js';

export const COST_FORMAT = 'adaptbench-cost/1';
/** wasm memory is 32-bit: one heap of at most 4 GiB for every tensor. */
const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** Headroom under the wasm heap for fragmentation and the engine's own buffers. */
const WASM_HEADROOM = 0.9;
const MiB = 2 ** 20;
/** A prediction is accepted within this share of the measurement, per category. */
export const TOLERANCE = 0.1;

/** One measured point with the model's prediction for it. */
export interface CostPoint {
  readonly shape: string;
  readonly approach: CostApproach;
  readonly batch: number;
  readonly seqLen: number;
  readonly backend: string;
  /** Why this backend and not wasm. */
  readonly backendReason: string;
  readonly params: CostMeasurement['params'];
  readonly measured: CostMeasurement['memory'];
  readonly predicted: Pick<MemoryPrediction, 'peakBytes' | 'weightsBytes' | 'gradientsBytes' | 'optimizerBytes' | 'activationsBytes' | 'formulas'>;
  readonly rssPeakBytes: number;
  readonly tokensPerSec: number;
  readonly stepSec: readonly number[];
}

export interface CostFile {
  readonly format: typeof COST_FORMAT;
  readonly createdAt: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly node: string };
  readonly batch: number;
  readonly seqLen: number;
  readonly rank: number;
  readonly points: readonly CostPoint[];
  /** Points that could not be measured, with why. */
  readonly unmeasured: ReadonlyArray<{ readonly shape: string; readonly approach: CostApproach; readonly reason: string; readonly predicted: CostPoint['predicted'] }>;
}

const CATEGORIES = [['weights', 'weightsBytes'], ['gradients', 'gradientsBytes'], ['optimizer', 'optimizerBytes'], ['activations', 'activationsBytes'], ['peak', 'peakBytes']] as const;

/** Relative difference of a prediction from a measurement. */
export const relDiff = (predicted: number, measured: number): number => (measured === 0 ? (predicted === 0 ? 0 : Infinity) : (predicted - measured) / measured);

/** The memory model's prediction for a point of the engine (fp32, AdamW, LoRA on attn.c_attn). */
export function predictEnginePoint(shape: ModelShape, approach: CostApproach, batch: number, seqLen: number, rank: number, backend: 'wasm' | 'cpu'): MemoryPrediction {
  return predictMemory({
    shape,
    approach: approach === 'full' ? { kind: 'full' } : approach === 'lora' ? { kind: 'lora', rank, targets: 'qkv' } : { kind: 'qlora', rank, targets: 'qkv', bits: 4 },
    precision: 'fp32', optimizer: 'adamw', batch, seqLen, activations: { kind: 'engine', backend },
  });
}

const predictedOf = (p: MemoryPrediction): CostPoint['predicted'] => ({
  peakBytes: p.peakBytes, weightsBytes: p.weightsBytes, gradientsBytes: p.gradientsBytes, optimizerBytes: p.optimizerBytes, activationsBytes: p.activationsBytes, formulas: p.formulas,
});

const mib = (b: number): string => (b / MiB).toFixed(1);
const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;

export function formatPoints(file: CostFile): string {
  const lines: string[] = [];
  lines.push(`measured: ${file.points.length} points, batch ${file.batch} x ${file.seqLen} tokens, LoRA/QLoRA rank ${file.rank} on attn.c_attn, AdamW, fp32; engine bytes (tf.profile) over one training step; ${file.machine.cpus} CPUs (${file.machine.cpuModel})`);
  lines.push('shape        approach backend category      measured MiB  predicted MiB   diff');
  for (const p of file.points) {
    for (const [name, key] of CATEGORIES) {
      const m = p.measured[key], q = p.predicted[key];
      lines.push([p.shape.padEnd(12), p.approach.padEnd(8), p.backend.padEnd(7), name.padEnd(12), mib(m).padStart(14), mib(q).padStart(14), pct(relDiff(q, m)).padStart(7),
        Math.abs(relDiff(q, m)) <= TOLERANCE ? '' : ' (outside 10%)'].join(' '));
    }
    lines.push(`${''.padEnd(12)} ${p.approach.padEnd(8)} process RSS peak ${mib(p.rssPeakBytes)} MiB; ${p.tokensPerSec.toFixed(1)} tokens/s (median of ${p.stepSec.length} steps); params ${p.params.total.toLocaleString('en-US')} (trainable ${p.params.trainable.toLocaleString('en-US')}); ${p.backendReason}`);
  }
  for (const u of file.unmeasured) {
    lines.push(`NOT MEASURED: ${u.shape} ${u.approach}: ${u.reason}`);
    lines.push(`${''.padEnd(12)} ${u.approach.padEnd(8)} predicted only (not a measurement): ${CATEGORIES.map(([n, k]) => `${n} ${mib(u.predicted[k])}`).join(', ')} MiB`);
  }
  const bySize = new Map<string, Map<string, CostPoint>>();
  for (const p of file.points) {
    if (!bySize.has(p.shape)) bySize.set(p.shape, new Map());
    bySize.get(p.shape)!.set(p.approach, p);
  }
  for (const [shape, m] of bySize) {
    const full = m.get('full'), lora = m.get('lora'), qlora = m.get('qlora');
    const fullFixed = file.unmeasured.find((u) => u.shape === shape && u.approach === 'full');
    if (!full && lora && fullFixed) {
      const floor = fullFixed.predicted.weightsBytes + fullFixed.predicted.gradientsBytes + fullFixed.predicted.optimizerBytes;
      lines.push(`${shape}: LoRA peak ${mib(lora.measured.peakBytes)} MiB is ${(lora.measured.peakBytes / floor).toFixed(2)}x what full fine-tuning needs before any activation (weights + gradients + AdamW state, ${mib(floor)} MiB, counted exactly; not measured)`);
    }
    if (full && lora) lines.push(`${shape}: LoRA peak ${mib(lora.measured.peakBytes)} MiB is ${(lora.measured.peakBytes / full.measured.peakBytes).toFixed(2)}x full fine-tuning's ${mib(full.measured.peakBytes)} MiB`);
    if (lora && qlora) lines.push(`${shape}: QLoRA stores its weights in ${mib(qlora.measured.weightsBytes)} MiB against LoRA's fp32 ${mib(lora.measured.weightsBytes)} MiB (${(lora.measured.weightsBytes / qlora.measured.weightsBytes).toFixed(2)}x smaller; embeddings, norms and biases stay fp32); peak ${mib(qlora.measured.peakBytes)} vs ${mib(lora.measured.peakBytes)} MiB`);
    if (full && qlora) lines.push(`${shape}: QLoRA peak ${mib(qlora.measured.peakBytes)} MiB is ${(qlora.measured.peakBytes / full.measured.peakBytes).toFixed(2)}x full fine-tuning's; QLoRA weights ${mib(qlora.measured.weightsBytes)} MiB vs ${mib(full.measured.weightsBytes)} MiB fp32 (${(full.measured.weightsBytes / qlora.measured.weightsBytes).toFixed(2)}x smaller)`);
  }
  for (const f of new Set(file.points.map((p) => p.predicted.formulas.activations))) lines.push(`activations: ${f}`);
  return lines.join('\n');
}

/** Projection rows for one shape: every published setting, predicted, next to the figure where there is one. */
export function projectShape(name: string, named: NamedShape): Array<{ label: string; predictedBytes: number; publishedGb: number | null; prediction: MemoryPrediction; source: string; counted: string }> {
  return PUBLISHED.map((s) => {
    const prediction = predictMemory({
      shape: named.shape, approach: s.approach, precision: s.precision, optimizer: 'adamw', batch: s.batch, seqLen: s.seqLen,
      activations: { kind: 'korthikanti', recompute: s.recompute, flash: true },
    });
    return { label: s.label, predictedBytes: prediction.peakBytes, publishedGb: s.gb[name as ShapeName] ?? null, prediction, source: s.source, counted: s.counted };
  });
}

export function formatProjection(name: string, named: NamedShape, measured: CostFile | null): string {
  const rows = projectShape(name, named);
  const first = rows[0]!.prediction;
  const lines = [`PROJECTION (not measured) for ${named.title}: ${first.params.total.toLocaleString('en-US')} parameters; shape from ${named.source}`];
  lines.push('setting             batch x tokens  weights GB  grads GB  optim GB  activ GB  predicted GB  published GB  diff');
  PUBLISHED.forEach((s, i) => {
    const r = rows[i]!, p = r.prediction;
    const gb = (b: number): string => (b / 1e9).toFixed(1);
    lines.push([s.label.padEnd(19), `${s.batch} x ${s.seqLen}${s.recompute ? ' (ckpt)' : ''}`.padEnd(15), gb(p.weightsBytes).padStart(10), gb(p.gradientsBytes).padStart(9), gb(p.optimizerBytes).padStart(9),
      gb(p.activationsBytes).padStart(9), gb(p.peakBytes).padStart(13), (r.publishedGb?.toString() ?? '-').padStart(13),
      (r.publishedGb ? pct(relDiff(p.peakBytes / 1e9, r.publishedGb)) : '').padStart(7)].join(' '));
  });
  const sources = [...new Set(rows.filter((r) => r.publishedGb !== null).map((r) => `${r.source}: ${r.counted}`))];
  for (const s of sources) lines.push(`  published: ${s}`);
  lines.push('  predicted: weights, gradients and optimizer state counted exactly per parameter (bf16-mixed: fp32 master + bf16 copy, fp32 gradients, fp32 AdamW moments; bf16: 2 + 2 + 4 bytes; adapters fp32);');
  lines.push(`  activations: ${first.formulas.activations}. Not counted: the CUDA context and kernels, allocator caching and fragmentation (PEFT reports *reserved* memory), temporary buffers of the optimizer step`);
  if (measured && measured.points.length) {
    const worst = Math.max(...measured.points.flatMap((p) => CATEGORIES.map(([, k]) => Math.abs(relDiff(p.predicted[k], p.measured[k])))));
    lines.push(`  checked against: the same model's weights/gradients/optimizer counting at ${[...new Set(measured.points.map((p) => p.shape))].join(', ')} (measured by \`bench cost\` on ${measured.createdAt}), every category within ${(100 * worst).toFixed(1)}%; the 16-bit activation formula itself is not measured here (no GPU)`);
  } else {
    lines.push('  checked against: no `bench cost` measurement found (run `bench cost` first; --measured <file> to point at one)');
  }
  return lines.join('\n');
}

interface CostFlags {
  shapes: string[];
  approach: string[];
  batch: number;
  seq: number;
  rank: number;
  steps: number;
  project?: string[];
  shape?: string;
  out: string;
  measured?: string;
  cpu?: boolean;
  child?: string;
  childOut?: string;
}

function positive(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer (got "${v}"). Example: ${flag} 2`);
    return n;
  };
}
const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');

/** Runs one measurement in a child `bench cost --child`, so each approach has its own process. */
function measureInChild(req: MeasureRequest, scratch: string): CostMeasurement {
  const bench = fileURLToPath(new URL('../../../harness/bin/bench.js', import.meta.url));
  const out = join(scratch, `${req.shapeName}-${req.approach}.json`);
  const res = spawnSync(process.execPath, [bench, 'cost', '--child', JSON.stringify(req), '--child-out', out], { encoding: 'utf8', maxBuffer: 64 * MiB });
  if (res.status !== 0) throw new Error(`exit ${res.status ?? res.signal}: ${(res.stderr || res.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(readFileSync(out, 'utf8')) as CostMeasurement;
}

async function costCommand(flags: CostFlags): Promise<void> {
  if (flags.child) {
    const req = JSON.parse(flags.child) as MeasureRequest;
    const m = await measureCost(req);
    writeFileSync(flags.childOut!, JSON.stringify(m));
    return;
  }
  const approaches = flags.approach.map((a) => {
    if (!(COST_APPROACHES as readonly string[]).includes(a)) throw new UsageError(`--approach: unknown approach "${a}" (bench cost measures ${COST_APPROACHES.join(', ')})`);
    return a as CostApproach;
  });
  const outDir = resolve(flags.out);
  if (flags.project || flags.shape) {
    const targets: Array<[string, NamedShape]> = (flags.project ?? []).map((n) => [n.toLowerCase(), namedShape(n, '--project')]);
    if (flags.shape) targets.push(['custom', { title: `--shape ${flags.shape}`, source: 'the user (--shape)', shape: parseShape(flags.shape) }]);
    const measuredPath = flags.measured ? resolve(flags.measured) : join(outDir, 'cost.json');
    if (flags.measured && !existsSync(measuredPath)) throw new UsageError(`--measured ${measuredPath}: no such file. Fix: run \`bench cost\` first, or leave --measured out`);
    const measured = existsSync(measuredPath) ? (JSON.parse(readFileSync(measuredPath, 'utf8')) as CostFile) : null;
    for (const [name, named] of targets) console.log(`${formatProjection(name, named, measured)}\n`);
    return;
  }
  const shapes = flags.shapes.map((n) => [n, namedShape(n, '--shapes')] as const);
  for (const [name, s] of shapes) {
    const cfg = engineConfigOf(s.shape);
    if ('problem' in cfg) throw new UsageError(`--shapes ${name}: the engine cannot train this shape: ${cfg.problem}. Fix: measure GPT-2-family shapes (gpt2-small, gpt2-medium) and project the others with --project`);
    if (flags.seq > cfg.nCtx) throw new UsageError(`--seq ${flags.seq} exceeds ${name}'s context of ${cfg.nCtx}`);
  }
  mkdirSync(outDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'adaptbench-cost-'));
  const points: CostPoint[] = [];
  const unmeasured: CostFile['unmeasured'][number][] = [];
  try {
    for (const [name, named] of shapes) {
      const config = engineConfigOf(named.shape) as Exclude<ReturnType<typeof engineConfigOf>, { problem: string }>;
      for (const approach of approaches) {
        const wasmPrediction = predictEnginePoint(named.shape, approach, flags.batch, flags.seq, flags.rank, 'wasm');
        if (wasmPrediction.peakBytes >= WASM_HEADROOM * WASM_HEAP_BYTES && !flags.cpu) {
          const fixed = wasmPrediction.weightsBytes + wasmPrediction.gradientsBytes + wasmPrediction.optimizerBytes;
          const reason = `does not fit the wasm backend's 4 GiB heap (32-bit memory): weights + gradients + AdamW state alone are ${mib(fixed)} MiB (counted exactly), `
            + `predicted peak ${mib(wasmPrediction.peakBytes)} MiB; no batch or sequence cut makes it fit. The cpu backend has no such limit but runs this engine's `
            + 'training step far slower than wasm here (README, "Cost at real model sizes"), beyond this command\'s budget: --cpu measures it anyway';
          unmeasured.push({ shape: name, approach, reason, predicted: predictedOf(wasmPrediction) });
          console.log(`not measuring ${name} ${approach}: ${reason}`);
          continue;
        }
        const backend = flags.cpu && wasmPrediction.peakBytes >= WASM_HEADROOM * WASM_HEAP_BYTES ? 'cpu' : 'wasm';
        const backendReason = backend === 'wasm' ? 'wasm (the engine\'s default here)' : `cpu backend (--cpu): the predicted ${mib(wasmPrediction.peakBytes)} MiB do not fit wasm's 4 GiB heap`;
        const req: MeasureRequest = { shapeName: name, config, approach, batch: flags.batch, seqLen: flags.seq, rank: flags.rank, targets: ['attn.c_attn'], timedSteps: flags.steps, backend };
        console.log(`measuring ${name} ${approach} on ${backend}, batch ${flags.batch} x ${flags.seq} ...`);
        const t0 = performance.now();
        try {
          const m = measureInChild(req, scratch);
          const predicted = predictEnginePoint(named.shape, approach, flags.batch, flags.seq, flags.rank, backend);
          points.push({
            shape: name, approach, batch: flags.batch, seqLen: flags.seq, backend: m.backend, backendReason, params: m.params, measured: m.memory,
            predicted: predictedOf(predicted),
            rssPeakBytes: m.rssPeakBytes, tokensPerSec: m.tokensPerSec, stepSec: m.stepSec,
          });
          console.log(`  done in ${((performance.now() - t0) / 1000).toFixed(0)} s: peak ${mib(m.memory.peakBytes)} MiB (predicted ${mib(predicted.peakBytes)}), ${m.tokensPerSec.toFixed(1)} tokens/s`);
        } catch (err) {
          unmeasured.push({ shape: name, approach, reason: `the measurement failed on ${backend} (${(err as Error).message})`, predicted: predictedOf(predictEnginePoint(named.shape, approach, flags.batch, flags.seq, flags.rank, backend)) });
          console.log(`  failed: ${(err as Error).message}`);
        }
      }
    }
  } finally {
    // Only the children's result files: the figures are in points by now.
    rmSync(scratch, { recursive: true, force: true });
  }
  const file: CostFile = {
    format: COST_FORMAT, createdAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    batch: flags.batch, seqLen: flags.seq, rank: flags.rank, points, unmeasured,
  };
  const text = formatPoints(file);
  console.log(`\n${text}`);
  for (const [path, body] of [[join(outDir, 'cost.json'), `${JSON.stringify(file, null, 1)}\n`], [join(outDir, 'cost.txt'), `${text}\n`]] as const) {
    writeFileSync(`${path}.tmp`, body);
    renameSync(`${path}.tmp`, path);
  }
  console.log(`\ncost: ${join(outDir, 'cost.json')}, ${join(outDir, 'cost.txt')}`);
}

export function registerCostCommand(program: Command): void {
  program.command('cost').description('training memory and tokens/s at GPT-2 small/medium shapes against the memory model; --project: predicted memory at 3B-70B next to published figures')
    .option('--shapes <list>', `shapes to measure (${Object.keys(NAMED_SHAPES).filter((n) => n.startsWith('gpt2')).join(', ')})`, list, ['gpt2-small', 'gpt2-medium'])
    .option('--approach <list>', `approaches to measure (${COST_APPROACHES.join(', ')})`, list, [...COST_APPROACHES])
    .option('--batch <n>', 'sequences per step', positive('--batch'), 2)
    .option('--seq <n>', 'tokens per sequence', positive('--seq'), 128)
    .option('--rank <n>', 'LoRA/QLoRA rank', positive('--rank'), 8)
    .option('--steps <n>', 'timed steps after the profiled step', positive('--steps'), 2)
    .option('--cpu', 'measure what does not fit the wasm heap on the cpu backend instead (far slower than wasm here)')
    .option('--project <list>', `project to named shapes instead of measuring (${Object.keys(NAMED_SHAPES).join(', ')})`, list)
    .option('--shape <spec>', 'project to your own shape: layers=..,width=..,heads=..,vocab=..[,mlp=..,kvHeads=..,family=llama,tied=false]')
    .option('--out <dir>', 'where cost.json and cost.txt go (and where --project looks for them)', 'results/cost')
    .option('--measured <file>', 'cost.json that --project cites as its check (default <out>/cost.json)')
    .addOption(new Option('--child <json>').hideHelp())
    .addOption(new Option('--child-out <file>').hideHelp())
    .action(costCommand);
}
