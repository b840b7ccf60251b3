// Byte-level BPE, as GPT-2 does it: text is split by GPT-2's pre-tokenisation pattern, each piece is
// taken as UTF-8 bytes, and learned merges join adjacent symbols by rank. Trained on the base corpus
// only, never on task data, so task facts are not baked into the vocabulary.

/** GPT-2's pre-tokenisation pattern: contractions, letters, digits, other symbols, whitespace. */
const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export const END_OF_TEXT = '<|endoftext|>';

export interface TokenizerJSON {
  readonly type: 'byte-bpe';
  /** Merges in rank order, each a pair of token ids joined into id 256 + rank. */
  readonly merges: ReadonlyArray<readonly [number, number]>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export class BpeTokenizer {
  /** Token id -> its bytes. Ids 0-255 are the bytes themselves. */
  private readonly bytesOf: Uint8Array[];
  /** "left,right" -> rank of that merge (lower merges first). */
  private readonly rank = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  readonly merges: ReadonlyArray<readonly [number, number]>;

  constructor(merges: ReadonlyArray<readonly [number, number]>) {
    this.merges = merges;
    this.bytesOf = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));
    merges.forEach(([l, r], i) => {
      const left = this.bytesOf[l], right = this.bytesOf[r];
      if (!left || !right) throw new Error(`tokenizer merge ${i} refers to an unknown token (${l}, ${r})`);
      const joined = new Uint8Array(left.length + right.length);
      joined.set(left);
      joined.set(right, left.length);
      this.bytesOf.push(joined);
      this.rank.set(`${l},${r}`, i);
    });
  }

  /** Vocabulary size: 256 bytes + merges + the end-of-text token. */
  get vocabSize(): number {
    return 256 + this.merges.length + 1;
  }

  /** Id of `<|endoftext|>`, the last id: separates documents and ends a generation. */
  get eotId(): number {
    return 256 + this.merges.length;
  }

  /** Learns `vocabSize - 257` merges from `texts`, deterministically (ties go to the lower pair). */
  static train(texts: Iterable<string>, vocabSize: number): BpeTokenizer {
    const nMerges = vocabSize - 257;
    if (!Number.isInteger(nMerges) || nMerges < 0) throw new Error(`tokenizer vocabSize must be an integer >= 257 (got ${vocabSize})`);
    // Word -> frequency; BPE never merges across pre-tokenised pieces, so words are independent.
    const freq = new Map<string, number>();
    for (const text of texts) for (const w of text.match(PRETOKENIZE) ?? []) freq.set(w, (freq.get(w) ?? 0) + 1);
    const words: number[][] = [];
    const counts: number[] = [];
    for (const [w, c] of [...freq.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      words.push([...encoder.encode(w)]);
      counts.push(c);
    }
    const key = (l: number, r: number): number => l * 65536 + r;
    const pairCount = new Map<number, number>();
    const pairWords = new Map<number, Set<number>>();
    const addWord = (wi: number, sign: number): void => {
      const w = words[wi]!;
      for (let i = 0; i + 1 < w.length; i++) {
        const k = key(w[i]!, w[i + 1]!);
        pairCount.set(k, (pairCount.get(k) ?? 0) + sign * counts[wi]!);
        if (sign > 0) {
          let s = pairWords.get(k);
          if (!s) pairWords.set(k, (s = new Set()));
          s.add(wi);
        }
      }
    };
    words.forEach((_, wi) => addWord(wi, 1));
    const merges: Array<[number, number]> = [];
    for (let m = 0; m < nMerges; m++) {
      let best = -1, bestCount = 0;
      for (const [k, c] of pairCount) if (c > bestCount || (c === bestCount && c > 0 && k < best)) { best = k; bestCount = c; }
      if (best < 0 || bestCount < 1) break;
      const l = Math.floor(best / 65536), r = best % 65536, id = 256 + m;
      merges.push([l, r]);
      for (const wi of [...(pairWords.get(best) ?? [])].sort((a, b) => a - b)) {
        const w = words[wi]!;
        addWord(wi, -1);
        const out: number[] = [];
        for (let i = 0; i < w.length; i++) {
          if (i + 1 < w.length && w[i] === l && w[i + 1] === r) { out.push(id); i++; } else out.push(w[i]!);
        }
        words[wi] = out;
        addWord(wi, 1);
      }
      pairCount.delete(best);
      pairWords.delete(best);
    }
    return new BpeTokenizer(merges);
  }

  private encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    let ids = [...encoder.encode(word)];
    for (;;) {
      let bestRank = Infinity, at = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.rank.get(`${ids[i]},${ids[i + 1]}`);
        if (r !== undefined && r < bestRank) { bestRank = r; at = i; }
      }
      if (at < 0) break;
      const [l, r] = this.merges[bestRank]!;
      const out: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === l && ids[i + 1] === r) { out.push(256 + bestRank); i++; } else out.push(ids[i]!);
      }
      ids = out;
    }
    if (this.cache.size < 200_000) this.cache.set(word, ids);
    return ids;
  }

  /** Token ids of `text`; the literal `<|endoftext|>` becomes the end-of-text id. */
  encode(text: string): number[] {
    const out: number[] = [];
    const parts = text.split(END_OF_TEXT);
    parts.forEach((part, i) => {
      if (i > 0) out.push(this.eotId);
      for (const w of part.match(PRETOKENIZE) ?? []) for (const id of this.encodeWord(w)) out.push(id);
    });
    return out;
  }

  decode(ids: readonly number[]): string {
    const chunks: Uint8Array[] = [];
    let n = 0;
    let text = '';
    const flush = (): void => {
      const all = new Uint8Array(n);
      let o = 0;
      for (const c of chunks) { all.set(c, o); o += c.length; }
      text += decoder.decode(all);
      chunks.length = 0;
      n = 0;
    };
    for (const id of ids) {
      if (id === this.eotId) { flush(); text += END_OF_TEXT; continue; }
      const b = this.bytesOf[id];
      if (!b) throw new Error(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      chunks.push(b);
      n += b.length;
    }
    flush();
    return text;
  }

  toJSON(): TokenizerJSON {
    return { type: 'byte-bpe', merges: this.merges.map(([l, r]) => [l, r] as const) };
  }

  static fromJSON(json: TokenizerJSON): BpeTokenizer {
    if (json.type !== 'byte-bpe' || !Array.isArray(json.merges)) throw new Error('tokenizer JSON is not a byte-bpe tokenizer');
    return new BpeTokenizer(json.merges);
  }
}
