/**
 * Helpers shared by the protocol analyzers: bounded per-direction buffers,
 * printable escaping, `weird` records, little readers that never throw.
 */
import { createHash } from 'node:crypto';
import type { SpoorEvent } from '../../core/event.js';
import { flowFields, type Dir, type Emit, type FlowInfo } from '../analyzer.js';

export const md5hex = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');
export const sha256hex = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** Printable ASCII kept, everything else (and backslash) as `\xNN`. */
export function escapeBytes(buf: Buffer, max = 256): string {
  const n = Math.min(buf.length, max);
  let out = '';
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) out += String.fromCharCode(c);
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out;
}

/** UTF-16LE text without trailing NULs. */
export function utf16(buf: Buffer, off = 0, len = buf.length - off): string {
  if (off < 0 || len <= 0 || off >= buf.length) return '';
  const end = Math.min(buf.length, off + len);
  const s = buf.toString('utf16le', off, off + ((end - off) & ~1));
  return s.replace(/\0+$/, '');
}

/** Build a `weird` record. */
export function weirdEvent(flow: FlowInfo, provider: string, name: string, addl: string, ts: number, frame: number): SpoorEvent {
  return {
    ...flowFields(flow, 'weird', ts, frame),
    'event.provider': provider,
    'event.action': name,
    'weird.name': name,
    'weird.addl': addl.slice(0, 256),
  };
}

/**
 * Per-direction bounded byte accumulator. `push` appends; callers consume with
 * `take`/`drop`. When the buffered amount would exceed `cap`, the buffer is
 * cleared and `overflow` returns true so the caller can resynchronise.
 */
export class DirBuffer {
  private bufs: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  constructor(readonly cap: number) {}
  push(dir: Dir, b: Buffer): boolean {
    const cur = this.bufs[dir];
    if (cur.length + b.length > this.cap) {
      this.bufs[dir] = Buffer.alloc(0);
      return false;
    }
    this.bufs[dir] = cur.length ? Buffer.concat([cur, b]) : b;
    return true;
  }
  get(dir: Dir): Buffer { return this.bufs[dir]; }
  drop(dir: Dir, n: number): void { this.bufs[dir] = this.bufs[dir].subarray(n); }
  clear(dir: Dir): void { this.bufs[dir] = Buffer.alloc(0); }
}

/** Safe little/big-endian readers returning -1 when out of range. */
export const u8 = (b: Buffer, o: number): number => (o >= 0 && o < b.length ? b[o] : -1);
export const u16le = (b: Buffer, o: number): number => (o >= 0 && o + 2 <= b.length ? b.readUInt16LE(o) : -1);
export const u16be = (b: Buffer, o: number): number => (o >= 0 && o + 2 <= b.length ? b.readUInt16BE(o) : -1);
export const u32le = (b: Buffer, o: number): number => (o >= 0 && o + 4 <= b.length ? b.readUInt32LE(o) : -1);
export const u32be = (b: Buffer, o: number): number => (o >= 0 && o + 4 <= b.length ? b.readUInt32BE(o) : -1);

export const hex32 = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** Format a 16-byte little-endian-first GUID/UUID (DCE/RPC and SMB layout). */
export function guid(b: Buffer, o: number): string {
  if (o < 0 || o + 16 > b.length) return '';
  const h = (s: number, e: number) => b.subarray(s, e).toString('hex');
  const d1 = b.readUInt32LE(o).toString(16).padStart(8, '0');
  const d2 = b.readUInt16LE(o + 4).toString(16).padStart(4, '0');
  const d3 = b.readUInt16LE(o + 6).toString(16).padStart(4, '0');
  return `${d1}-${d2}-${d3}-${h(o + 8, o + 10)}-${h(o + 10, o + 16)}`;
}

/** Wrap a stream analyzer so exceptions become one `weird` record and the analyzer goes quiet. */
export function guarded(flow: FlowInfo, emit: Emit, provider: string, fn: () => void, ts: number, frame: number, state: { dead: boolean }): void {
  if (state.dead) return;
  try {
    fn();
  } catch (e) {
    state.dead = true;
    emit(weirdEvent(flow, provider, `${provider}_analyzer_error`, String((e as Error)?.message ?? e), ts, frame));
  }
}
