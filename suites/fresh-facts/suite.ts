// fresh-facts: the countries of knowledge-qa, then a fifth of their capitals, currencies and calling
// codes change after every approach was adapted. Each approach is adapted on the old facts exactly as
// in knowledge-qa, then updated the way a team would (re-index the rewritten documents, or train on
// them further, or retrain from the base) and asked about every fact again: does it give the new
// value, the stale one, and did the update break the facts that stayed?
import { loadCountries } from '../../datasets/countries.js';
import { makeFictionalEntities, type Attribute, type Entity } from '../../datasets/entities.js';
import { answerLeadIn, answerOf, attributesOf, entityDocument, fillTemplate, QUESTION_TEMPLATES } from '../../datasets/episodes.js';
import { createRng } from '../../datasets/rng.js';
import { builtInSuite } from '../built-in.js';
import { countryDocId, knowledgeQa, TRAIN_PHRASINGS_PER_FACT, type KnowledgeQaRecord } from '../knowledge-qa/suite.js';

/** The facts that may change, as they do in the world: a capital moves, a currency is replaced, a calling code is reassigned. */
export const CHANGEABLE: readonly Attribute[] = Object.freeze(['capital', 'currency', 'callingCode']);
/** Share of the changeable facts that change. */
export const CHANGED_SHARE = 0.2;
/** Fixed, so that the facts (old and new) are the same for every seed; seeds vary order and phrasing only. */
const CHANGE_SEED = 'fresh-facts:changes';

/** One changed fact: whose, which, and the values before and after. */
export interface FactChange {
  readonly entity: string;
  readonly attribute: Attribute;
  readonly before: string;
  readonly after: string;
}

/**
 * The changes, the same for every seed: a seeded fifth of the countries' capitals, currencies and
 * calling codes, each replaced by a value of a fictional country (generated names no real country,
 * capital or language has, so the base model cannot know them), never equal to the old one.
 */
export function factChanges(countries: readonly Entity[]): FactChange[] {
  const rng = createRng(CHANGE_SEED);
  const candidates = countries.flatMap((e) => CHANGEABLE.filter((a) => e[a] !== '').map((attribute) => ({ e, attribute })));
  const chosen = rng.shuffle(candidates).slice(0, Math.round(CHANGED_SHARE * candidates.length));
  const donors = makeFictionalEntities(CHANGE_SEED, chosen.length);
  const real = new Set(countries.flatMap((e) => CHANGEABLE.map((a) => e[a])));
  return chosen
    .map(({ e, attribute }, i) => {
      let after = donors[i]![attribute];
      // Fictional names and currency codes are never real ones; a calling code may be: add digits until no country has it.
      while (real.has(after)) after = `${after}${i % 10}`;
      return { entity: e.name, attribute, before: e[attribute], after };
    })
    .sort((a, b) => (a.entity === b.entity ? CHANGEABLE.indexOf(a.attribute) - CHANGEABLE.indexOf(b.attribute) : a.entity < b.entity ? -1 : 1));
}

/** The countries with the changes applied. */
export function updatedCountries(countries: readonly Entity[], changes: readonly FactChange[]): Entity[] {
  return countries.map((e) => {
    const mine = changes.filter((c) => c.entity === e.name);
    return mine.reduce<Entity>((acc, c) => ({ ...acc, [c.attribute]: c.after }), e);
  });
}

/** A fresh-facts test record: a knowledge-qa one, plus `previous` (the old answer) where the fact changed. */
interface FreshRecord extends KnowledgeQaRecord {
  readonly previous?: string;
}

/**
 * Every question on a changed fact, and as many on unchanged facts of each attribute as changed
 * ones (a fixed seeded pick, the same for every seed), in country order: the unchanged-fact score
 * gets as many questions as the new-fact one, and a cell answers 298 questions, not all 744.
 */
function balancedTest(all: readonly FreshRecord[]): FreshRecord[] {
  const rng = createRng(`${CHANGE_SEED}:test`);
  const keep = new Set(all.filter((r) => r.previous !== undefined));
  for (const attribute of CHANGEABLE) {
    const changed = all.filter((r) => r.attribute === attribute && r.previous !== undefined).length;
    for (const r of rng.shuffle(all.filter((x) => x.attribute === attribute && x.previous === undefined)).slice(0, changed)) keep.add(r);
  }
  return all.filter((r) => keep.has(r));
}

function generate(seed: number) {
  const rng = createRng(`fresh-facts:${seed}`);
  const countries = loadCountries();
  const changes = factChanges(countries);
  const after = updatedCountries(countries, changes);
  const changedOf = (name: string, a: Attribute): FactChange | undefined => changes.find((c) => c.entity === name && c.attribute === a);
  const changedNames = new Set(changes.map((c) => c.entity));

  const train: KnowledgeQaRecord[] = [];
  const updateTrain: KnowledgeQaRecord[] = [];
  const test: FreshRecord[] = [];
  const trainOn = (e: Entity, attribute: Attribute, into: KnowledgeQaRecord[], idTag: string): void => {
    const docId = countryDocId(e);
    const base = { leadIn: answerLeadIn(e, attribute), attribute, entity: e.name, answer: answerOf(e, attribute), docIds: [docId] };
    rng.shuffle(QUESTION_TEMPLATES[attribute].train).slice(0, TRAIN_PHRASINGS_PER_FACT).forEach((t, k) => {
      into.push({ id: `${docId}/${attribute}/${idTag}-${k}`, question: fillTemplate(t, e.name), ...base });
    });
  };
  countries.forEach((old, i) => {
    const now = after[i]!;
    for (const attribute of attributesOf(old)) {
      // Adapted on the old facts, exactly as knowledge-qa's training set.
      trainOn(old, attribute, train, 'train');
      // The update trains on every question about a rewritten document, with the answers as they now are.
      if (changedNames.has(old.name)) trainOn(now, attribute, updateTrain, 'update');
      if (!CHANGEABLE.includes(attribute)) continue;
      const change = changedOf(old.name, attribute);
      const docId = countryDocId(now);
      test.push({
        id: `${docId}/${attribute}/test`, question: fillTemplate(rng.pick(QUESTION_TEMPLATES[attribute].test), now.name),
        leadIn: answerLeadIn(now, attribute), attribute, entity: now.name, answer: answerOf(now, attribute), docIds: [docId],
        ...(change ? { previous: change.before } : {}),
      });
    }
  });
  return {
    documents: countries.map((e) => ({ id: countryDocId(e), text: entityDocument(e) })),
    train: rng.shuffle(train),
    test: balancedTest(test),
    update: {
      documents: after.filter((e) => changedNames.has(e.name)).map((e) => ({ id: countryDocId(e), text: entityDocument(e) })),
      train: rng.shuffle(updateTrain),
    },
  };
}

/** The fresh-facts suite: knowledge-qa's prompts and budget, its questions on the changeable facts, and an update. */
export const freshFacts = builtInSuite({
  name: 'fresh-facts',
  version: '1.0.0',
  description: `knowledge-qa's 250 countries; after adaptation ${CHANGED_SHARE * 100}% of their capitals, currencies and calling codes change to fictional values (the same for every seed), `
    + 'their documents are rewritten, and every approach is updated: rag and lora-rag re-index the rewritten documents; full-ft, lora and qlora train further on them '
    + 'and their questions (update.steps), or retrain from the base on everything (update=retrain). Test: every changed fact and as many unchanged capitals, currencies and calling codes, in phrasings never trained on.',
  useCase: 'Facts that change after the model was adapted: keep answers current by re-indexing or by training again.',
  task: knowledgeQa.task,
  prompt: knowledgeQa.prompt,
  metrics: [
    { id: 'fresh.newFactAccuracy', higherIsBetter: true }, { id: 'fresh.staleRate', higherIsBetter: false }, { id: 'fresh.unchangedAccuracy', higherIsBetter: true },
    { id: 'update.wallSec', higherIsBetter: false }, { id: 'quality.exactMatch', higherIsBetter: true },
  ],
  // knowledge-qa's training budget; every changed fact and as many unchanged ones are the test set.
  budget: { train: knowledgeQa.budget.train },
  stratifyBy: 'attribute',
  update: { documents: 'update-documents.jsonl', train: 'update-train.jsonl', steps: 10 },
}, generate);
