// Validation of a suite: its definition (suite.json) and its records (JSONL lines), with every problem
// found at once, each with file, line and field and how to fix it. A user's folder and a built-in
// suite's generated records go through these same checks, so both end in the same SuiteData.
import type { Example, Qrel, SuiteDocument } from '../datasets/examples.js';
import { contentHash } from '../datasets/hash.js';
import { InputError } from '../harness/errors.js';
import { METRICS, type MetricId } from '../harness/metrics/definitions.js';
import { findTaskType, goldKeysOfAllTasks, taskTypeNames } from '../tasks/registry.js';
import type { TaskType } from '../tasks/types.js';
import { templateFields } from './template.js';
import { FIT_KEEPS, type FitKeep, type PromptSpec, type SuiteBudget, type SuiteData, type SuiteDefinition, type SuiteFiles, type SuiteMetric, type SuiteUpdateSpec, PREVIOUS_FIELD } from './types.js';

/** A line longer than this (bytes) is refused: it is almost always a file that is not JSONL. */
export const MAX_LINE_BYTES = 1_000_000;
/** The fine-tuning budget of a suite that declares none: every fine-tuning approach of the suite gets the same. */
export const DEFAULT_TRAIN_BUDGET = Object.freeze({ steps: 120, batchSize: 16, seqLen: 128 });
/** Ranges a budget must lie in; seqLen is also checked against the model's context when a run starts. */
export const BUDGET_RANGES = Object.freeze({ steps: [2, 100_000], batchSize: [1, 1024], seqLen: [8, 8192], testExamples: [1, 1_000_000] } as const);
/** Suite names become file names and cell ids: lower-case letters, digits, '.', '-' and '_', no '__'. */
export const SUITE_NAME = /^[a-z0-9](?:[a-z0-9.-]|_(?!_))*$/;
/** Record keys with a meaning of their own; every other string key is a field templates can name. */
const RESERVED_KEYS = ['id', 'docIds', ...goldKeysOfAllTasks()];

/** One problem of a suite. */
export interface SuiteProblem {
  readonly file: string;
  /** 1-based line, where the problem is on one. */
  readonly line: number | null;
  /** Dotted path of the field, where one is at fault. */
  readonly field: string | null;
  readonly message: string;
  readonly fix: string;
}

/** `file:line: field: message. Fix: ...` */
export function formatProblem(p: SuiteProblem): string {
  return `${p.file}${p.line !== null ? `:${p.line}` : ''}: ${p.field !== null ? `${p.field}: ` : ''}${p.message}. Fix: ${p.fix}`;
}

/** A suite that fails validation: exit 2, with every problem listed. */
export class SuiteValidationError extends InputError {
  readonly problems: readonly SuiteProblem[];
  constructor(where: string, problems: readonly SuiteProblem[]) {
    super(`suite ${where} is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\nNothing was run. Check it with \`bench validate ${where}\`.`);
    this.problems = problems;
  }
}

/** A parsed line of a JSONL file (or a generated record of a built-in suite). */
export interface SourceRecord {
  readonly line: number;
  readonly value: unknown;
}

/** The records of one file, with the name problems are reported under. */
export interface RecordSource {
  readonly file: string;
  readonly records: readonly SourceRecord[];
  /** The file could not be read (its problem is already reported): no "empty" problem for it. */
  readonly unreadable?: boolean;
}

/** What a suite's records are, before validation. */
export interface SuiteRecords {
  readonly documents: RecordSource | null;
  readonly train: RecordSource;
  readonly test: RecordSource;
  /** Relevance judgements (queryId, docId, relevance), besides the examples' docIds. */
  readonly qrels: RecordSource | null;
  readonly heldOut: RecordSource | null;
  /** The changed documents and training examples of suite.json's `update`. */
  readonly update: { readonly documents: RecordSource; readonly train: RecordSource } | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

const DEFINITION_KEYS = ['$schema', 'name', 'version', 'description', 'useCase', 'task', 'prompt', 'metrics', 'budget', 'stratifyBy', 'files', 'update', 'kSweep'];

/**
 * suite.json checked, with defaults filled in. `definition` is null only where the data cannot be
 * checked against it; it is usable to run only when `problems` is empty. `hasFile` says whether a file exists beside it (a
 * folder's documents.jsonl is used without being named; built-in suites pass their own).
 */
export function parseDefinition(raw: unknown, file: string, hasFile: (name: string) => boolean): { definition: SuiteDefinition | null; task: TaskType | null; problems: SuiteProblem[] } {
  const problems: SuiteProblem[] = [];
  const bad = (field: string | null, message: string, fix: string): void => { problems.push({ file, line: null, field, message, fix }); };
  if (!isObject(raw)) {
    bad(null, 'must hold one JSON object', 'see suites/suite.schema.json and the README section "Your own use case"');
    return { definition: null, task: null, problems };
  }
  for (const k of Object.keys(raw)) if (!DEFINITION_KEYS.includes(k)) bad(k, 'is not a suite.json key', `the keys are ${DEFINITION_KEYS.filter((x) => x !== '$schema').join(', ')}`);
  const text = (key: string, fix: string): string => {
    const v = raw[key];
    if (!isText(v)) {
      bad(key, v === undefined ? 'missing' : `must be a non-empty string (got ${JSON.stringify(v)})`, fix);
      return '';
    }
    return v;
  };
  const name = text('name', 'add "name": "my-suite" (lower-case letters, digits, ".", "-", "_")');
  if (name && !SUITE_NAME.test(name)) bad('name', `"${name}" is not a valid suite name`, 'use lower-case letters, digits, ".", "-" and single "_" (it becomes part of file names)');
  const version = text('version', 'add "version": "1.0.0", and bump it whenever the data or prompts change');
  const description = text('description', 'add one line saying what the suite contains');
  const useCase = text('useCase', 'add one line saying which situation of yours the suite stands for');

  // The task type first: it decides which record keys carry the gold and which metrics exist.
  let task: TaskType | null = null;
  let taskSpec: ReturnType<TaskType['parseSpec']>['spec'] | null = null;
  const rawTask = raw['task'];
  if (!isObject(rawTask) || typeof rawTask['type'] !== 'string') {
    bad('task.type', rawTask === undefined ? 'missing' : `must be one of ${taskTypeNames().join(', ')}`, `add "task": { "type": "${taskTypeNames()[0]}" } (task types: ${taskTypeNames().join(', ')}; see bench list)`);
  } else {
    task = findTaskType(rawTask['type']) ?? null;
    if (!task) {
      bad('task.type', `unknown task type "${rawTask['type']}"`, `use one of ${taskTypeNames().join(', ')}`);
    } else {
      const parsed = task.parseSpec(rawTask);
      taskSpec = parsed.spec;
      for (const p of parsed.problems) bad(p.field, p.message, p.fix);
    }
  }

  const prompt = parsePrompt(raw['prompt'], task, bad);
  const update = parseUpdate(raw['update'], hasFile, bad);
  const metrics = parseMetrics(raw['metrics'], task, bad, update !== null);
  const budget = parseBudget(raw['budget'], bad);
  const files = parseFiles(raw['files'], hasFile, bad);
  const stratifyBy = raw['stratifyBy'] ?? task?.stratifyBy ?? null;
  if (stratifyBy !== null && !isText(stratifyBy)) bad('stratifyBy', `must be a field name (got ${JSON.stringify(stratifyBy)})`, 'name a text field every test example has, or leave it out');
  const kSweep = raw['kSweep'] ?? false;
  if (typeof kSweep !== 'boolean') bad('kSweep', `must be true or false (got ${JSON.stringify(kSweep)})`, 'true makes rag and lora-rag also answer at k = 1, 3, 10 and as many as fit; or leave it out');

  // With the task, the prompt and the files known, the data can be checked too, so that one pass
  // reports every problem; a definition with problems is never run (callers check `problems`).
  if (!task || !taskSpec || !prompt || !files || update === false) return { definition: null, task, problems };
  return {
    definition: {
      name, version, description, useCase, task: taskSpec, prompt, metrics: metrics ?? task.metrics.map((m) => ({ ...m })),
      budget: budget ?? { train: { ...DEFAULT_TRAIN_BUDGET }, testExamples: null }, stratifyBy: isText(stratifyBy) ? stratifyBy : null, files,
      update,
      kSweep: kSweep === true,
    },
    task, problems,
  };
}

type Bad = (field: string | null, message: string, fix: string) => void;

function parsePrompt(raw: unknown, task: TaskType | null, bad: Bad): PromptSpec | null {
  if (!isObject(raw)) {
    bad('prompt', raw === undefined ? 'missing' : 'must be an object', 'add "prompt": { "template": "Q: {question}\\nA:", "target": " {answer}\\n" }');
    return null;
  }
  const known = ['template', 'target', 'passage', 'query', 'fit'];
  for (const k of Object.keys(raw)) if (!known.includes(k)) bad(`prompt.${k}`, 'is not a prompt key', `the keys are ${known.join(', ')}`);
  const str = (key: string, fallback: string | null, fix: string): string | null => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'string' || v === '') {
      bad(`prompt.${key}`, v === null ? 'missing' : `must be a non-empty string (got ${JSON.stringify(v)})`, fix);
      return null;
    }
    return v;
  };
  const template = str('template', null, 'add the prompt with the fields it fills in, e.g. "Q: {question}\\nA:"');
  const target = str('target', null, `add what follows the prompt with the ${task?.targetField ?? 'answer'}, e.g. " {${task?.targetField ?? 'answer'}}\\n"`);
  const passage = str('passage', '{text}\n', 'e.g. "{text}\\n": how a retrieved passage or demonstration precedes the prompt');
  const query = str('query', template, 'e.g. "{question}": the text retrieval searches with');
  if (task && target !== null) {
    const gold = `{${task.targetField}}`;
    if (!target.includes(gold)) bad('prompt.target', `must contain ${gold}`, `put ${gold} where the ${task.targetField} goes, e.g. " ${gold}\\n"`);
  }
  if (passage !== null && !passage.includes('{text}')) bad('prompt.passage', 'must contain {text}', 'e.g. "{text}\\n"');
  // Reserved record keys are not text fields: a template naming one would have nothing to fill in.
  // (The target's placeholder depends on the task type: unchecked while the task type is unknown.)
  for (const [key, text] of [['template', template], ['query', query], ...(task ? [['target', target]] as const : [])] as const) {
    const reserved = templateFields(text ?? '').filter((f) => RESERVED_KEYS.includes(f) && !(key === 'target' && f === task?.targetField));
    for (const f of reserved) bad(`prompt.${key}`, `names {${f}}, a reserved key (${RESERVED_KEYS.join(', ')}), not a text field`, key === 'target' && task ? `use {${task.targetField}} for the gold` : 'name a text field of the examples');
  }
  if (passage !== null) {
    const others = templateFields(passage).filter((f) => f !== 'text');
    if (others.length) bad('prompt.passage', `names ${others.map((f) => `{${f}}`).join(', ')}; a passage has only {text}`, 'use {text} alone');
  }
  const fitRaw = raw['fit'] ?? {};
  let fit: PromptSpec['fit'] | null = null;
  if (!isObject(fitRaw)) {
    bad('prompt.fit', 'must be an object', 'e.g. "fit": { "field": "body", "keep": "start" }');
  } else {
    const field = fitRaw['field'] ?? null;
    const keep = fitRaw['keep'] ?? (field === null ? 'end' : 'start');
    if (field !== null && !isText(field)) bad('prompt.fit.field', `must be a field name (got ${JSON.stringify(field)})`, 'name the long text field to cut, or leave it out');
    else if (field !== null && template !== null && !templateFields(template).includes(field)) bad('prompt.fit.field', `"${field}" is not a field of prompt.template`, `name one of ${templateFields(template ?? '').join(', ') || '(none)'}`);
    if (!(FIT_KEEPS as readonly unknown[]).includes(keep)) bad('prompt.fit.keep', `must be one of ${FIT_KEEPS.join(', ')} (got ${JSON.stringify(keep)})`, '"start" keeps the beginning, "end" the end, "both" both ends');
    fit = { field: field as string | null, keep: keep as FitKeep };
  }
  if (template === null || target === null || passage === null || query === null || fit === null) return null;
  return { template, target, passage, query, fit };
}

/** What a suite with an update reports besides its task type's metrics (the cell's update stage). */
export const UPDATE_METRICS: readonly SuiteMetric[] = Object.freeze([
  { id: 'fresh.newFactAccuracy', higherIsBetter: true }, { id: 'fresh.staleRate', higherIsBetter: false }, { id: 'fresh.unchangedAccuracy', higherIsBetter: true },
  { id: 'update.wallSec', higherIsBetter: false }, { id: 'update.tokens', higherIsBetter: false }, { id: 'update.peakBytes', higherIsBetter: false },
]);

/** suite.json's `update`: null when absent, false when it has problems (each reported). */
function parseUpdate(raw: unknown, hasFile: (name: string) => boolean, report: Bad): SuiteUpdateSpec | null | false {
  if (raw === undefined || raw === null) return null;
  let ok = true;
  const bad: Bad = (field, message, fix) => { ok = false; report(field, message, fix); };
  const example = 'e.g. "update": { "documents": "update-documents.jsonl", "train": "update-train.jsonl", "steps": 40 }';
  if (!isObject(raw)) {
    bad('update', 'must be an object', example);
    return false;
  }
  for (const k of Object.keys(raw)) if (!['documents', 'train', 'steps'].includes(k)) bad(`update.${k}`, 'is not an update key', 'the keys are documents, train and steps');
  const file = (key: 'documents' | 'train'): string => {
    const v = raw[key];
    if (!isText(v)) bad(`update.${key}`, v === undefined ? 'missing' : 'must be a file name', example);
    else if (!hasFile(v)) bad(`update.${key}`, `names "${v}", which is not a file in the suite folder`, 'correct the name, or add the file');
    return isText(v) ? v : '';
  };
  const documents = file('documents');
  const train = file('train');
  const steps = raw['steps'];
  if (!(Number.isInteger(steps) && (steps as number) >= BUDGET_RANGES.steps[0] && (steps as number) <= BUDGET_RANGES.steps[1])) {
    bad('update.steps', `must be an integer from ${BUDGET_RANGES.steps[0]} to ${BUDGET_RANGES.steps[1]} (got ${JSON.stringify(steps)})`, 'the optimiser steps of a fine-tuning update, e.g. 40');
  }
  return ok ? { documents, train, steps: steps as number } : false;
}

function parseMetrics(raw: unknown, task: TaskType | null, bad: Bad, withUpdate: boolean): SuiteMetric[] | null {
  if (!task) return null;
  if (raw === undefined) return task.metrics.map((m) => ({ ...m }));
  const available = [...task.metrics, ...(withUpdate ? UPDATE_METRICS : [])].map((m) => m.id as string);
  if (!Array.isArray(raw) || raw.length === 0) {
    bad('metrics', 'must be a non-empty list, headline first', `e.g. "metrics": [{ "id": "${available[0]}", "higherIsBetter": true }]`);
    return null;
  }
  const out: SuiteMetric[] = [];
  raw.forEach((m, i) => {
    const id = isObject(m) ? m['id'] : m;
    if (typeof id !== 'string' || !available.includes(id)) {
      bad(`metrics[${i}].id`, `${JSON.stringify(id)} is not a metric the ${task.name} task reports`, `use ${available.join(' or ')}`);
      return;
    }
    const def = METRICS[id as MetricId];
    const higher = isObject(m) ? m['higherIsBetter'] : def.higherIsBetter;
    if (higher !== def.higherIsBetter) {
      bad(`metrics[${i}].higherIsBetter`, `${id} is ${def.higherIsBetter ? 'higher' : 'lower'}-is-better (got ${JSON.stringify(higher)})`, `set it to ${String(def.higherIsBetter)}`);
      return;
    }
    if (out.some((x) => x.id === id)) bad(`metrics[${i}].id`, `${id} is listed twice`, 'list each metric once');
    else out.push({ id: id as MetricId, higherIsBetter: def.higherIsBetter as boolean });
  });
  return out;
}

function parseBudget(raw: unknown, bad: Bad): SuiteBudget | null {
  const b = raw ?? {};
  if (!isObject(b)) {
    bad('budget', 'must be an object', 'e.g. "budget": { "train": { "steps": 100, "batchSize": 16, "seqLen": 128 }, "testExamples": 200 }');
    return null;
  }
  for (const k of Object.keys(b)) if (!['train', 'testExamples'].includes(k)) bad(`budget.${k}`, 'is not a budget key', 'the keys are train and testExamples');
  const train = b['train'] ?? {};
  let ok = true;
  const inRange = (field: string, v: unknown, [lo, hi]: readonly [number, number]): number => {
    if (!(Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi)) {
      bad(field, `must be an integer from ${lo} to ${hi} (got ${JSON.stringify(v)})`, 'bring it into range, or leave it out for the default');
      ok = false;
    }
    return v as number;
  };
  if (!isObject(train)) {
    bad('budget.train', 'must be an object', 'e.g. { "steps": 100, "batchSize": 16, "seqLen": 128 }');
    return null;
  }
  for (const k of Object.keys(train)) if (!['steps', 'batchSize', 'seqLen'].includes(k)) bad(`budget.train.${k}`, 'is not a training budget key', 'the keys are steps, batchSize and seqLen');
  const steps = inRange('budget.train.steps', train['steps'] ?? DEFAULT_TRAIN_BUDGET.steps, BUDGET_RANGES.steps);
  const batchSize = inRange('budget.train.batchSize', train['batchSize'] ?? DEFAULT_TRAIN_BUDGET.batchSize, BUDGET_RANGES.batchSize);
  const seqLen = inRange('budget.train.seqLen', train['seqLen'] ?? DEFAULT_TRAIN_BUDGET.seqLen, BUDGET_RANGES.seqLen);
  const testExamples = b['testExamples'] === undefined || b['testExamples'] === null ? null : inRange('budget.testExamples', b['testExamples'], BUDGET_RANGES.testExamples);
  return ok ? { train: { steps, batchSize, seqLen }, testExamples } : null;
}

function parseFiles(raw: unknown, hasFile: (name: string) => boolean, bad: Bad): SuiteFiles | null {
  const f = raw ?? {};
  if (!isObject(f)) {
    bad('files', 'must be an object', 'e.g. "files": { "train": "train.jsonl", "test": "test.jsonl" }');
    return null;
  }
  const keys = ['documents', 'train', 'test', 'qrels', 'heldOut'];
  for (const k of Object.keys(f)) if (!keys.includes(k)) bad(`files.${k}`, 'is not a file key', `the keys are ${keys.join(', ')}`);
  let ok = true;
  const path = (key: string, fallback: string | null, required: boolean): string | null => {
    const v = f[key] ?? (fallback !== null && (required || hasFile(fallback)) ? fallback : null);
    if (v === null) return null;
    if (!isText(v) || v.startsWith('/') || v.split(/[\\/]/).includes('..')) {
      bad(`files.${key}`, `must be a path inside the suite folder (got ${JSON.stringify(v)})`, 'give a relative path without ".."');
      ok = false;
      return null;
    }
    if (!hasFile(v)) {
      bad(`files.${key}`, `${v} does not exist`, `create ${v} beside suite.json${f[key] === undefined ? '' : ', or correct the path'}`);
      ok = false;
    }
    return v;
  };
  const files = {
    documents: path('documents', 'documents.jsonl', false),
    train: path('train', 'train.jsonl', true),
    test: path('test', 'test.jsonl', true),
    qrels: path('qrels', null, false),
    heldOut: path('heldOut', null, false),
  };
  return ok && files.train !== null && files.test !== null ? { ...files, train: files.train, test: files.test } : null;
}

/**
 * The suite's data from its records, or every problem with them. `definition` must be valid.
 * Examples keep every string key but the reserved ones as template fields.
 */
export function buildSuiteData(definition: SuiteDefinition, task: TaskType, sources: SuiteRecords): { data: SuiteData | null; problems: SuiteProblem[] } {
  const problems: SuiteProblem[] = [];
  const at = (src: RecordSource, r: SourceRecord) => (field: string | null, message: string, fix: string): void => {
    problems.push({ file: src.file, line: r.line, field, message, fix });
  };

  // Documents, and the update's rewritten documents, each of which replaces one of them.
  const readDocuments = (src: RecordSource, replaces: ReadonlySet<string> | null): SuiteDocument[] => {
    const out: SuiteDocument[] = [];
    const seen = new Set<string>();
    for (const r of src.records) {
      const bad = at(src, r);
      const v = r.value;
      if (!isObject(v)) { bad(null, 'must be a JSON object', 'write {"id": "...", "text": "..."}'); continue; }
      if (!isText(v['id'])) { bad('id', v['id'] === undefined ? 'missing' : 'must be a non-empty string', 'give every document a unique id'); continue; }
      if (!isText(v['text'])) { bad('text', v['text'] === undefined ? 'missing' : 'must be a non-empty string', 'give the document\'s text'); continue; }
      if (v['title'] !== undefined && typeof v['title'] !== 'string') { bad('title', 'must be a string', 'give the title as text or leave it out'); continue; }
      if (seen.has(v['id'])) { bad('id', `duplicate document id "${v['id']}"`, 'give every document a unique id'); continue; }
      if (replaces && !replaces.has(v['id'])) { bad('id', `"${v['id']}" names no document of the suite: an updated document replaces one`, 'use the id of the document it rewrites'); continue; }
      seen.add(v['id']);
      out.push({ id: v['id'], text: v['text'], ...(typeof v['title'] === 'string' ? { title: v['title'] } : {}) });
    }
    if (src.records.length === 0 && !src.unreadable) problems.push({ file: src.file, line: null, field: null, message: 'the documents file is empty', fix: replaces ? 'add the rewritten documents' : 'add documents, or remove files.documents from suite.json (a choice suite then retrieves labelled training examples)' });
    return out;
  };
  const documents = sources.documents ? readDocuments(sources.documents, null) : [];
  const docIds = new Set(documents.map((d) => d.id));

  // Fields every example must have: what the templates fill in and what the subset is stratified by.
  const p = definition.prompt;
  // Reserved keys named by a template are the definition's problem, reported there.
  const needed = [...new Set([...templateFields(p.template), ...templateFields(p.query), ...templateFields(p.target)])].filter((f) => !RESERVED_KEYS.includes(f));
  const exampleIds = new Set<string>();
  const readExamples = (src: RecordSource): Example[] => {
    const out: Example[] = [];
    // A template field that no example of the file has is one problem (the template's), not one per line.
    const missing = new Map<string, number[]>();
    for (const r of src.records) {
      const bad = at(src, r);
      const v = r.value;
      if (!isObject(v)) { bad(null, 'must be a JSON object', `write {"id": "...", ${needed.map((f) => `"${f}": "..."`).join(', ')}${needed.length ? ', ' : ''}...}`); continue; }
      const before = problems.length;
      const id = v['id'];
      if (!isText(id)) bad('id', id === undefined ? 'missing' : `must be a non-empty string (got ${JSON.stringify(id)})`, 'give every example a unique id');
      else if (exampleIds.has(id)) bad('id', `duplicate example id "${id}" (ids are unique across train and test)`, 'give every example a unique id');
      else exampleIds.add(id);
      const fields: Record<string, string> = {};
      for (const [k, x] of Object.entries(v)) if (!RESERVED_KEYS.includes(k) && typeof x === 'string') fields[k] = x;
      let lacks = false;
      for (const f of needed) {
        if (v[f] === undefined) {
          missing.set(f, [...(missing.get(f) ?? []), r.line]);
          lacks = true;
        } else if (typeof v[f] !== 'string') {
          bad(f, `must be a string (got ${JSON.stringify(v[f]).slice(0, 60)})`, 'template fields are text');
        }
      }
      const strat = definition.stratifyBy;
      if (strat !== null && strat !== 'label' && typeof v[strat] !== 'string') bad(strat, 'missing: the suite stratifies its test subset by it', `add "${strat}" or change stratifyBy`);
      const gold = task.parseGold(v, definition.task);
      for (const g of gold.problems) bad(g.field, g.message, g.fix);
      const refs = v['docIds'] ?? [];
      if (!Array.isArray(refs) || refs.some((d) => typeof d !== 'string')) {
        bad('docIds', `must be a list of document ids (got ${JSON.stringify(refs).slice(0, 60)})`, 'write "docIds": ["doc-1"], or leave it out');
      } else {
        refs.forEach((d, k) => { if (!docIds.has(d as string)) bad(`docIds[${k}]`, `"${d}" names no document${sources.documents ? ` in ${sources.documents.file}` : ' (the suite has no documents file)'}`, 'correct the id, or add the document'); });
      }
      if (problems.length > before || lacks || !isText(id)) continue;
      out.push({ id, fields, ...(gold.answers ? { answers: gold.answers } : {}), ...(gold.label !== undefined ? { label: gold.label } : {}), docIds: [...new Set(refs as string[])] });
    }
    for (const [f, lines] of missing) {
      const named = ['template', 'query', 'target'].filter((k) => templateFields(definition.prompt[k as 'template']).includes(f)).map((k) => `prompt.${k}`);
      const where = `${named.join(' and ')} name${named.length === 1 ? 's' : ''}`;
      if (lines.length === src.records.length) {
        problems.push({ file: src.file, line: null, field: f, message: `${where} {${f}}, which no example in this file has`, fix: `add "${f}" to the examples, or remove {${f}} from ${named.join(' and ')} in suite.json` });
      } else {
        for (const line of lines) problems.push({ file: src.file, line, field: f, message: `missing: ${where} {${f}}`, fix: `add "${f}" to this example` });
      }
    }
    if (src.records.length === 0 && !src.unreadable) problems.push({ file: src.file, line: null, field: null, message: 'the split is empty', fix: 'add at least one example (one JSON object per line)' });
    return out;
  };
  const train = readExamples(sources.train);
  const test = readExamples(sources.test);
  let update: SuiteData['update'] = null;
  if (definition.update && sources.update) {
    const updated = readDocuments(sources.update.documents, docIds);
    const updateTrain = readExamples(sources.update.train);
    if (!test.some((ex) => ex.fields[PREVIOUS_FIELD] !== undefined)) {
      problems.push({ file: sources.test.file, line: null, field: PREVIOUS_FIELD, message: 'no test example asks about a changed fact', fix: `give the test examples on changed facts a "${PREVIOUS_FIELD}" field with the old answer` });
    }
    update = { documents: updated, train: updateTrain };
  }

  const qrels: Qrel[] = [...train, ...test].flatMap((e) => e.docIds.map((docId) => ({ queryId: e.id, docId, relevance: 1 })));
  const judged = new Set(qrels.map((q) => `${q.queryId}\u0000${q.docId}`));
  for (const r of sources.qrels?.records ?? []) {
    const bad = at(sources.qrels!, r);
    const v = r.value;
    if (!isObject(v)) { bad(null, 'must be a judgement', 'write "query-id<TAB>corpus-id<TAB>score"'); continue; }
    const { queryId, docId, relevance } = v as { queryId: unknown; docId: unknown; relevance: unknown };
    if (typeof queryId !== 'string' || !exampleIds.has(queryId)) { bad('query-id', `${JSON.stringify(queryId)} names no example`, 'use an id from train or test'); continue; }
    if (typeof docId !== 'string' || !docIds.has(docId)) { bad('corpus-id', `${JSON.stringify(docId)} names no document`, 'use an id from the documents file'); continue; }
    if (!(Number.isInteger(relevance) && (relevance as number) >= 0)) { bad('score', `must be a non-negative integer (got ${JSON.stringify(relevance)})`, '1 for relevant, 0 for not'); continue; }
    if (judged.has(`${queryId}\u0000${docId}`)) continue;
    judged.add(`${queryId}\u0000${docId}`);
    qrels.push({ queryId, docId, relevance: relevance as number });
  }

  let heldOut: Array<{ id: string; text: string }> | null = null;
  if (sources.heldOut) {
    heldOut = [];
    for (const r of sources.heldOut.records) {
      const bad = at(sources.heldOut, r);
      const v = r.value;
      if (!isObject(v) || !isText(v['id']) || !isText(v['text'])) { bad(null, 'must be {"id": "...", "text": "..."}', 'one held-out text of your model\'s original capability per line'); continue; }
      heldOut.push({ id: v['id'], text: v['text'] });
    }
    if (sources.heldOut.records.length === 0) problems.push({ file: sources.heldOut.file, line: null, field: null, message: 'the held-out file is empty', fix: 'add texts, or remove files.heldOut' });
  }

  if (problems.length) return { data: null, problems };
  const body = { definition, documents, train, test, qrels, heldOut, update };
  return { data: { documents, train, test, qrels, heldOut, update, contentHash: contentHash(body) }, problems };
}
