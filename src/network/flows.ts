/**
 * The flow engine: connections with Zeek conn.log semantics.
 *
 * TCP endpoint state machine, history letters, sizes (from sequence numbers,
 * as Zeek's TCP_Endpoint::Size), gap accounting (missed_bytes), connection
 * reuse, role flips (likely server ports, SYN/SYN-ACK reversal) and the
 * timers that end connections (attempt 5 s, close/reset delay 5 s, inactivity
 * tcp 5 min / udp 1 min / icmp 1 min) follow Zeek's TCPSessionAdapter,
 * TCP_Endpoint, TCP_Reassembler and base/protocols/conn/main.zeek.
 *
 * Memory is bounded: the flow table holds at most `maxFlows` connections
 * (oldest attempts, then longest-idle connections are ended early when full);
 * stream reassembly buffers are capped per flow and in total.
 *
 * Hot path: one reused PacketInfo in, a numeric hash lookup, no per-packet
 * allocations except Buffer views handed to analyzers.
 */
import type { SpoorEvent } from '../core/event.js';
import type { HomeNet } from '../core/homenet.js';
import type { AnalyzerFactory, DatagramAnalyzer, Dir, FlowInfo, StreamAnalyzer } from './analyzer.js';
import { communityIdWords, icmpCounterpart } from './communityid.js';
import { ip4ToString, ip6ToString, type PacketInfo } from './decode.js';
import { StreamReasm, type ReasmBudget, type ReasmSink } from './reassembly.js';

// TCP endpoint states (Zeek's numbering)
const INACTIVE = 0;
const SYN_SENT = 1;
const SYN_ACK_SENT = 2;
const PARTIAL = 3;
const ESTABLISHED = 4;
const CLOSED = 5;
const RESET = 6;

const F_FIN = 1;
const F_SYN = 2;
const F_RST = 4;
const F_ACK = 16;

// history masks (orig; resp << 16)
const H_SYN = 0x1;
const H_FIN = 0x2;
const H_RST = 0x4;
const H_FIN_RST = 0x8;
const H_DATA = 0x10;
const H_ACK = 0x20;
const H_MULTI = 0x40;

const TOO_LARGE = 1048576;

const LIST_NONE = -1;
const L_ATTEMPT = 0;
const L_CLOSED = 1;
const L_TCP = 2;
const L_UDP = 3;
const L_ICMP = 4;
const NLISTS = 5;

/**
 * Ports Zeek's analyzers register (likely_server_ports), used to decide who
 * the originator is when the first packet is not a SYN.
 */
const LIKELY_SERVER_PORTS = new Set<number>([
  21, 22, 23, 25, 53, 67, 68, 69, 80, 81, 88, 102, 110, 111, 123, 135, 137, 138, 139, 143, 161, 162, 179, 389, 443, 445, 465, 502, 514, 563, 585, 587,
  614, 636, 749, 853, 989, 990, 992, 993, 994, 995, 1080, 1194, 1433, 1521, 1701, 1812, 1813, 1883, 1900, 2049, 2123, 2152, 2181, 2404, 2575, 3128,
  3268, 3306, 3389, 3478, 3544, 4500, 4789, 5060, 5061, 5072, 5222, 5223, 5269, 5353, 5355, 5432, 5671, 5672, 5900, 6379, 6666, 6667, 6668,
  6669, 8000, 8080, 8081, 8443, 8888, 9200, 11211, 20000, 47808,
]);

export interface FlowOptions {
  evidence: string;
  homeNet?: HomeNet;
  analyzers?: AnalyzerFactory[];
  emit: (e: SpoorEvent) => void;
  /** Most connections held at once (default 250 000). */
  maxFlows?: number;
  /** Out-of-order bytes buffered per stream direction (default 1 MiB). */
  maxReasmPerFlow?: number;
  /** Out-of-order bytes buffered in total (default 128 MiB). */
  maxReasmTotal?: number;
  /** Bytes examined per direction before giving up on protocol detection (default 4096). */
  probeBytes?: number;
  tcpInactivity?: number;
  udpInactivity?: number;
  icmpInactivity?: number;
}

class Endpoint {
  state = INACTIVE;
  prev = INACTIVE;
  start = 0;
  lastAbs = 0;
  relLast = 0;
  ackAbs = 0;
  relAck = 0;
  finCnt = 0;
  rstCnt = 0;
  finSeq = 0;
  histSyn = 0;
  histFin = 0;
  histRst = 0;
  rxmtCnt = 0;
  rxmtTh = 1;
  win0Cnt = 0;
  win0Th = 1;
  gapCnt = 0;
  gapTh = 1;
  didClose = false;
  pkts = 0;
  ipBytes = 0;
  /** UDP/ICMP payload bytes. */
  bytes = 0;
  active = false;
  reasm: StreamReasm | null = null;
  // first packet fingerprint
  fpTtl = -1;
  fpWin = 0;
  fpIpId = 0;
  fpSeq = 0;

  size(peer: Endpoint): number {
    if (this.prev === SYN_SENT && this.state === RESET && peer.state === INACTIVE && !(this.relAck === 0 || this.relAck === 1)) return 0;
    let s = this.relLast > this.relAck ? this.relLast : this.relAck;
    if (s > 0) s--;
    if (this.finCnt > 0 && s > 0) s--;
    return s;
  }
}

export class Flow implements ReasmSink {
  hash = 0;
  chain: Flow | null = null;
  v6 = false;
  proto = 0;
  /** orig address words then resp address words */
  readonly addr: number[] = [0, 0, 0, 0, 0, 0, 0, 0];
  origPort = 0;
  respPort = 0;
  uid = '';
  start = 0;
  lastTime = 0;
  firstFrame = 0;
  lastFrame = 0;
  history = '';
  histSeen = 0;
  orig = new Endpoint();
  resp = new Endpoint();
  missed = 0;
  // timers / lists
  list = LIST_NONE;
  lprev: Flow | null = null;
  lnext: Flow | null = null;
  attemptAt = 0;
  closeAt = 0;
  closeComplete = false;
  // analyzers
  info: FlowInfo | null = null;
  service = '';
  stream: StreamAnalyzer | null = null;
  dgram: DatagramAnalyzer | null = null;
  probing = true;
  probeOrig: Buffer[] | null = null;
  probeResp: Buffer[] | null = null;
  probeLen0 = 0;
  probeLen1 = 0;
  probeLog: { dir: Dir; b: Buffer; frame: number; ts: number }[] | null = null;
  probeTries = 0;
  dead = false;

  constructor(private eng: FlowEngine) {}

  deliver(dir: 0 | 1, data: Buffer, frame: number, ts: number): void {
    this.eng.deliverStream(this, dir, data, frame, ts);
  }
  gap(dir: 0 | 1, len: number): void {
    if (this.stream?.gap) {
      try {
        this.stream.gap(dir, len);
      } catch {
        /* analyzers must not throw; ignore */
      }
    }
  }
}

export interface FlowStats {
  packets: number;
  flows: number;
  evicted: number;
  active: number;
}

export class FlowEngine {
  private table = new Map<number, Flow>();
  private count = 0;
  private heads: (Flow | null)[] = new Array(NLISTS).fill(null);
  private tails: (Flow | null)[] = new Array(NLISTS).fill(null);
  private lastSweep = 0;
  private uidState: number;
  private readonly budget: ReasmBudget;
  private readonly maxFlows: number;
  private readonly maxReasmPerFlow: number;
  private readonly probeBytes: number;
  private readonly timeouts: number[];
  private readonly tcpFactories: AnalyzerFactory[];
  private readonly udpFactories: AnalyzerFactory[];
  readonly stats: FlowStats = { packets: 0, flows: 0, evicted: 0, active: 0 };
  private readonly emit: (e: SpoorEvent) => void;
  private readonly evidence: string;
  private readonly homeNet: HomeNet | undefined;
  private readonly aemit: (e: SpoorEvent) => void;

  constructor(opts: FlowOptions) {
    this.emit = opts.emit;
    this.evidence = opts.evidence;
    this.homeNet = opts.homeNet;
    this.maxFlows = opts.maxFlows ?? 250_000;
    this.maxReasmPerFlow = opts.maxReasmPerFlow ?? 1 << 20;
    this.budget = { used: 0, max: opts.maxReasmTotal ?? 128 << 20 };
    this.probeBytes = opts.probeBytes ?? 4096;
    this.timeouts = [5, 5, opts.tcpInactivity ?? 300, opts.udpInactivity ?? 60, opts.icmpInactivity ?? 60];
    const fs = opts.analyzers ?? [];
    this.tcpFactories = fs.filter((f) => f.transport === 'tcp' && f.createStream);
    this.udpFactories = fs.filter((f) => f.transport === 'udp' && f.createDatagram);
    let h = 0x9e3779b9;
    for (let i = 0; i < this.evidence.length; i++) h = Math.imul(h ^ this.evidence.charCodeAt(i), 0x85ebca6b);
    this.uidState = h | 1;
    const emit = this.emit;
    this.aemit = (e: SpoorEvent) => {
      try {
        emit(e);
      } catch {
        /* sink errors are not ours to handle here */
      }
    };
  }

  // ------------------------------------------------------------ lookup
  private static hashOf(p: PacketInfo): number {
    let a = Math.imul(p.src[0] ^ (p.sport << 16) ^ p.sport, 0x9e3779b1);
    let b = Math.imul(p.dst[0] ^ (p.dport << 16) ^ p.dport, 0x9e3779b1);
    if (p.v6) {
      a ^= Math.imul(p.src[1] ^ p.src[2] ^ p.src[3], 0x85ebca6b);
      b ^= Math.imul(p.dst[1] ^ p.dst[2] ^ p.dst[3], 0x85ebca6b);
    }
    a ^= a >>> 15;
    b ^= b >>> 15;
    return ((a + b) ^ (p.proto * 0x27d4eb2d)) | 0;
  }

  /** 0: packet is orig→resp, 1: resp→orig, -1: not this flow. */
  private static dirOf(f: Flow, p: PacketInfo, sport: number, dport: number): number {
    if (f.proto !== p.proto || f.v6 !== p.v6) return -1;
    const a = f.addr;
    const s = p.src;
    const d = p.dst;
    if (f.origPort === sport && f.respPort === dport && a[0] === s[0] && a[4] === d[0] && a[1] === s[1] && a[2] === s[2] && a[3] === s[3] && a[5] === d[1] && a[6] === d[2] && a[7] === d[3]) return 0;
    if (f.origPort === dport && f.respPort === sport && a[0] === d[0] && a[4] === s[0] && a[1] === d[1] && a[2] === d[2] && a[3] === d[3] && a[5] === s[1] && a[6] === s[2] && a[7] === s[3]) return 1;
    return -1;
  }

  /** Process one decoded transport packet. */
  packet(p: PacketInfo, frame: number, ts: number): void {
    this.stats.packets++;
    if (ts - this.lastSweep >= 0.25 || ts < this.lastSweep) this.sweep(ts);
    const proto = p.proto;
    let sport = p.sport;
    let dport = p.dport;
    if (proto === 1 || proto === 58) {
      const c = icmpCounterpart(proto === 58, p.icmpType);
      sport = p.icmpType;
      dport = c >= 0 ? c : p.icmpCode;
      p.sport = sport;
      p.dport = dport;
    }
    const h = FlowEngine.hashOf(p);
    let f = this.table.get(h) ?? null;
    let dir = -1;
    let prev: Flow | null = null;
    while (f) {
      dir = FlowEngine.dirOf(f, p, sport, dport);
      if (dir >= 0) break;
      prev = f;
      f = f.chain;
    }
    if (f) {
      // expired while no sweep ran?
      if (this.expired(f, ts)) {
        this.finish(f, 'timeout');
        f = null;
      } else if (proto === 6 && (p.flags & F_SYN) && this.isReuse(f, dir, p)) {
        this.finish(f, 'reuse');
        f = null;
      }
    }
    void prev;
    if (!f) {
      f = this.create(p, h, sport, dport, ts, frame);
      dir = FlowEngine.dirOf(f, p, sport, dport);
    }
    f.lastFrame = frame;
    const ep = dir === 0 ? f.orig : f.resp;
    ep.pkts++;
    ep.ipBytes += p.ipLen;
    if (ep.fpTtl < 0) {
      ep.fpTtl = p.ttl;
      ep.fpWin = p.win;
      ep.fpIpId = p.ipId;
      ep.fpSeq = p.seq;
    }
    if (proto === 6) this.tcp(f, dir as Dir, p, frame, ts);
    else if (proto === 17) this.udp(f, dir as Dir, p, frame, ts);
    else {
      f.lastTime = ts;
      ep.bytes += p.payLen;
      ep.active = true;
    }
    if (!f.dead) this.relist(f);
  }

  private create(p: PacketInfo, h: number, sport: number, dport: number, ts: number, frame: number): Flow {
    if (this.count >= this.maxFlows) this.evictOne();
    const f = new Flow(this);
    f.hash = h;
    f.v6 = p.v6;
    f.proto = p.proto;
    let flip = false;
    if (p.proto === 6) {
      const fl = p.flags;
      if (!(fl & F_SYN) || fl & F_ACK) {
        if (LIKELY_SERVER_PORTS.has(sport)) {
          if (LIKELY_SERVER_PORTS.has(dport)) flip = !(fl & F_SYN) && sport < dport;
          else flip = true;
        }
      }
    } else if (p.proto === 17) {
      flip = LIKELY_SERVER_PORTS.has(sport) && !LIKELY_SERVER_PORTS.has(dport);
    }
    const a = f.addr;
    const s = flip ? p.dst : p.src;
    const d = flip ? p.src : p.dst;
    a[0] = s[0];
    a[1] = s[1];
    a[2] = s[2];
    a[3] = s[3];
    a[4] = d[0];
    a[5] = d[1];
    a[6] = d[2];
    a[7] = d[3];
    f.origPort = flip ? dport : sport;
    f.respPort = flip ? sport : dport;
    if (flip) f.history = '^';
    f.start = ts;
    f.lastTime = ts;
    f.firstFrame = frame;
    f.probing = (p.proto === 6 && this.tcpFactories.length > 0) || (p.proto === 17 && this.udpFactories.length > 0);
    // uid: 'C' + base62 of a 64-bit counter-derived value (deterministic per evidence)
    f.uid = this.nextUid();
    // insert
    const head = this.table.get(h);
    if (head) f.chain = head;
    this.table.set(h, f);
    this.count++;
    this.stats.flows++;
    return f;
  }

  private nextUid(): string {
    const A = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let s = 'C';
    for (let i = 0; i < 3; i++) {
      let x = this.uidState;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.uidState = x;
      let v = x >>> 0;
      for (let j = 0; j < 6 && (i < 2 || j < 5); j++) {
        s += A[v % 62];
        v = Math.floor(v / 62);
      }
    }
    return s;
  }

  // ------------------------------------------------------------ TCP
  private checkHistory(f: Flow, mask: number, code: string, isOrig: boolean): boolean {
    if (!isOrig) {
      mask <<= 16;
      code = code.toLowerCase();
    }
    if ((f.histSeen & mask) === 0) {
      f.histSeen |= mask;
      f.history += code;
      return false;
    }
    return true;
  }

  private addHistory(f: Flow, code: string, isOrig: boolean): void {
    f.history += isOrig ? code : code.toLowerCase();
  }

  private scaled(f: Flow, ep: Endpoint, code: 'T' | 'W' | 'G', isOrig: boolean): void {
    let cnt: number;
    let th: number;
    if (code === 'T') {
      cnt = ++ep.rxmtCnt;
      th = ep.rxmtTh;
    } else if (code === 'W') {
      cnt = ++ep.win0Cnt;
      th = ep.win0Th;
    } else {
      cnt = ++ep.gapCnt;
      th = ep.gapTh;
    }
    if (cnt === th) {
      f.history += isOrig ? code : code.toLowerCase();
      const nt = th * 10 > 0xffffffff ? 0xffffffff : th * 10;
      if (code === 'T') ep.rxmtTh = nt;
      else if (code === 'W') ep.win0Th = nt;
      else ep.gapTh = nt;
    }
  }

  private isReuse(f: Flow, dir: number, p: PacketInfo): boolean {
    const fl = p.flags;
    let connOrig = f.orig;
    if (fl & F_ACK) {
      if (f.orig.state !== INACTIVE) return false;
      connOrig = f.resp;
    }
    const closed = f.orig.didClose || f.resp.didClose || f.closeComplete;
    if (!closed) {
      if (p.seq === connOrig.start) return false;
      if (!(fl & F_ACK) && connOrig.state === SYN_ACK_SENT && f.resp.state === INACTIVE && p.seq === f.resp.start) return false;
      // a new SYN with a different ISN: Zeek treats the old connection as done
      return connOrig.state !== INACTIVE || dir === 0 ? true : true;
    }
    return true;
  }

  private static seqDelta(a: number, b: number): number {
    return (a - b) | 0;
  }

  private initEndpoint(ep: Endpoint, fl: number, seq: number, last: number): void {
    switch (ep.state) {
      case INACTIVE:
        if (fl & F_SYN) {
          ep.start = seq;
          ep.ackAbs = seq;
          ep.relAck = 0;
          ep.lastAbs = last;
          ep.relLast = (last - seq) >>> 0;
        } else {
          ep.start = (seq - 1) >>> 0;
          ep.ackAbs = ep.start;
          ep.relAck = 0;
          ep.lastAbs = seq;
          ep.relLast = 1;
        }
        if (ep.reasm) ep.reasm.reset();
        break;
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (fl & F_SYN && seq !== ep.start) this.reinit(ep, seq, last);
        break;
      case ESTABLISHED:
      case PARTIAL:
        if (fl & F_SYN) this.reinit(ep, seq, last);
        break;
      case RESET:
        if (fl & F_SYN && ep.prev === INACTIVE) this.reinit(ep, seq, last);
        break;
    }
  }

  private reinit(ep: Endpoint, seq: number, last: number): void {
    ep.start = seq;
    ep.ackAbs = seq;
    ep.relAck = 0;
    ep.lastAbs = last;
    ep.relLast = (last - seq) >>> 0;
    if (ep.reasm) ep.reasm.reset();
  }

  private setState(f: Flow, ep: Endpoint, st: number): void {
    if (st !== ep.state) {
      ep.prev = ep.state;
      ep.state = st;
    }
  }

  private tcp(f: Flow, dir: Dir, p: PacketInfo, frame: number, ts: number): void {
    const isOrig = dir === 0;
    const ep = isOrig ? f.orig : f.resp;
    const peer = isOrig ? f.resp : f.orig;
    const fl = p.flags;
    const len = p.payLen;
    const seq = p.seq >>> 0;
    const ack = p.ack >>> 0;
    const syn = (fl & F_SYN) !== 0;
    const fin = (fl & F_FIN) !== 0;
    const rst = (fl & F_RST) !== 0;
    const hasAck = (fl & F_ACK) !== 0;

    let segLen = len;
    if (syn) segLen++;
    if (fin) segLen++;
    if (rst) segLen -= len;
    const onePast = (seq + segLen) >>> 0;
    this.initEndpoint(ep, fl, seq, onePast);

    // relative sequence (wrap-aware around last_seq)
    const relSeq = ep.relLast + FlowEngine.seqDelta(seq, ep.lastAbs);
    const underflow = relSeq < 0;

    // history
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.checkHistory(f, H_FIN_RST, 'I', isOrig);
      else this.checkHistory(f, H_MULTI, 'Q', isOrig);
    } else if (bits === 1) {
      if (syn) {
        const code = hasAck ? 'H' : 'S';
        if (this.checkHistory(f, H_SYN, code, isOrig) && relSeq !== ep.histSyn) this.addHistory(f, code, isOrig);
        ep.histSyn = relSeq;
      }
      if (fin) {
        if (this.checkHistory(f, H_FIN, 'F', isOrig) && relSeq + len !== ep.histFin) this.addHistory(f, 'F', isOrig);
        ep.histFin = relSeq + len;
      }
      if (rst) {
        if (this.checkHistory(f, H_RST, 'R', isOrig) && relSeq !== ep.histRst) this.addHistory(f, 'R', isOrig);
        ep.histRst = relSeq;
      }
    } else if (len) this.checkHistory(f, H_DATA, 'D', isOrig);
    else if (hasAck) this.checkHistory(f, H_ACK, 'A', isOrig);

    // zero window
    if (p.win === 0 && !rst && peer.state !== CLOSED && ep.state !== RESET) this.scaled(f, ep, 'W', isOrig);

    if (!f.orig.didClose || !f.resp.didClose) f.lastTime = ts;

    if (fin) {
      ep.finCnt++;
      ep.finSeq = relSeq + segLen;
    }
    if (rst) ep.rstCnt++;

    let relAck = 0;
    if (hasAck) {
      if (peer.state === INACTIVE) {
        relAck = 1;
        // init_peer
        peer.start = (ack - 1) >>> 0;
        peer.ackAbs = peer.start;
        peer.relAck = 0;
        peer.lastAbs = peer.start;
        peer.relLast = 0;
      } else {
        const d = FlowEngine.seqDelta(ack, peer.ackAbs);
        relAck = peer.relAck + d;
        if (relAck < 0) relAck = 0;
        else if (!rst) {
          if (ack === 0 && d > TOO_LARGE) {
            /* broken ack */
          } else if (d > 0) {
            peer.ackAbs = ack;
            peer.relAck += d;
          }
        }
      }
    }

    // update_last_seq
    const deltaLast = FlowEngine.seqDelta(onePast, ep.lastAbs);
    if ((syn || rst) && (deltaLast > TOO_LARGE || deltaLast < -TOO_LARGE)) {
      /* untrusted */
    } else if (fin && ep.relLast === 1) {
      ep.relLast += deltaLast < 0 ? deltaLast + 4294967296 : deltaLast;
      ep.lastAbs = onePast;
    } else if (ep.state === RESET) {
      /* don't trust */
    } else if (deltaLast > 0) {
      ep.relLast += deltaLast;
      ep.lastAbs = onePast;
    } else if (len > 0) this.scaled(f, ep, 'T', isOrig);

    // state machine
    let doClose = false;
    switch (ep.state) {
      case INACTIVE: {
        if (syn) {
          if (isOrig) {
            this.setState(f, ep, hasAck ? SYN_ACK_SENT : SYN_SENT);
            f.attemptAt = ts;
          } else {
            if (!hasAck && peer.state === SYN_ACK_SENT && seq === ep.start) {
              // SYN / SYN-ACK reversal: flip roles
              this.flip(f);
              this.setState(f, peer, ESTABLISHED);
            }
            if (peer.state === SYN_SENT) this.setState(f, peer, ESTABLISHED);
            this.setState(f, ep, ESTABLISHED);
          }
        }
        if (fin) {
          this.setState(f, ep, CLOSED);
          doClose = true;
        }
        if (rst) {
          this.setState(f, ep, RESET);
          doClose = true;
        }
        if (ep.state === INACTIVE) {
          if (!isOrig && len === 0 && f.orig.state === SYN_SENT) {
            /* eccentric TCP acking the SYN before answering */
          } else if (hasAck && peer.state === ESTABLISHED) this.setState(f, ep, ESTABLISHED);
          else this.setState(f, ep, PARTIAL);
        }
        break;
      }
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (fin) {
          this.setState(f, ep, CLOSED);
          doClose = true;
        }
        if (rst) {
          this.setState(f, ep, RESET);
          doClose = true;
        }
        break;
      case ESTABLISHED:
      case PARTIAL:
        if (syn && ep.state === PARTIAL && peer.state === INACTIVE && !hasAck) this.setState(f, ep, SYN_SENT);
        if (fin && !rst) {
          this.setState(f, ep, CLOSED);
          if (peer.state === RESET && peer.prev === CLOSED) this.setState(f, peer, CLOSED);
          doClose = true;
        }
        if (rst) {
          this.setState(f, ep, RESET);
          doClose = true;
        }
        break;
      case CLOSED:
        if (rst && peer.state !== CLOSED) {
          this.setState(f, ep, RESET);
          if (!ep.didClose) doClose = true;
        }
        break;
      case RESET:
        break;
    }
    // after a flip, our endpoint objects moved: recompute the sender's direction
    const nowOrig = ep === f.orig;
    const dirNow: Dir = nowOrig ? 0 : 1;

    // acks reveal content gaps in the peer's stream
    if (hasAck && relAck > 0) {
      let a = relAck;
      if (peer.finCnt > 0 && a >= peer.finSeq) a = peer.finSeq - 1;
      const r = peer.reasm;
      const next = r ? r.next : 1;
      if (a > next) {
        const reasm = r ?? this.reasmFor(f, peer, dirNow === 0 ? 1 : 0);
        const active = peer.state === ESTABLISHED && ep.state === ESTABLISHED;
        const missing = reasm.ackTo(a, active);
        if (missing > 0 && active) {
          f.missed += missing;
          this.scaled(f, peer, 'G', !nowOrig);
        }
      }
    }

    // payload
    if (len > 0 && !rst && !underflow && p.payCap >= len) {
      const relData = syn ? relSeq + 1 : relSeq;
      const reasm = ep.reasm ?? this.reasmFor(f, ep, dirNow);
      reasm.add(relData, p.buf, p.payOff, len, frame, ts);
    }

    if (doClose) this.closed(f, ep, ep === f.orig ? f.resp : f.orig, ts);
  }

  private reasmFor(f: Flow, ep: Endpoint, dir: Dir): StreamReasm {
    const r = new StreamReasm(dir, f, this.budget, this.maxReasmPerFlow);
    r.keepData = f.probing || f.stream !== null;
    ep.reasm = r;
    return r;
  }

  private closed(f: Flow, ep: Endpoint, peer: Endpoint, ts: number): void {
    if (ep.didClose) return;
    ep.didClose = true;
    const complete = ep.state === RESET || peer.didClose || peer.state === INACTIVE;
    if (complete && !f.closeComplete) {
      f.closeComplete = true;
      f.closeAt = f.lastTime;
    }
    void ts;
  }

  private flip(f: Flow): void {
    const a = f.addr;
    for (let i = 0; i < 4; i++) {
      const t = a[i];
      a[i] = a[i + 4];
      a[i + 4] = t;
    }
    const tp = f.origPort;
    f.origPort = f.respPort;
    f.respPort = tp;
    const te = f.orig;
    f.orig = f.resp;
    f.resp = te;
    f.histSeen = ((f.histSeen & 0xffff) << 16) | (f.histSeen >>> 16);
    f.history += '^';
    // reassemblers keep their direction tags in sync
    if (f.orig.reasm) (f.orig.reasm as { dir: Dir }).dir = 0;
    if (f.resp.reasm) (f.resp.reasm as { dir: Dir }).dir = 1;
    f.info = null;
  }

  // ------------------------------------------------------------ UDP
  private udp(f: Flow, dir: Dir, p: PacketInfo, frame: number, ts: number): void {
    const ep = dir === 0 ? f.orig : f.resp;
    f.lastTime = ts;
    ep.active = true;
    ep.bytes += p.payLen;
    this.checkHistory(f, H_DATA, 'D', dir === 0);
    if (p.payCap <= 0) return;
    if (f.dgram) {
      try {
        f.dgram.datagram(dir, p.buf.subarray(p.payOff, p.payOff + p.payCap), frame, ts * 1000);
      } catch {
        /* analyzer bug: ignore this datagram */
      }
      return;
    }
    if (!f.probing) return;
    const data = p.buf.subarray(p.payOff, p.payOff + p.payCap);
    const info = this.flowInfo(f);
    const orig = dir === 0 ? data : EMPTY;
    const resp = dir === 1 ? data : EMPTY;
    for (const fac of this.ordered(this.udpFactories, f)) {
      let ok = false;
      try {
        ok = fac.probe(orig, resp, info);
      } catch {
        ok = false;
      }
      if (ok) {
        try {
          f.dgram = fac.createDatagram!(info, this.aemit);
        } catch {
          f.dgram = null;
        }
        f.probing = false;
        if (f.dgram) {
          if (fac.name !== 'payload') f.service = fac.name;
          try {
            f.dgram.datagram(dir, data, frame, ts * 1000);
          } catch {
            /* ignore */
          }
        }
        return;
      }
    }
    if (++f.probeTries >= 4) f.probing = false;
  }

  // ------------------------------------------------------------ analyzers
  private flowInfo(f: Flow): FlowInfo {
    if (f.info) return f.info;
    const a = f.addr;
    const origIp = f.v6 ? ip6ToString([a[0], a[1], a[2], a[3]]) : ip4ToString(a[0]);
    const respIp = f.v6 ? ip6ToString([a[4], a[5], a[6], a[7]]) : ip4ToString(a[4]);
    f.info = {
      uid: f.uid,
      evidence: this.evidence,
      origIp,
      origPort: f.origPort,
      respIp,
      respPort: f.respPort,
      transport: f.proto === 6 ? 'tcp' : 'udp',
      communityId: communityIdWords(f.v6, a, f.proto, f.origPort, f.respPort),
    };
    return f.info;
  }

  private ordered(list: AnalyzerFactory[], f: Flow): AnalyzerFactory[] {
    // port hint first, content decides
    let hinted: AnalyzerFactory[] | null = null;
    for (const fac of list) {
      if (fac.ports && (fac.ports.includes(f.respPort) || fac.ports.includes(f.origPort))) (hinted ??= []).push(fac);
    }
    if (!hinted) return list;
    return [...hinted, ...list.filter((x) => !hinted!.includes(x))];
  }

  /** In-order stream bytes from the reassembler. */
  deliverStream(f: Flow, dir: Dir, data: Buffer, frame: number, ts: number): void {
    if (f.stream) {
      try {
        f.stream.data(dir, data, frame, ts * 1000);
      } catch {
        /* analyzer bug: drop */
      }
      return;
    }
    if (!f.probing) return;
    // buffer for probing
    const max = this.probeBytes;
    const have = dir === 0 ? f.probeLen0 : f.probeLen1;
    const keep = Buffer.from(data.subarray(0, Math.max(0, Math.min(data.length, max - have))));
    (f.probeLog ??= []).push({ dir, b: Buffer.from(data), frame, ts });
    if (dir === 0) {
      (f.probeOrig ??= []).push(keep);
      f.probeLen0 += keep.length;
    } else {
      (f.probeResp ??= []).push(keep);
      f.probeLen1 += keep.length;
    }
    const orig = f.probeOrig ? (f.probeOrig.length === 1 ? f.probeOrig[0] : Buffer.concat(f.probeOrig)) : EMPTY;
    const resp = f.probeResp ? (f.probeResp.length === 1 ? f.probeResp[0] : Buffer.concat(f.probeResp)) : EMPTY;
    const info = this.flowInfo(f);
    for (const fac of this.ordered(this.tcpFactories, f)) {
      let ok = false;
      try {
        ok = fac.probe(orig, resp, info);
      } catch {
        ok = false;
      }
      if (!ok) continue;
      let an: StreamAnalyzer | null = null;
      try {
        an = fac.createStream!(info, this.aemit);
      } catch {
        an = null;
      }
      if (!an) continue;
      f.stream = an;
      f.probing = false;
      if (fac.name !== 'payload') f.service = fac.name;
      const log = f.probeLog!;
      f.probeLog = f.probeOrig = f.probeResp = null;
      for (const e of log) {
        try {
          an.data(e.dir, e.b, e.frame, e.ts * 1000);
        } catch {
          break;
        }
      }
      return;
    }
    f.probeTries++;
    const total = f.probeLen0 + f.probeLen1;
    if ((f.probeLen0 >= max && f.probeLen1 >= max) || total >= 2 * max || f.probeTries > 32) this.stopProbing(f);
  }

  private stopProbing(f: Flow): void {
    f.probing = false;
    f.probeLog = f.probeOrig = f.probeResp = null;
    f.orig.reasm?.dropData();
    f.resp.reasm?.dropData();
  }

  // ------------------------------------------------------------ lists & timers
  private desiredList(f: Flow): number {
    if (f.proto === 6) {
      if (f.closeComplete) return L_CLOSED;
      if ((f.orig.state === SYN_SENT || f.orig.state === SYN_ACK_SENT) && f.resp.state === INACTIVE) return L_ATTEMPT;
      return L_TCP;
    }
    return f.proto === 17 ? L_UDP : L_ICMP;
  }

  private expiry(f: Flow): number {
    switch (f.list) {
      case L_ATTEMPT:
        return f.attemptAt + 5;
      case L_CLOSED:
        return f.closeAt + 5;
      default:
        return f.lastTime + this.timeouts[f.list];
    }
  }

  private expired(f: Flow, ts: number): boolean {
    return f.list !== LIST_NONE && ts > this.expiry(f);
  }

  private unlink(f: Flow): void {
    const l = f.list;
    if (l === LIST_NONE) return;
    if (f.lprev) f.lprev.lnext = f.lnext;
    else this.heads[l] = f.lnext;
    if (f.lnext) f.lnext.lprev = f.lprev;
    else this.tails[l] = f.lprev;
    f.lprev = f.lnext = null;
    f.list = LIST_NONE;
  }

  private append(f: Flow, l: number): void {
    f.list = l;
    f.lnext = null;
    f.lprev = this.tails[l];
    if (this.tails[l]) this.tails[l]!.lnext = f;
    else this.heads[l] = f;
    this.tails[l] = f;
  }

  private relist(f: Flow): void {
    const want = this.desiredList(f);
    if (want === f.list) {
      if (want >= L_TCP && this.tails[want] !== f) {
        this.unlink(f);
        this.append(f, want);
      }
      return;
    }
    this.unlink(f);
    this.append(f, want);
  }

  private sweep(ts: number): void {
    this.lastSweep = ts;
    for (let l = 0; l < NLISTS; l++) {
      let f = this.heads[l];
      let guard = 0;
      while (f && ts > this.expiry(f)) {
        const n = f.lnext;
        this.finish(f, 'timeout');
        f = n;
        if (++guard > 100000) break;
      }
    }
  }

  private evictOne(): void {
    for (const l of [L_ATTEMPT, L_CLOSED, L_UDP, L_ICMP, L_TCP]) {
      const f = this.heads[l];
      if (f) {
        this.stats.evicted++;
        this.finish(f, 'evicted');
        return;
      }
    }
  }

  /** End of capture: every remaining connection is logged with its current state. */
  flush(): void {
    for (let l = 0; l < NLISTS; l++) {
      while (this.heads[l]) this.finish(this.heads[l]!, 'end');
    }
  }

  get activeFlows(): number {
    return this.count;
  }

  get reassemblyBytes(): number {
    return this.budget.used;
  }

  // ------------------------------------------------------------ ending a connection
  private finish(f: Flow, why: string): void {
    if (f.dead) return;
    f.dead = true;
    this.unlink(f);
    // remove from table
    let c = this.table.get(f.hash) ?? null;
    let prev: Flow | null = null;
    while (c && c !== f) {
      prev = c;
      c = c.chain;
    }
    if (c) {
      if (prev) prev.chain = f.chain;
      else if (f.chain) this.table.set(f.hash, f.chain);
      else this.table.delete(f.hash);
    }
    this.count--;
    // drain analyzers
    if (f.proto === 6) {
      f.orig.reasm?.flushAll();
      f.resp.reasm?.flushAll();
      f.orig.reasm?.release();
      f.resp.reasm?.release();
    }
    const endTs = f.lastTime * 1000;
    if (f.stream) {
      try {
        f.stream.end(endTs);
      } catch {
        /* ignore */
      }
    }
    if (f.dgram) {
      try {
        f.dgram.end(endTs);
      } catch {
        /* ignore */
      }
    }
    this.emit(this.connEvent(f, why));
  }

  private connEvent(f: Flow, why: string): SpoorEvent {
    const a = f.addr;
    const info = f.info ?? {
      origIp: f.v6 ? ip6ToString([a[0], a[1], a[2], a[3]]) : ip4ToString(a[0]),
      respIp: f.v6 ? ip6ToString([a[4], a[5], a[6], a[7]]) : ip4ToString(a[4]),
      communityId: communityIdWords(f.v6, a, f.proto, f.origPort, f.respPort),
    };
    const o = f.orig;
    const r = f.resp;
    const tcp = f.proto === 6;
    const state = connState(f);
    const dur = f.lastTime - f.start;
    const transport = tcp ? 'tcp' : f.proto === 17 ? 'udp' : f.proto === 58 ? 'icmp6' : 'icmp';
    const e: SpoorEvent = {
      '@timestamp': f.start * 1000,
      'event.dataset': 'conn',
      ref: { evidence: this.evidence, frame: f.firstFrame, uid: f.uid },
      'event.provider': 'conn',
      'event.action': state,
      'event.duration': dur * 1000,
      'conn.uid': f.uid,
      'source.ip': info.origIp,
      'source.port': f.origPort,
      'destination.ip': info.respIp,
      'destination.port': f.respPort,
      'network.transport': transport,
      'network.community_id': info.communityId,
      'source.bytes': tcp ? o.size(r) : o.bytes,
      'destination.bytes': tcp ? r.size(o) : r.bytes,
      'source.packets': o.pkts,
      'destination.packets': r.pkts,
      'source.ip_bytes': o.ipBytes,
      'destination.ip_bytes': r.ipBytes,
      'conn.state': state,
      'conn.history': f.history,
      'conn.missed_bytes': f.missed,
      'conn.local_orig': this.homeNet ? this.homeNet.isInternal(info.origIp) : false,
      'conn.local_resp': this.homeNet ? this.homeNet.isInternal(info.respIp) : false,
      'conn.first_frame': f.firstFrame,
      'conn.last_frame': f.lastFrame,
      'conn.end_reason': why,
      'conn.ip_proto': f.proto,
    };
    if (f.service) e['network.protocol'] = f.service;
    if (o.fpTtl >= 0) {
      e['conn.orig_ttl'] = o.fpTtl;
      e['conn.orig_ipid'] = o.fpIpId;
      if (tcp) {
        e['conn.orig_window'] = o.fpWin;
        e['conn.orig_seq'] = o.fpSeq >>> 0;
      }
    }
    return e;
  }
}

const EMPTY = Buffer.alloc(0);

const RSTOS0_RE = /^\^?S[^HAFGIQ]*R.*$/;

/** Zeek's conn_state() from base/protocols/conn/main.zeek. */
function connState(f: Flow): string {
  const os = f.orig.state;
  const rs = f.resp.state;
  if (f.proto === 6) {
    const oi = os === INACTIVE || os === PARTIAL;
    const ri = rs === INACTIVE || rs === PARTIAL;
    if (rs === RESET) {
      if (os === SYN_SENT || os === SYN_ACK_SENT || (os === RESET && f.orig.size(f.resp) === 0 && f.resp.size(f.orig) === 0)) return 'REJ';
      if (oi) return 'RSTRH';
      return 'RSTR';
    }
    if (os === RESET) {
      if (ri) return RSTOS0_RE.test(f.history) ? 'RSTOS0' : 'OTH';
      return 'RSTO';
    }
    if (rs === CLOSED && os === CLOSED) return 'SF';
    if (os === CLOSED) return ri ? 'SH' : 'S2';
    if (rs === CLOSED) return oi ? 'SHR' : 'S3';
    if (os === SYN_SENT && rs === INACTIVE) return 'S0';
    if (os === ESTABLISHED && rs === ESTABLISHED) return 'S1';
    return 'OTH';
  }
  if (f.proto === 17) {
    if (f.orig.active) return f.resp.active ? 'SF' : 'S0';
    return f.resp.active ? 'SHR' : 'OTH';
  }
  return 'OTH';
}
