/** Shape of a GPT-2-family decoder. Sizes are configuration, never code. */
export interface ModelConfig {
  /** Tokens in the vocabulary, special tokens included. */
  readonly vocabSize: number;
  /** Longest sequence the model attends over (positions in `wpe`). */
  readonly nCtx: number;
  /** Width of the residual stream. */
  readonly nEmbd: number;
  /** Transformer blocks. */
  readonly nLayer: number;
  /** Attention heads per block; must divide nEmbd. */
  readonly nHead: number;
}

/** The embedded default: small enough that `bench all` trains every approach on 2 CPU cores. */
export const DEFAULT_MODEL_CONFIG: ModelConfig = Object.freeze({
  vocabSize: 2048,
  nCtx: 256,
  nEmbd: 128,
  nLayer: 4,
  nHead: 4,
});

/** GPT-2 small's shape, used to check parameter accounting against the published 124,439,808. */
export const GPT2_SMALL_CONFIG: ModelConfig = Object.freeze({
  vocabSize: 50257,
  nCtx: 1024,
  nEmbd: 768,
  nLayer: 12,
  nHead: 12,
});

/** Returns the list of problems with a config (empty when valid), each naming the field. */
export function configProblems(c: ModelConfig): string[] {
  const problems: string[] = [];
  for (const key of ['vocabSize', 'nCtx', 'nEmbd', 'nLayer', 'nHead'] as const) {
    const v = c[key];
    if (!Number.isInteger(v) || v < 1) problems.push(`model.${key} must be a positive integer (got ${String(v)})`);
  }
  if (problems.length === 0 && c.nEmbd % c.nHead !== 0) {
    problems.push(`model.nEmbd (${c.nEmbd}) must be divisible by model.nHead (${c.nHead})`);
  }
  return problems;
}
