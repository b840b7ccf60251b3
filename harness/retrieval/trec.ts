// TREC formats, so trec_eval (or pytrec_eval, as BEIR uses) can check our retrieval figures:
//   run:   `qid Q0 docno rank score tag`, one line per retrieved document
//   qrels: `qid 0 docno relevance`, one line per judgement
// trec_eval orders a query's documents by score (ties by docno, descending), not by the rank column,
// so scores are written strictly decreasing: a tie with the rank above is written 1e-6 lower.
import { InputError } from '../errors.js';

export interface RankedQuery {
  readonly queryId: string;
  /** Document ids, best first. */
  readonly docs: readonly string[];
  /** Their scores (higher is better), same length. */
  readonly scores: readonly number[];
}

const TIE_STEP = 1e-6;

function checkToken(value: string, what: string): void {
  if (value === '' || /\s/.test(value)) throw new InputError(`TREC export: ${what} "${value}" is empty or contains white space, which the TREC format cannot hold`);
}

/** A run file's text. */
export function trecRun(queries: readonly RankedQuery[], tag: string): string {
  checkToken(tag, 'run tag');
  const lines: string[] = [];
  for (const q of queries) {
    checkToken(q.queryId, 'query id');
    let previous = Infinity;
    q.docs.forEach((doc, i) => {
      checkToken(doc, 'document id');
      let score = q.scores[i]!;
      if (score >= previous) score = previous - TIE_STEP;
      previous = score;
      lines.push(`${q.queryId} Q0 ${doc} ${i + 1} ${score.toFixed(6)} ${tag}`);
    });
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** A qrels file's text for the given judgements. */
export function trecQrels(rows: ReadonlyArray<{ readonly queryId: string; readonly docId: string; readonly relevance: number }>): string {
  return rows.map((r) => {
    checkToken(r.queryId, 'query id');
    checkToken(r.docId, 'document id');
    return `${r.queryId} 0 ${r.docId} ${r.relevance}`;
  }).join('\n') + (rows.length ? '\n' : '');
}

/** A run file read back as trec_eval orders it: by score descending, ties by docno descending. */
export function parseTrecRun(text: string): Map<string, string[]> {
  const byQuery = new Map<string, Array<{ doc: string; score: number }>>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const f = line.trim().split(/\s+/);
    if (f.length !== 6 || !Number.isFinite(Number(f[4]))) throw new InputError(`TREC run line ${i + 1}: expected "qid Q0 docno rank score tag", got "${line}"`);
    const list = byQuery.get(f[0]!) ?? [];
    list.push({ doc: f[2]!, score: Number(f[4]) });
    byQuery.set(f[0]!, list);
  });
  return new Map([...byQuery].map(([q, list]) => [q, list.sort((a, b) => b.score - a.score || (a.doc < b.doc ? 1 : a.doc > b.doc ? -1 : 0)).map((x) => x.doc)]));
}

/** A qrels file read back: query id -> document id -> relevance. */
export function parseTrecQrels(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const f = line.trim().split(/\s+/);
    if (f.length !== 4 || !Number.isFinite(Number(f[3]))) throw new InputError(`TREC qrels line ${i + 1}: expected "qid 0 docno relevance", got "${line}"`);
    const m = out.get(f[0]!) ?? new Map<string, number>();
    m.set(f[2]!, Number(f[3]));
    out.set(f[0]!, m);
  });
  return out;
}
