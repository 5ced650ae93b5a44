#!/usr/bin/env node
/**
 * spoor's command line. Thin: each command lives in cli/commands/ and calls the
 * library. Exit codes: 0 done; 1 failed; 2 usage error; 3 done, but some evidence
 * could not be read (fully or partly).
 */
import { Command, CommanderError } from 'commander';
import { SPOOR_VERSION } from '../pipeline/version.js';
import { UsageError, EXIT } from './common.js';
import { register as registerInvestigate } from './commands/investigate.js';
import { register as registerDump } from './commands/dump.js';
import { register as registerSearch } from './commands/search.js';
import { register as registerSql } from './commands/sql.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerSimulate } from './commands/simulate.js';
import { register as registerReport } from './commands/report.js';
import { register as registerExport } from './commands/export.js';
import { register as registerHunt } from './commands/hunt.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('spoor')
    .description('Incident-response investigator: Windows event logs and packet captures in, attack chain and responder report out.')
    .version(SPOOR_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  spoor investigate ./evidence --home-net 10.0.0.0/8,80.66.1.0/24 --tz Asia/Shanghai --out ./case1
  spoor investigate ./evidence --alert 'outbound-scan 80.66.1.15' --out ./case1
  spoor search ./case1 'src=80.66.1.15 and dport=445'
  spoor sql ./case1 "select dataset, count(*) from events group by 1"
  spoor report ./case1 --format html
  spoor hunt ./evidence --sigma ./sigma/rules/windows --level high
  spoor demo

Exit codes: 0 done, 1 failed, 2 usage error, 3 done but some evidence could not be read.`,
    );
  program.exitOverride();
  registerInvestigate(program);
  registerDump(program);
  registerSearch(program);
  registerSql(program);
  registerReport(program);
  registerExport(program);
  registerHunt(program);
  registerSimulate(program);
  registerDemo(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`spoor: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`spoor: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT.failed;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly || process.argv[1]?.endsWith('/spoor') || process.argv[1]?.endsWith('main.js')) {
  // `spoor dump … | head`: the reader of our output went away; that ends the job, quietly
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
