// What the report reads about each suite from its results: the task type, the headline metric its
// verdicts, recommendation and charts rank on, and the floor a choice task must clear. Results
// written before suites declared these read as knowledge-qa was then: ranked on exact match.
import { METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import type { SuiteInputs } from '../harness/results.js';
import type { GroupSummary, MetricSummary } from './summary.js';

/** A metric with the direction the suite declares for it. */
export type SuiteMetric = SuiteInputs['metrics'][number];

export interface SuiteInfo {
  readonly name: string;
  /** 'generate', 'choice', or a newer type; null where the results do not record one. */
  readonly taskType: string | null;
  /** The suite's own metric to rank on, its first declared one. */
  readonly headline: SuiteMetric;
  /** Every metric the suite declares, headline first. */
  readonly metrics: readonly SuiteMetric[];
  /** Documents RAG indexes; null where not recorded. */
  readonly documents: number | null;
  /** The suite's description and use case where its results record them (dataset text: escape). */
  readonly description: string | null;
  readonly useCase: string | null;
}

/** What results without a declared headline were ranked on. */
const FALLBACK_HEADLINE: SuiteMetric = { id: 'quality.exactMatch', higherIsBetter: true };

/** A recorded metric this adaptbench can name (a newer one's results may hold others). */
function isKnown(m: unknown): m is SuiteMetric {
  if (typeof m !== 'object' || m === null || !('id' in m) || !('higherIsBetter' in m)) return false;
  return typeof m.id === 'string' && Object.hasOwn(METRICS, m.id) && typeof m.higherIsBetter === 'boolean';
}

/** A text field the suite's results may record beyond the typed ones. */
function recordedText(s: SuiteInputs | undefined, key: string): string | null {
  const fields: Readonly<Record<string, unknown>> = { ...s };
  const v = fields[key];
  return typeof v === 'string' ? v : null;
}

/** The suite as its first completed cell that records it describes it. */
export function suiteInfo(name: string, groups: readonly GroupSummary[]): SuiteInfo {
  // Old results have no inputs.suite at all, whatever the type says.
  const recorded = groups.filter((g) => g.suite === name).flatMap((g) => g.completed)
    .map((c) => c.inputs?.suite as SuiteInputs | undefined).find((s) => s !== undefined);
  const metrics = Array.isArray(recorded?.metrics) ? recorded.metrics.filter(isKnown) : [];
  const headline = recorded && isKnown(recorded.headline) ? recorded.headline : metrics[0] ?? FALLBACK_HEADLINE;
  return {
    name,
    taskType: typeof recorded?.taskType === 'string' ? recorded.taskType : null,
    headline,
    metrics: metrics.some((m) => m.id === headline.id) ? metrics : [headline, ...metrics],
    documents: typeof recorded?.documents === 'number' ? recorded.documents : null,
    description: recordedText(recorded, 'description'),
    useCase: recordedText(recorded, 'useCase'),
  };
}

/** The run's suites in order: the manifest's, then any only the results name. */
export function suitesOf(manifestSuites: readonly string[], groups: readonly GroupSummary[]): string[] {
  const suites = [...manifestSuites];
  for (const g of groups) if (!suites.includes(g.suite)) suites.push(g.suite);
  return suites;
}

/** The floor a metric must clear to mean anything: accuracy against always answering the most frequent label. */
export const FLOORS: Readonly<Partial<Record<MetricId, MetricId>>> = { 'quality.accuracy': 'quality.majorityClassRate' };

export interface FloorCheck {
  readonly floor: MetricId;
  readonly summary: MetricSummary;
  /** Separably better than the floor; false where its interval reaches it or lies beyond; null where it has no interval. */
  readonly clears: boolean | null;
}

/** How a row's `metric` stands against its floor in the same row; null where the metric has none or a side is missing. */
export function againstFloor(g: GroupSummary, metric: SuiteMetric): FloorCheck | null {
  const floor = FLOORS[metric.id];
  const value = g.metrics[metric.id];
  const summary = floor ? g.metrics[floor] : undefined;
  if (!floor || !value || !summary) return null;
  // The floor is a property of the test set, not an estimate: its spread over seeds, if any, is the set's.
  const [low, high] = summary.interval ? [summary.interval.low, summary.interval.high] : [summary.mean, summary.mean];
  const clears = value.interval === null ? null
    : metric.higherIsBetter ? value.interval.low > high : value.interval.high < low;
  return { floor, summary, clears };
}
