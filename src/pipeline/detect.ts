/**
 * Routes streaming events to the detectors that asked for their dataset (and, when a
 * detector declares `codes`, only events of those codes), and collects their findings. A detector that throws is reported and disabled;
 * it never takes the investigation down with it.
 */
import type { SpoorEvent } from '../core/event.js';
import type { Detector, DetectorContext, DetectorModule, Finding } from '../core/finding.js';

export interface DetectorFailure {
  detector: string;
  reason: string;
}

/**
 * Detectors of one dataset, and the sub-list for each event code (built on first sight of a
 * code, in creation order, so a detector that feeds shared state still sees each event
 * before the detectors that read that state).
 */
interface Route {
  list: Detector[];
  /** Some detector of this dataset declares `codes`: dispatch by code. */
  coded: boolean;
  byCode: Map<string, Detector[]>;
}

/** Distinct event codes remembered per dataset (EVTX event ids are 16-bit; this is a guard). */
const MAX_CODES = 70_000;

export class DetectorHub {
  private readonly byDataset = new Map<string, Route>();
  private readonly all: Detector[] = [];
  readonly failures: DetectorFailure[] = [];
  private readonly disabled = new Set<Detector>();

  /**
   * All detectors get the same context object (detectors of one family may share state
   * keyed by it); each module's defaults are merged under its id in `settings`.
   */
  constructor(modules: readonly DetectorModule[], ctx: DetectorContext) {
    const settings: DetectorContext['settings'] = { ...ctx.settings };
    for (const m of modules) settings[m.id] = { ...m.defaults, ...(ctx.settings[m.id] ?? {}) };
    const shared: DetectorContext = { ...ctx, settings };
    for (const m of modules) {
      let d: Detector;
      try {
        d = m.create(shared);
      } catch (err) {
        this.failures.push({ detector: m.id, reason: `could not start: ${(err as Error).message}` });
        continue;
      }
      this.all.push(d);
      for (const ds of d.datasets) {
        let r = this.byDataset.get(ds);
        if (!r) this.byDataset.set(ds, (r = { list: [], coded: false, byCode: new Map() }));
        r.list.push(d);
        if (d.codes) r.coded = true;
      }
    }
  }

  observe(events: SpoorEvent[]): void {
    for (const e of events) {
      const r = this.byDataset.get(e['event.dataset']);
      if (!r) continue;
      const list = r.coded ? this.forCode(r, e['event.code']) : r.list;
      for (let i = 0; i < list.length; i++) {
        const d = list[i];
        try {
          d.observe(e);
        } catch (err) {
          this.fail(d, err);
        }
      }
    }
  }

  /** The detectors of a route that take events of this code (those without `codes` take all). */
  private forCode(r: Route, c: unknown): Detector[] {
    const k = typeof c === 'string' ? c : c === undefined || c === null ? '' : String(c);
    let list = r.byCode.get(k);
    if (list) return list;
    list = r.list.filter((d) => !d.codes || d.codes.has(k));
    if (r.byCode.size < MAX_CODES) r.byCode.set(k, list);
    return list;
  }

  private fail(d: Detector, err: unknown): void {
    if (this.disabled.has(d)) return;
    this.disabled.add(d);
    this.failures.push({ detector: d.id, reason: (err as Error)?.stack ?? String(err) });
    for (const r of this.byDataset.values()) {
      r.list = r.list.filter((x) => x !== d);
      r.byCode.clear();
    }
  }

  /** Findings of every detector, with ids assigned (`<detector>-<n>`) where a detector left them empty. */
  finish(): Finding[] {
    const out: Finding[] = [];
    for (const d of this.all) {
      if (this.disabled.has(d)) continue;
      let fs: Finding[];
      try {
        fs = d.finish();
      } catch (err) {
        this.fail(d, err);
        continue;
      }
      out.push(...fs);
    }
    out.sort((a, b) => a.first - b.first || a.detector.localeCompare(b.detector));
    const counters = new Map<string, number>();
    const used = new Set<string>();
    for (const f of out) {
      if (f.id && !used.has(f.id)) {
        used.add(f.id);
        continue;
      }
      let n = counters.get(f.detector) ?? 0;
      let id: string;
      do id = `${f.detector}-${++n}`;
      while (used.has(id));
      counters.set(f.detector, n);
      f.id = id;
      used.add(id);
    }
    return out;
  }
}
