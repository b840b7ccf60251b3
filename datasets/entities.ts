// Entities: countries with five facts. Real countries (countries.ts) and fictional ones generated
// here share one shape, so documents, questions and answers are built the same way for both.
import { continents, countries, languages } from 'countries-list';
import { createRng } from './rng.js';
import type { Rng } from './rng.js';

/** A country and its facts. An empty string means the fact is unknown and is never asked about. */
export interface Entity {
  /** Country name, e.g. "France". */
  name: string;
  /** One of CONTINENTS. */
  continent: string;
  /** Capital city; empty for countries without one. */
  capital: string;
  /** ISO-4217-style code(s), several joined as a list ("USD and USN"). */
  currency: string;
  /** Language name(s), several joined as "A, B and C". */
  languages: string;
  /** "+" then digits, e.g. "+33". */
  callingCode: string;
}

/** The facts asked about, in the order questions enumerate them. */
export const ATTRIBUTES = ['capital', 'continent', 'currency', 'languages', 'callingCode'] as const;
/** One of ATTRIBUTES. */
export type Attribute = (typeof ATTRIBUTES)[number];

/** The seven continent names countries-list uses; fictional countries draw from the same set. */
export const CONTINENTS = Object.freeze([
  'Africa', 'Antarctica', 'Asia', 'Europe', 'North America', 'Oceania', 'South America',
] as const);

/** Options for makeFictionalEntities. */
export interface FictionalOptions {
  /** Names (any case) never to generate, e.g. the pretraining entities when building held-out ones. */
  exclude?: ReadonlySet<string>;
}

/** "A", "A and B", "A, B and C": how lists of currencies and languages read in documents. */
export function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

// Every real country name, alias, native name, capital and language name: a fictional name that
// equals one would let the base model (or a real-world prior) answer without reading.
const REAL_NAMES: ReadonlySet<string> = new Set(
  [
    ...Object.values(countries).flatMap((c) => [c.name, c.native, c.capital, ...(c.alias ?? [])]),
    ...Object.values(languages).flatMap((l) => [l.name, l.native]),
    ...Object.values(continents),
  ].filter((n) => n !== '').map((n) => n.toLowerCase()),
);
const REAL_CURRENCIES: ReadonlySet<string> = new Set(Object.values(countries).flatMap((c) => c.currency));

const ONSETS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'dr', 'kr', 'st', 'th', 'sh'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'o'];
// Codas inside a word stay soft (liquids, nasals) so that any onset can follow them.
const INNER_CODAS = ['', '', '', '', 'n', 'r', 'l'];
const ENDINGS = ['', '', 'a', 'ia', 'n', 'r', 'sk', 'nd', 's', 'en', 'or'];
// Longer words are hard to read and cost a tiny model many tokens.
const MAX_WORD_LENGTH = 10;
const LANGUAGE_SUFFIXES = ['ian', 'ish', 'ese', 'ic', 'i', 'an'];
const LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];

/** A pronounceable word of `minSyl` to `maxSyl` syllables, lower case, at most MAX_WORD_LENGTH letters. */
function word(rng: Rng, minSyl = 2, maxSyl = 4): string {
  for (;;) {
    const n = minSyl + rng.int(maxSyl - minSyl + 1);
    let w = '';
    for (let i = 0; i < n; i++) {
      // A word may start with a vowel ("Orvenia"); later syllables need an onset to stay readable.
      const onset = i === 0 && rng.int(4) === 0 ? '' : rng.pick(ONSETS);
      w += onset + rng.pick(VOWELS) + (i < n - 1 ? rng.pick(INNER_CODAS) : rng.pick(ENDINGS));
    }
    if (w.length <= MAX_WORD_LENGTH) return w;
  }
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * `count` fictional countries, deterministic for `seed`. All names (countries, capitals, languages)
 * are unique, never real, never in `exclude`. Entities are generated one after another from one
 * stream, so the first k of a longer list equal the list of count k (pretraining can take a prefix).
 */
export function makeFictionalEntities(seed: string | number, count: number, opts: FictionalOptions = {}): Entity[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`makeFictionalEntities: count must be a non-negative integer, got ${count}`);
  const rng = createRng(`entities:${seed}`);
  const used = new Set<string>([...REAL_NAMES, ...[...(opts.exclude ?? [])].map((n) => n.toLowerCase())]);
  const usedCurrencies = new Set<string>(REAL_CURRENCIES);

  const fresh = (make: () => string): string => {
    for (let tries = 0; tries < 10_000; tries++) {
      const w = make();
      if (!used.has(w.toLowerCase())) { used.add(w.toLowerCase()); return w; }
    }
    throw new Error('makeFictionalEntities: ran out of unique names');
  };
  const languageName = (): string =>
    fresh(() => capitalize(word(rng, 2, 2).replace(/[aeiou]+$/, '') + rng.pick(LANGUAGE_SUFFIXES)));
  const currencyFor = (name: string): string => {
    // Like real codes, the first letter usually follows the country name ("VLK" for Veloria).
    for (let tries = 0; tries < 200; tries++) {
      const first = tries < 100 ? name.charAt(0).toUpperCase() : rng.pick(LETTERS);
      const code = first + rng.pick(LETTERS) + rng.pick(LETTERS);
      if (!usedCurrencies.has(code)) { usedCurrencies.add(code); return code; }
    }
    throw new Error('makeFictionalEntities: ran out of unique currency codes');
  };

  const out: Entity[] = [];
  for (let i = 0; i < count; i++) {
    const name = fresh(() => capitalize(word(rng)));
    const capital = fresh(() => capitalize(word(rng)));
    const continent = rng.pick(CONTINENTS);
    const currency = currencyFor(name);
    const langs = rng.int(3) === 0 ? [languageName(), languageName()] : [languageName()];
    const digits = 1 + rng.int(3);
    let callingCode = `+${1 + rng.int(9)}`;
    for (let d = 1; d < digits; d++) callingCode += String(rng.int(10));
    out.push({ name, continent, capital, currency, languages: joinList(langs), callingCode });
  }
  return out;
}
