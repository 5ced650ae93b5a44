import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostDetectors, LogonSessions, accountManipulation, unusualLogon } from '../../../src/detectors/host/index.js';
import { EventBuilder, run, T0 } from './builder.js';
import type { EvtxEvent } from '../../../src/core/event.js';

const ATTACKER = '203.0.113.50';

test('LogonSessions links 4624 to 4634 and attributes actions by SubjectLogonId', () => {
  const b = new EventBuilder();
  const s = new LogonSessions();
  s.observe(b.logon(T0, 'alice', '10.0.0.9', '0x000000000001ABCD', '10'));
  s.observe(b.ev('4688', T0 + 1000, { SubjectLogonId: '0x1abcd', SubjectUserName: 'alice', NewProcessName: 'C:\\x\\masscan.exe', CommandLine: 'masscan -p3389 1.2.3.0/24' }));
  s.observe(b.ev('4724', T0 + 2000, { SubjectLogonId: '0x1ABCD', SubjectUserName: 'alice', TargetUserName: 'bob' }));
  s.observe(b.logoff(T0 + 60_000, 'alice', '0x1abcd'));
  const x = s.get('win-srv01', '0x1abcd');
  assert.ok(x);
  assert.equal(x.src, '10.0.0.9');
  assert.equal(x.logonType, 10);
  assert.equal(x.end, T0 + 60_000);
  assert.equal(x.actionCount, 2);
  assert.deepEqual(x.actionKinds, { process: 1, account: 1 });
  const sum = s.summarize(x);
  assert.equal(sum.durationMs, 60_000);
  assert.equal(sum.actions[1].what, 'password reset bob');
  // a different host with the same logon id is a different session
  assert.equal(s.get('OTHER', '0x1abcd'), undefined);
});

test('LogonSessions stays bounded', () => {
  const b = new EventBuilder();
  const s = new LogonSessions({ maxSessions: 100 });
  for (let i = 0; i < 1000; i++) s.observe(b.logon(T0 + i, 'u' + i, '10.0.0.1', '0x' + (0x1000 + i).toString(16), '3'));
  assert.ok(s.size <= 100);
  assert.ok(s.evicted >= 900);
});

function case1(b: EventBuilder): EvtxEvent[] {
  // 03:20–03:30 local (UTC+8): brute force over RDP, success, password change in that session at 03:36
  const evs: EvtxEvent[] = [];
  for (let i = 0; i < 300; i++) evs.push(b.fail(T0 + i * 2000, i % 10 === 0 ? 'admin' : 'Administrator', ATTACKER));
  evs.push(b.logon(T0 + 601_000, 'Administrator', ATTACKER, '0x5a5a', '10'));
  evs.push(b.ev('4723', T0 + 16 * 60_000, { TargetUserName: 'Administrator', TargetSid: 'S-1-5-21-1-2-3-500', SubjectUserName: 'Administrator', SubjectLogonId: '0x5a5a', SubjectDomainName: 'WIN-SRV01' }));
  evs.push(b.ev('4738', T0 + 16 * 60_000 + 10, { TargetUserName: 'Administrator', SubjectUserName: 'Administrator', SubjectLogonId: '0x5a5a' }));
  return evs;
}

test('password change in the session opened by the brute-force success is critical and names the session', () => {
  const b = new EventBuilder();
  const fs = run([accountManipulation], case1(b), { host: { timeZone: 'Asia/Shanghai' } });
  assert.equal(fs.length, 1, 'the accompanying 4738 is not reported separately');
  const f = fs[0];
  assert.equal(f.facts?.eventId, '4723');
  assert.equal(f.severity, 'critical');
  assert.equal(f.src, ATTACKER);
  const sess = f.facts?.session as { logonId: string; src: string; logonType: number };
  assert.equal(sess.logonId, '0x5a5a');
  assert.equal(sess.src, ATTACKER);
  assert.equal(sess.logonType, 10);
  assert.ok((f.facts?.reasons as string[]).includes('session-of-brute-force-success'));
  assert.ok((f.facts?.reasons as string[]).includes('night-time'));
  assert.equal(f.facts?.localTime, '2024-06-04 03:36');
  assert.match(f.summary.zh, /密码被修改/);
});

test('a routine daytime password change by an internal admin is not reported; account creation and admin-group addition are', () => {
  const b = new EventBuilder();
  const day = Date.parse('2024-06-04T02:00:00Z'); // 10:00 in UTC+8
  const evs = [
    b.logon(day, 'it-admin', '10.0.0.20', '0x77', '10'),
    b.ev('4724', day + 1000, { TargetUserName: 'bob', SubjectUserName: 'it-admin', SubjectLogonId: '0x77' }),
    b.ev('4720', day + 2000, { TargetUserName: 'temp1', TargetSid: 'S-1-5-21-1-2-3-1010', SubjectUserName: 'it-admin', SubjectLogonId: '0x77' }),
    b.ev('4732', day + 3000, { MemberName: '-', MemberSid: 'S-1-5-21-1-2-3-1010', TargetUserName: 'Administrators', TargetSid: 'S-1-5-32-544', SubjectUserName: 'it-admin', SubjectLogonId: '0x77' }),
    b.ev('4732', day + 4000, { MemberName: '-', MemberSid: 'S-1-5-21-1-2-3-1010', TargetUserName: 'Users', TargetSid: 'S-1-5-32-545', SubjectUserName: 'it-admin', SubjectLogonId: '0x77' }),
  ];
  const fs = run([accountManipulation], evs, { host: { timeZone: 'Asia/Shanghai' } });
  assert.deepEqual(fs.map((f) => f.facts?.eventId).sort(), ['4720', '4732']);
  const grp = fs.find((f) => f.facts?.eventId === '4732');
  assert.equal(grp?.severity, 'high');
  assert.equal(grp?.facts?.group, 'Administrators');
  assert.deepEqual(fs.find((f) => f.facts?.eventId === '4720')?.attack, ['T1136.001']);
});

test('night logons unusual for the account, and RDP from a public address, are flagged; routine ones are not', () => {
  const b = new EventBuilder();
  const evs: EvtxEvent[] = [];
  // 20 daytime logons (10:00 local) from the office
  for (let d = 0; d < 20; d++) evs.push(b.logon(Date.parse('2024-05-01T02:00:00Z') + d * 86_400_000, 'ops', '10.0.0.30', '0x' + (0x100 + d).toString(16), '10'));
  // one logon at 04:10 local from the office
  evs.push(b.logon(Date.parse('2024-07-01T20:10:00Z'), 'ops', '10.0.0.30', '0x999', '10'));
  const fs = run([unusualLogon], evs, { host: { timeZone: 'Asia/Shanghai' } });
  assert.equal(fs.length, 1);
  assert.deepEqual(fs[0].facts?.reasons, ['night']);
  assert.equal(fs[0].facts?.nightLogons, 1);
  assert.equal(fs[0].severity, 'medium');
  // public source over RDP: high
  const b2 = new EventBuilder();
  const fs2 = run([unusualLogon], [b2.logon(Date.parse('2024-05-01T02:00:00Z'), 'ops', '198.51.100.7', '0x5', '10')], { host: { timeZone: 'Asia/Shanghai' } });
  assert.equal(fs2[0]?.severity, 'high');
  assert.ok((fs2[0]?.facts?.reasons as string[]).includes('public-source-rdp'));
  // daytime internal RDP only: nothing
  const b3 = new EventBuilder();
  assert.equal(run([unusualLogon], [b3.logon(Date.parse('2024-05-01T02:00:00Z'), 'ops', '10.0.0.30', '0x5', '10')], { host: { timeZone: 'Asia/Shanghai' } }).length, 0);
});

test('the full case-1 story from one Security log', () => {
  const b = new EventBuilder();
  const evs = case1(b);
  // later night logon from another public address, tools dropped and run
  evs.push(b.logon(Date.parse('2024-07-01T20:05:00Z'), 'Administrator', '198.51.100.9', '0x6b6b', '10'));
  evs.push(b.ev('4688', Date.parse('2024-07-01T20:09:00Z'), { SubjectLogonId: '0x6b6b', SubjectUserName: 'Administrator', NewProcessName: 'C:\\Users\\Administrator\\Downloads\\masscan.exe', CommandLine: 'masscan.exe -p3389 10.0.0.0/8 --rate 10000' }));
  evs.push(b.ev('4688', Date.parse('2024-07-01T20:10:00Z'), { SubjectLogonId: '0x6b6b', SubjectUserName: 'Administrator', NewProcessName: 'C:\\Users\\Administrator\\Downloads\\syste64.exe', CommandLine: 'syste64.exe -o stratum+tcp://pool.example:3333 -u x' }));
  const fs = run(hostDetectors, evs, { host: { timeZone: 'Asia/Shanghai' } });
  const by = (d: string) => fs.filter((f) => f.detector === d);
  assert.equal(by('host.bruteforce').length, 1);
  assert.equal(by('host.bruteforce-success')[0]?.outcome, 'compromised');
  assert.equal(by('host.account-manipulation')[0]?.facts?.eventId, '4723');
  const ex = by('host.execution');
  assert.ok(ex.some((f) => f.attack.includes('T1046') && f.facts?.subject === 'masscan.exe'));
  const miner = ex.find((f) => f.attack.includes('T1496'));
  assert.ok(miner);
  assert.equal(miner.src, '198.51.100.9', 'tool findings carry the session source');
  assert.ok(by('host.unusual-logon').some((f) => f.src === '198.51.100.9' && f.severity === 'high'));
});

test('through the pipeline, night is judged in the case time zone (DetectorContext.tz), not UTC', async () => {
  const { DetectorHub } = await import('../../../src/pipeline/detect.js');
  const { HomeNet } = await import('../../../src/core/homenet.js');
  const b = new EventBuilder();
  const evs: EvtxEvent[] = [];
  for (let d = 0; d < 20; d++) evs.push(b.logon(Date.parse('2024-05-01T02:00:00Z') + d * 86_400_000, 'ops', '10.0.0.30', '0x' + (0x100 + d).toString(16), '10'));
  evs.push(b.logon(Date.parse('2024-07-01T20:10:00Z'), 'ops', '10.0.0.30', '0x999', '10')); // 04:10 in Shanghai, 20:10 UTC
  const findings = (tz: string) => {
    const hub = new DetectorHub([unusualLogon], { homeNet: new HomeNet(), settings: {}, tz });
    hub.observe(evs);
    return hub.finish();
  };
  assert.deepEqual(findings('Asia/Shanghai')[0]?.facts?.reasons, ['night']);
  assert.equal(findings('UTC').length, 0);
});
