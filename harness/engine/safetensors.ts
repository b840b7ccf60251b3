// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}},
// then the raw little-endian tensor bytes. Read: F32, F16 and BF16 (widened to fp32, as the engine
// trains in fp32); written: F32. No maintained npm package reads and writes it without pulling a
// framework along, and the format is small enough to own.
import { closeSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { InputError } from '../errors.js';

export const SAFETENSORS_READ_DTYPES = ['F32', 'F16', 'BF16'] as const;
type ReadDtype = (typeof SAFETENSORS_READ_DTYPES)[number];
const BYTES_PER: Readonly<Record<ReadDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

export interface SafetensorsTensor {
  readonly shape: readonly number[];
  /** The stored dtype, before widening to fp32. */
  readonly dtype: ReadDtype;
  readonly data: Float32Array;
}

export interface SafetensorsFile {
  readonly tensors: Map<string, SafetensorsTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The largest header we accept (safetensors itself caps it at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** IEEE half to float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Reads a whole .safetensors file. Every problem names the file and the tensor: a truncated file,
 * offsets out of range or overlapping, a dtype other than F32/F16/BF16, a shape that does not match
 * the byte count.
 */
export function readSafetensors(path: string): SafetensorsFile {
  const fail = (what: string): never => {
    throw new InputError(`${path}: ${what}. Fix: give a model.safetensors written by Hugging Face (safetensors.torch.save_file) or by \`bench export --format safetensors\``);
  };
  const size = statSync(path).size;
  if (size < 8) fail(`${size} bytes is too short for a safetensors file (8-byte header length first)`);
  const fd = openSync(path, 'r');
  let headerBytes: Buffer;
  try {
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) fail(`header length ${headerLen} does not fit in the file's ${size} bytes`);
    headerBytes = Buffer.alloc(headerLen);
    readSync(fd, headerBytes, 0, headerLen, 8);
  } finally {
    closeSync(fd);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    return fail(`the header is not valid JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + headerBytes.length;
  const body = readFileSync(path).subarray(dataStart);
  const tensors = new Map<string, SafetensorsTensor>();
  let metadata: Record<string, string> = {};
  const spans: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !(SAFETENSORS_READ_DTYPES as readonly string[]).includes(e.dtype)) {
      fail(`tensor "${name}" has dtype ${JSON.stringify(e.dtype)}; supported: ${SAFETENSORS_READ_DTYPES.join(', ')} (convert it, e.g. model.to(torch.float32), and save again)`);
    }
    const dtype = e.dtype as ReadDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((n) => Number.isInteger(n) && n >= 0)) fail(`tensor "${name}" has no valid shape`);
    const shape = e.shape as number[];
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((n) => Number.isInteger(n) && n >= 0)) fail(`tensor "${name}" has no valid data_offsets`);
    const [begin, end] = offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES_PER[dtype]) fail(`tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${shape}] in ${dtype} needs ${count * BYTES_PER[dtype]}`);
    if (end > body.length) fail(`tensor "${name}" ends at byte ${end} of the data, which has ${body.length} bytes (truncated file?)`);
    spans.push([begin, end, name]);
    const bytes = body.subarray(begin, end);
    const data = new Float32Array(count);
    if (dtype === 'F32') {
      for (let i = 0; i < count; i++) data[i] = bytes.readFloatLE(4 * i);
    } else if (dtype === 'BF16') {
      // bf16 is the top half of an fp32: shift it back into place.
      const u32 = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) u32[i] = bytes.readUInt16LE(2 * i) << 16;
    } else {
      for (let i = 0; i < count; i++) data[i] = halfToFloat(bytes.readUInt16LE(2 * i));
    }
    tensors.set(name, { shape, dtype, data });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) fail(`tensors "${spans[i - 1]![2]}" and "${spans[i]![2]}" overlap`);
  }
  return { tensors, metadata };
}

/**
 * Writes tensors as F32 in the given order, the header padded with spaces to a multiple of 8 bytes
 * (as the reference implementation does), to a temporary file renamed into place.
 */
export function writeSafetensors(path: string, tensors: ReadonlyArray<{ name: string; shape: readonly number[]; data: Float32Array }>, metadata: Readonly<Record<string, string>> = {}): number {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor ${t.name}: shape [${t.shape}] has ${count} values, data has ${t.data.length}`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBuf = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBuf.length + offset);
  out.writeBigUInt64LE(BigInt(headerBuf.length), 0);
  headerBuf.copy(out, 8);
  let at = 8 + headerBuf.length;
  for (const t of tensors) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, out);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return out.length;
}
