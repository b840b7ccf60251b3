// The doctor makes real calls into each dependency (no mocks): these tests pass only on a machine
// where `npm run setup` has installed and built everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatDoctor, projectRoot, runDoctor, tinyOnnxAddModel, type DoctorReport } from '../harness/doctor.js';

let cached: Promise<DoctorReport> | undefined;
const report = (): Promise<DoctorReport> => (cached ??= runDoctor());

const REQUIRED = [
  'tinybench',
  'csv-stringify',
  'chart.js',
  'canvas',
  'chartjs-node-canvas',
  'onnxruntime-node',
  'hnswlib-node',
  'faiss-node',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
];

test('doctor: every required dependency loads and works on this machine', async () => {
  const r = await report();
  for (const name of REQUIRED) {
    const c = r.checks.find((x) => x.name === name);
    assert.ok(c, `no check for ${name}`);
    assert.equal(c.required, true, `${name} should be required`);
    assert.equal(c.status, 'ok', `${name}: ${c.status}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`);
    assert.match(c.version ?? '', /^\d+\.\d+\.\d+/, `${name} has no version`);
  }
  assert.equal(r.ok, true, formatDoctor(r));
});

test('doctor: tfjs-node-gpu and tfjs-node are optional and, without libtensorflow, reported as not working with the reason', async () => {
  const r = await report();
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const c = r.checks.find((x) => x.name === name);
    assert.ok(c, `no check for ${name}`);
    assert.equal(c.required, false);
    // Offline, their install script cannot download libtensorflow, so the binding is absent. Where it
    // did install (a machine with internet), the doctor must say it works instead.
    const binding = join(projectRoot(), 'node_modules', name, 'lib', 'napi-v8', 'tfjs_binding.node');
    if (existsSync(binding)) continue;
    assert.notEqual(c.status, 'ok');
    assert.match(c.detail, /libtensorflow/);
    assert.match(c.fix ?? '', /npm rebuild/);
  }
});

test('doctor: the report format names each check, and a fix for each failure', async () => {
  const r = await report();
  const text = formatDoctor(r);
  assert.match(text.split('\n')[0] ?? '', /^adaptbench doctor: every required dependency works/);
  for (const c of r.checks) {
    assert.ok(text.includes(c.name), `${c.name} missing from the report`);
    if (c.status !== 'ok') assert.ok(text.includes(`fix: ${c.fix ?? ''}`), `no fix line for ${c.name}`);
  }
});

test('doctor: an extra check is appended, and a throwing one shows as a broken required check', async () => {
  const withExtra = await runDoctor(async () => [
    { name: 'backend', version: null, status: 'ok', detail: 'wasm (test)', required: true },
  ]);
  assert.equal(withExtra.checks.at(-1)?.name, 'backend');
  assert.equal(withExtra.ok, true);
  const throwing = await runDoctor(async () => {
    throw new Error('no backend');
  });
  const last = throwing.checks.at(-1);
  assert.equal(last?.status, 'broken');
  assert.equal(last?.detail, 'no backend');
  assert.equal(throwing.ok, false);
});

test('doctor: the hand-encoded ONNX model starts with ir_version 8', () => {
  const bytes = tinyOnnxAddModel();
  assert.deepEqual([...bytes.subarray(0, 2)], [0x08, 0x08]);
});
