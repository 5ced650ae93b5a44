/**
 * Single-session C2 indicators for net.c2 (T1071.001, T1573.002, T1132.001): what one
 * connection can show when there are too few for beacon scoring.
 *
 * - Implant check-in over HTTP: the request carries the victim's identity (a machine GUID
 *   together with a computer-name and a user-name field), or posts an opaque encoded blob
 *   (base64 of encrypted data) as a form value in a shape no browser form produces: to a
 *   bare IP address, on a non-web port, under a parameter named like the random path token,
 *   or together with the identity fields.
 * - Malware default certificates: self-signed server certificates whose subject is a known
 *   malware family's default (configurable list), e.g. Emotet's epoch 4/5 C2 certificate.
 *
 * All functions are pure; the thresholds are in `indicatorDefaults` (documented in
 * docs/DETECTORS-NETWORK.md through c2Defaults).
 */
import type { SpoorEvent } from '../../core/event.js';
import { clip, deepDecode, header, str, uriPath, uriQuery } from './util.js';

export interface MalwareCert {
  /** Subject in RFC 2253 order as the TLS records print it (`CN=…,OU=…,O=…`). */
  subject: string;
  tool: string;
}

export const indicatorDefaults = {
  /** Known malware default certificate subjects (self-signed). */
  malwareCerts: [
    // Emotet epoch 4/5 (2021-2022) C2 servers: self-signed "example.com / Global Security / IT Department, London"
    { subject: 'CN=example.com,OU=IT Department,O=Global Security,L=London,ST=London,C=GB', tool: 'Emotet' },
  ] as MalwareCert[],
  /** Shortest decoded form value counted as an opaque blob. */
  checkinMinBlob: 200,
  /** Form fields that legitimately carry long base64 (ASP.NET state, SAML, OAuth/OIDC, captchas). */
  benignBlobFields: [
    '__viewstate',
    '__eventvalidation',
    '__viewstategenerator',
    '__requestdigest',
    'samlresponse',
    'samlrequest',
    'relaystate',
    'wresult',
    'id_token',
    'access_token',
    'refresh_token',
    'code',
    'state',
    'client_assertion',
    'assertion',
    'credential',
    'g-recaptcha-response',
    'h-captcha-response',
    'cf-turnstile-response',
    'signature',
    'signedrequest',
    'jwt',
    'token',
  ],
  /** Ports where HTTP is expected; a check-in elsewhere is one more sign. */
  webPorts: [80, 443, 8080, 8000, 8008, 8443, 8888, 3128],
};

/** A GUID in raw (possibly percent-encoded) text. */
const GUID_ANYWHERE = /[0-9a-f]{8}(?:-|%2d)[0-9a-f]{4}(?:-|%2d)[0-9a-f]{4}/i;
const GUID = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;
const USER_KEYS = new Set(['u', 'un', 'usr', 'user', 'username', 'user_name', 'uname', 'login', 'account']);
const HOST_KEYS = new Set(['c', 'cn', 'comp', 'computer', 'computername', 'computer_name', 'host', 'hostname', 'pc', 'pcname', 'pc_name', 'machine', 'machinename', 'mn', 'workstation']);
/** NetBIOS computer name: at most 15 characters, no spaces or dots. */
const NETBIOS = /^[A-Za-z0-9][A-Za-z0-9_-]{0,14}$/;
const B64 = /^[A-Za-z0-9+/_\-\r\n]+={0,2}$/;
const BARE_IP = /^(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?$|^\[[0-9a-f:]+\](?::\d+)?$/i;

export interface CheckinHit {
  /** `victim-identity`, `opaque-blob` */
  kinds: string[];
  /** Shape signs that accompanied an opaque blob. */
  signs: string[];
  /** Short description of what was seen (attacker-controlled text is clipped). */
  detail: string;
  /** How many independent signs agree (identity, blob, shape signs). */
  strength: number;
}

function params(s: string, out: Map<string, string>, cap = 64): void {
  if (!s) return;
  let n = 0;
  for (const part of s.split('&')) {
    if (++n > cap) break;
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = deepDecode(part.slice(0, eq)).toLowerCase();
    if (!out.has(k)) out.set(k, deepDecode(part.slice(eq + 1)));
  }
}

function distinctChars(s: string, stopAt: number): number {
  const seen = new Set<number>();
  for (let i = 0; i < s.length && seen.size < stopAt; i++) seen.add(s.charCodeAt(i));
  return seen.size;
}

/**
 * Does this HTTP request look like an implant checking in? Only the request is judged; the
 * caller decides direction (internal → outside) and allowances.
 */
export function checkinIndicators(e: SpoorEvent, o: { minBlob?: number; benign?: Set<string>; webPorts?: Set<number> } = {}): CheckinHit | undefined {
  const method = str(e, 'http.request.method');
  if (method !== 'GET' && method !== 'POST') return undefined;
  const uri = str(e, 'url.original') ?? '';
  const q = uriQuery(uri);
  const body = method === 'POST' ? str(e, 'http.request.body.content') ?? '' : '';
  if (!q && !body) return undefined;
  // cheap gate: identity needs a GUID somewhere, a blob needs a long body
  if (body.length < (o.minBlob ?? indicatorDefaults.checkinMinBlob) && !GUID_ANYWHERE.test(q) && !GUID_ANYWHERE.test(body)) return undefined;
  const mime = (str(e, 'http.request.mime_type') ?? header(e, 'request', 'content-type') ?? '').toLowerCase();
  const form = body && (mime.includes('x-www-form-urlencoded') || (!mime && /^[\w.%-]{1,64}=/.test(body)));
  if (!q && !form) return undefined;
  const p = new Map<string, string>();
  params(q, p);
  if (form) params(body.length > 65_536 ? body.slice(0, 65_536) : body, p);
  if (p.size === 0) return undefined;
  const kinds: string[] = [];
  const signs: string[] = [];
  // victim identity: machine GUID + computer name + user name
  let guidKey: string | undefined;
  let hostKey: string | undefined;
  let userKey: string | undefined;
  for (const [k, v] of p) {
    if (!guidKey && v.length <= 40 && GUID.test(v)) guidKey = k;
    else if (!hostKey && HOST_KEYS.has(k) && NETBIOS.test(v)) hostKey = k;
    else if (!userKey && USER_KEYS.has(k) && v.length > 0 && v.length <= 64 && !/[\s/\\@]/.test(v)) userKey = k;
  }
  const identity = !!(guidKey && hostKey && userKey);
  if (identity) kinds.push('victim-identity');
  // opaque blob in a form POST
  let blobKey: string | undefined;
  let blobLen = 0;
  if (form) {
    const minBlob = o.minBlob ?? indicatorDefaults.checkinMinBlob;
    const benign = o.benign ?? new Set(indicatorDefaults.benignBlobFields);
    let total = 0;
    for (const v of p.values()) total += v.length;
    for (const [k, v] of p) {
      if (v.length < minBlob || benign.has(k)) continue;
      const compact = v.replace(/[\r\n ]/g, '');
      if (!B64.test(compact)) continue;
      if (distinctChars(compact, 40) < 40) continue; // random bytes in base64 use most of the alphabet
      if (v.length < 0.8 * total) continue; // the blob is the message, not one field of a form
      blobKey = k;
      blobLen = compact.length;
      break;
    }
  }
  if (blobKey !== undefined) {
    const host = str(e, 'url.domain') ?? '';
    if (BARE_IP.test(host)) signs.push('bare-ip-host');
    const port = e['destination.port'];
    const web = o.webPorts ?? new Set(indicatorDefaults.webPorts);
    if (typeof port === 'number' && !web.has(port)) signs.push(`port-${port}`);
    const seg = uriPath(uri).split('/').filter(Boolean).pop() ?? '';
    if (seg.length >= 8 && seg.toLowerCase() === blobKey) signs.push('field-named-like-path-token');
    if (identity) signs.push('with-victim-identity');
    if (signs.length) kinds.push('opaque-blob');
  }
  if (!kinds.length) return undefined;
  const parts: string[] = [];
  if (identity) parts.push(`identity fields ${hostKey}=${clip(p.get(hostKey!)!, 15)}, ${userKey}=${clip(p.get(userKey!)!, 32)}, ${guidKey}=<GUID>`);
  if (kinds.includes('opaque-blob')) parts.push(`${blobLen}-character encoded blob in form field "${clip(blobKey!, 32)}" (${signs.join(', ')})`);
  // independent signs: the identity fields, the blob itself, and each shape sign besides the identity
  const strength = (identity ? 1 : 0) + (kinds.includes('opaque-blob') ? 1 + signs.filter((x) => x !== 'with-victim-identity').length : 0);
  return { kinds, signs, detail: `${method} ${clip(uriPath(uri), 60)}: ${parts.join('; ')}`, strength };
}

/** Normalised subject for comparison: lower case, no spaces around separators. */
export function normSubject(s: string): string {
  const l = s.toLowerCase();
  return l.indexOf(' ') < 0 ? l : l.replace(/\s*([,=])\s*/g, '$1').trim();
}

/** The malware family whose default certificate this TLS record shows, if any (self-signed only). */
export function malwareCertificate(e: SpoorEvent, certs: Map<string, string>): string | undefined {
  const subj = str(e, 'tls.server.x509.subject');
  if (!subj) return undefined;
  const tool = certs.get(normSubject(subj));
  if (!tool) return undefined;
  const issuer = str(e, 'tls.server.x509.issuer');
  const self = e['tls.server.x509.self_signed'] === true || (issuer !== undefined && normSubject(issuer) === normSubject(subj));
  return self ? tool : undefined;
}
