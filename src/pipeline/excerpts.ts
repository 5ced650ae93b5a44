/**
 * Evidence excerpts for the report's investigation steps: the cited records
 * themselves, read back from the case store, as one short language-neutral line
 * each (file + record/frame, time in UTC, the fields a responder looks at).
 * This replaces the findings' own English summaries as excerpts, so the Chinese
 * report quotes the evidence, not an English sentence about it.
 *
 * Each step gets the lines twice: `excerpts` (one string per record, time in
 * UTC, for tools reading incident.json) and `quotes` (where / time / fields
 * apart), so the renderers can show the time in the case's zone beside the UTC
 * original without parsing text that holds attacker-controlled strings.
 */
import type { EvidenceEntry, EvidenceQuote, Incident } from '../incident/types.js';
import type { EvidenceRef } from '../core/event.js';
import type { CaseStore, Row } from '../store/store.js';

/** Records quoted per step, chosen among the first REFS_LOOKED_AT cited ones. */
const PER_STEP = 4;
const REFS_LOOKED_AT = 24;
const MAX_LINE = 300;

/** Fields worth quoting, by dataset, in this order (the rest is left out). */
const NET_FIELDS: [string, string][] = [
  ['http.request.method', 'method'], ['url.domain', 'host'], ['url.original', 'uri'], ['http.response.status_code', 'status'],
  ['user_agent.original', 'ua'], ['dns.question.name', 'query'], ['tls.client.server_name', 'sni'], ['smb.command', 'smb'],
  ['smb.tree', 'share'], ['file.name', 'file'], ['smb.status', 'status'], ['ntlm.status', 'ntlm_status'], ['rdp.cookie', 'cookie'],
  ['dcerpc.operation', 'rpc'], ['service.name', 'service'], ['stratum.method', 'stratum'], ['stratum.login', 'login'],
  ['conn.state', 'state'], ['conn.history', 'history'],
];
const EVTX_FIELDS = [
  'TargetUserName', 'TargetDomainName', 'SubjectUserName', 'LogonType', 'IpAddress', 'WorkstationName', 'Status', 'SubStatus',
  'TargetLogonId', 'SubjectLogonId', 'NewProcessName', 'Image', 'CommandLine', 'ServiceName', 'ImagePath', 'Threat Name', 'Path', 'TaskName',
];

function refKey(r: { evidence?: unknown; record?: unknown; frame?: unknown }): string {
  return `${r.evidence}|${r.record ?? ''}|${r.frame ?? ''}`;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The quoted record: where it is, its UTC time, the fields a responder looks at. */
export function quoteRow(row: Row, evidence: Map<string, EvidenceEntry>): EvidenceQuote {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(String(row.data ?? '{}')) as Record<string, unknown>;
  } catch {
    /* keep the columns */
  }
  const evId = String(row.evidence);
  const ev = evidence.get(evId);
  const file = ev ? ev.path.split(/[\\/]/).pop() : evId;
  const hasRecord = row.record !== null && row.record !== undefined;
  const hasFrame = row.frame !== null && row.frame !== undefined;
  const where = hasRecord ? `${file} #${row.record}` : hasFrame ? `${file} frame ${row.frame}` : `${file}`;
  const ms = Math.floor(Number(row.ts));
  const time = row.ts !== null && row.ts !== undefined && Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
  const parts: string[] = [];
  if (row.dataset === 'evtx') {
    parts.push(`EventID ${row.code}`);
    if (row.host) parts.push(`Computer=${row.host}`);
    const ed = (data['winlog.event_data'] ?? {}) as Record<string, unknown>;
    for (const f of EVTX_FIELDS) {
      const v = ed[f];
      if (v !== undefined && v !== null && v !== '' && v !== '-') parts.push(`${f}=${String(v)}`);
    }
  } else {
    const ep = (ip: unknown, port: unknown) => `${ip ?? '?'}${port !== null && port !== undefined ? ':' + port : ''}`;
    parts.push(`${row.dataset}`, `${ep(row.src_ip, row.src_port)} → ${ep(row.dst_ip, row.dst_port)}`);
    for (const [f, label] of NET_FIELDS) {
      const v = data[f];
      if (v !== undefined && v !== null && v !== '') parts.push(`${label}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    }
    if (row.user_name) parts.push(`user=${row.user_domain ? row.user_domain + '\\' : ''}${row.user_name}`);
  }
  let text = parts.filter(Boolean).join('  ');
  const room = MAX_LINE - where.length - 22;
  if (text.length > room) text = text.slice(0, Math.max(40, room - 1)) + '…';
  const ref: EvidenceQuote['ref'] = { evidence: evId };
  if (hasRecord) ref.record = Number(row.record);
  if (hasFrame) ref.frame = Number(row.frame);
  if (row.uid) ref.uid = String(row.uid);
  const q: EvidenceQuote = { ref, where, text };
  if (time) q.time = time;
  return q;
}

/** One line: `Security.evtx #2408  2024-06-03T19:36:11Z  EventID 4624  …` (time in UTC). */
export function formatExcerpt(row: Row, evidence: Map<string, EvidenceEntry>): string {
  const q = quoteRow(row, evidence);
  return [q.where, q.time ?? '', q.text].filter(Boolean).join('  ');
}

/**
 * Replace each step's excerpts with the cited records (first PER_STEP refs that resolve
 * to a record or frame). Steps whose refs resolve to nothing keep what they had.
 */
export async function attachExcerpts(incidents: Incident[], store: CaseStore, evidence: EvidenceEntry[]): Promise<void> {
  const byId = new Map(evidence.map((e) => [e.id, e]));
  const wanted = new Map<string, EvidenceRef>();
  for (const inc of incidents) {
    for (const st of inc.steps) {
      for (const r of st.evidence.filter((x) => x.record !== undefined || x.frame !== undefined).slice(0, REFS_LOOKED_AT)) wanted.set(refKey(r), r);
    }
  }
  if (!wanted.size) return;
  const conds = [...wanted.values()].map((r) =>
    r.record !== undefined
      ? `(evidence = ${sqlString(r.evidence)} AND record = ${Math.trunc(r.record)})`
      : `(evidence = ${sqlString(r.evidence)} AND frame = ${Math.trunc(r.frame!)}${r.uid ? ` AND uid = ${sqlString(r.uid)}` : ''})`,
  );
  const rows: Row[] = [];
  for (let i = 0; i < conds.length; i += 200) {
    rows.push(...(await store.query(`SELECT * FROM events WHERE ${conds.slice(i, i + 200).join(' OR ')} ORDER BY ts`)));
  }
  // A frame can carry several records (conn + http): prefer the protocol record over conn.
  const found = new Map<string, Row>();
  for (const row of rows) {
    const k = refKey(row);
    const prev = found.get(k);
    if (!prev || (prev.dataset === 'conn' && row.dataset !== 'conn')) found.set(k, row);
  }
  for (const inc of incidents) {
    for (const st of inc.steps) {
      const rowsHere: Row[] = [];
      for (const r of st.evidence.filter((x) => x.record !== undefined || x.frame !== undefined).slice(0, REFS_LOOKED_AT)) {
        const row = found.get(refKey(r));
        if (row && !rowsHere.includes(row)) rowsHere.push(row);
      }
      // Quote different kinds of record first (the 4625 flood, then the 4624 that succeeded, then
      // the 4724 ...), then fill up in citation order; print in time order.
      const picked: Row[] = [];
      const kinds = new Set<string>();
      for (const row of rowsHere) {
        const kind = `${row.dataset}|${row.code ?? ''}`;
        if (picked.length < PER_STEP && !kinds.has(kind)) {
          kinds.add(kind);
          picked.push(row);
        }
      }
      for (const row of rowsHere) if (picked.length < PER_STEP && !picked.includes(row)) picked.push(row);
      picked.sort((a, b) => Number(a.ts) - Number(b.ts));
      const quotes = picked.map((row) => quoteRow(row, byId));
      if (quotes.length) {
        st.quotes = quotes;
        st.excerpts = quotes.map((q) => [q.where, q.time ?? '', q.text].filter(Boolean).join('  '));
      }
    }
  }
}
