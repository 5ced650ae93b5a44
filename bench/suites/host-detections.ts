/**
 * Cost of the host detectors: the same EVTX corpus (DeepBlueCLI samples,
 * evtx-attack-samples, hayabusa-sample-evtx) parsed alone vs parsed and fed
 * through all host detectors (one detector set and shared context for the
 * whole corpus, as the pipeline runs one per case), in the same run, in this
 * process.
 *
 * Figures: CPU time (process.cpuUsage, user + system; the machine is shared so
 * CPU, not wall, is compared), MB/s of EVTX per CPU-second, events/s, and the
 * overhead of detection in % of parsing (target ≤ 20 %). Each variant runs
 * `rounds` times (1 quick, 5 full), alternating, and the least CPU is kept.
 * Events reach the detectors through the pipeline's DetectorHub, which routes by
 * dataset and by the event codes a detector declares. Per-detector CPU is measured in a separate pass over the parsed events
 * (each detector alone, its own context; detectors that do not feed the
 * shared state then pay for feeding it, so the per-detector sum exceeds the
 * shared total).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { hostDetectors } from '../../src/detectors/host/index.js';
import { HomeNet } from '../../src/core/homenet.js';
import { DetectorHub } from '../../src/pipeline/detect.js';
import type { SpoorEvent } from '../../src/core/event.js';
import { filesUnder, isEvtxPath } from '../../test/support/files.js';

interface Ctx {
  corpus: string;
  repoRoot: string;
  tmp: string;
  quick: boolean;
}

type Parse = (buf: Buffer, id: string, sink?: (p: unknown) => void) => SpoorEvent[];

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export default {
  name: 'host-detections',
  async run(ctx: Ctx): Promise<string> {
    let parse: Parse;
    try {
      parse = ((await import('../../src/readers/evtx/index.js')) as unknown as { parseEvtxBuffer: Parse }).parseEvtxBuffer;
    } catch (err) {
      return `# host detections\n\nEVTX reader not available: ${String(err)}\n`;
    }
    const files = [...filesUnder(join(ctx.corpus, 'deepbluecli/evtx'), isEvtxPath), ...filesUnder(join(ctx.corpus, 'evtx-attack-samples'), isEvtxPath), ...filesUnder(join(ctx.corpus, 'hayabusa-sample-evtx'), isEvtxPath)];
    if (!files.length) return '# host detections\n\nCorpus not found.\n';
    const bufs = files.map((f) => readFileSync(f));
    const bytes = bufs.reduce((n, b) => n + b.length, 0);
    const rounds = ctx.quick ? 1 : 5;
    const noop = () => undefined;

    const parseOnly = (): { cpu: number; wall: number; events: number } => {
      const c0 = cpuMs();
      const w0 = performance.now();
      let events = 0;
      for (let i = 0; i < bufs.length; i++) {
        try {
          events += parse(bufs[i], files[i], noop).length;
        } catch {
          /* unreadable file: counted by the conformance suite */
        }
      }
      return { cpu: cpuMs() - c0, wall: performance.now() - w0, events };
    };
    const withDetectors = (): { cpu: number; wall: number; events: number; findings: number } => {
      const c0 = cpuMs();
      const w0 = performance.now();
      let events = 0;
      let findings = 0;
      // one detector set for the whole corpus, routed by the pipeline's DetectorHub (datasets and event codes), as investigate() runs one per case
      const hub = new DetectorHub(hostDetectors, { homeNet: new HomeNet(), settings: {} });
      for (let i = 0; i < bufs.length; i++) {
        let evs: SpoorEvent[] = [];
        try {
          evs = parse(bufs[i], files[i], noop);
        } catch {
          continue;
        }
        events += evs.length;
        hub.observe(evs);
      }
      findings += hub.finish().length;
      return { cpu: cpuMs() - c0, wall: performance.now() - w0, events, findings };
    };

    // warm-up (JIT) on a slice, not measured
    for (let i = 0; i < Math.min(20, bufs.length); i++) {
      try {
        const evs = parse(bufs[i], files[i], noop);
        const hub = new DetectorHub(hostDetectors, { homeNet: new HomeNet(), settings: {} });
        hub.observe(evs);
        hub.finish();
      } catch {
        /* ignore */
      }
    }
    let a = { cpu: Infinity, wall: 0, events: 0 };
    let b = { cpu: Infinity, wall: 0, events: 0, findings: 0 };
    for (let r = 0; r < rounds; r++) {
      const x = parseOnly();
      if (x.cpu < a.cpu) a = x;
      const y = withDetectors();
      if (y.cpu < b.cpu) b = y;
    }
    const mb = bytes / 1e6;
    const overhead = ((b.cpu - a.cpu) / a.cpu) * 100;

    // per-detector cost over already parsed events
    const parsed: SpoorEvent[][] = [];
    for (let i = 0; i < bufs.length; i++) {
      try {
        parsed.push(parse(bufs[i], files[i], noop));
      } catch {
        /* skip */
      }
    }
    const per: { id: string; cpu: number }[] = [];
    for (const m of hostDetectors) {
      const c0 = cpuMs();
      const hub = new DetectorHub([m], { homeNet: new HomeNet(), settings: {} });
      for (const evs of parsed) hub.observe(evs);
      hub.finish();
      per.push({ id: m.id, cpu: cpuMs() - c0 });
    }
    per.sort((p, q) => q.cpu - p.cpu);

    const f1 = (n: number) => (Math.round(n * 10) / 10).toFixed(1);
    const lines = [
      '# host detections: cost of detection over EVTX parsing',
      '',
      `Input: ${files.length} EVTX files, ${f1(mb)} MB, ${a.events.toLocaleString('en-US')} events (DeepBlueCLI, evtx-attack-samples, hayabusa-sample-evtx). ${rounds} round(s), least CPU kept. Load average at start ${loadavg()[0].toFixed(2)} on a shared machine: figures are noisy.`,
      '',
      '| variant | CPU ms | wall ms | MB/s per CPU-s | events/s per CPU-s | findings |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      `| parse only | ${Math.round(a.cpu)} | ${Math.round(a.wall)} | ${f1(mb / (a.cpu / 1000))} | ${Math.round(a.events / (a.cpu / 1000)).toLocaleString('en-US')} | – |`,
      `| parse + ${hostDetectors.length} host detectors | ${Math.round(b.cpu)} | ${Math.round(b.wall)} | ${f1(mb / (b.cpu / 1000))} | ${Math.round(b.events / (b.cpu / 1000)).toLocaleString('en-US')} | ${b.findings} |`,
      '',
      `**Detection overhead: ${f1(overhead)} % of parse CPU** (target ≤ 20 %: ${overhead <= 20 ? 'met' : '**not met**'}). Ratio (parse + detect) / parse = ${(b.cpu / a.cpu).toFixed(2)}. Detection costs ${f1(((b.cpu - a.cpu) * 1000) / Math.max(1, b.events))} µs per event.`,
      '',
      'Per detector alone over the parsed events (each also feeds its own shared state, so these overlap):',
      '',
      '| detector | CPU ms |',
      '| --- | ---: |',
      ...per.map((p) => `| ${p.id} | ${Math.round(p.cpu)} |`),
      '',
    ];
    return lines.join('\n');
  },
};
