/**
 * EVTX events back to text: XML in the shape evtx_dump.py prints (one element
 * per line) and JSONL lines for `spoor dump`.
 */
import type { EvtxEvent } from '../../core/event.js';
import { isoTime } from '../../core/event.js';
import { xmlEscape } from './binxml.js';

const EVENT_NS = 'http://schemas.microsoft.com/win/2004/08/events/event';

function el(name: string, content: unknown, attrs = ''): string {
  return `<${name}${attrs}>${content === undefined || content === null ? '' : xmlEscape(String(content))}</${name}>\n`;
}
function at(name: string, v: unknown): string {
  return ` ${name}="${v === undefined || v === null ? '' : xmlEscape(String(v))}"`;
}

/**
 * The record as XML. When the event was read with the `xml` option the exact
 * rendering of the record's binary XML is returned; otherwise the XML is rebuilt
 * from the normalized fields (System + EventData/UserData).
 */
export function evtxEventToXml(e: EvtxEvent): string {
  const raw = e['winlog.xml'];
  if (typeof raw === 'string' && raw) return raw.endsWith('\n') ? raw.slice(0, -1) : raw;
  let s = `<Event xmlns="${EVENT_NS}"><System>`;
  s += `<Provider${at('Name', e['event.provider'])}${e['winlog.provider_guid'] ? at('Guid', e['winlog.provider_guid']) : ''}></Provider>\n`;
  s += el('EventID', e['winlog.event_id'], at('Qualifiers', e['winlog.event_qualifiers'] ?? ''));
  if (e['winlog.version'] !== undefined) s += el('Version', e['winlog.version']);
  if (e['winlog.level'] !== undefined) s += el('Level', e['winlog.level']);
  if (e['winlog.task'] !== undefined) s += el('Task', e['winlog.task']);
  if (e['winlog.opcode'] !== undefined) s += el('Opcode', e['winlog.opcode']);
  if (e['winlog.keywords'] !== undefined) s += el('Keywords', e['winlog.keywords']);
  const tc = (e['winlog.time_created'] as string | undefined) ?? (Number.isFinite(e['@timestamp']) ? isoTime(e['@timestamp']) : '');
  s += `<TimeCreated${at('SystemTime', tc)}></TimeCreated>\n`;
  s += el('EventRecordID', e['winlog.record_id']);
  s += `<Correlation${at('ActivityID', e['winlog.activity_id'] ?? '')}${at('RelatedActivityID', e['winlog.related_activity_id'] ?? '')}></Correlation>\n`;
  s += `<Execution${at('ProcessID', e['winlog.process.pid'] ?? '')}${at('ThreadID', e['winlog.process.thread.id'] ?? '')}></Execution>\n`;
  s += el('Channel', e['winlog.channel']);
  s += el('Computer', e['winlog.computer_name']);
  s += `<Security${at('UserID', e['winlog.user.identifier'] ?? '')}></Security>\n`;
  s += '</System>\n';
  const data = e['winlog.event_data'] ?? {};
  const keys = Object.keys(data).filter((k) => !isDerived(k, data));
  const kind = (e['winlog.data_kind'] as string | undefined) ?? (keys.length ? 'EventData' : undefined);
  if (kind === 'EventData') {
    s += '<EventData>';
    for (const k of keys) {
      if (/^param\d+$/.test(k)) s += el('Data', data[k]);
      else if (k === 'Binary') s += el('Binary', data[k]);
      else s += el('Data', data[k], at('Name', k));
    }
    s += '</EventData>\n';
  } else if (kind) {
    s += `<${kind}>`;
    const inner = e['winlog.user_data_element'] as string | undefined;
    if (inner) s += `<${inner}${e['winlog.user_data_xmlns'] ? at('xmlns', e['winlog.user_data_xmlns']) : ''}>`;
    for (const k of keys) s += el(k.replace(/_\d+$/, ''), data[k]);
    if (inner) s += `</${inner}>\n`;
    s += `</${kind}>\n`;
  }
  return s + '</Event>';
}

/** `X_name` entries added by spoor (readable names) are not part of the record. */
function isDerived(k: string, data: Record<string, string>): boolean {
  return k.endsWith('_name') && data[k.slice(0, -5)] !== undefined;
}

/** One JSON line for `spoor dump --format jsonl`: System fields, event data, record id, ISO time, evidence file. */
export function evtxEventToJson(e: EvtxEvent, file?: string): string {
  const o: Record<string, unknown> = {
    time: Number.isFinite(e['@timestamp']) ? isoTime(e['@timestamp']) : null,
    record_id: e['winlog.record_id'],
    event_id: e['winlog.event_id'],
    provider: e['event.provider'],
    channel: e['winlog.channel'],
    computer: e['winlog.computer_name'],
  };
  for (const [k, v] of Object.entries(e)) {
    if (k === 'winlog.xml' || k === 'winlog.event_data' || k === 'ref' || k === '@timestamp') continue;
    if (!(k in o)) o[k] = v;
  }
  o.event_data = e['winlog.event_data'];
  o.evidence = e.ref.evidence;
  if (file !== undefined) o.file = file;
  if (e.ref.offset !== undefined) o.offset = e.ref.offset;
  return JSON.stringify(o);
}
