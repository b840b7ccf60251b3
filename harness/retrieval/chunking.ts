// Documents into retrievable chunks. Default: one chunk per document (knowledge-qa's documents are
// one line each). With a chunk size, whole sentences are packed into chunks of at most that many
// tokens of the base tokenizer (the unit the prompt's context is counted in).
import { RetrievalInputError } from './vectors.js';

export interface Chunk {
  /** `${docId}` for whole documents, `${docId}#${i}` for the i-th chunk of a split one. */
  readonly id: string;
  readonly docId: string;
  readonly text: string;
}

export interface ChunkingReport {
  readonly chunks: Chunk[];
  /** Chunks longer than the chunk size: one sentence that alone exceeds it (kept whole). */
  readonly oversized: number;
}

/** "St.", "U.S.", "D.C.": a period that does not end a sentence. */
const ABBREVIATION = /(?:^|\s)(?:(?:\p{Lu}\.)+|(?:St|Mt|Dr|Mr|Mrs|Ms|No)\.)$/u;

/** Sentences of a text: split after . ! ? followed by white space, except after abbreviations. */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const piece of text.trim().split(/(?<=[.!?])\s+/)) {
    if (piece === '') continue;
    const last = out.length - 1;
    if (last >= 0 && ABBREVIATION.test(out[last]!)) out[last] = `${out[last]!} ${piece}`;
    else out.push(piece);
  }
  return out;
}

/**
 * Chunks of every document. `chunkTokens` 0 keeps documents whole; otherwise consecutive sentences
 * are packed while the chunk stays within `chunkTokens` tokens (`countTokens`).
 */
export function chunkDocuments(docs: ReadonlyArray<{ readonly id: string; readonly text: string }>, chunkTokens: number, countTokens: (text: string) => number): ChunkingReport {
  if (!Number.isInteger(chunkTokens) || chunkTokens < 0) throw new RetrievalInputError(`chunk size must be a non-negative integer number of tokens, 0 for whole documents (got ${chunkTokens})`);
  if (docs.length === 0) throw new RetrievalInputError('the corpus to index is empty (0 documents). Fix: give the suite at least one document');
  const chunks: Chunk[] = [];
  let oversized = 0;
  for (const doc of docs) {
    if (chunkTokens === 0) {
      chunks.push({ id: doc.id, docId: doc.id, text: doc.text });
      continue;
    }
    const parts: string[] = [];
    let current = '';
    for (const s of sentences(doc.text)) {
      const joined = current === '' ? s : `${current} ${s}`;
      if (current !== '' && countTokens(joined) > chunkTokens) {
        parts.push(current);
        current = s;
      } else {
        current = joined;
      }
    }
    if (current !== '') parts.push(current);
    parts.forEach((text, i) => {
      if (countTokens(text) > chunkTokens) oversized += 1;
      chunks.push({ id: `${doc.id}#${i}`, docId: doc.id, text });
    });
  }
  if (chunks.every((c) => c.text.trim() === '')) throw new RetrievalInputError('the corpus to index has no text (every document is empty). Fix: give documents with text');
  return { chunks, oversized };
}
