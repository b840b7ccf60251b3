// faiss (faiss-node 0.5.1 over Debian's libfaiss 1.7.3): any index_factory string, inner-product
// metric on unit vectors, reported as the cosine distance 1 - <a, b>.
//
// The binding exposes no setter for search parameters (no ParameterSpace, no nprobe, no efSearch).
// Both are fields of faiss's own serialised format, so they are set by writing the index to a
// buffer, changing that field and reading it back; the layout is checked field by field first and
// the value read back after, so a format this code does not know is an error, never a silent no-op.
// Layout (faiss/impl/index_write.cpp, 1.7.3): fourcc, then the Index header: d (int32), ntotal
// (int64), two int64 placeholders, is_trained (uint8), metric_type (int32), metric_arg (float32,
// only when metric_type > 1).
//   IVF ("Iw.."): header, nlist (uint64), nprobe (uint64), ...
//   HNSW ("IHN."): header, five vectors (uint64 length + items: assign_probas double,
//     cum_nneighbor_per_level int32, levels int32, offsets uint64, neighbors int32), entry_point,
//     max_level, efConstruction, efSearch, upper_beam (int32 each), then the storage index ("Ix..").
import type { FaissIndex } from './native.js';
import { loadFaiss } from './native.js';
import type { Neighbors, Vectors } from './vectors.js';
import { RetrievalInputError, checkQuery } from './vectors.js';

/** Build and search settings. */
export interface FaissSettings {
  /** An index_factory string: Flat, HNSW32, IVF64,Flat, ... */
  readonly factory: string;
  /** IVF lists probed per query; null keeps faiss's default (1). Only for IVF indexes. */
  readonly nprobe: number | null;
  /** HNSW candidate list size while searching; null keeps faiss's default (16). Only for HNSW indexes. */
  readonly efSearch: number | null;
  /** HNSW candidate list size while building; null keeps faiss's default (40). Only for HNSW indexes. */
  readonly efConstruction: number | null;
}

/** Search parameters found in a serialised index. */
export interface FaissParams {
  readonly family: 'ivf' | 'hnsw' | 'other';
  readonly fourcc: string;
  readonly nlist?: number;
  readonly nprobe?: number;
  readonly efConstruction?: number;
  readonly efSearch?: number;
}

/** Rows added per call: the binding copies a JS array per call, so chunks bound the memory it takes. */
const ADD_CHUNK_ROWS = 8192;
const HEADER_END = 4 + 4 + 8 + 8 + 8 + 1 + 4;

function headerEnd(buf: Buffer): number {
  const metric = buf.readInt32LE(HEADER_END - 4);
  return metric > 1 ? HEADER_END + 4 : HEADER_END;
}

/** Byte offsets of the search parameters in a serialised index, after checking the layout. */
function locate(buf: Buffer): { fourcc: string; nlistAt?: number; nprobeAt?: number; efConstructionAt?: number; efSearchAt?: number } {
  if (buf.length < HEADER_END) throw new Error(`serialised index of ${buf.length} bytes is shorter than a header`);
  const fourcc = buf.toString('latin1', 0, 4);
  let at = headerEnd(buf);
  if (fourcc.startsWith('Iw')) return { fourcc, nlistAt: at, nprobeAt: at + 8 };
  if (fourcc.startsWith('IHN')) {
    for (const itemBytes of [8, 4, 4, 8, 4]) {
      if (at + 8 > buf.length) throw new Error(`HNSW index: vector header at byte ${at} is past the end`);
      const n = Number(buf.readBigUInt64LE(at));
      at += 8 + n * itemBytes;
    }
    if (at + 24 > buf.length) throw new Error('HNSW index: graph parameters are past the end');
    const storage = buf.toString('latin1', at + 20, at + 22);
    const efC = buf.readInt32LE(at + 8), efS = buf.readInt32LE(at + 12), upperBeam = buf.readInt32LE(at + 16);
    if (storage !== 'Ix' || efC < 1 || efS < 1 || upperBeam < 1) {
      throw new Error(`HNSW index: layout not recognised (efConstruction ${efC}, efSearch ${efS}, upper_beam ${upperBeam}, storage "${storage}")`);
    }
    return { fourcc, efConstructionAt: at + 8, efSearchAt: at + 12 };
  }
  return { fourcc };
}

/** The search parameters stored in a serialised faiss index. */
export function readFaissParams(buf: Buffer): FaissParams {
  const l = locate(buf);
  if (l.nprobeAt !== undefined && l.nlistAt !== undefined) {
    return { family: 'ivf', fourcc: l.fourcc, nlist: Number(buf.readBigUInt64LE(l.nlistAt)), nprobe: Number(buf.readBigUInt64LE(l.nprobeAt)) };
  }
  if (l.efSearchAt !== undefined && l.efConstructionAt !== undefined) {
    return { family: 'hnsw', fourcc: l.fourcc, efConstruction: buf.readInt32LE(l.efConstructionAt), efSearch: buf.readInt32LE(l.efSearchAt) };
  }
  return { family: 'other', fourcc: l.fourcc };
}

/** A copy of `buf` with nprobe and/or efSearch set; throws when the index has no such parameter. */
export function withFaissParams(buf: Buffer, p: { nprobe?: number | null; efSearch?: number | null; efConstruction?: number | null }, factory: string): Buffer {
  const l = locate(buf);
  const out = Buffer.from(buf);
  const kind = l.fourcc.startsWith('Iw') ? 'an IVF index' : l.fourcc.startsWith('IHN') ? 'an HNSW index' : `a "${l.fourcc}" index`;
  const set = (name: string, value: number | null | undefined, offset: number | undefined, write: (v: number, at: number) => void, applies: string): void => {
    if (value === null || value === undefined) return;
    if (!Number.isInteger(value) || value < 1) throw new RetrievalInputError(`faiss ${name} must be a positive integer (got ${value})`);
    if (offset === undefined) throw new RetrievalInputError(`faiss "${factory}" is ${kind}: ${name} applies only to ${applies}. Fix: drop ${name}, or use a factory such as ${applies === 'IVF indexes' ? 'IVF64,Flat' : 'HNSW32'}`);
    write(value, offset);
  };
  set('nprobe', p.nprobe, l.nprobeAt, (v, at) => out.writeBigUInt64LE(BigInt(v), at), 'IVF indexes');
  set('efSearch', p.efSearch, l.efSearchAt, (v, at) => out.writeInt32LE(v, at), 'HNSW indexes');
  set('efConstruction', p.efConstruction, l.efConstructionAt, (v, at) => out.writeInt32LE(v, at), 'HNSW indexes');
  return out;
}

/**
 * The fewest training vectors faiss accepts for a factory string: the largest k of its k-means (IVF
 * lists; 2^bits centroids per PQ sub-quantizer). faiss-node does not turn a C++ exception thrown by
 * train() into a JS error (the process aborts), so faiss's own `nx >= k` check is made here first.
 */
export function minTrainingVectors(factory: string): number {
  let need = 1;
  for (const m of factory.matchAll(/IVF(\d+)/g)) need = Math.max(need, Number(m[1]));
  for (const m of factory.matchAll(/PQ\d+(?:x(\d+))?/g)) need = Math.max(need, 2 ** Number(m[1] ?? 8));
  return need;
}

/** Builds an empty index from a factory string, with the message a user can act on when it is not one. */
function fromFactory(dim: number, factory: string): FaissIndex {
  const faiss = loadFaiss();
  try {
    return faiss.Index.fromFactory(dim, factory, faiss.MetricType.METRIC_INNER_PRODUCT);
  } catch (err) {
    const why = (err as Error).message.replace(/^Error in .*?: /, '');
    throw new RetrievalInputError(`faiss factory string "${factory}" is not valid for ${dim}-dimensional inner-product search (${why}). Fix: use an index_factory string such as Flat, HNSW32 or IVF64,Flat`);
  }
}

/** Throws RetrievalInputError when `factory` is not a faiss index_factory string (checked on a tiny index). */
export function checkFactory(factory: string): void {
  fromFactory(8, factory);
}

export class FaissSearch {
  readonly dim: number;
  readonly size: number;
  private index: FaissIndex;
  private readonly factory: string;
  /** The query as the binding takes it (a JS array), reused: the binding reads it synchronously. */
  private readonly scratch: number[];

  private constructor(index: FaissIndex, factory: string) {
    this.index = index;
    this.scratch = new Array<number>(index.getDimension()).fill(0);
    this.factory = factory;
    this.dim = index.getDimension();
    this.size = index.ntotal();
  }

  /**
   * Builds the index. A null setting in `s` takes the value in `defaults` where the index has that
   * parameter (an HNSW index has no nprobe), and faiss's own otherwise; a number in `s` is applied
   * as given, and is an error on an index without that parameter.
   */
  static build(vectors: Vectors, s: FaissSettings, defaults: Partial<Omit<FaissSettings, 'factory'>> = {}, onProgress?: (done: number, total: number) => void): FaissSearch {
    let index = fromFactory(vectors.dim, s.factory);
    const family = readFaissParams(index.toBuffer()).family;
    const pick = (own: number | null, fallback: number | null | undefined, applies: boolean): number | null => own ?? (applies ? fallback ?? null : null);
    const nprobe = pick(s.nprobe, defaults.nprobe, family === 'ivf');
    const efSearch = pick(s.efSearch, defaults.efSearch, family === 'hnsw');
    const efConstruction = pick(s.efConstruction, defaults.efConstruction, family === 'hnsw');
    // efConstruction is used while adding, so it is set on the empty index.
    if (efConstruction !== null) index = loadFaiss().Index.fromBuffer(withFaissParams(index.toBuffer(), { efConstruction }, s.factory));
    if (!index.isTrained()) {
      const needed = minTrainingVectors(s.factory);
      if (vectors.count < needed) {
        throw new RetrievalInputError(`faiss "${s.factory}" cannot be trained on ${vectors.count} vectors: its k-means needs at least ${needed}. Fix: index more vectors, or use fewer lists (e.g. IVF${Math.max(1, 2 ** Math.floor(Math.log2(Math.max(1, vectors.count))))},Flat) or Flat`);
      }
      try {
        index.train(Array.from(vectors.data));
      } catch (err) {
        throw new RetrievalInputError(`faiss "${s.factory}" cannot be trained on ${vectors.count} vectors (${(err as Error).message.replace(/^Error in .*?: /, '')}). Fix: index more vectors, or use fewer lists (e.g. IVF16,Flat) or Flat`);
      }
    }
    for (let i = 0; i < vectors.count; i += ADD_CHUNK_ROWS) {
      const end = Math.min(vectors.count, i + ADD_CHUNK_ROWS);
      index.add(Array.from(vectors.data.subarray(i * vectors.dim, end * vectors.dim)));
      onProgress?.(end, vectors.count);
    }
    if (nprobe !== null || efSearch !== null) {
      index = loadFaiss().Index.fromBuffer(withFaissParams(index.toBuffer(), { nprobe, efSearch }, s.factory));
    }
    return new FaissSearch(index, s.factory);
  }

  static readFile(file: string, factory: string): FaissSearch {
    try {
      return new FaissSearch(loadFaiss().Index.read(file), factory);
    } catch (err) {
      if (err instanceof RetrievalInputError) throw err;
      throw new RetrievalInputError(`${file}: faiss cannot read it (${(err as Error).message}). Fix: rebuild the index`);
    }
  }

  /** The search parameters the index holds now (read from its serialised form). */
  params(): FaissParams {
    return readFaissParams(this.index.toBuffer());
  }

  /** Sets nprobe (IVF) or efSearch (HNSW) by rewriting the serialised index; checks the value took. */
  tune(p: { nprobe?: number | null; efSearch?: number | null }): void {
    const next = loadFaiss().Index.fromBuffer(withFaissParams(this.index.toBuffer(), p, this.factory));
    const got = readFaissParams(next.toBuffer());
    if ((p.nprobe != null && got.nprobe !== p.nprobe) || (p.efSearch != null && got.efSearch !== p.efSearch)) {
      throw new Error(`faiss did not keep the search parameters (asked ${JSON.stringify(p)}, index holds ${JSON.stringify(got)})`);
    }
    this.index = next;
  }

  search(query: Float32Array, k: number): Neighbors {
    checkQuery(query, k, this.dim, this.size, `faiss ${this.factory} index`);
    for (let j = 0; j < query.length; j++) this.scratch[j] = query[j]!;
    const r = this.index.search(this.scratch, k);
    const ids: number[] = [];
    const distances: number[] = [];
    // faiss pads with label -1 when it finds fewer than k (an IVF probing too few lists).
    for (let i = 0; i < r.labels.length; i++) {
      if (r.labels[i]! < 0) break;
      ids.push(r.labels[i]!);
      distances.push(1 - r.distances[i]!);
    }
    return { ids, distances };
  }

  writeFile(file: string): void {
    this.index.write(file);
  }
}
