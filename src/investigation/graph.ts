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
  return factOf(f, names);
}
function factOf(f: Finding, names: readonly string[]): unknown {
  const facts = f.facts;
  if (!facts || typeof facts !== 'object') return undefined;
  for (let i = 0; i < names.length; i++) {
    const v = (facts as Record<string, unknown>)[names[i]];
    if (v !== undefined && v !== null) return v;
  }
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
  return num(factOf(f, names));
}
export function factStr(f: Finding, names: readonly string[]): string | undefined {
  const v = factOf(f, names);
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
  const recs: Rec[] = new Array(findings.length);
  let nr = 0;
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i];
    if (!f || typeof f !== 'object' || typeof f.id !== 'string') continue;
    recs[nr++] = makeRec(f, res);
  }
  recs.length = nr;
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
  const c = classifyCached(f);
  const first = Number.isFinite(f.first) ? f.first : Number.isFinite(f.last) ? f.last : 0;
  const last = Number.isFinite(f.last) ? Math.max(f.last, first) : first;
  const src = res.key(f.src);
  const dst = res.key(f.dst);
  const host = res.key(f.host);
  const sev = severityRank(f.severity) ?? 0;
  const r: Rec = {
    f,
    c,
    targets: NONE,
    outbound: false,
    t: first,
    end: last,
    at: first,
    sig: sev >= 2 || c.success,
    sev: Number.isFinite(sev) ? sev : 0,
    files: NONE,
    hashes: NONE,
    urls: NONE,
    cves: NONE,
    accounts: NONE,
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
    for (const t of strs(factOf(f, FACTS_USED.targets), MAX_TARGETS)) {
      const tk = res.key(t);
      if (tk && tk !== r.actor) (r.targets === NONE ? (r.targets = []) : r.targets).push(tk);
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
  // Most findings carry none of these: no arrays are built for them (the shared empty array is never mutated).
  const facts = f.facts;
  if (facts && typeof facts === 'object') {
    const files = strs(factOf(f, FILE_FACTS), 16);
    const uf = strs(factOf(f, URI_FILE_FACT));
    if (files.length || uf.length) r.files = [...new Set(files.concat(uf))].filter((x) => x.length < 512);
    const hv = factOf(f, FACTS_USED.hashes);
    if (hv !== undefined) r.hashes = strs(hv, 16).filter((h) => /^[0-9a-f]{32,128}$/i.test(h));
    const uv = factOf(f, FACTS_USED.urls);
    if (uv !== undefined) r.urls = strs(uv, 16);
    const cv = factOf(f, FACTS_USED.cve);
    if (cv !== undefined)
      r.cves = strs(cv, 8)
        .map((x) => x.toUpperCase())
        .filter((x) => /^CVE-\d{4}-\d{3,}$/.test(x));
  }
  const av = factOf(f, FACTS_USED.accounts);
  const user = typeof f.user === 'string' && f.user && f.user !== '-' ? f.user : undefined;
  if (av === undefined) {
    if (user !== undefined) r.accounts = [user];
  } else {
    const accts = new Set<string>();
    if (user !== undefined) accts.add(user);
    for (const a of strs(av, 8)) if (a !== '-') accts.add(a);
    r.accounts = [...accts];
  }
  return r;
}
const FILE_FACTS = FACTS_USED.files.filter((n) => n !== 'uri_file');
const URI_FILE_FACT = ['uri_file'];
const NONE: string[] = [];

const classCache = new Map<string, Classified>();
/**
 * classify() memoised on everything it reads: detector, ATT&CK ids, outcome, whether facts.targets
 * is a list, facts.kind, and whether the finding has a destination. Keep in step with classify().
 */
function classifyCached(f: Finding): Classified {
  const det = typeof f.detector === 'string' ? f.detector : '';
  const facts = f.facts && typeof f.facts === 'object' ? (f.facts as Record<string, unknown>) : undefined;
  let key = det + '\u0001' + (typeof f.outcome === 'string' ? f.outcome : '') + '\u0001' + (facts && Array.isArray(facts.targets) ? '1' : '0');
  key += '\u0001' + (typeof facts?.kind === 'string' ? facts.kind : '') + '\u0001' + (f.dst ? '1' : '0');
  const ids = f.attack;
  if (Array.isArray(ids)) for (let i = 0; i < ids.length; i++) key += '\u0001' + (typeof ids[i] === 'string' ? ids[i] : '');
  let c = classCache.get(key);
  if (c === undefined) {
    c = classify(f);
    if (classCache.size >= 10_000) classCache.clear();
    classCache.set(key, c);
  }
  return c;
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

const EDGE_KINDS = new Map<string, number>();
function edgeKindId(kind: string): number {
  let k = EDGE_KINDS.get(kind);
  if (k === undefined) EDGE_KINDS.set(kind, (k = EDGE_KINDS.size));
  return k;
}
const NO_EVIDENCE: EvidenceRef[] = [];

/**
 * The entity graph over all findings (one edge per from/to/kind, aggregated).
 * Nodes get dense integer ids and edges a numeric key (from · to · kind), so a
 * finding costs no key strings; one pass, no intermediate arrays.
 */
export function buildGraph(recs: Rec[], res: Resolver): EntityGraph {
  const nodeIdx = new Map<string, number>();
  const nodes: GraphNode[] = [];
  const buckets = new Map<number, { tos: number[]; es: GraphEdge[]; map?: Map<number, GraphEdge> }>();
  const edgeList: GraphEdge[] = [];
  const accountIds = new Map<string, string>();
  const node = (id: string | undefined, type: GraphNode['type'] | null, r: Rec): number => {
    if (!id) return -1;
    let i = nodeIdx.get(id);
    let n: GraphNode;
    if (i === undefined) {
      const t: GraphNode['type'] = type ?? (res.isDomain(id) ? 'domain' : res.internal(id) ? 'host' : 'outside');
      n = { id, type: t, first: r.t, last: r.end, findings: 0 };
      if (t === 'host' || t === 'outside') {
        if (isIp(id)) n.ip = id;
        const nm = res.names(id);
        if (nm.length) n.names = nm;
        n.internal = res.internal(id);
      }
      i = nodes.length;
      nodes.push(n);
      nodeIdx.set(id, i);
    } else n = nodes[i];
    n.findings++;
    if (r.t < n.first) n.first = r.t;
    if (r.end > n.last) n.last = r.end;
    return i;
  };
  // Node ids below 2^26 and kinds below 2^5 keep `from * 32 + kind` a small integer.
  const edge = (from: number, to: number, kind: string, r: Rec) => {
    if (from < 0 || to < 0) return;
    // Two levels with small-integer keys: (from, kind) → its edges by `to` (a short list, a Map past 16).
    const k = from * 32 + edgeKindId(kind);
    let b = buckets.get(k);
    let e: GraphEdge | undefined;
    if (b === undefined) {
      // first edge of this (from, kind): its bucket is created below with exact-size lists
    } else if (b.map !== undefined) e = b.map.get(to);
    else {
      const tos = b.tos;
      for (let j = 0; j < tos.length; j++)
        if (tos[j] === to) {
          e = b.es[j];
          break;
        }
    }
    if (!e) {
      // Most edges carry one finding: exact-size literals, not `[]` + push (which reserves 17 slots).
      const ev = Array.isArray(r.f.evidence) ? r.f.evidence : NO_EVIDENCE;
      const evidence = ev.length === 1 ? [ev[0]] : ev.slice(0, EDGE_FINDINGS_CAP);
      e = { from: nodes[from].id, to: nodes[to].id, kind, technique: r.c.technique, first: r.t, last: r.end, count: 1, findings: [r.f.id], evidence };
      if (b === undefined) buckets.set(k, { tos: [to], es: [e] });
      else if (b.map !== undefined) b.map.set(to, e);
      else if (b.tos.length < 16) {
        b.tos.push(to);
        b.es.push(e);
      } else {
        b.map = new Map();
        for (let j = 0; j < b.tos.length; j++) b.map.set(b.tos[j], b.es[j]);
        b.map.set(to, e);
      }
      edgeList.push(e);
      return;
    }
    e.count++;
    if (r.t < e.first) e.first = r.t;
    if (r.end > e.last) e.last = r.end;
    if (e.findings.length < EDGE_FINDINGS_CAP) e.findings.push(r.f.id);
    if (e.evidence.length < EDGE_FINDINGS_CAP) {
      const ev = Array.isArray(r.f.evidence) ? r.f.evidence : NO_EVIDENCE;
      for (let j = 0; j < ev.length && e.evidence.length < EDGE_FINDINGS_CAP; j++) e.evidence.push(ev[j]);
    }
  };
  for (let ri = 0; ri < recs.length; ri++) {
    const r = recs[ri];
    const kind = r.c.kind;
    const actor = node(r.actor, null, r);
    const victim = node(r.victim, null, r);
    const peer = node(r.peer, null, r);
    const lk = LINK_KIND[kind];
    if (victim >= 0) edge(actor, victim, lk, r);
    if (peer >= 0) edge(actor, peer, lk, r);
    if (r.remote) edge(node(r.remote, null, r), actor, 'acted-on', r);
    const nt = Math.min(r.targets.length, 256);
    for (let j = 0; j < nt; j++) edge(actor, node(r.targets[j], null, r), lk, r);
    for (let j = 0; j < r.accounts.length; j++) {
      // The same few account names recur: their node id string is built once.
      const a = r.accounts[j];
      let id = accountIds.get(a);
      if (id === undefined) accountIds.set(a, (id = `account:${a}`));
      edge(actor, node(id, 'account', r), kind === 'account' ? 'changed-account' : 'used-account', r);
    }
    if (r.files.length || r.hashes.length) {
      const onWrite = kind === 'exploit' || kind === 'webshell';
      const onHost = r.victim && onWrite ? victim : actor;
      for (let j = 0; j < r.files.length; j++) edge(onHost, node(`file:${r.files[j]}`, 'file', r), onWrite ? 'wrote' : kind === 'av' ? 'detected' : 'ran', r);
      for (let j = 0; j < r.hashes.length; j++) edge(onHost, node(`hash:${r.hashes[j].toLowerCase()}`, 'hash', r), 'has-file', r);
    }
  }
  return { nodes, edges: edgeList, inferred: res.inferred };
}
