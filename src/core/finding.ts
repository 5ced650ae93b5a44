/**
 * Findings: what a detector asserts, with the evidence it rests on.
 * The three tiers of the field: event → finding → incident.
 */
import type { EvidenceRef, SpoorEvent } from './event.js';
import type { HomeNet } from './homenet.js';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
/** Like the "result" column of a network-security platform's alert list. */
export type FindingOutcome = 'attempt' | 'failed' | 'succeeded' | 'compromised';

export interface Bilingual {
  en: string;
  zh: string;
}

export interface Finding {
  /** Stable within a case: `<detector>-<n>` assigned by the pipeline if left empty. */
  id: string;
  /** Detector id, e.g. `host.bruteforce`. */
  detector: string;
  /** ATT&CK technique ids, e.g. ["T1110.001"]. */
  attack: string[];
  severity: Severity;
  outcome: FindingOutcome;
  /** 0..1, how sure the detector is. */
  confidence: number;
  /** ms since epoch, UTC. */
  first: number;
  last: number;
  src?: string;
  dst?: string;
  /** Host name or address the finding is about (the victim/actor host). */
  host?: string;
  user?: string;
  summary: Bilingual;
  /** References to the records/frames that prove it (bounded: a sample plus counts in `facts`). */
  evidence: EvidenceRef[];
  /** Detector-specific facts (counts, ports, URIs, scores, file names, CVE ...), JSON-serialisable. */
  facts?: Record<string, unknown>;
}

/** Everything a detector may consult besides the events themselves. */
export interface DetectorContext {
  homeNet: HomeNet;
  /** The case's time zone (IANA name): "night", "office hours" and the like are judged in it. */
  tz?: string;
  /** Thresholds and lists from the config file, by detector id. */
  settings: Record<string, Record<string, unknown>>;
}

/**
 * A detector sees events as they stream (only those of the datasets it lists),
 * and returns its findings at the end. It must keep bounded state.
 */
export interface Detector {
  readonly id: string;
  /** Datasets it wants; the pipeline routes only these to observe(). */
  readonly datasets: readonly string[];
  /**
   * Optional routing by `event.code`: when present, the pipeline passes observe() only
   * events of its datasets whose event.code is in this set (an empty set: none, for
   * detectors that only read shared state in finish()). Absent: every event of its datasets.
   */
  readonly codes?: ReadonlySet<string>;
  observe(event: SpoorEvent): void;
  finish(): Finding[];
}

export interface DetectorModule {
  id: string;
  title: Bilingual;
  /** ATT&CK technique ids this detector can assert. */
  attack: string[];
  /** Default thresholds (documented); merged with config settings[id]. */
  defaults: Record<string, unknown>;
  create(ctx: DetectorContext): Detector;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s];
}
export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

/** Settings for a detector: its defaults overridden by the config's settings[id]. */
export function settingsFor<T extends Record<string, unknown>>(ctx: DetectorContext, id: string, defaults: T): T {
  return { ...defaults, ...(ctx.settings[id] ?? {}) } as T;
}
