/**
 * Timelines and finding lists for other tools:
 * - Timesketch JSONL (`message`, `datetime`, `timestamp_desc` + fields), one
 *   line per incident timeline entry and per finding;
 * - NDJSON with ECS field names (nested objects, `@timestamp`,
 *   `ecs.version`), optionally with Elasticsearch `_bulk` action lines;
 * - CSV of findings (RFC 4180, formula-injection safe).
 */
import type { EvidenceRef } from '../core/event.js';
import type { FindingEntry, IncidentFile } from '../incident/types.js';
import { technique, techniqueName } from '../render/attack.js';
import { csvRow, safeJson } from '../render/escape.js';
import { baseName, ipVersion, severityScore } from './common.js';

function refLabel(r: EvidenceRef, names: Map<string, string>): string {
  const n = names.get(r.evidence) ?? r.evidence;
  const where = r.record !== undefined ? ` record ${r.record}` : r.frame !== undefined ? ` frame ${r.frame}` : r.line !== undefined ? ` line ${r.line}` : r.offset !== undefined ? ` offset ${r.offset}` : '';
  return `${n}${where}${r.uid ? ` (${r.uid})` : ''}`;
}

function names(file: IncidentFile): Map<string, string> {
  return new Map((file.evidence ?? []).map((e) => [e.id, baseName(e.path)]));
}

/** src_ip/dst_ip only for addresses; names go to src_host/dst_host. */
function addrFields(src?: string, dst?: string): Record<string, string> {
  const o: Record<string, string> = {};
  if (src) o[ipVersion(src) ? 'src_ip' : 'src_host'] = src;
  if (dst) o[ipVersion(dst) ? 'dst_ip' : 'dst_host'] = dst;
  return o;
}

function micros(iso: string): number | undefined {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms * 1000 : undefined;
}

/** Timesketch-importable JSONL. Every line has message, datetime, timestamp_desc. */
export function toTimesketch(file: IncidentFile): string {
  const nm = names(file);
  const lines: string[] = [];
  for (const inc of file.incidents ?? []) {
    for (const t of inc.timeline ?? []) {
      lines.push(
        safeJson({
          message: `[${t.technique}] ${t.text?.en ?? ''}`,
          datetime: t.time,
          timestamp: micros(t.time),
          timestamp_desc: 'Incident timeline',
          data_type: 'spoor:incident:timeline',
          incident_id: inc.id,
          incident_title: inc.title?.en,
          message_zh: t.text?.zh,
          technique_id: t.technique,
          technique_name: techniqueName(t.technique, 'en'),
          tactic: technique(t.technique).tactics.join(','),
          ...addrFields(t.src, t.dst),
          hostname: t.host,
          findings: (t.findings ?? []).join(','),
          evidence: (t.evidence ?? []).map((r) => refLabel(r, nm)).join('; '),
          tag: ['spoor', 'incident'],
        }),
      );
    }
  }
  for (const f of file.findings ?? []) {
    lines.push(
      safeJson({
        message: f.summary?.en ?? f.id,
        datetime: f.first,
        timestamp: micros(f.first),
        timestamp_desc: 'First seen',
        data_type: 'spoor:finding',
        finding_id: f.id,
        detector: f.detector,
        message_zh: f.summary?.zh,
        technique_id: (f.attack ?? []).join(','),
        severity: f.severity,
        outcome: f.outcome,
        confidence: f.confidence,
        last_seen: f.last,
        ...addrFields(f.src, f.dst),
        hostname: f.host,
        username: f.user,
        evidence: (f.evidence ?? []).map((r) => refLabel(r, nm)).join('; '),
        tag: ['spoor', 'finding'],
      }),
    );
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

export const ECS_VERSION = '8.11.0';

const OUTCOME: Record<string, 'success' | 'failure' | 'unknown'> = { succeeded: 'success', compromised: 'success', failed: 'failure', attempt: 'unknown' };

function endpoint(addr: string | undefined): Record<string, string> | undefined {
  if (!addr) return undefined;
  return ipVersion(addr) ? { ip: addr, address: addr } : { address: addr };
}

/** One finding as an ECS document (nested field names, bulk-loadable). */
export function findingToEcs(f: FindingEntry, file: IncidentFile, nm = names(file)): Record<string, unknown> {
  const techs = f.attack ?? [];
  const tactics = [...new Set(techs.flatMap((t) => technique(t).tactics))];
  const doc: Record<string, unknown> = {
    '@timestamp': f.first,
    ecs: { version: ECS_VERSION },
    message: f.summary?.en ?? f.id,
    event: {
      kind: 'alert',
      module: 'spoor',
      dataset: 'spoor.finding',
      id: f.id,
      start: f.first,
      end: f.last,
      severity: severityScore(f.severity),
      risk_score: Math.round(severityScore(f.severity) * (Number.isFinite(f.confidence) ? f.confidence : 1)),
      outcome: OUTCOME[f.outcome] ?? 'unknown',
      category: ['intrusion_detection'],
      type: ['indicator'],
    },
    rule: { id: f.detector, name: f.detector, ruleset: 'spoor' },
    threat: {
      framework: 'MITRE ATT&CK',
      technique: { id: techs, name: techs.map((t) => techniqueName(t, 'en')) },
      tactic: { name: tactics },
    },
    labels: { case: file.case?.id, severity: f.severity, outcome: f.outcome, summary_zh: f.summary?.zh },
    spoor: { confidence: f.confidence, evidence: (f.evidence ?? []).map((r) => ({ ...r, file: nm.get(r.evidence) ?? r.evidence })), facts: f.facts },
  };
  const src = endpoint(f.src);
  const dst = endpoint(f.dst);
  if (src) doc.source = src;
  if (dst) doc.destination = dst;
  if (f.host) doc.host = ipVersion(f.host) ? { ip: [f.host], name: f.host } : { name: f.host };
  if (f.user) doc.user = { name: f.user };
  const related: Record<string, string[]> = {};
  const ips = [f.src, f.dst, f.host].filter((x): x is string => !!x && !!ipVersion(x));
  if (ips.length) related.ip = [...new Set(ips)];
  if (f.user) related.user = [f.user];
  if (Object.keys(related).length) doc.related = related;
  return doc;
}

export interface NdjsonOptions {
  /** Prefix each document with an Elasticsearch/OpenSearch `_bulk` index action for this index. */
  bulkIndex?: string;
  /** Extra ECS documents (events from the case store), appended after the findings. */
  events?: Record<string, unknown>[];
}

export function toNdjson(file: IncidentFile, opts: NdjsonOptions = {}): string {
  const nm = names(file);
  const lines: string[] = [];
  const push = (doc: Record<string, unknown>) => {
    if (opts.bulkIndex) lines.push(safeJson({ index: { _index: opts.bulkIndex } }));
    lines.push(safeJson(doc));
  };
  for (const f of file.findings ?? []) push(findingToEcs(f, file, nm));
  for (const e of opts.events ?? []) push(e);
  return lines.length ? lines.join('\n') + '\n' : '';
}

export const CSV_HEAD = ['id', 'first_seen', 'last_seen', 'detector', 'attack', 'severity', 'outcome', 'confidence', 'source', 'destination', 'host', 'user', 'summary_en', 'summary_zh', 'evidence'];

/** CSV of the findings: UTF-8 with BOM (so spreadsheet programs read Chinese), CRLF, formula-safe. */
export function toCsv(file: IncidentFile, bom = true): string {
  const nm = names(file);
  let out = bom ? '\ufeff' : '';
  out += csvRow(CSV_HEAD);
  for (const f of file.findings ?? []) {
    out += csvRow([
      f.id,
      f.first,
      f.last,
      f.detector,
      (f.attack ?? []).join(' '),
      f.severity,
      f.outcome,
      f.confidence,
      f.src,
      f.dst,
      f.host,
      f.user,
      f.summary?.en,
      f.summary?.zh,
      (f.evidence ?? []).map((r) => refLabel(r, nm)).join('; '),
    ]);
  }
  return out;
}
