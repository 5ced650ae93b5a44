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
  plan: Plan | undefined = undefined;
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
/** Key lists worth a compiled factory: printable names (garbage carved from slack gets the plain loop). */
const SANE_KEYS = /^[\w .:\-\u0001]*$/;
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
  const make = shapes.length < 8 ? factoryFor(keys) : slowFactory(keys.slice());
  shapes.push({ keys: keys.slice(), make });
  return make(vals);
}

function slowFactory(keys: string[]): (v: string[]) => Record<string, string> {
  return (v) => {
    const o: Record<string, string> = {};
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k === '__proto__') Object.defineProperty(o, k, { value: v[i], enumerable: true, writable: true, configurable: true });
      else o[k] = v[i];
    }
    return o;
  };
}

/** A literal-shaped object factory for this key list (shared process-wide by key signature). */
function factoryFor(keys: string[]): (v: string[]) => Record<string, string> {
  let make: (v: string[]) => Record<string, string>;
  if (keys.length > 200) return slowFactory(keys.slice());
  let total = 0;
  for (const k of keys) total += k.length + 1;
  if (total > 4096) return slowFactory(keys.slice());
  const sig = keys.join('\u0001');
  const known = FACTORIES.get(sig);
  if (known) make = known;
  else if (keys.length <= 200 && sig.length <= 4096 && SANE_KEYS.test(sig) && !keys.includes('__proto__')) {
    // literal-shaped object creation: keys are JSON string literals (data, never code)
    const body = 'return {' + keys.map((k, i) => JSON.stringify(k) + ':v[' + i + ']').join(',') + '};';
    make = new Function('v', body) as (v: string[]) => Record<string, string>;
    if (FACTORIES.size >= 4096) FACTORIES.clear();
    FACTORIES.set(sig, make);
  } else make = slowFactory(keys.slice());
  return make;
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


// ---------------------------------------------------------------- compiled extraction plans
/**
 * A template compiled once (per chunk) into a flat extraction plan: for each System
 * field the content parts that give its value (mostly one substitution index), the
 * EventData/UserData keys (resolved at compile time, duplicates suffixed) with their
 * value parts, and a literal-shaped factory for the event-data object. Per record only
 * the substitution values are decoded. The plan mirrors walkEl/walkKids exactly; it
 * holds only while none of the substitutions the walk would expand (structSubs) is
 * nested binary XML (type 0x21) in the record, else the record takes the generic walk.
 */
interface Plan {
  structSubs: number[];
  /** Walk role at each structural substitution (a nested value there is walked in that role). */
  structRoles: number[];
  /** No System field, no event data of its own: a nested plan may supply the data. */
  dataFree: boolean;
  hasSystem: boolean;
  provider: XNode[] | null;
  guid: XNode[] | null;
  eventId: XNode[] | null;
  qualifiers: XNode[] | null;
  version: XNode[] | null;
  level: XNode[] | null;
  task: XNode[] | null;
  opcode: XNode[] | null;
  keywords: XNode[] | null;
  time: XNode[] | null;
  recordId: XNode[] | null;
  activityId: XNode[] | null;
  relatedActivityId: XNode[] | null;
  pid: XNode[] | null;
  tid: XNode[] | null;
  channel: XNode[] | null;
  computer: XNode[] | null;
  userId: XNode[] | null;
  keys: string[];
  vals: XNode[][];
  /** Substitution index when a value is exactly one substitution, else -1. */
  valSub: Int32Array;
  vbuf: string[];
  make?: (v: string[]) => Record<string, string>;
  dataKind: string | undefined;
  userDataName: string | undefined;
  userDataNs: XNode[] | null;
}

/** Records built from a compiled plan / by the generic walk (template without plan, or nested binary XML). */
export const planStats = { planned: 0, noPlan: 0, walked: 0 };

let plansOn = true;
/** Turn compiled extraction plans off (every record takes the generic walk): for tests comparing the two. */
export function setExtractionPlans(on: boolean): void {
  plansOn = on;
}

class NoPlan {}
const NO_PLAN = new NoPlan();

function constText(parts: XNode[]): string {
  let s = '';
  for (const p of parts) {
    if (p.k === K_TEXT || p.k === K_CDATA) s += p.text;
    else throw NO_PLAN; // value-dependent (substitution, element): no static plan
  }
  return s;
}

function attrParts(el: ElNode, name: string): XNode[] | null {
  let r: XNode[] | null = null;
  for (const a of el.attrs) if (a.name === name) { r = a.parts; break; }
  return r;
}

class PlanBuilder {
  pl: Plan = {
    structSubs: [], structRoles: [], dataFree: false, hasSystem: false, provider: null, guid: null, eventId: null, qualifiers: null, version: null, level: null, task: null,
    opcode: null, keywords: null, time: null, recordId: null, activityId: null, relatedActivityId: null, pid: null,
    tid: null, channel: null, computer: null, userId: null, keys: [], vals: [], valSub: new Int32Array(0), vbuf: [],
    dataKind: undefined, userDataName: undefined, userDataNs: null,
  };
  param = 0;
  sys = new Set<string>();

  struct(index: number, role: number): void {
    this.pl.structSubs.push(index);
    this.pl.structRoles.push(role);
  }

  used = new Set<string>();
  add(key: string, parts: XNode[]): void {
    const keys = this.pl.keys;
    const used = this.used;
    if (used.has(key)) {
      let i = 2;
      while (used.has(key + '_' + i)) i++;
      key = key + '_' + i;
    }
    used.add(key);
    keys.push(key);
    this.pl.vals.push(parts);
  }

  kids(kids: XNode[], role: number): void {
    for (const k of kids) {
      if (k.k === K_EL) this.el(k, role);
      else if (k.k === K_SUB) this.struct(k.index, role);
    }
  }

  el(el: ElNode, role: number): void {
    const name = el.name;
    const pl = this.pl;
    switch (role) {
      case R_ROOT:
        this.kids(el.kids, name === 'Event' ? R_EVENT : R_ROOT);
        return;
      case R_EVENT:
        if (name === 'System') this.kids(el.kids, R_SYSTEM);
        else if (name === 'EventData') {
          pl.dataKind = 'EventData';
          this.kids(el.kids, R_EVENTDATA);
        } else if (name === 'UserData') {
          pl.dataKind = 'UserData';
          this.kids(el.kids, R_USERDATA);
        } else if (name === 'ProcessingErrorData') {
          pl.dataKind = 'ProcessingErrorData';
          this.kids(el.kids, R_FLAT);
        } else if (name === 'RenderingInfo') {
          // not event data
        } else {
          pl.dataKind ??= name;
          this.kids(el.kids, R_FLAT);
        }
        return;
      case R_SYSTEM:
        this.system(el);
        return;
      case R_EVENTDATA:
        if (name === 'Data') {
          const np = attrParts(el, 'Name');
          let key = np === null ? undefined : constText(np);
          if (key === undefined || key === '') key = 'param' + ++this.param;
          this.add(key, el.kids);
        } else if (el.hasEl) this.kids(el.kids, R_FLAT);
        else this.add(name, el.kids);
        return;
      case R_USERDATA:
        pl.userDataName ??= name;
        if (pl.userDataNs === null) pl.userDataNs = attrParts(el, 'xmlns');
        this.kids(el.kids, R_FLAT);
        return;
      case R_FLAT:
        if (el.hasEl) this.kids(el.kids, R_FLAT);
        else if (el.kids.length === 1 && el.kids[0].k === K_SUB) {
          // expanded when the value is nested binary XML: structural
          this.struct(el.kids[0].index, R_FLAT);
          this.add(name, el.kids);
        } else this.add(name, el.kids);
        return;
    }
  }

  system(el: ElNode): void {
    const pl = this.pl;
    const name = el.name;
    if (this.sys.has(name)) throw NO_PLAN; // repeated System element: keep the walker's order semantics
    this.sys.add(name);
    pl.hasSystem = true;
    switch (name) {
      case 'Provider':
        for (const a of el.attrs) {
          if (a.name === 'Name') pl.provider = a.parts;
          else if (a.name === 'Guid') pl.guid = a.parts;
          else if (a.name === 'EventSourceName') throw NO_PLAN;
        }
        return;
      case 'EventID':
        pl.eventId = el.kids;
        pl.qualifiers = attrParts(el, 'Qualifiers');
        return;
      case 'Version': pl.version = el.kids; return;
      case 'Level': pl.level = el.kids; return;
      case 'Task': pl.task = el.kids; return;
      case 'Opcode': pl.opcode = el.kids; return;
      case 'Keywords': pl.keywords = el.kids; return;
      case 'TimeCreated': {
        let n = 0;
        for (const a of el.attrs) if (a.name === 'SystemTime') { n++; pl.time = a.parts; }
        if (n > 1) throw NO_PLAN;
        return;
      }
      case 'EventRecordID': pl.recordId = el.kids; return;
      case 'Correlation':
        pl.activityId = attrParts(el, 'ActivityID');
        pl.relatedActivityId = attrParts(el, 'RelatedActivityID');
        return;
      case 'Execution':
        pl.pid = attrParts(el, 'ProcessID');
        pl.tid = attrParts(el, 'ThreadID');
        return;
      case 'Channel': pl.channel = el.kids; return;
      case 'Computer': pl.computer = el.kids; return;
      case 'Security': pl.userId = attrParts(el, 'UserID'); return;
    }
  }
}

/** The template's plan for a walk starting in role (compiled on first use; null: generic walk). */
function planOf(tpl: Template, role: number): Plan | null {
  const plans = (tpl.plan ??= [undefined, undefined, undefined, undefined, undefined, undefined]) as (Plan | null | undefined)[];
  const have = plans[role];
  if (have !== undefined) return have;
  let plan: Plan | null = null;
  try {
    const b = new PlanBuilder();
    b.kids(tpl.nodes, role);
    plan = b.pl;
    const vs = new Int32Array(plan.vals.length);
    for (let i = 0; i < vs.length; i++) {
      const p = plan.vals[i];
      vs[i] = p.length === 1 && p[0].k === K_SUB ? p[0].index : -1;
    }
    plan.valSub = vs;
    plan.vbuf = new Array<string>(plan.vals.length).fill('');
    plan.dataFree = plan.keys.length === 0 && plan.dataKind === undefined && plan.userDataName === undefined && plan.userDataNs === null;
  } catch (e) {
    if (e !== NO_PLAN) throw e;
    plan = null;
  }
  plans[role] = plan;
  return plan;
}

/** Event data (keys, values, kind) of c from plan pl over inst. */
function planData(cx: ChunkBinXml, pl: Plan, inst: Instance, c: Collect): void {
  c.dataKind = pl.dataKind;
  c.userDataName = pl.userDataName;
  if (pl.userDataNs !== null) c.userDataNs = textOf(cx, pl.userDataNs, inst);
  const vals = pl.vbuf;
  const vs = pl.valSub;
  for (let i = 0; i < vs.length; i++) {
    const x = vs[i];
    vals[i] = x >= 0 ? cx.subString(inst, x) : textOf(cx, pl.vals[i], inst);
  }
  c.keys = pl.keys;
  c.vals = vals;
  c.plan = pl;
}

/** Fill c from the plan; false when this record's values change the structure (generic walk needed). */
function runPlan(cx: ChunkBinXml, pl: Plan, inst: Instance, c: Collect): boolean {
  const vd = inst.vd;
  const n = inst.n;
  const ss = pl.structSubs;
  let nestedAt = -1;
  for (let i = 0; i < ss.length; i++) {
    const x = ss[i];
    if (x < n && vd[x * 3 + 2] === 0x21) {
      // one nested binary XML value supplying all the event data is planned too
      if (nestedAt >= 0 || !pl.dataFree) return false;
      nestedAt = i;
    }
  }
  let np: Plan | null = null;
  let ni: Instance | null = null;
  if (nestedAt >= 0) {
    const x = ss[nestedAt];
    ni = cx.nestedReuse(vd[x * 3], vd[x * 3 + 1]);
    np = planOf(ni.tpl, pl.structRoles[nestedAt]);
    if (np === null || np.hasSystem) return false;
    const nss = np.structSubs;
    for (let i = 0; i < nss.length; i++) {
      const y = nss[i];
      if (y < ni.n && ni.vd[y * 3 + 2] === 0x21) return false;
    }
  }
  if (pl.provider !== null) c.provider = textOf(cx, pl.provider, inst);
  if (pl.guid !== null) c.guid = textOf(cx, pl.guid, inst);
  if (pl.eventId !== null) {
    c.eventId = textOf(cx, pl.eventId, inst);
    c.qualifiers = pl.qualifiers === null ? '' : textOf(cx, pl.qualifiers, inst);
  }
  if (pl.version !== null) c.version = textOf(cx, pl.version, inst);
  if (pl.level !== null) c.level = textOf(cx, pl.level, inst);
  if (pl.task !== null) c.task = textOf(cx, pl.task, inst);
  if (pl.opcode !== null) c.opcode = textOf(cx, pl.opcode, inst);
  if (pl.keywords !== null) c.keywords = textOf(cx, pl.keywords, inst);
  const tp = pl.time;
  if (tp !== null) {
    if (tp.length === 1 && tp[0].k === K_SUB) {
      const i = tp[0].index;
      if (i < n && vd[i * 3 + 2] === 0x11 && vd[i * 3 + 1] === 8) c.timeMs = filetimeMs(cx.buf, vd[i * 3]);
    }
    c.timeIso = textOf(cx, tp, inst);
    if (Number.isNaN(c.timeMs) && c.timeIso) c.timeMs = Date.parse(c.timeIso.replace(' ', 'T'));
  }
  if (pl.recordId !== null) c.recordId = textOf(cx, pl.recordId, inst);
  if (pl.activityId !== null) c.activityId = textOf(cx, pl.activityId, inst);
  if (pl.relatedActivityId !== null) c.relatedActivityId = textOf(cx, pl.relatedActivityId, inst);
  if (pl.pid !== null) c.pid = textOf(cx, pl.pid, inst);
  if (pl.tid !== null) c.tid = textOf(cx, pl.tid, inst);
  if (pl.channel !== null) c.channel = textOf(cx, pl.channel, inst);
  if (pl.computer !== null) c.computer = textOf(cx, pl.computer, inst);
  if (pl.userId !== null) c.userId = textOf(cx, pl.userId, inst);
  if (np !== null) planData(cx, np, ni!, c);
  else planData(cx, pl, inst, c);
  return true;
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

// keywords repeat record after record: one-entry cache of their parse
let kwLastIn = '';
let kwLastBig = 0n;
let kwLastOut = '';

/** Build the normalized event for one parsed record. */
export function buildEvent(cx: ChunkBinXml, inst: Instance, m: RecordMeta): EvtxEvent {
  let c = new Collect();
  const pl = plansOn ? planOf(inst.tpl, R_ROOT) : null;
  let data: Record<string, string>;
  if (pl === null) planStats.noPlan++;
  if (pl !== null && runPlan(cx, pl, inst, c)) {
    planStats.planned++;
    const dp = c.plan!;
    data = c.keys.length === 0 ? {} : (dp.make ??= factoryFor(c.keys))(c.vals);
  } else {
    planStats.walked++;
    c = new Collect();
    c.keys = [];
    c.vals = [];
    for (const nd of inst.tpl.nodes) if (nd.k === K_EL) walkEl(cx, nd, inst, R_ROOT, c);
    else if (nd.k === K_SUB && nd.index < inst.n && inst.vd[nd.index * 3 + 2] === 0x21) {
      walkKids(cx, [nd], inst, R_ROOT, c);
    }
    data = makeData(inst.tpl, c.keys, c.vals);
  }
  const eventId = num(c.eventId) ?? 0;
  const recId = num(c.recordId) ?? m.recordId;
  const ts = Number.isNaN(c.timeMs) ? m.writtenMs : c.timeMs;
  let kw: string | undefined;
  let kwBig = 0n;
  if (c.keywords !== undefined && c.keywords !== '') {
    if (c.keywords === kwLastIn) {
      kwBig = kwLastBig;
      kw = kwLastOut;
    } else {
      try {
        kwBig = BigInt(c.keywords);
        kw = '0x' + kwBig.toString(16);
      } catch {
        kwBig = 0n;
        kw = c.keywords;
      }
      kwLastIn = c.keywords;
      kwLastBig = kwBig;
      kwLastOut = kw;
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
