/**
 * Binary XML of one EVTX chunk: names, templates compiled once per chunk into
 * fixed parts + substitution slots, template instances with their value arrays,
 * nested binary XML inside substitution values.
 *
 * All offsets are chunk-relative: the parser works on a Buffer that holds exactly
 * one chunk (64 KiB, or less for a truncated last chunk).
 */
import { utf16, valueString } from './values.js';

/** Thrown on malformed binary XML. Not an Error subclass: no stack capture (carving throws often). */
export class BinXmlError {
  constructor(public offset: number, public message: string) {}
}

// Node kinds
export const K_EL = 0;
export const K_TEXT = 1;
export const K_SUB = 2;
export const K_CDATA = 3;
export const K_PI = 4;

export interface ElNode {
  k: 0;
  name: string;
  attrs: AttrNode[];
  kids: XNode[];
  /** true when kids contain an element (mixed/complex content) */
  hasEl: boolean;
}
export interface AttrNode {
  name: string;
  parts: XNode[];
}
export interface TextNode {
  k: 1 | 3;
  text: string;
}
export interface SubNode {
  k: 2;
  index: number;
  type: number;
  optional: boolean;
}
export interface PINode {
  k: 4;
  target: string;
  data: string;
}
export type XNode = ElNode | TextNode | SubNode | PINode;

export interface Template {
  offset: number;
  guid: string;
  nodes: XNode[];
  /** Event-data object factories keyed by the key list seen with this template. */
  shapes?: { keys: string[]; make: (v: string[]) => Record<string, string> }[];
  /** Compiled extraction plan (extract.ts), null when the template needs the generic walk. */
  plan?: unknown;
}

/**
 * A template instance: a compiled template plus where its values lie.
 * vd holds triples [offset, size, type] per substitution.
 */
export interface Instance {
  tpl: Template;
  vd: Int32Array;
  n: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export class ChunkBinXml {
  readonly buf: Buffer;
  private names = new Map<number, string>();
  private templates = new Map<number, Template>();
  private failed = new Map<number, string>();
  private p = 0;
  private end = 0;
  private depth = 0;
  /** Reusable value-descriptor array for top-level record instances. */
  private vdTop = new Int32Array(3 * 256);
  private vdNest = new Int32Array(3 * 256);
  private reuseNext = false;
  /** Template compile failures met (offset → reason), for reporting once. */
  readonly templateErrors: { offset: number; reason: string }[] = [];

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  /** Number of distinct templates compiled in this chunk. */
  get templateCount(): number {
    return this.templates.size;
  }

  private u16(o: number): number {
    if (o + 2 > this.end) throw new BinXmlError(o, 'binary XML runs past its end');
    return this.buf[o] | (this.buf[o + 1] << 8);
  }
  private u32(o: number): number {
    if (o + 4 > this.end) throw new BinXmlError(o, 'binary XML runs past its end');
    return this.buf.readUInt32LE(o);
  }

  /** Name string at chunk offset (cached per chunk). */
  nameAt(off: number): string {
    let s = this.names.get(off);
    if (s !== undefined) return s;
    const b = this.buf;
    if (off + 8 > b.length) throw new BinXmlError(off, `name offset ${off} outside chunk`);
    const n = b.readUInt16LE(off + 6);
    if (off + 8 + n * 2 > b.length) throw new BinXmlError(off, `name at ${off} runs past chunk`);
    s = utf16(b, off + 8, off + 8 + n * 2);
    this.names.set(off, s);
    return s;
  }

  /** Read a name reference at this.p (inline definition skipped). */
  private readName(): string {
    const off = this.u32(this.p);
    this.p += 4;
    const name = this.nameAt(off);
    if (off === this.p) {
      const n = this.buf.readUInt16LE(off + 6);
      this.p += 8 + n * 2 + 2;
    }
    return name;
  }

  private validNameRef(off: number, fieldEnd: number): boolean {
    if (off === fieldEnd) return true;
    if (off >= fieldEnd || off < 512) return false;
    if (this.names.has(off)) return true;
    const b = this.buf;
    if (off + 10 > b.length) return false;
    const n = b.readUInt16LE(off + 6);
    const e = off + 8 + n * 2;
    return e + 2 <= b.length && b[e] === 0 && b[e + 1] === 0;
  }

  private hasDependencyId(tok: number): boolean {
    const b = this.buf;
    if (tok + 11 <= this.end && this.validNameRef(b.readUInt32LE(tok + 7), tok + 11)) return true;
    if (tok + 9 <= this.end && this.validNameRef(b.readUInt32LE(tok + 5), tok + 9)) return false;
    return true;
  }

  /** The compiled template whose definition is at chunk offset off. */
  template(off: number): Template {
    const t = this.templates.get(off);
    if (t) return t;
    const f = this.failed.get(off);
    if (f !== undefined) throw new BinXmlError(off, f);
    const b = this.buf;
    const saveP = this.p;
    const saveEnd = this.end;
    try {
      if (off < 0 || off + 24 > b.length) throw new BinXmlError(off, `template offset ${off} outside chunk`);
      const size = b.readUInt32LE(off + 20);
      const start = off + 24;
      if (start + size > b.length) throw new BinXmlError(off, `template at ${off} (size ${size}) runs past chunk`);
      this.p = start;
      this.end = start + size;
      const nodes = this.compileSeq(true);
      const tpl: Template = { offset: off, guid: b.toString('hex', off + 4, off + 20), nodes };
      this.templates.set(off, tpl);
      return tpl;
    } catch (e) {
      const reason = e instanceof BinXmlError ? `template at ${off}: ${e.message}` : `template at ${off}: ${(e as Error).message}`;
      this.failed.set(off, reason);
      this.templateErrors.push({ offset: off, reason });
      throw new BinXmlError(off, reason);
    } finally {
      this.p = saveP;
      this.end = saveEnd;
    }
  }

  /** Compile a token sequence (template body or top level) into nodes until EOS/end. */
  private compileSeq(inTemplate: boolean): XNode[] {
    const b = this.buf;
    const out: XNode[] = [];
    while (this.p < this.end) {
      const tok = b[this.p];
      switch (tok) {
        case 0x00:
          this.p++;
          return out;
        case 0x0f:
          this.p += 4;
          break;
        case 0x01:
        case 0x41:
          out.push(this.compileElement());
          break;
        case 0x0c:
          if (inTemplate) throw new BinXmlError(this.p, 'template instance inside a template');
          throw new BinXmlError(this.p, 'unexpected template instance');
        default:
          this.compileContent(tok, out);
      }
    }
    return out;
  }

  /** One content token (value, substitution, cdata, refs, PI) appended to out; throws on others. */
  private compileContent(tok: number, out: XNode[]): void {
    const b = this.buf;
    const at = this.p;
    switch (tok & 0xbf) {
      case 0x05: {
        const t = b[at + 1];
        this.p += 2;
        if (t === 0x01) {
          const n = this.u16(this.p);
          this.p += 2;
          if (this.p + n * 2 > this.end) throw new BinXmlError(at, 'value text runs past end');
          out.push({ k: K_TEXT, text: utf16(b, this.p, this.p + n * 2) });
          this.p += n * 2;
        } else if (t === 0x02) {
          const n = this.u16(this.p);
          this.p += 2;
          out.push({ k: K_TEXT, text: b.toString('latin1', this.p, this.p + n) });
          this.p += n;
        } else {
          throw new BinXmlError(at, `value token with unsupported type 0x${t.toString(16)}`);
        }
        return;
      }
      case 0x0d:
      case 0x0e: {
        const index = this.u16(at + 1);
        const type = b[at + 3];
        this.p += 4;
        out.push({ k: K_SUB, index, type, optional: (tok & 0xbf) === 0x0e });
        return;
      }
      case 0x07: {
        const n = this.u16(at + 1);
        this.p += 3;
        out.push({ k: K_CDATA, text: utf16(b, this.p, this.p + n * 2) });
        this.p += n * 2;
        return;
      }
      case 0x08: {
        const c = this.u16(at + 1);
        this.p += 3;
        out.push({ k: K_TEXT, text: String.fromCharCode(c) });
        return;
      }
      case 0x09: {
        this.p += 1;
        const name = this.readName();
        out.push({ k: K_TEXT, text: ENTITIES[name] ?? `&${name};` });
        return;
      }
      case 0x0a: {
        this.p += 1;
        const target = this.readName();
        let data = '';
        if ((b[this.p] & 0xbf) === 0x0b) {
          const n = this.u16(this.p + 1);
          this.p += 3;
          data = utf16(b, this.p, this.p + n * 2);
          this.p += n * 2;
        }
        out.push({ k: K_PI, target, data });
        return;
      }
      case 0x0b: {
        const n = this.u16(at + 1);
        this.p += 3 + n * 2;
        return;
      }
      default:
        throw new BinXmlError(at, `unexpected binary XML token 0x${tok.toString(16)}`);
    }
  }

  private compileElement(): ElNode {
    const b = this.buf;
    const start = this.p;
    const tok = b[start];
    if (++this.depth > 64) throw new BinXmlError(start, 'element nesting too deep');
    try {
      // token, [dependency identifier u16], data size u32, name offset u32. The dependency
      // identifier is absent in binary XML written by some producers: pick the layout
      // whose name reference is valid (inline right after it, or an earlier name).
      if (this.hasDependencyId(start)) this.p += 1 + 2 + 4;
      else this.p += 1 + 4;
      const name = this.readName();
      const el: ElNode = { k: K_EL, name, attrs: [], kids: [], hasEl: false };
      if (tok & 0x40) {
        this.p += 4; // attribute list size
        while (this.p < this.end && (b[this.p] & 0xbf) === 0x06) {
          this.p++;
          const an = this.readName();
          const parts: XNode[] = [];
          while (this.p < this.end) {
            const t = b[this.p] & 0xbf;
            if (t === 0x05 || t === 0x0d || t === 0x0e || t === 0x08 || t === 0x09) this.compileContent(b[this.p], parts);
            else break;
          }
          el.attrs.push({ name: an, parts });
        }
      }
      if (this.p >= this.end) throw new BinXmlError(this.p, `element <${name}> not closed`);
      const close = b[this.p];
      if (close === 0x03) {
        this.p++;
        return el;
      }
      if (close !== 0x02) throw new BinXmlError(this.p, `element <${name}>: expected close-start token, got 0x${close.toString(16)}`);
      this.p++;
      for (;;) {
        if (this.p >= this.end) throw new BinXmlError(this.p, `element <${name}> has no end tag`);
        const t = b[this.p];
        if (t === 0x04) {
          this.p++;
          return el;
        }
        if (t === 0x01 || t === 0x41) {
          el.kids.push(this.compileElement());
          el.hasEl = true;
        } else if (t === 0x00) {
          throw new BinXmlError(this.p, `end of stream inside <${name}>`);
        } else {
          this.compileContent(t, el.kids);
        }
      }
    } finally {
      this.depth--;
    }
  }

  /**
   * Parse the binary XML of a record (or of a BinXml substitution value) at [start, end):
   * fragment header, then a template instance (or, rarely, plain elements).
   */
  instanceAt(start: number, end: number, top: boolean): Instance {
    const b = this.buf;
    this.p = start;
    this.end = Math.min(end, b.length);
    while (this.p < this.end) {
      const tok = b[this.p];
      if (tok === 0x0f) {
        this.p += 4;
        continue;
      }
      if (tok === 0x0c) return this.readInstance(top);
      if (tok === 0x01 || tok === 0x41) {
        // plain binary XML without template: compile it as a template without substitutions
        const key = -start - 1;
        let tpl = this.templates.get(key);
        if (!tpl) {
          tpl = { offset: start, guid: '', nodes: this.compileSeq(false) };
          this.templates.set(key, tpl);
        }
        return { tpl, vd: new Int32Array(0), n: 0 };
      }
      if (tok === 0x00) break;
      throw new BinXmlError(this.p, `unexpected token 0x${tok.toString(16)} at start of binary XML`);
    }
    throw new BinXmlError(start, 'empty binary XML');
  }

  private readInstance(top: boolean): Instance {
    const b = this.buf;
    const at = this.p;
    if (at + 10 > this.end) throw new BinXmlError(at, 'template instance truncated');
    const defOff = b.readUInt32LE(at + 6);
    let p = at + 10;
    const end = this.end;
    if (defOff === p) {
      if (p + 24 > end) throw new BinXmlError(p, 'inline template definition truncated');
      p += 24 + b.readUInt32LE(p + 20);
    }
    const tpl = this.template(defOff);
    if (p + 4 > end) throw new BinXmlError(p, 'substitution array truncated');
    const n = b.readUInt32LE(p);
    p += 4;
    if (n > (end - p) >> 2) throw new BinXmlError(p - 4, `substitution count ${n} larger than the record`);
    let vd: Int32Array;
    if (top) {
      if (this.vdTop.length < n * 3) this.vdTop = new Int32Array(n * 3 + 64);
      vd = this.vdTop;
    } else if (this.reuseNext) {
      this.reuseNext = false;
      if (this.vdNest.length < n * 3) this.vdNest = new Int32Array(n * 3 + 64);
      vd = this.vdNest;
    } else {
      vd = new Int32Array(n * 3);
    }
    let v = p + n * 4;
    for (let i = 0; i < n; i++) {
      const d = p + i * 4;
      const size = b[d] | (b[d + 1] << 8);
      const type = b[d + 2];
      if (v + size > end) throw new BinXmlError(d, `substitution ${i} (size ${size}) runs past the record`);
      vd[i * 3] = v;
      vd[i * 3 + 1] = size;
      vd[i * 3 + 2] = type;
      v += size;
    }
    this.p = v;
    return { tpl, vd, n };
  }

  /**
   * Nested binary XML value as an instance whose value descriptors live in a buffer
   * reused by the next call (extraction plans: used before the next record).
   */
  nestedReuse(off: number, size: number): Instance {
    this.reuseNext = true;
    try {
      return this.instanceAt(off, off + size, false);
    } finally {
      this.reuseNext = false;
    }
  }

  /** Nested binary XML value (type 0x21) as an instance. */
  nested(off: number, size: number): Instance {
    return this.instanceAt(off, off + size, false);
  }

  /** String of substitution i of inst ('' when absent); nested BinXml renders as XML. */
  subString(inst: Instance, i: number): string {
    if (i >= inst.n) return '';
    const vd = inst.vd;
    const o = vd[i * 3];
    const size = vd[i * 3 + 1];
    const t = vd[i * 3 + 2];
    if (t === 0x21) return this.renderNestedXml(o, size);
    return valueString(this.buf, t, o, size);
  }

  renderNestedXml(o: number, size: number): string {
    try {
      const inst = this.nested(o, size);
      return renderXml(this, inst.tpl.nodes, inst);
    } catch {
      return '';
    }
  }
}

// ---------------------------------------------------------------- XML rendering

const ESC_RE = /[&<>"]/;
export function xmlEscape(s: string): string {
  if (!ESC_RE.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Render nodes in the shape python-evtx's evtx_dump.py prints (one element per line). */
export function renderXml(cx: ChunkBinXml, nodes: XNode[], inst: Instance): string {
  let out = '';
  for (const nd of nodes) out += renderNode(cx, nd, inst);
  return out;
}

function renderParts(cx: ChunkBinXml, parts: XNode[], inst: Instance): string {
  let s = '';
  for (const p of parts) {
    if (p.k === K_SUB) {
      if (p.index < inst.n && inst.vd[p.index * 3 + 2] === 0x21) s += cx.subString(inst, p.index);
      else s += xmlEscape(cx.subString(inst, p.index));
    } else if (p.k === K_TEXT) s += xmlEscape(p.text);
    else if (p.k === K_CDATA) s += '<![CDATA[' + p.text + ']]>';
    else if (p.k === K_PI) s += '<?' + p.target + (p.data ? ' ' + p.data : '') + '?>';
    else s += renderNode(cx, p, inst);
  }
  return s;
}

function renderNode(cx: ChunkBinXml, nd: XNode, inst: Instance): string {
  if (nd.k !== K_EL) return renderParts(cx, [nd], inst);
  let s = '<' + nd.name;
  for (const a of nd.attrs) s += ' ' + a.name + '="' + renderParts(cx, a.parts, inst) + '"';
  s += '>';
  s += renderParts(cx, nd.kids, inst);
  return s + '</' + nd.name + '>\n';
}
