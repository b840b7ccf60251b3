// Facts that change: the fresh-facts suite's changes (fixed, plausible, unknowable), the re-indexed
// index against one rebuilt from scratch, the scores on changed and unchanged facts, and a user's
// suite with an update run through the CLI under re-indexing, training further and retraining.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCountries } from '../datasets/countries.js';
import { loadCheckpoint } from '../harness/engine/checkpoint.js';
import { freshFactScores } from '../harness/fresh-facts.js';
import type { CompletedCell } from '../harness/results.js';
import { chunkDocuments } from '../harness/retrieval/chunking.js';
import { TfidfEmbedder } from '../harness/retrieval/embedders.js';
import { INDEX_DEFAULTS, type IndexSpec } from '../harness/retrieval/indexes.js';
import { agreementWithRebuild, buildRetrieval, reindexChunks } from '../harness/retrieval/pipeline.js';
import { row } from '../harness/retrieval/vectors.js';
import { checkSuiteFolder } from '../suites/folder.js';
import { CHANGEABLE, CHANGED_SHARE, factChanges, freshFacts } from '../suites/fresh-facts/suite.js';
import { dataAfterUpdate, type Example } from '../suites/types.js';
import { formatProblem } from '../suites/validate.js';
import { generate } from '../tasks/generate.js';
import { tinyCheckpoint } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'harness', 'bin', 'bench.js');
const tmp = mkdtempSync(join(tmpdir(), 'adaptbench-fresh-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('the fresh-facts suite', () => {
  const countries = loadCountries();
  const changes = factChanges(countries);
  const data = freshFacts.buildData(0);

  test('a fifth of the capitals, currencies and calling codes change, to values no country had', () => {
    const changeable = countries.flatMap((e) => CHANGEABLE.filter((a) => e[a] !== ''));
    assert.equal(changes.length, Math.round(CHANGED_SHARE * changeable.length));
    for (const c of changes) {
      assert.notEqual(c.after, c.before, `${c.entity} ${c.attribute}`);
      assert.ok(!countries.some((e) => e[c.attribute] === c.after), `${c.entity}'s new ${c.attribute} ${c.after} is a real country's`);
    }
    // The facts are the same for every seed; only order and phrasing vary.
    assert.deepEqual(factChanges(loadCountries()), changes);
    assert.deepEqual(freshFacts.buildData(1).update!.documents, data.update!.documents);
  });

  test('the rewritten documents state the new values; changed test questions carry the old one as previous', () => {
    const update = data.update!;
    assert.equal(update.documents.length, new Set(changes.map((c) => c.entity)).size);
    const rewritten = new Map(update.documents.map((d) => [d.id, d.text]));
    const changed = data.test.filter((ex) => ex.fields['previous'] !== undefined);
    assert.equal(changed.length, changes.length);
    for (const ex of changed) {
      const c = changes.find((x) => x.entity === ex.fields['entity'] && x.attribute === ex.fields['attribute'])!;
      assert.deepEqual([ex.answers![0], ex.fields['previous']], [c.after, c.before]);
      assert.ok(rewritten.get(ex.docIds[0]!)!.includes(` ${c.after}.`), `the rewritten document of ${c.entity} states ${c.after}`);
    }
    // The update trains on every question about a rewritten document, answers as they now are.
    assert.ok(update.train.every((ex) => rewritten.has(ex.docIds[0]!)));
    for (const c of changes) {
      const asked = update.train.filter((ex) => ex.fields['entity'] === c.entity && ex.fields['attribute'] === c.attribute);
      assert.equal(asked.length, 2);
      assert.ok(asked.every((ex) => ex.answers![0] === c.after));
    }
    assert.equal(dataAfterUpdate(data).documents.filter((d, i) => d.text !== data.documents[i]!.text).length, update.documents.length);
  });
});

describe('re-indexing the rewritten documents', () => {
  const data = freshFacts.buildData(0);
  const count = (t: string): number => t.split(/\s+/).length;
  const queries = data.test.slice(0, 200).map((ex) => ex.fields['question']!);

  for (const spec of [{ type: 'exact' }, { ...INDEX_DEFAULTS.hnswlib, type: 'hnswlib' }] as IndexSpec[]) {
    test(`${spec.type}: equals an index rebuilt from scratch on the new documents`, () => {
      const old = chunkDocuments(data.documents, 0, count).chunks;
      const built = buildRetrieval(old, new TfidfEmbedder({ dim: 1024 }), spec);
      try {
        const rewritten = chunkDocuments(data.update!.documents, 0, count).chunks;
        const re = reindexChunks(built, rewritten);
        assert.equal(re.rows.length, data.update!.documents.length);
        // Every row of a rewritten document holds its new text; every other row is untouched.
        const fresh = dataAfterUpdate(data).documents;
        assert.deepEqual(re.built.chunks.map((c) => c.text), fresh.map((d) => d.text));
        const qv = re.built.embedder.embed(queries);
        const check = agreementWithRebuild(re.built, qv, 3);
        assert.equal(check.vectorsIdentical, true);
        if (spec.type === 'exact') assert.equal(check.agreement, 1);
        // Each rewritten document's new vector finds itself first: the update reached the index.
        for (const r of re.rows) assert.equal(re.built.index.search(row(re.built.vectors, r), 1).ids[0], r);
      } finally {
        built.dispose();
      }
    });
  }

  test('a rewritten document that chunks into a different number of pieces is refused, naming it', () => {
    const docs = [{ id: 'a', text: 'One. Two.' }, { id: 'b', text: 'Three.' }];
    const built = buildRetrieval(chunkDocuments(docs, 0, count).chunks, new TfidfEmbedder({ dim: 64 }), { type: 'exact' });
    try {
      const longer = chunkDocuments([{ id: 'a', text: 'One. Two. Three four five six seven eight.' }], 3, count).chunks;
      assert.throws(() => reindexChunks(built, longer), /document a has \d+ chunk\(s\) after the update and 1 before/);
    } finally {
      built.dispose();
    }
  });
});

test('scores on changed and unchanged facts, by the task type\'s matching', () => {
  const ex = (id: string, answer: string, previous?: string): Example => ({ id, fields: { question: id, ...(previous ? { previous } : {}) }, answers: [answer], docIds: [] });
  const examples = [ex('a', 'Nox', 'Paris'), ex('b', 'Vel', 'Rome'), ex('c', 'Tam', 'Oslo'), ex('d', 'Lima'), ex('e', 'Quito')];
  const spec = { type: 'generate', normalize: ['whitespace'], maxNewTokens: 8 };
  const s = freshFactScores(generate, spec, examples, ['Nox', 'Rome', 'Bern', 'Lima', 'Kyiv'], undefined, 'base');
  assert.equal(s.metrics['fresh.newFactAccuracy'], 1 / 3);
  assert.equal(s.metrics['fresh.staleRate'], 1 / 3);
  assert.equal(s.metrics['fresh.unchangedAccuracy'], 1 / 2);
  assert.equal(s.metrics['update.wallSec'], undefined);
  assert.match(s.notes['update.wallSec']!, /base adapts nothing/);
});

describe('a user\'s suite with an update, through the CLI', () => {
  let tiny = '';
  const suite = join(tmp, 'faq-update');
  before(async () => {
    tiny = await tinyCheckpoint();
    cpSync(join(ROOT, 'examples', 'support-faq'), suite, { recursive: true });
    const basic = 'The Basic plan of Kestrel Cloud costs 11 euros a month. It includes 50 GB of storage and email support.';
    writeFileSync(join(suite, 'update-documents.jsonl'), `${JSON.stringify({ id: 'plans/basic', title: 'Basic plan', text: basic })}\n`);
    writeFileSync(join(suite, 'update-train.jsonl'), [
      { id: 'plans/basic/update-0', question: 'How much does the Basic plan cost?', answer: '11 euros a month', docIds: ['plans/basic'] },
      { id: 'plans/basic/update-1', question: 'What is the monthly price of the Basic plan?', answer: '11 euros a month', docIds: ['plans/basic'] },
    ].map((r) => `${JSON.stringify(r)}\n`).join(''));
    const test = readFileSync(join(suite, 'test.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    test[0] = { ...test[0], answer: '11 euros a month', previous: '9 euros a month' };
    writeFileSync(join(suite, 'test.jsonl'), test.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const def = JSON.parse(readFileSync(join(suite, 'suite.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(suite, 'suite.json'), JSON.stringify({
      ...def, name: 'faq-update',
      metrics: [{ id: 'fresh.newFactAccuracy', higherIsBetter: true }, { id: 'fresh.staleRate', higherIsBetter: false }, { id: 'quality.tokenF1', higherIsBetter: true }],
      update: { documents: 'update-documents.jsonl', train: 'update-train.jsonl', steps: 4 },
    }, null, 2));
  });

  test('bench validate lists every problem of a broken update', () => {
    assert.deepEqual(checkSuiteFolder(suite).problems, []);
    const broken = join(tmp, 'faq-broken');
    cpSync(suite, broken, { recursive: true });
    const def = JSON.parse(readFileSync(join(broken, 'suite.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(broken, 'suite.json'), JSON.stringify({ ...def, update: { documents: 'update-documents.jsonl', train: 'missing.jsonl', steps: 1, every: 2 } }));
    writeFileSync(join(broken, 'update-documents.jsonl'), `${JSON.stringify({ id: 'plans/gold', text: 'x' })}\n`);
    const lines = checkSuiteFolder(broken).problems.map(formatProblem);
    assert.ok(lines.some((l) => /update\.every.*is not an update key/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /update\.train.*names "missing\.jsonl", which is not a file/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /update\.steps.*must be an integer from 2/.test(l)), lines.join('\n'));
    const r = spawnSync(process.execPath, [BENCH, 'validate', broken], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    // With a valid definition, the data's problems: a document that replaces none, no changed test question.
    writeFileSync(join(broken, 'suite.json'), JSON.stringify({ ...def, update: { documents: 'update-documents.jsonl', train: 'update-train.jsonl', steps: 4 } }));
    writeFileSync(join(broken, 'test.jsonl'), readFileSync(join(broken, 'test.jsonl'), 'utf8').replace(/,"previous":"9 euros a month"/, ''));
    const data = checkSuiteFolder(broken).problems.map(formatProblem);
    assert.ok(data.some((l) => /update-documents\.jsonl:1.*"plans\/gold" names no document of the suite/.test(l)), data.join('\n'));
    assert.ok(data.some((l) => /test\.jsonl.*previous.*no test example asks about a changed fact/.test(l)), data.join('\n'));
  });

  test('re-indexing, training further and retraining each report the update and the scores', () => {
    const out = join(tmp, 'run');
    const r = spawnSync(process.execPath, [BENCH, 'run', suite, '--approach', 'base,rag:index=exact,lora,full-ft:update=retrain', '--seeds', '1', '--checkpoint', tiny, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const cell = (label: string): CompletedCell => JSON.parse(readFileSync(join(out, 'cells', `faq-update__${label}__seed0.json`), 'utf8')) as CompletedCell;
    const tok = loadCheckpoint(tiny).tokenizer;
    const basic = readFileSync(join(suite, 'update-documents.jsonl'), 'utf8');
    const rag = cell('rag-indexexact');
    assert.equal(rag.metrics['update.documents'], 1);
    assert.equal(rag.metrics['update.indexAgreement'], 1);
    assert.equal(rag.metrics['update.tokens'], tok.encode((JSON.parse(basic) as { text: string }).text).length);
    const lora = cell('lora');
    assert.equal(lora.metrics['update.tokens'], 4 * 4 * 96, 'update.steps x batch x row length');
    assert.equal(lora.metrics['update.documents'], 1);
    const retrain = cell('full-ft-updateretrain');
    assert.equal(retrain.metrics['update.tokens'], 8 * 4 * 96, 'the suite\'s whole training budget');
    assert.equal(retrain.metrics['update.documents'], 12);
    for (const c of [cell('base'), rag, lora, retrain]) {
      for (const id of ['fresh.newFactAccuracy', 'fresh.staleRate'] as const) assert.ok([0, 1].includes(c.metrics[id] as number), `${c.cell.label} ${id}: one changed question`);
      assert.equal((c.inputs['update'] as { changedQuestions: number }).changedQuestions, 1);
      assert.equal((c.inputs['update'] as { unchangedQuestions: number }).unchangedQuestions, 11);
    }
    assert.equal(cell('base').metrics['update.wallSec'], null);
  });
});
