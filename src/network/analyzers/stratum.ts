/**
 * Mining-pool protocols: stratum JSON-RPC (newline-delimited JSON over TCP,
 * any port) — `mining.subscribe` (miner agent), `mining.authorize`
 * (worker login, usually `WALLET.worker`), XMRig/Monero `login`
 * (`params.login`, `params.agent`), and `eth_submitLogin`. One `stratum`
 * record per such request.
 */
import { flowFields, type AnalyzerFactory, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from '../analyzer.js';
import { weirdEvent } from './common.js';

const METHODS = /"method"\s*:\s*"(mining\.subscribe|mining\.authorize|mining\.submit|mining\.extranonce\.subscribe|login|eth_submitLogin|eth_login|submit|getjob|keepalived)"/;
/** Repetitive work/share messages: counted into one summary record, not one record each. */
const COUNTED = new Set(['mining.submit', 'submit', 'eth_submitWork', 'eth_getWork', 'eth_submitHashrate', 'getjob', 'keepalived']);
const MAX_LINE = 16 * 1024;
const MAX_RECORDS = 64;

class StratumStream implements StreamAnalyzer {
  private buf = '';
  private count = 0;
  private submits = 0;
  private lastFrame = 0;
  private firstTs = 0;
  private done = false;
  constructor(private flow: FlowInfo, private emit: Emit) {}

  data(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    if (dir !== 0 || this.done) return;
    try {
      this.buf += bytes.toString('latin1');
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line) this.line(line, frame, ts);
      }
      if (this.buf.length > MAX_LINE) {
        this.emit(weirdEvent(this.flow, 'stratum', 'stratum_line_too_long', String(this.buf.length), ts, frame));
        this.buf = '';
      }
    } catch {
      this.done = true;
    }
  }

  private line(line: string, frame: number, ts: number): void {
    let msg: { method?: unknown; params?: unknown; id?: unknown };
    try {
      msg = JSON.parse(line);
    } catch {
      if (METHODS.test(line)) this.emit(weirdEvent(this.flow, 'stratum', 'stratum_bad_json', line.slice(0, 80), ts, frame));
      return;
    }
    if (!msg || typeof msg !== 'object' || typeof msg.method !== 'string') return;
    const method = msg.method;
    if (COUNTED.has(method)) {
      this.submits++;
      this.lastFrame = frame;
      if (!this.firstTs) this.firstTs = ts;
      return;
    }
    if (this.count >= MAX_RECORDS) return;
    const ev = { ...flowFields(this.flow, 'stratum', ts, frame), 'event.provider': 'stratum', 'event.action': method, 'stratum.method': method } as Record<string, unknown>;
    const p = msg.params;
    const s = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? undefined : JSON.stringify(v));
    if (Array.isArray(p)) {
      if (method === 'mining.subscribe' && p[0] !== undefined) ev['stratum.agent'] = s(p[0]);
      if ((method === 'mining.authorize' || method === 'eth_submitLogin' || method === 'eth_login') && p[0] !== undefined) ev['stratum.login'] = s(p[0]);
    } else if (p && typeof p === 'object') {
      const o = p as Record<string, unknown>;
      if (o.login !== undefined) ev['stratum.login'] = s(o.login);
      if (o.agent !== undefined) ev['stratum.agent'] = s(o.agent);
      if (o.algo !== undefined) ev['stratum.algo'] = s(o.algo);
      if (o.rigid !== undefined) ev['stratum.rig_id'] = s(o.rigid);
    }
    if (typeof ev['stratum.login'] === 'string') ev['user.name'] = ev['stratum.login'];
    this.count++;
    this.emit(ev as never);
  }

  end(ts: number): void {
    if (this.submits) {
      this.emit({ ...flowFields(this.flow, 'stratum', this.firstTs || ts, this.lastFrame), 'event.provider': 'stratum',
        'event.action': 'work', 'stratum.method': 'work', 'stratum.submits': this.submits });
    }
  }
}

export function looksLikeStratum(b: Buffer): boolean {
  if (b.length < 10 || b[0] !== 0x7b) return false;
  return METHODS.test(b.toString('latin1', 0, Math.min(b.length, 2048)));
}

export const stratumAnalyzer: AnalyzerFactory = {
  name: 'stratum',
  transport: 'tcp',
  ports: [3333, 4444, 5555, 7777, 8888, 9999, 14444, 45700],
  probe(orig) {
    return looksLikeStratum(orig);
  },
  createStream(flow, emit) {
    return new StratumStream(flow, emit);
  },
};
