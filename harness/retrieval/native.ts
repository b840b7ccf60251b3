// The two native vector libraries, loaded on first use with a clear fix when they are missing, and
// typed to the part of their API this package uses.
import { createRequire } from 'node:module';
import { DependencyError } from '../errors.js';

const require = createRequire(import.meta.url);

export interface HnswIndex {
  initIndex(opts: { maxElements: number; m?: number; efConstruction?: number; randomSeed?: number }): void;
  readIndexSync(filename: string): void;
  writeIndexSync(filename: string): void;
  addPoint(point: number[], label: number): void;
  searchKnn(query: number[], k: number): { distances: number[]; neighbors: number[] };
  getCurrentCount(): number;
  getNumDimensions(): number;
  getEf(): number;
  setEf(ef: number): void;
}

export interface HnswlibModule {
  HierarchicalNSW: new (space: 'l2' | 'ip' | 'cosine', dim: number) => HnswIndex;
}

export interface FaissIndex {
  ntotal(): number;
  getDimension(): number;
  isTrained(): boolean;
  add(x: number[]): void;
  train(x: number[]): void;
  search(x: number[], k: number): { distances: number[]; labels: number[] };
  write(fname: string): void;
  toBuffer(): Buffer;
}

export interface FaissModule {
  Index: {
    fromFactory(dim: number, descriptor: string, metric?: number): FaissIndex;
    fromBuffer(buf: Buffer): FaissIndex;
    read(fname: string): FaissIndex;
  };
  MetricType: { METRIC_INNER_PRODUCT: number; METRIC_L2: number };
}

let hnswlib: HnswlibModule | undefined;
let faiss: FaissModule | undefined;

export function loadHnswlib(): HnswlibModule {
  if (hnswlib) return hnswlib;
  try {
    hnswlib = require('hnswlib-node') as HnswlibModule;
  } catch (err) {
    throw new DependencyError(`hnswlib-node does not load (${(err as Error).message.split('\n')[0]}). Fix: apt-get install g++ make python3, then \`npm rebuild hnswlib-node\` (or \`npm run setup\`); \`bench doctor\` checks it`);
  }
  return hnswlib;
}

let faissOmpThreads = 'not loaded';

/**
 * faiss-node, with OpenMP held to one thread unless OMP_NUM_THREADS is already set: search speed is
 * measured single-threaded (as ann-benchmarks does). libgomp reads the variable when it loads, so it
 * is set for the load only and then restored: child processes (cells) inherit the environment as it was.
 */
export function loadFaiss(): FaissModule {
  if (faiss) return faiss;
  const given = process.env['OMP_NUM_THREADS'];
  if (given === undefined) process.env['OMP_NUM_THREADS'] = '1';
  try {
    faiss = require('faiss-node') as FaissModule;
    faissOmpThreads = given ?? '1';
  } catch (err) {
    throw new DependencyError(`faiss-node does not load (${(err as Error).message.split('\n')[0]}). Fix: apt-get install libfaiss-dev libopenblas-dev patchelf cmake g++ make, then \`npm run setup\` (it builds faiss-node against Debian's faiss); \`bench doctor\` checks it`);
  } finally {
    if (given === undefined) delete process.env['OMP_NUM_THREADS'];
  }
  return faiss;
}

/** OMP_NUM_THREADS as it was when faiss loaded (what its OpenMP runs with). */
export function faissThreads(): string {
  return faissOmpThreads;
}
