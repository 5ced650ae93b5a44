/**
 * EVTX file header and chunk parsing with damage handling:
 * checksums verified (mismatch = warning, parse anyway), dirty flag noted,
 * truncated chunks read as far as they go, records carved by their `**\0\0`
 * signature from damaged chunks and from chunk slack (marked recovered).
 */
import * as zlib from 'node:zlib';
import type { EvtxEvent } from '../../core/event.js';
import type { ParseProblem, ProblemSink } from '../../core/problems.js';
import { ChunkBinXml, BinXmlError } from './binxml.js';
import { buildEvent } from './extract.js';

export const FILE_HEADER_SIZE = 4096;
export const CHUNK_SIZE = 65536;
export const CHUNK_HEADER_SIZE = 512;
const EPOCH_DIFF_MS = 11644473600000;

const FILE_MAGIC = Buffer.from('ElfFile\0', 'latin1');
const CHUNK_MAGIC = Buffer.from('ElfChnk\0', 'latin1');
const RECORD_MAGIC = Buffer.from([0x2a, 0x2a, 0, 0]);

// ------------------------------------------------------------------ CRC32
const zcrc = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
let TABLE: Int32Array | undefined;
/** CRC32 (IEEE) of data, continuing from value. */
export function crc32(data: Uint8Array, value = 0): number {
  if (zcrc) return zcrc(data, value);
  if (!TABLE) {
    TABLE = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      TABLE[i] = c;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ------------------------------------------------------------------ file header
export interface EvtxFileHeader {
  valid: boolean;
  firstChunk: number;
  lastChunk: number;
  nextRecordId: number;
  headerSize: number;
  minorVersion: number;
  majorVersion: number;
  blockSize: number;
  chunkCount: number;
  flags: number;
  dirty: boolean;
  full: boolean;
  checksumOk: boolean;
}

export interface ParseOptions {
  evidenceId: string;
  /** Problems; each gets the evidence id. */
  problem?: ProblemSink;
  /** Also render each record's XML into `winlog.xml` (evtx_dump shape). */
  xml?: boolean;
  /** Skip the slack carving (faster when recovery is not wanted). */
  noCarve?: boolean;
}

function report(o: ParseOptions, severity: ParseProblem['severity'], offset: number, reason: string, record?: number): void {
  if (!o.problem) return;
  const p: ParseProblem = { evidence: o.evidenceId, offset, reason, severity };
  if (record !== undefined) p.record = record;
  o.problem(p);
}

function u64n(b: Buffer, o: number): number {
  return b.readUInt32LE(o + 4) * 4294967296 + b.readUInt32LE(o);
}

/** Parse and check the 4096-byte file header (reports problems, never throws). */
export function parseFileHeader(buf: Buffer, o: ParseOptions): EvtxFileHeader {
  const h: EvtxFileHeader = {
    valid: false, firstChunk: 0, lastChunk: 0, nextRecordId: 0, headerSize: 0, minorVersion: 0, majorVersion: 0,
    blockSize: 0, chunkCount: 0, flags: 0, dirty: false, full: false, checksumOk: false,
  };
  if (buf.length < 128) {
    report(o, 'error', 0, `file header truncated (${buf.length} bytes)`);
    return h;
  }
  h.valid = buf.compare(FILE_MAGIC, 0, 8, 0, 8) === 0;
  if (!h.valid) report(o, 'error', 0, 'file header signature "ElfFile" missing');
  h.firstChunk = u64n(buf, 8);
  h.lastChunk = u64n(buf, 16);
  h.nextRecordId = u64n(buf, 24);
  h.headerSize = buf.readUInt32LE(32);
  h.minorVersion = buf.readUInt16LE(36);
  h.majorVersion = buf.readUInt16LE(38);
  h.blockSize = buf.readUInt16LE(40);
  h.chunkCount = buf.readUInt16LE(42);
  h.flags = buf.readUInt32LE(120);
  h.dirty = (h.flags & 1) !== 0;
  h.full = (h.flags & 2) !== 0;
  const crc = crc32(buf.subarray(0, 120));
  h.checksumOk = crc === buf.readUInt32LE(124);
  if (h.valid && !h.checksumOk) {
    report(o, 'warning', 124, `file header checksum mismatch (stored 0x${buf.readUInt32LE(124).toString(16)}, computed 0x${crc.toString(16)})`);
  }
  if (h.valid && h.dirty) report(o, 'warning', 120, 'file is marked dirty (not closed cleanly): header counters may be stale');
  if (h.valid && h.majorVersion !== 3) report(o, 'warning', 38, `unexpected format version ${h.majorVersion}.${h.minorVersion}`);
  return h;
}

// ------------------------------------------------------------------ chunks
export interface ChunkInfo {
  /** 'ok', 'zero' (all zero bytes), 'garbage' (no chunk signature), 'short' (too short for a header). */
  state: 'ok' | 'zero' | 'garbage' | 'short';
  firstRecordId: number;
  lastRecordId: number;
  records: number;
  recovered: number;
  errors: number;
  templates: number;
}

const ZERO = Buffer.alloc(CHUNK_SIZE);
function isZero(b: Buffer, s: number, e: number): boolean {
  if (e <= s) return true;
  return b.compare(ZERO, 0, e - s, s, e) === 0;
}

/**
 * Parse one chunk (a Buffer holding exactly the chunk's bytes, up to 64 KiB) at
 * fileOffset. Events are pushed to out. Never throws on bad data.
 */
export function parseChunk(chunk: Buffer, fileOffset: number, o: ParseOptions, out: EvtxEvent[], dedup?: CarveDedup): ChunkInfo {
  const info: ChunkInfo = { state: 'ok', firstRecordId: 0, lastRecordId: 0, records: 0, recovered: 0, errors: 0, templates: 0 };
  const len = Math.min(chunk.length, CHUNK_SIZE);
  const err = (off: number, reason: string, rec?: number) => {
    info.errors++;
    report(o, 'error', fileOffset + off, reason, rec);
  };
  const hasMagic = len >= 8 && chunk.compare(CHUNK_MAGIC, 0, 8, 0, 8) === 0;
  if (!hasMagic) {
    if (isZero(chunk, 0, len)) {
      info.state = 'zero';
      return info;
    }
    info.state = 'garbage';
    err(0, 'chunk signature "ElfChnk" missing (overwritten or garbage chunk): carving records');
    carve(chunk, len, 0, fileOffset, o, out, info, 'damaged chunk', undefined, dedup);
    return info;
  }
  if (len < CHUNK_HEADER_SIZE) {
    info.state = 'short';
    err(0, `chunk truncated inside its header (${len} bytes)`);
    return info;
  }
  info.firstRecordId = u64n(chunk, 24);
  info.lastRecordId = u64n(chunk, 32);
  const hcrc = crc32(chunk.subarray(128, 512), crc32(chunk.subarray(0, 120)));
  const headerOk = hcrc === chunk.readUInt32LE(124);
  if (!headerOk) {
    report(o, 'warning', fileOffset + 124, `chunk header checksum mismatch (stored 0x${chunk.readUInt32LE(124).toString(16)}, computed 0x${hcrc.toString(16)})`);
  }
  let free = chunk.readUInt32LE(48);
  const truncated = len < CHUNK_SIZE;
  let structural = true;
  if (free < CHUNK_HEADER_SIZE || free > CHUNK_SIZE) {
    err(48, `chunk free-space offset ${free} invalid: carving records`);
    structural = false;
    free = len;
  } else if (free > len) {
    err(len, `chunk truncated: ${len} of ${CHUNK_SIZE} bytes present, records end at ${free}`);
    free = len;
  } else if (!truncated || free <= len) {
    const rcrc = crc32(chunk.subarray(CHUNK_HEADER_SIZE, free));
    if (rcrc !== chunk.readUInt32LE(52)) {
      report(o, 'warning', fileOffset + 52, `chunk event records checksum mismatch (stored 0x${chunk.readUInt32LE(52).toString(16)}, computed 0x${rcrc.toString(16)})`);
    }
  }
  if (!structural) {
    carve(chunk, len, CHUNK_HEADER_SIZE, fileOffset, o, out, info, 'damaged chunk', undefined, dedup);
    return info;
  }
  const cx = new ChunkBinXml(chunk.length > len ? chunk.subarray(0, len) : chunk);
  let pos = CHUNK_HEADER_SIZE;
  let recovering = false;
  while (pos + 28 <= free) {
    const size = chunk.readUInt32LE(pos + 4);
    const okHeader = chunk[pos] === 0x2a && chunk[pos + 1] === 0x2a && chunk[pos + 2] === 0 && chunk[pos + 3] === 0 &&
      size >= 28 && pos + size <= free && chunk.readUInt32LE(pos + size - 4) === size;
    if (!okHeader) {
      err(pos, `invalid event record header at chunk offset ${pos} (signature/size): resynchronising on the next record signature`);
      const next = chunk.indexOf(RECORD_MAGIC, pos + 1);
      if (next < 0 || next + 28 > free) {
        pos = free;
        break;
      }
      pos = next;
      recovering = true;
      continue;
    }
    const recId = u64n(chunk, pos + 8);
    if (parseRecord(cx, chunk, pos, size, recId, fileOffset, o, out, recovering)) {
      if (dedup) dedup.addLive(recId, timeKey(chunk, pos));
      info.records++;
      if (recovering) info.recovered++;
    } else info.errors++;
    pos += size;
  }
  for (const t of cx.templateErrors) report(o, 'error', fileOffset + t.offset, t.reason);
  // chunk slack: records beyond the free-space offset (old data) are carved
  if (!o.noCarve && free < len && !isZero(chunk, free, len)) {
    carve(chunk, len, free, fileOffset, o, out, info, 'chunk slack', cx, dedup);
  }
  info.templates = cx.templateCount;
  return info;
}

function parseRecord(
  cx: ChunkBinXml, chunk: Buffer, pos: number, size: number, recId: number, fileOffset: number,
  o: ParseOptions, out: EvtxEvent[], recovered: boolean,
): boolean {
  try {
    const inst = cx.instanceAt(pos + 24, pos + size - 4, true);
    const writtenMs = (chunk.readUInt32LE(pos + 20) * 4294967296 + chunk.readUInt32LE(pos + 16)) / 10000 - EPOCH_DIFF_MS;
    const ev = buildEvent(cx, inst, { evidenceId: o.evidenceId, recordId: recId, writtenMs, offset: fileOffset + pos, recovered, xml: !!o.xml });
    out.push(ev);
    return true;
  } catch (e) {
    if (!o.problem) return false;
    const off = e instanceof BinXmlError ? e.offset : pos;
    report(o, 'error', fileOffset + off, `record ${recId} at file offset ${fileOffset + pos} skipped: ${(e as { message: string }).message}`, recId);
    return false;
  }
}

/** Written time of the record at pos as an exact number (low 53 bits of the FILETIME). */
function timeKey(chunk: Buffer, pos: number): number {
  return (chunk.readUInt32LE(pos + 20) & 0x1fffff) * 4294967296 + chunk.readUInt32LE(pos + 16);
}

/**
 * Per-file bookkeeping that keeps stale copies out of the output: a record carved
 * from slack (or a damaged chunk) whose EventRecordID and record-header written
 * time (100 ns FILETIME) equal a live record's, or an earlier carved record's, is
 * the same record written again, not new evidence. Carved records wait until the
 * end of the file (a stale copy may precede its live twin) and are then emitted
 * or dropped; the drops are reported once per file.
 */
export class CarveDedup {
  /** Live records: EventRecordID → written-time key. */
  readonly live = new Map<number, number>();
  /** Carved records waiting for the end of the file. */
  readonly pending: { ev: EvtxEvent; id: number; t: number; where: string }[] = [];
  dropped = 0;
  /** Of the dropped, those parsed before being found to be copies (counted in ChunkInfo.records). */
  droppedParsed = 0;
  firstDropOffset = -1;
  /** Pending entries beyond this are flushed early (memory bound). */
  static MAX_PENDING = 50000;

  /** Live records remembered at most (memory bound for huge files: the oldest are forgotten first). */
  static MAX_LIVE = 1_000_000;

  addLive(id: number, t: number): void {
    const live = this.live;
    live.set(id, t);
    if (live.size > CarveDedup.MAX_LIVE) {
      let drop = live.size >> 2;
      for (const k of live.keys()) {
        live.delete(k);
        if (--drop <= 0) break;
      }
    }
  }

  /** A carved copy identical to a record already known: count it, true = skip. */
  stale(id: number, t: number, offset: number): boolean {
    if (this.live.get(id) !== t) return false;
    this.drop(offset);
    return true;
  }

  private drop(offset: number): void {
    if (this.firstDropOffset < 0 || offset < this.firstDropOffset) this.firstDropOffset = offset;
    this.dropped++;
  }

  /** The carved records that are new (in file order), reporting each; clears the pending list. */
  flush(o: ParseOptions): EvtxEvent[] {
    const out: EvtxEvent[] = [];
    const seen = new Map<number, number>();
    for (const p of this.pending) {
      const off = p.ev.ref.offset ?? 0;
      if (this.live.get(p.id) === p.t || seen.get(p.id) === p.t) {
        this.drop(off);
        this.droppedParsed++;
        continue;
      }
      seen.set(p.id, p.t);
      report(o, 'warning', off, `record ${p.id} recovered from ${p.where}`, p.id);
      out.push(p.ev);
    }
    // carved records already emitted also count as known for later copies
    for (const [id, t] of seen) if (!this.live.has(id)) this.addLive(id, t);
    this.pending.length = 0;
    return out;
  }

  /** One summary problem for the dropped copies of this file (nothing when none). */
  summary(o: ParseOptions): void {
    if (this.dropped === 0) return;
    report(o, 'warning', this.firstDropOffset,
      `${this.dropped} record cop${this.dropped === 1 ? 'y' : 'ies'} carved from chunk slack duplicate records already read (same EventRecordID and written time) and were not emitted again`);
  }
}

/** Scan [from, len) for record signatures and parse every record whose header holds. */
function carve(
  chunk: Buffer, len: number, from: number, fileOffset: number, o: ParseOptions, out: EvtxEvent[], info: ChunkInfo,
  where: string, cxIn?: ChunkBinXml, dedup?: CarveDedup,
): void {
  let cx = cxIn;
  const quiet: ParseOptions = { ...o, problem: undefined };
  let pos = chunk.indexOf(RECORD_MAGIC, from);
  while (pos >= 0 && pos + 28 <= len) {
    const size = chunk.readUInt32LE(pos + 4);
    if (size >= 0x30 && pos + size <= len && chunk.readUInt32LE(pos + size - 4) === size) {
      const written = (chunk.readUInt32LE(pos + 20) * 4294967296 + chunk.readUInt32LE(pos + 16)) / 10000 - EPOCH_DIFF_MS;
      // plausible written time: 1995 .. 2100
      if (written > 788918400000 && written < 4102444800000) {
        const recId = u64n(chunk, pos + 8);
        const t = timeKey(chunk, pos);
        if (dedup && dedup.stale(recId, t, fileOffset + pos)) {
          // stale copy of a record already read: not parsed, counted in the file's summary
          pos = chunk.indexOf(RECORD_MAGIC, pos + size);
          continue;
        }
        cx ??= new ChunkBinXml(chunk.length > len ? chunk.subarray(0, len) : chunk);
        const n = out.length;
        if (parseRecord(cx, chunk, pos, size, recId, fileOffset, quiet, out, true)) {
          info.records++;
          info.recovered++;
          if (dedup) {
            dedup.pending.push({ ev: out[n], id: recId, t, where });
            out.length = n;
          } else report(o, 'warning', fileOffset + pos, `record ${recId} recovered from ${where}`, recId);
          pos = chunk.indexOf(RECORD_MAGIC, pos + size);
          continue;
        }
        out.length = n;
        report(o, 'warning', fileOffset + pos, `record fragment ${recId} in ${where} could not be recovered`, recId);
      }
    }
    pos = chunk.indexOf(RECORD_MAGIC, pos + 1);
  }
  if (!cxIn && cx) info.templates = cx.templateCount;
}

// ------------------------------------------------------------------ whole buffers
export interface FileSummary {
  header: EvtxFileHeader;
  chunks: number;
  records: number;
  recovered: number;
  errors: number;
  /** Carved copies of records already read, not emitted (see CarveDedup). */
  duplicatesDropped?: number;
}

/**
 * Parse a whole EVTX file held in memory (synchronous; for workers, benchmarks, tests).
 * Events are appended to the returned array in file order.
 */
export function parseEvtxBuffer(buf: Buffer, evidenceId: string, problemSink?: ProblemSink, opts: Partial<ParseOptions> = {}): EvtxEvent[] {
  const out: EvtxEvent[] = [];
  parseEvtxBufferInto(buf, { ...opts, evidenceId, problem: problemSink }, out, (evs) => evs);
  return out;
}

/**
 * Parse a whole EVTX buffer, calling onChunk with each chunk's events (the array
 * is reused when onChunk returns it; return nothing to hand it over).
 */
export function parseEvtxBufferInto(
  buf: Buffer, o: ParseOptions, out: EvtxEvent[] | null, onChunk?: (evs: EvtxEvent[], info: ChunkInfo) => unknown,
): FileSummary {
  const header = parseFileHeader(buf.subarray(0, Math.min(buf.length, FILE_HEADER_SIZE)), o);
  const sum: FileSummary = { header, chunks: 0, records: 0, recovered: 0, errors: 0 };
  if (buf.length < FILE_HEADER_SIZE) {
    if (buf.length >= 128) report(o, 'error', buf.length, `file truncated inside its header (${buf.length} bytes)`);
    sum.errors++;
    return sum;
  }
  const tracker = new ChunkTracker(o, header);
  for (let off = FILE_HEADER_SIZE, idx = 0; off < buf.length; off += CHUNK_SIZE, idx++) {
    const chunk = buf.subarray(off, Math.min(off + CHUNK_SIZE, buf.length));
    const evs: EvtxEvent[] = out ?? [];
    const info = tracker.chunk(chunk, off, idx, evs);
    sum.chunks++;
    sum.records += info.records;
    sum.recovered += info.recovered;
    sum.errors += info.errors;
    if (onChunk) onChunk(evs, info);
  }
  const kept = tracker.finish(sum);
  if (kept.length) {
    if (out) for (const e of kept) out.push(e);
    if (onChunk) onChunk(kept, { state: 'ok', firstRecordId: 0, lastRecordId: 0, records: kept.length, recovered: kept.length, errors: 0, templates: 0 });
  }
  return sum;
}

/** Shared per-file chunk bookkeeping (streaming and buffer paths). */
export class ChunkTracker {
  private used = 0;
  private zeroInUse = 0;
  /** Carved-record deduplication for this file (see CarveDedup). */
  readonly dedup = new CarveDedup();
  constructor(private o: ParseOptions, private header: EvtxFileHeader) {}

  chunk(chunk: Buffer, off: number, idx: number, evs: EvtxEvent[]): ChunkInfo {
    if (chunk.length < CHUNK_SIZE) {
      if (!isZero(chunk, 0, chunk.length)) {
        report(this.o, 'error', off + chunk.length, `file truncated: last chunk has ${chunk.length} of ${CHUNK_SIZE} bytes`);
      }
    }
    const info = parseChunk(chunk, off, this.o, evs, this.dedup);
    if (chunk.length < CHUNK_SIZE && !isZero(chunk, 0, chunk.length)) info.errors++;
    if (info.state === 'ok') {
      this.used++;
      if (this.header.valid && idx >= this.header.chunkCount && !this.header.dirty) {
        report(this.o, 'warning', off, `chunk ${idx} lies beyond the header's chunk count ${this.header.chunkCount}`);
      }
    } else if (info.state === 'zero' && idx < this.header.chunkCount) {
      this.zeroInUse++;
      info.errors++;
      report(this.o, 'error', off, `chunk ${idx} is all zero bytes although the header counts ${this.header.chunkCount} chunks`);
    }
    // memory bound: a file with very many carved records releases them early
    if (this.dedup.pending.length > CarveDedup.MAX_PENDING) for (const e of this.dedup.flush(this.o)) evs.push(e);
    return info;
  }

  /**
   * End of file: the carved records that are new (not copies of records read),
   * to be emitted after the live ones; reports the dropped copies once.
   */
  finish(sum?: FileSummary): EvtxEvent[] {
    const kept = this.dedup.flush(this.o);
    this.dedup.summary(this.o);
    if (sum) {
      sum.recovered -= this.dedup.droppedParsed;
      sum.records -= this.dedup.droppedParsed;
      sum.duplicatesDropped = this.dedup.dropped;
    }
    return kept;
  }
}
