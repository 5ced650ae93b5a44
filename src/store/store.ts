/**
 * The case store: where events, findings and the investigation's facts live.
 * Readers and detectors never talk to DuckDB directly; they use this
 * interface, so a distributed engine (ClickHouse) can be added later.
 */
import type { SpoorEvent } from '../core/event.js';
import type { Finding } from '../core/finding.js';

export type Row = Record<string, unknown>;

export interface EvidenceRecord {
  id: string;
  path: string;
  sha256: string;
  size: number;
  format: string;
  records: number;
  errors: number;
  first?: string;
  last?: string;
}

export interface CaseStore {
  /** Append a batch of events (any dataset); implementations batch internally. */
  appendEvents(events: SpoorEvent[]): Promise<void>;
  appendFindings(findings: Finding[]): Promise<void>;
  putEvidence(records: EvidenceRecord[]): Promise<void>;
  /** Store an arbitrary table of plain rows (investigation entities, edges, problems ...). */
  putRows(table: string, rows: Row[]): Promise<void>;
  /** Flush pending batches. */
  flush(): Promise<void>;
  /** Run SQL (read-only use by `spoor sql`); returns rows as plain objects. */
  query(sql: string): Promise<Row[]>;
  close(): Promise<void>;
}
