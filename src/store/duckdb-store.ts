/**
 * The case store on embedded DuckDB: one database per case (DIR/case.duckdb).
 *
 * Events of every dataset go to one `events` table: the fields every pivot
 * needs are columns, everything else is kept losslessly in a JSON `data`
 * column. Per-dataset views (`conn`, `http`, `smb`, `evtx` ...) expose the
 * dataset's fields as columns for SQL users. Rows are written with DuckDB's
 * appender in batches, never one INSERT per row.
 */
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpoorEvent } from '../core/event.js';
import type { Finding } from '../core/finding.js';
import type { CaseStore, EvidenceRecord, Row } from './store.js';

/** Event columns, in table order: [column, SQL type, event field]. */
export const EVENT_COLUMNS: readonly (readonly [string, 'DOUBLE' | 'VARCHAR' | 'INTEGER' | 'BIGINT', string])[] = [
  ['ts', 'DOUBLE', '@timestamp'],
  ['dataset', 'VARCHAR', 'event.dataset'],
  ['code', 'VARCHAR', 'event.code'],
  ['action', 'VARCHAR', 'event.action'],
  ['outcome', 'VARCHAR', 'event.outcome'],
  ['provider', 'VARCHAR', 'event.provider'],
  ['host', 'VARCHAR', 'host.name'],
  ['src_ip', 'VARCHAR', 'source.ip'],
  ['src_port', 'INTEGER', 'source.port'],
  ['dst_ip', 'VARCHAR', 'destination.ip'],
  ['dst_port', 'INTEGER', 'destination.port'],
  ['transport', 'VARCHAR', 'network.transport'],
  ['protocol', 'VARCHAR', 'network.protocol'],
  ['user_name', 'VARCHAR', 'user.name'],
  ['user_domain', 'VARCHAR', 'user.domain'],
  ['community_id', 'VARCHAR', 'network.community_id'],
];
const COLUMN_FIELDS = new Set(EVENT_COLUMNS.map((c) => c[2]));
COLUMN_FIELDS.add('ref');

/** Fields exposed as columns in the per-dataset views. */
const DATASET_VIEWS: Record<string, string[]> = {
  evtx: ['winlog.channel', 'winlog.record_id', 'winlog.event_id', 'winlog.computer_name'],
  conn: ['conn.uid', 'event.duration', 'source.bytes', 'destination.bytes', 'source.packets', 'destination.packets', 'conn.state', 'conn.history', 'conn.missed_bytes', 'conn.local_orig', 'conn.local_resp'],
  http: ['conn.uid', 'http.request.method', 'url.domain', 'url.original', 'user_agent.original', 'http.response.status_code', 'http.request.body.bytes', 'http.response.body.bytes'],
  dns: ['conn.uid', 'dns.question.name', 'dns.question.type', 'dns.response_code', 'dns.resolved_ip'],
  tls: ['conn.uid', 'tls.version', 'tls.client.server_name', 'tls.client.ja3', 'tls.client.ja4', 'tls.server.ja3s', 'tls.server.x509.subject', 'tls.server.x509.issuer'],
  smb: ['conn.uid', 'smb.version', 'smb.command', 'smb.status', 'smb.tree', 'file.name'],
  ntlm: ['conn.uid', 'ntlm.workstation', 'ntlm.status'],
  rdp: ['conn.uid', 'rdp.cookie', 'rdp.selected_protocol', 'rdp.result'],
  ssh: ['conn.uid', 'ssh.client', 'ssh.server', 'ssh.auth_success', 'ssh.auth_attempts'],
  dcerpc: ['conn.uid', 'dcerpc.endpoint', 'dcerpc.operation', 'service.name'],
  stratum: ['conn.uid', 'stratum.method', 'stratum.login', 'stratum.agent'],
  kerberos: ['conn.uid', 'kerberos.request_type', 'kerberos.client', 'kerberos.service', 'kerberos.error_code'],
};

function viewColumnName(field: string): string {
  return field.replace(/[^A-Za-z0-9]+/g, '_');
}

export class DuckDbCaseStore implements CaseStore {
  private appender: DuckDBAppender | null = null;
  private pendingRows = 0;
  private pendingBytes = 0;
  /** Rows per appender flush. */
  private readonly batchRows: number;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    batchRows: number,
  ) {
    this.batchRows = batchRows;
  }

  /** Open (creating if needed) a case database. `readOnly` for `spoor sql` / `spoor search`. */
  static async open(path: string, opts: { readOnly?: boolean; batchRows?: number; memoryLimit?: string } = {}): Promise<DuckDbCaseStore> {
    // Bounded memory: DuckDB would otherwise cache up to 80% of RAM; it spills to disk beyond the limit.
    const config: Record<string, string> = { memory_limit: opts.memoryLimit ?? '256MB' };
    if (opts.readOnly) config.access_mode = 'READ_ONLY';
    const instance = await DuckDBInstance.create(path, config);
    const conn = await instance.connect();
    const store = new DuckDbCaseStore(instance, conn, opts.batchRows ?? 100_000);
    if (!opts.readOnly) await store.createSchema();
    return store;
  }

  private async createSchema(): Promise<void> {
    const cols = EVENT_COLUMNS.map(([c, t]) => `${c} ${t}`).join(', ');
    await this.conn.run(`
      CREATE TABLE IF NOT EXISTS evidence (id VARCHAR PRIMARY KEY, path VARCHAR, sha256 VARCHAR, size BIGINT, format VARCHAR,
        records BIGINT, errors BIGINT, first VARCHAR, last VARCHAR);
      CREATE TABLE IF NOT EXISTS events (${cols}, evidence VARCHAR, record BIGINT, frame BIGINT, line BIGINT, uid VARCHAR, data VARCHAR);
      CREATE TABLE IF NOT EXISTS findings (id VARCHAR, detector VARCHAR, attack VARCHAR[], severity VARCHAR, outcome VARCHAR,
        confidence DOUBLE, first DOUBLE, last DOUBLE, src VARCHAR, dst VARCHAR, host VARCHAR, user_name VARCHAR,
        summary_en VARCHAR, summary_zh VARCHAR, evidence VARCHAR, facts VARCHAR);
    `);
    await this.createViews();
  }

  private async createViews(): Promise<void> {
    // IPv4 text → number, for CIDR searches (NULL for anything else).
    await this.conn.run(`CREATE OR REPLACE MACRO spoor_ip4(x) AS CASE WHEN regexp_full_match(x, '\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}')
      THEN split_part(x, '.', 1)::BIGINT * 16777216 + split_part(x, '.', 2)::BIGINT * 65536 + split_part(x, '.', 3)::BIGINT * 256 + split_part(x, '.', 4)::BIGINT END`);
    // `time` as a real TIMESTAMP for SQL users; `ts` stays ms since epoch.
    await this.conn.run(`CREATE OR REPLACE VIEW ev AS SELECT make_timestamp(CAST(ts * 1000 AS BIGINT)) AS time, * FROM events`);
    for (const [ds, fields] of Object.entries(DATASET_VIEWS)) {
      const extra = fields
        .map((f) => `json_extract_string(data, '$."${f}"') AS ${viewColumnName(f)}`)
        .join(', ');
      await this.conn.run(`CREATE OR REPLACE VIEW ${ds} AS SELECT make_timestamp(CAST(ts * 1000 AS BIGINT)) AS time, * EXCLUDE (data), ${extra}, data FROM events WHERE dataset = '${ds}'`);
    }
  }

  private async getAppender(): Promise<DuckDBAppender> {
    if (!this.appender) this.appender = await this.conn.createAppender('events');
    return this.appender;
  }

  async appendEvents(events: SpoorEvent[]): Promise<void> {
    if (events.length === 0) return;
    const a = await this.getAppender();
    for (const e of events) {
      for (let i = 0; i < EVENT_COLUMNS.length; i++) {
        const [, type, field] = EVENT_COLUMNS[i];
        const v = e[field];
        if (v === undefined || v === null) a.appendNull();
        else if (type === 'DOUBLE') a.appendDouble(Number(v));
        else if (type === 'INTEGER') {
          const n = Number(v);
          if (Number.isInteger(n) && n >= -2147483648 && n <= 2147483647) a.appendInteger(n);
          else a.appendNull();
        } else a.appendVarchar(typeof v === 'string' ? v : String(v));
      }
      const ref = e.ref;
      a.appendVarchar(ref.evidence);
      appendOptInt(a, ref.record);
      appendOptInt(a, ref.frame);
      appendOptInt(a, ref.line);
      if (ref.uid === undefined) a.appendNull();
      else a.appendVarchar(ref.uid);
      const rest = restJson(e);
      this.pendingBytes += rest.length;
      a.appendVarchar(rest);
      a.endRow();
    }
    this.pendingRows += events.length;
    // Flush by rows and by volume: events with large payloads (script blocks, binary data)
    // would otherwise hold hundreds of MB in the appender.
    if (this.pendingRows >= this.batchRows || this.pendingBytes >= 16 << 20) {
      a.flushSync();
      this.pendingRows = 0;
      this.pendingBytes = 0;
    }
  }

  async appendFindings(findings: Finding[]): Promise<void> {
    if (!findings.length) return;
    const lines = findings.map((f) =>
      JSON.stringify({
        id: f.id, detector: f.detector, attack: f.attack, severity: f.severity, outcome: f.outcome,
        confidence: f.confidence, first: f.first, last: f.last, src: f.src ?? null, dst: f.dst ?? null,
        host: f.host ?? null, user_name: f.user ?? null, summary_en: f.summary.en, summary_zh: f.summary.zh,
        evidence: JSON.stringify(f.evidence), facts: JSON.stringify(f.facts ?? {}),
      }),
    );
    const file = await this.writeTemp(lines.join('\n'));
    await this.conn.run(`INSERT INTO findings BY NAME SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = {
      id: 'VARCHAR', detector: 'VARCHAR', attack: 'VARCHAR[]', severity: 'VARCHAR', outcome: 'VARCHAR', confidence: 'DOUBLE',
      first: 'DOUBLE', last: 'DOUBLE', src: 'VARCHAR', dst: 'VARCHAR', host: 'VARCHAR', user_name: 'VARCHAR',
      summary_en: 'VARCHAR', summary_zh: 'VARCHAR', evidence: 'VARCHAR', facts: 'VARCHAR'})`);
  }

  async putEvidence(records: EvidenceRecord[]): Promise<void> {
    await this.putRows(
      'evidence',
      records.map((r) => ({ ...r, first: r.first ?? null, last: r.last ?? null })),
    );
  }

  /**
   * Store small tables of plain rows (evidence, problems, entities, edges). Rows are staged as
   * NDJSON and typed by DuckDB; the first call creates the table.
   */
  async putRows(table: string, rows: Row[]): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`bad table name ${table}`);
    if (!rows.length) return;
    const cols = Object.keys(rows[0]);
    for (const c of cols) if (!/^[a-z_][a-z0-9_]*$/i.test(c)) throw new Error(`bad column name ${c}`);
    const file = await this.writeTemp(rows.map((r) => JSON.stringify(Object.fromEntries(cols.map((c) => [c, r[c] ?? null])))).join('\n'));
    const exists = await this.conn.runAndReadAll(`SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '${table}'`);
    const select = `SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM read_json_auto('${file}', format = 'newline_delimited')`;
    if (Number(exists.getRowObjects()[0].n) === 0) await this.conn.run(`CREATE TABLE ${table} AS ${select}`);
    else await this.conn.run(`INSERT INTO ${table} BY NAME ${select}`);
  }

  private tempCounter = 0;
  private tempDir: string | null = null;
  private async writeTemp(text: string): Promise<string> {
    if (!this.tempDir) this.tempDir = await mkdtemp(join(tmpdir(), 'spoor-store-'));
    const p = join(this.tempDir, `rows-${this.tempCounter++}.json`);
    await writeFile(p, text);
    return p.replace(/'/g, "''");
  }

  async flush(): Promise<void> {
    if (this.appender) {
      this.appender.flushSync();
      this.pendingRows = 0;
      this.pendingBytes = 0;
    }
  }

  async query(sql: string): Promise<Row[]> {
    await this.flush();
    const reader = await this.conn.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Row[];
  }

  async close(): Promise<void> {
    if (this.appender) {
      this.appender.closeSync();
      this.appender = null;
    }
    this.conn.closeSync();
    this.instance.closeSync();
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
  }
}

function appendOptInt(a: DuckDBAppender, v: number | undefined): void {
  if (v === undefined || !Number.isFinite(v)) a.appendNull();
  else a.appendBigInt(BigInt(Math.trunc(v)));
}

/** Everything that is not a column, as JSON (ECS dotted names kept). */
function restJson(e: SpoorEvent): string {
  const rest: Record<string, unknown> = {};
  for (const k in e) if (!COLUMN_FIELDS.has(k)) rest[k] = e[k];
  return JSON.stringify(rest);
}
