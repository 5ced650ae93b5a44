/**
 * The incident contract: DIR/incident.json, schema `spoor.incident/1`.
 * docs/incident.schema.json is its JSON Schema; tests validate every produced
 * file against it. Renderers read only this.
 *
 * All times are ISO 8601 strings in UTC (`2024-06-04T03:36:12.000Z`); the
 * case's time zone (case.tz) says how to show them.
 */
import type { Bilingual, FindingOutcome, Severity } from '../core/finding.js';
import type { EvidenceRef } from '../core/event.js';

export const INCIDENT_SCHEMA = 'spoor.incident/1';

export interface CaseInfo {
  id: string;
  created: string;
  home_nets: string[];
  tz: string;
  spoor_version: string;
  /** The symptom the customer was told about, when given (`--alert`). */
  alert?: AlertSpec | null;
}

export interface AlertSpec {
  /** `outbound-scan`, `outbound`, `inbound`, `host`, ... */
  kind: string;
  src?: string;
  dst?: string;
  text: string;
}

export interface EvidenceEntry {
  id: string;
  path: string;
  sha256: string;
  size: number;
  format: string;
  records: number;
  errors: number;
  first: string | null;
  last: string | null;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface ProblemEntry {
  evidence: string;
  offset?: number;
  record?: number;
  reason: string;
  severity: 'warning' | 'error';
}

export interface FindingEntry {
  id: string;
  detector: string;
  attack: string[];
  severity: Severity;
  outcome: FindingOutcome;
  confidence: number;
  first: string;
  last: string;
  src?: string;
  dst?: string;
  host?: string;
  user?: string;
  summary: Bilingual;
  evidence: EvidenceRef[];
  facts?: Record<string, unknown>;
}

export type HostRole = 'attacker' | 'compromised' | 'targeted' | 'c2' | 'victim' | 'benign';

export interface HostEntry {
  /** Address or name. */
  host: string;
  ip?: string;
  names?: string[];
  role: HostRole;
  internal: boolean;
  since?: string;
  via?: string;
  confidence: number;
  /** Why: the findings that support this judgement. */
  because: string[];
  /** Contradicting facts, if any. */
  doubts?: Bilingual[];
}

export interface CompromisedEntry {
  host: string;
  ip: string;
  since: string;
  /** ATT&CK technique id of the way in. */
  via: string;
  findings: string[];
}

export interface EntryPoint {
  host: string;
  /** The entry host's address, when known (host may be its name). */
  ip?: string;
  technique: string;
  time: string;
  from: string;
  findings?: string[];
}

export interface TimelineEntry {
  time: string;
  technique: string;
  src?: string;
  dst?: string;
  host?: string;
  text: Bilingual;
  findings: string[];
  evidence?: EvidenceRef[];
}

export interface ChainLink {
  from: string;
  to: string;
  /** scanned | brute-forced | logged-on-to | exploited | wrote | beaconed-to | authenticated-to | installed-service-on | downloaded-from | swept */
  kind: string;
  technique: string;
  time: string;
  findings: string[];
  confidence: number;
}

export type RecommendationAction =
  | 'block-ip'
  | 'block-domain'
  | 'isolate-host'
  | 'patch'
  | 'disable-service'
  | 'restrict-service'
  | 'reset-credentials'
  | 'enforce-password-policy'
  | 'remove-file'
  | 'scan-hosts'
  | 'review-logs'
  | 'deploy-monitoring'
  | string;

export interface Recommendation {
  action: RecommendationAction;
  target: string;
  text: Bilingual;
  /** Findings that motivate it. */
  findings: string[];
  priority?: 'immediate' | 'short-term' | 'long-term';
  /** A few records/packets of those findings that prove the reason for it (renderers cite them). */
  evidence?: EvidenceRef[];
}

export interface Iocs {
  ips: string[];
  domains: string[];
  urls: string[];
  files: string[];
  hashes: string[];
  accounts: string[];
  /** What an indicator is (`mining pool`, `Trojan:Win32/CoinMiner …`), keyed by the value. */
  notes?: Record<string, Bilingual>;
}

/** One cited record quoted under an investigation step (the time kept in UTC; renderers show the case zone). */
export interface EvidenceQuote {
  ref: EvidenceRef;
  /** `Security.evtx #2408`, `case.pcap frame 301`. */
  where: string;
  /** ISO 8601 UTC time of the record, when it has one. */
  time?: string;
  /** The quoted fields, plain text (renderers escape). */
  text: string;
}

/** One statement of the root cause with the findings and records that prove it. */
export interface CitedStatement {
  text: Bilingual;
  findings: string[];
  evidence: EvidenceRef[];
}

/** One investigation step as the report tells it (what was looked at, found, cited). */
export interface InvestigationStep {
  title: Bilingual;
  /** What was searched (e.g. `dst=80.66.1.15`). */
  query?: string;
  found: Bilingual;
  findings: string[];
  evidence: EvidenceRef[];
  /** Short excerpts of the cited records, already plain text (renderers escape). */
  excerpts?: string[];
  /** The same records, structured: renderers show their times in the case zone next to the UTC original. */
  quotes?: EvidenceQuote[];
}

export interface Incident {
  id: string;
  title: Bilingual;
  severity: Severity;
  confidence: number;
  first: string;
  last: string;
  attackers: string[];
  compromised: CompromisedEntry[];
  c2: string[];
  entry: EntryPoint | null;
  techniques: string[];
  hosts: HostEntry[];
  chain: ChainLink[];
  timeline: TimelineEntry[];
  steps: InvestigationStep[];
  root_cause: Bilingual;
  /** The root cause as separate statements, each citing its findings and records (same content as root_cause). */
  root_cause_points?: CitedStatement[];
  iocs: Iocs;
  recommendations: Recommendation[];
  findings: string[];
}

export interface IncidentFile {
  schema: typeof INCIDENT_SCHEMA;
  case: CaseInfo;
  evidence: EvidenceEntry[];
  skipped: SkippedFile[];
  problems: ProblemEntry[];
  /** Count of problems when the list was truncated. */
  problems_total: number;
  findings: FindingEntry[];
  incidents: Incident[];
}
