/**
 * A small, defensive BER/DER reader (enough for X.509, SPNEGO/GSS-API and Kerberos).
 * Every function returns null/empty on malformed input instead of throwing.
 */

export interface Tlv {
  /** 0 universal, 1 application, 2 context, 3 private. */
  cls: number;
  constructed: boolean;
  tag: number;
  /** Offset of the identifier octet in the buffer. */
  start: number;
  /** Offset of the content. */
  off: number;
  /** Content length (indefinite lengths are resolved to the rest of the parent). */
  len: number;
  /** Offset just past this TLV. */
  end: number;
}

/** Read one TLV at `off`, bounded by `limit` (defaults to buf.length). */
export function readTlv(buf: Buffer, off: number, limit = buf.length): Tlv | null {
  if (limit > buf.length) limit = buf.length;
  if (off < 0 || off + 2 > limit) return null;
  const start = off;
  const id = buf[off++];
  const cls = id >> 6;
  const constructed = (id & 0x20) !== 0;
  let tag = id & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let i = 0; i < 4; i++) {
      if (off >= limit) return null;
      const b = buf[off++];
      tag = (tag << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
      if (i === 3) return null;
    }
  }
  if (off >= limit) return null;
  let len = buf[off++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) {
      len = limit - off; // indefinite: take the rest (end-of-contents left inside)
    } else {
      if (n > 4 || off + n > limit) return null;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[off++];
    }
  }
  if (off + len > limit) return null;
  return { cls, constructed, tag, start, off, len, end: off + len };
}

/** Children of a constructed TLV (stops at the first malformed child). */
export function children(buf: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let o = t.off;
  while (o < t.end && out.length < 4096) {
    if (buf[o] === 0 && buf[o + 1] === 0) break; // end-of-contents
    const c = readTlv(buf, o, t.end);
    if (!c) break;
    out.push(c);
    o = c.end;
  }
  return out;
}

/** Context-specific child [n] of a constructed TLV. */
export function ctx(buf: Buffer, t: Tlv | null, n: number): Tlv | null {
  if (!t) return null;
  for (const c of children(buf, t)) if (c.cls === 2 && c.tag === n) return c;
  return null;
}

/** First child (for explicit tagging wrappers). */
export function inner(buf: Buffer, t: Tlv | null): Tlv | null {
  if (!t) return null;
  return readTlv(buf, t.off, t.end);
}

export function oid(buf: Buffer, t: Tlv): string {
  const b = buf.subarray(t.off, t.end);
  if (!b.length) return '';
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      if (!parts.length) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** INTEGER as a JS number (small values); NaN when too long. */
export function int(buf: Buffer, t: Tlv | null): number {
  if (!t || t.len === 0 || t.len > 6) return NaN;
  let u = 0;
  for (let i = t.off; i < t.end; i++) u = u * 256 + buf[i];
  return buf[t.off] & 0x80 ? u - 256 ** t.len : u;
}

/** String types (UTF8, Printable, IA5, T61, BMP, Universal, GeneralString, OCTET) as text. */
export function str(buf: Buffer, t: Tlv | null): string {
  if (!t) return '';
  const b = buf.subarray(t.off, t.end);
  if (t.cls === 0 && t.tag === 30) return b.length % 2 === 0 ? Buffer.from(b).swap16().toString('utf16le') : '';
  if (t.cls === 0 && (t.tag === 12)) return b.toString('utf8');
  return b.toString('latin1');
}

/** UTCTime / GeneralizedTime → ms since epoch (NaN when malformed). */
export function time(buf: Buffer, t: Tlv | null): number {
  if (!t) return NaN;
  const s = buf.toString('latin1', t.off, t.end);
  let m: RegExpMatchArray | null;
  if (t.tag === 23 && (m = s.match(/^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/))) {
    const yy = +m[1];
    return Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  }
  if ((m = s.match(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(?:\.\d+)?Z$/))) {
    return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  }
  return NaN;
}
