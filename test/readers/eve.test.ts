import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../src/core/event.js';
import { HomeNet } from '../../src/core/homenet.js';
import type { ParseProblem } from '../../src/core/problems.js';
import { eveReader, eveTime, flowState } from '../../src/readers/eve/index.js';
import { readers } from '../../src/readers/index.js';

async function* chunks(buf: Buffer, size: number): AsyncIterable<Buffer> {
  for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, o + size);
}

export async function readEve(lines: string[]): Promise<{ events: SpoorEvent[]; problems: ParseProblem[] }> {
  const problems: ParseProblem[] = [];
  const events: SpoorEvent[] = [];
  const buf = Buffer.from(lines.join('\n') + '\n');
  const ctx = { evidenceId: 'E2', path: 'eve.json', homeNet: new HomeNet(['80.66.1.0/24', '10.0.0.0/8']), problem: (p: ParseProblem) => problems.push(p), stats: { records: 0, errors: 0 } };
  for await (const b of eveReader.read(chunks(buf, 61), ctx)) events.push(...b);
  return { events, problems };
}

const FLOW_ID = '1152921504606846977'; // > 2^53: JSON numbers cannot carry it

const alert = JSON.stringify({
  timestamp: '2022-04-01T11:15:02.123456+0800', flow_id: 0, in_iface: 'eth0', event_type: 'alert', src_ip: '10.10.10.3', src_port: 51234, dest_ip: '80.66.1.15', dest_port: 8080, proto: 'TCP', community_id: '1:abc=',
  alert: { action: 'allowed', gid: 1, signature_id: 2035674, rev: 3, signature: 'ET EXPLOIT Possible SpringCore RCE/Spring4Shell Inbound (CVE-2022-22965)', category: 'Attempted Administrator Privilege Gain', severity: 1 },
  http: { hostname: 'web01', url: '/?class.module.classLoader.resources.context.parent.pipeline.first.suffix=.jsp', http_method: 'GET', http_user_agent: '<b>ua</b>', status: 200, protocol: 'HTTP/1.1', length: 0 },
  app_proto: 'http',
}).replace('"flow_id":0', `"flow_id":${FLOW_ID}`);

test('EVE is recognised by content, before the Zeek JSON reader', () => {
  const head = Buffer.from(alert + '\n');
  assert.equal(readers.find((r) => r.sniff(head))?.format, 'suricata-eve');
  assert.equal(eveReader.sniff(Buffer.from('{"ts": 1, "uid": "C1"}\n')), false);
});

test('EVE alert, flow, http, dns and tls records become spoor events; flow_id kept exactly', async () => {
  const flow = (state: Record<string, unknown>, tcp: Record<string, unknown> | undefined, port: number) => JSON.stringify({ timestamp: '2022-04-01T11:20:00.000000+0800', flow_id: 7, event_type: 'flow', src_ip: '80.66.1.15', src_port: 40000 + port, dest_ip: '80.66.1.5', dest_port: port, proto: 'TCP', flow: { start: '2022-04-01T11:19:58.000000+0800', end: '2022-04-01T11:19:59.500000+0800', state: 'closed', reason: 'timeout', alerted: false, ...state }, tcp });
  const { events, problems } = await readEve([
    alert,
    flow({ pkts_toserver: 1, pkts_toclient: 0, bytes_toserver: 60, bytes_toclient: 0 }, { tcp_flags: '02', tcp_flags_ts: '02', tcp_flags_tc: '00', syn: true }, 445),
    flow({ pkts_toserver: 1, pkts_toclient: 1, bytes_toserver: 60, bytes_toclient: 54 }, { tcp_flags: '16', tcp_flags_ts: '02', tcp_flags_tc: '14', syn: true, rst: true, ack: true }, 139),
    flow({ pkts_toserver: 8, pkts_toclient: 7, bytes_toserver: 900, bytes_toclient: 4000 }, { tcp_flags: '1b', tcp_flags_ts: '1b', tcp_flags_tc: '1b' }, 3389),
    JSON.stringify({ timestamp: '2022-04-01T11:21:00.000000+0800', flow_id: 9, event_type: 'dns', src_ip: '80.66.1.15', src_port: 5000, dest_ip: '8.8.8.8', dest_port: 53, proto: 'UDP', dns: { version: 3, type: 'response', id: 1, rcode: 'NOERROR', queries: [{ rrname: 'c2.example', rrtype: 'A' }], answers: [{ rrname: 'c2.example', rrtype: 'A', ttl: 60, rdata: '203.0.113.156' }] } }),
    JSON.stringify({ timestamp: '2022-04-01T11:22:00.000000+0800', flow_id: 10, event_type: 'tls', src_ip: '80.66.1.15', src_port: 5001, dest_ip: '203.0.113.156', dest_port: 443, proto: 'TCP', tls: { sni: 'c2.example', version: 'TLS 1.2', subject: 'CN=Major Cobalt Strike', issuerdn: 'CN=Major Cobalt Strike', serial: '14:6F:2F:16', ja3: { hash: '72a589da586844d7f0818ce684948eea' } } }),
  ]);
  assert.deepEqual(problems, []);
  const [a, s0, rej, sf, dns, tls] = events as SpoorEvent[];
  assert.equal(a!['event.dataset'], 'alert');
  assert.equal(a!['@timestamp'], Date.UTC(2022, 3, 1, 3, 15, 2, 123), 'offset +0800 applied');
  assert.equal(a!['rule.id'], '2035674');
  assert.equal(a!['alert.severity'], 1);
  assert.equal(a!['conn.uid'], FLOW_ID);
  assert.equal(a!.ref.uid, FLOW_ID);
  assert.equal(a!['user_agent.original'], '<b>ua</b>');
  assert.match(String(a!['url.original']), /classLoader/);
  assert.deepEqual([s0!['conn.state'], rej!['conn.state'], sf!['conn.state']], ['S0', 'REJ', 'SF']);
  assert.equal(s0!['event.duration'], 1500);
  assert.equal(s0!['@timestamp'], Date.UTC(2022, 3, 1, 3, 19, 58));
  assert.equal(s0!['conn.local_orig'], true);
  assert.equal(sf!['destination.ip_bytes'], 4000);
  assert.equal(dns!['dns.question.name'], 'c2.example');
  assert.deepEqual(dns!['dns.resolved_ip'], ['203.0.113.156']);
  assert.equal(tls!['tls.client.server_name'], 'c2.example');
  assert.equal(tls!['tls.server.x509.serial_number'], '146F2F16');
  assert.equal(tls!['tls.client.ja3'], '72a589da586844d7f0818ce684948eea');
});

test('derived conn states follow the TCP flags each way', () => {
  assert.equal(flowState('tcp', { pkts_toclient: 0 }, { tcp_flags_ts: '02', tcp_flags_tc: '00' }), 'S0');
  assert.equal(flowState('tcp', { pkts_toclient: 1 }, { tcp_flags_ts: '02', tcp_flags_tc: '14' }), 'REJ');
  assert.equal(flowState('tcp', { pkts_toclient: 3 }, { tcp_flags_ts: '1e', tcp_flags_tc: '12' }), 'RSTO');
  assert.equal(flowState('tcp', { pkts_toclient: 3 }, { tcp_flags_ts: '12', tcp_flags_tc: '16' }), 'RSTR');
  assert.equal(flowState('tcp', { pkts_toclient: 3 }, { tcp_flags_ts: '1a', tcp_flags_tc: '1a' }), 'S1');
  assert.equal(flowState('tcp', { pkts_toclient: 3 }, { tcp_flags_ts: '18', tcp_flags_tc: '18' }), 'OTH', 'no handshake seen');
  assert.equal(flowState('udp', { pkts_toclient: 1 }, undefined), 'SF');
  assert.equal(flowState('udp', { pkts_toclient: 0 }, undefined), 'S0');
  assert.ok(Number.isNaN(eveTime('yesterday')));
});

test('damaged EVE: bad lines and records without time are reported with line and offset; the rest is read', async () => {
  const lines = [alert, '{"timestamp": "2022-04-01T11:15:03', '"just a string"', JSON.stringify({ event_type: 'flow', flow_id: 3 }), alert];
  const { events, problems } = await readEve(lines);
  assert.equal(events.length, 2);
  assert.deepEqual(problems.map((p) => p.record), [2, 3, 4]);
  assert.equal(problems[0]!.offset, Buffer.byteLength(alert) + 1);
  assert.ok(problems.every((p) => p.severity === 'error'));
});

test('an investigation from Suricata EVE alone: exploit alert then C2 alerts give the entry, the C2 and a coherent report', async () => {
  const { mkdtemp, mkdir, writeFile, readFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join, dirname } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const dir = await mkdtemp(join(tmpdir(), 'spoor-eve-'));
  try {
    const base = Date.UTC(2022, 3, 1, 3, 0, 0);
    const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
    const lines = [alert.replace(/"timestamp":"[^"]+"/, `"timestamp":"${iso(base)}"`)];
    for (let i = 0; i < 40; i++) {
      lines.push(JSON.stringify({ timestamp: iso(base + 3600e3 + i * 60e3), flow_id: 100 + i, event_type: 'alert', src_ip: '80.66.1.15', src_port: 6000 + i, dest_ip: '203.0.113.156', dest_port: 443, proto: 'TCP', alert: { action: 'allowed', gid: 1, signature_id: 2027082, rev: 1, signature: 'ET MALWARE Cobalt Strike Beacon Observed', category: 'A Network Trojan was detected', severity: 1 } }));
    }
    await mkdir(join(dir, 'ev'));
    await writeFile(join(dir, 'ev', 'eve.json'), lines.join('\n') + '\n');
    const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
    const out = join(dir, 'case');
    await promisify(execFile)(process.execPath, [cli, 'investigate', join(dir, 'ev'), '--out', out, '--tz', 'Asia/Shanghai', '--home-net', '80.66.1.0/24', '--quiet']);
    const file = JSON.parse(await readFile(join(out, 'incident.json'), 'utf8')) as import('../../src/incident/types.js').IncidentFile;
    const inc = file.incidents[0]!;
    assert.ok(inc.compromised.some((c) => c.ip === '80.66.1.15' && c.via === 'T1190'), JSON.stringify(inc.compromised));
    assert.ok(JSON.stringify(inc).includes('203.0.113.156'));
    const en = await readFile(join(out, 'report.en.md'), 'utf8');
    const zh = await readFile(join(out, 'report.zh.md'), 'utf8');
    assert.match(en, /Patch Spring Framework.*CVE-2022-22965/);
    assert.doesNotMatch(en, /those attempts failed/);
    assert.match(zh, /修复 80\.66\.1\.15 上的 Spring Framework/);
    assert.match(zh, /eve\.json 第 1 行/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
