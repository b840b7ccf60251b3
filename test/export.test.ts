// ONNX export and latency (issue 6) on real parts: a tiny checkpoint made by the real pretraining
// code; LoRA and QLoRA adapters with non-zero B (so the unmerged branch matters) and a fully
// fine-tuned copy trained with the real optimiser; every variant exported, loaded in onnxruntime-node
// and compared with its tfjs model (logits within 1e-4, the same greedy tokens); tinybench timing and
// the paired bootstrap; and `bench run` / `bench export` end to end, bad input included.
import { strict as assert } from 'node:assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import { initBackend, tf } from '../harness/engine/backend.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../harness/engine/checkpoint.js';
import { generateGreedy } from '../harness/engine/evaluate.js';
import { LoraAdapter, QloraAdapter, type LoraSettings } from '../harness/engine/lora.js';
import { GPT } from '../harness/engine/model.js';
import { LINEAR_MODULE_NAMES } from '../harness/engine/params.js';
import { AdamW, DEFAULT_TRAIN_OPTIONS, trainStep } from '../harness/engine/train.js';
import { snapshotAdapter } from '../harness/export/adapter-snapshot.js';
import { LOGITS_TOLERANCE, compareWithTfjs } from '../harness/export/equivalence.js';
import { decoderIo, gptToOnnx, type GptGraphSource } from '../harness/export/gpt-onnx.js';
import { latencyStats, ratioToBase, requestProblems, timeOnnxInterleaved, timeTfjs, type LatencySettings, type RoundSamples } from '../harness/export/latency.js';
import { OnnxDecoder, loadOrt } from '../harness/export/session.js';
import { pretrain } from '../harness/pretrain.js';
import type { CellResult, CompletedCell } from '../harness/results.js';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxNamespace };
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'harness', 'bin', 'bench.js');
const tmp = mkdtempSync(join(tmpdir(), 'adaptbench-export-test-'));
const tiny = join(tmp, 'tiny');
/** Every linear layer adapted, so every kind of branch site is in the unmerged graph. */
const ALL: LoraSettings = { rank: 4, alpha: 8, dropout: 0, targets: LINEAR_MODULE_NAMES };
let ckpt: LoadedCheckpoint;

before(async () => {
  await initBackend();
  await pretrain({ preset: 'tiny', seed: 0, out: tiny, log: () => {} });
  ckpt = loadCheckpoint(tiny);
});
after(() => {
  ckpt?.model.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const copy = async (m: GPT): Promise<GPT> => GPT.fromWeights(m.config, await m.weights());
/** Gives every B a non-zero value, as training would. */
function randomizeB(adapter: LoraAdapter, seed: number): void {
  let k = 0;
  for (const b of adapter.b.values()) b.assign(tf.tidy(() => tf.randomNormal(b.shape, 0, 0.3, 'float32', seed + ++k)));
}
const bytesOf = async (m: GPT, adapter?: GptGraphSource['adapter']): Promise<Uint8Array> =>
  gptToOnnx({ config: m.config, weights: await m.weights(), adapter: adapter ?? null }, { producerVersion: 'test', docString: 'test', metadata: {} });

/** Two prompts of different lengths (the shorter left-padded), from the tiny tokenizer. */
function prompts(): number[][] {
  const tok = ckpt.tokenizer;
  return [tok.encode('The capital of France is Paris. The capital of Spain'), tok.encode('Q: What is the currency of Japan?')];
}

test('the exported graph loads from a file in onnxruntime-node and takes a zero-length past for the prefill', async () => {
  const file = join(tmp, 'base.onnx');
  writeFileSync(file, await bytesOf(ckpt.model));
  const dec = await OnnxDecoder.load(file, ckpt.model.config);
  const io = decoderIo(ckpt.model.config);
  assert.deepEqual([...dec.session.inputNames].sort(), [io.inputIds, io.positionIds, io.attentionMask, ...io.pastKeys, ...io.pastValues].sort());
  assert.deepEqual([...dec.session.outputNames].sort(), [io.logits, ...io.presentKeys, ...io.presentValues].sort());
  const { nHead, nEmbd, vocabSize } = ckpt.model.config;
  const r = await dec.forward({ batch: 1, seq: 5, ids: [1, 2, 3, 4, 5], positions: [0, 1, 2, 3, 4], mask: [1, 1, 1, 1, 1], past: null });
  assert.equal(r.logits.length, 5 * vocabSize);
  assert.deepEqual(r.present.keys[0]!.dims, [1, nHead, 5, nEmbd / nHead]);
  const step = await dec.forward({ batch: 1, seq: 1, ids: [6], positions: [5], mask: [1, 1, 1, 1, 1, 1], past: r.present });
  assert.deepEqual(step.present.values[1]!.dims, [1, nHead, 6, nEmbd / nHead]);
  await dec.release();
});

test('every variant matches its tfjs model: logits within 1e-4, the same greedy tokens (base, LoRA merged and unmerged, QLoRA merged, full fine-tune)', async () => {
  const base = ckpt.model;
  const config = base.config;
  const ps = prompts();
  const newTokens = 8;
  const check = async (name: string, bytes: Uint8Array, model: GPT): Promise<void> => {
    const dec = await OnnxDecoder.load(bytes, config);
    const eq = await compareWithTfjs(dec, model, ps, newTokens);
    await dec.release();
    assert.ok(eq.maxAbsDiff <= LOGITS_TOLERANCE, `${name}: max |logits diff| ${eq.maxAbsDiff} (logits up to ${eq.maxAbsLogit})`);
    // The tiny model's logits are small: hold the difference to float rounding of their scale too.
    assert.ok(eq.maxAbsDiff <= 1e-5 * Math.max(1, eq.maxAbsLogit), `${name}: max |logits diff| ${eq.maxAbsDiff} is more than rounding of logits up to ${eq.maxAbsLogit}`);
    assert.ok(eq.tokensEqual, `${name}: greedy tokens ${JSON.stringify(eq.onnxTokens)} vs ${JSON.stringify(eq.tfjsTokens)}`);
    // tfjsGreedy is the engine's own generation, laid out the same way: same tokens as generateGreedy.
    assert.deepEqual(eq.tfjsTokens, generateGreedy(model, ps, { maxNewTokens: newTokens, stopIds: [], batchSize: ps.length }), `${name}: tfjsGreedy vs generateGreedy`);
  };

  await check('base', await bytesOf(base), base);

  // LoRA: unmerged (branch in the graph) against base + adapter; merged against the merged model.
  const lora = await copy(base);
  const adapter = new LoraAdapter(config, ALL, 3);
  randomizeB(adapter, 100);
  lora.adapter = adapter;
  const snap = snapshotAdapter(adapter);
  const unmergedBytes = await bytesOf(lora, snap);
  await check('lora unmerged', unmergedBytes, lora);
  // The branch matters: the unmerged graph is not the base graph.
  const baseDec = await OnnxDecoder.load(await bytesOf(base), config);
  const vsBase = await compareWithTfjs(baseDec, lora, ps, 2);
  await baseDec.release();
  assert.ok(vsBase.maxAbsDiff > 100 * LOGITS_TOLERANCE, `the adapter changes the logits (${vsBase.maxAbsDiff})`);
  adapter.merge(lora);
  lora.adapter = null;
  await check('lora merged', await bytesOf(lora), lora);
  adapter.dispose();
  lora.dispose();

  // QLoRA merged: dequantised NF4 + (alpha/r)·A·B in fp32, against that model and against the 4-bit model as trained.
  const q = await copy(base);
  const qa = QloraAdapter.attach(q, ALL, 5);
  randomizeB(qa, 200);
  const qMerged = qa.toFullPrecision(q);
  const qBytes = await bytesOf(qMerged);
  await check('qlora merged', qBytes, qMerged);
  const qDec = await OnnxDecoder.load(qBytes, config);
  const vsTrained = await compareWithTfjs(qDec, q, ps, newTokens);
  await qDec.release();
  assert.ok(vsTrained.maxAbsDiff <= LOGITS_TOLERANCE && vsTrained.tokensEqual, `qlora merged ONNX vs the NF4 model as trained: ${vsTrained.maxAbsDiff}`);
  qMerged.dispose();
  qa.dispose();
  q.dispose();

  // Full fine-tune: every parameter trained a few steps by the real optimiser.
  const ft = await copy(base);
  const ids = ckpt.tokenizer.encode('The capital of Italy is Rome. The currency of Italy is the euro. '.repeat(4)).slice(0, 33);
  const batch = { batchSize: 1, seqLen: 32, ids: Int32Array.from(ids.slice(0, 32)), targets: Int32Array.from(ids.slice(1, 33)), weights: new Float32Array(32).fill(1) };
  const optimizer = new AdamW(ft.params, new Set(), { ...DEFAULT_TRAIN_OPTIONS, weightDecay: 0 });
  for (let s = 0; s < 3; s++) trainStep(ft, ft.params, optimizer, batch, 1e-2, 1);
  optimizer.dispose();
  await check('full-ft', await bytesOf(ft), ft);
  ft.dispose();
});

test('latency: requests timed with tinybench, interleaved; stats and the paired ratio are consistent', async () => {
  const s: LatencySettings = { promptTokens: 16, newTokens: 5, rounds: 3, requestsPerRound: 2, warmupRequests: 1, tfjsRequests: 2, bootstrapResamples: 200 };
  const prompt = ckpt.tokenizer.encode('The capital of France is Paris. '.repeat(4)).slice(0, s.promptTokens);
  assert.equal(prompt.length, s.promptTokens);
  const bytes = await bytesOf(ckpt.model);
  const a = await OnnxDecoder.load(bytes, ckpt.model.config), b = await OnnxDecoder.load(bytes, ckpt.model.config);
  const r = await timeOnnxInterleaved([{ name: 'base', decoder: a }, { name: 'served', decoder: b }], prompt, s);
  await a.release();
  await b.release();
  for (const v of r.values()) {
    assert.equal(v.rounds.length, s.rounds);
    assert.equal(v.request.samples, s.rounds * s.requestsPerRound, 'one tinybench sample per timed request, warm-up left out');
    assert.equal(v.prefill.samples, s.rounds * s.requestsPerRound);
    assert.equal(v.token.samples, s.rounds * s.requestsPerRound * (s.newTokens - 1));
    for (const st of [v.request, v.prefill, v.token]) {
      assert.ok(st.p50 > 0 && st.p50 <= st.p95 && st.p95 <= st.p99 && Number.isFinite(st.moe), JSON.stringify(st));
    }
    // A request is its prefill and steps plus a little bookkeeping.
    assert.ok(v.request.p50 >= v.prefill.p50 + (s.newTokens - 1) * v.token.p50 * 0.5);
  }
  const ratio = ratioToBase(r.get('base')!.rounds, r.get('served')!.rounds, 'token', s.bootstrapResamples, 'test');
  assert.ok(ratio.low <= ratio.ratio && ratio.ratio <= ratio.high, JSON.stringify(ratio));
  assert.deepEqual(ratioToBase(r.get('base')!.rounds, r.get('served')!.rounds, 'token', s.bootstrapResamples, 'test'), ratio, 'seeded: the same samples give the same interval');
  const t = await timeTfjs(ckpt.model, prompt, s);
  assert.equal(t.request.samples, s.tfjsRequests);
  assert.equal(t.token.samples, s.tfjsRequests * (s.newTokens - 1));
});

test('ratio of medians and its bootstrap interval, on samples with known answers', () => {
  const round = (x: number[]): RoundSamples => ({ request: x, prefill: x, token: x });
  const base = [round([1, 1, 1]), round([1, 1, 1])], twice = [round([2, 2, 2]), round([2, 2, 2])];
  assert.deepEqual(ratioToBase(base, twice, 'token', 100, 's'), { ratio: 2, low: 2, high: 2, separableFromOne: true });
  // A shift that hits both in the same round cancels: the interval is the exact ratio however rounds differ.
  const b2 = [round([1, 1, 1]), round([3, 3, 3])], v2 = [round([1.1, 1.1, 1.1]), round([3.3, 3.3, 3.3])];
  const r = ratioToBase(b2, v2, 'token', 500, 's');
  assert.ok(Math.abs(r.ratio - 1.1) < 1e-12 && r.low > 1 && r.separableFromOne, JSON.stringify(r));
  const same = ratioToBase(b2, b2, 'token', 500, 's');
  assert.equal(same.ratio, 1);
  assert.equal(same.separableFromOne, false);
  // p95 by linear interpolation, as numpy: 0..100 gives 95.
  assert.equal(latencyStats(Array.from({ length: 101 }, (_, i) => i)).p95, 95);
  const config = ckpt.model.config;
  assert.deepEqual(requestProblems(64, 24, config, { prompt: '--prompt-tokens', newTokens: '--new-tokens' }), []);
  assert.match(requestProblems(200, 24, config, { prompt: '--prompt-tokens', newTokens: '--new-tokens' })[0]!, /exceeds the model's context of 128 tokens/);
  assert.match(requestProblems(64, 0, config, { prompt: '--prompt-tokens', newTokens: '--new-tokens' })[0]!, /--new-tokens must be a positive integer/);
});

const bench = (args: string[]): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [BENCH, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

test('bench run reports latency for base, merged and unmerged LoRA, merged QLoRA and full fine-tune; bench export writes a loadable file', async () => {
  const run = join(tmp, 'run');
  const r = bench(['run', 'knowledge-qa', '--approach', 'base,lora,qlora,full-ft', '--seeds', '1', '--limit-test', '4', '--checkpoint', tiny, '--out', run]);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const cell = (label: string): CompletedCell => {
    const c = JSON.parse(readFileSync(join(run, 'cells', `knowledge-qa__${label}__seed0.json`), 'utf8')) as CellResult;
    assert.equal(c.status, 'completed', c.status === 'failed' ? c.error.message : '');
    return c as CompletedCell;
  };
  for (const label of ['base', 'lora', 'qlora', 'full-ft']) {
    const c = cell(label);
    for (const id of ['latency.requestP50Ms', 'latency.prefillP50Ms', 'latency.tokenP50Ms', 'latency.tokenRatioToBase', 'latency.baseTokenP50Ms', 'latency.tfjsTokenP50Ms', 'latency.tfjsRequestP50Ms'] as const) {
      assert.ok((c.metrics[id] ?? 0) > 0, `${label}: ${id} = ${c.metrics[id]} (${c.notes[id]})`);
    }
    const low = c.metrics['latency.tokenRatioToBaseLow']!, high = c.metrics['latency.tokenRatioToBaseHigh']!;
    assert.ok(low <= c.metrics['latency.tokenRatioToBase']! && c.metrics['latency.tokenRatioToBase']! <= high);
    assert.ok(c.metrics['export.logitsMaxAbsDiff']! <= LOGITS_TOLERANCE, `${label}: ${c.notes['export.logitsMaxAbsDiff']}`);
    const latency = c.inputs['latency'] as { onnxruntime: Record<string, unknown>; equivalence: { served: { tokensEqual: boolean } } };
    assert.equal(latency.onnxruntime['intraOpNumThreads'], 1);
    assert.equal(latency.onnxruntime['interOpNumThreads'], 1);
    assert.equal(latency.onnxruntime['executionMode'], 'sequential');
    assert.equal(latency.equivalence.served.tokensEqual, true);
  }
  const lora = cell('lora');
  assert.ok(lora.metrics['latency.unmergedTokenP50Ms']! > 0 && lora.metrics['latency.unmergedTokenRatioToBase']! > 0);
  assert.ok(lora.metrics['export.unmergedLogitsMaxAbsDiff']! <= LOGITS_TOLERANCE);
  assert.ok(lora.intervals['latency.unmergedTokenRatioToBase']);
  assert.equal(cell('base').metrics['latency.unmergedTokenP50Ms'], null);
  assert.match(cell('base').notes['latency.unmergedTokenP50Ms']!, /no adapter/);
  assert.match(cell('base').notes['latency.tokenRatioToBase']!, /A\/A/);
  assert.equal(cell('qlora').metrics['latency.unmergedTokenP50Ms'], null);
  assert.match(cell('qlora').notes['latency.unmergedTokenP50Ms']!, /NF4/);

  // Export the merged LoRA model: re-created from the run, checked, written, loadable.
  const out = join(tmp, 'lora.onnx');
  const e = bench(['export', run, 'lora', '--out', out]);
  assert.equal(e.status, 0, `${e.stdout}\n${e.stderr}`);
  assert.match(e.stdout, /is the run's served model/);
  const { InferenceSession } = loadOrt();
  const session = await InferenceSession.create(out);
  assert.ok(session.inputNames.includes('past_key_values.0.key'));
  await session.release();
  // The file is plain ONNX: its metadata names the cell and carries the tokenizer.
  const model = onnx.ModelProto.decode(readFileSync(out));
  const meta = new Map(model.metadataProps.map((p) => [p.key, p.value]));
  assert.equal(meta.get('cell'), 'knowledge-qa__lora__seed0');
  assert.equal(meta.get('served_weights_sha256'), (lora.inputs['latency'] as { servedWeightsSha256: string }).servedWeightsSha256);
  assert.ok(JSON.parse(meta.get('tokenizer')!));
  assert.ok(!(model.graph?.initializer ?? []).some((t) => t.name!.endsWith('.lora_B')), 'merged: no adapter branch in the graph');

  // The unmerged form keeps the branch x·A·B in the graph, and is checked against the model as trained.
  const uOut = join(tmp, 'lora-unmerged.onnx');
  const u = bench(['export', run, 'lora', '--form', 'unmerged', '--out', uOut]);
  assert.equal(u.status, 0, `${u.stdout}\n${u.stderr}`);
  const unmerged = onnx.ModelProto.decode(readFileSync(uOut));
  assert.ok((unmerged.graph?.initializer ?? []).some((t) => t.name === 'h.0.attn.c_attn.lora_B'));
  assert.equal(new Map(unmerged.metadataProps.map((p) => [p.key, p.value])).get('form'), 'unmerged');
  const ud = await OnnxDecoder.load(uOut, ckpt.model.config);
  await ud.release();

  // QLoRA has no unmerged form: refused before any training, nothing written.
  const qOut = join(tmp, 'qlora-unmerged.onnx');
  const q = bench(['export', run, 'qlora', '--form', 'unmerged', '--out', qOut]);
  assert.equal(q.status, 2, `${q.stdout}\n${q.stderr}`);
  assert.match(q.stderr, /NF4/);
  assert.equal(existsSync(qOut), false);

  // Bad input: what, where, how to fix; exit 2; nothing left behind.
  const bad = join(tmp, 'bad.onnx');
  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ['export', join(tmp, 'no-such-run'), 'lora', '--out', bad], message: /holds no run \(no manifest\.json\).*Fix/ },
    { args: ['export', run, 'no-such-approach', '--out', bad], message: /has no approach "no-such-approach"; its approaches are base, lora, qlora, full-ft/ },
    { args: ['export', run, 'base', '--out', bad, '--prompt-tokens', '500'], message: /exceeds the model's context of 128 tokens.*Fix/ },
    { args: ['export', run, 'base', '--out', bad, '--new-tokens', '0'], message: /--new-tokens must be a positive integer \(got 0\)/ },
    { args: ['export', run, 'base', '--out', bad, '--new-tokens=-3'], message: /--new-tokens must be a positive integer \(got -3\)/ },
    { args: ['export', run, 'base', '--out', tmp], message: /is a folder/ },
    { args: ['export', run, 'lora', '--out', bad, '--seed', '7'], message: /no lora cell for seed 7; its seeds are 0/ },
    { args: ['export', run, 'base', '--form', 'unmerged', '--out', bad], message: /--form unmerged: base has no adapter.*Fix/ },
  ];
  for (const c of cases) {
    const x = bench(c.args);
    assert.equal(x.status, 2, `${c.args.join(' ')}: ${x.stdout}\n${x.stderr}`);
    assert.match(x.stderr, c.message, c.args.join(' '));
    assert.equal(existsSync(bad), false);
  }
  assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.tmp-')), [], 'no temporary file left');
});
