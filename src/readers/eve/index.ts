/**
 * Suricata EVE JSON (`eve.json`, one JSON object per line) as evidence.
 *
 * - `alert` → dataset `alert`: `rule.id` (signature id), `rule.name`, `rule.category`,
 *   `rule.revision`, `rule.gid`, `alert.severity` (Suricata's 1 = highest … 4),
 *   `event.action` (allowed/blocked), and the alert's protocol details (`url.original`,
 *   `tls.client.server_name`, …) when the alert carries them.
 * - `flow` / `netflow` → `conn`, with byte/packet counts each way. Suricata has no
 *   Zeek conn_state; spoor derives one from the TCP flags each way (documented in
 *   `flowState`, marked `conn.state_derived: true`) so scan and sweep detectors work.
 * - `http`, `dns`, `tls`, `ssh` → the datasets of the same name (docs/EVENTS.md).
 * - `anomaly` → `weird`; `fileinfo` → `file`; anything else → `suricata.<event_type>`
 *   with the record's fields under `suricata.*` (searchable, not interpreted).
 *
 * `flow_id` (a 64-bit number JSON cannot carry exactly) is read from the line's text
 * and kept as a string in `conn.uid` / `ref.uid`, so alerts, flows and protocol records
 * of one flow pivot together, as Suricata users pivot on flow_id.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { EvidenceReader, ReaderContext } from '../types.js';
import { firstLine, noteTime, readLines } from '../lines.js';

const BATCH = 2048;
const FLOW_ID = /"flow_id"\s*:\s*(\d+)/;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}
function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Suricata prints offsets as `+0800`; ISO 8601 parsers want `+08:00`. */
export function eveTime(v: unknown): number {
  if (typeof v !== 'string') return NaN;
  const fixed = v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  return Date.parse(fixed);
}

function set(ev: SpoorEvent, key: string, v: unknown): void {
  if (v !== undefined && v !== null && v !== '') ev[key] = v;
}

function hexFlags(v: unknown): number {
  return typeof v === 'string' ? parseInt(v, 16) || 0 : 0;
}

const SYN = 0x02;
const RST = 0x04;
const FIN = 0x01;
const ACK = 0x10;

/**
 * A Zeek-like conn_state from Suricata's flow record: the TCP flags seen from the
 * client (`tcp_flags_ts`) and the server (`tcp_flags_tc`) and the packet counts.
 * S0 no reply; REJ the reply was a reset to a bare SYN; SF both sides closed with FIN;
 * RSTO/RSTR reset by originator/responder after the handshake; S1 established, not
 * closed; OTH anything else. UDP/ICMP: SF when both directions carried packets, else S0.
 */
export function flowState(proto: string, flow: Obj, tcp: Obj | undefined): string {
  const toClient = num(flow.pkts_toclient) ?? 0;
  if (proto !== 'tcp') return toClient > 0 ? 'SF' : 'S0';
  if (!tcp) return toClient > 0 ? 'OTH' : 'S0';
  const ts = hexFlags(tcp.tcp_flags_ts);
  const tc = hexFlags(tcp.tcp_flags_tc);
  if (toClient === 0) return ts & SYN ? 'S0' : 'OTH';
  if (tc & RST && !(tc & SYN) && !(ts & ACK)) return 'REJ';
  const established = ts & SYN && tc & SYN && tc & ACK;
  if (!established) return 'OTH';
  if (ts & RST) return 'RSTO';
  if (tc & RST) return 'RSTR';
  if (ts & FIN && tc & FIN) return 'SF';
  return 'S1';
}

function common(r: Obj, dataset: string, ctx: ReaderContext, line: number, ts: number, flowId: string | undefined): SpoorEvent {
  const ref: SpoorEvent['ref'] = { evidence: ctx.evidenceId, line };
  if (flowId) ref.uid = flowId;
  const ev: SpoorEvent = { '@timestamp': ts, 'event.dataset': dataset, ref, 'event.provider': 'suricata' };
  set(ev, 'source.ip', str(r.src_ip));
  set(ev, 'source.port', num(r.src_port));
  set(ev, 'destination.ip', str(r.dest_ip));
  set(ev, 'destination.port', num(r.dest_port));
  const proto = str(r.proto)?.toLowerCase();
  set(ev, 'network.transport', proto === 'ipv6-icmp' ? 'icmp6' : proto);
  set(ev, 'network.protocol', str(r.app_proto));
  set(ev, 'network.community_id', str(r.community_id));
  if (flowId) ev['conn.uid'] = flowId;
  set(ev, 'observer.interface', str(r.in_iface));
  return ev;
}

function addHttp(ev: SpoorEvent, h: Obj): void {
  set(ev, 'http.request.method', str(h.http_method));
  set(ev, 'url.domain', str(h.hostname));
  set(ev, 'url.original', str(h.url));
  set(ev, 'user_agent.original', str(h.http_user_agent));
  set(ev, 'http.request.referrer', str(h.http_refer));
  set(ev, 'http.version', str(h.protocol)?.replace(/^HTTP\//, ''));
  set(ev, 'http.response.status_code', num(h.status));
  set(ev, 'http.response.body.bytes', num(h.length));
  set(ev, 'http.response.mime_type', str(h.http_content_type));
  set(ev, 'http.request.body.content', str(h.http_request_body_printable));
  set(ev, 'http.response.body.content', str(h.http_response_body_printable));
}

function addTls(ev: SpoorEvent, t: Obj): void {
  set(ev, 'tls.client.server_name', str(t.sni));
  set(ev, 'tls.version', str(t.version));
  set(ev, 'tls.server.x509.subject', str(t.subject));
  set(ev, 'tls.server.x509.issuer', str(t.issuerdn));
  set(ev, 'tls.server.x509.serial_number', str(t.serial)?.replace(/:/g, ''));
  set(ev, 'tls.server.hash.sha1', str(t.fingerprint)?.replace(/:/g, ''));
  set(ev, 'tls.server.x509.not_before', eveTime(str(t.notbefore) ? `${str(t.notbefore)}Z` : undefined) || undefined);
  set(ev, 'tls.server.x509.not_after', eveTime(str(t.notafter) ? `${str(t.notafter)}Z` : undefined) || undefined);
  set(ev, 'tls.client.ja3', str(obj(t.ja3)?.hash));
  set(ev, 'tls.client.ja3_string', str(obj(t.ja3)?.string));
  set(ev, 'tls.server.ja3s', str(obj(t.ja3s)?.hash));
  set(ev, 'tls.client.ja4', str(t.ja4));
}

function addDns(ev: SpoorEvent, d: Obj): void {
  // EVE v1/v2: one record per query or answer (`type`, `rrname`); v3: `queries` and `answers` arrays
  const q = obj(Array.isArray(d.queries) ? d.queries[0] : undefined);
  set(ev, 'dns.id', num(d.id));
  set(ev, 'dns.question.name', str(d.rrname) ?? str(q?.rrname));
  set(ev, 'dns.question.type', str(d.rrtype) ?? str(q?.rrtype));
  set(ev, 'dns.response_code', str(d.rcode));
  set(ev, 'event.action', str(d.type) ?? 'query');
  const answers: { name: string; type: string; data: string; ttl?: number }[] = [];
  const list = Array.isArray(d.answers) ? d.answers : d.type === 'answer' && d.rdata !== undefined ? [d] : [];
  for (const a of list) {
    const o = obj(a);
    if (!o) continue;
    answers.push({ name: str(o.rrname) ?? '', type: str(o.rrtype) ?? '', data: str(o.rdata) ?? '', ttl: num(o.ttl) });
  }
  const grouped = obj(d.grouped);
  if (grouped) {
    for (const [type, vals] of Object.entries(grouped)) {
      if (Array.isArray(vals)) for (const v of vals) answers.push({ name: str(d.rrname) ?? '', type, data: str(v) ?? JSON.stringify(v) });
    }
  }
  if (answers.length) {
    ev['dns.answers'] = answers;
    const ips = answers.filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => a.data);
    if (ips.length) ev['dns.resolved_ip'] = ips;
  }
}

/** The event for one EVE record, or null for records without a time. */
export function eveToEvent(r: Obj, ctx: ReaderContext, line: number, flowId: string | undefined): SpoorEvent | null {
  const type = str(r.event_type) ?? 'unknown';
  const ts = eveTime(r.timestamp);
  if (!Number.isFinite(ts)) return null;
  noteTime(ctx, ts);
  switch (type) {
    case 'alert': {
      const ev = common(r, 'alert', ctx, line, ts, flowId);
      const a = obj(r.alert) ?? {};
      set(ev, 'rule.id', str(a.signature_id));
      set(ev, 'rule.name', str(a.signature));
      set(ev, 'rule.category', str(a.category));
      set(ev, 'rule.revision', num(a.rev));
      set(ev, 'rule.gid', num(a.gid));
      set(ev, 'alert.severity', num(a.severity));
      set(ev, 'event.action', str(a.action));
      if (a.metadata !== undefined) ev['rule.metadata'] = a.metadata;
      const http = obj(r.http);
      if (http) addHttp(ev, http);
      const tls = obj(r.tls);
      if (tls) addTls(ev, tls);
      const dns = obj(r.dns);
      if (dns) set(ev, 'dns.question.name', str(dns.rrname) ?? str(obj(Array.isArray(dns.queries) ? dns.queries[0] : undefined)?.rrname));
      set(ev, 'alert.payload', str(r.payload_printable));
      return ev;
    }
    case 'flow':
    case 'netflow': {
      const ev = common(r, 'conn', ctx, line, ts, flowId);
      const f = obj(r.flow) ?? obj(r.netflow) ?? {};
      const start = eveTime(f.start);
      const end = eveTime(f.end);
      if (Number.isFinite(start)) ev['@timestamp'] = start;
      if (Number.isFinite(start) && Number.isFinite(end)) ev['event.duration'] = Math.max(0, end - start);
      set(ev, 'source.packets', num(f.pkts_toserver) ?? num(f.pkts));
      set(ev, 'destination.packets', num(f.pkts_toclient) ?? (type === 'netflow' ? 0 : undefined));
      set(ev, 'source.ip_bytes', num(f.bytes_toserver) ?? num(f.bytes));
      set(ev, 'destination.ip_bytes', num(f.bytes_toclient) ?? (type === 'netflow' ? 0 : undefined));
      const state = flowState(String(ev['network.transport'] ?? ''), f, obj(r.tcp));
      ev['conn.state'] = state;
      ev['conn.state_derived'] = true;
      ev['event.action'] = state;
      set(ev, 'suricata.flow_state', str(f.state));
      set(ev, 'suricata.flow_reason', str(f.reason));
      if (f.alerted === true) ev['suricata.alerted'] = true;
      const src = ev['source.ip'];
      const dst = ev['destination.ip'];
      if (typeof src === 'string') ev['conn.local_orig'] = ctx.homeNet.isInternal(src);
      if (typeof dst === 'string') ev['conn.local_resp'] = ctx.homeNet.isInternal(dst);
      return ev;
    }
    case 'http': {
      const ev = common(r, 'http', ctx, line, ts, flowId);
      addHttp(ev, obj(r.http) ?? {});
      set(ev, 'event.action', ev['http.request.method']);
      return ev;
    }
    case 'tls': {
      const ev = common(r, 'tls', ctx, line, ts, flowId);
      addTls(ev, obj(r.tls) ?? {});
      return ev;
    }
    case 'dns': {
      const ev = common(r, 'dns', ctx, line, ts, flowId);
      addDns(ev, obj(r.dns) ?? {});
      return ev;
    }
    case 'ssh': {
      const ev = common(r, 'ssh', ctx, line, ts, flowId);
      const s = obj(r.ssh) ?? {};
      set(ev, 'ssh.client', str(obj(s.client)?.software_version));
      set(ev, 'ssh.server', str(obj(s.server)?.software_version));
      set(ev, 'ssh.version', num(obj(s.client)?.proto_version));
      return ev;
    }
    case 'anomaly': {
      const ev = common(r, 'weird', ctx, line, ts, flowId);
      const a = obj(r.anomaly) ?? {};
      set(ev, 'weird.name', str(a.event) ?? str(a.type));
      set(ev, 'weird.addl', str(a.layer));
      set(ev, 'event.action', ev['weird.name']);
      return ev;
    }
    case 'fileinfo': {
      const ev = common(r, 'file', ctx, line, ts, flowId);
      const f = obj(r.fileinfo) ?? {};
      set(ev, 'file.name', str(f.filename));
      set(ev, 'file.size', num(f.size));
      set(ev, 'file.mime_type', str(f.magic));
      set(ev, 'file.hash.sha256', str(f.sha256));
      set(ev, 'file.hash.md5', str(f.md5));
      const http = obj(r.http);
      if (http) addHttp(ev, http);
      return ev;
    }
    default: {
      const ev = common(r, `suricata.${type}`, ctx, line, ts, flowId);
      const body = r[type];
      if (body !== undefined) ev[`suricata.${type}`] = body;
      return ev;
    }
  }
}

export function sniffEve(head: Buffer): boolean {
  const line = firstLine(head).trim();
  if (!line.startsWith('{')) return false;
  // the first record may be longer than the sniffed head: look for the two keys every EVE record has
  return /"timestamp"\s*:\s*"\d{4}-\d\d-\d\dT/.test(line) && /"event_type"\s*:\s*"/.test(line);
}

async function* readEve(input: AsyncIterable<Buffer>, ctx: ReaderContext): AsyncIterable<SpoorEvent[]> {
  let out: SpoorEvent[] = [];
  let untimed = 0;
  for await (const lines of readLines(input, ctx)) {
    for (const { text, no, offset } of lines) {
      ctx.stats.records++;
      if (text.length === 0) continue;
      let r: unknown;
      try {
        r = JSON.parse(text);
      } catch {
        ctx.problem({ evidence: ctx.evidenceId, offset, record: no, reason: 'line is not valid JSON: skipped', severity: 'error' });
        continue;
      }
      const o = obj(r);
      if (!o) {
        ctx.problem({ evidence: ctx.evidenceId, offset, record: no, reason: 'line is not a JSON object: skipped', severity: 'error' });
        continue;
      }
      const flowId = FLOW_ID.exec(text)?.[1];
      const ev = eveToEvent(o, ctx, no, flowId);
      if (!ev) {
        if (untimed++ === 0) ctx.problem({ evidence: ctx.evidenceId, offset, record: no, reason: 'EVE record without a readable timestamp: skipped', severity: 'error' });
        continue;
      }
      out.push(ev);
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
  }
  if (untimed > 1) {
    ctx.problem({ evidence: ctx.evidenceId, reason: `${untimed} EVE records without a readable timestamp were skipped`, severity: 'warning' });
  }
  if (out.length) yield out;
}

export const eveReader: EvidenceReader = {
  format: 'suricata-eve',
  sniff: sniffEve,
  read: readEve,
};
