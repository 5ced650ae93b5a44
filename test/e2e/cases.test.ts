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

/** Both reports exist with the seeds' sections: what happened, how it was investigated, root cause, remediation, timeline. */
async function reports(dir: string): Promise<{ zh: string; en: string }> {
  const zh = await readFile(join(dir, 'case', 'report.zh.md'), 'utf8');
  const en = await readFile(join(dir, 'case', 'report.en.md'), 'utf8');
  for (const h of ['## 一、问题描述', '### 1.3 排查结论', '## 二、处理过程', '## 三、根因', '## 四、解决方案', '## 五、建议与总结', '### 5.3 事件时间线']) assert.ok(zh.includes(h), `zh section ${h}`);
  for (const h of ['## 1. Problem description', '### 1.3 Verdict', '## 2. Investigation', '## 3. Root cause', '## 4. Remediation', '## 5. Recommendations', '### 5.3 Timeline']) assert.ok(en.includes(h), `en section ${h}`);
  return { zh: zh.replace(/\\([!-/:-@[-`{-~])/g, '$1'), en: en.replace(/\\([!-/:-@[-`{-~])/g, '$1') };
}

/** Every root-cause statement and every recommendation cites records of findings that exist. */
function assertCited(file: IncidentFile): void {
  const ids = new Set(file.findings.map((f) => f.id));
  const main = file.incidents[0];
  assert.ok((main.root_cause_points ?? []).length >= 2, 'root cause as cited statements');
  for (const p of main.root_cause_points ?? []) {
    assert.ok(p.evidence.length > 0, `uncited root-cause statement: ${p.text.en}`);
    for (const id of p.findings) assert.ok(ids.has(id), `statement cites unknown finding ${id}`);
    assert.ok(/[\u4e00-\u9fff]/.test(p.text.zh) && p.text.zh.length * 2 >= p.text.en.length * 0.6, `zh statement as full as en: ${p.text.zh} / ${p.text.en}`);
  }
  for (const r of main.recommendations) {
    assert.ok((r.evidence ?? []).length > 0, `recommendation without evidence: ${r.action} ${r.target}`);
    assert.ok(r.findings.length > 0 && r.findings.every((id) => ids.has(id)), `recommendation findings: ${r.action} ${r.target}`);
  }
  // Quoted records: structured, with their UTC time, shown in the case zone beside the original.
  const quotes = main.steps.flatMap((s) => s.quotes ?? []);
  assert.ok(quotes.length > 0, 'quoted records');
}

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
    // The seed's conclusions, in both languages, each statement cited.
    assertCited(file);
    const { zh, en } = await reports(dir);
    const points = main.root_cause_points ?? [];
    // failures counted once (host and wire, and each host detector, count the same failed logons)
    const hostFailures = Math.max(...file.findings.filter((f) => f.detector === 'host.bruteforce').map((f) => Number(f.facts?.failures ?? 0)));
    assert.ok(hostFailures > 0);
    assert.match(main.root_cause.en, new RegExp(`\\(${hostFailures} failed logons`), main.root_cause.en);
    assert.ok(main.root_cause.zh.includes(`登录失败 ${hostFailures} 次`), main.root_cause.zh);
    // the password reset right after the break-in, from the attacker's session, cited by its 4724 record
    const reset = points.find((p) => p.findings.some((id) => id.startsWith('host.account-manipulation')));
    assert.ok(reset, 'password reset statement');
    assert.match(reset!.text.zh, /administrator 的口令被重置/);
    assert.match(reset!.text.en, /password of administrator was reset/);
    // the second logon weeks later (the seed: first at 06-04 ~03:00, again at 07-02 ~04:00)
    const again = points.find((p) => /再次登录/.test(p.text.zh));
    assert.ok(again && /logged on again/.test(again.text.en), 'the later logon');
    assert.notEqual(again!.text.zh.match(/\d{4}-\d{2}-\d{2}/)?.[0], main.entry!.time.slice(0, 10), 'a later day');
    // what each dropped file is (the seed's 2.5: miner, downloader trojan, hacking tool, port scanner)
    for (const [file_, zhKind, enKind] of [['syste64.exe', '挖矿木马', 'coin miner'], ['host.exe', '下载器木马', 'downloader trojan'], ['mz64.exe', '凭据窃取工具', 'credential-theft tool'], ['masscan.exe', '端口扫描器', 'port scanner']]) {
      assert.ok(new RegExp(`${file_.replace('.', '\\.')} 是${zhKind}`).test(zh), `zh: ${file_} is ${zhKind}`);
      assert.ok(new RegExp(`${file_.replace('.', '\\.')} — ${enKind}`).test(en), `en: ${file_} is ${enKind}`);
    }
    // persistence: the miner's service is named and its removal recommended
    assert.ok(main.recommendations.some((r) => r.action === 'remove-persistence' && /Syste64/i.test(r.target)), 'remove the Syste64 service');
    assert.ok(zh.includes('实现持久化') && en.includes('to survive reboots'));
    // the reported scan is tied to the symptom
    assert.ok(zh.includes('即被通报的扫描行为') && en.includes('the scanning that was reported'));
    // RDP: close or restrict by source, lockout; reset the changed password
    const rdp = main.recommendations.find((r) => /3389/.test(r.target))!;
    assert.match(rdp.text.zh, /限制源 IP/);
    assert.match(rdp.text.zh, /账户锁定策略/);
    assert.match(rdp.text.en, /lockout/);
    assert.ok(main.recommendations.some((r) => r.action === 'reset-credentials' && r.target === 'administrator'));
    // the system's own sc.exe and the machine account are not indicators
    assert.ok(!main.iocs.files.some((f) => /\\windows\\system32\\/i.test(f)), main.iocs.files.join(' '));
    assert.ok(!main.iocs.accounts.some((a) => a.endsWith('$')), main.iocs.accounts.join(' '));
    const pool = String(file.findings.find((f) => f.detector === 'net.mining' && f.facts?.pool)?.facts?.pool ?? '');
    assert.ok(pool && main.iocs.ips.includes(pool), `pool ${pool} is an indicator`);
    assert.equal(main.iocs.notes?.[pool]?.zh, '矿池');
    assert.equal(main.iocs.notes?.[pool]?.en, 'mining pool');
    // excerpts in the case zone with the UTC original
    const q = main.steps.flatMap((s) => s.quotes ?? []).find((x) => x.time)!;
    const local = new Date(Date.parse(q.time!) + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    for (const md of [zh, en]) assert.ok(md.includes(`${local} (${q.time})`), `quoted time ${local} (${q.time})`);
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
    // The seed's conclusions and its two recommendations, in both languages, each cited.
    assertCited(file);
    const r = await reports(dir);
    // patch only what was exploited; a refused probe is something to check, not a proven hole
    for (const rec of main.recommendations.filter((x) => x.action === 'patch')) {
      assert.ok(file.findings.some((f) => f.detector === 'net.web-exploit' && f.facts?.cve === rec.target && (f.outcome === 'compromised' || f.outcome === 'succeeded')), `patch ${rec.target} without a successful exploit`);
    }
    const patch = main.recommendations.find((x) => x.action === 'patch' && x.target === 'CVE-2022-22965')!;
    assert.match(patch.text.zh, /修复 .*Spring Framework.*漏洞（CVE-2022-22965）/);
    assert.match(patch.text.en, /upgrade/);
    // remove the web shell (named), block the C2, deal with the second host's SMB
    assert.ok(main.recommendations.some((x) => x.action === 'remove-file' && /\.jsp$/.test(x.target) && /Webshell/.test(x.text.zh) && /web shell/.test(x.text.en)), 'remove the web shell');
    const second = truth.compromised.find((c) => c.ip !== truth.entry.host && !c.technique.startsWith('T1190'));
    if (second) assert.ok(main.recommendations.some((x) => x.action === 'disable-service' && x.target.startsWith(`${second.ip}:445`) && /SMB/.test(x.text.zh)), 'close SMB or change the password on the second host');
    // both hosts talk to the C2 with Cobalt Strike's traffic (the seed: 典型的CS通讯流量)
    assert.ok(r.zh.includes('Cobalt Strike') && r.en.includes('Cobalt Strike'));
    const c2pts = (main.root_cause_points ?? []).filter((p) => truth.c2.some((c) => p.text.en.includes(`C2 ${c}`)));
    assert.equal(c2pts.length, truth.compromised.length, 'one C2 statement per compromised host');
    assert.ok(r.zh.includes('攻击者通过 Webshell 执行了') && r.en.includes('Through the web shell the attacker ran'), 'what was done through the web shell');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
