// "At your model size": the run's own (small) model measured, the GPT-2 small/medium points that
// `bench cost` measured, and a projection to a size the user picked, each labelled for what it is.
// Reports read results only: everything here comes from <run>/model-size.json, which `bench report
// <run> [--project 7b]` writes from `bench cost`'s cost.json and the memory model, never from the engine.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeHtml, formatBytes } from './format.js';
import type { LoadedRun } from './load.js';
import type { GroupSummary } from './summary.js';
import { FOURFOLD_AT_LEAST } from './ledger.js';
import type { ClaimId, OutsideOutcome } from './ledger.js';

export const MODEL_SIZE_FILE = 'model-size.json';
export const MODEL_SIZE_FORMAT = 'adaptbench-model-size/1';

/** Bytes by category, as measured or predicted. */
export interface CategoryBytes {
  readonly peakBytes: number;
  readonly weightsBytes: number;
  readonly gradientsBytes: number;
  readonly optimizerBytes: number;
  readonly activationsBytes: number;
}

/** One point `bench cost` measured, with the memory model's prediction for it. */
export interface MeasuredPoint {
  readonly shape: string;
  readonly approach: 'full' | 'lora' | 'qlora';
  readonly batch: number;
  readonly seqLen: number;
  readonly backend: string;
  readonly params: { readonly total: number; readonly trainable: number };
  readonly measured: CategoryBytes;
  readonly predicted: CategoryBytes;
  readonly rssPeakBytes: number;
  readonly tokensPerSec: number;
}

export interface ProjectionRow {
  readonly label: string;
  readonly batch: number;
  readonly seqLen: number;
  readonly predicted: CategoryBytes;
  /** The publisher's figure in GB (10^9 bytes), or null. */
  readonly publishedGb: number | null;
  readonly source: string | null;
}

export interface ModelSizeFile {
  readonly format: typeof MODEL_SIZE_FORMAT;
  /** Where the measured points come from (a cost.json), or null when `bench cost` has not run. */
  readonly costFile: string | null;
  readonly measuredAt: string | null;
  readonly points: readonly MeasuredPoint[];
  /** Points that could not be measured, with why and the model's prediction (not a measurement). */
  readonly unmeasured: ReadonlyArray<{ readonly shape: string; readonly approach: string; readonly reason: string; readonly predicted?: CategoryBytes }>;
  readonly projection: null | {
    readonly name: string;
    readonly title: string;
    readonly parameters: number;
    readonly shapeSource: string;
    readonly activationFormula: string;
    readonly rows: readonly ProjectionRow[];
  };
}

/** The run's model-size.json, or null where `bench report` wrote none. */
export function loadModelSize(runDir: string): ModelSizeFile | null {
  const path = join(runDir, MODEL_SIZE_FILE);
  if (!existsSync(path)) return null;
  const file = JSON.parse(readFileSync(path, 'utf8')) as ModelSizeFile;
  return file.format === MODEL_SIZE_FORMAT ? file : null;
}

/**
 * Verdicts of the two memory claims at the sizes `bench cost` measured (their rules are in
 * ledger.ts). Engine bytes of a training step are deterministic, so one measurement per point decides.
 */
export function atSizeOutcomes(file: ModelSizeFile | null): Partial<Record<ClaimId, OutsideOutcome>> {
  const shapes = [...new Set((file?.points ?? []).map((p) => p.shape))];
  if (!file || shapes.length === 0) return {};
  const at = (shape: string, a: string) => file.points.find((p) => p.shape === shape && p.approach === a);
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const memory: string[] = [], fourfold: string[] = [];
  let memoryHeld = true, fourfoldHeld = true;
  for (const shape of shapes) {
    const lora = at(shape, 'lora'), full = at(shape, 'full'), qlora = at(shape, 'qlora');
    if (lora) {
      // Without a full fine-tuning measurement: its weights, gradients and AdamW state, 16 bytes per base parameter.
      const fullBytes = full ? full.measured.peakBytes : 16 * (lora.params.total - lora.params.trainable);
      memoryHeld &&= lora.measured.peakBytes < fullBytes;
      memory.push(`${shape}: LoRA ${mib(lora.measured.peakBytes)} vs full fine-tuning ${full ? mib(fullBytes) : `at least ${mib(fullBytes)} (not measured: its weights + gradients + AdamW state)`}, ${(lora.measured.peakBytes / fullBytes).toFixed(2)}x`);
    }
    if (lora && qlora) {
      const ratio = lora.measured.weightsBytes / qlora.measured.weightsBytes;
      fourfoldHeld &&= ratio >= FOURFOLD_AT_LEAST;
      fourfold.push(`${shape}: weights ${mib(lora.measured.weightsBytes)} vs ${mib(qlora.measured.weightsBytes)}, ${ratio.toFixed(2)}-fold; peak ${mib(lora.measured.peakBytes)} vs ${mib(qlora.measured.peakBytes)}`);
    }
  }
  const suite = `bench cost (${shapes.join(', ')})`;
  const out: Partial<Record<ClaimId, OutsideOutcome>> = {};
  if (memory.length) out['lora-less-memory-at-size'] = { suite, verdict: memoryHeld ? 'held' : 'not-held', finding: `${memory.join('; ')}.` };
  if (fourfold.length) out['quantized-fourfold-at-size'] = { suite, verdict: fourfoldHeld ? 'held' : 'not-held', finding: `${fourfold.join('; ')}.` };
  return out;
}

const cats = ['weightsBytes', 'gradientsBytes', 'optimizerBytes', 'activationsBytes', 'peakBytes'] as const;
const num = (s: string): string => `<td class="num">${escapeHtml(s)}</td>`;
const pct = (p: number, m: number): string => (m === 0 ? '—' : `${((100 * (p - m)) / m >= 0 ? '+' : '')}${((100 * (p - m)) / m).toFixed(1)}%`);

/** What the section reads of the report's context (html.ts's ReportContext has it; not imported, so html.ts stays the only importer). */
interface ModelSizeContext {
  readonly run: Pick<LoadedRun, 'dir' | 'cells'>;
  readonly groups: readonly GroupSummary[];
}

export const modelSizeSection = {
  id: 'model-size',
  title: 'At your model size',
  render(ctx: ModelSizeContext): string {
    const parts: string[] = [];
    // 1. This run's model, measured in its cells.
    const own = ctx.groups.filter((g) => g.metrics['memory.peakBytes'] && ['full-ft', 'lora', 'qlora'].includes(g.approach));
    const first = ctx.run.cells.find((c) => c.status === 'completed');
    const params = ((first?.status === 'completed' ? first.inputs['checkpoint'] : undefined) as { config?: { nEmbd: number; nLayer: number; vocabSize: number } } | undefined)?.config;
    parts.push(`<h3>Measured: this run's model${params ? ` (d ${params.nEmbd}, ${params.nLayer} layers, vocabulary ${params.vocabSize})` : ''}</h3>`);
    parts.push(own.length
      ? `<table><thead><tr><th>Suite</th><th>Row</th><th>Weights</th><th>Gradients</th><th>Optimizer</th><th>Activations</th><th>Peak</th></tr></thead><tbody>${own.map((g) => `<tr><td>${escapeHtml(g.suite)}</td><td>${escapeHtml(g.label)}</td>${cats.map((k) => {
        const id = `memory.${k}` as const;
        const s = g.metrics[id];
        return num(s ? formatBytes(s.mean) : '—');
      }).join('')}</tr>`).join('')}</tbody></table>`
      : '<p class="not-measured">No fine-tuning row in this run.</p>');
    // 2. bench cost's points.
    const file = loadModelSize(ctx.run.dir);
    if (!file || file.points.length === 0) {
      parts.push('<h3>Measured: GPT-2 small and medium</h3><p class="not-measured">Not measured: run <code>bench cost</code>, then <code>bench report &lt;run&gt;</code> (add <code>--project 7b</code> for a projection).</p>');
    } else {
      parts.push(`<h3>Measured: GPT-2 small and medium (<code>bench cost</code>, ${escapeHtml(file.measuredAt ?? '')})</h3>`);
      parts.push('<p class="note">Engine bytes of one training step (tf.profile), randomly initialised weights, next to the memory model\'s prediction for the same point.</p>');
      const rows = file.points.map((p) => `<tr><td>${escapeHtml(p.shape)}</td><td>${escapeHtml(p.approach)}</td><td>${p.batch} x ${p.seqLen}</td><td>${escapeHtml(p.backend)}</td>`
        + cats.map((k) => num(`${formatBytes(p.measured[k])} (${pct(p.predicted[k], p.measured[k])})`)).join('')
        + num(formatBytes(p.rssPeakBytes)) + num(p.tokensPerSec.toFixed(1)) + '</tr>').join('');
      parts.push(`<div class="scroll"><table><thead><tr><th>Shape</th><th>Approach</th><th>Batch x tokens</th><th>Backend</th><th>Weights</th><th>Gradients</th><th>Optimizer</th><th>Activations</th><th>Peak</th><th>RSS peak</th><th>tokens/s</th></tr></thead><tbody>${rows}</tbody></table></div>`);
      parts.push('<p class="note">In parentheses: the memory model\'s prediction against the measurement.</p>');
      for (const u of file.unmeasured) {
        const predicted = u.predicted ? ` Predicted by the memory model (not a measurement): peak ${formatBytes(u.predicted.peakBytes)}, of which weights + gradients + optimizer ${formatBytes(u.predicted.weightsBytes + u.predicted.gradientsBytes + u.predicted.optimizerBytes)}.` : '';
        parts.push(`<p class="not-measured">Not measured: ${escapeHtml(u.shape)} ${escapeHtml(u.approach)}: ${escapeHtml(u.reason)}.${escapeHtml(predicted)}</p>`);
      }
    }
    // 3. The projection, labelled as one.
    const pj = file?.projection;
    if (!pj) {
      parts.push('<h3>Projection</h3><p class="not-measured">No size picked: <code>bench report &lt;run&gt; --project 7b</code> (or 3b, 13b, 65b, 70b, gpt2-xl).</p>');
    } else {
      const gb = (b: number): string => (b / 1e9).toFixed(1);
      parts.push(`<h3>PROJECTION, not a measurement: ${escapeHtml(pj.title)} (${pj.parameters.toLocaleString('en-US')} parameters)</h3>`);
      parts.push(`<p class="note">Shape: ${escapeHtml(pj.shapeSource)}. Predicted by the memory model checked above; activations: ${escapeHtml(pj.activationFormula)}.</p>`);
      const rows = pj.rows.map((r) => `<tr><td>${escapeHtml(r.label)}</td><td>${r.batch} x ${r.seqLen}</td>${cats.map((k) => num(gb(r.predicted[k]))).join('')}`
        + `${num(r.publishedGb === null ? '—' : String(r.publishedGb))}<td class="note">${escapeHtml(r.source ?? '')}</td></tr>`).join('');
      parts.push(`<div class="scroll"><table><thead><tr><th>Setting</th><th>Batch x tokens</th><th>Weights GB</th><th>Gradients GB</th><th>Optimizer GB</th><th>Activations GB</th><th>Predicted peak GB</th><th>Published GB</th><th>Source</th></tr></thead><tbody>${rows}</tbody></table></div>`);
    }
    return parts.join('\n');
  },
};
