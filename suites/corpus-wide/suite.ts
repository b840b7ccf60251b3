// corpus-wide: questions whose answer needs many or all of the 250 country documents (counts, the
// continent with the most, short lists), with gold answers computed from the data. Top-k retrieval
// puts only a few documents in a small model's context, so this is where RAG's reach ends; the
// cell measures how much of the evidence each answer needs reached the prompt (evidence coverage)
// at k = 1, 3, 10 and as many as fit (kSweep).
import { loadCountries } from '../../datasets/countries.js';
import type { Entity } from '../../datasets/entities.js';
import { entityDocument, FORMAT } from '../../datasets/episodes.js';
import { joinList } from '../../datasets/entities.js';
import { createRng } from '../../datasets/rng.js';
import { builtInSuite } from '../built-in.js';
import { countryDocId } from '../knowledge-qa/suite.js';

/** Train phrasings per training aggregate, as knowledge-qa: more than one, so training teaches the question, not one sentence. */
export const TRAIN_PHRASINGS_PER_AGGREGATE = 2;
/** Lists name at most this many countries; a condition more countries meet is asked as a count. */
export const MAX_LIST = 4;
/** A count or the continent with the most is asked only where at least this many countries meet the condition (fewer are asked as a list). */
export const MIN_COUNT = MAX_LIST + 1;
/** Share of each family's aggregates held out for test (rounded up). */
export const TEST_SHARE = 0.5;

/** What the answer sentence opens with, by the kind of answer. */
const LEAD_INS = Object.freeze({ count: 'The number is', continent: 'The continent is', list: 'The countries are' });

/**
 * A family of aggregates: one condition on a country, asked as a count, a list or the continent with
 * the most; each value of its parameter is one aggregate. `{value}` in a phrasing is that value.
 */
interface Family {
  readonly answer: keyof typeof LEAD_INS;
  /** Phrasings of training questions; `test` phrasings never appear in training. */
  readonly train: readonly string[];
  readonly test: readonly string[];
}

export const FAMILIES = Object.freeze({
  'continent-count': {
    answer: 'count',
    train: ['How many of these countries are in {value}?', 'Count the countries located in {value}.', 'What is the number of countries in {value}?'],
    test: ['In total, how many of the countries lie in {value}?', '{value} is home to how many of the countries?'],
  },
  'currency-count': {
    answer: 'count',
    train: ['How many countries use the currency {value}?', 'Count the countries whose currency is {value}.', 'What is the number of countries that pay with {value}?'],
    test: ['{value} is the currency of how many countries?', 'In how many of the countries is {value} used as money?'],
  },
  'language-count': {
    answer: 'count',
    train: ['How many countries list {value} as a language?', 'Count the countries where {value} is spoken.', 'What is the number of countries with {value} among their languages?'],
    test: ['{value} is a language of how many countries?', 'In how many of the countries do people speak {value}?'],
  },
  'calling-count': {
    answer: 'count',
    train: ['How many countries have a calling code starting with {value}?', 'Count the countries whose calling code begins with {value}.', 'What is the number of calling codes that start with {value}?'],
    test: ['For how many of the countries does the dialing prefix open with {value}?', 'How many of the countries are reached by a telephone code beginning {value}?'],
  },
  'currency-list': {
    answer: 'list',
    train: ['Name the countries that use the currency {value}.', 'Which countries pay with {value}? List them alphabetically.', 'List the countries whose currency is {value}.'],
    test: ['In alphabetical order, which of the countries have {value} as money?', '{value} is the currency of which countries, alphabetically?'],
  },
  'language-list': {
    answer: 'list',
    train: ['Name the countries that list {value} as a language.', 'Which countries speak {value}? List them alphabetically.', 'List the countries with {value} among their languages.'],
    test: ['In alphabetical order, in which of the countries do people speak {value}?', '{value} is a language of which countries, alphabetically?'],
  },
  'calling-list': {
    answer: 'list',
    train: ['Name the countries whose calling code starts with {value}.', 'Which countries have a calling code beginning with {value}? List them alphabetically.', 'List the countries with calling codes that start with {value}.'],
    test: ['In alphabetical order, which of the countries are reached by a telephone code beginning {value}?', 'Dialing prefixes that open with {value} belong to which countries, alphabetically?'],
  },
  'currency-most': {
    answer: 'continent',
    train: ['Which continent has the most countries that use {value}?', 'On which continent do the most countries pay with {value}?', 'Name the continent with the largest number of countries whose currency is {value}.'],
    test: ['Where in the world is {value} the money of the greatest number of countries?', 'Of all continents, which counts the most countries using {value}?'],
  },
  'language-most': {
    answer: 'continent',
    train: ['Which continent has the most countries that list {value} as a language?', 'On which continent do the most countries speak {value}?', 'Name the continent with the largest number of countries where {value} is spoken.'],
    test: ['Where in the world do the greatest number of countries speak {value}?', 'Of all continents, which counts the most countries with {value} among their languages?'],
  },
  'calling-most': {
    answer: 'continent',
    train: ['Which continent has the most countries whose calling code starts with {value}?', 'On which continent do the most calling codes begin with {value}?', 'Name the continent with the largest number of calling codes starting with {value}.'],
    test: ['Where in the world do the greatest number of telephone codes open with {value}?', 'Of all continents, which counts the most countries dialled with a prefix beginning {value}?'],
  },
} satisfies Record<string, Family>);

export type FamilyName = keyof typeof FAMILIES;

/** One aggregate: a family and its value, with its gold answer and the documents that answer needs. */
export interface Aggregate {
  /** `family/value`: what train and test never share. */
  readonly key: string;
  readonly family: FamilyName;
  readonly value: string;
  readonly answer: string;
  /** The countries meeting the condition (those counted, named or compared), sorted. */
  readonly docIds: readonly string[];
}

/** One corpus-wide record, as a line of train.jsonl or test.jsonl would hold it. */
export interface CorpusWideRecord {
  readonly id: string;
  readonly question: string;
  readonly leadIn: string;
  readonly family: string;
  readonly aggregate: string;
  readonly answer: string;
  readonly docIds: readonly string[];
}

/** The items of a fact stated as a list ("USD and USN", "Pashto, Persian and Uzbek"). */
const items = (list: string): string[] => (list === '' ? [] : list.split(/, | and /));
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Countries grouped by each value of a condition, e.g. currency code -> countries using it. */
function groups(countries: readonly Entity[], valuesOf: (e: Entity) => readonly string[]): Map<string, Entity[]> {
  const out = new Map<string, Entity[]>();
  for (const e of countries) for (const v of new Set(valuesOf(e))) out.set(v, [...(out.get(v) ?? []), e]);
  return out;
}

/**
 * The calling-code prefixes ("+3", "+35", "+358") and the countries whose code starts with each;
 * a prefix met by exactly the countries of a shorter one asks the same question and is left out.
 */
function prefixGroups(countries: readonly Entity[]): Map<string, Entity[]> {
  const all = groups(countries, (e) => [...e.callingCode].slice(1).map((_, i) => e.callingCode.slice(0, i + 2)));
  return new Map([...all].filter(([p, es]) => p.length === 2 || all.get(p.slice(0, -1))!.length !== es.length));
}

/** The continent most of `es` are in, or null when two continents tie. */
function mostCommonContinent(es: readonly Entity[]): string | null {
  const counts = [...groups(es, (e) => [e.continent])].map(([c, xs]) => ({ c, n: xs.length })).sort((a, b) => b.n - a.n || byName(a.c, b.c));
  return counts.length > 1 && counts[0]!.n === counts[1]!.n ? null : counts[0]!.c;
}

/** Every aggregate the data allows, in a fixed order (family, then value). */
export function aggregates(countries: readonly Entity[] = loadCountries()): Aggregate[] {
  const out: Aggregate[] = [];
  const add = (family: FamilyName, value: string, answer: string, es: readonly Entity[]): void => {
    out.push({ key: `${family}/${value}`, family, value, answer, docIds: es.map(countryDocId).sort(byName) });
  };
  const conditions: Array<[string, Map<string, Entity[]>]> = [
    ['currency', groups(countries, (e) => items(e.currency))],
    ['language', groups(countries, (e) => items(e.languages))],
    ['calling', prefixGroups(countries)],
  ];
  for (const [c, es] of [...groups(countries, (e) => [e.continent])].sort((a, b) => byName(a[0], b[0]))) add('continent-count', c, String(es.length), es);
  for (const [kind, byValue] of conditions) {
    for (const [value, es] of [...byValue].sort((a, b) => byName(a[0], b[0]))) {
      if (es.length >= MIN_COUNT) add(`${kind}-count` as FamilyName, value, String(es.length), es);
      if (es.length >= 2 && es.length <= MAX_LIST) add(`${kind}-list` as FamilyName, value, joinList(es.map((e) => e.name).sort(byName)), es);
      const most = es.length >= MIN_COUNT ? mostCommonContinent(es) : null;
      if (most !== null) add(`${kind}-most` as FamilyName, value, most, es);
    }
  }
  return out;
}

/**
 * Which aggregates are held out for test: within each family, TEST_SHARE of them (rounded up) by a
 * fixed shuffle, the same for every seed, so the test set does not change with it.
 */
export function testAggregateKeys(all: readonly Aggregate[]): Set<string> {
  const rng = createRng('corpus-wide:split');
  const out = new Set<string>();
  for (const family of Object.keys(FAMILIES)) {
    const members = all.filter((a) => a.family === family);
    for (const a of rng.shuffle(members).slice(0, Math.ceil(TEST_SHARE * members.length))) out.add(a.key);
  }
  return out;
}

function generate(seed: number): { documents: Array<{ id: string; text: string }>; train: CorpusWideRecord[]; test: CorpusWideRecord[] } {
  const rng = createRng(`corpus-wide:${seed}`);
  const countries = loadCountries();
  const documents = countries.map((e) => ({ id: countryDocId(e), text: entityDocument(e) }));
  const all = aggregates(countries);
  const held = testAggregateKeys(all);
  const train: CorpusWideRecord[] = [];
  const test: CorpusWideRecord[] = [];
  for (const a of all) {
    const family: Family = FAMILIES[a.family];
    const base = { leadIn: LEAD_INS[family.answer], family: a.family, aggregate: a.key, answer: a.answer, docIds: a.docIds };
    const ask = (t: string): string => t.replaceAll('{value}', () => a.value);
    if (held.has(a.key)) {
      test.push({ id: `${a.key}/test`, question: ask(rng.pick(family.test)), ...base });
    } else {
      rng.shuffle(family.train).slice(0, TRAIN_PHRASINGS_PER_AGGREGATE).forEach((t, k) => {
        train.push({ id: `${a.key}/train-${k}`, question: ask(t), ...base });
      });
    }
  }
  // Training order is shuffled per seed; test order stays by aggregate, so reports line up across seeds.
  return { documents, train: rng.shuffle(train), test };
}

/** The corpus-wide suite: its suite.json, as a user's folder would hold it, and its generator. */
export const corpusWide = builtInSuite({
  name: 'corpus-wide',
  version: '1.0.0',
  description: 'Counts, the continent with the most, and short alphabetical lists (at most 4 names) over the 250 country documents of knowledge-qa, gold computed from countries-list. Train and test ask different aggregates (each family\'s values split in half by a fixed shuffle) in different phrasings. An example\'s docIds are the countries that meet its condition (counted, named or compared).',
  useCase: 'Answer questions over the whole corpus (how many, which has the most): where top-k retrieval sees only a few documents.',
  task: { type: 'generate', normalize: ['whitespace'], maxNewTokens: 24 },
  prompt: {
    template: `${FORMAT.questionPrefix}{question}\n${FORMAT.answerPrefix}{leadIn}`,
    target: ` {answer}${FORMAT.answerEnd}`,
    passage: '{text}\n',
    query: '{question}',
  },
  metrics: [{ id: 'quality.exactMatch', higherIsBetter: true }, { id: 'quality.tokenF1', higherIsBetter: true }],
  budget: { train: { steps: 40, batchSize: 16, seqLen: 128 } },
  stratifyBy: 'family',
  kSweep: true,
}, generate);
