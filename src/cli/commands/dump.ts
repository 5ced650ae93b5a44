import type { Command } from 'commander';
import { isEvtx, type SpoorEvent } from '../../core/event.js';
import { HomeNet } from '../../core/homenet.js';
import { openEvidence, recognise, walkPaths } from '../../intake/discover.js';
import { readers } from '../../readers/index.js';
import { evtxEventToXml } from '../../readers/evtx/index.js';
import { parseHomeNets } from '../../pipeline/config.js';
import { EXIT, UsageError } from '../common.js';
import { terminalSafe } from '../../pipeline/log.js';

interface DumpFlags {
  format: string;
  as?: string;
  homeNet?: string;
}

export function register(program: Command): void {
  program
    .command('dump')
    .description('print the normalized records of evidence files: EVTX records, or connection/protocol records of captures')
    .argument('<paths...>', 'evidence files or folders')
    .option('--format <format>', 'jsonl, or xml (EVTX only, in the reference parsers\' shape)', 'jsonl')
    .option('--as <dataset>', 'only records of this kind: evtx, conn, http, dns, tls, smb, ntlm, rdp, ssh, dcerpc, stratum, ...')
    .option('--home-net <cidrs>', 'internal ranges (for conn local_orig/local_resp)')
    .addHelpText('after', `
Examples:
  spoor dump Security.evtx > security.jsonl
  spoor dump Security.evtx --format xml
  spoor dump capture.pcapng --as conn
  spoor dump capture.pcap --as http`)
    .action(async (paths: string[], flags: DumpFlags) => {
      if (flags.format !== 'jsonl' && flags.format !== 'xml') throw new UsageError('--format must be jsonl or xml');
      process.exitCode = await runDump(paths, flags);
    });
}

export async function runDump(paths: string[], flags: DumpFlags, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const homeNet = new HomeNet(flags.homeNet ? parseHomeNets([flags.homeNet]) : undefined);
  const { files, problems } = await walkPaths(paths);
  let bad = problems.length;
  for (const p of problems) process.stderr.write(`spoor: ${terminalSafe(p.path)}: ${p.reason}\n`);
  let n = 0;
  for (const f of files) {
    const rec = await recognise(f.path, readers);
    if (!('reader' in rec)) {
      process.stderr.write(`spoor: skipped ${terminalSafe(f.path)}: ${rec.reason}\n`);
      bad++;
      continue;
    }
    const id = `E${++n}`;
    const stats = { records: 0, errors: 0 };
    const opened = openEvidence(f.path, rec.gzip);
    const write = (e: SpoorEvent) => {
      if (flags.as && e['event.dataset'] !== flags.as) return true;
      const line = flags.format === 'xml' ? (isEvtx(e) ? evtxEventToXml(e) : null) : JSON.stringify({ ...e, '@timestamp': new Date(e['@timestamp']).toISOString(), 'evidence.path': f.path });
      if (line === null) return true;
      return out.write(line + '\n');
    };
    try {
      for await (const batch of rec.reader.read(opened.stream, {
        evidenceId: id,
        path: f.path,
        homeNet,
        stats,
        problem: (p) => {
          if (p.severity === 'error') stats.errors++;
          process.stderr.write(`spoor: ${terminalSafe(f.path)}: offset ${p.offset ?? '?'}: ${p.reason}\n`);
        },
      })) {
        let ok = true;
        for (const e of batch) ok = write(e) && ok;
        if (!ok) await new Promise((r) => out.once('drain', r));
      }
    } catch (err) {
      stats.errors++;
      process.stderr.write(`spoor: ${terminalSafe(f.path)}: ${(err as Error).message}\n`);
    }
    await opened.digest.catch(() => undefined);
    if (stats.errors) bad++;
  }
  return bad ? EXIT.partial : EXIT.ok;
}
