/** Byte builders for analyzer tests: NTLMSSP, SPNEGO, SMB2, DCE/RPC, TLS, SSH, DER. */
import type { SpoorEvent } from '../../../src/core/event.js';
import type { AnalyzerFactory, Dir, FlowInfo, StreamAnalyzer } from '../../../src/network/analyzer.js';

export const flow = (respPort = 445, transport: 'tcp' | 'udp' = 'tcp'): FlowInfo => ({
  uid: 'CTEST', evidence: 'E1', origIp: '10.0.0.5', origPort: 50000, respIp: '10.0.0.9', respPort, transport, communityId: '1:test',
});

/** Create a stream analyzer that records events; `feed` sends bytes in chunks of `chunk` (default whole). */
export function stream(f: AnalyzerFactory, info = flow()) {
  const events: SpoorEvent[] = [];
  const a: StreamAnalyzer = f.createStream!(info, (e) => events.push(e));
  let frame = 0;
  return {
    events,
    a,
    feed(dir: Dir, b: Buffer, chunk = b.length || 1) {
      for (let i = 0; i < b.length; i += chunk) a.data(dir, b.subarray(i, i + chunk), ++frame, 1_600_000_000_000 + frame);
    },
    end() { a.end(1_600_000_009_000); return events; },
    of(ds: string) { return events.filter((e) => e['event.dataset'] === ds); },
  };
}

export const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
export const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
export const u16be = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
export const u32be = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
export const w = (s: string) => Buffer.from(s, 'utf16le');

// ---------------------------------------------------------------- NTLMSSP
const SIG = Buffer.from('NTLMSSP\0', 'latin1');
export function ntlmNegotiate(): Buffer {
  return Buffer.concat([SIG, u32(1), u32(0xe2088297), Buffer.alloc(16)]);
}
export function ntlmChallenge(av: [number, string][]): Buffer {
  const info = Buffer.concat([...av.map(([id, v]) => Buffer.concat([u16(id), u16(w(v).length), w(v)])), u16(0), u16(0)]);
  const target = w('CORP');
  const hdrLen = 56;
  const head = Buffer.concat([SIG, u32(2), u16(target.length), u16(target.length), u32(hdrLen), u32(0xe2898215),
    Buffer.from('0123456789abcdef', 'hex'), Buffer.alloc(8), u16(info.length), u16(info.length), u32(hdrLen + target.length),
    Buffer.from([10, 0, 0x61, 0x4a, 0, 0, 0, 15])]);
  return Buffer.concat([head, target, info]);
}
export function ntlmAuth(domain: string, user: string, ws: string, ntLen = 100): Buffer {
  const d = w(domain), u = w(user), s = w(ws), lm = Buffer.alloc(ntLen ? 24 : 1), nt = Buffer.alloc(ntLen, 7);
  let off = 72;
  const fields: Buffer[] = [];
  const payload: Buffer[] = [];
  for (const b of [lm, nt, d, u, s, Buffer.alloc(0)]) {
    fields.push(Buffer.concat([u16(b.length), u16(b.length), u32(off)]));
    payload.push(b);
    off += b.length;
  }
  return Buffer.concat([SIG, u32(3), ...fields, u32(0xe2888215), Buffer.alloc(8), ...payload]);
}

// ---------------------------------------------------------------- SPNEGO (minimal DER)
export function der(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
export const spnegoInit = (tok: Buffer) => der(0x60, Buffer.concat([der(0x06, Buffer.from('2b0601050502', 'hex')),
  der(0xa0, der(0x30, Buffer.concat([der(0xa0, der(0x30, der(0x06, Buffer.from('2b06010401823702020a', 'hex')))), der(0xa2, der(0x04, tok))])))]));
export const spnegoResp = (tok: Buffer) => der(0xa1, der(0x30, Buffer.concat([der(0xa0, der(0x0a, Buffer.from([1]))), der(0xa2, der(0x04, tok))])));

// ---------------------------------------------------------------- SMB2
export function smb2(cmd: number, opts: { resp?: boolean; status?: number; mid: number; tree?: number; next?: number; flags?: number }, body: Buffer): Buffer {
  const h = Buffer.alloc(64);
  h.write('\xfeSMB', 0, 'latin1');
  h.writeUInt16LE(64, 4);
  h.writeUInt32LE(opts.status ?? 0, 8);
  h.writeUInt16LE(cmd, 12);
  h.writeUInt32LE((opts.resp ? 1 : 0) | (opts.flags ?? 0), 16);
  h.writeUInt32LE(opts.next ?? 0, 20);
  h.writeBigUInt64LE(BigInt(opts.mid), 24);
  h.writeUInt32LE(opts.tree ?? 0, 36);
  h.writeBigUInt64LE(0x1234n, 40);
  return Buffer.concat([h, body]);
}
export const nbss = (...msgs: Buffer[]) => Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([0, 0, m.length >> 8, m.length & 0xff]), m])));

export function negReq(mid: number): Buffer {
  const body = Buffer.alloc(36 + 8);
  body.writeUInt16LE(36, 0); body.writeUInt16LE(4, 2);
  [0x0202, 0x0210, 0x0300, 0x0311].forEach((d, i) => body.writeUInt16LE(d, 36 + 2 * i));
  return smb2(0, { mid }, body);
}
export function negResp(mid: number, dialect: number): Buffer {
  const body = Buffer.alloc(64); body.writeUInt16LE(65, 0); body.writeUInt16LE(dialect, 4);
  return smb2(0, { mid, resp: true }, body);
}
export function sessReq(mid: number, blob: Buffer): Buffer {
  const body = Buffer.alloc(24); body.writeUInt16LE(25, 0); body.writeUInt16LE(64 + 24, 12); body.writeUInt16LE(blob.length, 14);
  return smb2(1, { mid }, Buffer.concat([body, blob]));
}
export function sessResp(mid: number, status: number, blob: Buffer): Buffer {
  const body = Buffer.alloc(8); body.writeUInt16LE(9, 0); body.writeUInt16LE(blob.length ? 64 + 8 : 0, 4); body.writeUInt16LE(blob.length, 6);
  return smb2(1, { mid, resp: true, status }, Buffer.concat([body, blob]));
}
export function treeReq(mid: number, path: string): Buffer {
  const p = w(path); const body = Buffer.alloc(8); body.writeUInt16LE(9, 0); body.writeUInt16LE(64 + 8, 4); body.writeUInt16LE(p.length, 6);
  return smb2(3, { mid }, Buffer.concat([body, p]));
}
export function treeResp(mid: number, tree: number, type: number, status = 0): Buffer {
  const body = Buffer.alloc(16); body.writeUInt16LE(16, 0); body[2] = type;
  return smb2(3, { mid, resp: true, tree, status }, body);
}
export function createReq(mid: number, tree: number, name: string, next = 0): Buffer {
  const n = w(name); const body = Buffer.alloc(56); body.writeUInt16LE(57, 0); body.writeUInt32LE(1, 36); body.writeUInt16LE(64 + 56, 44); body.writeUInt16LE(n.length, 46);
  return smb2(5, { mid, tree, next }, Buffer.concat([body, n]));
}
export function createResp(mid: number, tree: number, fid: Buffer, size = 0, status = 0, next = 0): Buffer {
  const body = Buffer.alloc(88); body.writeUInt16LE(89, 0); body.writeUInt32LE(1, 4); body.writeBigUInt64LE(BigInt(size), 48); fid.copy(body, 64);
  return smb2(5, { mid, resp: true, tree, status, next }, body);
}
export function writeReq(mid: number, tree: number, fid: Buffer, data: Buffer): Buffer {
  const body = Buffer.alloc(48); body.writeUInt16LE(49, 0); body.writeUInt16LE(64 + 48, 2); body.writeUInt32LE(data.length, 4); fid.copy(body, 16);
  return smb2(9, { mid, tree }, Buffer.concat([body, data]));
}
export function writeResp(mid: number, tree: number, n: number): Buffer {
  const body = Buffer.alloc(16); body.writeUInt16LE(17, 0); body.writeUInt32LE(n, 4);
  return smb2(9, { mid, tree, resp: true }, body);
}
export function readReq(mid: number, tree: number, fid: Buffer): Buffer {
  const body = Buffer.alloc(48); body.writeUInt16LE(49, 0); body.writeUInt32LE(4096, 4); fid.copy(body, 16);
  return smb2(8, { mid, tree }, body);
}
export function readResp(mid: number, tree: number, data: Buffer): Buffer {
  const body = Buffer.alloc(16); body.writeUInt16LE(17, 0); body[2] = 64 + 16; body.writeUInt32LE(data.length, 4);
  return smb2(8, { mid, tree, resp: true }, Buffer.concat([body, data]));
}
export function closeReq(mid: number, tree: number, fid: Buffer): Buffer {
  const body = Buffer.alloc(24); body.writeUInt16LE(24, 0); fid.copy(body, 8);
  return smb2(6, { mid, tree }, body);
}
export const closeResp = (mid: number, tree: number) => smb2(6, { mid, tree, resp: true }, Buffer.alloc(60));

// ---------------------------------------------------------------- DCE/RPC
export function uuidBytes(u: string): Buffer {
  const h = u.replace(/-/g, '');
  const b = Buffer.from(h, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}
export function dce(ptype: number, callId: number, body: Buffer, flags = 3): Buffer {
  const h = Buffer.alloc(16);
  h[0] = 5; h[1] = 0; h[2] = ptype; h[3] = flags; h[4] = 0x10;
  h.writeUInt16LE(16 + body.length, 8);
  h.writeUInt32LE(callId, 12);
  return Buffer.concat([h, body]);
}
export function dceBind(callId: number, uuid: string): Buffer {
  const ndr = uuidBytes('8a885d04-1ceb-11c9-9fe8-08002b104860');
  return dce(11, callId, Buffer.concat([u16(4280), u16(4280), u32(0), Buffer.from([1, 0, 0, 0]), u16(0), Buffer.from([1, 0]), uuidBytes(uuid), u32(2), ndr, u32(2)]));
}
export const dceRequest = (callId: number, opnum: number, stub: Buffer, flags = 3) => dce(0, callId, Buffer.concat([u32(stub.length), u16(0), u16(opnum), stub]), flags);
export const dceResponse = (callId: number, stub: Buffer) => dce(2, callId, Buffer.concat([u32(stub.length), u16(0), Buffer.from([0, 0]), stub]));
/** NDR conformant varying wide string (NUL terminated), padded to 4. */
export function ndrWstr(s: string): Buffer {
  const chars = w(s + '\0');
  const n = s.length + 1;
  const b = Buffer.concat([u32(n), u32(0), u32(n), chars]);
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

// ---------------------------------------------------------------- TLS
export function ext(type: number, body: Buffer): Buffer { return Buffer.concat([u16be(type), u16be(body.length), body]); }
export function clientHello(o: { version?: number; ciphers: number[]; exts: Buffer[] }): Buffer {
  const ciphers = Buffer.concat(o.ciphers.map(u16be));
  const exts = Buffer.concat(o.exts);
  const body = Buffer.concat([u16be(o.version ?? 0x0303), Buffer.alloc(32, 1), Buffer.from([0]), u16be(ciphers.length), ciphers, Buffer.from([1, 0]), u16be(exts.length), exts]);
  return Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
}
export function serverHello(version: number, cipher: number, exts: Buffer[]): Buffer {
  const e = Buffer.concat(exts);
  const body = Buffer.concat([u16be(version), Buffer.alloc(32, 2), Buffer.from([0]), u16be(cipher), Buffer.from([0]), u16be(e.length), e]);
  return Buffer.concat([Buffer.from([2, 0, body.length >> 8, body.length & 0xff]), body]);
}
export function certificateMsg(certs: Buffer[]): Buffer {
  const list = Buffer.concat(certs.map((c) => Buffer.concat([Buffer.from([c.length >> 16, (c.length >> 8) & 0xff, c.length & 0xff]), c])));
  const body = Buffer.concat([Buffer.from([list.length >> 16, (list.length >> 8) & 0xff, list.length & 0xff]), list]);
  return Buffer.concat([Buffer.from([11, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
}
export const tlsRecord = (type: number, body: Buffer, ver = 0x0301) => Buffer.concat([Buffer.from([type]), u16be(ver), u16be(body.length), body]);
export const sni = (host: string) => { const h = Buffer.from(host); return ext(0, Buffer.concat([u16be(h.length + 3), Buffer.from([0]), u16be(h.length), h])); };
export const u16list = (type: number, vals: number[]) => ext(type, Buffer.concat([u16be(vals.length * 2), ...vals.map(u16be)]));
export const alpn = (...p: string[]) => { const l = Buffer.concat(p.map((x) => Buffer.concat([Buffer.from([x.length]), Buffer.from(x)]))); return ext(16, Buffer.concat([u16be(l.length), l])); };

// ---------------------------------------------------------------- SSH
export function sshPacket(payload: Buffer, block = 8): Buffer {
  let pad = block - ((5 + payload.length) % block);
  if (pad < 4) pad += block;
  return Buffer.concat([u32be(1 + payload.length + pad), Buffer.from([pad]), payload, Buffer.alloc(pad)]);
}
export function kexinit(lists: string[]): Buffer {
  return Buffer.concat([Buffer.from([20]), Buffer.alloc(16, 9), ...lists.map((l) => Buffer.concat([u32be(l.length), Buffer.from(l)])), Buffer.from([0]), u32be(0)]);
}
