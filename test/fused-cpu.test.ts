// The fused kernels are registered on tfjs's cpu backend too (separate typed arrays rather than
// one wasm heap): the same model gives the same loss and gradients there as on wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../harness/engine/backend.js';
import { GPT } from '../harness/engine/model.js';

test('a training loss and its gradients agree between the wasm and cpu backends (fused kernels on both)', async () => {
  const cfg = { vocabSize: 97, nCtx: 12, nEmbd: 12, nLayer: 2, nHead: 3 };
  const ids = [[1, 5, 9, 13, 17, 21, 25, 29, 33], [2, 4, 8, 16, 32, 64, 28, 56, 15]];
  const run = async (backend: 'wasm' | 'cpu'): Promise<{ loss: number; grad: Float32Array; fused: string }> => {
    const info = await initBackend(backend);
    const model = GPT.init(cfg, 3);
    const x = tf.tensor2d(ids, [2, 9], 'int32');
    const targets = tf.tensor1d(ids.flat().map((t) => (t + 1) % 97), 'int32');
    const v = model.p('h.0.attn.c_attn.weight');
    const { value, grads } = tf.variableGrads(() => model.loss(x, targets, tf.ones([18]) as tf.Tensor1D), [v]);
    const out = { loss: value.dataSync()[0]!, grad: grads[v.name]!.dataSync() as Float32Array, fused: info.fused.mode };
    model.dispose();
    return out;
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  assert.equal(wasm.fused, 'fused');
  assert.equal(cpu.fused, 'fused');
  assert.ok(Math.abs(wasm.loss - cpu.loss) < 1e-5, `loss ${wasm.loss} vs ${cpu.loss}`);
  let maxDiff = 0, scale = 0;
  wasm.grad.forEach((g, i) => { maxDiff = Math.max(maxDiff, Math.abs(g - cpu.grad[i]!)); scale = Math.max(scale, Math.abs(g)); });
  assert.ok(maxDiff / scale < 1e-4, `gradient differs by ${maxDiff / scale} of its scale`);
});
