/**
 * Small helpers shared by the network detectors: typed field access, bounded
 * evidence samples, bounded maps/sets, and text decoding for payload matching.
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';

export function str(e: SpoorEvent, f: string): string | undefined {
  const v = e[f];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

export function num(e: SpoorEvent, f: string): number | undefined {
  const v = e[f];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** Header value (lower-case name) from `http.request.headers` / `http.response.headers`. */
export function header(e: SpoorEvent, which: 'request' | 'response', name: string): string | undefined {
  const h = e[`http.${which}.headers`];
  if (!h || typeof h !== 'object') return undefined;
  const v = (h as Record<string, unknown>)[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string').join(', ');
  return undefined;
}

export function headers(e: SpoorEvent, which: 'request' | 'response'): Record<string, string> {
  const h = e[`http.${which}.headers`];
  const out: Record<string, string> = {};
  if (!h || typeof h !== 'object') return out;
  for (const [k, v] of Object.entries(h as Record<string, unknown>)) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
    else if (Array.isArray(v)) out[k.toLowerCase()] = v.filter((x) => typeof x === 'string').join(', ');
  }
  return out;
}

/** A copy of the event's evidence reference, with the connection uid filled in. */
export function refOf(e: SpoorEvent): EvidenceRef {
  const r: EvidenceRef = { ...(e.ref ?? { evidence: '?' }) };
  if (!r.uid) {
    const uid = e['conn.uid'];
    if (typeof uid === 'string') r.uid = uid;
  }
  return r;
}

/**
 * Bounded evidence sample: the first `head` refs, the last `tail` refs and up to
 * `keyCap` key refs (e.g. the success after many failures). Total count is kept.
 */
export class EvidenceSample {
  private readonly first: EvidenceRef[] = [];
  private readonly ring: EvidenceRef[] = [];
  private ringPos = 0;
  private readonly keys: EvidenceRef[] = [];
  count = 0;
  constructor(
    private readonly head = 3,
    private readonly tail = 3,
    private readonly keyCap = 5,
  ) {}
  add(r: EvidenceRef): void {
    this.count++;
    if (this.first.length < this.head) {
      this.first.push(r);
      return;
    }
    if (this.tail === 0) return;
    if (this.ring.length < this.tail) this.ring.push(r);
    else {
      this.ring[this.ringPos] = r;
      this.ringPos = (this.ringPos + 1) % this.tail;
    }
  }
  /** Add an event's own ref without copying it (cheap on hot paths; the ref must not be mutated later). */
  addEvent(e: SpoorEvent): void {
    const r = e.ref;
    this.add(r && r.uid ? r : refOf(e));
  }
  key(r: EvidenceRef): void {
    if (this.keys.length < this.keyCap) this.keys.push(r);
  }
  refs(): EvidenceRef[] {
    const tail = this.ring.length < this.tail ? this.ring : [...this.ring.slice(this.ringPos), ...this.ring.slice(0, this.ringPos)];
    const out: EvidenceRef[] = [];
    const seen = new Set<string>();
    for (const r of [...this.first, ...this.keys, ...tail]) {
      const k = `${r.evidence}|${r.frame ?? ''}|${r.record ?? ''}|${r.line ?? ''}|${r.uid ?? ''}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(r);
    }
    return out;
  }
}

/** A Set that stops growing at `cap` (it remembers that it overflowed). */
export class CappedSet<T> {
  readonly set = new Set<T>();
  overflow = false;
  constructor(private readonly cap: number) {}
  add(v: T): boolean {
    const n = this.set.size;
    if (n < this.cap) {
      // one hash operation instead of has() + add()
      this.set.add(v);
      return this.set.size !== n;
    }
    if (this.set.has(v)) return false;
    this.overflow = true;
    return false;
  }
  has(v: T): boolean {
    return this.set.has(v);
  }
  get size(): number {
    return this.set.size;
  }
  values(limit = Infinity): T[] {
    const out: T[] = [];
    for (const v of this.set) {
      if (out.length >= limit) break;
      out.push(v);
    }
    return out;
  }
}

/**
 * A Map bounded to `cap` keys: when full, the least recently inserted key is
 * evicted (passed to `onEvict`, so the caller may still report it).
 */
export class BoundedMap<K, V> {
  readonly map = new Map<K, V>();
  evicted = 0;
  constructor(
    private readonly cap: number,
    private readonly onEvict?: (k: K, v: V) => void,
  ) {}
  get(k: K): V | undefined {
    return this.map.get(k);
  }
  getOrCreate(k: K, make: () => V): V {
    let v = this.map.get(k);
    if (v === undefined) {
      if (this.map.size >= this.cap) {
        const oldest = this.map.keys().next().value as K;
        const ov = this.map.get(oldest) as V;
        this.map.delete(oldest);
        this.evicted++;
        this.onEvict?.(oldest, ov);
      }
      v = make();
      this.map.set(k, v);
    }
    return v;
  }
  delete(k: K): void {
    this.map.delete(k);
  }
  get size(): number {
    return this.map.size;
  }
}

/** Percent-decoding that never throws (bad escapes are left as they are). */
export function pctDecode(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  return s.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})|%u([0-9a-fA-F]{4})/g, (_m, h: string | undefined, u: string | undefined) =>
    String.fromCharCode(parseInt((h ?? u) as string, 16)),
  );
}

/** Decode up to `rounds` times (double encoding is common in exploits). */
export function deepDecode(s: string, rounds = 3): string {
  let cur = s;
  for (let i = 0; i < rounds; i++) {
    const next = pctDecode(cur);
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

/** Parse `a=b&c=d` (URL query or form body) into name → value (decoded), bounded. */
export function parseParams(q: string, cap = 200): Map<string, string> {
  const out = new Map<string, string>();
  if (!q) return out;
  let n = 0;
  for (const part of q.split('&')) {
    if (++n > cap) break;
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = deepDecode(eq >= 0 ? part.slice(0, eq) : part);
    const v = eq >= 0 ? deepDecode(part.slice(eq + 1)) : '';
    if (!out.has(k)) out.set(k, v);
  }
  return out;
}

export function uriPath(uri: string): string {
  const q = uri.indexOf('?');
  let p = q >= 0 ? uri.slice(0, q) : uri;
  // absolute-form request target (proxy): http://host/path
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(p);
  if (m) p = p.slice(m[0].length) || '/';
  return p;
}

export function uriQuery(uri: string): string {
  const q = uri.indexOf('?');
  return q >= 0 ? uri.slice(q + 1) : '';
}

/** Truncate attacker-controlled text for facts and summaries. */
export function clip(s: string, n = 160): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}

export function minMax(a: { first: number; last: number }, ts: number): void {
  if (ts < a.first) a.first = ts;
  if (ts > a.last) a.last = ts;
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

export const asNum = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
export const asStrList = (v: unknown, d: string[]): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : d);
export const asNumList = (v: unknown, d: number[]): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : d);
