/**
 * Zeek TSV logs: parse them (for conformance against Zeek baselines, and to
 * read Zeek logs as evidence later), render spoor records in Zeek's field
 * formatting, and match rows between two logs by 5-tuple and start order
 * (ts and uid are masked in Zeek's test baselines).
 *
 * Exports for other suites: parseZeekLog, matchRows, compareLogRows,
 * connToZeek, httpToZeek, dnsToZeek, zeekInterval, tupleKey.
 */
import type { SpoorEvent } from '../core/event.js';

export interface ZeekLog {
  path: string;
  fields: string[];
  types: string[];
  rows: Record<string, string>[];
  unset: string;
  empty: string;
  setSep: string;
}

const ALIASES: Record<string, string> = {
  src: 'id.orig_h',
  src_port: 'id.orig_p',
  dst: 'id.resp_h',
  dst_port: 'id.resp_p',
  id_orig_h: 'id.orig_h',
  id_orig_p: 'id.orig_p',
  id_resp_h: 'id.resp_h',
  id_resp_p: 'id.resp_p',
};

function unescape(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/** Parse a Zeek TSV log (with #fields/#types headers). Unknown lines are skipped. */
export function parseZeekLog(text: string): ZeekLog {
  const log: ZeekLog = { path: '', fields: [], types: [], rows: [], unset: '-', empty: '(empty)', setSep: ',' };
  let sep = '\t';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line) continue;
    if (line.startsWith('#')) {
      if (line.startsWith('#separator')) {
        const v = line.slice('#separator'.length).trim();
        sep = unescape(v) || '\t';
        continue;
      }
      const parts = line.split(sep);
      const key = parts[0];
      if (key === '#fields') log.fields = parts.slice(1).map((f) => ALIASES[f] ?? f);
      else if (key === '#types') log.types = parts.slice(1);
      else if (key === '#path') log.path = parts[1] ?? '';
      else if (key === '#unset_field') log.unset = parts[1] ?? '-';
      else if (key === '#empty_field') log.empty = parts[1] ?? '(empty)';
      else if (key === '#set_separator') log.setSep = parts[1] ?? ',';
      continue;
    }
    if (!log.fields.length) continue;
    const parts = line.split(sep);
    const row: Record<string, string> = {};
    for (let i = 0; i < log.fields.length; i++) row[log.fields[i]] = parts[i] ?? log.unset;
    log.rows.push(row);
  }
  return log;
}

/** Zeek interval formatting (%.6f). */
export function zeekInterval(seconds: number): string {
  return (Math.round(seconds * 1e6) / 1e6).toFixed(6);
}

function zbool(b: unknown): string {
  return b === true ? 'T' : b === false ? 'F' : '-';
}

function zval(v: unknown): string {
  if (v === undefined || v === null || v === '') return '-';
  if (Array.isArray(v)) return v.length ? v.map(String).join(',') : '(empty)';
  return String(v);
}

/** Zeek's http.log URI: %XX decoded, then non-printable bytes written as \\xNN. */
export function zeekUnescapeUri(u: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < u.length; i++) {
    const c = u.charCodeAt(i);
    if (c === 37 && i + 2 < u.length + 0 && /^[0-9a-fA-F]{2}$/.test(u.slice(i + 1, i + 3))) {
      bytes.push(parseInt(u.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : '\\x' + b.toString(16).padStart(2, '0');
  return out;
}

/** A conn event rendered with Zeek conn.log fields and formatting. */
export function connToZeek(e: SpoorEvent): Record<string, string> {
  const durS = ((e['event.duration'] as number) ?? 0) / 1000;
  const hasDur = durS > 0;
  const transport = String(e['network.transport']);
  return {
    ts: ((e['@timestamp'] as number) / 1000).toFixed(6),
    uid: String(e['conn.uid']),
    'id.orig_h': String(e['source.ip']),
    'id.orig_p': String(e['source.port']),
    'id.resp_h': String(e['destination.ip']),
    'id.resp_p': String(e['destination.port']),
    proto: transport === 'icmp6' ? 'icmp' : transport,
    service: zval(e['network.protocol']),
    duration: hasDur ? zeekInterval(durS) : '-',
    orig_bytes: hasDur ? String(e['source.bytes']) : '-',
    resp_bytes: hasDur ? String(e['destination.bytes']) : '-',
    conn_state: String(e['conn.state']),
    local_orig: zbool(e['conn.local_orig']),
    local_resp: zbool(e['conn.local_resp']),
    missed_bytes: String(e['conn.missed_bytes'] ?? 0),
    history: zval(e['conn.history']),
    orig_pkts: String(e['source.packets']),
    orig_ip_bytes: String(e['source.ip_bytes']),
    resp_pkts: String(e['destination.packets']),
    resp_ip_bytes: String(e['destination.ip_bytes']),
    ip_proto: String(e['conn.ip_proto'] ?? ''),
    community_id: zval(e['network.community_id']),
  };
}

/** An http event rendered with Zeek http.log field names. */
export function httpToZeek(e: SpoorEvent): Record<string, string> {
  // HTTP::max_files_orig / max_files_resp: Zeek logs at most 15 file types per side
  const mt = (v: unknown) => (typeof v === 'string' && v ? v : Array.isArray(v) && v.length ? v.slice(0, 15).join(',') : '-');
  return {
    ts: ((e['@timestamp'] as number) / 1000).toFixed(6),
    uid: String(e['conn.uid']),
    'id.orig_h': String(e['source.ip']),
    'id.orig_p': String(e['source.port']),
    'id.resp_h': String(e['destination.ip']),
    'id.resp_p': String(e['destination.port']),
    trans_depth: String(e['http.trans_depth'] ?? '-'),
    method: zval(e['http.request.method']),
    host: zval(e['url.domain']),
    uri: e['url.original'] === '' ? '(empty)' : zval(zeekUnescapeUri(String(e['url.original'] ?? ''))),
    referrer: zval(e['http.request.referrer']),
    version: e['http.response.status_code'] === undefined ? '-' : zval(e['http.version']), // Zeek logs the reply's version
    user_agent: zval(e['user_agent.original']),
    request_body_len: String(e['http.request.body.bytes'] ?? 0),
    response_body_len: String(e['http.response.body.bytes'] ?? 0),
    status_code: zval(e['http.response.status_code']),
    status_msg: zval(e['http.response.status_msg']),
    // Zeek's file analysis types bodies by content, not by Content-Type
    orig_mime_types: mt(e['http.request.mime_sniffed']),
    resp_mime_types: mt(e['http.response.mime_sniffed']),
  };
}

const NAME_TYPES = new Set(['NS', 'CNAME', 'PTR', 'MX', 'SRV', 'SOA']);

/** One answer as Zeek logs it: domain names lower-cased (Zeek's DNS analyzer lower-cases names), other renderings verbatim. */
export function zeekAnswer(a: { type: string; data: string }): string {
  if (/^(pre|add|del): /.test(a.data)) return a.data.split(' ').map((t) => (t.includes('.') ? t.toLowerCase() : t)).join(' ');
  if (NAME_TYPES.has(a.type)) return a.data.toLowerCase();
  if (a.type === 'RRSIG' || a.type === 'NSEC') {
    const i = a.data.indexOf(' ', a.type === 'RRSIG' ? 6 : 5);
    return i < 0 ? a.data : a.data.slice(0, i) + a.data.slice(i).replace(/[A-Z]/g, (c) => c.toLowerCase()).replace('<root>', '<Root>');
  }
  return a.data;
}

/** A dns event rendered with Zeek dns.log field names. */
export function dnsToZeek(e: SpoorEvent): Record<string, string> {
  const answers = ((e['dns.answers'] as { data: string; ttl: number; type: string; unlogged?: boolean }[] | undefined) ?? []).filter((a) => a.data !== '' && !a.unlogged && !a.data.startsWith('<bad'));
  return {
    ts: ((e['@timestamp'] as number) / 1000).toFixed(6),
    uid: String(e['conn.uid']),
    'id.orig_h': String(e['source.ip']),
    'id.orig_p': String(e['source.port']),
    'id.resp_h': String(e['destination.ip']),
    'id.resp_p': String(e['destination.port']),
    proto: String(e['network.transport']),
    trans_id: zval(e['dns.id']),
    query: zval(typeof e['dns.question.name'] === 'string' ? (e['dns.question.name'] as string).toLowerCase() : undefined),
    qtype: zval(e['dns.question.type_code']),
    qtype_name: e['dns.question.type_code'] !== undefined && /^\d+$/.test(String(e['dns.question.type'])) ? `query-${e['dns.question.type_code']}` : zval(e['dns.question.type']),
    rcode: zval(e['dns.response_code_num']),
    rcode_name: zval(e['dns.response_code']),
    AA: zbool(e['dns.flags.aa']),
    TC: zbool(e['dns.flags.tc']),
    RD: zbool(e['dns.flags.rd']),
    RA: zbool(e['dns.flags.ra']),
    Z: zval(e['dns.z']),
    answers: answers.length ? answers.map(zeekAnswer).join(',') : '-',
    TTLs: answers.length ? answers.map((a) => zeekInterval(a.ttl)).join(',') : '-',
    rejected: zbool(e['dns.rejected'] ?? false),
  };
}

/** Connection 5-tuple key of a Zeek row. */
export function tupleKey(r: Record<string, string>): string {
  return `${r['id.orig_h']}|${r['id.orig_p']}|${r['id.resp_h']}|${r['id.resp_p']}|${r.proto ?? ''}`;
}

/**
 * Pair rows of two logs: same key (5-tuple by default), then in order of
 * appearance within a key (rows are first sorted by ts when both have ts that is not masked).
 */
export function matchRows(
  expected: Record<string, string>[],
  actual: Record<string, string>[],
  key: (r: Record<string, string>) => string = tupleKey,
): { pairs: [Record<string, string>, Record<string, string>][]; missing: Record<string, string>[]; extra: Record<string, string>[] } {
  const byKey = new Map<string, Record<string, string>[]>();
  const sorted = [...actual].sort((a, b) => Number(a.ts) - Number(b.ts));
  for (const r of sorted) {
    const k = key(r);
    let l = byKey.get(k);
    if (!l) byKey.set(k, (l = []));
    l.push(r);
  }
  const pairs: [Record<string, string>, Record<string, string>][] = [];
  const missing: Record<string, string>[] = [];
  for (const r of expected) {
    const l = byKey.get(key(r));
    if (l && l.length) pairs.push([r, l.shift()!]);
    else missing.push(r);
  }
  const extra: Record<string, string>[] = [];
  for (const l of byKey.values()) extra.push(...l);
  return { pairs, missing, extra };
}

export interface RowDiff {
  key: string;
  field: string;
  expected: string;
  actual: string;
}

/**
 * Compare matched rows on `fields` (fields absent from the expected log are
 * skipped). Returns identical row count and the field differences.
 */
export function compareLogRows(
  expected: Record<string, string>[],
  actual: Record<string, string>[],
  fields: string[],
  key: (r: Record<string, string>) => string = tupleKey,
): { rows: number; identical: number; diffs: RowDiff[]; missing: number; extra: number } {
  const m = matchRows(expected, actual, key);
  let identical = 0;
  const diffs: RowDiff[] = [];
  for (const [e, a] of m.pairs) {
    let same = true;
    for (const f of fields) {
      if (!(f in e)) continue;
      const ev = e[f];
      const av = a[f] ?? '-';
      if (ev !== av) {
        same = false;
        diffs.push({ key: key(e), field: f, expected: ev, actual: av });
      }
    }
    if (same) identical++;
  }
  for (const r of m.missing) diffs.push({ key: key(r), field: '(row)', expected: 'present', actual: 'missing' });
  return { rows: expected.length, identical, diffs, missing: m.missing.length, extra: m.extra.length };
}
