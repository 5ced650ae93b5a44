import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario, scenarioNames, type Truth } from '../../src/simulate/index.js';
import { simulate } from '../../src/cli/commands/simulate.js';
import { parseEvtxBuffer } from '../../src/readers/evtx/index.js';
import { CaptureParser } from '../../src/readers/pcap/capture.js';

const dir = mkdtempSync(join(tmpdir(), 'spoor-scen-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

type Ev = Record<string, unknown> & { 'winlog.event_data': Record<string, string> };
const evtx = (p: string) => parseEvtxBuffer(readFileSync(p), 'S') as unknown as Ev[];
const small1 = { attempts: 150, scanBursts: 2, probesPerBurst: 80, rarBytes: 200000 };

function frames(p: string): number {
  let n = 0;
  const parser = new CaptureParser({ onPacket: () => { n++; }, onProblem: (_o: number, r: string) => assert.fail(r) });
  parser.push(readFileSync(p));
  parser.end();
  return n;
}

function checkTruthShape(t: Truth) {
  for (const k of ['home_nets', 'attackers', 'compromised', 'c2', 'entry', 'steps', 'benign_periodic'] as const) assert.ok(k in t, `truth.${k}`);
  for (const s of t.steps) {
    assert.ok(!Number.isNaN(Date.parse(s.time)), s.time);
    assert.match(s.attack_id, /^T\d{4}(\.\d{3})?$/);
  }
  assert.deepEqual([...t.steps].sort((a, b) => a.time.localeCompare(b.time)), t.steps, 'steps in time order');
}

test('scenarios are listed', () => {
  assert.deepEqual(scenarioNames().sort(), ['benign-office', 'case1-rdp-bruteforce', 'case2-spring-webshell-c2-lateral']);
});

test('case 1: brute force, 03:3x type-10 logon, password reset by that session, tools, second night, masscan', async () => {
  const out = join(dir, 'c1');
  const { truth } = await runScenario('case1-rdp-bruteforce', out, { seed: 3, background: false, params: small1 });
  checkTruthShape(truth);
  assert.deepEqual(truth.attackers, ['198.51.100.23']);
  assert.equal(truth.compromised[0].ip, '80.66.1.5');
  assert.ok(truth.home_nets.includes('80.66.1.0/24') && truth.home_nets.includes('10.0.0.0/8'));
  const sec = evtx(join(out, 'Security.evtx'));
  const fails = sec.filter((e) => e['winlog.event_id'] === 4625);
  assert.equal(fails.length, 150);
  assert.ok(fails.every((e) => e['winlog.event_data'].IpAddress === '198.51.100.23' && BigInt(e['winlog.event_data'].Status) === 0xc000006dn));
  assert.ok(fails.some((e) => e['winlog.event_data'].LogonType === '10') && fails.some((e) => e['winlog.event_data'].LogonType === '3'));
  const t10 = sec.filter((e) => e['winlog.event_id'] === 4624 && e['winlog.event_data'].LogonType === '10' && e['winlog.event_data'].IpAddress === '198.51.100.23');
  assert.equal(t10.length, 2, 'first logon and the second night');
  const local = (ms: number) => new Date(ms + 8 * 3600000);
  assert.equal(local(t10[0]['@timestamp'] as number).getUTCHours(), 3);
  assert.ok(local(t10[0]['@timestamp'] as number).getUTCMinutes() >= 30);
  const days = ((t10[1]['@timestamp'] as number) - (t10[0]['@timestamp'] as number)) / 86400000;
  assert.ok(days > 25 && days < 35, `second logon ${days} days later`);
  assert.ok([0, 1, 2, 3, 4, 5].includes(local(t10[1]['@timestamp'] as number).getUTCHours()), 'second logon at night');
  const reset = sec.find((e) => e['winlog.event_id'] === 4724 || e['winlog.event_id'] === 4723)!;
  assert.ok(reset, 'password change event');
  assert.equal(BigInt(reset['winlog.event_data'].SubjectLogonId), BigInt(t10[0]['winlog.event_data'].TargetLogonId));
  const procs = sec.filter((e) => e['winlog.event_id'] === 4688).map((e) => e['winlog.event_data'].NewProcessName);
  for (const tool of ['syste64.exe', 'host.exe', 'mz64.exe', 'masscan.exe']) assert.ok(procs.some((p) => p.endsWith(tool)), tool);
  const sys = evtx(join(out, 'System.evtx'));
  assert.ok(sys.some((e) => e['winlog.event_id'] === 7045 && e['winlog.event_data'].ImagePath.includes('syste64.exe')));
  const def = evtx(join(out, 'Microsoft-Windows-Windows Defender%4Operational.evtx'));
  assert.equal(def.filter((e) => e['winlog.event_id'] === 1116).length, 4);
  assert.ok(def.some((e) => /CoinMiner/.test(e['winlog.event_data']['Threat Name'])));
  const cap = truth.evidence.find((e) => e.format === 'pcap')!;
  assert.equal(frames(join(out, cap.file)), cap.packets);
  assert.equal(cap.tcp_conversations, 150 + 2 + 160 + (cap.tcp_conversations! - 312), 'brute force + sessions + probes counted');
  assert.ok(truth.steps.some((s) => s.attack_id === 'T1046' && s.src === '80.66.1.5'));
});

test('case 2 and determinism: same seed gives the same bytes, another seed does not', async () => {
  const params = { beaconInterval: 300, end: '12:30:00', extraHosts: [8], smbHosts: [8] };
  const a = await simulate('case2-spring-webshell-c2-lateral', join(dir, 'c2a'), { seed: 9, background: false, params });
  const b = await simulate('case2-spring-webshell-c2-lateral', join(dir, 'c2b'), { seed: 9, background: false, params });
  const c = await simulate('case2-spring-webshell-c2-lateral', join(dir, 'c2c'), { seed: 10, background: false, params });
  checkTruthShape(a.truth);
  assert.deepEqual(a.truth.c2, ['203.0.113.156']);
  assert.deepEqual(a.truth.compromised.map((x) => x.ip), ['80.66.1.15', '80.66.1.5']);
  assert.equal(a.truth.entry?.technique, 'T1190');
  const hash = (d: string) => readdirSync(d).sort().map((f) => createHash('sha256').update(readFileSync(join(d, f))).digest('hex')).join();
  assert.equal(hash(join(dir, 'c2a')), hash(join(dir, 'c2b')));
  assert.notEqual(hash(join(dir, 'c2a')), hash(join(dir, 'c2c')));
  const log = readFileSync(join(dir, 'c2a', 'WEB01-localhost_access_log.2024-06-12.txt'), 'utf8');
  assert.match(log, /"POST \/index HTTP\/1.1" 200/);
  assert.match(log, /"GET \/tomcatwar.jsp\?pwd=j&cmd=whoami HTTP\/1.1" 200/);
});

test('benign office with scale: more background, no attackers', async () => {
  const s1 = await runScenario('benign-office', join(dir, 'b1'), { seed: 2, scale: 0.5, params: { days: 0.25, start: '2024-06-12T08:00:00' } });
  const s2 = await runScenario('benign-office', join(dir, 'b2'), { seed: 2, scale: 1.5, params: { days: 0.25, start: '2024-06-12T08:00:00' } });
  assert.deepEqual(s1.truth.attackers, []);
  assert.equal(s1.truth.entry, null);
  assert.ok(s1.truth.benign_periodic.some((p) => p.port === 10050));
  const pk = (t: Truth) => t.evidence.find((e) => e.format === 'pcap')!.packets!;
  assert.ok(pk(s2.truth) > pk(s1.truth) * 1.5, `${pk(s2.truth)} vs ${pk(s1.truth)}`);
  const fs = evtx(join(dir, 'b1', 'FS01-Security.evtx'));
  const admin = fs.filter((e) => e['winlog.event_data'].TargetUserName === 'administrator');
  assert.deepEqual(admin.slice(0, 3).map((e) => e['winlog.event_id']), [4625, 4625, 4624], 'two mistyped passwords, then success');
});
