// What a run will do, worked out and validated before anything is written: approach specs with
// their configs, and the cells (suite x approach config x seed).
import { getApproach } from '../adapters/registry.js';
import type { ApproachConfig } from '../adapters/types.js';
import { UsageError } from './errors.js';
import type { CellSpec } from './results.js';

/** One row of a run: an approach with a resolved config and the label that tells it apart. */
export interface ApproachPlan {
  readonly name: string;
  readonly label: string;
  readonly config: ApproachConfig;
}

/** A value from the command line: a number or boolean where it reads as one, else the string. */
function parseValue(raw: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  return raw;
}

/**
 * `name` or `name:key=value:key=value` (e.g. `lora:rank=8:alpha=16`): the approach and the options
 * that override its defaults. Colons, not commas, separate options, since --approach is a comma list.
 */
export function parseApproachSpec(spec: string): { name: string; overrides: Record<string, unknown> } {
  const [name = '', ...pairs] = spec.trim().split(':');
  if (name === '') throw new UsageError(`--approach: empty approach name in "${spec}". Example: --approach base,lora:rank=8`);
  const overrides: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (key === '' || eq === pair.length - 1) {
      throw new UsageError(`--approach "${spec}": "${pair}" is not key=value. Example: --approach lora:rank=8:alpha=16`);
    }
    if (Object.hasOwn(overrides, key)) throw new UsageError(`--approach "${spec}": option "${key}" is given twice`);
    overrides[key] = parseValue(pair.slice(eq + 1).trim());
  }
  return { name, overrides };
}

/** Row label: the name alone without overrides, else e.g. `lora-rank8-alpha16`. */
export function approachLabel(name: string, overrides: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(overrides).map(([k, v]) => `${k}${String(v)}`.replace(/[^A-Za-z0-9.]+/g, '_'));
  return [name, ...parts].join('-');
}

/** Resolves specs against the registry: unknown names, unknown options and invalid values are UsageErrors. */
export async function resolveApproaches(specs: readonly string[]): Promise<ApproachPlan[]> {
  if (specs.length === 0) throw new UsageError('--approach: no approach given. Example: --approach base');
  const plans: ApproachPlan[] = [];
  for (const spec of specs) {
    const { name, overrides } = parseApproachSpec(spec);
    const approach = await getApproach(name);
    const known = Object.keys(approach.defaults);
    const unknown = Object.keys(overrides).filter((k) => !known.includes(k));
    if (unknown.length) {
      throw new UsageError(`--approach "${spec}": approach.${name} has no option ${unknown.map((k) => `"${k}"`).join(', ')}; ${known.length ? `its options are ${known.join(', ')}` : 'it takes no options'}`);
    }
    const config = Object.freeze({ ...approach.defaults, ...overrides });
    const problems = approach.validateConfig(config);
    if (problems.length) throw new UsageError(`--approach "${spec}": ${problems.join('; ')}`);
    const label = approachLabel(name, overrides);
    if (plans.some((p) => p.label === label)) throw new UsageError(`--approach: "${spec}" is given twice (row ${label})`);
    plans.push({ name, label, config });
  }
  return plans;
}

/** The result file's stem for a cell, stable across runs. */
export function cellId(suite: string, label: string, seed: number): string {
  return `${suite}__${label}__seed${seed}`;
}

/** Whether a row applies to a suite: an update=retrain row only where the suite's facts change (elsewhere it equals its default row). */
export function rowApplies(a: ApproachPlan, suiteHasUpdate: boolean): boolean {
  return a.config['update'] !== 'retrain' || suiteHasUpdate;
}

/**
 * Cells in run order: suite, then seed, then approach, so a seed's rows finish together. Suites named
 * in `withUpdate` have an update of their facts; update=retrain rows run only on those.
 */
export function expandCells(suites: readonly string[], approaches: readonly ApproachPlan[], seeds: readonly number[], withUpdate: ReadonlySet<string> = new Set()): CellSpec[] {
  const cells: CellSpec[] = [];
  for (const suite of suites) {
    for (const seed of seeds) {
      for (const a of approaches) {
        if (!rowApplies(a, withUpdate.has(suite))) continue;
        cells.push({ id: cellId(suite, a.label, seed), suite, approach: a.name, label: a.label, approachConfig: a.config, seed });
      }
    }
  }
  return cells;
}

/** Seeds 0..n-1 for `--seeds n`. */
export function seedRange(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
