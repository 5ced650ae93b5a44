/**
 * The literal prefilter: the necessary literals of many rules (CompiledDetection.need),
 * merged into one scanner per field. Per event each guarded field's lower-cased value is
 * scanned once; a rule is evaluated only when one of its necessary literals occurs (rules
 * without such literals are always evaluated). Skipping a rule whose necessary literals are
 * all absent cannot change a result, so matches are identical with the prefilter on or off.
 *
 * Scanner: a q-gram index (q = 4, 7-bit ASCII codes packed into 28 bits). Each literal of
 * length >= 4 is filed under its rarest 4-gram (fewest literals of the field share it);
 * the value is scanned with a rolling code and a 2^18-bit hashed bitmap, and only bitmap
 * hits look up the gram's literals and verify them with startsWith. Literals shorter than
 * 4 are tested with includes.
 */
import { KEYWORD_FIELD, type EventView } from './compile.js';

const Q = 4;
const MASK = (1 << (7 * Q)) - 1;

interface GramLit {
  id: number;
  lit: string;
  /** Offset of the gram inside the literal. */
  off: number;
}

/**
 * Open-addressing table from 28-bit gram codes to small integers (V8's Map is slow
 * with tens of thousands of such integer keys).
 */
class IntTable {
  private keys: Int32Array;
  private vals: Int32Array;
  private mask: number;
  private shift: number;
  size = 0;
  constructor(capacity: number) {
    let n = 16;
    let bits = 4;
    while (n < capacity * 2) {
      n <<= 1;
      bits++;
    }
    this.keys = new Int32Array(n);
    this.vals = new Int32Array(n);
    this.mask = n - 1;
    this.shift = 32 - bits;
  }
  private slot(code: number): number {
    const k = code + 1;
    let i = Math.imul(code, 0x9e3779b1) >>> this.shift; // high bits of the product
    for (;;) {
      const x = this.keys[i];
      if (x === k || x === 0) return i;
      i = (i + 1) & this.mask;
    }
  }
  get(code: number): number {
    const i = this.slot(code);
    return this.keys[i] === 0 ? -1 : this.vals[i];
  }
  set(code: number, v: number): void {
    const i = this.slot(code);
    if (this.keys[i] === 0) {
      this.keys[i] = code + 1;
      this.size++;
    }
    this.vals[i] = v;
  }
}

function hash(code: number, shift: number): number {
  return Math.imul(code, 0x9e3779b1) >>> shift;
}

export class FieldScanner {
  private bitmap: Uint32Array;
  /** 32 - bits of the hashed bitmap (2^10..2^18 bits, ~16 per literal). */
  private shift: number;
  /** gram code → index into lists. */
  private grams: IntTable;
  private lists: GramLit[][] = [];
  private short: { id: number; lit: string }[] = [];
  /** Literals with a non-ASCII character, by the first such code unit (at `off`). */
  private wide = new Map<number, GramLit[]>();

  constructor(
    readonly field: string,
    lits: { id: number; lit: string }[],
  ) {
    const codeAt = (s: string, i: number) => {
      let c = 0;
      for (let k = 0; k < Q; k++) c = (c << 7) | s.charCodeAt(i + k);
      return c;
    };
    const bits = Math.max(10, Math.min(18, Math.ceil(Math.log2(Math.max(1, lits.length) * 16))));
    this.shift = 32 - bits;
    this.bitmap = new Uint32Array(1 << (bits - 5));
    const ascii = /^[\x00-\x7f]*$/;
    // candidate gram offsets: all of them for short literals, 24 spread ones for long ones
    const offsets = (len: number): number[] => {
      const n = len - Q + 1;
      if (n <= 24) return Array.from({ length: n }, (_, i) => i);
      return Array.from({ length: 24 }, (_, i) => Math.floor((i * (n - 1)) / 23));
    };
    const freq = new IntTable(lits.length * 24 + 16);
    for (const { lit } of lits) {
      if (lit.length < Q || !ascii.test(lit)) continue;
      for (const i of offsets(lit.length)) {
        const c = codeAt(lit, i);
        const n = freq.get(c);
        freq.set(c, n < 0 ? 1 : n + 1);
      }
    }
    this.grams = new IntTable(lits.length + 16);
    for (const { id, lit } of lits) {
      if (!ascii.test(lit)) {
        let off = 0;
        while (lit.charCodeAt(off) <= 127) off++;
        const c = lit.charCodeAt(off);
        let l = this.wide.get(c);
        if (!l) this.wide.set(c, (l = []));
        l.push({ id, lit, off });
        continue;
      }
      if (lit.length < Q) {
        this.short.push({ id, lit });
        continue;
      }
      let best = 0;
      let bestF = Infinity;
      for (const i of offsets(lit.length)) {
        const f = freq.get(codeAt(lit, i));
        if (f < bestF) {
          bestF = f;
          best = i;
        }
      }
      const code = codeAt(lit, best);
      let li = this.grams.get(code);
      if (li < 0) {
        li = this.lists.length;
        this.lists.push([]);
        this.grams.set(code, li);
      }
      this.lists[li].push({ id, lit, off: best });
      const h = hash(code, this.shift);
      this.bitmap[h >>> 5] |= 1 << (h & 31);
    }
  }

  /** Calls found(id) for the literals present in x (possibly more than once per literal). */
  scan(x: string, found: (id: number) => void): void {
    for (const s of this.short) if (x.includes(s.lit)) found(s.id);
    if (!this.lists.length && !this.wide.size) return;
    const wide = this.wide.size ? this.wide : null;
    const bm = this.bitmap;
    const shift = this.shift;
    let code = 0;
    let run = 0;
    const n = x.length;
    for (let i = 0; i < n; i++) {
      const c = x.charCodeAt(i);
      if (c > 127) {
        run = 0;
        if (wide !== null) {
          const l = wide.get(c);
          if (l !== undefined)
            for (const g of l) {
              const p = i - g.off;
              if (p >= 0 && x.startsWith(g.lit, p)) found(g.id);
            }
        }
        continue;
      }
      code = ((code << 7) | c) & MASK;
      if (++run < Q) continue;
      const h = hash(code, shift);
      if ((bm[h >>> 5] & (1 << (h & 31))) === 0) continue;
      const li = this.grams.get(code);
      if (li < 0) continue;
      const l = this.lists[li];
      const start = i - Q + 1;
      for (const g of l) {
        const p = start - g.off;
        if (p >= 0 && x.startsWith(g.lit, p)) found(g.id);
      }
    }
  }
}

/**
 * All necessary literals of an engine's rule entries, one scanner per field (built once,
 * shared by every channel/event-id candidate list).
 */
export class LiteralIndex {
  private ids = new Map<string, number>();
  private byField = new Map<string, { id: number; lit: string }[]>();
  private scanners = new Map<string, FieldScanner>();
  /** literal id → entry uids it unlocks. */
  private unlocks: number[][] = [];
  private litStamp = new Float64Array(0);
  /** entry uid → epoch of the last event where one of its literals occurred. */
  uidStamp = new Float64Array(0);
  private epoch = 0;

  /** Register an entry's need (call before the first plan). */
  add(uid: number, need: readonly { field: string; lit: string }[]): void {
    for (const { field, lit } of need) {
      const k = field + '\u0000' + lit;
      let id = this.ids.get(k);
      if (id === undefined) {
        id = this.unlocks.length;
        this.ids.set(k, id);
        this.unlocks.push([]);
        let l = this.byField.get(field);
        if (!l) this.byField.set(field, (l = []));
        l.push({ id, lit });
      }
      const u = this.unlocks[id];
      if (u[u.length - 1] !== uid) u.push(uid);
    }
    if (uid >= this.uidStamp.length) this.uidStamp = new Float64Array(Math.max(uid + 1, this.uidStamp.length * 2, 64));
  }

  private scanner(field: string): FieldScanner | null {
    let s = this.scanners.get(field);
    if (!s) {
      const lits = this.byField.get(field);
      if (!lits) return null;
      s = new FieldScanner(field, lits);
      this.scanners.set(field, s);
      if (this.litStamp.length < this.unlocks.length) this.litStamp = new Float64Array(this.unlocks.length);
    }
    return s;
  }

  /** The plan for one candidate list (entries with their uid and need). */
  plan(entries: readonly { uid: number; need: readonly { field: string; lit: string }[] | null }[]): PrefilterPlan | null {
    const guarded = new Uint8Array(entries.length);
    const fields = new Set<string>();
    let n = 0;
    entries.forEach((e, pos) => {
      if (e.need === null) return;
      guarded[pos] = 1;
      n++;
      for (const x of e.need) fields.add(x.field);
    });
    if (!n) return null;
    const scanners: FieldScanner[] = [];
    for (const f of fields) {
      const s = this.scanner(f);
      if (s) scanners.push(s);
    }
    return { guarded, scanners };
  }

  /** Scan the event's guarded fields; returns the epoch to compare uidStamp against. */
  run(plan: PrefilterPlan, view: EventView): number {
    const epoch = ++this.epoch;
    const litStamp = this.litStamp;
    const uidStamp = this.uidStamp;
    const unlocks = this.unlocks;
    const found = (id: number) => {
      if (litStamp[id] === epoch) return;
      litStamp[id] = epoch;
      const u = unlocks[id];
      for (let k = 0; k < u.length; k++) uidStamp[u[k]] = epoch;
    };
    for (const s of plan.scanners) {
      if (s.field === KEYWORD_FIELD) {
        for (const x of view.valuesLower()) s.scan(x, found);
        continue;
      }
      const x = view.lower(s.field);
      if (x !== undefined) s.scan(x, found);
    }
    return epoch;
  }
}

export interface PrefilterPlan {
  /** Per list position: 1 when the entry is evaluated only if one of its literals occurs. */
  guarded: Uint8Array;
  scanners: FieldScanner[];
}
