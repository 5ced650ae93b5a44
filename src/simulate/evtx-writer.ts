/**
 * EVTX writer: Windows XML Event Log files as Windows writes them.
 *
 * Layout (libevtx "Windows XML Event Log (EVTX)" format notes, python-evtx):
 *   file header (4096 bytes, CRC32 over the first 120 bytes)
 *   chunks of 65536 bytes: 512-byte header (string hash table of 64 buckets,
 *   template table of 32 buckets, CRC32 of header and of the record data),
 *   then event records ("**\0\0", size, record id, FILETIME, binary XML, size copy).
 * Each record's binary XML is a fragment holding one template instance; the template
 * (one per event shape: provider, event id, EventData names and value types) is
 * defined inline the first time it is used in a chunk and referenced by offset after
 * that, and element/attribute names are likewise inlined once per chunk.
 *
 * Streaming: chunks are written to the file as they fill; the file header is
 * rewritten in place on close(). Memory use is one chunk.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import { crc32 } from './crc32.js';

export type EvtxTypedValue =
  | { type: 'string'; value: string }
  | { type: 'uint8' | 'uint16' | 'uint32' | 'hex32'; value: number }
  | { type: 'uint64' | 'hex64'; value: number | bigint }
  | { type: 'sid'; value: string }
  | { type: 'guid'; value: string }
  | { type: 'filetime'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'null' };

/** EventData value: strings become String, numbers UInt32 (UInt64 above 2^32), or give a type. */
export type EvtxValue = string | number | bigint | null | undefined | EvtxTypedValue;

export interface EvtxEvent {
  /** EventRecordID; defaults to the next number (starting at 1). */
  recordId?: number;
  /** ms since epoch UTC, or a Date. */
  time: number | Date;
  eventId: number;
  /** EventID Qualifiers attribute (classic providers, e.g. 16384 for Service Control Manager). */
  qualifiers?: number;
  version?: number;
  provider: { name: string; guid?: string; eventSourceName?: string };
  channel: string;
  computer: string;
  level?: number;
  task?: number;
  opcode?: number;
  /** Keywords as a number/bigint or a hex string "0x8020000000000000". */
  keywords?: number | bigint | string;
  userSid?: string;
  pid?: number;
  tid?: number;
  data?: Record<string, EvtxValue>;
}

const CHUNK_SIZE = 65536;
const CHUNK_HEADER = 512;
const FILE_HEADER = 4096;
const CHUNK_TAIL = 8;
const EVENT_NS = 'http://schemas.microsoft.com/win/2004/08/events/event';

// Binary XML value types
const VT = {
  null: 0x00, string: 0x01, uint8: 0x04, uint16: 0x06, uint32: 0x08, uint64: 0x0a,
  bool: 0x0d, guid: 0x0f, filetime: 0x11, sid: 0x13, hex32: 0x14, hex64: 0x15,
} as const;

/** Windows FILETIME (100 ns since 1601) from ms since epoch. */
export function filetimeFromMs(ms: number): bigint {
  return (BigInt(Math.round(ms)) + 11644473600000n) * 10000n;
}

/** Name hash used in the chunk string table (libevtx: hash = hash * 65599 + char). */
export function evtxNameHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 65599) + s.charCodeAt(i)) >>> 0;
  return h;
}

export function encodeGuid(g: string): Buffer {
  const hex = g.replace(/[{}-]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`bad GUID: ${g}`);
  const b = Buffer.from(hex, 'hex');
  const out = Buffer.alloc(16);
  out.writeUInt32LE(b.readUInt32BE(0), 0);
  out.writeUInt16LE(b.readUInt16BE(4), 4);
  out.writeUInt16LE(b.readUInt16BE(6), 6);
  b.copy(out, 8, 8, 16);
  return out;
}

export function encodeSid(sid: string): Buffer {
  const m = /^S-(\d+)-(\d+)((?:-\d+)*)$/i.exec(sid);
  if (!m) throw new Error(`bad SID: ${sid}`);
  const subs = m[3] ? m[3].slice(1).split('-').map(Number) : [];
  const out = Buffer.alloc(8 + 4 * subs.length);
  out[0] = Number(m[1]);
  out[1] = subs.length;
  const auth = BigInt(m[2]);
  for (let i = 0; i < 6; i++) out[2 + i] = Number((auth >> BigInt(8 * (5 - i))) & 0xffn);
  subs.forEach((v, i) => out.writeUInt32LE(v >>> 0, 8 + 4 * i));
  return out;
}

function typed(v: EvtxValue): EvtxTypedValue {
  // Empty values are written as zero-length strings: libfwevt refuses NULL in a normal substitution.
  if (v === null || v === undefined) return { type: 'string', value: '' };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'bigint') return { type: 'uint64', value: v };
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return { type: 'uint32', value: v };
    if (Number.isInteger(v) && v >= 0) return { type: 'uint64', value: v };
    return { type: 'string', value: String(v) };
  }
  return v.type === 'null' ? { type: 'string', value: '' } : v;
}

function encodeValue(t: EvtxTypedValue): Buffer {
  switch (t.type) {
    case 'null': return Buffer.alloc(0);
    case 'string': return Buffer.from(t.value, 'utf16le');
    case 'uint8': return Buffer.from([t.value & 0xff]);
    case 'uint16': { const b = Buffer.alloc(2); b.writeUInt16LE(t.value & 0xffff); return b; }
    case 'uint32': case 'hex32': { const b = Buffer.alloc(4); b.writeUInt32LE(t.value >>> 0); return b; }
    case 'uint64': case 'hex64': { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(t.value))); return b; }
    case 'bool': { const b = Buffer.alloc(4); b.writeUInt32LE(t.value ? 1 : 0); return b; }
    case 'guid': return encodeGuid(t.value);
    case 'sid': return encodeSid(t.value);
    case 'filetime': { const b = Buffer.alloc(8); b.writeBigUInt64LE(filetimeFromMs(t.value)); return b; }
  }
}

/** Growable little-endian byte builder whose byte 0 sits at chunk offset `base`. */
class Bytes {
  buf = Buffer.alloc(1024);
  len = 0;
  constructor(public base: number) {}
  private need(n: number) {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.alloc(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }
  get pos() { return this.base + this.len; }
  u8(v: number) { this.need(1); this.buf[this.len++] = v & 0xff; }
  u16(v: number) { this.need(2); this.buf.writeUInt16LE(v & 0xffff, this.len); this.len += 2; }
  u32(v: number) { this.need(4); this.buf.writeUInt32LE(v >>> 0, this.len); this.len += 4; }
  bytes(b: Uint8Array) { this.need(b.length); this.buf.set(b, this.len); this.len += b.length; }
  patch32(at: number, v: number) { this.buf.writeUInt32LE(v >>> 0, at); }
  view() { return this.buf.subarray(0, this.len); }
}

type Sub = { opt: boolean; get: (e: EvtxEvent, ctx: RecordCtx) => EvtxTypedValue };
interface RecordCtx { recordId: number; timeMs: number }

/** One event shape: a template and the substitutions it takes. */
interface Shape {
  key: string;
  guid: Buffer;
  id: number;
  subs: Sub[];
  build: (w: Bytes, names: NameTable) => void;
}

interface NameTable { ref(w: Bytes, name: string): void }

interface Elem {
  name: string;
  attrs?: [string, Node][];
  children?: Node[];
}
type Node = { text: string } | { sub: number; vt: number; opt?: boolean } | Elem;

function writeNode(w: Bytes, names: NameTable, n: Node) {
  if ('text' in n) {
    w.u8(0x05); w.u8(0x01); w.u16(n.text.length); w.bytes(Buffer.from(n.text, 'utf16le'));
    return;
  }
  if ('sub' in n) {
    w.u8(n.opt ? 0x0e : 0x0d); w.u16(n.sub); w.u8(n.vt);
    return;
  }
  const hasAttrs = !!n.attrs && n.attrs.length > 0;
  w.u8(hasAttrs ? 0x41 : 0x01);
  w.u16(0xffff); // dependency identifier: none
  const sizeAt = w.len;
  w.u32(0);
  names.ref(w, n.name);
  if (hasAttrs) {
    const listAt = w.len;
    w.u32(0);
    const start = w.len;
    n.attrs!.forEach(([an, av], i) => {
      w.u8(i < n.attrs!.length - 1 ? 0x46 : 0x06);
      names.ref(w, an);
      writeNode(w, names, av);
    });
    w.patch32(listAt, w.len - start);
  }
  if (n.children && n.children.length) {
    w.u8(0x02);
    for (const c of n.children) writeNode(w, names, c);
    w.u8(0x04);
  } else {
    w.u8(0x03);
  }
  w.patch32(sizeAt, w.len - (sizeAt + 4));
}

function keywordsValue(k: EvtxEvent['keywords']): bigint {
  if (k === undefined) return 0x8000000000000000n;
  if (typeof k === 'string') return BigInt(k.startsWith('0x') || k.startsWith('0X') ? k : '0x' + k);
  return BigInt(k);
}

function fnv(s: string): Buffer {
  // 128-bit deterministic digest from four FNV-1a passes (template GUIDs only need to be stable)
  const out = Buffer.alloc(16);
  for (let p = 0; p < 4; p++) {
    let h = 0x811c9dc5 ^ (p * 0x9e3779b9);
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    out.writeUInt32LE(h >>> 0, p * 4);
  }
  return out;
}

function makeShape(e: EvtxEvent, dataTypes: [string, EvtxTypedValue][]): Shape {
  const subs: Sub[] = [];
  const add = (get: Sub['get'], vt: number, opt = false): Node => {
    subs.push({ opt, get });
    return { sub: subs.length - 1, vt, opt };
  };
  const providerAttrs: [string, Node][] = [['Name', { text: e.provider.name }]];
  if (e.provider.guid) providerAttrs.push(['Guid', { text: '{' + e.provider.guid.replace(/[{}]/g, '').toUpperCase() + '}' }]);
  if (e.provider.eventSourceName) providerAttrs.push(['EventSourceName', { text: e.provider.eventSourceName }]);
  const eventIdAttrs: [string, Node][] = e.qualifiers !== undefined
    ? [['Qualifiers', add((x) => ({ type: 'uint16', value: x.qualifiers ?? 0 }), VT.uint16)]] : [];
  const system: Elem = {
    name: 'System',
    children: [
      { name: 'Provider', attrs: providerAttrs },
      { name: 'EventID', attrs: eventIdAttrs, children: [add((x) => ({ type: 'uint16', value: x.eventId }), VT.uint16)] },
      { name: 'Version', children: [add((x) => ({ type: 'uint8', value: x.version ?? 0 }), VT.uint8)] },
      { name: 'Level', children: [add((x) => ({ type: 'uint8', value: x.level ?? 0 }), VT.uint8)] },
      { name: 'Task', children: [add((x) => ({ type: 'uint16', value: x.task ?? 0 }), VT.uint16)] },
      { name: 'Opcode', children: [add((x) => ({ type: 'uint8', value: x.opcode ?? 0 }), VT.uint8)] },
      { name: 'Keywords', children: [add((x) => ({ type: 'hex64', value: keywordsValue(x.keywords) }), VT.hex64)] },
      { name: 'TimeCreated', attrs: [['SystemTime', add((_x, c) => ({ type: 'filetime', value: c.timeMs }), VT.filetime)]] },
      { name: 'EventRecordID', children: [add((_x, c) => ({ type: 'uint64', value: c.recordId }), VT.uint64)] },
      { name: 'Correlation' },
      {
        name: 'Execution', attrs: [
          ['ProcessID', add((x) => ({ type: 'uint32', value: x.pid ?? 4 }), VT.uint32)],
          ['ThreadID', add((x) => ({ type: 'uint32', value: x.tid ?? 0 }), VT.uint32)],
        ],
      },
      { name: 'Channel', children: [add((x) => ({ type: 'string', value: x.channel }), VT.string)] },
      { name: 'Computer', children: [add((x) => ({ type: 'string', value: x.computer }), VT.string)] },
      e.userSid
        ? { name: 'Security', attrs: [['UserID', add((x) => ({ type: 'sid', value: x.userSid! }), VT.sid)]] }
        : { name: 'Security' },
    ],
  };
  const dataNodes: Elem[] = dataTypes.map(([name, t]) => ({
    name: 'Data',
    attrs: [['Name', { text: name }]],
    children: [add((x) => typed(x.data?.[name]), VT[t.type === 'null' ? 'string' : t.type])],
  }));
  const root: Elem = {
    name: 'Event',
    attrs: [['xmlns', { text: EVENT_NS }]],
    children: [system, { name: 'EventData', children: dataNodes }],
  };
  const key = [
    e.provider.name, e.provider.guid ?? '', e.provider.eventSourceName ?? '', e.eventId,
    e.qualifiers !== undefined ? 'q' : '', e.userSid ? 'u' : '',
    ...dataTypes.map(([n, t]) => `${n}:${t.type === 'null' ? 'string' : t.type}`),
  ].join('|');
  const guid = fnv(key);
  return {
    key, guid, id: guid.readUInt32LE(0), subs,
    build: (w, names) => {
      w.u8(0x0f); w.u8(1); w.u8(1); w.u8(0);
      writeNode(w, names, root);
      w.u8(0x00);
    },
  };
}

class Chunk {
  buf = Buffer.alloc(CHUNK_SIZE);
  off = CHUNK_HEADER;
  names = new Map<string, number>();
  /** tail of each string-hash bucket chain */
  nameTail = new Array<number>(64).fill(0);
  templates = new Map<string, number>();
  templateTail = new Array<number>(32).fill(0);
  firstRecord = -1;
  lastRecord = -1;
  lastRecordOffset = 0;
  count = 0;
}

export interface EvtxWriterStats { records: number; chunks: number; bytes: number }

export class EvtxWriter {
  private fd: number;
  private chunk = new Chunk();
  private chunks = 0;
  private nextId = 1;
  private shapes = new Map<string, Shape>();
  private closed = false;
  private records = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, Buffer.alloc(FILE_HEADER), 0, FILE_HEADER, 0);
  }

  private shapeFor(e: EvtxEvent): { shape: Shape } {
    const dataTypes: [string, EvtxTypedValue][] = Object.entries(e.data ?? {}).map(([k, v]) => [k, typed(v)]);
    const quick = [
      e.provider.name, e.provider.guid ?? '', e.provider.eventSourceName ?? '', e.eventId,
      e.qualifiers !== undefined ? 'q' : '', e.userSid ? 'u' : '',
      ...dataTypes.map(([n, t]) => `${n}:${t.type === 'null' ? 'string' : t.type}`),
    ].join('|');
    let shape = this.shapes.get(quick);
    if (!shape) { shape = makeShape(e, dataTypes); this.shapes.set(quick, shape); }
    return { shape };
  }

  /** Encode one record into the current chunk; returns false (and changes nothing) if it does not fit. */
  private tryPut(e: EvtxEvent, shape: Shape, ctx: RecordCtx): boolean {
    const c = this.chunk;
    const start = c.off;
    const w = new Bytes(start);
    w.u32(0x00002a2a); w.u32(0); w.u32(ctx.recordId); w.u32(Math.floor(ctx.recordId / 0x100000000));
    const ft = filetimeFromMs(ctx.timeMs);
    w.u32(Number(ft & 0xffffffffn)); w.u32(Number(ft >> 32n));
    // fragment header + template instance
    w.u8(0x0f); w.u8(1); w.u8(1); w.u8(0);
    w.u8(0x0c); w.u8(0x01); w.u32(shape.id);
    const pendingNames = new Map<string, number>();
    let newTemplateAt = -1;
    const known = c.templates.get(shape.key);
    if (known !== undefined) {
      w.u32(known);
    } else {
      newTemplateAt = w.pos + 4;
      w.u32(newTemplateAt);
      w.u32(0); // next template in bucket
      w.bytes(shape.guid);
      const sizeAt = w.len;
      w.u32(0);
      const names: NameTable = {
        ref(bw, name) {
          const at = c.names.get(name) ?? pendingNames.get(name);
          if (at !== undefined) { bw.u32(at); return; }
          const here = bw.pos + 4;
          bw.u32(here);
          pendingNames.set(name, here);
          bw.u32(0); bw.u16(evtxNameHash(name) & 0xffff); bw.u16(name.length);
          bw.bytes(Buffer.from(name, 'utf16le')); bw.u16(0);
        },
      };
      const dataStart = w.len;
      shape.build(w, names);
      w.patch32(sizeAt, w.len - dataStart);
    }
    // substitution array
    const vals = shape.subs.map((s) => s.get(e, ctx));
    w.u32(vals.length);
    const enc = vals.map(encodeValue);
    vals.forEach((v, i) => { w.u16(enc[i].length); w.u8(VT[v.type]); w.u8(0); });
    for (const b of enc) w.bytes(b);
    w.u8(0x00); // end of stream
    const total = w.len + 4;
    // libevtx (evtxexport) drops a chunk's last record when fewer than 4 bytes follow it: keep 8 free.
    if (start + total > CHUNK_SIZE - CHUNK_TAIL) return false;
    w.u32(total);
    w.patch32(4, total);
    // commit
    w.view().copy(c.buf, start);
    c.off = start + total;
    for (const [name, at] of pendingNames) {
      c.names.set(name, at);
      const b = evtxNameHash(name) % 64;
      if (c.nameTail[b] === 0) c.buf.writeUInt32LE(at, 128 + 4 * b);
      else c.buf.writeUInt32LE(at, c.nameTail[b]);
      c.nameTail[b] = at;
    }
    if (newTemplateAt >= 0) {
      c.templates.set(shape.key, newTemplateAt);
      const b = shape.id % 32;
      if (c.templateTail[b] === 0) c.buf.writeUInt32LE(newTemplateAt, 384 + 4 * b);
      else c.buf.writeUInt32LE(newTemplateAt, c.templateTail[b]);
      c.templateTail[b] = newTemplateAt;
    }
    if (c.firstRecord < 0) c.firstRecord = ctx.recordId;
    c.lastRecord = ctx.recordId;
    c.lastRecordOffset = start;
    c.count++;
    return true;
  }

  write(e: EvtxEvent): number {
    if (this.closed) throw new Error('EvtxWriter: write after close');
    const recordId = e.recordId ?? this.nextId;
    this.nextId = recordId + 1;
    const timeMs = e.time instanceof Date ? e.time.getTime() : e.time;
    const { shape } = this.shapeFor(e);
    const ctx = { recordId, timeMs };
    if (!this.tryPut(e, shape, ctx)) {
      this.flushChunk();
      if (!this.tryPut(e, shape, ctx)) throw new Error(`EvtxWriter: event ${e.eventId} too large for a chunk`);
    }
    this.records++;
    return recordId;
  }

  private flushChunk() {
    const c = this.chunk;
    if (c.count === 0) return;
    if (this.chunks >= 0xffff) throw new Error('EvtxWriter: 65535 chunks per file reached');
    const h = c.buf;
    h.write('ElfChnk\0', 0, 'latin1');
    h.writeBigUInt64LE(BigInt(c.firstRecord), 8);
    h.writeBigUInt64LE(BigInt(c.lastRecord), 16);
    h.writeBigUInt64LE(BigInt(c.firstRecord), 24);
    h.writeBigUInt64LE(BigInt(c.lastRecord), 32);
    h.writeUInt32LE(128, 40);
    h.writeUInt32LE(c.lastRecordOffset, 44);
    h.writeUInt32LE(c.off, 48);
    h.writeUInt32LE(crc32(h, CHUNK_HEADER, c.off), 52);
    h.writeUInt32LE(1, 120); // flags
    const hc = crc32(h, 128, 512, crc32(h, 0, 120));
    h.writeUInt32LE(hc, 124);
    writeSync(this.fd, h, 0, CHUNK_SIZE, FILE_HEADER + this.chunks * CHUNK_SIZE);
    this.chunks++;
    this.chunk = new Chunk();
  }

  /** Flush the last chunk, write the file header, close the file. */
  close(): EvtxWriterStats {
    if (this.closed) return this.stats();
    this.flushChunk();
    const h = Buffer.alloc(FILE_HEADER);
    h.write('ElfFile\0', 0, 'latin1');
    h.writeBigUInt64LE(0n, 8);
    h.writeBigUInt64LE(BigInt(Math.max(0, this.chunks - 1)), 16);
    h.writeBigUInt64LE(BigInt(this.nextId), 24);
    h.writeUInt32LE(128, 32);
    h.writeUInt16LE(1, 36);
    h.writeUInt16LE(3, 38);
    h.writeUInt16LE(FILE_HEADER, 40);
    h.writeUInt16LE(this.chunks, 42);
    h.writeUInt32LE(0, 120); // flags: clean
    h.writeUInt32LE(crc32(h, 0, 120), 124);
    writeSync(this.fd, h, 0, FILE_HEADER, 0);
    closeSync(this.fd);
    this.closed = true;
    return this.stats();
  }

  stats(): EvtxWriterStats {
    return { records: this.records, chunks: this.chunks + (this.chunk.count ? 1 : 0), bytes: FILE_HEADER + this.chunks * CHUNK_SIZE };
  }
}
