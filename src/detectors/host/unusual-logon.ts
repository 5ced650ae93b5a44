/**
 * host.unusual-logon — successful logons at unusual hours or from unusual
 * sources (T1078, T1021.001 for RDP). Normal hours and sources are learnt per
 * (host, account) from the log itself:
 *  - night: local hour in `nightHours` (default 00–05, case time zone from
 *    settings `timeZone`), unless the account logs on at night routinely
 *    (≥ `normalNightShare` of ≥ `minHistory` logons);
 *  - first-seen source: the account had ≥ `minHistory` logons from other
 *    sources before this source first appeared;
 *  - public source: an external address logging on interactively/over RDP is
 *    high severity;
 *  - brute-force source: logons from an address that guessed passwords.
 * Only interactive/RDP logons and network logons from external addresses are
 * considered (internal type 3 logons are file-share and service traffic).
 */
import type { DetectorContext, DetectorModule, Finding, Severity } from '../../core/finding.js';
import { hostDetector, mk, num } from './base.js';
import type { HostState, LogonGroup } from './state.js';
import { hostKey, raise, t, userKey } from './util.js';

export const ID = 'host.unusual-logon';

export const UNUSUAL_DEFAULTS = {
  nightHours: [0, 1, 2, 3, 4, 5],
  // Hours are judged in the case time zone (DetectorContext.tz); a `timeZone` setting (IANA name or
  // 'UTC+8') overrides it for this detector.
  minHistory: 10,
  normalNightShare: 0.3,
  maxFindings: 200,
};

function build(state: HostState, cfg: typeof UNUSUAL_DEFAULTS): Finding[] {
  const out: Finding[] = [];
  const home = state.ctx.homeNet;
  // per (host, account): totals over all groups
  const perUser = new Map<string, { total: number; night: number; groups: LogonGroup[] }>();
  for (const g of state.groups.values()) {
    if (g.via === 'rdp' && state.hostsWith4624.has(hostKey(g.host))) continue; // the 4624s already count these
    const k = hostKey(g.host) + '|' + userKey(g.user);
    let u = perUser.get(k);
    if (!u) perUser.set(k, (u = { total: 0, night: 0, groups: [] }));
    u.total += g.count;
    for (const h of state.nightHours) u.night += g.hours[h];
    u.groups.push(g);
  }
  for (const u of perUser.values()) {
    const nightNormal = u.total >= cfg.minHistory && u.night / u.total >= cfg.normalNightShare;
    for (const g of u.groups) {
      const types = [...g.logonTypes.map.keys()];
      const rdp = g.via === 'rdp' || types.includes('10') || types.includes('12');
      const interactive = rdp || types.includes('2') || types.includes('11') || types.includes('7');
      const external = !!g.src && !home.isInternal(g.src);
      if (!interactive && !external) continue;
      const nightCount = state.nightHours.reduce((n, h) => n + g.hours[h], 0);
      const brute = g.src ? state.bruteSource(g.host, g.src) : undefined;
      const earlierOther = u.groups.filter((o) => o !== g && o.first < g.first).reduce((n, o) => n + o.count, 0);
      const firstSeen = !!g.src && earlierOther >= cfg.minHistory;
      const reasons: string[] = [];
      if (external && rdp) reasons.push('public-source-rdp');
      else if (external) reasons.push('public-source');
      if (brute) reasons.push('brute-force-source');
      if (nightCount > 0 && !nightNormal) reasons.push('night');
      if (firstSeen) reasons.push('first-seen-source');
      if (!reasons.length) continue;
      if (out.length >= cfg.maxFindings) break;
      let sev: Severity = 'low';
      if (reasons.includes('night')) sev = 'medium';
      if (external && rdp) sev = 'high';
      else if (external) sev = raise(sev);
      if (brute) sev = 'high';
      if (brute && reasons.includes('night')) sev = 'critical';
      const conf = brute ? 0.85 : external && rdp ? 0.7 : reasons.includes('night') ? 0.6 : 0.4;
      const sessions = g.logonIds
        .slice(0, 3)
        .map((id) => state.sessions.get(g.host, id))
        .filter((s): s is NonNullable<typeof s> => !!s)
        .map((s) => state.sessions.summarize(s));
      const nightText = reasons.includes('night') ? `${num(nightCount)} of them at night (local ${state.clock.zone} ${state.clock.local(g.nightFirst)}${nightCount > 1 ? ` … ${state.clock.local(g.nightLast)}` : ''})` : '';
      const nightZh = reasons.includes('night') ? `其中 ${nightCount} 次在夜间（${state.clock.zone} 当地时间 ${state.clock.local(g.nightFirst)}${nightCount > 1 ? ` 至 ${state.clock.local(g.nightLast)}` : ''}）` : '';
      const reasonsZh = reasons
        .map((r) => ({ 'public-source-rdp': '外网地址远程桌面登录', 'public-source': '来自外网地址', 'brute-force-source': '来源曾进行暴力破解', night: '夜间登录，不符合该账户的登录习惯', 'first-seen-source': '该账户首次从此来源登录' })[r] ?? r)
        .join('；');
      out.push(
        mk(ID, {
          attack: rdp ? ['T1078', 'T1021.001'] : ['T1078'],
          severity: sev,
          outcome: 'succeeded',
          confidence: conf,
          first: g.first,
          last: g.last,
          src: g.src || undefined,
          host: g.host,
          user: g.user,
          summary: {
            en: `Unusual logons to ${g.host} as ${g.user}${g.src ? ` from ${g.src}` : ''}: ${num(g.count)} successful ${rdp ? 'RDP/interactive' : 'network'} logon(s) between ${t(g.first)} and ${t(g.last)}${nightText ? `, ${nightText}` : ''}. Why: ${reasons.join(', ')}.`,
            zh: `账户 ${g.user}${g.src ? ` 从 ${g.src}` : ''} 登录主机 ${g.host} 存在异常：${t(g.first)} 至 ${t(g.last)} 共成功${rdp ? '远程/交互式' : '网络'}登录 ${g.count} 次${nightZh ? `，${nightZh}` : ''}。判断依据：${reasonsZh}。`,
          },
          evidence: reasons.includes('night') ? g.night.refs(g.firstRef) : g.sample.refs(g.firstRef),
          facts: {
            reasons,
            logons: g.count,
            nightLogons: nightCount,
            hoursLocal: g.hours,
            timeZone: state.clock.zone,
            logonTypes: g.logonTypes.topObject(8),
            external,
            firstSeen: g.first,
            accountLogonsTotal: u.total,
            accountNightShare: u.total ? Math.round((u.night / u.total) * 100) / 100 : 0,
            earlierLogonsFromOtherSources: earlierOther,
            bruteForceFailures: brute?.count ?? 0,
            via: g.via,
            sessions,
          },
        }),
      );
    }
  }
  return out;
}

export const unusualLogon: DetectorModule = {
  id: ID,
  title: { en: 'Unusual logon time or source', zh: '异常登录时间或来源' },
  attack: ['T1078', 'T1021.001'],
  defaults: { ...UNUSUAL_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...UNUSUAL_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof UNUSUAL_DEFAULTS;
    return hostDetector(ctx, ID, { finish: (s) => build(s, cfg) });
  },
};
