/**
 * `spoor hunt PATH... --sigma DIR_OR_FILE...`: stand-alone Sigma hunting over
 * EVTX evidence. Every match shows the rule's author and a link to the rule
 * (SigmaHQ's rules are under the Detection Rule License 1.1).
 */
import type { Command } from 'commander';
import { basename } from 'node:path';
import { HomeNet } from '../../core/homenet.js';
import { isoTime } from '../../core/event.js';
import { readEvidence } from '../../intake/read.js';
import { terminalSafe } from '../../pipeline/log.js';
import { loadSigmaRules, SigmaEngine, levelRank, type SigmaHit } from '../../sigma/index.js';
import { EXIT, UsageError, collect } from '../common.js';

export interface HuntFlags {
  sigma: string[];
  level?: string;
  format?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('hunt')
    .description('run Sigma rules over EVTX evidence and print the matches (rule, level, ATT&CK, author, time, computer, fields, record)')
    .argument('<paths...>', 'evidence files or folders')
    .requiredOption('--sigma <path>', 'Sigma rule file or folder (repeatable)', collect)
    .option('--level <level>', 'minimum rule level: informational, low, medium, high, critical', 'informational')
    .option('--format <format>', 'table, jsonl or csv', 'table')
    .option('-q, --quiet', 'no summary on stderr')
    .addHelpText('after', `
Examples:
  spoor hunt ./logs --sigma ../sigma/rules/windows --level high
  spoor hunt Security.evtx --sigma my-rule.yml --format csv > hits.csv

Rules from SigmaHQ are licensed under the Detection Rule License 1.1; each match names the rule's author.`)
    .action(async (paths: string[], flags: HuntFlags) => {
      if (!['table', 'jsonl', 'csv'].includes(flags.format ?? 'table')) throw new UsageError('--format must be table, jsonl or csv');
      if (levelRank(flags.level ?? 'informational') === 2 && !['medium'].includes(flags.level ?? '')) {
        if (!['informational', 'low', 'medium', 'high', 'critical'].includes(flags.level ?? '')) throw new UsageError('--level must be informational, low, medium, high or critical');
      }
      process.exitCode = await runHunt(paths, flags);
    });
}

/** A CSV cell: quoted, and a leading = + - @ (or tab/CR) defused against formula injection. */
export function csvCell(s: string): string {
  let v = s;
  if (/^[=+\-@\t\r]/.test(v)) v = "'" + v;
  return '"' + v.replace(/"/g, '""') + '"';
}

function fieldsText(f: Record<string, string>): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ¦ ');
}

export function hitRecord(h: SigmaHit, file: string): Record<string, unknown> {
  return {
    time: isoTime(h.time),
    rule_id: h.rule.id,
    title: h.rule.title,
    level: h.rule.level,
    attack: h.rule.attack,
    tags: h.rule.tags,
    author: h.rule.author,
    rule_link: h.rule.link,
    license: 'DRL 1.1',
    computer: h.computer,
    channel: h.channel,
    event_id: h.eventId,
    fields: h.fields,
    evidence: h.ref.evidence,
    file,
    record: h.ref.record,
    ...(h.correlation ? { correlation: { type: h.correlation.type, count: h.correlation.count, first: isoTime(h.correlation.first), group: h.correlation.group, records: h.correlation.refs.map((r) => r.record) } } : {}),
  };
}

const CSV_HEADER = ['time', 'level', 'rule_id', 'title', 'attack', 'author', 'rule_link', 'computer', 'channel', 'event_id', 'fields', 'file', 'record'];

export async function runHunt(paths: string[], flags: HuntFlags, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const fmt = flags.format ?? 'table';
  const t0 = Date.now();
  const { rules, unsupported } = loadSigmaRules(flags.sigma);
  for (const u of unsupported) if (!flags.quiet) err.write(`spoor: rule not loaded: ${terminalSafe(u.path)} (${terminalSafe(u.title)}): ${terminalSafe(u.reason)}\n`);
  if (!rules.length) {
    err.write('spoor: no Sigma rule could be loaded\n');
    return EXIT.failed;
  }
  const engine = new SigmaEngine(rules, { minLevel: flags.level ?? 'informational' });
  for (const u of engine.unresolvedCorrelations()) err.write(`spoor: correlation rule '${terminalSafe(u.rule.title)}' refers to rules not loaded: ${terminalSafe(u.missing.join(', '))}\n`);
  if (!flags.quiet) err.write(`spoor: ${rules.length} Sigma rules loaded (${unsupported.length} not loaded) in ${Date.now() - t0} ms; rules by their authors, SigmaHQ rules under DRL 1.1\n`);

  const fileOf = new Map<string, string>();
  let hits = 0;
  if (fmt === 'csv') out.write(CSV_HEADER.join(',') + '\n');
  const write = (h: SigmaHit) => {
    hits++;
    const file = fileOf.get(h.ref.evidence) ?? '';
    if (fmt === 'jsonl') {
      out.write(JSON.stringify(hitRecord(h, file)) + '\n');
    } else if (fmt === 'csv') {
      const cells = [isoTime(h.time), h.rule.level, h.rule.id, h.rule.title, h.rule.attack.join(' '), h.rule.author, h.rule.link, h.computer, h.channel, String(h.eventId || ''), fieldsText(h.fields), file, String(h.ref.record ?? '')];
      out.write(cells.map(csvCell).join(',') + '\n');
    } else {
      const corr = h.correlation ? ` [${h.correlation.type} ×${h.correlation.count} since ${isoTime(h.correlation.first)}]` : '';
      out.write(
        terminalSafe(`${isoTime(h.time)}  ${h.rule.level.toUpperCase().padEnd(13)} ${h.rule.title}${corr}`) +
          '\n' +
          terminalSafe(`    computer ${h.computer || '-'}  ${basename(file)} record ${h.ref.record ?? '-'}  ATT&CK ${h.rule.attack.join(',') || '-'}`) +
          '\n' +
          terminalSafe(`    author ${h.rule.author} · ${h.rule.link} (DRL 1.1)`) +
          '\n' +
          (Object.keys(h.fields).length ? terminalSafe(`    ${fieldsText(h.fields)}`) + '\n' : ''),
      );
    }
  };
  const { visits, bad } = await readEvidence(paths, {
    homeNet: new HomeNet(),
    accept: (format) => (format === 'evtx' ? null : `${format} (Sigma hunting reads EVTX)`),
    onSkip: (path, reason, quiet) => {
      if (!quiet || !flags.quiet) err.write(`spoor: skipped ${terminalSafe(path)}: ${reason}\n`);
    },
    onProblem: (v, p) => {
      if (!flags.quiet) err.write(`spoor: ${terminalSafe(v.path)}: offset ${p.offset ?? '?'}: ${terminalSafe(p.reason)}\n`);
    },
    onBatch: (batch, v) => {
      fileOf.set(v.id, v.path);
      for (const e of batch) engine.match(e, write);
    },
  });
  const n = visits.length;
  const bytes = visits.reduce((sum, v) => sum + v.size, 0);
  engine.finish(write);
  if (!flags.quiet) {
    const s = (Date.now() - t0) / 1000;
    err.write(`spoor: ${n} EVTX files, ${(bytes / 1e6).toFixed(1)} MB, ${engine.events} events, ${hits} matches (${engine.duplicates} carved duplicates not repeated) in ${s.toFixed(1)} s\n`);
  }
  return bad ? EXIT.partial : EXIT.ok;
}
