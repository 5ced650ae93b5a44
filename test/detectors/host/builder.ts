/** A small builder of EvtxEvents for host-detector tests. */
import type { EvtxEvent } from '../../../src/core/event.js';
import type { Detector, DetectorModule, Finding } from '../../../src/core/finding.js';
import { HomeNet } from '../../../src/core/homenet.js';

const PROVIDERS: Record<string, string> = {
  Security: 'Microsoft-Windows-Security-Auditing',
  System: 'Service Control Manager',
  Sysmon: 'Microsoft-Windows-Sysmon',
};

export class EventBuilder {
  private rec = 1;
  constructor(
    public host = 'WIN-SRV01',
    public evidence = 'E1',
  ) {}
  ev(code: string | number, t: number | string, data: Record<string, string>, opts: { provider?: string; channel?: string; host?: string } = {}): EvtxEvent {
    const channel = opts.channel ?? 'Security';
    const record = this.rec++;
    const ts = typeof t === 'string' ? Date.parse(t) : t;
    return {
      '@timestamp': ts,
      'event.dataset': 'evtx',
      'event.code': String(code),
      'winlog.event_id': Number(code),
      'event.provider': opts.provider ?? PROVIDERS[channel] ?? channel,
      'winlog.channel': channel,
      'winlog.computer_name': opts.host ?? this.host,
      'winlog.record_id': record,
      'winlog.event_data': data,
      ref: { evidence: this.evidence, record },
    };
  }
  /** 4625 failed logon. */
  fail(t: number | string, user: string, ip: string, sub = '0xc000006a', logonType = '3'): EvtxEvent {
    return this.ev('4625', t, { TargetUserName: user, TargetDomainName: 'WIN-SRV01', Status: '0xc000006d', SubStatus: sub, LogonType: logonType, IpAddress: ip, IpPort: '50000', WorkstationName: 'KALI', SubjectLogonId: '0x0' });
  }
  /** 4624 successful logon. */
  logon(t: number | string, user: string, ip: string, logonId: string, logonType = '10'): EvtxEvent {
    return this.ev('4624', t, { TargetUserName: user, TargetDomainName: 'WIN-SRV01', TargetLogonId: logonId, LogonType: logonType, IpAddress: ip, IpPort: '50001', WorkstationName: 'KALI', SubjectLogonId: '0x3e7', AuthenticationPackageName: 'Negotiate', TargetLinkedLogonId: '0x0' });
  }
  logoff(t: number | string, user: string, logonId: string): EvtxEvent {
    return this.ev('4634', t, { TargetUserName: user, TargetLogonId: logonId, LogonType: '10' });
  }
}

export function ctxWith(settings: Record<string, Record<string, unknown>> = {}) {
  return { homeNet: new HomeNet(), settings };
}

/** Run modules over events with a fresh context; returns all findings. */
export function run(mods: DetectorModule[], events: EvtxEvent[], settings: Record<string, Record<string, unknown>> = {}): Finding[] {
  const ctx = ctxWith(settings);
  const ds: Detector[] = mods.map((m) => m.create(ctx));
  for (const e of events) for (const d of ds) d.observe(e);
  return ds.flatMap((d) => d.finish());
}

export const MIN = 60_000;
export const T0 = Date.parse('2024-06-03T19:20:00Z'); // 03:20 in UTC+8
