/**
 * The responder's report presents what incident.json proves: quoted records with their time in
 * the case zone (UTC original beside it), root-cause statements and recommendations each citing
 * their records, indicator notes, chain verbs and targets in the report's language.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncidentFile } from '../../src/incident/types.js';
import { renderHtml, renderMarkdown } from '../../src/render/index.js';
import { buildCase1 } from './fixtures.js';
import { htmlPlain, mdPlain } from './helpers.js';

async function validator(): Promise<((f: unknown) => string | null) | null> {
  try {
    const m = await import('../../src/incident/validate.js');
    m.validateIncidentFile({});
    return m.validateIncidentFile;
  } catch {
    return null;
  }
}

/** Case 1 fixture plus the optional fields this session added, filled from the fixture's own values. */
function enriched(): IncidentFile {
  const f = buildCase1();
  f.case.tz = 'Asia/Shanghai';
  const inc = f.incidents[0];
  const st = inc.steps[0];
  st.quotes = [
    { ref: { evidence: 'E1', record: 12877 }, where: 'Security.evtx #12877', time: '2024-06-03T19:36:11Z', text: 'EventID 4624  LogonType=10  IpAddress=45.135.232.19' },
    { ref: { evidence: 'E3', frame: 1201 }, where: 'case.pcap frame 1201', text: 'conn  10.20.1.5:61000 → 198.51.100.7:445' },
  ];
  inc.root_cause_points = [
    { text: { en: 'RDP was guessed open.', zh: 'RDP 被暴力破解。' }, findings: ['host.bruteforce-1'], evidence: [{ evidence: 'E1', record: 10021 }] },
    { text: { en: 'The password of administrator was reset at 2024-06-03T19:36:50Z.', zh: '账户 administrator 的口令于 2024-06-03T19:36:50Z 被重置。' }, findings: ['host.account-1'], evidence: [{ evidence: 'E1', record: 12901 }] },
  ];
  for (const r of inc.recommendations) r.evidence = [{ evidence: 'E1', record: 10021 }];
  inc.recommendations.push({ action: 'remove-persistence', target: 'service:Syste64', text: { en: 'Delete the service Syste64.', zh: '删除恶意服务 Syste64。' }, findings: ['host.persistence-1'], priority: 'immediate', evidence: [{ evidence: 'E2', record: 5 }] });
  inc.iocs.notes = { [inc.iocs.files[0]]: { en: 'coin miner, Trojan:Win32/CoinMiner', zh: '挖矿木马，Trojan:Win32/CoinMiner' } };
  inc.chain.push({ from: '10.20.1.99', to: 'outside addresses', kind: 'scanned', technique: 'T1046', time: inc.last, findings: ['net.scan-1'], confidence: 0.9 });
  inc.chain.push({ from: inc.compromised[0].ip, to: inc.iocs.files[0], kind: 'detected', technique: 'T1496', time: inc.last, findings: ['host.av-1'], confidence: 0.9 });
  return f;
}

test('the enriched fixture is a valid incident file (new fields are in the schema)', async (t) => {
  const v = await validator();
  if (!v) return t.skip('incident validator/schema not available');
  const f = enriched();
  assert.equal(v(f), null);
  // The schema really checks the new fields: a quote without text, a point without evidence fail.
  const bad = enriched();
  delete (bad.incidents[0].steps[0].quotes![0] as unknown as Record<string, unknown>).text;
  assert.notEqual(v(bad), null);
  const bad2 = enriched();
  delete (bad2.incidents[0].root_cause_points![0] as unknown as Record<string, unknown>).evidence;
  assert.notEqual(v(bad2), null);
});

test('quoted records show the case-zone time with the UTC original, in both languages', () => {
  const f = enriched();
  for (const lang of ['zh', 'en'] as const) {
    const md = renderMarkdown(f, lang);
    const line = md.split('\n').find((l) => l.startsWith('Security.evtx #12877'));
    assert.ok(line, `${lang}: quoted record line`);
    assert.match(line!, /2024-06-04 03:36:11 \(2024-06-03T19:36:11Z\)/, `${lang}: local time then UTC original`);
    // A record without a time is quoted without one, not with a made-up time.
    const noTime = md.split('\n').find((l) => l.startsWith('case.pcap frame 1201'));
    assert.ok(noTime && !/\d{2}:\d{2}:\d{2}/.test(noTime), `${lang}: ${noTime}`);
    assert.ok(mdPlain(md).includes(lang === 'zh' ? '括号内为 UTC 原始时间' : 'the UTC original in parentheses'), `${lang}: the zone of quoted times is stated`);
  }
  // Without structured quotes the string excerpts are shown as they are.
  const old = enriched();
  delete old.incidents[0].steps[0].quotes;
  assert.ok(renderMarkdown(old, 'en').includes(old.incidents[0].steps[0].excerpts![0]));
});

test('root-cause statements and recommendations cite their records in both languages', () => {
  const f = enriched();
  for (const lang of ['zh', 'en'] as const) {
    const md = mdPlain(renderMarkdown(f, lang));
    const rc = md.slice(md.indexOf(lang === 'zh' ? '## 三、根因' : '## 3. Root cause'), md.indexOf(lang === 'zh' ? '## 四、' : '## 4. '));
    const ref = lang === 'zh' ? 'Security.evtx 记录号 10021' : 'Security.evtx record 10021';
    assert.ok(rc.includes(lang === 'zh' ? 'RDP 被暴力破解。（依据：' : 'RDP was guessed open. (basis: '), `${lang}: statement then its basis`);
    assert.ok(rc.includes(ref), `${lang}: root cause cites ${ref}`);
    assert.ok(rc.includes('host.account-1'), `${lang}: root cause names the finding`);
    // UTC times inside statements are shown in the case zone.
    assert.ok(rc.includes('2024-06-04 03:36:50') && !rc.includes('19:36:50Z'), `${lang}: statement time in the case zone`);
    const rem = md.slice(md.indexOf(lang === 'zh' ? '## 四、' : '## 4. '), md.indexOf(lang === 'zh' ? '## 五、' : '## 5. '));
    const items = rem.split('\n').filter((l) => /^\*?\*?4\.\d+/.test(l));
    assert.ok(items.length >= 2, `${lang}: remediation items`);
    for (const it of items) assert.ok(it.includes(lang === 'zh' ? '依据：' : 'basis: '), `${lang}: recommendation without basis: ${it}`);
    assert.ok(rem.includes(lang === 'zh' ? 'System.evtx 记录号 5' : 'System.evtx record 5'), `${lang}: persistence removal cites the service record`);
    assert.ok(rem.includes(lang === 'zh' ? '清除持久化' : 'remove persistence'), `${lang}: action named`);
  }
  // No points: the paragraph is shown.
  const old = enriched();
  delete old.incidents[0].root_cause_points;
  assert.ok(mdPlain(renderMarkdown(old, 'en')).includes(old.incidents[0].root_cause.en.slice(0, 40)));
});

test('indicator notes, chain verbs and chain targets are in the report language', () => {
  const f = enriched();
  const zh = mdPlain(renderMarkdown(f, 'zh'));
  const en = mdPlain(renderMarkdown(f, 'en'));
  const file = f.incidents[0].iocs.files[0];
  const iocRow = (md: string) => md.split('\n').find((l) => l.includes(file) && l.startsWith('|') && /文件|file/.test(l)) ?? '';
  assert.match(iocRow(zh), /挖矿木马/);
  assert.match(iocRow(en), /coin miner/);
  assert.ok(zh.includes('外部地址（互联网）') && !/\| outside addresses \|/.test(zh), 'zh chain target');
  assert.ok(en.includes('outside addresses'), 'en chain target');
  assert.ok(zh.includes('杀毒检出') && !zh.includes('| detected |'), 'zh chain verb');
  assert.ok(en.includes('antivirus detected'), 'en chain verb');
  // HTML carries the same.
  const html = htmlPlain(renderHtml(f));
  assert.ok(html.includes('2024-06-03T19:36:11Z') && html.includes('2024-06-04 03:36:11'), 'HTML quotes both times');
  assert.ok(html.includes('挖矿木马') && html.includes('coin miner'));
});

test('hostile text in quotes, statements and notes stays inert', () => {
  const f = enriched();
  const evil = '<img src=x onerror=alert(1)> `x` [a](http://evil.example/) ${jndi:ldap://x}';
  f.incidents[0].steps[0].quotes![0].text = evil;
  f.incidents[0].root_cause_points![0].text = { en: evil, zh: evil };
  f.incidents[0].iocs.notes![f.incidents[0].iocs.files[0]] = { en: evil, zh: evil };
  const html = renderHtml(f);
  assert.ok(!/<img/i.test(html), 'no live tag');
  const md = renderMarkdown(f, 'en');
  assert.ok(!/(?<!\\)\]\(http/.test(md.replace(/^```[\s\S]*?^```/gm, '')), 'no live link outside code');
});

test('a timeline text that starts with its own local time does not repeat it beside the time column', () => {
  const f = enriched();
  const t = f.incidents[0].timeline[0];
  t.time = '2024-06-03T19:36:12.000Z';
  t.text = { en: '2024-06-04 03:36:12 the attacker logged on', zh: '2024-06-04 03:36:12 攻击者登录' };
  for (const lang of ['zh', 'en'] as const) {
    const row = renderMarkdown(f, lang).split('\n').find((l) => l.includes(lang === 'zh' ? '攻击者登录' : 'the attacker logged on'))!;
    assert.ok(row, `${lang}: timeline row`);
    assert.equal(row.split('2024-06-04 03:36:12').length - 1, 1, `${lang}: time once: ${row}`);
  }
  // A text that does not start with the time is shown whole.
  t.text = { en: 'at 2024-06-03T19:36:12Z the attacker logged on', zh: '于 2024-06-03T19:36:12Z 攻击者登录' };
  assert.ok(mdPlain(renderMarkdown(f, 'en')).includes('at 2024-06-04 03:36:12 the attacker logged on'));
});

test('the verdict and the attack-chain table cite the records behind them', () => {
  const f = enriched();
  const inc = f.incidents[0];
  const refOf = (id: string, lang: 'zh' | 'en') => {
    const e = f.findings.find((x) => x.id === id)?.evidence?.[0];
    if (!e) return null;
    const name = f.evidence.find((x) => x.id === e.evidence)!.path.split(/[\\/]/).pop()!;
    return e.record !== undefined ? `${name} ${lang === 'zh' ? '记录号' : 'record'} ${e.record}` : `${name} ${lang === 'zh' ? `第 ${e.frame} 帧` : `frame ${e.frame}`}`;
  };
  for (const lang of ['zh', 'en'] as const) {
    const md = mdPlain(renderMarkdown(f, lang));
    const verdict = md.slice(md.indexOf(lang === 'zh' ? '### 1.3' : '### 1.3'), md.indexOf(lang === 'zh' ? '## 二、' : '## 2. '));
    const compLine = verdict.split('\n').find((l) => l.includes(inc.compromised[0].ip) && l.startsWith('- '))!;
    assert.ok(compLine, `${lang}: compromised line`);
    const want = inc.compromised[0].findings.map((id) => refOf(id, lang)).find(Boolean)!;
    assert.ok(want && compLine.includes(want), `${lang}: compromised host cites ${want}: ${compLine}`);
    const entryLine = verdict.split('\n').find((l) => l.includes(lang === 'zh' ? '入侵入口' : 'Entry point'))!;
    assert.ok(entryLine.includes(lang === 'zh' ? '依据：' : 'basis: '), `${lang}: entry cited: ${entryLine}`);
    const chainHead = md.split('\n').find((l) => l.startsWith('|') && l.includes(lang === 'zh' ? '| 行为 |' : '| Action |'))!;
    assert.match(chainHead, lang === 'zh' ? /证据 \|$/ : /Evidence \|$/);
    const link = inc.chain.find((c) => c.findings.some((id) => refOf(id, lang)))!;
    const row = md.split('\n').find((l) => l.startsWith('|') && l.includes(link.to) && l.includes(link.from))!;
    assert.ok(row && row.includes(refOf(link.findings.find((id) => refOf(id, lang))!, lang)!), `${lang}: chain row cites its finding's record: ${row}`);
  }
});

test('the alert kind is named in the report language, the raw kind kept', () => {
  const f = enriched();
  f.case.alert = { kind: 'outbound-scan', src: '80.66.1.5', text: '监测发现 80.66.1.5 对外发起扫描探测' };
  const zh = mdPlain(renderMarkdown(f, 'zh'));
  const en = mdPlain(renderMarkdown(f, 'en'));
  assert.ok(zh.includes('告警类型：对外扫描探测 outbound-scan'), 'zh alert kind');
  assert.ok(en.includes('kind: outbound scanning outbound-scan'), 'en alert kind');
  f.case.alert.kind = 'made-up';
  assert.ok(mdPlain(renderMarkdown(f, 'zh')).includes('告警类型：made-up'), 'unknown kinds shown as given');
});
