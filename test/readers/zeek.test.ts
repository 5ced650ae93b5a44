import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile, readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SpoorEvent } from '../../src/core/event.js';
import { HomeNet } from '../../src/core/homenet.js';
import type { ParseProblem } from '../../src/core/problems.js';
import { zeekReader } from '../../src/readers/zeek/index.js';
import type { IncidentFile } from '../../src/incident/types.js';
import { corpusFile } from '../support/corpus.js';
import { filesUnder } from '../support/files.js';

async function* chunks(buf: Buffer, size: number): AsyncIterable<Buffer> {
  for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, o + size);
}

async function readAll(text: string, path = 'evidence.log', size = 97): Promise<{ events: SpoorEvent[]; problems: ParseProblem[] }> {
  const problems: ParseProblem[] = [];
  const events: SpoorEvent[] = [];
  const buf = Buffer.from(text, 'utf8');
  assert.ok(zeekReader.sniff(buf.subarray(0, 4096)), 'recognised as a Zeek log');
  const ctx = { evidenceId: 'E1', path, homeNet: new HomeNet(['10.0.0.0/8']), problem: (p: ParseProblem) => problems.push(p), stats: { records: 0, errors: 0 } };
  for await (const b of zeekReader.read(chunks(buf, size), ctx)) events.push(...b);
  return { events, problems };
}

const TSV_HEAD = [
  '#separator \\x09',
  '#set_separator\t,',
  '#empty_field\t(empty)',
  '#unset_field\t-',
];

function tsvLog(path: string, fields: string[], types: string[], rows: string[][]): string {
  return [...TSV_HEAD, `#path\t${path}`, '#open\t2022-04-01-03-00-00', `#fields\t${fields.join('\t')}`, `#types\t${types.join('\t')}`, ...rows.map((r) => r.join('\t')), '#close\t2022-04-01-04-00-00', ''].join('\n');
}

const CONN_FIELDS = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes', 'resp_bytes', 'conn_state', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'tunnel_parents'];
const CONN_TYPES = ['time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval', 'count', 'count', 'string', 'count', 'string', 'count', 'count', 'count', 'count', 'set[string]'];

test('Zeek TSV conn.log rows become conn events with Zeek semantics, community id and local flags', async () => {
  const text = tsvLog('conn', CONN_FIELDS, CONN_TYPES, [
    ['1648782000.123456', 'CAbc1', '128.232.110.120', '34855', '66.35.250.204', '80', 'tcp', 'http', '1.500000', '120', '3400', 'SF', '0', 'ShADadFf', '6', '440', '5', '3660', '(empty)'],
    ['1648782001.000000', 'CAbc2', '10.1.2.3', '51000', '10.1.2.4', '445', 'tcp', '-', '-', '-', '-', 'S0', '0', 'S', '1', '44', '0', '0', '(empty)'],
  ]);
  const { events, problems } = await readAll(text);
  assert.deepEqual(problems, []);
  assert.equal(events.length, 2);
  const [a, b] = events as [SpoorEvent, SpoorEvent];
  assert.equal(a['event.dataset'], 'conn');
  assert.equal(a['event.provider'], 'zeek');
  assert.equal(a['@timestamp'], 1648782000123.456);
  assert.equal(a['source.ip'], '128.232.110.120');
  assert.equal(a['destination.port'], 80);
  assert.equal(a['network.protocol'], 'http');
  assert.equal(a['event.duration'], 1500);
  assert.equal(a['conn.state'], 'SF');
  assert.equal(a['conn.history'], 'ShADadFf');
  assert.equal(a['destination.bytes'], 3400);
  assert.equal(a['destination.ip_bytes'], 3660);
  // the Community ID spec's own baseline for this tuple
  assert.equal(a['network.community_id'], '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  assert.equal(a['conn.local_orig'], false);
  assert.deepEqual(a.ref, { evidence: 'E1', line: 9, uid: 'CAbc1' }, 'eight header lines, then the first row');
  assert.equal(b['conn.state'], 'S0');
  assert.equal(b['event.duration'], undefined, 'unset stays unset');
  assert.equal(b['conn.local_orig'], true);
  assert.equal(b['conn.local_resp'], true);
  assert.deepEqual(b['zeek.tunnel_parents'], []);
});

test('Zeek JSON logs: kind from _path, the file name or the fields; http, dns, ntlm and ssl mapped', async () => {
  const lines = [
    JSON.stringify({ _path: 'http', ts: 1648782100.5, uid: 'CH1', 'id.orig_h': '10.10.10.3', 'id.orig_p': 40000, 'id.resp_h': '80.66.1.15', 'id.resp_p': 8080, trans_depth: 1, method: 'POST', host: 'web01', uri: '/index?class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di', user_agent: 'Mozilla/5.0\u0000<script>', status_code: 200, request_body_len: 0, response_body_len: 12, resp_mime_types: ['text/plain'] }),
    JSON.stringify({ ts: 1648782101, uid: 'CD1', 'id.orig_h': '10.1.2.3', 'id.orig_p': 5353, 'id.resp_h': '10.1.2.1', 'id.resp_p': 53, proto: 'udp', trans_id: 7, query: 'evil.example', qtype: 1, qtype_name: 'A', rcode: 0, rcode_name: 'NOERROR', AA: false, TC: false, RD: true, RA: true, Z: 0, answers: ['203.0.113.156', 'cname.example'], TTLs: [60, 30], rejected: false }),
    JSON.stringify({ ts: '2022-04-01T03:15:02.000000Z', uid: 'CN1', 'id.orig_h': '80.66.1.15', 'id.orig_p': 50000, 'id.resp_h': '80.66.1.5', 'id.resp_p': 445, username: 'administrator', hostname: 'WEB01', domainname: 'CORP', success: true }),
  ];
  const { events, problems } = await readAll(lines.join('\n') + '\n', '/evidence/zeek/current.log');
  assert.deepEqual(problems, []);
  const [h, d, n] = events as [SpoorEvent, SpoorEvent, SpoorEvent];
  assert.equal(h['event.dataset'], 'http');
  assert.equal(h['http.request.method'], 'POST');
  assert.match(String(h['url.original']), /classLoader/);
  assert.equal(h['user_agent.original'], 'Mozilla/5.0\u0000<script>', 'attacker text kept as data, byte for byte');
  assert.deepEqual(h['http.response.mime_sniffed'], ['text/plain']);
  assert.equal(d['event.dataset'], 'dns');
  assert.equal(d['dns.question.name'], 'evil.example');
  assert.deepEqual(d['dns.resolved_ip'], ['203.0.113.156']);
  assert.deepEqual(d['dns.answers'], [
    { name: 'evil.example', data: '203.0.113.156', ttl: 60 },
    { name: 'evil.example', data: 'cname.example', ttl: 30 },
  ]);
  assert.equal(n['event.dataset'], 'ntlm');
  assert.equal(n['@timestamp'], Date.UTC(2022, 3, 1, 3, 15, 2));
  assert.equal(n['user.name'], 'administrator');
  assert.equal(n['event.outcome'], 'success');
  // no _path, no telling file name: the ssl kind comes from its fields; the name decides when it tells
  const ssl = JSON.stringify({ ts: 1, uid: 'CS1', 'id.orig_h': '10.0.0.9', 'id.orig_p': 1, 'id.resp_h': '203.0.113.156', 'id.resp_p': 443, version: 'TLSv12', cipher: 'TLS_RSA_WITH_AES_256_CBC_SHA', server_name: 'cdn.example', established: true });
  const r = await readAll(ssl + '\n', 'x.json');
  assert.equal(r.events[0]!['event.dataset'], 'tls');
  assert.equal(r.events[0]!['tls.client.server_name'], 'cdn.example');
  const named = await readAll(JSON.stringify({ ts: 1, uid: 'C9', 'id.orig_h': '10.0.0.9', 'id.orig_p': 1, 'id.resp_h': '10.0.0.8', 'id.resp_p': 22, foo: 1 }) + '\n', '/x/ssh.2022-04-01.log');
  assert.equal(named.events[0]!['event.dataset'], 'ssh');
});

test('damaged Zeek logs: bad rows are reported with line and offset and skipped; the rest is read', async () => {
  const good = tsvLog('conn', CONN_FIELDS, CONN_TYPES, [
    ['1648782000.1', 'C1', '10.0.0.1', '1', '10.0.0.2', '2', 'tcp', '-', '-', '-', '-', 'S0', '0', 'S', '1', '44', '0', '0', '(empty)'],
    ['1648782000.2', 'C2', '10.0.0.1', '1'],
    ['XXXXXXXXXX.XXXXXX', 'C3', '10.0.0.1', '3', '10.0.0.2', '2', 'tcp', '-', '-', '-', '-', 'REJ', '0', 'Sr', '1', '44', '1', '40', '(empty)'],
  ]);
  const truncated = good.slice(0, good.lastIndexOf('#close')) + '1648782000.4\tC4\t10.0.0.1\t4';
  const { events, problems } = await readAll(truncated);
  assert.deepEqual(events.map((e) => e['conn.uid']), ['C1', 'C3']);
  const errors = problems.filter((p) => p.severity === 'error');
  assert.equal(errors.length, 2);
  assert.equal(errors[0]!.record, 10);
  assert.equal(errors[0]!.offset, Buffer.byteLength(truncated.split('\n').slice(0, 9).join('\n') + '\n'));
  assert.match(errors[0]!.reason, /4 fields/);
  assert.ok(problems.some((p) => p.severity === 'warning' && /readable ts/.test(p.reason)), 'masked times are reported');
  const json = ['{"ts": 1, "uid": "C1", "id.orig_h": "10.0.0.1", "conn_state": "S0"}', '{"ts": 2, "uid": "C2", "id.or', '[1,2]', '{"ts": 3, "uid": "C3", "id.orig_h": "10.0.0.1", "conn_state": "SF"}'].join('\n');
  const j = await readAll(json, 'conn.log', 13);
  assert.deepEqual(j.events.map((e) => e['conn.uid']), ['C1', 'C3']);
  assert.deepEqual(j.problems.map((p) => p.record), [2, 3]);
});

test('every Zeek baseline log with headers in the corpus is recognised and read without errors', { skip: corpusFile('zeek/Baseline') ? false : 'corpus not available: zeek/Baseline' }, async () => {
  const root = corpusFile('zeek/Baseline')!;
  const logs = filesUnder(root, (p) => p.endsWith('.log')).filter((p) => /^#fields\t/m.test(readFileSync(p, 'latin1')));
  assert.ok(logs.length > 100, `found ${logs.length} logs`);
  let rows = 0;
  for (const p of logs) {
    const text = readFileSync(p, 'utf8');
    const expected = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#')).length;
    const { events, problems } = await readAll(text, p, 65536);
    const errors = problems.filter((x) => x.severity === 'error');
    assert.deepEqual(errors, [], relative(root, p));
    assert.equal(events.length, expected, relative(root, p));
    rows += events.length;
  }
  assert.ok(rows > 1000, `${rows} rows`);
});

const run = promisify(execFile);
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

test('network detectors work on Zeek logs: a horizontal SMB sweep in conn.log is a scan finding citing log lines', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-zeek-'));
  try {
    const rows: string[][] = [];
    const t0 = 1648782000;
    for (let h = 1; h <= 60; h++) {
      rows.push([(t0 + h * 0.05).toFixed(6), `CS${h}`, '80.66.1.15', String(40000 + h), `80.66.1.${h + 20}`, '445', 'tcp', '-', '-', '-', '-', 'S0', '0', 'S', '2', '88', '0', '0', '(empty)']);
    }
    const ev = join(dir, 'evidence');
    await import('node:fs/promises').then((fs) => fs.mkdir(ev));
    await writeFile(join(ev, 'conn.log'), tsvLog('conn', CONN_FIELDS, CONN_TYPES, rows));
    const out = join(dir, 'case');
    const r = await run(process.execPath, [cli, 'investigate', ev, '--out', out, '--tz', 'UTC', '--home-net', '80.66.1.0/24', '--quiet'], { maxBuffer: 1 << 24 });
    assert.equal(r.stdout.trim(), out);
    const file = JSON.parse(await readFile(join(out, 'incident.json'), 'utf8')) as IncidentFile;
    assert.deepEqual(file.evidence.map((e) => e.format), ['zeek']);
    const scans = file.findings.filter((f) => /scan/.test(f.detector));
    assert.ok(scans.length >= 1, JSON.stringify(file.findings.map((f) => f.detector)));
    const s = scans[0]!;
    assert.equal(s.src, '80.66.1.15');
    assert.ok(s.evidence.some((ref) => ref.line !== undefined && ref.line > 8), JSON.stringify(s.evidence.slice(0, 3)));
    assert.ok((await readdir(out)).includes('report.en.md'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
