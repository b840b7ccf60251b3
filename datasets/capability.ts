// The base model's "original capability" that adaptation may erode: general English (Brown) and
// reading comprehension over entities it has never seen. Measured before and after adaptation.
import { loadBrown, splitBrown } from './brown.js';
import type { BrownDoc } from './brown.js';
import { makeFictionalEntities } from './entities.js';
import type { Entity } from './entities.js';
import { makeEpisode } from './episodes.js';
import type { EpisodeQa } from './episodes.js';
import { contentHash } from './hash.js';
import { createRng } from './rng.js';

/** Seed of the fictional entities in the pretraining corpus. */
export const PRETRAIN_ENTITY_SEED = 'pretrain-rc';
/** Most pretraining entities: pretraining may use any prefix of this many (generation is prefix-stable). */
export const PRETRAIN_ENTITY_COUNT = 2000;
/** Seed prefix of the pretraining pool's streams (see pretrainEntityPool). */
export const PRETRAIN_POOL_SEED = 'pretrain-pool';
/**
 * Entities per stream of the pool: one stream's three-letter currency codes (17,576, less the real
 * ones) run out near 17k entities, so a larger pool is made of several streams.
 */
export const PRETRAIN_POOL_STREAM = 12_000;
/** Seed of the held-out entities; pretraining never uses it. */
export const HELDOUT_ENTITY_SEED = 'heldout-rc';
/** Number of held-out entities the evaluation episodes draw from. */
export const HELDOUT_ENTITY_COUNT = 300;
/** Number of held-out reading-comprehension items. */
export const HELDOUT_RC_ITEMS = 200;
/** Entity documents per held-out passage. */
export const HELDOUT_RC_DOCS = 3;

/** The held-out data forgetting is measured on. */
export interface HeldOutCapability {
  /** Brown documents never trained on (splitBrown's heldOut). */
  brown: BrownDoc[];
  /** Reading-comprehension items over unseen entities, test phrasings, one question each. */
  rc: EpisodeQa[];
  /** contentHash of { brown, rc }, for the run manifest. */
  contentHash: string;
}

/**
 * The entities base-v1 was pretrained on: the first `count` of PRETRAIN_ENTITY_SEED. The held-out
 * entities are defined against them (and the pool excludes the held-out ones), so the held-out set
 * stays the same across base checkpoints and their figures stay comparable.
 */
export function pretrainEntities(count = PRETRAIN_ENTITY_COUNT): Entity[] {
  if (count > PRETRAIN_ENTITY_COUNT) {
    throw new RangeError(`pretrainEntities: at most ${PRETRAIN_ENTITY_COUNT} (held-out entities exclude only those), got ${count}`);
  }
  return makeFictionalEntities(PRETRAIN_ENTITY_SEED, count);
}

/** The names an entity introduces: country, capital and languages (what must not leak between sets). */
function namesOf(e: Entity): string[] {
  return [e.name, e.capital, ...e.languages.split(' and ')];
}

/**
 * The pretraining pool: `count` entities, so many that each is seen about once in pretraining, so a
 * question can only be answered by copying from the passage (with a pool of 2000 the base-v1 model
 * memorised the entities instead, and read badly). Never a name, capital or language of a held-out
 * entity; country and capital names are unique across the whole pool. Prefix-stable in `count`.
 */
export function pretrainEntityPool(count: number): Entity[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`pretrainEntityPool: count must be a positive integer, got ${count}`);
  const exclude = new Set(heldOutEntities().flatMap(namesOf));
  const pool: Entity[] = [];
  for (let stream = 0; pool.length < count; stream++) {
    const part = makeFictionalEntities(`${PRETRAIN_POOL_SEED}-${stream}`, Math.min(PRETRAIN_POOL_STREAM, count - pool.length), { exclude });
    for (const e of part) {
      pool.push(e);
      exclude.add(e.name).add(e.capital);
    }
  }
  return pool;
}

/** Held-out entities: no name, capital or language shared with any pretraining entity. */
export function heldOutEntities(): Entity[] {
  const exclude = new Set(pretrainEntities().flatMap(namesOf));
  return makeFictionalEntities(HELDOUT_ENTITY_SEED, HELDOUT_ENTITY_COUNT, { exclude });
}

/**
 * The held-out sets. Entities and Brown documents are fixed; `seed` only chooses which passages and
 * questions are drawn (pass the same seed before and after adaptation).
 */
export function heldOutCapability(seed: number | string): HeldOutCapability {
  const brown = splitBrown(loadBrown()).heldOut;
  const entities = heldOutEntities();
  const rng = createRng(`heldout-rc-episodes:${seed}`);
  const rc: EpisodeQa[] = [];
  for (let i = 0; i < HELDOUT_RC_ITEMS; i++) {
    const ep = makeEpisode(rng, entities, { nDocs: HELDOUT_RC_DOCS, nQuestions: 1, phrasing: 'test' });
    rc.push(ep.qa[0] as EpisodeQa);
  }
  return { brown, rc, contentHash: contentHash({ brown, rc }) };
}
