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
import { walkPaths } from '../../intake/discover.js';
import { Worker } from 'node:worker_threads';
import type { BaseRecord } from '../../sigma/engine.js';
import type { HuntWorkerData, HuntWorkerMessage } from '../../sigma/hunt-worker.js';
import { terminalSafe } from '../../pipeline/log.js';
import { loadSigmaRules, SigmaEngine, levelRank, type SigmaHit, type SigmaRule } from '../../sigma/index.js';
import { EXIT, UsageError, collect } from '../common.js';

export interface HuntFlags {
  sigma: string[];
  level?: string;
  format?: string;
  quiet?: boolean;
  /** Threads reading files (default 1): the main thread plus workers-1 worker threads. */
  workers?: number | string;
}

export function register(program: Command): void {
  program
    .command('hunt')
    .description('run Sigma rules over EVTX evidence and print the matches (rule, level, ATT&CK, author, time, computer, fields, record)')
    .argument('<paths...>', 'evidence files or folders')
    .requiredOption('--sigma <path>', 'Sigma rule file or folder (repeatable)', collect)
    .option('--level <level>', 'minimum rule level: informational, low, medium, high, critical', 'informational')
    .option('--format <format>', 'table, jsonl or csv', 'table')
    .option('--workers <n>', 'threads sharing the files (each loads the rules: worth it for large inputs)', '1')
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
      const w = Number(flags.workers ?? 1);
      if (!Number.isInteger(w) || w < 1 || w > 64) throw new UsageError('--workers must be a whole number from 1 to 64');
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
  const nThreads = Math.max(1, Math.min(64, Math.floor(Number(flags.workers ?? 1)) || 1));
  let ownPaths = paths;
  let walkBad = 0;
  const workerRuns: Promise<{ events: number; duplicates: number; bytes: number; files: number; bad: number }>[] = [];
  if (nThreads > 1) {
    // files are dealt round-robin: the main thread reads share 0, worker k share k
    const { files, problems } = await walkPaths(paths);
    walkBad = problems.length;
    for (const p of problems) err.write(`spoor: skipped ${terminalSafe(p.path)}: ${p.reason}\n`);
    const share = (k: number) => files.filter((_, i) => i % nThreads === k).map((f) => f.path);
    ownPaths = share(0);
    for (let k = 1; k < nThreads; k++) {
      const mine = share(k);
      if (!mine.length) continue;
      workerRuns.push(runWorker({ files: mine, sigma: flags.sigma, level: flags.level ?? 'informational', prefix: `W${k}.` }, rules, engine, fileOf, write, err, !!flags.quiet));
    }
  }
  const { visits, bad } = ownPaths.length || nThreads === 1
    ? await readEvidence(ownPaths, {
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
      })
    : { visits: [], bad: 0 };
  let n = visits.length;
  let bytes = visits.reduce((sum, v) => sum + v.size, 0);
  let events = engine.events;
  let duplicates = engine.duplicates;
  let badAll = bad + walkBad;
  for (const r of await Promise.all(workerRuns)) {
    n += r.files;
    bytes += r.bytes;
    events += r.events;
    duplicates += r.duplicates;
    badAll += r.bad;
  }
  engine.finish(write);
  if (!flags.quiet) {
    const s = (Date.now() - t0) / 1000;
    err.write(`spoor: ${n} EVTX files, ${(bytes / 1e6).toFixed(1)} MB, ${events} events, ${hits} matches (${duplicates} carved duplicates not repeated) in ${s.toFixed(1)} s${nThreads > 1 ? ` on ${nThreads} threads` : ''}\n`);
  }
  return badAll ? EXIT.partial : EXIT.ok;
}

/** One worker thread's share: its hits are written as they arrive, its correlation records merged at the end. */
function runWorker(
  data: HuntWorkerData,
  rules: readonly SigmaRule[],
  engine: SigmaEngine,
  fileOf: Map<string, string>,
  write: (h: SigmaHit) => void,
  err: NodeJS.WritableStream,
  quiet: boolean,
): Promise<{ events: number; duplicates: number; bytes: number; files: number; bad: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../../sigma/hunt-worker.js', import.meta.url), { workerData: data });
    let done = false;
    w.on('message', (m: HuntWorkerMessage) => {
      if (m.t === 'hits') {
        for (const h of m.hits) {
          const rule = rules[h.ri];
          if (!rule) continue;
          fileOf.set(h.ref.evidence, h.file);
          const { ri: _ri, file: _f, ...rest } = h;
          write({ ...rest, rule });
        }
      } else if (m.t === 'skip') {
        if (!m.quiet || !quiet) err.write(`spoor: skipped ${terminalSafe(m.path)}: ${m.reason}\n`);
      } else if (m.t === 'problem') {
        if (!quiet) err.write(`spoor: ${terminalSafe(m.path)}: offset ${m.offset ?? '?'}: ${terminalSafe(m.reason)}\n`);
      } else if (m.t === 'done') {
        done = true;
        for (const [id, path] of m.evidence) fileOf.set(id, path);
        engine.importBase(m.base as BaseRecord[][]);
        resolve({ events: m.events, duplicates: m.duplicates, bytes: m.bytes, files: m.files, bad: m.bad });
      } else if (m.t === 'error') {
        done = true;
        reject(new Error(`hunt worker: ${m.message}`));
      }
    });
    w.on('error', (e) => reject(e));
    w.on('exit', (code) => {
      if (!done) reject(new Error(`hunt worker exited (${code}) before finishing`));
    });
  });
}
