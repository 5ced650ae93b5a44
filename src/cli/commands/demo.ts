import type { Command } from 'commander';
import { mkdtemp, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from './simulate.js';
import { loadConfig } from '../../pipeline/config.js';
import { investigateCase } from '../../pipeline/investigate.js';
import { createLogger } from '../../pipeline/log.js';
import type { IncidentFile } from '../../incident/types.js';

interface Truth {
  home_nets: string[];
  attackers: string[];
  compromised: { ip: string; host?: string; technique: string; since: string }[];
  c2: string[];
  entry: { host: string; technique: string; time: string; from: string } | null;
}

const CASES = [
  { name: 'case1-rdp-bruteforce', alert: (t: Truth) => `outbound-scan ${t.compromised[0]?.ip}` },
  { name: 'case2-spring-webshell-c2-lateral', alert: (t: Truth) => `outbound ${t.entry?.host ?? t.compromised[0]?.ip} -> ${t.c2[0]}` },
];

export function register(program: Command): void {
  program
    .command('demo')
    .description('simulate the two reference incidents with benign background, investigate them, and print where the reports are')
    .option('--out <dir>', 'folder for the demo (default: a new temporary folder)')
    .option('--tz <zone>', 'time zone of the reports', 'Asia/Shanghai')
    .action(async (flags: { out?: string; tz: string }) => {
      process.exitCode = await runDemo(flags);
    });
}

export async function runDemo(flags: { out?: string; tz: string }): Promise<number> {
  const root = flags.out ?? (await mkdtemp(join(tmpdir(), 'spoor-demo-')));
  const logger = createLogger({ quiet: true });
  const lines: string[] = [];
  let allMatch = true;
  let lastWebServer: string | undefined;
  const t0 = Date.now();
  for (const c of CASES) {
    const evidence = join(root, c.name, 'evidence');
    const sim = await simulate(c.name, join(evidence, 'incident'), { seed: 1 });
    const bg = await simulate('benign-office', join(evidence, 'background'), { seed: 2 });
    // The ground truth is for checking the verdict, not evidence: keep it beside the evidence folder.
    await rename(sim.truthPath, join(root, c.name, 'truth.json'));
    await rename(bg.truthPath, join(root, c.name, 'truth-background.json'));
    const truth = JSON.parse(await readFile(join(root, c.name, 'truth.json'), 'utf8')) as Truth;
    const config = await loadConfig({ homeNet: truth.home_nets.join(','), tz: flags.tz, alert: c.alert(truth) });
    const { outDir, file } = await investigateCase({ paths: [evidence], out: join(root, c.name, 'case'), config, logger, force: true });
    const v = verdict(file, truth);
    if (c.name.startsWith('case2')) lastWebServer = truth.compromised[0]?.ip;
    allMatch &&= v.match;
    lines.push(`${c.name}`, `  alert:       ${config.alert}`, ...v.lines.map((l) => `  ${l}`), `  report:      ${join(outDir, 'report.html')}`, `               ${join(outDir, 'report.zh.md')}  ${join(outDir, 'report.en.md')}`, '');
  }
  process.stdout.write(lines.join('\n'));
  process.stdout.write(`demo finished in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${allMatch ? 'both verdicts match the simulator\'s ground truth' : 'SOME VERDICTS DIFFER FROM THE GROUND TRUTH (see above)'}\n`);
  const c2case = join(root, CASES[1].name, 'case');
  process.stdout.write(`next: npx spoor search ${c2case} 'dst=${lastWebServer ?? '80.66.1.15'}'   (who attacked the web server)\n`);
  process.stdout.write(`      npx spoor search ${c2case} 'src=${lastWebServer ?? '80.66.1.15'} and dport=445'   (what it did next)\n`);
  process.stdout.write(`      npx spoor sql ${join(root, CASES[0].name, 'case')} "select code, count(*) n from evtx group by 1 order by n desc"\n`);
  return allMatch ? 0 : 1;
}

function verdict(file: IncidentFile, truth: Truth): { match: boolean; lines: string[] } {
  const inc = file.incidents[0];
  const set = (xs: string[]) => [...new Set(xs)].sort().join(', ') || '-';
  const got = {
    attackers: set(file.incidents.flatMap((i) => i.attackers)),
    compromised: set(file.incidents.flatMap((i) => i.compromised.map((c) => c.ip))),
    c2: set(file.incidents.flatMap((i) => i.c2)),
  };
  const want = { attackers: set(truth.attackers), compromised: set(truth.compromised.map((c) => c.ip)), c2: set(truth.c2) };
  const mark = (k: keyof typeof got) => (got[k] === want[k] ? 'ok' : `expected ${want[k]}`);
  const entry = inc?.entry ? `${inc.entry.technique} on ${inc.entry.host} from ${inc.entry.from} at ${inc.entry.time}` : '-';
  return {
    match: got.attackers === want.attackers && got.compromised === want.compromised && got.c2 === want.c2,
    lines: [
      `verdict:     ${inc ? inc.title.en : 'no incident found'}`,
      `attackers:   ${got.attackers}   [${mark('attackers')}]`,
      `compromised: ${got.compromised}   [${mark('compromised')}]`,
      `C2:          ${got.c2}   [${mark('c2')}]`,
      `entry:       ${entry}`,
      `findings:    ${file.findings.length}, evidence files: ${file.evidence.length}`,
    ],
  };
}
