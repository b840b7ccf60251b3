// Suites by name, loaded lazily so `bench list` and one suite's run do not load every suite's data.
import { UsageError } from '../harness/errors.js';
import type { Suite } from './types.js';

/** Suite name -> loader. Add a suite by adding one line here. */
export const SUITES: Readonly<Record<string, () => Promise<Suite>>> = Object.freeze({
  'knowledge-qa': async () => (await import('./knowledge-qa/suite.js')).knowledgeQa,
});

/** Registered suite names, sorted. */
export function suiteNames(): string[] {
  return Object.keys(SUITES).sort();
}

/** The suite called `name`; throws UsageError naming the valid suites when there is none. */
export async function getSuite(name: string): Promise<Suite> {
  const load = Object.hasOwn(SUITES, name) ? SUITES[name] : undefined;
  if (!load) {
    throw new UsageError(`unknown suite "${name}". Valid suites: ${suiteNames().join(', ')}. Run \`bench list\` to see them.`);
  }
  return load();
}
