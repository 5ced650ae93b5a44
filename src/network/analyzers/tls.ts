/**
 * TLS/SSL handshake analyzer (RFC 5246/8446; SSLv2-compatible ClientHello).
 * Records are reassembled per direction (bounded), handshake messages are
 * reassembled across records, several per record are handled. Emits one
 * `tls` record per connection (at the end, or once the handshake is over)
 * with SNI, versions, ciphers, extensions, ALPN, JA3/JA3S/JA4 and the leaf
 * certificate (TLS ≤ 1.2; TLS 1.3 certificates are encrypted), plus one
 * `x509` field set for the leaf; chain fingerprints are listed.
 */
import type { SpoorEvent } from '../../core/event.js';
import { flowFields, type AnalyzerFactory, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from '../analyzer.js';
import { md5hex, sha256hex, weirdEvent } from './common.js';
import { cipherName, isGrease, versionName } from './tls-names.js';
import { parseCertificate } from './x509.js';

const MAX_RECORD_BUF = 64 * 1024 + 2048;
const MAX_HS_BUF = 512 * 1024;

export interface ClientHello {
  version: number;
  ciphers: number[];
  extensions: number[];
  sni?: string;
  alpn: string[];
  groups: number[];
  pointFormats: number[];
  sigAlgs: number[];
  supportedVersions: number[];
  sessionIdLen: number;
}

export interface ServerHello {
  version: number;
  cipher: number;
  extensions: number[];
  selectedVersion?: number;
  alpn?: string;
}

function rd16(b: Buffer, o: number): number { return b.readUInt16BE(o); }

/** Parse a ClientHello body (after the 4-byte handshake header). Throws RangeError on truncation (caller catches). */
export function parseClientHello(b: Buffer): ClientHello {
  let o = 0;
  const ch: ClientHello = { version: rd16(b, 0), ciphers: [], extensions: [], alpn: [], groups: [], pointFormats: [], sigAlgs: [], supportedVersions: [], sessionIdLen: 0 };
  o = 2 + 32;
  ch.sessionIdLen = b[o];
  o += 1 + b[o];
  const cl = rd16(b, o); o += 2;
  for (let i = 0; i + 1 < cl; i += 2) ch.ciphers.push(rd16(b, o + i));
  o += cl;
  const comp = b[o]; o += 1 + comp;
  if (o + 2 > b.length) return ch;
  const el = rd16(b, o); o += 2;
  const end = Math.min(b.length, o + el);
  while (o + 4 <= end) {
    const t = rd16(b, o), l = rd16(b, o + 2);
    const v = b.subarray(o + 4, Math.min(end, o + 4 + l));
    o += 4 + l;
    ch.extensions.push(t);
    try {
      if (t === 0 && v.length >= 5) {
        // server_name list: first host_name entry
        let p = 2;
        while (p + 3 <= v.length) {
          const nt = v[p], nl = rd16(v, p + 1);
          if (nt === 0) { ch.sni = v.toString('latin1', p + 3, Math.min(v.length, p + 3 + nl)); break; }
          p += 3 + nl;
        }
      } else if (t === 10 && v.length >= 2) {
        const n = rd16(v, 0);
        for (let i = 2; i + 1 < 2 + n && i + 1 < v.length; i += 2) ch.groups.push(rd16(v, i));
      } else if (t === 11 && v.length >= 1) {
        for (let i = 1; i < 1 + v[0] && i < v.length; i++) ch.pointFormats.push(v[i]);
      } else if (t === 13 && v.length >= 2) {
        const n = rd16(v, 0);
        for (let i = 2; i + 1 < 2 + n && i + 1 < v.length; i += 2) ch.sigAlgs.push(rd16(v, i));
      } else if (t === 16 && v.length >= 2) {
        let p = 2;
        while (p < v.length) { const sl = v[p]; ch.alpn.push(v.toString('latin1', p + 1, Math.min(v.length, p + 1 + sl))); p += 1 + sl; }
      } else if (t === 43 && v.length >= 1) {
        for (let i = 1; i + 1 < 1 + v[0] && i + 1 < v.length; i += 2) ch.supportedVersions.push(rd16(v, i));
      }
    } catch { /* malformed extension body: keep the type */ }
  }
  return ch;
}

export function parseServerHello(b: Buffer): ServerHello {
  let o = 2 + 32;
  const sh: ServerHello = { version: rd16(b, 0), cipher: 0, extensions: [] };
  o += 1 + b[o];
  sh.cipher = rd16(b, o); o += 2;
  o += 1; // compression
  if (o + 2 > b.length) return sh;
  const el = rd16(b, o); o += 2;
  const end = Math.min(b.length, o + el);
  while (o + 4 <= end) {
    const t = rd16(b, o), l = rd16(b, o + 2);
    const v = b.subarray(o + 4, Math.min(end, o + 4 + l));
    o += 4 + l;
    sh.extensions.push(t);
    if (t === 43 && v.length >= 2) sh.selectedVersion = rd16(v, 0);
    if (t === 16 && v.length >= 3) sh.alpn = v.toString('latin1', 3, Math.min(v.length, 3 + v[2]));
  }
  return sh;
}

export function ja3String(ch: ClientHello): string {
  const f = (a: number[]) => a.filter((x) => !isGrease(x)).join('-');
  return [ch.version, f(ch.ciphers), f(ch.extensions), f(ch.groups), ch.pointFormats.join('-')].join(',');
}

export function ja3sString(sh: ServerHello): string {
  return [sh.version, sh.cipher, sh.extensions.filter((x) => !isGrease(x)).join('-')].join(',');
}

const JA4V: Record<number, string> = { 0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3', 0x0002: 's2', 0xfeff: 'd1', 0xfefd: 'd2', 0xfefc: 'd3' };
const h12 = (s: string) => (s ? sha256hex(s).slice(0, 12) : '000000000000');
const hex4 = (n: number) => n.toString(16).padStart(4, '0');
const alnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** JA4 (FoxIO spec): `t13d1516h2_<sorted ciphers hash>_<sorted extensions + sigalgs hash>`. */
export function ja4(ch: ClientHello, proto: 't' | 'q' | 'd' = 't'): string {
  const sv = ch.supportedVersions.filter((v) => !isGrease(v));
  const ver = JA4V[sv.length ? Math.max(...sv) : ch.version] ?? '00';
  const ciphers = ch.ciphers.filter((c) => !isGrease(c));
  const exts = ch.extensions.filter((e) => !isGrease(e));
  const n2 = (n: number) => String(Math.min(n, 99)).padStart(2, '0');
  let alpn = '00';
  const a0 = ch.alpn[0];
  if (a0) {
    const f = a0.charCodeAt(0), l = a0.charCodeAt(a0.length - 1);
    if (alnum(f) && alnum(l)) alpn = a0[0] + a0[a0.length - 1];
    else { const hx = Buffer.from(a0, 'latin1').toString('hex'); alpn = hx[0] + hx[hx.length - 1]; }
  }
  const a = `${proto}${ver}${ch.sni !== undefined ? 'd' : 'i'}${n2(ciphers.length)}${n2(exts.length)}${alpn}`;
  const b = h12(ciphers.map(hex4).sort().join(','));
  const extList = exts.filter((e) => e !== 0x0000 && e !== 0x0010).map(hex4).sort().join(',');
  const sig = ch.sigAlgs.filter((s) => !isGrease(s)).map(hex4).join(',');
  const c = extList || sig ? h12(sig ? `${extList}_${sig}` : extList) : '000000000000';
  return `${a}_${b}_${c}`;
}

export class TlsParser {
  private rec: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  private hs: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  private encrypted: [boolean, boolean] = [false, false];
  private appData: [boolean, boolean] = [false, false];
  private ccs: [boolean, boolean] = [false, false];
  private ch?: ClientHello;
  private sh?: ServerHello;
  private certs: Buffer[] = [];
  private clientCerts: Buffer[] = [];
  private firstTs = 0;
  private firstFrame = 0;
  private lastAlert?: string;
  private history = '';
  private emitted = false;
  private idle = false;
  private appRecords = 0;
  private dead = false;
  /** True once the stream looked like TLS at all. */
  sawTls = false;

  constructor(private flow: FlowInfo, private emit: Emit, private provider = 'ssl') {}

  data(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    if (this.dead || this.idle || !bytes.length) return;
    try {
      if (!this.firstTs) { this.firstTs = ts; this.firstFrame = frame; }
      let b = this.rec[dir].length ? Buffer.concat([this.rec[dir], bytes]) : bytes;
      // SSLv2-compatible ClientHello (record header with the high bit set).
      if (dir === 0 && !this.ch && b.length >= 3 && b[0] & 0x80 && b[2] === 1) {
        const len = ((b[0] & 0x7f) << 8) | b[1];
        if (b.length < 2 + len) { this.rec[dir] = Buffer.from(b); return; }
        this.sslv2Hello(b.subarray(2, 2 + len), frame, ts);
        b = b.subarray(2 + len);
      }
      while (b.length >= 5) {
        const type = b[0], len = rd16(b, 3);
        if (type < 20 || type > 24 || b[1] > 3 && b[1] !== 0xfe) {
          this.emit(weirdEvent(this.flow, this.provider, 'ssl_bad_record', `type ${type} version 0x${b[1].toString(16)}${b[2].toString(16)}`, ts, frame));
          b = Buffer.alloc(0);
          this.idle = true;
          break;
        }
        if (len > 18432 + 2048) {
          this.emit(weirdEvent(this.flow, this.provider, 'ssl_record_too_long', String(len), ts, frame));
          this.idle = true;
          b = Buffer.alloc(0);
          break;
        }
        if (b.length < 5 + len) break;
        this.sawTls = true;
        this.record(dir, type, b.subarray(5, 5 + len), frame, ts);
        b = b.subarray(5 + len);
        if (this.idle) { b = Buffer.alloc(0); break; }
      }
      if (b.length > MAX_RECORD_BUF) b = Buffer.alloc(0);
      this.rec[dir] = b.length ? Buffer.from(b) : Buffer.alloc(0);
    } catch (e) {
      this.dead = true;
      this.emit(weirdEvent(this.flow, this.provider, 'ssl_analyzer_error', String((e as Error).message), ts, frame));
    }
  }

  private sslv2Hello(m: Buffer, _frame: number, _ts: number): void {
    if (m.length < 9 || m[0] !== 1) return;
    const version = rd16(m, 1), csl = rd16(m, 3), sl = rd16(m, 5);
    const ciphers: number[] = [];
    for (let i = 9; i + 3 <= 9 + csl && i + 3 <= m.length; i += 3) ciphers.push((m[i] << 16) | (m[i + 1] << 8) | m[i + 2]);
    this.ch = { version, ciphers, extensions: [], alpn: [], groups: [], pointFormats: [], sigAlgs: [], supportedVersions: [], sessionIdLen: sl };
    this.history += 'C';
    this.sawTls = true;
  }

  private record(dir: Dir, type: number, body: Buffer, frame: number, ts: number): void {
    if (type === 20) {
      this.ccs[dir] = true;
      this.encrypted[dir] = true;
      this.hs[dir] = Buffer.alloc(0);
      this.history += 'X';
    } else if (type === 21) {
      if (!this.encrypted[dir] && body.length >= 2) this.lastAlert = String(body[1]);
      this.history += 'A';
    } else if (type === 23) {
      this.appData[dir] = true;
      this.encrypted[dir] = true;
      if (this.appData[0] && this.appData[1]) this.finish(ts, frame, true);
      // One-sided capture: stop parsing after a while, the handshake is long over.
      else if (++this.appRecords >= 64) { this.finish(ts, frame, false); this.idle = true; }
    } else if (type === 22) {
      if (this.encrypted[dir]) return;
      let hs = this.hs[dir].length ? Buffer.concat([this.hs[dir], body]) : body;
      while (hs.length >= 4) {
        const mt = hs[0], ml = (hs[1] << 16) | (hs[2] << 8) | hs[3];
        if (ml > MAX_HS_BUF) {
          this.emit(weirdEvent(this.flow, this.provider, 'ssl_handshake_too_long', String(ml), ts, frame));
          hs = Buffer.alloc(0);
          break;
        }
        if (hs.length < 4 + ml) break;
        this.handshake(dir, mt, hs.subarray(4, 4 + ml), frame, ts);
        hs = hs.subarray(4 + ml);
        if (this.encrypted[dir]) { hs = Buffer.alloc(0); break; }
      }
      this.hs[dir] = hs.length ? Buffer.from(hs) : Buffer.alloc(0);
    }
  }

  private handshake(dir: Dir, mt: number, m: Buffer, frame: number, ts: number): void {
    try {
      if (mt === 1 && dir === 0 && !this.ch) {
        this.ch = parseClientHello(m);
        this.firstTs = ts;
        this.firstFrame = frame;
        this.history += 'C';
      } else if (mt === 2 && dir === 1 && !this.sh) {
        this.sh = parseServerHello(m);
        this.history += 'S';
        // TLS 1.3: everything after the ServerHello from the server is encrypted.
        if (this.sh.selectedVersion === 0x0304) this.encrypted[1] = true;
      } else if (mt === 11) {
        const list = dir === 1 ? this.certs : this.clientCerts;
        if (list.length) return;
        const total = (m[0] << 16) | (m[1] << 8) | m[2];
        let o = 3;
        const end = Math.min(m.length, 3 + total);
        while (o + 3 <= end && list.length < 16) {
          const cl = (m[o] << 16) | (m[o + 1] << 8) | m[o + 2];
          if (o + 3 + cl > end) break;
          list.push(Buffer.from(m.subarray(o + 3, o + 3 + cl)));
          o += 3 + cl;
        }
        this.history += dir === 1 ? 'Z' : 'z';
      } else if (mt === 14) this.history += 'H';
      else if (mt === 16) this.history += 'k';
      else if (mt === 12) this.history += 'K';
    } catch {
      this.emit(weirdEvent(this.flow, this.provider, 'ssl_malformed_handshake', `type ${mt} len ${m.length}`, ts, frame));
    }
  }

  /** Emit the record (once). `established` when application data flowed both ways. */
  private finish(ts: number, frame: number, established: boolean): void {
    if (this.emitted) return;
    if (!this.ch && !this.sh) return;
    this.emitted = true;
    this.idle = established;
    const ch = this.ch, sh = this.sh;
    const ev: SpoorEvent = {
      ...flowFields(this.flow, 'tls', this.firstTs || ts, this.firstFrame || frame),
      'event.provider': this.provider,
      'event.action': 'tls-handshake',
      'network.protocol': 'ssl',
      'tls.established': established || (this.ccs[0] && this.ccs[1]),
      'tls.history': this.history,
    };
    const ver = sh ? (sh.selectedVersion ?? sh.version) : undefined;
    if (ver !== undefined) ev['tls.version'] = versionName(ver);
    if (sh) {
      ev['tls.cipher'] = cipherName(sh.cipher);
      ev['tls.server.ja3s_string'] = ja3sString(sh);
      ev['tls.server.ja3s'] = md5hex(ja3sString(sh));
      if (sh.alpn) ev['tls.next_protocol'] = sh.alpn;
    }
    if (ch) {
      if (ch.sni !== undefined) ev['tls.client.server_name'] = ch.sni;
      ev['tls.client.version'] = versionName(ch.version);
      ev['tls.client.ja3_string'] = ja3String(ch);
      ev['tls.client.ja3'] = md5hex(ja3String(ch));
      ev['tls.client.ja4'] = ja4(ch, this.flow.transport === 'udp' ? 'd' : 't');
      ev['tls.client.supported_ciphers'] = ch.ciphers.filter((c) => !isGrease(c)).map(cipherName);
      if (ch.alpn.length) ev['tls.client.alpn'] = ch.alpn;
      if (ch.supportedVersions.length) ev['tls.client.supported_versions'] = ch.supportedVersions.filter((v) => !isGrease(v)).map(versionName);
      ev['tls.client.extensions'] = ch.extensions;
      if (ch.groups.length) ev['tls.client.elliptic_curves'] = ch.groups.filter((g) => !isGrease(g));
      if (ch.pointFormats.length) ev['tls.client.point_formats'] = ch.pointFormats;
    }
    if (this.lastAlert) ev['tls.last_alert'] = this.lastAlert;
    if (this.certs.length) {
      ev['tls.server.certificate_chain_fps'] = this.certs.map((c) => sha256hex(c));
      const leaf = parseCertificate(this.certs[0]);
      ev['tls.server.hash.sha256'] = sha256hex(this.certs[0]);
      if (leaf) {
        ev['tls.server.x509.subject'] = leaf.subject;
        ev['tls.server.x509.issuer'] = leaf.issuer;
        ev['tls.server.x509.serial_number'] = leaf.serial;
        if (!Number.isNaN(leaf.notBefore)) ev['tls.server.x509.not_before'] = leaf.notBefore;
        if (!Number.isNaN(leaf.notAfter)) ev['tls.server.x509.not_after'] = leaf.notAfter;
        if (leaf.san.length) ev['tls.server.x509.alternative_names'] = leaf.san;
        if (leaf.keyAlg) ev['tls.server.x509.public_key_algorithm'] = leaf.keyAlg;
        if (leaf.sigAlg) ev['tls.server.x509.signature_algorithm'] = leaf.sigAlg;
        ev['tls.server.x509.self_signed'] = leaf.subject === leaf.issuer;
      } else {
        this.emit(weirdEvent(this.flow, this.provider, 'x509_certificate_parse_error', `${this.certs[0].length} bytes`, ts, frame));
      }
    }
    if (this.certs.length) ev['tls.server.x509.chain'] = this.certs.map(chainEntry);
    if (this.clientCerts.length) ev['tls.client.x509.chain'] = this.clientCerts.map(chainEntry);
    this.emit(ev);
    this.certs = [];
    this.clientCerts = [];
  }

  end(ts: number): void {
    if (this.dead) return;
    try {
      this.finish(ts, this.firstFrame, false);
    } catch {
      /* never throw */
    }
  }
}

/** Summary of one certificate of a chain (for `tls.server.x509.chain` / `tls.client.x509.chain`). */
function chainEntry(der: Buffer): Record<string, unknown> {
  const c = parseCertificate(der);
  if (!c) return { sha256: sha256hex(der), parse_error: true };
  const o: Record<string, unknown> = { sha256: c.sha256, subject: c.subject, issuer: c.issuer, serial: c.serial, version: c.version };
  if (!Number.isNaN(c.notBefore)) o.not_before = c.notBefore;
  if (!Number.isNaN(c.notAfter)) o.not_after = c.notAfter;
  if (c.san.length) o.san = c.san;
  if (c.keyAlg) o.key_alg = c.keyAlg;
  if (c.sigAlg) o.sig_alg = c.sigAlg;
  return o;
}

/** Does `b` start with a TLS handshake record (or an SSLv2 ClientHello)? */
export function looksLikeTls(b: Buffer): boolean {
  if (b.length >= 6 && b[0] === 22 && b[1] === 3 && b[2] <= 4 && b[5] <= 2) return true;
  if (b.length >= 5 && b[0] & 0x80 && b[2] === 1 && b[3] <= 3) return ((b[0] & 0x7f) << 8 | b[1]) >= 9;
  return false;
}

export const tlsAnalyzer: AnalyzerFactory = {
  name: 'ssl',
  transport: 'tcp',
  ports: [443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 8443],
  probe(orig, resp) {
    return looksLikeTls(orig) || (orig.length === 0 && looksLikeTls(resp));
  },
  createStream(flow: FlowInfo, emit: Emit): StreamAnalyzer {
    const p = new TlsParser(flow, emit);
    return { data: (d, b, f, t) => p.data(d, b, f, t), end: (t) => p.end(t) };
  },
};
