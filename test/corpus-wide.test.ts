// corpus-wide: gold answers computed from the data (checked against countries-list read here
// directly), train and test kept apart, evidence coverage computed exactly, and a real rag cell
// through the CLI whose k sweep is checked against retrieval done here by brute force.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { countries as rawCountries } from 'countries-list';
import { rag } from '../adapters/rag.js';
import { EXCLUDED_COUNTRY_CODES } from '../datasets/countries.js';
import { selectTestSubset } from '../harness/cell.js';
import { initBackend } from '../harness/engine/backend.js';
import { loadCheckpoint, saveCheckpoint } from '../harness/engine/checkpoint.js';
import { GPT } from '../harness/engine/model.js';
import { pretrain } from '../harness/pretrain.js';
import type { CellResult, CompletedCell } from '../harness/results.js';
import { TfidfEmbedder } from '../harness/retrieval/embedders.js';
import { buildIndex } from '../harness/retrieval/indexes.js';
import { evidenceCoverage } from '../harness/retrieval/metrics.js';
import { row } from '../harness/retrieval/vectors.js';
import { aggregates, corpusWide, FAMILIES, MAX_LIST, MIN_COUNT, type FamilyName } from '../suites/corpus-wide/suite.js';
import { countryDocId } from '../suites/knowledge-qa/suite.js';
import type { Example } from '../suites/types.js';
import { cellContext } from './context.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'harness', 'bin', 'bench.js');
const tmp = mkdtempSync(join(tmpdir(), 'adaptbench-corpus-wide-test-'));
const tiny = join(tmp, 'tiny');
const wide = join(tmp, 'wide');
const data = corpusWide.buildData(0);

/** countries-list itself, less the two codes the project leaves out. */
const raw = Object.entries(rawCountries).filter(([code]) => !EXCLUDED_COUNTRY_CODES.has(code)).map(([, c]) => c);
const docIdOf = (name: string): string => countryDocId({ name, continent: '', capital: '', currency: '', languages: '', callingCode: '' });
const sorted = (xs: readonly string[]): string[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

before(async () => {
  await pretrain({ preset: 'tiny', seed: 0, out: tiny, log: () => {} });
  // The tiny model's 128-token context holds no whole country document (~140 tokens with its
  // tokenizer); this one holds about fourteen, so k = 1, 3 and 10 all fit whole and "as many as fit" is more.
  const t = loadCheckpoint(tiny);
  const model = GPT.init({ ...t.header.config, nCtx: 2048 }, 1);
  await saveCheckpoint(wide, model, t.tokenizer, { note: 'corpus-wide test: tiny tokenizer, random weights, 2048-token context' });
  model.dispose();
  t.model.dispose();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('corpus-wide suite', () => {
  const all = new Map(aggregates().map((a) => [a.key, a]));

  test('gold answers and docIds are computed from the data', () => {
    const oceania = raw.filter((c) => c.continent === 'OC').map((c) => c.name);
    const euro = raw.filter((c) => c.currency.includes('EUR')).map((c) => c.name);
    const code358 = raw.filter((c) => String(c.phone[0]).startsWith('358')).map((c) => c.name);
    assert.equal(all.get('continent-count/Oceania')!.answer, '27');
    assert.equal(oceania.length, 27);
    assert.deepEqual(all.get('continent-count/Oceania')!.docIds, sorted(oceania.map(docIdOf)));
    assert.equal(all.get('currency-count/EUR')!.answer, '37');
    assert.equal(euro.length, 37);
    assert.equal(all.get('currency-most/EUR')!.answer, 'Europe');
    assert.equal(all.get('language-count/French')!.answer, '44');
    assert.equal(all.get('calling-list/+358')!.answer, 'Aland and Finland');
    assert.deepEqual(sorted(code358), ['Aland', 'Finland']);
    assert.deepEqual(all.get('calling-list/+358')!.docIds, ['country/aland', 'country/finland']);
    // "+35" is met by more than MAX_LIST countries: a count, never a list.
    assert.equal(all.get('calling-list/+35'), undefined);
    assert.equal(all.get('calling-count/+35')!.answer, String(raw.filter((c) => String(c.phone[0]).startsWith('35')).length));
    for (const a of all.values()) {
      const kind = FAMILIES[a.family].answer;
      if (kind === 'count') assert.equal(Number(a.answer), a.docIds.length, a.key);
      if (kind === 'count' || kind === 'continent') assert.ok(a.docIds.length >= MIN_COUNT, a.key);
      if (kind === 'list') assert.ok(a.docIds.length >= 2 && a.docIds.length <= MAX_LIST, a.key);
    }
    // Every example carries its aggregate's answer and documents.
    for (const ex of [...data.train, ...data.test]) {
      const a = all.get(ex.fields['aggregate']!)!;
      assert.deepEqual([ex.answers, ex.docIds], [[a.answer], a.docIds]);
    }
  });

  test('train and test ask different aggregates in different phrasings; the test aggregates are the same for every seed', () => {
    assert.deepEqual([data.train.length, data.test.length, data.documents.length], [164, 86, 250]);
    const keys = (xs: readonly Example[]): Set<string> => new Set(xs.map((ex) => ex.fields['aggregate']!));
    const train = keys(data.train), testKeys = keys(data.test);
    assert.deepEqual([...testKeys].filter((k) => train.has(k)), []);
    assert.deepEqual(new Set(data.test.map((ex) => ex.fields['family'])), new Set(Object.keys(FAMILIES)));
    const asked = (ex: Example, split: 'train' | 'test'): boolean => {
      const family = ex.fields['family'] as FamilyName;
      const value = ex.fields['aggregate']!.slice(family.length + 1);
      return FAMILIES[family][split].some((t) => t.replaceAll('{value}', value) === ex.fields['question']);
    };
    assert.ok(data.train.every((ex) => asked(ex, 'train') && !asked(ex, 'test')));
    assert.ok(data.test.every((ex) => asked(ex, 'test') && !asked(ex, 'train')));
    assert.deepEqual(keys(corpusWide.buildData(1).test), testKeys);
    assert.equal(corpusWide.kSweep, true);
  });
});

describe('evidence coverage', () => {
  test('the share of the needed documents with a passage in the prompt', () => {
    assert.equal(evidenceCoverage(['a', 'b', 'c', 'd'], ['b', 'x', 'd', 'b']), 0.5);
    assert.equal(evidenceCoverage(['a', 'a', 'b'], ['a']), 0.5);
    assert.equal(evidenceCoverage(['a'], []), 0);
    assert.equal(evidenceCoverage([], ['a']), null);
  });

  test('rag prompts at k: coverage is what the prompt text holds, and "as many as fit" holds as many as fit', async () => {
    const backend = await initBackend();
    const config = Object.freeze({ ...rag.defaults, index: 'exact' });
    const ctx = cellContext({ suite: corpusWide, data, config, base: loadCheckpoint(wide), backend });
    const outcome = await rag.run(ctx);
    const retrieval = outcome.retrieval!;
    assert.equal(retrieval.k, 3);
    const examples = data.test.filter((_, i) => i % 9 === 0);
    const text = new Map(data.documents.map((d) => [d.id, d.text]));
    // The documents' own lines in a prompt, counted from its text.
    const inPrompt = (prompt: string): string[] => data.documents.filter((d) => prompt.split('\n').includes(d.text)).map((d) => d.id);
    for (const k of [1, 3, 10, 'fit'] as const) {
      const at = retrieval.promptsAtK(examples, k);
      examples.forEach((ex, i) => {
        const held = inPrompt(at.prompts[i]!);
        assert.equal(held.length, at.passages[i], `${ex.id} at k = ${k}`);
        assert.equal(at.coverage[i], ex.docIds.filter((d) => held.includes(d)).length / ex.docIds.length);
        if (k !== 'fit') assert.equal(held.length, k);
      });
    }
    // "As many as fit": one more passage, the next in an independent brute-force ranking, would not.
    const e = new TfidfEmbedder({ dim: 4096 });
    e.fit(data.documents.map((d) => d.text));
    const exact = buildIndex({ type: 'exact' }, e.embed(data.documents.map((d) => d.text)));
    const qv = e.embed(examples.map((ex) => ex.fields['question']!));
    const fit = retrieval.promptsAtK(examples, 'fit');
    examples.forEach((ex, i) => {
      const n = fit.passages[i]!;
      const top = exact.search(row(qv, i), n + 1).ids.map((id) => data.documents[id]!);
      assert.deepEqual(new Set(inPrompt(fit.prompts[i]!)), new Set(top.slice(0, n).map((d) => d.id)));
      assert.ok(ctx.base.tokenizer.encode(ctx.prompts.render(ex, top.map((d) => text.get(d.id)!))).length > ctx.prompts.testBudget, `${ex.id}: ${n + 1} passages would fit`);
    });
    outcome.dispose?.();
    ctx.base.model.dispose();
  });
});

describe('bench run corpus-wide', () => {
  test('a rag cell records evidence coverage and the k sweep, equal to brute-force retrieval; a closed-book cell records none', () => {
    const out = join(tmp, 'run');
    const r = spawnSync(process.execPath, [BENCH, 'run', 'corpus-wide', '--approach', 'rag:index=exact,base', '--seeds', '1', '--limit-test', '10', '--checkpoint', wide, '--out', out], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const cell = (label: string): CompletedCell => {
      const c = JSON.parse(readFileSync(join(out, 'cells', `corpus-wide__${label}__seed0.json`), 'utf8')) as CellResult;
      assert.equal(c.status, 'completed', c.status === 'failed' ? c.error.message : '');
      return c as CompletedCell;
    };
    const m = cell('rag-indexexact').metrics;
    const coverage = [m['sweep.coverageAtK1']!, m['sweep.coverageAtK3']!, m['sweep.coverageAtK10']!, m['sweep.coverageAtFit']!];
    coverage.slice(1).forEach((c, i) => assert.ok(c >= coverage[i]!, `coverage falls from ${coverage[i]} to ${c}`));
    // The same ten questions, ranked here by brute force; k = 1, 3 and 10 all fit whole in 2048 tokens.
    const questions = selectTestSubset(data.test, 10, 'test-subset:corpus-wide:0', corpusWide.stratifyBy);
    const e = new TfidfEmbedder({ dim: 4096 });
    e.fit(data.documents.map((d) => d.text));
    const exact = buildIndex({ type: 'exact' }, e.embed(data.documents.map((d) => d.text)));
    const qv = e.embed(questions.map((ex) => ex.fields['question']!));
    const expected = (k: number): number => questions.reduce((s, ex, i) => {
      const top = exact.search(row(qv, i), k).ids.map((id) => data.documents[id]!.id);
      return s + ex.docIds.filter((d) => top.includes(d)).length / ex.docIds.length;
    }, 0) / questions.length;
    assert.ok(Math.abs(m['sweep.coverageAtK1']! - expected(1)) < 1e-12);
    assert.ok(Math.abs(m['sweep.coverageAtK3']! - expected(3)) < 1e-12);
    assert.ok(Math.abs(m['sweep.coverageAtK10']! - expected(10)) < 1e-12);
    assert.ok(m['sweep.kFit']! > 10 && m['sweep.coverageAtFit']! >= expected(10));
    // The cell's own k is 3: its evidence coverage and its answers are the sweep's at k = 3.
    assert.equal(m['retrieval.evidenceCoverage'], m['sweep.coverageAtK3']);
    assert.equal(m['sweep.headlineAtK3'], m['quality.exactMatch']);
    const base = cell('base');
    assert.equal(base.metrics['retrieval.evidenceCoverage'], 0);
    assert.equal(base.notes['retrieval.evidenceCoverage'], 'closed-book: no document reaches the context');
    assert.equal(base.metrics['sweep.coverageAtK1'], null);
    assert.equal(base.notes['sweep.headlineAtFit'], 'base does not retrieve (closed-book): no k to sweep');
  });
});
