/**
 * host.bruteforce-success — a successful logon that ends a brute force
 * (T1110.001 + T1078). A 4624 of a remote logon type (3, 7, 8, 10, 11), an RDP
 * authentication (1149) or an RDP session start (LocalSessionManager 21/25)
 * from a source that reached the brute-force threshold, with at least
 * `minFailures` failures in the `lookbackMs` before it → the account and the
 * host are compromised. The weaker account match (success for an attacked
 * account from another source) is `succeeded`, not `compromised`.
 */
import type { DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { hostDetector, mk, num } from './base.js';
import { describeSession, LOGON_TYPE_NAMES } from './sessions.js';
import { SUCCESS_DEFAULTS, type HostState } from './state.js';
import { breaches } from './success.js';
import { t } from './util.js';

export const ID = 'host.bruteforce-success';

function build(state: HostState): Finding[] {
  const out: Finding[] = [];
  const { bySource, byUser } = breaches(state);
  for (const b of [...bySource.values(), ...byUser.values()]) {
    const s = b.success;
    const a = b.agg;
    const external = !!s.src && !state.ctx.homeNet.isInternal(s.src);
    const sess = s.logonId ? state.sessions.get(a.host, s.logonId) : undefined;
    const summary = sess ? state.sessions.summarize(sess) : null;
    const rdp = s.logonType === 10 || s.code === '1149' || s.code === '21' || s.code === '25';
    const bySrc = b.match === 'source';
    const confidence = bySrc ? (b.userWasTargeted ? (b.recentFailures >= 2 * state.success.minFailures ? 0.93 : 0.85) : 0.75) : b.srcWasFailing ? 0.6 : 0.45;
    const ltName = LOGON_TYPE_NAMES[s.logonType] ?? String(s.logonType);
    const sessEn = summary ? ` It opened ${describeSession(summary).en}${summary.actionCount ? ` with ${summary.actionCount} recorded action(s)` : ''}.` : '';
    const sessZh = summary ? `建立了${describeSession(summary).zh}${summary.actionCount ? `，会话内记录到 ${summary.actionCount} 项操作` : ''}。` : '';
    out.push(
      mk(ID, {
        attack: rdp ? ['T1110.001', 'T1078', 'T1021.001'] : ['T1110.001', 'T1078'],
        severity: bySrc ? (external || rdp ? 'critical' : 'high') : external ? 'high' : 'medium',
        outcome: bySrc ? 'compromised' : 'succeeded',
        confidence,
        first: a.first,
        last: s.t,
        src: s.src || undefined,
        host: a.host,
        user: s.user,
        summary: {
          en: bySrc
            ? `Brute force succeeded on ${a.host}: after ${num(b.recentFailures)} failed logons from ${a.key} (${num(a.count)} in all since ${t(a.first)}), ${s.user} logged on from the same source at ${t(s.t)} (event ${s.code}, ${ltName} logon). The account ${s.user} and the host ${a.host} must be treated as compromised.${sessEn}${b.laterSuccesses ? ` ${num(b.laterSuccesses)} later successful logon(s) from this source.` : ''}`
            : `Possible brute-force success on ${a.host}: account ${s.user} had ${num(b.recentFailures)} failed logons in the hour before it logged on from ${s.src || 'an unrecorded source'} at ${t(s.t)} (event ${s.code}).${sessEn}`,
          zh: bySrc
            ? `主机 ${a.host} 被暴力破解成功：来源 ${a.key} 先后登录失败 ${a.count} 次（登录成功前一小时内 ${b.recentFailures} 次），随后于 ${t(s.t)} 以账户 ${s.user} 从同一来源登录成功（事件 ${s.code}，登录类型 ${s.logonType}）。应视账户 ${s.user} 和主机 ${a.host} 已失陷。${sessZh}${b.laterSuccesses ? `此后该来源又成功登录 ${b.laterSuccesses} 次。` : ''}`
            : `主机 ${a.host} 疑似被暴力破解成功：账户 ${s.user} 在登录成功前一小时内失败 ${b.recentFailures} 次，随后于 ${t(s.t)} 从 ${s.src || '未记录的来源'} 登录成功（事件 ${s.code}）。${sessZh}`,
        },
        evidence: [s.ref, ...a.sample.refs().slice(-5), ...b.laterSample.map((x) => x.ref)],
        facts: {
          match: b.match,
          successRecord: s.ref,
          successEventId: s.code,
          logonType: s.logonType,
          logonId: s.logonId || null,
          failuresBefore: b.recentFailures,
          failuresTotal: a.count,
          attackFirst: a.first,
          userWasTargeted: b.userWasTargeted,
          sourceAlsoFailed: b.srcWasFailing,
          external,
          laterSuccesses: b.laterSuccesses,
          later: b.laterSample.map((x) => ({ t: x.t, user: x.user, src: x.src, logonType: x.logonType, ref: x.ref })),
          session: summary,
        },
      }),
    );
  }
  return out;
}

export const bruteforceSuccess: DetectorModule = {
  id: ID,
  title: { en: 'Brute force that succeeded', zh: '暴力破解成功' },
  attack: ['T1110.001', 'T1078', 'T1021.001'],
  defaults: { ...SUCCESS_DEFAULTS },
  create(ctx: DetectorContext) {
    return hostDetector(ctx, ID, { finish: build });
  },
};
