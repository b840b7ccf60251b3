// One `bench` process writes a run folder at a time, and a process that died (kill -9, a lost
// machine, an evicted pod) never keeps others out. The lock is a file created with link(2), which
// either creates it whole or fails when it exists, on local disks and on NFS alike. It names its
// holder (host, pid and the pid's start time, so a reused pid is not mistaken for the holder) and
// its mtime is refreshed every few seconds. A lock is stale when its holder is on this host and no
// longer runs, or on another host (a shared volume) and has not refreshed the lock for a minute.
//
// The same module cleans what a killed writer leaves: results are written to `<file>.tmp-<pid>`
// and renamed (run-files.ts), so a kill leaves at most such temporary files, which the next holder
// of the lock deletes. And it turns a failed write (disk full, no permission) into a message that
// says what to do.
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './errors.js';

export const LOCK_FILE = '.bench.lock';
/** How often the holder refreshes the lock's mtime. */
const HEARTBEAT_MS = 5_000;
/** A lock from another host not refreshed for this long is stale (tolerates some clock skew). */
export const STALE_AFTER_MS = 60_000;

interface LockRecord {
  readonly host: string;
  readonly pid: number;
  /** Start time of the pid in clock ticks since boot (/proc/<pid>/stat), or null off Linux. */
  readonly pidStart: string | null;
  readonly since: string;
  readonly command: string;
  readonly token: string;
}

export interface RunLock {
  readonly path: string;
  release(): void;
}

function pidStartOf(pid: number): string | null {
  try {
    // Field 22; the command name (field 2, in parentheses) may hold spaces, so count after it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function readRecord(path: string): LockRecord | null {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockRecord>;
    return typeof r.host === 'string' && typeof r.pid === 'number' && typeof r.token === 'string' ? r as LockRecord : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why the lock at `path` held by `holder` is stale, or null while its holder may still be running. */
function staleReason(holder: LockRecord | null, path: string): string | null {
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    return 'it is gone';
  }
  if (holder !== null && holder.host === hostname()) {
    if (!isAlive(holder.pid)) return `process ${holder.pid} no longer runs`;
    const start = pidStartOf(holder.pid);
    if (holder.pidStart !== null && start !== null && start !== holder.pidStart) return `pid ${holder.pid} is now another process`;
    return null;
  }
  return ageMs > STALE_AFTER_MS ? `not refreshed for ${Math.round(ageMs / 1000)} s` : null;
}

/** Takes the lock of `runDir` (which must exist) or throws UsageError naming the holder. */
export function acquireRunLock(runDir: string, command: string): RunLock {
  const path = join(runDir, LOCK_FILE);
  const record: LockRecord = {
    host: hostname(), pid: process.pid, pidStart: pidStartOf(process.pid), since: new Date().toISOString(), command,
    token: `${hostname()}:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}`,
  };
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
      }
      const holder = readRecord(path);
      const why = staleReason(holder, path);
      if (why === null) {
        const who = activeLockHolder(runDir) ?? 'a process that just ended';
        throw new UsageError(`run folder ${runDir} is being written by ${who}. Fix: wait for it to end, or choose another --out. `
          + `If that process is gone for good (a lost machine), its lock counts as stale ${STALE_AFTER_MS / 1000} s after its last refresh; or delete ${path}`);
      }
      // Move the stale lock aside and check it is the one judged stale: a process that took it over
      // meanwhile must keep its fresh lock.
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
      } catch {
        continue;
      }
      const moved = readRecord(aside);
      if (moved?.token !== holder?.token) {
        try {
          linkSync(aside, path);
        } catch {
          // yet another process holds it now; the next attempt reports that one
        }
        rmSync(aside, { force: true });
        continue;
      }
      rmSync(aside, { force: true });
      console.error(`bench: took over the lock of ${runDir} from ${holder ? `pid ${holder.pid} on ${holder.host}` : 'an unreadable record'}: ${why}`);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // the folder went away or turned read-only: the run itself will report that
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let held = true;
  return {
    path,
    release(): void {
      if (!held) return;
      held = false;
      clearInterval(heartbeat);
      if (readRecord(path)?.token === record.token) rmSync(path, { force: true });
    },
  };
}

/** Who holds the lock of `dir` while it is not stale, or null. */
export function activeLockHolder(dir: string): string | null {
  const path = join(dir, LOCK_FILE);
  if (!existsSync(path)) return null;
  const holder = readRecord(path);
  if (staleReason(holder, path) !== null) return null;
  return holder ? `${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : 'a process that left no readable record';
}

/** A temporary file of an atomic write (`<name>.tmp-<pid>`), not the lock's own. */
const PARTIAL = /\.tmp-\d+$/;

/**
 * Deletes the temporary files of atomic writes that a killed process left in the run folder and
 * its subfolders one level down. Only the lock's holder may call it: no other writer is running.
 * Returns the paths removed.
 */
export function clearPartialWrites(runDir: string): string[] {
  const removed: string[] = [];
  const visit = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory() && depth === 0) visit(p, 1);
      else if (e.isFile() && PARTIAL.test(e.name) && !e.name.startsWith(LOCK_FILE)) {
        rmSync(p, { force: true });
        removed.push(p);
      }
    }
  };
  visit(runDir, 0);
  return removed;
}

/**
 * Creates a run folder (and its parents). The folder itself is made without `recursive`, which on
 * Node 20 reports a read-only file system as ENOENT; made alone, it reports EROFS.
 */
export function makeRunDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

const WRITE_PROBLEMS: Readonly<Record<string, { what: string; fix: string }>> = {
  ENOSPC: { what: 'the disk is full', fix: 'free space on that disk, or give an --out folder on another disk' },
  EDQUOT: { what: 'the disk quota is used up', fix: 'free space within your quota, or give an --out folder on another disk' },
  EACCES: { what: 'permission denied', fix: 'make the folder writable by this user, or give another --out folder' },
  EPERM: { what: 'operation not permitted', fix: 'make the folder writable by this user, or give another --out folder' },
  EROFS: { what: 'the file system is read-only', fix: 'give an --out folder on a writable file system' },
};

/**
 * A failed write in a run folder as a UsageError that says what happened and what to do, or the
 * error itself when it is not one of those. `resume` is the command that finishes the run.
 */
export function writeProblem(err: unknown, runDir: string, resume: string | null): unknown {
  const e = err as NodeJS.ErrnoException;
  const p = typeof e?.code === 'string' ? WRITE_PROBLEMS[e.code] : undefined;
  if (!p) return err;
  return new UsageError(`cannot write ${e.path ?? runDir}: ${p.what} (${e.code}). `
    + `${resume ? `Cells that finished are kept in ${join(runDir, 'cells')}. ` : ''}Fix: ${p.fix}${resume ? `; then finish the run with: ${resume}` : ''}`);
}
