/**
 * host.persistence — services installed (System 7045, Security 4697) and
 * scheduled tasks created (Security 4698) that look malicious (T1543.003,
 * T1569.002, T1053.005): PsExec-style and random service names, services
 * running cmd/PowerShell/encoded commands, binaries in temp/user folders or
 * random names in the Windows folder, Meterpreter getsystem pipes, known
 * tools (catalog.ts). Services and tasks created in a session from a
 * brute-force or external source are raised. Other services are reported
 * only when `reportAll` is set (low).
 */
import type { SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding, Severity } from '../../core/finding.js';
import { hostDetector } from './base.js';
import { classify, USER_FOLDER } from './catalog.js';
import { HitAggregator } from './hits.js';
import type { HostState } from './state.js';
import { code, field, isSecurity, maxSev, provider, SCM, SYSMON } from './util.js';

export const ID = 'host.persistence';
/** Event codes this detector examines (the rest only feed the shared state). */
const CODES: ReadonlySet<string> = new Set(['7045', '4697', '4698', '4702', '59', '1', '11', '15457']);
export const PERSISTENCE_DEFAULTS = { reportAll: false };

/** Random-looking name: letters only, long, with mixed case transitions (Metasploit: 16 random letters). */
export function randomName(n: string): boolean {
  if (!/^[A-Za-z]{8,32}$/.test(n)) return false;
  let switches = 0;
  for (let i = 1; i < n.length; i++) if ((n[i] >= 'a') !== (n[i - 1] >= 'a')) switches++;
  return switches >= 4;
}

export function judgeService(name: string, path: string): { reasons: string[]; severity: Severity; attack: string[] } {
  const reasons: string[] = [];
  let severity: Severity = 'low';
  const attack = new Set(['T1543.003', 'T1569.002']);
  const p = path.toLowerCase();
  const hits = classify(path.replace(/^"([^"]+)".*$/, '$1').split(/\s+-/)[0], path, { recon: false, path: true });
  for (const h of hits) {
    reasons.push(h.en);
    severity = maxSev(severity, h.category === 'user-folder' ? 'high' : h.severity);
    h.attack.forEach((a) => attack.add(a));
  }
  if (/%comspec%|cmd(\.exe)?\s+\/[ck]\s|powershell|pwsh|mshta|wscript|cscript|rundll32|regsvr32/.test(p) && !hits.some((h) => h.rule === 'privesc')) {
    reasons.push('service runs a command interpreter');
    severity = maxSev(severity, 'high');
    attack.add('T1059');
  }
  if (/^"?(cmd|powershell|calc|notepad|rundll32|mshta|regsvr32)(\.exe)?"?$/.test(p)) {
    reasons.push('service binary is a bare shell or program, not a service');
    severity = maxSev(severity, 'high');
  }
  if (/frombase64string|\s-e(nc|ncodedcommand)?\s+[a-z0-9+/=]{20,}|-w\s+hidden/.test(p)) {
    reasons.push('encoded or hidden PowerShell');
    severity = 'critical';
    attack.add('T1027');
  }
  if (/^"?(%systemroot%|[a-z]:\\windows)\\[a-z]{8}\.exe"?$/i.test(path)) {
    reasons.push('random executable name in the Windows folder (Metasploit psexec)');
    severity = maxSev(severity, 'high');
  }
  if (USER_FOLDER.test(p) || /\\(temp|tmp)\\/.test(p)) {
    if (!reasons.includes('program run from a user-writable folder')) reasons.push('binary in a temp or user folder');
    severity = maxSev(severity, 'high');
  }
  if (/\\\\127\.0\.0\.1\\|\\admin\$\\|\\c\$\\/.test(p)) {
    reasons.push('binary on an administrative share');
    severity = maxSev(severity, 'high');
    attack.add('T1021.002');
  }
  if (randomName(name)) {
    reasons.push('random-looking service name');
    severity = maxSev(severity, reasons.length > 1 ? 'high' : 'medium');
  }
  if (/^(psexesvc|paexec|remcomsvc|csexecsvc|winexesvc|btobto)/i.test(name)) {
    reasons.push('PsExec-style service name');
    severity = maxSev(severity, 'medium');
    attack.add('T1021.002');
  }
  return { reasons, severity, attack: [...attack] };
}

function taskCommand(xml: string): string {
  const cmd = /<Command>([^<]*)<\/Command>/i.exec(xml)?.[1] ?? '';
  const args = /<Arguments>([^<]*)<\/Arguments>/i.exec(xml)?.[1] ?? '';
  return (cmd + ' ' + args).trim().replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

export const persistence: DetectorModule = {
  id: ID,
  title: { en: 'Suspicious services and scheduled tasks', zh: '可疑服务与计划任务' },
  attack: ['T1543.003', 'T1569.002', 'T1053.005', 'T1134.001'],
  defaults: { ...PERSISTENCE_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...PERSISTENCE_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof PERSISTENCE_DEFAULTS;
    const agg = new HitAggregator(ID);
    return hostDetector(ctx, ID, {
      codes: CODES,
      observe(e: SpoorEvent, state: HostState) {
        const c = code(e);
        let name = '';
        let path = '';
        let kind = '';
        if (c === '7045' && provider(e) === SCM) {
          name = field(e, 'ServiceName', 'param1');
          path = field(e, 'ImagePath', 'param2');
          kind = 'service';
        } else if (c === '4697' && isSecurity(e)) {
          name = field(e, 'ServiceName');
          path = field(e, 'ServiceFileName');
          kind = 'service';
        } else if ((c === '4698' || c === '4702') && isSecurity(e)) {
          name = field(e, 'TaskName');
          path = taskCommand(field(e, 'TaskContent', 'TaskContentNew'));
          kind = 'task';
        } else if (c === '11' && provider(e) === SYSMON && /\\start menu\\programs\\startup\\[^\\]+$/i.test(field(e, 'TargetFilename')) && !/\\desktop\.ini$/i.test(field(e, 'TargetFilename'))) {
          const target = field(e, 'TargetFilename');
          const viaRdp = /\\mstsc\.exe$/i.test(field(e, 'Image'));
          agg.add(e, state, { rule: 'startup-folder-file', attack: viaRdp ? ['T1547.001', 'T1021.001'] : ['T1547.001'], severity: /\.(exe|bat|cmd|vbs|js|ps1|hta|scr|lnk)$/i.test(target) ? 'high' : 'medium', en: viaRdp ? 'file written to a Startup folder through an RDP drive redirection (tsclient)' : 'file written to a Startup folder', zh: viaRdp ? '通过 RDP 驱动器重定向（tsclient）向启动文件夹写入文件' : '向启动文件夹写入文件', subject: target, key: 'startup|' + target.toLowerCase(), detail: field(e, 'Image'), facts: { path: target, image: field(e, 'Image') } });
          return;
        } else if (c === '15457' && /^mssql/i.test(provider(e)) && /xp_cmdshell,\s*0,\s*1/i.test(field(e, 'param1', 'Data'))) {
          agg.add(e, state, { rule: 'sql-xpcmdshell-enabled', attack: ['T1505.001'], severity: 'high', en: 'SQL Server xp_cmdshell enabled', zh: '启用 SQL Server xp_cmdshell', subject: provider(e), key: 'xpcmdshell', detail: field(e, 'param1') });
          return;
        } else if (c === '59' && provider(e) === 'Microsoft-Windows-Bits-Client') {
          const url = field(e, 'url');
          // Reported: local-file "downloads" (BITS used as a launcher), raw-IP URLs, and scripts/executables
          // from hosts that are not update/CDN services (browsers, OneDrive and Windows use BITS all day).
          const local = !!url && !/^https?:\/\//i.test(url);
          const rawIp = /^https?:\/\/\[?[0-9a-f:.]+\]?(:\d+)?\//i.test(url) && /^https?:\/\/\[?(\d+\.){3}\d+|^https?:\/\/\[/i.test(url);
          const vendor = /^https?:\/\/([^/]*\.)?(windowsupdate\.com|microsoft\.com|msedge\.net|office\.(com|net)|live\.com|skype\.com|bing\.com|adobe\.com|google\.com|googleapis\.com|gvt1\.com|gstatic\.com|mozilla\.(net|org)|sfx\.ms|akamaized\.net|msn\.com|windows\.(com|net)|azureedge\.net|digicert\.com)(:\d+)?\//i.test(url);
          const payload = /\.(exe|dll|ps1|bat|cmd|vbs|js|hta|scr|msi|7z|zip|rar)(\?|$)/i.test(url);
          if (!url || !(local || rawIp || (payload && !vendor))) return;
          agg.add(e, state, { rule: 'bits-job', attack: ['T1197'], severity: local || rawIp ? 'high' : 'medium', en: 'BITS job transferring a non-vendor file', zh: 'BITS 任务传输非厂商文件', subject: field(e, 'name') || '?', key: 'bits|' + field(e, 'name'), detail: url, facts: { url, job: field(e, 'name') } });
          return;
        } else if (c === '1' && provider(e) === SYSMON && /\\smss\.exe$/i.test(field(e, 'ParentImage')) && !/\\(autochk|smss|csrss|wininit|winlogon|autoconv|setupcl|sdbinst)\.exe$/i.test(field(e, 'Image'))) {
          agg.add(e, state, { rule: 'boot-execute-child', attack: ['T1547'], severity: 'high', en: 'unexpected program started by the session manager (BootExecute/SetupExecute)', zh: '会话管理器启动异常程序（BootExecute/SetupExecute）', subject: field(e, 'Image'), key: 'smss|' + field(e, 'Image'), detail: field(e, 'CommandLine') });
          return;
        } else return;
        const j = judgeService(kind === 'task' ? '' : name, path);
        const sess = state.sessions.sessionOf(e);
        const suspiciousSession = !!sess?.src && (!!state.bruteSource(sess.host, sess.src) || !state.ctx.homeNet.isInternal(sess.src));
        if (!j.reasons.length && !suspiciousSession && !cfg.reportAll && !(kind === 'task' && !name.toLowerCase().startsWith('\\microsoft\\'))) return;
        const attack = kind === 'task' ? ['T1053.005', ...j.attack.filter((a) => !a.startsWith('T1543') && !a.startsWith('T1569'))] : j.attack;
        const getsystem = j.reasons.some((r) => r.includes('getsystem'));
        agg.add(
          e,
          state,
          {
            rule: kind === 'task' ? 'scheduled-task' : getsystem ? 'service-getsystem' : 'service-install',
            attack,
            severity: j.reasons.length ? j.severity : suspiciousSession ? 'high' : 'low',
            en: kind === 'task' ? `scheduled task created${j.reasons.length ? ` (${j.reasons.join('; ')})` : ''}` : `service installed${j.reasons.length ? ` (${j.reasons.join('; ')})` : ''}`,
            zh: kind === 'task' ? `创建计划任务${j.reasons.length ? '（可疑）' : ''}` : `安装${j.reasons.length ? '可疑' : ''}服务`,
            subject: name || '?',
            key: `${c}|${name}`,
            detail: path,
            facts: { kind, name, command: path.slice(0, 1000), reasons: j.reasons, eventId: c, accountName: field(e, 'AccountName', 'ServiceAccount') || null },
          },
          field(e, 'SubjectUserName'),
        );
      },
      finish: (state) => agg.findings(state),
    });
  },
};
