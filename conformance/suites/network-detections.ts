/**
 * Network detections against the labelled attack captures in
 * community-pcaps/manifest.tsv: for each capture, what spoor's network detectors
 * find, whether that matches the label, and how much time the detectors add to
 * capture analysis alone.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
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
  // C2 and tunnels over DNS are C2 channels too
  if (c === 'dns-c2' || c === 'dns-tunnel' || c === 'dns-exfiltration') return { what: 'net.dns-tunnel', test: (f) => f.detector === 'net.dns-tunnel' };
  return undefined;
}

/**
 * Labelled captures whose label promises something the capture does not show, after
 * reading them (packets, nDPI's own expected output). They stay in the table and in
 * `labelled_*`; `supported_*` leaves them out.
 */
export const LABEL_REVIEW: Record<string, string> = {
  'ntop-nDPI/tests/cfgs/default/pcap/bot.pcap':
    'one HTTP GET by the Bingbot web crawler (UA bingbot/2.0) for a JPEG; nDPI itself flags it as "Crawler/Bot", not a botnet: there is no C2 channel in it',
  'ntop-nDPI/tests/cfgs/default/pcap/malware.pcap':
    'ordinary TLS to a Let\'s Encrypt site, the OpenDNS malware-block test page (internetbadguys.com) and one unanswered SYN/ICMP to an address on a blocklist; nDPI finds it only by IP/domain reputation ("Client Contacted A Malware Host"); no behaviour shows C2 without a threat-intel feed',
  'ntop-nDPI/tests/cfgs/default/pcap/dns2tcp_tunnel.pcap':
    'despite the name it holds one TLS session to 1.1.1.1:443 (DNS over HTTPS, 50 packets) and no DNS message; the tunnel, if any, is inside the encryption',
  'ntop-nDPI/tests/cfgs/default/pcap/tls_heur__trojan-tcp-tls.pcapng':
    '"Trojan" is the trojan-gfw censorship-circumvention proxy: TLS-in-TLS via a local SOCKS proxy (127.0.0.1:1080 → 127.0.0.1:1234, SNI test.lan) to YouTube, a test of nDPI\'s TLS-in-TLS heuristic; no malware, no C2',
};

export interface CaptureResult {
  findings: Finding[];
  events: number;
  readMs: number;
  detectMs: number;
  problems: number;
  error?: string;
}

/** Read one capture with the project's reader and run every network detector over its records (none with `readOnly`). */
export async function analyzeCapture(path: string, reader: EvidenceReader, homeNet = new HomeNet(), readOnly = false): Promise<CaptureResult> {
  const dets = readOnly ? [] : networkDetectors.map((m) => m.create({ homeNet, settings: { [m.id]: { ...m.defaults } } }));
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
    let supported = 0;
    let supportedFound = 0;
    const reviewed: string[] = [];
    const perCat: Record<string, { n: number; found: number }> = {};
    const cpuNow = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    // capture analysis alone, over every capture: once to warm the reader up, once measured
    const readPass = async () => {
      const t = cpuNow();
      for (const [rel] of rows) {
        const path = join(base, rel);
        if (!existsSync(path)) continue;
        const head = readFileSync(path).subarray(0, 4096);
        await analyzeCapture(path, pcap.pcapngReader.sniff(head) ? pcap.pcapngReader : pcap.pcapReader, new HomeNet(), true);
      }
      return cpuNow() - t;
    };
    await readPass();
    const readOnlyMs = await readPass();
    const detectPass0 = cpuNow();
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
      const review = LABEL_REVIEW[rel];
      if (exp) {
        labelled++;
        if (ok) found++;
        if (!review) {
          supported++;
          if (ok) supportedFound++;
        } else reviewed.push(`- ${rel} (${category}, ${ok ? 'found anyway' : 'not found'}): ${review}`);
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
      lines.push(`| ${rel.replace(/\|/g, '\\|')} | ${category} | ${exp?.what ?? '(none promised)'}${review && exp ? ' †' : ''} | ${ok === undefined ? '' : ok ? 'yes' : '**no**'} | ${summary.replace(/\|/g, '\\|')} |`);
    }
    const detectPassMs = cpuNow() - detectPass0;
    const pct = labelled ? (100 * found) / labelled : 0;
    const overhead = readMs > 0 ? (100 * detectMs) / readMs : 0;
    const figures = {
      captures_read: read,
      reader_errors: errors,
      labelled_captures: labelled,
      labelled_found: found,
      labelled_found_pct: Math.round(pct * 10) / 10,
      supported_labelled: supported,
      supported_found: supportedFound,
      supported_found_pct: supported ? Math.round((1000 * supportedFound) / supported) / 10 : 0,
      findings_total: findingsTotal,
      scan_tool_labelled: toolLabelled,
      scan_tool_named: toolNamed,
      // whole pass with detectors against a whole (warm-reader) pass without: detector JIT included, no cross-charging
      detector_overhead_pct: Math.round(((1000 * (detectPassMs - readOnlyMs)) / readOnlyMs)) / 10,
      detector_overhead_inprocess_pct: Math.round(overhead * 10) / 10,
    };
    const cat = Object.entries(perCat)
      .map(([k, v]) => `| ${k} | ${v.found}/${v.n} |`)
      .join('\n');
    const report = [
      `Labelled captures with a promised network detection: ${found}/${labelled} found (${figures.labelled_found_pct}%).`,
      `Leaving out ${labelled - supported} capture(s) whose label the capture does not bear out (marked †, reasons below): ${supportedFound}/${supported} found (${figures.supported_found_pct}%).`,
      `Scanner captures whose tool spoor fingerprints (masscan, ZMap, nmap): tool named in ${toolNamed}/${toolLabelled}.`,
      `Detector overhead: the pass over all captures with every network detector took ${(detectPassMs / 1000).toFixed(2)} s CPU, the same pass without detectors ${(readOnlyMs / 1000).toFixed(2)} s (reader warmed by an earlier pass): ${figures.detector_overhead_pct}% (process CPU time, all threads; detector JIT warm-up included; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}).`,
      `In-process split (CPU timed around the detector calls, over the rest): ${(detectMs / 1000).toFixed(2)} s on top of ${(readMs / 1000).toFixed(2)} s (${figures.detector_overhead_inprocess_pct}%; this also charges the detectors for V8 background work that happens while they run, and for per-capture start-up on many tiny captures).`,
      '',
      '| category | found |',
      '| --- | --- |',
      cat,
      '',
      ...lines,
      '',
      '† Labels reviewed against the packets and nDPI\'s expected output:',
      '',
      ...reviewed,
      '',
    ].join('\n');
    return { figures, report };
  },
};
