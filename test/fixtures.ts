// Trained fixtures shared by the test files of one `npm test` run: node's test runner starts every
// file as a child of one process, so a folder keyed by that parent's pid is made by the first file
// that needs it and reused by the rest (pretraining the tiny checkpoint takes ~15 s a time).
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pretrain } from '../harness/pretrain.js';

const SHARED = join(tmpdir(), `adaptbench-test-fixtures-${process.ppid}`);

/** The tiny checkpoint of `bench pretrain --preset tiny --seed 0`, made once per test run. */
export async function tinyCheckpoint(): Promise<string> {
  const dir = join(SHARED, 'tiny-seed0');
  if (existsSync(join(dir, 'checkpoint.json'))) return dir;
  mkdirSync(SHARED, { recursive: true });
  // Written beside and renamed into place, so a file that stops half-way never leaves half a fixture.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  await pretrain({ preset: 'tiny', seed: 0, out: partial, log: () => {} });
  if (!existsSync(dir)) renameSync(partial, dir);
  else rmSync(partial, { recursive: true, force: true });
  return dir;
}

const POSITIVE = ['Works perfectly, love it', 'Great value and fast delivery', 'Sturdy, quiet and easy to set up', 'Exactly as described, very happy', 'Battery lasts for days', 'Would buy again without doubt', 'The best kettle I have owned', 'Friendly support and quick fix', 'Colours are bright and sharp', 'Fits well and feels solid', 'Five stars, does the job', 'Arrived early and works great'];
const NEGATIVE = ['Broke after two days', 'Loud, slow and hard to use', 'Nothing like the pictures', 'Battery died within an hour', 'Support never answered', 'Cheap plastic, cracked at once', 'Would not recommend to anyone', 'Stopped working after a week', 'Arrived late and damaged', 'Too small and uncomfortable', 'Refund took a month', 'Leaks every time I use it'];

/**
 * A classification suite written by hand, as a user would: short product reviews, positive or
 * negative, no documents (RAG then retrieves labelled training examples), 16 train and 8 test.
 */
export function writeReviewsSuite(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const rows = (texts: readonly string[], label: string, prefix: string) => texts.map((review, i) => ({ id: `${prefix}${i}`, review, label }));
  const all = [...rows(POSITIVE, 'positive', 'p'), ...rows(NEGATIVE, 'negative', 'n')];
  const split = (test: boolean) => all.filter((r) => (Number(r.id.slice(1)) >= 8) === test).map((r) => `${JSON.stringify(r)}\n`).join('');
  writeFileSync(join(dir, 'train.jsonl'), split(false));
  writeFileSync(join(dir, 'test.jsonl'), split(true));
  writeFileSync(join(dir, 'suite.json'), JSON.stringify({
    name: 'reviews', version: '1', description: 'Product reviews, positive or negative.', useCase: 'Route reviews by sentiment.',
    task: { type: 'choice', labels: ['positive', 'negative'] },
    prompt: { template: 'Review: {review}\nSentiment:', target: ' {label}\n', passage: '{text}' },
    budget: { train: { steps: 4, batchSize: 4, seqLen: 64 } },
  }, null, 2));
  return dir;
}
