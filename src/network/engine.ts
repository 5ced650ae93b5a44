/**
 * NetworkEngine: capture bytes in, SpoorEvents out. Glues the streaming
 * capture parser, the packet decoder and the flow engine (with the analyzer
 * registry). One engine per capture file; several files can be processed in
 * parallel with src/network/parallel.ts.
 */
import type { SpoorEvent } from '../core/event.js';
import type { HomeNet } from '../core/homenet.js';
import type { ProblemSink } from '../core/problems.js';
import { CaptureParser, type PacketSink } from '../readers/pcap/capture.js';
import type { AnalyzerFactory } from './analyzer.js';
import { DEC_OK, PacketDecoder } from './decode.js';
import { FlowEngine, type FlowOptions } from './flows.js';

export interface EngineOptions {
  evidence: string;
  homeNet?: HomeNet;
  /** Analyzer registry; default: none (conn records only). Pass `analyzers` from src/network/analyzers/index.js for all. */
  analyzers?: AnalyzerFactory[];
  problem?: ProblemSink;
  /** Caps and timeouts (see FlowOptions); unknown keys ignored. */
  options?: Record<string, unknown>;
  /** Keep conn records only when true (skips analyzers' events too when analyzers is empty). */
}

export interface EngineSummary {
  frames: number;
  packets: number;
  flows: number;
  evicted: number;
  skipped: number;
  fragments: number;
  first?: number;
  last?: number;
  errors: number;
  format: string | null;
}

function num(o: Record<string, unknown> | undefined, k: string): number | undefined {
  const v = o?.[k];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

export class NetworkEngine implements PacketSink {
  readonly parser: CaptureParser;
  readonly decoder: PacketDecoder;
  readonly flows: FlowEngine;
  out: SpoorEvent[] = [];
  private skipped = 0;
  private frags = 0;
  private first = Infinity;
  private last = -Infinity;
  private errors = 0;
  private lastTs = 0;

  constructor(private opts: EngineOptions) {
    const o = opts.options;
    this.parser = new CaptureParser(this);
    this.decoder = new PacketDecoder({
      maxFragDatagrams: num(o, 'maxFragDatagrams'),
      maxFragBytes: num(o, 'maxFragBytes'),
    });
    const fo: FlowOptions = {
      evidence: opts.evidence,
      homeNet: opts.homeNet,
      analyzers: opts.analyzers ?? [],
      emit: (e) => this.out.push(e),
      maxFlows: num(o, 'maxFlows'),
      maxReasmPerFlow: num(o, 'maxReasmPerFlow'),
      maxReasmTotal: num(o, 'maxReasmTotal'),
      probeBytes: num(o, 'probeBytes'),
      tcpInactivity: num(o, 'tcpInactivity'),
      udpInactivity: num(o, 'udpInactivity'),
      icmpInactivity: num(o, 'icmpInactivity'),
    };
    this.flows = new FlowEngine(fo);
  }

  onPacket(frame: number, linkType: number, buf: Buffer, off: number, capLen: number, _wireLen: number, ts: number): void {
    if (ts === 0) ts = this.lastTs; // simple packet blocks carry no time
    this.lastTs = ts;
    if (ts < this.first) this.first = ts;
    if (ts > this.last) this.last = ts;
    const r = this.decoder.decode(linkType, buf, off, capLen, ts);
    if (r === DEC_OK) this.flows.packet(this.decoder.pkt, frame, ts);
    else if (r === 2) this.frags++;
    else this.skipped++;
  }

  onProblem(offset: number, reason: string, severity: 'warning' | 'error'): void {
    if (severity === 'error') this.errors++;
    this.opts.problem?.({ evidence: this.opts.evidence, offset, reason, severity, record: this.parser.frames || undefined });
  }

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  end(): void {
    this.endSome(Infinity);
  }

  /**
   * End of input in steps, so the records of the connections still open at
   * the end of a capture can be drained in batches (bounded memory): the
   * first call finishes parsing; each call ends at most `max` connections.
   * Returns true when every connection has been ended.
   */
  endSome(max = 4096): boolean {
    if (!this.parserEnded) {
      this.parser.end();
      this.parserEnded = true;
    }
    return this.flows.flushSome(max);
  }

  private parserEnded = false;

  /** Take the events produced so far. */
  drain(): SpoorEvent[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  summary(): EngineSummary {
    return {
      frames: this.parser.frames,
      packets: this.flows.stats.packets,
      flows: this.flows.stats.flows,
      evicted: this.flows.stats.evicted,
      skipped: this.skipped,
      fragments: this.frags,
      first: Number.isFinite(this.first) ? this.first * 1000 : undefined,
      last: Number.isFinite(this.last) ? this.last * 1000 : undefined,
      errors: this.errors,
      format: this.parser.format,
    };
  }
}

/** Convenience: run a whole buffer or file stream through an engine and collect all events. */
export async function analyzeCapture(input: AsyncIterable<Buffer> | Buffer, opts: EngineOptions): Promise<{ events: SpoorEvent[]; summary: EngineSummary }> {
  const eng = new NetworkEngine(opts);
  const events: SpoorEvent[] = [];
  if (Buffer.isBuffer(input)) eng.push(input);
  else
    for await (const c of input) {
      eng.push(c);
      for (const e of eng.drain()) events.push(e);
    }
  eng.end();
  for (const e of eng.drain()) events.push(e);
  return { events, summary: eng.summary() };
}
