/**
 * Packet decoding: link layer → IPv4/IPv6 → TCP/UDP/ICMP, into one reused
 * PacketInfo (no per-packet objects on the hot path). IPv4 and IPv6 fragments
 * are reassembled in a bounded table.
 *
 * Link types: 0 NULL (BSD loopback), 1 Ethernet (802.1Q/QinQ, PPPoE session,
 * MPLS), 9 PPP, 12/14/101 raw IP, 108 OpenBSD loop, 113 Linux SLL, 228/229 raw
 * IPv4/IPv6, 276 Linux SLL2. Tunnels: IP-in-IP (4/41) and GRE (transparent
 * Ethernet, IPv4, IPv6, ERSPAN I/II) are decapsulated to the inner packet.
 */

export const enum Proto {
  ICMP = 1,
  TCP = 6,
  UDP = 17,
  ICMP6 = 58,
}

export class PacketInfo {
  v6 = false;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  proto = 0;
  ttl = 0;
  ipId = 0;
  /** IP total length (header + payload) as Zeek's ip_bytes counts it. */
  ipLen = 0;
  sport = 0;
  dport = 0;
  flags = 0;
  seq = 0;
  ack = 0;
  win = 0;
  /** Transport payload: buffer, offset, declared length and captured length. */
  buf: Buffer = EMPTY;
  payOff = 0;
  payLen = 0;
  payCap = 0;
  /** TCP header bytes (for options) start. */
  l4Off = 0;
  l4HdrLen = 0;
  icmpType = 0;
  icmpCode = 0;
}

const EMPTY = Buffer.alloc(0);

// Direct big/little-endian reads (callers check lengths; a read past the end yields 0, never throws).
function rd16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function rd32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
function rd32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

export type DecodeResult = 0 | 1 | 2 | 3;
/** decoded a transport packet */
export const DEC_OK = 1;
/** not IP / unsupported / damaged: skip */
export const DEC_SKIP = 0;
/** fragment buffered, nothing to do yet */
export const DEC_FRAG = 2;
/** IP packet with a transport we do not track */
export const DEC_OTHER = 3;

interface FragEntry {
  key: string;
  parts: { off: number; data: Buffer }[];
  total: number; // -1 until last fragment seen
  bytes: number;
  hdr: Buffer; // IP header of the first fragment (v4) or unfragmentable part (v6)
  first: number; // ts
  v6: boolean;
  nextHdr: number;
}

export interface DecoderOptions {
  maxFragDatagrams?: number;
  maxFragBytes?: number;
  fragTimeout?: number;
}

export class PacketDecoder {
  readonly pkt = new PacketInfo();
  private frags = new Map<string, FragEntry>();
  private fragBytes = 0;
  private readonly maxFragDatagrams: number;
  private readonly maxFragBytes: number;
  private readonly fragTimeout: number;
  /** Counters for the reader's summary. */
  unsupportedLink = 0;
  malformed = 0;
  fragDropped = 0;
  /** Set when the last decode failed for a reason worth a weird/problem. */
  lastError = '';
  private depth = 0;

  constructor(opts: DecoderOptions = {}) {
    this.maxFragDatagrams = opts.maxFragDatagrams ?? 4096;
    this.maxFragBytes = opts.maxFragBytes ?? 32 << 20;
    this.fragTimeout = opts.fragTimeout ?? 60;
  }

  decode(linkType: number, b: Buffer, off: number, len: number, ts: number): DecodeResult {
    this.depth = 0;
    this.lastError = '';
    const end = off + len;
    switch (linkType) {
      case 1:
        return this.ether(b, off, end, ts);
      case 0: {
        if (len < 4) return DEC_SKIP;
        let af = rd32le(b, off);
        if (af > 0xffff) af = rd32(b, off);
        return this.byAf(af, b, off + 4, end, ts);
      }
      case 108:
        if (len < 4) return DEC_SKIP;
        return this.byAf(rd32(b, off), b, off + 4, end, ts);
      case 12:
      case 14:
      case 101:
        return this.rawIp(b, off, end, ts);
      case 228:
        return this.ipv4(b, off, end, ts);
      case 229:
        return this.ipv6(b, off, end, ts);
      case 113:
        if (len < 16) return DEC_SKIP;
        return this.etherType(rd16(b, off + 14), b, off + 16, end, ts);
      case 276:
        if (len < 20) return DEC_SKIP;
        return this.etherType(rd16(b, off), b, off + 20, end, ts);
      case 9:
      case 50: {
        let o = off;
        if (end - o >= 2 && b[o] === 0xff && b[o + 1] === 0x03) o += 2;
        if (end - o < 2) return DEC_SKIP;
        return this.ppp(rd16(b, o), b, o + 2, end, ts);
      }
      default:
        this.unsupportedLink++;
        return DEC_SKIP;
    }
  }

  private byAf(af: number, b: Buffer, o: number, end: number, ts: number): DecodeResult {
    if (af === 2) return this.ipv4(b, o, end, ts);
    if (af === 24 || af === 28 || af === 30 || af === 10 || af === 23) return this.ipv6(b, o, end, ts);
    return DEC_SKIP;
  }

  private rawIp(b: Buffer, o: number, end: number, ts: number): DecodeResult {
    if (o >= end) return DEC_SKIP;
    const v = b[o] >> 4;
    if (v === 4) return this.ipv4(b, o, end, ts);
    if (v === 6) return this.ipv6(b, o, end, ts);
    return DEC_SKIP;
  }

  private ether(b: Buffer, o: number, end: number, ts: number): DecodeResult {
    if (end - o < 14) return DEC_SKIP;
    return this.etherType(rd16(b, o + 12), b, o + 14, end, ts);
  }

  private etherType(et: number, b: Buffer, o: number, end: number, ts: number): DecodeResult {
    for (let i = 0; i < 8; i++) {
      switch (et) {
        case 0x0800:
          return this.ipv4(b, o, end, ts);
        case 0x86dd:
          return this.ipv6(b, o, end, ts);
        case 0x8100:
        case 0x88a8:
        case 0x9100:
        case 0x9200:
          if (end - o < 4) return DEC_SKIP;
          et = rd16(b, o + 2);
          o += 4;
          continue;
        case 0x8864: // PPPoE session
          if (end - o < 8) return DEC_SKIP;
          return this.ppp(rd16(b, o + 6), b, o + 8, end, ts);
        case 0x8847:
        case 0x8848: {
          // MPLS label stack
          for (;;) {
            if (end - o < 4) return DEC_SKIP;
            const bos = b[o + 2] & 1;
            o += 4;
            if (bos) break;
          }
          return this.rawIp(b, o, end, ts);
        }
        case 0x88be: // ERSPAN type II carried directly (rare)
          return DEC_SKIP;
        default:
          return DEC_SKIP;
      }
    }
    return DEC_SKIP;
  }

  private ppp(proto: number, b: Buffer, o: number, end: number, ts: number): DecodeResult {
    if (proto === 0x0021) return this.ipv4(b, o, end, ts);
    if (proto === 0x0057) return this.ipv6(b, o, end, ts);
    return DEC_SKIP;
  }

  private ipv4(b: Buffer, o: number, end: number, ts: number): DecodeResult {
    if (end - o < 20) {
      this.malformed++;
      this.lastError = 'truncated_IP';
      return DEC_SKIP;
    }
    const vihl = b[o];
    if (vihl >> 4 !== 4) {
      this.malformed++;
      this.lastError = 'bad_IP_version';
      return DEC_SKIP;
    }
    const ihl = (vihl & 15) * 4;
    let total = rd16(b, o + 2);
    if (ihl < 20 || end - o < ihl) {
      this.malformed++;
      this.lastError = 'bad_IP_header_len';
      return DEC_SKIP;
    }
    if (total === 0) total = end - o; // TSO: length 0 in captures of offloaded segments
    if (total < ihl) {
      this.malformed++;
      this.lastError = 'bad_IP_total_len';
      return DEC_SKIP;
    }
    const fragField = rd16(b, o + 6);
    const proto = b[o + 9];
    const p = this.pkt;
    if (this.depth === 0) {
      p.ttl = b[o + 8];
      p.ipId = rd16(b, o + 4);
    }
    p.v6 = false;
    p.src[0] = rd32(b, o + 12);
    p.dst[0] = rd32(b, o + 16);
    p.src[1] = p.src[2] = p.src[3] = 0;
    p.dst[1] = p.dst[2] = p.dst[3] = 0;
    p.ipLen = total;
    const mf = fragField & 0x2000;
    const fo = (fragField & 0x1fff) * 8;
    let payEnd = o + total;
    if (payEnd > end) payEnd = end; // truncated capture: payload declared longer than captured
    if (mf || fo) {
      if (o + total > end) {
        this.fragDropped++;
        return DEC_SKIP;
      }
      const key = `4:${p.src[0]}:${p.dst[0]}:${proto}:${rd16(b, o + 4)}`;
      const whole = this.addFrag(key, false, proto, b.subarray(o, o + ihl), fo, b.subarray(o + ihl, o + total), !mf, ts);
      if (!whole) return DEC_FRAG;
      p.ipLen = ihl + whole.length;
      return this.transport(proto, whole, 0, whole.length, whole.length, ts);
    }
    return this.transport(proto, b, o + ihl, payEnd, o + total, ts);
  }

  private ipv6(b: Buffer, o: number, end: number, ts: number): DecodeResult {
    if (end - o < 40) {
      this.malformed++;
      this.lastError = 'truncated_IPv6';
      return DEC_SKIP;
    }
    if (b[o] >> 4 !== 6) {
      this.malformed++;
      this.lastError = 'bad_IP_version';
      return DEC_SKIP;
    }
    const plen = rd16(b, o + 4);
    let nh = b[o + 6];
    const p = this.pkt;
    if (this.depth === 0) {
      p.ttl = b[o + 7];
      p.ipId = 0;
    }
    p.v6 = true;
    for (let i = 0; i < 4; i++) {
      p.src[i] = rd32(b, o + 8 + 4 * i);
      p.dst[i] = rd32(b, o + 24 + 4 * i);
    }
    p.ipLen = plen + 40;
    const declEnd = o + 40 + plen;
    let payEnd = declEnd > end ? end : declEnd;
    let q = o + 40;
    for (let guard = 0; guard < 16; guard++) {
      switch (nh) {
        case 0:
        case 43:
        case 60:
        case 135:
        case 139:
        case 140: {
          if (payEnd - q < 8) return DEC_SKIP;
          const next = b[q];
          q += (b[q + 1] + 1) * 8;
          nh = next;
          continue;
        }
        case 51: {
          if (payEnd - q < 8) return DEC_SKIP;
          const next = b[q];
          q += (b[q + 1] + 2) * 4;
          nh = next;
          continue;
        }
        case 44: {
          if (payEnd - q < 8) return DEC_SKIP;
          const next = b[q];
          const offField = rd16(b, q + 2);
          const fo = offField & 0xfff8;
          const mf = offField & 1;
          const id = rd32(b, q + 4);
          q += 8;
          if (!mf && fo === 0) {
            nh = next; // atomic fragment
            continue;
          }
          if (declEnd > end) {
            this.fragDropped++;
            return DEC_SKIP;
          }
          const key = `6:${p.src.join(',')}:${p.dst.join(',')}:${id}`;
          const whole = this.addFrag(key, true, next, b.subarray(o, o + 40), fo, b.subarray(q, declEnd), !mf, ts);
          if (!whole) return DEC_FRAG;
          p.ipLen = 40 + whole.length;
          return this.transport(next, whole, 0, whole.length, whole.length, ts);
        }
        case 59:
          return DEC_OTHER;
        default:
          if (q > payEnd) return DEC_SKIP;
          return this.transport(nh, b, q, payEnd, declEnd, ts);
      }
    }
    return DEC_SKIP;
  }

  /**
   * Transport layer. `capEnd` = end of captured bytes, `declEnd` = end as the IP header declares.
   */
  private transport(proto: number, b: Buffer, o: number, capEnd: number, declEnd: number, ts: number): DecodeResult {
    const p = this.pkt;
    p.proto = proto;
    p.buf = b;
    switch (proto) {
      case 6: {
        if (capEnd - o < 20) {
          this.malformed++;
          this.lastError = 'truncated_header';
          return DEC_SKIP;
        }
        p.sport = rd16(b, o);
        p.dport = rd16(b, o + 2);
        p.seq = rd32(b, o + 4);
        p.ack = rd32(b, o + 8);
        const hl = (b[o + 12] >> 4) * 4;
        p.flags = b[o + 13];
        p.win = rd16(b, o + 14);
        if (hl < 20 || declEnd - o < hl) {
          this.malformed++;
          this.lastError = 'bad_TCP_header_len';
          return DEC_SKIP;
        }
        p.l4Off = o;
        p.l4HdrLen = hl;
        p.payOff = o + hl;
        p.payLen = declEnd - o - hl;
        p.payCap = capEnd - o - hl;
        if (p.payCap < 0) p.payCap = 0;
        if (p.payCap > p.payLen) p.payCap = p.payLen;
        return DEC_OK;
      }
      case 17: {
        if (capEnd - o < 8) {
          this.malformed++;
          this.lastError = 'truncated_header';
          return DEC_SKIP;
        }
        p.sport = rd16(b, o);
        p.dport = rd16(b, o + 2);
        let ulen = rd16(b, o + 4);
        const avail = declEnd - o;
        if (ulen < 8 || ulen > avail) ulen = avail; // Zeek: bad UDP length → use IP's
        p.flags = 0;
        p.l4Off = o;
        p.l4HdrLen = 8;
        p.payOff = o + 8;
        p.payLen = ulen - 8;
        p.payCap = Math.min(capEnd - o - 8, p.payLen);
        if (p.payCap < 0) p.payCap = 0;
        return DEC_OK;
      }
      case 1:
      case 58: {
        if (capEnd - o < 4) {
          this.malformed++;
          this.lastError = 'truncated_header';
          return DEC_SKIP;
        }
        p.icmpType = b[o];
        p.icmpCode = b[o + 1];
        p.flags = 0;
        p.l4Off = o;
        p.l4HdrLen = 8;
        p.payOff = o + 8;
        p.payLen = Math.max(0, declEnd - o - 8);
        p.payCap = Math.max(0, Math.min(capEnd - o - 8, p.payLen));
        return DEC_OK;
      }
      case 4:
      case 41: {
        // IP-in-IP: decode the inner packet (outer addresses are replaced)
        if (this.depth++ > 3) return DEC_SKIP;
        return proto === 4 ? this.ipv4(b, o, capEnd, ts) : this.ipv6(b, o, capEnd, ts);
      }
      case 47: {
        // GRE
        if (this.depth++ > 3 || capEnd - o < 4) return DEC_OTHER;
        const fl = rd16(b, o);
        const ver = fl & 7;
        const ptype = rd16(b, o + 2);
        let q = o + 4;
        if (fl & 0x8000) q += 4;
        if (fl & 0x2000) q += 4;
        if (fl & 0x1000) q += 4;
        if (ver === 1) {
          // enhanced GRE (PPTP): PPP inside
          if (fl & 0x0080) q += 4; // ack
          if (capEnd - q < 4) return DEC_OTHER;
          if (ptype !== 0x880b) return DEC_OTHER;
          let r = q;
          if (b[r] === 0xff && b[r + 1] === 0x03) r += 2;
          const pp = b[r] & 1 ? b[r++] : rd16(b, (r += 2) - 2);
          return this.ppp(pp === 0x21 ? 0x0021 : pp === 0x57 ? 0x0057 : pp, b, r, capEnd, ts) || DEC_OTHER;
        }
        if (ptype === 0x6558) return this.ether(b, q, capEnd, ts) || DEC_OTHER;
        if (ptype === 0x88be) {
          // ERSPAN type II has an 8-byte header; type I (no seq bit) none
          if (fl & 0x1000) q += 8;
          return this.ether(b, q, capEnd, ts) || DEC_OTHER;
        }
        if (ptype === 0x22eb) return this.ether(b, q + 12, capEnd, ts) || DEC_OTHER; // ERSPAN III
        if (ptype === 0x0800) return this.ipv4(b, q, capEnd, ts) || DEC_OTHER;
        if (ptype === 0x86dd) return this.ipv6(b, q, capEnd, ts) || DEC_OTHER;
        return DEC_OTHER;
      }
      default:
        p.sport = 0;
        p.dport = 0;
        p.payLen = Math.max(0, declEnd - o);
        p.payCap = 0;
        return DEC_OTHER;
    }
  }

  private addFrag(key: string, v6: boolean, nextHdr: number, hdr: Buffer, off: number, data: Buffer, last: boolean, ts: number): Buffer | null {
    let e = this.frags.get(key);
    if (e && ts - e.first > this.fragTimeout) {
      this.dropFrag(e);
      e = undefined;
    }
    if (!e) {
      if (this.frags.size >= this.maxFragDatagrams || this.fragBytes > this.maxFragBytes) {
        // evict the oldest pending datagram
        const oldest = this.frags.values().next().value as FragEntry | undefined;
        if (oldest) this.dropFrag(oldest);
      }
      e = { key, parts: [], total: -1, bytes: 0, hdr: Buffer.from(hdr), first: ts, v6, nextHdr };
      this.frags.set(key, e);
    }
    if (off + data.length > 65535 + 40) {
      this.dropFrag(e);
      this.lastError = 'excessively_large_fragment';
      return null;
    }
    if (off === 0) e.hdr = Buffer.from(hdr);
    e.parts.push({ off, data: Buffer.from(data) });
    e.bytes += data.length;
    this.fragBytes += data.length;
    if (last) e.total = off + data.length;
    if (e.total < 0) return null;
    // complete?
    e.parts.sort((a, c) => a.off - c.off);
    let covered = 0;
    for (const part of e.parts) {
      if (part.off > covered) return null;
      covered = Math.max(covered, part.off + part.data.length);
    }
    if (covered < e.total) return null;
    const whole = Buffer.alloc(e.total);
    // first-wins: write later parts first, earlier (sorted) ones override? keep first arrival: copy in reverse arrival order
    const order = e.parts.slice();
    for (let i = order.length - 1; i >= 0; i--) {
      const part = order[i];
      part.data.copy(whole, part.off, 0, Math.min(part.data.length, e.total - part.off));
    }
    this.dropFrag(e);
    return whole;
  }

  private dropFrag(e: FragEntry): void {
    this.fragBytes -= e.bytes;
    this.frags.delete(e.key);
  }
}

const IPC = new Uint8Array(15);
/** IPv4 address (uint32) → dotted quad, built as one flat string. */
export function ip4ToString(v: number): string {
  let k = 0;
  for (let sh = 24; sh >= 0; sh -= 8) {
    const x = (v >>> sh) & 255;
    if (x >= 100) {
      IPC[k++] = 48 + ((x / 100) | 0);
      IPC[k++] = 48 + (((x / 10) | 0) % 10);
    } else if (x >= 10) IPC[k++] = 48 + ((x / 10) | 0);
    IPC[k++] = 48 + (x % 10);
    if (sh) IPC[k++] = 46;
  }
  const c = IPC;
  switch (k) {
    case 7:
      return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
    case 8:
      return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
    case 9:
      return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
    case 10:
      return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
    case 11:
      return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10]);
    case 12:
      return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]);
    case 13:
      return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12]);
    case 14:
      return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]);
    default:
      return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14]);
  }
}

/** IPv6 address as four uint32 → RFC 5952 text. */
export function ip6ToString(a: ArrayLike<number>): string {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) {
    g.push(a[i] >>> 16, a[i] & 0xffff);
  }
  // IPv4-mapped
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${ip4ToString(a[3])}`;
  }
  let bestS = -1;
  let bestL = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestL && j - i >= 2) {
      bestS = i;
      bestL = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestS < 0) return hex.join(':');
  return `${hex.slice(0, bestS).join(':')}::${hex.slice(bestS + bestL).join(':')}`;
}
