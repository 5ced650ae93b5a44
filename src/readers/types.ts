/**
 * Evidence readers: one per format, recognised by content.
 *
 * A reader is given the decompressed byte stream of one evidence file and yields
 * batches of normalized events. It never throws on bad input: it reports each
 * problem through ctx.problem (file offset + reason) and goes on where the
 * format allows. It counts what it read in ctx.stats.
 */
import type { SpoorEvent } from '../core/event.js';
import type { HomeNet } from '../core/homenet.js';
import type { ProblemSink } from '../core/problems.js';

export interface ReaderStats {
  /** Records (EVTX records, capture frames, log lines) read. */
  records: number;
  /** Problems reported with severity `error`: counted by whoever owns the problem sink (the pipeline), not by the reader. */
  errors: number;
  /** Earliest and latest event time seen, ms since epoch. */
  first?: number;
  last?: number;
}

export interface ReaderContext {
  evidenceId: string;
  /** Path as given by the user (for messages only; the stream is already open). */
  path: string;
  homeNet: HomeNet;
  problem: ProblemSink;
  stats: ReaderStats;
  /** Per-reader options from the config (memory caps etc.). */
  options?: Record<string, unknown>;
}

export interface EvidenceReader {
  /** Format name recorded in the chain of custody: `evtx`, `pcap`, `pcapng`, ... */
  readonly format: string;
  /**
   * Does this content look like this format? `head` is the first bytes of the
   * decompressed file (up to 4096 bytes, possibly fewer for tiny files).
   */
  sniff(head: Buffer): boolean;
  /** Read the whole stream, yielding event batches (order: file order). */
  read(input: AsyncIterable<Buffer>, ctx: ReaderContext): AsyncIterable<SpoorEvent[]>;
}
