/**
 * From a template instance to the normalized EvtxEvent: System fields and
 * EventData / UserData / ProcessingErrorData flattened by name.
 */
import type { EvtxEvent } from '../../core/event.js';
import { ChunkBinXml, Instance, Template, XNode, ElNode, K_EL, K_SUB, K_TEXT, K_CDATA, renderXml } from './binxml.js';
import { filetimeMs } from './values.js';
import { addReadableNames, SECURITY_ACTIONS, SYSMON_ACTIONS, SYSTEM_ACTIONS } from './codes.js';

// walk roles
const R_ROOT = 0;
const R_EVENT = 1;
const R_SYSTEM = 2;
const R_EVENTDATA = 3;
const R_USERDATA = 4;
const R_FLAT = 5; // UserData container / ProcessingErrorData / other: leaves by element name

/** Fields collected while walking one record. */
class Collect {
  provider = '';
  guid: string | undefined = undefined;
  eventId = '';
  qualifiers = '';
  version: string | undefined = undefined;
  level: string | undefined = undefined;
  task: string | undefined = undefined;
  opcode: string | undefined = undefined;
  keywords: string | undefined = undefined;
  timeMs = NaN;
  timeIso = '';
  recordId = '';
  activityId: string | undefined = undefined;
  relatedActivityId: string | undefined = undefined;
  pid: string | undefined = undefined;
  tid: string | undefined = undefined;
  channel = '';
  computer = '';
  userId: string | undefined = undefined;
  keys: string[] = EMPTY_KEYS;
  vals: string[] = [];
  dataKind: string | undefined = undefined;
  userDataName: string | undefined = undefined;
  userDataNs: string | undefined = undefined;
  param = 0;
  sawEvent = false;
}

function addData(c: Collect, key: string, value: string): void {
  const keys = c.keys;
  if (keys.indexOf(key) >= 0) {
    let i = 2;
    while (keys.indexOf(key + '_' + i) >= 0) i++;
    key = key + '_' + i;
  }
  keys.push(key);
  c.vals.push(value);
}

const EMPTY_KEYS: string[] = [];
/** Process-wide factories by key signature (templates repeat across chunks and files). */
const FACTORIES = new Map<string, (v: string[]) => Record<string, string>>();

/** Build the event-data object; objects of one key list share a literal-shaped factory. */
function makeData(tpl: Template, keys: string[], vals: string[]): Record<string, string> {
  if (keys.length === 0) return {};
  const shapes = (tpl.shapes ??= []);
  outer: for (const sh of shapes) {
    const k = sh.keys;
    if (k.length !== keys.length) continue;
    for (let i = 0; i < k.length; i++) if (k[i] !== keys[i]) continue outer;
    return sh.make(vals);
  }
  let make: (v: string[]) => Record<string, string>;
  const sig = keys.join('\u0001');
  const known = FACTORIES.get(sig);
  if (known) make = known;
  else if (shapes.length < 8 && keys.length <= 200 && !keys.includes('__proto__')) {
    // literal-shaped object creation: keys are JSON string literals (data, never code)
    const body = 'return {' + keys.map((k, i) => JSON.stringify(k) + ':v[' + i + ']').join(',') + '};';
    make = new Function('v', body) as (v: string[]) => Record<string, string>;
    if (FACTORIES.size >= 4096) FACTORIES.clear();
    FACTORIES.set(sig, make);
  } else {
    make = (v) => {
      const o: Record<string, string> = {};
      for (let i = 0; i < keys.length; i++) Object.defineProperty(o, keys[i], { value: v[i], enumerable: true, writable: true, configurable: true });
      return o;
    };
  }
  shapes.push({ keys: keys.slice(), make });
  return make(vals);
}

/** Text of a content list (values, substitutions, nested binary XML rendered as XML). */
function textOf(cx: ChunkBinXml, parts: XNode[], inst: Instance): string {
  if (parts.length === 1) {
    const p = parts[0];
    if (p.k === K_SUB) return cx.subString(inst, p.index);
    if (p.k === K_TEXT || p.k === K_CDATA) return p.text;
  }
  let s = '';
  for (const p of parts) {
    if (p.k === K_SUB) s += cx.subString(inst, p.index);
    else if (p.k === K_TEXT || p.k === K_CDATA) s += p.text;
    else if (p.k === K_EL) s += renderXml(cx, [p], inst);
  }
  return s;
}

function attrText(cx: ChunkBinXml, el: ElNode, name: string, inst: Instance): string | undefined {
  for (const a of el.attrs) if (a.name === name) return textOf(cx, a.parts, inst);
  return undefined;
}

/** Kids, with BinXml substitutions expanded into their nodes (for structural walking). */
function walkKids(cx: ChunkBinXml, kids: XNode[], inst: Instance, role: number, c: Collect): void {
  for (const k of kids) {
    if (k.k === K_EL) walkEl(cx, k, inst, role, c);
    else if (k.k === K_SUB && k.index < inst.n && inst.vd[k.index * 3 + 2] === 0x21) {
      const o = inst.vd[k.index * 3];
      const size = inst.vd[k.index * 3 + 1];
      const ni = cx.nested(o, size);
      walkKids(cx, ni.tpl.nodes, ni, role, c);
    }
  }
}

function walkEl(cx: ChunkBinXml, el: ElNode, inst: Instance, role: number, c: Collect): void {
  const name = el.name;
  switch (role) {
    case R_ROOT:
      if (name === 'Event') {
        c.sawEvent = true;
        walkKids(cx, el.kids, inst, R_EVENT, c);
      } else walkKids(cx, el.kids, inst, R_ROOT, c);
      return;
    case R_EVENT:
      if (name === 'System') walkKids(cx, el.kids, inst, R_SYSTEM, c);
      else if (name === 'EventData') {
        c.dataKind = 'EventData';
        walkKids(cx, el.kids, inst, R_EVENTDATA, c);
      } else if (name === 'UserData') {
        c.dataKind = 'UserData';
        walkKids(cx, el.kids, inst, R_USERDATA, c);
      } else if (name === 'ProcessingErrorData') {
        c.dataKind = 'ProcessingErrorData';
        walkKids(cx, el.kids, inst, R_FLAT, c);
      } else if (name === 'RenderingInfo') {
        // message rendering added by event forwarding: not event data
      } else {
        c.dataKind ??= name;
        walkKids(cx, el.kids, inst, R_FLAT, c);
      }
      return;
    case R_SYSTEM:
      system(cx, el, inst, c);
      return;
    case R_EVENTDATA: {
      if (name === 'Data') {
        let key = attrText(cx, el, 'Name', inst);
        if (key === undefined || key === '') key = 'param' + ++c.param;
        addData(c, key, textOf(cx, el.kids, inst));
      } else if (el.hasEl) {
        walkKids(cx, el.kids, inst, R_FLAT, c);
      } else {
        addData(c, name, textOf(cx, el.kids, inst));
      }
      return;
    }
    case R_USERDATA:
      c.userDataName ??= name;
      c.userDataNs ??= attrText(cx, el, 'xmlns', inst);
      walkKids(cx, el.kids, inst, R_FLAT, c);
      return;
    case R_FLAT:
      if (el.hasEl) walkKids(cx, el.kids, inst, R_FLAT, c);
      else if (el.kids.length === 1 && el.kids[0].k === K_SUB && (el.kids[0] as { index: number }).index < inst.n && inst.vd[(el.kids[0] as { index: number }).index * 3 + 2] === 0x21) {
        walkKids(cx, el.kids, inst, R_FLAT, c);
      } else addData(c, name, textOf(cx, el.kids, inst));
      return;
  }
}

function system(cx: ChunkBinXml, el: ElNode, inst: Instance, c: Collect): void {
  switch (el.name) {
    case 'Provider':
      for (const a of el.attrs) {
        if (a.name === 'Name') c.provider = textOf(cx, a.parts, inst);
        else if (a.name === 'Guid') c.guid = textOf(cx, a.parts, inst);
        else if (a.name === 'EventSourceName' && !c.provider) c.provider = textOf(cx, a.parts, inst);
      }
      return;
    case 'EventID':
      c.eventId = textOf(cx, el.kids, inst);
      c.qualifiers = attrText(cx, el, 'Qualifiers', inst) ?? '';
      return;
    case 'Version': c.version = textOf(cx, el.kids, inst); return;
    case 'Level': c.level = textOf(cx, el.kids, inst); return;
    case 'Task': c.task = textOf(cx, el.kids, inst); return;
    case 'Opcode': c.opcode = textOf(cx, el.kids, inst); return;
    case 'Keywords': c.keywords = textOf(cx, el.kids, inst); return;
    case 'TimeCreated':
      for (const a of el.attrs) {
        if (a.name !== 'SystemTime') continue;
        const p = a.parts;
        if (p.length === 1 && p[0].k === K_SUB) {
          const i = p[0].index;
          if (i < inst.n && inst.vd[i * 3 + 2] === 0x11 && inst.vd[i * 3 + 1] === 8) {
            c.timeMs = filetimeMs(cx.buf, inst.vd[i * 3]);
          }
        }
        c.timeIso = textOf(cx, p, inst);
        if (Number.isNaN(c.timeMs) && c.timeIso) c.timeMs = Date.parse(c.timeIso.replace(' ', 'T'));
      }
      return;
    case 'EventRecordID': c.recordId = textOf(cx, el.kids, inst); return;
    case 'Correlation':
      c.activityId = attrText(cx, el, 'ActivityID', inst);
      c.relatedActivityId = attrText(cx, el, 'RelatedActivityID', inst);
      return;
    case 'Execution':
      c.pid = attrText(cx, el, 'ProcessID', inst);
      c.tid = attrText(cx, el, 'ThreadID', inst);
      return;
    case 'Channel': c.channel = textOf(cx, el.kids, inst); return;
    case 'Computer': c.computer = textOf(cx, el.kids, inst); return;
    case 'Security': c.userId = attrText(cx, el, 'UserID', inst); return;
  }
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

const AUDIT_SUCCESS = 0x0020000000000000n;
const AUDIT_FAILURE = 0x0010000000000000n;

export interface RecordMeta {
  evidenceId: string;
  /** EventRecordID from the record header. */
  recordId: number;
  /** Written time (ms) from the record header, used when TimeCreated is absent. */
  writtenMs: number;
  /** Offset of the record in the file. */
  offset: number;
  recovered: boolean;
  xml: boolean;
}

/** Build the normalized event for one parsed record. */
export function buildEvent(cx: ChunkBinXml, inst: Instance, m: RecordMeta): EvtxEvent {
  const c = new Collect();
  c.keys = [];
  for (const nd of inst.tpl.nodes) if (nd.k === K_EL) walkEl(cx, nd, inst, R_ROOT, c);
  else if (nd.k === K_SUB && nd.index < inst.n && inst.vd[nd.index * 3 + 2] === 0x21) {
    walkKids(cx, [nd], inst, R_ROOT, c);
  }
  const eventId = num(c.eventId) ?? 0;
  const recId = num(c.recordId) ?? m.recordId;
  const ts = Number.isNaN(c.timeMs) ? m.writtenMs : c.timeMs;
  const data = makeData(inst.tpl, c.keys, c.vals);
  let kw: string | undefined;
  let kwBig = 0n;
  if (c.keywords !== undefined && c.keywords !== '') {
    try {
      kwBig = BigInt(c.keywords);
      kw = '0x' + kwBig.toString(16);
    } catch {
      kw = c.keywords;
    }
  }
  const ev: EvtxEvent = {
    '@timestamp': ts,
    'event.dataset': 'evtx',
    ref: { evidence: m.evidenceId, record: recId, offset: m.offset },
    'event.code': String(eventId),
    'event.provider': c.provider,
    'winlog.channel': c.channel,
    'winlog.record_id': recId,
    'winlog.computer_name': c.computer,
    'winlog.event_id': eventId,
    'winlog.event_data': data,
  };
  if (c.computer) ev['host.name'] = c.computer;
  if (c.guid) ev['winlog.provider_guid'] = c.guid;
  const v = num(c.version);
  if (v !== undefined) ev['winlog.version'] = v;
  const lv = num(c.level);
  if (lv !== undefined) ev['winlog.level'] = lv;
  const tk = num(c.task);
  if (tk !== undefined) ev['winlog.task'] = tk;
  const op = num(c.opcode);
  if (op !== undefined) ev['winlog.opcode'] = op;
  if (kw !== undefined) ev['winlog.keywords'] = kw;
  const pid = num(c.pid);
  if (pid !== undefined) ev['winlog.process.pid'] = pid;
  const tid = num(c.tid);
  if (tid !== undefined) ev['winlog.process.thread.id'] = tid;
  if (c.userId) ev['winlog.user.identifier'] = c.userId;
  if (c.activityId) ev['winlog.activity_id'] = c.activityId;
  if (c.relatedActivityId) ev['winlog.related_activity_id'] = c.relatedActivityId;
  if (c.qualifiers) ev['winlog.event_qualifiers'] = c.qualifiers;
  if (c.timeIso) ev['winlog.time_created'] = c.timeIso;
  if (c.dataKind) ev['winlog.data_kind'] = c.dataKind;
  if (c.userDataName) ev['winlog.user_data_element'] = c.userDataName;
  if (c.userDataNs) ev['winlog.user_data_xmlns'] = c.userDataNs;
  if (m.recovered) ev['winlog.recovered'] = true;

  // ECS mappings
  const ip = data.IpAddress;
  if (ip && ip !== '-') {
    ev['source.ip'] = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  }
  const port = data.IpPort;
  if (port && port !== '-' && port !== '0') {
    const p = Number(port);
    if (Number.isInteger(p) && p > 0 && p < 65536) ev['source.port'] = p;
  }
  const un = data.TargetUserName;
  if (un && un !== '-') ev['user.name'] = un;
  const ud = data.TargetDomainName;
  if (ud && ud !== '-') ev['user.domain'] = ud;

  // readable names, action, outcome
  const security = c.provider === 'Microsoft-Windows-Security-Auditing' || c.channel === 'Security';
  if (security || data.LogonType !== undefined || data.Status !== undefined) addReadableNames(eventId, data);
  let action: string | undefined;
  if (security) action = SECURITY_ACTIONS[eventId];
  else if (c.provider === 'Microsoft-Windows-Sysmon') action = SYSMON_ACTIONS[eventId];
  else if (c.channel === 'System') action = SYSTEM_ACTIONS[eventId];
  if (action) ev['event.action'] = action;
  let outcome: 'success' | 'failure' | undefined;
  if (security) {
    if (eventId === 4625 || eventId === 4771) outcome = 'failure';
    else if (eventId === 4624) outcome = 'success';
    else if (eventId === 4768 || eventId === 4769 || eventId === 4776) {
      const st = (data.Status ?? data.FailureCode ?? '').trim().toLowerCase();
      if (st) outcome = /^0x0+$|^0$/.test(st) ? 'success' : 'failure';
    }
    if (outcome === undefined && kw !== undefined) {
      if (kwBig & AUDIT_FAILURE) outcome = 'failure';
      else if (kwBig & AUDIT_SUCCESS) outcome = 'success';
    }
  }
  if (outcome) ev['event.outcome'] = outcome;
  if (m.xml) ev['winlog.xml'] = renderXml(cx, inst.tpl.nodes, inst);
  return ev;
}
