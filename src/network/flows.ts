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
 * Layout (speed): connection state lives in typed arrays indexed by a flow
 * slot (struct of arrays; endpoint e = slot*2 + k, the peer is e^1, and a
 * per-flow bit says which of the two is the originator, so a role flip is one
 * bit). The flow table is an open hash (bucket heads + per-slot chain) keyed
 * by a numeric 5-tuple hash. Objects exist only where a flow needs them:
 * reassemblers (TCP payload), analyzer state, and the conn record, which is
 * built when the connection ends. Slots are recycled through a free list, so
 * a million-SYN scan neither allocates per connection nor grows past
 * `maxFlows`. The uid is derived from a per-slot number when needed.
 *
 * Hot path: one reused PacketInfo in, a numeric hash lookup, no per-packet
 * allocations except Buffer views handed to analyzers.
 */
import type { SpoorEvent } from '../core/event.js';
import type { HomeNet } from '../core/homenet.js';
import type { AnalyzerFactory, DatagramAnalyzer, Dir, FlowInfo, StreamAnalyzer } from './analyzer.js';
import { communityIdAt, icmpCounterpart } from './communityid.js';
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

const NIL = -1;

/** Per-flow objects that only flows with payload or analyzers need. */
class FlowExt implements ReasmSink {
  info: FlowInfo | null = null;
  stream: StreamAnalyzer | null = null;
  dgram: DatagramAnalyzer | null = null;
  probeOrig: Buffer[] | null = null;
  probeResp: Buffer[] | null = null;
  probeLog: { dir: Dir; b: Buffer; frame: number; ts: number }[] | null = null;
  probeLen0 = 0;
  probeLen1 = 0;
  probeTries = 0;

  constructor(
    private eng: FlowEngine,
    readonly slot: number,
  ) {}

  deliver(dir: 0 | 1, data: Buffer, frame: number, ts: number): void {
    this.eng.deliverStream(this.slot, this, dir, data, frame, ts);
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

const UID_ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const UID_CODES = new Uint8Array(62);
for (let i = 0; i < 62; i++) UID_CODES[i] = UID_ALPHA.charCodeAt(i);
const UIDC = new Uint8Array(18);

/** uid 'C' + 17 base62 digits from three xorshift32 steps starting at `x` (deterministic per evidence). */
function uidFrom(x: number): string {
  UIDC[0] = 67; // 'C'
  let k = 1;
  for (let i = 0; i < 3; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    let v = x >>> 0;
    const n = i < 2 ? 6 : 5;
    for (let j = 0; j < n; j++) {
      const q = Math.floor(v / 62);
      UIDC[k++] = UID_CODES[v - q * 62];
      v = q;
    }
  }
  const c = UIDC;
  return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15], c[16], c[17]);
}

function xorshift3(x: number): number {
  for (let i = 0; i < 3; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

type Typed = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float64Array;
function grown<T extends Typed>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a as never);
  return b;
}

/** Small direct-mapped cache of IPv4 address strings (scans repeat the same few addresses). */
const IP4_KEYS = new Int32Array(4096).fill(0);
const IP4_SET = new Uint8Array(4096);
const IP4_VALS: string[] = new Array<string>(4096).fill('');
function ip4Str(v: number): string {
  const i = (Math.imul(v, 0x9e3779b1) >>> 20) & 4095;
  if (IP4_SET[i] && IP4_KEYS[i] === (v | 0)) return IP4_VALS[i];
  const s = ip4ToString(v >>> 0);
  IP4_KEYS[i] = v | 0;
  IP4_SET[i] = 1;
  IP4_VALS[i] = s;
  return s;
}
const W4 = [0, 0, 0, 0];

export class FlowEngine {
  // ---- flow table
  private cap = 0;
  private mask = 0;
  private buckets = new Int32Array(0);
  private freeHead = NIL;
  private hwm = 0;
  private count = 0;
  // ---- per flow (index: slot)
  private fHash = new Int32Array(0);
  private fChain = new Int32Array(0);
  private fLive = new Uint8Array(0);
  private fProto = new Uint8Array(0);
  private fV6 = new Uint8Array(0);
  /** orig address words then resp address words: 8 per slot */
  private fAddr = new Uint32Array(0);
  private fOPort = new Uint16Array(0);
  private fRPort = new Uint16Array(0);
  private fStart = new Float64Array(0);
  private fLast = new Float64Array(0);
  private fFirstFrame = new Float64Array(0);
  private fLastFrame = new Float64Array(0);
  private fHistSeen = new Int32Array(0);
  private fMissed = new Float64Array(0);
  private fList = new Int8Array(0);
  private fPrev = new Int32Array(0);
  private fNext = new Int32Array(0);
  private fAttemptAt = new Float64Array(0);
  private fCloseAt = new Float64Array(0);
  private fCloseComplete = new Uint8Array(0);
  /** which endpoint (0/1) of the slot is the originator */
  private fFlip = new Uint8Array(0);
  private fProbing = new Uint8Array(0);
  private fUid = new Int32Array(0);
  private fHistory: string[] = [];
  private fService: string[] = [];
  private fExt: (FlowExt | null)[] = [];
  // ---- per endpoint (index: slot*2 + k)
  private eState = new Uint8Array(0);
  private ePrev = new Uint8Array(0);
  private eStart = new Uint32Array(0);
  private eLastAbs = new Uint32Array(0);
  private eAckAbs = new Uint32Array(0);
  private eRelLast = new Float64Array(0);
  private eRelAck = new Float64Array(0);
  private eFinCnt = new Int32Array(0);
  private eRstCnt = new Int32Array(0);
  private eFinSeq = new Float64Array(0);
  private eHistSyn = new Float64Array(0);
  private eHistFin = new Float64Array(0);
  private eHistRst = new Float64Array(0);
  /** T, W, G counters and thresholds: [cnt, th] × 3 per endpoint */
  private eScaled = new Float64Array(0);
  private eDidClose = new Uint8Array(0);
  private eActive = new Uint8Array(0);
  private ePkts = new Float64Array(0);
  private eIpBytes = new Float64Array(0);
  private eBytes = new Float64Array(0);
  private eFpTtl = new Int16Array(0);
  private eFpWin = new Uint16Array(0);
  private eFpIpId = new Uint16Array(0);
  private eFpSeq = new Uint32Array(0);
  private eReasm: (StreamReasm | null)[] = [];
  // ---- lists and timers
  private heads = new Int32Array(NLISTS).fill(NIL);
  private tails = new Int32Array(NLISTS).fill(NIL);
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
    this.maxFlows = Math.max(1, Math.floor(opts.maxFlows ?? 250_000));
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
    this.grow();
  }

  // ------------------------------------------------------------ storage
  private grow(): void {
    // ×4 steps: a scan fills the table fast, and each step copies every array (page faults dominate)
    const n = this.cap === 0 ? Math.min(256, this.maxFlows) : Math.min(this.cap * 4, this.maxFlows);
    const m = 2 * n;
    this.fHash = grown(this.fHash, n);
    this.fChain = grown(this.fChain, n);
    this.fLive = grown(this.fLive, n);
    this.fProto = grown(this.fProto, n);
    this.fV6 = grown(this.fV6, n);
    this.fAddr = grown(this.fAddr, 8 * n);
    this.fOPort = grown(this.fOPort, n);
    this.fRPort = grown(this.fRPort, n);
    this.fStart = grown(this.fStart, n);
    this.fLast = grown(this.fLast, n);
    this.fFirstFrame = grown(this.fFirstFrame, n);
    this.fLastFrame = grown(this.fLastFrame, n);
    this.fHistSeen = grown(this.fHistSeen, n);
    this.fMissed = grown(this.fMissed, n);
    this.fList = grown(this.fList, n);
    this.fPrev = grown(this.fPrev, n);
    this.fNext = grown(this.fNext, n);
    this.fAttemptAt = grown(this.fAttemptAt, n);
    this.fCloseAt = grown(this.fCloseAt, n);
    this.fCloseComplete = grown(this.fCloseComplete, n);
    this.fFlip = grown(this.fFlip, n);
    this.fProbing = grown(this.fProbing, n);
    this.fUid = grown(this.fUid, n);
    this.eState = grown(this.eState, m);
    this.ePrev = grown(this.ePrev, m);
    this.eStart = grown(this.eStart, m);
    this.eLastAbs = grown(this.eLastAbs, m);
    this.eAckAbs = grown(this.eAckAbs, m);
    this.eRelLast = grown(this.eRelLast, m);
    this.eRelAck = grown(this.eRelAck, m);
    this.eFinCnt = grown(this.eFinCnt, m);
    this.eRstCnt = grown(this.eRstCnt, m);
    this.eFinSeq = grown(this.eFinSeq, m);
    this.eHistSyn = grown(this.eHistSyn, m);
    this.eHistFin = grown(this.eHistFin, m);
    this.eHistRst = grown(this.eHistRst, m);
    this.eScaled = grown(this.eScaled, 6 * m);
    this.eDidClose = grown(this.eDidClose, m);
    this.eActive = grown(this.eActive, m);
    this.ePkts = grown(this.ePkts, m);
    this.eIpBytes = grown(this.eIpBytes, m);
    this.eBytes = grown(this.eBytes, m);
    this.eFpTtl = grown(this.eFpTtl, m);
    this.eFpWin = grown(this.eFpWin, m);
    this.eFpIpId = grown(this.eFpIpId, m);
    this.eFpSeq = grown(this.eFpSeq, m);
    for (let i = this.cap; i < n; i++) {
      this.fHistory.push('');
      this.fService.push('');
      this.fExt.push(null);
      this.eReasm.push(null, null);
    }
    this.cap = n;
    // rehash into a bucket array of at least 2n (power of two)
    let nb = 512;
    while (nb < 2 * n) nb *= 2;
    if (nb !== this.buckets.length) {
      this.buckets = new Int32Array(nb).fill(NIL);
      this.mask = nb - 1;
      for (let s = 0; s < this.hwm; s++) {
        if (!this.fLive[s]) continue;
        const b = this.fHash[s] & this.mask;
        this.fChain[s] = this.buckets[b];
        this.buckets[b] = s;
      }
    }
  }

  private allocSlot(): number {
    if (this.freeHead !== NIL) {
      const s = this.freeHead;
      this.freeHead = this.fChain[s];
      return s;
    }
    if (this.hwm >= this.cap) this.grow();
    return this.hwm++;
  }

  private resetEp(e: number): void {
    this.eState[e] = INACTIVE;
    this.ePrev[e] = INACTIVE;
    this.eStart[e] = 0;
    this.eLastAbs[e] = 0;
    this.eAckAbs[e] = 0;
    this.eRelLast[e] = 0;
    this.eRelAck[e] = 0;
    this.eFinCnt[e] = 0;
    this.eRstCnt[e] = 0;
    this.eFinSeq[e] = 0;
    this.eHistSyn[e] = 0;
    this.eHistFin[e] = 0;
    this.eHistRst[e] = 0;
    const k = e * 6;
    const sc = this.eScaled;
    sc[k] = 0;
    sc[k + 1] = 1;
    sc[k + 2] = 0;
    sc[k + 3] = 1;
    sc[k + 4] = 0;
    sc[k + 5] = 1;
    this.eDidClose[e] = 0;
    this.eActive[e] = 0;
    this.ePkts[e] = 0;
    this.eIpBytes[e] = 0;
    this.eBytes[e] = 0;
    this.eFpTtl[e] = -1;
    this.eFpWin[e] = 0;
    this.eFpIpId[e] = 0;
    this.eFpSeq[e] = 0;
    this.eReasm[e] = null;
  }

  private ext(s: number): FlowExt {
    let x = this.fExt[s];
    if (!x) {
      x = new FlowExt(this, s);
      this.fExt[s] = x;
    }
    return x;
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
  private dirOf(f: number, p: PacketInfo, sport: number, dport: number): number {
    if (this.fProto[f] !== p.proto || this.fV6[f] !== (p.v6 ? 1 : 0)) return -1;
    const a = this.fAddr;
    const o = f * 8;
    const s = p.src;
    const d = p.dst;
    const op = this.fOPort[f];
    const rp = this.fRPort[f];
    if (op === sport && rp === dport && a[o] === s[0] && a[o + 4] === d[0] && a[o + 1] === s[1] && a[o + 2] === s[2] && a[o + 3] === s[3] && a[o + 5] === d[1] && a[o + 6] === d[2] && a[o + 7] === d[3]) return 0;
    if (op === dport && rp === sport && a[o] === d[0] && a[o + 4] === s[0] && a[o + 1] === d[1] && a[o + 2] === d[2] && a[o + 3] === d[3] && a[o + 5] === s[1] && a[o + 6] === s[2] && a[o + 7] === s[3]) return 1;
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
    let f = this.buckets[h & this.mask];
    let dir = -1;
    const fh = this.fHash;
    while (f !== NIL) {
      if (fh[f] === h) {
        dir = this.dirOf(f, p, sport, dport);
        if (dir >= 0) break;
      }
      f = this.fChain[f];
    }
    if (f !== NIL) {
      // expired while no sweep ran?
      if (this.expired(f, ts)) {
        this.finish(f, 'timeout');
        f = NIL;
      } else if (proto === 6 && p.flags & F_SYN && this.isReuse(f, dir, p)) {
        this.finish(f, 'reuse');
        f = NIL;
      }
    }
    if (f === NIL) {
      f = this.create(p, h, sport, dport, ts, frame);
      dir = this.dirOf(f, p, sport, dport);
    }
    this.fLastFrame[f] = frame;
    const fo = this.fFlip[f];
    const ep = (f << 1) + (dir === 0 ? fo : fo ^ 1);
    this.ePkts[ep]++;
    this.eIpBytes[ep] += p.ipLen;
    if (this.eFpTtl[ep] < 0) {
      this.eFpTtl[ep] = p.ttl;
      this.eFpWin[ep] = p.win;
      this.eFpIpId[ep] = p.ipId;
      this.eFpSeq[ep] = p.seq;
    }
    if (proto === 6) this.tcp(f, dir as Dir, p, frame, ts);
    else if (proto === 17) this.udp(f, dir as Dir, p, frame, ts);
    else {
      this.fLast[f] = ts;
      this.eBytes[ep] += p.payLen;
      this.eActive[ep] = 1;
    }
    if (this.fLive[f]) this.relist(f);
  }

  private create(p: PacketInfo, h: number, sport: number, dport: number, ts: number, frame: number): number {
    if (this.count >= this.maxFlows) this.evictOne();
    const f = this.allocSlot();
    this.fHash[f] = h;
    this.fLive[f] = 1;
    this.fV6[f] = p.v6 ? 1 : 0;
    this.fProto[f] = p.proto;
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
    const a = this.fAddr;
    const o = f * 8;
    const s = flip ? p.dst : p.src;
    const d = flip ? p.src : p.dst;
    a[o] = s[0];
    a[o + 1] = s[1];
    a[o + 2] = s[2];
    a[o + 3] = s[3];
    a[o + 4] = d[0];
    a[o + 5] = d[1];
    a[o + 6] = d[2];
    a[o + 7] = d[3];
    this.fOPort[f] = flip ? dport : sport;
    this.fRPort[f] = flip ? sport : dport;
    this.fHistory[f] = flip ? '^' : '';
    this.fService[f] = '';
    this.fExt[f] = null;
    this.fHistSeen[f] = 0;
    this.fMissed[f] = 0;
    this.fList[f] = LIST_NONE;
    this.fPrev[f] = NIL;
    this.fNext[f] = NIL;
    this.fAttemptAt[f] = 0;
    this.fCloseAt[f] = 0;
    this.fCloseComplete[f] = 0;
    this.fFlip[f] = 0;
    this.fStart[f] = ts;
    this.fLast[f] = ts;
    this.fFirstFrame[f] = frame;
    this.fLastFrame[f] = frame;
    this.fProbing[f] = (p.proto === 6 && this.tcpFactories.length > 0) || (p.proto === 17 && this.udpFactories.length > 0) ? 1 : 0;
    this.resetEp(f << 1);
    this.resetEp((f << 1) + 1);
    // uid: 'C' + base62 of three xorshift steps (deterministic per evidence); the string is built when needed
    this.fUid[f] = this.uidState;
    this.uidState = xorshift3(this.uidState);
    // insert
    const b = h & this.mask;
    this.fChain[f] = this.buckets[b];
    this.buckets[b] = f;
    this.count++;
    this.stats.flows++;
    return f;
  }

  private uid(f: number): string {
    return uidFrom(this.fUid[f]);
  }

  // ------------------------------------------------------------ TCP
  /** Record history letter `code` (orig) / `lower` (resp) the first time; true when it was seen before. */
  private checkHistory(f: number, mask: number, code: string, lower: string, isOrig: boolean): boolean {
    if (!isOrig) mask <<= 16;
    const seen = this.fHistSeen[f];
    if ((seen & mask) === 0) {
      this.fHistSeen[f] = seen | mask;
      this.fHistory[f] += isOrig ? code : lower;
      return false;
    }
    return true;
  }

  private addHistory(f: number, code: string, lower: string, isOrig: boolean): void {
    this.fHistory[f] += isOrig ? code : lower;
  }

  /** code: 0 'T' retransmission, 1 'W' zero window, 2 'G' gap. */
  private scaled(f: number, ep: number, code: number, isOrig: boolean): void {
    const sc = this.eScaled;
    const k = ep * 6 + code * 2;
    const cnt = ++sc[k];
    const th = sc[k + 1];
    if (cnt === th) {
      this.fHistory[f] += isOrig ? (code === 0 ? 'T' : code === 1 ? 'W' : 'G') : code === 0 ? 't' : code === 1 ? 'w' : 'g';
      sc[k + 1] = th * 10 > 0xffffffff ? 0xffffffff : th * 10;
    }
  }

  private isReuse(f: number, dir: number, p: PacketInfo): boolean {
    const fl = p.flags;
    const o = (f << 1) + this.fFlip[f];
    const r = o ^ 1;
    let connOrig = o;
    if (fl & F_ACK) {
      if (this.eState[o] !== INACTIVE) return false;
      connOrig = r;
    }
    const closed = this.eDidClose[o] || this.eDidClose[r] || this.fCloseComplete[f];
    if (!closed) {
      if (p.seq === this.eStart[connOrig]) return false;
      if (!(fl & F_ACK) && this.eState[connOrig] === SYN_ACK_SENT && this.eState[r] === INACTIVE && p.seq === this.eStart[r]) return false;
      // a new SYN with a different ISN: Zeek treats the old connection as done
      void dir;
      return true;
    }
    return true;
  }

  private static seqDelta(a: number, b: number): number {
    return (a - b) | 0;
  }

  private initEndpoint(ep: number, fl: number, seq: number, last: number): void {
    switch (this.eState[ep]) {
      case INACTIVE:
        if (fl & F_SYN) {
          this.eStart[ep] = seq;
          this.eAckAbs[ep] = seq;
          this.eRelAck[ep] = 0;
          this.eLastAbs[ep] = last;
          this.eRelLast[ep] = (last - seq) >>> 0;
        } else {
          const st = (seq - 1) >>> 0;
          this.eStart[ep] = st;
          this.eAckAbs[ep] = st;
          this.eRelAck[ep] = 0;
          this.eLastAbs[ep] = seq;
          this.eRelLast[ep] = 1;
        }
        this.eReasm[ep]?.reset();
        break;
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (fl & F_SYN && seq !== this.eStart[ep]) this.reinit(ep, seq, last);
        break;
      case ESTABLISHED:
      case PARTIAL:
        if (fl & F_SYN) this.reinit(ep, seq, last);
        break;
      case RESET:
        if (fl & F_SYN && this.ePrev[ep] === INACTIVE) this.reinit(ep, seq, last);
        break;
    }
  }

  private reinit(ep: number, seq: number, last: number): void {
    this.eStart[ep] = seq;
    this.eAckAbs[ep] = seq;
    this.eRelAck[ep] = 0;
    this.eLastAbs[ep] = last;
    this.eRelLast[ep] = (last - seq) >>> 0;
    this.eReasm[ep]?.reset();
  }

  private setState(ep: number, st: number): void {
    if (st !== this.eState[ep]) {
      this.ePrev[ep] = this.eState[ep];
      this.eState[ep] = st;
    }
  }

  private tcp(f: number, dir: Dir, p: PacketInfo, frame: number, ts: number): void {
    const isOrig = dir === 0;
    const ep = (f << 1) + (isOrig ? this.fFlip[f] : this.fFlip[f] ^ 1);
    const peer = ep ^ 1;
    const eState = this.eState;
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
    const relSeq = this.eRelLast[ep] + FlowEngine.seqDelta(seq, this.eLastAbs[ep]);
    const underflow = relSeq < 0;

    // history
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.checkHistory(f, H_FIN_RST, 'I', 'i', isOrig);
      else this.checkHistory(f, H_MULTI, 'Q', 'q', isOrig);
    } else if (bits === 1) {
      if (syn) {
        const code = hasAck ? 'H' : 'S';
        const lower = hasAck ? 'h' : 's';
        if (this.checkHistory(f, H_SYN, code, lower, isOrig) && relSeq !== this.eHistSyn[ep]) this.addHistory(f, code, lower, isOrig);
        this.eHistSyn[ep] = relSeq;
      }
      if (fin) {
        if (this.checkHistory(f, H_FIN, 'F', 'f', isOrig) && relSeq + len !== this.eHistFin[ep]) this.addHistory(f, 'F', 'f', isOrig);
        this.eHistFin[ep] = relSeq + len;
      }
      if (rst) {
        if (this.checkHistory(f, H_RST, 'R', 'r', isOrig) && relSeq !== this.eHistRst[ep]) this.addHistory(f, 'R', 'r', isOrig);
        this.eHistRst[ep] = relSeq;
      }
    } else if (len) this.checkHistory(f, H_DATA, 'D', 'd', isOrig);
    else if (hasAck) this.checkHistory(f, H_ACK, 'A', 'a', isOrig);

    // zero window
    if (p.win === 0 && !rst && eState[peer] !== CLOSED && eState[ep] !== RESET) this.scaled(f, ep, 1, isOrig);

    if (!this.eDidClose[ep] || !this.eDidClose[peer]) this.fLast[f] = ts;

    if (fin) {
      this.eFinCnt[ep]++;
      this.eFinSeq[ep] = relSeq + segLen;
    }
    if (rst) this.eRstCnt[ep]++;

    let relAck = 0;
    if (hasAck) {
      if (eState[peer] === INACTIVE) {
        relAck = 1;
        // init_peer
        const st = (ack - 1) >>> 0;
        this.eStart[peer] = st;
        this.eAckAbs[peer] = st;
        this.eRelAck[peer] = 0;
        this.eLastAbs[peer] = st;
        this.eRelLast[peer] = 0;
      } else {
        const d = FlowEngine.seqDelta(ack, this.eAckAbs[peer]);
        relAck = this.eRelAck[peer] + d;
        if (relAck < 0) relAck = 0;
        else if (!rst) {
          if (ack === 0 && d > TOO_LARGE) {
            /* broken ack */
          } else if (d > 0) {
            this.eAckAbs[peer] = ack;
            this.eRelAck[peer] += d;
          }
        }
      }
    }

    // update_last_seq
    const deltaLast = FlowEngine.seqDelta(onePast, this.eLastAbs[ep]);
    if ((syn || rst) && (deltaLast > TOO_LARGE || deltaLast < -TOO_LARGE)) {
      /* untrusted */
    } else if (fin && this.eRelLast[ep] === 1) {
      this.eRelLast[ep] += deltaLast < 0 ? deltaLast + 4294967296 : deltaLast;
      this.eLastAbs[ep] = onePast;
    } else if (eState[ep] === RESET) {
      /* don't trust */
    } else if (deltaLast > 0) {
      this.eRelLast[ep] += deltaLast;
      this.eLastAbs[ep] = onePast;
    } else if (len > 0) this.scaled(f, ep, 0, isOrig);

    // state machine
    let doClose = false;
    switch (eState[ep]) {
      case INACTIVE: {
        if (syn) {
          if (isOrig) {
            this.setState(ep, hasAck ? SYN_ACK_SENT : SYN_SENT);
            this.fAttemptAt[f] = ts;
          } else {
            if (!hasAck && eState[peer] === SYN_ACK_SENT && seq === this.eStart[ep]) {
              // SYN / SYN-ACK reversal: flip roles
              this.flip(f);
              this.setState(peer, ESTABLISHED);
            }
            if (eState[peer] === SYN_SENT) this.setState(peer, ESTABLISHED);
            this.setState(ep, ESTABLISHED);
          }
        }
        if (fin) {
          this.setState(ep, CLOSED);
          doClose = true;
        }
        if (rst) {
          this.setState(ep, RESET);
          doClose = true;
        }
        if (eState[ep] === INACTIVE) {
          if (!isOrig && len === 0 && eState[peer] === SYN_SENT) {
            /* eccentric TCP acking the SYN before answering */
          } else if (hasAck && eState[peer] === ESTABLISHED) this.setState(ep, ESTABLISHED);
          else this.setState(ep, PARTIAL);
        }
        break;
      }
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (fin) {
          this.setState(ep, CLOSED);
          doClose = true;
        }
        if (rst) {
          this.setState(ep, RESET);
          doClose = true;
        }
        break;
      case ESTABLISHED:
      case PARTIAL:
        if (syn && eState[ep] === PARTIAL && eState[peer] === INACTIVE && !hasAck) this.setState(ep, SYN_SENT);
        if (fin && !rst) {
          this.setState(ep, CLOSED);
          if (eState[peer] === RESET && this.ePrev[peer] === CLOSED) this.setState(peer, CLOSED);
          doClose = true;
        }
        if (rst) {
          this.setState(ep, RESET);
          doClose = true;
        }
        break;
      case CLOSED:
        if (rst && eState[peer] !== CLOSED) {
          this.setState(ep, RESET);
          if (!this.eDidClose[ep]) doClose = true;
        }
        break;
      case RESET:
        break;
    }
    // after a flip the originator bit moved: recompute the sender's direction
    const nowOrig = ep === (f << 1) + this.fFlip[f];
    const dirNow: Dir = nowOrig ? 0 : 1;

    // acks reveal content gaps in the peer's stream
    if (hasAck && relAck > 0) {
      let a = relAck;
      if (this.eFinCnt[peer] > 0 && a >= this.eFinSeq[peer]) a = this.eFinSeq[peer] - 1;
      const r = this.eReasm[peer];
      const next = r ? r.next : 1;
      if (a > next) {
        const reasm = r ?? this.reasmFor(f, peer, dirNow === 0 ? 1 : 0);
        const active = eState[peer] === ESTABLISHED && eState[ep] === ESTABLISHED;
        const missing = reasm.ackTo(a, active);
        if (missing > 0 && active) {
          this.fMissed[f] += missing;
          this.scaled(f, peer, 2, !nowOrig);
        }
      }
    }

    // payload
    if (len > 0 && !rst && !underflow && p.payCap >= len) {
      const relData = syn ? relSeq + 1 : relSeq;
      const reasm = this.eReasm[ep] ?? this.reasmFor(f, ep, dirNow);
      reasm.add(relData, p.buf, p.payOff, len, frame, ts);
    }

    if (doClose) this.closed(f, ep, ts);
  }

  private reasmFor(f: number, ep: number, dir: Dir): StreamReasm {
    const x = this.ext(f);
    const r = new StreamReasm(dir, x, this.budget, this.maxReasmPerFlow);
    r.keepData = this.fProbing[f] === 1 || x.stream !== null;
    this.eReasm[ep] = r;
    return r;
  }

  private closed(f: number, ep: number, ts: number): void {
    if (this.eDidClose[ep]) return;
    this.eDidClose[ep] = 1;
    const peer = ep ^ 1;
    const complete = this.eState[ep] === RESET || this.eDidClose[peer] === 1 || this.eState[peer] === INACTIVE;
    if (complete && !this.fCloseComplete[f]) {
      this.fCloseComplete[f] = 1;
      this.fCloseAt[f] = this.fLast[f];
    }
    void ts;
  }

  private flip(f: number): void {
    const a = this.fAddr;
    const o = f * 8;
    for (let i = 0; i < 4; i++) {
      const t = a[o + i];
      a[o + i] = a[o + i + 4];
      a[o + i + 4] = t;
    }
    const tp = this.fOPort[f];
    this.fOPort[f] = this.fRPort[f];
    this.fRPort[f] = tp;
    this.fFlip[f] ^= 1;
    const hs = this.fHistSeen[f];
    this.fHistSeen[f] = ((hs & 0xffff) << 16) | (hs >>> 16);
    this.fHistory[f] += '^';
    // reassemblers keep their direction tags in sync
    const oe = (f << 1) + this.fFlip[f];
    const ro = this.eReasm[oe];
    const rr = this.eReasm[oe ^ 1];
    if (ro) (ro as { dir: Dir }).dir = 0;
    if (rr) (rr as { dir: Dir }).dir = 1;
    const x = this.fExt[f];
    if (x) x.info = null;
  }

  // ------------------------------------------------------------ UDP
  private udp(f: number, dir: Dir, p: PacketInfo, frame: number, ts: number): void {
    const ep = (f << 1) + (dir === 0 ? this.fFlip[f] : this.fFlip[f] ^ 1);
    this.fLast[f] = ts;
    this.eActive[ep] = 1;
    this.eBytes[ep] += p.payLen;
    this.checkHistory(f, H_DATA, 'D', 'd', dir === 0);
    if (p.payCap <= 0) return;
    const x0 = this.fExt[f];
    if (x0 && x0.dgram) {
      try {
        x0.dgram.datagram(dir, p.buf.subarray(p.payOff, p.payOff + p.payCap), frame, ts * 1000);
      } catch {
        /* analyzer bug: ignore this datagram */
      }
      return;
    }
    if (!this.fProbing[f]) return;
    const x = this.ext(f);
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
          x.dgram = fac.createDatagram!(info, this.aemit);
        } catch {
          x.dgram = null;
        }
        this.fProbing[f] = 0;
        if (x.dgram) {
          if (fac.name !== 'payload') this.fService[f] = fac.name;
          try {
            x.dgram.datagram(dir, data, frame, ts * 1000);
          } catch {
            /* ignore */
          }
        }
        return;
      }
    }
    if (++x.probeTries >= 4) this.fProbing[f] = 0;
  }

  // ------------------------------------------------------------ analyzers
  private origIp(f: number): string {
    const a = this.fAddr;
    const o = f * 8;
    if (!this.fV6[f]) return ip4Str(a[o]);
    W4[0] = a[o];
    W4[1] = a[o + 1];
    W4[2] = a[o + 2];
    W4[3] = a[o + 3];
    return ip6ToString(W4);
  }

  private respIp(f: number): string {
    const a = this.fAddr;
    const o = f * 8 + 4;
    if (!this.fV6[f]) return ip4Str(a[o]);
    W4[0] = a[o];
    W4[1] = a[o + 1];
    W4[2] = a[o + 2];
    W4[3] = a[o + 3];
    return ip6ToString(W4);
  }

  private flowInfo(f: number): FlowInfo {
    const x = this.ext(f);
    if (x.info) return x.info;
    x.info = {
      uid: this.uid(f),
      evidence: this.evidence,
      origIp: this.origIp(f),
      origPort: this.fOPort[f],
      respIp: this.respIp(f),
      respPort: this.fRPort[f],
      transport: this.fProto[f] === 6 ? 'tcp' : 'udp',
      communityId: communityIdAt(this.fV6[f] === 1, this.fAddr, f * 8, this.fProto[f], this.fOPort[f], this.fRPort[f]),
    };
    return x.info;
  }

  private ordered(list: AnalyzerFactory[], f: number): AnalyzerFactory[] {
    // port hint first, content decides
    const rp = this.fRPort[f];
    const op = this.fOPort[f];
    let hinted: AnalyzerFactory[] | null = null;
    for (const fac of list) {
      if (fac.ports && (fac.ports.includes(rp) || fac.ports.includes(op))) (hinted ??= []).push(fac);
    }
    if (!hinted) return list;
    return [...hinted, ...list.filter((x) => !hinted!.includes(x))];
  }

  /** In-order stream bytes from the reassembler. */
  deliverStream(f: number, x: FlowExt, dir: Dir, data: Buffer, frame: number, ts: number): void {
    if (x.stream) {
      try {
        x.stream.data(dir, data, frame, ts * 1000);
      } catch {
        /* analyzer bug: drop */
      }
      return;
    }
    if (!this.fProbing[f] || this.fExt[f] !== x) return;
    // buffer for probing
    const max = this.probeBytes;
    const have = dir === 0 ? x.probeLen0 : x.probeLen1;
    const keep = Buffer.from(data.subarray(0, Math.max(0, Math.min(data.length, max - have))));
    (x.probeLog ??= []).push({ dir, b: Buffer.from(data), frame, ts });
    if (dir === 0) {
      (x.probeOrig ??= []).push(keep);
      x.probeLen0 += keep.length;
    } else {
      (x.probeResp ??= []).push(keep);
      x.probeLen1 += keep.length;
    }
    const orig = x.probeOrig ? (x.probeOrig.length === 1 ? x.probeOrig[0] : Buffer.concat(x.probeOrig)) : EMPTY;
    const resp = x.probeResp ? (x.probeResp.length === 1 ? x.probeResp[0] : Buffer.concat(x.probeResp)) : EMPTY;
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
      x.stream = an;
      this.fProbing[f] = 0;
      if (fac.name !== 'payload') this.fService[f] = fac.name;
      const log = x.probeLog!;
      x.probeLog = x.probeOrig = x.probeResp = null;
      for (const e of log) {
        try {
          an.data(e.dir, e.b, e.frame, e.ts * 1000);
        } catch {
          break;
        }
      }
      return;
    }
    x.probeTries++;
    const total = x.probeLen0 + x.probeLen1;
    if ((x.probeLen0 >= max && x.probeLen1 >= max) || total >= 2 * max || x.probeTries > 32) this.stopProbing(f, x);
  }

  private stopProbing(f: number, x: FlowExt): void {
    this.fProbing[f] = 0;
    x.probeLog = x.probeOrig = x.probeResp = null;
    this.eReasm[f << 1]?.dropData();
    this.eReasm[(f << 1) + 1]?.dropData();
  }

  // ------------------------------------------------------------ lists & timers
  private desiredList(f: number): number {
    const proto = this.fProto[f];
    if (proto === 6) {
      if (this.fCloseComplete[f]) return L_CLOSED;
      const o = (f << 1) + this.fFlip[f];
      const os = this.eState[o];
      if ((os === SYN_SENT || os === SYN_ACK_SENT) && this.eState[o ^ 1] === INACTIVE) return L_ATTEMPT;
      return L_TCP;
    }
    return proto === 17 ? L_UDP : L_ICMP;
  }

  private expiry(f: number): number {
    const l = this.fList[f];
    switch (l) {
      case L_ATTEMPT:
        return this.fAttemptAt[f] + 5;
      case L_CLOSED:
        return this.fCloseAt[f] + 5;
      default:
        return this.fLast[f] + this.timeouts[l];
    }
  }

  private expired(f: number, ts: number): boolean {
    return this.fList[f] !== LIST_NONE && ts > this.expiry(f);
  }

  private unlink(f: number): void {
    const l = this.fList[f];
    if (l === LIST_NONE) return;
    const pv = this.fPrev[f];
    const nx = this.fNext[f];
    if (pv !== NIL) this.fNext[pv] = nx;
    else this.heads[l] = nx;
    if (nx !== NIL) this.fPrev[nx] = pv;
    else this.tails[l] = pv;
    this.fPrev[f] = this.fNext[f] = NIL;
    this.fList[f] = LIST_NONE;
  }

  private append(f: number, l: number): void {
    this.fList[f] = l;
    this.fNext[f] = NIL;
    const t = this.tails[l];
    this.fPrev[f] = t;
    if (t !== NIL) this.fNext[t] = f;
    else this.heads[l] = f;
    this.tails[l] = f;
  }

  private relist(f: number): void {
    const want = this.desiredList(f);
    if (want === this.fList[f]) {
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
      while (f !== NIL && ts > this.expiry(f)) {
        const n = this.fNext[f];
        this.finish(f, 'timeout');
        f = n;
        if (++guard > 100000) break;
      }
    }
  }

  private evictOne(): void {
    for (const l of EVICT_ORDER) {
      const f = this.heads[l];
      if (f !== NIL) {
        this.stats.evicted++;
        this.finish(f, 'evicted');
        return;
      }
    }
  }

  /** End of capture: every remaining connection is logged with its current state. */
  flush(): void {
    this.flushSome(Infinity);
  }

  /** End at most `max` remaining connections (same order as flush); true when none is left. */
  flushSome(max: number): boolean {
    let n = 0;
    for (let l = 0; l < NLISTS; l++) {
      while (this.heads[l] !== NIL) {
        if (n++ >= max) return false;
        this.finish(this.heads[l], 'end');
      }
    }
    return true;
  }

  get activeFlows(): number {
    return this.count;
  }

  get reassemblyBytes(): number {
    return this.budget.used;
  }

  /** Slots allocated for connection state (grows up to maxFlows). */
  get capacity(): number {
    return this.cap;
  }

  // ------------------------------------------------------------ ending a connection
  private finish(f: number, why: string): void {
    if (!this.fLive[f]) return;
    this.fLive[f] = 0;
    this.unlink(f);
    // remove from table
    const b = this.fHash[f] & this.mask;
    let c = this.buckets[b];
    let prev = NIL;
    while (c !== NIL && c !== f) {
      prev = c;
      c = this.fChain[c];
    }
    if (c === f) {
      if (prev !== NIL) this.fChain[prev] = this.fChain[f];
      else this.buckets[b] = this.fChain[f];
    }
    this.count--;
    // drain analyzers
    const e0 = f << 1;
    const r0 = this.eReasm[e0];
    const r1 = this.eReasm[e0 + 1];
    if (this.fProto[f] === 6) {
      // orig first, as before
      const ro = this.fFlip[f] ? r1 : r0;
      const rr = this.fFlip[f] ? r0 : r1;
      ro?.flushAll();
      rr?.flushAll();
      ro?.release();
      rr?.release();
    }
    const x = this.fExt[f];
    const endTs = this.fLast[f] * 1000;
    if (x) {
      if (x.stream) {
        try {
          x.stream.end(endTs);
        } catch {
          /* ignore */
        }
      }
      if (x.dgram) {
        try {
          x.dgram.end(endTs);
        } catch {
          /* ignore */
        }
      }
    }
    const ev = this.connEvent(f, why);
    // free the slot before emitting (the sink may do anything)
    this.eReasm[e0] = this.eReasm[e0 + 1] = null;
    this.fExt[f] = null;
    this.fHistory[f] = '';
    this.fService[f] = '';
    this.fChain[f] = this.freeHead;
    this.freeHead = f;
    this.emit(ev);
  }

  private connEvent(f: number, why: string): SpoorEvent {
    const x = this.fExt[f];
    const info = x?.info;
    const uid = info ? info.uid : this.uid(f);
    const origIp = info ? info.origIp : this.origIp(f);
    const respIp = info ? info.respIp : this.respIp(f);
    const proto = this.fProto[f];
    const op = this.fOPort[f];
    const rp = this.fRPort[f];
    const communityId = info ? info.communityId : communityIdAt(this.fV6[f] === 1, this.fAddr, f * 8, proto, op, rp);
    const o = (f << 1) + this.fFlip[f];
    const r = o ^ 1;
    const tcp = proto === 6;
    const state = this.connState(f, o, r);
    const start = this.fStart[f];
    const dur = this.fLast[f] - start;
    const transport = tcp ? 'tcp' : proto === 17 ? 'udp' : proto === 58 ? 'icmp6' : 'icmp';
    const firstFrame = this.fFirstFrame[f];
    const e = new ConnRecord(
      start * 1000,
      { evidence: this.evidence, frame: firstFrame, uid },
      state,
      dur * 1000,
      uid,
      origIp,
      op,
      respIp,
      rp,
      transport,
      communityId,
      tcp ? this.size(o) : this.eBytes[o],
      tcp ? this.size(r) : this.eBytes[r],
      this.ePkts[o],
      this.ePkts[r],
      this.eIpBytes[o],
      this.eIpBytes[r],
      this.fHistory[f],
      this.fMissed[f],
      this.homeNet ? this.homeNet.isInternal(origIp) : false,
      this.homeNet ? this.homeNet.isInternal(respIp) : false,
      firstFrame,
      this.fLastFrame[f],
      why,
      proto,
      this.fService[f],
      this.eFpTtl[o],
      this.eFpIpId[o],
      tcp,
      this.eFpWin[o],
      this.eFpSeq[o],
    ) as unknown as SpoorEvent;
    return e;
  }

  /** Zeek's TCP_Endpoint::Size for endpoint e (its peer is e^1). */
  private size(e: number): number {
    if (this.ePrev[e] === SYN_SENT && this.eState[e] === RESET && this.eState[e ^ 1] === INACTIVE && !(this.eRelAck[e] === 0 || this.eRelAck[e] === 1)) return 0;
    const rl = this.eRelLast[e];
    const ra = this.eRelAck[e];
    let s = rl > ra ? rl : ra;
    if (s > 0) s--;
    if (this.eFinCnt[e] > 0 && s > 0) s--;
    return s;
  }

  /** Zeek's conn_state() from base/protocols/conn/main.zeek. */
  private connState(f: number, o: number, r: number): string {
    const os = this.eState[o];
    const rs = this.eState[r];
    const proto = this.fProto[f];
    if (proto === 6) {
      const oi = os === INACTIVE || os === PARTIAL;
      const ri = rs === INACTIVE || rs === PARTIAL;
      if (rs === RESET) {
        if (os === SYN_SENT || os === SYN_ACK_SENT || (os === RESET && this.size(o) === 0 && this.size(r) === 0)) return 'REJ';
        if (oi) return 'RSTRH';
        return 'RSTR';
      }
      if (os === RESET) {
        if (ri) return RSTOS0_RE.test(this.fHistory[f]) ? 'RSTOS0' : 'OTH';
        return 'RSTO';
      }
      if (rs === CLOSED && os === CLOSED) return 'SF';
      if (os === CLOSED) return ri ? 'SH' : 'S2';
      if (rs === CLOSED) return oi ? 'SHR' : 'S3';
      if (os === SYN_SENT && rs === INACTIVE) return 'S0';
      if (os === ESTABLISHED && rs === ESTABLISHED) return 'S1';
      return 'OTH';
    }
    if (proto === 17) {
      if (this.eActive[o]) return this.eActive[r] ? 'SF' : 'S0';
      return this.eActive[r] ? 'SHR' : 'OTH';
    }
    return 'OTH';
  }
}

/**
 * The conn record, pre-shaped: a constructor that assigns every field in one
 * fixed order gives all records one hidden class allocated inline (an object
 * literal of this size, with fields added after it, went through V8's slow
 * literal path: ≈2 µs each). The
 * key order is the record's JSON field order; do not reorder.
 */
class ConnRecord {
  [k: string]: unknown;
  constructor(
    ts: number,
    ref: { evidence: string; frame: number; uid: string },
    state: string,
    dur: number,
    uid: string,
    origIp: string,
    op: number,
    respIp: string,
    rp: number,
    transport: string,
    communityId: string,
    ob: number,
    rb: number,
    opk: number,
    rpk: number,
    oib: number,
    rib: number,
    history: string,
    missed: number,
    lo: boolean,
    lr: boolean,
    firstFrame: number,
    lastFrame: number,
    why: string,
    proto: number,
    service: string,
    ttl: number,
    ipid: number,
    tcp: boolean,
    win: number,
    seq: number,
  ) {
    this['@timestamp'] = ts;
    this['event.dataset'] = 'conn';
    this.ref = ref;
    this['event.provider'] = 'conn';
    this['event.action'] = state;
    this['event.duration'] = dur;
    this['conn.uid'] = uid;
    this['source.ip'] = origIp;
    this['source.port'] = op;
    this['destination.ip'] = respIp;
    this['destination.port'] = rp;
    this['network.transport'] = transport;
    this['network.community_id'] = communityId;
    this['source.bytes'] = ob;
    this['destination.bytes'] = rb;
    this['source.packets'] = opk;
    this['destination.packets'] = rpk;
    this['source.ip_bytes'] = oib;
    this['destination.ip_bytes'] = rib;
    this['conn.state'] = state;
    this['conn.history'] = history;
    this['conn.missed_bytes'] = missed;
    this['conn.local_orig'] = lo;
    this['conn.local_resp'] = lr;
    this['conn.first_frame'] = firstFrame;
    this['conn.last_frame'] = lastFrame;
    this['conn.end_reason'] = why;
    this['conn.ip_proto'] = proto;
    // optional fields, still in the constructor so they stay in-object
    if (service) this['network.protocol'] = service;
    if (ttl >= 0) {
      this['conn.orig_ttl'] = ttl;
      this['conn.orig_ipid'] = ipid;
      if (tcp) {
        this['conn.orig_window'] = win;
        this['conn.orig_seq'] = seq;
      }
    }
  }
}

const EVICT_ORDER = [L_ATTEMPT, L_CLOSED, L_UDP, L_ICMP, L_TCP];

const EMPTY = Buffer.alloc(0);

const RSTOS0_RE = /^\^?S[^HAFGIQ]*R.*$/;
