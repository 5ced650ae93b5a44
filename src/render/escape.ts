/**
 * Escaping for every target a string from evidence can land in.
 *
 * Evidence text (user names, URIs, user agents, file names, excerpts) is
 * attacker-controlled. Each function here makes it inert for one target:
 * HTML (text and attribute values), Markdown (inline text, table cells,
 * code spans and fenced blocks), CSV (RFC 4180 quoting plus formula
 * injection), terminals (ANSI/control characters) and JSON lines (C1/bidi
 * controls). docs/REPORTS.md states the rules.
 */

/**
 * Characters that must never reach any output raw: C0 controls except TAB/LF/CR,
 * DEL, C1 controls (U+0080..U+009F, which include the 8-bit CSI U+009B), Unicode
 * bidirectional overrides/isolates (Trojan-Source style reordering), and
 * line/paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const DANGEROUS_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/g;

function hex(c: string): string {
  const cp = c.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}

/** Replace control/bidi characters by a visible `\xNN`/`\uNNNN` form. Keeps TAB, LF, CR. */
export function visibleControls(s: string): string {
  return s.replace(DANGEROUS_CONTROLS, hex);
}

/** Like visibleControls, and also turns TAB/CR/LF into visible escapes (single-line contexts). */
export function oneLine(s: string): string {
  return visibleControls(s).replace(/\r\n|\r|\n/g, ' ⏎ ').replace(/\t/g, ' ');
}

function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : String(v);
}

// ---------------------------------------------------------------- HTML

const HTML_MAP: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Escape for HTML/XML/SVG text and for double- or single-quoted attribute
 * values. Control characters become visible escapes (they are not allowed in
 * HTML/XML anyway).
 */
export function escapeHtml(v: unknown): string {
  return visibleControls(str(v)).replace(/[&<>"'`]/g, (c) => HTML_MAP[c]);
}

/** Alias that reads better at attribute call sites. */
export const escapeAttr = escapeHtml;

// ---------------------------------------------------------------- Markdown

/**
 * Defang what GitHub-flavoured Markdown would turn into a live link even
 * after backslash escaping (extended autolinks run after inline parsing):
 * `http://`, `https://`, `ftp://` become `hxxp://`, `hxxps://`, `fxp://`
 * and `www.` becomes `www[.]`. This is the usual IOC-defanging convention,
 * so responders recognise it; the raw values are in the exports.
 */
export function defang(s: string): string {
  return s
    .replace(/\b(h)(tt)(ps?):\/\//gi, (_m, h: string, _t: string, p: string) => `${h}xx${p}://`)
    .replace(/\bftp:\/\//gi, 'fxp://')
    .replace(/\b(www)\./gi, '$1[.]')
    .replace(/\b(mailto|javascript|data|file|vbscript):/gi, '$1[:]');
}

/** ASCII punctuation that can start or take part in Markdown/HTML syntax inline. */
const MD_SPECIAL = /[\\`*_[\]<>|~&!$]/g;
/** Characters that start a block (heading, list, quote, setext line) when first on a line. */
const MD_LINE_START = /^(\s*)([#+\-=>]|\d+(?=[.)](?:\s|$)))/;

/**
 * Escape for inline Markdown text (paragraphs, list items, headings).
 * Every character that could open emphasis, code, a link/image, raw HTML,
 * an entity, a table cell or a strikethrough is backslash-escaped (CommonMark
 * allows a backslash before any ASCII punctuation), URL autolinks are
 * defanged and line breaks are folded so evidence cannot start a new block.
 */
export function escapeMd(v: unknown): string {
  return defang(oneLine(str(v))).replace(MD_SPECIAL, (c) => '\\' + c);
}

/**
 * Protect the start of a Markdown line (paragraph) that begins with
 * already-escaped text: `#`, `-`, `+`, `=`, `>` or `1.`/`1)` would otherwise
 * open a heading, list, quote or setext underline.
 */
export function mdLineStart(escaped: string): string {
  return escaped.replace(MD_LINE_START, (_m, sp: string, c: string) => (/^\d/.test(c) ? `${sp}${c}\\` : `${sp}\\${c}`));
}

/**
 * Escape for a GFM table cell: as escapeMd (which already escapes `|`).
 * Kept separate so the call sites say where the text goes.
 */
export function escapeMdCell(v: unknown): string {
  const s = escapeMd(v);
  return s === '' ? ' ' : s;
}

/**
 * A Markdown code span holding `v` literally (nothing inside a code span is
 * interpreted). The fence is one backtick longer than the longest backtick
 * run inside. In table cells pass `inTable` so `|` is escaped (GFM splits
 * cells before parsing code spans).
 */
export function mdCode(v: unknown, inTable = false): string {
  let s = oneLine(str(v));
  if (s === '') return '';
  let longest = 0;
  for (const m of s.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  if (inTable) s = s.replace(/\|/g, '\\|');
  const pad = s.startsWith('`') || s.endsWith('`') || (s.startsWith(' ') && s.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A fenced code block holding `text` literally (multi-line excerpts). */
export function mdFence(text: unknown, info = 'text'): string {
  const s = visibleControls(str(text)).replace(/\r\n?/g, '\n');
  let longest = 0;
  for (const m of s.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${s}\n${fence}`;
}

// ---------------------------------------------------------------- CSV

/** Cells beginning with one of these are read as formulas by spreadsheet programs. */
const FORMULA_START = /^[\s\u00a0\u3000]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r]/;

/** Does this cell text risk being evaluated as a formula? */
export function isFormulaLike(s: string): boolean {
  return FORMULA_START.test(s);
}

/**
 * One CSV cell (RFC 4180). Strings that a spreadsheet would evaluate
 * (leading `=`, `+`, `-`, `@`, TAB, CR, also after spaces, also full-width
 * forms) are prefixed with `'` (OWASP CSV-injection guidance); then the cell is
 * quoted when it holds a comma, quote, CR/LF or leading/trailing space, with
 * quotes doubled. Numbers and booleans are written as they are.
 * Control characters other than TAB/CR/LF become visible escapes.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = visibleControls(typeof v === 'string' ? v : Array.isArray(v) ? v.map(str).join(' ') : JSON.stringify(v));
  if (isFormulaLike(s)) s = "'" + s;
  if (/[",\r\n]/.test(s) || /^\s|\s$/.test(s) || s.startsWith("'")) s = '"' + s.replace(/"/g, '""') + '"';
  return s;
}

/** One CSV row terminated by CRLF (RFC 4180). */
export function csvRow(cells: unknown[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

// ---------------------------------------------------------------- terminals

/**
 * Make text safe to print on a terminal: ESC (and so every ANSI/OSC
 * sequence), other C0/C1 controls, DEL and bidi overrides become visible
 * `\xNN`/`\uNNNN` escapes. Newlines and tabs are kept unless `singleLine`.
 */
export function escapeTerminal(v: unknown, singleLine = false): string {
  const s = str(v);
  return singleLine ? oneLine(s) : visibleControls(s);
}

// ---------------------------------------------------------------- JSON

/**
 * JSON.stringify, then escape the characters JSON leaves raw but that are
 * dangerous downstream (C1 controls incl. 8-bit CSI, DEL, bidi controls,
 * U+2028/2029). The result is the same JSON value, safe to print.
 */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v), space).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
