// The recommendation for a suite's use case, derived from the measured numbers by one stated rule,
// never written by hand: the best on the suite's headline metric (within a memory budget, where one is set); rows whose
// interval overlaps the best are tied with it; a tie with the base goes to the base, any other to the
// cheapest row. A pure function of
// the summaries, so tests can feed it crafted numbers and see the choice move.
import { METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import { suiteInfo } from './suite-info.js';
import type { SuiteMetric } from './suite-info.js';
import type { GroupSummary, MetricSummary } from './summary.js';

/** What is minimised among the tied rows: the memory an approach needs at its heaviest phase. */
export const COST_METRIC: MetricId = 'memory.peakBytes';

export interface RecommendOptions {
  /** Rows whose mean peak engine memory is above this many bytes are not candidates; null: no budget. */
  readonly memoryBudgetBytes?: number | null;
}

/** A row that reports the suite's headline metric, with what the rule reads of it. */
export interface Candidate {
  readonly label: string;
  readonly approach: string;
  readonly quality: MetricSummary;
  /** Mean peak memory, or undefined where the row did not measure it (it then sorts last among the tied). */
  readonly cost: MetricSummary | undefined;
  readonly trainable: number | undefined;
}

interface RecommendationCommon {
  readonly suite: string;
  /** The suite's headline metric: what `quality` of a candidate is. */
  readonly headline: SuiteMetric;
  /** The rule, in words, as the report states it next to the result. */
  readonly rule: string;
  readonly memoryBudgetBytes: number | null;
}

export type Recommendation =
  | (RecommendationCommon & {
    readonly state: 'chosen';
    /** The recommended row's label. */
    readonly choice: string;
    /** The row with the best mean headline among the candidates. */
    readonly leader: string;
    /** Candidates not separable from the leader (its own label first), best mean first. */
    readonly tied: readonly string[];
    /** Why this row: the leader separated from every other candidate, or the cheapest of a tie. */
    readonly reason: 'separated-best' | 'cheapest-of-tie';
    /** True where the chosen row is the unadapted base: nothing measured here beats not adapting. */
    readonly isBase: boolean;
    /** Rows left out for exceeding the memory budget. */
    readonly overBudget: readonly string[];
    readonly candidates: readonly Candidate[];
  })
  | (RecommendationCommon & {
    readonly state: 'none';
    /** Why nothing can be recommended (no quality measured, or nothing fits the budget). */
    readonly why: string;
  });

const overlaps = (a: MetricSummary, b: MetricSummary): boolean =>
  // Without an interval on either side the two cannot be told apart: tied.
  !a.interval || !b.interval || (a.interval.low <= b.interval.high && b.interval.low <= a.interval.high);

function ruleText(headline: SuiteMetric, budget: number | null): string {
  const q = METRICS[headline.id].label.toLowerCase();
  return `Among the rows${budget === null ? '' : ` whose mean peak engine memory fits the budget of ${budget.toLocaleString('en-US')} bytes`}, `
    + `take the one with the ${headline.higherIsBetter ? 'highest' : 'lowest'} mean ${q} (the suite's headline metric). Every row whose 95% interval overlaps it is tied with it (not separable). `
    + 'If the unadapted base is among them, recommend it: no approach is separably better than not adapting. Otherwise '
    + 'recommend the tied row with the lowest mean peak engine memory (its heaviest phase: training for approaches that train), '
    + 'then the fewest trainable parameters.';
}

/** The recommendation for one suite's rows. */
export function recommend(suite: string, groups: readonly GroupSummary[], options: RecommendOptions = {}): Recommendation {
  const budget = options.memoryBudgetBytes ?? null;
  const rows = groups.filter((g) => g.suite === suite);
  const { headline } = suiteInfo(suite, rows);
  const common = { suite, headline, rule: ruleText(headline, budget), memoryBudgetBytes: budget };
  const measured: Candidate[] = rows.flatMap((g) => {
    const quality = g.metrics[headline.id];
    return quality ? [{ label: g.label, approach: g.approach, quality, cost: g.metrics[COST_METRIC], trainable: g.metrics['params.trainable']?.mean }] : [];
  });
  if (measured.length === 0) {
    return { ...common, state: 'none', why: rows.length === 0 ? 'no row of this suite has a completed cell' : `no row reports ${METRICS[headline.id].label}` };
  }
  // A row without a memory figure cannot be shown to fit a budget: only a budget excludes it.
  const fits = (c: Candidate) => budget === null || (c.cost !== undefined && c.cost.mean <= budget);
  const candidates = measured.filter(fits);
  const overBudget = measured.filter((c) => !fits(c)).map((c) => c.label);
  if (candidates.length === 0) {
    return { ...common, state: 'none', why: `no row fits the memory budget (over it: ${overBudget.join(', ')})` };
  }
  const better = headline.higherIsBetter ? 1 : -1;
  const byQuality = [...candidates].sort((a, b) => better * (b.quality.mean - a.quality.mean));
  const leader = byQuality[0]!;
  const tied = byQuality.filter((c) => c === leader || overlaps(c.quality, leader.quality));
  // Adapting costs more than memory (training, serving, upkeep): a tie with the base goes to the base,
  // not to whichever row happens to be a few bytes lighter.
  const cheapest = tied.find((c) => c.approach === 'base') ?? [...tied].sort((a, b) => (a.cost?.mean ?? Infinity) - (b.cost?.mean ?? Infinity)
    || (a.trainable ?? Infinity) - (b.trainable ?? Infinity)
    || better * (b.quality.mean - a.quality.mean))[0]!;
  return {
    ...common,
    state: 'chosen',
    choice: cheapest.label,
    leader: leader.label,
    tied: tied.map((c) => c.label),
    reason: tied.length === 1 ? 'separated-best' : 'cheapest-of-tie',
    isBase: cheapest.approach === 'base',
    overBudget,
    candidates: byQuality,
  };
}

/** One recommendation per suite, in the given suite order. */
export function recommendAll(suites: readonly string[], groups: readonly GroupSummary[], options: RecommendOptions = {}): Recommendation[] {
  return suites.filter((s) => groups.some((g) => g.suite === s)).map((s) => recommend(s, groups, options));
}
