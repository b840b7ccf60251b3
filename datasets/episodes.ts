// THE FORMAT CONTRACT. Documents, prompts and answers for every suite, for pretraining and for RAG
// are built only here. The answer sentence a model completes is word for word a sentence of the
// entity's document, so answering from a retrieved passage is an induction-style copy that a tiny
// model can learn during pretraining.
import { ATTRIBUTES } from './entities.js';
import type { Attribute, Entity } from './entities.js';
import type { Rng } from './rng.js';

/** Every fixed string of the format, in one frozen table. `{name}` stands for the entity's name. */
export const FORMAT = Object.freeze({
  /** Sentence openings: the document sentence is `{leadIn} {value}.`, the answer starts after `A: {leadIn}`. */
  leadIns: Object.freeze({
    continent: '{name} is a country in',
    capital: 'The capital of {name} is',
    currency: 'The currency of {name} is',
    languageOne: 'The language of {name} is',
    languageMany: 'The languages of {name} are',
    callingCode: 'The calling code of {name} is',
  }),
  /** The order of sentences in an entity document. */
  documentOrder: Object.freeze(['continent', 'capital', 'currency', 'languages', 'callingCode'] as const),
  /** Starts the question line of a prompt. */
  questionPrefix: 'Q: ',
  /** Starts the answer line of a prompt. */
  answerPrefix: 'A: ',
  /** What follows the answer: a generated answer ends at its first newline. */
  answerEnd: '.\n',
});

/** Question phrasings per attribute. `test` phrasings never appear in any training text. */
export const QUESTION_TEMPLATES: Readonly<Record<Attribute, { readonly train: readonly string[]; readonly test: readonly string[] }>> = Object.freeze({
  capital: Object.freeze({
    train: Object.freeze(['What is the capital of {name}?', 'Which city is the capital of {name}?', 'Name the capital city of {name}.']),
    test: Object.freeze(['What city serves as the seat of government of {name}?', '{name} has its capital in which city?']),
  }),
  continent: Object.freeze({
    train: Object.freeze(['On which continent is {name}?', 'Which continent is {name} located in?', 'Name the continent where {name} lies.']),
    test: Object.freeze(['{name} belongs to which continent?', 'In what part of the world is {name} found?']),
  }),
  currency: Object.freeze({
    train: Object.freeze(['What is the currency of {name}?', 'Which currency is used in {name}?', 'Name the currency of {name}.']),
    test: Object.freeze(['What money do people pay with in {name}?', '{name} uses which currency code?']),
  }),
  languages: Object.freeze({
    train: Object.freeze(['What language is spoken in {name}?', 'Which languages are spoken in {name}?', 'Name the language of {name}.']),
    test: Object.freeze(['What do people in {name} speak?', '{name} is home to speakers of which language?']),
  }),
  callingCode: Object.freeze({
    train: Object.freeze(['What is the calling code of {name}?', 'Which telephone code does {name} use?', 'Name the international dialing code of {name}.']),
    test: Object.freeze(['To phone {name} from abroad, which prefix do you dial?', '{name} can be reached by telephone with which country code?']),
  }),
});

/** Which set of question phrasings to draw from. */
export type Phrasing = 'train' | 'test';

/** Puts the entity name into a template (a function replacer, so "$" in a name stays literal). */
export function fillTemplate(template: string, name: string): string {
  return template.replaceAll('{name}', () => name);
}

/** The attributes of `e` that have a value, in ATTRIBUTES order: only these are written or asked. */
export function attributesOf(e: Entity): Attribute[] {
  return ATTRIBUTES.filter((a) => e[a] !== '');
}

/** The value of `attr` for `e`: the gold answer. */
export function answerOf(e: Entity, attr: Attribute): string {
  return e[attr];
}

/** The start of the sentence stating `attr` of `e`, without the value (e.g. "The capital of France is"). */
export function answerLeadIn(e: Entity, attr: Attribute): string {
  const t = FORMAT.leadIns;
  const template = attr === 'languages' ? (e.languages.includes(' and ') ? t.languageMany : t.languageOne) : t[attr];
  return fillTemplate(template, e.name);
}

/** The one-line document of `e`: one sentence per known attribute, in FORMAT.documentOrder. */
export function entityDocument(e: Entity): string {
  return FORMAT.documentOrder
    .filter((a) => e[a] !== '')
    .map((a) => `${answerLeadIn(e, a)} ${e[a]}.`)
    .join(' ');
}

/** What a prompt is built from. */
export interface PromptParts {
  /** Context lines (entity documents) before the question; empty for closed-book. */
  passages: readonly string[];
  /** The question text. */
  question: string;
  /** The answer lead-in the prompt ends with (answerLeadIn). */
  leadIn: string;
}

/** `{passage}\n...Q: {question}\nA: {leadIn}`: the model continues with formatTarget(answer). */
export function formatPrompt(p: PromptParts): string {
  return `${p.passages.map((line) => `${line}\n`).join('')}${FORMAT.questionPrefix}${p.question}\n${FORMAT.answerPrefix}${p.leadIn}`;
}

/** The continuation trained on and expected after formatPrompt: " {answer}.\n". */
export function formatTarget(answer: string): string {
  return ` ${answer}${FORMAT.answerEnd}`;
}

/** The answer in generated text: up to the first newline, trimmed, one trailing "." removed. */
export function extractAnswer(generated: string): string {
  const nl = generated.indexOf('\n');
  const line = (nl === -1 ? generated : generated.slice(0, nl)).trim();
  return (line.endsWith('.') ? line.slice(0, -1) : line).trim();
}

const normalizeSpace = (s: string): string => s.trim().replace(/\s+/g, ' ');

/** Exact match after whitespace normalisation; case-sensitive, since names and codes are. */
export function exactMatch(pred: string, gold: string): boolean {
  return normalizeSpace(pred) === normalizeSpace(gold);
}

/** One evaluation item of an episode. */
export interface EpisodeQa {
  /** Passage plus one question, ending with the lead-in (formatPrompt). */
  prompt: string;
  /** Gold answer (without the final "."). */
  answer: string;
}

/** A reading-comprehension episode. */
export interface Episode {
  /** Training text: passage lines, then `Q: ...\nA: {leadIn} {answer}.\n` per question. */
  text: string;
  /** One prompt per question, each with the whole passage, for evaluation. */
  qa: EpisodeQa[];
}

/** Options for makeEpisode. */
export interface EpisodeOptions {
  /** Entity documents in the passage (distinct entities). */
  nDocs: number;
  /** Questions about the passage (distinct entity-attribute pairs). */
  nQuestions: number;
  /** Which question phrasings to use. */
  phrasing: Phrasing;
}

/**
 * A passage of `nDocs` distinct entity documents in random order and `nQuestions` questions about
 * distinct facts stated in it. Deterministic given the rng state.
 */
export function makeEpisode(rng: Rng, entities: readonly Entity[], opts: EpisodeOptions): Episode {
  const { nDocs, nQuestions, phrasing } = opts;
  if (!Number.isInteger(nDocs) || nDocs < 1 || nDocs > entities.length) {
    throw new RangeError(`makeEpisode: nDocs must be an integer in [1, ${entities.length}], got ${nDocs}`);
  }
  // Rejection sampling: O(nDocs) per episode, where shuffling all entities would be O(entities).
  const chosen = new Set<number>();
  const order: Entity[] = [];
  while (order.length < nDocs) {
    const i = rng.int(entities.length);
    if (chosen.has(i)) continue;
    chosen.add(i);
    order.push(entities[i] as Entity);
  }
  const facts = rng.shuffle(order.flatMap((e) => attributesOf(e).map((attr) => ({ e, attr }))));
  if (!Number.isInteger(nQuestions) || nQuestions < 1 || nQuestions > facts.length) {
    throw new RangeError(`makeEpisode: nQuestions must be an integer in [1, ${facts.length}], got ${nQuestions}`);
  }
  const passages = order.map(entityDocument);
  let text = passages.map((line) => `${line}\n`).join('');
  const qa: EpisodeQa[] = [];
  for (const { e, attr } of facts.slice(0, nQuestions)) {
    const question = fillTemplate(rng.pick(QUESTION_TEMPLATES[attr][phrasing]), e.name);
    const leadIn = answerLeadIn(e, attr);
    const answer = answerOf(e, attr);
    text += `${FORMAT.questionPrefix}${question}\n${FORMAT.answerPrefix}${leadIn}${formatTarget(answer)}`;
    qa.push({ prompt: formatPrompt({ passages, question, leadIn }), answer });
  }
  return { text, qa };
}
