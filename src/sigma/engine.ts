/**
 * The Sigma engine: compiled rules indexed by channel and event id (one shared
 * prefilter for all rules), evaluated per event as events stream; correlation
 * rules evaluated over the base rules' matches at the end (sorted by time, so
 * the input order of files does not matter). Memory: one small record per base
 * match of a correlated rule (capped), nothing per non-matching event.
 */
import type { EvidenceRef, EvtxEvent, SpoorEvent } from '../core/event.js';
import { EventView } from './compile.js';
import { LiteralIndex, type PrefilterPlan } from './prefilter.js';
import type { CompiledVariant, CorrelationRule, DetectionRule, RuleMeta, SigmaRule } from './rules.js';

export interface SigmaHit {
  rule: RuleMeta;
  /** ms since epoch UTC (correlations: time of the last event). */
  time: number;
  computer: string;
  channel: string;
  eventId: number;
  ref: EvidenceRef;
  /** The rule's fields present in the event, with their values (truncated to 512 chars). */
  fields: Record<string, string>;
  correlation?: {
    type: string;
    count: number;
    first: number;
    group: Record<string, string>;
    /** Sample of the events' refs (at most 20). */
    refs: EvidenceRef[];
    /** Distinct values (value_count) or rules seen (temporal), sample. */
    values?: string[];
  };
}

interface Entry {
  rule: DetectionRule;
  v: CompiledVariant;
  providers: Set<string> | null;
  conds: [string, Set<string>][] | null;
  idx: number;
  /** Unique per (rule, variant). */
  uid: number;
}

interface Bucket {
  byEid: Map<number, Entry[]>;
  any: Entry[];
}

export interface BaseRecord {
  t: number;
  rule: number;
  ref: EvidenceRef;
  computer: string;
  group: string[];
  value?: string;
}

export interface EngineOptions {
  /** Minimum level to report (`informational`..`critical`). */
  minLevel?: string;
  /** Cap on base-match records kept for correlations (default 1,000,000). */
  correlationCap?: number;
  /**
   * Necessary-literal prefilter (default on): a rule is evaluated only when one of its
   * necessary literals occurs in the event. Off gives the same matches, slower (for tests).
   */
  prefilter?: boolean;
}

interface Candidates {
  list: Entry[];
  /** null: prefilter off or no guarded entry in this list. */
  pf: PrefilterPlan | null;
}

const LEVEL_RANK: Record<string, number> = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 };

function trunc(s: string): string {
  return s.length > 512 ? s.slice(0, 509) + '...' : s;
}

export class SigmaEngine {
  readonly detections: DetectionRule[] = [];
  readonly correlations: CorrelationRule[] = [];
  private buckets = new Map<string, Bucket>();
  private star: Bucket = { byEid: new Map(), any: [] };
  private cache = new Map<string, Candidates>();
  private literals = new LiteralIndex();
  private usePrefilter: boolean;
  private entryCount = 0;
  /** Rule evaluations skipped by the literal prefilter. */
  skipped = 0;
  private chLower = new Map<string, string>();
  private view = new EventView();
  /** rule index → correlations using it (with the position in their rule list). */
  private corrOf = new Map<number, { c: number; pos: number }[]>();
  private suppressed = new Set<number>();
  private base: BaseRecord[][] = [];
  private baseCount = 0;
  private cap: number;
  private minRank: number;
  /** Counters. */
  events = 0;
  candidates = 0;
  hits = 0;
  correlationDropped = 0;
  /** Matches skipped because the same record (evidence + record id) already matched the rule (carved duplicates). */
  duplicates = 0;
  private seen = new Set<string>();

  constructor(rules: readonly SigmaRule[], opts: EngineOptions = {}) {
    this.cap = opts.correlationCap ?? 1_000_000;
    this.usePrefilter = opts.prefilter ?? true;
    this.minRank = LEVEL_RANK[opts.minLevel ?? 'informational'] ?? 0;
    for (const r of rules) (r.kind === 'detection' ? this.detections : this.correlations).push(r as never);
    this.detections.forEach((rule, idx) => {
      for (const v of rule.variants) {
        const e: Entry = {
          rule,
          v,
          idx,
          uid: this.entryCount++,
          providers: v.variant.providers.length ? new Set(v.variant.providers.map((p) => p.toLowerCase())) : null,
          conds: v.variant.conditions ? Object.entries(v.variant.conditions).map(([k, vals]) => [k, new Set(vals.map((x) => x.toLowerCase()))]) : null,
        };
        if (this.usePrefilter && v.det.need) this.literals.add(e.uid, v.det.need);
        let ids = v.variant.eventIds;
        const need = v.det.eventIds;
        if (need) ids = ids.length ? ids.filter((x) => need.includes(x)) : need;
        if (v.variant.eventIds.length && need && ids.length === 0) continue; // can never match
        for (const ch of v.variant.channels) {
          const key = ch.toLowerCase();
          let b = key === '*' ? this.star : this.buckets.get(key);
          if (!b) this.buckets.set(key, (b = { byEid: new Map(), any: [] }));
          if (ids.length === 0) b.any.push(e);
          else
            for (const id of ids) {
              let l = b.byEid.get(id);
              if (!l) b.byEid.set(id, (l = []));
              l.push(e);
            }
        }
      }
    });
    // correlations: link referenced rules by id or name
    const byRef = new Map<string, number>();
    this.detections.forEach((r, i) => {
      if (r.id) byRef.set(r.id, i);
      if (r.name) byRef.set(r.name, i);
    });
    this.correlations.forEach((c, ci) => {
      this.base.push([]);
      c.rules.forEach((ref, pos) => {
        const i = byRef.get(ref);
        if (i === undefined) return;
        let l = this.corrOf.get(i);
        if (!l) this.corrOf.set(i, (l = []));
        l.push({ c: ci, pos });
        if (!c.generate) this.suppressed.add(i);
      });
    });
  }

  /**
   * Base-match records kept for the correlations (per correlation rule), handed over and
   * cleared: a worker thread sends them to the thread that calls finish() (same rules,
   * loaded in the same order, so rule indexes agree).
   */
  exportBase(): BaseRecord[][] {
    const out = this.base;
    this.base = this.correlations.map(() => []);
    this.baseCount = 0;
    return out;
  }

  /** Add records exported by another engine built from the same rules (see exportBase). */
  importBase(recs: BaseRecord[][]): void {
    recs.forEach((list, c) => {
      if (!this.base[c]) return;
      for (const r of list) {
        if (this.baseCount >= this.cap) {
          this.correlationDropped++;
          continue;
        }
        this.base[c].push(r);
        this.baseCount++;
      }
    });
  }

  /** Correlation rules whose referenced rules are missing (reported by the caller). */
  unresolvedCorrelations(): { rule: CorrelationRule; missing: string[] }[] {
    const known = new Set<string>();
    for (const r of this.detections) {
      if (r.id) known.add(r.id);
      if (r.name) known.add(r.name);
    }
    return this.correlations.map((rule) => ({ rule, missing: rule.rules.filter((x) => !known.has(x)) })).filter((x) => x.missing.length);
  }

  private candidatesFor(channel: string, eid: number): Candidates {
    let ch = this.chLower.get(channel);
    if (ch === undefined) {
      ch = channel.toLowerCase();
      if (this.chLower.size < 10000) this.chLower.set(channel, ch);
    }
    const key = ch + '\u0000' + eid;
    let l = this.cache.get(key);
    if (l) return l;
    const b = this.buckets.get(ch);
    const parts: Entry[] = [];
    if (b) parts.push(...(b.byEid.get(eid) ?? []), ...b.any);
    parts.push(...(this.star.byEid.get(eid) ?? []), ...this.star.any);
    // keep rule order stable; a rule with two variants on one channel is tried in order
    const list = parts.sort((a, b2) => a.idx - b2.idx);
    let pf: PrefilterPlan | null = null;
    if (this.usePrefilter && list.length >= 1) pf = this.literals.plan(list.map((x) => ({ uid: x.uid, need: x.v.det.need })));
    l = { list, pf };
    if (this.cache.size < 100000) this.cache.set(key, l);
    return l;
  }

  /** Evaluate one event; hits are passed to `emit` (suppressed base rules of correlations are not). */
  match(ev: SpoorEvent, emit: (h: SigmaHit) => void): void {
    if (ev['event.dataset'] !== 'evtx') return;
    const e = ev as EvtxEvent;
    this.events++;
    const { list: cands, pf } = this.candidatesFor(e['winlog.channel'] ?? '', e['winlog.event_id']);
    if (!cands.length) return;
    const view = this.view;
    view.reset(e);
    let provLower: string | undefined;
    let lastRule = -1;
    let guarded: Uint8Array | null = null;
    let stamp: Float64Array | null = null;
    let epoch = 0;
    if (pf) {
      epoch = this.literals.run(pf, view);
      guarded = pf.guarded;
      stamp = this.literals.uidStamp;
    }
    for (let i = 0; i < cands.length; i++) {
      const c = cands[i];
      if (c.idx === lastRule) continue; // already matched through another variant
      if (guarded !== null && guarded[i] === 1 && stamp![c.uid] !== epoch) {
        this.skipped++;
        continue; // none of the rule's necessary literals occurs
      }
      if (c.providers) {
        if (provLower === undefined) provLower = (e['event.provider'] ?? '').toLowerCase();
        if (!c.providers.has(provLower)) continue;
      }
      if (c.conds) {
        let ok = true;
        for (const [f, vals] of c.conds) {
          const x = view.lower(f);
          if (x === undefined || !vals.has(x)) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
      }
      this.candidates++;
      if (!c.v.det.match(view)) continue;
      lastRule = c.idx;
      // a record carved from slack can duplicate a live one (same evidence and record id): count it once
      const rid = e['winlog.record_id'];
      const dk = e.ref.evidence + '|' + rid + '|' + c.idx;
      if (this.seen.has(dk)) {
        this.duplicates++;
        continue;
      }
      if (this.seen.size < 2_000_000) this.seen.add(dk);
      this.hits++;
      const corr = this.corrOf.get(c.idx);
      if (corr) this.recordBase(c.idx, corr, e, c);
      if (this.suppressed.has(c.idx)) continue;
      if ((LEVEL_RANK[c.rule.level] ?? 2) < this.minRank) continue;
      emit(this.hitOf(c.rule, e, c.v.det.fields));
    }
  }

  private hitOf(rule: RuleMeta, e: EvtxEvent, fields: string[]): SigmaHit {
    const f: Record<string, string> = {};
    for (const name of fields) {
      const x = this.view.get(name);
      if (x !== undefined) f[name] = trunc(x);
    }
    return {
      rule,
      time: e['@timestamp'],
      computer: e['winlog.computer_name'] ?? '',
      channel: e['winlog.channel'] ?? '',
      eventId: e['winlog.event_id'],
      ref: e.ref,
      fields: f,
    };
  }

  private fieldFor(c: CorrelationRule, ruleIdx: number, name: string, entry: Entry): string {
    const r = this.detections[ruleIdx];
    const alias = c.aliases[name];
    let field = name;
    if (alias) field = alias[r.id] ?? (r.name ? alias[r.name] : undefined) ?? name;
    field = entry.v.variant.fieldMap?.[field] ?? field;
    return this.view.get(field) ?? '';
  }

  private recordBase(ruleIdx: number, corr: { c: number; pos: number }[], e: EvtxEvent, entry: Entry): void {
    for (const { c } of corr) {
      if (this.baseCount >= this.cap) {
        this.correlationDropped++;
        continue;
      }
      const cr = this.correlations[c];
      const rec: BaseRecord = {
        t: e['@timestamp'],
        rule: ruleIdx,
        ref: e.ref,
        computer: e['winlog.computer_name'] ?? '',
        group: cr.groupBy.map((g) => this.fieldFor(cr, ruleIdx, g, entry)),
      };
      if (cr.type === 'value_count' && cr.condition.field) rec.value = this.fieldFor(cr, ruleIdx, cr.condition.field, entry);
      this.base[c].push(rec);
      this.baseCount++;
    }
  }

  /** Evaluate correlation rules over everything seen; returns their hits. */
  finish(emit: (h: SigmaHit) => void): void {
    this.correlations.forEach((c, ci) => {
      if ((LEVEL_RANK[c.level] ?? 2) < this.minRank) return;
      const recs = this.base[ci].sort((a, b) => a.t - b.t);
      const groups = new Map<string, BaseRecord[]>();
      for (const r of recs) {
        const k = JSON.stringify(r.group);
        let g = groups.get(k);
        if (!g) groups.set(k, (g = []));
        g.push(r);
      }
      const refIdx = c.rules.map((ref) => this.detections.findIndex((d) => d.id === ref || d.name === ref));
      for (const g of groups.values()) evaluateGroup(c, g, refIdx, (win, values) => emit(this.corrHit(c, win, values)));
      this.base[ci] = [];
    });
  }

  private corrHit(c: CorrelationRule, win: BaseRecord[], values?: string[]): SigmaHit {
    const last = win[win.length - 1];
    const group: Record<string, string> = {};
    c.groupBy.forEach((g, i) => (group[g] = last.group[i]));
    return {
      rule: c,
      time: last.t,
      computer: last.computer,
      channel: '',
      eventId: 0,
      ref: last.ref,
      fields: { ...group },
      correlation: { type: c.type, count: win.length, first: win[0].t, group, refs: win.slice(0, 20).map((r) => r.ref), values: values?.slice(0, 50) },
    };
  }
}

function countOk(cond: CorrelationRule['condition'], n: number): boolean {
  if (cond.gt !== undefined && !(n > cond.gt)) return false;
  if (cond.gte !== undefined && !(n >= cond.gte)) return false;
  if (cond.lt !== undefined && !(n < cond.lt)) return false;
  if (cond.lte !== undefined && !(n <= cond.lte)) return false;
  if (cond.eq !== undefined && !(n === cond.eq)) return false;
  return true;
}

/**
 * One group's records in time order. event_count/value_count with a lower bound:
 * sliding window, fire when the bound is reached, then start afresh after the
 * window's last event. With only an upper bound (lt/lte): tumbling windows from
 * the first event, judged when they close. temporal: all referenced rules within
 * the timespan. temporal_ordered: in the listed order.
 */
export function evaluateGroup(c: CorrelationRule, g: BaseRecord[], refIdx: number[], fire: (win: BaseRecord[], values?: string[]) => void): void {
  const span = c.timespan;
  const lowerBound = c.condition.gt !== undefined || c.condition.gte !== undefined || c.condition.eq !== undefined;
  if (c.type === 'event_count' || c.type === 'value_count') {
    const distinct = (w: BaseRecord[]) => [...new Set(w.map((r) => r.value ?? ''))];
    const measure = (w: BaseRecord[]) => (c.type === 'event_count' ? w.length : distinct(w).length);
    if (lowerBound) {
      let start = 0;
      for (let i = 0; i < g.length; i++) {
        while (g[i].t - g[start].t > span) start++;
        const w = g.slice(start, i + 1);
        const n = measure(w);
        if (countOk(c.condition, n) && (c.condition.eq === undefined || i + 1 >= g.length || g[i + 1].t - g[start].t > span || measure([...w, g[i + 1]]) !== n)) {
          fire(w, c.type === 'value_count' ? distinct(w) : undefined);
          start = i + 1;
          i = start - 1;
          if (start >= g.length) break;
        }
      }
    } else {
      let i = 0;
      while (i < g.length) {
        const t0 = g[i].t;
        let j = i;
        while (j < g.length && g[j].t - t0 <= span) j++;
        const w = g.slice(i, j);
        if (countOk(c.condition, measure(w))) fire(w, c.type === 'value_count' ? distinct(w) : undefined);
        i = j;
      }
    }
    return;
  }
  const n = refIdx.length;
  if (c.type === 'temporal') {
    // last time each referenced rule was seen; fire when all are within the span
    const lastSeen: (BaseRecord | undefined)[] = new Array(n).fill(undefined);
    let from = 0;
    for (let i = 0; i < g.length; i++) {
      const r = g[i];
      refIdx.forEach((ri, k) => {
        if (ri === r.rule) lastSeen[k] = r;
      });
      if (lastSeen.every((x) => x && r.t - x.t <= span)) {
        const tmin = Math.min(...lastSeen.map((x) => x!.t));
        const w = g.slice(from, i + 1).filter((x) => x.t >= tmin);
        fire(w, c.rules.slice());
        lastSeen.fill(undefined);
        from = i + 1;
      }
    }
    return;
  }
  // temporal_ordered: progress[k] = record that started the latest chain completing rules 0..k
  const progress: (BaseRecord | undefined)[] = new Array(n).fill(undefined);
  let from = 0;
  for (let i = 0; i < g.length; i++) {
    const r = g[i];
    for (let k = n - 1; k >= 0; k--) {
      if (refIdx[k] !== r.rule) continue;
      if (k === 0) progress[0] = r;
      else if (progress[k - 1] && r.t - progress[k - 1]!.t <= span) progress[k] = progress[k - 1];
    }
    if (progress[n - 1]) {
      const t0 = progress[n - 1]!.t;
      fire(g.slice(from, i + 1).filter((x) => x.t >= t0), c.rules.slice());
      progress.fill(undefined);
      from = i + 1;
    }
  }
}
