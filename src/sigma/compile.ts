/**
 * Compiling Sigma detections into matcher closures.
 *
 * Values: wildcards `*` `?`, escapes `\*` `\?` `\\` (a lone backslash is literal),
 * case-insensitive unless `cased`. Every modifier of the specification's appendix:
 * contains startswith endswith all exists cased neq windash re(i,m,s) base64
 * base64offset utf16le utf16be utf16 wide lt lte gt gte cidr expand fieldref.
 * Unsupported constructs throw SigmaUnsupported (the loader reports them by rule).
 */
import type { EvtxEvent } from '../core/event.js';

export class SigmaUnsupported extends Error {}

/** Per-event accessor with a lower-case cache (one per event, shared by all rules). */
export class EventView {
  ev!: EvtxEvent;
  data!: Record<string, string>;
  private lc = new Map<string, string | undefined>();
  private all: string[] | null = null;
  private nospace: Map<string, string> | null = null;
  /** Memo of shared field items for the current event. */
  epoch = 0;
  stamp = new Int32Array(0);
  res = new Uint8Array(0);
  grow(n: number): void {
    const size = Math.max(n, this.stamp.length * 2, 1024);
    const s = new Int32Array(size);
    s.set(this.stamp);
    const r = new Uint8Array(size);
    r.set(this.res);
    this.stamp = s;
    this.res = r;
  }
  reset(ev: EvtxEvent): void {
    this.epoch = (this.epoch + 1) | 0;
    if (this.epoch === 0) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    this.ev = ev;
    this.data = ev['winlog.event_data'] ?? {};
    this.lc.clear();
    this.all = null;
    this.allLower = null;
    this.nospace = null;
  }
  /** Raw value of a Sigma field name (already mapped to this source's name). */
  get(name: string): string | undefined {
    switch (name) {
      case 'EventID':
        return String(this.ev['winlog.event_id']);
      case 'Channel':
        return this.ev['winlog.channel'];
      case 'Provider_Name':
      case 'Provider':
        return this.ev['event.provider'];
      case 'Computer':
        return this.ev['winlog.computer_name'];
      case 'Security_UserID':
      case 'UserID':
        return (this.ev['winlog.user.identifier'] as string | undefined) ?? this.data[name];
      case 'Level':
        return this.data.Level ?? (this.ev['winlog.level'] !== undefined ? String(this.ev['winlog.level']) : undefined);
      case 'Data': {
        const d = this.data.Data;
        if (d !== undefined) return d;
        // unnamed <Data> elements (param1..N): Sigma's `Data` is their text, joined
        const ps: string[] = [];
        for (let i = 1; this.data['param' + i] !== undefined; i++) ps.push(this.data['param' + i]);
        return ps.length ? ps.join('\n') : undefined;
      }
    }
    const v = this.data[name];
    if (v !== undefined) return v;
    // Some providers (Windows Defender) name fields with spaces ("Source Name"); Sigma writes them without.
    if (this.nospace === null) {
      this.nospace = new Map();
      for (const k in this.data) if (k.includes(' ')) this.nospace.set(k.replace(/ /g, ''), this.data[k]);
    }
    return this.nospace.size ? this.nospace.get(name) : undefined;
  }
  lower(name: string): string | undefined {
    let v = this.lc.get(name);
    if (v === undefined && !this.lc.has(name)) {
      const r = this.get(name);
      v = r === undefined ? undefined : r.toLowerCase();
      this.lc.set(name, v);
    }
    return v;
  }
  /** Every value of the record (for keyword searches), readable `_name` companions excluded. */
  values(): string[] {
    if (this.all) return this.all;
    const out: string[] = [];
    const d = this.data;
    for (const k in d) {
      if (k.endsWith('_name') && d[k.slice(0, -5)] !== undefined) continue;
      const v = d[k];
      if (typeof v === 'string') out.push(v);
    }
    this.all = out;
    return out;
  }
  private allLower: string[] | null = null;
  valuesLower(): string[] {
    if (!this.allLower) this.allLower = this.values().map((x) => x.toLowerCase());
    return this.allLower;
  }
}

export type Matcher = (v: EventView) => boolean;
/** A test on one field value (raw string). */
type ValueTest = (raw: string, lower: string, v: EventView) => boolean;

export interface CompileOptions {
  /** Values for `expand` placeholders (`%name%` → list). Unresolved placeholders become `*`. */
  placeholders?: Record<string, string[]>;
}

interface CompileCtx {
  fieldMap?: Record<string, string>;
  opts: CompileOptions;
  fields: Set<string>;
  notes: string[];
}

// ---------------------------------------------------------------- value patterns

const DASH = '\uE000';
const STAR = '\uE001';
const QMARK = '\uE002';

/** Sigma string → internal form where unescaped wildcards are STAR/QMARK. */
function parseWildcards(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      const n = s[i + 1];
      if (n === '*' || n === '?' || n === '\\') {
        out += n;
        i++;
        continue;
      }
      out += c;
    } else if (c === '*') out += STAR;
    else if (c === '?') out += QMARK;
    else out += c;
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Compile one internal-form pattern (STAR/QMARK/DASH tokens) into a test. */
function patternTest(p: string, cased: boolean): ValueTest {
  const hasQ = p.includes(QMARK) || p.includes(DASH);
  const starCount = (p.match(new RegExp(STAR, 'g')) ?? []).length;
  if (!hasQ) {
    const lead = p.startsWith(STAR);
    const trail = p.length > 1 && p.endsWith(STAR);
    const core = p.slice(lead ? 1 : 0, trail ? -1 : undefined);
    const inner = core.includes(STAR);
    if (!inner && starCount <= 2) {
      if (p === STAR) return () => true;
      const k = cased ? core : core.toLowerCase();
      if (cased) {
        if (lead && trail) return (r) => r.includes(k);
        if (lead) return (r) => r.endsWith(k);
        if (trail) return (r) => r.startsWith(k);
        return (r) => r === k;
      }
      if (lead && trail) return (_r, l) => l.includes(k);
      if (lead) return (_r, l) => l.endsWith(k);
      if (trail) return (_r, l) => l.startsWith(k);
      return (_r, l) => l === k;
    }
  }
  if (!hasQ) {
    // only `*` wildcards: find the pieces in order (linear, no regex backtracking on long texts)
    const pieces = p.split(STAR).map((x) => (cased ? x : x.toLowerCase()));
    const head = pieces[0];
    const tail = pieces[pieces.length - 1];
    const mid = pieces.slice(1, -1).filter((x) => x.length);
    return (r, l) => {
      const t = cased ? r : l;
      if (t.length < head.length + tail.length || !t.startsWith(head) || !t.endsWith(tail)) return false;
      let pos = head.length;
      const end = t.length - tail.length;
      for (const m of mid) {
        const i = t.indexOf(m, pos);
        if (i < 0 || i + m.length > end) return false;
        pos = i + m.length;
      }
      return true;
    };
  }
  // unanchored where the pattern starts/ends with `*`, to avoid leading [\s\S]* backtracking
  let body = p;
  const lead = body.startsWith(STAR);
  while (body.startsWith(STAR)) body = body.slice(1);
  const trail = body.endsWith(STAR);
  while (body.endsWith(STAR)) body = body.slice(0, -1);
  let src = lead ? '' : '^';
  for (const ch of body) {
    if (ch === STAR) src += '[\\s\\S]*';
    else if (ch === QMARK) src += '[\\s\\S]';
    else if (ch === DASH) src += '[-/\u2013\u2014\u2015]';
    else src += escapeRe(ch);
  }
  if (!trail) src += '$';
  const re = new RegExp(src, cased ? '' : 'i');
  return (r) => re.test(r);
}

function base64(b: Buffer): string {
  return b.toString('base64');
}

/** Sigma's base64offset: the three encodings of a value at offsets 0, 1, 2 with the unstable edges cut. */
function base64Offsets(b: Buffer): string[] {
  const out: string[] = [];
  const start = [0, 2, 3];
  const endCut = [0, 3, 2];
  for (let i = 0; i < 3; i++) {
    const enc = base64(Buffer.concat([Buffer.alloc(i, 0x20), b]));
    const cut = endCut[(b.length + i) % 3];
    out.push(enc.slice(start[i], cut ? enc.length - cut : undefined));
  }
  return out;
}

function utf16be(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) {
    const t = le[i];
    le[i] = le[i + 1];
    le[i + 1] = t;
  }
  return le;
}

// ---------------------------------------------------------------- IP / CIDR

function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = +m[i];
    if (o > 255) return null;
    n = n * 256 + o;
  }
  return n;
}

function parseIPv6(s: string): bigint | null {
  let str = s.replace(/^\[|\]$/g, '');
  const pct = str.indexOf('%');
  if (pct >= 0) str = str.slice(0, pct);
  if (!str.includes(':')) return null;
  // embedded IPv4 tail
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
  if (v4) {
    const n = parseIPv4(v4[1]);
    if (n === null) return null;
    str = str.slice(0, -v4[1].length) + ((n >>> 16) & 0xffff).toString(16) + ':' + (n & 0xffff).toString(16);
  }
  const halves = str.split('::');
  if (halves.length > 2) return null;
  const a = halves[0] ? halves[0].split(':') : [];
  const b = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - a.length - b.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  const parts = [...a, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...b];
  let n = 0n;
  for (const p of parts) {
    if (!/^[0-9a-f]{1,4}$/i.test(p)) return null;
    n = (n << 16n) | BigInt(parseInt(p, 16));
  }
  return n;
}

function cidrTest(spec: string): ValueTest {
  const [addr, lenS] = spec.split('/');
  const v4 = parseIPv4(addr);
  if (v4 !== null) {
    const len = lenS === undefined ? 32 : +lenS;
    if (!(len >= 0 && len <= 32)) throw new SigmaUnsupported(`bad CIDR '${spec}'`);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    const net = (v4 & mask) >>> 0;
    return (r) => {
      let n = parseIPv4(r);
      if (n === null && r.toLowerCase().startsWith('::ffff:')) n = parseIPv4(r.slice(7));
      return n !== null && ((n & mask) >>> 0) === net;
    };
  }
  const v6 = parseIPv6(addr);
  if (v6 === null) throw new SigmaUnsupported(`bad CIDR '${spec}'`);
  const len = lenS === undefined ? 128 : +lenS;
  if (!(len >= 0 && len <= 128)) throw new SigmaUnsupported(`bad CIDR '${spec}'`);
  const shift = BigInt(128 - len);
  const net = v6 >> shift;
  return (r) => {
    const n = parseIPv6(r);
    return n !== null && n >> shift === net;
  };
}

// ---------------------------------------------------------------- regex

function compileRe(src: string, flags: string): RegExp {
  let s = src;
  let f = flags;
  // leading inline flags (?i) (?s) (?m) as used by PCRE-style rules
  const m = /^\(\?([imsx]+)\)/.exec(s);
  if (m) {
    if (m[1].includes('x')) throw new SigmaUnsupported('regular expression with (?x) extended mode');
    for (const c of m[1]) if (!f.includes(c)) f += c;
    s = s.slice(m[0].length);
  }
  s = s.replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>');
  if (/\(\?[imsx-]+[:)]/.test(s)) throw new SigmaUnsupported('regular expression with inline flag group (not in JavaScript)');
  if (/\\[AZz]/.test(s.replace(/\\\\/g, ''))) {
    s = s.replace(/(^|[^\\])\\A/g, '$1^').replace(/(^|[^\\])\\[Zz]/g, '$1$');
  }
  try {
    return new RegExp(s, f);
  } catch (e) {
    throw new SigmaUnsupported(`regular expression not valid in JavaScript: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- field items

const KNOWN_MODIFIERS = new Set([
  'contains', 'startswith', 'endswith', 'all', 'exists', 'cased', 'neq', 'windash', 're', 'i', 'm', 's',
  'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'lt', 'lte', 'gt', 'gte', 'cidr', 'expand', 'fieldref',
]);

function scalarToString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw new SigmaUnsupported(`value of type ${Array.isArray(v) ? 'list inside list' : typeof v} is not a Sigma value`);
}

/** Value → the tests it stands for (several after base64offset/windash/expand). */
function valueTests(raw: string, mods: Set<string>, ctx: CompileCtx): ValueTest[] {
  const cased = mods.has('cased');
  if (mods.has('re')) {
    let flags = '';
    if (mods.has('i')) flags += 'i';
    if (mods.has('m')) flags += 'm';
    if (mods.has('s')) flags += 's';
    const re = compileRe(raw, flags);
    return [(r) => re.test(r)];
  }
  if (mods.has('cidr')) return [cidrTest(raw.trim())];
  if (mods.has('lt') || mods.has('lte') || mods.has('gt') || mods.has('gte')) {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new SigmaUnsupported(`numeric comparison with non-number '${raw}'`);
    const cmp = mods.has('lt') ? (x: number) => x < n : mods.has('lte') ? (x: number) => x <= n : mods.has('gt') ? (x: number) => x > n : (x: number) => x >= n;
    return [
      (r) => {
        const t = r.trim();
        if (t === '') return false;
        const x = Number(t);
        return Number.isFinite(x) && cmp(x);
      },
    ];
  }
  if (mods.has('fieldref')) {
    const other = ctx.fieldMap?.[raw] ?? raw;
    ctx.fields.add(other);
    const how = mods.has('contains') ? 'c' : mods.has('startswith') ? 's' : mods.has('endswith') ? 'e' : '=';
    return [
      (r, l, v) => {
        if (cased) {
          const o = v.get(other);
          if (o === undefined) return false;
          return how === '=' ? r === o : how === 'c' ? r.includes(o) : how === 's' ? r.startsWith(o) : r.endsWith(o);
        }
        const o = v.lower(other);
        if (o === undefined) return false;
        return how === '=' ? l === o : how === 'c' ? l.includes(o) : how === 's' ? l.startsWith(o) : l.endsWith(o);
      },
    ];
  }
  const { pats, cased: c2 } = valuePatterns(raw, mods, ctx);
  return pats.map((p) => patternTest(p, c2));
}

/**
 * The string pipeline (expand → encodings → wildcards → windash → contains/startswith/endswith):
 * internal-form patterns (STAR/QMARK/DASH tokens) and whether they compare case-sensitively.
 */
function valuePatterns(raw: string, mods: Set<string>, ctx: CompileCtx): { pats: string[]; cased: boolean } {
  const cased = mods.has('cased');
  // string pipeline: expand → encodings → wildcards → windash → contains/startswith/endswith
  let strs: string[] = [raw];
  if (mods.has('expand')) {
    const out: string[] = [];
    for (const s of strs) {
      const parts = s.split(/(%[A-Za-z0-9_.-]+%)/);
      let acc = [''];
      for (const p of parts) {
        if (/^%[A-Za-z0-9_.-]+%$/.test(p)) {
          const vals = ctx.opts.placeholders?.[p.slice(1, -1)];
          if (!vals || vals.length === 0) {
            ctx.notes.push(`placeholder ${p} unresolved: matched as *`);
            acc = acc.map((a) => a + '*');
          } else acc = acc.flatMap((a) => vals.map((x) => a + x));
        } else acc = acc.map((a) => a + p);
      }
      out.push(...acc);
    }
    strs = out;
  }
  const enc16 = mods.has('utf16le') || mods.has('wide') ? 'le' : mods.has('utf16be') ? 'be' : mods.has('utf16') ? 'bom' : null;
  let encoded = false;
  if (mods.has('base64') || mods.has('base64offset')) {
    const out: string[] = [];
    for (const s of strs) {
      const b = enc16 === 'le' ? Buffer.from(s, 'utf16le') : enc16 === 'be' ? utf16be(s) : enc16 === 'bom' ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]) : Buffer.from(s, 'utf8');
      if (mods.has('base64offset')) out.push(...base64Offsets(b));
      else out.push(base64(b));
    }
    strs = out;
    encoded = true;
  } else if (enc16) {
    throw new SigmaUnsupported(`modifier utf16 encoding without base64 has no meaning on text fields`);
  }
  const pats: string[] = [];
  for (const s of strs) {
    // encoded values are literal (a base64 alphabet has no wildcard characters anyway)
    let p = encoded ? s : parseWildcards(s);
    if (mods.has('windash')) p = p.replace(/\B[-/]\b/g, DASH);
    if (mods.has('contains')) p = STAR + p + STAR;
    else if (mods.has('startswith')) p = p + STAR;
    else if (mods.has('endswith')) p = STAR + p;
    pats.push(p);
  }
  // base64 output is case-sensitive by nature
  return { pats, cased: cased || encoded };
}

/**
 * Field items shared across rules: the same `Field|mods: values` (after field mapping)
 * is evaluated once per event for all rules that use it (memo keyed by item id).
 */
const SHARED = new Map<string, { id: number; m: Matcher }>();
let sharedCount = 0;

function compileFieldItem(key: string, value: unknown, ctx: CompileCtx): Matcher {
  const [fieldRaw, ...mods] = key.split('|');
  const field = fieldRaw === '' ? '' : ctx.fieldMap?.[fieldRaw] ?? fieldRaw;
  if (field) ctx.fields.add(field);
  if (mods.includes('fieldref')) for (const x of Array.isArray(value) ? value : [value]) ctx.fields.add(ctx.fieldMap?.[String(x)] ?? String(x));
  let k: string;
  try {
    k = field + '\u0000' + mods.join('|') + '\u0000' + JSON.stringify(value) + (mods.includes('expand') || mods.includes('fieldref') ? '\u0000' + JSON.stringify(ctx.opts.placeholders ?? null) + JSON.stringify(ctx.fieldMap ?? null) : '');
  } catch {
    return compileFieldItemRaw(key, value, ctx);
  }
  let e = SHARED.get(k);
  if (!e) {
    const m = compileFieldItemRaw(key, value, ctx);
    if (SHARED.size >= 200_000) return m;
    e = { id: sharedCount++, m };
    SHARED.set(k, e);
  }
  const { id, m } = e;
  return (v) => {
    const st = v.stamp;
    if (id < st.length && st[id] === v.epoch) return v.res[id] === 1;
    const r = m(v);
    if (id >= st.length) v.grow(sharedCount);
    v.stamp[id] = v.epoch;
    v.res[id] = r ? 1 : 0;
    return r;
  };
}

/** `Field|mods: value(s)` → matcher. */
function compileFieldItemRaw(key: string, value: unknown, ctx: CompileCtx): Matcher {
  const [fieldRaw, ...modList] = key.split('|');
  for (const m of modList) if (!KNOWN_MODIFIERS.has(m)) throw new SigmaUnsupported(`unknown modifier '${m}'`);
  const mods = new Set(modList);
  const values = Array.isArray(value) ? value : [value];
  if (fieldRaw === '') return compileKeywords(values, mods, ctx);
  const field = ctx.fieldMap?.[fieldRaw] ?? fieldRaw;
  ctx.fields.add(field);
  if (mods.has('exists')) {
    const want = values[0] === true || String(values[0]).toLowerCase() === 'true';
    return (v) => (v.get(field) !== undefined) === want;
  }
  const tests: ValueTest[] = [];
  let wantNull = false;
  for (const x of values) {
    const s = scalarToString(x);
    if (s === null) {
      wantNull = true;
      continue;
    }
    tests.push(...valueTests(s, mods, ctx));
  }
  const all = mods.has('all') && tests.length > 1;
  const neq = mods.has('neq');
  const nTests = tests.length;
  const t0 = tests[0];
  let m: Matcher;
  if (nTests === 0) {
    m = wantNull ? (v) => { const r = v.get(field); return r === undefined || r === ''; } : () => false;
  } else {
    m = (v) => {
      const r = v.get(field);
      if (r === undefined) return wantNull;
      if (wantNull && r === '') return true;
      const l = v.lower(field) as string;
      if (nTests === 1) return t0(r, l, v);
      if (all) {
        for (let i = 0; i < nTests; i++) if (!tests[i](r, l, v)) return false;
        return true;
      }
      for (let i = 0; i < nTests; i++) if (tests[i](r, l, v)) return true;
      return false;
    };
  }
  if (neq) {
    const pos = m;
    return (v) => v.get(field) !== undefined && !pos(v);
  }
  return m;
}

function compileKeywords(values: unknown[], mods: Set<string>, ctx: CompileCtx): Matcher {
  const tests: ValueTest[] = [];
  for (const x of values) {
    const s = scalarToString(x);
    if (s === null) continue;
    // keywords search the whole record: plain strings match anywhere
    const m = new Set(mods);
    if (!m.has('re') && !m.has('startswith') && !m.has('endswith') && !m.has('contains') && !/(^|[^\\])[*?]/.test(s)) m.add('contains');
    m.delete('all');
    tests.push(...valueTests(s, m, ctx));
  }
  const all = mods.has('all');
  const one = (t: ValueTest, vals: string[], lows: string[], v: EventView) => {
    for (let i = 0; i < vals.length; i++) if (t(vals[i], lows[i], v)) return true;
    return false;
  };
  return (v) => {
    const vals = v.values();
    const lows = v.valuesLower();
    if (all) return tests.every((t) => one(t, vals, lows, v));
    return tests.some((t) => one(t, vals, lows, v));
  };
}

/** A named selection: map (AND of fields), list of maps (OR), or keyword list. */
export function compileSelection(def: unknown, ctx: CompileCtx): Matcher {
  if (def === null || def === undefined) throw new SigmaUnsupported('empty selection');
  if (Array.isArray(def)) {
    if (def.length === 0) return () => false;
    if (def.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
      const ms = def.map((x) => compileSelection(x, ctx));
      return (v) => {
        for (const m of ms) if (m(v)) return true;
        return false;
      };
    }
    if (def.some((x) => x !== null && typeof x === 'object')) throw new SigmaUnsupported('selection list mixes maps and keywords');
    return compileKeywords(def, new Set(), ctx);
  }
  if (typeof def === 'object') {
    const entries = Object.entries(def as Record<string, unknown>);
    if (!entries.length) throw new SigmaUnsupported('empty selection map');
    const ms = entries.map(([k, val]) => compileFieldItem(k, val, ctx));
    if (ms.length === 1) return ms[0];
    return (v) => {
      for (const m of ms) if (!m(v)) return false;
      return true;
    };
  }
  return compileKeywords([def], new Set(), ctx);
}

// ---------------------------------------------------------------- condition

type Node =
  | { k: 'id'; name: string }
  | { k: 'of'; n: number | 'all'; pattern: string }
  | { k: 'not'; a: Node }
  | { k: 'and' | 'or'; a: Node; b: Node };

function tokenize(s: string): string[] {
  const out: string[] = [];
  const re = /\s*(\(|\)|[^\s()]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1]);
  return out;
}

export function parseCondition(cond: string): Node {
  if (cond.includes('|')) throw new SigmaUnsupported(`aggregation in condition ('${cond.slice(cond.indexOf('|')).trim()}') is Sigma 1.x syntax; use a correlation rule`);
  const t = tokenize(cond);
  let i = 0;
  const peek = () => t[i]?.toLowerCase();
  function primary(): Node {
    const tok = t[i];
    if (tok === undefined) throw new SigmaUnsupported(`condition ends early: '${cond}'`);
    const low = tok.toLowerCase();
    if (tok === '(') {
      i++;
      const e = orExpr();
      if (t[i] !== ')') throw new SigmaUnsupported(`unbalanced parentheses in condition '${cond}'`);
      i++;
      return e;
    }
    if (low === 'not') {
      i++;
      return { k: 'not', a: primary() };
    }
    if ((low === 'all' || /^\d+$/.test(low) || low === 'any') && t[i + 1]?.toLowerCase() === 'of') {
      const pat = t[i + 2];
      if (!pat || pat === '(' || pat === ')') throw new SigmaUnsupported(`'${tok} of' without a target in '${cond}'`);
      i += 3;
      return { k: 'of', n: low === 'all' ? 'all' : low === 'any' ? 1 : +low, pattern: pat };
    }
    if (low === 'and' || low === 'or' || tok === ')') throw new SigmaUnsupported(`unexpected '${tok}' in condition '${cond}'`);
    i++;
    return { k: 'id', name: tok };
  }
  function andExpr(): Node {
    let a = primary();
    while (peek() === 'and') {
      i++;
      a = { k: 'and', a, b: primary() };
    }
    return a;
  }
  function orExpr(): Node {
    let a = andExpr();
    while (peek() === 'or') {
      i++;
      a = { k: 'or', a, b: andExpr() };
    }
    return a;
  }
  const e = orExpr();
  if (i !== t.length) throw new SigmaUnsupported(`unexpected '${t[i]}' in condition '${cond}'`);
  return e;
}

function globRe(p: string): RegExp {
  return new RegExp('^' + p.split('*').map(escapeRe).join('.*') + '$');
}

function buildCondition(n: Node, sel: Map<string, Matcher>): Matcher {
  switch (n.k) {
    case 'id': {
      const m = sel.get(n.name);
      if (!m) throw new SigmaUnsupported(`condition names unknown selection '${n.name}'`);
      return m;
    }
    case 'not': {
      const a = buildCondition(n.a, sel);
      return (v) => !a(v);
    }
    case 'and': {
      const a = buildCondition(n.a, sel);
      const b = buildCondition(n.b, sel);
      return (v) => a(v) && b(v);
    }
    case 'or': {
      const a = buildCondition(n.a, sel);
      const b = buildCondition(n.b, sel);
      return (v) => a(v) || b(v);
    }
    case 'of': {
      const names = [...sel.keys()].filter((k) => (n.pattern === 'them' ? !k.startsWith('_') : globRe(n.pattern).test(k)));
      if (!names.length) throw new SigmaUnsupported(`'${n.n} of ${n.pattern}' matches no selection`);
      const ms = names.map((k) => sel.get(k)!);
      if (n.n === 'all') return (v) => ms.every((m) => m(v));
      const need = n.n;
      if (need <= 1) return (v) => ms.some((m) => m(v));
      return (v) => {
        let c = 0;
        for (const m of ms) if (m(v) && ++c >= need) return true;
        return false;
      };
    }
  }
}

/** Event ids the condition requires (from selections ANDed at the top with a plain EventID), or null. */
function requiredEventIds(n: Node, raw: Record<string, unknown>): number[] | null {
  if (n.k === 'and') return requiredEventIds(n.a, raw) ?? requiredEventIds(n.b, raw);
  if (n.k === 'or') {
    const a = requiredEventIds(n.a, raw);
    const b = requiredEventIds(n.b, raw);
    return a && b ? [...new Set([...a, ...b])] : null;
  }
  if (n.k === 'id') {
    const d = raw[n.name];
    const one = (m: unknown): number[] | null => {
      if (!m || typeof m !== 'object' || Array.isArray(m)) return null;
      const v = (m as Record<string, unknown>).EventID;
      if (v === undefined) return null;
      const vs = Array.isArray(v) ? v : [v];
      const ids = vs.map((x) => (typeof x === 'number' ? x : typeof x === 'string' && /^\d+$/.test(x) ? +x : NaN));
      return ids.every((x) => Number.isInteger(x)) ? ids : null;
    };
    if (Array.isArray(d)) {
      const parts = d.map(one);
      if (parts.length && parts.every((p) => p)) return [...new Set(parts.flat() as number[])];
      return null;
    }
    return one(d);
  }
  return null;
}

// ---------------------------------------------------------------- necessary literals

/** A literal (lower-case ASCII) that must occur in the lower-cased value of a field. */
export interface NeedLit {
  field: string;
  lit: string;
}
/** At least one of the literals occurs whenever the detection matches; null: no such guarantee. */
type Need = NeedLit[] | null;

const ASCII = /^[\x00-\x7f]+$/;
const TOKENS = /[\uE000\uE001\uE002]/;

/** Pseudo-field of a keyword search: the literal may occur in any value of the record. */
export const KEYWORD_FIELD = '\u0001keywords';

/**
 * The longest wildcard-free piece of an internal-form pattern, lower-cased, or null.
 * `exact`: the test compares the lower-cased value with lower-cased pieces (plain
 * case-insensitive tests), so any piece is exact. Otherwise (cased, base64, `?`/windash
 * regular expressions) only ASCII pieces: an ASCII character matches (as itself, or in a
 * non-unicode `i` regex) only ASCII characters, and lower-casing a value maps those one to
 * one, so a match implies the lower-cased piece occurs in the lower-cased value.
 */
function patternLiteral(p: string, cased: boolean): string | null {
  const exact = !cased && !p.includes(QMARK) && !p.includes(DASH);
  let best = '';
  for (const piece of p.split(TOKENS)) if (piece.length > best.length) best = piece;
  if (!best.length || (!exact && !ASCII.test(best))) return null;
  return best.toLowerCase();
}

/** Score of a need (higher is a rarer trigger): shortest literal, then fewer literals. */
function needScore(n: NeedLit[]): number {
  if (!n.length) return Infinity;
  let min = Infinity;
  for (const x of n) {
    // an EventID literal is nearly always present: the channel/event-id index already selected it
    const w = x.lit.length;
    if (w < min) min = w;
  }
  return Math.min(min, 12) * 10000 - Math.min(n.length, 9999);
}

function bestNeed(a: Need, b: Need): Need {
  if (a === null) return b;
  if (b === null) return a;
  return needScore(b) > needScore(a) ? b : a;
}

function unionNeed(ns: Need[]): Need {
  const out: NeedLit[] = [];
  const seen = new Set<string>();
  for (const n of ns) {
    if (n === null) return null;
    for (const x of n) {
      const k = x.field + '\u0000' + x.lit;
      if (!seen.has(k)) {
        seen.add(k);
        out.push(x);
      }
    }
  }
  return out;
}

const NO_LITERAL_MODS = ['exists', 'neq', 'fieldref', 're', 'cidr', 'lt', 'lte', 'gt', 'gte'];

/** Need of one `Field|mods: value(s)` item, mirroring compileFieldItemRaw / compileKeywords. */
function fieldItemNeed(key: string, value: unknown, ctx: CompileCtx): Need {
  const [fieldRaw, ...modList] = key.split('|');
  if (modList.some((m) => NO_LITERAL_MODS.includes(m))) return null;
  const keywords = fieldRaw === '';
  const field = keywords ? KEYWORD_FIELD : ctx.fieldMap?.[fieldRaw] ?? fieldRaw;
  const mods = new Set(modList);
  const values = Array.isArray(value) ? value : [value];
  const lits: (string | null)[] = [];
  const scratch: CompileCtx = { ...ctx, fields: new Set(), notes: [] };
  for (const x of values) {
    let s: string | null;
    try {
      s = scalarToString(x);
    } catch {
      return null;
    }
    if (s === null) {
      if (keywords) continue; // compileKeywords skips null keywords
      return null; // null matches an absent field
    }
    let m = mods;
    if (keywords) {
      // as compileKeywords: plain strings match anywhere; `all` applies across keywords
      m = new Set(mods);
      if (!m.has('startswith') && !m.has('endswith') && !m.has('contains') && !/(^|[^\\])[*?]/.test(s)) m.add('contains');
      m.delete('all');
    }
    let r: { pats: string[]; cased: boolean };
    try {
      r = valuePatterns(s, m, scratch);
    } catch {
      return null;
    }
    for (const p of r.pats) lits.push(patternLiteral(p, r.cased));
  }
  if (!lits.length) return keywords && mods.has('all') ? null : []; // no test: never matches (keywords with `all`: always)
  if (mods.has('all') && (keywords || lits.length > 1)) {
    // every test must pass: any one literal is necessary; take the longest
    let best: string | null = null;
    for (const l of lits) if (l !== null && (best === null || l.length > best.length)) best = l;
    return best === null ? null : [{ field, lit: best }];
  }
  if (lits.some((l) => l === null)) return null;
  return unionNeed([(lits as string[]).map((lit) => ({ field, lit }))]);
}

function selectionNeed(def: unknown, ctx: CompileCtx): Need {
  if (def === null || def === undefined) return null;
  if (Array.isArray(def)) {
    if (def.length === 0) return [];
    if (def.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) return unionNeed(def.map((x) => selectionNeed(x, ctx)));
    if (def.some((x) => x !== null && typeof x === 'object')) return null;
    return fieldItemNeed('', def, ctx); // keyword list
  }
  if (typeof def === 'object') {
    let best: Need = null;
    for (const [k, val] of Object.entries(def as Record<string, unknown>)) best = bestNeed(best, fieldItemNeed(k, val, ctx));
    return best;
  }
  return fieldItemNeed('', [def], ctx); // a single keyword
}

function conditionNeed(n: Node, sel: Map<string, Need>): Need {
  switch (n.k) {
    case 'id':
      return sel.get(n.name) ?? null;
    case 'not':
      return null;
    case 'and':
      return bestNeed(conditionNeed(n.a, sel), conditionNeed(n.b, sel));
    case 'or':
      return unionNeed([conditionNeed(n.a, sel), conditionNeed(n.b, sel)]);
    case 'of': {
      const names = [...sel.keys()].filter((k) => (n.pattern === 'them' ? !k.startsWith('_') : globRe(n.pattern).test(k)));
      const ns = names.map((k) => sel.get(k) ?? null);
      if (n.n === 'all') {
        let best: Need = null;
        for (const x of ns) best = bestNeed(best, x);
        return best;
      }
      return unionNeed(ns); // at least one member must match
    }
  }
}

export interface CompiledDetection {
  match: Matcher;
  /** Fields the detection reads (mapped names), for the "matched fields" output. */
  fields: string[];
  /** Event ids the detection itself requires, when it says so plainly (prefilter). */
  eventIds: number[] | null;
  notes: string[];
  /**
   * Necessary literals (prefilter): whenever the detection matches, at least one of these
   * lower-case literals occurs in the lower-cased value of its field. null: no such set
   * (the rule is always evaluated); empty: the detection can never match.
   */
  need: NeedLit[] | null;
}

export function compileDetection(detection: Record<string, unknown>, fieldMap: Record<string, string> | undefined, opts: CompileOptions): CompiledDetection {
  if (!detection || typeof detection !== 'object') throw new SigmaUnsupported('no detection section');
  const ctx: CompileCtx = { fieldMap, opts, fields: new Set(), notes: [] };
  const sel = new Map<string, Matcher>();
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(detection)) {
    if (k === 'condition' || k === 'timeframe') continue;
    raw[k] = v;
    sel.set(k, compileSelection(v, ctx));
  }
  let cond = detection.condition;
  if (cond === undefined) throw new SigmaUnsupported('detection without condition');
  const conds = Array.isArray(cond) ? cond : [cond];
  if (!conds.length || conds.some((c) => typeof c !== 'string')) throw new SigmaUnsupported('condition is not a string');
  const nodes = (conds as string[]).map(parseCondition);
  const ms = nodes.map((n) => buildCondition(n, sel));
  const match: Matcher = ms.length === 1 ? ms[0] : (v) => ms.some((m) => m(v));
  let eventIds: number[] | null = null;
  if (nodes.length === 1) eventIds = requiredEventIds(nodes[0], raw);
  cond = undefined;
  let need: Need = null;
  try {
    const selNeed = new Map<string, Need>();
    for (const [k, v] of Object.entries(raw)) selNeed.set(k, selectionNeed(v, ctx));
    need = unionNeed(nodes.map((n) => conditionNeed(n, selNeed)));
  } catch {
    need = null;
  }
  return { match, fields: [...ctx.fields], eventIds, notes: ctx.notes, need };
}
