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
import { code, field, isSecurity, maxSev, provider, SCM } from './util.js';

export const ID = 'host.persistence';
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
