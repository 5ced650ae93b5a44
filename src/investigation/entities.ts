/**
 * EntityCollector: learns, while events stream, which names belong to which
 * addresses, which domains resolve to which addresses, which internal hosts
 * contacted which outside addresses, and which internal services answered
 * outside sources. Memory is bounded by the caps in `EntityLimits`.
 *
 * Sources of name ↔ address links (each link counts its observations and keeps
 * the first evidence reference):
 * - EVTX 4624/4625/4648/4776: `WorkstationName` equal to the record's Computer and an
 *   `IpAddress` that is not loopback → the Computer's own address (`evtx-self-logon`);
 *   a different `WorkstationName` with `IpAddress` → that remote workstation (`evtx-workstation`).
 * - Any event carrying both `host.name` and `host.ip` (`event-host`).
 * - `ntlm`: `ntlm.workstation` ↔ source.ip; `ntlm.server_nb_computer` / `ntlm.server_dns_computer` ↔ destination.ip.
 * - `smb`: `smb.tree` `\\NAME\share` ↔ destination.ip.
 * - `dns`: question name ↔ answers (domains); `tls` SNI and `http` Host ↔ destination.ip (domains).
 * - The config host map (`addHostMap`).
 */
import type { EvidenceRef, SpoorEvent } from '../core/event.js';
import type { HomeNet } from '../core/homenet.js';
import { ipToBigInt, ipv4ToInt } from '../core/homenet.js';

export interface EntityLimits {
  maxNames: number;
  maxIpsPerName: number;
  maxDomains: number;
  maxContactDsts: number;
  maxContactSrcsPerDst: number;
  maxExposedHosts: number;
  maxPortsPerHost: number;
}

export const DEFAULT_ENTITY_LIMITS: EntityLimits = {
  maxNames: 50_000,
  maxIpsPerName: 16,
  maxDomains: 50_000,
  maxContactDsts: 100_000,
  maxContactSrcsPerDst: 64,
  maxExposedHosts: 20_000,
  maxPortsPerHost: 64,
};

export interface NameLink {
  ip: string;
  count: number;
  source: string;
  ref?: EvidenceRef;
}
export interface ContactRec {
  src: string;
  first: number;
  last: number;
  count: number;
  ref?: EvidenceRef;
}
export interface ExposureRec {
  port: number;
  first: number;
  last: number;
  /** Connections from outside sources that the service answered. */
  count: number;
  sources: string[];
  ref?: EvidenceRef;
}

/** Plain, JSON-serialisable picture of what the collector learnt. */
export interface EntitySnapshot {
  version: 1;
  /** Upper-case short host name → addresses seen for it. */
  hosts: Record<string, NameLink[]>;
  /** Lower-case domain → addresses. */
  domains: Record<string, string[]>;
  /** Outside address → internal hosts that contacted it (conn records). */
  contacts: Record<string, ContactRec[]>;
  /** Internal address → services that answered outside sources. */
  exposed: Record<string, ExposureRec[]>;
  /** Counts of links dropped because a cap was reached. */
  dropped: number;
}

export function emptySnapshot(): EntitySnapshot {
  return { version: 1, hosts: {}, domains: {}, contacts: {}, exposed: {}, dropped: 0 };
}

/** `WIN-SRV01.corp.local` → `WIN-SRV01`; empty/placeholder names → ''. */
const shortCache = new Map<string, string>();
export function shortName(name: unknown): string {
  if (typeof name !== 'string') return '';
  // The same few thousand names recur across millions of records: memoise (bounded).
  let v = shortCache.get(name);
  if (v === undefined) {
    v = shortNameUncached(name);
    if (shortCache.size >= 100_000) shortCache.clear();
    shortCache.set(name, v);
  }
  return v;
}
function shortNameUncached(name: string): string {
  let s = name.trim();
  if (!s || s === '-' || s === '?' ) return '';
  if (s.startsWith('\\\\')) s = s.slice(2);
  if (isIp(s)) return '';
  const dot = s.indexOf('.');
  if (dot > 0) s = s.slice(0, dot);
  s = s.toUpperCase();
  if (s.length > 64 || /[\s\\/]/.test(s)) return '';
  return s;
}

const ipCache = new Map<string, boolean>();
export function isIp(s: unknown): boolean {
  if (typeof s !== 'string' || s.length < 2 || s.length > 45) return false;
  if (!Number.isNaN(ipv4ToInt(s))) return true;
  if (!s.includes(':')) return false;
  let v = ipCache.get(s);
  if (v === undefined) {
    v = ipToBigInt(s) !== null;
    if (ipCache.size > 200_000) ipCache.clear();
    ipCache.set(s, v);
  }
  return v;
}

function usableIp(s: unknown): s is string {
  if (typeof s !== "string") return false;
  if (!isIp(s)) return false;
  return !(s.startsWith('127.') || s === '::1' || s === '0.0.0.0' || s === '::' || s.startsWith('169.254.') || s.toLowerCase().startsWith('fe80:'));
}

const LOGON_CODES = new Set(['4624', '4625', '4648', '4776', '4634']);
const ESTABLISHED = new Set(['SF', 'S1', 'S2', 'S3', 'RSTO', 'RSTR', 'OTH']);

/** Contacts of one outside address; `shared` once a snapshot holds `recs` (copy on the next write). */
interface ContactList {
  dst: string;
  keys: (number | string)[];
  recs: ContactRec[];
  shared: boolean;
}

export class EntityCollector {
  private readonly names = new Map<string, Map<string, NameLink>>();
  private readonly domains = new Map<string, Set<string>>();
  /** Outside address → internal sources that contacted it (≤ maxContactSrcsPerDst each). */
  private readonly contacts = new Map<number | string, ContactList>();
  private readonly exposed = new Map<string, Map<number, ExposureRec>>();
  private dropped = 0;
  private readonly limits: EntityLimits;

  constructor(private readonly homeNet?: HomeNet, limits: Partial<EntityLimits> = {}) {
    this.limits = { ...DEFAULT_ENTITY_LIMITS, ...limits };
  }

  /** Bind a host name to an address (config host map, or a caller's own knowledge). */
  bind(name: string, ip: string, source: string, ref?: EvidenceRef, weight = 1): void {
    const n = shortName(name);
    if (!n || !usableIp(ip)) return;
    let m = this.names.get(n);
    if (!m) {
      if (this.names.size >= this.limits.maxNames) {
        this.dropped++;
        return;
      }
      m = new Map();
      this.names.set(n, m);
    }
    const l = m.get(ip);
    if (l) l.count += weight;
    else if (m.size < this.limits.maxIpsPerName) m.set(ip, { ip, count: weight, source, ref });
    else this.dropped++;
  }

  /** Add `name → ip` (or `ip → name`) pairs from the config. */
  addHostMap(map: Record<string, string> | undefined): void {
    if (!map) return;
    for (const [k, v] of Object.entries(map)) {
      if (isIp(k) && !isIp(v)) this.bind(v, k, 'config', undefined, 1000);
      else if (isIp(v) && !isIp(k)) this.bind(k, v, 'config', undefined, 1000);
    }
  }

  private domain(name: unknown, ip: unknown): void {
    if (typeof name !== 'string' || !usableIp(ip)) return;
    let d = name.length > 253 ? '' : name.toLowerCase();
    if (d.endsWith('.')) d = d.slice(0, -1);
    if (!d || !d.includes('.') || isIp(d)) return;
    let s = this.domains.get(d);
    if (!s) {
      if (this.domains.size >= this.limits.maxDomains) {
        this.dropped++;
        return;
      }
      s = new Set();
      this.domains.set(d, s);
    }
    if (s.size < this.limits.maxIpsPerName) s.add(ip);
  }

  observe(e: SpoorEvent): void {
    try {
      this.observeInner(e);
    } catch {
      // Attacker-controlled values of unexpected types must never stop the pipeline.
      this.dropped++;
    }
  }

  private observeInner(e: SpoorEvent): void {
    const ds = e['event.dataset'];
    if (typeof e['host.name'] === 'string' && typeof e['host.ip'] === 'string') this.bind(e['host.name'], e['host.ip'], 'event-host', e.ref);
    switch (ds) {
      case 'evtx': {
        const code = e['event.code'];
        if (typeof code !== 'string' || !LOGON_CODES.has(code)) return;
        const data = e['winlog.event_data'] as Record<string, string> | undefined;
        const computer = shortName(e['winlog.computer_name']);
        const ws = shortName(data?.WorkstationName ?? data?.Workstation);
        const ip = data?.IpAddress ?? (e['source.ip'] as string | undefined);
        if (!ws || !usableIp(ip)) return;
        if (computer && ws === computer) {
          // Interactive, remote-interactive (RDP), unlock and cached logons name the *local*
          // computer as workstation while IpAddress is the client's: no binding there. Only a
          // network logon from the host to itself ties its name to that address.
          if (data?.LogonType === '3') this.bind(ws, ip, 'evtx-self-logon', e.ref, 5);
        } else this.bind(ws, ip, 'evtx-workstation', e.ref);
        return;
      }
      case 'ntlm': {
        this.bind(e['ntlm.workstation'] as string, e['source.ip'] as string, 'ntlm-workstation', e.ref);
        this.bind(e['ntlm.server_nb_computer'] as string, e['destination.ip'] as string, 'ntlm-server', e.ref, 3);
        this.bind(e['ntlm.server_dns_computer'] as string, e['destination.ip'] as string, 'ntlm-server', e.ref, 3);
        return;
      }
      case 'smb': {
        const tree = e['smb.tree'];
        if (typeof tree === 'string' && tree.startsWith('\\\\')) {
          const host = tree.slice(2).split('\\')[0];
          if (!isIp(host)) this.bind(host, e['destination.ip'] as string, 'smb-tree', e.ref);
        }
        return;
      }
      case 'dns': {
        const q = e['dns.question.name'];
        const answers = e['dns.answers'];
        if (Array.isArray(answers)) {
          for (const a of answers.slice(0, 32)) {
            if (a && typeof a === 'object' && (a.type === 'A' || a.type === 'AAAA' || a.type === 1 || a.type === 28)) this.domain(a.name ?? q, a.data);
          }
        }
        const res = e['dns.resolved_ip'];
        if (Array.isArray(res)) for (const ip of res.slice(0, 32)) this.domain(q, ip);
        return;
      }
      case 'tls':
        this.domain(e['tls.client.server_name'], e['destination.ip']);
        return;
      case 'http': {
        const h = e['url.domain'];
        if (typeof h === 'string') this.domain(h.replace(/:\d+$/, ''), e['destination.ip']);
        return;
      }
      case 'conn':
        this.observeConn(e);
        return;
    }
  }

  private observeConn(e: SpoorEvent): void {
    const hn = this.homeNet;
    if (!hn) return;
    const src = e['source.ip'];
    const dst = e['destination.ip'];
    if (typeof src !== 'string' || typeof dst !== 'string') return;
    const t = e['@timestamp'];
    const si = hn.isInternal(src);
    const di = hn.isInternal(dst);
    if (si && !di) {
      // One small array per outside destination, scanned linearly (≤ maxContactSrcsPerDst entries):
      // no per-connection key string, no per-pair Map entry.
      // IPv4 addresses are keyed by their 32-bit value (a small integer, hashed and compared without touching the text).
      const dv = ipv4ToInt(dst);
      const dk: number | string = Number.isNaN(dv) ? dst : dv | 0;
      const sv = ipv4ToInt(src);
      const sk: number | string = Number.isNaN(sv) ? src : sv | 0;
      let c = this.contacts.get(dk);
      if (c === undefined) {
        if (this.contacts.size >= this.limits.maxContactDsts) {
          this.dropped++;
          return;
        }
        c = { dst, keys: [], recs: [], shared: false };
        this.contacts.set(dk, c);
      }
      const keys = c.keys;
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] === sk) {
          if (c.shared) this.unshare(c);
          const r = c.recs[i];
          r.count++;
          if (t < r.first) r.first = t;
          if (t > r.last) r.last = t;
          return;
        }
      }
      if (keys.length >= this.limits.maxContactSrcsPerDst) {
        this.dropped++;
        return;
      }
      if (c.shared) this.unshare(c);
      keys.push(sk);
      c.recs.push({ src, first: t, last: t, count: 1, ref: e.ref });
    } else if (!si && di) {
      const port = e['destination.port'];
      if (typeof port !== 'number') return;
      const state = e['conn.state'];
      const answered = (typeof state === 'string' && ESTABLISHED.has(state)) || (typeof e['destination.bytes'] === 'number' && (e['destination.bytes'] as number) > 0);
      if (!answered) return;
      let m = this.exposed.get(dst);
      if (!m) {
        if (this.exposed.size >= this.limits.maxExposedHosts) {
          this.dropped++;
          return;
        }
        m = new Map();
        this.exposed.set(dst, m);
      }
      const r = m.get(port);
      if (r) {
        r.count++;
        if (t < r.first) r.first = t;
        if (t > r.last) r.last = t;
        if (r.sources.length < 16 && !r.sources.includes(src)) r.sources.push(src);
      } else if (m.size < this.limits.maxPortsPerHost) m.set(port, { port, first: t, last: t, count: 1, sources: [src], ref: e.ref });
    }
  }

  private unshare(c: ContactList): void {
    const l = c.recs;
    const out: ContactRec[] = new Array(l.length);
    for (let i = 0; i < l.length; i++) {
      const r = l[i];
      out[i] = { src: r.src, first: r.first, last: r.last, count: r.count, ref: r.ref };
    }
    c.recs = out;
    c.shared = false;
  }

  snapshot(): EntitySnapshot {
    const s = emptySnapshot();
    // Plain copies (object literals, not spreads: cheaper over ~10^6 records), so later observation does not alter the snapshot.
    for (const [n, m] of this.names) {
      const ls: NameLink[] = [];
      for (const l of m.values()) ls.push({ ip: l.ip, count: l.count, source: l.source, ref: l.ref });
      if (ls.length > 1) ls.sort((a, b) => b.count - a.count);
      s.hosts[n] = ls;
    }
    for (const [d, ips] of this.domains) s.domains[d] = [...ips];
    // Contact lists (up to ~10^6 records) are handed over without copying and copied on the collector's next
    // write to that list instead (copy on write), so the snapshot still never changes afterwards.
    const contacts = new Map<string, ContactRec[]>();
    for (const c of this.contacts.values()) {
      c.shared = true;
      contacts.set(c.dst, c.recs);
    }
    s.contacts = Object.fromEntries(contacts);
    for (const [h, m] of this.exposed) {
      const out: ExposureRec[] = [];
      for (const r of m.values()) out.push({ port: r.port, first: r.first, last: r.last, count: r.count, sources: r.sources.slice(), ref: r.ref });
      s.exposed[h] = out;
    }
    s.dropped = this.dropped;
    return s;
  }
}
