import type { Command } from 'commander';
import { isEvtx, type SpoorEvent } from '../../core/event.js';
import { HomeNet } from '../../core/homenet.js';
import { readEvidence } from '../../intake/read.js';
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
  const { bad } = await readEvidence(paths, {
    homeNet,
    onSkip: (path, reason) => process.stderr.write(`spoor: skipped ${terminalSafe(path)}: ${reason}\n`),
    onProblem: (v, p) => process.stderr.write(`spoor: ${terminalSafe(v.path)}: offset ${p.offset ?? '?'}: ${terminalSafe(p.reason)}\n`),
    async onBatch(batch, v) {
      let ok = true;
      for (const e of batch) {
        if (flags.as && e['event.dataset'] !== flags.as) continue;
        const line = flags.format === 'xml' ? (isEvtx(e) ? evtxEventToXml(e) : null) : JSON.stringify({ ...e, '@timestamp': new Date(e['@timestamp']).toISOString(), 'evidence.path': v.path });
        if (line !== null) ok = out.write(line + '\n') && ok;
      }
      if (!ok) await new Promise((r) => out.once('drain', r));
    },
  });
  return bad ? EXIT.partial : EXIT.ok;
}
