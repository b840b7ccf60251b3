// Suites as data: a folder (suite.json + JSONL) validated whole, every problem with file, line and
// field; built-in suites through the same checks; the published schema kept in step with the parser.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkSuiteFolder, loadSuiteFolder } from '../suites/folder.js';
import { resolveSuite } from '../suites/registry.js';
import { taskAdapt, SPLIT } from '../suites/task-adapt/suite.js';
import { formatProblem, MAX_LINE_BYTES, SuiteValidationError } from '../suites/validate.js';
import { writeReviewsSuite } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'support-faq');
const tmp = mkdtempSync(join(tmpdir(), 'adaptbench-suites-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the worked example, changed by `edit`, and the problems `bench validate` would list. */
function brokenCopy(name: string, edit: (dir: string) => void): { dir: string; lines: string[] } {
  const dir = join(tmp, name);
  cpSync(EXAMPLE, dir, { recursive: true });
  edit(dir);
  return { dir, lines: checkSuiteFolder(dir).problems.map(formatProblem) };
}
const rewrite = (file: string, f: (lines: string[]) => string[]): void => {
  writeFileSync(file, `${f(readFileSync(file, 'utf8').trimEnd().split('\n')).join('\n')}\n`);
};
const editJson = (file: string, f: (o: Record<string, any>) => void): void => {
  const o = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  f(o);
  writeFileSync(file, JSON.stringify(o, null, 2));
};

describe('a suite folder', () => {
  test('the worked example is valid and loads into the form every suite has', () => {
    const check = checkSuiteFolder(EXAMPLE);
    assert.deepEqual(check.problems, []);
    const s = loadSuiteFolder(EXAMPLE);
    assert.equal(s.name, 'support-faq');
    assert.deepEqual(s.source, { kind: 'folder', path: EXAMPLE });
    assert.deepEqual(s.metrics.map((m) => m.id), ['quality.tokenF1', 'quality.exactMatch']);
    assert.deepEqual(s.budget, { train: { steps: 8, batchSize: 4, seqLen: 96 }, testExamples: null });
    assert.equal(s.kSweep, false);
    const data = s.buildData(0);
    assert.equal(data.documents.length, 12);
    assert.equal(data.train.length, 24);
    assert.equal(data.test.length, 12);
    assert.equal(data.qrels.length, 36);
    assert.equal(data.heldOut?.length, 5);
    assert.deepEqual(data.test[0], { id: 'plans/basic/test', fields: { question: 'What do I pay each month for Basic?' }, answers: ['9 euros a month'], docIds: ['plans/basic'] });
    // A user's files are the same for every seed.
    assert.equal(s.buildData(3).contentHash, data.contentHash);
  });

  test('every problem of a broken copy at once, each with file, line and field', () => {
    const { lines } = brokenCopy('many', (dir) => {
      rewrite(join(dir, 'train.jsonl'), (ls) => {
        ls[2] = '{"id": "x", "question": "broken';
        ls[3] = JSON.stringify({ id: 'plans/basic/train-0', question: 'dup', answer: 'a' });
        ls[4] = JSON.stringify({ id: 'y', question: 5, answer: 'a' });
        ls[5] = JSON.stringify({ id: 'z', question: 'q', answer: 'a', docIds: ['nope'] });
        ls[6] = JSON.stringify({ id: 'w', question: 'q' });
        return ls;
      });
      writeFileSync(join(dir, 'test.jsonl'), Buffer.from('{"id":"t1","question":"caf\xe9","answer":"a"}\n', 'latin1'));
      editJson(join(dir, 'suite.json'), (o) => { o['budget'].train.steps = 0; });
    });
    assert.deepEqual(lines, [
      'suite.json: budget.train.steps: must be an integer from 2 to 100000 (got 0). Fix: bring it into range, or leave it out for the default',
      'train.jsonl:3: not valid JSON: Unterminated string at column 32. Fix: write one JSON object per line (JSON Lines)',
      'test.jsonl:1: is not UTF-8 text. Fix: save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)',
      'train.jsonl:4: id: duplicate example id "plans/basic/train-0" (ids are unique across train and test). Fix: give every example a unique id',
      'train.jsonl:5: question: must be a string (got 5). Fix: template fields are text',
      'train.jsonl:6: docIds[0]: "nope" names no document in documents.jsonl. Fix: correct the id, or add the document',
      'train.jsonl:7: answer: missing. Fix: add "answer": "<gold answer>" (or "answers": [...])',
    ]);
  });

  test('definition problems: unknown task type, template fields the examples lack, keys that do not exist', () => {
    assert.deepEqual(brokenCopy('task', (dir) => editJson(join(dir, 'suite.json'), (o) => { o['task'] = { type: 'summarise' }; })).lines,
      ['suite.json: task.type: unknown task type "summarise". Fix: use one of generate, choice']);
    assert.deepEqual(brokenCopy('template', (dir) => editJson(join(dir, 'suite.json'), (o) => { o['prompt'].template = 'Q: {question} ({product})\nA:'; o['sytle'] = 1; })).lines, [
      'suite.json: sytle: is not a suite.json key. Fix: the keys are name, version, description, useCase, task, prompt, metrics, budget, stratifyBy, files, update, kSweep',
      'train.jsonl: product: prompt.template names {product}, which no example in this file has. Fix: add "product" to the examples, or remove {product} from prompt.template in suite.json',
      'test.jsonl: product: prompt.template names {product}, which no example in this file has. Fix: add "product" to the examples, or remove {product} from prompt.template in suite.json',
    ]);
    assert.deepEqual(brokenCopy('target', (dir) => editJson(join(dir, 'suite.json'), (o) => { o['prompt'].target = ' {label}\n'; o['metrics'] = [{ id: 'quality.accuracy' }]; })).lines, [
      'suite.json: prompt.target: must contain {answer}. Fix: put {answer} where the answer goes, e.g. " {answer}\\n"',
      'suite.json: prompt.target: names {label}, a reserved key (id, docIds, answer, answers, label), not a text field. Fix: use {answer} for the gold',
      'suite.json: metrics[0].id: "quality.accuracy" is not a metric the generate task reports. Fix: use quality.exactMatch or quality.tokenF1',
    ]);
    assert.deepEqual(brokenCopy('sweep', (dir) => editJson(join(dir, 'suite.json'), (o) => { o['kSweep'] = 'yes'; })).lines,
      ['suite.json: kSweep: must be true or false (got "yes"). Fix: true makes rag and lora-rag also answer at k = 1, 3, 10 and as many as fit; or leave it out']);
    assert.equal(brokenCopy('sweep-on', (dir) => editJson(join(dir, 'suite.json'), (o) => { o['kSweep'] = true; })).lines.length, 0);
  });

  test('empty split, over-long line, missing suite.json, a label outside the label set', () => {
    assert.deepEqual(brokenCopy('empty', (dir) => writeFileSync(join(dir, 'test.jsonl'), '\n')).lines,
      ['test.jsonl: the split is empty. Fix: add at least one example (one JSON object per line)']);
    const long = brokenCopy('long', (dir) => rewrite(join(dir, 'documents.jsonl'), (ls) => [...ls, JSON.stringify({ id: 'big', text: 'x'.repeat(MAX_LINE_BYTES) })]));
    assert.deepEqual(long.lines, [`documents.jsonl:13: the line has ${MAX_LINE_BYTES + 22} bytes, over the limit of ${MAX_LINE_BYTES}. Fix: split the text into several documents or examples`]);
    const none = join(tmp, 'no-definition');
    cpSync(EXAMPLE, none, { recursive: true });
    rmSync(join(none, 'suite.json'));
    assert.deepEqual(checkSuiteFolder(none).problems.map(formatProblem), [`${join(none, 'suite.json')}: missing: a suite folder holds a suite.json. Fix: write suite.json (see examples/ and suites/suite.schema.json)`]);
    const labels = writeReviewsSuite(join(tmp, 'labels'));
    rewrite(join(labels, 'test.jsonl'), (ls) => [...ls, JSON.stringify({ id: 'odd', review: 'Meh', label: 'neutral' })]);
    assert.deepEqual(checkSuiteFolder(labels).problems.map(formatProblem),
      [`test.jsonl:${readFileSync(join(labels, 'test.jsonl'), 'utf8').trimEnd().split('\n').length}: label: "neutral" is not in the suite's label set ["positive","negative"]. Fix: correct the label, or add it to task.labels in suite.json`]);
  });

  test('loading a broken folder throws one error listing every problem (exit 2); bench validate prints them and exits 2, writing nothing', () => {
    const { dir } = brokenCopy('cli', (d) => {
      writeFileSync(join(d, 'test.jsonl'), '\n');
      editJson(join(d, 'suite.json'), (o) => { o['budget'].train.batchSize = 5000; });
    });
    assert.throws(() => loadSuiteFolder(dir), (err: unknown) => {
      assert.ok(err instanceof SuiteValidationError);
      assert.equal(err.exitCode, 2);
      assert.equal(err.problems.length, 2);
      return true;
    });
    const before = readdirSync(dir).sort();
    const r = spawnSync(process.execPath, [join(ROOT, 'harness', 'bin', 'bench.js'), 'validate', dir], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, [
      `bench: suite ${dir} is not valid (2 problems):`,
      '  suite.json: budget.train.batchSize: must be an integer from 1 to 1024 (got 5000). Fix: bring it into range, or leave it out for the default',
      '  test.jsonl: the split is empty. Fix: add at least one example (one JSON object per line)',
      '',
    ].join('\n'));
    assert.deepEqual(readdirSync(dir).sort(), before);
    const ok = spawnSync(process.execPath, [join(ROOT, 'harness', 'bin', 'bench.js'), 'validate', EXAMPLE], { encoding: 'utf8' });
    assert.equal(ok.status, 0);
    assert.match(ok.stdout, /^suite support-faq v1\.0\.0 in .* is valid\n  task: generate \(normalize whitespace, case, punctuation; maxNewTokens 16\); headline metric quality\.tokenF1\n  12 documents, 24 train and 12 test examples, 36 relevance judgements, 5 held-out texts\n/);
  });

  test('a folder may not take a built-in suite\'s name', async () => {
    const dir = join(tmp, 'shadow');
    cpSync(EXAMPLE, dir, { recursive: true });
    editJson(join(dir, 'suite.json'), (o) => { o['name'] = 'knowledge-qa'; });
    await assert.rejects(resolveSuite(dir), /its name "knowledge-qa" is a built-in suite's/);
  });

  test('the published JSON Schema names exactly the keys the parser accepts', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'suites', 'suite.schema.json'), 'utf8')) as { properties: Record<string, { properties?: Record<string, unknown> }>; required: string[] };
    assert.deepEqual(Object.keys(schema.properties).filter((k) => k !== '$schema'), ['name', 'version', 'description', 'useCase', 'task', 'prompt', 'metrics', 'budget', 'stratifyBy', 'files', 'update', 'kSweep']);
    assert.deepEqual(Object.keys(schema.properties['update']!.properties!), ['documents', 'train', 'steps']);
    assert.deepEqual(Object.keys(schema.properties['prompt']!.properties!), ['template', 'target', 'passage', 'query', 'fit']);
    assert.deepEqual(Object.keys(schema.properties['files']!.properties!), ['documents', 'train', 'test', 'qrels', 'heldOut']);
    assert.deepEqual(schema.required, ['name', 'version', 'description', 'useCase', 'task', 'prompt']);
  });
});

describe('task-adapt', () => {
  test('a fixed, stratified split of real mail: the corpus\'s spam share in both splits, the same for every seed', () => {
    const a = taskAdapt.buildData(0);
    const count = (xs: typeof a.train, label: string): number => xs.filter((x) => x.label === label).length;
    assert.deepEqual([count(a.train, 'ham'), count(a.train, 'spam'), count(a.test, 'ham'), count(a.test, 'spam')], [SPLIT.train.ham, SPLIT.train.spam, SPLIT.test.ham, SPLIT.test.spam]);
    assert.equal(a.documents.length, 0);
    const trainIds = new Set(a.train.map((x) => x.id));
    assert.ok(a.test.every((x) => !trainIds.has(x.id)));
    assert.equal(taskAdapt.buildData(2).contentHash, a.contentHash);
    assert.equal(taskAdapt.task.type, 'choice');
    assert.deepEqual(taskAdapt.task['labels'], ['spam', 'ham']);
    assert.ok(a.train.every((x) => x.fields['opening']!.split(' ').length <= 40));
  });
});
