import type { Command } from 'commander';
import { openCaseReadOnly, printRows } from './case-access.js';

export function register(program: Command): void {
  program
    .command('sql')
    .description('run SQL on a case store (tables: events, findings, evidence, problems; views: ev, conn, http, dns, tls, smb, ntlm, rdp, ssh, evtx ...)')
    .argument('<dir>', 'case folder')
    .argument('<sql>', 'the query')
    .option('--json', 'one JSON object per row')
    .addHelpText('after', `
Examples:
  spoor sql ./case "select dataset, count(*) n from events group by 1 order by n desc"
  spoor sql ./case "select src_ip, count(*) from evtx where code = '4625' group by 1"`)
    .action(async (dir: string, sql: string, flags: { json?: boolean }) => {
      const { store } = await openCaseReadOnly(dir);
      try {
        const rows = await store.query(sql);
        printRows(rows, flags.json ? 'json' : 'table');
      } finally {
        await store.close();
      }
    });
}
