/**
 * host.av-alert — Windows Defender detections (1116 detected, 1117 action
 * taken, 1118/1119 action failed, 1006/1007/1015 older and behaviour events)
 * as findings of their own: malware name, file path, process, user, action.
 * One finding per (host, threat, path). Technique from the threat name
 * (HackTool:…/Mimikatz → T1003, CoinMiner → T1496, Downloader → T1105 ...).
 * Outcome: `failed` when Defender removed or quarantined it, else `succeeded`.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding, Severity } from '../../core/finding.js';
import { hostDetector } from './base.js';
import { HitAggregator } from './hits.js';
import type { HostState } from './state.js';
import { code, DEFENDER, field, provider } from './util.js';

export const ID = 'host.av-alert';

export function threatAttack(name: string): string[] {
  const n = name.toLowerCase();
  if (/mimikatz|lsass|credential|pwdump|lazagne/.test(n)) return ['T1003'];
  if (/coinminer|miner|xmrig/.test(n)) return ['T1496'];
  if (/downloader|dloader/.test(n)) return ['T1105'];
  if (/portscan|masscan|scan/.test(n)) return ['T1046'];
  if (/psexec|remoteadmin|remexec|paexec/.test(n)) return ['T1569.002'];
  if (/ransom/.test(n)) return ['T1486'];
  if (/webshell|shell\.|backdoor:(asp|php|jsp)/.test(n)) return ['T1505.003'];
  if (/meterpreter|cobaltstrike|beacon|backdoor|\brat\b/.test(n)) return ['T1071'];
  if (/powershell|obfuse|amsi/.test(n)) return ['T1059.001'];
  if (/hacktool/.test(n)) return ['T1588.002'];
  return ['T1204.002'];
}

function sevOf(s: string): Severity {
  const v = s.toLowerCase();
  if (v.startsWith('severe')) return 'critical';
  if (v.startsWith('high')) return 'high';
  if (v.startsWith('medium') || v.startsWith('moderate')) return 'medium';
  if (v.startsWith('low')) return 'low';
  return 'high';
}

export const avAlert: DetectorModule = {
  id: ID,
  title: { en: 'Antivirus detections', zh: '杀毒软件告警' },
  attack: ['T1003', 'T1496', 'T1105', 'T1046', 'T1204.002'],
  defaults: {},
  create(ctx: DetectorContext) {
    const agg = new HitAggregator(ID);
    const blocked = new Set<string>();
    return hostDetector(ctx, ID, {
      codes: new Set(['1006', '1007', '1008', '1015', '1116', '1117', '1118', '1119']),
      observe(e: SpoorEvent, state: HostState) {
        if (provider(e) !== DEFENDER) return;
        const c = code(e);
        if (!['1006', '1007', '1008', '1015', '1116', '1117', '1118', '1119'].includes(c)) return;
        const threat = field(e, 'Threat Name', 'ThreatName', 'Name') || '?';
        const path = field(e, 'Path', 'Resource').replace(/^file:_/i, '');
        const action = field(e, 'Action Name', 'ActionName');
        const key = threat + '|' + path;
        if (c === '1117' || c === '1007') blocked.add(key);
        agg.add(
          e,
          state,
          {
            rule: 'defender',
            attack: threatAttack(threat),
            severity: sevOf(field(e, 'Severity Name', 'SeverityName')),
            en: `Windows Defender detected ${threat}`,
            zh: `Windows Defender 检出 ${threat}`,
            subject: path || threat,
            key,
            detail: [path, field(e, 'Process Name'), action].filter(Boolean).join(' | '),
            confidence: 0.9,
            facts: { threat, path, category: field(e, 'Category Name'), process: field(e, 'Process Name') || null, detectionUser: field(e, 'Detection User') || null, action: action || null },
          },
          field(e, 'Detection User'),
        );
      },
      finish(state: HostState): Finding[] {
        const out = agg.findings(state);
        for (const f of out) {
          const k = `${f.facts?.threat}|${f.facts?.path}`;
          f.outcome = blocked.has(k) ? 'failed' : 'succeeded';
        }
        return out;
      },
    });
  },
};
