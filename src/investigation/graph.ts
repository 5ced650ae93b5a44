/**
 * Entity graph: hosts (addresses and names joined), accounts, outside
 * addresses, domains, files and hashes, with typed time-stamped edges built
 * from findings. Also the per-finding view (`Rec`) the rest of the
 * investigation works on.
 */
import type { EvidenceRef } from '../core/event.js';
import type { Finding } from '../core/finding.js';
import { severityRank } from '../core/finding.js';
import type { HomeNet } from '../core/homenet.js';
import { classify, LINK_KIND, LOCAL_KINDS, type Classified } from './classify.js';
import { isIp, shortName, type EntitySnapshot } from './entities.js';

/** Host-name ↔ address resolution (snapshot + config host map + inferences). */
export class Resolver {
  readonly nameToIp = new Map<string, { ip: string; weight: number; source: string }>();
  readonly ipToNames = new Map<string, Set<string>>();
  readonly domainToIps = new Map<string, string[]>();
  /** Why each inferred binding was made (finding ids). */
  readonly inferred: { name: string; ip: string; reason: string; findings: string[] }[] = [];

  constructor(readonly homeNet: HomeNet, snap: EntitySnapshot | null | undefined, hostMap?: Record<string, string>) {
    if (snap) {
      for (const [name, links] of Object.entries(snap.hosts ?? {})) {
        for (const l of links ?? []) if (l && isIp(l.ip)) this.bind(name, l.ip, l.count ?? 1, l.source ?? 'snapshot');
      }
      for (const [d, ips] of Object.entries(snap.domains ?? {})) if (Array.isArray(ips)) this.domainToIps.set(d.toLowerCase(), ips.filter(isIp));
    }
    for (const [k, v] of Object.entries(hostMap ?? {})) {
      if (isIp(k) && !isIp(v)) this.bind(v, k, 1e9, 'config');
      else if (isIp(v) && !isIp(k)) this.bind(k, v, 1e9, 'config');
    }
  }

  bind(name: string, ip: string, weight: number, source: string): void {
    const n = shortName(name);
    if (!n || !isIp(ip)) return;
    const cur = this.nameToIp.get(n);
    if (!cur || weight > cur.weight) {
      if (cur) this.ipToNames.get(cur.ip)?.delete(n);
      this.nameToIp.set(n, { ip, weight, source });
      let s = this.ipToNames.get(ip);
      if (!s) this.ipToNames.set(ip, (s = new Set()));
      s.add(n);
    }
  }

  /** Canonical key of a host/address/domain string: an address, an upper-case host name, or a lower-case domain. */
  key(s: unknown): string | undefined {
    if (typeof s !== 'string') return undefined;
    const t = s.trim();
    if (!t || t === '-') return undefined;
    if (isIp(t)) return t;
    const n = shortName(t);
    const hit = n ? this.nameToIp.get(n) : undefined;
    if (hit) return hit.ip;
    if (t.includes('.') && /[a-z]/i.test(t.slice(t.lastIndexOf('.') + 1)) && !/[\\/\s]/.test(t)) {
      // A dotted name: a domain unless its first label is a host name we have logs for.
      return t.toLowerCase().replace(/\.$/, '');
    }
    return n || undefined;
  }

  isAddress(k: string): boolean {
    return isIp(k);
  }
  isDomain(k: string): boolean {
    return !isIp(k) && k.includes('.') && k === k.toLowerCase();
  }
  internal(k: string): boolean {
    if (isIp(k)) return this.homeNet.isInternal(k);
    // A bare host name is a machine whose logs we hold: internal. A domain is outside.
    return !this.isDomain(k);
  }
  names(k: string): string[] {
    if (isIp(k)) return [...(this.ipToNames.get(k) ?? [])];
    return this.isDomain(k) ? [] : [k];
  }
  /** Display: `NAME (ip)` / `ip` / `NAME`. */
  label(k: string): string {
    const n = this.names(k);
    return isIp(k) && n.length ? `${n[0]} (${k})` : k;
  }
}

export interface Rec {
  f: Finding;
  c: Classified;
  /** Who acted (key). */
  actor?: string;
  /** Who it was done to (key), for two-party kinds. */
  victim?: string;
  /** Outside peer of a beacon / mining / download (key). */
  peer?: string;
  /** Sweep / scan targets (keys), bounded. */
  targets: string[];
  /** Outbound scan (internal → outside). */
  outbound: boolean;
  /** ms: start of the step. */
  t: number;
  /** ms: end of the step. */
  end: number;
  /** ms: when the step achieved its effect (logon success time for a brute force that succeeded). */
  at: number;
  /** Significant: may create roles and incidents. */
  sig: boolean;
  sev: number;
  files: string[];
  hashes: string[];
  urls: string[];
  cves: string[];
  accounts: string[];
  /** Remote session source for host-local steps (e.g. account change made from a logon session from this address). */
  remote?: string;
}

const MAX_TARGETS = 4096;

function strs(v: unknown, max = 64): string[] {
  if (typeof v === 'string') return v ? [v] : [];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x.length > 0 && x.length < 1024).slice(0, max);
  return [];
}
function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() && Number.isFinite(Number(v))) return Number(v);
  if (typeof v === 'string') {
    const d = Date.parse(v);
    if (Number.isFinite(d)) return d;
  }
  return undefined;
}
function fact(f: Finding, ...names: string[]): unknown {
  const facts = f.facts;
  if (!facts || typeof facts !== 'object') return undefined;
  for (const n of names) if (n in facts && facts[n] !== undefined && facts[n] !== null) return facts[n];
  return undefined;
}

/** Facts consulted (all optional): see docs/INVESTIGATION.md. */
export const FACTS_USED = {
  time: ['success_time', 'logon_time', 'first_success', 'success_at'],
  targets: ['targets', 'target_ips', 'sampleHosts', 'hosts'],
  direction: ['direction'],
  files: ['written_file', 'file', 'files', 'path', 'file_path', 'image', 'process', 'process_path', 'malware_path', 'uri_file'],
  hashes: ['sha256', 'sha1', 'md5', 'hash', 'hashes'],
  urls: ['url', 'uri', 'urls', 'webshell_url', 'webshell_uri'],
  cve: ['cve', 'cves'],
  accounts: ['account', 'target_user', 'user', 'accounts', 'target_account'],
  source: ['source_ip', 'logon_source', 'session_source', 'ip'],
  port: ['port', 'dst_port', 'destination_port', 'service_port'],
  logonType: ['logon_type', 'logonType', 'LogonType'],
  failures: ['failures', 'failed', 'count', 'attempts'],
  score: ['score'],
  tool: ['tool'],
} as const;

export function factNum(f: Finding, names: readonly string[]): number | undefined {
  return num(fact(f, ...names));
}
export function factStr(f: Finding, names: readonly string[]): string | undefined {
  const v = fact(f, ...names);
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** Build one Rec per finding. Findings with unusable times are kept with t = 0 and never crash. */
export function buildRecs(findings: Finding[], res: Resolver): Rec[] {
  // Pass 1: a host.* finding naming both `host` (a name) and `dst` (an address) joins them.
  for (const f of findings) {
    if (!f || typeof f !== 'object') continue;
    if (typeof f.detector === 'string' && f.detector.startsWith('host.') && typeof f.host === 'string' && !isIp(f.host) && isIp(f.dst)) {
      if (!res.nameToIp.has(shortName(f.host))) res.bind(f.host, f.dst as string, 0.5, 'finding-host-dst');
    }
  }
  const recs: Rec[] = [];
  for (const f of findings) {
    if (!f || typeof f !== 'object' || typeof f.id !== 'string') continue;
    recs.push(makeRec(f, res));
  }
  // Pass 2: a host name we cannot place, attacked by a source that the network side shows attacking exactly one internal address → same machine.
  const unresolved = recs.filter((r) => r.c.side === 'host' && r.victim && !isIp(r.victim) && !res.isDomain(r.victim) && r.actor && isIp(r.actor));
  if (unresolved.length) {
    const netVictims = new Map<string, Map<string, string[]>>();
    for (const r of recs) {
      if (r.c.side !== 'net' || !r.actor || !r.victim || !isIp(r.victim) || !res.homeNet.isInternal(r.victim)) continue;
      if (!(r.c.kind === 'bruteforce' || r.c.kind === 'logon' || r.c.kind === 'scan' || r.c.kind === 'unusual-logon')) continue;
      let m = netVictims.get(r.actor);
      if (!m) netVictims.set(r.actor, (m = new Map()));
      const l = m.get(r.victim) ?? [];
      if (l.length < 5) l.push(r.f.id);
      m.set(r.victim, l);
    }
    const rebound = new Set<string>();
    for (const r of unresolved) {
      const name = r.victim!;
      if (rebound.has(name) || res.nameToIp.has(name)) continue;
      const m = netVictims.get(r.actor!);
      if (!m || m.size !== 1) continue;
      const [ip, ids] = [...m.entries()][0];
      res.bind(name, ip, 0.25, 'inferred-same-attacker');
      res.inferred.push({ name, ip, reason: `host logs and traffic show the same source ${r.actor} attacking ${name} and ${ip}`, findings: [r.f.id, ...ids] });
      rebound.add(name);
    }
    if (rebound.size) for (let i = 0; i < recs.length; i++) recs[i] = makeRec(recs[i].f, res);
  }
  return recs;
}

function makeRec(f: Finding, res: Resolver): Rec {
  const c = classify(f);
  const first = Number.isFinite(f.first) ? f.first : Number.isFinite(f.last) ? f.last : 0;
  const last = Number.isFinite(f.last) ? Math.max(f.last, first) : first;
  const src = res.key(f.src);
  const dst = res.key(f.dst);
  const host = res.key(f.host);
  const sev = severityRank(f.severity) ?? 0;
  const r: Rec = {
    f,
    c,
    targets: [],
    outbound: false,
    t: first,
    end: last,
    at: first,
    sig: sev >= 2 || c.success,
    sev: Number.isFinite(sev) ? sev : 0,
    files: [],
    hashes: [],
    urls: [],
    cves: [],
    accounts: [],
  };
  const k = c.kind;
  if (LOCAL_KINDS.has(k) || k === 'download') {
    r.actor = host ?? (src && res.internal(src) ? src : undefined) ?? (dst && res.internal(dst) ? dst : undefined) ?? src;
    const other = [src, dst].find((x) => x && x !== r.actor);
    if (k === 'mining' || k === 'download') r.peer = other && !res.internal(other) ? other : k === 'download' ? other : other;
    else if (other) r.remote = other;
    if (k === 'account') {
      const s = res.key(factStr(f, FACTS_USED.source));
      if (s && s !== r.actor) r.remote = s;
    }
  } else if (k === 'beacon') {
    const a = src ?? host;
    if (a && dst && !res.internal(a) && res.internal(dst)) {
      r.actor = dst;
      r.peer = a;
    } else {
      r.actor = a;
      r.peer = dst;
    }
  } else if (k === 'scan' || k === 'sweep') {
    r.actor = src ?? host;
    if (dst && dst !== r.actor) r.victim = dst;
    for (const t of strs(fact(f, ...FACTS_USED.targets), MAX_TARGETS)) {
      const tk = res.key(t);
      if (tk && tk !== r.actor) r.targets.push(tk);
    }
    const dir = factStr(f, FACTS_USED.direction)?.toLowerCase();
    if (k === 'scan' && r.actor) {
      if (dir === 'outbound' || dir === 'out') r.outbound = true;
      else if (dir === 'inbound' || dir === 'in' || dir === 'internal' || dir === 'lateral') r.outbound = false;
      else r.outbound = res.internal(r.actor) && (r.victim ? !res.internal(r.victim) : r.targets.length > 0 && r.targets.every((t) => !res.internal(t)));
    }
    if (r.outbound) r.victim = undefined; // outside scan targets are not entities of the incident
  } else {
    r.actor = src;
    r.victim = c.side === 'host' ? host ?? dst : dst ?? host;
    if (r.victim === r.actor) r.victim = c.side === 'host' ? dst ?? undefined : host ?? undefined;
    if (r.victim === r.actor) r.victim = undefined;
  }
  // When it took effect: a brute force that succeeded spans the failures; its effect is the success.
  if (c.success && (k === 'logon' || k === 'lateral-auth' || k === 'unusual-logon')) {
    const st = factNum(f, FACTS_USED.time);
    r.at = st !== undefined && st >= first - 1 && st <= last + 1 ? st : k === 'logon' ? last : first;
  }
  r.files = [...new Set(strs(fact(f, ...FACTS_USED.files.filter((n) => n !== 'uri_file')), 16).concat(strs(fact(f, 'uri_file'))))].filter((x) => x.length < 512);
  r.hashes = strs(fact(f, ...FACTS_USED.hashes), 16).filter((h) => /^[0-9a-f]{32,128}$/i.test(h));
  r.urls = strs(fact(f, ...FACTS_USED.urls), 16);
  r.cves = strs(fact(f, ...FACTS_USED.cve), 8)
    .map((x) => x.toUpperCase())
    .filter((x) => /^CVE-\d{4}-\d{3,}$/.test(x));
  const accts = new Set<string>();
  if (typeof f.user === 'string' && f.user && f.user !== '-') accts.add(f.user);
  for (const a of strs(fact(f, ...FACTS_USED.accounts), 8)) if (a !== '-') accts.add(a);
  r.accounts = [...accts];
  return r;
}

export interface GraphNode {
  id: string;
  type: 'host' | 'outside' | 'domain' | 'account' | 'file' | 'hash';
  ip?: string;
  names?: string[];
  internal?: boolean;
  first: number;
  last: number;
  findings: number;
}
export interface GraphEdge {
  from: string;
  to: string;
  kind: string;
  technique: string;
  first: number;
  last: number;
  count: number;
  findings: string[];
  evidence: EvidenceRef[];
}
export interface EntityGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Name ↔ address links inferred during the investigation (not seen in one record). */
  inferred: Resolver['inferred'];
}

const EDGE_FINDINGS_CAP = 20;

/** The entity graph over all findings (one edge per from/to/kind, aggregated). */
export function buildGraph(recs: Rec[], res: Resolver): EntityGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const node = (id: string | undefined, type: GraphNode['type'] | null, r: Rec) => {
    if (!id) return;
    let n = nodes.get(id);
    if (!n) {
      const t: GraphNode['type'] = type ?? (res.isDomain(id) ? 'domain' : res.internal(id) ? 'host' : 'outside');
      n = { id, type: t, first: r.t, last: r.end, findings: 0 };
      if (t === 'host' || t === 'outside') {
        if (isIp(id)) n.ip = id;
        const nm = res.names(id);
        if (nm.length) n.names = nm;
        n.internal = res.internal(id);
      }
      nodes.set(id, n);
    }
    n.findings++;
    if (r.t < n.first) n.first = r.t;
    if (r.end > n.last) n.last = r.end;
  };
  const edge = (from: string | undefined, to: string | undefined, kind: string, r: Rec) => {
    if (!from || !to) return;
    const k = `${from}\u0000${to}\u0000${kind}`;
    let e = edges.get(k);
    if (!e) {
      e = { from, to, kind, technique: r.c.technique, first: r.t, last: r.end, count: 0, findings: [], evidence: [] };
      edges.set(k, e);
    }
    e.count++;
    if (r.t < e.first) e.first = r.t;
    if (r.end > e.last) e.last = r.end;
    if (e.findings.length < EDGE_FINDINGS_CAP) e.findings.push(r.f.id);
    for (const ev of r.f.evidence ?? []) if (e.evidence.length < EDGE_FINDINGS_CAP) e.evidence.push(ev);
  };
  for (const r of recs) {
    node(r.actor, null, r);
    node(r.victim, null, r);
    node(r.peer, null, r);
    const lk = LINK_KIND[r.c.kind];
    if (r.victim) edge(r.actor, r.victim, lk, r);
    if (r.peer) edge(r.actor, r.peer, lk, r);
    if (r.remote) {
      node(r.remote, null, r);
      edge(r.remote, r.actor, 'acted-on', r);
    }
    for (const t of r.targets.slice(0, 256)) {
      node(t, null, r);
      edge(r.actor, t, lk, r);
    }
    for (const a of r.accounts) {
      const id = `account:${a}`;
      node(id, 'account', r);
      edge(r.actor, id, r.c.kind === 'account' ? 'changed-account' : 'used-account', r);
    }
    const onHost = r.victim && (r.c.kind === 'exploit' || r.c.kind === 'webshell') ? r.victim : r.actor;
    for (const fl of r.files) {
      const id = `file:${fl}`;
      node(id, 'file', r);
      edge(onHost, id, r.c.kind === 'exploit' || r.c.kind === 'webshell' ? 'wrote' : r.c.kind === 'av' ? 'detected' : 'ran', r);
    }
    for (const h of r.hashes) {
      const id = `hash:${h.toLowerCase()}`;
      node(id, 'hash', r);
      edge(onHost, id, 'has-file', r);
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], inferred: res.inferred };
}
