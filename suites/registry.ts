// Suites by reference: a built-in name (loaded lazily, so `bench list` and one suite's run do not
// build every suite's data) or the path of a user's suite folder.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../harness/errors.js';
import { loadSuiteFolder } from './folder.js';
import type { Suite, SuiteSource } from './types.js';

/** Built-in suite name -> loader. Add a built-in suite by adding one line here. */
export const SUITES: Readonly<Record<string, () => Promise<Suite>>> = Object.freeze({
  'corpus-wide': async () => (await import('./corpus-wide/suite.js')).corpusWide,
  'fresh-facts': async () => (await import('./fresh-facts/suite.js')).freshFacts,
  'knowledge-qa': async () => (await import('./knowledge-qa/suite.js')).knowledgeQa,
  'task-adapt': async () => (await import('./task-adapt/suite.js')).taskAdapt,
});

/** Built-in suite names, sorted. */
export function suiteNames(): string[] {
  return Object.keys(SUITES).sort();
}

/** Whether `ref` names a folder rather than a built-in suite: it has a path separator, starts with '.', or is an existing folder. */
export function isSuitePath(ref: string): boolean {
  return /[\\/]/.test(ref) || ref.startsWith('.') || (!Object.hasOwn(SUITES, ref) && existsSync(ref) && statSync(ref).isDirectory());
}

/** The built-in suite called `name`; UsageError naming the valid suites when there is none. */
export async function getSuite(name: string): Promise<Suite> {
  const load = Object.hasOwn(SUITES, name) ? SUITES[name] : undefined;
  if (!load) {
    throw new UsageError(`unknown suite "${name}". Built-in suites: ${suiteNames().join(', ')}; or give the path of a suite folder (./my-suite). Run \`bench list\` to see them.`);
  }
  return load();
}

/**
 * A suite by name or folder path. A folder is validated whole (SuiteValidationError listing every
 * problem, exit 2); its name may not shadow a built-in suite's, since cells are named by suite.
 */
export async function resolveSuite(ref: string): Promise<Suite> {
  if (!isSuitePath(ref)) return getSuite(ref);
  const suite = loadSuiteFolder(ref);
  if (Object.hasOwn(SUITES, suite.name)) {
    throw new UsageError(`suite folder ${ref}: its name "${suite.name}" is a built-in suite's. Fix: give it another "name" in suite.json`);
  }
  return suite;
}

/** The suite a run recorded (manifest or result): a built-in by name, or the folder it was read from. */
export async function suiteFromSource(name: string, source: SuiteSource): Promise<Suite> {
  if (source.kind === 'built-in') return getSuite(name);
  return loadSuiteFolder(resolve(source.path));
}
