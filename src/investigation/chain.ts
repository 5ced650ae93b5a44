/**
 * Incidents and the chain inside each: grouping findings that share entities
 * within time windows, host roles with the findings behind them, the entry
 * point (traced back from the latest compromise) and the blast radius.
 */
import type { Bilingual } from '../core/finding.js';
import type { EntitySnapshot } from './entities.js';
import { ACCESS_KINDS, ATTACK_KINDS, INDICATOR_KINDS, type StepKind } from './classify.js';
import { factNum, FACTS_USED, type Rec, type Resolver } from './graph.js';

export interface GroupOptions {
  /** Findings sharing an entity link when their gap is at most this (ms). Default 2 days (GraphWeaver's long window). */
  windowMs: number;
}
export const DEFAULT_GROUP_OPTIONS: GroupOptions = { windowMs: 2 * 24 * 3600 * 1000 };

class UnionFind {
  private readonly p: Int32Array;
  constructor(n: number) {
    this.p = new Int32Array(n);
    for (let i = 0; i < n; i++) this.p[i] = i;
  }
  find(x: number): number {
    const p = this.p;
    while (p[x] !== x) {
      p[x] = p[p[x]];
      x = p[x];
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.p[ra < rb ? rb : ra] = ra < rb ? ra : rb;
  }
}

/** Entity keys a significant finding links on (never outside scan targets or sweep target lists). */
export function linkKeys(r: Rec): string[] {
  const k: string[] = [];
  if (r.actor) k.push(r.actor);
  if (r.victim) k.push(r.victim);
  if (r.peer && r.c.kind === 'beacon') k.push(r.peer);
  if (r.remote) k.push(r.remote);
  return k;
}

/** Does this finding, on its own, show that `key` fell (victim of a successful access, or actor of post-compromise activity)? */
function marksCompromised(r: Rec, res: Resolver): string | undefined {
  if (r.c.success && ACCESS_KINDS.has(r.c.kind) && r.victim && (r.c.kind !== 'unusual-logon' || r.f.outcome === 'compromised')) return r.victim;
  if ((INDICATOR_KINDS.has(r.c.kind) || r.outbound) && r.actor && res.internal(r.actor)) return r.actor;
  return undefined;
}

/**
 * Group significant findings: union-find over shared entity keys when the gap is within the window,
 * or whenever the shared host was already shown compromised (a compromise persists).
 */
export function groupRecs(recs: Rec[], res: Resolver, opt: GroupOptions = DEFAULT_GROUP_OPTIONS): Rec[][] {
  const sig = recs.filter((r) => r.sig).sort((a, b) => a.t - b.t || a.f.id.localeCompare(b.f.id));
  const uf = new UnionFind(sig.length);
  // One map entry per entity key: the last finding that named it and the latest end seen.
  const last = new Map<string, { i: number; end: number }>();
  const compSince = new Map<string, number>();
  const win = opt.windowMs;
  const link = (k: string, i: number, r: Rec) => {
    const p = last.get(k);
    if (p === undefined) {
      last.set(k, { i, end: r.end });
      return;
    }
    const cs = compSince.size ? compSince.get(k) : undefined;
    if (r.t - p.end <= win || (cs !== undefined && cs <= r.t)) uf.union(i, p.i);
    p.i = i;
    if (r.end > p.end) p.end = r.end;
  };
  for (let i = 0; i < sig.length; i++) {
    const r = sig[i];
    // The keys of linkKeys(r), without building the array.
    if (r.actor) link(r.actor, i, r);
    if (r.victim) link(r.victim, i, r);
    if (r.peer && r.c.kind === 'beacon') link(r.peer, i, r);
    if (r.remote) link(r.remote, i, r);
    const c = marksCompromised(r, res);
    if (c !== undefined && !compSince.has(c)) compSince.set(c, r.at);
  }
  const groups = new Map<number, Rec[]>();
  for (let i = 0; i < sig.length; i++) {
    const root = uf.find(i);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = []));
    g.push(sig[i]);
  }
  return [...groups.values()];
}

export interface Access {
  time: number;
  technique: string;
  kind: StepKind;
  from?: string;
  recs: Rec[];
  /** Directly asserted by a finding (success outcome) rather than inferred. */
  direct: boolean;
  confidence: number;
}

export interface HostState {
  key: string;
  internal: boolean;
  attacks: Rec[];
  targetedBy: Rec[];
  indicators: Rec[];
  accesses: Access[];
  beaconsTo: Set<string>;
  c2For: Rec[];
  sweptBy: Rec[];
  /** Hosts seen contacting this C2 only in connection records. */
  contactOnly?: { src: string; first: number; count: number }[];
  role?: 'attacker' | 'compromised' | 'targeted' | 'c2' | 'victim';
  entry?: Access;
  since?: number;
  confidence: number;
  because: Rec[];
  doubts: Bilingual[];
}

export interface Analysis {
  recs: Rec[];
  hosts: Map<string, HostState>;
  compromised: HostState[];
  attackers: HostState[];
  /** Attack sources whose activity led to no compromise in this incident (only when there is one). */
  peripheral: HostState[];
  c2: HostState[];
  entry: { host: HostState; access: Access } | null;
  first: number;
  last: number;
}

const INDICATOR_WEIGHT: Partial<Record<StepKind, number>> = { beacon: 1, mining: 1, av: 0.6, process: 0.5, evasion: 0.5, download: 0.5, account: 0.4, other: 0.3 };
const ACCESS_PRIORITY: Partial<Record<StepKind, number>> = { exploit: 6, webshell: 5, logon: 5, 'lateral-auth': 5, service: 5, 'unusual-logon': 4, bruteforce: 3, sweep: 2, scan: 1 };

function conf(r: Rec): number {
  const c = r.f.confidence;
  return typeof c === 'number' && Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : 0.7;
}
const orAll = (xs: number[]) => 1 - xs.reduce((p, x) => p * (1 - Math.min(0.99, Math.max(0, x))), 1);

export function analyze(recs: Rec[], res: Resolver, snap?: EntitySnapshot | null): Analysis {
  recs.sort((a, b) => a.t - b.t || a.f.id.localeCompare(b.f.id));
  const hosts = new Map<string, HostState>();
  const H = (k: string): HostState => {
    let h = hosts.get(k);
    if (!h) {
      h = { key: k, internal: res.internal(k), attacks: [], targetedBy: [], indicators: [], accesses: [], beaconsTo: new Set(), c2For: [], sweptBy: [], confidence: 0, because: [], doubts: [] };
      hosts.set(k, h);
    }
    return h;
  };
  let first = Infinity;
  let last = -Infinity;
  for (const r of recs) {
    if (r.t < first) first = r.t;
    if (r.end > last) last = r.end;
    if (!r.sig) continue;
    const k = r.c.kind;
    if (ATTACK_KINDS.has(k) && r.actor) {
      const a = H(r.actor);
      a.attacks.push(r);
      if (r.outbound) a.indicators.push(r);
      if (r.victim) {
        const v = H(r.victim);
        v.targetedBy.push(r);
        // An unusual logon is an access only when its detector asserts a compromise.
        if (r.c.success && ACCESS_KINDS.has(k) && (k !== 'unusual-logon' || r.f.outcome === 'compromised')) {
          v.accesses.push({ time: r.at, technique: r.c.technique, kind: k, from: r.actor, recs: [r], direct: true, confidence: conf(r) });
        }
      }
      if (k === 'sweep' || (k === 'scan' && !r.outbound)) for (const t of r.targets.slice(0, 1024)) H(t).sweptBy.push(r);
    } else if (k === 'beacon' && r.actor) {
      const a = H(r.actor);
      a.indicators.push(r);
      if (r.peer) {
        a.beaconsTo.add(r.peer);
        H(r.peer).c2For.push(r);
      }
    } else if (r.actor && (INDICATOR_KINDS.has(k) || k === 'account' || (k === 'other' && r.sev >= 3))) {
      H(r.actor).indicators.push(r);
      if (r.remote && k === 'account') {
        // A change made from a logon session that came from `remote`: that session's owner acted on this host.
        const v = H(r.actor);
        v.targetedBy.push(r);
      }
    } else if (r.actor && r.victim) {
      H(r.actor).attacks.push(r);
      H(r.victim).targetedBy.push(r);
    }
  }

  // Roles.
  for (const h of hosts.values()) {
    const indWeight = h.indicators.reduce((s, r) => s + (r.outbound ? 1 : (INDICATOR_WEIGHT[r.c.kind] ?? 0.3) * (r.sev >= 3 ? 1.4 : 1)), 0);
    const strong = h.accesses.length > 0 || indWeight >= 1;
    if (h.internal && strong && (res.isAddress(h.key) || !res.isDomain(h.key))) {
      h.role = 'compromised';
    } else if (h.c2For.length && !h.internal) {
      h.role = 'c2';
    } else if (h.c2For.length && h.internal && h.c2For.some((r) => r.sev >= 3)) {
      h.role = 'c2';
    } else if (h.attacks.length) {
      h.role = 'attacker';
    } else if (h.indicators.length) {
      h.role = 'victim';
    } else if (h.targetedBy.length || h.sweptBy.length) {
      h.role = 'targeted';
    }
  }

  // How and since when each compromised host fell.
  const compromised = [...hosts.values()].filter((h) => h.role === 'compromised');
  for (const h of compromised) {
    const firstInd = h.indicators.reduce((m, r) => (r.t < m ? r.t : m), Infinity);
    let best: Access | undefined;
    const direct = [...h.accesses].sort((a, b) => a.time - b.time);
    if (direct.length) {
      best = direct[0];
      if (best.kind === 'webshell' || best.kind === 'logon') {
        // A web shell written by an exploit: the exploit is the way in. A logon after a brute force: the brute force is.
        // The time is taken from the finding that proves the compromise: a successful exploit (the latest one at or
        // before the shell), never the scanner's refused probes that came earlier; with only unproven exploit
        // attempts, the technique is the exploit's and the time the web shell's.
        const exs = h.targetedBy.filter((r) => r.c.kind === 'exploit' && r.actor === best!.from && r.t <= best!.time);
        const won = exs.filter((r) => r.c.success).sort((a, b) => b.t - a.t)[0];
        const ex = won ?? exs.sort((a, b) => b.t - a.t)[0];
        if (ex && best.kind === 'webshell') best = { ...best, time: won ? ex.t : best.time, technique: ex.c.technique, kind: 'exploit', recs: [ex, ...best.recs] };
      }
    } else {
      const limit = firstInd;
      let cand: Rec | undefined;
      for (const r of h.targetedBy) {
        if (!r.actor || r.actor === h.key || r.t > limit) continue;
        const p = ACCESS_PRIORITY[r.c.kind] ?? 0;
        const cp = cand ? ACCESS_PRIORITY[cand.c.kind] ?? 0 : -1;
        if (p > cp || (p === cp && cand && r.t > cand.t)) cand = r;
      }
      if (!cand) {
        for (const r of h.sweptBy) if (r.actor && r.actor !== h.key && r.t <= limit && (!cand || r.t > cand.t)) cand = r;
      }
      if (cand && (ACCESS_PRIORITY[cand.c.kind] ?? 0) >= 2) {
        best = { time: cand.t, technique: cand.c.technique, kind: cand.c.kind, from: cand.actor, recs: [cand], direct: false, confidence: conf(cand) * 0.6 };
        h.doubts.push({
          en: `No finding shows the access itself; the way in is inferred from ${cand.f.id} (${cand.c.kind}) that preceded the first sign of compromise.`,
          zh: `没有直接证明入侵成功的告警；入侵方式由其后出现失陷迹象前的 ${cand.f.id}（${cand.c.kind}）推断。`,
        });
      } else if (h.indicators.length) {
        const r0 = h.indicators.reduce((m, r) => (r.t < m.t ? r : m), h.indicators[0]);
        best = { time: r0.t, technique: r0.c.technique, kind: r0.c.kind, recs: [r0], direct: false, confidence: 0 };
        h.doubts.push({
          en: 'How this host was compromised is not in the evidence; it is judged compromised from its own activity.',
          zh: '证据中未见该主机的入侵方式；依据其自身行为判定为失陷。',
        });
      }
    }
    h.entry = best;
    h.since = best ? Math.min(best.time, firstInd) : firstInd;
    if (best && best.direct) h.since = best.time;
    // Confidence: the access finding(s) and the post-compromise indicators, each adding.
    const parts = [best?.confidence ?? 0, ...h.indicators.slice(0, 50).map((r) => conf(r) * Math.min(1, (INDICATOR_WEIGHT[r.c.kind] ?? 0.3) + (r.outbound ? 1 : 0)) * 0.6)];
    h.confidence = orAll(parts);
    h.because = dedupe([...(best?.recs ?? []), ...direct.flatMap((a) => a.recs), ...h.indicators]);
  }

  // Blast radius: hosts seen in connection records contacting a C2 without a beacon finding.
  const c2s = [...hosts.values()].filter((h) => h.role === 'c2');
  if (snap?.contacts) {
    for (const c of c2s) {
      const list = snap.contacts[c.key];
      if (!Array.isArray(list)) continue;
      for (const ct of list) {
        const sk = res.key(ct?.src);
        if (!sk || hosts.get(sk)?.role === 'compromised' || hosts.get(sk)?.role === 'attacker') continue;
        (c.contactOnly ??= []).push({ src: sk, first: ct.first, count: ct.count });
        const h = H(sk);
        h.role = 'compromised';
        h.since = ct.first;
        h.entry = undefined;
        h.confidence = 0.45;
        h.beaconsTo.add(c.key);
        h.doubts.push({
          en: `Only connection records show it contacting the C2 ${c.key} (${ct.count} connection(s) from ${new Date(ct.first).toISOString()}); no beacon pattern was found.`,
          zh: `仅连接记录显示其连接过 C2 ${c.key}（自 ${new Date(ct.first).toISOString()} 起 ${ct.count} 次）；未检出心跳规律。`,
        });
        h.because = dedupe([...c.c2For.slice(0, 3)]);
        compromised.push(h);
      }
    }
  }

  // Contradicting evidence: compromised hosts that never talk to the incident's C2.
  if (c2s.length) {
    for (const h of compromised) {
      if (h.beaconsTo.size || h.indicators.some((r) => r.c.kind === 'beacon' || r.c.kind === 'mining' || r.outbound)) continue;
      const after = h.indicators.filter((r) => r.t >= (h.since ?? 0));
      h.confidence *= after.length ? 0.85 : 0.7;
      h.doubts.push({
        en: `Never seen talking to the incident's C2 (${c2s.map((c) => c.key).join(', ')})${after.length ? '' : ', and no activity of its own after the access'}.`,
        zh: `未见其与本事件的 C2（${c2s.map((c) => c.key).join('、')}）通信${after.length ? '' : '，且入侵后未见其自身活动'}。`,
      });
    }
  }

  // Attackers: chain attackers (the `from` of a way in) and peripheral sources.
  const fromSet = new Set<string>();
  for (const h of compromised) if (h.entry?.from) fromSet.add(h.entry.from);
  for (const h of compromised) for (const a of h.accesses) if (a.from) fromSet.add(a.from);
  const attackers: HostState[] = [];
  const peripheral: HostState[] = [];
  for (const h of hosts.values()) {
    if (h.role !== 'attacker') continue;
    const led = fromSet.has(h.key);
    if (compromised.length && !led) {
      peripheral.push(h);
      continue;
    }
    attackers.push(h);
    h.because = dedupe(h.attacks);
    h.confidence = orAll(h.attacks.slice(0, 50).map(conf));
    if (h.internal) {
      h.confidence *= 0.9;
      h.doubts.push({
        en: 'An internal address: it may itself be a compromised host whose own entry is not in the evidence.',
        zh: '该地址为内网地址，可能本身也是失陷主机，但证据中未见其被入侵过程。',
      });
    }
    if (!compromised.length) {
      h.doubts.push({ en: 'No success of this activity was observed.', zh: '未观察到该攻击成功。' });
    }
  }
  for (const c of c2s) {
    c.because = dedupe(c.c2For);
    const scores = c.c2For.map((r) => {
      const s = factNum(r.f, FACTS_USED.score);
      return s !== undefined && s >= 0 && s <= 1 ? Math.max(conf(r), s) : conf(r);
    });
    c.confidence = orAll(scores);
    const talkers = new Set(c.c2For.map((r) => r.actor));
    if (talkers.size > 1) c.confidence = Math.min(0.99, c.confidence + 0.05);
  }
  let uniqueIds = true;
  {
    const ids = new Set<string>();
    for (const r of recs) ids.add(r.f.id);
    uniqueIds = ids.size === recs.length;
  }
  for (const h of hosts.values()) {
    if (h.role === 'targeted' || h.role === 'victim') {
      // Each finding enters a host's targetedBy at most once: only a mix of lists needs de-duplicating.
      h.because = uniqueIds && !h.sweptBy.length && !h.indicators.length ? h.targetedBy.slice() : dedupe([...h.targetedBy, ...h.sweptBy.slice(0, 3), ...h.indicators]);
      h.confidence = orAll(h.because.slice(0, 20).map(conf));
    }
  }

  // Entry point: trace back from the latest compromise through the hosts it came from.
  let entry: Analysis['entry'] = null;
  const byKey = new Map(compromised.map((h) => [h.key, h]));
  const latest = [...compromised].filter((h) => h.entry).sort((a, b) => (b.since ?? 0) - (a.since ?? 0))[0];
  if (latest) {
    let h = latest;
    const seen = new Set<string>([h.key]);
    while (h.entry?.from) {
      const up = byKey.get(h.entry.from);
      if (!up || seen.has(up.key) || (up.since ?? Infinity) > h.entry.time + 60_000) break;
      seen.add(up.key);
      h = up;
    }
    if (h.entry) entry = { host: h, access: h.entry };
    // An earlier compromise that does not lead to the latest one (two roots): the earliest one with a known source wins.
    const earliest = [...compromised].filter((x) => x.entry?.from && !byKey.has(x.entry.from)).sort((a, b) => (a.since ?? 0) - (b.since ?? 0))[0];
    if (earliest && (!entry || !entry.access.from || (earliest.since ?? 0) < (entry.host.since ?? 0))) entry = { host: earliest, access: earliest.entry! };
  }
  compromised.sort((a, b) => (a.since ?? 0) - (b.since ?? 0));
  return { recs, hosts, compromised, attackers, peripheral, c2: c2s, entry, first, last };
}

export function dedupe(rs: Rec[]): Rec[] {
  const seen = new Set<string>();
  const out: Rec[] = [];
  for (const r of rs) {
    if (seen.has(r.f.id)) continue;
    seen.add(r.f.id);
    out.push(r);
  }
  return out;
}

/**
 * Cheap pre-check, exact with respect to `isIncident(analyze(recs))`: false only when no finding could make a
 * host compromised (no success, no post-compromise indicator, no outbound scan, no account/severe-other step,
 * no beacon) and the group has no high-severity finding and fewer than two detectors at medium or above. Such
 * groups (the bulk of background noise) skip the full analysis.
 */
export function mayBeIncident(recs: Rec[]): boolean {
  let det: unknown;
  let dets = 0;
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    if (!r.sig) continue;
    const k = r.c.kind;
    if (r.c.success || r.outbound || r.sev >= 3 || r.f.outcome === 'compromised') return true;
    if (INDICATOR_KINDS.has(k) || k === 'account' || k === 'beacon' || k === 'other') return true;
    if (r.sev >= 2 && dets < 2) {
      if (dets === 0) {
        det = r.f.detector;
        dets = 1;
      } else if (r.f.detector !== det) return true;
    }
  }
  return false;
}

/** Would this group stand as an incident? (otherwise its findings stay findings) */
export function isIncident(a: Analysis): boolean {
  const sig = a.recs.filter((r) => r.sig);
  if (a.compromised.length) return true;
  // A logon that merely looks unusual is no success of an attack unless its detector says compromised.
  if (sig.some((r) => r.sev >= 3 || r.f.outcome === 'compromised' || (r.c.success && r.c.kind !== 'unusual-logon'))) return true;
  const dets = new Set(sig.filter((r) => r.sev >= 2).map((r) => r.f.detector));
  return dets.size >= 2;
}
