// lora-rag: LoRA trained to answer from retrieved passages, then served with the same retrieval as
// rag. Training examples follow RAFT (Zhang et al. 2024): each training question comes with the
// passages the retriever returns for it; in a share of examples (oracleShare) the passage stating
// the answer is among them, in the rest it is removed and only distractors remain, so the model
// learns to use a passage when it is there and to rely on what it learned when it is not. Loss is on
// the answer only, as for every fine-tuning approach here.
import { createRng } from '../datasets/rng.js';
import type { ModelConfig } from '../harness/engine/config.js';
import { LoraAdapter, loraConfigProblems, loraModelProblems, loraSettingsOf } from '../harness/engine/lora.js';
import { fitPrompt, type FittedPrompt } from '../harness/retrieval/context.js';
import { runAdapterApproach } from './adapter-approach.js';
import { LORA_DEFAULTS, mergedLora } from './lora.js';
import { RETRIEVAL_DEFAULTS, prepareRetrieval, reindexForUpdate, retrievalConfig, retrievalConfigProblems, retrievalDataProblems } from './rag.js';
import type { CellRetrieval } from './rag.js';
import { learningRateProblems, trainBudgetOf } from './training.js';
import type { TrainingExample } from './training.js';
import type { BpeTokenizer } from '../harness/engine/tokenizer.js';
import type { RetrievalCorpus } from '../tasks/prompts.js';
import type { Approach, ApproachConfig, ApproachOutcome, CellContext, UpdateOutcome } from './types.js';

/** RAFT's P: the share of training examples whose passages include the one stating the answer. */
export const RAFT_ORACLE_SHARE = 0.8;

const isShare = (v: unknown): boolean => typeof v === 'number' && v >= 0 && v <= 1;

export interface RaftStats {
  readonly examples: number;
  /** Examples whose passages include the gold document (whole, or cut to fit the row). */
  readonly withGold: number;
  /** Mean passages per example after fitting the training row. */
  readonly passagesPerExample: number;
  /** Examples that hold fewer than k passages, to fit the training row. */
  readonly reduced: number;
}

/**
 * One example per training example: the retrieved passages (gold forced in or taken out, RAFT),
 * fitted to a training row, then the target; loss on the target only. Where the corpus is the
 * training examples themselves (demonstrations), an example never retrieves itself.
 */
export function raftExamples(ctx: CellContext, r: CellRetrieval, k: number, oracleShare: number): { examples: TrainingExample[]; stats: RaftStats } {
  const tok = ctx.base.tokenizer;
  const { seqLen } = trainBudgetOf(ctx.suite, ctx.base.model.config.nCtx);
  const rng = createRng(`raft:${ctx.suite.name}:${ctx.seed}`);
  const docText = new Map(r.corpus.documents.map((d) => [d.id, d.text]));
  // k + 1 retrieved, so that k distractors remain when the gold passage (or the example itself) is taken out.
  const retrieved = r.passagesFor(ctx.data.train.map((ex) => ctx.prompts.query(ex)), k + 1 + (r.corpus.kind === 'demonstrations' ? 1 : 0));
  const examples: TrainingExample[] = [];
  let withGold = 0, kept = 0, reduced = 0;
  ctx.data.train.forEach((ex, i) => {
    const golds = ex.docIds.map((id) => {
      const text = docText.get(id);
      if (text === undefined) throw new Error(`lora-rag: training example ${ex.id} refers to document ${id}, which the suite does not have`);
      return text;
    });
    const self = r.corpus.kind === 'demonstrations' ? ctx.prompts.demonstration(ex) : null;
    const others = retrieved[i]!.filter((p) => !golds.includes(p) && p !== self);
    // A row holds seqLen + 1 tokens: the prompt, the target and end-of-text.
    const budget = ctx.prompts.rowBudget(ex, seqLen);
    const fitted = ctx.prompts.fitExample(ex, budget);
    const fitWith = (passages: readonly string[]): FittedPrompt => fitPrompt(passages, (ps) => ctx.prompts.render(fitted.ex, ps), tok, budget);
    let fit: FittedPrompt;
    let hasGold = false;
    if (rng.next() < oracleShare && golds.length > 0) {
      // As many passages as fit with the gold ones kept, then the gold ones at random positions
      // among them (position is no hint); the same texts in another order need the same tokens.
      const first = fitWith([...golds, ...others.slice(0, Math.max(0, k - golds.length))]);
      hasGold = first.passages.length > 0;
      if (first.passages.length > 1) {
        const chosen = rng.shuffle([...golds.slice(0, first.passages.length), ...others.slice(0, Math.max(0, first.passages.length - golds.length))]);
        fit = fitWith(chosen);
        hasGold = fit.passages.some((p) => golds.includes(p));
      } else {
        fit = first;
      }
    } else {
      fit = fitWith(others.slice(0, k));
    }
    if (fit.passages.length < k) reduced += 1;
    if (hasGold) withGold += 1;
    kept += fit.passages.length;
    ctx.prompts.record('train', fitted.tokensCut);
    examples.push(ctx.prompts.trainingExample(ex, seqLen, fit.prompt));
  });
  return { examples, stats: { examples: examples.length, withGold, passagesPerExample: kept / Math.max(1, examples.length), reduced } };
}

export const loraRag: Approach = Object.freeze({
  name: 'lora-rag',
  description: 'LoRA trained on retrieved passages + question -> answer (RAFT: some examples without the gold passage), served with the same retrieval as rag.',
  defaults: Object.freeze({ lr: 1e-2, ...LORA_DEFAULTS, ...RETRIEVAL_DEFAULTS, oracleShare: RAFT_ORACLE_SHARE }),
  validateConfig: (config: ApproachConfig) => [
    ...learningRateProblems(config, 'lora-rag'),
    ...loraConfigProblems(config, 'approach.lora-rag'),
    ...retrievalConfigProblems(config, 'lora-rag'),
    ...(isShare(config['oracleShare']) ? [] : [`approach.lora-rag.oracleShare must be a number in [0, 1] (got ${JSON.stringify(config['oracleShare'])})`]),
  ],
  validateForModel: (config: ApproachConfig, model: ModelConfig) => loraModelProblems(config, model, 'approach.lora-rag'),
  validateForData: (config: ApproachConfig, corpus: RetrievalCorpus, tokenizer: BpeTokenizer) => retrievalDataProblems(config, corpus, tokenizer, 'lora-rag'),
  async run(ctx: CellContext): Promise<ApproachOutcome> {
    const cfg = retrievalConfig(ctx.config);
    const oracleShare = ctx.config['oracleShare'] as number;
    const settings = loraSettingsOf(ctx.config);
    // Built before the copy; from here on freed with the rest (runAdapterApproach). The adapter
    // trains on the retrieval of the suite's documents as they were; with an update, it is served
    // with the index brought up to date (the update re-indexes only: the adapter stays as trained).
    const r = prepareRetrieval(ctx.data.update ? { ...ctx, data: { ...ctx.data, update: null } } : ctx, cfg);
    let served = r;
    let update: UpdateOutcome | undefined;
    if (ctx.data.update) {
      try {
        const u = await reindexForUpdate(ctx, cfg);
        update = u.outcome;
        served = prepareRetrieval(ctx, cfg, u.built);
      } catch (err) {
        r.built.dispose();
        throw err;
      }
    }
    const outcome = await runAdapterApproach(ctx, {
      approach: 'lora-rag',
      owns: served === r ? [r.built] : [r.built, served.built],
      attach: (m) => (m.adapter = new LoraAdapter(m.config, settings, ctx.seed)),
      prepare: () => {
        const raft = raftExamples(ctx, r, cfg.k, oracleShare);
        ctx.log(`lora-rag: ${raft.stats.examples} RAFT examples, ${raft.stats.withGold} with the gold passage, ${raft.stats.passagesPerExample.toFixed(2)} passages each`);
        return raft;
      },
      examples: (raft) => raft.examples,
      serving: mergedLora(settings, ctx.seed),
      prompts: async (examples) => served.prompts(examples),
      extra: (_t, raft) => ({
        metrics: served.metrics,
        notes: served.notes,
        inputs: {
          ...served.inputs, lora: settings,
          raft: { oracleShare, ...raft.stats, note: 'one example per training question: retrieved passages (gold forced in, or taken out), question, answer; loss on the answer' },
          served: 'merged into the fp32 base weights, prompts with retrieved passages as rag',
        },
      }),
    });
    return { ...outcome, retrieval: { k: cfg.k, promptsAtK: served.promptsAtK }, ...(update ? { update } : {}) };
  },
});
