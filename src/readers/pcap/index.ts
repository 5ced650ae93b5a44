/**
 * pcap / pcapng evidence readers. Both stream the capture through the
 * NetworkEngine (decode → flows → analyzers) and yield conn records and
 * protocol records (docs/EVENTS.md) in batches. Damage is reported through
 * ctx.problem with its byte offset; reading goes on where the format allows.
 *
 * ctx.options (all optional): maxFlows, maxReasmPerFlow, maxReasmTotal,
 * probeBytes, tcpInactivity, udpInactivity, icmpInactivity, maxFragDatagrams,
 * maxFragBytes, analyzers (false = conn records only).
 */
import type { SpoorEvent } from '../../core/event.js';
import type { EvidenceReader, ReaderContext } from '../types.js';
import { analyzers as registry } from '../../network/analyzers/index.js';
import { NetworkEngine } from '../../network/engine.js';
import { sniffCapture } from './capture.js';

export { sniffCapture, CaptureParser } from './capture.js';

const BATCH = 2048;
const SLICE = 128 << 10;

async function* readCapture(input: AsyncIterable<Buffer>, ctx: ReaderContext): AsyncIterable<SpoorEvent[]> {
  const eng = new NetworkEngine({
    evidence: ctx.evidenceId,
    homeNet: ctx.homeNet,
    analyzers: ctx.options?.analyzers === false ? [] : registry,
    problem: ctx.problem,
    options: ctx.options,
  });
  const stats = ctx.stats;
  const update = () => {
    const s = eng.summary();
    stats.records = s.frames;
    stats.errors = s.errors;
    if (s.first !== undefined) stats.first = stats.first === undefined ? s.first : Math.min(stats.first, s.first);
    if (s.last !== undefined) stats.last = stats.last === undefined ? s.last : Math.max(stats.last, s.last);
  };
  for await (const chunk of input) {
    // large input chunks are fed in slices so a batch is handed on while its
    // records are young (a 1 MiB slice of a scan is ~15 000 records)
    for (let o = 0; o < chunk.length; o += SLICE) {
      eng.push(o === 0 && chunk.length <= SLICE ? chunk : chunk.subarray(o, Math.min(chunk.length, o + SLICE)));
      if (eng.out.length >= BATCH) {
        update();
        yield eng.drain();
      }
    }
  }
  // connections still open at the end: ended and yielded in batches, not all at once
  while (!eng.endSome(BATCH)) {
    update();
    yield eng.drain();
  }
  update();
  const rest = eng.drain();
  if (rest.length) yield rest;
}

export const pcapReader: EvidenceReader = {
  format: 'pcap',
  sniff: (head: Buffer) => sniffCapture(head) === 'pcap',
  read: readCapture,
};

export const pcapngReader: EvidenceReader = {
  format: 'pcapng',
  sniff: (head: Buffer) => sniffCapture(head) === 'pcapng',
  read: readCapture,
};
