/**
 * NTLMSSP messages (MS-NLMP 2.2.1): NEGOTIATE (1), CHALLENGE (2), AUTHENTICATE (3).
 * `parseNtlmMessage` accepts a buffer that starts with (or contains) `NTLMSSP\0`.
 * `NtlmTracker` pairs CHALLENGE + AUTHENTICATE with the carrying protocol's
 * result (SMB status, HTTP status) into one `ntlm` record.
 */
import type { SpoorEvent } from '../../core/event.js';
import { flowFields, type Emit, type FlowInfo } from '../analyzer.js';
import { hex32, u16le, u32le, utf16 } from './common.js';

export const NTLMSSP_SIG = Buffer.from('NTLMSSP\0', 'latin1');
const FLAG_UNICODE = 0x00000001;
const FLAG_VERSION = 0x02000000;

export interface NtlmVersion { major: number; minor: number; build: number }

export interface NtlmNegotiate { type: 1; flags: number; domain?: string; workstation?: string; version?: NtlmVersion }
export interface NtlmChallenge {
  type: 2;
  flags: number;
  targetName?: string;
  challenge: string;
  nbComputer?: string;
  nbDomain?: string;
  dnsComputer?: string;
  dnsDomain?: string;
  dnsTree?: string;
  timestamp?: number;
  version?: NtlmVersion;
}
export interface NtlmAuthenticate {
  type: 3;
  flags: number;
  domain: string;
  user: string;
  workstation: string;
  /** NTLMv2 when the NT response is longer than 24 bytes. */
  ntlmVersion: 1 | 2 | 0;
  ntResponseLen: number;
  lmResponseLen: number;
  anonymous: boolean;
  version?: NtlmVersion;
}
export type NtlmMessage = NtlmNegotiate | NtlmChallenge | NtlmAuthenticate;

function field(b: Buffer, o: number): { len: number; off: number } | null {
  const len = u16le(b, o);
  const off = u32le(b, o + 4);
  if (len < 0 || off < 0) return null;
  if (len === 0) return { len: 0, off: 0 };
  if (off + len > b.length) return null;
  return { len, off };
}

function text(b: Buffer, f: { len: number; off: number } | null, unicode: boolean): string {
  if (!f || !f.len) return '';
  return unicode ? utf16(b, f.off, f.len) : b.toString('latin1', f.off, f.off + f.len).replace(/\0+$/, '');
}

function version(b: Buffer, o: number, flags: number): NtlmVersion | undefined {
  if (!(flags & FLAG_VERSION) || o + 8 > b.length) return undefined;
  return { major: b[o], minor: b[o + 1], build: b.readUInt16LE(o + 2) };
}

/** Parse one NTLMSSP message; null when the signature is absent or the header is truncated. */
export function parseNtlmMessage(input: Buffer): NtlmMessage | null {
  try {
    const at = input.indexOf(NTLMSSP_SIG);
    if (at < 0) return null;
    const b = input.subarray(at);
    const type = u32le(b, 8);
    if (type === 1) {
      const flags = u32le(b, 12);
      if (flags < 0) return null;
      const m: NtlmNegotiate = { type: 1, flags };
      if (b.length >= 32) {
        const d = text(b, field(b, 16), false);
        const w = text(b, field(b, 24), false);
        if (d) m.domain = d;
        if (w) m.workstation = w;
        m.version = version(b, 32, flags);
      }
      return m;
    }
    if (type === 2) {
      const flags = u32le(b, 20);
      if (flags < 0 || b.length < 32) return null;
      const uni = (flags & FLAG_UNICODE) !== 0;
      const m: NtlmChallenge = { type: 2, flags, challenge: b.subarray(24, 32).toString('hex') };
      const tn = text(b, field(b, 12), uni);
      if (tn) m.targetName = tn;
      // Target info: tolerate a length running past the message (clamp), as unterminated AV lists occur in the wild.
      let ti = b.length >= 48 ? field(b, 40) : null;
      if (!ti && b.length >= 48) {
        const off = u32le(b, 44);
        if (off > 0 && off < b.length) ti = { off, len: b.length - off };
      }
      if (ti && ti.len) {
        let o = ti.off;
        const end = ti.off + ti.len;
        while (o + 4 <= end) {
          const id = b.readUInt16LE(o);
          const len = b.readUInt16LE(o + 2);
          o += 4;
          if (id === 0 || o + len > end) break;
          const v = utf16(b, o, len);
          if (id === 1) m.nbComputer = v;
          else if (id === 2) m.nbDomain = v;
          else if (id === 3) m.dnsComputer = v;
          else if (id === 4) m.dnsDomain = v;
          else if (id === 5) m.dnsTree = v;
          else if (id === 7 && len === 8) {
            const ft = b.readBigUInt64LE(o);
            m.timestamp = Number(ft / 10000n) - 11644473600000;
          }
          o += len;
        }
      }
      if (b.length >= 56) m.version = version(b, 48, flags);
      return m;
    }
    if (type === 3) {
      if (b.length < 64) {
        // Very old clients omit the flags field: at least the 52-byte core must be present.
        if (b.length < 52) return null;
      }
      const flags = b.length >= 64 ? b.readUInt32LE(60) : FLAG_UNICODE;
      const uni = (flags & FLAG_UNICODE) !== 0;
      const lm = field(b, 12);
      const nt = field(b, 20);
      const m: NtlmAuthenticate = {
        type: 3,
        flags,
        domain: text(b, field(b, 28), uni),
        user: text(b, field(b, 36), uni),
        workstation: text(b, field(b, 44), uni),
        ntResponseLen: nt?.len ?? 0,
        lmResponseLen: lm?.len ?? 0,
        ntlmVersion: !nt || nt.len === 0 ? 0 : nt.len > 24 ? 2 : 1,
        anonymous: false,
      };
      m.anonymous = !m.user && (m.ntResponseLen === 0) && (m.lmResponseLen <= 1);
      if (b.length >= 72) m.version = version(b, 64, flags);
      return m;
    }
    return null;
  } catch {
    return null;
  }
}

/**
 * Pairs the NTLM exchange of one connection/session with its outcome.
 * Call `message()` for each NTLMSSP message seen, and `result()` with the
 * carrying protocol's verdict once the AUTHENTICATE was answered.
 */
export class NtlmTracker {
  private challenge: NtlmChallenge | null = null;
  private auth: NtlmAuthenticate | null = null;
  private authTs = 0;
  private authFrame = 0;
  private challengeTs = 0;
  private challengeFrame = 0;
  private emitted = false;
  constructor(private flow: FlowInfo, private emit: Emit, private provider: string) {}

  message(m: NtlmMessage | null, ts: number, frame: number): void {
    if (!m) return;
    if (m.type === 2) {
      this.challenge = m;
      this.challengeTs = ts;
      this.challengeFrame = frame;
    }
    else if (m.type === 3) {
      if (this.auth) this.flush(undefined, undefined, ts, frame);
      this.auth = m;
      this.authTs = ts;
      this.authFrame = frame;
    }
  }

  get pending(): boolean { return this.auth !== null; }

  /** `success` true/false, or undefined when unknown; `status` e.g. NT status or HTTP code. */
  result(success: boolean | undefined, status: string | undefined, ts: number, frame: number): void {
    if (this.auth) this.flush(success, status, ts, frame);
  }

  /**
   * Emit whatever is pending (end of connection) with an unknown outcome. A
   * CHALLENGE never answered by an AUTHENTICATE still yields a record (server
   * names only, action `ntlm-challenge`), as Zeek's ntlm.log does.
   */
  end(ts: number): void {
    if (this.auth) this.flush(undefined, undefined, ts, this.authFrame);
    else if (this.challenge && !this.emitted) {
      const c = this.challenge;
      const ev: SpoorEvent = {
        ...flowFields(this.flow, 'ntlm', this.challengeTs || ts, this.challengeFrame),
        'event.provider': this.provider,
        'event.action': 'ntlm-challenge',
        'event.outcome': 'unknown',
      };
      if (c.nbComputer) ev['ntlm.server_nb_computer'] = c.nbComputer;
      if (c.dnsComputer) ev['ntlm.server_dns_computer'] = c.dnsComputer;
      if (c.dnsTree) ev['ntlm.server_tree'] = c.dnsTree;
      if (c.nbDomain) ev['ntlm.server_nb_domain'] = c.nbDomain;
      this.emit(ev);
    }
  }

  private flush(success: boolean | undefined, status: string | undefined, _ts: number, frame: number): void {
    const a = this.auth!;
    const c = this.challenge;
    const ev: SpoorEvent = {
      ...flowFields(this.flow, 'ntlm', this.authTs, frame || this.authFrame),
      'event.provider': this.provider,
      'event.action': 'ntlm-authenticate',
      'event.outcome': success === undefined ? 'unknown' : success ? 'success' : 'failure',
      'ntlm.version': a.ntlmVersion,
      'ntlm.anonymous': a.anonymous,
    };
    if (a.user) ev['user.name'] = a.user;
    if (a.domain) ev['user.domain'] = a.domain;
    if (a.workstation) ev['ntlm.workstation'] = a.workstation;
    if (c?.nbComputer) ev['ntlm.server_nb_computer'] = c.nbComputer;
    if (c?.dnsComputer) ev['ntlm.server_dns_computer'] = c.dnsComputer;
    if (c?.dnsTree) ev['ntlm.server_tree'] = c.dnsTree;
    if (c?.nbDomain) ev['ntlm.server_nb_domain'] = c.nbDomain;
    if (status !== undefined) ev['ntlm.status'] = status;
    if (success !== undefined) ev['ntlm.success'] = success;
    this.emit(ev);
    this.emitted = true;
    this.auth = null;
  }
}

/** NT status codes that mean a failed logon (for the `ntlm.status` explanation). */
export const NT_STATUS_NAMES: Record<number, string> = {
  0x00000000: 'STATUS_SUCCESS',
  0xc0000016: 'STATUS_MORE_PROCESSING_REQUIRED',
  0xc000006d: 'STATUS_LOGON_FAILURE',
  0xc000006a: 'STATUS_WRONG_PASSWORD',
  0xc0000064: 'STATUS_NO_SUCH_USER',
  0xc000006e: 'STATUS_ACCOUNT_RESTRICTION',
  0xc000006f: 'STATUS_INVALID_LOGON_HOURS',
  0xc0000070: 'STATUS_INVALID_WORKSTATION',
  0xc0000071: 'STATUS_PASSWORD_EXPIRED',
  0xc0000072: 'STATUS_ACCOUNT_DISABLED',
  0xc0000193: 'STATUS_ACCOUNT_EXPIRED',
  0xc0000224: 'STATUS_PASSWORD_MUST_CHANGE',
  0xc0000234: 'STATUS_ACCOUNT_LOCKED_OUT',
  0xc0000022: 'STATUS_ACCESS_DENIED',
  0xc000015b: 'STATUS_LOGON_TYPE_NOT_GRANTED',
  0xc0000034: 'STATUS_OBJECT_NAME_NOT_FOUND',
  0xc00000cc: 'STATUS_BAD_NETWORK_NAME',
  0xc0000035: 'STATUS_OBJECT_NAME_COLLISION',
  0xc0000043: 'STATUS_SHARING_VIOLATION',
  0x80000005: 'STATUS_BUFFER_OVERFLOW',
  0xc0000011: 'STATUS_END_OF_FILE',
  0x00000103: 'STATUS_PENDING',
  0xc00000bb: 'STATUS_NOT_SUPPORTED',
  0xc0000120: 'STATUS_CANCELLED',
  0xc000000d: 'STATUS_INVALID_PARAMETER',
  0xc0000203: 'STATUS_USER_SESSION_DELETED',
};

export function ntStatus(n: number): string {
  return hex32(n);
}
