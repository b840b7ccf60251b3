// Approaches by name, loaded lazily so a run loads only the approaches it runs.
import { UsageError } from '../harness/errors.js';
import type { Approach } from './types.js';

/** Approach name -> loader. Add an approach by adding one line here. */
export const APPROACHES: Readonly<Record<string, () => Promise<Approach>>> = Object.freeze({
  base: async () => (await import('./base.js')).base,
  'full-ft': async () => (await import('./full-ft.js')).fullFt,
  lora: async () => (await import('./lora.js')).lora,
  qlora: async () => (await import('./qlora.js')).qlora,
  rag: async () => (await import('./rag.js')).rag,
  'lora-rag': async () => (await import('./lora-rag.js')).loraRag,
});

/** Registered approach names, in registry order (the control first). */
export function approachNames(): string[] {
  return Object.keys(APPROACHES);
}

/**
 * On a suite whose facts change after adaptation, a team with a fine-tuned model can train further
 * (the default) or retrain from the base on everything: both are rows of a default run. On other
 * suites a retrain row would equal its default row, so no cell is planned for it there.
 */
export const RETRAIN_ROWS: readonly string[] = Object.freeze(['full-ft:update=retrain', 'lora:update=retrain', 'qlora:update=retrain']);

/** The rows of a run without --approach: every approach, then the retrain rows. */
export function defaultApproaches(): string[] {
  return [...approachNames(), ...RETRAIN_ROWS];
}

/** The approach called `name`; throws UsageError naming the valid approaches when there is none. */
export async function getApproach(name: string): Promise<Approach> {
  const load = Object.hasOwn(APPROACHES, name) ? APPROACHES[name] : undefined;
  if (!load) {
    throw new UsageError(`unknown approach "${name}". Valid approaches: ${approachNames().join(', ')}. Run \`bench list\` to see them.`);
  }
  return load();
}
