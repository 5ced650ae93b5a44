/**
 * Aggregation of rule hits into findings: one finding per (host, rule, key),
 * with counts, first/last, a bounded evidence sample, a few distinct command
 * lines and the logon sessions they ran in.
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import type { Finding, FindingOutcome, Severity } from '../../core/finding.js';
import { mk, num } from './base.js';
import { describeSession, type LogonSession } from './sessions.js';
import type { HostState } from './state.js';
import { clip, hostKey, maxSev, RefSample, t } from './util.js';

export interface Hit {
  rule: string;
  attack: string[];
  severity: Severity;
  en: string;
  zh: string;
  /** What was seen (image, service name, file ...), shown in the summary. */
  subject: string;
  /** Extra detail (command line, path), a few distinct ones kept. */
  detail?: string;
  outcome?: FindingOutcome;
  confidence?: number;
  facts?: Record<string, unknown>;
  /** Key to group by besides host+rule (defaults to subject). */
  key?: string;
}

interface Agg {
  host: string;
  hit: Hit;
  count: number;
  first: number;
  last: number;
  sample: RefSample;
  details: string[];
  sessions: LogonSession[];
  users: Set<string>;
  severity: Severity;
  facts: Record<string, unknown>;
}

export class HitAggregator {
  private readonly aggs = new Map<string, Agg>();
  dropped = 0;
  constructor(
    private readonly detector: string,
    private readonly max = 2000,
  ) {}

  add(e: SpoorEvent, state: HostState, hit: Hit, user = ''): void {
    const host = (e['winlog.computer_name'] as string) || '?';
    const k = hostKey(host) + '|' + hit.rule + '|' + (hit.key ?? hit.subject).toLowerCase();
    let a = this.aggs.get(k);
    if (!a) {
      if (this.aggs.size >= this.max) {
        this.dropped++;
        return;
      }
      a = { host, hit, count: 0, first: Infinity, last: -Infinity, sample: new RefSample(5), details: [], sessions: [], users: new Set(), severity: hit.severity, facts: { ...(hit.facts ?? {}) } };
      this.aggs.set(k, a);
    }
    a.count++;
    const ts = e['@timestamp'];
    if (ts < a.first) a.first = ts;
    if (ts > a.last) a.last = ts;
    a.sample.add(e.ref);
    a.severity = maxSev(a.severity, hit.severity);
    if (hit.detail && a.details.length < 5 && !a.details.includes(clip(hit.detail, 400))) a.details.push(clip(hit.detail, 400));
    if (user && a.users.size < 10) a.users.add(user);
    if (a.sessions.length < 5) {
      const s = state.sessions.sessionOf(e);
      if (s && !a.sessions.includes(s)) a.sessions.push(s);
    }
  }

  /**
   * Like add(), for hot paths: `make` builds the Hit only when (host, rule, key) is new;
   * repeats only update counts, time span, evidence sample, details, users and sessions.
   */
  addLazy(e: SpoorEvent, state: HostState, rule: string, key: string, detail: string, make: () => Hit, user = ''): void {
    const host = (e['winlog.computer_name'] as string) || '?';
    const a = this.aggs.get(hostKey(host) + '|' + rule + '|' + key.toLowerCase());
    if (!a) return this.add(e, state, { ...make(), rule, key, detail }, user);
    a.count++;
    const ts = e['@timestamp'];
    if (ts < a.first) a.first = ts;
    if (ts > a.last) a.last = ts;
    a.sample.add(e.ref);
    if (detail && a.details.length < 5) {
      const d = clip(detail, 400);
      if (!a.details.includes(d)) a.details.push(d);
    }
    if (user && a.users.size < 10) a.users.add(user);
    if (a.sessions.length < 5) {
      const s = state.sessions.sessionOf(e);
      if (s && !a.sessions.includes(s)) a.sessions.push(s);
    }
  }

  findings(state: HostState): Finding[] {
    const out: Finding[] = [];
    for (const a of this.aggs.values()) {
      const sums = a.sessions.map((s) => state.sessions.summarize(s));
      let sev = a.severity;
      const reasons: string[] = [];
      for (const s of sums) {
        if (s.src && state.bruteSource(a.host, s.src)) reasons.push(`session from brute-force source ${s.src}`);
        else if (s.src && !state.ctx.homeNet.isInternal(s.src)) reasons.push(`session from external address ${s.src}`);
      }
      if (reasons.length) sev = maxSev(sev, 'high');
      const sessEn = sums[0] ? ` Run in ${describeSession(sums[0]).en}.` : '';
      const sessZh = sums[0] ? `发生在${describeSession(sums[0]).zh}中。` : '';
      const detEn = a.details[0] ? ` e.g. ${a.details[0]}` : '';
      out.push(
        mk(this.detector, {
          attack: [...a.hit.attack],
          severity: sev,
          outcome: a.hit.outcome ?? 'succeeded',
          confidence: a.hit.confidence ?? (sev === 'critical' ? 0.9 : sev === 'high' ? 0.8 : sev === 'medium' ? 0.65 : 0.45),
          first: a.first,
          last: a.last,
          host: a.host,
          user: [...a.users][0],
          src: sums.find((s) => s.src)?.src,
          summary: {
            en: `${a.hit.en[0].toUpperCase() + a.hit.en.slice(1)} on ${a.host}: ${a.hit.subject}${a.count > 1 ? ` (${num(a.count)} times, ${t(a.first)} – ${t(a.last)})` : ` at ${t(a.first)}`}.${detEn ? detEn + '.' : ''}${sessEn}${reasons.length ? ` ${reasons[0]}.` : ''}`,
            zh: `主机 ${a.host} 上发现${a.hit.zh}：${a.hit.subject}${a.count > 1 ? `（${t(a.first)} 至 ${t(a.last)} 共 ${a.count} 次）` : `（${t(a.first)}）`}。${sessZh}`,
          },
          evidence: a.sample.refs(...sums.map((s) => s.startRef ?? undefined)),
          facts: { rule: a.hit.rule, count: a.count, subject: a.hit.subject, details: a.details, users: [...a.users], sessions: sums, suspiciousSession: reasons, ...a.facts },
        }),
      );
    }
    return out;
  }
}

export type { EvidenceRef };
