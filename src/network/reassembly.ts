/**
 * One direction of a TCP byte stream, in Zeek's relative sequence space
 * (the SYN is sequence 0, data starts at 1).
 *
 * Policy (documented, as Zeek's reassembler): FIRST WINS. Bytes already
 * delivered or already buffered are never replaced by a later segment that
 * overlaps them (a retransmission with different content is counted as an
 * inconsistent overlap). Out-of-order segments are buffered up to a per-flow
 * cap and a global cap; beyond the caps the stream stops keeping bytes
 * (ranges are still tracked so gap accounting stays right).
 *
 * Gaps: when the peer acknowledges bytes we never saw (ack beyond our
 * contiguous end), the missing bytes are reported to onGap (missed_bytes,
 * history 'G', analyzer gap()) and delivery resumes after the hole.
 */

export interface ReasmBudget {
  /** Bytes currently buffered by all streams. */
  used: number;
  /** Global cap. */
  max: number;
}

export interface ReasmSink {
  deliver(dir: 0 | 1, data: Buffer, frame: number, ts: number): void;
  gap(dir: 0 | 1, len: number): void;
}

const MAX_SEGS = 4096;

interface Seg {
  seq: number;
  end: number;
  data: Buffer | null;
  frame: number;
  ts: number;
}

export class StreamReasm {
  /** Next relative sequence number to deliver (everything below was delivered or skipped). */
  next = 1;
  /** Buffered out-of-order segments, sorted by seq, non-overlapping. */
  private segs: Seg[] = [];
  bufferedBytes = 0;
  /** Bytes of overlapping retransmissions whose content differed from what we kept. */
  inconsistent = 0;
  /** Whether data bytes should be kept (an analyzer or the prober wants them). */
  keepData = true;
  /** Set when a cap was hit: later data is not kept. */
  capped = false;

  constructor(
    readonly dir: 0 | 1,
    private sink: ReasmSink,
    private budget: ReasmBudget,
    private maxPerFlow: number,
  ) {}

  /** New segment [seq, seq+len). `b[off..off+len)` holds the bytes. */
  add(seq: number, b: Buffer, off: number, len: number, frame: number, ts: number): void {
    const end = seq + len;
    if (end <= this.next) return; // entirely old: retransmission of delivered data
    if (seq < this.next) {
      const skip = this.next - seq;
      off += skip;
      seq = this.next;
      len -= skip;
    }
    if (seq === this.next && this.segs.length === 0) {
      this.next = end;
      if (this.keepData) this.sink.deliver(this.dir, b.subarray(off, off + len), frame, ts);
      return;
    }
    // insert the parts not already covered (first wins)
    const segs = this.segs;
    let i = 0;
    while (i < segs.length && segs[i].end <= seq) i++;
    let cur = seq;
    while (cur < end) {
      if (i < segs.length && segs[i].seq <= cur) {
        // covered by an existing segment
        const s = segs[i];
        if (s.data && this.keepData) {
          const a = cur;
          const z = Math.min(end, s.end);
          if (b.compare(s.data, a - s.seq, z - s.seq, off + (a - seq), off + (z - seq)) !== 0) this.inconsistent += z - a;
        }
        cur = s.end;
        i++;
        continue;
      }
      if (segs.length >= MAX_SEGS) {
        this.capped = true;
        return; // hostile fragmentation of the stream: stop tracking more holes
      }
      const limit = i < segs.length ? Math.min(end, segs[i].seq) : end;
      const n = limit - cur;
      let data: Buffer | null = null;
      if (this.keepData && !this.capped) {
        if (this.bufferedBytes + n > this.maxPerFlow || this.budget.used + n > this.budget.max) {
          this.capped = true;
        } else {
          data = Buffer.from(b.subarray(off + (cur - seq), off + (limit - seq)));
          this.bufferedBytes += n;
          this.budget.used += n;
        }
      }
      segs.splice(i, 0, { seq: cur, end: limit, data, frame, ts });
      i++;
      cur = limit;
    }
    this.flushReady();
  }

  /** Deliver buffered segments that are now contiguous. */
  private flushReady(): void {
    const segs = this.segs;
    while (segs.length && segs[0].seq <= this.next) {
      const s = segs.shift()!;
      if (s.data) {
        this.bufferedBytes -= s.data.length;
        this.budget.used -= s.data.length;
      }
      if (s.end <= this.next) continue;
      const skip = this.next - s.seq;
      this.next = s.end;
      if (this.keepData) {
        if (s.data) this.sink.deliver(this.dir, skip ? s.data.subarray(skip) : s.data, s.frame, s.ts);
        else this.sink.gap(this.dir, s.end - s.seq - skip); // bytes not kept (cap): a gap for the analyzer only
      }
    }
  }

  /**
   * The peer acknowledged everything below `ack`. Returns the number of bytes
   * in [next, ack) never seen (missed), after skipping over them.
   */
  ackTo(ack: number, report: boolean): number {
    if (ack <= this.next) return 0;
    let missing = 0;
    const segs = this.segs;
    while (this.next < ack) {
      if (segs.length && segs[0].seq <= this.next) {
        this.flushReady();
        continue;
      }
      const holeEnd = segs.length ? Math.min(segs[0].seq, ack) : ack;
      const n = holeEnd - this.next;
      missing += n;
      this.next = holeEnd;
      if (this.keepData || report) this.sink.gap(this.dir, n);
      this.flushReady();
    }
    return missing;
  }

  /** End of connection: deliver what is buffered, reporting holes to the analyzer. */
  flushAll(): void {
    const segs = this.segs;
    while (segs.length) {
      if (segs[0].seq > this.next) {
        if (this.keepData) this.sink.gap(this.dir, segs[0].seq - this.next);
        this.next = segs[0].seq;
      }
      this.flushReady();
    }
  }

  /** Drop buffered bytes (analyzer detached); ranges are kept. */
  dropData(): void {
    this.keepData = false;
    for (const s of this.segs) {
      if (s.data) {
        this.budget.used -= s.data.length;
        this.bufferedBytes -= s.data.length;
        s.data = null;
      }
    }
  }

  release(): void {
    this.dropData();
    this.segs.length = 0;
  }

  /** Re-base (a new SYN restarted the sequence space). */
  reset(): void {
    this.release();
    this.next = 1;
    this.keepData = true;
    this.capped = false;
  }

  get pending(): boolean {
    return this.segs.length > 0;
  }
}
