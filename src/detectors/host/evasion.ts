/**
 * host.defense-evasion — event logs cleared (Security 1102, System 104:
 * T1070.001), the Event Log service disabled or stopped (7040, 7036:
 * T1562.002), audit policy changed to stop auditing (4719 removing success or
 * failure auditing: T1562.002), Windows Defender real-time protection
 * disabled or exclusions added (5001, 5007: T1562.001), and a boot configuration
 * that weakens code integrity (Security 4826 "Boot Configuration Data loaded" with
 * TestSigning, FlightSigning or DisableIntegrityChecks on: T1553.006; KernelDebug
 * on: T1562.001). The 4826 values are message ids: %%1842 is "Yes", %%1843 "No".
 */
import type { SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { hostDetector } from './base.js';
import { HitAggregator } from './hits.js';
import type { HostState } from './state.js';
import { code, DEFENDER, EVENTLOG, field, isSecurity, provider, SCM } from './util.js';

export const ID = 'host.defense-evasion';

export const defenseEvasion: DetectorModule = {
  id: ID,
  title: { en: 'Log clearing and defence tampering', zh: '清除日志与破坏防护' },
  attack: ['T1070.001', 'T1562.002', 'T1562.001', 'T1553.006'],
  defaults: {},
  create(ctx: DetectorContext) {
    const agg = new HitAggregator(ID);
    return hostDetector(ctx, ID, {
      codes: new Set(['1102', '104', '7040', '7036', '4719', '5001', '5007', '4826']),
      observe(e: SpoorEvent, state: HostState) {
        const c = code(e);
        const p = provider(e);
        if (p === EVENTLOG && (c === '1102' || c === '104')) {
          const ch = c === '1102' ? 'Security' : field(e, 'Channel') || (e['winlog.channel'] as string) || '?';
          const who = [field(e, 'SubjectDomainName'), field(e, 'SubjectUserName')].filter(Boolean).join('\\');
          agg.add(e, state, { rule: 'log-cleared', attack: ['T1070.001'], severity: 'high', en: `${ch} event log cleared`, zh: `${ch} 事件日志被清除`, subject: `${ch} log cleared by ${who || '?'}`, key: ch + '|' + e['@timestamp'], detail: who, confidence: 0.95, facts: { channel: ch, clearedBy: who } }, who);
          return;
        }
        if (p === SCM && c === '7040' && /event ?log/i.test(field(e, 'param1') + ' ' + field(e, 'param4')) && /disabled/i.test(field(e, 'param3'))) {
          agg.add(e, state, { rule: 'eventlog-disabled', attack: ['T1562.002'], severity: 'high', en: 'Windows Event Log service disabled', zh: 'Windows 事件日志服务被禁用', subject: `${field(e, 'param1')}: ${field(e, 'param2')} → ${field(e, 'param3')}`, key: 'eventlog-disabled', confidence: 0.9 });
          return;
        }
        if (p === SCM && c === '7036' && /^windows event ?log$/i.test(field(e, 'param1')) && /stopped/i.test(field(e, 'param2'))) {
          agg.add(e, state, { rule: 'eventlog-stopped', attack: ['T1562.002'], severity: 'medium', en: 'Windows Event Log service stopped', zh: 'Windows 事件日志服务被停止', subject: 'Windows Event Log stopped', confidence: 0.7 });
          return;
        }
        if (isSecurity(e) && c === '4719') {
          const changes = field(e, 'AuditPolicyChanges');
          if (!/%%8448|%%8450|removed/i.test(changes)) return;
          agg.add(e, state, { rule: 'audit-policy-removed', attack: ['T1562.002'], severity: 'medium', en: 'auditing switched off for a category', zh: '审核策略被关闭', subject: `${field(e, 'SubcategoryGuid') || field(e, 'CategoryId')} ${changes}`, key: 'audit', detail: changes, confidence: 0.7 }, field(e, 'SubjectUserName'));
          return;
        }
        if (isSecurity(e) && c === '4826') {
          const on = (name: string) => {
            const v = field(e, name).toLowerCase();
            return v === '%%1842' || v === 'yes';
          };
          const signing = ['TestSigning', 'FlightSigning', 'DisableIntegrityChecks'].filter(on);
          if (signing.length)
            agg.add(e, state, { rule: 'boot-code-integrity-off', attack: ['T1553.006'], severity: 'high', en: `boot configuration weakens driver signature checks (${signing.join(', ')} on)`, zh: `启动配置关闭了驱动签名校验（${signing.join('、')} 已开启）`, subject: signing.join(', '), key: 'signing|' + signing.join(','), detail: signing.join(', '), confidence: 0.8, facts: { eventId: c, settings: signing } });
          if (on('KernelDebug'))
            agg.add(e, state, { rule: 'boot-kernel-debug', attack: ['T1562.001'], severity: 'medium', en: 'boot configuration enables kernel debugging (protections such as PatchGuard are off under a debugger)', zh: '启动配置开启了内核调试（调试模式下 PatchGuard 等保护失效）', subject: 'KernelDebug on', key: 'kernel-debug', confidence: 0.65, facts: { eventId: c } });
          return;
        }
        if (p === DEFENDER && c === '5001') {
          agg.add(e, state, { rule: 'defender-disabled', attack: ['T1562.001'], severity: 'high', en: 'Windows Defender real-time protection disabled', zh: 'Windows Defender 实时防护被关闭', subject: 'real-time protection disabled', key: 'rtp', confidence: 0.85 });
          return;
        }
        if (p === DEFENDER && c === '5007') {
          const nv = field(e, 'New Value', 'NewValue');
          if (!/exclusions\\|disable/i.test(nv)) return;
          agg.add(e, state, { rule: 'defender-config', attack: ['T1562.001'], severity: 'medium', en: 'Windows Defender exclusion or protection setting changed', zh: 'Windows Defender 排除项或防护设置被修改', subject: nv.slice(0, 200), key: nv.slice(0, 200), confidence: 0.7 });
        }
      },
      finish: (state): Finding[] => agg.findings(state),
    });
  },
};
