import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EvtxEvent } from '../../src/core/event.js';
import { parseSigmaYaml, SigmaEngine, sigmaDetectorModule, loadSigmaRules, type SigmaHit, type Unsupported } from '../../src/sigma/index.js';
import { HomeNet } from '../../src/core/homenet.js';
import { parseEvtxBuffer } from '../../src/readers/evtx/index.js';
import { csvCell } from '../../src/cli/commands/hunt.js';
import { corpusFile, needCorpus } from '../support/corpus.js';

const SYSMON = { channel: 'Microsoft-Windows-Sysmon/Operational', provider: 'Microsoft-Windows-Sysmon' };
let rec = 0;
function ev(eventId: number, data: Record<string, string>, o: Partial<{ channel: string; provider: string; t: number; computer: string }> = {}): EvtxEvent {
  rec++;
  return {
    '@timestamp': o.t ?? 1_700_000_000_000 + rec,
    'event.dataset': 'evtx',
    ref: { evidence: 'E1', record: rec },
    'event.code': String(eventId),
    'event.provider': o.provider ?? SYSMON.provider,
    'winlog.channel': o.channel ?? SYSMON.channel,
    'winlog.record_id': rec,
    'winlog.computer_name': o.computer ?? 'WS1',
    'winlog.event_id': eventId,
    'winlog.event_data': data,
  };
}
const proc = (data: Record<string, string>, t?: number) => ev(1, data, { t });

function rule(detection: string, logsource = 'category: process_creation\n  product: windows', extra = ''): string {
  return `title: T\nid: 00000000-0000-0000-0000-000000000001\nauthor: Test Author\nlevel: high\ntags:\n  - attack.execution\n  - attack.t1059.001\nlogsource:\n  ${logsource}\ndetection:\n${detection}\n${extra}`;
}

function run(yamlText: string, events: EvtxEvent[]): { hits: SigmaHit[]; unsupported: Unsupported[] } {
  const unsupported: Unsupported[] = [];
  const rules = parseSigmaYaml(yamlText, 'mem.yml', {}, unsupported);
  // every case runs with the literal prefilter on and off: the matches must be identical
  const out: SigmaHit[][] = [];
  for (const prefilter of [true, false]) {
    const eng = new SigmaEngine(rules, { prefilter });
    const hits: SigmaHit[] = [];
    for (const e of events) eng.match(e, (h) => hits.push(h));
    eng.finish((h) => hits.push(h));
    out.push(hits);
  }
  assert.deepEqual(out[0], out[1], 'prefilter on/off differ');
  return { hits: out[0], unsupported };
}
function matches(detection: string, data: Record<string, string>): boolean {
  const r = run(rule(detection), [proc(data)]);
  assert.deepEqual(r.unsupported, []);
  return r.hits.length === 1;
}

test('equality is case-insensitive; cased makes it exact', () => {
  const d = "  sel:\n    Image: 'C:\\Windows\\System32\\cmd.exe'\n  condition: sel";
  assert.ok(matches(d, { Image: 'c:\\windows\\system32\\CMD.EXE' }));
  assert.ok(!matches(d, { Image: 'c:\\windows\\system32\\cmd.exe2' }));
  const c = "  sel:\n    Image|cased: 'CMD.exe'\n  condition: sel";
  assert.ok(matches(c, { Image: 'CMD.exe' }));
  assert.ok(!matches(c, { Image: 'cmd.exe' }));
});

test('contains, startswith, endswith, all', () => {
  assert.ok(matches("  s:\n    CommandLine|contains: 'mimi'\n  condition: s", { CommandLine: 'run MIMIKATZ now' }));
  assert.ok(!matches("  s:\n    CommandLine|contains: 'mimi'\n  condition: s", { CommandLine: 'run kiwi' }));
  assert.ok(matches("  s:\n    Image|endswith: '\\net.exe'\n  condition: s", { Image: 'C:\\x\\NET.EXE' }));
  assert.ok(!matches("  s:\n    Image|endswith: '\\net.exe'\n  condition: s", { Image: 'C:\\x\\net.exe.bak' }));
  assert.ok(matches("  s:\n    Image|startswith: 'C:\\Temp\\'\n  condition: s", { Image: 'c:\\temp\\a.exe' }));
  const all = "  s:\n    CommandLine|contains|all:\n      - ' -enc '\n      - 'hidden'\n  condition: s";
  assert.ok(matches(all, { CommandLine: 'powershell -w hidden -enc AAAA' }));
  assert.ok(!matches(all, { CommandLine: 'powershell -enc AAAA' }));
  // a list without all is OR
  assert.ok(matches("  s:\n    CommandLine|contains:\n      - 'zzz'\n      - 'enc'\n  condition: s", { CommandLine: 'powershell -enc AAAA' }));
});

test('wildcards * and ?, escapes and literal backslashes', () => {
  assert.ok(matches("  s:\n    Image: 'C:\\W*\\cmd.ex?'\n  condition: s", { Image: 'C:\\Windows\\System32\\cmd.exe' }));
  assert.ok(!matches("  s:\n    Image: 'C:\\W*\\cmd.ex?'\n  condition: s", { Image: 'C:\\Windows\\cmd.exe1' }));
  // \* is a literal star
  assert.ok(matches("  s:\n    CommandLine: 'a\\*b'\n  condition: s", { CommandLine: 'a*b' }));
  assert.ok(!matches("  s:\n    CommandLine: 'a\\*b'\n  condition: s", { CommandLine: 'axxb' }));
  // \\ is one backslash, followed by a wildcard
  assert.ok(matches("  s:\n    CommandLine: 'x\\\\*'\n  condition: s", { CommandLine: 'x\\anything' }));
  // regex metacharacters in values are literal
  assert.ok(!matches("  s:\n    CommandLine|contains: 'a.c'\n  condition: s", { CommandLine: 'abc' }));
});

test('null, exists, neq, numbers', () => {
  assert.ok(matches('  s:\n    OriginalFileName: null\n  condition: s', { Image: 'x' }));
  assert.ok(matches("  s:\n    OriginalFileName: null\n  condition: s", { OriginalFileName: '' }));
  assert.ok(!matches('  s:\n    OriginalFileName: null\n  condition: s', { OriginalFileName: 'a.exe' }));
  assert.ok(matches('  s:\n    Hashes|exists: true\n  condition: s', { Hashes: 'MD5=1' }));
  assert.ok(!matches('  s:\n    Hashes|exists: true\n  condition: s', { Image: 'x' }));
  assert.ok(matches('  s:\n    Hashes|exists: false\n  condition: s', { Image: 'x' }));
  assert.ok(matches("  s:\n    User|neq: 'SYSTEM'\n  condition: s", { User: 'bob' }));
  assert.ok(!matches("  s:\n    User|neq: 'SYSTEM'\n  condition: s", { User: 'system' }));
  assert.ok(matches('  s:\n    TerminalSessionId: 1\n  condition: s', { TerminalSessionId: '1' }));
});

test('lt lte gt gte', () => {
  const d = (m: string, n: number) => `  s:\n    TerminalSessionId|${m}: ${n}\n  condition: s`;
  assert.ok(matches(d('gt', 2), { TerminalSessionId: '3' }));
  assert.ok(!matches(d('gt', 3), { TerminalSessionId: '3' }));
  assert.ok(matches(d('gte', 3), { TerminalSessionId: '3' }));
  assert.ok(matches(d('lt', 10), { TerminalSessionId: '9' }));
  assert.ok(!matches(d('lte', 8), { TerminalSessionId: '9' }));
  assert.ok(!matches(d('lt', 10), { TerminalSessionId: 'abc' }));
});

test('re with i, m, s sub-modifiers and (?i)', () => {
  assert.ok(matches("  s:\n    CommandLine|re: 'ab+c'\n  condition: s", { CommandLine: 'xabbbcx' }));
  assert.ok(!matches("  s:\n    CommandLine|re: 'ABC'\n  condition: s", { CommandLine: 'abc' }), 're is case-sensitive');
  assert.ok(matches("  s:\n    CommandLine|re|i: 'ABC'\n  condition: s", { CommandLine: 'abc' }));
  assert.ok(matches("  s:\n    CommandLine|re: '(?i)ABC'\n  condition: s", { CommandLine: 'abc' }));
  assert.ok(matches("  s:\n    CommandLine|re|m: '^two$'\n  condition: s", { CommandLine: 'one\ntwo\nthree' }));
  assert.ok(!matches("  s:\n    CommandLine|re: '^two$'\n  condition: s", { CommandLine: 'one\ntwo\nthree' }));
  assert.ok(matches("  s:\n    CommandLine|re|s: 'one.two'\n  condition: s", { CommandLine: 'one\ntwo' }));
  assert.ok(!matches("  s:\n    CommandLine|re: 'one.two'\n  condition: s", { CommandLine: 'one\ntwo' }));
});

test('windash matches every dash form', () => {
  const d = "  s:\n    CommandLine|windash|contains: ' -enc '\n  condition: s";
  for (const c of ['-', '/', '\u2013', '\u2014', '\u2015']) assert.ok(matches(d, { CommandLine: `powershell ${c}enc AAA` }), c);
  assert.ok(!matches(d, { CommandLine: 'powershell +enc AAA' }));
});

test('base64, base64offset, wide/utf16 encodings', () => {
  const b64 = Buffer.from('whoami').toString('base64');
  assert.ok(matches("  s:\n    CommandLine|base64: 'whoami'\n  condition: s", { CommandLine: b64 }));
  assert.ok(matches("  s:\n    CommandLine|base64|contains: 'whoami'\n  condition: s", { CommandLine: `x ${b64} y` }));
  // base64offset finds the value at any of the three alignments inside a longer encoded text
  for (const pre of ['', 'a', 'ab', 'abc ']) {
    const enc = Buffer.from(`${pre}Invoke-Mimikatz -x`).toString('base64');
    assert.ok(matches("  s:\n    CommandLine|base64offset|contains: 'Invoke-Mimikatz'\n  condition: s", { CommandLine: `-enc ${enc}` }), pre);
  }
  const wide = Buffer.from('zz IEX (New-Object', 'utf16le').toString('base64');
  assert.ok(matches("  s:\n    CommandLine|wide|base64offset|contains: 'IEX (New-Object'\n  condition: s", { CommandLine: wide }));
  assert.ok(!matches("  s:\n    CommandLine|base64offset|contains: 'IEX (New-Object'\n  condition: s", { CommandLine: wide }), 'utf8 encoding differs from utf16');
  const be = Buffer.from('ping', 'utf16le').swap16().toString('base64');
  assert.ok(matches("  s:\n    CommandLine|utf16be|base64: 'ping'\n  condition: s", { CommandLine: be }));
  const bom = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ping', 'utf16le')]).toString('base64');
  assert.ok(matches("  s:\n    CommandLine|utf16|base64: 'ping'\n  condition: s", { CommandLine: bom }));
  assert.ok(matches("  s:\n    CommandLine|utf16le|base64: 'ping'\n  condition: s", { CommandLine: Buffer.from('ping', 'utf16le').toString('base64') }));
});

test('cidr for IPv4 and IPv6', () => {
  const d = "  s:\n    DestinationIp|cidr:\n      - '10.0.0.0/8'\n      - 'fe80::/10'\n  condition: s";
  const r = (ip: string) => run(rule(d, 'category: network_connection\n  product: windows'), [ev(3, { DestinationIp: ip })]).hits.length === 1;
  assert.ok(r('10.1.2.3'));
  assert.ok(!r('11.1.2.3'));
  assert.ok(r('fe80::1'));
  assert.ok(!r('2001:db8::1'));
  assert.ok(!r('not-an-ip'));
});

test('expand with placeholders, fieldref', () => {
  const y = rule("  s:\n    User|expand: '%admins%'\n  condition: s");
  const rules = parseSigmaYaml(y, 'm.yml', { placeholders: { admins: ['WS1\\alice', 'WS1\\bob'] } });
  const eng = new SigmaEngine(rules);
  let n = 0;
  for (const e of [proc({ User: 'ws1\\bob' }), proc({ User: 'ws1\\eve' })]) eng.match(e, () => n++);
  assert.equal(n, 1);
  assert.ok(matches('  s:\n    ParentImage|fieldref: Image\n  condition: s', { Image: 'C:\\a.exe', ParentImage: 'c:\\A.exe' }));
  assert.ok(!matches('  s:\n    ParentImage|fieldref: Image\n  condition: s', { Image: 'C:\\a.exe', ParentImage: 'C:\\b.exe' }));
});

test('conditions: and/or/not, parentheses, 1 of / all of with wildcards and them, lists of maps', () => {
  const d = `  sel_a:\n    Image|endswith: '\\a.exe'\n  sel_b:\n    CommandLine|contains: 'x'\n  filter:\n    User: 'SYSTEM'\n  condition: (1 of sel_* and not filter) or all of them`;
  assert.ok(matches(d, { Image: 'c:\\a.exe', User: 'bob' }));
  assert.ok(!matches(d, { Image: 'c:\\a.exe', User: 'system' }));
  assert.ok(matches(d, { Image: 'c:\\a.exe', CommandLine: 'x', User: 'SYSTEM' }), 'all of them');
  const allof = `  sel_a:\n    Image|endswith: '\\a.exe'\n  sel_b:\n    CommandLine|contains: 'x'\n  condition: all of sel_*`;
  assert.ok(!matches(allof, { Image: 'c:\\a.exe' }));
  assert.ok(matches(allof, { Image: 'c:\\a.exe', CommandLine: 'x' }));
  const listOfMaps = `  s:\n    - Image|endswith: '\\a.exe'\n    - CommandLine: 'go'\n  condition: s`;
  assert.ok(matches(listOfMaps, { CommandLine: 'GO' }));
  assert.ok(!matches(listOfMaps, { CommandLine: 'went' }));
  // precedence: not > and > or
  const prec = `  a:\n    Image: 'a'\n  b:\n    Image: 'b'\n  c:\n    User: 'c'\n  condition: a or b and c`;
  assert.ok(matches(prec, { Image: 'a' }));
  assert.ok(!matches(prec, { Image: 'b' }));
});

test('keywords search values but not spoor\'s readable _name companions', () => {
  const d = "  keywords:\n    - 'Interactive'\n    - 'kerberos::golden'\n  condition: keywords";
  const y = rule(d, 'product: windows\n  service: security');
  const sec = { channel: 'Security', provider: 'Microsoft-Windows-Security-Auditing' };
  assert.equal(run(y, [ev(4624, { LogonType: '2', LogonType_name: 'Interactive' }, sec)]).hits.length, 0);
  assert.equal(run(y, [ev(4688, { CommandLine: 'mimikatz kerberos::golden /user' }, sec)]).hits.length, 1);
  const all = "  keywords:\n    '|all':\n      - 'Remove-Mailbox'\n      - ' -Confirm '\n  condition: keywords";
  assert.equal(run(rule(all, 'product: windows\n  service: security'), [ev(1, { P: 'Remove-MailboxX -Confirm $false' }, sec)]).hits.length, 1);
  assert.equal(run(rule(all, 'product: windows\n  service: security'), [ev(1, { P: 'Remove-MailboxX' }, sec)]).hits.length, 0);
});

test('process_creation matches Sysmon 1 and Security 4688 with its field names; provider is checked', () => {
  const d = "  s:\n    Image|endswith: '\\whoami.exe'\n    ParentImage|endswith: '\\cmd.exe'\n  condition: s";
  const y = rule(d);
  const sec = { channel: 'Security', provider: 'Microsoft-Windows-Security-Auditing' };
  const r = run(y, [
    ev(1, { Image: 'C:\\w\\whoami.exe', ParentImage: 'C:\\w\\cmd.exe' }),
    ev(4688, { NewProcessName: 'C:\\w\\whoami.exe', ParentProcessName: 'C:\\w\\cmd.exe' }, sec),
    // same event id from another provider in the Sysmon channel must not match
    ev(1, { Image: 'C:\\w\\whoami.exe', ParentImage: 'C:\\w\\cmd.exe' }, { provider: 'Other-Provider' }),
    // Sysmon 1 field names on a 4688 event do not exist there
    ev(4688, { Image: 'C:\\w\\whoami.exe', ParentImage: 'C:\\w\\cmd.exe' }, { channel: 'System', provider: 'X' }),
  ]);
  assert.equal(r.hits.length, 2);
  assert.equal(r.hits[1].fields.NewProcessName, 'C:\\w\\whoami.exe');
  assert.equal(r.hits[0].rule.author, 'Test Author');
  assert.deepEqual(r.hits[0].rule.attack, ['T1059.001']);
});

test('unsupported rules are reported by name with the reason', () => {
  const u: Unsupported[] = [];
  parseSigmaYaml(rule("  s:\n    Image|bogus: 'x'\n  condition: s"), 'a.yml', {}, u);
  parseSigmaYaml(rule("  s:\n    Image: 'x'\n  condition: s | count() > 5"), 'b.yml', {}, u);
  parseSigmaYaml(rule("  s:\n    Image: 'x'\n  condition: s and missing"), 'c.yml', {}, u);
  parseSigmaYaml(rule("  s:\n    Image: 'x'\n  condition: s", 'product: linux\n  category: process_creation'), 'd.yml', {}, u);
  parseSigmaYaml(rule("  s:\n    Image|re: '(?<!a'\n  condition: s"), 'e.yml', {}, u);
  assert.equal(u.length, 5);
  assert.ok(u.every((x) => x.title === 'T'));
  assert.match(u[0].reason, /unknown modifier 'bogus'/);
  assert.match(u[1].reason, /aggregation/);
  assert.match(u[2].reason, /unknown selection 'missing'/);
  assert.match(u[3].reason, /linux/);
  assert.match(u[4].reason, /regular expression/);
});

const SEC = { channel: 'Security', provider: 'Microsoft-Windows-Security-Auditing' };
const failRule = `title: Failed logon\nid: f1\nname: failed_logon\nauthor: A\nlevel: low\nlogsource:\n  product: windows\n  service: security\ndetection:\n  s:\n    EventID: 4625\n  condition: s\n`;
const okRule = `title: Logon\nid: s1\nname: good_logon\nauthor: A\nlevel: low\nlogsource:\n  product: windows\n  service: security\ndetection:\n  s:\n    EventID: 4624\n  condition: s\n`;
const fail = (t: number, user: string, ip = '10.0.0.9') => ev(4625, { TargetUserName: user, IpAddress: ip }, { ...SEC, t });
const ok = (t: number, user: string, ip = '10.0.0.9') => ev(4624, { TargetUserName: user, IpAddress: ip }, { ...SEC, t });

test('correlation event_count with group-by and timespan; base rules hidden unless generate', () => {
  const y = `${failRule}---\ntitle: Brute force\nid: c1\nauthor: B\nlevel: high\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition:\n    gte: 5\n`;
  const evs = [0, 10, 20, 30, 40].map((s) => fail(s * 1000, 'u' + s));
  evs.push(...[0, 1, 2, 3].map((s) => fail(s * 1000, 'x', '10.0.0.7')));
  evs.push(...[0, 400, 800, 1200, 1600].map((s) => fail(s * 1000, 'y', '10.0.0.8')));
  const r = run(y, evs);
  assert.deepEqual(r.unsupported, []);
  assert.equal(r.hits.length, 1, 'only the 5-in-5-minutes group fires; base rule suppressed');
  assert.equal(r.hits[0].correlation?.count, 5);
  assert.equal(r.hits[0].correlation?.group.IpAddress, '10.0.0.9');
  const gen = run(y.replace('  timespan: 5m', '  timespan: 5m\n  generate: true'), evs.slice(0, 5));
  assert.equal(gen.hits.length, 6);
});

test('correlation value_count, temporal, temporal_ordered with aliases', () => {
  const vc = `${failRule}---\ntitle: Spray\nid: c2\nauthor: B\nlevel: high\ncorrelation:\n  type: value_count\n  rules: [failed_logon]\n  group-by: [IpAddress]\n  timespan: 10m\n  condition:\n    field: TargetUserName\n    gt: 3\n`;
  assert.equal(run(vc, [1, 2, 3, 4].map((i) => fail(i * 1000, 'same'))).hits.length, 0);
  const spray = run(vc, [1, 2, 3, 4].map((i) => fail(i * 1000, 'user' + i)));
  assert.equal(spray.hits.length, 1);
  assert.deepEqual(spray.hits[0].correlation?.values?.sort(), ['user1', 'user2', 'user3', 'user4']);

  const tempo = (type: string) =>
    `${failRule}---\n${okRule}---\ntitle: Fail then success\nid: c3\nauthor: B\nlevel: high\ncorrelation:\n  type: ${type}\n  rules: [failed_logon, good_logon]\n  group-by: [user]\n  timespan: 1h\n  aliases:\n    user:\n      failed_logon: TargetUserName\n      good_logon: TargetUserName\n`;
  // success before failure: temporal fires, temporal_ordered does not
  const rev = [ok(0, 'bob'), fail(60_000, 'bob')];
  assert.equal(run(tempo('temporal'), rev).hits.length, 1);
  assert.equal(run(tempo('temporal_ordered'), rev).hits.length, 0);
  const fwd = [fail(0, 'bob'), ok(60_000, 'bob')];
  const h = run(tempo('temporal_ordered'), fwd).hits;
  assert.equal(h.length, 1);
  assert.equal(h[0].correlation?.group.user, 'bob');
  // different users do not correlate; too far apart does not either
  assert.equal(run(tempo('temporal_ordered'), [fail(0, 'bob'), ok(60_000, 'eve')]).hits.length, 0);
  assert.equal(run(tempo('temporal_ordered'), [fail(0, 'bob'), ok(2 * 3_600_000, 'bob')]).hits.length, 0);
  // events given out of time order are sorted first
  assert.equal(run(tempo('temporal_ordered'), [ok(60_000, 'bob'), fail(0, 'bob')]).hits.length, 1);
});

test('detector module groups matches per rule and host into findings with author and DRL', () => {
  const rules = parseSigmaYaml(rule("  s:\n    Image|endswith: '\\evil.exe'\n  condition: s"), '/x/rules/windows/process_creation/t.yml');
  const mod = sigmaDetectorModule(rules);
  const det = mod.create({ homeNet: new HomeNet(), settings: {} });
  for (let i = 0; i < 30; i++) det.observe(ev(1, { Image: 'C:\\evil.exe' }, { computer: i < 25 ? 'WS1' : 'WS2' }));
  det.observe(ev(1, { Image: 'C:\\good.exe' }));
  const f = det.finish();
  assert.equal(f.length, 2);
  const ws1 = f.find((x) => x.host === 'WS1')!;
  assert.equal(ws1.detector, 'sigma');
  assert.equal(ws1.severity, 'high');
  assert.deepEqual(ws1.attack, ['T1059.001']);
  assert.equal(ws1.facts?.count, 25);
  assert.equal(ws1.facts?.author, 'Test Author');
  assert.equal(ws1.facts?.license, 'DRL 1.1');
  assert.equal(ws1.facts?.link, 'https://github.com/SigmaHQ/sigma/blob/master/rules/windows/process_creation/t.yml');
  assert.equal(ws1.evidence.length, 20, 'evidence sample is bounded');
  assert.match(ws1.summary.en, /Test Author/);
  assert.match(ws1.summary.zh, /Test Author/);
});

test('CSV cells defuse formulas', () => {
  assert.equal(csvCell('=cmd|x'), '"\'=cmd|x"');
  assert.equal(csvCell('@SUM(1)'), '"\'@SUM(1)"');
  assert.equal(csvCell('a"b'), '"a""b"');
});

const REG = 'sigma/regression_data/rules/windows/process_creation/proc_creation_win_bitsadmin_download';
test('real rules on their SigmaHQ regression samples', { skip: needCorpus(REG, 'sigma/rules/windows/process_creation/proc_creation_win_bitsadmin_download.yml') }, () => {
  const cases = [
    ['rules/windows/process_creation/proc_creation_win_bitsadmin_download.yml', REG],
    ['rules/windows/registry/registry_set/registry_set_disable_administrative_share.yml', 'sigma/regression_data/rules/windows/registry/registry_set/registry_set_disable_administrative_share'],
  ];
  for (const [r, dir] of cases) {
    const rp = corpusFile('sigma/' + r);
    const d = corpusFile(dir);
    if (!rp || !d) continue;
    const { rules, unsupported } = loadSigmaRules([rp]);
    assert.deepEqual(unsupported, []);
    const id = rules[0].id;
    const evs = parseEvtxBuffer(readFileSync(join(d, id + '.evtx')), 'E1');
    const eng = new SigmaEngine(rules);
    let n = 0;
    for (const e of evs) eng.match(e, () => n++);
    // the sample's own JSON rendering holds the events; count those the rule is about
    const json = readFileSync(join(d, id + '.json'), 'utf8');
    const expected = r.includes('bitsadmin') ? 1 : (json.match(/AutoShare(Wks|Server)"/g) ?? []).length;
    assert.equal(n, expected, r);
    assert.ok(n > 0);
  }
});

test('necessary literals: computed from the condition, rules skipped only when none occurs', () => {
  const det = (d: string) => {
    const u: Unsupported[] = [];
    const r = parseSigmaYaml(rule(d), 'mem.yml', {}, u);
    assert.deepEqual(u, []);
    const v = (r[0] as import('../../src/sigma/index.js').DetectionRule).variants.find((x) => x.variant.channels.includes(SYSMON.channel))!;
    return v.det.need === null ? null : v.det.need.map((x) => `${x.field}:${x.lit}`).sort();
  };
  // AND: the selection with the longer literals is chosen
  assert.deepEqual(det("  a:\n    Image|endswith: '\\\\cmd.exe'\n  b:\n    CommandLine|contains: ['whoami /all', 'net user /domain']\n  condition: a and b"), ['CommandLine:net user /domain', 'CommandLine:whoami /all']);
  // OR: union; NOT gives nothing; a null value or regex makes the item unusable
  assert.deepEqual(det("  a:\n    Image|endswith: '\\\\cmd.exe'\n  b:\n    CommandLine|contains: 'mimikatz'\n  condition: a or b"), ['CommandLine:mimikatz', 'Image:\\cmd.exe']);
  assert.equal(det("  a:\n    Image|endswith: '\\\\cmd.exe'\n  condition: not a"), null);
  assert.equal(det("  a:\n    CommandLine|re: 'mimi.*katz'\n  condition: a"), null);
  assert.equal(det("  a:\n    CommandLine: null\n  condition: a"), null);
  // wildcards, windash and `all`: the longest fixed piece; keywords use every value
  assert.deepEqual(det("  a:\n    CommandLine|contains|all: ['-enc', 'powershell']\n  condition: a"), ['CommandLine:powershell']);
  assert.deepEqual(det("  a:\n    CommandLine|windash|contains: ' -exec bypass'\n  condition: a"), ['CommandLine:exec bypass']);
  assert.deepEqual(det("  a:\n    CommandLine: '*sekurlsa::*pass?'\n  condition: a"), ['CommandLine:sekurlsa::']);
  assert.deepEqual(det("  keywords:\n    - 'lsadump::'\n  condition: keywords"), ['\u0001keywords:lsadump::']);
  assert.deepEqual(det("  a:\n    CommandLine|contains: 'x'\n  b:\n    Image|endswith: '.exe'\n  condition: 1 of them"), ['CommandLine:x', 'Image:.exe']);

  // the engine skips the rule when no literal occurs, and still matches when one does
  const yamlText = rule("  a:\n    Image|endswith: '\\\\cmd.exe'\n  b:\n    CommandLine|contains: 'whoami /priv'\n  condition: a and b");
  const rules = parseSigmaYaml(yamlText, 'mem.yml', {}, []);
  const eng = new SigmaEngine(rules);
  const hits: SigmaHit[] = [];
  eng.match(proc({ Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c dir' }), (h) => hits.push(h));
  eng.match(proc({ Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c WHOAMI /PRIV' }), (h) => hits.push(h));
  assert.equal(hits.length, 1);
  assert.equal(eng.skipped, 1);
  assert.equal(eng.candidates, 1);
});

test('prefilter: non-ASCII literals, base64offset, cased and keywords give the same matches on and off', () => {
  const cases: [string, Record<string, string>][] = [
    ["  a:\n    CommandLine|contains: ['\u{1F600}', 'ÄÖÜ']\n  condition: a", { CommandLine: 'echo äöü' }],
    ["  a:\n    CommandLine|contains: ['\u{1F600}', 'ÄÖÜ']\n  condition: a", { CommandLine: 'x \u{1F600} y' }],
    ["  a:\n    CommandLine|base64offset|contains: 'http://'\n  condition: a", { CommandLine: 'powershell -e ' + Buffer.from('xhttp://evil').toString('base64') }],
    ["  a:\n    CommandLine|cased|contains: 'Invoke-'\n  condition: a", { CommandLine: 'Invoke-Thing' }],
    ["  a:\n    CommandLine|cased|contains: 'Invoke-'\n  condition: a", { CommandLine: 'invoke-thing' }],
    ["  keywords:\n    '|all':\n      - 'foo'\n      - 'bar'\n  condition: keywords", { A: 'FOO', B: 'xbarx' }],
    ["  a:\n    CommandLine|windash|contains: ' -nop'\n  condition: a", { CommandLine: 'powershell /nop' }],
    ["  a:\n    CommandLine|windash|contains: ' -nop'\n  condition: a", { CommandLine: 'powershell \u2013nop' }],
  ];
  const got = cases.map(([d, data]) => run(rule(d), [proc(data)]).hits.length); // run() asserts on == off
  assert.deepEqual(got, [1, 1, 1, 1, 0, 1, 1, 1]);
});

const EQ_DIR = 'evtx-attack-samples';
test('prefilter on and off: identical matches of all Windows rules over every 10th attack-sample file', { skip: needCorpus(EQ_DIR, 'sigma/rules/windows') }, () => {
  const root = corpusFile('sigma')!;
  const { rules } = loadSigmaRules([join(root, 'rules/windows')]);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.evtx$/i.test(e)) files.push(p);
    }
  };
  walk(corpusFile(EQ_DIR)!);
  const pick = files.filter((_, i) => i % 10 === 0);
  const evs = pick.map((f, i) => parseEvtxBuffer(readFileSync(f), 'E' + i, () => undefined));
  const keys: string[][] = [];
  const engines: SigmaEngine[] = [];
  for (const prefilter of [true, false]) {
    const eng = new SigmaEngine(rules, { prefilter });
    const k: string[] = [];
    for (const l of evs) for (const e of l) eng.match(e, (h) => k.push(`${h.ref.evidence}|${h.ref.record}|${h.rule.id}`));
    eng.finish((h) => k.push(`corr|${h.ref.record}|${h.rule.id}`));
    keys.push(k);
    engines.push(eng);
  }
  assert.ok(keys[1].length > 20, `too few matches to compare (${keys[1].length})`);
  assert.deepEqual(keys[0], keys[1]);
  // and the prefilter really removes most evaluations
  assert.ok(engines[0].candidates * 5 < engines[1].candidates, `${engines[0].candidates} vs ${engines[1].candidates}`);
});

test('spoor hunt --workers 2 gives the same matches as one thread', { skip: needCorpus('evtx-attack-samples/Credential Access', 'sigma/rules/windows/builtin/security') }, async () => {
  const { runHunt } = await import('../../src/cli/commands/hunt.js');
  const { Writable } = await import('node:stream');
  const sink = () => {
    const chunks: string[] = [];
    const w = new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    });
    return { w, text: () => chunks.join('') };
  };
  const dir = corpusFile('evtx-attack-samples/Credential Access')!;
  const rulesDir = corpusFile('sigma/rules/windows/builtin/security')!;
  const lines: string[][] = [];
  for (const workers of [1, 2]) {
    const out = sink();
    const err = sink();
    await runHunt([dir], { sigma: [rulesDir], format: 'jsonl', quiet: true, workers }, out.w, err.w);
    lines.push(
      out
        .text()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const h = JSON.parse(l) as { file: string; record: number; rule_id: string; time: string };
          return [h.file, h.record, h.rule_id, h.time].join('|');
        })
        .sort(),
    );
  }
  assert.ok(lines[0].length > 5, `too few matches (${lines[0].length})`);
  assert.deepEqual(lines[1], lines[0]);
});
