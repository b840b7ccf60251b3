// Backend choice: the best that starts, in priority order, with every reason recorded, so a report
// says which ran and why the others did not.
import * as tf from '@tensorflow/tfjs-core';
// The union package registers the gradient functions (tfjs-core alone has none) and the cpu backend.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { registerEngineKernels, type KernelReport } from './kernels.js';
import { fusedStatus, registerFusedKernels, type KernelMode } from './fused.js';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendAttempt {
  readonly backend: BackendName;
  readonly ok: boolean;
  readonly reason: string;
}

export interface BackendInfo {
  /** The backend that runs. */
  readonly name: BackendName;
  /** tfjs's own name for it, e.g. 'tensorflow' for tfjs-node(-gpu). */
  readonly tfjsBackend: string;
  /** Whether a GPU runs (only tfjs-node-gpu with CUDA). */
  readonly accelerator: 'none' | 'cuda';
  /** Which matmul kernels run, where the engine registered its own. */
  readonly kernels: KernelReport | null;
  /** Whether the engine's fused native kernels run (wasm and cpu only), and why. */
  readonly fused: { readonly mode: KernelMode; readonly reason: string };
  /** Every candidate tried, in order, with why it was or was not used. */
  readonly attempts: readonly BackendAttempt[];
}

/** Thrown when no backend starts, or a requested one is unknown: a usage problem, exit 2. */
export class BackendError extends Error {
  readonly exitCode = 2;
}

async function tryTensorflow(): Promise<{ ok: boolean; reason: string; accelerator: 'none' | 'cuda' }> {
  const failures: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const missing = missingNativeBinding(pkg);
    if (missing) {
      failures.push(`${pkg}: ${missing}`);
      continue;
    }
    try {
      await import(pkg);
      const ok = await tf.setBackend('tensorflow');
      if (ok) return { ok: true, reason: `${pkg} loaded`, accelerator: pkg.endsWith('-gpu') ? 'cuda' : 'none' };
      failures.push(`${pkg}: loaded but the backend did not start`);
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0] ?? '';
      failures.push(/Cannot find (module|package)/.test(msg)
        ? `${pkg}: not installed`
        : `${pkg}: installed without its native library (its install script downloads libtensorflow, which needs internet): ${msg.slice(0, 160)}`);
    }
  }
  return { ok: false, reason: failures.join('; '), accelerator: 'none' };
}

/**
 * Why `pkg` cannot load, found without importing it (a failed import leaves half-registered
 * kernels behind), or null when its native binding is present.
 */
function missingNativeBinding(pkg: string): string | null {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    return 'not installed';
  }
  const lib = join(dir, 'lib');
  const found = existsSync(lib) && readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(join(lib, d, 'tfjs_binding.node')));
  if (found) return null;
  const gpu = pkg.endsWith('-gpu') ? '; it also needs CUDA 11.2 and cuDNN 8.1' : '';
  return `installed without its native library (its install script downloads libtensorflow, which needs internet${gpu})`;
}

let current: BackendInfo | undefined;

/** Starts the first backend that works, trying `requested` alone when given. Idempotent per choice. */
export async function initBackend(requested?: string): Promise<BackendInfo> {
  if (requested !== undefined && !(BACKENDS as readonly string[]).includes(requested)) {
    throw new BackendError(`unknown backend "${requested}": valid backends are ${BACKENDS.join(', ')} (e.g. --backend wasm)`);
  }
  if (current && (requested === undefined || current.name === requested)) return current;
  const candidates: BackendName[] = requested ? [requested as BackendName] : [...BACKENDS];
  const attempts: BackendAttempt[] = [];
  for (const name of candidates) {
    if (name === 'tensorflow') {
      const r = await tryTensorflow();
      attempts.push({ backend: name, ok: r.ok, reason: r.reason });
      if (r.ok) {
        await tf.ready();
        current = { name, tfjsBackend: tf.getBackend(), accelerator: r.accelerator, kernels: null, fused: { mode: 'plain', reason: 'tfjs-node runs its own kernels' }, attempts };
        return current;
      }
      continue;
    }
    try {
      const kernels = registerEngineKernels(name);
      registerFusedKernels();
      const fused = fusedStatus();
      if (!(await tf.setBackend(name))) throw new Error('tf.setBackend returned false');
      await tf.ready();
      attempts.push({ backend: name, ok: true, reason: `started; matmul: ${kernels.matmul} (${kernels.matmulReason}); fused kernels: ${fused.mode} (${fused.reason})` });
      current = { name, tfjsBackend: tf.getBackend(), accelerator: 'none', kernels, fused, attempts };
      return current;
    } catch (err) {
      attempts.push({ backend: name, ok: false, reason: (err as Error).message });
    }
  }
  throw new BackendError(`no backend could start: ${attempts.map((a) => `${a.backend} (${a.reason})`).join(', ')}`);
}

export { tf };
