// Built-in suites build their data in code (from the packages they come from), as the JSONL records
// a user would write, and go through the same validation as a user's folder: one form, one check.
import type { Suite } from './types.js';
import { SuiteValidationError, buildSuiteData, parseDefinition, type RecordSource } from './validate.js';

/** The records a built-in suite generates for a seed, as a user's files would hold them. */
export interface GeneratedRecords {
  readonly documents: readonly unknown[];
  readonly train: readonly unknown[];
  readonly test: readonly unknown[];
  /** The update's rewritten documents and training examples (suites whose definition has `update`). */
  readonly update?: { readonly documents: readonly unknown[]; readonly train: readonly unknown[] };
}

/** A suite from a suite.json object and a record generator; invalid data is a bug, reported as such. */
export function builtInSuite(definition: Readonly<Record<string, unknown>>, generate: (seed: number) => GeneratedRecords): Suite {
  const where = `${String(definition['name'])} (built in)`;
  // A built-in suite generates its files, so every file it names "exists".
  const parsed = parseDefinition(definition, `${where} suite.json`, () => true);
  if (!parsed.definition || !parsed.task || parsed.problems.length) throw new SuiteValidationError(where, parsed.problems);
  const def = parsed.definition;
  const task = parsed.task;
  const source = (file: string, records: readonly unknown[]): RecordSource => ({ file: `${where} ${file}`, records: records.map((value, i) => ({ line: i + 1, value })) });
  return Object.freeze({
    ...def,
    source: { kind: 'built-in' as const },
    buildData(seed: number) {
      const r = generate(seed);
      const built = buildSuiteData(def, task, {
        documents: r.documents.length ? source('documents', r.documents) : null,
        train: source('train', r.train),
        test: source('test', r.test),
        qrels: null,
        heldOut: null,
        update: r.update ? { documents: source('update documents', r.update.documents), train: source('update train', r.update.train) } : null,
      });
      if (!built.data) throw new SuiteValidationError(where, built.problems);
      return built.data;
    },
  });
}
