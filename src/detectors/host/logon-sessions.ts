/**
 * host.logon-sessions — info-level findings for remote interactive (RDP,
 * type 10) sessions from external addresses, and for network sessions from
 * external addresses in which actions were recorded. They carry the session
 * summary (start, end, duration, actions) that the report's host story uses.
 */
import type { DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { hostDetector, mk } from './base.js';
import { describeSession } from './sessions.js';
import type { HostState } from './state.js';
import { t } from './util.js';

export const ID = 'host.logon-sessions';
export const SESSION_DEFAULTS = { maxFindings: 100 };

function build(state: HostState, max: number): Finding[] {
  const out: Finding[] = [];
  for (const s of state.sessions.all()) {
    if (s.inferred || !s.src || state.ctx.homeNet.isInternal(s.src)) continue;
    if (!(s.logonType === 10 || s.logonType === 12 || (s.actionCount > 0 && s.logonType === 3))) continue;
    if (out.length >= max) break;
    const sum = state.sessions.summarize(s);
    const d = describeSession(sum);
    const dur = sum.durationMs !== null ? ` lasting ${Math.round(sum.durationMs / 60000)} min` : '';
    out.push(
      mk(ID, {
        attack: s.logonType === 3 ? ['T1078'] : ['T1078', 'T1021.001'],
        severity: 'info',
        outcome: 'succeeded',
        confidence: 0.9,
        first: s.start,
        last: s.end ?? s.start,
        src: s.src,
        host: s.host,
        user: s.user,
        summary: {
          en: `External ${d.en}${dur}${s.end !== undefined ? `, ended ${t(s.end)}` : ''}; ${sum.actionCount} recorded action(s).`,
          zh: `外网${d.zh}${sum.durationMs !== null ? `，持续约 ${Math.round(sum.durationMs / 60000)} 分钟` : ''}，会话内记录到 ${sum.actionCount} 项操作。`,
        },
        evidence: [s.startRef, s.endRef, ...s.actions.slice(0, 5).map((a) => a.ref)].filter((r): r is NonNullable<typeof r> => !!r),
        facts: { session: sum },
      }),
    );
  }
  return out;
}

export const logonSessions: DetectorModule = {
  id: ID,
  title: { en: 'External logon sessions', zh: '外网登录会话' },
  attack: ['T1078', 'T1021.001'],
  defaults: { ...SESSION_DEFAULTS },
  create(ctx: DetectorContext) {
    const max = Number(ctx.settings[ID]?.maxFindings ?? SESSION_DEFAULTS.maxFindings);
    return hostDetector(ctx, ID, { finish: (s) => build(s, max) });
  },
};
