// The scores of a suite whose facts changed after adaptation (suite.json `update`): the test
// questions on changed facts (those with a `previous` answer) and on the rest, scored by the task
// type's own matching, and the cost of the approach's update. One definition for every approach.
import type { UpdateOutcome } from '../adapters/types.js';
import { PREVIOUS_FIELD, type Example } from '../suites/types.js';
import type { TaskSpec, TaskType } from '../tasks/types.js';
import type { Interval, MetricId } from './metrics/definitions.js';
import { wilsonInterval } from './metrics/stats.js';

export interface FreshFactScores {
  readonly metrics: Partial<Record<MetricId, number | null>>;
  readonly intervals: Partial<Record<MetricId, Interval>>;
  readonly notes: Partial<Record<MetricId, string>>;
  readonly inputs: Readonly<Record<string, unknown>>;
}

const share = (hits: number, n: number): { value: number | null; interval?: Interval } =>
  n === 0 ? { value: null } : { value: hits / n, interval: { ...wilsonInterval(hits, n), method: 'Wilson score, 95%, over questions' } };

/**
 * New-fact accuracy, stale rate and unchanged-fact accuracy over `examples` answered `predictions`
 * (in order), and the update's cost; `update` is absent where the approach adapts nothing (base).
 */
export function freshFactScores(task: TaskType, spec: TaskSpec, examples: readonly Example[], predictions: readonly string[], update: UpdateOutcome | undefined, approach: string): FreshFactScores {
  let changed = 0, fresh = 0, stale = 0, unchanged = 0, kept = 0;
  examples.forEach((ex, i) => {
    const p = predictions[i]!;
    const correct = (ex.answers ?? (ex.label !== undefined ? [ex.label] : [])).some((a) => task.matches(p, a, spec));
    const previous = ex.fields[PREVIOUS_FIELD];
    if (previous === undefined) {
      unchanged += 1;
      if (correct) kept += 1;
      return;
    }
    changed += 1;
    if (correct) fresh += 1;
    if (task.matches(p, previous, spec)) stale += 1;
  });
  const rows = { 'fresh.newFactAccuracy': share(fresh, changed), 'fresh.staleRate': share(stale, changed), 'fresh.unchangedAccuracy': share(kept, unchanged) } as const;
  const metrics: Partial<Record<MetricId, number | null>> = {};
  const intervals: Partial<Record<MetricId, Interval>> = {};
  for (const [id, s] of Object.entries(rows) as Array<[MetricId, ReturnType<typeof share>]>) {
    metrics[id] = s.value;
    if (s.interval) intervals[id] = s.interval;
  }
  const nothing = `${approach} adapts nothing, so there is nothing to update: it answers from the base weights`;
  const notes: Partial<Record<MetricId, string>> = {
    'fresh.newFactAccuracy': `${fresh} of ${changed} test questions on changed facts answered with the new value`,
    'fresh.staleRate': `${stale} of ${changed} test questions on changed facts answered with the old value`,
    'fresh.unchangedAccuracy': `${kept} of ${unchanged} test questions on facts the update left alone`,
    ...(update ? update.notes : { 'update.wallSec': nothing, 'update.tokens': nothing, 'update.peakBytes': nothing, 'update.documents': nothing, 'update.indexAgreement': nothing }),
  };
  if (update) {
    Object.assign(metrics, {
      'update.wallSec': update.wallSec, 'update.tokens': update.tokens, 'update.peakBytes': update.peakBytes,
      'update.documents': update.documents, 'update.indexAgreement': update.indexAgreement,
    });
  }
  return { metrics, intervals, notes, inputs: { update: { how: update?.how ?? nothing, changedQuestions: changed, unchangedQuestions: unchanged, ...(update?.inputs['update'] as object | undefined) } } };
}
