/**
 * Network speed: spoor vs tshark on the same captures, same run.
 *  - mixed: corpus captures (Ethernet pcap) concatenated and time-shifted into one large pcap
 *  - scan: a generated SYN scan (tiny packets) for packets/s
 * spoor runs conn-only (flows) and with all analyzers; tshark runs `-q -z conv,tcp`
 * and an HTTP/DNS field extraction.
 */
import { createReadStream, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { NetworkEngine } from '../../src/network/engine.js';
import { analyzers } from '../../src/network/analyzers/index.js';

function walk(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(pcap|cap)$/i.test(n)) out.push(p);
  }
  return out;
}

/** Concatenate little-endian µs Ethernet pcaps, shifting time so the result is monotonic. */
export function buildMixed(corpus: string, target: number, out: string): { bytes: number; packets: number } {
  const files = [...walk(join(corpus, 'zeek', 'Traces')), ...walk(join(corpus, 'suricata-verify'))].sort();
  const parts: Buffer[] = [];
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(262144, 16);
  g.writeUInt32LE(1, 20);
  parts.push(g);
  let size = 24;
  let packets = 0;
  let tBase = 1700000000;
  const srcs: Buffer[] = [];
  for (const f of files) {
    const b = readFileSync(f);
    if (b.length < 24 || b.readUInt32LE(0) !== 0xa1b2c3d4 || (b.readUInt32LE(20) & 0xffff) !== 1) continue;
    srcs.push(b);
  }
  if (!srcs.length) return { bytes: 0, packets: 0 };
  for (let round = 0; size < target && round < 1000; round++) {
    for (const b of srcs) {
      let p = 24;
      let first = -1;
      let last = 0;
      while (p + 16 <= b.length) {
        const incl = b.readUInt32LE(p + 8);
        if (incl > 262144 || p + 16 + incl > b.length) break;
        const sec = b.readUInt32LE(p);
        if (first < 0) first = sec;
        const rec = Buffer.from(b.subarray(p, p + 16 + incl));
        const ns = tBase + Math.max(0, sec - first);
        rec.writeUInt32LE(ns >>> 0, 0);
        last = ns;
        parts.push(rec);
        size += rec.length;
        packets++;
        p += 16 + incl;
      }
      tBase = Math.max(tBase, last) + 400; // beyond every inactivity timeout: no cross-file flow mixing
      if (size >= target) break;
    }
  }
  writeFileSync(out, Buffer.concat(parts));
  return { bytes: size, packets };
}

/** Tiny SYN packets from one scanner to many hosts/ports. */
export function buildScan(n: number, out: string): { bytes: number; packets: number } {
  const rec = 16 + 54;
  const buf = Buffer.alloc(24 + n * rec);
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(65535, 16);
  buf.writeUInt32LE(1, 20);
  for (let i = 0; i < n; i++) {
    const o = 24 + i * rec;
    const us = i * 2; // 500k pps
    buf.writeUInt32LE(1700000000 + Math.floor(us / 1e6), o);
    buf.writeUInt32LE(us % 1e6, o + 4);
    buf.writeUInt32LE(54, o + 8);
    buf.writeUInt32LE(60, o + 12);
    const e = o + 16;
    buf.writeUInt16BE(0x0800, e + 12);
    const ip = e + 14;
    buf[ip] = 0x45;
    buf.writeUInt16BE(40, ip + 2);
    buf.writeUInt16BE(54321, ip + 4);
    buf[ip + 8] = 255;
    buf[ip + 9] = 6;
    buf.writeUInt32BE(0xc6336401, ip + 12); // 198.51.100.1
    buf.writeUInt32BE((0x0a000000 | (i >>> 6)) >>> 0, ip + 16);
    const t = ip + 20;
    buf.writeUInt16BE(40000 + (i % 1000), t);
    buf.writeUInt16BE([22, 80, 443, 445, 3389, 8080][i % 6] + Math.floor((i % 64) / 6) * 1000, t + 2);
    buf.writeUInt32BE(0x5eed0000 + i, t + 4);
    buf[t + 12] = 0x50;
    buf[t + 13] = 0x02;
    buf.writeUInt16BE(1024, t + 14);
  }
  writeFileSync(out, buf);
  return { bytes: buf.length, packets: n };
}

async function spoor(file: string, withAnalyzers: boolean): Promise<{ sec: number; conns: number; events: number }> {
  const eng = new NetworkEngine({ evidence: 'B', analyzers: withAnalyzers ? analyzers : [] });
  let conns = 0;
  let events = 0;
  const t0 = process.hrtime.bigint();
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    eng.push(chunk as Buffer);
    for (const e of eng.drain()) {
      events++;
      if (e['event.dataset'] === 'conn') conns++;
    }
  }
  eng.end();
  for (const e of eng.drain()) {
    events++;
    if (e['event.dataset'] === 'conn') conns++;
  }
  return { sec: Number(process.hrtime.bigint() - t0) / 1e9, conns, events };
}

function tshark(args: string[]): number {
  const t0 = process.hrtime.bigint();
  execFileSync('tshark', args, { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function haveTshark(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v tshark'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default {
  name: 'network',
  async run(ctx: { corpus: string; repoRoot: string; tmp: string; quick: boolean }): Promise<string> {
    const mixed = join(ctx.tmp, 'bench-mixed.pcap');
    const scan = join(ctx.tmp, 'bench-scan.pcap');
    const m = buildMixed(ctx.corpus, ctx.quick ? 40 << 20 : 400 << 20, mixed);
    const s = buildScan(ctx.quick ? 500_000 : 3_000_000, scan);
    const rows: string[] = [];
    const mb = (b: number, t: number) => (b / 1048576 / t).toFixed(1);
    const kp = (p: number, t: number) => (p / t / 1000).toFixed(0);
    const tsh = haveTshark() && existsSync(mixed);
    const out: string[] = [
      `Captures: mixed = ${(m.bytes / 1048576).toFixed(1)} MiB / ${m.packets} packets (corpus pcaps concatenated, time-shifted); scan = ${(s.bytes / 1048576).toFixed(1)} MiB / ${s.packets} SYN packets (generated).`,
      'Machine: 2 shared cores under load from other engineers — numbers are noisy. One thread, single run each.',
      '',
      '| case | tool | seconds | MB/s | kpackets/s | ratio vs tshark |',
      '| --- | --- | ---: | ---: | ---: | ---: |',
    ];
    for (const [name, file, info] of [
      ['mixed', mixed, m],
      ['scan', scan, s],
    ] as const) {
      if (!info.bytes) continue;
      const conn = await spoor(file, false);
      const full = await spoor(file, true);
      let tConv = NaN;
      let tFields = NaN;
      if (tsh) {
        tConv = tshark(['-r', file, '-q', '-z', 'conv,tcp']);
        if (name === 'mixed') tFields = tshark(['-r', file, '-T', 'fields', '-e', 'http.request.method', '-e', 'http.host', '-e', 'http.request.uri', '-e', 'dns.qry.name', '-Y', 'http.request or dns']);
      }
      const r = (t: number, ref: number) => (Number.isFinite(ref) ? (ref / t).toFixed(1) + '×' : 'n/a');
      rows.push(`| ${name} | spoor conn only | ${conn.sec.toFixed(2)} | ${mb(info.bytes, conn.sec)} | ${kp(info.packets, conn.sec)} | ${r(conn.sec, tConv)} |`);
      rows.push(`| ${name} | spoor all analyzers | ${full.sec.toFixed(2)} | ${mb(info.bytes, full.sec)} | ${kp(info.packets, full.sec)} | ${r(full.sec, Number.isFinite(tFields) ? tFields : tConv)} |`);
      if (Number.isFinite(tConv)) rows.push(`| ${name} | tshark -q -z conv,tcp | ${tConv.toFixed(2)} | ${mb(info.bytes, tConv)} | ${kp(info.packets, tConv)} | 1.0× |`);
      if (Number.isFinite(tFields)) rows.push(`| ${name} | tshark -T fields http/dns | ${tFields.toFixed(2)} | ${mb(info.bytes, tFields)} | ${kp(info.packets, tFields)} | 1.0× |`);
      rows.push(`| ${name} | (spoor records) | conn ${conn.conns}, all events ${full.events} | | | |`);
    }
    out.push(...rows, '', `Peak RSS of the benchmark process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB.`);
    return out.join('\n');
  },
};
