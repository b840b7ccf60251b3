// `--export-trec`: the document ranking and the judgements of every cell that retrieved, in TREC
// format (harness/retrieval/trec.ts), from a run folder and the suites it ran.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRun } from '../reports/load.js';
import { suiteFromSource } from '../suites/registry.js';
import { InputError } from './errors.js';
import type { CellInputs, RetrievalInputs } from './results.js';
import { trecQrels, trecRun, type RankedQuery } from './retrieval/trec.js';

/** The ranking a rag or lora-rag cell records in inputs.retrieval.run. */
type RecordedRun = NonNullable<RetrievalInputs['run']>;

function recordedRun(inputs: CellInputs): RecordedRun | null {
  const r = inputs.retrieval?.run;
  return r && Array.isArray(r.documents) && Array.isArray(r.queries) && Array.isArray(r.ranks) && Array.isArray(r.scores) ? r : null;
}

const writeAtomic = (file: string, text: string): void => {
  writeFileSync(`${file}.tmp-${process.pid}`, text);
  renameSync(`${file}.tmp-${process.pid}`, file);
};

/**
 * Writes `<run>/trec/<cell id>.run` and `<cell id>.qrels` for every completed cell that retrieved
 * (rag, lora-rag): the document ranking of each test question and the suite's judgements for those
 * questions. Returns the files written.
 */
export async function exportTrec(runDir: string): Promise<string[]> {
  const run = await loadRun(runDir);
  const dir = join(runDir, 'trec');
  const files: string[] = [];
  for (const cell of run.cells) {
    if (cell.status !== 'completed') continue;
    const rec = recordedRun(cell.inputs);
    // Demonstrations (labelled training examples) have no relevance judgements to check a ranking against.
    if (!rec || cell.inputs.retrieval?.corpus === 'demonstrations') continue;
    const queries: RankedQuery[] = rec.queries.map((queryId, i) => ({
      queryId,
      docs: (rec.ranks[i] ?? []).map((d) => rec.documents[d]!),
      scores: rec.scores[i] ?? [],
    }));
    const recorded = cell.inputs.suite?.contentHash;
    const data = (await suiteFromSource(cell.cell.suite, cell.inputs.suite?.source ?? { kind: 'built-in' })).buildData(cell.cell.seed);
    if (recorded !== undefined && recorded !== data.contentHash) {
      throw new InputError(`TREC export of ${cell.cell.id}: suite ${cell.cell.suite} data now hashes to ${data.contentHash.slice(0, 12)}, the cell ran on ${recorded.slice(0, 12)}; its qrels would not match. Fix: export with the code version and suite files the run was made with`);
    }
    const asked = new Set(rec.queries);
    const qrels = data.qrels.filter((q) => asked.has(q.queryId));
    mkdirSync(dir, { recursive: true });
    const runFile = join(dir, `${cell.cell.id}.run`), qrelsFile = join(dir, `${cell.cell.id}.qrels`);
    writeAtomic(runFile, trecRun(queries, cell.cell.label));
    writeAtomic(qrelsFile, trecQrels(qrels));
    files.push(runFile, qrelsFile);
  }
  return files;
}
