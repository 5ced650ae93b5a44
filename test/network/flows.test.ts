import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { analyzeCapture, NetworkEngine } from '../../src/network/engine.js';
import { communityId } from '../../src/network/communityid.js';
import type { AnalyzerFactory, Dir } from '../../src/network/analyzer.js';
import type { SpoorEvent } from '../../src/core/event.js';
import { Conversation, ether, ipv4, pcap, tcpPacket, udpDgram, udpPacket, type Frame } from './support/capbuild.js';

async function conns(frames: Frame[], analyzers: AnalyzerFactory[] = [], options?: Record<string, unknown>): Promise<SpoorEvent[]> {
  const { events } = await analyzeCapture(pcap(frames), { evidence: 'T', analyzers, options });
  return events.filter((e) => e['event.dataset'] === 'conn');
}

test('full handshake, data both ways, FIN close: SF with Zeek history and byte counts', async () => {
  const c = new Conversation('10.0.0.1', 40000, '10.0.0.2', 80).handshake().client('PA', 'x'.repeat(100)).server('A').server('PA', 'y'.repeat(300)).client('A').close();
  const [e] = await conns(c.frames);
  assert.equal(e['conn.state'], 'SF');
  assert.equal(e['conn.history'], 'ShADadFf');
  assert.equal(e['source.bytes'], 100);
  assert.equal(e['destination.bytes'], 300);
  assert.equal(e['source.packets'], 6);
  assert.equal(e['destination.packets'], 4);
  assert.equal(e['source.ip_bytes'], 6 * 40 + 100);
  assert.equal(e['conn.missed_bytes'], 0);
  assert.equal(e['conn.first_frame'], 1);
  assert.equal(e['conn.orig_ttl'], 64);
  assert.equal(e['conn.orig_seq'], 1000);
  assert.match(String(e['network.community_id']), /^1:[A-Za-z0-9+/]{27}=$/);
});

test('reject, scan (S0), half-open and resets', async () => {
  const rej = new Conversation('10.0.0.1', 40001, '10.0.0.2', 81).client('S').server('RA');
  const s0 = new Conversation('10.0.0.1', 40002, '10.0.0.2', 82).client('S');
  const rsto = new Conversation('10.0.0.1', 40003, '10.0.0.2', 83).handshake().client('RA');
  const rstos0 = new Conversation('10.0.0.1', 40004, '10.0.0.2', 84).client('S').client('R');
  const sh = new Conversation('10.0.0.1', 40005, '10.0.0.2', 85).client('S').client('F');
  const frames = [...rej.frames, ...s0.frames, ...rsto.frames, ...rstos0.frames, ...sh.frames].sort((a, b) => a.ts - b.ts);
  const cs = await conns(frames);
  const by = (p: number) => cs.find((e) => e['destination.port'] === p)!;
  assert.equal(by(81)['conn.state'], 'REJ');
  assert.equal(by(81)['conn.history'], 'Sr');
  assert.equal(by(82)['conn.state'], 'S0');
  assert.equal(by(82)['conn.history'], 'S');
  assert.equal(by(83)['conn.state'], 'RSTO');
  assert.equal(by(84)['conn.state'], 'RSTOS0');
  assert.equal(by(85)['conn.state'], 'SH');
});

test('SYN scan of many ports creates one S0 connection each and the table stays bounded', async () => {
  const frames: Frame[] = [];
  for (let i = 0; i < 3000; i++) frames.push({ ts: 1700000000 + i * 0.0001, data: tcpPacket({ src: '10.9.9.9', dst: '10.0.0.2', sport: 55555, dport: 1 + i, seq: 777, flags: 'S' }) });
  const { events, summary } = await analyzeCapture(pcap(frames), { evidence: 'T', options: { maxFlows: 500 } });
  const cs = events.filter((e) => e['event.dataset'] === 'conn');
  assert.equal(cs.length, 3000);
  assert.ok(cs.every((e) => e['conn.state'] === 'S0'));
  assert.equal(summary.evicted, 2500);
});

test('SYN-ACK seen first from a server port: roles flipped (^)', async () => {
  const c = new Conversation('10.0.0.1', 40010, '10.0.0.2', 80);
  c.server('SA');
  const [e] = await conns(c.frames);
  assert.equal(e['source.ip'], '10.0.0.1');
  assert.equal(e['destination.port'], 80);
  assert.equal(e['conn.history'], '^h');
});

function recorder(): { factory: AnalyzerFactory; got: string[]; gaps: number[] } {
  const got = ['', ''];
  const gaps: number[] = [];
  const factory: AnalyzerFactory = {
    name: 'rec',
    transport: 'tcp',
    probe: () => true,
    createStream: () => ({
      data(dir: Dir, b: Buffer) {
        got[dir] += b.toString('latin1');
      },
      gap(_dir: Dir, len: number) {
        gaps.push(len);
      },
      end() {},
    }),
  };
  return { factory, got, gaps };
}

test('out-of-order and overlapping segments are reassembled first-wins', async () => {
  const c = new Conversation('10.0.0.1', 40020, '10.0.0.2', 9999).handshake();
  const base = c.cseq;
  c.client('PA', 'WORLD', base + 5); // arrives first, out of order
  c.client('PA', 'HELLO', base); // fills the hole
  c.client('PA', 'LOXXX', base + 3); // overlap: first wins for bytes 3..9, 'XX' beyond? (3+5=8 < 10: fully covered)
  c.client('PA', '!!', base + 10);
  c.cseq = base + 12;
  c.server('A');
  c.close();
  const r = recorder();
  const [e] = await conns(c.frames, [r.factory]);
  assert.equal(r.got[0], 'HELLOWORLD!!');
  assert.equal(e['source.bytes'], 12);
  assert.equal(e['conn.missed_bytes'], 0);
  assert.equal(e['network.protocol'], 'rec');
  assert.match(String(e['conn.history']), /T/, 'retransmission noted');
});

test('acked bytes never seen are missed bytes and a gap for the analyzer', async () => {
  const c = new Conversation('10.0.0.1', 40030, '10.0.0.2', 9999).handshake();
  const base = c.cseq;
  c.client('PA', 'AAAA');
  c.cseq = base + 1004; // 1000 bytes lost in capture
  c.client('PA', 'BBBB');
  c.server('A');
  c.close();
  const r = recorder();
  const [e] = await conns(c.frames, [r.factory]);
  assert.equal(e['conn.missed_bytes'], 1000);
  assert.match(String(e['conn.history']), /G/);
  assert.deepEqual(r.gaps, [1000]);
  assert.equal(r.got[0], 'AAAABBBB');
  assert.equal(e['source.bytes'], 1008);
});

test('reassembly caps: a hostile out-of-order flood is bounded', async () => {
  const c = new Conversation('10.0.0.1', 40040, '10.0.0.2', 9999).handshake();
  const base = c.cseq;
  for (let i = 1; i <= 200; i++) c.client('PA', Buffer.alloc(1000, 65), base + i * 2000); // holes everywhere
  const r = recorder();
  const { events } = await analyzeCapture(pcap(c.frames), { evidence: 'T', analyzers: [r.factory], options: { maxReasmPerFlow: 50_000 } });
  assert.ok(events.some((e) => e['event.dataset'] === 'conn'));
  assert.ok(r.got[0].length <= 50_000 + 1000, `kept ${r.got[0].length}`);
});

test('IPv4 fragments are reassembled into one UDP datagram', async () => {
  const payload = Buffer.alloc(3000, 7);
  const udp = udpDgram(5000, 6000, payload);
  const frames: Frame[] = [];
  const parts = [udp.subarray(0, 1480), udp.subarray(1480, 2960), udp.subarray(2960)];
  let off = 0;
  const order = [2, 0, 1];
  const offs = [0, 1480, 2960];
  for (const i of order) {
    const mf = i < 2 ? 0x2000 : 0;
    frames.push({ ts: 1700000000 + frames.length * 0.001, data: ether(ipv4('10.0.0.1', '10.0.0.2', 17, parts[i], { id: 42, frag: mf | (offs[i] / 8) })) });
    off++;
  }
  const cs = await conns(frames);
  assert.equal(cs.length, 1);
  assert.equal(cs[0]['source.bytes'], 3000);
  assert.equal(cs[0]['source.packets'], 1);
  assert.equal(cs[0]['destination.port'], 6000);
});

test('UDP request/response: SF, Dd; inactivity timeout splits connections', async () => {
  const q = udpPacket('10.0.0.1', '10.0.0.2', 3333, 4444, Buffer.from('ping'));
  const a = udpPacket('10.0.0.2', '10.0.0.1', 4444, 3333, Buffer.from('pong!'));
  const cs = await conns([
    { ts: 1700000000, data: q },
    { ts: 1700000000.1, data: a },
    { ts: 1700000200, data: q },
  ]);
  assert.equal(cs.length, 2);
  const first = cs.find((e) => e['destination.packets'] === 1)!;
  assert.equal(first['conn.state'], 'SF');
  assert.equal(first['conn.history'], 'Dd');
  assert.equal(first['source.bytes'], 4);
  assert.equal(first['destination.bytes'], 5);
});

test('Community ID v1 matches the specification examples', () => {
  // corelight/community-id-spec baseline: tcp 128.232.110.120:34855 -> 66.35.250.204:80
  const a = [(128 << 24 | 232 << 16 | 110 << 8 | 120) >>> 0];
  const b = [(66 << 24 | 35 << 16 | 250 << 8 | 204) >>> 0];
  assert.equal(communityId(false, a, b, 6, 34855, 80), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  assert.equal(communityId(false, b, a, 6, 80, 34855), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
});

test('Community ID: the allocation-free SHA-1 agrees with node:crypto over random IPv4/IPv6 tuples, seeds and protocols', () => {
  let x = 0x2545f491;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const wbe = (out: number[], v: number) => out.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  for (let i = 0; i < 3000; i++) {
    const v6 = (i & 1) === 1;
    const n = v6 ? 4 : 1;
    const sa = Array.from({ length: n }, rnd);
    const da = i % 9 === 0 ? sa.slice() : Array.from({ length: n }, rnd);
    const proto = [6, 17, 132, 47, 50][i % 5];
    const sp = rnd() & 0xffff;
    const dp = i % 7 === 0 ? sp : rnd() & 0xffff;
    const seed = i % 4 === 0 ? rnd() & 0xffff : 0;
    // reference: the spec's byte layout, endpoints ordered (address, then port), hashed by node:crypto
    let cmp = 0;
    for (let k = 0; k < n && cmp === 0; k++) cmp = sa[k] === da[k] ? 0 : sa[k] < da[k] ? -1 : 1;
    const swap = cmp > 0 || (cmp === 0 && sp > dp);
    const bytes: number[] = [(seed >>> 8) & 255, seed & 255];
    for (const w of swap ? da : sa) wbe(bytes, w);
    for (const w of swap ? sa : da) wbe(bytes, w);
    bytes.push(proto, 0);
    if (proto === 6 || proto === 17 || proto === 132) {
      const [p1, p2] = swap ? [dp, sp] : [sp, dp];
      bytes.push(p1 >>> 8, p1 & 255, p2 >>> 8, p2 & 255);
    }
    const want = '1:' + createHash('sha1').update(Buffer.from(bytes)).digest('base64');
    assert.equal(communityId(v6, sa, da, proto, sp, dp, seed), want, `tuple ${i}`);
  }
});

test('conn records keep one field order, optional fields last (JSON identical to the documented layout)', async () => {
  const conv = new Conversation('10.0.0.1', 40000, '10.0.0.2', 80).handshake().client('PA', 'x'.repeat(10)).close();
  const [c] = await conns(conv.frames);
  const keys = Object.keys(c);
  assert.deepEqual(keys.slice(0, 3), ['@timestamp', 'event.dataset', 'ref']);
  assert.equal(keys.indexOf('conn.ip_proto'), 27);
  assert.deepEqual(keys.slice(28), ['conn.orig_ttl', 'conn.orig_ipid', 'conn.orig_window', 'conn.orig_seq']);
  // a plain copy serialises identically (consumers may treat records as plain objects)
  assert.equal(JSON.stringify({ ...c }), JSON.stringify(c));
  // UDP: no window/sequence fields
  const [u] = await conns([{ ts: 1700000000, data: udpPacket('10.0.0.1', '10.0.0.9', 5000, 9999, Buffer.from('hi')) }]);
  assert.deepEqual(Object.keys(u).slice(27), ['conn.ip_proto', 'conn.orig_ttl', 'conn.orig_ipid']);
});

test('a long SYN scan reuses flow slots: the table never grows past maxFlows and attempts time out as S0', async () => {
  const frames: Frame[] = [];
  // 20 000 SYNs over 40 s: with the 5 s attempt timer about 2 500 are pending at once; the cap (1 000) forces eviction too
  for (let i = 0; i < 20000; i++) {
    const dst = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    frames.push({ ts: 1700000000 + i * 0.002, data: tcpPacket({ src: '198.51.100.7', dst, sport: 40000 + (i % 1000), dport: 445, seq: 1000 + i, flags: 'S' }) });
  }
  const eng = new NetworkEngine({ evidence: 'T', options: { maxFlows: 1000 } });
  const buf = pcap(frames);
  let maxActive = 0;
  const cs: SpoorEvent[] = [];
  for (let i = 0; i < buf.length; i += 4096) {
    eng.push(buf.subarray(i, i + 4096));
    maxActive = Math.max(maxActive, eng.flows.activeFlows);
    for (const e of eng.drain()) if (e['event.dataset'] === 'conn') cs.push(e);
  }
  eng.end();
  for (const e of eng.drain()) if (e['event.dataset'] === 'conn') cs.push(e);
  assert.equal(cs.length, 20000);
  assert.ok(maxActive <= 1000, `active ${maxActive}`);
  assert.ok(eng.flows.capacity <= 1000, `capacity ${eng.flows.capacity}`);
  assert.ok(cs.every((e) => e['conn.state'] === 'S0' && e['conn.history'] === 'S' && e['source.packets'] === 1));
  // every connection is distinct: uids and community ids unique
  assert.equal(new Set(cs.map((e) => e['conn.uid'])).size, 20000);
  assert.equal(new Set(cs.map((e) => e['network.community_id'])).size, 20000);
  const reasons = new Set(cs.map((e) => e['conn.end_reason']));
  assert.ok(reasons.has('evicted'), [...reasons].join());
  // with a large table the same scan ends by the attempt timer instead
  const big = await analyzeCapture(buf, { evidence: 'T', options: { maxFlows: 100000 } });
  const bc = big.events.filter((e) => e['event.dataset'] === 'conn');
  assert.equal(bc.length, 20000);
  assert.equal(big.summary.evicted, 0);
  assert.ok(bc.filter((e) => e['conn.end_reason'] === 'timeout').length > 15000);
  // the address text is right whatever the slot
  const e = bc.find((x) => x['conn.first_frame'] === 12345)!;
  assert.equal(e['destination.ip'], `10.0.${(12344 >> 8) & 255}.${12344 & 255}`);
  assert.equal(e['network.community_id'], communityId(false, [0xc6336407], [(0x0a000000 | 12344) >>> 0], 6, 40000 + (12344 % 1000), 445));
});

test('connections open at the end of a capture can be ended in bounded batches (endSome), same records as end()', async () => {
  const frames: Frame[] = [];
  for (let i = 0; i < 3000; i++) frames.push({ ts: 1700000000 + i * 0.0001, data: tcpPacket({ src: '10.9.9.9', dst: '10.0.0.2', sport: 20000 + i, dport: 80, seq: 5, flags: 'S' }) });
  const buf = pcap(frames);
  const ref = await analyzeCapture(buf, { evidence: 'T' });
  const eng = new NetworkEngine({ evidence: 'T' });
  eng.push(buf);
  assert.equal(eng.drain().length, 0);
  const got: SpoorEvent[] = [];
  let steps = 0;
  for (;;) {
    const done = eng.endSome(700);
    const batch = eng.drain();
    assert.ok(batch.length <= 700, `batch ${batch.length}`);
    got.push(...batch);
    steps++;
    if (done) break;
  }
  assert.ok(steps >= 5, `steps ${steps}`);
  assert.equal(eng.flows.activeFlows, 0);
  assert.deepEqual(got, ref.events);
});
