/**
 * EVTX value types (binary XML substitution values) rendered to the strings the
 * Windows event XML shows. Formats follow Windows' own XML rendering:
 * decimal integers, `0x` minimal lower-case hex for HexInt32/64 and size_t,
 * upper-case braced GUIDs, upper-case hex for binary, ISO 8601 UTC (7 fractional
 * digits) for FILETIME, `true`/`false` for booleans, `S-1-...` for SIDs.
 * Arrays render as their elements joined by ", ".
 */

/** Node's internal fast slicers (exist on every Buffer, avoid argument checks). */
type FastBuf = Buffer & {
  utf16leSlice?: (s: number, e: number) => string;
  latin1Slice?: (s: number, e: number) => string;
  hexSlice?: (s: number, e: number) => string;
};

const hasFast = typeof (Buffer.prototype as FastBuf).utf16leSlice === 'function';

/** UTF-16LE decode of [s, e) (e - s even), trailing NULs removed. */
export function utf16(buf: Buffer, s: number, e: number): string {
  if (e > buf.length) e = buf.length;
  if ((e - s) & 1) e--;
  while (e > s && buf[e - 1] === 0 && buf[e - 2] === 0) e -= 2;
  if (e <= s) return '';
  // Short pure-ASCII strings: building from char codes beats the native call.
  const n = (e - s) >> 1;
  if (n <= 16) {
    let ascii = true;
    for (let i = s + 1; i < e; i += 2) if (buf[i] !== 0 || buf[i - 1] > 0x7f) { ascii = false; break; }
    if (ascii) {
      switch (n) {
        case 1: return String.fromCharCode(buf[s]);
        case 2: return String.fromCharCode(buf[s], buf[s + 2]);
        case 3: return String.fromCharCode(buf[s], buf[s + 2], buf[s + 4]);
        case 4: return String.fromCharCode(buf[s], buf[s + 2], buf[s + 4], buf[s + 6]);
        default: {
          let r = '';
          for (let i = s; i < e; i += 2) r += String.fromCharCode(buf[i]);
          return r;
        }
      }
    }
  }
  return hasFast ? (buf as FastBuf).utf16leSlice!(s, e) : buf.toString('utf16le', s, e);
}

/** ANSI (code page ~ latin1) string, trailing NULs removed. */
export function ansi(buf: Buffer, s: number, e: number): string {
  if (e > buf.length) e = buf.length;
  while (e > s && buf[e - 1] === 0) e--;
  if (e <= s) return '';
  return hasFast ? (buf as FastBuf).latin1Slice!(s, e) : buf.toString('latin1', s, e);
}

const HEX = '0123456789ABCDEF';
function hex8(v: number): string {
  return (v >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
function hex4(v: number): string {
  return v.toString(16).toUpperCase().padStart(4, '0');
}

/** Upper-case two-digit hex of each byte value. */
const H2: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4] + HEX[i & 15]);
// Two-slot cache keyed on the 16 bytes (provider GUID and ActivityID alternate record after record).
const gw = new Uint32Array(8);
const gs = ['', ''];
const gok = [false, false];
let gnext = 0;

export function guidAt(buf: Buffer, o: number): string {
  if (o + 16 > buf.length) return '';
  const a = buf.readUInt32LE(o);
  const b1 = buf.readUInt32LE(o + 4);
  const c = buf.readUInt32LE(o + 8);
  const d = buf.readUInt32LE(o + 12);
  if (gok[0] && gw[0] === a && gw[1] === b1 && gw[2] === c && gw[3] === d) return gs[0];
  if (gok[1] && gw[4] === a && gw[5] === b1 && gw[6] === c && gw[7] === d) return gs[1];
  const b = buf;
  const g = '{' + H2[b[o + 3]] + H2[b[o + 2]] + H2[b[o + 1]] + H2[b[o]] + '-' + H2[b[o + 5]] + H2[b[o + 4]] + '-' + H2[b[o + 7]] + H2[b[o + 6]] +
    '-' + H2[b[o + 8]] + H2[b[o + 9]] + '-' + H2[b[o + 10]] + H2[b[o + 11]] + H2[b[o + 12]] + H2[b[o + 13]] + H2[b[o + 14]] + H2[b[o + 15]] + '}';
  const slot = gnext;
  gnext ^= 1;
  gw[slot * 4] = a;
  gw[slot * 4 + 1] = b1;
  gw[slot * 4 + 2] = c;
  gw[slot * 4 + 3] = d;
  gs[slot] = g;
  gok[slot] = true;
  return g;
}
void hex8;
void hex4;

export function sidAt(buf: Buffer, o: number, size: number): string {
  if (size < 8 || o + 8 > buf.length) return '';
  const rev = buf[o];
  const count = buf[o + 1];
  const auth = buf.readUIntBE(o + 2, 6);
  let s = 'S-' + rev + '-' + auth;
  const lim = Math.min(count, (size - 8) >> 2);
  for (let i = 0; i < lim; i++) s += '-' + buf.readUInt32LE(o + 8 + i * 4);
  return s;
}

/** Length in bytes of a SID at o (for arrays of SIDs). */
function sidLen(buf: Buffer, o: number): number {
  return 8 + 4 * buf[o + 1];
}

const EPOCH_DIFF_S = 11644473600;

/** FILETIME (100 ns since 1601) → ms since the Unix epoch (fractional). */
export function filetimeMs(buf: Buffer, o: number): number {
  const lo = buf.readUInt32LE(o);
  const hi = buf.readUInt32LE(o + 4);
  return (hi * 4294967296 + lo) / 10000 - EPOCH_DIFF_S * 1000;
}

let lastSecs = NaN;
let lastPrefix = '';
/** FILETIME → ISO 8601 UTC with 7 fractional digits (exact). */
export function filetimeIso(buf: Buffer, o: number): string {
  const lo = buf.readUInt32LE(o);
  const hi = buf.readUInt32LE(o + 4);
  // exact remainder modulo 1e7 using 4294967296 % 1e7 = 4967296
  const frac = (((hi % 10000000) * 4967296) % 10000000 + (lo % 10000000)) % 10000000;
  const secs = Math.round((hi * 4294967296 + lo - frac) / 10000000) - EPOCH_DIFF_S;
  if (secs !== lastSecs) {
    const ms = secs * 1000;
    if (!(ms >= -62135596800000 && ms <= 253402300799000)) return '';
    lastPrefix = new Date(ms).toISOString().slice(0, 20); // YYYY-MM-DDTHH:MM:SS.
    lastSecs = secs;
  }
  return lastPrefix + (frac < 1000000 ? String(frac).padStart(7, '0') : frac) + 'Z';
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}

export function systemtimeIso(buf: Buffer, o: number): string {
  if (o + 16 > buf.length) return '';
  const y = buf.readUInt16LE(o);
  const mo = buf.readUInt16LE(o + 2);
  const d = buf.readUInt16LE(o + 6);
  const h = buf.readUInt16LE(o + 8);
  const mi = buf.readUInt16LE(o + 10);
  const s = buf.readUInt16LE(o + 12);
  const ms = buf.readUInt16LE(o + 14);
  return String(y).padStart(4, '0') + '-' + pad2(mo) + '-' + pad2(d) + 'T' + pad2(h) + ':' + pad2(mi) + ':' + pad2(s) + '.' + String(ms).padStart(3, '0') + 'Z';
}

function u64Str(buf: Buffer, o: number): string {
  const hi = buf.readUInt32LE(o + 4);
  if (hi === 0) return '' + buf.readUInt32LE(o);
  if (hi < 0x200000) return '' + (hi * 4294967296 + buf.readUInt32LE(o));
  return buf.readBigUInt64LE(o).toString();
}

let h64hi = -1;
let h64lo = -1;
let h64s = '';
function hex64(buf: Buffer, o: number): string {
  const hi = buf.readUInt32LE(o + 4);
  const lo = buf.readUInt32LE(o);
  if (hi === h64hi && lo === h64lo) return h64s; // keywords repeat record after record
  h64hi = hi;
  h64lo = lo;
  h64s = hi === 0 ? '0x' + lo.toString(16) : '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0');
  return h64s;
}

/** Fixed element size of a value type, 0 when variable. */
export function fixedSize(t: number): number {
  switch (t) {
    case 0x03: case 0x04: return 1;
    case 0x05: case 0x06: return 2;
    case 0x07: case 0x08: case 0x0b: case 0x0d: case 0x14: return 4;
    case 0x09: case 0x0a: case 0x0c: case 0x11: case 0x15: return 8;
    case 0x0f: case 0x12: return 16;
    default: return 0;
  }
}

/**
 * Render one scalar or array value (not BinXml, type 0x21: the caller renders
 * nested binary XML) of type t at [o, o+n) to its string.
 */
export function valueString(buf: Buffer, t: number, o: number, n: number): string {
  if (n <= 0 && t !== 0x01 && t !== 0x02) return '';
  switch (t) {
    case 0x00: return '';
    case 0x01: return utf16(buf, o, o + n);
    case 0x02: return ansi(buf, o, o + n);
    case 0x03: return '' + buf.readInt8(o);
    case 0x04: return '' + buf[o];
    case 0x05: return '' + buf.readInt16LE(o);
    case 0x06: return '' + buf.readUInt16LE(o);
    case 0x07: return '' + buf.readInt32LE(o);
    case 0x08: return '' + buf.readUInt32LE(o);
    case 0x09: {
      const hi = buf.readInt32LE(o + 4);
      if (hi === 0) return '' + buf.readUInt32LE(o);
      return buf.readBigInt64LE(o).toString();
    }
    case 0x0a: return u64Str(buf, o);
    case 0x0b: return '' + buf.readFloatLE(o);
    case 0x0c: return '' + buf.readDoubleLE(o);
    case 0x0d: return buf.readUInt32LE(o) !== 0 ? 'true' : 'false';
    case 0x0e: return buf.toString('hex', o, o + n).toUpperCase();
    case 0x0f: return guidAt(buf, o);
    case 0x10: return n >= 8 ? hex64(buf, o) : '0x' + buf.readUInt32LE(o).toString(16);
    case 0x11: return filetimeIso(buf, o);
    case 0x12: return systemtimeIso(buf, o);
    case 0x13: return sidAt(buf, o, n);
    case 0x14: return '0x' + buf.readUInt32LE(o).toString(16);
    case 0x15: return hex64(buf, o);
    case 0x20: return n >= 8 ? hex64(buf, o) : '0x' + buf.readUInt32LE(o).toString(16);
    case 0x23: return utf16(buf, o, o + n);
    default:
      if (t & 0x80) return arrayString(buf, t & 0x7f, o, n);
      return buf.toString('hex', o, o + n).toUpperCase();
  }
}

/** Elements of an array value as strings. */
export function arrayItems(buf: Buffer, et: number, o: number, n: number): string[] {
  const out: string[] = [];
  const end = Math.min(o + n, buf.length);
  if (et === 0x01) {
    let s = o;
    for (let i = o; i + 1 < end; i += 2) {
      if (buf[i] === 0 && buf[i + 1] === 0) {
        out.push(i > s ? utf16(buf, s, i) : '');
        s = i + 2;
      }
    }
    if (s + 1 < end) out.push(utf16(buf, s, end));
    return out;
  }
  if (et === 0x02) {
    let s = o;
    for (let i = o; i < end; i++) {
      if (buf[i] === 0) { out.push(ansi(buf, s, i)); s = i + 1; }
    }
    if (s < end) out.push(ansi(buf, s, end));
    return out;
  }
  if (et === 0x13) {
    let p = o;
    while (p + 8 <= end) {
      const l = sidLen(buf, p);
      if (p + l > end) break;
      out.push(sidAt(buf, p, l));
      p += l;
    }
    return out;
  }
  let sz = fixedSize(et);
  if (et === 0x10 || et === 0x20) sz = 8;
  if (sz === 0) {
    out.push(buf.toString('hex', o, end).toUpperCase());
    return out;
  }
  for (let p = o; p + sz <= end; p += sz) out.push(valueString(buf, et, p, sz));
  return out;
}

function arrayString(buf: Buffer, et: number, o: number, n: number): string {
  return arrayItems(buf, et, o, n).join(', ');
}
