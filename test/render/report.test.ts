import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncidentFile } from '../../src/incident/types.js';
import { formatTime, renderHtml, renderMarkdown, techniqueName, writeReports } from '../../src/render/index.js';
import { CASE1, CASE2, HOSTILE, buildCase1, buildCase2, buildHostile } from './fixtures.js';
import { ALLOWED_TAGS, htmlPlain, mdOutsideCode, mdPlain, tagProblems, tags, unescaped } from './helpers.js';

async function validator(): Promise<((f: unknown) => string | null) | null> {
  try {
    const m = await import('../../src/incident/validate.js');
    m.validateIncidentFile({});
    return m.validateIncidentFile;
  } catch {
    return null;
  }
}

test('fixtures are valid spoor.incident/1 files', async (t) => {
  const v = await validator();
  if (!v) return t.skip('incident validator/schema not available');
  for (const f of [buildCase1(), buildCase2(), buildHostile()]) assert.equal(v(f), null);
});

test('times are shown in the case zone with the zone named', () => {
  assert.equal(formatTime('2024-06-03T19:36:12.000Z', 'Asia/Shanghai'), '2024-06-04 03:36:12 (Asia/Shanghai, UTC+8)');
  assert.equal(formatTime('2024-07-01T12:00:00Z', 'America/New_York'), '2024-07-01 08:00:00 (America/New_York, UTC-4)');
  assert.equal(formatTime('2024-01-01T12:00:00Z', 'America/New_York'), '2024-01-01 07:00:00 (America/New_York, UTC-5)');
  assert.equal(formatTime('2024-01-01T12:00:00Z', 'Asia/Kolkata'), '2024-01-01 17:30:00 (Asia/Kolkata, UTC+5:30)');
  assert.equal(formatTime('2024-01-01T12:00:00Z', 'Not/AZone'), '2024-01-01 12:00:00 (UTC)');
  assert.equal(formatTime('garbage', 'UTC'), 'garbage');
});

/** Every conclusion of the case must be in the report text (Markdown made plain, or HTML text). */
function assertConclusions(text: string, file: IncidentFile, lang: 'zh' | 'en', what: string) {
  const inc = file.incidents[0];
  const has = (s: string, why: string) => assert.ok(text.includes(s), `${what}: missing ${why}: ${JSON.stringify(s)}`);
  for (const a of inc.attackers) has(a, 'attacker');
  for (const c of inc.compromised) {
    has(c.host, 'compromised host');
    has(c.ip, 'compromised address');
    has(formatTime(c.since, file.case.tz), 'compromise time');
  }
  for (const c of inc.c2) has(c, 'C2');
  has(inc.entry!.technique, 'entry technique id');
  has(techniqueName(inc.entry!.technique, lang), 'entry technique name');
  has(formatTime(inc.entry!.time, file.case.tz), 'entry time');
  for (const s of inc.steps) {
    has(s.title[lang], 'step title');
    has(s.found[lang], 'step finding');
  }
  for (const r of inc.recommendations) {
    has(r.text[lang], 'remediation');
    has(r.target, 'remediation target');
  }
  has(inc.root_cause[lang], 'root cause');
  for (const e of file.evidence) has(e.sha256, 'evidence SHA-256');
  has('Asia/Shanghai, UTC+8', 'zone');
  for (const tl of inc.timeline) has(tl.text[lang], 'timeline entry');
}

for (const [name, build, facts] of [
  ['case 1', buildCase1, CASE1],
  ['case 2', buildCase2, CASE2],
] as const) {
  test(`${name}: Markdown in both languages carries every conclusion`, () => {
    const f = build();
    for (const lang of ['zh', 'en'] as const) {
      const md = renderMarkdown(f, lang);
      assertConclusions(mdPlain(md), f, lang, `${name} ${lang}.md`);
    }
    const zh = renderMarkdown(f, 'zh');
    for (const h of ['一、问题描述', '二、处理过程', '三、根因', '四、解决方案', '五、建议与总结', '5.3 事件时间线', '失陷指标', '证据清单']) assert.ok(mdPlain(zh).includes(h), h);
    const en = renderMarkdown(f, 'en');
    for (const h of ['Investigation', 'Root cause', 'Remediation', 'Timeline', 'Indicators of compromise', 'Evidence inventory']) assert.ok(en.includes(h), h);
    assert.ok(!/[\u4e00-\u9fff]/.test(mdPlain(en).replace(f.case.alert?.text ?? '', '')), 'English report has no Chinese besides the quoted alert');
    void facts;
  });

  test(`${name}: HTML holds both languages, every conclusion, the pictures, no scripts or remote resources`, () => {
    const f = build();
    const html = renderHtml(f);
    assert.deepEqual(tagProblems(html), []);
    const zhStart = html.indexOf('id="lang-zh"');
    const enStart = html.indexOf('id="lang-en"');
    assert.ok(zhStart > 0 && enStart > zhStart, 'Chinese first, then English');
    assertConclusions(htmlPlain(html.slice(zhStart, enStart)), f, 'zh', `${name} html zh`);
    assertConclusions(htmlPlain(html.slice(enStart)), f, 'en', `${name} html en`);
    assert.ok(!/<script/i.test(html));
    for (const t of tags(html)) {
      assert.ok(ALLOWED_TAGS.has(t.name), `tag <${t.name}>`);
      for (const [k, v] of Object.entries(t.attrs)) {
        assert.ok(!k.startsWith('on'), `event handler ${k}`);
        assert.ok(!['src', 'srcset', 'xlink:href', 'action', 'formaction', 'background', 'poster'].includes(k), `resource attribute ${k}`);
        if (k === 'href') assert.ok(v.startsWith('#'), `link ${v}`);
        assert.ok(!/https?:|url\((?!#)/i.test(v) || k === 'content', `${k}="${v}"`);
      }
    }
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    assert.ok(!/@import|url\(|https?:/i.test(css), 'CSS loads nothing');
    assert.ok(/Content-Security-Policy" content="default-src 'none'/.test(html), 'CSP forbids network and scripts');
    // Pictures: chain graph and timeline strip per language, with the hosts and technique labels.
    assert.equal((html.match(/<svg class="chain"/g) ?? []).length, 2);
    assert.equal((html.match(/<svg class="timeline"/g) ?? []).length, 2);
    const chain = /<svg class="chain"[\s\S]*?<\/svg>/.exec(html)![0];
    const inc = f.incidents[0];
    for (const a of inc.attackers) assert.ok(chain.includes(`>${a}<`), `attacker node ${a}`);
    for (const c of inc.c2) assert.ok(chain.includes(`>${c}<`), `C2 node ${c}`);
    for (const c of inc.compromised) assert.ok(chain.includes(`>${c.host}<`), `compromised node ${c.host}`);
    assert.ok(chain.includes(inc.entry!.technique), 'edge labelled with the entry technique');
    // Left to right: attacker box left of the entry host, C2 right of both.
    const xOf = (label: string) => {
      const i = chain.indexOf(`>${label}</text>`);
      const before = chain.lastIndexOf('<rect x="', i);
      return Number(/<rect x="([\d.]+)"/.exec(chain.slice(before))![1]);
    };
    assert.ok(xOf(inc.attackers[0]) < xOf(inc.entry!.host), 'attacker left of entry');
    assert.ok(xOf(inc.entry!.host) < xOf(inc.c2[0]), 'C2 right of entry');
  });
}

test('case 1 report cites evidence by file name and record/frame', () => {
  const zh = mdPlain(renderMarkdown(buildCase1(), 'zh'));
  assert.ok(zh.includes('Security.evtx 记录号 12877'));
  assert.ok(zh.includes('border.pcapng 第 1201 帧'));
  const en = mdPlain(renderMarkdown(buildCase1(), 'en'));
  assert.ok(en.includes('Security.evtx record 12877'));
  assert.ok(en.includes('border.pcapng frame 1201'));
  assert.ok(en.includes('unrecognised format'), 'skipped file reason');
  assert.ok(en.includes('chunk header checksum mismatch'), 'parse problem');
  assert.ok(en.includes('T1110.001') && en.includes('Brute Force: Password Guessing'), 'ATT&CK table');
  for (const tool of CASE1.tools) assert.ok(en.includes(tool), tool);
});

test('no incidents: the report says so and lists notable findings', () => {
  const f = buildCase1();
  f.incidents = [];
  const zh = mdPlain(renderMarkdown(f, 'zh'));
  const en = mdPlain(renderMarkdown(f, 'en'));
  assert.ok(zh.includes('未能确认安全事件'));
  assert.ok(en.includes('No incident could be established'));
  const top = f.findings.find((x) => x.severity === 'critical')!;
  assert.ok(zh.includes(top.summary.zh) && en.includes(top.summary.en));
  assert.deepEqual(tagProblems(renderHtml(f)), []);
  f.findings = [];
  assert.ok(mdPlain(renderMarkdown(f, 'en')).includes('No findings.'));
});

test('hostile strings from evidence arrive inert in Markdown', () => {
  const f = buildHostile();
  for (const lang of ['zh', 'en'] as const) {
    const md = renderMarkdown(f, lang);
    assert.ok(!md.includes('\u001b') && !md.includes('\u0007') && !md.includes('\u202e'), 'no raw control characters');
    const outside = mdOutsideCode(md);
    assert.equal(unescaped(outside, '<'), 0, 'no raw HTML outside code');
    assert.ok(!/(?<!\\)\]\(/.test(outside), 'no link syntax');
    assert.ok(!/https?:\/\/|(?<![\w[])www\.(?!\[)/i.test(outside), 'no autolinkable URL outside code');
    // Tables: every row has as many cell separators as its header.
    const lines = md.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i].startsWith('| ') || !lines[i + 1]?.startsWith('| ---')) continue;
      const cols = unescaped(lines[i], '|');
      for (let j = i + 2; j < lines.length && lines[j].startsWith('|'); j++) assert.equal(unescaped(mdOutsideCode(lines[j]).replace(/ CODE /g, 'C'), '|'), cols, `row ${lines[j]}`);
    }
    // The evidence is still shown (escaped), not dropped.
    assert.ok(mdPlain(md).includes('cmd|'), 'formula text shown');
  }
});

test('hostile strings from evidence arrive inert in HTML', () => {
  const html = renderHtml(buildHostile());
  assert.deepEqual(tagProblems(html), []);
  assert.ok(!/<script|<img|onerror=/i.test(html.replace(/&lt;[^;]*/g, '')));
  for (const t of tags(html)) assert.ok(ALLOWED_TAGS.has(t.name), `tag <${t.name}>`);
  assert.ok(!html.includes('\u001b') && !html.includes('\u202e'));
  const text = htmlPlain(html);
  assert.ok(text.includes(HOSTILE.script), 'the attack string is displayed as text');
  assert.ok(text.includes('\\x1b[31m'), 'ANSI shown visibly');
});

test('writeReports writes the three files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-render-'));
  try {
    const { files } = await writeReports(dir, buildCase2(), ['zh', 'en']);
    assert.deepEqual(files.map((p) => p.slice(dir.length + 1)).sort(), ['report.en.md', 'report.html', 'report.zh.md']);
    const zh = await readFile(join(dir, 'report.zh.md'), 'utf8');
    assert.ok(zh.includes(CASE2.c2));
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    assert.ok(html.startsWith('<!DOCTYPE html>'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('renderers tolerate sparse input', () => {
  const f = buildCase2();
  const inc = f.incidents[0] as unknown as Record<string, unknown>;
  delete inc.steps;
  delete inc.chain;
  delete inc.timeline;
  (f as unknown as Record<string, unknown>).evidence = [];
  f.incidents[0].entry = null;
  const md = renderMarkdown(f, 'en');
  assert.ok(md.includes(CASE2.c2));
  assert.deepEqual(tagProblems(renderHtml(f)), []);
  void HOSTILE;
});

test('UTC times inside evidence-derived prose are shown in the case time zone', async () => {
  const { localizeTimes } = await import('../../src/render/time.js');
  assert.equal(localizeTimes('session started 2024-06-03T19:36:12Z from 198.51.100.23', 'Asia/Shanghai'), 'session started 2024-06-04 03:36:12 from 198.51.100.23');
  assert.equal(localizeTimes('between 2024-06-03T17:10:00.662Z and 2024-06-03T19:36:08Z', 'UTC'), 'between 2024-06-03 17:10:00 and 2024-06-03 19:36:08');
  assert.equal(localizeTimes('no time here: 2024-06-03 and T19Z', 'Asia/Shanghai'), 'no time here: 2024-06-03 and T19Z');
});
