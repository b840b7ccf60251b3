// knowledge-qa: facts about 250 real countries, asked with phrasings held out from training.
// The question is whether an approach learns facts it was told (fine-tuning) or reads them (RAG).
import { loadCountries } from '../../datasets/countries.js';
import { answerLeadIn, answerOf, attributesOf, entityDocument, fillTemplate, QUESTION_TEMPLATES } from '../../datasets/episodes.js';
import { contentHash } from '../../datasets/hash.js';
import { createRng } from '../../datasets/rng.js';
import type { Entity } from '../../datasets/entities.js';
import type { QaExample, Qrel, Suite, SuiteData } from '../types.js';

/** Train phrasings per fact: more than one, so training teaches the fact, not one sentence. */
export const TRAIN_PHRASINGS_PER_FACT = 2;

/** "Türkiye" -> "turkiye", "Cocos (Keeling) Islands" -> "cocos-keeling-islands": stable ids. */
export function slugify(name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Document id of a country. */
export function countryDocId(e: Entity): string {
  return `country/${slugify(e.name)}`;
}

function buildData(seed: number): SuiteData {
  const rng = createRng(`knowledge-qa:${seed}`);
  const countries = loadCountries();
  const documents = countries.map((e) => ({ id: countryDocId(e), text: entityDocument(e) }));
  if (new Set(documents.map((d) => d.id)).size !== documents.length) throw new Error('knowledge-qa: two countries share a document id');

  const train: QaExample[] = [];
  const test: QaExample[] = [];
  for (const e of countries) {
    const docId = countryDocId(e);
    for (const attribute of attributesOf(e)) {
      const base = { entity: e.name, attribute, leadIn: answerLeadIn(e, attribute), answer: answerOf(e, attribute), docId };
      const templates = QUESTION_TEMPLATES[attribute];
      rng.shuffle(templates.train).slice(0, TRAIN_PHRASINGS_PER_FACT).forEach((t, k) => {
        train.push({ id: `${docId}/${attribute}/train-${k}`, question: fillTemplate(t, e.name), ...base });
      });
      test.push({ id: `${docId}/${attribute}/test`, question: fillTemplate(rng.pick(templates.test), e.name), ...base });
    }
  }
  // Training order is shuffled per seed; test order stays by country, so reports line up across seeds.
  const trainShuffled = rng.shuffle(train);
  const qrels: Qrel[] = [...trainShuffled, ...test].map((q) => ({ queryId: q.id, docId: q.docId, relevance: 1 }));
  const data = { documents, train: trainShuffled, test, qrels };
  return { ...data, contentHash: contentHash(data) };
}

/** The knowledge-qa suite. */
export const knowledgeQa: Suite = Object.freeze({
  name: 'knowledge-qa',
  version: '1.0.0',
  description: 'Capital, continent, currency, languages and calling code of 250 countries (countries-list); one document per country; test questions use phrasings never trained on.',
  useCase: 'Answer questions about facts the base model never saw: inject knowledge by fine-tuning or retrieve it (RAG).',
  buildData,
  budget: {
    // Fine-tuning (full-ft, lora, qlora alike): sized so one fine-tuning cell of the default model
    // takes about 3 minutes on 2 CPU cores, evaluation included (see README, "Approaches").
    train: { steps: 100, batchSize: 16, seqLen: 128 },
  },
});
