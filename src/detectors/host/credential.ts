/**
 * host.credential-access — credential dumping (T1003.*): LSASS opened for
 * reading by a non-system process (Sysmon 10, Security 4656/4663 on lsass.exe),
 * credential tools by process name in any Security event that names a
 * process (4688, 4673, 4674, 4656, 4663: e.g. mimikatz.exe using SeTcbPrivilege),
 * dumping command lines (mimikatz modules, procdump -ma lsass, comsvcs
 * MiniDump, reg save HKLM\SAM, ntdsutil ifm), LSASS dump files written
 * (Sysmon 11), DCSync replication rights used by a user (4662), and the
 * DeepBlueCLI heuristic of ≥ `sensitivePrivilegeUses` 4673 by one process.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { hostDetector } from './base.js';
import { classify } from './catalog.js';
import { HitAggregator } from './hits.js';
import type { HostState } from './state.js';
import { baseName, code, field, hostKey, hostOf, isMachineAccount, isSecurity, isSysmon } from './util.js';

export const ID = 'host.credential-access';
/** Event codes this detector examines (the rest only feed the shared state). */
const CODES: ReadonlySet<string> = new Set(['1', '10', '11', '4688', '4656', '4663', '4662', '4673', '4674', '4703']);
export const CREDENTIAL_DEFAULTS = { sensitivePrivilegeUses: 4 };

const LSASS_ACCESS = new Set(['0x1010', '0x1410', '0x1438', '0x143a', '0x1418', '0x1f0fff', '0x1f1fff', '0x1f2fff', '0x1f3fff', '0x1fffff', '0x40', '0x10', '0x1038', '0x1418', '0x0810', '0x810']);
const LSASS_ALLOW = /\\windows\\system32\\(wininit|csrss|services|svchost|lsm|wmiprvse|taskmgr|lsass|smss|werfault|mrt|searchindexer|vssvc|wbem\\wmiprvse)\.exe$|\\program files( \(x86\))?\\(windows defender|microsoft security client|vmware|mcafee|symantec|sophos|kaspersky|eset|trend micro|crowdstrike|sentinelone)\\|\\programdata\\microsoft\\windows defender\\|msmpeng\.exe$|nissrv\.exe$|vmtoolsd\.exe$/i;
const DCSYNC = /1131f6aa-9c07-11d1-f79f-00c04fc2dcd2|1131f6ad-9c07-11d1-f79f-00c04fc2dcd2|89e95b76-444d-4c62-991a-0facbeda640c/i;

export const credentialAccess: DetectorModule = {
  id: ID,
  title: { en: 'Credential dumping', zh: '凭据窃取' },
  attack: ['T1003.001', 'T1003.002', 'T1003.003', 'T1003.006', 'T1003', 'T1558'],
  defaults: { ...CREDENTIAL_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...CREDENTIAL_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof CREDENTIAL_DEFAULTS;
    const agg = new HitAggregator(ID);
    const priv = new Map<string, number>();
    const credHits = (e: SpoorEvent, state: HostState, image: string, cmd: string, user: string) => {
      for (const h of classify(image, cmd, { recon: false, path: false })) {
        if (h.category !== 'credential') continue;
        agg.add(e, state, { rule: h.rule, attack: h.attack, severity: h.severity, en: h.en, zh: h.zh, subject: baseName(image) || h.rule, detail: cmd || image, facts: { image, eventId: code(e) } }, user);
      }
    };
    return hostDetector(ctx, ID, {
      codes: CODES,
      observe(e: SpoorEvent, state: HostState) {
        const c = code(e);
        if (isSysmon(e)) {
          if (c === '1') credHits(e, state, field(e, 'Image'), field(e, 'CommandLine'), field(e, 'User'));
          else if (c === '10') {
            const target = field(e, 'TargetImage').toLowerCase();
            if (!target.endsWith('\\lsass.exe')) return;
            const src = field(e, 'SourceImage');
            const access = field(e, 'GrantedAccess').toLowerCase();
            if (LSASS_ALLOW.test(src) || !LSASS_ACCESS.has(access)) return;
            const trace = field(e, 'CallTrace');
            const unknown = /unknown\(/i.test(trace) || /dbghelp|dbgcore/i.test(trace);
            agg.add(e, state, { rule: 'lsass-access', attack: ['T1003.001'], severity: unknown ? 'critical' : 'high', en: 'LSASS memory opened by a non-system process', zh: '非系统进程读取 LSASS 内存', subject: baseName(src), detail: `${src} GrantedAccess ${access}`, facts: { sourceImage: src, grantedAccess: access, callTrace: trace.slice(0, 300) } }, field(e, 'SourceUser'));
          } else if (c === '11') {
            const f = field(e, 'TargetFilename');
            if (/lsass[^\\]*\.(dmp|zip)$|\\(sam|system|security|ntds)(\.hiv|\.save|\.dit)?$/i.test(f) && !/\\windows\\system32\\config\\/i.test(f))
              agg.add(e, state, { rule: 'dump-file', attack: ['T1003.001'], severity: 'high', en: 'credential dump file written', zh: '写入凭据转储文件', subject: baseName(f), detail: `${field(e, 'Image')} → ${f}`, facts: { path: f } });
          }
          return;
        }
        if (!isSecurity(e)) return;
        const proc = field(e, 'NewProcessName', 'ProcessName');
        if (c === '4688') {
          credHits(e, state, proc, field(e, 'CommandLine'), field(e, 'SubjectUserName'));
          return;
        }
        if ((c === '4656' || c === '4663') && field(e, 'ObjectName').toLowerCase().endsWith('\\lsass.exe')) {
          if (LSASS_ALLOW.test(proc)) return;
          agg.add(e, state, { rule: 'lsass-handle', attack: ['T1003.001'], severity: 'high', en: 'handle to LSASS requested by a non-system process', zh: '非系统进程请求 LSASS 句柄', subject: baseName(proc), detail: `${proc} ${field(e, 'AccessMask', 'AccessList')}`, facts: { process: proc, accessMask: field(e, 'AccessMask') } }, field(e, 'SubjectUserName'));
          return;
        }
        if (c === '4662' && DCSYNC.test(field(e, 'Properties')) && !isMachineAccount(field(e, 'SubjectUserName'))) {
          agg.add(e, state, { rule: 'dcsync', attack: ['T1003.006'], severity: 'critical', en: 'directory replication (DCSync) by a user account', zh: '普通账户执行目录复制（DCSync）', subject: field(e, 'SubjectUserName'), detail: field(e, 'Properties').slice(0, 200) }, field(e, 'SubjectUserName'));
          return;
        }
        if (proc && (c === '4673' || c === '4674' || c === '4656' || c === '4663' || c === '4703')) {
          credHits(e, state, proc, '', field(e, 'SubjectUserName'));
          if (c === '4673' && !/\\windows\\system32\\/i.test(proc) && !isMachineAccount(field(e, 'SubjectUserName'))) {
            const k = hostKey(hostOf(e)) + '|' + proc.toLowerCase();
            const n = (priv.get(k) ?? 0) + 1;
            if (priv.size < 5000 || priv.has(k)) priv.set(k, n);
            if (n >= cfg.sensitivePrivilegeUses)
              agg.add(e, state, { rule: 'sensitive-privilege-use', attack: ['T1003'], severity: 'medium', en: 'repeated sensitive privilege use by a non-system process (DeepBlueCLI: possible Mimikatz)', zh: '非系统进程多次使用敏感特权（疑似 Mimikatz）', subject: baseName(proc), detail: `${proc} ${field(e, 'PrivilegeList')}`, confidence: 0.5 }, field(e, 'SubjectUserName'));
          }
        }
      },
      finish: (state): Finding[] => agg.findings(state),
    });
  },
};
