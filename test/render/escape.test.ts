import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvCell, csvRow, defang, escapeHtml, escapeMd, escapeMdCell, escapeTerminal, isFormulaLike, mdCode, mdFence, mdLineStart, safeJson } from '../../src/render/escape.js';
import { HOSTILE } from './fixtures.js';
import { mdOutsideCode, parseCsv, unescaped } from './helpers.js';

test('escapeHtml: tags, attributes and control characters become inert', () => {
  const s = escapeHtml(`${HOSTILE.script}${HOSTILE.img}" onmouseover='x' \`${HOSTILE.ansi}`);
  assert.ok(!/[<>"'`]/.test(s), s);
  assert.ok(!s.includes('\u001b') && !s.includes('\u0007'));
  assert.ok(s.includes('&lt;script&gt;'));
  assert.ok(s.includes('\\x1b'), 'ESC shown visibly');
  assert.equal(escapeHtml('a & b'), 'a &amp; b');
  assert.equal(escapeHtml(undefined), '');
  assert.equal(escapeHtml(42), '42');
});

test('escapeMd: links, images, HTML, emphasis, code and pipes are escaped; URLs defanged', () => {
  for (const attack of [HOSTILE.mdLink, HOSTILE.mdImage, HOSTILE.script, HOSTILE.pipe, '*bold* _it_ ~~s~~', '<https://evil.example>', '&lt;script&gt;']) {
    const s = escapeMd(attack);
    for (const ch of ['[', ']', '<', '>', '|', '*', '_', '`', '~', '&', '!']) assert.equal(unescaped(s, ch), 0, `${ch} unescaped in ${s}`);
  }
  const u = escapeMd('see https://evil.example/x and www.evil.example');
  assert.ok(!u.includes('https://') && !/www\.(?!\[)/.test(u), u);
  assert.ok(u.includes('hxxps://'));
  assert.ok(!escapeMd('a\nb\r\n# c').includes('\n'), 'no new block from evidence');
  assert.ok(!escapeMd(HOSTILE.ansi).includes('\u001b'));
});

test('escapeMd keeps ordinary text readable', () => {
  assert.equal(escapeMd('10.20.1.5 scanned 2024-06-04'), '10.20.1.5 scanned 2024-06-04');
  assert.equal(escapeMd('管理员 administrator'), '管理员 administrator');
});

test('mdLineStart protects block syntax at the start of a paragraph', () => {
  assert.equal(mdLineStart('# x'), '\\# x');
  assert.equal(mdLineStart('- x'), '\\- x');
  assert.equal(mdLineStart('1. x'), '1\\. x');
  assert.equal(mdLineStart('10.20.1.5 x'), '10.20.1.5 x');
});

test('mdCode: literal content with backticks and table pipes', () => {
  const c = mdCode('a``b`c');
  assert.ok(c.startsWith('```') && c.endsWith('```'), c);
  assert.equal(mdCode('` x'), '`` ` x ``');
  const t = mdCode('a|b', true);
  assert.equal(unescaped(t, '|'), 0);
  assert.ok(!mdCode(HOSTILE.ansi).includes('\u001b'));
});

test('mdFence: a fence longer than any backtick run inside', () => {
  const f = mdFence('```\n````\nx');
  const fence = f.split('\n')[0].replace('text', '');
  assert.ok(fence.length >= 5, fence);
  assert.ok(f.endsWith('\n' + fence));
});

test('table cells: a hostile cell cannot add columns', () => {
  const row = `| ${[HOSTILE.pipe, HOSTILE.mdLink, HOSTILE.backticks].map((c) => escapeMdCell(c)).join(' | ')} |`;
  assert.equal(unescaped(mdOutsideCode(row), '|'), 4);
});

test('csvCell: formula injection neutralised, RFC 4180 quoting', () => {
  for (const f of [HOSTILE.formula, HOSTILE.plusFormula, '-2+3', '@SUM(A1)', '\t=1', '\r=1', '  =1', '＝1']) {
    assert.ok(isFormulaLike(f), f);
    const cell = csvCell(f);
    const parsed = parseCsv(cell + '\r\n')[0][0];
    assert.ok(parsed.startsWith("'"), `${JSON.stringify(f)} → ${cell}`);
    assert.ok(!isFormulaLike(parsed), parsed);
  }
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell(-5), '-5', 'numbers written as numbers');
  const rows = parseCsv(csvRow(['x\ny', 'q"', HOSTILE.formula]) + csvRow(['2']));
  assert.deepEqual(rows, [['x\ny', 'q"', "'" + HOSTILE.formula], ['2']]);
  assert.ok(!csvCell(HOSTILE.ansi).includes('\u001b'));
});

test('escapeTerminal: ANSI, OSC 8, C1 and bidi controls become visible text', () => {
  const s = escapeTerminal(`${HOSTILE.ansi}\u009b31m${HOSTILE.bidi}\u0000`);
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(s), JSON.stringify(s));
  assert.ok(s.includes('\\x1b[31m'));
  assert.ok(s.includes('\\u202e'));
  assert.equal(escapeTerminal('a\nb'), 'a\nb');
  assert.ok(!escapeTerminal('a\nb', true).includes('\n'));
});

test('safeJson escapes C1/bidi controls and stays the same JSON value', () => {
  const v = { a: `x\u009b\u202ey${HOSTILE.ansi}`, n: 10n };
  const s = safeJson(v);
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202e]/.test(s));
  assert.deepEqual(JSON.parse(s), { a: v.a, n: 10 });
});

test('defang', () => {
  assert.equal(defang('http://a.b/c https://x www.y.z'), 'hxxp://a.b/c hxxps://x www[.]y.z');
  assert.equal(defang('javascript:alert(1)'), 'javascript[:]alert(1)');
});
