import type { Command } from 'commander';
import { compileQuery, QueryError } from '../../search/query.js';
import { formatInZone } from '../../search/time-format.js';
import { UsageError } from '../common.js';
import { openCaseReadOnly, printRows } from './case-access.js';

export function register(program: Command): void {
  program
    .command('search')
    .description('pivot through a case: events by address, CIDR, port, protocol, user, host, event code and time window')
    .argument('<dir>', 'case folder')
    .argument('[query...]', "e.g. 'src=80.66.1.15 and dport=445 and time>=2024-06-04T03:00'")
    .option('--json', 'JSON lines with every field')
    .option('-n, --limit <n>', 'rows to show', '200')
    .option('--tz <zone>', "time zone for input and output times (default: the case's)")
    .addHelpText('after', `
Fields: src dst ip sport dport port proto service user domain host code action outcome
        provider dataset uid evidence record frame time channel uri method status ua
        query sni ja3 state share file text
Operators: = != < <= > >= ~ (contains); * wildcards; CIDR for src/dst/ip; and/or/not, ( )
A bare dataset name (http, smb, evtx, conn ...) selects that kind of record.
Times without an offset are in the case's time zone.

Examples:
  spoor search ./case 'src=80.66.1.15 and dport=445'
  spoor search ./case 'ip=80.66.1.0/24 and smb and status=0xc000006d'
  spoor search ./case 'code=4625 and time>=2024-06-04T03:00 and time<2024-06-04T04:00' --json`)
    .action(async (dir: string, words: string[], flags: { json?: boolean; limit: string; tz?: string }) => {
      const { store, incident } = await openCaseReadOnly(dir);
      const tz = flags.tz ?? incident?.case.tz ?? 'UTC';
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new UsageError('--limit must be a positive number');
      try {
        let where: string;
        try {
          where = compileQuery(words.join(' '), { tz });
        } catch (err) {
          if (err instanceof QueryError) throw new UsageError(`query: ${err.message}`);
          throw err;
        }
        const rows = await store.query(`SELECT * FROM events WHERE ${where} ORDER BY ts LIMIT ${limit}`);
        if (flags.json) {
          printRows(rows.map(toJsonRow), 'json');
        } else {
          printRows(rows.map((r) => toTableRow(r, tz)), 'table');
          process.stderr.write(`${rows.length} row(s)${rows.length === limit ? ` (limit ${limit}; use --limit)` : ''}; times in ${tz}\n`);
        }
      } finally {
        await store.close();
      }
    });
}

function toJsonRow(r: Record<string, unknown>): Record<string, unknown> {
  const { data, ...rest } = r;
  let extra: Record<string, unknown> = {};
  try {
    extra = JSON.parse(String(data ?? '{}')) as Record<string, unknown>;
  } catch {
    /* keep the columns */
  }
  return { time: new Date(Number(r.ts)).toISOString(), ...rest, ...extra };
}

const SUMMARY_FIELDS = ['url.original', 'dns.question.name', 'tls.client.server_name', 'file.name', 'smb.tree', 'rdp.cookie', 'conn.state', 'dcerpc.operation', 'stratum.login'];

function toTableRow(r: Record<string, unknown>, tz: string): Record<string, unknown> {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(String(r.data ?? '{}')) as Record<string, unknown>;
  } catch {
    /* ignore */
  }
  const ep = (ip: unknown, port: unknown) => (ip ? `${ip}${port !== null && port !== undefined ? ':' + port : ''}` : '');
  const detail = SUMMARY_FIELDS.map((f) => data[f]).find((v) => v !== undefined && v !== null);
  const ref = r.record !== null && r.record !== undefined ? `#${r.record}` : r.frame !== null && r.frame !== undefined ? `frame ${r.frame}` : r.line ? `line ${r.line}` : '';
  return {
    time: formatInZone(Number(r.ts), tz),
    kind: r.dataset,
    src: ep(r.src_ip, r.src_port),
    dst: ep(r.dst_ip, r.dst_port),
    code: r.code ?? r.action ?? r.protocol ?? '',
    user: r.user_name ?? '',
    host: r.host ?? '',
    detail: detail ?? '',
    ref: `${r.evidence} ${ref}`.trim(),
  };
}
