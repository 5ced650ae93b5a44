import { test } from 'node:test';
import type { SpoorEvent } from '../../../src/core/event.js';
import assert from 'node:assert/strict';
import { bruteforceDetector } from '../../../src/detectors/network/bruteforce.js';
import { conn, http, rec, run, T0, MIN } from './build.js';

test('RDP guessing from outside, then a long session: likely success', () => {
  const ev: SpoorEvent[] = [];
  for (let i = 0; i < 20; i++) {
    const c = conn({ ts: T0 + i * 5000, src: '51.235.163.75', dst: '10.0.0.5', dport: 3389, dur: 2500, rb: 3000 });
    ev.push(c, rec('rdp', T0 + i * 5000 + 10, '51.235.163.75', '10.0.0.5', 3389, { 'rdp.cookie': ['administrator', 'admin', 'test'][i % 3] }, c['conn.uid'] as string));
  }
  ev.push(conn({ ts: T0 + 30 * MIN, src: '51.235.163.75', dst: '10.0.0.5', dport: 3389, dur: 40 * MIN, rb: 5_000_000 }));
  const f = run(bruteforceDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].facts!.service, 'rdp');
  assert.equal(f[0].outcome, 'succeeded');
  assert.deepEqual([...(f[0].facts!.users as string[])].sort(), ['admin', 'administrator', 'test']);
  assert.equal(f[0].host, '10.0.0.5');
  assert.ok(f[0].evidence.some((r) => r.frame === ev[ev.length - 1].ref.frame), 'the session is cited');
});

test('RDP: a handful of connections without accounts is nothing; one hot account is a low-confidence attempt', () => {
  const few = Array.from({ length: 4 }, (_, i) => conn({ ts: T0 + i * 60_000, src: '10.0.0.9', dst: '10.0.0.5', dport: 3389, dur: 3_600_000, rb: 1_000_000 }));
  assert.equal(run(bruteforceDetector, few).length, 0);
  const c = conn({ ts: T0, src: '11.199.212.183', dst: '142.202.142.235', dport: 3389, dur: 1000 });
  const f = run(bruteforceDetector, [c, rec('rdp', T0 + 5, '11.199.212.183', '142.202.142.235', 3389, { 'rdp.cookie': 'a' }, c['conn.uid'] as string)]);
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'low');
  assert.deepEqual(f[0].facts!.hotAccounts, ['a']);
});

test('NTLM failures then success: compromised, user and status cited', () => {
  const ev: SpoorEvent[] = [];
  for (let i = 0; i < 12; i++)
    ev.push(rec('ntlm', T0 + i * 1000, '10.0.0.15', '10.0.0.5', 445, { 'user.name': 'administrator', 'user.domain': 'CORP', 'event.outcome': 'failure', 'ntlm.status': '0xC000006D' }));
  const ok = rec('ntlm', T0 + 20_000, '10.0.0.15', '10.0.0.5', 445, { 'user.name': 'administrator', 'user.domain': 'CORP', 'event.outcome': 'success' });
  ev.push(ok);
  const f = run(bruteforceDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'compromised');
  assert.equal(f[0].user, 'CORP\\administrator');
  assert.deepEqual(f[0].facts!.ntStatus, { STATUS_LOGON_FAILURE: 12 });
  assert.ok(f[0].evidence.some((r) => r.frame === ok.ref.frame));
});

test('NTLM failures without success are a failed brute force; few failures are nothing', () => {
  const ev = Array.from({ length: 15 }, (_, i) => rec('ntlm', T0 + i * 1000, '203.0.113.5', '10.0.0.5', 445, { 'user.name': `u${i}`, 'event.outcome': 'failure' }));
  const f = run(bruteforceDetector, ev);
  assert.equal(f[0].outcome, 'failed');
  assert.ok(f[0].attack.includes('T1110.003'), 'one guess per account is spraying');
  assert.equal(run(bruteforceDetector, ev.slice(0, 4)).length, 0);
});

test('SSH auth failures then success', () => {
  const ev = Array.from({ length: 25 }, (_, i) => rec('ssh', T0 + i * 2000, '192.168.56.1', '192.168.56.103', 22, { 'ssh.auth_success': false, 'ssh.auth_attempts': 1 }));
  ev.push(rec('ssh', T0 + 60_000, '192.168.56.1', '192.168.56.103', 22, { 'ssh.auth_success': true }));
  const f = run(bruteforceDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'compromised');
});

test('HTTP login flood with a different final answer', () => {
  const ev = Array.from({ length: 30 }, (_, i) => http(T0 + i * 500, '203.0.113.77', '10.0.0.80', { method: 'POST', uri: '/wp-login.php', status: 200, body: `log=admin&pwd=guess${i}` }));
  ev.push(http(T0 + 20_000, '203.0.113.77', '10.0.0.80', { method: 'POST', uri: '/wp-login.php', status: 302, body: 'log=admin&pwd=right' }));
  const f = run(bruteforceDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].facts!.service, 'http');
  assert.equal(f[0].outcome, 'succeeded');
  const normal = Array.from({ length: 30 }, (_, i) => http(T0 + i * 500, '203.0.113.77', '10.0.0.80', { uri: `/blog/${i}` }));
  assert.equal(run(bruteforceDetector, normal).length, 0);
});

test('NTLM failures that are not logon failures (ACCESS_DENIED on channel binding) are not guesses', () => {
  const ev = Array.from({ length: 26 }, (_, i) => rec('ntlm', T0 + i * 100, '172.17.0.184', '172.17.0.189', 445, { 'event.outcome': 'failure', 'ntlm.status': '0xc0000022' }));
  assert.equal(run(bruteforceDetector, ev).length, 0);
});

test('unanswered RDP/SSH attempts are scanning, not guessing', () => {
  const ev = Array.from({ length: 40 }, (_, i) => conn({ ts: T0 + i * 100, src: '203.0.113.4', dst: `10.0.0.${i + 1}`, dport: i % 2 ? 22 : 3389, state: 'S0' }));
  assert.equal(run(bruteforceDetector, ev).length, 0);
});

test('RDP: an internal admin who mistypes twice and logs on to one server is not guessing; the same hot account across hosts is', () => {
  const ev: SpoorEvent[] = [];
  const attempt = (ts: number, dst: string, dur: number, rb = 2000) => {
    const c = conn({ ts, src: '10.20.0.11', dst, dport: 3389, dur, rb });
    ev.push(c, rec('rdp', ts + 5, '10.20.0.11', dst, 3389, { 'rdp.cookie': 'administrator' }, c['conn.uid'] as string));
  };
  attempt(T0, '80.66.1.20', 4000);
  attempt(T0 + 30_000, '80.66.1.20', 4000);
  attempt(T0 + 60_000, '80.66.1.20', 40 * 60_000, 3_000_000);
  assert.equal(run(bruteforceDetector, ev, ['80.66.1.0/24', '10.0.0.0/8']).length, 0);
  attempt(T0 + 90_000, '80.66.1.21', 4000);
  const f = run(bruteforceDetector, ev, ['80.66.1.0/24', '10.0.0.0/8']);
  assert.equal(f.length, 1);
  assert.deepEqual(f[0].facts!.reasons, ['hot-account']);
});
