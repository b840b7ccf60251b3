// `bench pretrain`: trains the base model on the base corpus, from scratch or continuing a
// checkpoint, deterministically for a seed, and writes a versioned checkpoint with its provenance
// and learning curve. The checkpoint made by the `default` preset (continuing the `base-v1` preset's)
// is kept in the repository (SHIPPED_BASE_DIR), so a fresh clone runs `bench all` without pretraining.
//
// Base corpus = Brown (training documents, tags stripped) + reading-comprehension episodes about
// fictional entities: a passage of entity documents, then questions answered with the document's
// own sentence ("A: The capital of X is Y."). Loss is on every token, so answering is an
// induction-style copy from the passage; a curriculum may grow passages over training. The default
// preset continues base-v1 on episodes about a pool of 60k entities, each seen about once: the model
// cannot memorise them and has to read the passage.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBrown, splitBrown } from '../datasets/brown.js';
import { heldOutCapability, pretrainEntities, pretrainEntityPool } from '../datasets/capability.js';
import { ATTRIBUTES, type Entity } from '../datasets/entities.js';
import { makeEpisode } from '../datasets/episodes.js';
import { contentHash } from '../datasets/hash.js';
import { createRng, type Rng } from '../datasets/rng.js';
import { initBackend, tf } from './engine/backend.js';
import { loadCheckpoint, saveCheckpoint } from './engine/checkpoint.js';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from './engine/config.js';
import { GPT } from './engine/model.js';
import { countBaseParameters } from './engine/params.js';
import { BpeTokenizer } from './engine/tokenizer.js';
import { AdamW, DEFAULT_TRAIN_OPTIONS, learningRate, trainStep, type Batch, type TrainOptions } from './engine/train.js';
import { brownCrossEntropy, readingComprehension } from './evaluation.js';
import { UsageError } from './errors.js';

/** The versioned base checkpoint kept with the project. */
export const SHIPPED_BASE_DIR = fileURLToPath(new URL('../../harness/models/base-v2', import.meta.url));
/** Where versioned checkpoints are kept. */
const MODELS_DIR = fileURLToPath(new URL('../../harness/models', import.meta.url));

export interface PretrainPreset {
  /**
   * A checkpoint (in harness/models/) to continue from, with its model and tokenizer; null trains
   * from scratch with `model` and a tokenizer trained on the base corpus.
   */
  readonly continueFrom: string | null;
  readonly model: ModelConfig;
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupSteps: number;
  /** Share of batch rows that are reading-comprehension episodes (the rest is Brown text). */
  readonly episodeShare: number;
  /** Largest passage (entity documents) in the curriculum, reached at `curriculumEnd` of training. */
  readonly maxDocs: number;
  readonly curriculumEnd: number;
  /**
   * Where episodes' fictional entities come from: 'pool' = pretrainEntityPool (so many that each is
   * seen about once), 'fixed' = pretrainEntities (base-v1's 2000, which it memorised).
   */
  readonly entitySource: 'pool' | 'fixed';
  /** How many entities episodes are drawn from. */
  readonly entities: number;
  /** Most questions after one passage (at most the passage's facts). */
  readonly maxQuestions: number;
  /** Episodes mixed into the tokenizer's training text, so the format's words get merges. */
  readonly tokenizerEpisodes: number;
  /** Steps between learning-curve evaluations. */
  readonly evalEvery: number;
  /** Held-out reading-comprehension items evaluated at each point of the curve. */
  readonly evalItems: number;
}

export const PRETRAIN_PRESET_NAMES = ['default', 'base-v1', 'tiny'] as const;
export type PretrainPresetName = (typeof PRETRAIN_PRESET_NAMES)[number];

export const PRETRAIN_PRESETS: Readonly<Record<PretrainPresetName, PretrainPreset>> = Object.freeze({
  // Continues base-v1 (Brown + episodes about a fixed pool of 2000 entities, 9.8M tokens: it
  // memorised the pool and read badly) on episodes about a pool so large that each entity is seen
  // about once, so the only way to answer is to read the passage. About 30 minutes on 2 CPU cores
  // (wasm + OpenBLAS + fused kernels): 3000 steps of 8 x 256 tokens = 6.1M tokens.
  default: {
    continueFrom: 'base-v1',
    model: DEFAULT_MODEL_CONFIG,
    steps: 3000,
    batchSize: 8,
    lr: 1e-3,
    warmupSteps: 100,
    episodeShare: 0.8,
    maxDocs: 3,
    curriculumEnd: 0,
    entitySource: 'pool',
    entities: 60_000,
    maxQuestions: 6,
    tokenizerEpisodes: 0,
    evalEvery: 300,
    evalItems: 100,
  },
  // base-v1, from scratch: 92 minutes on 2 cores with the plain kernels (ADAPTBENCH_KERNELS=plain
  // reproduces its hash; it was made before the fused kernels), 4800 steps = 9.8M tokens.
  'base-v1': {
    continueFrom: null,
    model: DEFAULT_MODEL_CONFIG,
    steps: 4800,
    batchSize: 8,
    lr: 2e-3,
    warmupSteps: 200,
    episodeShare: 0.7,
    maxDocs: 4,
    curriculumEnd: 0.5,
    entitySource: 'fixed',
    entities: 2000,
    maxQuestions: 3,
    tokenizerEpisodes: 3000,
    evalEvery: 400,
    evalItems: 100,
  },
  // For tests: a real pretraining of a 2-layer model, in seconds.
  tiny: {
    continueFrom: null,
    model: { vocabSize: 320, nCtx: 128, nEmbd: 32, nLayer: 2, nHead: 2 },
    steps: 12,
    batchSize: 4,
    lr: 3e-3,
    warmupSteps: 4,
    episodeShare: 0.6,
    maxDocs: 2,
    curriculumEnd: 0.5,
    entitySource: 'pool',
    entities: 200,
    maxQuestions: 3,
    tokenizerEpisodes: 100,
    evalEvery: 6,
    evalItems: 8,
  },
});

export interface PretrainOptions {
  readonly preset: PretrainPresetName;
  readonly seed: number;
  readonly out: string;
  readonly backend?: string;
  /** Overrides the preset's steps. */
  readonly steps?: number;
  /** Overrides the preset's continueFrom: a checkpoint folder to continue from. */
  readonly from?: string;
  readonly log: (line: string) => void;
}

export interface CurvePoint {
  readonly step: number;
  readonly tokens: number;
  readonly seconds: number;
  /** Mean training loss over the steps since the previous point. */
  readonly trainLoss: number;
  readonly heldOutBrownCe: number;
  readonly heldOutRcExactMatch: number;
}

/** The commit of the code that pretrained, so a checkpoint can be traced to (and remade from) it. */
function gitState(): { commit: string | null; dirty: boolean | null } {
  try {
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'harness', 'datasets'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

/** The passage size at a point of training: grows from 1 to maxDocs by curriculumEnd. */
function curriculumDocs(p: PretrainPreset, progress: number, rng: Rng): number {
  const grown = p.curriculumEnd > 0 ? Math.min(1, progress / p.curriculumEnd) : 1;
  const reach = 1 + Math.floor(grown * (p.maxDocs - 1) + 1e-9);
  return 1 + rng.int(reach);
}

/** A row of seqLen+1 tokens of whole episodes (the last one may be cut), starting at an episode. */
function episodeRow(tokenizer: BpeTokenizer, rng: Rng, entities: readonly Entity[], nDocs: () => number, maxQuestions: number, need: number): number[] {
  const row: number[] = [];
  while (row.length < need) {
    const docs = nDocs();
    const facts = docs * ATTRIBUTES.length; // fictional entities have every attribute
    const ep = makeEpisode(rng, entities, { nDocs: docs, nQuestions: 1 + rng.int(Math.min(maxQuestions, facts)), phrasing: 'train' });
    row.push(...tokenizer.encode(ep.text), tokenizer.eotId);
  }
  return row.slice(0, need);
}

export async function pretrain(o: PretrainOptions): Promise<{ dir: string; contentHash: string; seconds: number; curve: CurvePoint[] }> {
  const preset = PRETRAIN_PRESETS[o.preset];
  if (!preset) throw new UsageError(`unknown pretraining preset "${String(o.preset)}": valid presets are ${Object.keys(PRETRAIN_PRESETS).join(', ')}`);
  const steps = o.steps ?? preset.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps must be a positive integer (got ${String(o.steps)})`);
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new UsageError(`--seed must be a non-negative integer (got ${String(o.seed)})`);
  const backend = await initBackend(o.backend);
  const code = gitState(); // at the start: the code that runs, whatever changes during a long run
  const t0 = performance.now();
  const fromDir = o.from ?? (preset.continueFrom === null ? null : join(MODELS_DIR, preset.continueFrom));
  const start = fromDir === null ? null : loadCheckpoint(fromDir); // hash verified: a bad one exits 2
  const cfg = start ? start.model.config : preset.model;
  const seqLen = cfg.nCtx;

  const brown = splitBrown(loadBrown());
  const entities = preset.entitySource === 'pool' ? pretrainEntityPool(preset.entities) : pretrainEntities(preset.entities);
  let tokenizer: BpeTokenizer;
  if (start) {
    tokenizer = start.tokenizer;
    o.log(`continuing from ${fromDir} (content hash ${start.header.contentHash.slice(0, 16)}…): its model and tokenizer`);
  } else {
    const tokRng = createRng(`tokenizer:${o.seed}`);
    const tokenizerText = [
      ...brown.train.map((d) => d.text),
      ...Array.from({ length: preset.tokenizerEpisodes }, () => makeEpisode(tokRng, entities, { nDocs: 1, nQuestions: 2, phrasing: 'train' }).text),
    ];
    tokenizer = BpeTokenizer.train(tokenizerText, cfg.vocabSize);
    o.log(`tokenizer: ${tokenizer.vocabSize} tokens (${tokenizer.merges.length} merges) trained in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  const brownIds: number[] = [];
  for (const d of brown.train) brownIds.push(...tokenizer.encode(d.text), tokenizer.eotId);
  const brownStream = Int32Array.from(brownIds);
  const heldOut = heldOutCapability(o.seed);
  const evalRc = heldOut.rc.slice(0, preset.evalItems);
  o.log(`corpus: Brown ${brown.train.length} training documents (${brownStream.length} tokens), ${entities.length} fictional entities; held out: ${brown.heldOut.length} Brown documents, ${heldOut.rc.length} episodes`);

  const model = start ? start.model : GPT.init(cfg, o.seed);
  const decayed = new Set(model.specs.filter((s) => s.kind === 'linear' || s.kind === 'embedding').map((s) => s.name));
  const trainOpts: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, steps, lr: preset.lr, warmupSteps: preset.warmupSteps };
  const optimizer = new AdamW(model.params, decayed, trainOpts);
  const rng = createRng(`pretrain-batches:${o.seed}`);
  const curve: CurvePoint[] = [];
  const stepMs: number[] = [];
  let lossSum = 0, lossCount = 0;
  const trainStart = performance.now();

  const evaluate = (step: number): void => {
    const brownCe = brownCrossEntropy(model, tokenizer, heldOut.brown, 8192).ce;
    const rc = readingComprehension(model, tokenizer, evalRc);
    const point: CurvePoint = {
      step, tokens: step * preset.batchSize * seqLen, seconds: (performance.now() - trainStart) / 1000,
      trainLoss: lossCount ? lossSum / lossCount : NaN, heldOutBrownCe: brownCe, heldOutRcExactMatch: rc.exactMatch,
    };
    curve.push(point);
    lossSum = 0;
    lossCount = 0;
    o.log(`step ${step}/${steps}: train loss ${point.trainLoss.toFixed(3)}, held-out Brown CE ${brownCe.toFixed(3)}, held-out RC exact match ${rc.exactMatch.toFixed(3)} (${rc.correct}/${rc.total}), ${point.seconds.toFixed(0)} s`);
  };

  for (let step = 0; step < steps; step++) {
    const progress = step / steps;
    const ids = new Int32Array(preset.batchSize * seqLen);
    const targets = new Int32Array(preset.batchSize * seqLen);
    for (let r = 0; r < preset.batchSize; r++) {
      let row: ArrayLike<number>;
      if (rng.next() < preset.episodeShare) {
        row = episodeRow(tokenizer, rng, entities, () => curriculumDocs(preset, progress, rng), preset.maxQuestions, seqLen + 1);
      } else {
        const offset = rng.int(brownStream.length - seqLen - 1);
        row = brownStream.subarray(offset, offset + seqLen + 1);
      }
      for (let j = 0; j < seqLen; j++) {
        ids[r * seqLen + j] = row[j]!;
        targets[r * seqLen + j] = row[j + 1]!;
      }
    }
    const batch: Batch = { batchSize: preset.batchSize, seqLen, ids, targets, weights: new Float32Array(ids.length).fill(1) };
    const ts = performance.now();
    const r = trainStep(model, model.params, optimizer, batch, learningRate(trainOpts, step), trainOpts.clipNorm);
    stepMs.push(performance.now() - ts);
    lossSum += r.loss;
    lossCount += 1;
    if ((step + 1) % preset.evalEvery === 0 || step + 1 === steps) evaluate(step + 1);
  }
  const trainSeconds = (performance.now() - trainStart) / 1000;
  const sorted = stepMs.slice(Math.min(5, stepMs.length - 1)).sort((a, b) => a - b);
  const medianStepMs = sorted[Math.floor(sorted.length / 2)]!;
  const final = curve[curve.length - 1]!;
  const meta = {
    preset: o.preset, seed: o.seed, steps,
    continuedFrom: start ? { checkpoint: o.from ?? preset.continueFrom, contentHash: start.header.contentHash } : null,
    batchSize: preset.batchSize, seqLen, lr: preset.lr, warmupSteps: preset.warmupSteps,
    episodeShare: preset.episodeShare, maxDocs: preset.maxDocs, curriculumEnd: preset.curriculumEnd, maxQuestions: preset.maxQuestions,
    parameters: countBaseParameters(cfg),
    corpus: {
      brownTrainDocuments: brown.train.length, brownTrainTokens: brownStream.length,
      brownTrainHash: contentHash(brown.train.map((d) => d.id)), fictionalEntities: entities.length, entitiesHash: contentHash(entities),
      tokensSeen: steps * preset.batchSize * seqLen,
    },
    heldOut: { contentHash: heldOut.contentHash, rcItemsPerEval: evalRc.length },
    backend: { name: backend.name, kernels: backend.kernels },
    code,
    trainSeconds, medianStepMs, tokensPerSec: (preset.batchSize * seqLen) / (medianStepMs / 1000),
    final, curve,
  };
  const header = await saveCheckpoint(o.out, model, tokenizer, meta);
  optimizer.dispose();
  model.dispose();
  const seconds = (performance.now() - t0) / 1000;
  o.log(`wrote ${o.out} (content hash ${header.contentHash.slice(0, 16)}…) in ${seconds.toFixed(0)} s; ${meta.tokensPerSec.toFixed(0)} training tokens/s`);
  tf.disposeVariables();
  return { dir: o.out, contentHash: header.contentHash, seconds, curve };
}
