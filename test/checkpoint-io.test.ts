// Checkpoints in and out in the Hugging Face GPT-2 layout, on real parts: safetensors bytes written
// and read back (F32, and F16/BF16 read), a model exported and imported with identical logits (also
// under GPT-2's own token numbering), `bench import` end to end with its bad input, and the GPT-2
// tokenizer built from vocab.json/merges.txt (made from js-tiktoken's GPT-2 ranks) encoding the whole
// Brown corpus exactly as js-tiktoken does.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { Tiktoken } from 'js-tiktoken/lite';
import { loadBrown } from '../datasets/brown.js';
import { initBackend } from '../harness/engine/backend.js';
import { loadCheckpoint } from '../harness/engine/checkpoint.js';
import { tokenizerFromVocab, vocabAndMerges, vocabAndMergesFromRanks } from '../harness/engine/gpt2-tokenizer.js';
import { readHfGpt2, writeHfGpt2 } from '../harness/engine/hf-gpt2.js';
import { GPT } from '../harness/engine/model.js';
import { readSafetensors, writeSafetensors } from '../harness/engine/safetensors.js';
import { BpeTokenizer } from '../harness/engine/tokenizer.js';
import { exitCodeOf, InputError } from '../harness/errors.js';
import { importCheckpoint } from '../harness/import-command.js';
import { logitsMaxAbsDiff, sourceIdsOf } from '../harness/export/safetensors-export.js';

const BENCH = join(fileURLToPath(new URL('../../', import.meta.url)), 'harness', 'bin', 'bench.js');
const tmp = mkdtempSync(join(tmpdir(), 'adaptbench-ckpt-io-'));
const TEXT = 'The quick brown fox jumps over the lazy dog. Ängström wrote 42 letters; the dog didn\'t mind.\n';
let tokenizer: BpeTokenizer;
let model: GPT;

before(async () => {
  await initBackend('wasm');
  tokenizer = BpeTokenizer.train([TEXT.repeat(3)], 300);
  model = GPT.init({ vocabSize: tokenizer.vocabSize, nCtx: 32, nEmbd: 32, nLayer: 2, nHead: 4 }, 7);
});
after(() => {
  model.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

test('safetensors: F32 written and read back bit for bit; F16 and BF16 widened exactly; bad files named', () => {
  const path = join(tmp, 'a.safetensors');
  const data = Float32Array.from([1.5, -2, 3.25e-8, 1e30, -0, 7]);
  writeSafetensors(path, [{ name: 'x', shape: [2, 3], data }, { name: 'y', shape: [1], data: Float32Array.of(0.1) }], { note: 'test' });
  const bytes = readFileSync(path);
  assert.equal((8 + Number(bytes.readBigUInt64LE(0))) % 8, 0, 'header padded to 8 bytes');
  const back = readSafetensors(path);
  assert.deepEqual([...back.tensors.get('x')!.data], [...data]);
  assert.deepEqual(back.tensors.get('x')!.shape, [2, 3]);
  assert.equal(back.tensors.get('y')!.data[0], Math.fround(0.1));
  assert.equal(back.metadata['note'], 'test');

  // F16 1.5 = 0x3e00, -2 = 0xc000; BF16 1.5 = 0x3fc0, -0.15625 = 0xbe20.
  const half = (dtype: string, words: number[]): string => {
    const header = Buffer.from(JSON.stringify({ t: { dtype, shape: [words.length], data_offsets: [0, 2 * words.length] } }));
    const body = Buffer.alloc(2 * words.length);
    words.forEach((w, i) => body.writeUInt16LE(w, 2 * i));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const p = join(tmp, `${dtype}.safetensors`);
    writeFileSync(p, Buffer.concat([len, header, body]));
    return p;
  };
  assert.deepEqual([...readSafetensors(half('F16', [0x3e00, 0xc000, 0x0001])).tensors.get('t')!.data], [1.5, -2, 2 ** -24]);
  assert.deepEqual([...readSafetensors(half('BF16', [0x3fc0, 0xbe20])).tensors.get('t')!.data], [1.5, -0.15625]);
  assert.throws(() => readSafetensors(half('I8', [1])), (e: unknown) => e instanceof InputError && /tensor "t" has dtype "I8"; supported: F32, F16, BF16/.test(e.message));
  writeFileSync(join(tmp, 'cut.safetensors'), bytes.subarray(0, bytes.length - 4));
  assert.throws(() => readSafetensors(join(tmp, 'cut.safetensors')), (e: unknown) => e instanceof InputError && /cut\.safetensors: tensor "y" ends at byte/.test(e.message));
});

test('export then import in the Hugging Face GPT-2 layout gives identical logits', async () => {
  const ids = tokenizer.encode(TEXT).slice(0, 24);
  const dir = join(tmp, 'hf');
  writeHfGpt2(dir, model.config, await model.weights(), tokenizer, null);
  for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'tokenizer_config.json']) assert.ok(existsSync(join(dir, f)), f);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config['activation_function'], 'gelu_new');
  assert.ok(readSafetensors(join(dir, 'model.safetensors')).tensors.has('transformer.h.1.mlp.c_proj.weight'));
  const back = readHfGpt2(dir);
  assert.equal(back.sourceIdOf, null);
  assert.deepEqual(back.tokenizer.encode(TEXT), tokenizer.encode(TEXT));
  const reread = GPT.fromWeights(back.config, back.weights);
  assert.equal(logitsMaxAbsDiff(model, reread, [ids]), 0);
  reread.dispose();

  // The same model under another numbering of its tokens (as GPT-2's vocab.json numbers bytes):
  // the importer reorders the embedding rows, so the logits are still identical.
  const n = tokenizer.vocabSize;
  const sourceIdOf = Int32Array.from({ length: n }, (_, i) => (i * 37 + 11) % n);
  const renumbered = join(tmp, 'hf-renumbered');
  writeHfGpt2(renumbered, model.config, await model.weights(), tokenizer, sourceIdOf);
  const vocab = JSON.parse(readFileSync(join(renumbered, 'vocab.json'), 'utf8')) as Record<string, number>;
  assert.equal(vocab['<|endoftext|>'], sourceIdOf[tokenizer.eotId]);
  const back2 = readHfGpt2(renumbered);
  assert.deepEqual([...back2.sourceIdOf!], [...sourceIdOf]);
  const reread2 = GPT.fromWeights(back2.config, back2.weights);
  assert.equal(logitsMaxAbsDiff(model, reread2, [ids]), 0);
  reread2.dispose();
  // Imported as a checkpoint, the numbering is recorded, so an export writes the files' ids back.
  const imported = await importCheckpoint(renumbered, join(tmp, 'imported-renumbered'));
  assert.ok(imported.renumbered);
  const header = loadCheckpoint(imported.dir);
  assert.deepEqual([...sourceIdsOf(header.header)!], [...sourceIdOf]);
  const again = join(tmp, 'hf-again');
  writeHfGpt2(again, header.model.config, await header.model.weights(), header.tokenizer, sourceIdsOf(header.header));
  header.model.dispose();
  assert.deepEqual(readFileSync(join(again, 'vocab.json')), readFileSync(join(renumbered, 'vocab.json')));
  assert.deepEqual(readFileSync(join(again, 'model.safetensors')), readFileSync(join(renumbered, 'model.safetensors')));
  assert.throws(() => writeHfGpt2(dir, model.config, new Map(), tokenizer, null), /already exists/);
});

test('bench import: a checkpoint the harness runs, with its hash; bad folders exit 2 and write nothing', async () => {
  const src = join(tmp, 'hf-cli');
  writeHfGpt2(src, model.config, await model.weights(), tokenizer, null);
  const out = join(tmp, 'imported');
  const r = spawnSync(process.execPath, [BENCH, 'import', src, '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const loaded = loadCheckpoint(out);
  assert.match(r.stdout, new RegExp(`content hash ${loaded.header.contentHash}`));
  const ids = tokenizer.encode(TEXT).slice(0, 24);
  assert.equal(logitsMaxAbsDiff(model, loaded.model, [ids]), 0);
  loaded.model.dispose();

  const broken = (name: string, edit: (dir: string) => void): string => {
    const dir = join(tmp, name);
    writeHfGpt2(dir, model.config, readHfGpt2(src).weights, tokenizer, null);
    edit(dir);
    return dir;
  };
  const cases: Array<[string, RegExp]> = [
    [broken('no-merges', (d) => rmSync(join(d, 'merges.txt'))), /has no tokenizer: it needs vocab\.json and merges\.txt, or tokenizer\.json/],
    [broken('relu', (d) => {
      const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(d, 'config.json'), JSON.stringify({ ...c, activation_function: 'relu', n_inner: 100 }));
    }), /config\.json: activation_function "relu" is not supported.*n_inner 100 is not supported/],
    [broken('no-weights', (d) => rmSync(join(d, 'model.safetensors'))), /model\.safetensors is missing/],
    [join(tmp, 'nowhere'), /does not exist/],
  ];
  // One through the command line (exit code and message), the rest in this process (the same function).
  const [first, ...rest] = cases;
  const bad = spawnSync(process.execPath, [BENCH, 'import', first![0], '--out', join(tmp, 'out-cli')], { encoding: 'utf8' });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, first![1]);
  assert.ok(!existsSync(join(tmp, 'out-cli')), 'nothing written');
  mkdirSync(join(tmp, 'taken'));
  for (const [dir, pattern] of [...rest, [src, /already exists/]] as Array<[string, RegExp]>) {
    const target = dir === src ? join(tmp, 'taken') : join(tmp, `out-${dir.split('/').pop()}`);
    await assert.rejects(importCheckpoint(dir, target), (e: unknown) => exitCodeOf(e) === 2 && pattern.test((e as Error).message));
    if (dir !== src) assert.ok(!existsSync(target), 'nothing written');
  }
});

test('GPT-2 tokenizer from vocab.json/merges.txt encodes the Brown corpus exactly as js-tiktoken', () => {
  const ranks = new Map<string, number>();
  for (const line of gpt2Ranks.bpe_ranks.split('\n').filter(Boolean)) {
    const [, offset, ...tokens] = line.split(' ');
    tokens.forEach((t, i) => ranks.set(Buffer.from(t, 'base64').toString('latin1'), Number(offset) + i));
  }
  const { vocab, merges } = vocabAndMergesFromRanks(ranks, gpt2Ranks.special_tokens);
  assert.equal(merges.length, 50_000);
  // Through the files, as a user has them.
  const dir = join(tmp, 'gpt2-tokenizer');
  mkdirSync(dir);
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), `#version: 0.2\n${merges.map(([l, r]) => `${l} ${r}`).join('\n')}\n`);
  const { tokenizer: gpt2, sourceIdOf } = tokenizerFromVocab(
    JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>,
    readFileSync(join(dir, 'merges.txt'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split(' ') as [string, string]),
    { vocab: 'vocab.json', merges: 'merges.txt' },
  );
  assert.equal(gpt2.vocabSize, 50_257);
  assert.equal(sourceIdOf[gpt2.eotId], 50_256);
  const reference = new Tiktoken(gpt2Ranks);
  let tokens = 0;
  for (const doc of loadBrown()) {
    const expected = reference.encode(doc.text);
    const ours = gpt2.encode(doc.text).map((id) => sourceIdOf[id]!);
    assert.equal(ours.length, expected.length, `Brown ${doc.id}: token count`);
    for (let i = 0; i < ours.length; i++) if (ours[i] !== expected[i]) assert.fail(`Brown ${doc.id}: token ${i} is ${ours[i]}, js-tiktoken has ${expected[i]}`);
    tokens += ours.length;
  }
  assert.equal(tokens, 1_286_162, 'every Brown document, 1,286,162 GPT-2 tokens');
  // Our own tokenizer's files round-trip through the same reader.
  const own = vocabAndMerges(tokenizer);
  const reread = tokenizerFromVocab(JSON.parse(own.vocabJson) as Record<string, number>, own.mergesTxt.split('\n').slice(1).filter(Boolean).map((l) => l.split(' ') as [string, string]), { vocab: 'v', merges: 'm' });
  assert.deepEqual(reread.tokenizer.encode(TEXT), tokenizer.encode(TEXT));
});
