/**
 * The EVTX evidence reader: streams the file header, then one 64 KiB chunk at a
 * time (memory bounded by chunk), yielding one batch of EvtxEvents per chunk.
 *
 * Exports for other areas:
 *   evtxReader                 EvidenceReader (format 'evtx')
 *   parseEvtxBuffer            synchronous whole-buffer parse (workers, benchmarks, tests)
 *   parseChunk / parseFileHeader  chunk-level API
 *   evtxEventToXml             XML in the evtx_dump.py shape (for `spoor dump --format xml`)
 *   evtxEventToJson            one JSONL line for `spoor dump --format jsonl`
 *   parseEvtxFilesParallel     worker-thread pool over files / chunk ranges (workers kept for reuse;
 *                              closeEvtxWorkers() ends them)
 */
import type { EvtxEvent, SpoorEvent } from '../../core/event.js';
import type { EvidenceReader, ReaderContext } from '../types.js';
import type { ParseProblem } from '../../core/problems.js';
import { CHUNK_SIZE, ChunkTracker, FILE_HEADER_SIZE, parseFileHeader, type ParseOptions } from './parse.js';

export { parseEvtxBuffer, parseEvtxBufferInto, parseChunk, parseFileHeader, crc32, CHUNK_SIZE, FILE_HEADER_SIZE, CarveDedup, ChunkTracker } from './parse.js';
export type { ParseOptions, EvtxFileHeader, ChunkInfo, FileSummary } from './parse.js';
export { evtxEventToXml, evtxEventToJson } from './xml.js';
export { parseEvtxFilesParallel, closeEvtxWorkers } from './parallel.js';
export type { ParallelResult, ParallelOptions } from './parallel.js';

const MAGIC = Buffer.from('ElfFile\0', 'latin1');

/** Collects stream pieces and hands out exact-size blocks. */
class BlockReader {
  private parts: Buffer[] = [];
  private have = 0;
  private done = false;
  private it: AsyncIterator<Buffer>;
  constructor(input: AsyncIterable<Buffer>) {
    this.it = input[Symbol.asyncIterator]();
  }
  /** Next n bytes (fewer only at end of stream; empty buffer at end). */
  async take(n: number): Promise<Buffer> {
    while (this.have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
      if (b.length) {
        this.parts.push(b);
        this.have += b.length;
      }
    }
    const k = Math.min(n, this.have);
    if (k === 0) return Buffer.alloc(0);
    let out: Buffer;
    if (this.parts[0].length >= k) {
      const first = this.parts[0];
      out = first.subarray(0, k);
      if (first.length === k) this.parts.shift();
      else this.parts[0] = first.subarray(k);
    } else {
      out = Buffer.allocUnsafe(k);
      let w = 0;
      while (w < k) {
        const p = this.parts[0];
        const m = Math.min(p.length, k - w);
        p.copy(out, w, 0, m);
        w += m;
        if (m === p.length) this.parts.shift();
        else this.parts[0] = p.subarray(m);
      }
    }
    this.have -= k;
    return out;
  }
}

export const evtxReader: EvidenceReader = {
  format: 'evtx',
  sniff(head: Buffer): boolean {
    return head.length >= 8 && head.compare(MAGIC, 0, 8, 0, 8) === 0;
  },
  async *read(input: AsyncIterable<Buffer>, ctx: ReaderContext): AsyncIterable<SpoorEvent[]> {
    const stats = ctx.stats;
    const sink = (p: ParseProblem) => {
      if (p.severity === 'error') stats.errors++;
      ctx.problem(p);
    };
    const o: ParseOptions = {
      evidenceId: ctx.evidenceId,
      problem: sink,
      xml: ctx.options?.xml === true,
      noCarve: ctx.options?.carve === false,
    };
    const br = new BlockReader(input);
    const head = await br.take(FILE_HEADER_SIZE);
    const header = parseFileHeader(head, o);
    if (head.length < FILE_HEADER_SIZE) {
      sink({ evidence: ctx.evidenceId, offset: head.length, reason: `file truncated inside its header (${head.length} bytes)`, severity: 'error' });
      return;
    }
    const tracker = new ChunkTracker(o, header);
    const count = (evs: EvtxEvent[]) => {
      stats.records += evs.length;
      for (const e of evs) {
        const t = e['@timestamp'];
        if (!Number.isFinite(t)) continue;
        if (stats.first === undefined || t < stats.first) stats.first = t;
        if (stats.last === undefined || t > stats.last) stats.last = t;
      }
    };
    let off = FILE_HEADER_SIZE;
    for (let idx = 0; ; idx++) {
      const chunk = await br.take(CHUNK_SIZE);
      if (chunk.length === 0) break;
      const evs: EvtxEvent[] = [];
      try {
        tracker.chunk(chunk, off, idx, evs);
      } catch (e) {
        // parseChunk does not throw on data; this guards against the unforeseen
        sink({ evidence: ctx.evidenceId, offset: off, reason: `chunk ${idx} skipped: ${(e as Error).message}`, severity: 'error' });
      }
      off += chunk.length;
      if (evs.length) {
        count(evs);
        yield evs;
      }
    }
    // records carved from slack that are not copies of records read, after the live ones
    const kept = tracker.finish();
    if (kept.length) {
      count(kept);
      yield kept;
    }
  },
};

export default evtxReader;
