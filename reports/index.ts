// Rebuilds a run's reports from its JSON (`bench report <run>`): results.csv, summary.csv, data-dictionary.csv, decision.csv,
// report.html and charts/<suite>-<view>.png in the run folder; and writes a comparison of two runs
// (`bench compare`). The CSV and HTML are rendered before either is written, and each file is
// replaced atomically, so a failure never leaves a half-written or mismatched report.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { drawnChartsOf } from './chart-sections.js';
import { buildCharts } from './charts.js';
import { compareRuns } from './compare.js';
import type { CompareOptions, Comparison } from './compare.js';
import { comparisonHtml, comparisonMarkdown } from './compare-report.js';
import { dataDictionaryCsv, resultsCsv, summaryCsv } from './csv.js';
import { decisionCsv, decisionMap, decisionMarkdown } from './decision.js';
import type { ReportContext } from './context.js';
import { renderReport } from './html.js';
import { evaluateLedger } from './ledger.js';
import { loadRun } from './load.js';
import type { LoadedRun } from './load.js';
import { renderChartPngs } from './png.js';
import { recommendAll } from './recommend.js';
import type { RecommendOptions } from './recommend.js';
import { suiteInfo, suitesOf } from './suite-info.js';
import { summarizeRun } from './summary.js';
import { atSizeOutcomes, loadModelSize } from './model-size.js';

export { loadRun } from './load.js';
export type { LoadedRun } from './load.js';
export { bestOf, summarizeRun, summarizeValues } from './summary.js';
export type { BestResult, GroupSummary, MetricSummary, Separation } from './summary.js';
export { dataDictionaryCsv, metricColumn, plainDecimal, resultsCsv, summaryCsv } from './csv.js';
export { escapeHtml, formatBytes, formatMetric, formatNumber } from './format.js';
export { REPORT_SECTIONS, renderReport } from './html.js';
export type { ReportContext, ReportSection } from './context.js';
export { suiteInfo } from './suite-info.js';
export type { SuiteInfo, SuiteMetric } from './suite-info.js';
export { buildCharts, CHART_KINDS, paretoFront, rankSweeps } from './charts.js';
export type { ChartKind, ChartView } from './charts.js';
export { CLAIMS, evaluateLedger, verdictCounts } from './ledger.js';
export type { ClaimId, ClaimResult, Verdict } from './ledger.js';
export { recommend, recommendAll } from './recommend.js';
export { decisionCsv, decisionHtml, decisionMap, decisionMarkdown } from './decision.js';
export type { DecisionCell, DecisionMap, DecisionRow } from './decision.js';
export type { Recommendation, RecommendOptions } from './recommend.js';
export { compareRuns, DEFAULT_THRESHOLD } from './compare.js';
export type { CompareOptions, Comparison, MetricComparison, MetricStatus } from './compare.js';
export { comparisonHtml, comparisonMarkdown } from './compare-report.js';

/** Folder of a run's PNG charts, inside the run folder. */
export const CHARTS_DIR = 'charts';

/** Writes `content` to `file` via `file.tmp-<pid>` and a rename, so readers see the old or the new file. */
async function writeAtomic(file: string, content: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The summaries of a loaded run and every view derived from them, computed once for the page and the PNGs. */
export function buildReportContext(run: LoadedRun, options: RecommendOptions = {}): ReportContext {
  const groups = summarizeRun(run.cells, run.manifest);
  const suites = suitesOf(run.manifest.suites, groups);
  return {
    run,
    groups,
    suites: suites.map((s) => suiteInfo(s, groups)),
    charts: buildCharts(suites, groups),
    ledger: evaluateLedger(suites, groups, atSizeOutcomes(loadModelSize(run.dir))),
    recommendations: recommendAll(suites, groups, options),
  };
}

/** Loads the run in `runDir` and (re)writes its reports there; returns the paths written. */
export async function writeReports(runDir: string, options: RecommendOptions = {}): Promise<{ files: string[] }> {
  const run = await loadRun(runDir);
  const ctx = buildReportContext(run, options);
  const write = async (outputs: ReadonlyArray<readonly [string, string | Buffer]>, files: string[]) => {
    for (const [name, content] of outputs) {
      const file = join(runDir, name);
      await writeAtomic(file, content);
      files.push(file);
    }
  };
  const files: string[] = [];
  await write([
    ['results.csv', resultsCsv(run.cells)],
    ['summary.csv', summaryCsv(ctx.groups)],
    ['data-dictionary.csv', dataDictionaryCsv()],
    ['decision.csv', decisionCsv(decisionMap(ctx))],
    ['report.html', renderReport(ctx)],
  ], files);
  // The PNGs need the native canvas module; the page does not use them, so it is written first and a
  // missing canvas (a DependencyError naming the fix) costs only the PNGs.
  const pngs = await renderChartPngs(drawnChartsOf(ctx.charts));
  if (pngs.length) await mkdir(join(runDir, CHARTS_DIR), { recursive: true });
  await write(pngs.map((p) => [join(CHARTS_DIR, p.name), p.png] as const), files);
  return { files };
}

/**
 * Compares two run folders and writes compare.md and compare.html into `outDir` (default: the run's
 * folder). compare.md ends with the run's decision map, so a CI job summary shows it too.
 */
export async function writeComparison(baselineDir: string, runDir: string, options: CompareOptions, outDir = runDir):
  Promise<{ comparison: Comparison; files: string[]; markdown: string }> {
  const run = await loadRun(runDir);
  const comparison = compareRuns(await loadRun(baselineDir), run, options);
  const markdown = `${comparisonMarkdown(comparison)}\n${decisionMarkdown(decisionMap(buildReportContext(run)))}`;
  const html = comparisonHtml(comparison);
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  for (const [name, content] of [['compare.md', markdown], ['compare.html', html]] as const) {
    const file = join(outDir, name);
    await writeAtomic(file, content);
    files.push(file);
  }
  return { comparison, files, markdown };
}
