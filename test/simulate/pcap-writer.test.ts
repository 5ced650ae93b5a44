import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetSim, inetChecksum, ipv4Num } from '../../src/simulate/pcap-writer.js';
import * as P from '../../src/simulate/protocols.js';
import { Rng } from '../../src/simulate/rng.js';
import { needTool } from '../support/corpus.js';
import { tsharkCheck } from '../../src/simulate/verify.js';
import { CaptureParser } from '../../src/readers/pcap/capture.js';

const dir = mkdtempSync(join(tmpdir(), 'spoor-pcapw-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Pkt { ts: number; frame: Buffer }

/** Minimal pcap / pcapng reader for the test. */
function readCapture(buf: Buffer): Pkt[] {
  const out: Pkt[] = [];
  if (buf.readUInt32LE(0) === 0xa1b2c3d4) {
    assert.equal(buf.readUInt16LE(4), 2); assert.equal(buf.readUInt16LE(6), 4); assert.equal(buf.readUInt32LE(20), 1);
    let o = 24;
    while (o < buf.length) {
      const ts = buf.readUInt32LE(o) * 1e6 + buf.readUInt32LE(o + 4);
      const cap = buf.readUInt32LE(o + 8);
      assert.equal(buf.readUInt32LE(o + 12), cap);
      out.push({ ts, frame: buf.subarray(o + 16, o + 16 + cap) });
      o += 16 + cap;
    }
    assert.equal(o, buf.length);
    return out;
  }
  assert.equal(buf.readUInt32LE(0), 0x0a0d0d0a);
  let o = 0;
  while (o < buf.length) {
    const type = buf.readUInt32LE(o), len = buf.readUInt32LE(o + 4);
    assert.equal(len % 4, 0);
    assert.equal(buf.readUInt32LE(o + len - 4), len, 'trailing block length');
    if (type === 6) {
      const ts = buf.readUInt32LE(o + 12) * 2 ** 32 + buf.readUInt32LE(o + 16);
      const cap = buf.readUInt32LE(o + 20);
      out.push({ ts, frame: buf.subarray(o + 28, o + 28 + cap) });
    }
    o += len;
  }
  return out;
}

function build(path: string, format: 'pcap' | 'pcapng') {
  const rng = new Rng(5);
  const net = new NetSim(path, rng, format, { localNets: ['80.66.1.0/24', '10.0.0.0/8'] });
  const t = Date.UTC(2024, 5, 12, 2, 31, 7);
  const server = { nbDomain: 'GOV', nbComputer: 'APP-SRV01', dnsDomain: 'gov.local', dnsComputer: 'app-srv01.gov.local' };
  net.tcp({ t, client: '80.66.1.15', server: '80.66.1.5', dport: 445, messages: P.smb2LogonExchange(rng, { timeMs: t, serverIp: '80.66.1.5', server, user: 'administrator', domain: 'GOV', workstation: 'WEB01', success: false }) });
  net.tcp({ t: t + 1000, client: '80.66.1.15', server: '80.66.1.5', dport: 445, messages: P.smb2LogonExchange(rng, { timeMs: t, serverIp: '80.66.1.5', server, user: 'administrator', domain: 'GOV', workstation: 'WEB01', success: true, share: 'ADMIN$' }) });
  net.tcp({ t: t + 2000, client: '10.10.10.3', server: '80.66.1.15', dport: 8080, clientOs: 'linux', messages: [
    { from: 'c', data: P.httpRequest('POST', '/index', [['Host', '80.66.1.15:8080'], ...P.SPRING4SHELL_HEADERS, ['Content-Type', 'application/x-www-form-urlencoded']], P.spring4shellBody()) },
    { from: 's', data: P.httpResponse(200, [['Content-Type', 'text/html']], Buffer.alloc(9000, 0x41)) },
  ] });
  net.tcp({ t: t + 3000, client: '198.51.100.23', server: '80.66.1.5', dport: 3389, rtt: 40, messages: P.rdpNlaExchange(rng, 'administrator', false), end: 'rst-server' });
  net.tcp({ t: t + 4000, client: '80.66.1.15', server: '203.0.113.156', dport: 80, rtt: 35, end: 'fin-server', messages: P.beaconCheckin(rng, { c2: '203.0.113.156', uri: '/pixel.gif', metadata: rng.bytes(128), timeMs: t + 4000 }) });
  net.udp(t + 5000, '10.20.0.11', 53001, '80.66.1.53', 53, P.dnsQuery(0x1234, 'portal.example.com'));
  net.udp(t + 5001, '80.66.1.53', 53, '10.20.0.11', 53001, P.dnsResponse(0x1234, 'portal.example.com', [{ type: 'CNAME', data: 'edge.example.net', ttl: 300 }, { type: 'A', data: '198.51.100.80', ttl: 60 }]));
  for (let i = 0; i < 6; i++) net.synProbe({ t: t + 6000 + i, src: '80.66.1.5', dst: `203.0.113.${i + 1}`, sport: 61000, dport: 3389, answer: i === 0 ? 'open' : i === 1 ? 'closed' : 'filtered', style: 'masscan' });
  net.close();
  return net.stats;
}

test('frames carry valid IPv4/TCP/UDP checksums and TCP sequence numbers continue across segments', () => {
  for (const format of ['pcap', 'pcapng'] as const) {
    const p = join(dir, `t.${format}`);
    const stats = build(p, format);
    const pkts = readCapture(readFileSync(p));
    assert.equal(pkts.length, stats.packets);
    let prevTs = 0;
    const next = new Map<string, number>();
    let masscan = 0;
    for (const { ts, frame } of pkts) {
      assert.ok(ts >= prevTs, 'time order');
      prevTs = ts;
      assert.equal(frame.readUInt16BE(12), 0x0800);
      const ip = frame.subarray(14);
      const ihl = (ip[0] & 15) * 4;
      const total = ip.readUInt16BE(2);
      assert.equal(inetChecksum(ip.subarray(0, ihl)), 0, 'IPv4 header checksum');
      const l4 = ip.subarray(ihl, total);
      const pseudo = Buffer.alloc(12);
      ip.copy(pseudo, 0, 12, 20); pseudo[9] = ip[9]; pseudo.writeUInt16BE(l4.length, 10);
      assert.equal(inetChecksum(pseudo, l4), 0, 'L4 checksum');
      if (ip[9] !== 6) continue;
      const src = `${ip.subarray(12, 16).join('.')}:${l4.readUInt16BE(0)}`, dst = `${ip.subarray(16, 20).join('.')}:${l4.readUInt16BE(2)}`;
      const seq = l4.readUInt32BE(4), flags = l4[13], hl = (l4[12] >> 4) * 4;
      const len = l4.length - hl + (flags & 0x02 ? 1 : 0) + (flags & 0x01 ? 1 : 0);
      const key = `${src}>${dst}`;
      if (next.has(key) && !(flags & 0x04)) assert.equal(seq, next.get(key), `sequence continuity ${key}`);
      if (!next.has(key) || len) next.set(key, (seq + len) >>> 0);
      if ((flags & 0x12) === 0x02 && ip[8] === 255) {
        masscan++;
        assert.equal(l4.readUInt16BE(14), 1024, 'masscan window');
        assert.equal(ip.readUInt16BE(4), ((ipv4Num(dst.split(':')[0]) ^ Number(dst.split(':')[1]) ^ seq) >>> 0) & 0xffff, 'masscan IP ID');
      }
    }
    assert.equal(masscan, 6);
  }
});

test('spoor\'s capture parser reads every frame back', () => {
  const p = join(dir, 'rt.pcapng');
  const stats = build(p, 'pcapng');
  const buf = readFileSync(p);
  let frames = 0;
  const problems: string[] = [];
  const parser = new CaptureParser({ onPacket: () => { frames++; }, onProblem: (_o: number, r: string) => problems.push(r) });
  for (let i = 0; i < buf.length; i += 4093) parser.push(buf.subarray(i, i + 4093));
  parser.end();
  assert.deepEqual(problems, []);
  assert.equal(frames, stats.packets);
});

test('tshark decodes SMB2/NTLMSSP, RDP, HTTP, DNS without warnings', { skip: needTool('tshark') }, async () => {
  const p = join(dir, 'ts.pcap');
  const stats = build(p, 'pcap');
  const c = await tsharkCheck(p);
  assert.equal(c.malformed, 0, c.expertErrors.join('; '));
  assert.equal(c.checksumErrors, 0);
  assert.equal(c.packets, stats.packets);
  assert.equal(c.tcpStreams, stats.tcpConversations);
  assert.equal(c.udpStreams, stats.udpConversations);
  // one tshark pass for all decoded fields (tshark start-up dominates the test time)
  const { execFileSync } = await import('node:child_process');
  const fields = ['ntlmssp.messagetype', 'ntlmssp.auth.username', 'ntlmssp.auth.domain', 'ntlmssp.auth.hostname', 'smb2.cmd', 'smb2.flags.response', 'smb2.nt_status', 'smb2.tree', 'rdp.rt_cookie', 'dns.flags.response', 'dns.a', 'dns.cname', 'http.request.method', 'http.request.uri', 'urlencoded-form.key'];
  const rows = execFileSync('tshark', ['-n', '-r', p, '-Y', 'ntlmssp || smb2 || rdp || dns || http.request', '-T', 'fields', '-E', 'occurrence=f', ...fields.flatMap((x) => ['-e', x])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .trim().split('\n').map((l) => Object.fromEntries(l.split('\t').map((v, i) => [fields[i], v])));
  const pick = (pred: (r: Record<string, string>) => boolean, ...ks: string[]) => rows.filter(pred).map((r) => ks.map((k) => r[k]).join('|'));
  assert.deepEqual(pick((r) => r['ntlmssp.messagetype'] === '0x00000003', 'ntlmssp.auth.username', 'ntlmssp.auth.domain', 'ntlmssp.auth.hostname'), ['administrator|GOV|WEB01', 'administrator|GOV|WEB01']);
  assert.deepEqual(pick((r) => r['smb2.cmd'] === '1' && r['smb2.flags.response'] === '1', 'smb2.nt_status'), ['0xc0000016', '0xc000006d', '0xc0000016', '0x00000000']);
  assert.deepEqual(pick((r) => r['smb2.cmd'] === '3' && r['smb2.flags.response'] === '0', 'smb2.tree'), ['\\\\80.66.1.5\\ADMIN$']);
  assert.deepEqual(pick((r) => !!r['rdp.rt_cookie'], 'rdp.rt_cookie'), ['Cookie: mstshash=administrator']);
  assert.deepEqual(pick((r) => r['dns.flags.response'] === '1', 'dns.a', 'dns.cname'), ['198.51.100.80|edge.example.net']);
  assert.deepEqual(pick((r) => !!r['http.request.method'], 'http.request.method', 'http.request.uri'), ['POST|/index', 'GET|/pixel.gif']);
  assert.ok(rows.some((r) => (r['urlencoded-form.key'] ?? '').includes('class.module.classLoader.resources.context.parent.pipeline.first.pattern')));
});

test('round trip through spoor\'s pcap reader: one conn per simulated conversation, NTLM/RDP/HTTP decoded', async () => {
  const { pcapReader } = await import('../../src/readers/pcap/index.js');
  const { HomeNet } = await import('../../src/core/homenet.js');
  const p = join(dir, 'reader.pcap');
  const stats = build(p, 'pcap');
  const buf = readFileSync(p);
  const problems: unknown[] = [];
  const ctx = { evidenceId: 'SIM', path: p, homeNet: new HomeNet(['80.66.1.0/24', '10.0.0.0/8']), problem: (x: unknown) => problems.push(x), stats: { records: 0, errors: 0 } };
  async function* src() { for (let i = 0; i < buf.length; i += 65536) yield buf.subarray(i, i + 65536); }
  const evs: Record<string, unknown>[] = [];
  for await (const b of pcapReader.read(src(), ctx)) evs.push(...(b as unknown as Record<string, unknown>[]));
  assert.deepEqual(problems, []);
  assert.equal(ctx.stats.records, stats.packets);
  const by = (d: string) => evs.filter((e) => e['event.dataset'] === d);
  assert.equal(by('conn').length, stats.tcpConversations + stats.udpConversations);
  assert.deepEqual(by('ntlm').map((e) => [e['user.name'], e['user.domain'], e['ntlm.workstation'], e['event.outcome']]), [
    ['administrator', 'GOV', 'WEB01', 'failure'], ['administrator', 'GOV', 'WEB01', 'success'],
  ]);
  assert.equal(by('rdp')[0]?.['rdp.cookie'], 'administrator');
  assert.deepEqual(by('http').map((e) => e['url.original']), ['/index', '/pixel.gif']);
});
