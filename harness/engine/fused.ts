// The engine's fused kernels (native/fused.c) as tfjs ops with their gradients, on the wasm and
// cpu backends: causal attention over GPT-2's fused q,k,v, LayerNorm, GELU, cross-entropy, and the
// AdamW update. `ADAPTBENCH_KERNELS=plain` turns them off (the composed tfjs ops run instead): to
// compare the two, and to reproduce checkpoints made before they existed. They split their loops
// over the CPUs (ADAPTBENCH_NATIVE_THREADS sets how many) with bit-identical results;
// ADAPTBENCH_GELU=tanh computes GELU as checkpoints up to base-v2 were trained.
// tfjs-core directly, as kernels.ts does: backend.ts registers these kernels, so importing it here would be a cycle.
import * as tf from '@tensorflow/tfjs-core';
import { loadBlas, type CpuBackendLike, type KernelArgs, type WasmBackendLike } from './kernels.js';

type Info = tf.TensorInfo;
type Arr = Float32Array | Int32Array;

interface FusedAddon {
  attentionForward(...a: Array<Arr | number>): void;
  attentionBackward(...a: Array<Arr | number>): void;
  layerNormForward(...a: Array<Arr | number>): void;
  layerNormBackward(...a: Array<Arr | number>): void;
  geluForward(...a: Array<Arr | number>): void;
  geluBackward(...a: Array<Arr | number>): void;
  xentForward(...a: Array<Arr | number>): void;
  xentBackward(...a: Array<Arr | number>): void;
  adamw(...a: Array<Arr | number>): void;
  /** Threads the kernels split their loops over (ADAPTBENCH_NATIVE_THREADS, else the CPUs this process may use). */
  fusedThreads?(): number;
  /** The GELU form computed: 'tanh' under ADAPTBENCH_GELU=tanh, else 'sigmoid'. */
  geluForm?(): 'tanh' | 'sigmoid';
}

export type KernelMode = 'fused' | 'plain';

/** Why the fused kernels do or do not run, for the backend report. */
export function fusedStatus(): { mode: KernelMode; reason: string } {
  if (process.env['ADAPTBENCH_KERNELS'] === 'plain') return { mode: 'plain', reason: 'ADAPTBENCH_KERNELS=plain' };
  const { addon, reason } = loadBlas();
  if (!addon || typeof (addon as unknown as Partial<FusedAddon>).attentionForward !== 'function') return { mode: 'plain', reason: `native addon: ${reason}` };
  const fused = addon as unknown as FusedAddon;
  const threads = fused.fusedThreads?.() ?? 1;
  // The GELU form changes last bits, so a result says which one ran (as the addon reads the variable).
  const gelu = fused.geluForm?.() === 'tanh' ? '; GELU in its tanhf form (ADAPTBENCH_GELU=tanh)' : '';
  return { mode: 'fused', reason: `native fused kernels (attention, LayerNorm, GELU, cross-entropy, AdamW) on ${threads} thread${threads === 1 ? '' : 's'}${gelu}` };
}

const ADDON = (): FusedAddon => loadBlas().addon as unknown as FusedAddon;

/**
 * Memory access shared by the wasm and cpu backends: outputs are allocated first (on wasm an
 * allocation can grow, and so replace, the heap), then each tensor is a (typed array, offset) pair.
 */
function runNative(backendName: string, args: KernelArgs, outputs: Array<{ shape: number[]; dtype: 'float32' | 'int32' }>,
  compute: (at: (t: Info | number) => [Arr, number]) => void): Info[] {
  if (backendName === 'wasm') {
    const be = args.backend as WasmBackendLike;
    const outs = outputs.map((o) => be.makeOutput(o.shape, o.dtype));
    const at = (t: Info | number): [Arr, number] => {
      const info = typeof t === 'number' ? outs[t]! : t;
      const heap = info.dtype === 'int32' ? be.wasm.HEAP32 : be.wasm.HEAPF32;
      return [heap, be.dataIdMap.get(info.dataId).memoryOffset / 4];
    };
    compute(at);
    return outs;
  }
  const be = args.backend as CpuBackendLike;
  const arrays = outputs.map((o) => (o.dtype === 'int32' ? new Int32Array(tf.util.sizeFromShape(o.shape)) : new Float32Array(tf.util.sizeFromShape(o.shape))));
  const at = (t: Info | number): [Arr, number] => (typeof t === 'number' ? [arrays[t]!, 0] : [be.data.get(t.dataId).values, 0]);
  compute(at);
  return outputs.map((o, i) => be.makeTensorInfo(o.shape, o.dtype, arrays[i]!));
}

const flat = (pairs: Array<[Arr, number]>): Array<Arr | number> => pairs.flatMap(([a, o]) => [a, o]);

/** Disposes a scratch output on either backend. */
function disposeInfo(backend: unknown, info: Info): void {
  (backend as { disposeData(id: unknown): void }).disposeData(info.dataId);
}

const KERNELS: Record<string, (backendName: string) => (args: KernelArgs) => Info | Info[]> = {
  AdaptAttention: (bn) => (args) => {
    const qkv = args.inputs['qkv']!;
    const { batch: B, seqLen: T, heads: H } = args.attrs as { batch: number; seqLen: number; heads: number };
    const D = qkv.shape[1]! / 3, hd = D / H;
    return runNative(bn, args, [{ shape: [B * T, D], dtype: 'float32' }, { shape: [B, H, T, T], dtype: 'float32' }], (at) =>
      ADDON().attentionForward(...flat([at(qkv), at(0), at(1)]), B, T, H, hd));
  },
  AdaptAttentionGrad: (bn) => (args) => {
    const { dout, qkv, probs } = args.inputs as Record<string, Info>;
    const { batch: B, seqLen: T, heads: H } = args.attrs as { batch: number; seqLen: number; heads: number };
    const D = qkv!.shape[1]! / 3, hd = D / H;
    const [dqkv, scratch] = runNative(bn, args, [{ shape: qkv!.shape as number[], dtype: 'float32' }, { shape: [T, T], dtype: 'float32' }], (at) =>
      ADDON().attentionBackward(...flat([at(dout!), at(qkv!), at(probs!), at(0), at(1)]), B, T, H, hd));
    disposeInfo(args.backend, scratch!);
    return dqkv!;
  },
  AdaptLayerNorm: (bn) => (args) => {
    const { x, gamma, beta } = args.inputs as Record<string, Info>;
    const [N, C] = x!.shape as [number, number];
    return runNative(bn, args, [{ shape: [N, C], dtype: 'float32' }, { shape: [N], dtype: 'float32' }, { shape: [N], dtype: 'float32' }], (at) =>
      ADDON().layerNormForward(...flat([at(x!), at(gamma!), at(beta!), at(0), at(1), at(2)]), N, C, Number(args.attrs?.['eps'])));
  },
  // attrs.part: 'x' gives [dx]; 'params' gives [dgamma, dbeta].
  AdaptLayerNormGrad: (bn) => (args) => {
    const { dy, x, gamma, mean, rstd } = args.inputs as Record<string, Info>;
    const [N, C] = x!.shape as [number, number];
    const wantDx = args.attrs?.['part'] === 'x';
    const shapes = wantDx ? [[N, C]] : [[C], [C]];
    const outs = runNative(bn, args, shapes.map((shape) => ({ shape, dtype: 'float32' as const })), (at) => {
      // Outputs not asked for get a placeholder: the C side neither checks nor writes them.
      const dx = wantDx ? at(0) : at(mean!), dg = wantDx ? at(mean!) : at(0), db = wantDx ? at(mean!) : at(1);
      ADDON().layerNormBackward(...flat([at(dy!), at(x!), at(gamma!), at(mean!), at(rstd!), dx, dg, db]), N, C, wantDx ? 1 : 0, wantDx ? 0 : 1);
    });
    return outs;
  },
  AdaptGelu: (bn) => (args) => {
    const x = args.inputs['x']!;
    const n = tf.util.sizeFromShape(x.shape);
    return runNative(bn, args, [{ shape: x.shape as number[], dtype: 'float32' }], (at) => ADDON().geluForward(...flat([at(x), at(0)]), n))[0]!;
  },
  AdaptGeluGrad: (bn) => (args) => {
    const { dy, x } = args.inputs as Record<string, Info>;
    const n = tf.util.sizeFromShape(x!.shape);
    return runNative(bn, args, [{ shape: x!.shape as number[], dtype: 'float32' }], (at) => ADDON().geluBackward(...flat([at(dy!), at(x!), at(0)]), n))[0]!;
  },
  AdaptCrossEntropy: (bn) => (args) => {
    const { logits, targets } = args.inputs as Record<string, Info>;
    const [N, V] = logits!.shape as [number, number];
    return runNative(bn, args, [{ shape: [N], dtype: 'float32' }, { shape: [N], dtype: 'float32' }], (at) =>
      ADDON().xentForward(...flat([at(logits!), at(targets!), at(0), at(1)]), N, V));
  },
  AdaptCrossEntropyGrad: (bn) => (args) => {
    const { dloss, logits, targets, lse } = args.inputs as Record<string, Info>;
    const [N, V] = logits!.shape as [number, number];
    return runNative(bn, args, [{ shape: [N, V], dtype: 'float32' }], (at) =>
      ADDON().xentBackward(...flat([at(dloss!), at(logits!), at(targets!), at(lse!), at(0)]), N, V))[0]!;
  },
  // Out of place (new p, m, v): a variable may share its memory with other tensors.
  AdaptAdamW: (bn) => (args) => {
    const { p, m, v, g } = args.inputs as Record<string, Info>;
    const a = args.attrs as Record<string, number>;
    const n = tf.util.sizeFromShape(p!.shape);
    return runNative(bn, args, [0, 1, 2].map(() => ({ shape: p!.shape as number[], dtype: 'float32' as const })), (at) => {
      const outs = [at(0), at(1), at(2)];
      [p!, m!, v!].forEach((src, i) => {
        const [sa, so] = at(src), [da, dOff] = outs[i]!;
        (da as Float32Array).set((sa as Float32Array).subarray(so, so + n), dOff);
      });
      ADDON().adamw(...flat([...outs, at(g!)]), n, a['lr']!, a['beta1']!, a['beta2']!, a['c1']!, a['c2']!, a['eps']!, a['decay']!, a['gradScale']!);
    });
  },
};

let registered = false;

/** Registers the fused kernels and their gradients (once); false when they are off or unavailable. */
export function registerFusedKernels(): boolean {
  if (fusedStatus().mode !== 'fused') return false;
  if (registered) return true;
  for (const backendName of ['wasm', 'cpu']) {
    for (const [kernelName, make] of Object.entries(KERNELS)) {
      if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc: make(backendName) as unknown as tf.KernelFunc });
    }
  }
  const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor | tf.Tensor[] =>
    tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];
  tf.registerGradient({
    kernelName: 'AdaptAttention', inputsToSave: ['qkv'], outputsToSave: [false, true],
    gradFunc: (dy, saved, attrs) => {
      const [qkv, probs] = saved as [tf.Tensor, tf.Tensor];
      const dout = Array.isArray(dy) ? dy[0]! : dy;
      return { qkv: () => run('AdaptAttentionGrad', { dout, qkv, probs }, attrs as tf.NamedAttrMap) as tf.Tensor };
    },
  });
  tf.registerGradient({
    kernelName: 'AdaptLayerNorm', inputsToSave: ['x', 'gamma'], outputsToSave: [false, true, true],
    gradFunc: (dy, saved) => {
      const [x, gamma, mean, rstd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const d = Array.isArray(dy) ? dy[0]! : dy;
      const part = (p: 'x' | 'params', i: number) => (): tf.Tensor => (run('AdaptLayerNormGrad', { dy: d, x, gamma, mean, rstd }, { part: p }) as tf.Tensor[])[i]!;
      return { x: part('x', 0), gamma: part('params', 0), beta: part('params', 1) };
    },
  });
  tf.registerGradient({
    kernelName: 'AdaptGelu', inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => run('AdaptGeluGrad', { dy: dy as tf.Tensor, x: saved[0]! }) as tf.Tensor }),
  });
  tf.registerGradient({
    kernelName: 'AdaptCrossEntropy', inputsToSave: ['logits', 'targets'], outputsToSave: [false, true],
    gradFunc: (dy, saved) => {
      const [logits, targets, lse] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const dloss = Array.isArray(dy) ? dy[0]! : dy;
      return {
        logits: () => run('AdaptCrossEntropyGrad', { dloss, logits, targets, lse }) as tf.Tensor,
        targets: () => tf.zerosLike(targets),
      };
    },
  });
  registered = true;
  return true;
}

/** Whether the fused ops run on the current backend. */
export function fusedActive(): boolean {
  return registered && (tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu');
}

/** Causal self-attention of qkv [B*T, 3D] (GPT-2's c_attn output) to merged heads [B*T, D]. */
export function fusedAttention(qkv: tf.Tensor2D, batch: number, seqLen: number, heads: number): tf.Tensor2D {
  return (tf.engine().runKernel('AdaptAttention', { qkv }, { batch, seqLen, heads }) as tf.Tensor[])[0] as tf.Tensor2D;
}

export function fusedLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  return (tf.engine().runKernel('AdaptLayerNorm', { x, gamma, beta }, { eps }) as tf.Tensor[])[0] as tf.Tensor2D;
}

export function fusedGelu(x: tf.Tensor2D): tf.Tensor2D {
  return tf.engine().runKernel('AdaptGelu', { x }, {}) as tf.Tensor2D;
}

/** Per-row cross-entropy of logits [N, V] against int32 targets [N]. */
export function fusedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return (tf.engine().runKernel('AdaptCrossEntropy', { logits, targets }, {}) as tf.Tensor[])[0] as tf.Tensor1D;
}

/** One AdamW step for one parameter: returns [p, m, v] updated. */
export function fusedAdamW(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, attrs: {
  lr: number; beta1: number; beta2: number; c1: number; c2: number; eps: number; decay: number; gradScale: number;
}): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel('AdaptAdamW', { p, m, v, g }, attrs) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}
