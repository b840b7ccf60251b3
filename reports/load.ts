// Reads a run folder back: the manifest and one result per cell. Reports are views of these files,
// so every problem with them is an InputError (exit 2) that names the file and how to fix it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../harness/errors.js';
import { RESULT_SCHEMA_VERSION } from '../harness/results.js';
import type { CellResult, CellSpec, RunManifest } from '../harness/results.js';

export interface LoadedRun {
  /** The run folder as given. */
  readonly dir: string;
  readonly manifest: RunManifest;
  /** Every cell result found, in the manifest's cell order; cells the manifest does not list come last. */
  readonly cells: readonly CellResult[];
  /** Cells the manifest lists that have no result file yet (an interrupted run). */
  readonly missing: readonly CellSpec[];
}

const RESUME_FIX = 'delete it and re-run with `bench run <suite> --out <run> --resume` to measure that cell again';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readJson(file: string, whenMissing: string, whenBroken: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT'
      ? `${file} not found: ${whenMissing}`
      : `${file} cannot be read (${(err as Error).message}): ${whenBroken}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`${file} is not valid JSON (${(err as Error).message}): ${whenBroken}`);
  }
}

/** Checks `obj[key]` with `ok`, or throws naming the file and the key. */
function need(file: string, obj: Json, key: string, what: string, ok: (v: unknown) => boolean, fix: string): void {
  if (!ok(obj[key])) throw new InputError(`${file}: "${key}" must be ${what}: ${fix}`);
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isArray = (v: unknown): boolean => Array.isArray(v);

function checkSchemaVersion(file: string, obj: Json, fix: string): void {
  if (obj['schemaVersion'] !== RESULT_SCHEMA_VERSION) {
    throw new InputError(`${file}: schemaVersion is ${JSON.stringify(obj['schemaVersion'])}, this adaptbench reads `
      + `${RESULT_SCHEMA_VERSION}: ${fix}`);
  }
}

function validateManifest(file: string, raw: unknown): RunManifest {
  const fix = 'the manifest is damaged or from another tool; restore it, or run the suites again into a new folder';
  if (!isObject(raw)) throw new InputError(`${file}: expected a JSON object (a run manifest): ${fix}`);
  checkSchemaVersion(file, raw, 'rebuild the report with the adaptbench version that wrote the run, or run it again');
  need(file, raw, 'runId', 'a string', isString, fix);
  need(file, raw, 'seeds', 'an array of numbers', (v) => Array.isArray(v) && v.every(isNumber), fix);
  need(file, raw, 'suites', 'an array of strings', (v) => Array.isArray(v) && v.every(isString), fix);
  need(file, raw, 'cells', 'an array of cell specs', isArray, fix);
  need(file, raw, 'packages', 'an object', isObject, fix);
  need(file, raw, 'cpu', 'an object with model and cores', (v) => isObject(v) && isString(v['model']), fix);
  need(file, raw, 'dataHashes', 'an object', isObject, fix);
  for (const [i, spec] of (raw['cells'] as unknown[]).entries()) {
    if (!isObject(spec) || !isString(spec['id'])) {
      throw new InputError(`${file}: cells[${i}] must be a cell spec with a string "id": ${fix}`);
    }
  }
  return raw as unknown as RunManifest;
}

function validateCell(file: string, expectedId: string, raw: unknown): CellResult {
  if (!isObject(raw)) throw new InputError(`${file}: expected a JSON object (a cell result): ${RESUME_FIX}`);
  checkSchemaVersion(file, raw, RESUME_FIX);
  const spec = raw['cell'];
  if (!isObject(spec)) throw new InputError(`${file}: "cell" must be the cell spec object: ${RESUME_FIX}`);
  for (const key of ['id', 'suite', 'approach', 'label']) need(file, spec, key, 'a string', isString, RESUME_FIX);
  need(file, spec, 'seed', 'a number', isNumber, RESUME_FIX);
  if (spec['id'] !== expectedId) {
    throw new InputError(`${file}: holds cell "${String(spec['id'])}" but is named for "${expectedId}" `
      + `(a copied or renamed file?): ${RESUME_FIX}`);
  }
  if (raw['status'] === 'failed') {
    need(file, raw, 'error', 'an object with a string "message"', (v) => isObject(v) && isString(v['message']), RESUME_FIX);
  } else if (raw['status'] === 'completed') {
    const metrics = raw['metrics'];
    if (!isObject(metrics)) throw new InputError(`${file}: "metrics" must be an object: ${RESUME_FIX}`);
    for (const [id, v] of Object.entries(metrics)) {
      if (v !== null && !isNumber(v)) {
        throw new InputError(`${file}: metrics["${id}"] must be a finite number or null, got ${JSON.stringify(v)}: ${RESUME_FIX}`);
      }
    }
    need(file, raw, 'intervals', 'an object', isObject, RESUME_FIX);
    for (const [id, v] of Object.entries(raw['intervals'] as Json)) {
      if (!isObject(v) || !isNumber(v['low']) || !isNumber(v['high'])) {
        throw new InputError(`${file}: intervals["${id}"] must have numeric "low" and "high": ${RESUME_FIX}`);
      }
    }
    need(file, raw, 'notes', 'an object', isObject, RESUME_FIX);
    need(file, raw, 'samples', 'an array', isArray, RESUME_FIX);
  } else {
    throw new InputError(`${file}: "status" must be "completed" or "failed", got ${JSON.stringify(raw['status'])}: ${RESUME_FIX}`);
  }
  return raw as unknown as CellResult;
}

/** Loads and validates `<runDir>/manifest.json` and every `<runDir>/cells/<cellId>.json`. */
export async function loadRun(runDir: string): Promise<LoadedRun> {
  const manifestFile = join(runDir, 'manifest.json');
  const manifest = validateManifest(manifestFile, await readJson(
    manifestFile,
    'not a run folder; give the folder `bench run` wrote (it holds manifest.json and cells/)',
    'the manifest is damaged; restore it, or run the suites again into a new folder',
  ));

  const cellsDir = join(runDir, 'cells');
  let names: string[];
  try {
    names = await readdir(cellsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new InputError(`${cellsDir} cannot be read (${(err as Error).message}): check its permissions`);
    }
    names = []; // no cell finished yet: the report lists every cell as missing
  }
  // Only `<cellId>.json`: logs and `*.json.tmp-<pid>` files of cells still being written are not results.
  const files = names.filter((n) => n.endsWith('.json')).sort();
  const byId = new Map<string, CellResult>();
  for (const name of files) {
    const file = join(cellsDir, name);
    const id = name.slice(0, -'.json'.length);
    byId.set(id, validateCell(file, id, await readJson(file, RESUME_FIX, RESUME_FIX)));
  }

  const cells: CellResult[] = [];
  const missing: CellSpec[] = [];
  for (const spec of manifest.cells) {
    const cell = byId.get(spec.id);
    if (cell) {
      cells.push(cell);
      byId.delete(spec.id);
    } else {
      missing.push(spec);
    }
  }
  cells.push(...byId.values()); // results the manifest does not list are still measurements: keep them
  return { dir: runDir, manifest, cells, missing };
}
