import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../pipeline/config.js';
import { investigateCase, OutputExistsError } from '../../pipeline/investigate.js';
import { createLogger, type LogFormat } from '../../pipeline/log.js';
import { loadSigmaRules, sigmaDetectorModule } from '../../sigma/index.js';
import { collect, EXIT, logFormatOption, quietOption, UsageError } from '../common.js';

export interface InvestigateFlags {
  out?: string;
  homeNet?: string;
  tz?: string;
  lang?: string;
  config?: string;
  alert?: string;
  sigma?: string[];
  force?: boolean;
  quiet?: boolean;
  logFormat?: LogFormat;
}

export function register(program: Command): void {
  program
    .command('investigate')
    .description('read evidence (EVTX, pcap, pcapng; gzip too), detect the attack, build the incident and write the case folder with its reports')
    .argument('<paths...>', 'evidence files and folders (walked recursively; formats recognised by content)')
    .option('-o, --out <dir>', 'case folder to create (never overwritten unless --force)', 'spoor-case')
    .option('--home-net <cidrs>', 'internal address ranges, comma-separated (default: RFC 1918, RFC 4193, loopback, link-local)')
    .option('--tz <zone>', 'time zone of the reports, IANA name (default: this machine\'s)')
    .option('--lang <lang>', 'report language: zh, en or both', undefined)
    .option('--config <file>', 'YAML/JSON case configuration (home_nets, tz, alert, hosts, detector thresholds)')
    .option('--alert <symptom>', "the symptom the customer was told about, e.g. 'outbound-scan 80.66.1.15' or 'outbound 80.66.1.15 -> 203.0.113.156'")
    .option('--sigma <path>', 'Sigma rule file or folder to run as extra detections (repeatable)', collect)
    .option('--force', 'replace an existing --out folder')
    .addOption(quietOption())
    .addOption(logFormatOption())
    .addHelpText(
      'after',
      `
Examples:
  spoor investigate ./evidence --home-net 10.0.0.0/8,80.66.1.0/24 --tz Asia/Shanghai --out ./case
  spoor investigate Security.evtx capture.pcapng --alert 'outbound-scan 80.66.1.15' --out ./case`,
    )
    .action(async (paths: string[], flags: InvestigateFlags) => {
      process.exitCode = await runInvestigate(paths, flags);
    });
}

export async function runInvestigate(paths: string[], flags: InvestigateFlags): Promise<number> {
  const logger = createLogger({ quiet: flags.quiet, format: flags.logFormat });
  let config;
  try {
    config = await loadConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const extraDetectors = [];
  if (config.sigma.length) {
    const { rules, unsupported } = await loadSigmaRules(config.sigma);
    if (rules.length === 0) throw new UsageError(`no Sigma rules could be loaded from ${config.sigma.join(', ')}`);
    logger.info(`Sigma: ${rules.length} rules loaded, ${unsupported.length} not supported (run spoor hunt for the list)`);
    for (const u of unsupported.slice(0, 20)) logger.warn(`Sigma rule not loaded: ${u.title ?? u.path}: ${u.reason}`);
    extraDetectors.push(sigmaDetectorModule(rules));
  }
  let result;
  try {
    result = await investigateCase({ paths, out: flags.out ?? 'spoor-case', config, logger, force: flags.force, extraDetectors });
  } catch (err) {
    if (err instanceof OutputExistsError) throw new UsageError(err.message);
    throw err;
  }
  const { file, outDir } = result;
  const inc = file.incidents;
  logger.info(`${file.evidence.length} evidence files read, ${file.skipped.length} skipped, ${file.findings.length} findings, ${inc.length} incident(s)`);
  for (const i of inc) {
    const comp = i.compromised.map((c) => c.ip || c.host).join(', ') || '-';
    logger.info(`  ${i.id} [${i.severity}] ${i.title.en} — attackers: ${i.attackers.join(', ') || '-'}; compromised: ${comp}; C2: ${i.c2.join(', ') || '-'}`);
  }
  // The one line a script needs, on stdout.
  process.stdout.write(`${outDir}\n`);
  logger.info(`report: ${outDir}/report.html (also report.zh.md, report.en.md, incident.json, case.duckdb)`);
  return result.exitCode === 3 ? EXIT.partial : EXIT.ok;
}
