import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  BLOCKLIST_FORMATS,
  CSV_HEAD,
  exportCase,
  selectBlockAddresses,
  toBlocklist,
  toCsv,
  toNavigator,
  toNdjson,
  toStix,
  toTimesketch,
  uuidv5,
} from '../../src/export/index.js';
import { TACTIC_NAMES } from '../../src/render/attack.js';
import { eventRowToEcs, nestEcs, register as registerExport } from '../../src/cli/commands/export.js';
import { register as registerReport } from '../../src/cli/commands/report.js';
import { CASE1, CASE2, HOSTILE, buildCase1, buildCase2, buildHostile } from '../render/fixtures.js';
import { parseCsv } from '../render/helpers.js';
import { needTool } from '../support/corpus.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

test('uuidv5 matches the RFC 4122 test vector', () => {
  assert.equal(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
});

/** Required properties of STIX 2.1 objects (common + per type, from the STIX 2.1 JSON schemas). */
function checkStix(bundle: ReturnType<typeof toStix>) {
  assert.equal(bundle.type, 'bundle');
  assert.match(bundle.id, new RegExp(`^bundle--${UUID}$`));
  assert.ok(Array.isArray(bundle.objects) && bundle.objects.length > 0);
  const ids = new Set<string>();
  for (const o of bundle.objects) {
    assert.match(o.type, /^[a-z][a-z0-9-]+[a-z0-9]$/);
    assert.match(o.id, new RegExp(`^${o.type}--${UUID}$`), o.id);
    assert.ok(!ids.has(o.id), `duplicate id ${o.id}`);
    ids.add(o.id);
    assert.equal(o.spec_version, '2.1');
    assert.match(String(o.created), RFC3339);
    assert.match(String(o.modified), RFC3339);
    assert.ok(String(o.modified) >= String(o.created));
    const phases = (o.kill_chain_phases ?? []) as { kill_chain_name: string; phase_name: string }[];
    for (const p of phases) {
      assert.equal(p.kill_chain_name, 'mitre-attack');
      assert.ok(p.phase_name in TACTIC_NAMES, p.phase_name);
    }
    switch (o.type) {
      case 'identity':
        assert.ok(o.name);
        break;
      case 'indicator':
        assert.equal(o.pattern_type, 'stix');
        assert.match(String(o.valid_from), RFC3339);
        assert.match(String(o.pattern), /^\[[a-z0-9-]+:[a-z0-9_.'-]+(\.'[A-Z0-9-]+')? = '(?:[^'\\]|\\.)*'\]$/i, String(o.pattern));
        assert.ok(phases.length > 0, 'indicator has kill-chain phases');
        break;
      case 'attack-pattern': {
        assert.ok(o.name);
        const refs = o.external_references as { source_name: string; external_id: string }[];
        assert.ok(refs.some((r) => r.source_name === 'mitre-attack' && /^T\d{4}(\.\d{3})?$/.test(r.external_id)));
        break;
      }
      case 'incident':
        assert.ok(o.name);
        break;
      case 'relationship':
        assert.ok(o.relationship_type && o.source_ref && o.target_ref);
        break;
      default:
        assert.fail(`unexpected object type ${o.type}`);
    }
  }
  for (const o of bundle.objects) {
    if (o.type !== 'relationship') continue;
    assert.ok(ids.has(String(o.source_ref)) && ids.has(String(o.target_ref)), 'relationship refs resolve');
    if (o.created_by_ref) assert.ok(ids.has(String(o.created_by_ref)));
  }
}

test('STIX 2.1 bundle: required fields, patterns for every IOC kind, deterministic ids', () => {
  const f = buildCase2();
  const b = toStix(f);
  checkStix(b);
  const patterns = b.objects.filter((o) => o.type === 'indicator').map((o) => String(o.pattern));
  assert.ok(patterns.includes(`[ipv4-addr:value = '${CASE2.attacker}']`));
  assert.ok(patterns.includes(`[ipv4-addr:value = '${CASE2.c2}']`));
  assert.ok(patterns.includes(`[domain-name:value = 'update.example-cdn.com']`));
  assert.ok(patterns.includes(`[url:value = 'http://${CASE2.web}:8080${CASE2.shell}']`));
  assert.ok(patterns.includes(`[file:name = 'xxx.jsp']`));
  assert.ok(!patterns.some((p) => p.includes(CASE2.web + "'") || p.includes(CASE2.second + "'")), 'no indicator for compromised hosts');
  const c2 = b.objects.find((o) => o.type === 'indicator' && String(o.pattern).includes(CASE2.c2))!;
  assert.ok((c2.kill_chain_phases as { phase_name: string }[]).some((p) => p.phase_name === 'command-and-control'));
  assert.deepEqual(toStix(buildCase2()), b, 'same case → same bundle');
  const c1 = toStix(buildCase1());
  checkStix(c1);
  assert.ok(c1.objects.some((o) => o.type === 'indicator' && /^\[file:hashes\.'SHA-256' = '[0-9a-f]{64}'\]$/.test(String(o.pattern))));
  assert.ok(c1.objects.some((o) => o.type === 'attack-pattern' && o.name === 'Brute Force: Password Guessing'));
});

test('STIX patterns stay well-formed with hostile values', () => {
  const b = toStix(buildHostile());
  checkStix(b);
  assert.ok(b.objects.some((o) => o.type === 'indicator' && String(o.pattern) === `[file:name = '=cmd|\\' /C calc\\'!A0']`));
  assert.ok(!b.objects.some((o) => String(o.pattern ?? '').includes('rm -rf')), 'non-address attacker value is not an ipv4 indicator');
});

test('ATT&CK Navigator layer: format 4.5 required fields, all techniques scored and commented', () => {
  for (const f of [buildCase1(), buildCase2()]) {
    const l = toNavigator(f);
    assert.equal(typeof l.name, 'string');
    assert.equal(l.domain, 'enterprise-attack');
    assert.equal(l.versions.layer, '4.5');
    const [maj, min] = l.versions.navigator.split('.').map(Number);
    assert.ok(maj > 4 || (maj === 4 && min >= 9), 'navigator version >= 4.9');
    assert.ok(Array.isArray(l.techniques));
    for (const t of l.techniques) {
      assert.match(t.techniqueID, /^T\d{4}(\.\d{3})?$/);
      if (t.tactic !== undefined) assert.ok(t.tactic in TACTIC_NAMES, t.tactic);
      if (t.color !== undefined) assert.match(t.color, /^#[0-9a-f]{6}$/);
      if (t.score !== undefined) assert.ok(t.score >= 0 && t.score <= 100);
    }
    for (const id of f.incidents[0].techniques) {
      const e = l.techniques.find((t) => t.techniqueID === id);
      assert.ok(e && typeof e.score === 'number' && typeof e.comment === 'string' && e.comment.length > 0 && e.color, id);
    }
    JSON.parse(exportCase(f, 'navigator'));
  }
  const l = toNavigator(buildCase1());
  assert.equal(l.techniques.find((t) => t.techniqueID === 'T1110.001')!.score, 100, 'critical finding → 100');
  assert.ok(l.techniques.some((t) => t.techniqueID === 'T1110' && t.showSubtechniques), 'parent expanded');
});

test('Timesketch JSONL: message, datetime, timestamp_desc on every line', () => {
  for (const f of [buildCase1(), buildCase2(), buildHostile()]) {
    const lines = toTimesketch(f).trimEnd().split('\n');
    assert.equal(lines.length, f.incidents[0].timeline.length + f.findings.length);
    for (const line of lines) {
      const o = JSON.parse(line);
      assert.equal(typeof o.message, 'string');
      assert.ok(o.message.length > 0);
      assert.ok(Number.isFinite(Date.parse(o.datetime)), o.datetime);
      assert.match(o.datetime, RFC3339);
      assert.equal(typeof o.timestamp_desc, 'string');
      assert.ok(o.timestamp_desc.length > 0);
      assert.equal(o.timestamp, Date.parse(o.datetime) * 1000);
    }
  }
});

test('NDJSON: one ECS document per finding; bulk actions when asked', () => {
  const f = buildCase1();
  const lines = toNdjson(f).trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, f.findings.length);
  for (const d of lines) {
    assert.match(d['@timestamp'], RFC3339);
    assert.equal(d.ecs.version.split('.')[0], '8');
    assert.equal(d.event.kind, 'alert');
    assert.ok(['success', 'failure', 'unknown'].includes(d.event.outcome));
    assert.equal(d.threat.framework, 'MITRE ATT&CK');
  }
  const brute = lines.find((d) => d.event.id === 'host.bruteforce-success-1');
  assert.equal(brute.source.ip, CASE1.attacker);
  assert.equal(brute.user.name, 'administrator');
  assert.equal(brute.event.outcome, 'success');
  assert.deepEqual(brute.threat.technique.id, ['T1110.001', 'T1078']);
  const bulk = toNdjson(f, { bulkIndex: 'spoor-case1' }).trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(bulk.length, 2 * f.findings.length);
  for (let i = 0; i < bulk.length; i += 2) assert.deepEqual(bulk[i], { index: { _index: 'spoor-case1' } });
  // A non-address "host" never lands in an ip field (Elasticsearch would reject the document).
  const h = toNdjson(buildHostile()).trimEnd().split('\n').map((l) => JSON.parse(l)).find((d) => d.event.id === 'host.hostile-1');
  assert.equal(h.host.ip, undefined);
  assert.ok(!toNdjson(buildHostile()).includes('\u009b'));
});

test('CSV of findings: header, one row per finding, formula-safe with hostile input', () => {
  const f = buildHostile();
  const csv = toCsv(f);
  assert.equal(csv.charCodeAt(0), 0xfeff);
  const rows = parseCsv(csv);
  assert.deepEqual(rows[0], CSV_HEAD);
  assert.equal(rows.length, f.findings.length + 1);
  for (const r of rows.slice(1)) {
    assert.equal(r.length, CSV_HEAD.length);
    for (const cell of r) assert.ok(!/^[\s]*[=+\-@]/.test(cell) && !/^[\t\r]/.test(cell), `formula cell ${JSON.stringify(cell)}`);
  }
  const hostile = rows.find((r) => r[0] === 'host.hostile-1')!;
  assert.equal(hostile[CSV_HEAD.indexOf('user')], `'${HOSTILE.formula}${HOSTILE.script}`);
  assert.ok(!csv.includes('\u001b'));
  assert.ok(!toCsv(f, false).startsWith('\ufeff'));
});

test('block lists: attacker and C2 only, never compromised hosts; every flavour', () => {
  const f = buildCase2();
  const sel = selectBlockAddresses(f);
  assert.deepEqual(sel.entries.map((e) => e.ip).sort(), [CASE2.attacker, CASE2.c2].sort());
  assert.equal(toBlocklist(f, 'plain'), `${CASE2.attacker}\n${CASE2.c2}\n`);
  // A C2 list that (wrongly) names a compromised host must not cut it off.
  const g = buildCase2();
  g.incidents[0].c2.push(CASE2.web, '127.0.0.1', '2001:db8::66');
  const sel2 = selectBlockAddresses(g);
  assert.ok(!sel2.entries.some((e) => e.ip === CASE2.web || e.ip === '127.0.0.1'));
  assert.ok(sel2.excluded.some((x) => x.value === CASE2.web));
  assert.ok(sel2.entries.some((e) => e.ip === '2001:db8::66' && e.v === 6));
  for (const fmt of BLOCKLIST_FORMATS) {
    const out = toBlocklist(g, fmt);
    assert.ok(out.includes(CASE2.c2), fmt);
    const lines = out.split(/\r?\n/).filter((l) => l && !/^(#|REM)/.test(l));
    for (const l of lines) assert.ok(!l.includes(CASE2.web) && !l.includes(CASE2.second), `${fmt}: ${l}`);
  }
  const nft = toBlocklist(g, 'nftables');
  assert.match(nft, /elements = \{ 10\.10\.10\.3, 124\.223\.206\.156 \}/);
  assert.match(nft, /set attackers_v6 \{\n {4}type ipv6_addr\n {4}elements = \{ 2001:db8::66 \}/);
  const ipt = toBlocklist(g, 'iptables');
  assert.ok(ipt.includes(`iptables -I INPUT -s ${CASE2.c2} `) && ipt.includes('ip6tables -I OUTPUT -d 2001:db8::66 '));
  const sur = toBlocklist(g, 'suricata').split('\n').filter((l) => l.startsWith('drop'));
  assert.equal(sur.length, 2 * sel2.entries.length);
  const sids = sur.map((l) => /sid:(\d+);/.exec(l)![1]);
  assert.equal(new Set(sids).size, sids.length, 'unique sids');
  for (const l of sur) assert.match(l, /^drop ip \S+ any -> \S+ any \(msg:"[^"]*"; classtype:[a-z-]+; sid:\d+; rev:1; metadata:created_by spoor;\)$/);
  assert.match(toBlocklist(g, 'netsh'), /netsh advfirewall firewall add rule name="spoor case2-spring block inbound" dir=in action=block remoteip=10\.10\.10\.3,124\.223\.206\.156,2001:db8::66\r\n/);
  assert.match(toBlocklist(g, 'powershell'), /\$SpoorBlock = @\('10\.10\.10\.3', '124\.223\.206\.156', '2001:db8::66'\)/);
});

test('block lists refuse anything that is not an address (shell injection)', () => {
  const f = buildHostile();
  f.case.id = `x"; rm -rf / ; echo "`;
  for (const fmt of BLOCKLIST_FORMATS) {
    const out = toBlocklist(f, fmt);
    for (const l of out.split(/\r?\n/)) {
      if (!l || /^(#|REM)/.test(l)) continue;
      assert.ok(!l.includes('rm -rf'), `${fmt}: ${l}`);
    }
  }
  assert.ok(selectBlockAddresses(f).excluded.some((x) => x.reason === 'not an IP address'));
});

test('nftables output passes `nft -c` when nft is installed', { skip: needTool('nft') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-nft-'));
  try {
    const p = join(dir, 'b.nft');
    await writeFile(p, toBlocklist(buildCase2(), 'nftables'));
    execFileSync('nft', ['-c', '-f', p], { stdio: 'pipe' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('spoor export writes each format to --out', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-export-'));
  try {
    await writeFile(join(dir, 'incident.json'), JSON.stringify(buildCase1()));
    for (const format of ['stix', 'navigator', 'timesketch', 'csv', 'blocklist', 'ndjson']) {
      const program = new Command();
      program.exitOverride();
      registerExport(program);
      const out = join(dir, `out.${format}`);
      const err = process.stderr.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        await program.parseAsync(['node', 'spoor', 'export', dir, '--format', format, '--out', out, '--blocklist-format', 'suricata']);
      } finally {
        process.stderr.write = err;
      }
      const text = await readFile(out, 'utf8');
      assert.ok(text.length > 0, format);
      if (format === 'stix') checkStix(JSON.parse(text));
      if (format === 'blocklist') assert.ok(text.includes(`drop ip ${CASE1.attacker} any`));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('case-store event rows become nested ECS documents', () => {
  const doc = eventRowToEcs(
    { ts: 1_507_567_527_730.4, dataset: 'dns', src_ip: '192.168.10.31', src_port: 64252, dst_ip: '192.168.10.10', evidence: 'E2', record: null, frame: 399n, line: null, uid: 'C1', data: JSON.stringify({ 'dns.question.name': 'a.example', 'winlog.event_data': { X: '1' } }) },
    'case-x',
  );
  assert.equal(doc['@timestamp'], '2017-10-09T16:45:27.730Z');
  assert.deepEqual(doc.source, { ip: '192.168.10.31', port: 64252 });
  assert.equal((doc.dns as { question: { name: string } }).question.name, 'a.example');
  assert.deepEqual((doc.event as Record<string, unknown>).kind, 'event');
  assert.equal((doc.spoor as { frame: number }).frame, 399);
  assert.deepEqual(nestEcs({ 'a.b': 1, 'a.b.c': 2, x: 3 }), { a: { b: 1 }, 'a.b.c': 2, x: 3 }, 'conflicting paths keep the dotted name');
});

test('spoor report renders from DIR/incident.json and refuses a folder without one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-report-cli-'));
  const out = process.stdout.write;
  try {
    await writeFile(join(dir, 'incident.json'), JSON.stringify(buildCase2()));
    const program = new Command();
    program.exitOverride();
    registerReport(program);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    await program.parseAsync(['node', 'spoor', 'report', dir, '--lang', 'zh', '--format', 'md']);
    process.stdout.write = out;
    const zh = await readFile(join(dir, 'report.zh.md'), 'utf8');
    assert.ok(zh.includes(CASE2.c2) && zh.includes('二、处理过程'));
    await assert.rejects(readFile(join(dir, 'report.en.md')), 'only the language asked for');
    const empty = await mkdtemp(join(tmpdir(), 'spoor-report-empty-'));
    const p2 = new Command();
    p2.exitOverride();
    registerReport(p2);
    await assert.rejects(p2.parseAsync(['node', 'spoor', 'report', empty]), /not a spoor case folder/);
    await rm(empty, { recursive: true, force: true });
  } finally {
    process.stdout.write = out;
    await rm(dir, { recursive: true, force: true });
  }
});
