/**
 * Web server access logs as evidence: NCSA common / combined format (Apache httpd,
 * nginx, Tomcat's AccessLogValve default pattern) and IIS / W3C extended logs
 * (`#Fields:` header; times in UTC as IIS writes them).
 *
 * Each request becomes one event of dataset `web` (not `http`: a log line has no
 * server address or connection, so it does not pretend to be a wire record):
 * `source.ip` (client), `user.name`, `http.request.method`, `url.original` (path and
 * query as logged), `http.version`, `http.response.status_code`,
 * `http.response.body.bytes`, `http.request.referrer`, `user_agent.original`, and for
 * W3C logs `destination.ip`/`destination.port` (s-ip, s-port) and `event.duration`
 * (time-taken). `ref.line` points at the line. Everything logged is attacker-influenced
 * text and stays data.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { EvidenceReader, ReaderContext } from '../types.js';
import { firstLine, noteTime, readLines } from '../lines.js';

const BATCH = 2048;
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

// host ident user [time] "request" status bytes ["referer" "agent"]
const NCSA = /^(\S+) (\S+) (.*?) \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))? ([+-])(\d{2}):?(\d{2})\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?/;

/** Apache escapes `"` and `\` and non-printables in logged strings as `\"`, `\\`, `\xhh`. */
function unescapeNcsa(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  return s.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) => (e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e === 'n' ? '\n' : e === 't' ? '\t' : e));
}

export function parseNcsa(line: string): SpoorEvent | null {
  const m = NCSA.exec(line);
  if (!m) return null;
  const mon = MONTHS[m[5]!];
  if (mon === undefined) return null;
  const frac = m[10] ? Number(`0.${m[10]}`) * 1000 : 0;
  const sign = m[11] === '-' ? -1 : 1;
  const offsetMin = sign * (Number(m[12]) * 60 + Number(m[13]));
  const ts = Date.UTC(Number(m[6]), mon, Number(m[4]), Number(m[7]), Number(m[8]), Number(m[9])) + frac - offsetMin * 60_000;
  const ev: SpoorEvent = { '@timestamp': ts, 'event.dataset': 'web', ref: { evidence: '' }, 'event.provider': 'access-log' };
  ev['source.ip'] = m[1]!;
  if (m[3] && m[3] !== '-') ev['user.name'] = unescapeNcsa(m[3]);
  const req = unescapeNcsa(m[14]!);
  const parts = req.split(' ');
  if (parts.length >= 2 && /^[A-Z]{3,12}$/.test(parts[0]!)) {
    ev['http.request.method'] = parts[0]!;
    ev['event.action'] = parts[0]!;
    const last = parts[parts.length - 1]!;
    const hasVersion = parts.length >= 3 && /^HTTP\/\d/.test(last);
    ev['url.original'] = parts.slice(1, hasVersion ? -1 : undefined).join(' ');
    if (hasVersion) ev['http.version'] = last.slice(5);
  } else {
    ev['web.request_line'] = req; // junk a scanner sent (TLS bytes, binary probes): kept as logged
  }
  if (m[15] !== '-') ev['http.response.status_code'] = Number(m[15]);
  if (m[16] !== '-') ev['http.response.body.bytes'] = Number(m[16]);
  if (m[17] !== undefined && m[17] !== '-') ev['http.request.referrer'] = unescapeNcsa(m[17]);
  if (m[18] !== undefined && m[18] !== '-') ev['user_agent.original'] = unescapeNcsa(m[18]);
  return ev;
}

/** W3C extended fields → spoor fields (numbers where W3C logs numbers). */
const W3C: Record<string, [string, 'str' | 'num']> = {
  'c-ip': ['source.ip', 'str'],
  'cs-username': ['user.name', 'str'],
  's-ip': ['destination.ip', 'str'],
  's-port': ['destination.port', 'num'],
  'cs-method': ['http.request.method', 'str'],
  'cs-version': ['http.version', 'str'],
  'sc-status': ['http.response.status_code', 'num'],
  'sc-substatus': ['web.iis.substatus', 'num'],
  'sc-win32-status': ['web.iis.win32_status', 'num'],
  'sc-bytes': ['http.response.bytes', 'num'],
  'cs-bytes': ['http.request.bytes', 'num'],
  'cs-host': ['url.domain', 'str'],
  'cs(User-Agent)': ['user_agent.original', 'str'],
  'cs(Referer)': ['http.request.referrer', 'str'],
  's-sitename': ['web.iis.site', 'str'],
  's-computername': ['host.name', 'str'],
};

export function parseW3c(fields: string[], line: string): SpoorEvent | null {
  const vals = line.split(' ');
  if (vals.length !== fields.length) return null;
  const get = (n: string) => {
    const i = fields.indexOf(n);
    return i < 0 || vals[i] === '-' ? undefined : vals[i];
  };
  const date = get('date');
  const time = get('time');
  const ts = date && time ? Date.parse(`${date}T${time}Z`) : NaN;
  if (!Number.isFinite(ts)) return null;
  const ev: SpoorEvent = { '@timestamp': ts, 'event.dataset': 'web', ref: { evidence: '' }, 'event.provider': 'iis' };
  for (let i = 0; i < fields.length; i++) {
    const m = W3C[fields[i]!];
    const v = vals[i]!;
    if (!m || v === '-') continue;
    if (m[1] === 'num') {
      const n = Number(v);
      if (Number.isFinite(n)) ev[m[0]] = n;
    } else {
      // W3C writes spaces in strings as '+' (user agents); decode only that
      ev[m[0]] = fields[i]!.startsWith('cs(') ? v.replace(/\+/g, ' ') : v;
    }
  }
  const stem = get('cs-uri-stem');
  const query = get('cs-uri-query');
  if (stem !== undefined) ev['url.original'] = query !== undefined ? `${stem}?${query}` : stem;
  const taken = get('time-taken');
  if (taken !== undefined && Number.isFinite(Number(taken))) ev['event.duration'] = Number(taken);
  if (typeof ev['http.request.method'] === 'string') ev['event.action'] = ev['http.request.method'];
  return ev;
}

export function sniffWeblog(head: Buffer): boolean {
  const text = head.toString('latin1', 0, Math.min(head.length, 4096));
  if (/^#Software: Microsoft Internet Information Services/m.test(text) || (/^#Version: 1\.0/m.test(text) && /^#Fields: .*\b(date|time)\b/m.test(text))) return true;
  const line = firstLine(head);
  return NCSA.test(line);
}

async function* readWeblog(input: AsyncIterable<Buffer>, ctx: ReaderContext): AsyncIterable<SpoorEvent[]> {
  let w3c: string[] | null = null;
  let out: SpoorEvent[] = [];
  for await (const lines of readLines(input, ctx)) {
    for (const { text, no, offset } of lines) {
      ctx.stats.records++;
      if (text.length === 0) continue;
      if (text.startsWith('#')) {
        if (text.startsWith('#Fields:')) w3c = text.slice(8).trim().split(/\s+/);
        continue;
      }
      const ev = w3c ? parseW3c(w3c, text) : parseNcsa(text);
      if (!ev) {
        ctx.problem({ evidence: ctx.evidenceId, offset, record: no, reason: `line is not in the ${w3c ? 'W3C fields of its #Fields header' : 'common/combined log format'}: skipped`, severity: 'error' });
        continue;
      }
      ev.ref = { evidence: ctx.evidenceId, line: no };
      noteTime(ctx, ev['@timestamp']);
      out.push(ev);
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length) yield out;
}

export const weblogReader: EvidenceReader = {
  format: 'access-log',
  sniff: sniffWeblog,
  read: readWeblog,
};
