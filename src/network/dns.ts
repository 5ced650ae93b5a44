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
  3: 'MD', 4: 'MF', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS', 14: 'MINFO', 19: 'X25', 20: 'ISDN', 21: 'RT', 22: 'NSAP', 23: 'NSAP-PTR', 26: 'PX', 27: 'GPOS', 30: 'NXT', 31: 'EID', 34: 'ATMA', 38: 'A6', 40: 'SINK', 42: 'APL', 45: 'IPSECKEY', 49: 'DHCID', 55: 'HIP', 59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY', 62: 'CSYNC', 63: 'ZONEMD', 100: 'UINFO', 101: 'UID', 102: 'GID', 103: 'UNSPEC', 104: 'NID', 105: 'L32', 106: 'L64', 107: 'LP', 108: 'EUI48', 109: 'EUI64', 253: 'MAILB', 254: 'MAILA', 32768: 'TA', 32769: 'DLV',
  32: 'NB', // NetBIOS name service uses 32/33 (NB, NBSTAT) on port 137
};
export const RCODES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
  16: 'BADVERS', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG', 22: 'BADTRUNC', 23: 'BADCOOKIE',
};

export interface DnsAnswer {
  name: string;
  type: string;
  /** Zeek's dns.log rendering of the record ('' for WKS, as Zeek logs nothing for it). */
  data: string;
  ttl: number;
  /** Record types Zeek's dns.log has no handler for (HINFO, CAA, OPT, TKEY, TSIG): not logged, flags not taken. */
  unlogged?: boolean;
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
  nscount: number;
  arcount: number;
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

const NO_LOG_TYPES = new Set([13, 41, 249, 250, 257]);

function charStrings(b: Buffer, off: number, end: number, tag: string): string {
  const parts: string[] = [];
  let p = off;
  while (p < end) {
    const l = b[p];
    if (p + 1 + l > end) break;
    parts.push(`${tag} ${l} ${b.toString('latin1', p + 1, p + 1 + l)}`);
    p += 1 + l;
  }
  return parts.join(' ');
}

/**
 * Render one record's data the way Zeek's dns.log does (base/protocols/dns/main.zeek):
 * addresses, target names, "TXT <len> <str>" per string, "RRSIG <type covered> <signer>",
 * "DNSKEY <alg>", "DS <alg> <digest type>", "NSEC <owner> <next>", "NSEC3", "NSEC3PARAM",
 * "SSHFP: <hex>", "LOC:  <size> <horiz> <vert>", "BIND9 signing signal", "<unknown type=N>".
 */
export function rdataText(b: Buffer, type: number, off: number, len: number, owner = ''): string {
  const end = off + len;
  switch (type) {
    case 1:
      return len === 4 ? ip4ToString(b.readUInt32BE(off)) : '<bad A>';
    case 28:
      if (len !== 16) return '<bad AAAA>';
      return ip6ToString([b.readUInt32BE(off), b.readUInt32BE(off + 4), b.readUInt32BE(off + 8), b.readUInt32BE(off + 12)]);
    case 2:
    case 5:
    case 12: {
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
    case 11:
      return '';
    case 16:
      return charStrings(b, off, end, 'TXT');
    case 99:
      return charStrings(b, off, end, 'SPF');
    case 46: {
      if (len < 19) return '<bad RRSIG>';
      const n = readName(b, off + 18);
      if (!n) return '<bad RRSIG>';
      return `RRSIG ${b.readUInt16BE(off)} ${n[0] === '' ? '<Root>' : n[0]}`;
    }
    case 48:
      return len < 4 ? '<bad DNSKEY>' : `DNSKEY ${b[off + 3]}`;
    case 43:
      return len < 4 ? '<bad DS>' : `DS ${b[off + 2]} ${b[off + 3]}`;
    case 47: {
      const n = readName(b, off);
      return n ? `NSEC ${owner} ${n[0]}` : '<bad NSEC>';
    }
    case 50:
      return 'NSEC3';
    case 51:
      return 'NSEC3PARAM';
    case 65534:
      return 'BIND9 signing signal';
    case 44:
      return len < 2 ? '<bad SSHFP>' : `SSHFP: ${b.toString('hex', off + 2, end)}`;
    case 29:
      return len < 16 ? '<bad LOC>' : `LOC:  ${b[off + 1]} ${b[off + 2]} ${b[off + 3]}`;
    default:
      return `<unknown type=${type}>`;
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
    nscount: b.readUInt16BE(8),
    arcount: b.readUInt16BE(10),
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
  const zoneClass = m.qclass ?? 1;
  // Dynamic UPDATE (opcode 5, RFC 2136): the answer section holds prerequisites, the authority section the updates
  const sections = m.opcode === 5 ? [m.ancount, m.nscount] : [m.ancount];
  for (let sec = 0; sec < sections.length; sec++) {
    for (let i = 0; i < sections[sec] && i < 256; i++) {
      const n = readName(b, p);
      if (!n || n[1] + 10 > b.length) return m;
      const type = b.readUInt16BE(n[1]);
      const cls = b.readUInt16BE(n[1] + 2);
      const ttl = b.readUInt32BE(n[1] + 4);
      const rdlen = b.readUInt16BE(n[1] + 8);
      const rd = n[1] + 10;
      if (rd + rdlen > b.length) return m;
      const tname = QTYPES[type] ?? String(type);
      let data = rdlen ? rdataText(b, type, rd, rdlen, n[0]) : '';
      if (m.opcode === 5) data = updateText(sec === 0, cls, zoneClass, type, tname, n[0], data);
      // update records are typed "pre:TYPE" / "add:TYPE" / "del:TYPE" so they are never taken for resolutions
      const a: DnsAnswer = { name: n[0], type: m.opcode === 5 ? `${data.slice(0, 3)}:${tname}` : tname, data, ttl };
      if (NO_LOG_TYPES.has(type) && m.opcode !== 5) a.unlogged = true;
      m.answers.push(a);
      p = rd + rdlen;
    }
  }
  return m;
}

/**
 * A dynamic-update record in words (RFC 2136 sections 2.4 and 2.5): prerequisites
 * "pre: ..." and updates "add: TYPE name data" / "del: ...". The forms
 * "pre: NoRRSet TYPE name", "del: RRSet TYPE" and "add: TYPE name data" are
 * Zeek's; the other forms follow the same pattern.
 */
export function updateText(prereq: boolean, cls: number, zoneClass: number, type: number, tname: string, name: string, data: string): string {
  const ANY = 255;
  const NONE = 254;
  if (prereq) {
    if (cls === ANY) return type === ANY ? `pre: YXDomain ${name}` : `pre: RRSet ${tname} ${name}`;
    if (cls === NONE) return type === ANY ? `pre: NXDomain ${name}` : `pre: NoRRSet ${tname} ${name}`;
    return `pre: RRSet ${tname} ${name} ${data}`.trimEnd();
  }
  if (cls === ANY) return type === ANY ? `del: all RRSets ${name}` : `del: RRSet ${tname}`;
  if (cls === NONE) return `del: ${tname} ${name} ${data}`.trimEnd();
  void zoneClass;
  return `add: ${tname} ${name} ${data}`.trimEnd();
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

/** One dns.log transaction being assembled (Zeek's DNS::Info). */
interface Txn {
  id: number;
  ts: number;
  frame: number;
  endFrame: number;
  opcode: number;
  sawQuery: boolean;
  sawReply: boolean;
  query?: string;
  qtype?: number;
  qclass?: number;
  rd: boolean;
  tc: boolean;
  z: number;
  aa: boolean;
  ra: boolean;
  rcode?: number;
  rejected: boolean;
  answers: DnsAnswer[];
}

const MAX_PENDING = 50;

/**
 * Pairs queries and replies as Zeek's base/protocols/dns/main.zeek does: per
 * transaction id a FIFO of unanswered queries and one of unmatched replies; a
 * transaction is recorded when both sides were seen, the rest at connection
 * end. Fields follow Zeek's semantics: RD/TC/Z/qtype/qclass/query from the
 * query; rcode and `rejected` from the reply; AA/RA and answers only from
 * answer-section records of a reply.
 */
class DnsConn {
  private queries = new Map<number, Txn[]>();
  private replies = new Map<number, Txn[]>();
  private open = new Set<Txn>();
  constructor(private flow: FlowInfo, private emit: Emit) {}

  private take(map: Map<number, Txn[]>, id: number): Txn | undefined {
    const l = map.get(id);
    if (!l || !l.length) return undefined;
    const t = l.shift()!;
    if (!l.length) map.delete(id);
    return t;
  }

  /** Zeek's enqueue_new_msg: more than 50 pending ids, or 50 pending messages for one id, are given up on and recorded unmatched. */
  private put(map: Map<number, Txn[]>, t: Txn): void {
    let l = map.get(t.id);
    if (!l) {
      if (map.size > MAX_PENDING) {
        for (const q of map.values()) for (const o of q) this.record(o);
        map.clear();
      }
      map.set(t.id, (l = []));
    } else if (l.length > MAX_PENDING) for (const o of l.splice(0)) this.record(o);
    l.push(t);
  }

  message(dir: Dir, b: Buffer, frame: number, ts: number): void {
    void dir;
    const m = parseDns(b);
    if (!m) {
      this.emit({ ...flowFields(this.flow, 'weird', ts, frame), 'event.provider': 'dns', 'event.action': 'dns_unmatched_msg_quantity', 'weird.name': 'DNS_truncated_or_malformed' });
      return;
    }
    const isQuery = !m.qr;
    // mDNS (RFC 6762 §18.1): multicast messages carry id 0 and are not request/response pairs
    const mdnsUnpaired = m.id === 0 && (this.flow.respPort === 5353 || this.flow.origPort === 5353);
    let t = mdnsUnpaired ? undefined : this.take(isQuery ? this.replies : this.queries, m.id);
    if (!t) {
      t = { id: m.id, ts, frame, endFrame: frame, opcode: m.opcode, sawQuery: false, sawReply: false, rd: false, tc: false, z: 0, aa: false, ra: false, rejected: false, answers: [] };
      if (!mdnsUnpaired) this.put(isQuery ? this.queries : this.replies, t);
      this.open.add(t);
    }
    t.endFrame = frame;
    if (isQuery) {
      t.sawQuery = true;
      if (m.qname !== undefined && m.opcode !== 5) {
        // dynamic updates carry a zone section, not a question
        t.rd = m.rd;
        t.tc = m.tc;
        t.z = m.z;
        t.qtype = m.qtype;
        t.qclass = m.qclass;
        t.query = m.qname;
      }
      if (m.opcode === 5) {
        for (const a of m.answers) {
          if (t.query === undefined) t.query = a.name;
          t.answers.push(a);
        }
      }
    } else {
      t.sawReply = true;
      t.rcode = m.rcode;
      if (m.rcode !== 0 && m.qdcount === 0) t.rejected = true;
      if (m.qdcount > 0 && m.ancount === 0 && m.nscount === 0 && m.arcount === 0) t.rejected = true;
      // replies to dynamic updates echo the update; Zeek logs the request's
      for (const a of m.opcode === 5 ? [] : m.answers) {
        if (a.unlogged) continue;
        if (t.query === undefined) t.query = a.name;
        t.aa = m.aa;
        t.ra = m.ra;
        if (a.data !== '') t.answers.push(a);
      }
    }
    if ((t.sawQuery && t.sawReply) || mdnsUnpaired) this.record(t);
  }

  private record(t: Txn): void {
    if (!this.open.delete(t)) return;
    const ev: SpoorEvent = {
      ...flowFields(this.flow, 'dns', t.ts, t.frame),
      'event.provider': 'dns',
      'event.action': t.sawReply ? 'answer' : 'query',
      'dns.id': t.id,
      'dns.opcode': t.opcode,
      'dns.flags.rd': t.rd,
      'dns.flags.aa': t.aa,
      'dns.flags.tc': t.tc,
      'dns.flags.ra': t.ra,
      'dns.z': t.z,
      'dns.rejected': t.rejected,
    };
    if (t.query !== undefined) ev['dns.question.name'] = t.query;
    if (t.qtype !== undefined) {
      ev['dns.question.type'] = QTYPES[t.qtype] ?? String(t.qtype);
      ev['dns.question.type_code'] = t.qtype;
    }
    if (t.qclass !== undefined) ev['dns.question.class'] = t.qclass;
    if (t.rcode !== undefined) {
      ev['dns.response_code'] = RCODES[t.rcode] ?? String(t.rcode);
      ev['dns.response_code_num'] = t.rcode;
      ev['dns.answers'] = t.answers;
      const ips = t.opcode === 5 ? [] : t.answers.filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => a.data);
      if (ips.length) ev['dns.resolved_ip'] = ips;
      ev['event.outcome'] = t.rcode === 0 ? 'success' : 'failure';
    } else ev['event.outcome'] = 'unknown';
    this.emit(ev);
  }

  end(): void {
    for (const t of [...this.open]) this.record(t);
    this.queries.clear();
    this.replies.clear();
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
