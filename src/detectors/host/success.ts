/**
 * Brute force that succeeded: a successful remote logon from a source, or for
 * an account, that failed many times just before. Evaluated once per state
 * at finish() (so the order in which Security and TerminalServices logs were
 * read does not matter) and shared by the brute-force, spray and success
 * detectors.
 */
import type { FailureAgg, HostState, SuccessRec } from './state.js';
import { hostKey, userKey } from './util.js';

export interface Breach {
  /** 'source': success from the attacking source; 'account': success for the attacked account from elsewhere. */
  match: 'source' | 'account';
  agg: FailureAgg;
  success: SuccessRec;
  /** Failures within the look-back window before the success. */
  recentFailures: number;
  /** The logged-on account was among the guessed ones. */
  userWasTargeted: boolean;
  /** The successful source also failed against the account. */
  srcWasFailing: boolean;
  /** Successful logons from the same key after the breach. */
  laterSuccesses: number;
  laterSample: SuccessRec[];
}

const memo = new WeakMap<HostState, { bySource: Map<FailureAgg, Breach>; byUser: Map<FailureAgg, Breach> }>();

function hasUser(a: FailureAgg, user: string): boolean {
  const u = userKey(user);
  for (const k of a.users.map.keys()) if (userKey(k) === u) return true;
  return false;
}

export function breaches(state: HostState): { bySource: Map<FailureAgg, Breach>; byUser: Map<FailureAgg, Breach> } {
  const m = memo.get(state);
  if (m) return m;
  const { minFailures, lookbackMs, accountMatch } = state.success;
  const bySource = new Map<FailureAgg, Breach>();
  const byUser = new Map<FailureAgg, Breach>();
  const matchedSuccess = new Set<SuccessRec>();
  for (const [k, a] of state.bySource) {
    if (!state.isBrute(a)) continue;
    const list = state.successBySource.get(k);
    if (!list) continue;
    const items = list.items();
    for (let i = 0; i < items.length; i++) {
      const s = items[i];
      if (s.t < a.first) continue; // logons before the attack began are not its result
      const recent = a.failuresBetween(s.t - lookbackMs, s.t);
      if (recent < minFailures) continue;
      const later = items.slice(i + 1);
      bySource.set(a, {
        match: 'source',
        agg: a,
        success: s,
        recentFailures: recent,
        userWasTargeted: hasUser(a, s.user),
        srcWasFailing: true,
        laterSuccesses: later.length + (s.t <= (list.lastItems[0]?.t ?? -Infinity) ? Math.max(0, list.count - items.length) : 0),
        laterSample: later.slice(0, 5),
      });
      for (const x of items) if (x.t >= s.t) matchedSuccess.add(x);
      break;
    }
  }
  if (accountMatch) {
    for (const [k, u] of state.byUser) {
      if (!state.isBrute(u)) continue;
      const list = state.successByUser.get(k);
      if (!list) continue;
      const items = list.items();
      for (let i = 0; i < items.length; i++) {
        const s = items[i];
        if (s.t < u.first || matchedSuccess.has(s)) continue;
        // the same success already explained by a source breach on this host
        const srcAgg = s.src ? state.bySource.get(hostKey(u.host) + '|' + s.src) : undefined;
        if (srcAgg && bySource.has(srcAgg)) continue;
        const recent = u.failuresBetween(s.t - lookbackMs, s.t);
        if (recent < minFailures) continue;
        const srcWasFailing = !!s.src && u.sources.map.has(s.src);
        const external = !!s.src && !state.ctx.homeNet.isInternal(s.src);
        if (!srcWasFailing && !external && s.src) continue; // an internal user logging in normally while the account is attacked
        const later = items.slice(i + 1);
        byUser.set(u, {
          match: 'account',
          agg: u,
          success: s,
          recentFailures: recent,
          userWasTargeted: true,
          srcWasFailing,
          laterSuccesses: later.length,
          laterSample: later.slice(0, 5),
        });
        break;
      }
    }
  }
  const r = { bySource, byUser };
  memo.set(state, r);
  return r;
}

/** The breach (if any) that explains a source aggregate. */
export function breachOfSource(state: HostState, a: FailureAgg): Breach | undefined {
  return breaches(state).bySource.get(a);
}
