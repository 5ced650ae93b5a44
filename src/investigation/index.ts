/**
 * Investigation: from findings to incidents, each with one attack chain, as a
 * responder pivots. See docs/INVESTIGATION.md.
 *
 *   const ec = new EntityCollector(homeNet); ec.addHostMap(cfg.hosts);
 *   for (const e of events) ec.observe(e);
 *   const incidents = investigate({ findings, entities: ec.snapshot(), homeNet, alert, tz });
 */
import { isoTime } from '../core/event.js';
import type { Finding, Severity } from '../core/finding.js';
import { maxSeverity } from '../core/finding.js';
import type { HomeNet } from '../core/homenet.js';
import type { AlertSpec, CompromisedEntry, HostEntry, Incident } from '../incident/types.js';
import { analyze, DEFAULT_GROUP_OPTIONS, groupRecs, isIncident, linkKeys, mayBeIncident, type Analysis, type GroupOptions } from './chain.js';
import { techniqueName } from './classify.js';
import type { EntitySnapshot } from './entities.js';
import { buildGraph, buildRecs, Resolver, type EntityGraph, type Rec } from './graph.js';
import { chainLinks, iocs, localTime, pivotSteps, recommendations, rootCause, rootCausePoints, timeline, type Ctx } from './narrate.js';
import { alertSubject } from './alert.js';

export { parseAlert, alertSubject } from './alert.js';
export { EntityCollector, emptySnapshot, type EntitySnapshot, type EntityLimits } from './entities.js';
export { classify, type StepKind } from './classify.js';
export type { EntityGraph, GraphEdge, GraphNode } from './graph.js';

export interface InvestigateInput {
  findings: Finding[];
  entities?: EntitySnapshot | null;
  homeNet: HomeNet;
  alert?: AlertSpec | null;
  tz: string;
  hostMap?: Record<string, string>;
  options?: Partial<GroupOptions>;
}

export interface InvestigationResult {
  incidents: Incident[];
  graph: EntityGraph;
  /** Finding ids that stay findings (in no incident). */
  isolated: string[];
}

/** Incidents only (the pipeline's main call). */
export function investigate(input: InvestigateInput): Incident[] {
  return investigateAll(input).incidents;
}

const SEV: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

/** Incidents, the entity graph (for the case store) and the findings left standing alone. */
export function investigateAll(input: InvestigateInput): InvestigationResult {
  const opt: GroupOptions = { ...DEFAULT_GROUP_OPTIONS, ...(input.options ?? {}) };
  const findings = Array.isArray(input.findings) ? input.findings : [];
  const res = new Resolver(input.homeNet, input.entities, input.hostMap);
  const recs = buildRecs(findings, res);
  const graph = buildGraph(recs, res);
  const ctx: Ctx = { res, tz: input.tz || 'UTC', snap: input.entities, homeNets: input.homeNet.texts.filter((t) => !/^(127\.|169\.254\.|fe80:|::1|fc00:)/.test(t)) };

  // Group, analyse, and move attack sources that led nowhere out into groups of their own.
  let pending = groupRecs(recs, res, opt);
  const analyses: Analysis[] = [];
  for (let round = 0; pending.length && round < 4; round++) {
    const next: Rec[] = [];
    for (const g of pending) {
      if (!mayBeIncident(g)) continue; // could not stand as an incident: its findings stay findings
      let an = analyze(g, res, input.entities);
      if (an.peripheral.length) {
        const drop = new Set(an.peripheral.map((h) => h.key));
        const keep = g.filter((r) => !(r.actor && drop.has(r.actor)));
        const moved = g.filter((r) => r.actor && drop.has(r.actor));
        if (keep.length && moved.length) {
          next.push(...moved);
          an = analyze(keep, res, input.entities);
        }
      }
      analyses.push(an);
    }
    pending = next.length ? groupRecs(next, res, opt) : [];
  }
  let incidentsA = analyses.filter(isIncident);

  // Attach non-significant findings whose actor is a compromised host, attacker or C2 of an incident.
  const inIncident = new Set<string>();
  for (const a of incidentsA) for (const r of a.recs) inIncident.add(r.f.id);
  const owners = new Map<string, { a: Analysis; role: string; since: number }[]>();
  for (const a of incidentsA) {
    for (const h of a.hosts.values()) {
      if (h.role === 'compromised' || h.role === 'attacker' || h.role === 'c2') {
        const l = owners.get(h.key) ?? [];
        l.push({ a, role: h.role, since: h.role === 'compromised' ? h.since ?? a.first : a.first - opt.windowMs });
        owners.set(h.key, l);
      }
    }
  }
  const extra = new Map<Analysis, Rec[]>();
  for (const r of recs) {
    if (r.sig || inIncident.has(r.f.id)) continue;
    const k = r.actor;
    if (!k) continue;
    const cand = owners.get(k)?.find((o) => r.t >= o.since && (o.role === 'compromised' || r.t <= o.a.last + opt.windowMs));
    if (!cand) continue;
    const l = extra.get(cand.a) ?? [];
    l.push(r);
    extra.set(cand.a, l);
  }
  if (extra.size) incidentsA = incidentsA.map((a) => (extra.has(a) ? analyze([...a.recs, ...extra.get(a)!], res, input.entities) : a));

  incidentsA.sort((x, y) => x.first - y.first);
  const alertKey = input.alert ? res.key(alertSubject(input.alert)) : undefined;
  const incidents: Incident[] = incidentsA.map((a, i) => {
    const touches = alertKey !== undefined && a.hosts.has(alertKey);
    return toIncident(a, `INC-${String(i + 1).padStart(3, '0')}`, ctx, touches || (input.alert && !incidentsA.some((x) => alertKey && x.hosts.has(alertKey)) && i === 0) ? input.alert : null);
  });
  const used = new Set<string>();
  for (const inc of incidents) for (const id of inc.findings) used.add(id);
  const isolated = findings.filter((f) => f && typeof f.id === 'string' && !used.has(f.id)).map((f) => f.id);
  return { incidents, graph, isolated };
}

function round2(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 100) / 100;
}

function toIncident(a: Analysis, id: string, ctx: Ctx, alert: AlertSpec | null | undefined): Incident {
  const res = ctx.res;
  const L = (k: string) => res.label(k);
  let sev: Severity = 'info';
  for (const r of a.recs) sev = maxSeverity(sev, SEV.includes(r.f.severity) ? r.f.severity : 'info');
  if (a.compromised.length) sev = maxSeverity(sev, 'high');
  if (a.compromised.length > 1 || (a.compromised.length && a.c2.length)) sev = 'critical';

  const display = (k: string) => {
    const n = res.names(k);
    return n.length ? n[0] : k;
  };
  const compromised: CompromisedEntry[] = a.compromised.map((h) => ({
    host: display(h.key),
    ip: res.isAddress(h.key) ? h.key : '',
    since: isoTime(h.since ?? a.first),
    via: h.entry?.technique || 'unknown',
    findings: h.because.slice(0, 20).map((r) => r.f.id),
  }));
  const hosts: HostEntry[] = [];
  const roleOrder = { attacker: 0, compromised: 1, c2: 2, targeted: 3, victim: 4 } as const;
  const hs = [...a.hosts.values()].filter((h) => h.role && (h.role !== 'targeted' || h.because.length || true)).sort((x, y) => roleOrder[x.role!] - roleOrder[y.role!] || x.key.localeCompare(y.key));
  let targetedCount = 0;
  for (const h of hs) {
    if (!h.role) continue;
    if (h.role === 'targeted' && ++targetedCount > 1024) continue;
    const e: HostEntry = { host: h.key, role: h.role, internal: h.internal, confidence: round2(h.confidence), because: h.because.slice(0, 20).map((r) => r.f.id) };
    if (res.isAddress(h.key)) e.ip = h.key;
    const names = res.names(h.key);
    if (names.length) e.names = names;
    if (h.role === 'compromised') {
      e.since = isoTime(h.since ?? a.first);
      e.via = h.entry?.technique || 'unknown';
    }
    if (h.doubts.length) e.doubts = h.doubts;
    hosts.push(e);
  }
  const entry = a.entry
    ? {
        host: display(a.entry.host.key),
        ip: res.isAddress(a.entry.host.key) ? a.entry.host.key : undefined,
        technique: a.entry.access.technique,
        time: isoTime(a.entry.access.time),
        from: a.entry.access.from ?? '',
        findings: a.entry.access.recs.map((r) => r.f.id),
      }
    : null;
  if (entry && entry.ip === undefined) delete entry.ip;
  const techniques = [...new Set(a.recs.flatMap((r) => (Array.isArray(r.f.attack) ? r.f.attack : [])))].sort();
  let confidence: number;
  if (a.compromised.length) confidence = a.compromised.reduce((s, h) => s + h.confidence, 0) / a.compromised.length;
  else confidence = a.attackers.reduce((m, h) => Math.max(m, h.confidence), 0) * 0.8;
  const lateral = a.compromised.filter((h) => h.entry && (h.entry.kind === 'lateral-auth' || h.entry.kind === 'service') && a.entry?.host !== h);
  let title: { en: string; zh: string };
  if (a.entry) {
    const tn = techniqueName(a.entry.access.technique);
    const from = a.entry.access.from ? L(a.entry.access.from) : '';
    title = {
      en: `${tn.en[0].toUpperCase()}${tn.en.slice(1)} of ${L(a.entry.host.key)}${from ? ` from ${from}` : ''}${a.c2.length ? `, C2 ${a.c2.map((c) => c.key).join(', ')}` : ''}${lateral.length ? `, lateral movement to ${lateral.map((h) => L(h.key)).join(', ')}` : ''}`,
      zh: `${from ? `${from} ` : ''}通过${tn.zh}入侵 ${L(a.entry.host.key)}${a.c2.length ? `，C2 ${a.c2.map((c) => c.key).join('、')}` : ''}${lateral.length ? `，横向移动至 ${lateral.map((h) => L(h.key)).join('、')}` : ''}`,
    };
  } else if (a.compromised.length) {
    title = { en: `Compromised host${a.compromised.length > 1 ? 's' : ''} ${a.compromised.map((h) => L(h.key)).join(', ')} (entry not observed)`, zh: `失陷主机 ${a.compromised.map((h) => L(h.key)).join('、')}（未见入侵过程）` };
  } else {
    const at = a.attackers.map((h) => L(h.key)).join(', ') || 'unknown source';
    const tg = [...a.hosts.values()].filter((h) => h.role === 'targeted').slice(0, 3).map((h) => L(h.key));
    title = { en: `Attack by ${at}${tg.length ? ` against ${tg.join(', ')}` : ''} (no compromise observed)`, zh: `${at} 对 ${tg.join('、') || '内网主机'} 的攻击（未见入侵成功）` };
  }
  void localTime;
  return {
    id,
    title,
    severity: sev,
    confidence: round2(confidence),
    first: isoTime(Number.isFinite(a.first) ? a.first : 0),
    last: isoTime(Number.isFinite(a.last) ? a.last : 0),
    attackers: a.attackers.map((h) => h.key),
    compromised,
    c2: a.c2.map((h) => h.key),
    entry,
    techniques,
    hosts,
    chain: chainLinks(a, ctx),
    timeline: timeline(a, ctx),
    steps: pivotSteps(a, ctx, alert),
    root_cause: rootCause(a, ctx),
    root_cause_points: rootCausePoints(a, ctx),
    iocs: iocs(a, ctx),
    recommendations: recommendations(a, ctx),
    findings: a.recs.map((r) => r.f.id),
  };
}

/** Rows for the case store: `entities` and `edges` tables. */
export function graphRows(g: EntityGraph): { entities: Record<string, unknown>[]; edges: Record<string, unknown>[] } {
  return {
    entities: g.nodes.map((n) => ({ id: n.id, type: n.type, ip: n.ip ?? null, names: (n.names ?? []).join(','), internal: n.internal ?? null, first: isoTime(n.first), last: isoTime(n.last), findings: n.findings })),
    edges: g.edges.map((e) => ({ src: e.from, dst: e.to, kind: e.kind, technique: e.technique, first: isoTime(e.first), last: isoTime(e.last), count: e.count, findings: e.findings.join(','), evidence: JSON.stringify(e.evidence) })),
  };
}

void linkKeys;
