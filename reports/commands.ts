// `bench compare <baseline> <run>` and the option parsers the report commands share. Exit codes: 0
// no regression, 1 a regression (the CI gate), 2 bad usage or input (UsageError, InputError).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { UsageError } from '../harness/errors.js';
import { DEFAULT_THRESHOLD } from './compare.js';
import type { CompareOptions } from './compare.js';
import { writeComparison } from './index.js';

/** '10' or '10%' -> 0.1. */
export function parsePercent(flag: string): (value: string) => number {
  return (value) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
    if (!m) throw new InvalidArgumentError(`${flag} must be a percentage (got "${value}"). Example: ${flag} 10`);
    return Number(m[1]) / 100;
  };
}

/** 'quality.exactMatch=5,memory.peakBytes=2' -> { 'quality.exactMatch': 0.05, ... }; ids are checked by compareRuns. */
export function parseMetricThresholds(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const out = { ...previous };
  for (const pair of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`--metric-threshold "${pair}" is not metric=percent. Example: --metric-threshold quality.exactMatch=5`);
    out[pair.slice(0, eq).trim()] = parsePercent(`--metric-threshold ${pair.slice(0, eq).trim()}`)(pair.slice(eq + 1));
  }
  return out;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1e3, mb: 1e6, gb: 1e9 };

/** '512MiB', '2 GiB', '1e9' (bytes) -> bytes. */
export function parseBytes(flag: string): (value: string) => number {
  return (value) => {
    const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)\s*$/i.exec(value);
    const unit = SIZE_UNITS[(m?.[2] || 'b').toLowerCase()];
    if (!m || unit === undefined) throw new InvalidArgumentError(`${flag} must be a size such as 512MiB, 2GiB or 1000000 (bytes) (got "${value}")`);
    return Number(m[1]) * unit;
  };
}

interface CompareFlags {
  threshold: number;
  metricThreshold?: Record<string, number>;
  metrics?: string[];
  strict?: boolean;
  out?: string;
}

function runFolder(arg: string, which: string): string {
  const dir = resolve(arg);
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new UsageError(`${which} ${dir} holds no run (no manifest.json). Fix: give two run folders, e.g. bench compare results/<baseline run> results/<new run>`);
  }
  return dir;
}

async function compareCommand(baseline: string, run: string, flags: CompareFlags): Promise<number> {
  const options: CompareOptions = {
    threshold: flags.threshold,
    strict: flags.strict === true,
    // Metric ids are checked by compareRuns (a UsageError naming the unknown one).
    ...(flags.metricThreshold ? { metricThresholds: flags.metricThreshold as CompareOptions['metricThresholds'] } : {}),
    ...(flags.metrics ? { metrics: flags.metrics } : {}),
  };
  const { comparison, files } = await writeComparison(runFolder(baseline, 'baseline'), runFolder(run, 'run'), options,
    flags.out !== undefined ? resolve(flags.out) : undefined);
  const by = (s: string) => comparison.metrics.filter((m) => m.status === s).length;
  const lost = comparison.rows.filter((r) => r.status === 'lost').length;
  console.log(`compare: ${by('regressed')} regressed, ${lost} row(s) lost, ${by('improved')} improved, ${by('not-separable')} beyond the threshold but not separable, `
    + `${by('within-threshold')} within the threshold (${comparison.metrics.length} values, ${comparison.rows.length} rows)`);
  for (const f of files) console.log(`compare: ${f}`);
  return comparison.regressions > 0 ? 1 : 0;
}

/** Adds `bench compare` to the program. */
export function registerCompareCommand(program: Command, setExit: (code: number) => void): void {
  program.command('compare').description('compare a run with a baseline run: per metric the ratio, and exit 1 on a regression beyond the threshold')
    .argument('<baseline>', 'baseline run folder')
    .argument('<run>', 'run folder to check')
    .option('--threshold <percent>', 'relative change in the worse direction that counts as a regression', parsePercent('--threshold'), DEFAULT_THRESHOLD)
    .option('--metric-threshold <list>', 'per-metric thresholds, e.g. quality.exactMatch=5,train.tokensPerSec=25 (repeatable)', parseMetricThresholds)
    .option('--metrics <list>', 'judge only these metric ids or prefixes, e.g. quality.,memory.peakBytes', (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .option('--strict', 'the threshold alone decides, even where the 95% intervals over seeds overlap')
    .option('--out <dir>', 'where to write compare.md and compare.html (default: the run folder)')
    .action(async (baseline: string, run: string, flags: CompareFlags) => setExit(await compareCommand(baseline, run, flags)));
}
