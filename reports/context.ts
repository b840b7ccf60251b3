// What a report page is rendered from, and the shape of one of its sections. Apart from html.ts so
// that the modules that render sections (verdict.ts, chart-sections.ts) and the page that lists them
// depend on these types, not on each other.
import type { ChartView } from './charts.js';
import type { ClaimResult } from './ledger.js';
import type { LoadedRun } from './load.js';
import type { Recommendation } from './recommend.js';
import type { SuiteInfo } from './suite-info.js';
import type { GroupSummary } from './summary.js';

/** Everything a page is rendered from: the run, its summaries, and the views derived from them once. */
export interface ReportContext {
  readonly run: LoadedRun;
  readonly groups: readonly GroupSummary[];
  /** The run's suites in page order, as their results describe them. */
  readonly suites: readonly SuiteInfo[];
  /** Chart views of every suite (charts.ts), the same the PNG files draw. */
  readonly charts: readonly ChartView[];
  /** The claims ledger (ledger.ts). */
  readonly ledger: readonly ClaimResult[];
  /** One recommendation per suite (recommend.ts). */
  readonly recommendations: readonly Recommendation[];
}

export interface ReportSection {
  /** Anchor id, unique in the page. */
  readonly id: string;
  /** Heading and table-of-contents entry. */
  readonly title: string;
  /** The section's body as HTML (all text escaped), or null to leave the section out. */
  render(ctx: ReportContext): string | null;
  /**
   * Inline scripts the section needs. Any script makes the page's Content-Security-Policy allow
   * inline scripts; without one, none may run.
   */
  scripts?(ctx: ReportContext): readonly string[];
  /** Charts the section's body holds canvases for: the page adds chart.js and draws them. */
  charts?(ctx: ReportContext): readonly ChartView[];
}
