import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../../src/core/event.js';
import { lateralDetector } from '../../../src/detectors/network/lateral.js';
import { conn, rec, run, T0 } from './build.js';

test('SMB sweep of a /24 then NTLM success to one host', () => {
  const ev: SpoorEvent[] = [];
  for (let i = 1; i < 255; i++) ev.push(conn({ ts: T0 + i * 100, src: '10.0.0.15', dst: `10.0.0.${i}`, dport: 445, state: i === 5 ? 'SF' : i % 3 ? 'S0' : 'REJ' }));
  const auth = rec('ntlm', T0 + 60_000, '10.0.0.15', '10.0.0.5', 445, { 'user.name': 'administrator', 'user.domain': 'WORKGROUP', 'event.outcome': 'success' });
  ev.push(auth);
  const f = run(lateralDetector, ev);
  const sweep = f.find((x) => x.facts!.kind === 'sweep')!;
  assert.ok(sweep);
  assert.equal(sweep.outcome, 'succeeded');
  assert.equal(sweep.facts!.hosts, 253);
  assert.ok(sweep.evidence.some((r) => r.frame === auth.ref.frame));
  const hit = f.find((x) => x.facts!.kind === 'auth-after-sweep')!;
  assert.equal(hit.dst, '10.0.0.5');
  assert.equal(hit.user, 'WORKGROUP\\administrator');
  assert.equal(hit.outcome, 'succeeded');
});

test('PsExec: ADMIN$ tree connect, PSEXESVC.exe written, svcctl CreateServiceW', () => {
  const s = '10.0.0.10';
  const d = '10.0.0.20';
  const ev = [
    rec('ntlm', T0, s, d, 445, { 'user.name': 'admin', 'event.outcome': 'success' }),
    rec('smb', T0 + 10, s, d, 445, { 'event.action': 'tree-connect', 'smb.tree': `\\\\${d}\\ADMIN$`, 'smb.status': '0x00000000' }),
    rec('smb', T0 + 20, s, d, 445, { 'event.action': 'create', 'smb.tree': `\\\\${d}\\ADMIN$`, 'file.name': 'PSEXESVC.exe', 'smb.status': '0x00000000' }),
    rec('dcerpc', T0 + 30, s, d, 445, { 'dcerpc.endpoint': 'svcctl', 'dcerpc.operation': 'CreateServiceW', 'service.name': 'PSEXESVC', 'process.command_line': '%SystemRoot%\\PSEXESVC.exe' }),
  ];
  const f = run(lateralDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'compromised');
  assert.ok(f[0].attack.includes('T1569.002'));
  assert.equal(f[0].facts!.tool, 'PsExec');
  assert.equal(f[0].host, d);
  assert.equal(f[0].evidence.length, 4);
});

test('ordinary SMB use (a client and two file servers, IPC$) is not lateral movement', () => {
  const ev = [
    conn({ ts: T0, src: '10.0.0.30', dst: '10.0.0.2', dport: 445 }),
    conn({ ts: T0 + 1, src: '10.0.0.30', dst: '10.0.0.3', dport: 445 }),
    rec('ntlm', T0 + 2, '10.0.0.30', '10.0.0.2', 445, { 'user.name': 'bob', 'event.outcome': 'success' }),
    rec('smb', T0 + 3, '10.0.0.30', '10.0.0.2', 445, { 'event.action': 'tree-connect', 'smb.tree': '\\\\fs\\IPC$', 'smb.status': '0x00000000' }),
    rec('smb', T0 + 4, '10.0.0.30', '10.0.0.2', 445, { 'event.action': 'tree-connect', 'smb.tree': '\\\\fs\\Public', 'smb.status': '0x00000000' }),
  ];
  assert.deepEqual(run(lateralDetector, ev), []);
});

test('an executable copied to C$ is tool transfer (T1570), not yet execution', () => {
  const ev = [
    rec('smb', T0, '192.168.1.10', '192.168.1.20', 445, { 'event.action': 'tree-connect', 'smb.tree': '\\\\admin-pc\\c$', 'smb.status': '0x00000000' }),
    rec('smb', T0 + 10, '192.168.1.10', '192.168.1.20', 445, { 'event.action': 'create', 'smb.tree': '\\\\admin-pc\\c$', 'file.name': 'temp\\mimikatz.exe', 'smb.status': '0x00000000' }),
  ];
  const f = run(lateralDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].facts!.kind, 'tool-transfer');
  assert.equal(f[0].outcome, 'succeeded');
  assert.ok(f[0].attack.includes('T1570') && !f[0].attack.includes('T1569.002'));
});
