/**
 * X.509 certificates (RFC 5280) with the small DER reader in asn1.ts: subject,
 * issuer (OpenSSL RFC 2253 style, most specific RDN first, like Zeek's x509.log),
 * serial (upper-case hex), validity, subject alternative DNS names, key type and
 * the SHA-256 fingerprint of the DER bytes.
 */
import { children, ctx, inner, int, oid, readTlv, str, time, type Tlv } from './asn1.js';
import { sha256hex } from './common.js';

export interface X509Info {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  version: number;
  san: string[];
  keyAlg?: string;
  sigAlg?: string;
  sha256: string;
}

const NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.9': 'street', '2.5.4.5': 'serialNumber', '2.5.4.4': 'SN', '2.5.4.42': 'GN', '2.5.4.12': 'title',
  '2.5.4.17': 'postalCode', '2.5.4.46': 'dnQualifier', '2.5.4.65': 'pseudonym', '2.5.4.43': 'initials',
  '2.5.4.15': 'businessCategory', '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC', '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST', '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
};

const ALGS: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'rsa', '1.2.840.10045.2.1': 'ecdsa', '1.2.840.10040.4.1': 'dsa', '1.3.101.112': 'ed25519',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption', '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption', '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption', '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384', '1.2.840.113549.1.1.10': 'rsassaPss',
};

/**
 * Value escaping as OpenSSL's XN_FLAG_RFC2253 prints it (what Zeek logs): RFC 2253 specials
 * backslash-escaped, control characters and bytes with the high bit set (UTF-8) as `\XX`.
 */
function escapeRdn(v: string): string {
  const bytes = Buffer.from(v, 'utf8');
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    const ch = String.fromCharCode(c);
    if (c < 0x20 || c >= 0x7f) s += '\\' + c.toString(16).toUpperCase().padStart(2, '0');
    else if (',+"\\<>;'.includes(ch)) s += '\\' + ch;
    else if ((i === 0 && (ch === '#' || ch === ' ')) || (i === bytes.length - 1 && ch === ' ')) s += '\\' + ch;
    else s += ch;
  }
  return s;
}

/** Distinguished name, RFC 2253 order (last RDN first), multi-valued RDNs joined with '+'. */
export function formatName(buf: Buffer, name: Tlv): string {
  const rdns: string[] = [];
  for (const set of children(buf, name)) {
    const parts: string[] = [];
    for (const atv of children(buf, set)) {
      const [o, v] = children(buf, atv);
      if (!o || !v) continue;
      const key = NAMES[oid(buf, o)] ?? oid(buf, o);
      parts.push(`${key}=${escapeRdn(str(buf, v))}`);
    }
    if (parts.length) rdns.push(parts.reverse().join('+'));
  }
  return rdns.reverse().join(',');
}

/** Parse one DER certificate; null when it is not one. */
export function parseCertificate(der: Buffer): X509Info | null {
  try {
    const cert = readTlv(der, 0);
    if (!cert || cert.tag !== 16) return null;
    const [tbs, sigAlg] = children(der, cert);
    if (!tbs || tbs.tag !== 16) return null;
    const f = children(der, tbs);
    let i = 0;
    let version = 1;
    if (f[0]?.cls === 2 && f[0].tag === 0) {
      version = int(der, inner(der, f[0])) + 1;
      i = 1;
    }
    const serialT = f[i], issuerT = f[i + 2], validityT = f[i + 3], subjectT = f[i + 4], spkiT = f[i + 5];
    if (!serialT || !issuerT || !validityT || !subjectT) return null;
    let sb = der.subarray(serialT.off, serialT.end);
    let neg = false;
    if (sb.length && sb[0] & 0x80) neg = true;
    while (sb.length > 1 && sb[0] === 0) sb = sb.subarray(1);
    const [nb, na] = children(der, validityT);
    const info: X509Info = {
      subject: formatName(der, subjectT),
      issuer: formatName(der, issuerT),
      serial: (neg ? '-' : '') + sb.toString('hex').toUpperCase(),
      notBefore: time(der, nb ?? null),
      notAfter: time(der, na ?? null),
      version,
      san: [],
      sha256: sha256hex(der.subarray(cert.start, cert.end)),
    };
    if (spkiT) {
      const alg = children(der, children(der, spkiT)[0] ?? spkiT)[0];
      if (alg && alg.tag === 6) info.keyAlg = ALGS[oid(der, alg)] ?? oid(der, alg);
    }
    if (sigAlg) {
      const a = children(der, sigAlg)[0];
      if (a && a.tag === 6) info.sigAlg = ALGS[oid(der, a)] ?? oid(der, a);
    }
    const ext = ctx(der, tbs, 3);
    const exts = ext ? inner(der, ext) : null;
    if (exts) {
      for (const e of children(der, exts)) {
        const c = children(der, e);
        if (c[0]?.tag !== 6 || oid(der, c[0]) !== '2.5.29.17') continue;
        const val = c[c.length - 1];
        const seq = val ? readTlv(der, val.off, val.end) : null;
        if (!seq) continue;
        for (const gn of children(der, seq)) {
          if (gn.cls === 2 && gn.tag === 2 && info.san.length < 256) info.san.push(der.toString('latin1', gn.off, gn.end));
        }
      }
    }
    return info;
  } catch {
    return null;
  }
}
