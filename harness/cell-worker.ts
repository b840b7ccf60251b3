// Child-process entry of one cell: `node dist/harness/cell-worker.js <run>/jobs/<id>.json`.
// Runs the cell, writes its result atomically to `<run>/cells/<id>.json` and exits 0: a failed cell
// is a result, not a crash. Only when the result cannot be written does it exit non-zero; the runner
// then records the failure itself, as it does when this process is killed.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { runCell, type CellJob, type StageMessage } from './cell.js';
import { cacheDir, cellResultPath, writeJsonAtomic } from './run-files.js';

/** Units of a stage are sent at most this often: the bar redraws twice a second. */
const STAGE_INTERVAL_MS = 250;

// The runner holds an IPC channel to this process; when the runner dies (kill -9 included) the
// channel closes and the cell stops, so a resumed run never races a leftover cell for its file.
process.on('disconnect', () => process.exit(3));

async function main(): Promise<number> {
  const jobFile = process.argv[2];
  if (!jobFile) {
    console.error('usage: node dist/harness/cell-worker.js <run>/jobs/<cell-id>.json (the runner writes it)');
    return 2;
  }
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as CellJob;
  const runDir = dirname(dirname(jobFile));
  const t0 = performance.timeOrigin;
  const log = (line: string): void => {
    console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}`);
  };
  log(`cell ${job.spec.id} (pid ${process.pid})`);
  let lastStage = '', lastSentMs = 0;
  const stage = (name: string, done?: number, total?: number): void => {
    const now = Date.now();
    if (name === lastStage && done !== total && now - lastSentMs < STAGE_INTERVAL_MS) return;
    lastStage = name;
    lastSentMs = now;
    const msg: StageMessage = { stage: name, ...(done !== undefined ? { done } : {}), ...(total !== undefined ? { total } : {}) };
    process.send?.(msg);
  };
  const result = await runCell(job, { log, startedAtMs: t0, cacheDir: cacheDir(runDir), stage });
  writeJsonAtomic(cellResultPath(runDir, job.spec.id), result);
  log(`${result.status} in ${result.wallSec.toFixed(1)} s`);
  return 0;
}

// Exit explicitly: backends may keep worker threads alive after the work is done.
process.exit(await main());
