/**
 * Packet capture writer (pcap and pcapng, Ethernet link type) and a small network
 * simulator that produces whole, self-consistent conversations:
 *   - TCP: three-way handshake with realistic options, data both ways segmented at the
 *     MSS with correct sequence/acknowledgement numbers, delayed ACKs, FIN teardown or RST;
 *     refused (RST) and unanswered SYNs; masscan-style SYN probes.
 *   - UDP datagrams.
 * IPv4 header and TCP/UDP checksums are computed. Packets may be produced slightly out of
 * order (a conversation's reply comes after another conversation's start); they pass
 * through a time-ordered buffer and are written in timestamp order. Writing is
 * streamed: the buffer is flushed up to a watermark (`advance`), and file output is
 * chunked, so memory stays bounded whatever the capture size.
 */
import { TimeHeap } from './heap.js';
import { openSync, writeSync, closeSync } from 'node:fs';
import { Rng } from './rng.js';

// ---------------------------------------------------------------- file level

export type CaptureFormat = 'pcap' | 'pcapng';

export class CaptureFile {
  private fd: number;
  private buf = Buffer.alloc(1 << 20);
  private len = 0;
  private closed = false;
  packets = 0;
  bytes = 0;

  constructor(path: string, readonly format: CaptureFormat = 'pcap', readonly snaplen = 262144) {
    this.fd = openSync(path, 'w');
    if (format === 'pcap') {
      const h = Buffer.alloc(24);
      h.writeUInt32LE(0xa1b2c3d4, 0);
      h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6);
      h.writeInt32LE(0, 8); h.writeUInt32LE(0, 12);
      h.writeUInt32LE(snaplen, 16); h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
      this.put(h);
    } else {
      const app = pcapngOption(4, Buffer.from('spoor simulate', 'utf8')); // shb_userappl
      const shbBody = Buffer.alloc(16);
      shbBody.writeUInt32LE(0x1a2b3c4d, 0);
      shbBody.writeUInt16LE(1, 4); shbBody.writeUInt16LE(0, 6);
      shbBody.writeBigInt64LE(-1n, 8);
      this.put(pcapngBlock(0x0a0d0d0a, Buffer.concat([shbBody, app, pcapngOption(0, Buffer.alloc(0))])));
      const idb = Buffer.alloc(8);
      idb.writeUInt16LE(1, 0); idb.writeUInt16LE(0, 2); idb.writeUInt32LE(snaplen, 4);
      const opts = Buffer.concat([
        pcapngOption(2, Buffer.from('sim0', 'utf8')), // if_name
        pcapngOption(9, Buffer.from([6])), // if_tsresol: microseconds
        pcapngOption(0, Buffer.alloc(0)),
      ]);
      this.put(pcapngBlock(1, Buffer.concat([idb, opts])));
    }
  }

  private put(b: Buffer) {
    if (this.len + b.length > this.buf.length) this.flush();
    if (b.length > this.buf.length) { writeSync(this.fd, b); this.bytes += b.length; return; }
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  private flush() {
    if (this.len) { writeSync(this.fd, this.buf, 0, this.len); this.bytes += this.len; this.len = 0; }
  }

  /** Append one Ethernet frame; tsUs = microseconds since the epoch. */
  write(tsUs: number, frame: Buffer) {
    if (this.closed) throw new Error('CaptureFile: write after close');
    const cap = Math.min(frame.length, this.snaplen);
    const sec = Math.floor(tsUs / 1e6);
    const usec = Math.round(tsUs - sec * 1e6);
    if (this.format === 'pcap') {
      const h = Buffer.alloc(16);
      h.writeUInt32LE(sec >>> 0, 0); h.writeUInt32LE(usec, 4);
      h.writeUInt32LE(cap, 8); h.writeUInt32LE(frame.length, 12);
      this.put(h);
      this.put(cap === frame.length ? frame : frame.subarray(0, cap));
    } else {
      const pad = (4 - (cap % 4)) % 4;
      const total = 28 + cap + pad + 4;
      const h = Buffer.alloc(28);
      const ts = BigInt(sec) * 1000000n + BigInt(usec);
      h.writeUInt32LE(6, 0); h.writeUInt32LE(total, 4); h.writeUInt32LE(0, 8);
      h.writeUInt32LE(Number(ts >> 32n), 12); h.writeUInt32LE(Number(ts & 0xffffffffn), 16);
      h.writeUInt32LE(cap, 20); h.writeUInt32LE(frame.length, 24);
      this.put(h);
      this.put(cap === frame.length ? frame : frame.subarray(0, cap));
      const t = Buffer.alloc(pad + 4);
      t.writeUInt32LE(total, pad);
      this.put(t);
    }
    this.packets++;
  }

  close() {
    if (this.closed) return;
    this.flush();
    closeSync(this.fd);
    this.closed = true;
  }
}

function pcapngOption(code: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16LE(code, 0); b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function pcapngBlock(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0); b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}

// ---------------------------------------------------------------- ordering buffer

/** Min-heap of frames by timestamp; writes in order up to a watermark. */
export class OrderedSink {
  private readonly heap = new TimeHeap<Buffer>();
  private lastWritten = -Infinity;
  constructor(readonly out: CaptureFile) {}
  push(tsUs: number, frame: Buffer) {
    if (tsUs < this.lastWritten) tsUs = this.lastWritten; // never write backwards in time
    this.heap.push(tsUs, frame);
  }
  /** Write every buffered frame with ts < tsUs. */
  advance(tsUs: number) {
    while (this.heap.peekTime() < tsUs) {
      const f = this.heap.pop()!;
      this.lastWritten = f.t;
      this.out.write(f.t, f.v);
    }
  }
  get pending() { return this.heap.size; }
  close() { this.advance(Infinity); this.out.close(); }
}

// ---------------------------------------------------------------- packet builders

export function ipv4Bytes(ip: string): Buffer {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 address: ${ip}`);
  return Buffer.from(p);
}
export function ipv4Num(ip: string): number { return ipv4Bytes(ip).readUInt32BE(0); }

/** Internet checksum (RFC 1071) over several buffers. */
export function inetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  let odd = -1;
  for (const b of parts) {
    let i = 0;
    if (odd >= 0 && b.length) { sum += (odd << 8) | b[0]; odd = -1; i = 1; }
    for (; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
    if (i < b.length) odd = b[i];
  }
  if (odd >= 0) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return (~sum) & 0xffff;
}

export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

export interface IpOpts { src: string; dst: string; ttl: number; id: number; proto: number; df?: boolean }

export function ipv4Packet(o: IpOpts, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45; h[1] = 0;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(o.id & 0xffff, 4);
  h.writeUInt16BE(o.df === false ? 0 : 0x4000, 6);
  h[8] = o.ttl; h[9] = o.proto;
  ipv4Bytes(o.src).copy(h, 12); ipv4Bytes(o.dst).copy(h, 16);
  h.writeUInt16BE(inetChecksum(h), 10);
  return Buffer.concat([h, payload]);
}

export interface TcpSeg {
  sport: number; dport: number; seq: number; ack: number; flags: number; window: number;
  options?: Buffer; payload?: Buffer;
}

export function tcpSegment(src: string, dst: string, s: TcpSeg): Buffer {
  const opt = s.options ?? Buffer.alloc(0);
  if (opt.length % 4) throw new Error('TCP options must be padded to 4 bytes');
  const pl = s.payload ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opt.length);
  h.writeUInt16BE(s.sport, 0); h.writeUInt16BE(s.dport, 2);
  h.writeUInt32BE(s.seq >>> 0, 4); h.writeUInt32BE((s.flags & TCP.ACK ? s.ack : 0) >>> 0, 8);
  h[12] = ((20 + opt.length) / 4) << 4; h[13] = s.flags;
  h.writeUInt16BE(s.window & 0xffff, 14);
  opt.copy(h, 20);
  const pseudo = Buffer.alloc(12);
  ipv4Bytes(src).copy(pseudo, 0); ipv4Bytes(dst).copy(pseudo, 4);
  pseudo[9] = 6; pseudo.writeUInt16BE(h.length + pl.length, 10);
  h.writeUInt16BE(inetChecksum(pseudo, h, pl), 16);
  return Buffer.concat([h, pl]);
}

export function udpDatagram(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0); h.writeUInt16BE(dport, 2); h.writeUInt16BE(8 + payload.length, 4);
  const pseudo = Buffer.alloc(12);
  ipv4Bytes(src).copy(pseudo, 0); ipv4Bytes(dst).copy(pseudo, 4);
  pseudo[9] = 17; pseudo.writeUInt16BE(8 + payload.length, 10);
  let c = inetChecksum(pseudo, h, payload);
  if (c === 0) c = 0xffff;
  h.writeUInt16BE(c, 6);
  return Buffer.concat([h, payload]);
}

export function ethernetFrame(srcMac: Buffer, dstMac: Buffer, etherType: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(14);
  dstMac.copy(h, 0); srcMac.copy(h, 6); h.writeUInt16BE(etherType, 12);
  const f = Buffer.concat([h, payload]);
  return f.length < 60 ? Buffer.concat([f, Buffer.alloc(60 - f.length)]) : f; // pad to the Ethernet minimum
}

/** SYN options as Windows sends them: MSS, NOP, WS, NOP, NOP, SACK_PERM. */
export function windowsSynOptions(mss: number, wscale: number): Buffer {
  const b = Buffer.from([2, 4, 0, 0, 1, 3, 3, wscale, 1, 1, 4, 2]);
  b.writeUInt16BE(mss, 2);
  return b;
}
/** SYN options as Linux sends them: MSS, SACK_PERM, TS, NOP, WS. */
export function linuxSynOptions(mss: number, wscale: number, tsval: number, tsecr = 0): Buffer {
  const b = Buffer.from([2, 4, 0, 0, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, wscale]);
  b.writeUInt16BE(mss, 2); b.writeUInt32BE(tsval >>> 0, 8); b.writeUInt32BE(tsecr >>> 0, 12);
  return b;
}

// ---------------------------------------------------------------- network simulator

export type TcpEnd = 'fin' | 'fin-server' | 'rst-client' | 'rst-server' | 'none';

export interface TcpMessage {
  from: 'c' | 's';
  data: Buffer;
  /** ms to wait before sending (after the previous message finished). Default 0.2 ms (c) / server think time. */
  gap?: number;
}

export interface TcpConversation {
  /** start time, ms since epoch */
  t: number;
  client: string;
  server: string;
  sport?: number;
  dport: number;
  /** round-trip time in ms (default 0.4 on the LAN, give ~30 for the internet) */
  rtt?: number;
  clientTtl?: number;
  serverTtl?: number;
  clientOs?: 'windows' | 'linux';
  serverOs?: 'windows' | 'linux';
  mss?: number;
  messages?: TcpMessage[];
  end?: TcpEnd;
}

export interface NetSimOptions {
  /** CIDR list: addresses inside are on the captured segment (own MAC); others go via the gateway MAC. */
  localNets?: string[];
}

function cidrMatch(ip: string, cidr: string): boolean {
  const [net, bitsS] = cidr.split('/');
  if (net.includes(':') || ip.includes(':')) return false;
  const bits = Number(bitsS ?? 32);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipv4Num(ip) & mask) >>> 0) === ((ipv4Num(net) & mask) >>> 0);
}

export interface NetStats { packets: number; tcpConversations: number; udpConversations: number; synOnly: number }

/** Writes whole conversations into an ordered capture. Times are ms since the epoch (fractions allowed). */
export class NetSim {
  readonly sink: OrderedSink;
  private ipId = new Map<string, number>();
  private ports = new Map<string, number>();
  private udpKeys = new Set<string>();
  readonly stats: NetStats = { packets: 0, tcpConversations: 0, udpConversations: 0, synOnly: 0 };
  private gatewayMac = Buffer.from([0x00, 0x1b, 0x17, 0x00, 0x01, 0x01]);

  constructor(path: string, readonly rng: Rng, format: CaptureFormat = 'pcap', readonly opts: NetSimOptions = {}) {
    this.sink = new OrderedSink(new CaptureFile(path, format));
  }

  isLocal(ip: string): boolean {
    const nets = this.opts.localNets ?? ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
    return nets.some((c) => cidrMatch(ip, c));
  }

  macFor(ip: string): Buffer {
    if (!this.isLocal(ip)) return this.gatewayMac;
    const b = ipv4Bytes(ip);
    return Buffer.from([0x00, 0x15, 0x5d, b[1], b[2], b[3]]);
  }

  nextIpId(ip: string): number {
    let v = this.ipId.get(ip);
    if (v === undefined) v = this.rng.int(0, 0xffff);
    v = (v + 1) & 0xffff;
    this.ipId.set(ip, v);
    return v;
  }

  /** A fresh ephemeral port for a client (Windows range 49152-65535, cycling). */
  ephemeralPort(ip: string): number {
    let v = this.ports.get(ip);
    if (v === undefined) v = this.rng.int(49152, 60000);
    v = v >= 65535 ? 49152 : v + 1;
    this.ports.set(ip, v);
    return v;
  }

  /** Emit one IPv4 packet. */
  emitIp(tMs: number, src: string, dst: string, proto: number, ttl: number, l4: Buffer, id?: number) {
    const ip = ipv4Packet({ src, dst, ttl, id: id ?? this.nextIpId(src), proto }, l4);
    const frame = ethernetFrame(this.macFor(src), this.macFor(dst), 0x0800, ip);
    this.sink.push(Math.round(tMs * 1000), frame);
    this.stats.packets++;
  }

  emitTcp(tMs: number, src: string, dst: string, ttl: number, seg: TcpSeg, id?: number) {
    this.emitIp(tMs, src, dst, 6, ttl, tcpSegment(src, dst, seg), id);
  }

  udp(tMs: number, src: string, sport: number, dst: string, dport: number, payload: Buffer, ttl = 128) {
    const key = `${src}:${sport}>${dst}:${dport}`;
    const rkey = `${dst}:${dport}>${src}:${sport}`;
    if (!this.udpKeys.has(key) && !this.udpKeys.has(rkey)) {
      this.udpKeys.add(key);
      this.stats.udpConversations++;
      // bounded memory: beyond 2M distinct UDP 4-tuples the count may include repeats of old tuples
      if (this.udpKeys.size > 2000000) this.udpKeys.clear();
    }
    this.emitIp(tMs, src, dst, 17, ttl, udpDatagram(src, dst, sport, dport, payload));
  }

  /** Write buffered packets older than t (ms) minus a safety margin; call as time moves on. */
  advance(tMs: number, marginMs = 120000) { this.sink.advance(Math.round((tMs - marginMs) * 1000)); }

  close() { this.sink.close(); }

  /**
   * A whole TCP conversation. Returns the time (ms) of its last packet.
   * With no server reply (`refused`/`unanswered`) use synProbe instead.
   */
  tcp(c: TcpConversation): number {
    const rng = this.rng;
    const rtt = c.rtt ?? 0.4;
    const half = rtt / 2;
    const sport = c.sport ?? this.ephemeralPort(c.client);
    const cttl = c.clientTtl ?? ((c.clientOs ?? 'windows') === 'windows' ? 128 : 64);
    const sttl = c.serverTtl ?? ((c.serverOs ?? 'windows') === 'windows' ? 128 : 64);
    const mss = c.mss ?? 1460;
    const cwin = 8192 * 8, swin = 8192 * 8; // unscaled windows advertised in the handshake
    const cscale = 8, sscale = 8;
    let cseq = rng.u32(), sseq = rng.u32();
    let t = c.t;
    const C = c.client, S = c.server;
    const cw = Math.min(0xffff, Math.floor((cwin * 4) / (1 << cscale)));
    const sw = Math.min(0xffff, Math.floor((swin * 4) / (1 << sscale)));
    // handshake
    const cOpts = (c.clientOs ?? 'windows') === 'windows' ? windowsSynOptions(mss, cscale) : linuxSynOptions(mss, 7, rng.u32());
    this.emitTcp(t, C, S, cttl, { sport, dport: c.dport, seq: cseq, ack: 0, flags: TCP.SYN, window: 8192, options: cOpts });
    const sOpts = Buffer.from([2, 4, 0, 0, 1, 3, 3, sscale, 4, 2, 1, 1]);
    sOpts.writeUInt16BE(mss, 2);
    this.emitTcp(t + half, S, C, sttl, { sport: c.dport, dport: sport, seq: sseq, ack: cseq + 1, flags: TCP.SYN | TCP.ACK, window: 8192, options: sOpts });
    cseq = (cseq + 1) >>> 0; sseq = (sseq + 1) >>> 0;
    t += rtt;
    this.emitTcp(t, C, S, cttl, { sport, dport: c.dport, seq: cseq, ack: sseq, flags: TCP.ACK, window: cw });
    this.stats.tcpConversations++;
    // data
    for (const m of c.messages ?? []) {
      const fromC = m.from === 'c';
      t += m.gap ?? (fromC ? 0.2 : 0.5);
      const [src, dst, ttl, sp, dp, win, rwin, rttl] = fromC
        ? [C, S, cttl, sport, c.dport, cw, sw, sttl]
        : [S, C, sttl, c.dport, sport, sw, cw, cttl];
      let off = 0;
      let segs = 0;
      const data = m.data;
      while (off < data.length) {
        const n = Math.min(mss, data.length - off);
        const last = off + n >= data.length;
        const seq = fromC ? cseq : sseq;
        const ack = fromC ? sseq : cseq;
        this.emitTcp(t, src, dst, ttl, { sport: sp, dport: dp, seq, ack, flags: TCP.ACK | (last ? TCP.PSH : 0), window: win, payload: data.subarray(off, off + n) });
        if (fromC) cseq = (cseq + n) >>> 0; else sseq = (sseq + n) >>> 0;
        off += n; segs++;
        // delayed ACK: every second full segment, and after the last one
        if (segs % 2 === 0 || last) {
          const at = t + half;
          this.emitTcp(at, dst, src, rttl, { sport: dp, dport: sp, seq: fromC ? sseq : cseq, ack: fromC ? cseq : sseq, flags: TCP.ACK, window: rwin });
          if (!last) t = at + half; // sender waits for the ACK before sending more
        }
        if (!last) t += 0.012;
      }
      t += half;
    }
    // teardown
    const end = c.end ?? 'fin';
    t += 0.3;
    if (end === 'fin' || end === 'fin-server') {
      const firstC = end === 'fin';
      const [a, b, attl, bttl, ap, bp, aw, bw] = firstC ? [C, S, cttl, sttl, sport, c.dport, cw, sw] : [S, C, sttl, cttl, c.dport, sport, sw, cw];
      let aseq = firstC ? cseq : sseq, bseq = firstC ? sseq : cseq;
      this.emitTcp(t, a, b, attl, { sport: ap, dport: bp, seq: aseq, ack: bseq, flags: TCP.FIN | TCP.ACK, window: aw });
      aseq = (aseq + 1) >>> 0;
      t += half;
      this.emitTcp(t, b, a, bttl, { sport: bp, dport: ap, seq: bseq, ack: aseq, flags: TCP.FIN | TCP.ACK, window: bw });
      bseq = (bseq + 1) >>> 0;
      t += half;
      this.emitTcp(t, a, b, attl, { sport: ap, dport: bp, seq: aseq, ack: bseq, flags: TCP.ACK, window: aw });
    } else if (end === 'rst-client') {
      this.emitTcp(t, C, S, cttl, { sport, dport: c.dport, seq: cseq, ack: sseq, flags: TCP.RST | TCP.ACK, window: 0 });
    } else if (end === 'rst-server') {
      this.emitTcp(t, S, C, sttl, { sport: c.dport, dport: sport, seq: sseq, ack: cseq, flags: TCP.RST | TCP.ACK, window: 0 });
    }
    return t;
  }

  /**
   * One SYN probe and the target's answer. `answer`: 'open' (SYN/ACK, then the prober resets),
   * 'closed' (RST/ACK), 'filtered' (nothing).
   * masscan: TTL 255, window 1024, no options, IP ID = (dst ^ dport ^ seq) & 0xffff.
   */
  synProbe(p: {
    t: number; src: string; dst: string; sport: number; dport: number; answer: 'open' | 'closed' | 'filtered';
    style?: 'masscan' | 'nmap' | 'windows'; rtt?: number; targetTtl?: number;
  }): number {
    const rng = this.rng;
    const rtt = p.rtt ?? 0.5;
    const style = p.style ?? 'nmap';
    const seq = rng.u32();
    let ttl: number, win: number, opts: Buffer | undefined, id: number | undefined;
    if (style === 'masscan') {
      ttl = 255; win = 1024; opts = undefined;
      id = ((ipv4Num(p.dst) ^ p.dport ^ seq) >>> 0) & 0xffff;
    } else if (style === 'nmap') {
      ttl = rng.int(37, 59); win = 1024; opts = Buffer.from([2, 4, 5, 0xb4]); id = rng.int(0, 0xffff);
    } else {
      ttl = 128; win = 8192; opts = windowsSynOptions(1460, 8); id = undefined;
    }
    this.emitTcp(p.t, p.src, p.dst, ttl, { sport: p.sport, dport: p.dport, seq, ack: 0, flags: TCP.SYN, window: win, options: opts }, id);
    this.stats.tcpConversations++;
    const tttl = p.targetTtl ?? 128;
    if (p.answer === 'filtered') { this.stats.synOnly++; return p.t; }
    if (p.answer === 'closed') {
      this.emitTcp(p.t + rtt, p.dst, p.src, tttl, { sport: p.dport, dport: p.sport, seq: 0, ack: (seq + 1) >>> 0, flags: TCP.RST | TCP.ACK, window: 0 });
      return p.t + rtt;
    }
    const sseq = rng.u32();
    const o = Buffer.from([2, 4, 5, 0xb4]);
    this.emitTcp(p.t + rtt, p.dst, p.src, tttl, { sport: p.dport, dport: p.sport, seq: sseq, ack: (seq + 1) >>> 0, flags: TCP.SYN | TCP.ACK, window: 8192, options: o });
    const rid = style === 'masscan' ? ((ipv4Num(p.dst) ^ p.dport ^ ((seq + 1) >>> 0)) >>> 0) & 0xffff : undefined;
    this.emitTcp(p.t + rtt + 0.05, p.src, p.dst, ttl, { sport: p.sport, dport: p.dport, seq: (seq + 1) >>> 0, ack: 0, flags: TCP.RST, window: 0 }, rid);
    return p.t + rtt + 0.05;
  }
}
