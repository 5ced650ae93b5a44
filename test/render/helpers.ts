/** Small checkers used by the render and export tests. */

/** Markdown minus fenced blocks and code spans (whose content is literal), for syntax checks. */
export function mdOutsideCode(md: string): string {
  // Fenced blocks: a line of 3+ backticks up to the same fence.
  let s = md.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1\s*$/gm, '');
  // Code spans: a run of N backticks up to the next run of exactly N.
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s[i] === '\\' && i + 1 < s.length) {
      out += s[i] + s[i + 1];
      i += 2;
      continue;
    }
    if (s[i] === '`') {
      let n = 0;
      while (s[i + n] === '`') n++;
      const fence = '`'.repeat(n);
      let j = i + n;
      let found = -1;
      while ((j = s.indexOf(fence, j)) >= 0) {
        if (s[j + n] !== '`' && s[j - 1] !== '`') {
          found = j;
          break;
        }
        j += n;
      }
      if (found >= 0) {
        out += ' CODE ';
        i = found + n;
        continue;
      }
      out += fence;
      i += n;
      continue;
    }
    out += s[i++];
  }
  s = out;
  return s;
}

/** Characters in text that are not preceded by a backslash escape. */
export function unescaped(text: string, ch: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === ch) n++;
  }
  return n;
}

/** Plain text of Markdown for fact checks: backslash escapes removed, code-span backticks dropped. */
export function mdPlain(md: string): string {
  return md.replace(/`+/g, '').replace(/\\([!-/:-@[-`{-~])/g, '$1');
}

/** Decode the few entities escapeHtml produces and drop tags: the visible text of HTML. */
export function htmlPlain(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&');
}

const VOID = new Set(['meta', 'br', 'hr', 'img', 'link', 'input']);

/** Check that tags are balanced (HTML with inline SVG); returns the problems found. */
export function tagProblems(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const body = html.replace(/<!DOCTYPE[^>]*>/i, '').replace(/<style>[\s\S]*?<\/style>/g, '<style></style>');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    const tag = name.toLowerCase();
    if (VOID.has(tag) || selfClose) continue;
    if (!close) stack.push(tag);
    else {
      const top = stack.pop();
      if (top !== tag) problems.push(`</${tag}> closes <${top}>`);
    }
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(', ')}`);
  // Any '<' that does not start a well-formed tag is a problem (text must be escaped).
  const stray = body.replace(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>/g, '').match(/<[^\s]/g);
  if (stray) problems.push(`stray '<': ${stray.slice(0, 3).join(' ')}`);
  return problems;
}

export const ALLOWED_TAGS = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'nav', 'a', 'main', 'section', 'h1', 'h2', 'h3', 'h4', 'p', 'ul', 'ol', 'li', 'code', 'strong',
  'div', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'pre', 'figure', 'figcaption', 'svg', 'defs', 'marker', 'path', 'g', 'rect', 'text', 'line', 'circle',
]);

/** All tags with their attributes. */
export function tags(html: string): { name: string; attrs: Record<string, string> }[] {
  const out: { name: string; attrs: Record<string, string> }[] = [];
  for (const m of html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*\/?>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(/([\w:-]+)(?:="([^"]*)")?/g)) attrs[a[1].toLowerCase()] = a[2] ?? '';
    out.push({ name: m[1].toLowerCase(), attrs });
  }
  return out;
}

/** Minimal RFC 4180 CSV parser (for checking what a spreadsheet would read). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
