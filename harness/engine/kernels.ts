// Kernels the engine registers over tfjs's own, so that training is fast and possible on wasm.
//
// 1. BatchMatMul backed by OpenBLAS (the native addon in ./native), on the wasm and cpu backends.
//    Why: wasm runs transposed and batched matmuls, which make up the backward pass, at ~0.5-2
//    GFLOP/s against ~17-21 for a plain one; OpenBLAS is ~10x faster again. Where the addon is not
//    built, transposed operands are transposed explicitly first, then multiplied by the plain kernel.
// 2. UnsortedSegmentSum on wasm: the gradient of `gather` (the embedding lookup) needs it, and wasm
//    does not register it, so without it no model with an embedding can train there.
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

interface BlasAddon {
  sgemm(
    a: Float32Array, aOff: number, strideA: number,
    b: Float32Array, bOff: number, strideB: number,
    c: Float32Array, cOff: number, strideC: number,
    batch: number, m: number, n: number, k: number, transA: number, transB: number,
  ): void;
  threads(): number;
}

/** Where the addon is looked for; `harness/setup/ensure.sh` builds it there. */
export const BLAS_ADDON_PATH = fileURLToPath(
  new URL('../../../harness/engine/native/build/Release/adaptbench_blas.node', import.meta.url),
);

let blasLoad: { addon: BlasAddon | null; reason: string } | undefined;

/** Loads the OpenBLAS addon once; `reason` says why it is missing when it is. */
export function loadBlas(): { addon: BlasAddon | null; reason: string } {
  if (blasLoad) return blasLoad;
  if (process.env['ADAPTBENCH_BLAS'] === 'off') {
    blasLoad = { addon: null, reason: 'disabled by ADAPTBENCH_BLAS=off' };
  } else if (!existsSync(BLAS_ADDON_PATH)) {
    blasLoad = { addon: null, reason: `not built (${BLAS_ADDON_PATH} missing; run npm run setup, which needs libopenblas-dev)` };
  } else {
    try {
      const addon = createRequire(import.meta.url)(BLAS_ADDON_PATH) as BlasAddon;
      blasLoad = { addon, reason: `OpenBLAS sgemm, ${addon.threads()} threads` };
    } catch (err) {
      blasLoad = { addon: null, reason: `failed to load: ${(err as Error).message}` };
    }
  }
  return blasLoad;
}

interface MatMulGeometry {
  batch: number; m: number; n: number; k: number;
  strideA: number; strideB: number; outShape: number[];
}

/** Shapes of a (possibly batched, possibly broadcast) matmul, or null where we leave it to tfjs. */
function geometry(a: tf.TensorInfo, b: tf.TensorInfo, transA: boolean, transB: boolean): MatMulGeometry | null {
  const ra = a.shape.length, rb = b.shape.length;
  const m = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const ka = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (ka !== kb) throw new Error(`matMul: inner dimensions ${ka} and ${kb} of shapes [${a.shape}] and [${b.shape}] differ`);
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA), batchB = tf.util.sizeFromShape(outerB);
  let outer: number[];
  if (batchA === batchB && (outerA.length === outerB.length || batchA === 1)) outer = outerA.length >= outerB.length ? outerA : outerB;
  else if (batchB === 1) outer = outerA;
  else if (batchA === 1) outer = outerB;
  else return null; // partial broadcasting: rare, left to tfjs
  const batch = Math.max(batchA, batchB);
  return {
    batch, m, n, k: ka,
    strideA: batchA === 1 ? 0 : m * ka,
    strideB: batchB === 1 ? 0 : ka * n,
    outShape: [...outer, m, n],
  };
}

/** What a kernel function receives. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The parts of tfjs's wasm backend the engine's kernels use: tensors live on one wasm heap. */
export interface WasmBackendLike {
  wasm: { HEAPF32: Float32Array; HEAP32: Int32Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}
/** The parts of tfjs's cpu backend the engine's kernels use: one typed array per tensor. */
export interface CpuBackendLike {
  data: { get(id: unknown): { values: Float32Array | Int32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array | Int32Array): tf.TensorInfo;
}

function replaceKernel(kernelName: string, backendName: string, kernelFunc: (args: KernelArgs) => tf.TensorInfo): void {
  const previous = tf.getKernel(kernelName, backendName);
  if (previous) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({
    kernelName,
    backendName,
    ...(previous?.setupFunc ? { setupFunc: previous.setupFunc } : {}),
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
}

/** What was registered, for the backend report. */
export interface KernelReport {
  readonly matmul: 'openblas' | 'explicit-transpose' | 'tfjs';
  readonly matmulReason: string;
  readonly segmentSum: 'engine' | 'tfjs';
}

const registered = new Map<string, KernelReport>();

/** Registers the engine's kernels on `backendName` ('wasm' or 'cpu'); idempotent. */
export function registerEngineKernels(backendName: 'wasm' | 'cpu'): KernelReport {
  const done = registered.get(backendName);
  if (done) return done;
  const { addon, reason } = loadBlas();
  const original = tf.getKernel('BatchMatMul', backendName);
  const transposeKernel = tf.getKernel('Transpose', backendName);
  if (!original || !transposeKernel) throw new Error(`tfjs backend ${backendName} has no BatchMatMul/Transpose kernel`);
  const originalMatMul = original.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo;
  const transpose = transposeKernel.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo;
  const dispose = (backend: unknown, info: tf.TensorInfo): void => (backend as { disposeData(id: unknown): void }).disposeData(info.dataId);

  // Swaps the last two axes explicitly, so the plain (fast) kernel path can be used.
  const swapLast = (x: tf.TensorInfo, backend: unknown): tf.TensorInfo => {
    const perm = x.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    return transpose({ inputs: { x }, backend, attrs: { perm } });
  };

  const matMul = (args: KernelArgs): tf.TensorInfo => {
    const a = args.inputs['a']!, b = args.inputs['b']!;
    const transA = Boolean(args.attrs?.['transposeA']), transB = Boolean(args.attrs?.['transposeB']);
    const g = a.dtype === 'float32' && b.dtype === 'float32' ? geometry(a, b, transA, transB) : null;
    if (g && addon) {
      if (backendName === 'wasm') {
        const be = args.backend as WasmBackendLike;
        const out = be.makeOutput(g.outShape, 'float32');
        // Read the heap view after makeOutput: allocation may grow (and so replace) wasm memory.
        const heap = be.wasm.HEAPF32;
        const off = (t: tf.TensorInfo): number => be.dataIdMap.get(t.dataId).memoryOffset / 4;
        addon.sgemm(heap, off(a), g.strideA, heap, off(b), g.strideB, heap, off(out), g.m * g.n,
          g.batch, g.m, g.n, g.k, transA ? 1 : 0, transB ? 1 : 0);
        return out;
      }
      const be = args.backend as CpuBackendLike;
      const values = new Float32Array(g.batch * g.m * g.n);
      addon.sgemm(be.data.get(a.dataId).values as Float32Array, 0, g.strideA, be.data.get(b.dataId).values as Float32Array,
        0, g.strideB, values, 0, g.m * g.n, g.batch, g.m, g.n, g.k, transA ? 1 : 0, transB ? 1 : 0);
      return be.makeTensorInfo(g.outShape, 'float32', values);
    }
    if (backendName === 'wasm' && (transA || transB)) {
      const at = transA ? swapLast(a, args.backend) : a;
      const bt = transB ? swapLast(b, args.backend) : b;
      const out = originalMatMul({ ...args, inputs: { a: at, b: bt }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      if (transA) dispose(args.backend, at);
      if (transB) dispose(args.backend, bt);
      return out;
    }
    return originalMatMul(args);
  };
  replaceKernel('BatchMatMul', backendName, matMul);

  let segmentSum: KernelReport['segmentSum'] = 'tfjs';
  if (backendName === 'wasm' && !tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: wasmUnsortedSegmentSum as unknown as tf.KernelFunc });
    segmentSum = 'engine';
  }
  const report: KernelReport = {
    matmul: addon ? 'openblas' : backendName === 'wasm' ? 'explicit-transpose' : 'tfjs',
    matmulReason: reason,
    segmentSum,
  };
  registered.set(backendName, report);
  return report;
}

/** out[s, ...] = sum of x[i, ...] over i with segmentIds[i] = s (segment ids outside [0, n) are dropped). */
function wasmUnsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const be = args.backend as WasmBackendLike;
  const x = args.inputs['x']!, ids = args.inputs['segmentIds']!;
  const numSegments = Number(args.attrs?.['numSegments']);
  if (x.dtype !== 'float32') throw new Error('UnsortedSegmentSum (engine kernel) supports float32 only');
  const rows = tf.util.sizeFromShape(ids.shape);
  const inner = tf.util.sizeFromShape(x.shape) / rows;
  const outShape = [numSegments, ...x.shape.slice(ids.shape.length)];
  const out = be.makeOutput(outShape, 'float32');
  const f32 = be.wasm.HEAPF32, i32 = be.wasm.HEAP32;
  const xo = be.dataIdMap.get(x.dataId).memoryOffset / 4;
  const io = be.dataIdMap.get(ids.dataId).memoryOffset / 4;
  const oo = be.dataIdMap.get(out.dataId).memoryOffset / 4;
  f32.fill(0, oo, oo + numSegments * inner);
  for (let r = 0; r < rows; r++) {
    const s = i32[io + r]!;
    if (s < 0 || s >= numSegments) continue;
    const src = xo + r * inner, dst = oo + s * inner;
    for (let j = 0; j < inner; j++) f32[dst + j] = f32[dst + j]! + f32[src + j]!;
  }
  return out;
}
