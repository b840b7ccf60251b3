// GPT-2's tokenizer files (vocab.json + merges.txt, or Hugging Face's tokenizer.json) to and from the
// engine's byte-level BPE (./tokenizer.ts). Both are the same algorithm with the same
// pre-tokenisation; they differ only in token ids: the engine numbers byte b as id b and merge i
// as id 256 + i, while GPT-2's vocab.json assigns its own ids (its 256 byte tokens are ordered by
// its printable-character mapping). An imported vocabulary therefore comes with the permutation
// between the two numberings, which the importer applies to the embedding rows.
import { BpeTokenizer, END_OF_TEXT } from './tokenizer.js';

/**
 * GPT-2's reversible map from bytes to printable unicode characters (bytes_to_unicode in
 * openai/gpt-2 encoder.py): printable Latin-1 bytes map to themselves, the others to 256 + n.
 */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const chars: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) chars[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + n++);
  return chars;
}

/** A vocabulary file set that does not describe a GPT-2 byte-level BPE; the message names the file. */
export class TokenizerFilesError extends Error {
  readonly exitCode = 2;
}

export interface ImportedTokenizer {
  readonly tokenizer: BpeTokenizer;
  /** sourceIdOf[engineId] = the id in the files' vocabulary (row of the source embedding). */
  readonly sourceIdOf: Int32Array;
}

/**
 * The engine tokenizer for a GPT-2-style vocabulary (token string -> id, strings in GPT-2's byte
 * encoding) and merges in rank order ("left right" pairs of token strings).
 */
export function tokenizerFromVocab(vocab: Readonly<Record<string, number>>, merges: ReadonlyArray<readonly [string, string]>, where: { vocab: string; merges: string }): ImportedTokenizer {
  const fail = (file: string, what: string): never => {
    throw new TokenizerFilesError(`${file}: ${what}. Fix: give GPT-2's byte-level BPE files (vocab.json with merges.txt, as openai-community/gpt2 has them, or tokenizer.json)`);
  };
  const byteChars = bytesToUnicode();
  const engineIdOf = new Map<string, number>();
  byteChars.forEach((c, b) => engineIdOf.set(c, b));
  const pairs: Array<[number, number]> = [];
  merges.forEach(([l, r], i) => {
    const li = engineIdOf.get(l), ri = engineIdOf.get(r);
    if (li === undefined || ri === undefined) fail(where.merges, `merge ${i + 1} ("${l} ${r}") uses a token no earlier merge or byte made`);
    pairs.push([li!, ri!]);
    if (!engineIdOf.has(l + r)) engineIdOf.set(l + r, 256 + i);
    else fail(where.merges, `merge ${i + 1} ("${l} ${r}") makes "${l + r}" a second time`);
  });
  const tokenizer = new BpeTokenizer(pairs);
  const expected = tokenizer.vocabSize;
  const entries = Object.entries(vocab);
  if (entries.length !== expected) {
    fail(where.vocab, `has ${entries.length} tokens, but 256 bytes + ${merges.length} merges + ${END_OF_TEXT} make ${expected}`);
  }
  const sourceIdOf = new Int32Array(expected).fill(-1);
  const seen = new Set<number>();
  for (const [token, id] of entries) {
    if (!Number.isInteger(id) || id < 0 || id >= expected) fail(where.vocab, `token ${JSON.stringify(token)} has id ${id}, outside 0..${expected - 1}`);
    if (seen.has(id)) fail(where.vocab, `id ${id} is given to two tokens`);
    seen.add(id);
    const engineId = token === END_OF_TEXT ? tokenizer.eotId : engineIdOf.get(token);
    if (engineId === undefined) fail(where.vocab, `token ${JSON.stringify(token)} is neither a byte nor made by a merge in ${where.merges}`);
    sourceIdOf[engineId!] = id;
  }
  if (sourceIdOf.includes(-1)) fail(where.vocab, `lacks ${END_OF_TEXT} or a merged token`);
  return { tokenizer, sourceIdOf };
}

/** merges.txt: an optional "#version" line, then one "left right" pair per line. */
export function parseMergesTxt(text: string, file: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new TokenizerFilesError(`${file}: line ${i + 1} is not "left right" (got ${JSON.stringify(line.slice(0, 60))})`);
    out.push([parts[0], parts[1]]);
  });
  return out;
}

/** Hugging Face tokenizer.json: model.type "BPE" with model.vocab and model.merges ("a b" strings or [a, b] pairs). */
export function parseTokenizerJson(json: unknown, file: string): { vocab: Record<string, number>; merges: Array<[string, string]> } {
  const model = (json as { model?: { type?: unknown; vocab?: unknown; merges?: unknown } } | null)?.model;
  if (!model || model.type !== 'BPE' || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
    throw new TokenizerFilesError(`${file}: model.type must be "BPE" with model.vocab and model.merges (got type ${JSON.stringify(model?.type)})`);
  }
  const vocab = { ...(model.vocab as Record<string, number>) };
  // GPT-2's tokenizer.json keeps <|endoftext|> among added_tokens, with its id, as well as in the vocab.
  for (const t of ((json as { added_tokens?: Array<{ content: string; id: number }> }).added_tokens ?? [])) vocab[t.content] = t.id;
  const merges = (model.merges as unknown[]).map((m, i): [string, string] => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2) throw new TokenizerFilesError(`${file}: model.merges[${i}] is not a pair`);
    return [String(pair[0]), String(pair[1])];
  });
  return { vocab, merges };
}

/** vocab.json and merges.txt for an engine tokenizer, with engine ids (or `idOf` to renumber). */
export function vocabAndMerges(tokenizer: BpeTokenizer, idOf: (engineId: number) => number = (i) => i): { vocabJson: string; mergesTxt: string } {
  const byteChars = bytesToUnicode();
  const text: string[] = [...byteChars];
  const lines = ['#version: 0.2'];
  tokenizer.merges.forEach(([l, r]) => {
    lines.push(`${text[l]} ${text[r]}`);
    text.push(text[l]! + text[r]!);
  });
  const vocab: Record<string, number> = {};
  text.forEach((t, i) => { vocab[t] = idOf(i); });
  vocab[END_OF_TEXT] = idOf(tokenizer.eotId);
  return { vocabJson: JSON.stringify(vocab), mergesTxt: `${lines.join('\n')}\n` };
}

/**
 * GPT-2-style vocab and merges from tiktoken-style ranks (token bytes -> rank, rank = id). Each
 * merge is recovered as tiktoken's own conversion does: the token's bytes merged with only the
 * ranks below its own end in exactly two parts.
 */
/** `ranks` keys are token bytes as latin1 strings (one character per byte). */
export function vocabAndMergesFromRanks(ranks: ReadonlyMap<string, number>, specials: Readonly<Record<string, number>>): { vocab: Record<string, number>; merges: Array<[string, string]> } {
  const byteChars = bytesToUnicode();
  const byRank: Array<[string, number]> = [...ranks.entries()].sort((a, b) => a[1] - b[1]);
  const vocab: Record<string, number> = {};
  const merges: Array<[string, string]> = [];
  const show = (bytes: string): string => [...bytes].map((c) => byteChars[c.charCodeAt(0)]!).join('');
  for (const [token, rank] of byRank) {
    vocab[show(token)] = rank;
    if (token.length === 1) continue;
    let parts = [...token];
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = ranks.get(parts[i]! + parts[i + 1]!);
        if (r !== undefined && r < rank && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best]! + parts[best + 1]!, ...parts.slice(best + 2)];
    }
    if (parts.length !== 2) throw new Error(`rank ${rank} (${show(token)}) does not split into two lower-ranked tokens`);
    merges.push([show(parts[0]!), show(parts[1]!)]);
  }
  for (const [name, id] of Object.entries(specials)) vocab[name] = id;
  return { vocab, merges };
}
