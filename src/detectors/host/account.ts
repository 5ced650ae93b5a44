/**
 * host.account-manipulation — accounts created, enabled, renamed, passwords
 * changed or reset, accounts added to privileged groups (T1136.001, T1098,
 * T1078). Each change is tied to the logon session it was done in
 * (SubjectLogonId), and raised when that session is suspicious (its source is
 * a brute-force source, an external address, or the session that followed a
 * brute-force success) or when it happened at night (case time zone).
 *
 * Always reported: account creation, addition to a privileged group.
 * Reported only when suspicious: password change/reset, enable, rename,
 * attribute change (4738, not when it merely accompanies another change).
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding, Severity } from '../../core/finding.js';
import { hostDetector, mk } from './base.js';
import { describeSession, type LogonSession } from './sessions.js';
import type { HostState } from './state.js';
import { breaches } from './success.js';
import { code, field, hostKey, hostOf, isSecurity, raise, t, userKey } from './util.js';

export const ID = 'host.account-manipulation';

export const ACCOUNT_DEFAULTS = {
  /** Keep at most this many account changes (findings). */
  maxFindings: 300,
  /** Extra privileged group names (lower-case) besides the built-in list. */
  privilegedGroups: [] as string[],
};

const PRIV_GROUPS = new Set([
  'administrators',
  'domain admins',
  'enterprise admins',
  'schema admins',
  'remote desktop users',
  'backup operators',
  'account operators',
  'server operators',
  'print operators',
  'dnsadmins',
  'group policy creator owners',
  'hyper-v administrators',
  'remote management users',
  'key admins',
  'enterprise key admins',
  'administrateurs',
  'administradores',
  'administratoren',
  '管理员',
  'remote desktop users',
]);
const PRIV_SIDS = /^S-1-5-32-(544|548|549|550|551|555|580)$|^S-1-5-21-[\d-]+-(512|518|519|520|526|527)$/i;

interface Change {
  t: number;
  code: string;
  host: string;
  target: string;
  targetSid: string;
  member: string;
  group: string;
  privileged: boolean;
  subject: string;
  session?: LogonSession;
  ref: EvidenceRef;
  extra: Record<string, string>;
}

const TEXT: Record<string, { en: string; zh: string; attack: string[] }> = {
  '4720': { en: 'account created', zh: '被创建', attack: ['T1136.001'] },
  '4722': { en: 'account enabled', zh: '被启用', attack: ['T1098', 'T1078'] },
  '4723': { en: 'password changed', zh: '的密码被修改', attack: ['T1098'] },
  '4724': { en: 'password reset', zh: '的密码被重置', attack: ['T1098'] },
  '4738': { en: 'account changed', zh: '的属性被修改', attack: ['T1098'] },
  '4781': { en: 'account renamed', zh: '被重命名', attack: ['T1098', 'T1036'] },
  '4728': { en: 'added to a global group', zh: '被加入全局组', attack: ['T1098'] },
  '4732': { en: 'added to a local group', zh: '被加入本地组', attack: ['T1098'] },
  '4756': { en: 'added to a universal group', zh: '被加入通用组', attack: ['T1098'] },
};

function build(state: HostState, changes: Change[], dropped: number, maxFindings: number): Finding[] {
  const out: Finding[] = [];
  const { bySource } = breaches(state);
  const breachSrc = new Set<string>();
  const breachLogon = new Set<string>();
  for (const b of bySource.values()) {
    breachSrc.add(hostKey(b.agg.host) + '|' + b.success.src);
    if (b.success.logonId) breachLogon.add(hostKey(b.agg.host) + '|' + b.success.logonId);
  }
  // 4738 accompanying another change of the same account within 5 s is noise
  const near = (c: Change) => changes.some((o) => o !== c && o.code !== '4738' && userKey(o.target) === userKey(c.target) && Math.abs(o.t - c.t) <= 5000);
  for (const c of changes) {
    const sess = c.session ? state.sessions.primary(c.session) : undefined;
    const sum = c.session ? state.sessions.summarize(c.session) : null;
    const src = sess?.src ?? '';
    const reasons: string[] = [];
    let strong = false;
    if (sess && breachLogon.has(hostKey(c.host) + '|' + sess.logonId)) (reasons.push('session-of-brute-force-success'), (strong = true));
    if (src && (breachSrc.has(hostKey(c.host) + '|' + src) || state.bruteSource(c.host, src))) (reasons.push('session-from-brute-force-source'), (strong = true));
    if (src && !state.ctx.homeNet.isInternal(src)) reasons.push('session-from-external-address');
    const night = state.isNight(c.t);
    if (night) reasons.push('night-time');
    const hidden = c.code === '4720' && c.target.endsWith('$');
    if (hidden) reasons.push('hidden-account-name');
    const guest = /-501$/.test(c.targetSid) || userKey(c.target) === 'guest';
    if (guest && (c.code === '4722' || c.privileged)) reasons.push('guest-account');
    const always = c.code === '4720' || c.privileged;
    if (!always && reasons.length === 0) continue;
    if (c.code === '4738' && (near(c) || !strong)) continue;
    if (out.length >= maxFindings) {
      dropped++;
      continue;
    }
    let sev: Severity = c.privileged ? 'high' : c.code === '4720' ? 'medium' : 'medium';
    if (hidden || guest) sev = raise(sev);
    if (strong) sev = c.privileged || c.code === '4720' || c.code === '4723' || c.code === '4724' ? 'critical' : 'high';
    else if (reasons.includes('session-from-external-address') || night) sev = raise(sev);
    const tx = TEXT[c.code] ?? { en: `account event ${c.code}`, zh: `账户事件 ${c.code}`, attack: ['T1098'] };
    const what = c.member || c.target;
    const groupEn = c.group ? ` (${c.member || c.targetSid} added to ${c.privileged ? 'privileged group ' : ''}${c.group})` : '';
    const sessEn = sum ? ` Done in ${describeSession(sum).en}.` : c.subject ? ` Done by ${c.subject}.` : '';
    const sessZh = sum ? `操作发生在${describeSession(sum).zh}中。` : c.subject ? `操作者 ${c.subject}。` : '';
    const whyEn = reasons.length ? ` Suspicious: ${reasons.join(', ')}.` : '';
    const whyZh = reasons.length
      ? `可疑之处：${reasons
          .map((r) => ({ 'session-of-brute-force-success': '发生在暴力破解成功后建立的会话中', 'session-from-brute-force-source': '会话来源正是暴力破解来源', 'session-from-external-address': '会话来自外网地址', 'night-time': '发生在凌晨/夜间', 'hidden-account-name': '账户名以 $ 结尾（隐藏账户）', 'guest-account': '涉及 Guest 账户' })[r] ?? r)
          .join('；')}。`
      : '';
    out.push(
      mk(ID, {
        attack: c.privileged ? ['T1098', 'T1078'] : tx.attack,
        severity: sev,
        outcome: 'succeeded',
        confidence: strong ? 0.92 : reasons.length ? 0.75 : 0.6,
        first: c.t,
        last: c.t,
        host: c.host,
        user: c.group ? c.member || c.target : c.target,
        src: src || undefined,
        summary: {
          en: `${tx.en[0].toUpperCase() + tx.en.slice(1)} on ${c.host} at ${t(c.t)}: ${c.group ? c.group : what}${groupEn} (event ${c.code}).${sessEn}${whyEn}`,
          zh: `${t(c.t)} 主机 ${c.host} 上账户 ${c.group ? c.member || c.targetSid : c.target} ${c.group ? `${tx.zh} ${c.group}${c.privileged ? '（特权组）' : ''}` : tx.zh}（事件 ${c.code}）。${sessZh}${whyZh}`,
        },
        evidence: [c.ref, ...(sum?.startRef ? [sum.startRef] : [])],
        facts: {
          eventId: c.code,
          change: tx.en,
          target: c.target,
          targetSid: c.targetSid || null,
          member: c.member || null,
          group: c.group || null,
          privilegedGroup: c.privileged,
          subject: c.subject,
          reasons,
          night,
          localTime: state.clock.local(c.t),
          timeZone: state.clock.zone,
          session: sum,
          ...c.extra,
          ...(dropped ? { droppedChanges: dropped } : {}),
        },
      }),
    );
  }
  return out;
}

export const accountManipulation: DetectorModule = {
  id: ID,
  title: { en: 'Account manipulation', zh: '账户操纵' },
  attack: ['T1136.001', 'T1098', 'T1078'],
  defaults: { ...ACCOUNT_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...ACCOUNT_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof ACCOUNT_DEFAULTS;
    const extra = new Set(cfg.privilegedGroups.map((g) => g.toLowerCase()));
    const changes: Change[] = [];
    let dropped = 0;
    return hostDetector(ctx, ID, {
      codes: new Set(Object.keys(TEXT)),
      observe(e: SpoorEvent, state: HostState) {
        if (!isSecurity(e)) return;
        const c = code(e);
        if (!(c in TEXT)) return;
        if (changes.length >= cfg.maxFindings * 4) {
          dropped++;
          return;
        }
        const isGroup = c === '4728' || c === '4732' || c === '4756';
        const group = isGroup ? field(e, 'TargetUserName') : '';
        const groupSid = isGroup ? field(e, 'TargetSid') : '';
        const privileged = isGroup && (PRIV_GROUPS.has(group.toLowerCase()) || extra.has(group.toLowerCase()) || PRIV_SIDS.test(groupSid));
        let member = isGroup ? field(e, 'MemberName') : '';
        if (member === '-') member = '';
        // MemberName is a DN for domain groups: keep the CN
        const cn = /^CN=([^,]+)/i.exec(member);
        if (cn) member = cn[1];
        const target = c === '4781' ? field(e, 'NewTargetUserName') || field(e, 'TargetUserName') : isGroup ? member || field(e, 'MemberSid') : field(e, 'TargetUserName');
        const extraFacts: Record<string, string> = {};
        if (c === '4781') extraFacts.oldName = field(e, 'OldTargetUserName');
        if (isGroup) extraFacts.memberSid = field(e, 'MemberSid');
        if (c === '4720' || c === '4738') extraFacts.userAccountControl = field(e, 'UserAccountControl').replace(/\s+/g, ' ');
        changes.push({
          t: e['@timestamp'],
          code: c,
          host: hostOf(e),
          target,
          targetSid: isGroup ? field(e, 'MemberSid') : field(e, 'TargetSid'),
          member,
          group,
          privileged,
          subject: [field(e, 'SubjectDomainName'), field(e, 'SubjectUserName')].filter(Boolean).join('\\'),
          session: state.sessions.sessionOf(e),
          ref: e.ref,
          extra: extraFacts,
        });
      },
      finish: (state) => build(state, changes, dropped, cfg.maxFindings),
    });
  },
};
