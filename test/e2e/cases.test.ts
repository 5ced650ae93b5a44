/**
 * End to end: the simulator writes each seed incident (with benign office background) as real
 * EVTX and pcap files; spoor investigates them from the files alone; the incident must state
 * the ground truth's conclusions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, rename, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/cli/commands/simulate.js';
import { loadConfig } from '../../src/pipeline/config.js';
import { investigateCase } from '../../src/pipeline/investigate.js';
import { createLogger } from '../../src/pipeline/log.js';
import { validateIncidentFile } from '../../src/incident/validate.js';
import type { IncidentFile } from '../../src/incident/types.js';

interface Truth {
  home_nets: string[];
  attackers: string[];
  compromised: { ip: string; host?: string; technique: string; since: string }[];
  c2: string[];
  entry: { host: string; technique: string; time: string; from: string };
}

async function runCase(name: string, alert: (t: Truth) => string): Promise<{ file: IncidentFile; truth: Truth; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), `spoor-e2e-${name}-`));
  const ev = join(dir, 'evidence');
  const sim = await simulate(name, join(ev, 'incident'), { seed: 11 });
  const bg = await simulate('benign-office', join(ev, 'background'), { seed: 12 });
  await rename(sim.truthPath, join(dir, 'truth.json'));
  await rename(bg.truthPath, join(dir, 'truth-background.json'));
  const truth = JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8')) as Truth;
  const config = await loadConfig({ homeNet: truth.home_nets.join(','), tz: 'Asia/Shanghai', alert: alert(truth) });
  const { file } = await investigateCase({ paths: [ev], out: join(dir, 'case'), config, logger: createLogger({ quiet: true }) });
  return { file, truth, dir };
}

const sorted = (xs: string[]) => [...new Set(xs)].sort();
const minutes = (a: string, b: string) => Math.abs(Date.parse(a) - Date.parse(b)) / 60_000;

test('case 1: RDP brute force → password change → tools → outbound scan', async () => {
  const { file, truth, dir } = await runCase('case1-rdp-bruteforce', (t) => `outbound-scan ${t.compromised[0].ip}`);
  try {
    assert.equal(validateIncidentFile(file), null);
    const main = file.incidents[0];
    assert.ok(main, 'an incident');
    assert.deepEqual(sorted(main.attackers), sorted(truth.attackers));
    assert.deepEqual(sorted(file.incidents.flatMap((i) => i.compromised.map((c) => c.ip))), sorted(truth.compromised.map((c) => c.ip)));
    const comp = main.compromised.find((c) => c.ip === truth.compromised[0].ip)!;
    assert.match(comp.via, /^T1110/);
    assert.ok(minutes(comp.since, truth.compromised[0].since) < 5, `compromised since ${comp.since}, truth ${truth.compromised[0].since}`);
    assert.ok(main.entry, 'entry point');
    assert.equal(main.entry!.from, truth.entry.from);
    assert.match(main.entry!.technique, /^T1110/);
    // the seed's steps: the password change in the attacker's session, the dropped tools, the outbound scan
    const techniques = new Set(main.techniques);
    for (const t of ['T1110.001', 'T1098', 'T1046']) assert.ok([...techniques].some((x) => x.startsWith(t)), `technique ${t} in ${[...techniques]}`);
    const files = main.iocs.files.join(' ').toLowerCase();
    for (const f of ['syste64.exe', 'host.exe', 'mz64.exe', 'masscan.exe']) assert.ok(files.includes(f), `IOC file ${f}`);
    const actions = new Set(main.recommendations.map((r) => r.action));
    for (const a of ['block-ip', 'isolate-host', 'reset-credentials', 'remove-file', 'scan-hosts']) assert.ok(actions.has(a), `recommendation ${a}`);
    assert.ok(main.recommendations.some((r) => /3389/.test(r.target)), 'restrict RDP 3389');
    // no benign host is called attacker or compromised
    const bad = main.hosts.filter((h) => (h.role === 'attacker' || h.role === 'compromised') && !truth.attackers.includes(h.ip ?? h.host) && !truth.compromised.some((c) => c.ip === h.ip));
    assert.deepEqual(bad, []);
    // the downloader host.exe polling 203.0.113.99 every 10 minutes (first capture, weeks before the last) is the C2
    assert.deepEqual(sorted(main.c2), sorted(truth.c2));
    // no brute-force finding that counts nothing (the intruder's later RDP logon is not guessing)
    for (const f of file.findings) if (f.detector === 'net.bruteforce') assert.doesNotMatch(f.summary.en, /\b0 attempts/, f.summary.en);
    const report = await readFile(join(dir, 'case', 'report.zh.md'), 'utf8');
    for (const s of [truth.attackers[0], truth.compromised[0].ip, '暴力破解']) assert.ok(report.includes(s), `zh report mentions ${s}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('case 2: Spring4Shell → webshell → C2 → SMB sweep → lateral NTLM → second beacon', async () => {
  const { file, truth, dir } = await runCase('case2-spring-webshell-c2-lateral', (t) => `outbound ${t.entry.host} -> ${t.c2[0]}`);
  try {
    assert.equal(validateIncidentFile(file), null);
    const main = file.incidents[0];
    assert.ok(main);
    assert.deepEqual(sorted(main.attackers), sorted(truth.attackers));
    assert.deepEqual(sorted(main.compromised.map((c) => c.ip)), sorted(truth.compromised.map((c) => c.ip)));
    assert.deepEqual(sorted(main.c2), sorted(truth.c2));
    for (const t of truth.compromised) {
      const c = main.compromised.find((x) => x.ip === t.ip)!;
      assert.equal(c.via.split('.')[0], t.technique.split('.')[0], `${t.ip} via ${c.via}, truth ${t.technique}`);
      assert.ok(minutes(c.since, t.since) < 10, `${t.ip} since ${c.since}, truth ${t.since}`);
    }
    // the successful exploitation is its own finding, dated by the request that wrote the shell; the refused probes apart
    const exploits = file.findings.filter((f) => f.detector === 'net.web-exploit' && f.facts?.signature === 'spring4shell');
    const won = exploits.find((f) => f.outcome === 'compromised');
    assert.ok(won, 'a compromised Spring4Shell finding');
    assert.ok(minutes(won!.first, truth.entry.time) < 1, `exploitation at ${won!.first}, truth ${truth.entry.time}`);
    assert.ok(exploits.some((f) => f.outcome === 'failed'), 'the refused probes are a failed finding');
    // Cobalt Strike's POST /submit.php?id= to the C2 is C2 traffic, not a web shell
    for (const f of file.findings) if (f.detector === 'net.webshell') assert.ok(!truth.c2.includes(f.dst ?? ''), f.summary.en);
    // the chain names hosts and ranges, never detector ids; the sweep of the /24 is a link of its own
    assert.deepEqual(main.chain.filter((l) => /^(net|host|sigma)\./.test(l.to)), []);
    assert.ok(main.chain.some((l) => l.from === truth.entry.host || l.to.endsWith('.0/24')), JSON.stringify(main.chain.map((l) => `${l.from}->${l.to}`)));
    assert.ok(!main.chain.some((l) => l.kind === 'mined-to'), 'a tool download is not mining');
    assert.equal(main.entry?.technique, 'T1190');
    assert.equal(main.entry?.from, truth.entry.from);
    assert.ok(main.iocs.files.some((f) => f.endsWith('.jsp')) || main.iocs.urls.some((u) => u.includes('.jsp')), 'webshell in IOCs');
    const targets = main.recommendations.map((r) => `${r.action} ${r.target}`).join('\n');
    for (const ip of [...truth.attackers, ...truth.c2]) assert.match(targets, new RegExp(`block-ip ${ip.replace(/\./g, '\\.')}`));
    for (const c of truth.compromised) assert.match(targets, new RegExp(`isolate-host .*${c.ip.replace(/\./g, '\\.')}`));
    assert.match(targets, /patch .*CVE-2022-22965/);
    const en = await readFile(join(dir, 'case', 'report.en.md'), 'utf8');
    for (const s of [...truth.c2, ...truth.attackers, 'CVE-2022-22965']) assert.ok(en.includes(s), `en report mentions ${s}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
