import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureParser, sniffCapture } from '../../src/readers/pcap/capture.js';
import { pcapReader, pcapngReader } from '../../src/readers/pcap/index.js';
import { HomeNet } from '../../src/core/homenet.js';
import type { ParseProblem } from '../../src/core/problems.js';
import type { SpoorEvent } from '../../src/core/event.js';
import { readFileSync } from 'node:fs';
import { NetworkEngine } from '../../src/network/engine.js';
import { corpusFile, needCorpus } from '../support/corpus.js';
import { Conversation, pcap, pcapngSection, tcpPacket, type Frame } from './support/capbuild.js';

function parse(buf: Buffer, chunk = 7) {
  const frames: { frame: number; lt: number; len: number; ts: number; first: number }[] = [];
  const problems: { off: number; reason: string }[] = [];
  const p = new CaptureParser({
    onPacket: (frame, lt, b, off, cap, _w, ts) => frames.push({ frame, lt, len: cap, ts, first: b[off] }),
    onProblem: (off, reason) => problems.push({ off, reason }),
  });
  for (let i = 0; i < buf.length; i += chunk) p.push(buf.subarray(i, i + chunk));
  p.end();
  return { frames, problems };
}

const sample = (): Frame[] => [
  { ts: 1700000000.25, data: tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1111, dport: 80, seq: 1, flags: 'S' }) },
  { ts: 1700000001.5, data: tcpPacket({ src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 1111, seq: 9, ack: 2, flags: 'SA' }) },
  { ts: 1700000002.75, data: tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1111, dport: 80, seq: 2, ack: 10, flags: 'A' }) },
];

test('pcap in both byte orders and µs/ns resolution, read in tiny chunks', () => {
  for (const be of [false, true])
    for (const nano of [false, true]) {
      const buf = pcap(sample(), { be, nano });
      assert.equal(sniffCapture(buf), 'pcap');
      const { frames, problems } = parse(buf);
      assert.deepEqual(problems, []);
      assert.deepEqual(frames.map((f) => f.frame), [1, 2, 3]);
      assert.ok(Math.abs(frames[1].ts - 1700000001.5) < 1e-6, `ts ${frames[1].ts}`);
      assert.equal(frames[0].lt, 1);
    }
});

test('pcapng: several interfaces with their own time resolution, several sections, simple packet blocks', () => {
  const f = sample();
  const s1 = pcapngSection([{ linkType: 1 }, { linkType: 1, tsresol: 9 }], [{ ...f[0], iface: 0 }, { ...f[1], iface: 1 }]);
  const s2 = pcapngSection([{ linkType: 1 }], [f[2]], { simple: true });
  const buf = Buffer.concat([s1, s2]);
  assert.equal(sniffCapture(buf), 'pcapng');
  const { frames, problems } = parse(buf, 5);
  assert.deepEqual(problems, []);
  assert.deepEqual(frames.map((x) => x.frame), [1, 2, 3]);
  assert.ok(Math.abs(frames[0].ts - 1700000000.25) < 1e-5);
  assert.ok(Math.abs(frames[1].ts - 1700000001.5) < 1e-5, `ns interface ts ${frames[1].ts}`);
});

test('damage: truncated mid-packet keeps earlier frames and reports the offset', () => {
  const buf = pcap(sample());
  const cut = buf.length - 10;
  const { frames, problems } = parse(buf.subarray(0, cut));
  assert.equal(frames.length, 2);
  assert.equal(problems.length, 1);
  assert.match(problems[0].reason, /truncated/);
  const thirdOffset = 24 + (16 + sample()[0].data.length) + (16 + sample()[1].data.length);
  assert.equal(problems[0].off, thirdOffset);
});

test('damage: truncated mid-header and a file shorter than its header', () => {
  const buf = pcap(sample());
  const { frames, problems } = parse(buf.subarray(0, 24 + 16 + sample()[0].data.length + 5));
  assert.equal(frames.length, 1);
  assert.equal(problems.length, 1);
  const short = parse(buf.subarray(0, 10));
  assert.equal(short.frames.length, 0);
  assert.equal(short.problems.length, 1);
});

test('damage: absurd record length and garbage between records are skipped, reading resumes', () => {
  const fr = sample();
  const good = pcap(fr);
  const hdrEnd = 24 + 16 + fr[0].data.length;
  const garbage = Buffer.alloc(37, 0xee);
  const buf = Buffer.concat([good.subarray(0, hdrEnd), garbage, good.subarray(hdrEnd)]);
  const { frames, problems } = parse(buf, 64);
  assert.equal(frames.length, 3, 'all three packets recovered');
  assert.ok(problems.length >= 1);
  assert.equal(problems[0].off, hdrEnd, 'damage offset reported');
});

test('damage: pcapng bad block length and garbage between blocks', () => {
  const fr = sample();
  const sec = pcapngSection([{ linkType: 1 }], fr);
  // find the second EPB and corrupt its length
  let off = 0;
  const blocks: number[] = [];
  while (off < sec.length) {
    blocks.push(off);
    off += sec.readUInt32LE(off + 4);
  }
  const bad = Buffer.from(sec);
  const epb2 = blocks[3];
  bad.writeUInt32LE(0x7ffffff1, epb2 + 4);
  const r1 = parse(bad, 16);
  assert.deepEqual(r1.frames.map((f) => f.frame), [1, 2]);
  assert.equal(r1.problems[0].off, epb2);
  const withGarbage = Buffer.concat([sec.subarray(0, blocks[3]), Buffer.from('garbage!garbage!'), sec.subarray(blocks[3])]);
  const r2 = parse(withGarbage, 16);
  assert.equal(r2.frames.length, 3);
  assert.equal(r2.problems[0].off, blocks[3]);
});

test('absurd snap length in the header is reported and the file still read', () => {
  const { frames, problems } = parse(pcap(sample(), { snaplen: 0x7fffffff }));
  assert.equal(frames.length, 3);
  assert.match(problems[0].reason, /snap length/);
});

test('pcapReader yields conn records and counts frames; problems go to ctx.problem', async () => {
  const conv = new Conversation('10.1.1.1', 40000, '93.184.216.34', 80).handshake().client('PA', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').server('PA', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi').close();
  const buf = pcap(conv.frames);
  const probs: ParseProblem[] = [];
  const ctx = { evidenceId: 'E9', path: 'x.pcap', homeNet: new HomeNet(), problem: (p: ParseProblem) => probs.push(p), stats: { records: 0, errors: 0 } };
  async function* chunks() {
    for (let i = 0; i < buf.length; i += 100) yield buf.subarray(i, i + 100);
  }
  const all: SpoorEvent[] = [];
  for await (const batch of pcapReader.read(chunks(), ctx)) all.push(...batch);
  assert.equal(ctx.stats.records, conv.frames.length);
  assert.deepEqual(probs, []);
  const conn = all.filter((e) => e['event.dataset'] === 'conn');
  assert.equal(conn.length, 1);
  assert.equal(conn[0]['conn.local_orig'], true);
  assert.equal(conn[0]['conn.local_resp'], false);
  assert.equal(conn[0]['network.protocol'], 'http');
  assert.ok(all.some((e) => e['event.dataset'] === 'http' && e['url.domain'] === 'x'));
  assert.equal(pcapngReader.sniff(buf), false);
  assert.equal(pcapReader.sniff(buf), true);
});

test('corpus: reading in chunks of any size gives the same records and problems as one buffer', { skip: needCorpus('zeek/Traces/wikipedia.pcap') }, async () => {
  const rels = ['zeek/Traces/wikipedia.pcap', 'zeek/Traces/http/206_example_a.pcap', 'zeek/Traces/tls/ecdhe.pcap', 'zeek/Traces/ldap/missing_ldap_logs.pcapng'].filter((r) => corpusFile(r));
  for (const rel of rels) {
    const whole = readFileSync(corpusFile(rel)!);
    // damage the copy a little too: garbage in the middle must be handled the same whichever way the bytes arrive
    const damaged = Buffer.concat([whole.subarray(0, whole.length >> 1), Buffer.alloc(37, 0xee), whole.subarray(whole.length >> 1)]);
    for (const buf of [whole, damaged]) {
      const run = async (sizes: number[]) => {
        const problems: string[] = [];
        const eng = new NetworkEngine({ evidence: 'E', problem: (p: ParseProblem) => problems.push(`${p.offset}:${p.reason}`) });
        let i = 0;
        let k = 0;
        while (i < buf.length) {
          const n = sizes[k++ % sizes.length];
          eng.push(buf.subarray(i, i + n));
          i += n;
        }
        eng.end();
        return { events: JSON.stringify(eng.drain()), problems, frames: eng.summary().frames };
      };
      const ref = await run([buf.length]);
      assert.ok(ref.frames > 3, rel);
      for (const sizes of [[1, 3, 4096, 17], [65535], [200000, 5], [70000, 1 << 20]]) {
        const got = await run(sizes);
        assert.equal(got.frames, ref.frames, `${rel} ${sizes}`);
        assert.deepEqual(got.problems, ref.problems, `${rel} ${sizes}`);
        assert.equal(got.events, ref.events, `${rel} ${sizes}`);
      }
    }
  }
});

test('records larger than the stitch window (jumbo, 60 KiB) straddling chunk boundaries are read whole', () => {
  const sizes = [60, 9000, 1500, 61000, 200, 17000, 3000];
  const frames: Frame[] = sizes.map((n, i) => {
    const data = Buffer.alloc(n);
    for (let k = 0; k < n; k++) data[k] = (k * 31 + i) & 255;
    data[0] = i + 1;
    return { ts: 1700000000 + i, data };
  });
  const buf = pcap(frames, { snaplen: 262144 });
  const whole = parse(buf, buf.length);
  assert.deepEqual(whole.problems, []);
  assert.deepEqual(whole.frames.map((f) => f.len), sizes);
  for (const chunk of [1000, 4095, 5000, 65536, 100000]) {
    const r = parse(buf, chunk);
    assert.deepEqual(r.problems, [], `chunk ${chunk}`);
    assert.deepEqual(r.frames, whole.frames, `chunk ${chunk}`);
  }
});
