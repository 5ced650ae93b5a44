/**
 * SSH (RFC 4253): version banners, KEXINIT algorithm lists (negotiated = the
 * first client algorithm the server also offers), and an authentication
 * outcome estimated from the shape of the encrypted traffic.
 *
 * Authentication heuristic (in the spirit of Zeek's SSH analyzer, which also
 * infers the outcome from encrypted packet sizes): after the server's
 * NEWKEYS, each in-order chunk the server sends is taken as one encrypted
 * packet. The first server packet that follows the client's first encrypted
 * packet (the SERVICE_REQUEST) is the SERVICE_ACCEPT; its length is the
 * baseline S (a server EXT_INFO sent before that is skipped). Every later
 * server packet shorter than S is USERAUTH_SUCCESS (the smallest message, one
 * byte of payload padded to a single cipher block) → `ssh.auth_success = true`,
 * analysis stops. The first server packet of length ≥ S (and < S + 256, larger
 * ones are pre-auth banners) is taken as USERAUTH_FAILURE (usually the answer
 * to the client's "none" probe) and fixes the failure size F without being
 * counted, as Zeek does; every later server packet of exactly F is one refused
 * attempt. `ssh.auth_attempts` = refused attempts (+1 for the success);
 * `ssh.auth_success` is false when refusals were seen but no success, null when
 * undecided. With zlib compression no estimate is made. TCP segments carrying
 * several SSH packets blur the estimate.
 */
import type { SpoorEvent } from '../../core/event.js';
import { flowFields, type AnalyzerFactory, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from '../analyzer.js';
import { weirdEvent } from './common.js';

const MAX_BUF = 64 * 1024;

interface Kex {
  kex: string[];
  hostKey: string[];
  encC2S: string[];
  encS2C: string[];
  macC2S: string[];
  macS2C: string[];
  compC2S: string[];
  compS2C: string[];
}

export function parseKexInit(p: Buffer): Kex | null {
  // p = payload starting with msg type 20
  let o = 17;
  const lists: string[][] = [];
  for (let i = 0; i < 10; i++) {
    if (o + 4 > p.length) return null;
    const l = p.readUInt32BE(o);
    if (o + 4 + l > p.length) return null;
    lists.push(l ? p.toString('latin1', o + 4, o + 4 + l).split(',') : []);
    o += 4 + l;
  }
  return { kex: lists[0], hostKey: lists[1], encC2S: lists[2], encS2C: lists[3], macC2S: lists[4], macS2C: lists[5], compC2S: lists[6], compS2C: lists[7] };
}

const pick = (c: string[], s: string[]) => c.find((a) => s.includes(a));

class SshStream implements StreamAnalyzer {
  private buf: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  private banner: [string | undefined, string | undefined] = [undefined, undefined];
  private kex: [Kex | null, Kex | null] = [null, null];
  private newkeys: [boolean, boolean] = [false, false];
  private clientEnc = 0;
  private baseline = 0;
  private failureSize = 0;
  private attempts = 0;
  private success: boolean | null = null;
  private decided = false;
  private ts = 0;
  private frame = 0;
  private lastFrame = 0;
  private dead = false;
  constructor(private flow: FlowInfo, private emit: Emit) {}

  data(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    if (this.dead || this.decided) return;
    try {
      if (!this.ts) { this.ts = ts; this.frame = frame; }
      if (this.newkeys[dir]) { this.encrypted(dir, bytes.length, frame); return; }
      let b = this.buf[dir].length ? Buffer.concat([this.buf[dir], bytes]) : bytes;
      // Banner (servers may send other lines first).
      while (this.banner[dir] === undefined) {
        const nl = b.indexOf(0x0a);
        if (nl < 0) {
          if (b.length > 8192) { this.emit(weirdEvent(this.flow, 'ssh', 'ssh_banner_too_long', String(b.length), ts, frame)); this.dead = true; }
          this.buf[dir] = Buffer.from(b);
          return;
        }
        const line = b.toString('latin1', 0, nl).replace(/\r$/, '');
        b = b.subarray(nl + 1);
        if (line.startsWith('SSH-')) this.banner[dir] = line.slice(0, 255);
      }
      const v1 = /^SSH-1\.(?!99)/.test(this.banner[0] ?? '') || /^SSH-1\.(?!99)/.test(this.banner[1] ?? '');
      while (!v1 && b.length >= 6) {
        const len = b.readUInt32BE(0);
        if (len < 2 || len > 35000) {
          this.emit(weirdEvent(this.flow, 'ssh', 'ssh_bad_packet_length', String(len), ts, frame));
          this.dead = true;
          return;
        }
        if (b.length < 4 + len) break;
        const pad = b[4];
        const payload = b.subarray(5, 4 + len - Math.min(pad, len - 1));
        const msg = payload[0];
        b = b.subarray(4 + len);
        if (msg === 20 && !this.kex[dir]) this.kex[dir] = parseKexInit(payload);
        else if (msg === 21) {
          this.newkeys[dir] = true;
          if (b.length) this.encrypted(dir, b.length, frame);
          b = Buffer.alloc(0);
          break;
        }
      }
      if (b.length > MAX_BUF) b = Buffer.alloc(0);
      this.buf[dir] = b.length ? Buffer.from(b) : Buffer.alloc(0);
    } catch (e) {
      this.dead = true;
      this.emit(weirdEvent(this.flow, 'ssh', 'ssh_analyzer_error', String((e as Error).message), ts, frame));
    }
  }

  private encrypted(dir: Dir, len: number, frame: number): void {
    this.lastFrame = frame;
    if (this.compressed()) { this.decided = true; return; }
    if (dir === 0) { this.clientEnc++; return; }
    if (!this.clientEnc) return; // e.g. EXT_INFO before the client's SERVICE_REQUEST
    if (!this.baseline) { this.baseline = len; return; }
    if (len < this.baseline) {
      this.attempts++;
      this.success = true;
      this.decided = true;
      return;
    }
    if (!this.failureSize) {
      // The first refusal (typically the answer to the "none" probe listing the methods) sets the
      // failure size; one much larger than SERVICE_ACCEPT is a banner and is skipped.
      if (len <= this.baseline + 256) this.failureSize = len;
      return;
    }
    if (len === this.failureSize) {
      this.attempts++;
      this.success = false;
    }
  }

  /** With compression (zlib, or zlib@openssh.com after auth) packet sizes say nothing: no estimate. */
  private compressed(): boolean {
    const [kc, ks] = this.kex;
    if (!kc || !ks) return false;
    const c = pick(kc.compS2C, ks.compS2C);
    return c === 'zlib' || c === 'zlib@openssh.com';
  }

  end(ts: number): void {
    if (!this.banner[0] && !this.banner[1]) return;
    try {
      const c = this.banner[0] ?? '', s = this.banner[1] ?? '';
      const ver = /^SSH-2\.0/.test(c) || (/^SSH-1\.99/.test(c) && /^SSH-2\.0/.test(s)) || (/^SSH-2\.0/.test(s) && /^SSH-1\.99/.test(c)) ? 2 : /^SSH-1\./.test(c) ? 1 : 2;
      const ev: SpoorEvent = {
        ...flowFields(this.flow, 'ssh', this.ts || ts, this.frame),
        'event.provider': 'ssh',
        'event.action': 'ssh-session',
        'network.protocol': 'ssh',
        'ssh.auth_success': this.success,
        'ssh.auth_attempts': this.attempts,
        'event.outcome': this.success === null ? 'unknown' : this.success ? 'success' : 'failure',
      };
      if (this.banner[0] && this.banner[1]) ev['ssh.version'] = ver;
      if (this.banner[0]) ev['ssh.client'] = this.banner[0];
      if (this.banner[1]) ev['ssh.server'] = this.banner[1];
      const [kc, ks] = this.kex;
      if (kc && ks) {
        const kex = pick(kc.kex, ks.kex);
        if (kex) ev['ssh.kex_alg'] = kex;
        const hk = pick(kc.hostKey, ks.hostKey);
        if (hk) ev['ssh.host_key_alg'] = hk;
        const ci = pick(kc.encC2S, ks.encC2S);
        if (ci) ev['ssh.cipher_alg'] = ci;
        const mac = pick(kc.macC2S, ks.macC2S);
        if (mac) ev['ssh.mac_alg'] = mac;
        const comp = pick(kc.compC2S, ks.compC2S);
        if (comp) ev['ssh.compression_alg'] = comp;
      }
      if (kc) ev['ssh.client_kex_algs'] = kc.kex;
      if (this.lastFrame) ev['ssh.last_frame'] = this.lastFrame;
      this.emit(ev);
    } catch { /* never throw */ }
  }
}

export const sshAnalyzer: AnalyzerFactory = {
  name: 'ssh',
  transport: 'tcp',
  ports: [22, 2222],
  probe(orig, resp) {
    const isBanner = (b: Buffer) => b.length >= 4 && b.toString('latin1', 0, 4) === 'SSH-';
    return isBanner(orig) || isBanner(resp);
  },
  createStream(flow, emit) {
    return new SshStream(flow, emit);
  },
};
