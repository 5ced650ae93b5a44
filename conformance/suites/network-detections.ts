/**
 * Network detections against the labelled attack captures in
 * community-pcaps/manifest.tsv: for each capture, what spoor's network detectors
 * find, whether that matches the label, and how much time the detectors add to
 * capture analysis alone.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpoorEvent } from '../../src/core/event.js';
import type { Finding } from '../../src/core/finding.js';
import { HomeNet } from '../../src/core/homenet.js';
import type { EvidenceReader } from '../../src/readers/types.js';
import { networkDetectors } from '../../src/detectors/network/index.js';

interface Expect {
  what: string;
  test: (f: Finding) => boolean;
}

/** What a label promises, as a test on findings; undefined = no network detection is promised. */
export function expectationFor(category: string): Expect | undefined {
  const c = category.toLowerCase();
  if (c === 'rdp-bruteforce') return { what: 'net.bruteforce (RDP)', test: (f) => f.detector === 'net.bruteforce' && f.facts?.service === 'rdp' };
  if (c.startsWith('scan')) {
    const tool = c.split('/')[1];
    return { what: `net.scan${tool ? ` (${tool})` : ''}`, test: (f) => f.detector === 'net.scan' };
  }
  if (c.startsWith('smb-lateral-movement')) return { what: 'net.lateral', test: (f) => f.detector === 'net.lateral' };
  if (c === 'stratum-mining' || c === 'mining') return { what: 'net.mining (T1496)', test: (f) => f.detector === 'net.mining' && f.attack.includes('T1496') };
  if (c === 'log4shell') return { what: 'net.web-exploit CVE-2021-44228', test: (f) => f.detector === 'net.web-exploit' && f.facts?.cve === 'CVE-2021-44228' };
  if (c.startsWith('c2') || c === 'malware-c2' || c === 'malware-c2-tls' || c === 'botnet') return { what: 'net.c2', test: (f) => f.detector === 'net.c2' };
  if (c === 'http-exploitation' || c === 'http-sqli' || c === 'http-xss') return { what: 'net.web-exploit', test: (f) => f.detector === 'net.web-exploit' };
  return undefined;
}

export interface CaptureResult {
  findings: Finding[];
  events: number;
  readMs: number;
  detectMs: number;
  problems: number;
  error?: string;
}

/** Read one capture with the project's reader and run every network detector over its records. */
export async function analyzeCapture(path: string, reader: EvidenceReader, homeNet = new HomeNet()): Promise<CaptureResult> {
  const dets = networkDetectors.map((m) => m.create({ homeNet, settings: { [m.id]: { ...m.defaults } } }));
  const routes = new Map<string, typeof dets>();
  for (const d of dets) for (const ds of d.datasets) routes.set(ds, [...(routes.get(ds) ?? []), d]);
  let problems = 0;
  let events = 0;
  let detectMs = 0;
  // CPU time, not wall time: the machine is shared and wall time swings with other load
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const t0 = cpu();
  const ctx = { evidenceId: 'E1', path, homeNet, problem: () => void problems++, stats: { records: 0, errors: 0 } };
  try {
    for await (const batch of reader.read(createReadStream(path), ctx)) {
      const t1 = cpu();
      for (const e of batch as SpoorEvent[]) {
        events++;
        const list = routes.get(e['event.dataset']);
        if (list) for (const d of list) d.observe(e);
      }
      detectMs += cpu() - t1;
    }
    const t2 = cpu();
    const findings = dets.flatMap((d) => d.finish());
    detectMs += cpu() - t2;
    return { findings, events, readMs: cpu() - t0 - detectMs, detectMs, problems };
  } catch (err) {
    return { findings: [], events, readMs: cpu() - t0 - detectMs, detectMs, problems, error: (err as Error).message };
  }
}

export default {
  name: 'network-detections',
  async run(ctx: { corpus: string; repoRoot: string; tmp: string }): Promise<{ figures: Record<string, number>; report: string }> {
    const base = join(ctx.corpus, 'community-pcaps');
    const manifest = join(base, 'manifest.tsv');
    if (!existsSync(manifest)) return { figures: {}, report: `corpus not available: ${manifest}\n` };
    let pcap: { pcapReader: EvidenceReader; pcapngReader: EvidenceReader };
    try {
      pcap = (await import('../../src/readers/pcap/index.js')) as typeof pcap;
    } catch (err) {
      return { figures: {}, report: `capture reader not available: ${(err as Error).message}\n` };
    }
    const rows = readFileSync(manifest, 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t'));
    const lines: string[] = ['| capture | label | expected | found | spoor findings |', '| --- | --- | --- | :---: | --- |'];
    let labelled = 0;
    let found = 0;
    let read = 0;
    let errors = 0;
    let readMs = 0;
    let detectMs = 0;
    let findingsTotal = 0;
    let toolLabelled = 0;
    let toolNamed = 0;
    const perCat: Record<string, { n: number; found: number }> = {};
    for (const [rel, , category] of rows) {
      const path = join(base, rel);
      if (!existsSync(path)) continue;
      const head = readFileSync(path).subarray(0, 4096);
      const reader = pcap.pcapngReader.sniff(head) ? pcap.pcapngReader : pcap.pcapReader;
      const r = await analyzeCapture(path, reader);
      read++;
      if (r.error) errors++;
      readMs += r.readMs;
      detectMs += r.detectMs;
      findingsTotal += r.findings.length;
      const exp = expectationFor(category);
      // scanner captures labelled with a tool spoor fingerprints: was the tool named?
      const labelTool = /^scan\/(masscan|zmap|nmap)/.exec(category)?.[1];
      if (labelTool) {
        toolLabelled++;
        if (r.findings.some((f) => f.detector === 'net.scan' && f.facts?.tool === labelTool)) toolNamed++;
      }
      const ok = exp ? r.findings.some(exp.test) : undefined;
      if (exp) {
        labelled++;
        if (ok) found++;
        const k = category.split('/')[0];
        perCat[k] ??= { n: 0, found: 0 };
        perCat[k].n++;
        if (ok) perCat[k].found++;
      }
      const summary = r.error
        ? `reader error: ${r.error}`
        : r.findings.length
          ? [...new Set(r.findings.map((f) => `${f.detector}${f.facts?.tool ? `/${f.facts.tool}` : ''}${f.facts?.cve ? `/${f.facts.cve}` : ''} ${f.outcome}`))].slice(0, 6).join('; ')
          : `— (${r.events} records)`;
      lines.push(`| ${rel.replace(/\|/g, '\\|')} | ${category} | ${exp?.what ?? '(none promised)'} | ${ok === undefined ? '' : ok ? 'yes' : '**no**'} | ${summary.replace(/\|/g, '\\|')} |`);
    }
    const pct = labelled ? (100 * found) / labelled : 0;
    const overhead = readMs > 0 ? (100 * detectMs) / readMs : 0;
    const figures = {
      captures_read: read,
      reader_errors: errors,
      labelled_captures: labelled,
      labelled_found: found,
      labelled_found_pct: Math.round(pct * 10) / 10,
      findings_total: findingsTotal,
      scan_tool_labelled: toolLabelled,
      scan_tool_named: toolNamed,
      detector_overhead_pct: Math.round(overhead * 10) / 10,
    };
    const cat = Object.entries(perCat)
      .map(([k, v]) => `| ${k} | ${v.found}/${v.n} |`)
      .join('\n');
    const report = [
      `Labelled captures with a promised network detection: ${found}/${labelled} found (${figures.labelled_found_pct}%).`,
      `Scanner captures whose tool spoor fingerprints (masscan, ZMap, nmap): tool named in ${toolNamed}/${toolLabelled}.`,
      `Detectors took ${(detectMs / 1000).toFixed(2)} s CPU on top of ${(readMs / 1000).toFixed(2)} s CPU of capture analysis (${figures.detector_overhead_pct}%, CPU time; includes per-capture start-up on many tiny captures).`,
      '',
      '| category | found |',
      '| --- | --- |',
      cat,
      '',
      ...lines,
      '',
    ].join('\n');
    return { figures, report };
  },
};
