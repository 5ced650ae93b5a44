/**
 * DNS over UDP and TCP: one `dns` record per query/response pair (as Zeek's
 * dns.log), with question, rcode, flags, answers (name, type, data, TTL) and
 * resolved addresses. Name compression is followed with loop protection
 * (at most 64 pointer jumps, names ≤ 255 bytes). Malformed messages emit a
 * `weird` and are skipped.
 */
import type { SpoorEvent } from '../core/event.js';
import { flowFields, type AnalyzerFactory, type DatagramAnalyzer, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from './analyzer.js';
import { ip4ToString, ip6ToString } from './decode.js';

export const QTYPES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 24: 'SIG', 25: 'KEY', 28: 'AAAA', 29: 'LOC',
  33: 'SRV', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 39: 'DNAME', 41: 'OPT', 43: 'DS', 44: 'SSHFP', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 50: 'NSEC3',
  51: 'NSEC3PARAM', 52: 'TLSA', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR', 255: '*', 256: 'URI', 257: 'CAA',
  32: 'NB', // NetBIOS name service uses 32/33 (NB, NBSTAT) on port 137
};
export const RCODES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
  16: 'BADVERS', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG', 22: 'BADTRUNC', 23: 'BADCOOKIE',
};

export interface DnsAnswer {
  name: string;
  type: string;
  data: string;
  ttl: number;
}

export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  z: number;
  rcode: number;
  qname?: string;
  qtype?: number;
  qclass?: number;
  answers: DnsAnswer[];
  qdcount: number;
  ancount: number;
}

/** Read a (possibly compressed) domain name at `off`. Returns [name, offset after the name in place] or null. */
export function readName(b: Buffer, off: number): [string, number] | null {
  let out = '';
  let p = off;
  let after = -1;
  let jumps = 0;
  let len = 0;
  for (;;) {
    if (p >= b.length) return null;
    const l = b[p];
    if (l === 0) {
      if (after < 0) after = p + 1;
      break;
    }
    const kind = l & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= b.length) return null;
      const ptr = ((l & 0x3f) << 8) | b[p + 1];
      if (after < 0) after = p + 2;
      if (++jumps > 64 || ptr >= b.length) return null; // loop / bad pointer
      p = ptr;
      continue;
    }
    if (kind !== 0) return null; // extended label types unsupported
    if (p + 1 + l > b.length) return null;
    len += l + 1;
    if (len > 255) return null;
    let label = '';
    for (let i = p + 1; i <= p + l; i++) {
      const c = b[i];
      label += c > 0x20 && c < 0x7f && c !== 0x5c && c !== 0x2e ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
    }
    out += out ? '.' + label : label;
    p += l + 1;
  }
  return [out, after];
}

function rdataText(b: Buffer, type: number, off: number, len: number): string {
  const end = off + len;
  switch (type) {
    case 1:
      return len === 4 ? ip4ToString(b.readUInt32BE(off)) : '<bad A>';
    case 28:
      if (len !== 16) return '<bad AAAA>';
      return ip6ToString([b.readUInt32BE(off), b.readUInt32BE(off + 4), b.readUInt32BE(off + 8), b.readUInt32BE(off + 12)]);
    case 2:
    case 5:
    case 12:
    case 39: {
      const n = readName(b, off);
      return n ? n[0] : '<bad name>';
    }
    case 15: {
      if (len < 3) return '<bad MX>';
      const n = readName(b, off + 2);
      return n ? n[0] : '<bad MX>';
    }
    case 33: {
      if (len < 7) return '<bad SRV>';
      const n = readName(b, off + 6);
      return n ? n[0] : '<bad SRV>';
    }
    case 6: {
      const n = readName(b, off);
      return n ? n[0] : '<bad SOA>';
    }
    case 16:
    case 99: {
      const parts: string[] = [];
      let p = off;
      while (p < end) {
        const l = b[p];
        if (p + 1 + l > end) break;
        parts.push(b.toString('latin1', p + 1, p + 1 + l));
        p += 1 + l;
      }
      return `TXT ${parts.length} ${parts.join(' ')}`;
    }
    default:
      return `<${QTYPES[type] ?? type}>`;
  }
}

/** Parse one DNS message; null when malformed. */
export function parseDns(b: Buffer): DnsMessage | null {
  if (b.length < 12) return null;
  const flags = b.readUInt16BE(2);
  const m: DnsMessage = {
    id: b.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 15,
    aa: (flags & 0x400) !== 0,
    tc: (flags & 0x200) !== 0,
    rd: (flags & 0x100) !== 0,
    ra: (flags & 0x80) !== 0,
    z: (flags >> 4) & 7,
    rcode: flags & 15,
    answers: [],
    qdcount: b.readUInt16BE(4),
    ancount: b.readUInt16BE(6),
  };
  let p = 12;
  for (let i = 0; i < m.qdcount && i < 16; i++) {
    const n = readName(b, p);
    if (!n || n[1] + 4 > b.length) return i === 0 ? null : m;
    if (i === 0) {
      m.qname = n[0];
      m.qtype = b.readUInt16BE(n[1]);
      m.qclass = b.readUInt16BE(n[1] + 2);
    }
    p = n[1] + 4;
  }
  for (let i = 0; i < m.ancount && i < 256; i++) {
    const n = readName(b, p);
    if (!n || n[1] + 10 > b.length) break;
    const type = b.readUInt16BE(n[1]);
    const ttl = b.readUInt32BE(n[1] + 4);
    const rdlen = b.readUInt16BE(n[1] + 8);
    const rd = n[1] + 10;
    if (rd + rdlen > b.length) break;
    m.answers.push({ name: n[0], type: QTYPES[type] ?? String(type), data: rdataText(b, type, rd, rdlen), ttl });
    p = rd + rdlen;
  }
  return m;
}

function plausibleDns(b: Buffer): boolean {
  if (b.length < 12) return false;
  const flags = b.readUInt16BE(2);
  const opcode = (flags >> 11) & 15;
  if (opcode > 6 || opcode === 3) return false;
  const qd = b.readUInt16BE(4);
  const an = b.readUInt16BE(6);
  if (qd > 8 || an > 512) return false;
  if (qd === 0 && !(flags & 0x8000)) return false;
  if (qd > 0) {
    const n = readName(b, 12);
    if (!n || n[1] + 4 > b.length) return false;
  }
  return true;
}

class DnsConn {
  private pending = new Map<number, { m: DnsMessage; ts: number; frame: number }>();
  constructor(private flow: FlowInfo, private emit: Emit) {}

  message(dir: Dir, b: Buffer, frame: number, ts: number): void {
    const m = parseDns(b);
    if (!m) {
      this.emit({ ...flowFields(this.flow, 'weird', ts, frame), 'event.provider': 'dns', 'event.action': 'dns_unmatched_msg_quantity', 'weird.name': 'DNS_truncated_or_malformed' });
      return;
    }
    if (!m.qr) {
      const old = this.pending.get(m.id);
      if (old) this.record(old.m, null, old.ts, old.frame);
      if (this.pending.size > 1000) {
        const k = this.pending.keys().next().value as number;
        const o = this.pending.get(k)!;
        this.pending.delete(k);
        this.record(o.m, null, o.ts, o.frame);
      }
      this.pending.set(m.id, { m, ts, frame });
      return;
    }
    const q = this.pending.get(m.id);
    if (q) {
      this.pending.delete(m.id);
      this.record(q.m, m, q.ts, frame);
    } else this.record(null, m, ts, frame);
    void dir;
  }

  private record(q: DnsMessage | null, r: DnsMessage | null, ts: number, frame: number): void {
    const src = q ?? r!;
    const ev: SpoorEvent = {
      ...flowFields(this.flow, 'dns', ts, frame),
      'event.provider': 'dns',
      'event.action': r ? 'answer' : 'query',
      'dns.id': src.id,
      'dns.opcode': src.opcode,
      'dns.flags.rd': src.rd,
      'dns.flags.aa': src.aa,
      'dns.flags.tc': src.tc,
      'dns.flags.ra': r ? r.ra : false,
      'dns.z': src.z,
    };
    const qn = q?.qname ?? r?.qname;
    const qt = q?.qtype ?? r?.qtype;
    if (qn !== undefined) ev['dns.question.name'] = qn;
    if (qt !== undefined) {
      ev['dns.question.type'] = QTYPES[qt] ?? String(qt);
      ev['dns.question.type_code'] = qt;
    }
    const qc = q?.qclass ?? r?.qclass;
    if (qc !== undefined) ev['dns.question.class'] = qc;
    if (r) {
      ev['dns.response_code'] = RCODES[r.rcode] ?? String(r.rcode);
      ev['dns.response_code_num'] = r.rcode;
      ev['dns.answers'] = r.answers;
      const ips = r.answers.filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => a.data);
      if (ips.length) ev['dns.resolved_ip'] = ips;
      ev['event.outcome'] = r.rcode === 0 ? 'success' : 'failure';
      ev['dns.rejected'] = r.rcode !== 0 && !r.answers.length && r.rcode === 5;
    } else {
      ev['event.outcome'] = 'unknown';
    }
    this.emit(ev);
  }

  end(): void {
    for (const p of this.pending.values()) this.record(p.m, null, p.ts, p.frame);
    this.pending.clear();
  }
}

class DnsDatagram implements DatagramAnalyzer {
  private c: DnsConn;
  constructor(flow: FlowInfo, emit: Emit) {
    this.c = new DnsConn(flow, emit);
  }
  datagram(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    this.c.message(dir, bytes, frame, ts);
  }
  end(): void {
    this.c.end();
  }
}

class DnsStream implements StreamAnalyzer {
  private c: DnsConn;
  private bufs: [Buffer | null, Buffer | null] = [null, null];
  private dead: [boolean, boolean] = [false, false];
  constructor(flow: FlowInfo, emit: Emit) {
    this.c = new DnsConn(flow, emit);
  }
  data(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    if (this.dead[dir]) return;
    let b = this.bufs[dir] ? Buffer.concat([this.bufs[dir]!, bytes]) : bytes;
    this.bufs[dir] = null;
    let off = 0;
    while (b.length - off >= 2) {
      const len = b.readUInt16BE(off);
      if (b.length - off - 2 < len) break;
      this.c.message(dir, b.subarray(off + 2, off + 2 + len), frame, ts);
      off += 2 + len;
    }
    if (off < b.length) {
      if (b.length - off > 70000) {
        this.dead[dir] = true;
        return;
      }
      this.bufs[dir] = Buffer.from(b.subarray(off));
    }
  }
  gap(dir: Dir): void {
    this.bufs[dir] = null;
    this.dead[dir] = true;
  }
  end(): void {
    this.c.end();
  }
}

const DNS_PORTS = [53, 137, 5353, 5355];

export const dnsUdpAnalyzer: AnalyzerFactory = {
  name: 'dns',
  transport: 'udp',
  ports: DNS_PORTS,
  probe(orig: Buffer, resp: Buffer, flow: FlowInfo): boolean {
    const onPort = DNS_PORTS.includes(flow.respPort) || DNS_PORTS.includes(flow.origPort);
    if (!onPort) return false; // DNS content is too generic to claim other ports
    return plausibleDns(orig.length ? orig : resp);
  },
  createDatagram(flow: FlowInfo, emit: Emit): DatagramAnalyzer {
    return new DnsDatagram(flow, emit);
  },
};

export const dnsTcpAnalyzer: AnalyzerFactory = {
  name: 'dns',
  transport: 'tcp',
  ports: [53],
  probe(orig: Buffer, resp: Buffer, flow: FlowInfo): boolean {
    if (flow.respPort !== 53 && flow.origPort !== 53) return false;
    const b = orig.length ? orig : resp;
    if (b.length < 14) return false;
    const len = b.readUInt16BE(0);
    return len >= 12 && plausibleDns(b.subarray(2, 2 + len));
  },
  createStream(flow: FlowInfo, emit: Emit): StreamAnalyzer {
    return new DnsStream(flow, emit);
  },
};
