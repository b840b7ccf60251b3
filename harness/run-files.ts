// The layout of a run folder, and the one way its JSON files are written.
//
//   <run>/manifest.json        the run manifest (harness/manifest.ts)
//   <run>/cells/<id>.json      one result per cell (harness/results.ts), written when the cell ends
//   <run>/cells/<id>.log       the cell process's output
//   <run>/jobs/<id>.json       what the runner asked the cell's process to do
//   <run>/cache/               measurements cells share (harness/before-cache.ts)
//
// Files that readers may open at any moment are written to a temporary name and renamed into place:
// a reader sees the old file or the whole new one, never half of one.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MANIFEST_FILE = 'manifest.json';

export const manifestPath = (runDir: string): string => join(runDir, MANIFEST_FILE);
export const cellsDir = (runDir: string): string => join(runDir, 'cells');
export const cellResultPath = (runDir: string, cellId: string): string => join(runDir, 'cells', `${cellId}.json`);
export const cellLogPath = (runDir: string, cellId: string): string => join(runDir, 'cells', `${cellId}.log`);
export const cacheDir = (runDir: string): string => join(runDir, 'cache');
export const cellJobPath = (runDir: string, cellId: string): string => join(runDir, 'jobs', `${cellId}.json`);

/**
 * Writes `value` as JSON to `path` atomically (`<path>.tmp-<pid>`, then rename). The data is synced
 * before the rename: some file systems (NFS, delayed allocation) report a full disk only then, and
 * a result renamed into place before its data reached the disk could be empty after a machine crash.
 */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, `${JSON.stringify(value, null, 2)}\n`); // loops over short writes
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    // Writes through a descriptor fail without a path; the message should name the file.
    (err as NodeJS.ErrnoException).path ??= tmp;
    throw err;
  }
}
