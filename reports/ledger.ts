// The claims ledger: what articles comparing fine-tuning, LoRA and RAG say, checked against this
// run's numbers. Each claim has one stated rule over the 95% intervals over seeds: "held" only where
// the intervals separate in the claimed direction, "not held" where they separate the other way,
// "not separable" where they overlap, and "not measured on this run" where a row or metric is
// missing. Quality is each suite's own headline metric. A claim about one kind of use case is
// checked on the suites of that kind; one about two kinds, on the pair. Pure functions of the
// summaries; tests feed them crafted results.
import { METRICS } from '../harness/metrics/definitions.js';
import type { MetricId } from '../harness/metrics/definitions.js';
import { intervalWithBounds } from './charts.js';
import { formatSummary, formatWithUnit } from './format.js';
import { againstFloor, suiteInfo } from './suite-info.js';
import type { SuiteInfo } from './suite-info.js';
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
  /** Suite whose numbers decided it ('a + b' for a pair); null where it was not measured on any. */
  readonly suite: string | null;
  readonly verdict: Verdict;
  /** One sentence with the numbers. */
  readonly finding: string;
  readonly evidence: readonly Evidence[];
}

/** Non-inferiority margin for "comparable" quality, in points of the headline (a share: exact match, accuracy). */
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

/** What a suite stands for in the claims: task adaptation, knowledge injection, or neither. */
type SuiteRole = 'task' | 'knowledge' | null;

/** Built-in suites by name; corpus-wide has a claim of its own. */
const BUILT_IN_ROLES: Readonly<Record<string, SuiteRole>> = { 'task-adapt': 'task', 'knowledge-qa': 'knowledge', 'fresh-facts': 'knowledge', 'corpus-wide': null };

/** A built-in suite's role by name; any other's by its task type: choice adapts to a task, generate over documents injects knowledge. */
function roleOf(s: SuiteInfo): SuiteRole {
  if (Object.hasOwn(BUILT_IN_ROLES, s.name)) return BUILT_IN_ROLES[s.name] ?? null;
  if (s.taskType === 'choice') return 'task';
  return s.taskType === 'generate' && (s.documents ?? 0) > 0 ? 'knowledge' : null;
}

/** Rows of one suite, with the representative row of an approach: the one run with defaults (label = name), else the first. */
class SuiteRows {
  readonly suite: string;
  readonly info: SuiteInfo;
  private readonly groups: readonly GroupSummary[];

  constructor(info: SuiteInfo, groups: readonly GroupSummary[]) {
    this.suite = info.name;
    this.info = info;
    this.groups = groups.filter((g) => g.suite === info.name);
  }

  /** The suite's headline metric: what "quality" means in its claims. */
  get quality(): MetricId {
    return this.info.headline.id;
  }

  /** A headline interval turned so that higher is better, whatever the suite's direction. */
  oriented(s: MetricSummary): readonly [number, number] | null {
    const iv = span(s);
    return !iv || this.info.headline.higherIsBetter ? iv : [-iv[1], -iv[0]];
  }

  /** Whether `a` lies on the better side of `b` on the headline ('above'), the worse ('below'), or neither. */
  better(a: MetricSummary, b: MetricSummary): Side {
    return side(this.oriented(a), this.oriented(b));
  }

  /** Every row of these approaches with a completed cell, whatever its label (e.g. lora retrained from the base, 'lora-updateretrain'). */
  rowsOf(approaches: readonly string[]): GroupSummary[] {
    return this.groups.filter((g) => approaches.includes(g.approach) && g.completed.length > 0);
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

interface ClaimText {
  readonly claim: string;
  readonly source: string;
  readonly rule: string;
}

/** A claim checked on each suite it applies to, one verdict per suite. */
interface SuiteClaim extends ClaimText {
  /** Whether the claim is about this kind of suite; absent: every suite. */
  readonly appliesTo?: (suite: SuiteInfo) => boolean;
  /** The suite the claim needs, when the run has none it applies to. */
  readonly needs?: string;
  evaluate(rows: SuiteRows): Outcome;
}

/** A claim that compares suites: one verdict for the run, or what it lacks. */
interface RunClaim extends ClaimText {
  evaluateRun(suites: readonly SuiteInfo[], groups: readonly GroupSummary[]): { suite: string | null; out: Outcome };
}

type ClaimDefinition = SuiteClaim | RunClaim;

const ev = (rows: SuiteRows, x: { group: GroupSummary; summary: MetricSummary }, metric: MetricId): Evidence =>
  ({ suite: rows.suite, row: x.group.label, metric, summary: x.summary });

const says = (x: { group: GroupSummary; summary: MetricSummary }, id: MetricId): string => `${x.group.label} ${formatSummary(id, x.summary)}`;

function need(rows: SuiteRows, approach: string, id: MetricId): { group: GroupSummary; summary: MetricSummary } | string {
  const x = rows.get(approach, id);
  if (x) return x;
  return rows.row(approach) ? `the ${rows.row(approach)!.label} row reports no ${METRICS[id].label}` : `no ${approach} row in ${rows.suite}`;
}

/**
 * A two-row comparison where the claim says `a` is lower or higher than `b` on `id`, or better on the
 * suite's headline (in the direction the suite declares).
 */
function directional(rows: SuiteRows, a: string, b: string, id: MetricId, claimed: 'lower' | 'higher' | 'better', what: string): Outcome {
  const x = need(rows, a, id);
  const y = need(rows, b, id);
  if (typeof x === 'string') return { missing: x };
  if (typeof y === 'string') return { missing: y };
  const s = claimed === 'better' ? rows.better(x.summary, y.summary) : side(span(x.summary), span(y.summary));
  const numbers = `${says(x, id)} vs ${says(y, id)}`;
  const evidence = [ev(rows, x, id), ev(rows, y, id)];
  if (s === 'unknown') return { verdict: 'not-separable', finding: `${numbers}: a row has no interval (one seed without a within-cell interval), so no side can be told.`, evidence };
  if (s === (claimed === 'lower' ? 'below' : 'above')) return { verdict: 'held', finding: `${numbers}: ${what}, and the intervals separate.`, evidence };
  if (s === 'overlap') return { verdict: 'not-separable', finding: `${numbers}: the intervals overlap.`, evidence };
  return { verdict: 'not-held', finding: `${numbers}: separated the other way.`, evidence };
}

const TASK_SUITE = 'a task-adaptation suite (task-adapt, or any choice suite)';
const KNOWLEDGE_SUITE = 'a suite of facts the base never saw (knowledge-qa, fresh-facts, or a generate suite with documents)';

/** The run's suite for a role: the built-in one where the run has it, else the first of that role. */
function pick(suites: readonly SuiteInfo[], role: SuiteRole, builtIn: string): SuiteInfo | undefined {
  return suites.find((x) => x.name === builtIn) ?? suites.find((x) => roleOf(x) === role);
}

/** What a side means where 'above' is fine-tuning ahead of rag. */
const SIDE_TEXT: Readonly<Record<Side, string>> = {
  above: 'fine-tuning separably better', below: 'rag separably better', overlap: 'the intervals overlap', unknown: 'a row has no interval',
};

/** On one suite: the best fine-tuning row against rag on the headline; 'above' where fine-tuning is better. */
function fineTuningVsRag(rows: SuiteRows): { side: Side; text: string; evidence: Evidence[] } | { missing: string } {
  const q = rows.quality;
  const tuned = ['lora', 'full-ft'].map((a) => rows.get(a, q)).filter((x) => x !== undefined)
    .sort((a, b) => (rows.info.headline.higherIsBetter ? 1 : -1) * (b.summary.mean - a.summary.mean));
  const best = tuned[0];
  if (!best) {
    const present = ['lora', 'full-ft'].some((a) => rows.row(a));
    return { missing: `no lora or full-ft row ${present ? `reports ${METRICS[q].label} ` : ''}in ${rows.suite}` };
  }
  const rag = need(rows, 'rag', q);
  if (typeof rag === 'string') return { missing: rag };
  const floor = againstFloor(best.group, rows.info.headline);
  const text = `${rows.suite} (${METRICS[q].label.toLowerCase()}): best fine-tuning ${says(best, q)} vs ${says(rag, q)}`
    + (floor ? ` (${METRICS[floor.floor].label.toLowerCase()} ${formatSummary(floor.floor, floor.summary)})` : '');
  return { side: rows.better(best.summary, rag.summary), text, evidence: [ev(rows, best, q), ev(rows, rag, q)] };
}

export const CLAIMS = {
  'lora-comparable': {
    claim: 'LoRA performs comparably to full fine-tuning.',
    source: 'Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"; most LoRA-vs-fine-tuning articles',
    rule: `The suite's headline metric, non-inferiority with a margin of ${COMPARABLE_MARGIN}: held where LoRA's interval, at its worse end, `
      + `is at most ${COMPARABLE_MARGIN} behind full fine-tuning's interval at its better end; `
      + 'not held where LoRA\'s interval lies entirely on the worse side of full fine-tuning\'s; not separable otherwise, and wherever full '
      + 'fine-tuning is not separably better than the base (nothing learned to be comparable to).',
    evaluate(rows: SuiteRows): Outcome {
      const q = rows.quality;
      const x = need(rows, 'lora', q);
      const y = need(rows, 'full-ft', q);
      if (typeof x === 'string') return { missing: x };
      if (typeof y === 'string') return { missing: y };
      const evidence = [ev(rows, x, q), ev(rows, y, q)];
      const numbers = `${says(x, q)} vs ${says(y, q)}`;
      const a = rows.oriented(x.summary);
      const b = rows.oriented(y.summary);
      if (!a || !b) return { verdict: 'not-separable', finding: `${numbers}: a row has no interval.`, evidence };
      // Two rows that both learned nothing are "comparable" only vacuously.
      const base = rows.get('base', q);
      if (base) {
        evidence.push(ev(rows, base, q));
        if (rows.better(y.summary, base.summary) !== 'above') {
          return { verdict: 'not-separable', finding: `${numbers}: full fine-tuning is not separably better than ${says(base, q)}, so there is nothing learned to compare.`, evidence };
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
    evaluate(rows: SuiteRows): Outcome {
      const out = directional(rows, 'lora', 'full-ft', 'memory.peakBytes', 'lower', 'LoRA needs less');
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
      + 'not held where entirely above; not separable where they overlap. The headline metric of both is shown: the same paper says LoRA learns less.',
    evaluate(rows: SuiteRows): Outcome {
      const out = directional(rows, 'lora', 'full-ft', 'forgetting.ceDelta', 'lower', 'LoRA forgets less');
      if ('missing' in out) return out;
      const learned = ['lora', 'full-ft'].map((a) => rows.get(a, rows.quality)).filter((x) => x !== undefined);
      return {
        ...out,
        finding: `${out.finding}${learned.length === 2 ? ` Learning: ${learned.map((x) => says(x, rows.quality)).join(' vs ')}.` : ''}`,
        evidence: [...out.evidence, ...learned.map((x) => ev(rows, x, rows.quality))],
      };
    },
  },
  'rag-new-knowledge': {
    claim: 'RAG handles new knowledge without retraining.',
    source: 'Ovadia et al. 2023, "Fine-Tuning or Retrieval? Comparing Knowledge Injection in LLMs"',
    rule: 'On facts the base never saw (a knowledge suite): held where RAG trains no parameter and its interval on the suite\'s headline '
      + 'lies entirely on the better side of the base\'s; not held where it trains parameters or its interval lies on the worse side; '
      + 'not separable where they overlap.',
    appliesTo: (s: SuiteInfo) => roleOf(s) === 'knowledge',
    needs: KNOWLEDGE_SUITE,
    evaluate(rows: SuiteRows): Outcome {
      const trained = rows.get('rag', 'params.trainable');
      if (trained && trained.summary.mean > 0) {
        return { verdict: 'not-held', finding: `${says(trained, 'params.trainable')} trainable parameters: it retrains.`, evidence: [ev(rows, trained, 'params.trainable')] };
      }
      const out = directional(rows, 'rag', 'base', rows.quality, 'better', 'RAG answers what the base cannot');
      if ('missing' in out) return out;
      return { ...out, evidence: trained ? [...out.evidence, ev(rows, trained, 'params.trainable')] : out.evidence };
    },
  },
  'ft-task-rag-knowledge': {
    claim: 'Fine-tuning (LoRA/full) for task adaptation, RAG for knowledge.',
    source: 'fine-tuning-vs-RAG guides (LoRA to adapt to a task or format, retrieval to add facts); Ovadia et al. 2023 for the knowledge half',
    rule: `On the pair of suites, each on its own headline metric, the best fine-tuning row (lora or full-ft, by mean) against rag: held where `
      + `it is separably better than rag on the task-adaptation suite (${TASK_SUITE.replace(/^a /, '')}) and rag is separably better than it on `
      + `the knowledge suite (${KNOWLEDGE_SUITE.replace(/^a /, '')}); not held where either separates the other way; not separable otherwise.`,
    evaluateRun(suites: readonly SuiteInfo[], groups: readonly GroupSummary[]) {
      const task = pick(suites, 'task', 'task-adapt');
      const knowledge = pick(suites, 'knowledge', 'knowledge-qa');
      if (!task || !knowledge) {
        const lacking = [task ? '' : TASK_SUITE, knowledge ? '' : KNOWLEDGE_SUITE].filter((t) => t !== '').join(' and ');
        return { suite: null, out: { missing: `needs ${lacking}; this run has ${suites.map((x) => x.name).join(', ') || 'no suite'}` } };
      }
      const suite = `${task.name} + ${knowledge.name}`;
      const t = fineTuningVsRag(new SuiteRows(task, groups));
      if ('missing' in t) return { suite, out: t };
      const k = fineTuningVsRag(new SuiteRows(knowledge, groups));
      if ('missing' in k) return { suite, out: k };
      const finding = `${t.text}: ${SIDE_TEXT[t.side]}. ${k.text}: ${SIDE_TEXT[k.side]}.`;
      const evidence = [...t.evidence, ...k.evidence];
      const verdict: Exclude<Verdict, 'not-measured'> = t.side === 'above' && k.side === 'below' ? 'held'
        : t.side === 'below' || k.side === 'above' ? 'not-held' : 'not-separable';
      return { suite, out: { verdict, finding, evidence } };
    },
  },
  'rag-fresh-facts': {
    claim: 'RAG is the choice when information is dynamic or up to date: re-index, do not retrain.',
    source: 'fine-tuning-vs-RAG guides (retrieval for knowledge that changes; a re-index replaces a retraining run)',
    rule: 'On the fresh-facts suite, after the update to changed facts: the best retrieval row (rag, lora-rag) against the best fine-tuning row '
      + '(full-ft, lora, qlora, continued training or retraining from the base), each by mean new-fact accuracy. Held where the retrieval row\'s '
      + 'new-fact accuracy interval lies entirely above the fine-tuning row\'s and its update time interval entirely below it, and its stale '
      + 'rate is not separably higher; not held where the fine-tuning row is separably better on new facts, or separably faster to update, '
      + 'or the retrieval row separably staler; not separable otherwise.',
    appliesTo: (s: SuiteInfo) => s.name === 'fresh-facts' || s.metrics.some((m) => m.id === 'fresh.newFactAccuracy'),
    needs: 'the fresh-facts suite (facts that change after adaptation)',
    evaluate(rows: SuiteRows): Outcome {
      const best = (approaches: readonly string[]) => rows.rowsOf(approaches)
        .filter((g) => g.metrics['fresh.newFactAccuracy'] !== undefined)
        .sort((a, b) => b.metrics['fresh.newFactAccuracy']!.mean - a.metrics['fresh.newFactAccuracy']!.mean)[0];
      const r = best(['rag', 'lora-rag']);
      const t = best(['full-ft', 'lora', 'qlora']);
      if (!r || !t) return { missing: `no ${r ? 'full-ft, lora or qlora' : 'rag or lora-rag'} row reports ${METRICS['fresh.newFactAccuracy'].label} in ${rows.suite}` };
      const lacking = (['update.wallSec', 'fresh.staleRate'] as const).flatMap((id) => [r, t].filter((g) => !g.metrics[id]).map((g) => `the ${g.label} row reports no ${METRICS[id].label}`));
      if (lacking.length) return { missing: lacking.join('; ') };
      const at = (g: GroupSummary, id: MetricId) => ({ group: g, summary: g.metrics[id]! });
      const ids = ['fresh.newFactAccuracy', 'fresh.staleRate', 'update.wallSec'] as const;
      const evidence = ids.flatMap((id) => [ev(rows, at(r, id), id), ev(rows, at(t, id), id)]);
      const unchanged = [r, t].filter((g) => g.metrics['fresh.unchangedAccuracy']).map((g) => ev(rows, at(g, 'fresh.unchangedAccuracy'), 'fresh.unchangedAccuracy'));
      const sideOf = (id: MetricId) => side(span(r.metrics[id]!), span(t.metrics[id]!));
      const [accuracy, stale, update] = ids.map(sideOf);
      const numbers = ids.map((id) => `${METRICS[id].label.toLowerCase()} ${says(at(r, id), id)} vs ${says(at(t, id), id)}`).join('; ');
      const verdict: Exclude<Verdict, 'not-measured'> = accuracy === 'below' || update === 'above' || stale === 'above' ? 'not-held'
        : accuracy === 'above' && update === 'below' ? 'held' : 'not-separable';
      const why = verdict === 'held' ? 're-indexing gets more new facts right, in less time'
        : verdict === 'not-held' ? [accuracy === 'below' ? 'fine-tuning gets separably more new facts right' : '', update === 'above' ? 're-indexing is separably slower' : '',
          stale === 'above' ? 'retrieval is separably staler' : ''].filter((x) => x !== '').join(', ')
          : `${accuracy === 'above' ? 'retrieval is separably better on new facts' : 'the new-fact accuracy intervals do not separate'}, `
            + `${update === 'below' ? 'and re-indexing is separably faster' : 'and the update times do not separate'}`;
      return { verdict, finding: `${numbers}: ${why}.`, evidence: [...evidence, ...unchanged] };
    },
  },
  'topk-corpus-wide': {
    claim: 'Top-k retrieval cannot answer questions that need every document.',
    source: 'articles on the limits of RAG (counts and aggregates over a whole corpus)',
    rule: 'On the corpus-wide suite: held where RAG\'s interval on the corpus-wide headline metric lies entirely below its interval on the same metric '
      + 'on knowledge-qa (the same retriever answers one-document questions); not held where it lies above; not separable where they overlap. '
      + 'Evidence coverage (the share of the needed documents that reached the prompt) is shown beside it.',
    evaluateRun(suites: readonly SuiteInfo[], groups: readonly GroupSummary[]) {
      const wideInfo = suites.find((x) => x.name === 'corpus-wide');
      if (!wideInfo) return { suite: null, out: { missing: 'needs the corpus-wide suite (questions that need every document), not in this run' } };
      const wide = new SuiteRows(wideInfo, groups);
      const single = new SuiteRows(suites.find((x) => x.name === 'knowledge-qa') ?? suiteInfo('knowledge-qa', groups), groups);
      // One metric for both sides: the corpus-wide suite's.
      const q = wide.quality;
      const x = need(wide, 'rag', q);
      const y = need(single, 'rag', q);
      if (typeof x === 'string') return { suite: wide.suite, out: { missing: x } };
      if (typeof y === 'string') return { suite: wide.suite, out: { missing: y } };
      const numbers = `rag on corpus-wide ${formatSummary(q, x.summary)} vs on knowledge-qa ${formatSummary(q, y.summary)}`;
      const evidence = [ev(wide, x, q), ev(single, y, q)];
      const recall = wide.get('rag', 'retrieval.recallAt10');
      if (recall) evidence.push(ev(wide, recall, 'retrieval.recallAt10'));
      // How much of what the answers need reached the prompt: the mechanism behind the verdict.
      const coverage = wide.get('rag', 'retrieval.evidenceCoverage');
      if (coverage) evidence.push(ev(wide, coverage, 'retrieval.evidenceCoverage'));
      const reached = coverage ? ` Evidence coverage on corpus-wide: ${formatSummary('retrieval.evidenceCoverage', coverage.summary)} of the documents an answer needs reached the prompt.` : '';
      const s = wide.better(x.summary, y.summary);
      const out: Outcome = s === 'below' ? { verdict: 'held', finding: `${numbers}: separably lower.${reached}`, evidence }
        : s === 'above' ? { verdict: 'not-held', finding: `${numbers}: separably higher.${reached}`, evidence }
        : { verdict: 'not-separable', finding: `${numbers}: ${s === 'overlap' ? 'the intervals overlap' : 'a row has no interval'}.${reached}`, evidence };
      return { suite: wide.suite, out };
    },
  },
  'lora-less-memory-at-size': {
    claim: 'LoRA needs less memory to train than full fine-tuning, at GPT-2 small and medium sizes.',
    source: 'Hu et al. 2021 (3 times less GPU memory for GPT-3 175B)',
    rule: 'Peak engine bytes of one training step that `bench cost` measured at the same shape, batch and tokens: held where LoRA\'s is lower than full '
      + 'fine-tuning\'s at every measured size, not held otherwise. Where full fine-tuning could not be measured, its weights + gradients + AdamW state '
      + '(counted exactly: a lower bound of its peak) stand in. Engine bytes are deterministic, so one measurement decides a point.',
    // Decided by `bench cost` measurements (evaluateLedger's `outside`), on no suite.
    appliesTo: () => false,
    needs: 'the GPT-2 small/medium points of `bench cost` (run it, then `bench report <run>`)',
    evaluate: (): Outcome => ({ missing: 'decided by `bench cost` measurements, not by a suite' }),
  },
  'quantized-fourfold-at-size': {
    claim: 'Quantising the base to 4 bits cuts its memory about fourfold, at GPT-2 small and medium sizes.',
    source: 'Dettmers et al. 2023, "QLoRA" (4-bit NormalFloat against a 16-bit base)',
    rule: `Stored weight bytes that \`bench cost\` measured, LoRA (fp32 base) over QLoRA (NF4 base): held where at least ${FOURFOLD_AT_LEAST}-fold at every measured size; not held otherwise.`,
    // Decided by `bench cost` measurements (evaluateLedger's `outside`), on no suite.
    appliesTo: () => false,
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

/**
 * Every claim, checked on the run's suites in order: a per-suite claim on each suite it applies to
 * where it is measurable (one entry each), a claim over suites once; a claim measurable nowhere is
 * one "not measured" entry that says what it lacks.
 */
export function evaluateLedger(suites: readonly string[], groups: readonly GroupSummary[], outside: Partial<Record<ClaimId, OutsideOutcome>> = {}): ClaimResult[] {
  const infos = suites.map((s) => suiteInfo(s, groups));
  const results: ClaimResult[] = [];
  for (const id of CLAIM_IDS) {
    const def: ClaimDefinition = CLAIMS[id];
    const head = { id, claim: def.claim, source: def.source, rule: def.rule };
    const decided = outside[id];
    if (decided) {
      results.push({ ...head, ...decided, evidence: [] });
      continue;
    }
    const outcomes = 'evaluateRun' in def
      ? [def.evaluateRun(infos, groups)]
      : infos.filter((s) => def.appliesTo?.(s) ?? true).map((s) => ({ suite: s.name, out: def.evaluate(new SuiteRows(s, groups)) }));
    const measured = outcomes.filter((o): o is { suite: string; out: Exclude<Outcome, { missing: string }> } => !('missing' in o.out));
    for (const { suite, out } of measured) results.push({ ...head, suite, verdict: out.verdict, finding: out.finding, evidence: out.evidence });
    if (measured.length === 0) {
      const why = outcomes.length === 0 && !('evaluateRun' in def)
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
