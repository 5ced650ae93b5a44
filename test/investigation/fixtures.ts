/**
 * Findings shaped like the two seed cases, built here (no files copied).
 * Detector ids and facts follow the shapes the host and network detectors
 * publish; only attack ids, outcome, src/dst/host and a few documented facts
 * matter to the investigation.
 */
import type { EvidenceRef } from '../../src/core/event.js';
import type { Finding, FindingOutcome, Severity } from '../../src/core/finding.js';

let seq = 0;
export function finding(p: {
  detector: string;
  attack: string[];
  severity: Severity;
  outcome: FindingOutcome;
  first: string;
  last?: string;
  src?: string;
  dst?: string;
  host?: string;
  user?: string;
  confidence?: number;
  facts?: Record<string, unknown>;
  evidence?: EvidenceRef[];
}): Finding {
  const first = Date.parse(p.first);
  const last = p.last ? Date.parse(p.last) : first;
  const id = `${p.detector}-${++seq}`;
  return {
    id,
    detector: p.detector,
    attack: p.attack,
    severity: p.severity,
    outcome: p.outcome,
    confidence: p.confidence ?? 0.9,
    first,
    last,
    src: p.src,
    dst: p.dst,
    host: p.host,
    user: p.user,
    summary: { en: `${p.detector} ${p.src ?? ''}→${p.dst ?? p.host ?? ''}`, zh: `${p.detector}` },
    evidence: p.evidence ?? [{ evidence: p.detector.startsWith('host.') ? 'E1' : 'E2', record: seq, frame: seq }],
    facts: p.facts,
  };
}

export const C1 = {
  attacker: '198.51.100.23',
  server: '80.66.2.5',
  name: 'WIN-APPSRV',
  success: '2024-06-03T19:35:40.000Z',
  homeNets: ['80.66.0.0/16', '10.0.0.0/8', '192.168.0.0/16'],
};

/** Case 1: RDP brute force of a Windows server from the internet, password change, tools, outbound masscan. */
export function case1(opts: { netBrute?: boolean } = {}): Finding[] {
  const A = C1.attacker;
  const H = C1.name;
  const out: Finding[] = [
    finding({ detector: 'host.bruteforce', attack: ['T1110.001'], severity: 'medium', outcome: 'failed', first: '2024-06-03T19:00:02Z', last: '2024-06-03T19:35:31Z', src: A, host: H, user: 'Administrator', facts: { failures: 4213, logon_type: 3 } }),
    finding({ detector: 'host.bruteforce_success', attack: ['T1110.001'], severity: 'high', outcome: 'compromised', first: '2024-06-03T19:00:02Z', last: C1.success, src: A, host: H, user: 'Administrator', facts: { logon_type: 10, source_ip: A, logon_id: '0x3e7a12', success_time: C1.success } }),
    finding({ detector: 'host.account_manipulation', attack: ['T1098'], severity: 'high', outcome: 'succeeded', first: '2024-06-03T19:36:12Z', host: H, user: 'Administrator', facts: { logon_id: '0x3e7a12', source_ip: A, event: 4724 } }),
    finding({ detector: 'host.defender', attack: ['T1496'], severity: 'high', outcome: 'succeeded', first: '2024-06-03T20:12:00Z', host: H, facts: { path: 'C:\\Users\\Administrator\\Downloads\\syste64.exe', threat: 'Trojan:Win64/CoinMiner' } }),
    finding({ detector: 'host.defender', attack: [], severity: 'high', outcome: 'succeeded', first: '2024-06-03T20:12:05Z', host: H, facts: { path: 'C:\\Users\\Administrator\\Downloads\\host.exe', threat: 'TrojanDownloader:Win32/Agent' } }),
    finding({ detector: 'host.hacktool', attack: ['T1059'], severity: 'high', outcome: 'succeeded', first: '2024-06-03T20:13:00Z', host: H, facts: { image: 'C:\\Users\\Administrator\\Downloads\\mz64.exe' } }),
    finding({ detector: 'host.unusual_logon', attack: ['T1078'], severity: 'high', outcome: 'succeeded', first: '2024-07-01T20:05:00Z', src: A, host: H, user: 'Administrator', facts: { logon_type: 10 } }),
    finding({ detector: 'host.hacktool', attack: ['T1046'], severity: 'high', outcome: 'succeeded', first: '2024-07-01T20:20:00Z', host: H, facts: { image: 'C:\\Users\\Administrator\\Downloads\\masscan.exe' } }),
    finding({ detector: 'net.scan', attack: ['T1046'], severity: 'high', outcome: 'attempt', first: '2024-07-01T20:21:00Z', last: '2024-07-03T23:00:00Z', src: C1.server, facts: { direction: 'outbound', tool: 'masscan', targets_count: 120000 } }),
  ];
  if (opts.netBrute) {
    out.push(finding({ detector: 'net.bruteforce', attack: ['T1110.001'], severity: 'medium', outcome: 'attempt', first: '2024-06-03T19:00:01Z', last: '2024-06-03T19:35:40Z', src: A, dst: C1.server, facts: { port: 3389, attempts: 4214 } }));
  }
  return out;
}

export const C2 = {
  scanner: '10.20.30.3',
  web: '80.66.1.15',
  second: '80.66.1.5',
  c2: '203.0.113.156',
  exploit: '2024-03-11T02:14:09.000Z',
  lateral: '2024-03-11T03:40:12.000Z',
  homeNets: ['80.66.0.0/16', '10.0.0.0/8', '192.168.0.0/16'],
};

/** Case 2: internal scanner → Spring4Shell → web shell → C2 → SMB sweep → NTLM success → second beacon. */
export function case2(opts: { secondBeacons?: boolean } = {}): Finding[] {
  const { scanner: S, web: W, second: V, c2: C } = C2;
  const targets = Array.from({ length: 254 }, (_, i) => `80.66.1.${i + 1}`).filter((x) => x !== W);
  const out: Finding[] = [
    finding({ detector: 'net.scan', attack: ['T1046'], severity: 'medium', outcome: 'attempt', first: '2024-03-11T02:01:00Z', last: '2024-03-11T02:09:00Z', src: S, dst: W, facts: { direction: 'internal', ports: 1000 } }),
    finding({ detector: 'net.web_exploit', attack: ['T1190'], severity: 'critical', outcome: 'succeeded', first: C2.exploit, last: '2024-03-11T02:14:12Z', src: S, dst: W, facts: { cve: 'CVE-2022-22965', written_file: 'tomcatwar.jsp', uri: '/app/index' } }),
    finding({ detector: 'net.webshell', attack: ['T1505.003'], severity: 'high', outcome: 'succeeded', first: '2024-03-11T02:15:00Z', last: '2024-03-11T02:30:00Z', src: S, dst: W, facts: { uri: '/tomcatwar.jsp?pwd=j&cmd=whoami', file: 'tomcatwar.jsp' } }),
    finding({ detector: 'net.beacon', attack: ['T1071.001'], severity: 'high', outcome: 'succeeded', first: '2024-03-11T02:31:00Z', last: '2024-03-11T09:00:00Z', src: W, dst: C, facts: { score: 0.93, interval_s: 60 } }),
    finding({ detector: 'net.smb_sweep', attack: ['T1021.002'], severity: 'medium', outcome: 'attempt', first: '2024-03-11T03:20:00Z', last: '2024-03-11T03:39:00Z', src: W, facts: { targets, port: 445 } }),
    finding({ detector: 'net.ntlm_success', attack: ['T1021.002'], severity: 'high', outcome: 'succeeded', first: C2.lateral, src: W, dst: V, user: 'admin', facts: { port: 445 } }),
  ];
  if (opts.secondBeacons !== false) {
    out.push(finding({ detector: 'net.beacon', attack: ['T1071.001'], severity: 'high', outcome: 'succeeded', first: '2024-03-11T03:45:00Z', last: '2024-03-11T09:00:00Z', src: V, dst: C, facts: { score: 0.88 } }));
  }
  return out;
}

/** Benign background findings near both cases (they must not become attackers or compromised). */
export function benign(): Finding[] {
  return [
    // An administrator mistypes a password twice on the case-1 server.
    finding({ detector: 'host.bruteforce', attack: ['T1110.001'], severity: 'low', outcome: 'failed', first: '2024-06-05T01:00:00Z', src: '80.66.2.40', host: C1.name, user: 'jsmith', facts: { failures: 2 } }),
    // The same administrator logs on at night (unusual but legitimate).
    finding({ detector: 'host.unusual_logon', attack: ['T1078'], severity: 'medium', outcome: 'succeeded', first: '2024-06-05T18:30:00Z', src: '80.66.2.40', host: C1.name, user: 'jsmith' }),
    // A monitoring system polling a server every minute, scored low.
    finding({ detector: 'net.beacon', attack: ['T1071'], severity: 'low', outcome: 'attempt', confidence: 0.3, first: '2024-03-11T00:00:00Z', last: '2024-03-11T12:00:00Z', src: '80.66.1.50', dst: '80.66.1.60', facts: { score: 0.6 } }),
    // An internet scanner probing the web server at the same time as the case-2 attack.
    finding({ detector: 'net.scan', attack: ['T1595'], severity: 'medium', outcome: 'attempt', first: '2024-03-11T02:05:00Z', src: '198.51.100.99', dst: C2.web, facts: { direction: 'inbound' } }),
    // A lone low-severity finding elsewhere.
    finding({ detector: 'host.bruteforce', attack: ['T1110.001'], severity: 'low', outcome: 'failed', first: '2024-04-01T09:00:00Z', src: '10.1.1.9', host: 'FILESRV', user: 'backup', facts: { failures: 3 } }),
  ];
}
