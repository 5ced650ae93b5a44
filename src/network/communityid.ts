/**
 * Community ID flow hash v1 (https://github.com/corelight/community-id-spec):
 * base64(SHA-1(seed16 | saddr | daddr | proto | 0 | sport | dport)), with the
 * endpoints ordered so that both directions hash alike. The input is at most
 * 40 bytes, i.e. one SHA-1 block, so a small allocation-free SHA-1 is used.
 */

const W = new Int32Array(80);
const BLOCK = new Uint8Array(64);
const OUT = new Uint8Array(20);
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function put32(o: number, v: number): void {
  OUT[o] = v >>> 24;
  OUT[o + 1] = (v >>> 16) & 255;
  OUT[o + 2] = (v >>> 8) & 255;
  OUT[o + 3] = v & 255;
}

/** SHA-1 of BLOCK[0..len) where len ≤ 55 (single block). Result in OUT. */
function sha1Single(len: number): void {
  BLOCK.fill(0, len);
  BLOCK[len] = 0x80;
  const bits = len * 8;
  BLOCK[62] = (bits >>> 8) & 255;
  BLOCK[63] = bits & 255;
  for (let i = 0; i < 16; i++) {
    W[i] = (BLOCK[i * 4] << 24) | (BLOCK[i * 4 + 1] << 16) | (BLOCK[i * 4 + 2] << 8) | BLOCK[i * 4 + 3];
  }
  for (let i = 16; i < 80; i++) {
    const x = W[i - 3] ^ W[i - 8] ^ W[i - 14] ^ W[i - 16];
    W[i] = (x << 1) | (x >>> 31);
  }
  let a = 0x67452301 | 0;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476 | 0;
  let e = 0xc3d2e1f0 | 0;
  for (let i = 0; i < 80; i++) {
    let f: number;
    let k: number;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  put32(0, (0x67452301 + a) | 0);
  put32(4, (0xefcdab89 + b) | 0);
  put32(8, (0x98badcfe + c) | 0);
  put32(12, (0x10325476 + d) | 0);
  put32(16, (0xc3d2e1f0 + e) | 0);
}

const B64C = new Uint8Array(64);
for (let i = 0; i < 64; i++) B64C[i] = B64.charCodeAt(i);
const OC = new Uint8Array(30);

/** '1:' + base64(OUT), built as one flat string (no concatenation chain). */
function base64Out(): string {
  const c = OC;
  c[0] = 49; // '1'
  c[1] = 58; // ':'
  let k = 2;
  for (let i = 0; i < 18; i += 3) {
    const n = (OUT[i] << 16) | (OUT[i + 1] << 8) | OUT[i + 2];
    c[k++] = B64C[n >>> 18];
    c[k++] = B64C[(n >>> 12) & 63];
    c[k++] = B64C[(n >>> 6) & 63];
    c[k++] = B64C[n & 63];
  }
  const n = (OUT[18] << 16) | (OUT[19] << 8);
  c[k++] = B64C[n >>> 18];
  c[k++] = B64C[(n >>> 12) & 63];
  c[k++] = B64C[(n >>> 6) & 63];
  c[k] = 61; // '='
  return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15], c[16], c[17], c[18], c[19], c[20], c[21], c[22], c[23], c[24], c[25], c[26], c[27], c[28], c[29]);
}

function cmpAddr(a: ArrayLike<number>, b: ArrayLike<number>, words: number): number {
  for (let i = 0; i < words; i++) {
    const x = a[i] >>> 0;
    const y = b[i] >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Community ID v1 for a flow. Addresses as uint32 words (1 for IPv4, 4 for IPv6).
 * For ICMP pass the type as sport and code as dport; the ICMP mapping of the spec
 * (request/response type pairs) is applied here.
 */
export function communityId(v6: boolean, saddr: ArrayLike<number>, daddr: ArrayLike<number>, proto: number, sport: number, dport: number, seed = 0): string {
  const words = v6 ? 4 : 1;
  let oneWay = false;
  if (proto === 1 || proto === 58) {
    const map = proto === 1 ? ICMP4_PAIRS : ICMP6_PAIRS;
    const peer = map.get(sport);
    if (peer === undefined) oneWay = true;
    const type = sport;
    dport = peer === undefined ? dport : peer;
    sport = type;
  }
  let swap = false;
  const c = cmpAddr(saddr, daddr, words);
  if (!oneWay) {
    if (c > 0 || (c === 0 && sport > dport)) swap = true;
  }
  const A = swap ? daddr : saddr;
  const Bd = swap ? saddr : daddr;
  const ap = swap ? dport : sport;
  const bp = swap ? sport : dport;
  let o = 0;
  BLOCK[o++] = (seed >>> 8) & 255;
  BLOCK[o++] = seed & 255;
  for (let i = 0; i < words; i++) {
    const v = A[i] >>> 0;
    BLOCK[o++] = v >>> 24;
    BLOCK[o++] = (v >>> 16) & 255;
    BLOCK[o++] = (v >>> 8) & 255;
    BLOCK[o++] = v & 255;
  }
  for (let i = 0; i < words; i++) {
    const v = Bd[i] >>> 0;
    BLOCK[o++] = v >>> 24;
    BLOCK[o++] = (v >>> 16) & 255;
    BLOCK[o++] = (v >>> 8) & 255;
    BLOCK[o++] = v & 255;
  }
  BLOCK[o++] = proto;
  BLOCK[o++] = 0;
  if (proto === 6 || proto === 17 || proto === 132 || proto === 1 || proto === 58) {
    BLOCK[o++] = (ap >>> 8) & 255;
    BLOCK[o++] = ap & 255;
    BLOCK[o++] = (bp >>> 8) & 255;
    BLOCK[o++] = bp & 255;
  }
  sha1Single(o);
  return base64Out();
}

// ICMP type → counterpart type (community-id spec, same pairs as Zeek)
const ICMP4_PAIRS = new Map<number, number>([
  [8, 0], [0, 8], [13, 14], [14, 13], [15, 16], [16, 15], [10, 9], [9, 10], [17, 18], [18, 17],
]);
const ICMP6_PAIRS = new Map<number, number>([
  [128, 129], [129, 128], [133, 134], [134, 133], [135, 136], [136, 135], [130, 131], [131, 130], [144, 145], [145, 144],
]);

/** Zeek's ICMP counterpart type (for the conn responder port), or -1 when one-way. */
export function icmpCounterpart(v6: boolean, type: number): number {
  const v = (v6 ? ICMP6_PAIRS : ICMP4_PAIRS).get(type);
  return v === undefined ? -1 : v;
}

const WA = [0, 0, 0, 0];
const WB = [0, 0, 0, 0];
/** Community ID from 8 address words (orig words 0..3, resp words 4..7; IPv4 uses words 0 and 4). */
export function communityIdWords(v6: boolean, w: ArrayLike<number>, proto: number, sport: number, dport: number): string {
  if (v6) {
    for (let i = 0; i < 4; i++) {
      WA[i] = w[i];
      WB[i] = w[i + 4];
    }
  } else {
    WA[0] = w[0];
    WB[0] = w[4];
  }
  return communityId(v6, WA, WB, proto, sport, dport);
}

/** Community ID from 8 address words at `off` in `w` (orig words 0..3, resp words 4..7; IPv4 uses words 0 and 4). */
export function communityIdAt(v6: boolean, w: Uint32Array, off: number, proto: number, sport: number, dport: number): string {
  if (v6) {
    for (let i = 0; i < 4; i++) {
      WA[i] = w[off + i];
      WB[i] = w[off + 4 + i];
    }
  } else {
    WA[0] = w[off];
    WB[0] = w[off + 4];
  }
  return communityId(v6, WA, WB, proto, sport, dport);
}
