/**
 * SMB1 / CIFS (MS-CIFS, MS-SMB): negotiate, session setup AndX (extended
 * security with NTLMSSP, and the legacy plaintext-account form), tree connect
 * AndX, NT create AndX, read/write AndX, close, and named-pipe transactions
 * (TransactNmPipe) feeding DCE/RPC. AndX chains are followed with a
 * forward-only offset check (a chain that does not advance is a `weird`).
 */
import type { Dir } from '../analyzer.js';
import { hex32, u16le, u32le, utf16 } from './common.js';
import { parseNtlmMessage } from './ntlm.js';
import type { SmbContext } from './smb.js';

const NEGOTIATE = 0x72, SESSION_SETUP = 0x73, TREE_CONNECT = 0x75, NT_CREATE = 0xa2, WRITE_ANDX = 0x2f, READ_ANDX = 0x2e,
  CLOSE = 0x04, TRANSACTION = 0x25, LOGOFF = 0x74, NO_ANDX = 0xff;
const ANDX = new Set([SESSION_SETUP, TREE_CONNECT, NT_CREATE, WRITE_ANDX, READ_ANDX, LOGOFF, 0x24, 0x2d]);

interface Req {
  cmd: number;
  ts: number;
  frame: number;
  path?: string;
  name?: string;
  fid?: number;
  dialects?: string[];
  user?: string;
  domain?: string;
  tid: number;
}

const serviceType = (s: string): string | undefined =>
  s === 'A:' ? 'DISK' : s === 'IPC' ? 'PIPE' : s === 'LPT1:' ? 'PRINT' : s === 'COMM' ? 'COMM' : undefined;

/** Read a NUL-terminated string at `o` (unicode strings aligned to 2 from the SMB header start). */
function cstr(h: Buffer, o: number, end: number, unicode: boolean): [string, number] {
  if (unicode) {
    if (o & 1) o++;
    let e = o;
    while (e + 1 < end && (h[e] !== 0 || h[e + 1] !== 0)) e += 2;
    return [utf16(h, o, e - o), e + 2];
  }
  let e = o;
  while (e < end && h[e] !== 0) e++;
  return [h.toString('latin1', o, e), e + 1];
}

export class Smb1Parser {
  private reqs = new Map<string, Req>();
  constructor(private ctx: SmbContext) {}

  message(dir: Dir, h: Buffer, frame: number, ts: number, _fullLen: number): void {
    if (h.length < 33) {
      this.ctx.weird('smb1_truncated_header', String(h.length), ts, frame);
      return;
    }
    if (!this.ctx.version) this.ctx.version = 1;
    const cmd0 = h[4];
    const status = h.readUInt32LE(5);
    const isResp = (h[9] & 0x80) !== 0;
    const unicode = (h.readUInt16LE(10) & 0x8000) !== 0;
    const tid = h.readUInt16LE(24);
    const key = `${h.readUInt16LE(26)}:${h.readUInt16LE(30)}`; // PID low : MID
    let cmd = cmd0;
    let off = 32;
    const seen = new Set<number>();
    for (let step = 0; step < 16; step++) {
      const wc = h[off];
      if (wc === undefined) break;
      const words = off + 1;
      const bcOff = words + wc * 2;
      const bc = u16le(h, bcOff);
      if (bc < 0) {
        if (!(isResp && status !== 0)) this.ctx.weird('smb1_truncated_command', `cmd 0x${cmd.toString(16)}`, ts, frame);
        // Error responses may carry no words/bytes; still report the status.
        if (isResp) this.response(cmd, key + ':' + cmd, h, words, wc, bcOff + 2, bcOff + 2, status, unicode, tid, ts, frame);
        break;
      }
      const bytes = bcOff + 2;
      const bend = Math.min(h.length, bytes + bc);
      if (isResp) this.response(cmd, key + ':' + cmd, h, words, wc, bytes, bend, status, unicode, tid, ts, frame);
      else this.request(cmd, key + ':' + cmd, h, words, wc, bytes, bend, unicode, tid, ts, frame);
      if (!ANDX.has(cmd) || wc < 2) break;
      const next = h[words];
      const nextOff = u16le(h, words + 2);
      if (next === NO_ANDX) break;
      if (nextOff <= off || seen.has(nextOff) || nextOff >= h.length) {
        this.ctx.weird('smb1_andx_non_advancing', `offset ${nextOff}`, ts, frame);
        break;
      }
      seen.add(nextOff);
      cmd = next;
      off = nextOff;
    }
    void dir;
  }

  private request(cmd: number, key: string, h: Buffer, w: number, wc: number, bytes: number, bend: number, unicode: boolean,
    tid: number, ts: number, frame: number): void {
    if (this.reqs.size > 8192) this.reqs.clear();
    const r: Req = { cmd, ts, frame, tid };
    switch (cmd) {
      case NEGOTIATE: {
        r.dialects = [];
        let o = bytes;
        while (o < bend && r.dialects.length < 64) {
          if (h[o] !== 0x02) break;
          const [s, n] = cstr(h, o + 1, bend, false);
          r.dialects.push(s);
          o = n;
        }
        break;
      }
      case SESSION_SETUP: {
        if (wc === 12) {
          const bl = u16le(h, w + 14);
          if (bl > 0) this.ctx.securityBlob(h.subarray(bytes, Math.min(bend, bytes + bl)), ts, frame);
        } else if (wc === 13) {
          const ol = u16le(h, w + 14), ul = u16le(h, w + 16);
          let o = bytes + ol + ul;
          const [user, o2] = cstr(h, o, bend, unicode);
          const [domain] = cstr(h, o2, bend, unicode);
          o = o2;
          r.user = user;
          r.domain = domain;
        }
        break;
      }
      case TREE_CONNECT: {
        const pl = u16le(h, w + 6);
        const [path] = cstr(h, bytes + Math.max(0, pl), bend, unicode);
        r.path = path;
        break;
      }
      case NT_CREATE: {
        const nl = u16le(h, w + 5);
        let o = bytes;
        if (unicode && o & 1) o++;
        r.name = unicode ? utf16(h, o, nl) : h.toString('latin1', o, Math.min(bend, o + nl)).replace(/\0+$/, '');
        break;
      }
      case WRITE_ANDX: {
        r.fid = u16le(h, w + 4);
        const dl = u16le(h, w + 20) + (wc >= 12 ? (u16le(h, w + 18) & 0xffff) * 65536 : 0);
        const doff = u16le(h, w + 22);
        const f = this.ctx.files.get(String(r.fid));
        if (f && dl > 0) {
          f.written += dl;
          if (doff > 0) this.ctx.sniffPipe(f, h.subarray(doff, Math.min(h.length, doff + dl)));
          if (f.dce && doff > 0) f.dce.data(0, h.subarray(doff, Math.min(h.length, doff + dl)), ts, frame);
        }
        break;
      }
      case READ_ANDX:
        r.fid = u16le(h, w + 4);
        break;
      case CLOSE:
        r.fid = u16le(h, w);
        break;
      case TRANSACTION: {
        const dc = u16le(h, w + 22), doff = u16le(h, w + 24), sc = h[w + 26] ?? 0;
        if (sc >= 2 && u16le(h, w + 28) === 0x0026) {
          r.fid = u16le(h, w + 30);
          const f = this.ctx.files.get(String(r.fid));
          if (f && dc > 0) this.ctx.sniffPipe(f, h.subarray(doff, Math.min(h.length, doff + dc)));
          if (f?.dce && dc > 0) f.dce.data(0, h.subarray(doff, Math.min(h.length, doff + dc)), ts, frame);
        }
        break;
      }
    }
    this.reqs.set(key, r);
  }

  private response(cmd: number, key: string, h: Buffer, w: number, wc: number, bytes: number, bend: number, status: number,
    unicode: boolean, tid: number, ts: number, frame: number): void {
    const r = this.reqs.get(key);
    this.reqs.delete(key);
    const st = hex32(status);
    const ok = status === 0;
    const treeOf = (t: number) => this.ctx.trees.get('1:' + t);
    switch (cmd) {
      case NEGOTIATE: {
        const idx = u16le(h, w);
        const dialect = r?.dialects?.[idx];
        if (dialect) this.ctx.dialect = dialect;
        this.ctx.record({ 'event.action': 'negotiate', 'smb.command': 'negotiate', 'smb.version': 1, 'smb.status': st,
          'smb.dialect': dialect, 'event.outcome': ok ? 'success' : 'failure', ...(r?.dialects ? { 'smb.client_dialects': r.dialects } : {}) }, r?.ts ?? ts, frame);
        break;
      }
      case SESSION_SETUP: {
        if (wc === 4) {
          const bl = u16le(h, w + 6);
          if (bl > 0) this.ctx.ntlm.message(parseNtlmMessage(h.subarray(bytes, Math.min(bend, bytes + bl))), ts, frame);
        }
        if (status === 0xc0000016) break;
        this.ctx.sessionResult(ok, st, ts, frame);
        const rec: Record<string, unknown> = { 'event.action': 'session-setup', 'smb.command': 'session-setup', 'smb.version': 1,
          'smb.status': st, 'event.outcome': ok ? 'success' : 'failure' };
        if (r?.user) rec['user.name'] = r.user;
        if (r?.domain) rec['user.domain'] = r.domain;
        this.ctx.record(rec, r?.ts ?? ts, frame);
        break;
      }
      case TREE_CONNECT: {
        const [svc] = bytes < bend ? cstr(h, bytes, bend, false) : [''];
        const type = serviceType(svc);
        const path = r?.path ?? '';
        if (ok) this.ctx.trees.set('1:' + tid, { path, type });
        this.ctx.record({ 'event.action': 'tree-connect', 'smb.command': 'tree-connect', 'smb.version': 1, 'smb.status': st,
          'smb.tree': path, ...(type ? { 'smb.share_type': type } : {}), 'event.outcome': ok ? 'success' : 'failure' }, r?.ts ?? ts, frame);
        break;
      }
      case NT_CREATE: {
        if (!r) break;
        const tree = treeOf(r.tid);
        const path = tree?.path ?? '';
        const pipe = tree?.type === 'PIPE' || /\\IPC\$$/i.test(path);
        const rec: Record<string, unknown> = { 'event.action': 'create', 'smb.command': 'create', 'smb.version': 1, 'smb.status': st,
          'file.name': r.name || '<share_root>', 'file.path': path, 'smb.tree': path, 'smb.pipe': pipe, 'event.outcome': ok ? 'success' : 'failure' };
        if (ok && wc >= 34) {
          const fid = u16le(h, w + 5);
          const size = h.length >= w + 63 ? Number(h.readBigUInt64LE(w + 55)) : undefined;
          if (size !== undefined) rec['file.size'] = size;
          rec['smb.create_action'] = u32le(h, w + 7);
          this.ctx.openFile(String(fid), { name: r.name || '<share_root>', tree: path, pipe, size, ts: r.ts, frame: r.frame });
        }
        this.ctx.record(rec, r.ts, frame);
        break;
      }
      case READ_ANDX: {
        const f = r?.fid !== undefined ? this.ctx.files.get(String(r.fid)) : undefined;
        if (!f || !ok) break;
        const dl = u16le(h, w + 10), doff = u16le(h, w + 12);
        if (dl > 0) {
          f.read += dl;
          if (f.dce) f.dce.data(1, h.subarray(doff, Math.min(h.length, doff + dl)), ts, frame);
        }
        break;
      }
      case CLOSE:
        if (r?.fid !== undefined) this.ctx.closeFile(String(r.fid), ts, frame, true);
        break;
      case TRANSACTION: {
        const f = r?.fid !== undefined ? this.ctx.files.get(String(r.fid)) : undefined;
        if (!f?.dce || !(ok || status === 0x80000005)) break;
        const dc = u16le(h, w + 12), doff = u16le(h, w + 14);
        if (dc > 0) f.dce.data(1, h.subarray(doff, Math.min(h.length, doff + dc)), ts, frame);
        break;
      }
    }
  }
}
