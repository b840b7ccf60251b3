// Real facts for the knowledge-qa suite: countries-list's countries as Entity records.
import { continents, countries, languages } from 'countries-list';
import { joinList } from './entities.js';
import type { Entity } from './entities.js';

/**
 * Codes countries-list has beyond the 249 ISO 3166-1 assigned codes plus Kosovo: Ascension Island
 * and Tristan da Cunha are "exceptionally reserved" codes, parts of Saint Helena (SH), which is
 * kept. Leaving them out gives the 250 countries the design names.
 */
export const EXCLUDED_COUNTRY_CODES: ReadonlySet<string> = new Set(['AC', 'TA']);

let cache: Entity[] | undefined;

/** The 250 countries as entities, sorted by name (code-unit order, independent of the locale); fresh copies each call. */
export function loadCountries(): Entity[] {
  if (cache) return cache.map((e) => ({ ...e }));
  const out: Entity[] = [];
  for (const [code, c] of Object.entries(countries)) {
    if (EXCLUDED_COUNTRY_CODES.has(code)) continue;
    const phone = c.phone[0];
    out.push({
      name: c.name,
      continent: continents[c.continent],
      capital: c.capital,
      currency: joinList(c.currency),
      languages: joinList(c.languages.map((l) => languages[l].name)),
      callingCode: phone === undefined ? '' : `+${phone}`,
    });
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  cache = out;
  return out.map((e) => ({ ...e }));
}
