// Answer quality beyond exact match. Exact match itself lives with the prompt format
// (datasets/episodes.ts), so the answer is extracted and compared in one place.

/** SQuAD's answer normalisation: lower case, no punctuation or symbols, no articles, single spaces. */
export function normalizeAnswerTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== 'a' && w !== 'an' && w !== 'the');
}

/**
 * Token F1 between a predicted and a gold answer, as SQuAD computes it: the harmonic mean of
 * precision and recall of the shared tokens (counted with multiplicity). When either side has no
 * tokens, 1 if both are empty, else 0.
 */
export function tokenF1(predicted: string, gold: string): number {
  const p = normalizeAnswerTokens(predicted), g = normalizeAnswerTokens(gold);
  if (p.length === 0 || g.length === 0) return p.length === g.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const w of g) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      common += 1;
      counts.set(w, c - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / p.length, recall = common / g.length;
  return (2 * precision * recall) / (precision + recall);
}
