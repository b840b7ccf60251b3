// The claims ledger: what articles comparing fine-tuning, LoRA and RAG say, checked against this
// run's numbers. Each claim has one stated rule over the 95% intervals over seeds: "held" only where
// the intervals separate in the claimed direction, "not held" where they separate the other way,
// "not separable" where they overlap, and "not measured on this run" where a row or metric is
// missing. Pure functions of the summaries; tests feed them crafted results.
import { METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import { intervalWithBounds, QUALITY_METRIC } from './charts.js';
import { formatSummary, formatWithUnit } from './format.js';
import type { GroupSummary, MetricSummary } from './summary.js';

export type Verdict = 'held' | 'not-held' | 'not-separable' | 'not-measured';

export const VERDICT_TEXT: Readonly<Record<Verdict, string>> = {
  held: 'held',
  'not-held': 'not held',
  'not-separable': 'not separable',
  'not-measured': 'not measured on this run',
};

/** One number behind a verdict. */
export interface Evidence {
  readonly suite: string;
  readonly row: string;
  readonly metric: MetricId;
  readonly summary: MetricSummary;
}

export interface ClaimResult {
  readonly id: ClaimId;
  /** The claim as articles make it. */
  readonly claim: string;
  /** Where it is made. */
  readonly source: string;
  /** How the verdict is decided, stated next to it in the report. */
  readonly rule: string;
  /** Suite whose numbers decided it; null where it was not measured on any. */
  readonly suite: string | null;
  readonly verdict: Verdict;
  /** One sentence with the numbers. */
  readonly finding: string;
  readonly evidence: readonly Evidence[];
}

/** Non-inferiority margin for "comparable" quality, in exact-match points. */
export const COMPARABLE_MARGIN = 0.05;
/** "Far fewer" trainable parameters: at most this share of full fine-tuning's. */
export const FAR_FEWER_SHARE = 0.1;
/** "No added latency": merged per-token latency within this factor of the base's. */
export const LATENCY_TOLERANCE = 1.05;
/** "About fourfold": the quantised base must be at least this many times smaller. */
export const FOURFOLD_AT_LEAST = 3.5;

/** Where interval a lies against interval b: entirely below, entirely above, or overlapping. */
type Side = 'below' | 'above' | 'overlap' | 'unknown';

function side(a: readonly [number, number] | null, b: readonly [number, number] | null): Side {
  if (!a || !b) return 'unknown';
  if (a[1] < b[0]) return 'below';
  if (a[0] > b[1]) return 'above';
  return 'overlap';
}

const span = (s: MetricSummary): readonly [number, number] | null => (s.interval ? [s.interval.low, s.interval.high] : null);

/** Rows of one suite, with the representative row of an approach: the one run with defaults (label = name), else the first. */
class SuiteRows {
  readonly suite: string;
  private readonly groups: readonly GroupSummary[];

  constructor(suite: string, groups: readonly GroupSummary[]) {
    this.suite = suite;
    this.groups = groups;
  }

  row(approach: string): GroupSummary | undefined {
    const rows = this.groups.filter((g) => g.approach === approach && g.completed.length > 0);
    return rows.find((g) => g.label === approach) ?? rows[0];
  }

  /** The metric's summary in the approach's row, or undefined. */
  get(approach: string, id: MetricId): { group: GroupSummary; summary: MetricSummary } | undefined {
    const group = this.row(approach);
    const summary = group?.metrics[id];
    return group && summary ? { group, summary } : undefined;
  }
}

type Outcome = { verdict: Exclude<Verdict, 'not-measured'>; finding: string; evidence: Evidence[] } | { missing: string };

interface ClaimDefinition {
  readonly claim: string;
  readonly source: string;
  readonly rule: string;
  /** Suites the claim can be checked on; null: any suite with the rows. */
  readonly suites: readonly string[] | null;
  /** Why the claim needs a suite the run lacks, when `suites` names some. */
  readonly needs?: string;
  evaluate(rows: SuiteRows): Outcome;
}

const ev = (rows: SuiteRows, x: { group: GroupSummary; summary: MetricSummary }, metric: MetricId): Evidence =>
  ({ suite: rows.suite, row: x.group.label, metric, summary: x.summary });

const says = (x: { group: GroupSummary; summary: MetricSummary }, id: MetricId): string => `${x.group.label} ${formatSummary(id, x.summary)}`;

function need(rows: SuiteRows, approach: string, id: MetricId): { group: GroupSummary; summary: MetricSummary } | string {
  const x = rows.get(approach, id);
  if (x) return x;
  return rows.row(approach) ? `the ${rows.row(approach)!.label} row reports no ${METRICS[id].label}` : `no ${approach} row in ${rows.suite}`;
}

/** A two-row comparison where the claim says `a` is lower (or higher) than `b` on `id`. */
function directional(rows: SuiteRows, a: string, b: string, id: MetricId, claimedLower: boolean, what: string): Outcome {
  const x = need(rows, a, id);
  const y = need(rows, b, id);
  if (typeof x === 'string') return { missing: x };
  if (typeof y === 'string') return { missing: y };
  const s = side(span(x.summary), span(y.summary));
  const numbers = `${says(x, id)} vs ${says(y, id)}`;
  const evidence = [ev(rows, x, id), ev(rows, y, id)];
  if (s === 'unknown') return { verdict: 'not-separable', finding: `${numbers}: a row has no interval (one seed without a within-cell interval), so no side can be told.`, evidence };
  const claimed = claimedLower ? 'below' : 'above';
  if (s === claimed) return { verdict: 'held', finding: `${numbers}: ${what}, and the intervals separate.`, evidence };
  if (s === 'overlap') return { verdict: 'not-separable', finding: `${numbers}: the intervals overlap.`, evidence };
  return { verdict: 'not-held', finding: `${numbers}: separated the other way.`, evidence };
}

export const CLAIMS = {
  'lora-comparable': {
    claim: 'LoRA performs comparably to full fine-tuning.',
    source: 'Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"; most LoRA-vs-fine-tuning articles',
    rule: `Exact match, non-inferiority with a margin of ${COMPARABLE_MARGIN}: held where LoRA's interval low is at least full fine-tuning's `
      + `interval high minus ${COMPARABLE_MARGIN} (even at the edges of both intervals LoRA is at most ${COMPARABLE_MARGIN} behind); `
      + 'not held where LoRA\'s interval lies entirely below full fine-tuning\'s; not separable otherwise, and wherever full '
      + 'fine-tuning is not separably better than the base (nothing learned to be comparable to).',
    suites: null,
    evaluate(rows: SuiteRows): Outcome {
      const x = need(rows, 'lora', QUALITY_METRIC);
      const y = need(rows, 'full-ft', QUALITY_METRIC);
      if (typeof x === 'string') return { missing: x };
      if (typeof y === 'string') return { missing: y };
      const evidence = [ev(rows, x, QUALITY_METRIC), ev(rows, y, QUALITY_METRIC)];
      const numbers = `${says(x, QUALITY_METRIC)} vs ${says(y, QUALITY_METRIC)}`;
      const a = span(x.summary);
      const b = span(y.summary);
      if (!a || !b) return { verdict: 'not-separable', finding: `${numbers}: a row has no interval.`, evidence };
      // Two rows that both learned nothing are "comparable" only vacuously.
      const base = rows.get('base', QUALITY_METRIC);
      if (base) {
        evidence.push(ev(rows, base, QUALITY_METRIC));
        if (side(b, span(base.summary)) !== 'above') {
          return { verdict: 'not-separable', finding: `${numbers}: full fine-tuning is not separably better than ${says(base, QUALITY_METRIC)}, so there is nothing learned to compare.`, evidence };
        }
      }
      if (a[0] >= b[1] - COMPARABLE_MARGIN) return { verdict: 'held', finding: `${numbers}: LoRA's low end is within ${COMPARABLE_MARGIN} of full fine-tuning's high end.`, evidence };
      if (a[1] < b[0]) return { verdict: 'not-held', finding: `${numbers}: LoRA is separably worse.`, evidence };
      return { verdict: 'not-separable', finding: `${numbers}: the intervals are too wide to show LoRA within ${COMPARABLE_MARGIN}.`, evidence };
    },
  },
  'lora-fewer-params': {
    claim: 'LoRA trains far fewer parameters than full fine-tuning.',
    source: 'Hu et al. 2021 (10,000 times fewer for GPT-3 175B)',
    rule: `Exact counts: held where LoRA trains at most ${FAR_FEWER_SHARE * 100}% of the parameters full fine-tuning trains `
      + '(all of the base: the full-ft row, else the base row\'s total); not held otherwise.',
    suites: null,
    evaluate(rows: SuiteRows): Outcome {
      const x = need(rows, 'lora', 'params.trainable');
      if (typeof x === 'string') return { missing: x };
      const full = rows.get('full-ft', 'params.trainable') ?? rows.get('base', 'params.total');
      if (!full) return { missing: `neither a full-ft row nor a base row with ${METRICS['params.total'].label} in ${rows.suite}` };
      const fullId: MetricId = full.group.approach === 'full-ft' ? 'params.trainable' : 'params.total';
      const share = x.summary.mean / full.summary.mean;
      const evidence = [ev(rows, x, 'params.trainable'), ev(rows, full, fullId)];
      const numbers = `${x.group.label} trains ${formatWithUnit('params.trainable', x.summary.mean)}, full fine-tuning ${formatWithUnit(fullId, full.summary.mean)} `
        + `(${(100 * share).toPrecision(3)}%, ${(1 / share).toPrecision(3)} times fewer)`;
      return share <= FAR_FEWER_SHARE
        ? { verdict: 'held', finding: `${numbers}.`, evidence }
        : { verdict: 'not-held', finding: `${numbers}: more than ${FAR_FEWER_SHARE * 100}%.`, evidence };
    },
  },
  'lora-less-memory': {
    claim: 'LoRA needs less memory to train than full fine-tuning.',
    source: 'Hu et al. 2021 (3 times less GPU memory for GPT-3 175B)',
    rule: 'Peak engine memory over a training step: held where LoRA\'s interval lies entirely below full fine-tuning\'s; '
      + 'not held where entirely above; not separable where they overlap.',
    suites: null,
    evaluate(rows: SuiteRows): Outcome {
      const out = directional(rows, 'lora', 'full-ft', 'memory.peakBytes', true, 'LoRA needs less');
      if ('missing' in out) return out;
      const parts = (['memory.gradientsBytes', 'memory.optimizerBytes'] as const)
        .flatMap((id) => ['lora', 'full-ft'].map((a) => rows.get(a, id)).filter((x) => x !== undefined).map((x) => ev(rows, x, id)));
      return { ...out, evidence: [...out.evidence, ...parts] };
    },
  },
  'merged-no-latency': {
    claim: 'A merged LoRA adds no inference latency.',
    source: 'Hu et al. 2021 ("no additional inference latency" once B·A is merged into W)',
    rule: `Per-token decode latency of the merged model over the base's: held where its 95% interval lies entirely below ${LATENCY_TOLERANCE} `
      + `(at most ${Math.round((LATENCY_TOLERANCE - 1) * 100)}% slower); not held where entirely above ${LATENCY_TOLERANCE}; not separable otherwise. `
      + 'Interval over seeds, or with one seed the cell\'s bootstrap interval. The unmerged ratio is shown for contrast.',
    suites: null,
    evaluate(rows: SuiteRows): Outcome {
      const x = need(rows, 'lora', 'latency.tokenRatioToBase');
      if (typeof x === 'string') return { missing: x };
      const iv = intervalWithBounds(x.group, 'latency.tokenRatioToBase', 'latency.tokenRatioToBaseLow', 'latency.tokenRatioToBaseHigh');
      const evidence = [ev(rows, x, 'latency.tokenRatioToBase')];
      const unmerged = rows.get('lora', 'latency.unmergedTokenRatioToBase');
      if (unmerged) evidence.push(ev(rows, unmerged, 'latency.unmergedTokenRatioToBase'));
      const ivText = iv ? ` [${iv[0].toPrecision(3)}, ${iv[1].toPrecision(3)}]` : '';
      const numbers = `${x.group.label} merged: ${x.summary.mean.toPrecision(3)}${ivText} times the base's per-token latency`
        + `${unmerged ? `; unmerged ${unmerged.summary.mean.toPrecision(3)}` : ''}`;
      if (!iv) return { verdict: 'not-separable', finding: `${numbers}: no interval.`, evidence };
      if (iv[1] < LATENCY_TOLERANCE) return { verdict: 'held', finding: `${numbers}: below ${LATENCY_TOLERANCE}.`, evidence };
      if (iv[0] > LATENCY_TOLERANCE) return { verdict: 'not-held', finding: `${numbers}: above ${LATENCY_TOLERANCE}.`, evidence };
      return { verdict: 'not-separable', finding: `${numbers}: the interval straddles ${LATENCY_TOLERANCE}.`, evidence };
    },
  },
  'quantized-fourfold': {
    claim: 'Quantising the base to 4 bits cuts its memory about fourfold.',
    source: 'Dettmers et al. 2023, "QLoRA" (4-bit NormalFloat against a 16-bit base)',
    rule: `Stored weight bytes of the LoRA model (fp32 base) over the QLoRA model's (NF4 base), same adapters: held where the cut is at least `
      + `${FOURFOLD_AT_LEAST}-fold; not held where smaller. Our base is fp32, so the quantised matrices alone shrink 32/4.127 = 7.75-fold; `
      + 'embeddings, norms and biases stay fp32. Peak training memory is shown beside it: activations do not shrink.',
    suites: null,
    evaluate(rows: SuiteRows): Outcome {
      const x = need(rows, 'lora', 'memory.weightsBytes');
      const y = need(rows, 'qlora', 'memory.weightsBytes');
      if (typeof x === 'string') return { missing: x };
      if (typeof y === 'string') return { missing: y };
      const ratio = x.summary.mean / y.summary.mean;
      const evidence = [ev(rows, x, 'memory.weightsBytes'), ev(rows, y, 'memory.weightsBytes')];
      const bits = rows.get('qlora', 'memory.bitsPerBaseParam');
      if (bits) evidence.push(ev(rows, bits, 'memory.bitsPerBaseParam'));
      const px = rows.get('lora', 'memory.peakBytes');
      const py = rows.get('qlora', 'memory.peakBytes');
      const peak = px && py ? `; peak training memory ${(px.summary.mean / py.summary.mean).toPrecision(3)}-fold (${says(px, 'memory.peakBytes')} vs ${says(py, 'memory.peakBytes')})` : '';
      if (px && py) evidence.push(ev(rows, px, 'memory.peakBytes'), ev(rows, py, 'memory.peakBytes'));
      const numbers = `weights ${says(x, 'memory.weightsBytes')} vs ${says(y, 'memory.weightsBytes')}: ${ratio.toPrecision(3)}-fold`
        + `${bits ? ` (${bits.summary.mean.toPrecision(3)} stored bits per base parameter)` : ''}${peak}`;
      return ratio >= FOURFOLD_AT_LEAST
        ? { verdict: 'held', finding: `${numbers}.`, evidence }
        : { verdict: 'not-held', finding: `${numbers}: less than ${FOURFOLD_AT_LEAST}-fold.`, evidence };
    },
  },
  'lora-forgets-less': {
    claim: 'LoRA forgets less than full fine-tuning.',
    source: 'Biderman et al. 2024, "LoRA Learns Less and Forgets Less"',
    rule: 'Forgetting = held-out Brown cross-entropy after minus before: held where LoRA\'s interval lies entirely below full fine-tuning\'s; '
      + 'not held where entirely above; not separable where they overlap. The exact match of both is shown: the same paper says LoRA learns less.',
    suites: null,
    evaluate(rows: SuiteRows): Outcome {
      const out = directional(rows, 'lora', 'full-ft', 'forgetting.ceDelta', true, 'LoRA forgets less');
      if ('missing' in out) return out;
      const learned = ['lora', 'full-ft'].map((a) => rows.get(a, QUALITY_METRIC)).filter((x) => x !== undefined);
      return {
        ...out,
        finding: `${out.finding}${learned.length === 2 ? ` Learning: ${learned.map((x) => says(x, QUALITY_METRIC)).join(' vs ')}.` : ''}`,
        evidence: [...out.evidence, ...learned.map((x) => ev(rows, x, QUALITY_METRIC))],
      };
    },
  },
  'rag-new-knowledge': {
    claim: 'RAG handles new knowledge without retraining.',
    source: 'Ovadia et al. 2023, "Fine-Tuning or Retrieval? Comparing Knowledge Injection in LLMs"',
    rule: 'On facts the base never saw: held where RAG trains no parameter and its exact-match interval lies entirely above the base\'s; '
      + 'not held where it trains parameters or its interval lies entirely below; not separable where they overlap.',
    suites: ['knowledge-qa', 'fresh-facts'],
    needs: 'a suite of facts the base never saw (knowledge-qa, fresh-facts)',
    evaluate(rows: SuiteRows): Outcome {
      const trained = rows.get('rag', 'params.trainable');
      if (trained && trained.summary.mean > 0) {
        return { verdict: 'not-held', finding: `${says(trained, 'params.trainable')} trainable parameters: it retrains.`, evidence: [ev(rows, trained, 'params.trainable')] };
      }
      const out = directional(rows, 'rag', 'base', QUALITY_METRIC, false, 'RAG answers what the base cannot');
      if ('missing' in out) return out;
      return { ...out, evidence: trained ? [...out.evidence, ev(rows, trained, 'params.trainable')] : out.evidence };
    },
  },
  'topk-corpus-wide': {
    claim: 'Top-k retrieval cannot answer questions that need every document.',
    source: 'articles on the limits of RAG (counts and aggregates over a whole corpus)',
    rule: 'On the corpus-wide suite: held where RAG\'s exact-match interval lies entirely below its interval on knowledge-qa '
      + '(the same retriever answers one-document questions); not held where it lies above; not separable where they overlap.',
    suites: ['corpus-wide'],
    needs: 'the corpus-wide suite (questions that need every document)',
    evaluate(): Outcome {
      // Needs two suites: evaluated in evaluateLedger, which sees them all.
      return { missing: 'needs knowledge-qa as well' };
    },
  },
  'lora-less-memory-at-size': {
    claim: 'LoRA needs less memory to train than full fine-tuning, at GPT-2 small and medium sizes.',
    source: 'Hu et al. 2021 (3 times less GPU memory for GPT-3 175B)',
    rule: 'Peak engine bytes of one training step that `bench cost` measured at the same shape, batch and tokens: held where LoRA\'s is lower than full '
      + 'fine-tuning\'s at every measured size, not held otherwise. Where full fine-tuning could not be measured, its weights + gradients + AdamW state '
      + '(counted exactly: a lower bound of its peak) stand in. Engine bytes are deterministic, so one measurement decides a point.',
    suites: [],
    needs: 'the GPT-2 small/medium points of `bench cost` (run it, then `bench report <run>`)',
    evaluate: (): Outcome => ({ missing: 'decided by `bench cost` measurements, not by a suite' }),
  },
  'quantized-fourfold-at-size': {
    claim: 'Quantising the base to 4 bits cuts its memory about fourfold, at GPT-2 small and medium sizes.',
    source: 'Dettmers et al. 2023, "QLoRA" (4-bit NormalFloat against a 16-bit base)',
    rule: `Stored weight bytes that \`bench cost\` measured, LoRA (fp32 base) over QLoRA (NF4 base): held where at least ${FOURFOLD_AT_LEAST}-fold at every measured size; not held otherwise.`,
    suites: [],
    needs: 'the GPT-2 small/medium points of `bench cost` (run it, then `bench report <run>`)',
    evaluate: (): Outcome => ({ missing: 'decided by `bench cost` measurements, not by a suite' }),
  },
} as const satisfies Record<string, ClaimDefinition>;

/** A verdict decided outside the run's suites (the `bench cost` points), with its numbers. */
export interface OutsideOutcome {
  readonly suite: string;
  readonly verdict: Verdict;
  readonly finding: string;
}

export type ClaimId = keyof typeof CLAIMS;
export const CLAIM_IDS = Object.keys(CLAIMS) as ClaimId[];

function corpusWide(groups: readonly GroupSummary[]): Outcome {
  const wide = new SuiteRows('corpus-wide', groups.filter((g) => g.suite === 'corpus-wide'));
  const single = new SuiteRows('knowledge-qa', groups.filter((g) => g.suite === 'knowledge-qa'));
  const x = need(wide, 'rag', QUALITY_METRIC);
  const y = need(single, 'rag', QUALITY_METRIC);
  if (typeof x === 'string') return { missing: x };
  if (typeof y === 'string') return { missing: y };
  const numbers = `rag on corpus-wide ${formatSummary(QUALITY_METRIC, x.summary)} vs on knowledge-qa ${formatSummary(QUALITY_METRIC, y.summary)}`;
  const evidence = [ev(wide, x, QUALITY_METRIC), ev(single, y, QUALITY_METRIC)];
  const recall = wide.get('rag', 'retrieval.recallAt10');
  if (recall) evidence.push(ev(wide, recall, 'retrieval.recallAt10'));
  const s = side(span(x.summary), span(y.summary));
  if (s === 'below') return { verdict: 'held', finding: `${numbers}: separably lower.`, evidence };
  if (s === 'above') return { verdict: 'not-held', finding: `${numbers}: separably higher.`, evidence };
  return { verdict: 'not-separable', finding: `${numbers}: ${s === 'overlap' ? 'the intervals overlap' : 'a row has no interval'}.`, evidence };
}

/**
 * Every claim, checked on the run's suites in order: the first suite where it is measurable decides it
 * (the others' verdicts follow as their own entries); a claim measurable nowhere is one "not measured" entry.
 */
export function evaluateLedger(suites: readonly string[], groups: readonly GroupSummary[], outside: Partial<Record<ClaimId, OutsideOutcome>> = {}): ClaimResult[] {
  const results: ClaimResult[] = [];
  for (const id of CLAIM_IDS) {
    const def: ClaimDefinition = CLAIMS[id];
    const head = { id, claim: def.claim, source: def.source, rule: def.rule };
    const decided = outside[id];
    if (decided) {
      results.push({ ...head, ...decided, evidence: [] });
      continue;
    }
    const applicable = suites.filter((s) => def.suites === null || def.suites.includes(s));
    const outcomes = id === 'topk-corpus-wide'
      ? (applicable.length ? [{ suite: 'corpus-wide', out: corpusWide(groups) }] : [])
      : applicable.map((suite) => ({ suite, out: def.evaluate(new SuiteRows(suite, groups.filter((g) => g.suite === suite))) }));
    const measured = outcomes.filter((o): o is { suite: string; out: Exclude<Outcome, { missing: string }> } => !('missing' in o.out));
    for (const { suite, out } of measured) results.push({ ...head, suite, verdict: out.verdict, finding: out.finding, evidence: out.evidence });
    if (measured.length === 0) {
      const why = outcomes.length === 0
        ? `needs ${def.needs ?? 'a suite'}, not in this run`
        : outcomes.map((o) => ('missing' in o.out ? o.out.missing : '')).filter((m) => m !== '').join('; ');
      results.push({ ...head, suite: null, verdict: 'not-measured', finding: `Not measured on this run: ${why}.`, evidence: [] });
    }
  }
  return results;
}

/** Count of each verdict, for the report's verdict line. */
export function verdictCounts(results: readonly ClaimResult[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { held: 0, 'not-held': 0, 'not-separable': 0, 'not-measured': 0 };
  for (const r of results) counts[r.verdict] += 1;
  return counts;
}
