/**
 * `spoor export DIR --format stix|navigator|timesketch|ndjson|csv|blocklist [--out FILE]`:
 * the case in formats other tools import, to stdout by default.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { BLOCKLIST_FORMATS, EXPORT_FORMATS, exportCase, selectBlockAddresses, type BlocklistFormat, type ExportFormat } from '../../export/index.js';
import { safeJson, escapeTerminal } from '../../render/escape.js';
import { readIncidentFile } from './report.js';

/** Flat SpoorEvent-like row (dotted names) → nested ECS document. */
export function nestEcs(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    if (v === null || v === undefined) continue;
    if (k === '@timestamp' || !k.includes('.')) {
      out[k] = v;
      continue;
    }
    const parts = k.split('.');
    let o = out;
    let ok = true;
    for (let i = 0; i < parts.length - 1; i++) {
      const cur = o[parts[i]];
      if (cur === undefined) o = o[parts[i]] = {} as Record<string, unknown>;
      else if (cur && typeof cur === 'object' && !Array.isArray(cur)) o = cur as Record<string, unknown>;
      else {
        ok = false;
        break;
      }
    }
    if (ok && o[parts[parts.length - 1]] === undefined) o[parts[parts.length - 1]] = v;
    else out[k] = v; // conflicting path: keep the dotted name
  }
  return out;
}

const COLS: [string, string][] = [
  ['ts', '@timestamp'],
  ['dataset', 'event.dataset'],
  ['code', 'event.code'],
  ['action', 'event.action'],
  ['outcome', 'event.outcome'],
  ['provider', 'event.provider'],
  ['host', 'host.name'],
  ['src_ip', 'source.ip'],
  ['src_port', 'source.port'],
  ['dst_ip', 'destination.ip'],
  ['dst_port', 'destination.port'],
  ['transport', 'network.transport'],
  ['protocol', 'network.protocol'],
  ['user_name', 'user.name'],
  ['user_domain', 'user.domain'],
  ['community_id', 'network.community_id'],
];

/** One events-table row of the case store → ECS document. */
export function eventRowToEcs(row: Record<string, unknown>, caseId: string): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  if (typeof row.data === 'string' && row.data) {
    try {
      Object.assign(flat, JSON.parse(row.data) as Record<string, unknown>);
    } catch {
      /* keep the columns */
    }
  }
  for (const [col, field] of COLS) if (row[col] !== null && row[col] !== undefined) flat[field] = row[col];
  const ts = Number(flat['@timestamp']);
  flat['@timestamp'] = Number.isFinite(ts) ? new Date(Math.floor(ts)).toISOString() : undefined;
  delete flat.ref;
  const doc = nestEcs(flat);
  doc.ecs = { version: '8.11.0' };
  doc.labels = { case: caseId };
  doc.spoor = { evidence: row.evidence, record: num(row.record), frame: num(row.frame), line: num(row.line), uid: row.uid ?? undefined };
  const ev = (doc.event ?? {}) as Record<string, unknown>;
  doc.event = { kind: 'event', module: 'spoor', ...ev };
  return doc;
}

function num(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export the case for other tools: STIX 2.1, ATT&CK Navigator layer, Timesketch JSONL, ECS NDJSON, CSV, firewall block lists')
    .argument('<dir>', 'case folder (holding incident.json)')
    .addOption(new Option('--format <format>', 'export format').choices(EXPORT_FORMATS).makeOptionMandatory())
    .option('--out <file>', 'write to this file instead of stdout')
    .addOption(new Option('--blocklist-format <fmt>', 'block list flavour').choices(BLOCKLIST_FORMATS).default('plain'))
    .option('--bulk-index <name>', 'ndjson: add Elasticsearch/OpenSearch _bulk index actions for this index')
    .option('--no-events', 'ndjson: findings only, even when the case store (case.duckdb) is present')
    .option('--events-limit <n>', 'ndjson: at most this many events from the case store', (v) => Number(v), 1_000_000)
    .option('--no-bom', 'csv: no UTF-8 byte-order mark')
    .addHelpText(
      'after',
      `
Block lists hold only attacker and C2 addresses, never the addresses of compromised hosts.

Examples:
  spoor export ./case1 --format stix --out case1.stix.json
  spoor export ./case1 --format navigator > layer.json
  spoor export ./case1 --format blocklist --blocklist-format nftables --out block.nft
  spoor export ./case1 --format ndjson --bulk-index spoor-case1 | curl -s -H 'Content-Type: application/x-ndjson' --data-binary @- localhost:9200/_bulk`,
    )
    .action(async (dirArg: string, flags: { format: ExportFormat; out?: string; blocklistFormat: BlocklistFormat; bulkIndex?: string; events: boolean; eventsLimit: number; bom: boolean }) => {
      const { file, dir } = await readIncidentFile(dirArg);
      const out: NodeJS.WritableStream = flags.out ? createWriteStream(flags.out) : process.stdout;
      const write = (s: string) =>
        new Promise<void>((ok, fail) => {
          if (!out.write(s)) out.once('drain', ok);
          else ok();
          out.once('error', fail);
        });
      await write(exportCase(file, flags.format, { blocklistFormat: flags.blocklistFormat, bulkIndex: flags.bulkIndex, bom: flags.bom }));
      if (flags.format === 'blocklist') {
        const { entries, excluded } = selectBlockAddresses(file);
        if (!entries.length) process.stderr.write('spoor: no attacker or C2 addresses to block\n');
        for (const x of excluded) process.stderr.write(`spoor: not blocked: ${escapeTerminal(x.value, true)} (${x.reason})\n`);
      }
      if (flags.format === 'ndjson' && flags.events && existsSync(join(dir, 'case.duckdb'))) {
        const { DuckDbCaseStore } = await import('../../store/duckdb-store.js');
        const store = await DuckDbCaseStore.open(join(dir, 'case.duckdb'), { readOnly: true });
        try {
          const page = 20_000;
          const limit = Number.isFinite(flags.eventsLimit) && flags.eventsLimit >= 0 ? flags.eventsLimit : 1_000_000;
          for (let off = 0; off < limit; off += page) {
            const rows = await store.query(`select * from events order by ts limit ${Math.min(page, limit - off)} offset ${off}`);
            if (!rows.length) break;
            let chunk = '';
            for (const r of rows) {
              if (flags.bulkIndex) chunk += safeJson({ index: { _index: flags.bulkIndex } }) + '\n';
              chunk += safeJson(eventRowToEcs(r, file.case?.id ?? ''), undefined) + '\n';
            }
            await write(chunk);
            if (rows.length < page) break;
          }
        } finally {
          await store.close();
        }
      }
      if (flags.out) {
        await new Promise<void>((ok) => (out as NodeJS.WritableStream & { end: (cb: () => void) => void }).end(ok));
        process.stderr.write(`spoor: wrote ${escapeTerminal(flags.out, true)}\n`);
      }
    });
}
