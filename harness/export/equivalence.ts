// Is the exported model the model? The same prompts through the ONNX graph (onnxruntime-node) and
// through the tfjs model it came from: the largest absolute difference of their logits over every
// real position of the prefill and every decode step, and whether greedy generation gives the same
// tokens. Padding positions are left out: their values are meaningless in both.
import type { GPT } from '../engine/model.js';
import { LOGITS_TOLERANCE } from '../metrics/definitions.js';
import { onnxGreedy, leftPad, type OnnxDecoder } from './session.js';
import { tfjsGreedy } from './tfjs-decoder.js';

export { LOGITS_TOLERANCE };

export interface Equivalence {
  /** max |logits(onnx) - logits(tfjs)| over real positions, prefill and steps. */
  readonly maxAbsDiff: number;
  /** max |logits(tfjs)| over the same positions, to judge the difference against. */
  readonly maxAbsLogit: number;
  readonly tokensEqual: boolean;
  readonly onnxTokens: number[][];
  readonly tfjsTokens: number[][];
  readonly prompts: number;
  readonly newTokens: number;
}

type Calls = Map<number, { logits: Float32Array; seq: number }>;

export async function compareWithTfjs(decoder: OnnxDecoder, model: GPT, prompts: readonly (readonly number[])[], newTokens: number): Promise<Equivalence> {
  const onnxCalls: Calls = new Map(), tfjsCalls: Calls = new Map();
  const onnxTokens = await onnxGreedy(decoder, prompts, newTokens, { logits: (call, logits, seq) => onnxCalls.set(call, { logits: Float32Array.from(logits), seq }) });
  const tfjsTokens = tfjsGreedy(model, prompts, newTokens, { logits: (call, logits, seq) => tfjsCalls.set(call, { logits: Float32Array.from(logits), seq }) });
  const vocab = model.config.vocabSize;
  const { pad } = leftPad(prompts);
  let maxAbsDiff = 0, maxAbsLogit = 0;
  for (const [call, t] of tfjsCalls) {
    const o = onnxCalls.get(call);
    if (!o || o.logits.length !== t.logits.length) throw new Error(`ONNX call ${call} gave ${o?.logits.length ?? 0} logits, tfjs ${t.logits.length}`);
    for (let row = 0; row < prompts.length; row++) {
      for (let j = call === 0 ? pad[row]! : 0; j < t.seq; j++) {
        const off = (row * t.seq + j) * vocab;
        for (let v = 0; v < vocab; v++) {
          const a = t.logits[off + v]!, b = o.logits[off + v]!;
          // NaN anywhere is a failed comparison, not a difference of 0.
          const d = Number.isNaN(a) || Number.isNaN(b) ? Infinity : Math.abs(a - b);
          if (d > maxAbsDiff) maxAbsDiff = d;
          if (Math.abs(a) > maxAbsLogit) maxAbsLogit = Math.abs(a);
        }
      }
    }
  }
  const tokensEqual = JSON.stringify(onnxTokens) === JSON.stringify(tfjsTokens);
  return { maxAbsDiff, maxAbsLogit, tokensEqual, onnxTokens, tfjsTokens, prompts: prompts.length, newTokens };
}
