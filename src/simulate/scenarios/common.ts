/**
 * Shared pieces of the scenarios: the truth file shape, a job timeline that keeps every
 * writer in time order while streaming, and Windows event builders with the field
 * layouts Windows Server 2008 R2 writes.
 */
import { TimeHeap } from '../heap.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvtxWriter, type EvtxEvent, type EvtxValue } from '../evtx-writer.js';
import { NetSim, type CaptureFormat } from '../pcap-writer.js';
import { Rng } from '../rng.js';

export interface TruthStep { time: string; src: string | null; dst: string | null; host: string | null; attack_id: string; what: string }
export interface TruthEvidence {
  file: string;
  format: 'evtx' | 'pcap' | 'pcapng' | 'access-log';
  records?: number;
  packets?: number;
  tcp_conversations?: number;
  udp_conversations?: number;
}
export interface Truth {
  scenario: string;
  seed: number;
  scale: number;
  timezone: string;
  home_nets: string[];
  attackers: string[];
  compromised: { ip: string; host: string; technique: string; since: string }[];
  c2: string[];
  entry: { host: string; technique: string; time: string; from: string } | null;
  steps: TruthStep[];
  benign_periodic: { src: string; dst: string; port: number }[];
  /** files written and what they contain (for the conformance checks) */
  evidence: TruthEvidence[];
}

export interface SimulateOptions {
  seed?: number;
  /** multiplies background activity (default 1) */
  scale?: number;
  /** pcap (default) or pcapng */
  format?: CaptureFormat;
  /** include benign background in the attack scenarios (default true) */
  background?: boolean;
  /** scenario parameters (addresses, names, times); see each scenario's defaults */
  params?: Record<string, unknown>;
}

export interface ScenarioResult { outDir: string; truth: Truth; truthPath: string }

export interface Scenario {
  name: string;
  description: string;
  run(outDir: string, opts: SimulateOptions): Promise<ScenarioResult>;
}

export const iso = (ms: number) => new Date(Math.round(ms)).toISOString();

/** Parse "2024-06-04T03:36:00" in a fixed offset zone ("+08:00") to ms UTC. */
export function localTime(s: string, tz: string): number {
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(s) ? s : s + tz);
  if (Number.isNaN(ms)) throw new Error(`bad time: ${s}`);
  return ms;
}

/** Merge defaults with user parameters (shallow). */
export function params<T extends object>(defaults: T, given?: Record<string, unknown>): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(given ?? {})) if (v !== undefined && k in out) out[k] = v;
  return out as T;
}

// ---------------------------------------------------------------- timeline

/** Jobs run in time order; writers are flushed as time advances (bounded memory). */
export class Timeline {
  private readonly heap = new TimeHeap<() => void>();
  now = -Infinity;
  constructor(private onAdvance: (t: number) => void = () => {}) {}
  at(t: number, fn: () => void) {
    this.heap.push(t, fn);
  }
  run() {
    let sinceFlush = 0;
    for (let j = this.heap.pop(); j; j = this.heap.pop()) {
      this.now = j.t;
      j.v();
      if (++sinceFlush >= 256) { this.onAdvance(j.t); sinceFlush = 0; }
    }
  }
}

// ---------------------------------------------------------------- evidence set

/** Output folder with its writers; collects the evidence list for truth.json. */
export class EvidenceSet {
  private evtx = new Map<string, EvtxWriter>();
  private nets = new Map<string, NetSim>();
  constructor(readonly outDir: string, readonly rng: Rng, readonly format: CaptureFormat = 'pcap') {
    mkdirSync(outDir, { recursive: true });
  }
  log(file: string): EvtxWriter {
    let w = this.evtx.get(file);
    if (!w) { w = new EvtxWriter(join(this.outDir, file)); this.evtx.set(file, w); }
    return w;
  }
  capture(base: string, localNets: string[]): NetSim {
    const file = `${base}.${this.format}`;
    let n = this.nets.get(file);
    if (!n) { n = new NetSim(join(this.outDir, file), this.rng.fork(file), this.format, { localNets }); this.nets.set(file, n); }
    return n;
  }
  advance(t: number) { for (const n of this.nets.values()) n.advance(t); }
  close(): TruthEvidence[] {
    const ev: TruthEvidence[] = [];
    for (const [file, w] of this.evtx) { const s = w.close(); ev.push({ file, format: 'evtx', records: s.records }); }
    for (const [file, n] of this.nets) {
      n.close();
      ev.push({ file, format: this.format, packets: n.stats.packets, tcp_conversations: n.stats.tcpConversations, udp_conversations: n.stats.udpConversations });
    }
    return ev;
  }
}

export function writeTruth(outDir: string, truth: Truth): string {
  const p = join(outDir, 'truth.json');
  writeFileSync(p, JSON.stringify(truth, null, 2) + '\n');
  return p;
}

// ---------------------------------------------------------------- Windows events

export const SECURITY = { name: 'Microsoft-Windows-Security-Auditing', guid: '54849625-5478-4994-A5BA-3E3B0328C30D' };
export const SCM = { name: 'Service Control Manager', guid: '555908d1-a6d7-4695-8e1e-26931d2012f4', eventSourceName: 'Service Control Manager' };
export const DEFENDER = { name: 'Microsoft-Windows-Windows Defender', guid: '11CD958A-C507-4EF3-B3F2-5FD9DFBD2C78' };
export const LSM = { name: 'Microsoft-Windows-TerminalServices-LocalSessionManager', guid: '5D896912-022D-40AA-A3A8-4FA5515C76D7' };

export const hex64 = (v: number | bigint): EvtxValue => ({ type: 'hex64', value: BigInt(v) });
export const hex32 = (v: number): EvtxValue => ({ type: 'hex32', value: v });
export const sid = (s: string): EvtxValue => ({ type: 'sid', value: s });

export interface HostCtx { computer: string; domain: string; machineSid: string; lsassPid: number }

export function security(h: HostCtx, time: number, eventId: number, task: number, data: Record<string, EvtxValue>, failure = false, version = 0): EvtxEvent {
  return {
    time, eventId, version, provider: SECURITY, channel: 'Security', computer: h.computer, level: 0, task, opcode: 0,
    keywords: failure ? '0x8010000000000000' : '0x8020000000000000', pid: h.lsassPid, tid: 0, data,
  };
}

export interface LogonInfo { user: string; userSid: string; domain: string; logonId: bigint; type: number; ip: string; port: number; workstation: string; process?: string; pkg?: string }

export function ev4624(h: HostCtx, t: number, l: LogonInfo, rng: Rng): EvtxEvent {
  const net = l.type === 3 || l.type === 10;
  const guid = rng.bytes(16).toString('hex');
  return security(h, t, 4624, 12544, {
    SubjectUserSid: sid(l.type === 3 ? 'S-1-0-0' : 'S-1-5-18'), SubjectUserName: l.type === 3 ? '-' : h.computer + '$',
    SubjectDomainName: l.type === 3 ? '-' : h.domain, SubjectLogonId: hex64(l.type === 3 ? 0 : 0x3e7),
    TargetUserSid: sid(l.userSid), TargetUserName: l.user, TargetDomainName: l.domain, TargetLogonId: hex64(l.logonId),
    LogonType: l.type, LogonProcessName: l.process ?? (l.type === 3 ? 'NtLmSsp ' : 'User32 '),
    AuthenticationPackageName: l.pkg ?? (l.type === 3 ? 'NTLM' : 'Negotiate'),
    WorkstationName: l.workstation, LogonGuid: { type: 'guid', value: l.pkg === 'Kerberos' ? guid : '00000000000000000000000000000000' },
    TransmittedServices: '-', LmPackageName: l.type === 3 ? 'NTLM V2' : '-', KeyLength: l.type === 3 ? 128 : 0,
    ProcessId: hex64(l.type === 3 ? 0 : 0x1f4 + (Number(l.logonId) % 7) * 4), ProcessName: l.type === 3 ? '-' : 'C:\\Windows\\System32\\winlogon.exe',
    IpAddress: net ? l.ip : '-', IpPort: net ? String(l.port) : '-',
  });
}

export function ev4625(h: HostCtx, t: number, p: { user: string; domain: string; type: number; ip: string; port: number; workstation: string; subStatus: number }): EvtxEvent {
  return security(h, t, 4625, 12544, {
    SubjectUserSid: sid(p.type === 3 ? 'S-1-0-0' : 'S-1-5-18'), SubjectUserName: p.type === 3 ? '-' : h.computer + '$',
    SubjectDomainName: p.type === 3 ? '-' : h.domain, SubjectLogonId: hex64(p.type === 3 ? 0 : 0x3e7),
    TargetUserSid: sid('S-1-0-0'), TargetUserName: p.user, TargetDomainName: p.domain,
    Status: hex32(0xc000006d), FailureReason: '%%2313', SubStatus: hex32(p.subStatus),
    LogonType: p.type, LogonProcessName: p.type === 3 ? 'NtLmSsp ' : 'User32 ', AuthenticationPackageName: p.type === 3 ? 'NTLM' : 'Negotiate',
    WorkstationName: p.workstation, TransmittedServices: '-', LmPackageName: '-', KeyLength: 0,
    ProcessId: hex64(p.type === 3 ? 0 : 0x1f8), ProcessName: p.type === 3 ? '-' : 'C:\\Windows\\System32\\winlogon.exe',
    IpAddress: p.ip, IpPort: String(p.port),
  }, true);
}

export function ev4634(h: HostCtx, t: number, l: LogonInfo): EvtxEvent {
  return security(h, t, 4634, 12545, {
    TargetUserSid: sid(l.userSid), TargetUserName: l.user, TargetDomainName: l.domain, TargetLogonId: hex64(l.logonId), LogonType: l.type,
  });
}

export function ev4647(h: HostCtx, t: number, l: LogonInfo): EvtxEvent {
  return security(h, t, 4647, 12545, { TargetUserSid: sid(l.userSid), TargetUserName: l.user, TargetDomainName: l.domain, TargetLogonId: hex64(l.logonId) });
}

export function ev4672(h: HostCtx, t: number, l: LogonInfo): EvtxEvent {
  return security(h, t, 4672, 12548, {
    SubjectUserSid: sid(l.userSid), SubjectUserName: l.user, SubjectDomainName: l.domain, SubjectLogonId: hex64(l.logonId),
    PrivilegeList: 'SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege\r\n\t\t\tSeTakeOwnershipPrivilege\r\n\t\t\tSeDebugPrivilege\r\n\t\t\tSeSystemEnvironmentPrivilege\r\n\t\t\tSeLoadDriverPrivilege\r\n\t\t\tSeImpersonatePrivilege',
  });
}

export function ev4688(h: HostCtx, t: number, l: LogonInfo, p: { pid: number; image: string; cmd: string; parentPid: number }): EvtxEvent {
  return security(h, t, 4688, 13312, {
    SubjectUserSid: sid(l.userSid), SubjectUserName: l.user, SubjectDomainName: l.domain, SubjectLogonId: hex64(l.logonId),
    NewProcessId: hex64(p.pid), NewProcessName: p.image, TokenElevationType: '%%1936', ProcessId: hex64(p.parentPid), CommandLine: p.cmd,
  }, false, 1);
}

/** 4723 (user changed own password) or 4724 (password reset of another account). */
export function evPasswordChange(h: HostCtx, t: number, id: 4723 | 4724, actor: LogonInfo, target: { user: string; sid: string }): EvtxEvent {
  const data: Record<string, EvtxValue> = {
    TargetUserName: target.user, TargetDomainName: h.domain, TargetSid: sid(target.sid),
    SubjectUserSid: sid(actor.userSid), SubjectUserName: actor.user, SubjectDomainName: actor.domain, SubjectLogonId: hex64(actor.logonId),
  };
  if (id === 4723) data.PrivilegeList = '-';
  return security(h, t, id, 13824, data);
}

export function ev4738(h: HostCtx, t: number, actor: LogonInfo, target: { user: string; sid: string }, pwdLastSet: string): EvtxEvent {
  return security(h, t, 4738, 13824, {
    Dummy: '-', TargetUserName: target.user, TargetDomainName: h.domain, TargetSid: sid(target.sid),
    SubjectUserSid: sid(actor.userSid), SubjectUserName: actor.user, SubjectDomainName: actor.domain, SubjectLogonId: hex64(actor.logonId),
    PrivilegeList: '-', SamAccountName: '-', DisplayName: '-', UserPrincipalName: '-', HomeDirectory: '-', HomePath: '-',
    ScriptPath: '-', ProfilePath: '-', UserWorkstations: '-', PasswordLastSet: pwdLastSet, AccountExpires: '-',
    PrimaryGroupId: '-', AllowedToDelegateTo: '-', OldUacValue: '-', NewUacValue: '-', UserAccountControl: '-',
    UserParameters: '-', SidHistory: '-', LogonHours: '-',
  });
}

export function ev7045(h: HostCtx, t: number, s: { name: string; image: string; start: string; account: string }): EvtxEvent {
  return {
    time: t, eventId: 7045, qualifiers: 16384, provider: SCM, channel: 'System', computer: h.computer, level: 4, task: 0, opcode: 0,
    keywords: '0x8080000000000000', pid: 512, tid: 1480, userSid: h.machineSid + '-500',
    data: { ServiceName: s.name, ImagePath: s.image, ServiceType: 'user mode service', StartType: s.start, AccountName: s.account },
  };
}

export function ev7036(h: HostCtx, t: number, name: string, state: 'running' | 'stopped'): EvtxEvent {
  return {
    time: t, eventId: 7036, qualifiers: 16384, provider: SCM, channel: 'System', computer: h.computer, level: 4, task: 0, opcode: 0,
    keywords: '0x8080000000000000', pid: 512, tid: 1480,
    data: { param1: name, param2: state, Binary: '' },
  };
}

/** LocalSessionManager 21 (logon) / 24 (disconnected) / 25 (reconnection) with the source address. */
export function evLsm(h: HostCtx, t: number, id: 21 | 24 | 25, user: string, session: number, address: string): EvtxEvent {
  return {
    time: t, eventId: id, version: 0, provider: LSM, channel: 'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational',
    computer: h.computer, level: 4, task: 0, opcode: 0, keywords: '0x1000000000000000', pid: 876, tid: 1020, userSid: 'S-1-5-18',
    data: { User: user, SessionID: session, Address: address },
  };
}

export interface Detection { time: number; threat: string; threatId: number; severity: 'Severe' | 'High' | 'Moderate' | 'Low'; category: string; path: string; process: string; user: string }

/** Defender 1116 (malware detected) and 1117 (action taken). */
export function evDefender(h: HostCtx, id: 1116 | 1117, t: number, d: Detection, detectionId: string): EvtxEvent {
  const sevId = { Severe: 5, High: 4, Moderate: 2, Low: 1 }[d.severity];
  const data: Record<string, EvtxValue> = {
    'Product Name': '%%827', 'Product Version': '4.18.24050.7', 'Detection ID': detectionId,
    'Detection Time': new Date(d.time).toISOString(), 'Unused': '', 'Unused2': '',
    'Threat ID': String(d.threatId), 'Threat Name': d.threat, 'Severity ID': String(sevId), 'Severity Name': d.severity,
    'Category ID': '0', 'Category Name': d.category, 'FWLink': `https://go.microsoft.com/fwlink/?linkid=37020&name=${d.threat}&threatid=${d.threatId}&enterprise=0`,
    'Status Code': id === 1116 ? '1' : '3', 'Status Description': '', 'State': id === 1116 ? '1' : '2', 'Source ID': '3', 'Source Name': '%%818',
    'Process Name': d.process, 'Detection User': d.user, 'Unused3': '', 'Path': `file:_${d.path}`, 'Origin ID': '1', 'Origin Name': '%%845',
    'Execution ID': '0', 'Execution Name': '%%813', 'Type ID': '0', 'Type Name': '%%822', 'Pre Execution Status': '0',
    'Action ID': id === 1116 ? '9' : '2', 'Action Name': id === 1116 ? '%%887' : '%%809', 'Unused4': '',
    'Error Code': '0x00000000', 'Error Description': 'The operation completed successfully. ', 'Unused5': '',
    'Post Clean Status': '0', 'Additional Actions ID': '0', 'Additional Actions String': 'No additional actions required',
    'Remediation User': id === 1116 ? '' : 'NT AUTHORITY\\SYSTEM', 'Unused6': '', 'Security intelligence Version': 'AV: 1.413.201.0, AS: 1.413.201.0, NIS: 1.413.201.0',
    'Engine Version': 'AM: 1.1.24050.5, NIS: 1.1.24050.5',
  };
  return {
    time: t, eventId: id, version: 0, provider: DEFENDER, channel: 'Microsoft-Windows-Windows Defender/Operational', computer: h.computer,
    level: 3, task: 0, opcode: 0, keywords: '0x8000000000000000', pid: 2916, tid: 3904, userSid: 'S-1-5-18', data,
  };
}

export { Rng, NetSim };
