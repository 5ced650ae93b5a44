/**
 * Routes streaming events to the detectors that asked for their dataset, and
 * collects their findings. A detector that throws is reported and disabled;
 * it never takes the investigation down with it.
 */
import type { SpoorEvent } from '../core/event.js';
import type { Detector, DetectorContext, DetectorModule, Finding } from '../core/finding.js';

export interface DetectorFailure {
  detector: string;
  reason: string;
}

export class DetectorHub {
  private readonly byDataset = new Map<string, Detector[]>();
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
        let list = this.byDataset.get(ds);
        if (!list) this.byDataset.set(ds, (list = []));
        list.push(d);
      }
    }
  }

  observe(events: SpoorEvent[]): void {
    for (const e of events) {
      const list = this.byDataset.get(e['event.dataset']);
      if (!list) continue;
      for (const d of list) {
        try {
          d.observe(e);
        } catch (err) {
          this.fail(d, err);
        }
      }
    }
  }

  private fail(d: Detector, err: unknown): void {
    if (this.disabled.has(d)) return;
    this.disabled.add(d);
    this.failures.push({ detector: d.id, reason: (err as Error)?.stack ?? String(err) });
    for (const [ds, list] of this.byDataset) this.byDataset.set(ds, list.filter((x) => x !== d));
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
