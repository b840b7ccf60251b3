// knowledge-qa: facts about 250 real countries, asked with phrasings held out from training.
// The question is whether an approach learns facts it was told (fine-tuning) or reads them (RAG).
// Its records are generated in code, in the form a user's JSONL files hold, and validated the same way.
import { loadCountries } from '../../datasets/countries.js';
import { answerLeadIn, answerOf, attributesOf, entityDocument, fillTemplate, FORMAT, QUESTION_TEMPLATES } from '../../datasets/episodes.js';
import { createRng } from '../../datasets/rng.js';
import type { Entity } from '../../datasets/entities.js';
import { builtInSuite } from '../built-in.js';

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

/** One knowledge-qa record, as a line of train.jsonl or test.jsonl would hold it. */
export interface KnowledgeQaRecord {
  readonly id: string;
  readonly question: string;
  readonly leadIn: string;
  readonly attribute: string;
  readonly entity: string;
  readonly answer: string;
  readonly docIds: readonly string[];
}

function generate(seed: number): { documents: Array<{ id: string; text: string }>; train: KnowledgeQaRecord[]; test: KnowledgeQaRecord[] } {
  const rng = createRng(`knowledge-qa:${seed}`);
  const countries = loadCountries();
  const documents = countries.map((e) => ({ id: countryDocId(e), text: entityDocument(e) }));
  const train: KnowledgeQaRecord[] = [];
  const test: KnowledgeQaRecord[] = [];
  for (const e of countries) {
    const docId = countryDocId(e);
    for (const attribute of attributesOf(e)) {
      const base = { leadIn: answerLeadIn(e, attribute), attribute, entity: e.name, answer: answerOf(e, attribute), docIds: [docId] };
      const templates = QUESTION_TEMPLATES[attribute];
      rng.shuffle(templates.train).slice(0, TRAIN_PHRASINGS_PER_FACT).forEach((t, k) => {
        train.push({ id: `${docId}/${attribute}/train-${k}`, question: fillTemplate(t, e.name), ...base });
      });
      test.push({ id: `${docId}/${attribute}/test`, question: fillTemplate(rng.pick(templates.test), e.name), ...base });
    }
  }
  // Training order is shuffled per seed; test order stays by country, so reports line up across seeds.
  return { documents, train: rng.shuffle(train), test };
}

/** The knowledge-qa suite: its suite.json, as a user's folder would hold it, and its generator. */
export const knowledgeQa = builtInSuite({
  name: 'knowledge-qa',
  version: '1.0.0',
  description: 'Capital, continent, currency, languages and calling code of 250 countries (countries-list); one document per country; test questions use phrasings never trained on.',
  useCase: 'Answer questions about facts the base model never saw: inject knowledge by fine-tuning or retrieve it (RAG).',
  task: { type: 'generate', normalize: ['whitespace'], maxNewTokens: 24 },
  prompt: {
    // The answer sentence a model completes is word for word a sentence of the country's document.
    template: `${FORMAT.questionPrefix}{question}\n${FORMAT.answerPrefix}{leadIn}`,
    target: ` {answer}${FORMAT.answerEnd}`,
    passage: '{text}\n',
    query: '{question}',
  },
  metrics: [{ id: 'quality.exactMatch', higherIsBetter: true }, { id: 'quality.tokenF1', higherIsBetter: true }],
  // Sized so that `bench all` (four suites, every approach, 3 seeds) fits in 45 minutes on 2 idle
  // cores: 50 steps (0.9 passes over the data) and a stratified 600 of the 1243 test questions.
  // README, "Where bench all's time goes", says what the halved budget cost.
  budget: { train: { steps: 50, batchSize: 16, seqLen: 128 }, testExamples: 600 },
  stratifyBy: 'attribute',
}, generate);
