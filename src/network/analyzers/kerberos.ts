/**
 * Kerberos 5 (RFC 4120) over UDP and TCP 88: AS-REQ/TGS-REQ (client, realm,
 * service, requested etypes), AS-REP/TGS-REP (ticket etype), KRB-ERROR (error
 * code). One `kerberos` record per request, completed by its reply or error.
 */
import type { SpoorEvent } from '../../core/event.js';
import { flowFields, type AnalyzerFactory, type DatagramAnalyzer, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from '../analyzer.js';
import { children, ctx, inner, int, readTlv, str, type Tlv } from './asn1.js';
import { weirdEvent } from './common.js';

export const KRB_ERRORS: Record<number, string> = {
  0: 'KDC_ERR_NONE', 1: 'KDC_ERR_NAME_EXP', 2: 'KDC_ERR_SERVICE_EXP', 3: 'KDC_ERR_BAD_PVNO', 6: 'KDC_ERR_C_PRINCIPAL_UNKNOWN',
  7: 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 8: 'KDC_ERR_PRINCIPAL_NOT_UNIQUE', 9: 'KDC_ERR_NULL_KEY', 12: 'KDC_ERR_POLICY',
  13: 'KDC_ERR_BADOPTION', 14: 'KDC_ERR_ETYPE_NOSUPP', 15: 'KDC_ERR_SUMTYPE_NOSUPP', 16: 'KDC_ERR_PADATA_TYPE_NOSUPP',
  18: 'KDC_ERR_CLIENT_REVOKED', 19: 'KDC_ERR_SERVICE_REVOKED', 20: 'KDC_ERR_TGT_REVOKED', 23: 'KDC_ERR_KEY_EXPIRED',
  24: 'KDC_ERR_PREAUTH_FAILED', 25: 'KDC_ERR_PREAUTH_REQUIRED', 31: 'KRB_AP_ERR_BAD_INTEGRITY', 32: 'KRB_AP_ERR_TKT_EXPIRED',
  33: 'KRB_AP_ERR_TKT_NYV', 34: 'KRB_AP_ERR_REPEAT', 35: 'KRB_AP_ERR_NOT_US', 36: 'KRB_AP_ERR_BADMATCH', 37: 'KRB_AP_ERR_SKEW',
  41: 'KRB_AP_ERR_MODIFIED', 52: 'KRB_ERR_RESPONSE_TOO_BIG', 60: 'KRB_ERR_GENERIC', 68: 'KDC_ERR_WRONG_REALM',
};

export const ETYPES: Record<number, string> = {
  1: 'des-cbc-crc', 3: 'des-cbc-md5', 17: 'aes128-cts-hmac-sha1-96', 18: 'aes256-cts-hmac-sha1-96',
  19: 'aes128-cts-hmac-sha256-128', 20: 'aes256-cts-hmac-sha384-192', 23: 'rc4-hmac', 24: 'rc4-hmac-exp',
};

function principal(b: Buffer, t: Tlv | null): string | undefined {
  const seq = inner(b, t);
  if (!seq) return undefined;
  const names = inner(b, ctx(b, seq, 1));
  if (!names) return undefined;
  return children(b, names).map((n) => str(b, n)).join('/');
}

export interface KrbMessage {
  msgType: number;
  realm?: string;
  client?: string;
  service?: string;
  etypes?: number[];
  errorCode?: number;
  ticketEtype?: number;
  errorText?: string;
}

/** Parse one Kerberos message (without TCP length prefix). Null if it is not one. */
export function parseKrb(b: Buffer): KrbMessage | null {
  const app = readTlv(b, 0);
  if (!app || app.cls !== 1) return null;
  const seq = inner(b, app);
  if (!seq || seq.tag !== 16) return null;
  const tag = app.tag;
  if (tag === 10 || tag === 12) {
    const body = inner(b, ctx(b, seq, 4));
    if (!body) return { msgType: tag };
    const m: KrbMessage = { msgType: tag };
    m.client = principal(b, ctx(b, body, 1));
    m.realm = str(b, inner(b, ctx(b, body, 2))) || undefined;
    m.service = principal(b, ctx(b, body, 3));
    const et = inner(b, ctx(b, body, 8));
    if (et) m.etypes = children(b, et).map((e) => int(b, e)).filter((n) => !Number.isNaN(n));
    return m;
  }
  if (tag === 11 || tag === 13) {
    const m: KrbMessage = { msgType: tag };
    m.realm = str(b, inner(b, ctx(b, seq, 3))) || undefined;
    m.client = principal(b, ctx(b, seq, 4));
    const ticket = inner(b, ctx(b, seq, 5));
    const tseq = inner(b, ticket);
    if (tseq) {
      m.service = principal(b, ctx(b, tseq, 2));
      const enc = inner(b, ctx(b, tseq, 3));
      if (enc) m.ticketEtype = int(b, inner(b, ctx(b, enc, 0)));
    }
    return m;
  }
  if (tag === 30) {
    const m: KrbMessage = { msgType: 30 };
    m.errorCode = int(b, inner(b, ctx(b, seq, 6)));
    m.realm = str(b, inner(b, ctx(b, seq, 9))) || undefined;
    m.service = principal(b, ctx(b, seq, 10));
    m.client = principal(b, ctx(b, seq, 8));
    const txt = str(b, inner(b, ctx(b, seq, 11)));
    if (txt) m.errorText = txt;
    return m;
  }
  if (tag === 14 || tag === 15) return { msgType: tag };
  return null;
}

/**
 * Find a Kerberos AP-REQ inside a GSS-API/SPNEGO blob (SMB session setup,
 * HTTP Negotiate): the ticket's realm, service and encryption type.
 */
export function findApReq(blob: Buffer): { realm?: string; service?: string; etype?: number } | null {
  for (let i = blob.indexOf(0x6e); i >= 0 && i < blob.length - 8; i = blob.indexOf(0x6e, i + 1)) {
    try {
      const app = readTlv(blob, i);
      if (!app || app.cls !== 1 || app.tag !== 14) continue;
      const seq = inner(blob, app);
      if (!seq || seq.tag !== 16) continue;
      if (int(blob, inner(blob, ctx(blob, seq, 1))) !== 14) continue;
      const tkt = inner(blob, inner(blob, ctx(blob, seq, 3)));
      if (!tkt) continue;
      const realm = str(blob, inner(blob, ctx(blob, tkt, 1))) || undefined;
      const service = principal(blob, ctx(blob, tkt, 2));
      const enc = inner(blob, ctx(blob, tkt, 3));
      const etype = enc ? int(blob, inner(blob, ctx(blob, enc, 0))) : NaN;
      return { realm, service, etype: Number.isNaN(etype) ? undefined : etype };
    } catch {
      /* keep looking */
    }
  }
  return null;
}

/** The `kerberos` record for an AP-REQ carried by another protocol (request_type AP, as Zeek logs it). */
export function apReqEvent(flow: FlowInfo, ap: { realm?: string; service?: string; etype?: number }, success: boolean | undefined, ts: number, frame: number, provider: string): SpoorEvent {
  const ev: SpoorEvent = { ...flowFields(flow, 'kerberos', ts, frame), 'event.provider': provider, 'event.action': 'AP-REQ', 'kerberos.request_type': 'AP' };
  if (ap.realm) { ev['kerberos.realm'] = ap.realm; ev['kerberos.client'] = `/${ap.realm}`; }
  if (ap.service) ev['kerberos.service'] = ap.service;
  if (ap.etype !== undefined) ev['kerberos.cipher'] = ETYPES[ap.etype] ?? String(ap.etype);
  if (success !== undefined) { ev['kerberos.success'] = success; ev['event.outcome'] = success ? 'success' : 'failure'; }
  else ev['event.outcome'] = 'unknown';
  return ev;
}

class KrbConn {
  private req: { m: KrbMessage; ts: number; frame: number } | null = null;
  private buf: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  private count = 0;
  constructor(private flow: FlowInfo, private emit: Emit) {}

  message(dir: Dir, b: Buffer, frame: number, ts: number): void {
    let m: KrbMessage | null = null;
    try { m = parseKrb(b); } catch { m = null; }
    if (!m) {
      this.emit(weirdEvent(this.flow, 'krb', 'krb_unparsable_message', `${b.length} bytes`, ts, frame));
      return;
    }
    if ((m.msgType === 10 || m.msgType === 12) && dir === 0) {
      if (this.req) this.flush(null, ts, frame);
      this.req = { m, ts, frame };
    } else if (dir === 1 && (m.msgType === 11 || m.msgType === 13 || m.msgType === 30)) {
      this.flush(m, ts, frame);
    }
  }

  private flush(rep: KrbMessage | null, _ts: number, frame: number): void {
    if (this.count++ > 10000) return;
    const r = this.req?.m;
    const ev: SpoorEvent = { ...flowFields(this.flow, 'kerberos', this.req?.ts ?? _ts, frame), 'event.provider': 'krb', 'network.protocol': 'krb' };
    const type = r ? (r.msgType === 10 ? 'AS' : 'TGS') : rep?.msgType === 11 ? 'AS' : rep?.msgType === 13 ? 'TGS' : undefined;
    if (type) ev['kerberos.request_type'] = type;
    ev['event.action'] = type ? `${type}-REQ` : 'krb-error';
    const realm = r?.realm ?? rep?.realm;
    const client = r?.client ?? rep?.client;
    if (client) ev['kerberos.client'] = realm ? `${client}/${realm}` : client;
    if (client) ev['user.name'] = client;
    if (realm) { ev['kerberos.realm'] = realm; ev['user.domain'] = realm; }
    const svc = r?.service ?? rep?.service;
    if (svc) ev['kerberos.service'] = svc;
    if (r?.etypes) ev['kerberos.request_etypes'] = r.etypes.map((e) => ETYPES[e] ?? String(e));
    if (rep) {
      if (rep.msgType === 30) {
        ev['kerberos.error_code'] = rep.errorCode;
        ev['kerberos.error_name'] = KRB_ERRORS[rep.errorCode ?? -1] ?? `unknown-${rep.errorCode}`;
        // Zeek's error_msg: the KDC's e-text when present, else the code's name.
        ev['kerberos.error_msg'] = rep.errorText ?? ev['kerberos.error_name'];
        ev['event.code'] = String(rep.errorCode);
        ev['event.outcome'] = 'failure';
        ev['kerberos.success'] = false;
      } else {
        ev['event.outcome'] = 'success';
        ev['kerberos.success'] = true;
        if (rep.ticketEtype !== undefined && !Number.isNaN(rep.ticketEtype)) ev['kerberos.cipher'] = ETYPES[rep.ticketEtype] ?? String(rep.ticketEtype);
      }
    } else ev['event.outcome'] = 'unknown';
    this.emit(ev);
    this.req = null;
  }

  stream(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    let b = this.buf[dir].length ? Buffer.concat([this.buf[dir], bytes]) : bytes;
    while (b.length >= 4) {
      const len = b.readUInt32BE(0) & 0x7fffffff;
      if (len > 1 << 20) {
        this.emit(weirdEvent(this.flow, 'krb', 'krb_tcp_bad_length', String(len), ts, frame));
        b = Buffer.alloc(0);
        break;
      }
      if (b.length < 4 + len) break;
      this.message(dir, b.subarray(4, 4 + len), frame, ts);
      b = b.subarray(4 + len);
    }
    this.buf[dir] = b.length ? Buffer.from(b) : Buffer.alloc(0);
  }

  end(ts: number): void {
    if (this.req) this.flush(null, ts, this.req.frame);
  }
}

const isKrbApp = (b: Buffer, o: number) => b.length > o + 2 && [0x6a, 0x6c, 0x6b, 0x6d, 0x7e].includes(b[o]);

export const krbUdpAnalyzer: AnalyzerFactory = {
  name: 'krb',
  transport: 'udp',
  ports: [88],
  probe(orig, resp) {
    return (isKrbApp(orig, 0) && parseKrb(orig) !== null) || (orig.length === 0 && isKrbApp(resp, 0) && parseKrb(resp) !== null);
  },
  createDatagram(flow, emit): DatagramAnalyzer {
    const c = new KrbConn(flow, emit);
    return {
      datagram: (dir, b, frame, ts) => { try { c.message(dir, b, frame, ts); } catch { /* never throw */ } },
      end: (ts) => { try { c.end(ts); } catch { /* never throw */ } },
    };
  },
};

export const krbTcpAnalyzer: AnalyzerFactory = {
  name: 'krb_tcp',
  transport: 'tcp',
  ports: [88],
  probe(orig) {
    return orig.length >= 8 && (orig.readUInt32BE(0) & 0x7fffffff) === orig.length - 4 && isKrbApp(orig, 4);
  },
  createStream(flow, emit): StreamAnalyzer {
    const c = new KrbConn(flow, emit);
    return {
      data: (dir, b, frame, ts) => { try { c.stream(dir, b, frame, ts); } catch { /* never throw */ } },
      end: (ts) => { try { c.end(ts); } catch { /* never throw */ } },
    };
  },
};
