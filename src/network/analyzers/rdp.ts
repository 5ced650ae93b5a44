/**
 * RDP connection sequence (MS-RDPBCGR 2.2.1): X.224 Connection Request with
 * the routing cookie (`Cookie: mstshash=USER`) and RDP_NEG_REQ requested
 * protocols; Connection Confirm with RDP_NEG_RSP (selected protocol) or
 * RDP_NEG_FAILURE. When TLS/CredSSP is selected the rest of the stream is
 * handed to the TLS parser (so the `tls` record comes from here, once; the
 * flow keeps service `rdp`). With standard RDP security the MCS Connect
 * Initial's client core data (client name, build, keyboard, desktop) and the
 * MCS Connect Response result are read.
 */
import type { SpoorEvent } from '../../core/event.js';
import { flowFields, type AnalyzerFactory, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from '../analyzer.js';
import { utf16, weirdEvent } from './common.js';
import { TlsParser } from './tls.js';
import { parseCertificate } from './x509.js';

const ENC_METHODS: Record<number, string> = { 0: 'None', 1: '40bit', 2: '128bit', 8: '56bit', 0x10: 'FIPS' };
const ENC_LEVELS: Record<number, string> = { 0: 'None', 1: 'Low', 2: 'Client compatible', 3: 'High', 4: 'FIPS' };

const PROTOCOLS: [number, string][] = [[1, 'SSL'], [2, 'HYBRID'], [4, 'RDSTLS'], [8, 'HYBRID_EX'], [0x10, 'RDSAAD']];
export const FAILURE_CODES: Record<number, string> = {
  1: 'SSL_REQUIRED_BY_SERVER', 2: 'SSL_NOT_ALLOWED_BY_SERVER', 3: 'SSL_CERT_NOT_ON_SERVER', 4: 'INCONSISTENT_FLAGS',
  5: 'HYBRID_REQUIRED_BY_SERVER', 6: 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER',
};

export function requestedProtocols(mask: number): string[] {
  const out = mask === 0 ? ['RDP'] : ['RDP'];
  for (const [bit, name] of PROTOCOLS) if (mask & bit) out.push(name);
  return out;
}

export function selectedProtocol(p: number): string {
  if (p === 0) return 'RDP';
  for (const [bit, name] of PROTOCOLS) if (p === bit) return name;
  return `unknown-${p}`;
}

class RdpStream implements StreamAnalyzer {
  private buf: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  private rec: SpoorEvent | null = null;
  private emitted = false;
  private tls: TlsParser | null = null;
  private state = 'cr' as string;
  private dead = false;
  constructor(private flow: FlowInfo, private emit: Emit) {}

  data(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    if (this.dead) return;
    try {
      if (this.tls) { this.tls.data(dir, bytes, frame, ts); return; }
      if (this.state === 'done') return;
      let b = this.buf[dir].length ? Buffer.concat([this.buf[dir], bytes]) : bytes;
      while (b.length >= 4 && !this.tls && (this.state as string) !== 'done') {
        if (b[0] !== 3) {
          // Fast-path PDUs or encrypted data after the negotiation: stop parsing.
          if (this.state === 'mcs') { this.state = 'done'; break; }
          this.emit(weirdEvent(this.flow, 'rdp', 'rdp_not_tpkt', `0x${b[0].toString(16)}`, ts, frame));
          this.state = 'done';
          break;
        }
        const len = b.readUInt16BE(2);
        if (len < 7) { this.emit(weirdEvent(this.flow, 'rdp', 'rdp_bad_tpkt_length', String(len), ts, frame)); this.state = 'done'; break; }
        if (b.length < len) break;
        const rest = b.subarray(len);
        this.tpkt(dir, b.subarray(0, len), frame, ts);
        b = rest;
        const t = this.tls as TlsParser | null;
        if (t && b.length) { t.data(dir, b, frame, ts); b = Buffer.alloc(0); }
      }
      if (b.length > 65536) b = Buffer.alloc(0);
      this.buf[dir] = b.length ? Buffer.from(b) : Buffer.alloc(0);
    } catch (e) {
      this.dead = true;
      this.emit(weirdEvent(this.flow, 'rdp', 'rdp_analyzer_error', String((e as Error).message), ts, frame));
    }
  }

  private tpkt(dir: Dir, p: Buffer, frame: number, ts: number): void {
    const li = p[4];
    const code = p[5] & 0xf0;
    if (dir === 0 && code === 0xe0 && !this.rec) {
      const x224End = Math.min(p.length, 5 + li);
      let v = p.subarray(11, x224End);
      this.rec = { ...flowFields(this.flow, 'rdp', ts, frame), 'event.provider': 'rdp', 'event.action': 'rdp-connect', 'network.protocol': 'rdp' };
      const nl = v.indexOf('\r\n');
      if (v.subarray(0, 8).toString('latin1') === 'Cookie: ' && nl > 0) {
        const cookie = v.toString('latin1', 8, nl);
        if (cookie.startsWith('mstshash=')) {
          this.rec['rdp.cookie'] = cookie.slice(9);
          this.rec['user.name'] = cookie.slice(9);
        } else this.rec['rdp.cookie'] = cookie; // e.g. msts= routing token
        v = v.subarray(nl + 2);
      } else {
        this.rec['rdp.cookie'] = ''; // no routing cookie sent (Zeek logs an empty cookie)
      }
      if (v.length >= 8 && v[0] === 1) {
        const mask = v.readUInt32LE(4);
        this.rec['rdp.requested_protocols'] = requestedProtocols(mask);
        this.rec['rdp.requested_protocols_mask'] = mask;
      } else {
        this.rec['rdp.requested_protocols'] = ['RDP'];
      }
      this.state = 'cc';
    } else if (dir === 1 && code === 0xd0 && this.rec && this.state === 'cc') {
      const v = p.subarray(11, Math.min(p.length, 5 + li));
      let selected = 0;
      if (v.length >= 8 && v[0] === 2) {
        selected = v.readUInt32LE(4);
        this.rec['rdp.selected_protocol'] = selectedProtocol(selected);
      } else if (v.length >= 8 && v[0] === 3) {
        const fc = v.readUInt32LE(4);
        this.rec['rdp.result'] = FAILURE_CODES[fc] ?? `unknown-${fc}`;
        this.rec['event.outcome'] = 'failure';
        this.state = 'done';
        this.flush();
        return;
      } else {
        this.rec['rdp.selected_protocol'] = 'RDP';
      }
      if (selected !== 0) {
        this.rec['rdp.result'] = 'encrypted';
        this.rec['rdp.tls'] = true;
        this.tls = new TlsParser(this.flow, this.emit, 'rdp');
        this.flush();
      } else {
        this.state = 'mcs';
      }
    } else if (this.state === 'mcs' && this.rec) {
      const d = p.subarray(7);
      if (dir === 0 && d[0] === 0x7f && d[1] === 0x65) {
        let core = -1;
        for (let i = d.indexOf(0xc0, 1); i > 0 && i + 7 < d.length; i = d.indexOf(0xc0, i + 1)) {
          if (d[i - 1] === 0x01 && d[i + 5] === 0x08 && d[i + 4] === 0x00 && d[i + 6] === 0x00) { core = i - 1; break; }
        }
        if (core >= 0 && core + 4 + 8 + 4 + 4 + 32 <= d.length) {
          const o = core + 4;
          this.rec['rdp.desktop_width'] = d.readUInt16LE(o + 4);
          this.rec['rdp.desktop_height'] = d.readUInt16LE(o + 6);
          this.rec['rdp.keyboard_layout'] = d.readUInt32LE(o + 12);
          this.rec['rdp.client_build'] = d.readUInt32LE(o + 16);
          this.rec['rdp.client_name'] = utf16(d, o + 20, 32);
        }
      } else if (dir === 1 && d[0] === 0x7f && d[1] === 0x66) {
        const r = d.indexOf(Buffer.from([0x0a, 0x01]));
        if (r >= 0 && r + 2 < d.length) {
          this.rec['rdp.result'] = d[r + 2] === 0 ? 'Success' : `mcs-result-${d[r + 2]}`;
          this.rec['event.outcome'] = d[r + 2] === 0 ? 'success' : 'failure';
        }
        this.serverSecurity(d);
        this.state = 'done';
        this.flush();
      }
    }
  }

  /** SC_SECURITY (0x0C02) in the MCS Connect Response: encryption method/level and the server certificate (proprietary or X.509 chain). */
  private serverSecurity(d: Buffer): void {
    const rec = this.rec!;
    for (let i = d.indexOf(Buffer.from([0x02, 0x0c])); i >= 0 && i + 12 <= d.length; i = d.indexOf(Buffer.from([0x02, 0x0c]), i + 1)) {
      const len = d.readUInt16LE(i + 2);
      if (len < 12 || i + len > d.length) continue;
      const method = d.readUInt32LE(i + 4), level = d.readUInt32LE(i + 8);
      rec['rdp.encryption_method'] = ENC_METHODS[method] ?? `unknown-${method}`;
      rec['rdp.encryption_level'] = ENC_LEVELS[level] ?? `unknown-${level}`;
      if (len < 20 || !method) return;
      const randLen = d.readUInt32LE(i + 12), certLen = d.readUInt32LE(i + 16);
      const co = i + 20 + randLen;
      if (certLen < 4 || co + certLen > i + len) return;
      const ver = d.readUInt32LE(co);
      rec['rdp.cert_permanent'] = (ver & 0x80000000) === 0;
      if ((ver & 0x7fffffff) === 1) {
        rec['rdp.cert_type'] = 'RSA';
        rec['rdp.cert_count'] = 1;
      } else if ((ver & 0x7fffffff) === 2 && co + 8 <= d.length) {
        rec['rdp.cert_type'] = 'X.509';
        const n = d.readUInt32LE(co + 4);
        const chain: Record<string, unknown>[] = [];
        let o = co + 8;
        for (let k = 0; k < n && k < 16 && o + 4 <= co + certLen; k++) {
          const cl = d.readUInt32LE(o);
          if (o + 4 + cl > co + certLen) break;
          const c = parseCertificate(d.subarray(o + 4, o + 4 + cl));
          chain.push(c ? { sha256: c.sha256, subject: c.subject, issuer: c.issuer, serial: c.serial, version: c.version, not_before: c.notBefore, not_after: c.notAfter, ...(c.san.length ? { san: c.san } : {}) } : { parse_error: true });
          o += 4 + cl;
        }
        rec['rdp.cert_count'] = n;
        if (chain.length) rec['rdp.x509.chain'] = chain;
      }
      return;
    }
  }

  private flush(): void {
    if (this.rec && !this.emitted) {
      this.emitted = true;
      this.emit(this.rec);
    }
  }

  end(ts: number): void {
    if (this.dead) return;
    try {
      this.flush();
      this.tls?.end(ts);
    } catch { /* never throw */ }
  }
}

export function looksLikeRdp(b: Buffer): boolean {
  return b.length >= 11 && b[0] === 3 && b[1] === 0 && (b[5] & 0xf0) === 0xe0 && b.readUInt16BE(2) >= 11;
}

export const rdpAnalyzer: AnalyzerFactory = {
  name: 'rdp',
  transport: 'tcp',
  ports: [3389],
  probe(orig) {
    return looksLikeRdp(orig);
  },
  createStream(flow, emit) {
    return new RdpStream(flow, emit);
  },
};
