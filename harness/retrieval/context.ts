// Retrieved passages into the model's context. The prompt (passages, question, answer lead-in) must
// leave room for the answer: generation keeps only the last nCtx - maxNewTokens tokens of a prompt,
// so a longer one would lose its first passages silently. Instead the lowest-ranked passages are
// dropped, and a single passage that is still too long is cut at its end, and each prompt says so.

/** What fitting did to one prompt. */
export interface FittedPrompt {
  readonly prompt: string;
  /** Tokens of the prompt. */
  readonly tokens: number;
  /** Passages kept, in rank order (the last possibly cut). */
  readonly passages: readonly string[];
  /** Passages retrieved but dropped to fit. */
  readonly dropped: number;
  /** Whether the last kept passage was cut. */
  readonly truncated: boolean;
}

export interface PromptTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/**
 * The prompt `build(passages)` with as many of `passages` (best first) as fit in `budget` tokens. Without any passage that fits whole, the best one is cut to fit; if not
 * even the question fits, the prompt has no passage (and generation keeps its last tokens).
 */
export function fitPrompt(passages: readonly string[], render: (passages: readonly string[]) => string, tok: PromptTokenizer, budget: number): FittedPrompt {
  const build = (ps: readonly string[]): { prompt: string; tokens: number } => {
    const prompt = render(ps);
    return { prompt, tokens: tok.encode(prompt).length };
  };
  for (let n = passages.length; n >= 1; n--) {
    const kept = passages.slice(0, n);
    const p = build(kept);
    if (p.tokens <= budget) return { ...p, passages: kept, dropped: passages.length - n, truncated: false };
  }
  const bare = build([]);
  const best = passages[0];
  if (best === undefined || bare.tokens >= budget) return { ...bare, passages: [], dropped: passages.length, truncated: false };
  // The longest prefix of the best passage (in tokens) with which the prompt fits: binary search.
  const ids = tok.encode(best);
  let lo = 0, hi = ids.length;
  let fit: { prompt: string; tokens: number; text: string } | null = null;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const text = tok.decode(ids.slice(0, mid)).trimEnd();
    const p = build([text]);
    if (p.tokens <= budget) {
      fit = { ...p, text };
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  if (!fit || fit.text === '') return { ...bare, passages: [], dropped: passages.length, truncated: false };
  return { prompt: fit.prompt, tokens: fit.tokens, passages: [fit.text], dropped: passages.length - 1, truncated: true };
}
