/**
 * Tiny capture builders for tests: Ethernet/IPv4/IPv6/TCP/UDP packets and
 * pcap / pcapng files (the project's real writer lives in src/simulate).
 */

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: string; // letters S A F R P
  win?: number;
  data?: Buffer | string;
  ttl?: number;
  id?: number;
}

function ip4(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

function csum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

export function ipv4(src: string, dst: string, proto: number, payload: Buffer, opts: { ttl?: number; id?: number; frag?: number } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(opts.id ?? 1, 4);
  h.writeUInt16BE(opts.frag ?? 0, 6);
  h[8] = opts.ttl ?? 64;
  h[9] = proto;
  ip4(src).copy(h, 12);
  ip4(dst).copy(h, 16);
  h.writeUInt16BE(csum(h), 10);
  return Buffer.concat([h, payload]);
}

export function tcpSeg(t: TcpSpec): Buffer {
  const data = typeof t.data === 'string' ? Buffer.from(t.data, 'latin1') : t.data ?? Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h.writeUInt16BE(t.sport, 0);
  h.writeUInt16BE(t.dport, 2);
  h.writeUInt32BE(t.seq >>> 0, 4);
  h.writeUInt32BE((t.ack ?? 0) >>> 0, 8);
  h[12] = 5 << 4;
  let f = 0;
  if (t.flags.includes('F')) f |= 1;
  if (t.flags.includes('S')) f |= 2;
  if (t.flags.includes('R')) f |= 4;
  if (t.flags.includes('P')) f |= 8;
  if (t.flags.includes('A')) f |= 16;
  h[13] = f;
  h.writeUInt16BE(t.win ?? 65535, 14);
  return Buffer.concat([h, data]);
}

export function udpDgram(sport: number, dport: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + data.length, 4);
  return Buffer.concat([h, data]);
}

export function ether(ipPacket: Buffer, etherType = 0x0800): Buffer {
  const h = Buffer.alloc(14);
  h.fill(0x11, 0, 6);
  h.fill(0x22, 6, 12);
  h.writeUInt16BE(etherType, 12);
  return Buffer.concat([h, ipPacket]);
}

export function tcpPacket(t: TcpSpec): Buffer {
  return ether(ipv4(t.src, t.dst, 6, tcpSeg(t), { ttl: t.ttl, id: t.id }));
}

export function udpPacket(src: string, dst: string, sport: number, dport: number, data: Buffer): Buffer {
  return ether(ipv4(src, dst, 17, udpDgram(sport, dport, data)));
}

export interface Frame {
  ts: number; // seconds
  data: Buffer;
  linkType?: number;
  iface?: number;
  origLen?: number;
}

export function pcap(frames: Frame[], opts: { be?: boolean; nano?: boolean; linkType?: number; snaplen?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  const g = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, o: number) => (opts.be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const w16 = (b: Buffer, v: number, o: number) => (opts.be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  w32(g, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(g, 2, 4);
  w16(g, 4, 6);
  w32(g, opts.snaplen ?? 65535, 16);
  w32(g, opts.linkType ?? 1, 20);
  parts.push(g);
  for (const f of frames) {
    const r = Buffer.alloc(16);
    const sec = Math.floor(f.ts);
    const frac = Math.round((f.ts - sec) * (opts.nano ? 1e9 : 1e6));
    w32(r, sec, 0);
    w32(r, frac, 4);
    w32(r, f.data.length, 8);
    w32(r, f.origLen ?? f.data.length, 12);
    parts.push(r, f.data);
  }
  return Buffer.concat(parts);
}

function ngBlock(type: number, body: Buffer): Buffer {
  const pad = (4 - (body.length % 4)) % 4;
  const len = 12 + body.length + pad;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

export function pcapngSection(ifaces: { linkType: number; tsresol?: number }[], frames: Frame[], opts: { simple?: boolean } = {}): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeUInt16LE(0, 6);
  shb.writeInt32LE(-1, 8);
  shb.writeInt32LE(-1, 12);
  const parts: Buffer[] = [ngBlock(0x0a0d0d0a, shb)];
  for (const i of ifaces) {
    const opt = i.tsresol !== undefined ? Buffer.from([9, 0, 1, 0, i.tsresol, 0, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(4);
    const body = Buffer.alloc(8);
    body.writeUInt16LE(i.linkType, 0);
    body.writeUInt32LE(0, 4);
    parts.push(ngBlock(1, Buffer.concat([body, opt])));
  }
  for (const f of frames) {
    if (opts.simple) {
      const body = Buffer.alloc(4);
      body.writeUInt32LE(f.data.length, 0);
      parts.push(ngBlock(3, Buffer.concat([body, f.data])));
      continue;
    }
    const ifc = f.iface ?? 0;
    const res = ifaces[ifc]?.tsresol ?? 6;
    const units = BigInt(Math.round(f.ts * 10 ** Math.min(res, 9))) * 10n ** BigInt(Math.max(0, res - 9));
    const body = Buffer.alloc(20);
    body.writeUInt32LE(ifc, 0);
    body.writeUInt32LE(Number(units >> 32n), 4);
    body.writeUInt32LE(Number(units & 0xffffffffn), 8);
    body.writeUInt32LE(f.data.length, 12);
    body.writeUInt32LE(f.origLen ?? f.data.length, 16);
    const pad = Buffer.alloc((4 - (f.data.length % 4)) % 4);
    parts.push(ngBlock(6, Buffer.concat([body, f.data, pad])));
  }
  return Buffer.concat(parts);
}

/** A client/server TCP conversation builder that tracks sequence numbers. */
export class Conversation {
  frames: Frame[] = [];
  cseq: number;
  sseq: number;
  t: number;
  constructor(
    public c: string,
    public cport: number,
    public s: string,
    public sport: number,
    t0 = 1700000000,
    cisn = 1000,
    sisn = 5000,
  ) {
    this.cseq = cisn;
    this.sseq = sisn;
    this.t = t0;
  }
  private push(fromClient: boolean, flags: string, data?: Buffer | string, seqOverride?: number): this {
    this.t += 0.01;
    const d = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const seq = seqOverride ?? (fromClient ? this.cseq : this.sseq);
    const pkt = tcpPacket({
      src: fromClient ? this.c : this.s,
      dst: fromClient ? this.s : this.c,
      sport: fromClient ? this.cport : this.sport,
      dport: fromClient ? this.sport : this.cport,
      seq,
      ack: flags.includes('A') ? (fromClient ? this.sseq : this.cseq) : 0,
      flags,
      data: d,
    });
    this.frames.push({ ts: this.t, data: pkt });
    if (seqOverride === undefined) {
      let adv = d?.length ?? 0;
      if (flags.includes('S') || flags.includes('F')) adv++;
      if (fromClient) this.cseq += adv;
      else this.sseq += adv;
    }
    return this;
  }
  client(flags: string, data?: Buffer | string, seq?: number): this {
    return this.push(true, flags, data, seq);
  }
  server(flags: string, data?: Buffer | string, seq?: number): this {
    return this.push(false, flags, data, seq);
  }
  handshake(): this {
    return this.client('S').server('SA').client('A');
  }
  close(): this {
    return this.client('FA').server('FA').client('A');
  }
}
