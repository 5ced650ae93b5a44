/**
 * Zeek logs as evidence: TSV (with `#separator`/`#fields`/`#types` headers, several
 * logs concatenated allowed) and JSON lines (`LogAscii::use_json`). Rows become
 * spoor's conn/http/dns/tls/ssh/rdp/ntlm/smb/kerberos/dcerpc/weird events
 * (src/readers/zeek/fields.ts), so the network detectors work on a customer's Zeek
 * logs as they do on captures. Each event points at its line (`ref.line`) and uid.
 *
 * Which log a JSON file is comes from its `_path` field, else the file name
 * (`conn.log`, `http.09:00:00-10:00:00.log.gz`), else the row's fields.
 */
import { basename } from 'node:path';
import type { SpoorEvent } from '../../core/event.js';
import { ipToBigInt } from '../../core/homenet.js';
import { communityId } from '../../network/communityid.js';
import type { EvidenceReader, ReaderContext } from '../types.js';
import { firstLine, noteTime, readLines } from '../lines.js';
import { MAPPED_LOGS, zeekRowToEvent, type ZeekValue } from './fields.js';

const BATCH = 2048;

interface TsvHeader {
  sep: string;
  setSep: string;
  empty: string;
  unset: string;
  path: string;
  fields: string[];
  types: string[];
}

function unescapeZeek(s: string): string {
  return s.indexOf('\\x') < 0 ? s : s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function tsvValue(raw: string, type: string, h: TsvHeader): ZeekValue {
  if (raw === h.unset) return null;
  if (type.startsWith('set[') || type.startsWith('vector[')) {
    if (raw === h.empty) return [];
    const inner = type.slice(type.indexOf('[') + 1, -1);
    return raw.split(h.setSep).map((x) => {
      const v = tsvValue(x, inner, h);
      return typeof v === 'number' ? v : String(v);
    });
  }
  switch (type) {
    case 'time':
    case 'interval':
    case 'double':
    case 'count':
    case 'int':
    case 'port': {
      const n = Number(raw);
      return Number.isFinite(n) ? n : unescapeZeek(raw);
    }
    case 'bool':
      return raw === 'T';
    default:
      return raw === h.empty ? '' : unescapeZeek(raw);
  }
}

/** ms from a Zeek `ts`: epoch seconds (number or numeric string) or ISO 8601 (JSON::TS_ISO8601). */
function tsMs(v: unknown): number {
  if (typeof v === 'number') return v * 1000;
  if (typeof v === 'string') {
    const n = Number(v);
    if (Number.isFinite(n)) return n * 1000;
    return Date.parse(v);
  }
  return NaN;
}

/** The log kind from a file name such as `conn.log`, `dns.00:00:00-01:00:00.log.gz`. */
function pathFromName(file: string): string {
  const m = /^([a-z][a-z0-9_]*?)(?:[._-]|$)/i.exec(basename(file));
  const k = m ? m[1]!.toLowerCase() : '';
  return MAPPED_LOGS.includes(k) ? k : '';
}

/** The log kind from a row's fields, when neither `_path` nor the file name tells. */
function pathFromFields(row: Record<string, unknown>): string {
  if ('conn_state' in row || 'orig_ip_bytes' in row) return 'conn';
  if ('trans_depth' in row || ('method' in row && 'uri' in row)) return 'http';
  if ('qtype_name' in row || ('query' in row && 'trans_id' in row)) return 'dns';
  if ('server_name' in row || 'ssl_history' in row || ('cipher' in row && 'version' in row && 'established' in row)) return 'ssl';
  if ('auth_attempts' in row || 'host_key_alg' in row) return 'ssh';
  if ('cookie' in row && 'security_protocol' in row) return 'rdp';
  if ('share_type' in row) return 'smb_mapping';
  if (typeof row.action === 'string' && row.action.startsWith('SMB::')) return 'smb_files';
  if ('request_type' in row && 'client' in row) return 'kerberos';
  if ('endpoint' in row && 'operation' in row) return 'dce_rpc';
  if ('domainname' in row && 'hostname' in row) return 'ntlm';
  if ('name' in row && 'addl' in row && 'notice' in row) return 'weird';
  return '';
}

function ipWords(ip: string): { v6: boolean; words: number[] } | null {
  const b = ipToBigInt(ip);
  if (!b) return null;
  if (!b.v6) return { v6: false, words: [Number(b.value)] };
  const w: number[] = [];
  for (let i = 3; i >= 0; i--) w.push(Number((b.value >> BigInt(i * 32)) & 0xffffffffn));
  return { v6: true, words: w };
}

const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmp6: 58 };

/** Fill what Zeek may leave out but spoor's network records always carry. */
function complete(ev: SpoorEvent, ctx: ReaderContext): void {
  const src = ev['source.ip'];
  const dst = ev['destination.ip'];
  if (typeof src !== 'string' || typeof dst !== 'string') return;
  if (ev['event.dataset'] === 'conn') {
    if (ev['conn.local_orig'] === undefined) ev['conn.local_orig'] = ctx.homeNet.isInternal(src);
    if (ev['conn.local_resp'] === undefined) ev['conn.local_resp'] = ctx.homeNet.isInternal(dst);
  }
  if (ev['network.community_id'] === undefined) {
    const proto = PROTO[String(ev['network.transport'] ?? '')];
    const a = ipWords(src);
    const b = ipWords(dst);
    if (proto !== undefined && a && b && a.v6 === b.v6) {
      ev['network.community_id'] = communityId(a.v6, a.words, b.words, proto, Number(ev['source.port'] ?? 0), Number(ev['destination.port'] ?? 0));
    }
  }
}

export function sniffZeek(head: Buffer): boolean {
  const text = head.toString('latin1', 0, Math.min(head.length, 2048));
  if (/(^|\n)#separator \S/.test(text) && (/\n#fields\t/.test(text) || /\n#path\t/.test(text) || head.length < 2048)) return true;
  const line = firstLine(head).trim();
  if (!line.startsWith('{') || !line.endsWith('}')) return false;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o === null || typeof o !== 'object' || 'event_type' in o) return false;
    return 'ts' in o && ('uid' in o || 'id.orig_h' in o || '_path' in o || 'fuid' in o);
  } catch {
    return false;
  }
}

async function* readZeek(input: AsyncIterable<Buffer>, ctx: ReaderContext): AsyncIterable<SpoorEvent[]> {
  const byName = pathFromName(ctx.path);
  let header: TsvHeader | null = null;
  let pending: Partial<TsvHeader> = { sep: '\t', setSep: ',', empty: '(empty)', unset: '-' };
  let badTimes = 0;
  let firstBadTime: { line: number; offset: number } | null = null;
  let out: SpoorEvent[] = [];
  for await (const lines of readLines(input, ctx)) {
    for (const { text, no, offset } of lines) {
      ctx.stats.records++;
      if (text.length === 0) continue;
      if (text.charCodeAt(0) === 0x23 /* # */) {
        const sep = text.startsWith('#separator ') ? ' ' : (pending.sep ?? '\t');
        let sp = text.indexOf(sep);
        if (sp < 0) sp = text.indexOf(' ');
        const key = sp < 0 ? text.slice(1) : text.slice(1, sp);
        const val = sp < 0 ? '' : text.slice(sp + 1);
        switch (key) {
          case 'separator':
            pending = { sep: unescapeZeek(val.trim()) || '\t', setSep: ',', empty: '(empty)', unset: '-' };
            header = null;
            break;
          case 'set_separator':
            pending.setSep = unescapeZeek(val);
            break;
          case 'empty_field':
            pending.empty = val;
            break;
          case 'unset_field':
            pending.unset = val;
            break;
          case 'path':
            pending.path = val;
            break;
          case 'fields':
            pending.fields = val.split(pending.sep ?? '\t');
            break;
          case 'types':
            pending.types = val.split(pending.sep ?? '\t');
            break;
          default:
            break; // #open, #close, comments
        }
        if (pending.fields && (key === 'fields' || key === 'types')) {
          header = {
            sep: pending.sep ?? '\t',
            setSep: pending.setSep ?? ',',
            empty: pending.empty ?? '(empty)',
            unset: pending.unset ?? '-',
            path: pending.path ?? byName,
            fields: pending.fields,
            types: pending.types ?? pending.fields.map(() => 'string'),
          };
        }
        continue;
      }
      let row: Record<string, ZeekValue>;
      let path: string;
      if (text.charCodeAt(0) === 0x7b /* { */) {
        let o: unknown;
        try {
          o = JSON.parse(text);
        } catch {
          ctx.problem({ evidence: ctx.evidenceId, offset, record: no, reason: 'line is not valid JSON: skipped', severity: 'error' });
          continue;
        }
        if (o === null || typeof o !== 'object' || Array.isArray(o)) {
          ctx.problem({ evidence: ctx.evidenceId, offset, record: no, reason: 'line is not a JSON object: skipped', severity: 'error' });
          continue;
        }
        row = o as Record<string, ZeekValue>;
        path = typeof row._path === 'string' ? row._path : byName || pathFromFields(row);
        delete row._path;
      } else if (header) {
        const parts = text.split(header.sep);
        if (parts.length !== header.fields.length) {
          ctx.problem({ evidence: ctx.evidenceId, offset, record: no, reason: `row has ${parts.length} fields, the header names ${header.fields.length}: skipped`, severity: 'error' });
          continue;
        }
        row = {};
        for (let i = 0; i < parts.length; i++) row[header.fields[i]!] = tsvValue(parts[i]!, header.types[i] ?? 'string', header);
        path = header.path;
      } else {
        ctx.problem({ evidence: ctx.evidenceId, offset, record: no, reason: 'data line before any #fields header: skipped', severity: 'error' });
        continue;
      }
      let ts = tsMs(row.ts);
      if (!Number.isFinite(ts)) {
        if (badTimes++ === 0) firstBadTime = { line: no, offset };
        ts = 0;
      } else noteTime(ctx, ts);
      const ev = zeekRowToEvent(path, row, ts, { evidence: ctx.evidenceId, line: no });
      complete(ev, ctx);
      out.push(ev);
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
  }
  if (badTimes && firstBadTime) {
    ctx.problem({ evidence: ctx.evidenceId, offset: firstBadTime.offset, record: firstBadTime.line, reason: `${badTimes} row(s) without a readable ts (first at line ${firstBadTime.line}): kept with time 1970-01-01`, severity: 'warning' });
  }
  if (out.length) yield out;
}

export const zeekReader: EvidenceReader = {
  format: 'zeek',
  sniff: sniffZeek,
  read: readZeek,
};
