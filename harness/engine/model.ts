// A GPT-2-family decoder in tfjs, with GPT-2's parameter names and Conv1D layout, so parameter
// accounting is exact and real GPT-2 weights could be imported. Pre-norm blocks, fused q,k,v in
// `attn.c_attn`, tanh-approximated GELU (GPT-2's "gelu_new"), LM head tied to `wte`.
import { tf } from './backend.js';
import type { ModelConfig } from './config.js';
import { configProblems } from './config.js';
import { parameterShapes, sizeOf, type ParameterSpec } from './params.js';
import { fusedActive, fusedAttention, fusedCrossEntropy, fusedGelu, fusedLayerNorm } from './fused.js';

/**
 * How an approach changes linear layers without the model knowing it by name: LoRA adds a delta,
 * QLoRA replaces the stored weight by its dequantised 4-bit copy. `module` is the GPT-2 name
 * without `.weight`, e.g. `h.0.attn.c_attn`. While an adapter is attached, the base's linear
 * weights and biases are frozen (no gradient is computed for them).
 */
export interface LinearAdapter {
  weight?(module: string): tf.Tensor2D | null;
  delta?(module: string, x: tf.Tensor2D): tf.Tensor2D | null;
}

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/** Keys and values of one layer, [B, heads, T, headDim]. */
export type LayerCache = {
  readonly k: tf.Tensor4D;
  readonly v: tf.Tensor4D;
};

/** Generation state: per-row positions [B, T], an additive key mask [B, 1, 1, keys], the cache. */
export interface DecodeState {
  readonly positions: tf.Tensor2D;
  readonly keyMask: tf.Tensor;
  readonly past: readonly LayerCache[] | null;
}

const LN_EPS = 1e-5;
/** tfjs variable names are global: each model's variables get a per-instance prefix (m1/, m2/...). */
let instanceCount = 0;
const instancePrefix = (): string => `m${++instanceCount}/`;
const GELU_C = Math.sqrt(2 / Math.PI);

export class GPT {
  readonly config: ModelConfig;
  readonly specs: readonly ParameterSpec[];
  /** Every parameter by GPT-2 name. */
  readonly params: Map<string, tf.Variable>;
  /** Set by an approach (LoRA, QLoRA); null for the plain model. */
  adapter: LinearAdapter | null = null;
  private maskCache = new Map<number, tf.Tensor2D>();

  private constructor(config: ModelConfig, params: Map<string, tf.Variable>) {
    this.config = config;
    this.specs = parameterShapes(config);
    this.params = params;
  }

  /**
   * GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 * layers), LN = 1/0.
   * `uniform` draws each from a uniform distribution of the same standard deviation instead, about
   * 4x faster in tfjs (seconds at GPT-2 sizes), for measurements that do not depend on the values
   * (memory and step time: `bench cost`); training from scratch uses the normal.
   */
  static init(config: ModelConfig, seed: number, distribution: 'normal' | 'uniform' = 'normal'): GPT {
    const problems = configProblems(config);
    if (problems.length) throw new Error(problems.join('; '));
    const params = new Map<string, tf.Variable>();
    const prefix = instancePrefix();
    parameterShapes(config).forEach((spec, i) => {
      const init = tf.tidy(() => {
        const shape = [...spec.shape];
        if (spec.kind === 'bias' || spec.name.endsWith('.bias')) return tf.zeros(shape);
        if (spec.kind === 'norm') return tf.ones(shape);
        const std = spec.name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * config.nLayer) : 0.02;
        // A fixed seed per parameter keeps initialisation reproducible whatever runs before it.
        // Never 0: tfjs treats a falsy seed as "no seed" and draws from Math.random.
        const paramSeed = seed * 1000 + i + 1;
        const halfWidth = std * Math.sqrt(3);
        return distribution === 'normal' ? tf.randomNormal(shape, 0, std, 'float32', paramSeed) : tf.randomUniform(shape, -halfWidth, halfWidth, 'float32', paramSeed);
      });
      params.set(spec.name, tf.variable(init, true, prefix + spec.name));
      init.dispose();
    });
    return new GPT(config, params);
  }

  /** A model from stored weights (checked against the config's shapes). */
  static fromWeights(config: ModelConfig, weights: ReadonlyMap<string, Float32Array>): GPT {
    const problems = configProblems(config);
    if (problems.length) throw new Error(problems.join('; '));
    const params = new Map<string, tf.Variable>();
    const prefix = instancePrefix();
    for (const spec of parameterShapes(config)) {
      const w = weights.get(spec.name);
      if (!w) throw new Error(`checkpoint lacks parameter ${spec.name}`);
      if (w.length !== sizeOf(spec.shape)) throw new Error(`parameter ${spec.name} has ${w.length} values, expected ${sizeOf(spec.shape)} for shape [${spec.shape}]`);
      const t = tf.tensor(w, spec.shape as number[], 'float32');
      params.set(spec.name, tf.variable(t, true, prefix + spec.name));
      t.dispose();
    }
    return new GPT(config, params);
  }

  /** A deep copy with its own variables (approaches adapt a copy, never the shared base). */
  clone(): GPT {
    const params = new Map<string, tf.Variable>();
    const prefix = instancePrefix();
    for (const [name, v] of this.params) {
      const copy = v.clone();
      params.set(name, tf.variable(copy, true, prefix + name));
      copy.dispose(); // the variable holds its own reference; without this each clone leaked a model
    }
    return new GPT(this.config, params);
  }

  p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`model has no parameter ${name}`);
    return v;
  }

  /** Weights as plain arrays, by name, in spec order (for checkpoints and export). */
  async weights(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const spec of this.specs) out.set(spec.name, (await this.p(spec.name).data()) as Float32Array);
    return out;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.releaseCaches();
  }

  /**
   * Frees what the model builds lazily and keeps (causal masks), so that a memory profile counts
   * them the same whether or not the model ran before it.
   */
  releaseCaches(): void {
    for (const m of this.maskCache.values()) m.dispose();
    this.maskCache.clear();
  }

  private linear(module: string, x: tf.Tensor2D): tf.Tensor2D {
    const bias = this.p(`${module}.bias`) as tf.Tensor1D;
    const adapter = this.adapter;
    // Under an adapter (LoRA, QLoRA) the base is frozen: its backward needs dx only, so neither x
    // nor a dequantised weight is kept for it, and no dW or db is computed to be thrown away.
    let y = adapter
      ? frozenAffine(x, () => adapter.weight?.(module) ?? (this.p(`${module}.weight`) as tf.Tensor2D), bias)
      : affine(x, this.p(`${module}.weight`) as tf.Tensor2D, bias);
    const delta = adapter?.delta?.(module, x);
    if (delta) y = tf.add(y, delta);
    return y;
  }

  private layerNorm(prefix: string, x: tf.Tensor2D): tf.Tensor2D {
    if (fusedActive()) return fusedLayerNorm(x, this.p(`${prefix}.weight`), this.p(`${prefix}.bias`), LN_EPS);
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, LN_EPS)));
    return tf.add(tf.mul(normed, this.p(`${prefix}.weight`)), this.p(`${prefix}.bias`)) as tf.Tensor2D;
  }

  private gelu(x: tf.Tensor2D): tf.Tensor2D {
    return fusedActive() ? fusedGelu(x) : gelu(x);
  }

  /** Additive causal mask: 0 on and below the diagonal, -1e9 above. Cached per length. */
  private causalMask(t: number): tf.Tensor2D {
    let m = this.maskCache.get(t);
    if (!m) {
      const values = new Float32Array(t * t);
      for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) values[i * t + j] = -1e9;
      m = tf.keep(tf.tensor2d(values, [t, t]));
      this.maskCache.set(t, m);
    }
    return m;
  }

  /** Final hidden states, [B*T, nEmbd], for int32 token ids [B, T] (training and evaluation). */
  hidden(ids: tf.Tensor2D): tf.Tensor2D {
    return this.decode(ids, null).hidden;
  }

  /**
   * The decoder. Without `state`: positions 0..T-1, causal attention. With `state` (generation with
   * a key/value cache): per-row positions, an additive mask over keys (left padding), and either no
   * past (prefill of the prompts) or a past cache that one new token per row attends over.
   * Returns the cache of this call's keys and values appended to the past, per layer.
   */
  decode(ids: tf.Tensor2D, state: DecodeState | null): { hidden: tf.Tensor2D; present: LayerCache[] } {
    const [b, t] = ids.shape;
    const { nEmbd: d, nHead: nh, nLayer, nCtx } = this.config;
    const pastLen = state?.past?.[0]?.k.shape[2] ?? 0;
    if (pastLen + t > nCtx) throw new Error(`sequence of ${pastLen + t} tokens exceeds the model's context of ${nCtx}`);
    if (state?.past && t !== 1) throw new Error('decode with a cache takes one new token per row');
    const hd = d / nh;
    const tok = tf.reshape(tf.gather(this.p('wte.weight'), tf.reshape(ids, [b * t])), [b, t, d]);
    const pos = state ? tf.reshape(tf.gather(this.p('wpe.weight'), tf.reshape(state.positions, [b * t])), [b, t, d]) : tf.slice(this.p('wpe.weight'), [0, 0], [t, d]);
    let x = tf.reshape(tf.add(tok, pos), [b * t, d]) as tf.Tensor2D;
    // Additive mask over [query, key]: causal within this call, plus the caller's key mask.
    let mask: tf.Tensor = t > 1 ? this.causalMask(t) : tf.zeros([1, 1]);
    if (state) mask = tf.add(mask, state.keyMask);
    const heads = (z: tf.Tensor): tf.Tensor4D => tf.transpose(tf.reshape(z, [b, t, nh, hd]), [0, 2, 1, 3]);
    const present: LayerCache[] = [];
    for (let i = 0; i < nLayer; i++) {
      const p = `h.${i}.`;
      const qkv = this.linear(`${p}attn.c_attn`, this.layerNorm(`${p}ln_1`, x));
      if (!state && fusedActive()) {
        // Training and evaluation: one fused causal attention over the q,k,v rows.
        x = tf.add(x, this.linear(`${p}attn.c_proj`, fusedAttention(qkv, b, t, nh)));
        const ff = this.linear(`${p}mlp.c_proj`, this.gelu(this.linear(`${p}mlp.c_fc`, this.layerNorm(`${p}ln_2`, x))));
        x = tf.add(x, ff);
        continue;
      }
      const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const past = state?.past?.[i];
      const keys = past ? tf.concat([past.k, heads(k)], 2) : heads(k);
      const values = past ? tf.concat([past.v, heads(v)], 2) : heads(v);
      present.push({ k: keys as tf.Tensor4D, v: values as tf.Tensor4D });
      const scores = tf.add(tf.mul(tf.matMul(heads(q), keys, false, true), 1 / Math.sqrt(hd)), mask);
      const att = tf.matMul(tf.softmax(scores), values);
      const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [b * t, d]) as tf.Tensor2D;
      x = tf.add(x, this.linear(`${p}attn.c_proj`, merged));
      const ff = this.linear(`${p}mlp.c_proj`, this.gelu(this.linear(`${p}mlp.c_fc`, this.layerNorm(`${p}ln_2`, x))));
      x = tf.add(x, ff);
    }
    return { hidden: this.layerNorm('ln_f', x), present };
  }

  /** Logits over the vocabulary for hidden rows [N, nEmbd] (tied head: h · wteᵀ). */
  logits(hidden: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(hidden, this.p('wte.weight'), false, true);
  }

  /**
   * Mean cross-entropy (nats per token) of predicting `targets` from `ids`, both [B, T] flattened,
   * weighted per position by `weights` (0 for padding). Used by training and evaluation alike.
   */
  loss(ids: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
    const logits = this.logits(this.hidden(ids));
    const perToken = tokenCrossEntropy(logits, targets, this.config.vocabSize);
    return tf.div(tf.sum(tf.mul(perToken, weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  }
}

/**
 * x·W + b as one op with its gradients written out: dx = dy·Wᵀ, dW = xᵀ·dy, db = 1ᵀ·dy. Why: tfjs
 * takes db as a column sum, which wasm runs slowly; as a matmul it goes to BLAS with the others.
 */
export const affine = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  const value = tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b);
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
    const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
    const dy2 = dy as tf.Tensor2D;
    const ones = tf.ones([1, dy2.shape[0]]) as tf.Tensor2D;
    return [tf.matMul(dy2, ws, false, true), tf.matMul(xs, dy2, true, false), tf.reshape(tf.matMul(ones, dy2), [-1])];
  };
  return { value, gradFunc };
}) as unknown as CustomGradFn) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/**
 * x·W + b where W and b are frozen: the backward pass gives dx = dy·Wᵀ alone. `weightOf` is called
 * again in backward instead of keeping W alive between the passes (for QLoRA it dequantises NF4, as
 * QLoRA's implementations do in their backward), and x is not kept at all.
 */
export function frozenAffine(x: tf.Tensor2D, weightOf: () => tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    const value = tf.add(tf.matMul(input as tf.Tensor2D, weightOf()), b);
    const gradFunc = (dy: tf.Tensor): tf.Tensor => tf.matMul(dy as tf.Tensor2D, weightOf(), false, true);
    return { value, gradFunc };
  }) as unknown as CustomGradFn) as (x: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}

/**
 * GPT-2's tanh-approximated GELU with its derivative written out. Why: autodiff of the composed
 * form goes through \`pow\`, whose gradient (with logs) was the slowest kernel of a training step.
 */
export const gelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), GELU_C);
  const th = tf.tanh(inner);
  const value = tf.mul(tf.mul(x, 0.5), tf.add(th, 1));
  save([x, th]);
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
    const [x, th] = saved as [tf.Tensor, tf.Tensor];
    // d/dx = 0.5(1 + th) + 0.5 x (1 - th^2) c (1 + 3 * 0.044715 x^2)
    const dInner = tf.mul(tf.add(tf.mul(tf.square(x), 3 * 0.044715), 1), GELU_C);
    const sech2 = tf.sub(1, tf.square(th));
    return tf.mul(dy, tf.add(tf.mul(tf.add(th, 1), 0.5), tf.mul(tf.mul(tf.mul(x, 0.5), sech2), dInner)));
  };
  return { value, gradFunc };
}) as unknown as CustomGradFn) as (x: tf.Tensor2D) => tf.Tensor2D;

/**
 * Per-row cross-entropy, logsumexp(logits) - logits[target], with the gradient written out as
 * softmax - onehot. Why: autodiff of logSumExp goes through max's gradient (an \`Equal\` over the
 * whole [rows, vocab] matrix), which alone took a third of a training step on wasm.
 */
export function tokenCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, vocabSize: number): tf.Tensor1D {
  if (fusedActive()) return fusedCrossEntropy(logits, targets);
  const onehot = tf.oneHot(targets, vocabSize);
  const ce = tf.customGrad(((z: tf.Tensor, target: tf.Tensor, save: tf.GradSaveFunc) => {
    const max = tf.max(z, 1, true);
    const shifted = tf.sub(z, max);
    const sumExp = tf.sum(tf.exp(shifted), 1, true);
    const value = tf.reshape(tf.sub(tf.log(sumExp), tf.sum(tf.mul(shifted, target), 1, true)), [-1]);
    save([shifted, sumExp, target]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [shifted, sumExp, target] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const softmax = tf.div(tf.exp(shifted), sumExp);
      return [tf.mul(tf.reshape(dy, [-1, 1]), tf.sub(softmax, target)), tf.zerosLike(target)];
    };
    return { value, gradFunc };
  }) as unknown as CustomGradFn);
  return ce(logits, onehot) as tf.Tensor1D;
}
