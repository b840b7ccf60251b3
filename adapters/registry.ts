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

/** The approach called `name`; throws UsageError naming the valid approaches when there is none. */
export async function getApproach(name: string): Promise<Approach> {
  const load = Object.hasOwn(APPROACHES, name) ? APPROACHES[name] : undefined;
  if (!load) {
    throw new UsageError(`unknown approach "${name}". Valid approaches: ${approachNames().join(', ')}. Run \`bench list\` to see them.`);
  }
  return load();
}
