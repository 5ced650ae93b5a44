/**
 * SMB over TCP 445 (direct) and 139 (NetBIOS session service): framing and
 * dispatch to the SMB1 (`\xffSMB`) and SMB2/3 (`\xfeSMB`) parsers. Encrypted
 * SMB3 (`\xfdSMB` transform header) and compressed (`\xfcSMB`) messages are
 * counted, not decoded.
 */
import type { SpoorEvent } from '../../core/event.js';
import { flowFields, type AnalyzerFactory, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from '../analyzer.js';
import { weirdEvent } from './common.js';
import { DceRpcConn, looksLikeDceRpc } from './dcerpc.js';
import { NtlmTracker, parseNtlmMessage } from './ntlm.js';
import { apReqEvent, findApReq } from './kerberos.js';
import { Smb1Parser } from './smb1.js';
import { Smb2Parser } from './smb2.js';

/** Largest NetBIOS message we buffer (SMB2 max write is 8 MiB; we only need headers from big ones). */
const MAX_MSG = 1 << 24;
/** Bytes of a big message we keep for parsing (headers + first data). */
const KEEP = 256 * 1024;

export interface SmbTree { path: string; type?: string }
export interface SmbFile {
  name: string;
  tree: string;
  pipe: boolean;
  size?: number;
  written: number;
  read: number;
  ts: number;
  frame: number;
  dce?: DceRpcConn;
  sniffed?: boolean;
  /** Opened with FILE_DELETE_ON_CLOSE: closing it deletes it. */
  deleteOnClose?: boolean;
}

/** State shared by the SMB1 and SMB2 parsers of one connection. */
export class SmbContext {
  ntlm: NtlmTracker;
  trees = new Map<string, SmbTree>();
  files = new Map<string, SmbFile>();
  users = new Map<string, string>();
  dialect?: string;
  version?: number;
  encrypted = 0;
  constructor(readonly flow: FlowInfo, readonly emitRaw: Emit) {
    this.ntlm = new NtlmTracker(flow, emitRaw, 'smb');
  }
  private apReq: { ap: NonNullable<ReturnType<typeof findApReq>>; ts: number; frame: number } | null = null;

  /** Session-setup request security blob: NTLMSSP goes to the NTLM tracker, a Kerberos AP-REQ is kept for the result. */
  securityBlob(blob: Buffer, ts: number, frame: number): void {
    if (!blob.length) return;
    const m = parseNtlmMessage(blob);
    if (m) { this.ntlm.message(m, ts, frame); return; }
    const ap = findApReq(blob);
    if (ap) this.apReq = { ap, ts, frame };
  }

  /** Final session-setup status: completes NTLM and Kerberos records. */
  sessionResult(ok: boolean, status: string, ts: number, frame: number): void {
    this.ntlm.result(ok, status, ts, frame);
    if (this.apReq) {
      this.emitRaw(apReqEvent(this.flow, this.apReq.ap, ok, this.apReq.ts, frame, 'smb'));
      this.apReq = null;
    }
  }

  record(fields: Record<string, unknown>, ts: number, frame: number): void {
    const ev: SpoorEvent = { ...flowFields(this.flow, 'smb', ts, frame), 'event.provider': 'smb', ...fields };
    if (this.version && ev['smb.version'] === undefined) ev['smb.version'] = this.version;
    this.emitRaw(ev);
  }
  weird(name: string, addl: string, ts: number, frame: number): void {
    this.emitRaw(weirdEvent(this.flow, 'smb', name, addl, ts, frame));
  }
  /** Register an opened file; pipes get a DCE/RPC association. */
  openFile(key: string, f: Omit<SmbFile, 'written' | 'read' | 'dce'>): SmbFile {
    const old = this.files.get(key);
    if (old) this.closeFile(key, f.ts, f.frame, false);
    if (this.files.size >= 4096) {
      this.weird('smb_too_many_open_files', String(this.files.size), f.ts, f.frame);
      for (const k of [...this.files.keys()].slice(0, 1024)) this.closeFile(k, f.ts, f.frame, false);
    }
    const file: SmbFile = { ...f, written: 0, read: 0 };
    if (file.pipe) {
      const pipe = file.name.replace(/^\\+/, '').replace(/^pipe\\/i, '');
      file.dce = new DceRpcConn(this.flow, this.emitRaw, pipe, this.ntlm);
    }
    this.files.set(key, file);
    return file;
  }
  /**
   * Data written to a file whose share we never saw connected (capture started
   * mid-session): if it begins like a DCE/RPC PDU, treat the file as a named pipe.
   */
  sniffPipe(f: SmbFile, data: Buffer): void {
    if (f.dce || f.pipe || f.tree || f.sniffed) return;
    f.sniffed = true;
    if (looksLikeDceRpc(data)) {
      f.pipe = true;
      f.dce = new DceRpcConn(this.flow, this.emitRaw, f.name.replace(/^\\+/, ''), this.ntlm);
    }
  }

  /** File closed (or connection ended): emit the per-file read/write summary records. */
  closeFile(key: string, ts: number, frame: number, explicit: boolean): void {
    const f = this.files.get(key);
    if (!f) return;
    this.files.delete(key);
    f.dce?.end(ts);
    if (!f.pipe) {
      if (f.written) this.record({ 'event.action': 'write', 'file.name': f.name, 'file.path': f.tree, 'smb.tree': f.tree, 'smb.bytes': f.written }, f.ts, f.frame);
      if (f.read) this.record({ 'event.action': 'read', 'file.name': f.name, 'file.path': f.tree, 'smb.tree': f.tree, 'smb.bytes': f.read }, f.ts, f.frame);
    }
    if (explicit && f.deleteOnClose && !f.pipe) this.record({ 'event.action': 'delete', 'file.name': f.name, 'file.path': f.tree, 'smb.tree': f.tree }, ts, frame);
    if (explicit) this.record({ 'event.action': 'close', 'file.name': f.name, 'file.path': f.tree, 'smb.tree': f.tree, 'smb.pipe': f.pipe }, ts, frame);
  }
  end(ts: number): void {
    if (this.apReq) this.emitRaw(apReqEvent(this.flow, this.apReq.ap, undefined, this.apReq.ts, this.apReq.frame, 'smb'));
    this.apReq = null;
    for (const k of [...this.files.keys()]) this.closeFile(k, ts, this.files.get(k)!.frame, false);
    this.ntlm.end(ts);
    if (this.encrypted) this.record({ 'event.action': 'encrypted', 'smb.encrypted_messages': this.encrypted }, ts, 0);
  }
}

export class SmbStream implements StreamAnalyzer {
  private buf: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  /** Bytes of an oversized message still to skip, per direction. */
  private skip: [number, number] = [0, 0];
  /** False after lost framing until the next SMB header is found. */
  private sync: [boolean, boolean] = [true, true];
  private lostReported: [boolean, boolean] = [false, false];
  /** Incomplete message: bytes needed in total, chunks collected so far. */
  private need: [number, number] = [0, 0];
  private have: [number, number] = [0, 0];
  private parts: [Buffer[], Buffer[]] = [[], []];
  private ctx: SmbContext;
  private smb1: Smb1Parser;
  private smb2: Smb2Parser;
  private dead = false;
  constructor(flow: FlowInfo, emit: Emit) {
    this.ctx = new SmbContext(flow, emit);
    this.smb1 = new Smb1Parser(this.ctx);
    this.smb2 = new Smb2Parser(this.ctx);
  }

  data(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    if (this.dead) return;
    try {
      this.feed(dir, bytes, frame, ts);
    } catch (e) {
      this.dead = true;
      this.ctx.weird('smb_analyzer_error', String((e as Error).stack ?? e).slice(0, 200), ts, frame);
    }
  }

  private feed(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    if (this.skip[dir]) {
      const n = Math.min(this.skip[dir], bytes.length);
      this.skip[dir] -= n;
      bytes = bytes.subarray(n);
      if (!bytes.length) return;
    }
    if (this.need[dir]) {
      // Waiting for the rest of a known-length message: collect chunks, concatenate once (no O(n²) copying).
      this.parts[dir].push(Buffer.from(bytes));
      this.have[dir] += bytes.length;
      if (this.have[dir] < this.need[dir]) return;
      bytes = Buffer.concat(this.parts[dir]);
      this.parts[dir] = [];
      this.have[dir] = 0;
      this.need[dir] = 0;
    }
    let b = this.buf[dir].length ? Buffer.concat([this.buf[dir], bytes]) : bytes;
    this.buf[dir] = Buffer.alloc(0);
    while (b.length >= 4) {
      if (!this.sync[dir]) {
        // Lost framing (capture gap, mid-stream start, garbage): find the next `00 LL LL LL [fe|ff|fd|fc] S M B`.
        const at = findSmbHeader(b);
        if (at < 0) {
          b = b.subarray(Math.max(0, b.length - 7));
          break;
        }
        b = b.subarray(at);
        this.sync[dir] = true;
      }
      const type = b[0];
      const len = ((b[1] & 0x01) << 16) | (b[2] << 8) | b[3];
      if (type !== 0x00) {
        // NetBIOS session request/response/keepalive (139): no SMB inside.
        if (type === 0x81 || type === 0x82 || type === 0x83 || type === 0x85 || type === 0x84) {
          if (b.length < 4 + len) break;
          b = b.subarray(4 + len);
          continue;
        }
        if (!this.lostReported[dir]) this.ctx.weird('smb_bad_netbios_type', `0x${type.toString(16)}`, ts, frame);
        this.lostReported[dir] = true;
        this.sync[dir] = false;
        b = b.subarray(1);
        continue;
      }
      if (len > MAX_MSG) {
        if (!this.lostReported[dir]) this.ctx.weird('smb_message_too_large', String(len), ts, frame);
        this.lostReported[dir] = true;
        this.sync[dir] = false;
        b = b.subarray(1);
        continue;
      }
      if (b.length < 4 + len) {
        if (b.length >= 4 + KEEP && len > KEEP) {
          // Big write/read: parse what we keep, skip the rest without buffering it.
          this.message(dir, b.subarray(4, 4 + KEEP), frame, ts, len);
          this.skip[dir] = 4 + len - b.length;
          b = Buffer.alloc(0);
        } else if (this.sync[dir]) {
          this.need[dir] = Math.min(4 + len, 4 + KEEP);
          this.parts[dir] = [Buffer.from(b)];
          this.have[dir] = b.length;
          return;
        }
        break;
      }
      this.message(dir, b.subarray(4, 4 + len), frame, ts, len);
      b = b.subarray(4 + len);
    }
    this.buf[dir] = b.length ? Buffer.from(b) : Buffer.alloc(0);
  }

  private message(dir: Dir, m: Buffer, frame: number, ts: number, fullLen: number): void {
    if (m.length < 4) return;
    const magic = m.readUInt32BE(0);
    if (magic === 0xfe534d42) this.smb2.message(dir, m, frame, ts, fullLen);
    else if (magic === 0xff534d42) this.smb1.message(dir, m, frame, ts, fullLen);
    else if (magic === 0xfd534d42) this.ctx.encrypted++;
    else if (magic === 0xfc534d42) { /* compressed SMB 3.1.1 payload: not decoded */ }
    else this.ctx.weird('smb_unknown_protocol', m.subarray(0, 4).toString('hex'), ts, frame);
  }

  gap(dir: Dir, len: number): void {
    // Resynchronise: drop the partial message; the bytes after the gap are mid-message, so
    // parsing of this direction resumes at the next plausible SMB header.
    this.buf[dir] = Buffer.alloc(0);
    this.parts[dir] = [];
    this.have[dir] = this.need[dir] = 0;
    this.sync[dir] = false;
    if (this.skip[dir] >= len) this.skip[dir] -= len;
    else this.skip[dir] = 0;
  }

  end(ts: number): void {
    if (this.dead) return;
    try {
      this.ctx.end(ts);
    } catch {
      /* never throw */
    }
  }
}

/** Offset of the next NetBIOS session message carrying an SMB header, or -1. */
export function findSmbHeader(b: Buffer): number {
  for (let i = b.indexOf('SMB', 5, 'latin1'); i >= 5; i = b.indexOf('SMB', i + 1, 'latin1')) {
    const m = b[i - 1];
    if (b[i - 5] === 0 && (m === 0xfe || m === 0xff || m === 0xfd || m === 0xfc)) return i - 5;
  }
  return -1;
}

function isSmbMessage(b: Buffer): boolean {
  if (b.length < 8) return false;
  if (b[0] === 0x81) return true; // NetBIOS session request (port 139)
  if (b[0] !== 0) return false;
  const m = b.readUInt32BE(4);
  return m === 0xfe534d42 || m === 0xff534d42 || m === 0xfd534d42 || m === 0xfc534d42;
}

export const smbAnalyzer: AnalyzerFactory = {
  name: 'smb',
  transport: 'tcp',
  ports: [445, 139],
  probe(orig, resp) {
    return isSmbMessage(orig) || isSmbMessage(resp);
  },
  createStream(flow, emit) {
    return new SmbStream(flow, emit);
  },
};
