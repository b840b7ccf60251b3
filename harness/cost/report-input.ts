// What the report's "At your model size" section reads: <run>/model-size.json, made from `bench
// cost`'s cost.json (measured points) and, with --project, the memory model's projection. Written
// here, where the model lives, so that reports/ only reads result files.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MODEL_SIZE_FILE, MODEL_SIZE_FORMAT, type ModelSizeFile } from '../../reports/model-size.js';
import { UsageError } from '../errors.js';
import { COST_FORMAT, projectShape, type CostFile } from './command.js';
import { PUBLISHED } from './published.js';
import { namedShape } from './shapes.js';

/** Where `bench cost` writes by default, relative to the working folder. */
export const DEFAULT_COST_FILE = join('results', 'cost', 'cost.json');

/**
 * Writes <run>/model-size.json. `costPath` given: it must exist; not given: the run's own
 * (`bench all` measures into <run>/cost/), else the default cost file, where it exists. Returns the
 * file's path, or null when there is nothing to write.
 */
export function writeModelSizeFile(runDir: string, opts: { costPath?: string; project?: string }): string | null {
  const named = opts.project ? namedShape(opts.project, '--project') : null;
  const own = join(runDir, 'cost', 'cost.json');
  const costPath = resolve(opts.costPath ?? (existsSync(own) ? own : DEFAULT_COST_FILE));
  if (opts.costPath && !existsSync(costPath)) throw new UsageError(`--cost ${opts.costPath}: no such file. Fix: run \`bench cost\` first (it writes ${DEFAULT_COST_FILE}), or leave --cost out`);
  let cost: CostFile | null = null;
  if (existsSync(costPath)) {
    cost = JSON.parse(readFileSync(costPath, 'utf8')) as CostFile;
    if (cost.format !== COST_FORMAT) throw new UsageError(`${costPath}: not a \`bench cost\` file (format ${JSON.stringify(cost.format)}, expected ${COST_FORMAT})`);
  }
  if (!cost && !named) return null;
  const rows = named && opts.project ? projectShape(opts.project.toLowerCase(), named) : [];
  const file: ModelSizeFile = {
    format: MODEL_SIZE_FORMAT,
    costFile: cost ? costPath : null,
    measuredAt: cost?.createdAt ?? null,
    points: (cost?.points ?? []).map((p) => ({
      shape: p.shape, approach: p.approach, batch: p.batch, seqLen: p.seqLen, backend: p.backend, params: p.params,
      measured: p.measured, predicted: p.predicted, rssPeakBytes: p.rssPeakBytes, tokensPerSec: p.tokensPerSec,
    })),
    unmeasured: (cost?.unmeasured ?? []).map((u) => ({
      shape: u.shape, approach: u.approach, reason: u.reason,
      predicted: { peakBytes: u.predicted.peakBytes, weightsBytes: u.predicted.weightsBytes, gradientsBytes: u.predicted.gradientsBytes, optimizerBytes: u.predicted.optimizerBytes, activationsBytes: u.predicted.activationsBytes },
    })),
    projection: named ? {
      name: opts.project!.toLowerCase(), title: named.title, parameters: rows[0]!.prediction.params.total, shapeSource: named.source,
      activationFormula: rows[0]!.prediction.formulas.activations,
      rows: rows.map((r, i) => ({
        label: r.label, batch: PUBLISHED[i]!.batch, seqLen: PUBLISHED[i]!.seqLen,
        predicted: { peakBytes: r.prediction.peakBytes, weightsBytes: r.prediction.weightsBytes, gradientsBytes: r.prediction.gradientsBytes, optimizerBytes: r.prediction.optimizerBytes, activationsBytes: r.prediction.activationsBytes },
        publishedGb: r.publishedGb, source: r.publishedGb === null ? null : r.source,
      })),
    } : null,
  };
  const path = join(runDir, MODEL_SIZE_FILE);
  writeFileSync(`${path}.tmp-${process.pid}`, `${JSON.stringify(file, null, 1)}\n`);
  renameSync(`${path}.tmp-${process.pid}`, path);
  return path;
}
