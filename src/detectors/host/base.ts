/**
 * Glue for host detectors: shared state wiring, finding construction.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { Detector, DetectorContext, Finding } from '../../core/finding.js';
import { hostState, releaseHostState, type HostState } from './state.js';

export interface HostDetectorSpec {
  /** Event codes observe() looks at (a pre-filter: other events only feed the shared state). */
  codes?: ReadonlySet<string>;
  /** Called for every EVTX event after the shared state has seen it. */
  observe?(e: SpoorEvent, state: HostState): void;
  finish(state: HostState): Finding[];
}

/** Build a Detector over EVTX events that shares the HostState of its context. */
export function hostDetector(ctx: DetectorContext, id: string, spec: HostDetectorSpec): Detector {
  const me = Symbol(id);
  const { state, feeds } = hostState(ctx, me);
  let errors = 0;
  return {
    id,
    datasets: ['evtx'],
    observe(e: SpoorEvent): void {
      if (e['event.dataset'] !== 'evtx') return;
      try {
        if (feeds) state.observe(e);
        if (!spec.observe || (spec.codes && !spec.codes.has(e['event.code'] as string))) return;
        spec.observe(e, state);
      } catch {
        // A record we cannot interpret is skipped; detectors never stop the pipeline.
        errors++;
      }
    },
    finish(): Finding[] {
      if (feeds) releaseHostState(ctx, state);
      const out = spec.finish(state);
      for (const f of out) {
        f.id = f.id ?? '';
        if (errors && f.facts) f.facts.skippedRecords = errors;
      }
      return out;
    },
  };
}

export function mk(detector: string, f: Omit<Finding, 'id' | 'detector'>): Finding {
  return { id: '', detector, ...f, confidence: Math.max(0, Math.min(1, Math.round(f.confidence * 100) / 100)) };
}

export function num(n: number): string {
  return n.toLocaleString('en-US');
}
