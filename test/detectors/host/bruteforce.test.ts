import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostDetectors, bruteforce, bruteforceSuccess, spray } from '../../../src/detectors/host/index.js';
import { EventBuilder, MIN, run, T0 } from './builder.js';
import type { EvtxEvent } from '../../../src/core/event.js';

const ATTACKER = '203.0.113.50';

function attack(b: EventBuilder, n: number, start = T0, user = 'Administrator', ip = ATTACKER, stepMs = 2000): EvtxEvent[] {
  const out: EvtxEvent[] = [];
  for (let i = 0; i < n; i++) out.push(b.fail(start + i * stepMs, user, ip));
  return out;
}

test('brute force from one source: failed outcome, counts and bounded evidence', () => {
  const b = new EventBuilder();
  const fs = run([bruteforce], attack(b, 200));
  assert.equal(fs.length, 1);
  const f = fs[0];
  assert.equal(f.detector, 'host.bruteforce');
  assert.deepEqual(f.attack, ['T1110.001']);
  assert.equal(f.src, ATTACKER);
  assert.equal(f.user, 'Administrator');
  assert.equal(f.outcome, 'failed');
  assert.equal(f.severity, 'high'); // external source, 200 failures
  assert.equal(f.facts?.failures, 200);
  assert.ok((f.facts?.peakInWindow as number) >= 150);
  assert.ok(f.evidence.length <= 10 && f.evidence.length >= 5, 'bounded sample of records');
  assert.equal(f.evidence[0].record, 1);
  assert.match(f.summary.zh, /暴力破解/);
  assert.match(f.summary.en, /200 failed logons/);
});

test('an admin who mistypes twice then logs in is neither brute force nor brute-force success', () => {
  const b = new EventBuilder();
  const evs = [b.fail(T0, 'admin', '10.0.0.5'), b.fail(T0 + 5000, 'admin', '10.0.0.5'), b.logon(T0 + 10_000, 'admin', '10.0.0.5', '0x1234', '10')];
  const fs = run(hostDetectors, evs);
  assert.equal(fs.filter((f) => f.detector === 'host.bruteforce' || f.detector === 'host.bruteforce-success').length, 0);
});

test('failures below the window threshold spread over hours are not a brute force', () => {
  const b = new EventBuilder();
  const evs = [0, 1, 2, 3, 4, 5].map((i) => b.fail(T0 + i * 3_600_000, 'bob', '10.0.0.7'));
  assert.equal(run([bruteforce], evs).length, 0);
  // ... but a lower configured threshold catches them (thresholds come from ctx.settings)
  const fs = run([bruteforce], evs, { 'host.bruteforce': { totalThreshold: 6 } });
  assert.equal(fs.length, 1);
  assert.equal(fs[0].facts?.failures, 6);
});

test('brute force followed by a success from the same source is compromised and cites the success record', () => {
  const b = new EventBuilder();
  const evs = attack(b, 50);
  const ok = b.logon(T0 + 50 * 2000 + 1000, 'Administrator', ATTACKER, '0xabc', '10');
  evs.push(ok, b.logoff(T0 + 3_600_000, 'Administrator', '0xabc'));
  const fs = run(hostDetectors, evs);
  const s = fs.find((f) => f.detector === 'host.bruteforce-success');
  assert.ok(s, 'success finding');
  assert.equal(s.outcome, 'compromised');
  assert.equal(s.severity, 'critical');
  assert.equal(s.user, 'Administrator');
  assert.equal(s.src, ATTACKER);
  assert.ok(s.evidence.some((r) => r.record === ok.ref.record));
  assert.equal(s.facts?.failuresBefore, 50);
  const sess = s.facts?.session as { logonId: string; src: string; end: number; logonType: number };
  assert.equal(sess.logonId, '0xabc');
  assert.equal(sess.logonType, 10);
  assert.equal(sess.end, T0 + 3_600_000);
  const bf = fs.find((f) => f.detector === 'host.bruteforce');
  assert.equal(bf?.outcome, 'compromised');
  assert.match(s.summary.zh, /失陷/);
});

test('success evaluation does not depend on log order (RDP log read before the Security log)', () => {
  const b = new EventBuilder();
  const rdp = b.ev('1149', T0 + 200_000, { Param1: 'Administrator', Param2: 'WIN-SRV01', Param3: ATTACKER }, { provider: 'Microsoft-Windows-TerminalServices-RemoteConnectionManager', channel: 'Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational' });
  const fs = run([bruteforceSuccess], [rdp, ...attack(b, 30)]);
  assert.equal(fs.length, 1);
  assert.equal(fs[0].facts?.successEventId, '1149');
  assert.equal(fs[0].outcome, 'compromised');
});

test('a success long before the brute force is not its result', () => {
  const b = new EventBuilder();
  const evs = [b.logon(T0 - 86_400_000, 'Administrator', ATTACKER, '0x1'), ...attack(b, 30)];
  assert.equal(run([bruteforceSuccess], evs).length, 0);
});

test('password spraying and user guessing from one source', () => {
  const b = new EventBuilder();
  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'];
  const evs = users.map((u, i) => b.fail(T0 + i * 1000, u, '10.1.1.9'));
  const fs = run([spray], evs);
  assert.equal(fs.length, 1);
  assert.deepEqual(fs[0].attack, ['T1110.003']);
  assert.equal(fs[0].facts?.kind, 'password-spray');
  assert.equal(fs[0].facts?.peakDistinctAccounts, 7);
  // unknown user names → user guessing (4 distinct within 5 minutes)
  const b2 = new EventBuilder();
  const g = ['x1', 'x2', 'x3', 'x4'].map((u, i) => b2.fail(T0 + i * 1000, u, '10.1.1.9', '0xc0000064'));
  const fs2 = run([spray], g);
  assert.equal(fs2.length, 1);
  assert.equal(fs2[0].facts?.kind, 'user-guessing');
  // two accounts only: no spraying
  const b3 = new EventBuilder();
  assert.equal(run([spray], [b3.fail(T0, 'a', '10.1.1.9'), b3.fail(T0 + 1, 'b', '10.1.1.9')]).length, 0);
});

test('4771/4776/MSSQL failures count as guessing', () => {
  const b = new EventBuilder('DC01');
  const evs: EvtxEvent[] = [];
  for (let i = 0; i < 6; i++) evs.push(b.ev('4771', T0 + i * 1000, { TargetUserName: 'svc_sql', IpAddress: '::ffff:10.2.2.2', Status: '0x18' }));
  for (let i = 0; i < 6; i++) evs.push(b.ev('18456', T0 + i * 1000, { param1: 'sa', param2: ' Reason: Password did not match that for the login provided.', param3: ' [CLIENT: 10.3.3.3]' }, { provider: 'MSSQLSERVER', channel: 'Application' }));
  const fs = run([bruteforce], evs);
  const srcs = fs.map((f) => f.src).sort();
  assert.deepEqual(srcs, ['10.2.2.2', '10.3.3.3']);
  assert.equal(fs.find((f) => f.src === '10.3.3.3')?.user, 'sa');
});
