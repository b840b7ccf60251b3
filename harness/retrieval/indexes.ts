// Vector indexes behind one interface: `exact` (brute force, the ground truth), `hnswlib` and `faiss`.
// Every index answers with cosine distances (1 - inner product on unit vectors), so results of
// different indexes, and the exact ground truth, are comparable number for number.
//
// On disk an index is a folder: `index.bin` (the library's own file) and `index.json` (its spec,
// size and the sha256 of index.bin). Loading verifies the hash before the library reads the file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExactSearch } from './exact.js';
import { FaissSearch, checkFactory } from './faiss.js';
import { HnswSearch } from './hnswlib.js';
import { faissThreads } from './native.js';
import type { Neighbors, Vectors } from './vectors.js';
import { RetrievalInputError, checkVectors } from './vectors.js';

export const INDEX_TYPES = ['exact', 'hnswlib', 'faiss'] as const;
export type IndexType = (typeof INDEX_TYPES)[number];

export interface ExactSpec {
  readonly type: 'exact';
}
export interface HnswlibSpec {
  readonly type: 'hnswlib';
  readonly M: number;
  readonly efConstruction: number;
  readonly ef: number;
  readonly seed: number;
}
export interface FaissSpec {
  readonly type: 'faiss';
  readonly factory: string;
  /** IVF lists probed per query. */
  readonly nprobe: number | null;
  /** HNSW search list. */
  readonly efSearch: number | null;
  /** HNSW build list. */
  readonly efConstruction: number | null;
}
export type IndexSpec = ExactSpec | HnswlibSpec | FaissSpec;

/**
 * The harness's defaults. hnswlib: M and efConstruction are hnswlib's own recommended values; ef 64
 * because hnswlib's default (10) gives recall@10 well below 0.95 on 128-d data (bench retrieval).
 * faiss: HNSW32 with hnswlib's efConstruction (200; faiss's own 40 gave recall@10 0.93 on the 100k
 * set) and efSearch raised from 16 to 64; IVF indexes probe 8 lists. A null nprobe, efSearch or
 * efConstruction in a spec means these defaults, applied to the index family the factory string
 * builds; a number is applied as given, and is an error on an index without that parameter.
 */
export const INDEX_DEFAULTS = Object.freeze({
  hnswlib: Object.freeze({ type: 'hnswlib', M: 16, efConstruction: 200, ef: 64, seed: 100 } satisfies HnswlibSpec),
  faiss: Object.freeze({ type: 'faiss', factory: 'HNSW32', nprobe: null, efSearch: null, efConstruction: null } satisfies FaissSpec),
  /** efSearch of a faiss HNSW index whose spec leaves it null. */
  faissHnswEfSearch: 64,
  /** efConstruction of a faiss HNSW index whose spec leaves it null: hnswlib's, so both graphs get the same build effort. */
  faissHnswEfConstruction: 200,
  /** nprobe of a faiss IVF index whose spec leaves it null. */
  faissIvfNprobe: 8,
});

/** Search-time parameters an index can change after it is built. */
export interface SearchParams {
  /** hnswlib. */
  readonly ef?: number;
  /** faiss IVF. */
  readonly nprobe?: number;
  /** faiss HNSW. */
  readonly efSearch?: number;
}

export interface VectorIndex {
  readonly type: IndexType;
  readonly dim: number;
  /** Vectors held. */
  readonly size: number;
  /** The spec as it stands (search parameters included), as recorded in results. */
  spec(): IndexSpec;
  /** The k nearest vectors by cosine distance, nearest first (fewer only where faiss IVF finds fewer). */
  search(query: Float32Array, k: number): Neighbors;
  /** Changes search parameters; an index without such a parameter throws RetrievalInputError. */
  tune(params: SearchParams): void;
  /** Writes the library's own file. */
  writeFile(file: string): void;
  /**
   * The index after the vectors of `rows` changed (`vectors` holds every row, new ones in place):
   * updated in place where the library can, else rebuilt from `vectors`. `how` says which.
   */
  replaceRows(rows: readonly number[], vectors: Vectors): { index: VectorIndex; how: string };
}

const positiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/** Problems with a spec, each naming the field; empty when it can be built. */
export function indexSpecProblems(spec: unknown, where = 'index'): string[] {
  const s = spec as Partial<Record<string, unknown>> | null;
  if (!s || typeof s !== 'object') return [`${where} must be an object with a type (${INDEX_TYPES.join(', ')})`];
  if (!(INDEX_TYPES as readonly unknown[]).includes(s['type'])) {
    return [`${where}.type "${String(s['type'])}" is not an index type. Valid types: ${INDEX_TYPES.join(', ')}`];
  }
  const problems: string[] = [];
  if (s['type'] === 'hnswlib') {
    for (const key of ['M', 'efConstruction', 'ef']) if (!positiveInt(s[key])) problems.push(`${where}.${key} must be a positive integer (got ${JSON.stringify(s[key])})`);
    if (typeof s['M'] === 'number' && s['M'] < 2) problems.push(`${where}.M must be at least 2`);
    if (!(typeof s['seed'] === 'number' && Number.isInteger(s['seed']) && s['seed'] >= 0)) problems.push(`${where}.seed must be a non-negative integer`);
  }
  if (s['type'] === 'faiss') {
    if (typeof s['factory'] !== 'string' || s['factory'].trim() === '') problems.push(`${where}.factory must be a faiss index_factory string such as Flat, HNSW32 or IVF64,Flat`);
    for (const key of ['nprobe', 'efSearch', 'efConstruction']) if (s[key] !== null && !positiveInt(s[key])) problems.push(`${where}.${key} must be a positive integer or null (got ${JSON.stringify(s[key])})`);
  }
  return problems;
}

/** Throws RetrievalInputError for a spec that cannot be built (unknown type, bad value, unknown factory string). */
export function checkIndexSpec(spec: IndexSpec, where = 'index'): void {
  const problems = indexSpecProblems(spec, where);
  if (problems.length) throw new RetrievalInputError(problems.join('; '));
  if (spec.type === 'faiss') checkFactory(spec.factory);
}

class ExactIndex implements VectorIndex {
  readonly type = 'exact';
  readonly dim: number;
  readonly size: number;
  private readonly impl: ExactSearch;
  constructor(impl: ExactSearch) {
    this.impl = impl;
    this.dim = impl.dim;
    this.size = impl.size;
  }
  spec(): ExactSpec {
    return { type: 'exact' };
  }
  search(query: Float32Array, k: number): Neighbors {
    return this.impl.search(query, k);
  }
  tune(params: SearchParams): void {
    const given = Object.keys(params).filter((k) => params[k as keyof SearchParams] !== undefined);
    if (given.length) throw new RetrievalInputError(`the exact index has no search parameters (got ${given.join(', ')})`);
  }
  writeFile(file: string): void {
    this.impl.writeFile(file);
  }
  replaceRows(_rows: readonly number[], vectors: Vectors): { index: VectorIndex; how: string } {
    // Brute force has no structure over its rows: the new rows are all there is to change.
    return { index: new ExactIndex(new ExactSearch(vectors)), how: 'exact: the changed rows replaced' };
  }
}

class HnswlibIndex implements VectorIndex {
  readonly type = 'hnswlib';
  readonly dim: number;
  readonly size: number;
  private readonly impl: HnswSearch;
  private readonly built: HnswlibSpec;
  constructor(impl: HnswSearch, built: HnswlibSpec) {
    this.impl = impl;
    this.built = built;
    this.dim = impl.dim;
    this.size = impl.size;
  }
  spec(): HnswlibSpec {
    return { ...this.built, ef: this.impl.currentEf };
  }
  search(query: Float32Array, k: number): Neighbors {
    return this.impl.search(query, k);
  }
  tune(params: SearchParams): void {
    if (params.nprobe !== undefined || params.efSearch !== undefined) throw new RetrievalInputError('hnswlib takes ef as its search parameter (nprobe and efSearch are faiss\'s)');
    if (params.ef !== undefined) this.impl.setEf(params.ef);
  }
  writeFile(file: string): void {
    this.impl.writeFile(file);
  }
  replaceRows(rows: readonly number[], vectors: Vectors): { index: VectorIndex; how: string } {
    checkVectors(vectors, this.dim, 'hnswlib update');
    this.impl.replace(rows, vectors);
    return { index: this, how: `hnswlib: ${rows.length} element(s) updated in place (addPoint on their labels)` };
  }
}

class FaissIndexWrapper implements VectorIndex {
  readonly type = 'faiss';
  readonly dim: number;
  readonly size: number;
  private readonly impl: FaissSearch;
  private readonly factory: string;
  private nprobe: number | null;
  private efSearch: number | null;
  private readonly efConstruction: number | null;
  constructor(impl: FaissSearch, spec: FaissSpec) {
    this.impl = impl;
    this.factory = spec.factory;
    this.dim = impl.dim;
    this.size = impl.size;
    // What the index holds, read from it: the spec's nulls resolved.
    const p = impl.params();
    this.nprobe = p.nprobe ?? null;
    this.efSearch = p.efSearch ?? null;
    this.efConstruction = p.efConstruction ?? null;
  }
  spec(): FaissSpec {
    return { type: 'faiss', factory: this.factory, nprobe: this.nprobe, efSearch: this.efSearch, efConstruction: this.efConstruction };
  }
  search(query: Float32Array, k: number): Neighbors {
    return this.impl.search(query, k);
  }
  tune(params: SearchParams): void {
    if (params.ef !== undefined) throw new RetrievalInputError('faiss takes nprobe (IVF) or efSearch (HNSW); ef is hnswlib\'s');
    this.impl.tune({ nprobe: params.nprobe ?? null, efSearch: params.efSearch ?? null });
    const p = this.impl.params();
    this.nprobe = p.nprobe ?? null;
    this.efSearch = p.efSearch ?? null;
  }
  writeFile(file: string): void {
    this.impl.writeFile(file);
  }
  replaceRows(_rows: readonly number[], vectors: Vectors): { index: VectorIndex; how: string } {
    // faiss-node exposes no update by id for these index types: rebuilt from the stored vectors,
    // of which only the changed rows were embedded again.
    return { index: buildIndex(this.spec(), vectors), how: 'faiss: rebuilt from the stored vectors (no in-place update by id in faiss-node)' };
  }
}

/**
 * Builds an index over unit vectors. Throws RetrievalInputError for an empty corpus, a bad spec, an
 * unknown factory string or vectors that are not unit length.
 */
export function buildIndex(spec: IndexSpec, vectors: Vectors, onProgress?: (done: number, total: number) => void): VectorIndex {
  checkIndexSpec(spec);
  if (vectors.count === 0) throw new RetrievalInputError(`cannot build a ${spec.type} index over an empty corpus (0 vectors). Fix: give at least one document`);
  checkVectors(vectors, vectors.dim, `${spec.type} index`);
  switch (spec.type) {
    case 'exact': return new ExactIndex(new ExactSearch(vectors));
    case 'hnswlib': return new HnswlibIndex(HnswSearch.build(vectors, spec, onProgress), spec);
    case 'faiss': {
      const defaults = { nprobe: INDEX_DEFAULTS.faissIvfNprobe, efSearch: INDEX_DEFAULTS.faissHnswEfSearch, efConstruction: INDEX_DEFAULTS.faissHnswEfConstruction };
      return new FaissIndexWrapper(FaissSearch.build(vectors, spec, defaults, onProgress), spec);
    }
  }
}

export const INDEX_FILE = 'index.bin';
export const INDEX_META = 'index.json';
export const INDEX_FORMAT = 'adaptbench-index/1';

/** index.json: what the folder holds and the hash its index.bin must have. */
export interface IndexFileInfo {
  readonly format: typeof INDEX_FORMAT;
  readonly spec: IndexSpec;
  readonly dim: number;
  readonly size: number;
  /** Size of index.bin. */
  readonly bytes: number;
  readonly sha256: string;
  /** Thread setting faiss ran with (faiss only). */
  readonly threads?: string;
  /** The caller's provenance, e.g. the embedder and corpus hash. */
  readonly meta: Readonly<Record<string, unknown>>;
}

const sha256File = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Writes the index into `dir` (index.bin, then index.json last, each through a temporary name). */
export function saveIndex(index: VectorIndex, dir: string, meta: Readonly<Record<string, unknown>> = {}): IndexFileInfo {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, INDEX_FILE), tmp = `${file}.tmp-${process.pid}`;
  try {
    index.writeFile(tmp);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const info: IndexFileInfo = {
    format: INDEX_FORMAT, spec: index.spec(), dim: index.dim, size: index.size, bytes: statSync(file).size, sha256: sha256File(file),
    ...(index.type === 'faiss' ? { threads: faissThreads() } : {}), meta,
  };
  const metaFile = join(dir, INDEX_META);
  writeFileSync(`${metaFile}.tmp-${process.pid}`, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(`${metaFile}.tmp-${process.pid}`, metaFile);
  return info;
}

/** Reads an index folder back, verifying index.bin's sha256 first (mismatch: RetrievalInputError, exit 2). */
export function loadIndex(dir: string): { index: VectorIndex; info: IndexFileInfo } {
  const file = join(dir, INDEX_FILE), metaFile = join(dir, INDEX_META);
  if (!existsSync(file) || !existsSync(metaFile)) {
    throw new RetrievalInputError(`index folder ${dir}: ${INDEX_FILE} or ${INDEX_META} is missing. Fix: build the index again (it is written by saveIndex)`);
  }
  let info: IndexFileInfo;
  try {
    info = JSON.parse(readFileSync(metaFile, 'utf8')) as IndexFileInfo;
  } catch (err) {
    throw new RetrievalInputError(`${metaFile}: not valid JSON (${(err as Error).message}). Fix: build the index again`);
  }
  if (info.format !== INDEX_FORMAT) throw new RetrievalInputError(`${metaFile}: format "${String(info.format)}" is not ${INDEX_FORMAT}. Fix: build the index again`);
  const problems = indexSpecProblems(info.spec, `${metaFile}: spec`);
  if (problems.length) throw new RetrievalInputError(problems.join('; '));
  const actual = sha256File(file);
  if (actual !== info.sha256) {
    throw new RetrievalInputError(`index ${file}: sha256 mismatch (expected ${info.sha256}, got ${actual}): the file was modified or is incomplete. Fix: delete ${dir} and build the index again`);
  }
  const spec = info.spec;
  let index: VectorIndex;
  switch (spec.type) {
    case 'exact': index = new ExactIndex(ExactSearch.readFile(file)); break;
    case 'hnswlib': index = new HnswlibIndex(HnswSearch.readFile(file, info.dim, spec.ef), spec); break;
    case 'faiss': index = new FaissIndexWrapper(FaissSearch.readFile(file, spec.factory), spec); break;
  }
  if (index.dim !== info.dim || index.size !== info.size) {
    throw new RetrievalInputError(`index ${file}: holds ${index.size} x ${index.dim}, ${INDEX_META} says ${info.size} x ${info.dim}. Fix: delete ${dir} and build the index again`);
  }
  return { index, info };
}

/** A short name for tables: `hnswlib M16 efC200 ef64`, `faiss HNSW32 efSearch64`, `exact`. */
export function describeIndex(spec: IndexSpec): string {
  switch (spec.type) {
    case 'exact': return 'exact';
    case 'hnswlib': return `hnswlib M${spec.M} efC${spec.efConstruction} ef${spec.ef}`;
    case 'faiss': return `faiss ${spec.factory}${spec.efConstruction !== null ? ` efC${spec.efConstruction}` : ''}${spec.nprobe !== null ? ` nprobe${spec.nprobe}` : ''}${spec.efSearch !== null ? ` efSearch${spec.efSearch}` : ''}`;
  }
}
