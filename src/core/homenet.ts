/**
 * Home networks: the site's internal address ranges (Zeek's Site::local_nets,
 * Suricata's HOME_NET). Every detector asks this one place whether an address
 * is internal.
 */

export const DEFAULT_HOME_NETS = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '169.254.0.0/16',
  'fc00::/7',
  'fe80::/10',
  '::1/128',
];

export interface Cidr {
  text: string;
  v6: boolean;
  /** Network address as a bigint (v4 fits in 32 bits, v6 in 128). */
  net: bigint;
  bits: number;
}

/** Parse an IPv4 or IPv6 textual address to a bigint, or null when invalid. */
export function ipToBigInt(ip: string): { v6: boolean; value: bigint } | null {
  if (ip.includes(':')) {
    let s = ip;
    const pct = s.indexOf('%');
    if (pct >= 0) s = s.slice(0, pct);
    // IPv4-mapped tail
    let tail: number[] = [];
    const lastColon = s.lastIndexOf(':');
    if (s.indexOf('.', lastColon) >= 0) {
      const v4 = ipToBigInt(s.slice(lastColon + 1));
      if (!v4 || v4.v6) return null;
      tail = [Number(v4.value >> 16n), Number(v4.value & 0xffffn)];
      s = s.slice(0, lastColon + 1) + '0:0';
    }
    const halves = s.split('::');
    if (halves.length > 2) return null;
    const parse = (part: string) => (part === '' ? [] : part.split(':'));
    const head = parse(halves[0]);
    const rest = halves.length === 2 ? parse(halves[1]) : [];
    const missing = 8 - head.length - rest.length;
    if (halves.length === 1 && missing !== 0) return null;
    if (missing < 0) return null;
    const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...rest];
    if (groups.length !== 8) return null;
    let v = 0n;
    for (let i = 0; i < 8; i++) {
      const g = groups[i];
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      v = (v << 16n) | BigInt(parseInt(g, 16));
    }
    if (tail.length) v = (v & ~0xffffffffn) | (BigInt(tail[0]) << 16n) | BigInt(tail[1]);
    return { v6: true, value: v };
  }
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return { v6: false, value: v };
}

export function parseCidr(text: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash >= 0 ? t.slice(0, slash) : t;
  const parsed = ipToBigInt(addr);
  if (!parsed) throw new Error(`not an IP network: ${JSON.stringify(text)}`);
  const max = parsed.v6 ? 128 : 32;
  const bits = slash >= 0 ? Number(t.slice(slash + 1)) : max;
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new Error(`bad prefix length in ${JSON.stringify(text)}`);
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(max - bits);
  return { text: t, v6: parsed.v6, net: parsed.value & mask, bits };
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const p = ipToBigInt(ip);
  if (!p || p.v6 !== c.v6) return false;
  const max = c.v6 ? 128 : 32;
  const mask = c.bits === 0 ? 0n : ((1n << BigInt(c.bits)) - 1n) << BigInt(max - c.bits);
  return (p.value & mask) === c.net;
}

/** Fast IPv4 dotted-quad → uint32 (no validation beyond digits); NaN when not IPv4. */
export function ipv4ToInt(ip: string): number {
  let v = 0;
  let part = 0;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return NaN;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits++;
    } else return NaN;
  }
  if (dots !== 3 || digits === 0 || part > 255) return NaN;
  return v * 256 + part;
}

export class HomeNet {
  readonly cidrs: Cidr[];
  private readonly v4: { net: number; mask: number }[];
  private readonly cache = new Map<string, boolean>();

  constructor(cidrs: string[] = DEFAULT_HOME_NETS) {
    this.cidrs = cidrs.map(parseCidr);
    this.v4 = this.cidrs
      .filter((c) => !c.v6)
      .map((c) => ({ net: Number(c.net), mask: c.bits === 0 ? 0 : Number(((1n << BigInt(c.bits)) - 1n) << BigInt(32 - c.bits)) }));
  }

  get texts(): string[] {
    return this.cidrs.map((c) => c.text);
  }

  /** Is this address inside the site's internal ranges? */
  isInternal(ip: string | undefined | null): boolean {
    if (!ip) return false;
    const v = ipv4ToInt(ip);
    if (!Number.isNaN(v)) {
      for (const r of this.v4) if (((v & r.mask) >>> 0) === r.net) return true;
      return false;
    }
    let hit = this.cache.get(ip);
    if (hit === undefined) {
      hit = this.cidrs.some((c) => c.v6 && cidrContains(c, ip));
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(ip, hit);
    }
    return hit;
  }
}
