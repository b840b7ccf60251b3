// 4-bit NormalFloat (NF4) storage of frozen linear weights, as QLoRA (Dettmers et al. 2023) and
// bitsandbytes define it: weights in blocks of 64, each block scaled by its absolute maximum and
// rounded to the nearest of 16 code values (quantiles of N(0, 1), asymmetric, with an exact 0);
// the per-block absmax constants are themselves quantised ("double quantisation"): their mean is
// subtracted, then they are stored as 8-bit codes of bitsandbytes' dynamic map in blocks of 256,
// each block with one fp32 scale. Stored bits per weight: 4 + 8/64 + 32/(64*256) ~ 4.127.
//
// tfjs has no uint8 dtype, so codes live packed in int32 tensors (8 4-bit codes, or 4 8-bit codes,
// per int32): the engine tracks exactly the bytes the 4-bit form takes. Dequantisation runs in the
// forward pass, in a kernel registered here for wasm and cpu (a JS loop over the packed words), and
// through a plain JS fallback on any other backend.
import { tf } from './backend.js';
import { ABSMAX_BLOCK, NF4_BLOCK, nf4StoredBytes } from './params.js';
import type { CpuBackendLike, KernelArgs, WasmBackendLike } from './kernels.js';

export { ABSMAX_BLOCK, NF4_BLOCK, nf4StoredBytes };

/**
 * The 16 NF4 code values of the QLoRA paper (Appendix E; bitsandbytes' `create_normal_map()`):
 * 8 positive quantiles of N(0, 1) and 7 negative ones, normalised to [-1, 1], plus an exact 0.
 * `normalFloatCodeBook()` derives them; a test checks the two agree.
 */
export const NF4_CODE = Object.freeze([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
  -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
] as const);

const NF4_VALUES = Float32Array.from(NF4_CODE);
/** Decision thresholds: code k is chosen for normalised values in (MID[k-1], MID[k]]. */
const NF4_MIDPOINTS = Float64Array.from({ length: 15 }, (_, k) => (NF4_CODE[k]! + NF4_CODE[k + 1]!) / 2);

/** Largest distance from a value in [-1, 1] to its nearest code: half the widest gap (-1 .. -0.696). */
export const NF4_MAX_HALF_GAP = Math.max(...NF4_MIDPOINTS.map((m, k) => m - NF4_CODE[k]!));

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
  const b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
  const c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
  const d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
  const lo = 0.02425;
  if (p < lo || p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(p < lo ? p : 1 - p));
    const x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
    return p < lo ? x : -x;
  }
  const q = p - 0.5, r = q * q;
  return (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q
    / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * The NF4 construction of the paper: quantiles of N(0, 1) at 8 equally spaced probabilities from
 * 1 - delta to 0.5 (positive side, 0.5 itself dropped) and at 7 from 1 - delta to 0.5 (negative
 * side), with delta = (1/32 + 1/30) / 2, plus 0, all divided by the largest.
 */
export function normalFloatCodeBook(): number[] {
  const offset = 1 - 0.5 * (1 / 32 + 1 / 30);
  const linspace = (from: number, to: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
  const positive = linspace(offset, 0.5, 9).slice(0, -1).map(normalQuantile);
  const negative = linspace(offset, 0.5, 8).slice(0, -1).map((p) => -normalQuantile(p));
  const values = [...positive, 0, ...negative].sort((x, y) => x - y);
  const max = values[values.length - 1]!;
  return values.map((v) => v / max);
}

/**
 * bitsandbytes' signed "dynamic" 8-bit map (`create_dynamic_map(signed=True)`), used for the
 * second-level quantisation of absmax constants: a dynamic exponent (10^-6 .. 10^0) with a linear
 * fraction whose resolution grows as the exponent does, 0 and 1, 256 sorted values.
 */
function dynamicMap(): Float64Array {
  const data: number[] = [];
  const maxExponentBits = 7, nonSignBits = 7;
  for (let i = 0; i < maxExponentBits; i++) {
    const fractionItems = 2 ** (i + nonSignBits - maxExponentBits) + 1;
    const scale = 10 ** (-(maxExponentBits - 1) + i);
    for (let k = 0; k < fractionItems - 1; k++) {
      const lo = 0.1 + (0.9 * k) / (fractionItems - 1), hi = 0.1 + (0.9 * (k + 1)) / (fractionItems - 1);
      const mean = (lo + hi) / 2;
      data.push(scale * mean, -scale * mean);
    }
  }
  data.push(0, 1);
  if (data.length !== 256) throw new Error(`dynamic map has ${data.length} values, expected 256`);
  return Float64Array.from(data.sort((x, y) => x - y));
}

/** The 256 values of the 8-bit map, as float32 (what dequantisation multiplies by). */
export const DYNAMIC_MAP: Readonly<Float32Array> = Float32Array.from(dynamicMap());

/** Index of the value of sorted `table` nearest to `x` (ties to the lower). */
function nearestIndex(table: ArrayLike<number>, x: number): number {
  let lo = 0, hi = table.length - 1;
  if (x <= table[lo]!) return lo;
  if (x >= table[hi]!) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return x - table[lo]! <= table[hi]! - x ? lo : hi;
}

/** One weight matrix in NF4 with double-quantised absmax constants, as plain arrays. */
export interface Nf4Data {
  /** [rows, cols] of the original matrix (row-major, blocks run over the flattened values). */
  readonly shape: readonly [number, number];
  /** 4-bit code indices, 8 per int32 (code i in bits 4*(i%8) .. 4*(i%8)+3 of word i/8). */
  readonly codes: Int32Array;
  /** 8-bit dynamic-map indices of the centred absmax of each 64-block, 4 per int32. */
  readonly absmaxCodes: Int32Array;
  /** fp32 scale of each block of 256 centred absmax constants. */
  readonly absmaxScales: Float32Array;
  /** The mean of the absmax constants, subtracted before their quantisation. */
  readonly absmaxOffset: number;
}

export const nf4Blocks = (size: number): number => Math.ceil(size / NF4_BLOCK);

/** Quantises a row-major [rows, cols] matrix: nearest NF4 code per weight, absmax per 64-block. */
export function quantizeNf4(values: Float32Array, shape: readonly [number, number]): Nf4Data {
  const n = values.length;
  if (n !== shape[0] * shape[1]) throw new Error(`quantizeNf4: ${n} values for shape [${shape}]`);
  const blocks = nf4Blocks(n);
  const absmax = new Float32Array(blocks);
  const codes = new Int32Array(Math.ceil(n / 8));
  for (let b = 0; b < blocks; b++) {
    const start = b * NF4_BLOCK, end = Math.min(n, start + NF4_BLOCK);
    let m = 0;
    for (let i = start; i < end; i++) m = Math.max(m, Math.abs(values[i]!));
    absmax[b] = m;
    // Normalised by the exact absmax (as bitsandbytes does); the stored absmax is approximate.
    const inv = m > 0 ? 1 / m : 0;
    for (let i = start; i < end; i++) {
      const u = values[i]! * inv;
      let k = 0;
      while (k < 15 && u > NF4_MIDPOINTS[k]!) k++;
      codes[i >> 3]! |= k << ((i & 7) * 4);
    }
  }
  const dq = quantizeAbsmax(absmax);
  return { shape: [shape[0], shape[1]], codes, ...dq };
}

/** Double quantisation: mean removed, then 8-bit dynamic-map codes per block of 256 with an fp32 scale. */
function quantizeAbsmax(absmax: Float32Array): Pick<Nf4Data, 'absmaxCodes' | 'absmaxScales' | 'absmaxOffset'> {
  const n = absmax.length;
  let sum = 0;
  for (const v of absmax) sum += v;
  const offset = Math.fround(sum / Math.max(1, n));
  const groups = Math.ceil(n / ABSMAX_BLOCK);
  const scales = new Float32Array(groups);
  const codes = new Int32Array(Math.ceil(n / 4));
  for (let g = 0; g < groups; g++) {
    const start = g * ABSMAX_BLOCK, end = Math.min(n, start + ABSMAX_BLOCK);
    let s = 0;
    for (let i = start; i < end; i++) s = Math.max(s, Math.abs(absmax[i]! - offset));
    scales[g] = s > 0 ? s : 1;
    for (let i = start; i < end; i++) {
      const k = nearestIndex(DYNAMIC_MAP, (absmax[i]! - offset) / scales[g]!);
      codes[i >> 2]! |= k << ((i & 3) * 8);
    }
  }
  return { absmaxCodes: codes, absmaxScales: scales, absmaxOffset: offset };
}

/** The dequantised absmax constants (what the forward pass scales each block by). */
export function dequantizeAbsmax(d: Pick<Nf4Data, 'absmaxCodes' | 'absmaxScales' | 'absmaxOffset'>, blocks: number): Float32Array {
  const out = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const k = (d.absmaxCodes[b >> 2]! >>> ((b & 3) * 8)) & 0xff;
    out[b] = DYNAMIC_MAP[k]! * d.absmaxScales[b >> 8]! + d.absmaxOffset;
  }
  return out;
}

/** Writes the dequantised matrix into `out` (length rows*cols). */
function dequantizeInto(codes: ArrayLike<number>, absmax: Float32Array, out: Float32Array): void {
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const k = (codes[i >> 3]! >>> ((i & 7) * 4)) & 15;
    out[i] = NF4_VALUES[k]! * absmax[i >> 6]!;
  }
}

/** Dequantises stored NF4 data to a row-major fp32 matrix. */
export function dequantizeNf4(d: Nf4Data): Float32Array {
  const n = d.shape[0] * d.shape[1];
  const out = new Float32Array(n);
  dequantizeInto(d.codes, dequantizeAbsmax(d, nf4Blocks(n)), out);
  return out;
}

/** Round-trip error of a quantisation, absolute and relative to the weights. */
export interface QuantizationError {
  /** Mean |w - dequant(quant(w))|. */
  readonly meanAbs: number;
  /** Max |w - dequant(quant(w))|. */
  readonly maxAbs: number;
  /** meanAbs / mean |w|. */
  readonly meanRel: number;
  /** maxAbs / max |w|. */
  readonly maxRel: number;
  /** Weights compared. */
  readonly count: number;
}

/** Accumulates the error over several matrices (e.g. every quantised layer of a model). */
export class QuantizationErrorMeter {
  private sumErr = 0;
  private sumAbs = 0;
  private maxErr = 0;
  private maxW = 0;
  private n = 0;
  add(original: Float32Array, roundTrip: Float32Array): void {
    for (let i = 0; i < original.length; i++) {
      const w = original[i]!, e = Math.abs(w - roundTrip[i]!);
      this.sumErr += e;
      this.sumAbs += Math.abs(w);
      if (e > this.maxErr) this.maxErr = e;
      if (Math.abs(w) > this.maxW) this.maxW = Math.abs(w);
    }
    this.n += original.length;
  }
  result(): QuantizationError {
    const n = Math.max(1, this.n);
    return {
      meanAbs: this.sumErr / n, maxAbs: this.maxErr,
      meanRel: this.sumAbs > 0 ? this.sumErr / this.sumAbs : 0, maxRel: this.maxW > 0 ? this.maxErr / this.maxW : 0,
      count: this.n,
    };
  }
}

/**
 * E|w - Q(w)| / sigma for weights drawn i.i.d. from N(0, sigma^2), NF4 with exact absmax per block
 * of `blockSize` (no double quantisation), by numerical integration over the distribution of the
 * block maximum M = max |w_i|:
 *   E = (B-1)/B * Int_0^inf f_M(m) * E[|w - m q(w/m)| : |w| <= m] dm,
 * where f_M(m) = B (2 Phi(m) - 1)^(B-1) 2 phi(m), the block's maximum itself is exact (code +-1),
 * and the other B-1 weights are N(0, 1) truncated to [-m, m]. Substituting w = m u, the inner
 * expectation is m^2 Int_{-1}^{1} |u - q(u)| phi(m u) du / (2 Phi(m) - 1).
 */
export function expectedNf4AbsError(blockSize = NF4_BLOCK): number {
  const phi = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  // |u - q(u)| is linear between consecutive code values and midpoints: integrate each piece with Simpson.
  const breaks = [...NF4_CODE, ...NF4_MIDPOINTS].sort((a, b) => a - b);
  const simpson = (f: (x: number) => number, a: number, b: number, n = 16): number => {
    const h = (b - a) / n;
    let s = f(a) + f(b);
    for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(a + i * h);
    return (s * h) / 3;
  };
  const nearest = (u: number): number => NF4_CODE[nearestIndex(NF4_CODE, u)]!;
  const inner = (m: number): number => {
    let s = 0;
    for (let k = 0; k + 1 < breaks.length; k++) {
      s += simpson((u) => Math.abs(u - nearest(u)) * phi(m * u), breaks[k]!, breaks[k + 1]!);
    }
    return m * m * s;
  };
  // Outer integral over m on [0, 8] (f_M is negligible beyond), with Phi accumulated on the same grid.
  const steps = 3200, top = 8, h = top / steps;
  let cdf = 0.5, total = 0;
  let prev = 0;
  for (let i = 1; i <= steps; i++) {
    const a = (i - 1) * h, b = i * h;
    cdf += simpson(phi, a, b, 4);
    const twoPhiMinus1 = 2 * cdf - 1;
    // (2 Phi - 1)^(B-1) / (2 Phi - 1) * B * 2 phi(m) * inner(m)
    const g = blockSize * twoPhiMinus1 ** (blockSize - 2) * 2 * phi(b) * inner(b);
    total += 0.5 * (prev + g) * h;
    prev = g;
  }
  return ((blockSize - 1) / blockSize) * total;
}

/** Bits per weight of the stored form of a matrix of `size` weights (4.127 for large matrices). */
export function nf4BitsPerWeight(size: number): number {
  return (8 * nf4StoredBytes(size)) / size;
}

// ---------------------------------------------------------------------------------------------
// Engine-resident NF4 weights and the dequantisation kernel.

const KERNEL = 'AdaptbenchNf4Dequantize';

/** A matrix stored in NF4 as engine tensors (int32-packed codes): what QLoRA keeps in memory. */
export class Nf4Weight {
  readonly shape: readonly [number, number];
  readonly codes: tf.Tensor1D;
  readonly absmaxCodes: tf.Tensor1D;
  readonly absmaxScales: tf.Tensor1D;
  readonly absmaxOffset: tf.Tensor1D;

  constructor(d: Nf4Data) {
    this.shape = d.shape;
    this.codes = tf.tensor1d(d.codes, 'int32');
    this.absmaxCodes = tf.tensor1d(d.absmaxCodes, 'int32');
    this.absmaxScales = tf.tensor1d(d.absmaxScales, 'float32');
    this.absmaxOffset = tf.tensor1d([d.absmaxOffset], 'float32');
  }

  get size(): number {
    return this.shape[0] * this.shape[1];
  }

  /** Engine bytes of the stored form (equals nf4StoredBytes(size)). */
  get bytes(): number {
    return 4 * (this.codes.size + this.absmaxCodes.size + this.absmaxScales.size + this.absmaxOffset.size);
  }

  /** The fp32 matrix, computed now (a new tensor, tracked by the enclosing tidy). */
  dequantize(): tf.Tensor2D {
    ensureKernel();
    const backend = tf.getBackend();
    if (registeredOn.has(backend)) {
      return tf.engine().runKernel(KERNEL, {
        codes: this.codes, absmaxCodes: this.absmaxCodes, absmaxScales: this.absmaxScales, absmaxOffset: this.absmaxOffset,
      }, { rows: this.shape[0], cols: this.shape[1] }) as tf.Tensor2D;
    }
    return tf.tensor2d(dequantizeNf4(this.toData()), [this.shape[0], this.shape[1]]);
  }

  toData(): Nf4Data {
    return {
      shape: this.shape,
      codes: this.codes.dataSync() as Int32Array,
      absmaxCodes: this.absmaxCodes.dataSync() as Int32Array,
      absmaxScales: this.absmaxScales.dataSync() as Float32Array,
      absmaxOffset: this.absmaxOffset.dataSync()[0]!,
    };
  }

  dispose(): void {
    this.codes.dispose();
    this.absmaxCodes.dispose();
    this.absmaxScales.dispose();
    this.absmaxOffset.dispose();
  }
}


const registeredOn = new Set<string>();

/** Registers the dequantisation kernel on wasm and cpu (once); other backends use the JS fallback. */
function ensureKernel(): void {
  const backend = tf.getBackend();
  if (registeredOn.has(backend) || (backend !== 'wasm' && backend !== 'cpu')) return;
  if (!tf.getKernel(KERNEL, backend)) {
    tf.registerKernel({ kernelName: KERNEL, backendName: backend, kernelFunc: (backend === 'wasm' ? wasmKernel : cpuKernel) as unknown as tf.KernelFunc });
  }
  registeredOn.add(backend);
}

function wasmKernel(args: KernelArgs): tf.TensorInfo {
  const be = args.backend as WasmBackendLike;
  const rows = Number(args.attrs?.['rows']), cols = Number(args.attrs?.['cols']);
  const n = rows * cols, blocks = nf4Blocks(n);
  const out = be.makeOutput([rows, cols], 'float32');
  // Views after makeOutput: allocation may grow (and so replace) wasm memory.
  const f32 = be.wasm.HEAPF32, i32 = be.wasm.HEAP32;
  const at = (name: string): number => be.dataIdMap.get(args.inputs[name]!.dataId).memoryOffset / 4;
  const codes = at('codes'), acodes = at('absmaxCodes'), scales = at('absmaxScales'), offset = f32[at('absmaxOffset')]!;
  const absmax = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const k = (i32[acodes + (b >> 2)]! >>> ((b & 3) * 8)) & 0xff;
    absmax[b] = DYNAMIC_MAP[k]! * f32[scales + (b >> 8)]! + offset;
  }
  const o = be.dataIdMap.get(out.dataId).memoryOffset / 4;
  for (let i = 0; i < n; i++) {
    const k = (i32[codes + (i >> 3)]! >>> ((i & 7) * 4)) & 15;
    f32[o + i] = NF4_VALUES[k]! * absmax[i >> 6]!;
  }
  return out;
}

function cpuKernel(args: KernelArgs): tf.TensorInfo {
  const be = args.backend as CpuBackendLike;
  const rows = Number(args.attrs?.['rows']), cols = Number(args.attrs?.['cols']);
  const values = (name: string): Float32Array | Int32Array => be.data.get(args.inputs[name]!.dataId).values;
  const n = rows * cols;
  const d = {
    absmaxCodes: values('absmaxCodes') as Int32Array,
    absmaxScales: values('absmaxScales') as Float32Array,
    absmaxOffset: values('absmaxOffset')[0]!,
  };
  const out = new Float32Array(n);
  dequantizeInto(values('codes'), dequantizeAbsmax(d, nf4Blocks(n)), out);
  return be.makeTensorInfo([rows, cols], 'float32', out);
}
