import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { continents } from 'countries-list';
import { detokenizeLine, loadBrown, splitBrown } from '../datasets/brown.js';
import { heldOutCapability, heldOutEntities, pretrainEntities, pretrainEntityPool, PRETRAIN_POOL_STREAM } from '../datasets/capability.js';
import { loadCountries } from '../datasets/countries.js';
import { ATTRIBUTES, CONTINENTS, makeFictionalEntities } from '../datasets/entities.js';
import type { Entity } from '../datasets/entities.js';
import {
  answerLeadIn, answerOf, attributesOf, entityDocument, exactMatch, extractAnswer, formatPrompt, formatTarget,
  makeEpisode, QUESTION_TEMPLATES,
} from '../datasets/episodes.js';
import { canonicalJson, contentHash, sha256Hex } from '../datasets/hash.js';
import { DatasetError, readJsonl } from '../datasets/jsonl.js';
import { InputError } from '../harness/errors.js';
import { createRng } from '../datasets/rng.js';

const FRANCE_DOC = 'France is a country in Europe. The capital of France is Paris. The currency of France is EUR. '
  + 'The language of France is French. The calling code of France is +33.';

function country(name: string): Entity {
  const e = loadCountries().find((c) => c.name === name);
  assert.ok(e, `country ${name} missing`);
  return e;
}

test('rng is deterministic, in range, and seeds by string or number alike', () => {
  const a = createRng('x');
  const b = createRng('x');
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(xs, Array.from({ length: 100 }, () => createRng('y').next()));
  assert.equal(createRng(7).next(), createRng('7').next());

  const r = createRng(1);
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[r.int(3)]! += 1;
  assert.ok(counts.every((c) => c > 900 && c < 1100), `int(3) counts ${counts}`);
  assert.throws(() => r.int(0), RangeError);
  assert.throws(() => r.pick([]), RangeError);

  const arr = [1, 2, 3, 4, 5, 6, 7, 8];
  const sh = r.shuffle(arr);
  assert.deepEqual(arr, [1, 2, 3, 4, 5, 6, 7, 8], 'shuffle must not mutate its input');
  assert.deepEqual([...sh].sort(), arr);

  const n = createRng('normal');
  const zs = Array.from({ length: 20000 }, () => n.normal());
  const mean = zs.reduce((s, z) => s + z, 0) / zs.length;
  const variance = zs.reduce((s, z) => s + (z - mean) ** 2, 0) / zs.length;
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
});

test('hashes: sha256 test vector, canonical JSON independent of key order', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex(new TextEncoder().encode('abc')), sha256Hex('abc'));
  assert.equal(canonicalJson({ b: [1, { d: 2, c: 'x' }], a: null, u: undefined }), '{"a":null,"b":[1,{"c":"x","d":2}]}');
  assert.equal(contentHash({ a: 1, b: 2 }), contentHash({ b: 2, a: 1 }));
  assert.notEqual(contentHash({ a: 1 }), contentHash({ a: '1' }));
  assert.throws(() => canonicalJson({ x: Number.NaN }), TypeError);
});

test('Brown: 500 documents, 15 genres, tags stripped, readable spacing', () => {
  const docs = loadBrown();
  assert.equal(docs.length, 500);
  assert.equal(new Set(docs.map((d) => d.category)).size, 15);
  assert.equal(docs[0]?.id, 'ca01');
  assert.equal(docs[0]?.category, 'news');
  assert.equal(
    docs[0]?.text.split('\n')[0],
    'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.',
  );
  for (const d of docs) {
    assert.ok(d.text.length > 5000, `${d.id} is short`);
    // A leftover tag is "word/tag" then a space; slashes in the text itself ("and/or", "lb/ft") use other words.
    assert.doesNotMatch(d.text, /\S\/(?:at|nn|nns|np|in|jj|vb|vbd|vbn|vbz|cc|cs|rb|pps|ppss|dt|cd|to|hl|tl|nn-tl|np-tl)(?=[\s,]|$)/m, `${d.id} keeps a tag`);
    assert.ok(!d.text.includes('``') && !d.text.includes("''"), `${d.id} keeps corpus quotes`);
    assert.doesNotMatch(d.text, / [,.;:?!](?: |$)/m, `${d.id} has a space before punctuation`);
  }
  assert.equal(
    detokenizeLine('``/`` Only/rb a/at handful/nn ,/, he/pps said/vbd ,/, was/bedz n\'t/* received/vbn \'\'/\'\' ./.'),
    '"Only a handful, he said, wasn\'t received".',
  );
  assert.equal(detokenizeLine('Ivan/np Allen/np Jr./np ./.'), 'Ivan Allen Jr.');
  assert.equal(detokenizeLine("only/rb 4'/nns 10''/nns ''/'' tall/jj"), 'only 4\' 10" tall');
});

test('Brown split: every 10th document by id is held out, deterministic and disjoint', () => {
  const docs = loadBrown();
  const { train, heldOut } = splitBrown(docs);
  assert.equal(heldOut.length, 50);
  assert.equal(train.length, 450);
  assert.deepEqual(heldOut.slice(0, 3).map((d) => d.id), ['ca10', 'ca20', 'ca30']);
  const trainIds = new Set(train.map((d) => d.id));
  assert.ok(heldOut.every((d) => !trainIds.has(d.id)));
  assert.ok(new Set(heldOut.map((d) => d.category)).size >= 12, 'held-out documents span the genres');
  const again = splitBrown([...docs].reverse());
  assert.deepEqual(again.heldOut.map((d) => d.id), heldOut.map((d) => d.id));
});

test('fictional entities: deterministic, unique, never real, prefix-stable, well-formed', () => {
  const a = makeFictionalEntities('t', 400);
  assert.deepEqual(a, makeFictionalEntities('t', 400));
  assert.deepEqual(makeFictionalEntities('t', 50), a.slice(0, 50));
  assert.notDeepEqual(makeFictionalEntities('u', 5), a.slice(0, 5));
  const names = a.flatMap((e) => [e.name, e.capital, ...e.languages.split(' and ')]);
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, names.length, 'all generated names unique');
  assert.equal(new Set(a.map((e) => e.currency)).size, a.length, 'currency codes unique');
  const real = new Set(loadCountries().flatMap((c) => [c.name, c.capital]).map((n) => n.toLowerCase()));
  for (const e of a) {
    assert.ok(!real.has(e.name.toLowerCase()) && !real.has(e.capital.toLowerCase()), `${e.name} is real`);
    assert.match(e.name, /^[A-Z][a-z]{2,9}$/);
    assert.match(e.capital, /^[A-Z][a-z]{2,9}$/);
    assert.ok((CONTINENTS as readonly string[]).includes(e.continent));
    assert.match(e.currency, /^[A-Z]{3}$/);
    assert.match(e.languages, /^[A-Z][a-z]+( and [A-Z][a-z]+)?$/);
    assert.match(e.callingCode, /^\+[1-9][0-9]{0,2}$/);
  }
  assert.deepEqual([...CONTINENTS].sort(), Object.values(continents).sort());
  const excluded = makeFictionalEntities('t2', 100, { exclude: new Set(names) });
  assert.ok(excluded.every((e) => !names.includes(e.name) && !names.includes(e.capital)));
});

test('entityDocument: exact text for real countries, missing facts omitted', () => {
  assert.equal(entityDocument(country('France')), FRANCE_DOC);
  assert.equal(
    entityDocument(country('Switzerland')),
    'Switzerland is a country in Europe. The capital of Switzerland is Bern. The currency of Switzerland is CHF, CHE and CHW. '
      + 'The languages of Switzerland are German, French and Italian. The calling code of Switzerland is +41.',
  );
  assert.equal(entityDocument(country('Antarctica')), 'Antarctica is a country in Antarctica. The calling code of Antarctica is +672.');
  assert.deepEqual(attributesOf(country('Antarctica')), ['continent', 'callingCode']);
});

test('copy contract: every answer sentence is verbatim a sentence of the document', () => {
  const entities = [
    ...['France', 'Switzerland', 'United States', 'India', 'Macao', 'Antarctica', 'Türkiye'].map(country),
    ...makeFictionalEntities('copy', 30),
  ];
  let checked = 0;
  for (const e of entities) {
    const doc = entityDocument(e);
    for (const attr of attributesOf(e)) {
      const sentence = `${answerLeadIn(e, attr)}${formatTarget(answerOf(e, attr))}`.trimEnd();
      assert.ok(doc.includes(sentence), `${e.name}/${attr}: "${sentence}" not in "${doc}"`);
      checked++;
    }
  }
  assert.ok(checked > 150);
  assert.equal(answerLeadIn(country('India'), 'languages'), 'The languages of India are');
  assert.equal(answerLeadIn(country('France'), 'languages'), 'The language of France is');
  assert.equal(answerLeadIn(country('France'), 'continent'), 'France is a country in');
});

test('prompt, target and answer extraction', () => {
  assert.equal(
    formatPrompt({ passages: ['P1.', 'P2.'], question: 'What is the capital of France?', leadIn: 'The capital of France is' }),
    'P1.\nP2.\nQ: What is the capital of France?\nA: The capital of France is',
  );
  assert.equal(formatPrompt({ passages: [], question: 'Q?', leadIn: 'L' }), 'Q: Q?\nA: L');
  assert.equal(formatTarget('Paris'), ' Paris.\n');
  assert.equal(extractAnswer(' Paris.\nQ: What is'), 'Paris');
  assert.equal(extractAnswer(' Washington D.C..\n'), 'Washington D.C.');
  assert.equal(extractAnswer('  New Delhi  '), 'New Delhi');
  assert.equal(extractAnswer('\nParis'), '');
  for (const e of loadCountries()) {
    for (const attr of attributesOf(e)) assert.equal(extractAnswer(formatTarget(answerOf(e, attr))), answerOf(e, attr));
  }
  assert.ok(exactMatch(' New  Delhi', 'New Delhi'));
  assert.ok(!exactMatch('paris', 'Paris'));
  assert.ok(!exactMatch('Paris.', 'Paris'));
});

test('question templates: enough phrasings, train and test disjoint', () => {
  for (const attr of ATTRIBUTES) {
    const { train, test: held } = QUESTION_TEMPLATES[attr];
    assert.ok(train.length >= 3 && held.length >= 2, attr);
    assert.ok([...train, ...held].every((t) => t.includes('{name}')), attr);
    assert.ok(held.every((t) => !train.includes(t)), attr);
  }
});

test('episodes: training text is prompt + target, distinct documents, deterministic', () => {
  const entities = makeFictionalEntities('ep', 50);
  const ep = makeEpisode(createRng('e'), entities, { nDocs: 3, nQuestions: 4, phrasing: 'train' });
  assert.deepEqual(ep, makeEpisode(createRng('e'), entities, { nDocs: 3, nQuestions: 4, phrasing: 'train' }));
  assert.equal(ep.qa.length, 4);
  const lines = ep.text.split('\n');
  const passage = lines.slice(0, 3);
  assert.equal(new Set(passage).size, 3);
  assert.ok(passage.every((l) => entities.some((e) => entityDocument(e) === l)));
  const first = ep.qa[0]!;
  assert.ok(ep.text.startsWith(first.prompt + formatTarget(first.answer)));
  assert.equal(lines.filter((l) => l.startsWith('Q: ')).length, 4);
  for (const { prompt, answer } of ep.qa) {
    assert.ok(prompt.startsWith(`${passage.join('\n')}\nQ: `));
    const leadIn = prompt.slice(prompt.lastIndexOf('\nA: ') + 4);
    assert.ok(passage.join('\n').includes(`${leadIn} ${answer}.`), 'answer is copied from the passage');
  }
  const trainTemplates = ATTRIBUTES.flatMap((a) => QUESTION_TEMPLATES[a].train.map((t) => t.split('{name}')[0]!));
  assert.ok(lines.filter((l) => l.startsWith('Q: ')).every((l) => trainTemplates.some((p) => l.slice(3).startsWith(p))));
  assert.throws(() => makeEpisode(createRng(1), entities.slice(0, 2), { nDocs: 3, nQuestions: 1, phrasing: 'train' }), RangeError);
});

test('held-out capability: unseen Brown documents and unseen entities', () => {
  const h = heldOutCapability(0);
  assert.equal(h.brown.length, 50);
  assert.equal(h.rc.length, 200);
  assert.equal(h.contentHash, heldOutCapability(0).contentHash);
  const seen = new Set(pretrainEntities().flatMap((e) => [e.name, e.capital]));
  const held = heldOutEntities();
  assert.equal(held.length, 300);
  assert.ok(held.every((e) => !seen.has(e.name) && !seen.has(e.capital)));
  for (const { prompt, answer } of h.rc) {
    assert.equal(prompt.split('\n').length, 5, 'three documents, a question, an answer line');
    assert.ok(prompt.includes(` ${answer}.`));
  }
});

test('pretraining pool: several streams, unique names, prefix-stable, never a held-out name', () => {
  const count = PRETRAIN_POOL_STREAM + 500; // crosses into the second stream
  const pool = pretrainEntityPool(count);
  assert.equal(pool.length, count);
  const names = pool.flatMap((e) => [e.name, e.capital]);
  assert.equal(new Set(names).size, names.length, 'country and capital names unique across streams');
  const held = new Set(heldOutEntities().flatMap((e) => [e.name, e.capital, ...e.languages.split(' and ')]));
  assert.ok(pool.every((e) => !held.has(e.name) && !held.has(e.capital) && e.languages.split(' and ').every((l) => !held.has(l))));
  assert.deepEqual(pretrainEntityPool(100), pool.slice(0, 100));
  assert.deepEqual(pretrainEntityPool(PRETRAIN_POOL_STREAM + 10).slice(-10), pool.slice(PRETRAIN_POOL_STREAM, PRETRAIN_POOL_STREAM + 10));
  assert.throws(() => pretrainEntityPool(0), RangeError);
});

test('JSONL: every bad line reported as file:line: field, nothing returned', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adaptbench-jsonl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const validate = (obj: unknown): string | null => {
    const o = obj as { text?: unknown; label?: unknown };
    if (typeof o !== 'object' || o === null) return 'field (line): must be an object';
    if (typeof o.text !== 'string' || o.text === '') return 'field text: must be a non-empty string';
    if (o.label !== 'spam' && o.label !== 'ham') return `field label: must be "spam" or "ham", got ${JSON.stringify(o.label)}`;
    return null;
  };
  const good = join(dir, 'good.jsonl');
  writeFileSync(good, '{"text":"a","label":"ham"}\n\n{"text":"b","label":"spam"}\n');
  assert.deepEqual(readJsonl(good, validate), [{ text: 'a', label: 'ham' }, { text: 'b', label: 'spam' }]);

  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"text":"a","label":"ham"}\n{"text":"b","label":"eggs"}\n{"text":\n{"label":"ham"}\n');
  assert.throws(() => readJsonl(bad, validate), (err: unknown) => {
    assert.ok(err instanceof DatasetError);
    assert.ok(err instanceof InputError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.problems.length, 3);
    assert.equal(err.problems[0], `${bad}:2: field label: must be "spam" or "ham", got "eggs"`);
    assert.match(err.problems[1]!, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: invalid JSON: `));
    assert.equal(err.problems[2], `${bad}:4: field text: must be a non-empty string`);
    assert.ok(err.message.includes(`${bad}:2: field label`));
    return true;
  });

  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '\n');
  assert.throws(() => readJsonl(empty, validate), (err: unknown) => err instanceof DatasetError && /empty/.test(err.message));
});
