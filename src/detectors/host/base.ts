/**
 * Glue for host detectors: shared state wiring, finding construction.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { Detector, DetectorContext, Finding } from '../../core/finding.js';
import { hostState, releaseHostState, STATE_CODES, type HostState } from './state.js';

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
  const codes = spec.codes;
  const look = spec.observe;
  return {
    id,
    datasets: ['evtx'],
    codes: routeCodes(feeds, spec),
    observe(e: SpoorEvent): void {
      if (e['event.dataset'] !== 'evtx') return;
      // Detectors that only read the shared state, or that do not handle this event code,
      // return before any per-event work.
      if (!feeds && (!look || (codes && !codes.has(e['event.code'] as string)))) return;
      try {
        if (feeds) state.observe(e);
        if (!look || (codes && !codes.has(e['event.code'] as string))) return;
        spec.observe!(e, state);
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

const NONE: ReadonlySet<string> = new Set();

/**
 * The event codes the pipeline routes to a host detector: those its observe() handles,
 * plus the shared state's when it is the feeder; undefined (all) for an observe() without codes.
 */
function routeCodes(feeds: boolean, spec: HostDetectorSpec): ReadonlySet<string> | undefined {
  if (spec.observe && !spec.codes) return undefined;
  const own = spec.observe ? spec.codes! : NONE;
  if (!feeds) return own;
  return own.size ? new Set([...STATE_CODES, ...own]) : STATE_CODES;
}

export function mk(detector: string, f: Omit<Finding, 'id' | 'detector'>): Finding {
  return { id: '', detector, ...f, confidence: Math.max(0, Math.min(1, Math.round(f.confidence * 100) / 100)) };
}

export function num(n: number): string {
  return n.toLocaleString('en-US');
}
