/**
 * SMB2/SMB3 messages (MS-SMB2 2.2): negotiate, session setup (NTLMSSP inside
 * SPNEGO), tree connect, create, read, write, ioctl (named-pipe transceive),
 * close; compounded requests/responses; async (STATUS_PENDING) responses.
 */
import type { Dir } from '../analyzer.js';
import { hex32, u16le, u32le, utf16 } from './common.js';
import { parseNtlmMessage } from './ntlm.js';
import type { SmbContext } from './smb.js';

const NEGOTIATE = 0, SESSION_SETUP = 1, LOGOFF = 2, TREE_CONNECT = 3, TREE_DISCONNECT = 4, CREATE = 5, CLOSE = 6,
  READ = 8, WRITE = 9, IOCTL = 11, SET_INFO = 17;
const STATUS_PENDING = 0x00000103;
const STATUS_MORE_PROCESSING = 0xc0000016;
const FSCTL_PIPE_TRANSCEIVE = 0x0011c017;
const RELATED = '*';

export const SMB2_COMMANDS = ['negotiate', 'session-setup', 'logoff', 'tree-connect', 'tree-disconnect', 'create', 'close',
  'flush', 'read', 'write', 'lock', 'ioctl', 'cancel', 'echo', 'query-directory', 'change-notify', 'query-info',
  'set-info', 'oplock-break'];

export function dialectName(d: number): string {
  switch (d) {
    case 0x0202: return '2.0.2';
    case 0x0210: return '2.1';
    case 0x0222: return '2.2.2';
    case 0x0224: return '2.2.4';
    case 0x0300: return '3.0';
    case 0x0302: return '3.0.2';
    case 0x0310: return '3.1';
    case 0x0311: return '3.1.1';
    case 0x02ff: return '2.???';
    default: return '0x' + d.toString(16).padStart(4, '0');
  }
}

interface Req {
  cmd: number;
  ts: number;
  frame: number;
  tree?: string;
  name?: string;
  fileId?: string;
  ctl?: number;
  path?: string;
  disposition?: number;
  dialects?: number[];
  deleteOnClose?: boolean;
  setInfo?: 'delete' | 'rename';
  newName?: string;
}

const shareTypes: Record<number, string> = { 1: 'DISK', 2: 'PIPE', 3: 'PRINT' };

export class Smb2Parser {
  private reqs = new Map<string, Req>();
  /** FileId of the last CREATE in a compound chain (related operations use the all-ones FileId). */
  private lastFileId: [string, string] = ['', ''];
  constructor(private ctx: SmbContext) {}

  message(dir: Dir, m: Buffer, frame: number, ts: number, fullLen: number): void {
    let off = 0;
    for (let n = 0; n < 64 && off + 64 <= m.length; n++) {
      const next = u32le(m, off + 20);
      const end = next > 0 && off + next <= m.length ? off + next : m.length;
      if (end - off < 64 || m.readUInt32BE(off) !== 0xfe534d42) {
        this.ctx.weird('smb2_bad_compound_header', `offset ${off}`, ts, frame);
        return;
      }
      this.one(dir, m.subarray(off, end), frame, ts, end === m.length ? fullLen - off : end - off);
      if (!next) break;
      if (next < 64 || off + next >= m.length) {
        if (off + next > m.length) this.ctx.weird('smb2_bad_next_command', String(next), ts, frame);
        break;
      }
      off += next;
    }
  }

  private fileId(h: Buffer, o: number, dir: Dir): string {
    if (o + 16 > h.length) return '';
    const id = h.subarray(o, o + 16).toString('hex');
    // Related compound operation: "the file the previous CREATE opened", known once its response arrives.
    if (id === 'f'.repeat(32)) return RELATED;
    return id;
  }

  private resolve(id: string): string {
    return id === RELATED ? this.lastFileId[0] : id;
  }

  private treePath(h: Buffer): string | undefined {
    const flags = h.readUInt32LE(16);
    if (flags & 0x2) return undefined; // async header has no tree id
    return this.ctx.trees.get(String(h.readUInt32LE(36)))?.path;
  }

  private one(dir: Dir, h: Buffer, frame: number, ts: number, fullLen: number): void {
    const status = h.readUInt32LE(8);
    const cmd = h.readUInt16LE(12);
    const flags = h.readUInt32LE(16);
    const mid = h.readBigUInt64LE(24).toString();
    const isResp = (flags & 0x1) !== 0;
    const b = 64; // body offset
    if (!this.ctx.version) this.ctx.version = 2;
    if (!isResp) {
      if (this.reqs.size > 8192) {
        this.ctx.weird('smb2_too_many_pending', String(this.reqs.size), ts, frame);
        this.reqs.clear();
      }
      const r: Req = { cmd, ts, frame, tree: this.treePath(h) };
      switch (cmd) {
        case NEGOTIATE: {
          const cnt = u16le(h, b + 2);
          r.dialects = [];
          for (let i = 0; i < cnt && i < 64; i++) {
            const d = u16le(h, b + 36 + 2 * i);
            if (d < 0) break;
            r.dialects.push(d);
          }
          break;
        }
        case SESSION_SETUP: {
          const so = u16le(h, b + 12), sl = u16le(h, b + 14);
          if (so > 0 && sl > 0) this.ctx.securityBlob(h.subarray(so, so + sl), ts, frame);
          break;
        }
        case TREE_CONNECT: {
          const po = u16le(h, b + 4), pl = u16le(h, b + 6);
          r.path = utf16(h, po, pl);
          break;
        }
        case CREATE: {
          const no = u16le(h, b + 44), nl = u16le(h, b + 46);
          r.name = nl > 0 ? utf16(h, no, nl) : '';
          r.disposition = u32le(h, b + 36);
          r.deleteOnClose = (u32le(h, b + 40) & 0x1000) !== 0;
          break;
        }
        case CLOSE:
          r.fileId = this.fileId(h, b + 8, 0);
          break;
        case READ:
          r.fileId = this.fileId(h, b + 16, 0);
          break;
        case WRITE: {
          r.fileId = this.resolve(this.fileId(h, b + 16, 0));
          const doff = u16le(h, b + 2);
          const len = u32le(h, b + 4);
          const f = this.ctx.files.get(r.fileId);
          if (f && len > 0) {
            f.written += len;
            if (doff >= 64) this.ctx.sniffPipe(f, h.subarray(doff, Math.min(h.length, doff + len)));
            if (f.dce && doff >= 64) f.dce.data(0, h.subarray(doff, Math.min(h.length, doff + len)), ts, frame);
          }
          break;
        }
        case SET_INFO: {
          // FILE_INFO: FileDispositionInformation(Ex) → delete, FileRenameInformation → rename.
          if (h[b + 2] !== 1) break;
          const cls = h[b + 3], bo = u16le(h, b + 8), bl = u32le(h, b + 4);
          r.fileId = this.resolve(this.fileId(h, b + 16, 0));
          if ((cls === 13 && h[bo] === 1) || (cls === 64 && (u32le(h, bo) & 1) === 1)) r.setInfo = 'delete';
          else if (cls === 10 && bl >= 20) {
            r.setInfo = 'rename';
            r.newName = utf16(h, bo + 20, u32le(h, bo + 16));
          }
          break;
        }
        case IOCTL: {
          r.ctl = u32le(h, b + 4);
          r.fileId = this.resolve(this.fileId(h, b + 8, 0));
          const io = u32le(h, b + 24), il = u32le(h, b + 28);
          const f = this.ctx.files.get(r.fileId);
          if (f && r.ctl === FSCTL_PIPE_TRANSCEIVE && io > 0 && il > 0) this.ctx.sniffPipe(f, h.subarray(io, Math.min(h.length, io + il)));
          if (r.ctl === FSCTL_PIPE_TRANSCEIVE && f?.dce && io > 0 && il > 0) f.dce.data(0, h.subarray(io, Math.min(h.length, io + il)), ts, frame);
          break;
        }
      }
      this.reqs.set(mid, r);
      return;
    }

    // Response.
    const r = this.reqs.get(mid);
    if (r?.fileId === RELATED) r.fileId = this.lastFileId[0];
    if (status === STATUS_PENDING && flags & 0x2) return; // interim async response; the final one follows
    this.reqs.delete(mid);
    const st = hex32(status);
    const ok = status === 0;
    switch (cmd) {
      case NEGOTIATE: {
        const d = u16le(h, b + 4);
        if (d >= 0) {
          this.ctx.dialect = dialectName(d);
          this.ctx.version = d >= 0x0300 && d !== 0x02ff ? 3 : 2;
        }
        const so = u16le(h, b + 56), sl = u16le(h, b + 58);
        void so; void sl;
        this.ctx.record({ 'event.action': 'negotiate', 'smb.command': 'negotiate', 'smb.status': st, 'smb.dialect': this.ctx.dialect,
          'smb.version': this.ctx.version, 'event.outcome': ok ? 'success' : 'failure',
          ...(r?.dialects ? { 'smb.client_dialects': r.dialects.map(dialectName) } : {}) }, r?.ts ?? ts, frame);
        break;
      }
      case SESSION_SETUP: {
        const so = u16le(h, b + 4), sl = u16le(h, b + 6);
        if (so > 0 && sl > 0) this.ctx.ntlm.message(parseNtlmMessage(h.subarray(so, so + sl)), ts, frame);
        if (status === STATUS_MORE_PROCESSING) break;
        const sessionFlags = u16le(h, b + 2);
        this.ctx.sessionResult(ok, st, ts, frame);
        this.ctx.record({ 'event.action': 'session-setup', 'smb.command': 'session-setup', 'smb.status': st,
          'event.outcome': ok ? 'success' : 'failure', ...(ok && sessionFlags > 0 ? { 'smb.session_flags': sessionFlags & 1 ? 'guest' : sessionFlags & 2 ? 'null' : sessionFlags } : {}) }, r?.ts ?? ts, frame);
        break;
      }
      case TREE_CONNECT: {
        const path = r?.path ?? '';
        const type = shareTypes[u8(h, b + 2)] ?? undefined;
        if (ok) this.ctx.trees.set(String(h.readUInt32LE(36)), { path, type });
        this.ctx.record({ 'event.action': 'tree-connect', 'smb.command': 'tree-connect', 'smb.status': st, 'smb.tree': path,
          ...(ok && type ? { 'smb.share_type': type } : {}), 'event.outcome': ok ? 'success' : 'failure' }, r?.ts ?? ts, frame);
        break;
      }
      case TREE_DISCONNECT:
      case LOGOFF:
        break;
      case CREATE: {
        if (!r) break;
        const tree = r.tree ?? this.treePath(h) ?? '';
        const pipe = this.ctx.trees.get(String(h.readUInt32LE(36)))?.type === 'PIPE' || /\\IPC\$$/i.test(tree);
        const rec: Record<string, unknown> = { 'event.action': 'create', 'smb.command': 'create', 'smb.status': st,
          'file.name': r.name || '<share_root>', 'file.path': tree, 'smb.tree': tree, 'smb.pipe': pipe, 'event.outcome': ok ? 'success' : 'failure' };
        if (r.disposition !== undefined && r.disposition >= 0) rec['smb.create_disposition'] = r.disposition;
        if (ok && h.length >= b + 80) {
          const fid = h.subarray(b + 64, b + 80).toString('hex');
          this.lastFileId = [fid, fid];
          const size = Number(h.readBigUInt64LE(b + 48));
          rec['file.size'] = size;
          rec['smb.create_action'] = u32le(h, b + 4);
          const f = this.ctx.openFile(fid, { name: r.name || '<share_root>', tree, pipe, size, ts: r.ts, frame: r.frame });
          if (r.deleteOnClose) f.deleteOnClose = true;
        }
        this.ctx.record(rec, r.ts, frame);
        break;
      }
      case CLOSE:
        if (r?.fileId) this.ctx.closeFile(r.fileId, ts, frame, true);
        break;
      case SET_INFO: {
        const f = r?.fileId ? this.ctx.files.get(r.fileId) : undefined;
        if (!r?.setInfo || !f || f.pipe) break;
        const rec: Record<string, unknown> = { 'event.action': r.setInfo, 'smb.command': 'set-info', 'smb.status': st, 'file.name': f.name,
          'file.path': f.tree, 'smb.tree': f.tree, 'event.outcome': ok ? 'success' : 'failure' };
        if (r.setInfo === 'rename' && r.newName) {
          rec['file.name'] = r.newName;
          rec['smb.prev_name'] = f.name;
          if (ok) f.name = r.newName;
        }
        this.ctx.record(rec, r.ts, frame);
        break;
      }
      case READ: {
        const f = r?.fileId ? this.ctx.files.get(r.fileId) : undefined;
        if (!f || !(ok || status === 0x80000005)) break;
        const doff = u8(h, b + 2), dlen = u32le(h, b + 4);
        if (dlen > 0) {
          f.read += dlen;
          if (f.dce && doff >= 64) f.dce.data(1, h.subarray(doff, Math.min(h.length, doff + dlen)), ts, frame);
        }
        break;
      }
      case WRITE:
        if (!ok && r?.fileId) {
          const f = this.ctx.files.get(r.fileId);
          if (f && !f.pipe) this.ctx.record({ 'event.action': 'write', 'smb.command': 'write', 'smb.status': st, 'file.name': f.name, 'smb.tree': f.tree, 'event.outcome': 'failure' }, ts, frame);
        }
        break;
      case IOCTL: {
        if (!r || r.ctl !== FSCTL_PIPE_TRANSCEIVE || !(ok || status === 0x80000005)) break;
        const f = r.fileId ? this.ctx.files.get(r.fileId) : undefined;
        const oo = u32le(h, b + 32), ol = u32le(h, b + 36);
        if (f?.dce && oo > 0 && ol > 0) f.dce.data(1, h.subarray(oo, Math.min(h.length, oo + ol)), ts, frame);
        break;
      }
    }
    void fullLen;
  }
}

function u8(b: Buffer, o: number): number {
  return o >= 0 && o < b.length ? b[o] : -1;
}
