// Rebuilds a run's reports from its JSON (`bench report <run>`): results.csv, summary.csv and
// report.html in the run folder. Everything is rendered before anything is written, and each file
// is replaced atomically, so a failure never leaves a half-written or mismatched report.
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resultsCsv, summaryCsv } from './csv.js';
import { renderReport } from './html.js';
import { loadRun } from './load.js';
import { summarizeRun } from './summary.js';

export { loadRun } from './load.js';
export type { LoadedRun } from './load.js';
export { bestOf, summarizeRun, summarizeValues } from './summary.js';
export type { BestResult, GroupSummary, MetricSummary, Separation } from './summary.js';
export { metricHeader, plainDecimal, resultsCsv, summaryCsv } from './csv.js';
export { escapeHtml, formatBytes, formatMetric, formatNumber, REPORT_SECTIONS, renderReport } from './html.js';
export type { ReportContext, ReportSection } from './html.js';

/** Writes `content` to `file` via `file.tmp-<pid>` and a rename, so readers see the old or the new file. */
async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Loads the run in `runDir` and (re)writes its reports there; returns the paths written. */
export async function writeReports(runDir: string): Promise<{ files: string[] }> {
  const run = await loadRun(runDir);
  const groups = summarizeRun(run.cells, run.manifest);
  const outputs: Array<readonly [string, string]> = [
    ['results.csv', resultsCsv(run.cells)],
    ['summary.csv', summaryCsv(groups)],
    ['report.html', renderReport({ run, groups })],
  ];
  const files: string[] = [];
  for (const [name, content] of outputs) {
    const file = join(runDir, name);
    await writeAtomic(file, content);
    files.push(file);
  }
  return { files };
}
