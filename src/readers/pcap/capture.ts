/**
 * Streaming pcap / pcapng record parser.
 *
 * Push decompressed chunks in file order; every packet record is handed to
 * `onPacket` with its frame number (1-based, counted as tshark counts: every
 * packet block of every section and interface), link type, time, captured and
 * original length. The packet bytes are a view into an internal buffer and are
 * only valid during the callback (copy what you keep).
 *
 * Damage policy: bad block lengths, absurd record lengths and garbage between
 * blocks are reported with their byte offset; the parser then scans forward
 * for the next plausible record/block and continues. A truncated tail is
 * reported at end(). Nothing already parsed is lost.
 */

export interface PacketSink {
  /** ts: seconds since epoch (float). */
  onPacket(frame: number, linkType: number, buf: Buffer, off: number, capLen: number, wireLen: number, ts: number, fileOffset: number): void;
  onProblem(offset: number, reason: string, severity: 'warning' | 'error'): void;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** 16-bit read in the file's byte order (callers check lengths). */
function rd16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

/** 32-bit read in the file's byte order (callers check lengths). */
function rd32(b: Uint8Array, o: number, le: boolean): number {
  return le ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0 : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function sniffCapture(head: Buffer): CaptureFormat | null {
  if (head.length < 4) return null;
  const m = head.readUInt32LE(0);
  if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) return 'pcap';
  if (m === 0x0a0d0d0a) {
    if (head.length < 12) return 'pcapng';
    const bom = head.readUInt32LE(8);
    return bom === 0x1a2b3c4d || bom === 0x4d3c2b1a ? 'pcapng' : null;
  }
  return null;
}

/** Largest record we accept (tshark's own limit is 256 KiB for most link types; allow jumbo / reassembled captures). */
const MAX_RECORD = 1 << 20;
const MAX_BLOCK = 16 << 20;

interface Iface {
  linkType: number;
  snapLen: number;
  /** units per second */
  tsDiv: number;
  tsOffset: number;
}

export class CaptureParser {
  frames = 0;
  format: CaptureFormat | null = null;
  /** Bytes consumed from the file so far (offset of buf[pos]). */
  private base = 0;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private state: 'start' | 'body' | 'done' = 'start';
  // pcap
  private le = true;
  private nano = false;
  private linkType = 1;
  private snapLen = 65535;
  private lastTs = 0;
  // pcapng
  private ifaces: Iface[] = [];
  private resyncing = false;
  private resyncFrom = 0;

  constructor(private sink: PacketSink) {}

  push(chunk: Buffer): void {
    if (this.state === 'done' || chunk.length === 0) return;
    if (this.pos >= this.buf.length) {
      this.base += this.buf.length;
      this.buf = chunk;
      this.pos = 0;
      this.run(false);
      return;
    }
    // A record straddles the chunk boundary: stitch the leftover with only as
    // much of the new chunk as it takes to finish it, then go on in the chunk
    // itself (no copy of whole chunks).
    let rest = this.buf.subarray(this.pos);
    let restBase = this.base + this.pos;
    let take = Math.min(chunk.length, 4096); // most records are < 1.5 KiB; bigger ones retry ×4
    for (;;) {
      const st = Buffer.allocUnsafe(rest.length + take);
      rest.copy(st, 0);
      chunk.copy(st, rest.length, 0, take);
      this.buf = st;
      this.base = restBase;
      this.pos = 0;
      this.run(false);
      if ((this.state as string) === 'done') return;
      if (this.pos >= rest.length) {
        // continue inside the chunk, where the stitched copy stopped
        const at = this.pos - rest.length;
        this.base = restBase + rest.length;
        this.buf = chunk;
        this.pos = at;
        this.run(false);
        return;
      }
      if (take >= chunk.length) return; // still incomplete: keep the stitched buffer for the next chunk
      // retry with more of the chunk, from where parsing stopped
      rest = rest.subarray(this.pos);
      restBase += this.pos;
      take = Math.min(chunk.length, take * 4);
    }
  }

  end(): void {
    if (this.state === 'done') return;
    this.run(true);
    const left = this.buf.length - this.pos;
    if (this.state === 'start') {
      this.sink.onProblem(0, `capture too short for a ${this.format ?? 'pcap'} header (${this.buf.length} bytes)`, 'error');
    } else if (left > 0) {
      const off = this.base + this.pos;
      if (this.resyncing) this.sink.onProblem(this.resyncFrom, `no valid record found after damage (skipped ${off + left - this.resyncFrom} bytes to end of file)`, 'error');
      else this.sink.onProblem(off, `truncated ${this.format === 'pcapng' ? 'block' : 'record'} at end of file (${left} bytes left)`, 'error');
    }
    this.state = 'done';
  }

  private run(final: boolean): void {
    if (this.state === 'start') {
      if (!this.header(final)) return;
    }
    if (this.format === 'pcap') this.pcapRecords();
    else this.ngBlocks();
  }

  private header(final: boolean): boolean {
    const b = this.buf;
    if (b.length - this.pos < 24) return false;
    const fmt = sniffCapture(b.subarray(this.pos, this.pos + 12));
    if (!fmt) {
      this.sink.onProblem(0, 'not a pcap or pcapng file (bad magic)', 'error');
      this.state = 'done';
      return false;
    }
    this.format = fmt;
    if (fmt === 'pcap') {
      const m = b.readUInt32LE(this.pos);
      this.le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
      this.nano = m === 0xa1b23c4d || m === 0x4d3cb2a1;
      this.snapLen = this.le ? b.readUInt32LE(this.pos + 16) : b.readUInt32BE(this.pos + 16);
      const lt = this.le ? b.readUInt32LE(this.pos + 20) : b.readUInt32BE(this.pos + 20);
      this.linkType = lt & 0xffff;
      if (this.snapLen === 0 || this.snapLen > MAX_RECORD) {
        this.sink.onProblem(16, `absurd snap length ${this.snapLen} in file header; using ${MAX_RECORD}`, 'warning');
        this.snapLen = MAX_RECORD;
      }
      this.pos += 24;
    }
    this.state = 'body';
    void final;
    return true;
  }

  // ---------------------------------------------------------------- pcap
  private pcapRecordOk(b: Buffer, p: number): boolean {
    const le = this.le;
    const incl = rd32(b, p + 8, le);
    const orig = rd32(b, p + 12, le);
    const frac = rd32(b, p + 4, le);
    if (incl > MAX_RECORD || incl > Math.max(this.snapLen, 262144)) return false;
    if (orig < incl && orig !== 0) return false;
    if (frac >= (this.nano ? 1e9 : 1e6)) return false;
    return true;
  }

  private pcapRecords(): void {
    const sink = this.sink;
    const le = this.le;
    const div = this.nano ? 1e9 : 1e6;
    for (;;) {
      const b = this.buf;
      let p = this.pos;
      const avail = b.length - p;
      if (avail < 16) return;
      if (this.resyncing) {
        // scan for a plausible record header followed by another plausible one (or end)
        let found = -1;
        for (let q = p; q + 16 <= b.length; q++) {
          if (!this.pcapRecordOk(b, q)) continue;
          const sec = le ? b.readUInt32LE(q) : b.readUInt32BE(q);
          if (this.lastTs && Math.abs(sec - this.lastTs) > 86400 * 365) continue;
          const incl = le ? b.readUInt32LE(q + 8) : b.readUInt32BE(q + 8);
          const nxt = q + 16 + incl;
          if (nxt + 16 <= b.length) {
            if (!this.pcapRecordOk(b, nxt)) continue;
          } else if (nxt > b.length) {
            // cannot confirm yet: wait for more data (keep from q)
            found = -2;
            this.pos = q;
            break;
          }
          found = q;
          break;
        }
        if (found === -2) return;
        if (found < 0) {
          this.pos = Math.max(p, b.length - 15);
          return;
        }
        sink.onProblem(this.resyncFrom, `skipped ${this.base + found - this.resyncFrom} damaged bytes; resynchronised at offset ${this.base + found}`, 'error');
        this.resyncing = false;
        this.pos = p = found;
      }
      const incl = rd32(b, p + 8, le);
      if (!this.pcapRecordOk(b, p)) {
        const orig = rd32(b, p + 12, le);
        sink.onProblem(this.base + p, `bad record header (captured length ${incl}, original length ${orig}, snap length ${this.snapLen})`, 'error');
        this.resyncing = true;
        this.resyncFrom = this.base + p;
        this.pos = p + 1;
        continue;
      }
      if (avail < 16 + incl) return;
      const sec = rd32(b, p, le);
      const frac = rd32(b, p + 4, le);
      let orig = rd32(b, p + 12, le);
      if (orig === 0) orig = incl;
      this.lastTs = sec;
      this.frames++;
      sink.onPacket(this.frames, this.linkType, b, p + 16, incl, orig, sec + frac / div, this.base + p);
      this.pos = p + 16 + incl;
    }
  }

  // ---------------------------------------------------------------- pcapng
  private ngLe = true;

  private ngBlockOk(b: Buffer, p: number): number {
    // returns block length when the block at p looks valid and complete, 0 when invalid, -1 when more data is needed
    if (b.length - p < 12) return -1;
    const typeLE = rd32(b, p, true);
    let le = this.ngLe;
    if (typeLE === 0x0a0d0d0a) {
      const bom = rd32(b, p + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else return 0;
    }
    const type = rd32(b, p, le);
    const len = rd32(b, p + 4, le);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) return 0;
    if (!(type <= 10 || type === 0x0a0d0d0a || (type >= 0x80000000) || type === 0x00000bad || type === 0x40000bad)) return 0;
    if (b.length - p < len) return -1;
    const trail = rd32(b, p + len - 4, le);
    if (trail !== len) return 0;
    return len;
  }

  private ngBlocks(): void {
    const sink = this.sink;
    for (;;) {
      const b = this.buf;
      let p = this.pos;
      if (b.length - p < 12) return;
      if (this.resyncing) {
        let found = -1;
        for (let q = p; q + 12 <= b.length; q++) {
          const r = this.ngBlockOk(b, q);
          if (r === 0) continue;
          if (r === -1) {
            // need more bytes to judge; only wait when the header is plausible
            const le = this.ngLe;
            const len = le ? b.readUInt32LE(q + 4) : b.readUInt32BE(q + 4);
            const type = le ? b.readUInt32LE(q) : b.readUInt32BE(q);
            if (len >= 12 && len % 4 === 0 && len <= MAX_BLOCK && (type === 6 || type === 1 || type === 3 || type === 2 || type === 0x0a0d0d0a || type === 5)) {
              found = -2;
              this.pos = q;
              break;
            }
            continue;
          }
          // require a known packet/interface/section type for resync
          const le = this.ngLe;
          const type = le ? b.readUInt32LE(q) : b.readUInt32BE(q);
          if (!(type === 6 || type === 1 || type === 3 || type === 2 || type === 0x0a0d0d0a || type === 5 || type === 4)) continue;
          found = q;
          break;
        }
        if (found === -2) return;
        if (found < 0) {
          this.pos = Math.max(p, b.length - 11);
          return;
        }
        sink.onProblem(this.resyncFrom, `skipped ${this.base + found - this.resyncFrom} damaged bytes; resynchronised at block offset ${this.base + found}`, 'error');
        this.resyncing = false;
        this.pos = p = found;
      }
      const r = this.ngBlockOk(b, p);
      if (r === -1) {
        // possibly a huge declared length: decide now whether the header is absurd
        return;
      }
      if (r === 0) {
        const le = this.ngLe;
        const len = le ? b.readUInt32LE(p + 4) : b.readUInt32BE(p + 4);
        sink.onProblem(this.base + p, `bad pcapng block (type 0x${(le ? b.readUInt32LE(p) : b.readUInt32BE(p)).toString(16)}, length ${len})`, 'error');
        this.resyncing = true;
        this.resyncFrom = this.base + p;
        this.pos = p + 4;
        continue;
      }
      this.ngBlock(b, p, r);
      this.pos = p + r;
    }
  }

  private ngBlock(b: Buffer, p: number, len: number): void {
    const typeLE = b.readUInt32LE(p);
    if (typeLE === 0x0a0d0d0a) {
      this.ngLe = b.readUInt32LE(p + 8) === 0x1a2b3c4d;
      this.ifaces = [];
      return;
    }
    const le = this.ngLe;
    const type = rd32(b, p, le);
    const end = p + len - 4;
    switch (type) {
      case 1: {
        if (len < 20) return this.sink.onProblem(this.base + p, 'interface description block too short', 'error');
        const iface: Iface = { linkType: rd16(b, p + 8, le), snapLen: rd32(b, p + 12, le), tsDiv: 1e6, tsOffset: 0 };
        let o = p + 16;
        while (o + 4 <= end) {
          const code = rd16(b, o, le);
          const olen = rd16(b, o + 2, le);
          if (code === 0) break;
          if (o + 4 + olen > end) {
            this.sink.onProblem(this.base + o, 'interface option overruns its block', 'warning');
            break;
          }
          if (code === 9 && olen >= 1) {
            const v = b[o + 4];
            iface.tsDiv = v & 0x80 ? Math.pow(2, v & 0x7f) : Math.pow(10, v);
          } else if (code === 14 && olen >= 8) {
            iface.tsOffset = le ? Number(b.readBigInt64LE(o + 4)) : Number(b.readBigInt64BE(o + 4));
          }
          o += 4 + ((olen + 3) & ~3);
        }
        this.ifaces.push(iface);
        return;
      }
      case 6:
      case 2: {
        if (len < 32) return this.sink.onProblem(this.base + p, 'packet block too short', 'error');
        const ifId = type === 6 ? rd32(b, p + 8, le) : rd16(b, p + 8, le);
        const hi = rd32(b, p + 12, le);
        const lo = rd32(b, p + 16, le);
        let cap = rd32(b, p + 20, le);
        const wire = rd32(b, p + 24, le);
        const iface = this.ifaces[ifId];
        if (!iface) {
          this.sink.onProblem(this.base + p, `packet block refers to unknown interface ${ifId}`, 'error');
          return;
        }
        if (cap > len - 32) {
          this.sink.onProblem(this.base + p, `captured length ${cap} exceeds its block (${len} bytes); truncated`, 'warning');
          cap = len - 32;
        }
        const ts = (hi * 4294967296 + lo) / iface.tsDiv + iface.tsOffset;
        this.frames++;
        this.sink.onPacket(this.frames, iface.linkType, b, p + 28, cap, wire < cap ? cap : wire, ts, this.base + p);
        return;
      }
      case 3: {
        const iface = this.ifaces[0];
        if (!iface) {
          this.sink.onProblem(this.base + p, 'simple packet block without an interface', 'error');
          return;
        }
        const wire = rd32(b, p + 8, le);
        let cap = Math.min(wire, len - 16);
        if (iface.snapLen > 0) cap = Math.min(cap, iface.snapLen);
        this.frames++;
        this.sink.onPacket(this.frames, iface.linkType, b, p + 12, cap, wire, 0, this.base + p);
        return;
      }
      default:
        return; // NRB, ISB, custom, DSB ...: ignored
    }
  }
}
