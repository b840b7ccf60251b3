// A user's suite: a folder with suite.json beside JSONL files. Everything is read and validated whole
// before anything runs; every problem is collected, with file, line and field.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TaskType } from '../tasks/types.js';
import type { Suite, SuiteData, SuiteDefinition } from './types.js';
import { MAX_LINE_BYTES, SuiteValidationError, buildSuiteData, parseDefinition, type RecordSource, type SourceRecord, type SuiteProblem, type SuiteRecords } from './validate.js';

/** The definition file every suite folder holds. */
export const DEFINITION_FILE = 'suite.json';

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** JSON.parse's error with the line and column it names (Node reports a character position). */
function jsonError(err: unknown, text: string): { line: number | null; message: string } {
  const message = (err as Error).message;
  const pos = /position (\d+)/.exec(message);
  if (!pos) return { line: null, message };
  const { line, column } = lineColumn(text, Number(pos[1]));
  return { line, message: `${message.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*$/s, '')} at column ${column}` };
}

/** The file's text, or a problem: missing, not a file, or not UTF-8 (with the first bad line). */
function readText(path: string, file: string, problems: SuiteProblem[]): string | null {
  if (!existsSync(path) || !statSync(path).isFile()) {
    problems.push({ file, line: null, field: null, message: 'does not exist', fix: `create ${file}` });
    return null;
  }
  const bytes = readFileSync(path);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Find the first line that does not decode, so the user can open the file there.
    let line = 1, start = 0;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          decoder.decode(bytes.subarray(start, i));
        } catch {
          break;
        }
        line += 1;
        start = i + 1;
      }
    }
    problems.push({ file, line, field: null, message: 'is not UTF-8 text', fix: 'save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)' });
    return null;
  }
}

/** The JSON object of each non-blank line of a JSONL file, with problems for lines that are not JSON. */
function readJsonl(dir: string, file: string, problems: SuiteProblem[]): RecordSource | null {
  const text = readText(join(dir, file), file, problems);
  if (text === null) return null;
  const records: SourceRecord[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
      problems.push({ file, line: i + 1, field: null, message: `the line has ${Buffer.byteLength(line)} bytes, over the limit of ${MAX_LINE_BYTES}`, fix: 'split the text into several documents or examples' });
      return;
    }
    try {
      records.push({ line: i + 1, value: JSON.parse(line) });
    } catch (err) {
      const e = jsonError(err, line);
      problems.push({ file, line: i + 1, field: null, message: `not valid JSON: ${e.message}`, fix: 'write one JSON object per line (JSON Lines)' });
    }
  });
  return { file, records };
}

/** BEIR's qrels TSV: a header `query-id corpus-id score`, then one judgement per line. */
function readQrels(dir: string, file: string, problems: SuiteProblem[]): RecordSource | null {
  const text = readText(join(dir, file), file, problems);
  if (text === null) return null;
  const records: SourceRecord[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || (i === 0 && /^query-id\b/.test(line))) return;
    const cols = line.split('\t');
    if (cols.length !== 3) {
      problems.push({ file, line: i + 1, field: null, message: `has ${cols.length} tab-separated columns, expected 3`, fix: 'write query-id<TAB>corpus-id<TAB>score' });
      return;
    }
    records.push({ line: i + 1, value: { queryId: cols[0], docId: cols[1], relevance: Number(cols[2]) } });
  });
  return { file, records };
}

/** What reading and validating a folder gave: the suite, or every problem. */
export interface FolderCheck {
  readonly dir: string;
  readonly definition: SuiteDefinition | null;
  readonly task: TaskType | null;
  readonly data: SuiteData | null;
  readonly problems: readonly SuiteProblem[];
}

/** Reads and validates a suite folder whole, collecting every problem. */
export function checkSuiteFolder(path: string): FolderCheck {
  const dir = resolve(path);
  const problems: SuiteProblem[] = [];
  const none = { dir, definition: null, task: null, data: null };
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return { ...none, problems: [{ file: path, line: null, field: null, message: 'is not a folder', fix: 'give the folder that holds suite.json, or a built-in suite name (bench list)' }] };
  }
  if (!existsSync(join(dir, DEFINITION_FILE))) {
    return { ...none, problems: [{ file: join(path, DEFINITION_FILE), line: null, field: null, message: 'missing: a suite folder holds a suite.json', fix: 'write suite.json (see examples/ and suites/suite.schema.json)' }] };
  }
  const text = readText(join(dir, DEFINITION_FILE), DEFINITION_FILE, problems);
  if (text === null) return { ...none, problems };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const e = jsonError(err, text);
    return { ...none, problems: [{ file: DEFINITION_FILE, line: e.line, field: null, message: `not valid JSON: ${e.message}`, fix: 'correct the JSON syntax (a missing comma or quote is usual)' }] };
  }
  const hasFile = (name: string): boolean => existsSync(join(dir, name)) && statSync(join(dir, name)).isFile();
  const parsed = parseDefinition(raw, DEFINITION_FILE, hasFile);
  problems.push(...parsed.problems);
  if (!parsed.definition || !parsed.task) return { ...none, task: parsed.task, problems };
  const def = parsed.definition;
  const f = def.files;
  const documents = f.documents !== null ? readJsonl(dir, f.documents, problems) : null;
  const train = readJsonl(dir, f.train, problems);
  const test = readJsonl(dir, f.test, problems);
  const qrels = f.qrels !== null ? readQrels(dir, f.qrels, problems) : null;
  const heldOut = f.heldOut !== null ? readJsonl(dir, f.heldOut, problems) : null;
  // An unreadable file is already reported; the others are still checked, so every problem shows at once.
  const orEmpty = (src: RecordSource | null, file: string): RecordSource => src ?? { file, records: [], unreadable: true };
  const u = def.update;
  const update = u ? { documents: orEmpty(readJsonl(dir, u.documents, problems), u.documents), train: orEmpty(readJsonl(dir, u.train, problems), u.train) } : null;
  const records: SuiteRecords = { documents, train: orEmpty(train, f.train), test: orEmpty(test, f.test), qrels, heldOut, update };
  const built = buildSuiteData(def, parsed.task, records);
  problems.push(...built.problems);
  return { dir, definition: def, task: parsed.task, data: problems.length ? null : built.data, problems };
}

/** The suite in a folder; SuiteValidationError (exit 2) listing every problem when it is not valid. */
export function loadSuiteFolder(path: string): Suite {
  const check = checkSuiteFolder(path);
  if (!check.definition || !check.data || check.problems.length) throw new SuiteValidationError(path, check.problems);
  const data = check.data;
  return Object.freeze({ ...check.definition, source: { kind: 'folder' as const, path: check.dir }, buildData: () => data });
}
