/**
 * Network detections: how much CPU all network detectors add to capture analysis
 * alone (issue 6 target: at most 20 %).
 *
 * For each capture, a child process reads it with spoor's pcap reader (every protocol
 * analyzer, as the pipeline does) either alone ("read") or with every network
 * detector fed the records ("read + detect"), alternating, `reps` times each. The
 * child reports its own CPU time (user + system, all threads: start-up, JIT, GC and
 * reading included), and the overhead is the difference of the medians over the
 * median of "read". A separate process per run keeps one run's JIT and GC out of the
 * other's figure; measuring inside one process (timing the observe calls) would also
 * charge the detectors for V8's background compilation of the reader.
 *
 * Inputs: the project's simulated case 2 capture (attack + office background), the
 * benign office capture, and the corpus captures concatenated (bench/suites/network.ts's
 * buildMixed, read-only import).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ChildOut {
  cpuMs: number;
  detectMs: number;
  events: number;
  findings: number;
  byDetector?: Record<string, number>;
}

function childScript(repoRoot: string): string {
  const u = (p: string) => JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'src', p)).href);
  return `import { createReadStream, readFileSync } from 'node:fs';
const { HomeNet } = await import(${u('core/homenet.js')});
const pcap = await import(${u('readers/pcap/index.js')});
const [file, mode, nets] = process.argv.slice(2);
const homeNet = new HomeNet(nets ? nets.split(',') : undefined);
const head = readFileSync(file).subarray(0, 4096);
const reader = pcap.pcapngReader.sniff(head) ? pcap.pcapngReader : pcap.pcapReader;
let dets = [];
const routes = new Map();
if (mode === 'detect') {
  const { networkDetectors } = await import(${u('detectors/network/index.js')});
  dets = networkDetectors.map((m) => m.create({ homeNet, settings: { [m.id]: { ...m.defaults } } }));
  for (const d of dets) for (const ds of d.datasets) routes.set(ds, [...(routes.get(ds) ?? []), d]);
}
const cpu = () => { const x = process.cpuUsage(); return (x.user + x.system) / 1000; };
let events = 0, detectMs = 0;
const ctx = { evidenceId: 'E1', path: file, homeNet, problem: () => {}, stats: { records: 0, errors: 0 } };
for await (const batch of reader.read(createReadStream(file), ctx)) {
  const t = dets.length ? cpu() : 0;
  for (const e of batch) { events++; const l = routes.get(e['event.dataset']); if (l) for (const d of l) d.observe(e); }
  if (dets.length) detectMs += cpu() - t;
}
const t = cpu();
const findings = dets.flatMap((d) => d.finish()).length;
detectMs += cpu() - t;
console.log(JSON.stringify({ cpuMs: cpu(), detectMs, events, findings }));
`;
}

function runChild(script: string, file: string, mode: 'read' | 'detect', nets: string): ChildOut | undefined {
  const r = spawnSync(process.execPath, [script, file, mode, nets], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) return undefined;
  return JSON.parse(line) as ChildOut;
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

export interface OverheadRow {
  name: string;
  mib: number;
  events: number;
  findings: number;
  readMs: number;
  detectRunMs: number;
  overheadPct: number;
  inProcessPct: number;
}

/** Measure one capture: `reps` alternating child runs of each mode. */
export function measureOverhead(repoRoot: string, tmp: string, name: string, file: string, nets: string, reps: number): OverheadRow | undefined {
  const script = join(tmp, 'netdet-child.mjs');
  if (!existsSync(script)) writeFileSync(script, childScript(repoRoot));
  const read: number[] = [];
  const det: number[] = [];
  const inproc: number[] = [];
  let last: ChildOut | undefined;
  for (let i = 0; i < reps; i++) {
    const a = runChild(script, file, 'read', nets);
    const b = runChild(script, file, 'detect', nets);
    if (!a || !b) return undefined;
    read.push(a.cpuMs);
    det.push(b.cpuMs);
    inproc.push(b.detectMs / Math.max(1, b.cpuMs - b.detectMs));
    last = b;
  }
  const r = median(read);
  const d = median(det);
  return {
    name,
    mib: statSync(file).size / 2 ** 20,
    events: last!.events,
    findings: last!.findings,
    readMs: r,
    detectRunMs: d,
    overheadPct: (100 * (d - r)) / r,
    inProcessPct: 100 * median(inproc),
  };
}

export default {
  name: 'network-detections',
  async run(ctx: { corpus: string; repoRoot: string; tmp: string; quick: boolean }): Promise<string> {
    const reps = ctx.quick ? 3 : 5;
    const inputs: { name: string; file: string; nets: string }[] = [];
    try {
      const { runScenario } = (await import(pathToFileURL(join(ctx.repoRoot, 'dist', 'src', 'simulate', 'index.js')).href)) as {
        runScenario: (n: string, out: string, o: Record<string, unknown>) => Promise<{ truth: { home_nets: string[] } }>;
      };
      for (const [label, scen] of [
        ['simulated case 2 (attack + office background)', 'case2-spring-webshell-c2-lateral'],
        ['simulated benign office (1 day)', 'benign-office'],
      ]) {
        const out = join(ctx.tmp, `netdet-${scen}`);
        const { truth } = await runScenario(scen, out, { seed: 1, scale: 1 });
        const cap = readdirSync(out, { recursive: true }).map(String).find((f) => /\.pcap(ng)?$/.test(f));
        if (cap) inputs.push({ name: label, file: join(out, cap), nets: truth.home_nets.join(',') });
      }
    } catch (err) {
      inputs.push({ name: `simulator unavailable: ${(err as Error).message}`, file: '', nets: '' });
    }
    try {
      const { buildMixed } = (await import(pathToFileURL(join(ctx.repoRoot, 'dist', 'bench', 'suites', 'network.js')).href)) as {
        buildMixed: (corpus: string, target: number, out: string) => { bytes: number; packets: number };
      };
      const mixed = join(ctx.tmp, 'netdet-mixed.pcap');
      buildMixed(ctx.corpus, ctx.quick ? 48 << 20 : 256 << 20, mixed);
      inputs.push({ name: 'corpus captures concatenated (mixed)', file: mixed, nets: '' });
    } catch (err) {
      inputs.push({ name: `mixed capture unavailable: ${(err as Error).message}`, file: '', nets: '' });
    }
    const rows: OverheadRow[] = [];
    const lines = [
      '| capture | MiB | records | findings | read CPU s | read + detect CPU s | overhead | (in-process split) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const i of inputs) {
      const r = i.file ? measureOverhead(ctx.repoRoot, ctx.tmp, i.name, i.file, i.nets, reps) : undefined;
      if (!r) {
        lines.push(`| ${i.name} | | | | | | not measured | |`);
        continue;
      }
      rows.push(r);
      lines.push(
        `| ${r.name} | ${r.mib.toFixed(1)} | ${r.events} | ${r.findings} | ${(r.readMs / 1000).toFixed(2)} | ${(r.detectRunMs / 1000).toFixed(2)} | **${r.overheadPct.toFixed(1)} %** | ${r.inProcessPct.toFixed(1)} % |`,
      );
    }
    const worst = rows.length ? Math.max(...rows.map((r) => r.overheadPct)) : NaN;
    return [
      `Each figure is the median of ${reps} child processes per mode, run alternately: **read** = spoor's pcap reader with every protocol analyzer (capture analysis alone); **read + detect** = the same with all ${'network'} detectors fed every record. CPU = user + system of the child, all threads, start-up included. The overhead is (read + detect − read) / read. The in-process split (CPU timed around the detectors' observe/finish calls, over the rest) is listed for comparison; it also charges the detectors for V8's background work that happens while they run.`,
      '',
      ...lines,
      '',
      `Worst overhead: ${Number.isFinite(worst) ? worst.toFixed(1) : '–'} % (target ≤ 20 %).`,
      '',
    ].join('\n');
  },
};
