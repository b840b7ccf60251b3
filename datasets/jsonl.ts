// User datasets as JSONL. A dataset is used whole or not at all: every invalid line is reported
// (file, line, field) and nothing is returned, so no run ever starts on half a dataset.
import { readFileSync } from 'node:fs';
import { InputError } from '../harness/errors.js';

/** An invalid dataset, exit 2: the message lists every problem as "file:line: field X: problem". */
export class DatasetError extends InputError {
  override readonly name = 'DatasetError';
  /** Every problem found, one per entry, in file order. */
  readonly problems: readonly string[];

  constructor(summary: string, problems: readonly string[]) {
    // The message lists the problems too, so printing it alone is enough to fix the file.
    const shown = problems.slice(0, 50);
    const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
    super(`${summary}${shown.map((p) => `\n  ${p}`).join('')}${more}`);
    this.problems = problems;
  }
}

/**
 * Checks one parsed line: returns null when valid, else "field X: problem". `lineNo` is 1-based.
 */
export type LineValidator = (obj: unknown, lineNo: number) => string | null;

/**
 * Reads `file` as JSONL: one JSON value per line, blank lines ignored. Throws DatasetError listing
 * every unreadable, unparsable or invalid line, or when the file holds no records.
 */
export function readJsonl<T = unknown>(file: string, validate: LineValidator): T[] {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new DatasetError(`${file}: cannot read dataset (${why})`, [`${file}: cannot read: ${why}`]);
  }
  const records: T[] = [];
  const problems: string[] = [];
  const lines = raw.split('\n');
  lines.forEach((text, i) => {
    const lineNo = i + 1;
    if (text.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      problems.push(`${file}:${lineNo}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const problem = validate(obj, lineNo);
    if (problem !== null) problems.push(`${file}:${lineNo}: ${problem}`);
    else records.push(obj as T);
  });
  if (problems.length > 0) {
    throw new DatasetError(`${file}: ${problems.length} invalid line(s); fix them and run again:`, problems);
  }
  if (records.length === 0) {
    throw new DatasetError(`${file}: the dataset is empty (no JSON lines)`, [`${file}: empty: no records`]);
  }
  return records;
}
