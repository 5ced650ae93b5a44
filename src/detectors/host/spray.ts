/**
 * host.spray — password spraying and user guessing (T1110.003).
 *
 * One source failing against many accounts within `windowMs`: ≥ `users`
 * distinct accounts (password spraying) or ≥ `unknownUsers` distinct
 * non-existent accounts (4625 SubStatus 0xC0000064: user guessing, Hayabusa
 * "> 3 in 5 minutes"). Also 4648 explicit-credential use by one logon session
 * for ≥ `explicitUsers` distinct target accounts within the window (Hayabusa
 * PW Spray ≥ 5 in 5 minutes; DeepBlueCLI "Distributed Account Explicit
 * Credential Use"). Outcome `compromised` when a success followed from the
 * spraying source.
 */
import type { DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { hostDetector, mk, num } from './base.js';
import { aggFacts } from './bruteforce.js';
import { SPRAY_DEFAULTS, type HostState } from './state.js';
import { breaches } from './success.js';
import { t } from './util.js';

export const ID = 'host.spray';

function build(state: HostState): Finding[] {
  const out: Finding[] = [];
  const sp = state.spray;
  const { bySource } = breaches(state);
  const win = Math.round(sp.windowMs / 60000);
  for (const a of state.bySource.values()) {
    const spraying = a.peakUsers >= sp.users;
    const guessing = a.peakUnknownUsers >= sp.unknownUsers;
    if (!spraying && !guessing) continue;
    const src = a.sources.distinct > 0 ? a.key : undefined;
    const external = !!src && !state.ctx.homeNet.isInternal(src);
    const breach = bySource.get(a);
    const kind = spraying ? 'password-spray' : 'user-guessing';
    const accounts = a.users
      .top(8)
      .map(([u]) => u)
      .join(', ');
    out.push(
      mk(ID, {
        attack: ['T1110.003'],
        severity: breach ? 'critical' : external || a.users.distinct >= 50 ? 'high' : 'medium',
        outcome: breach ? 'compromised' : 'failed',
        confidence: Math.min(0.95, 0.65 + Math.log10(a.peakUsers + 1) / 6),
        first: a.first,
        last: a.last,
        src,
        host: a.host,
        summary: {
          en: `${spraying ? 'Password spraying' : 'User-name guessing'} against ${a.host} from ${src ?? `workstation ${a.key}`}: ${num(a.users.distinct)}${a.users.saturated ? '+' : ''} accounts failed (${num(a.peakUsers)} distinct within ${win} minutes, ${num(a.peakUnknownUsers)} of them non-existent), ${num(a.count)} failures between ${t(a.first)} and ${t(a.last)}; accounts include ${accounts}.${breach ? ` ${breach.success.user} then logged on from this source at ${t(breach.success.t)}.` : ''}`,
          zh: `主机 ${a.host} 遭到来自 ${src ?? `工作站 ${a.key}`} 的${spraying ? '密码喷洒攻击' : '用户名猜测'}：${t(a.first)} 至 ${t(a.last)} 共有 ${a.users.distinct} 个账户登录失败（${win} 分钟内最多 ${a.peakUsers} 个不同账户，其中不存在的账户 ${a.peakUnknownUsers} 个），失败共 ${a.count} 次，账户包括 ${accounts}。${breach ? `随后 ${t(breach.success.t)} 该来源以 ${breach.success.user} 登录成功。` : ''}`,
        },
        evidence: a.sample.refs(breach?.success.ref),
        facts: { kind, ...aggFacts(state, a), peakDistinctAccounts: a.peakUsers, peakUnknownAccounts: a.peakUnknownUsers, external, succeeded: breach ? { t: breach.success.t, user: breach.success.user, ref: breach.success.ref } : null },
      }),
    );
  }
  for (const x of state.explicit.values()) {
    if (x.peakTargets < sp.explicitUsers) continue;
    const targets = x.targets
      .top(8)
      .map(([u]) => u)
      .join(', ');
    out.push(
      mk(ID, {
        attack: ['T1110.003'],
        severity: x.targets.distinct >= 20 ? 'high' : 'medium',
        outcome: 'attempt',
        confidence: Math.min(0.9, 0.6 + Math.log10(x.peakTargets + 1) / 6),
        first: x.first,
        last: x.last,
        host: x.host,
        user: x.subject,
        summary: {
          en: `Password spraying with explicit credentials on ${x.host}: ${x.subject} used ${num(x.targets.distinct)} different accounts (${num(x.peakTargets)} within ${win} minutes; ${num(x.count)} attempts, 4648) between ${t(x.first)} and ${t(x.last)}: ${targets}.`,
          zh: `主机 ${x.host} 上账户 ${x.subject} 使用显式凭据（4648）尝试了 ${x.targets.distinct} 个不同账户（${win} 分钟内最多 ${x.peakTargets} 个，共 ${x.count} 次，${t(x.first)} 至 ${t(x.last)}），疑似密码喷洒：${targets}。`,
        },
        evidence: x.sample.refs(),
        facts: { kind: 'explicit-credentials', attempts: x.count, distinctTargets: x.targets.distinct, peakDistinctTargets: x.peakTargets, targets: x.targets.topObject(20), servers: x.servers.topObject(5), subject: x.subject, windowMs: sp.windowMs },
      }),
    );
  }
  return out;
}

export const spray: DetectorModule = {
  id: ID,
  title: { en: 'Password spraying / user guessing', zh: '密码喷洒 / 用户名猜测' },
  attack: ['T1110.003'],
  defaults: { ...SPRAY_DEFAULTS },
  create(ctx: DetectorContext) {
    return hostDetector(ctx, ID, { finish: build });
  },
};
