/**
 * host.bruteforce — password guessing (T1110.001).
 *
 * Failed logons (4625 of logon types 3/8/10 or with a remote address, 4771/4768
 * Kerberos pre-authentication failures, 4776 NTLM validation failures, RDP
 * 140, MSSQL 18456) are aggregated per (host, source) and per (host,
 * account). A source is a brute force when it reaches `threshold` failures
 * within `windowMs` (Hayabusa: ≥ 5 wrong passwords in 5 minutes) or
 * `totalThreshold` over the whole log (slow guessing). An account is reported
 * on its own when failures against it from sources that are not brute forces
 * themselves (many sources, or no source recorded) reach the same thresholds.
 *
 * Outcome: `compromised` when a successful remote logon followed from that
 * source (see success.ts), else `failed`.
 */
import type { DetectorContext, DetectorModule, Finding, Severity } from '../../core/finding.js';
import { hostDetector, mk, num } from './base.js';
import { BRUTE_DEFAULTS, FAILURE_TEXT, type FailureAgg, type FailureKind, type HostState } from './state.js';
import { breaches } from './success.js';
import { hostKey, t } from './util.js';

export const ID = 'host.bruteforce';

function kindsText(a: FailureAgg): { en: string; zh: string } {
  const top = a.kinds.top(3);
  return {
    en: top.map(([k, n]) => `${num(n)} ${FAILURE_TEXT[k as FailureKind]?.en ?? k}`).join(', '),
    zh: top.map(([k, n]) => `${FAILURE_TEXT[k as FailureKind]?.zh ?? k} ${n} 次`).join('，'),
  };
}

function accountsText(a: FailureAgg): string {
  return a.users
    .top(3)
    .map(([u, n]) => `${u} ×${num(n)}`)
    .join(', ');
}

export function aggFacts(state: HostState, a: FailureAgg): Record<string, unknown> {
  return {
    failures: a.count,
    byKind: a.kinds.topObject(8),
    distinctAccounts: a.users.distinct,
    accountsTruncated: a.users.saturated,
    accounts: a.users.topObject(10),
    distinctSources: a.sources.distinct,
    sources: a.sources.topObject(10),
    workstations: a.workstations.topObject(5),
    logonTypes: a.logonTypes.topObject(8),
    statuses: a.statuses.topObject(8),
    eventIds: a.codes.topObject(8),
    peakInWindow: a.peakWindow,
    peakAt: a.peakWindowAt,
    windowMs: state.brute.windowMs,
    bursts: a.bursts.slice(0, 5).map((b) => ({ start: b.start, end: b.end, count: b.count })),
    burstCount: a.bursts.length,
    evidenceSampled: true,
  };
}

function confidence(state: HostState, a: FailureAgg): number {
  const windowed = a.peakWindow >= state.brute.threshold;
  const base = windowed ? 0.7 : 0.55;
  return Math.min(0.97, base + Math.log10(Math.max(1, a.count)) / 12);
}

function build(state: HostState): Finding[] {
  const out: Finding[] = [];
  const { bySource: bSrc, byUser: bUser } = breaches(state);
  const homeNet = state.ctx.homeNet;
  for (const a of state.bySource.values()) {
    if (!state.isBrute(a)) continue;
    const isIp = a.sources.distinct > 0;
    const src = isIp ? a.key : undefined;
    const external = !!src && !homeNet.isInternal(src);
    const breach = bSrc.get(a);
    let severity: Severity = a.count >= state.brute.highCount || external ? 'high' : 'medium';
    if (breach) severity = 'critical';
    const topUser = a.users.top(1)[0]?.[0];
    const k = kindsText(a);
    const who = src ?? `workstation ${a.key}`;
    const whoZh = src ?? `工作站 ${a.key}`;
    const succEn = breach
      ? ` A logon as ${breach.success.user} from this source succeeded at ${t(breach.success.t)} (record ${breach.success.ref.record ?? '?'}).`
      : ' No successful logon from this source was found.';
    const succZh = breach ? `${t(breach.success.t)} 该来源以账户 ${breach.success.user} 登录成功（记录 ${breach.success.ref.record ?? '?'}），主机已失陷。` : '未发现该来源登录成功。';
    out.push(
      mk(ID, {
        attack: ['T1110.001'],
        severity,
        outcome: breach ? 'compromised' : 'failed',
        confidence: confidence(state, a),
        first: a.first,
        last: a.last,
        src,
        host: a.host,
        user: a.users.distinct === 1 ? topUser : topUser,
        summary: {
          en: `Password guessing against ${a.host} from ${who}${external ? ' (external)' : ''}: ${num(a.count)} failed logons (${k.en}) for ${num(a.users.distinct)} account(s) (${accountsText(a)}) between ${t(a.first)} and ${t(a.last)}, up to ${num(a.peakWindow)} within ${Math.round(state.brute.windowMs / 60000)} minutes.${succEn}`,
          zh: `主机 ${a.host} 遭到来自${external ? '外网地址 ' : ' '}${whoZh} 的密码暴力破解：${t(a.first)} 至 ${t(a.last)} 共登录失败 ${a.count} 次（${k.zh}），涉及 ${a.users.distinct} 个账户（${accountsText(a)}），${Math.round(state.brute.windowMs / 60000)} 分钟内最多 ${a.peakWindow} 次。${succZh}`,
        },
        evidence: a.sample.refs(breach?.success.ref),
        facts: {
          ...aggFacts(state, a),
          external,
          workstationOnly: !isIp,
          succeeded: breach ? { t: breach.success.t, user: breach.success.user, logonType: breach.success.logonType, eventId: breach.success.code, logonId: breach.success.logonId, ref: breach.success.ref } : null,
        },
      }),
    );
  }
  // Accounts guessed from many sources (or from no recorded source) that no source finding already covers.
  for (const u of state.byUser.values()) {
    if (!state.isBrute(u)) continue;
    let covered = 0;
    for (const [s, n] of u.sources.map) {
      const sa = state.bySource.get(hostKey(u.host) + '|' + (s.startsWith('ws:') ? s.toLowerCase() : s));
      if (sa && state.isBrute(sa)) covered += n;
    }
    const residual = u.count - covered;
    if (residual < state.brute.threshold || (residual < state.brute.totalThreshold && u.peakWindow < state.brute.threshold)) continue;
    if (covered > 0 && u.sources.distinct - 1 < 2) continue;
    const breach = bUser.get(u);
    const k = kindsText(u);
    const distributed = u.sources.distinct >= 2;
    out.push(
      mk(ID, {
        attack: ['T1110.001'],
        severity: breach ? 'high' : u.count >= state.brute.highCount ? 'high' : 'medium',
        outcome: breach ? 'succeeded' : 'failed',
        confidence: Math.min(0.9, confidence(state, u) - 0.05),
        first: u.first,
        last: u.last,
        host: u.host,
        user: u.key,
        src: u.sources.distinct === 1 ? u.sources.top(1)[0][0] : undefined,
        summary: {
          en: `Password guessing against account ${u.key} on ${u.host}: ${num(u.count)} failed logons (${k.en}) ${distributed ? `from ${num(u.sources.distinct)} sources` : 'with no source address recorded'} between ${t(u.first)} and ${t(u.last)}.${breach ? ` The account then logged on successfully from ${breach.success.src || 'an unrecorded source'} at ${t(breach.success.t)}.` : ''}`,
          zh: `主机 ${u.host} 上的账户 ${u.key} 遭到密码猜测：${t(u.first)} 至 ${t(u.last)} 共登录失败 ${u.count} 次（${k.zh}），${distributed ? `来自 ${u.sources.distinct} 个来源` : '日志未记录来源地址'}。${breach ? `随后该账户于 ${t(breach.success.t)} 从 ${breach.success.src || '未知来源'} 登录成功。` : ''}`,
        },
        evidence: u.sample.refs(breach?.success.ref),
        facts: { ...aggFacts(state, u), perAccount: true, succeeded: breach ? { t: breach.success.t, src: breach.success.src, ref: breach.success.ref } : null },
      }),
    );
  }
  return out;
}

export const bruteforce: DetectorModule = {
  id: ID,
  title: { en: 'Brute force / password guessing', zh: '暴力破解（密码猜测）' },
  attack: ['T1110.001'],
  defaults: { ...BRUTE_DEFAULTS },
  create(ctx: DetectorContext) {
    return hostDetector(ctx, ID, { finish: build });
  },
};
