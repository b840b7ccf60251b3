// Task types and prompts on real parts: answers normalised and extracted as suites declare, macro-F1
// and its confusion matrix against hand-computed values, choice scoring against the log-softmax of a
// real model's logits, and long inputs cut the way the suite says, with the cut counted.
import { strict as assert } from 'node:assert';
import { before, describe, test } from 'node:test';
import { initBackend, tf } from '../harness/engine/backend.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../harness/engine/checkpoint.js';
import { continuationLogLikelihoods } from '../harness/engine/evaluate.js';
import { loadSuiteFolder } from '../suites/folder.js';
import type { Example, SuiteDefinition } from '../suites/types.js';
import { choice, confusionMatrix, macroF1 } from '../tasks/choice.js';
import { extractAnswer, generate, normalizeAnswer } from '../tasks/generate.js';
import { CUT_MARK, SuitePrompts } from '../tasks/prompts.js';
import { tinyCheckpoint, writeReviewsSuite } from './fixtures.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let base: LoadedCheckpoint;
before(async () => {
  await initBackend();
  base = loadCheckpoint(await tinyCheckpoint());
});

describe('generate', () => {
  test('normalisations apply in a fixed order; the answer is the first line without the target\'s suffix', () => {
    assert.equal(normalizeAnswer('  The  Euro. ', ['whitespace']), 'The Euro.');
    assert.equal(normalizeAnswer('  The  Euro. ', ['case', 'punctuation', 'articles', 'whitespace']), 'euro');
    assert.equal(extractAnswer(' Paris.\nQ: next', ' {answer}.\n'), 'Paris');
    assert.equal(extractAnswer(' Paris.\n', ' {answer}\n'), 'Paris.');
    assert.equal(extractAnswer('9 euros a month', ' {answer}\n'), '9 euros a month');
  });

  test('spec defaults and gold parsing name the key at fault', () => {
    assert.deepEqual(generate.parseSpec({ type: 'generate' }), { spec: { type: 'generate', normalize: ['whitespace'], maxNewTokens: 24 }, problems: [] });
    assert.deepEqual(generate.parseGold({ answers: ['a', 'b'] }, { type: 'generate' }), { answers: ['a', 'b'], problems: [] });
    assert.deepEqual(generate.parseGold({ answers: [] }, { type: 'generate' }).problems.map((p) => p.field), ['answers']);
    assert.deepEqual(generate.parseGold({ label: 'x', answer: 'y' }, { type: 'generate' }).problems.map((p) => p.field), ['label']);
  });
});

describe('choice', () => {
  test('confusion matrix and macro-F1, computed by hand', () => {
    const m = confusionMatrix(['spam', 'ham'], ['spam', 'spam', 'ham', 'ham', 'ham'], ['spam', 'ham', 'ham', 'ham', 'spam']);
    assert.deepEqual(m.counts, [[1, 1], [1, 2]]);
    // spam: tp 1, gold 2, predicted 2 -> F1 0.5; ham: tp 2, gold 3, predicted 3 -> F1 2/3.
    assert.equal(macroF1(m), (0.5 + 2 / 3) / 2);
    assert.equal(macroF1(confusionMatrix(['a', 'b', 'c'], ['a', 'a'], ['a', 'a'])), 1, 'labels neither gold nor predicted are left out');
  });

  test('a label\'s score is the sum of its tokens\' log-probabilities after the prompt (log-softmax of the logits)', () => {
    const tok = base.tokenizer;
    const prompt = tok.encode('Review: Broke after two days\nSentiment:');
    const continuation = tok.encode(' negative\n');
    const [ll] = continuationLogLikelihoods(base.model, [{ prompt, continuation }, { prompt: prompt.slice(0, 5), continuation: [continuation[0]!] }]);
    const seq = [...prompt, ...continuation];
    const expected = tf.tidy(() => {
      const logits = base.model.logits(base.model.hidden(tf.tensor2d(seq, [1, seq.length], 'int32')));
      const logp = tf.logSoftmax(logits).arraySync() as number[][];
      return continuation.reduce((s, t, j) => s + logp[prompt.length + j - 1]![t]!, 0);
    });
    assert.ok(Math.abs(ll! - expected) < 1e-4, `${ll} vs ${expected}`);
  });

  test('evaluate: accuracy, macro-F1 with intervals, the majority-class rate and a confusion matrix; the same numbers twice', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'adaptbench-tasks-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const suite = loadSuiteFolder(writeReviewsSuite(join(dir, 'reviews')));
    const data = suite.buildData(0);
    const prompts = new SuitePrompts(suite, choice, base.tokenizer, base.model.config.nCtx);
    const input = {
      model: base.model, tokenizer: base.tokenizer, spec: suite.task, targetTemplate: suite.prompt.target, examples: data.test,
      prompts: prompts.closedBook(data.test), questions: data.test.map((ex) => prompts.query(ex)), seedKey: 'k',
    };
    const r = choice.evaluate(input);
    const n = data.test.length;
    const c = r.confusion!;
    assert.deepEqual(c.labels, ['positive', 'negative']);
    assert.equal(c.counts.flat().reduce((a, b) => a + b, 0), n);
    assert.equal(r.metrics['quality.accuracy'], (c.counts[0]![0]! + c.counts[1]![1]!) / n);
    assert.equal(r.metrics['quality.macroF1'], macroF1(c));
    assert.equal(r.metrics['quality.majorityClassRate'], 0.5);
    const acc = r.intervals['quality.accuracy']!;
    assert.ok(acc.low <= r.metrics['quality.accuracy']! && r.metrics['quality.accuracy']! <= acc.high);
    assert.match(r.intervals['quality.macroF1']!.method, /percentile bootstrap, 95%, 1000 resamples/);
    assert.deepEqual(choice.evaluate(input), r);
    assert.equal(choice.answerRoom(suite.task, suite.prompt.target, base.tokenizer), Math.max(...['positive', 'negative'].map((l) => base.tokenizer.encode(` ${l}\n`).length)));
  });
});

describe('prompts', () => {
  const suiteWith = (keep: 'start' | 'end' | 'both'): SuiteDefinition => ({
    name: 's', version: '1', description: 'd', useCase: 'u', task: { type: 'choice', labels: ['a', 'b'] },
    prompt: { template: 'Mail: {body}\nLabel:', target: ' {label}\n', passage: '{text}', query: '{body}', fit: { field: 'body', keep } },
    metrics: [{ id: 'quality.accuracy', higherIsBetter: true }], budget: { train: { steps: 2, batchSize: 1, seqLen: 32 }, testExamples: null }, stratifyBy: null,
    files: { documents: null, train: 't', test: 't', qrels: null, heldOut: null }, update: null, kSweep: false,
  });
  const ex: Example = { id: 'e', fields: { body: 'one two three four five six seven eight nine ten eleven twelve' }, label: 'a', docIds: [] };

  test('an over-long field is cut to fit, keeping its start, its end or both ends, and every cut is counted', () => {
    const tok = base.tokenizer;
    for (const keep of ['start', 'end', 'both'] as const) {
      const p = new SuitePrompts(suiteWith(keep), choice, tok, 40);
      const full = tok.encode(p.render(ex)).length;
      const budget = full - 6;
      const f = p.fitExample(ex, budget);
      const body = f.ex.fields['body']!;
      assert.ok(tok.encode(p.render(f.ex)).length <= budget, keep);
      assert.ok(f.tokensCut >= 6, `${keep}: ${f.tokensCut}`);
      if (keep === 'start') assert.ok(ex.fields['body']!.startsWith(body), body);
      if (keep === 'end') assert.ok(ex.fields['body']!.endsWith(body.trimStart()), body);
      if (keep === 'both') assert.ok(body.includes(CUT_MARK) && body.startsWith('one') && body.endsWith('twelve'), body);
      assert.deepEqual(p.fitExample(ex, full), { ex, tokensCut: 0 });
    }
    const p = new SuitePrompts(suiteWith('start'), choice, tok, tok.encode(new SuitePrompts(suiteWith('start'), choice, tok, 40).render(ex)).length);
    p.closedBook([ex, ex]);
    assert.equal(p.counts.test.prompts, 2);
    assert.equal(p.counts.test.cut, 2, 'the label room makes both prompts too long by a few tokens');
  });

  test('targets and demonstrations: the task fills the gold, the template the fields', () => {
    const p = new SuitePrompts(suiteWith('start'), choice, base.tokenizer, 64);
    assert.equal(p.target(ex), ' a\n');
    assert.equal(p.demonstration(ex), `Mail: ${ex.fields['body']}\nLabel: a\n`);
    assert.deepEqual(p.retrievalCorpus({ documents: [], train: [ex], test: [], qrels: [], heldOut: null, update: null, contentHash: '' }), { kind: 'demonstrations', documents: [{ id: 'e', text: `Mail: ${ex.fields['body']}\nLabel: a\n` }] });
  });
});
