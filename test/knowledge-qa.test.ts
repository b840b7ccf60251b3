import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ATTRIBUTES } from '../datasets/entities.js';
import { fillTemplate, QUESTION_TEMPLATES } from '../datasets/episodes.js';
import { UsageError } from '../harness/errors.js';
import { knowledgeQa } from '../suites/knowledge-qa/suite.js';
import { getSuite, suiteNames } from '../suites/registry.js';

const data = knowledgeQa.buildData(1);
// The records' fields, typed as the generator writes them.
const f = (q: (typeof data.test)[number]) => q.fields as { question: string; leadIn: string; attribute: keyof typeof QUESTION_TEMPLATES; entity: string };

test('knowledge-qa: 250 documents, one per country, exact text for France', () => {
  assert.equal(data.documents.length, 250);
  assert.equal(new Set(data.documents.map((d) => d.id)).size, 250);
  const france = data.documents.find((d) => d.id === 'country/france');
  assert.equal(
    france?.text,
    'France is a country in Europe. The capital of France is Paris. The currency of France is EUR. '
      + 'The language of France is French. The calling code of France is +33.',
  );
  // 250 countries x 5 attributes, less 7 missing facts (5 capitals, Antarctica's currency and languages).
  assert.equal(data.test.length, 1243);
  assert.equal(data.train.length, 2 * 1243);
  assert.equal(data.qrels.length, 3 * 1243);
  assert.equal(new Set([...data.train, ...data.test].map((q) => q.id)).size, 3 * 1243);
});

test('knowledge-qa: train and test never share a phrasing', () => {
  const trainQuestions = new Set(data.train.map((q) => f(q).question));
  for (const q of data.test) {
    const { question, attribute, entity } = f(q);
    assert.ok(!trainQuestions.has(question), question);
    const { train, test: held } = QUESTION_TEMPLATES[attribute];
    assert.ok(held.some((t) => fillTemplate(t, entity) === question), `${q.id} uses a test phrasing`);
    assert.ok(!train.some((t) => fillTemplate(t, entity) === question), `${q.id} uses a train phrasing`);
  }
  for (const q of data.train) {
    assert.ok(QUESTION_TEMPLATES[f(q).attribute].train.some((t) => fillTemplate(t, f(q).entity) === f(q).question), q.id);
  }
  assert.deepEqual(new Set(data.test.map((q) => f(q).attribute)), new Set(ATTRIBUTES));
});

test('knowledge-qa: every qrel points to a document that states the answer', () => {
  const docs = new Map(data.documents.map((d) => [d.id, d.text]));
  const questions = new Map([...data.train, ...data.test].map((q) => [q.id, q]));
  assert.ok(data.qrels.every((r) => r.relevance === 1));
  for (const q of data.test) {
    const rels = data.qrels.filter((r) => r.queryId === q.id);
    assert.equal(rels.length, 1);
    const text = docs.get(rels[0]!.docId);
    assert.deepEqual(q.answers?.length, 1);
    assert.ok(text?.includes(`${f(q).leadIn} ${q.answers![0]}.`), `${q.id}: "${f(q).leadIn} ${q.answers![0]}." not in its document`);
  }
  for (const r of data.qrels) assert.deepEqual(questions.get(r.queryId)?.docIds, [r.docId]);
});

test('knowledge-qa: seeds change order and phrasing, never the facts', () => {
  const other = knowledgeQa.buildData(2);
  const facts = (d: typeof data) => d.test.map((q) => `${q.id}=${q.answers![0]}`).sort();
  assert.deepEqual(facts(other), facts(data));
  assert.deepEqual(other.documents, data.documents);
  assert.equal(knowledgeQa.buildData(1).contentHash, data.contentHash);
  assert.notEqual(other.contentHash, data.contentHash);
  assert.match(data.contentHash, /^[0-9a-f]{64}$/);
});

test('knowledge-qa: its definition, as a user\'s suite.json would state it', () => {
  assert.equal(knowledgeQa.task.type, 'generate');
  assert.deepEqual(knowledgeQa.task['normalize'], ['whitespace']);
  assert.deepEqual(knowledgeQa.metrics.map((m) => m.id), ['quality.exactMatch', 'quality.tokenF1']);
  assert.deepEqual(knowledgeQa.budget, { train: { steps: 50, batchSize: 16, seqLen: 128 }, testExamples: 600 });
  assert.equal(knowledgeQa.prompt.template, 'Q: {question}\nA: {leadIn}');
  assert.equal(knowledgeQa.prompt.target, ' {answer}.\n');
  assert.equal(knowledgeQa.stratifyBy, 'attribute');
  assert.deepEqual(knowledgeQa.source, { kind: 'built-in' });
});

test('registry: the built-in suites by name, a clear usage error otherwise', async () => {
  assert.deepEqual(suiteNames(), ['corpus-wide', 'fresh-facts', 'knowledge-qa', 'task-adapt']);
  assert.equal((await getSuite('knowledge-qa')).name, 'knowledge-qa');
  await assert.rejects(getSuite('knowledge'), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /unknown suite "knowledge"\. Built-in suites: corpus-wide, fresh-facts, knowledge-qa, task-adapt; or give the path of a suite folder/);
    return true;
  });
  await assert.rejects(getSuite('toString'), UsageError);
});
