import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntityCollector } from '../../src/investigation/index.js';
import { HomeNet } from '../../src/core/homenet.js';
import type { SpoorEvent } from '../../src/core/event.js';

function logon(code: string, computer: string, ws: string, ip: string, type: string): SpoorEvent {
  return {
    '@timestamp': Date.UTC(2024, 5, 3, 19, 36),
    'event.dataset': 'evtx',
    'event.code': code,
    ref: { evidence: 'E1', record: 1 },
    'winlog.computer_name': computer,
    'winlog.event_data': { WorkstationName: ws, IpAddress: ip, LogonType: type },
  };
}

test('RDP logons name the local computer as workstation: the client address is not bound to the server name', () => {
  const c = new EntityCollector(new HomeNet(['10.0.0.0/8', '80.66.1.0/24']));
  c.observe(logon('4624', 'APP-SRV01', 'APP-SRV01', '10.20.0.11', '10'));
  c.observe(logon('4624', 'APP-SRV01', 'APP-SRV01', '198.51.100.23', '10'));
  c.observe(logon('4624', 'APP-SRV01', 'PC-000-011', '10.20.0.11', '3'));
  const s = c.snapshot();
  assert.equal(s.hosts['APP-SRV01'], undefined);
  assert.deepEqual(s.hosts['PC-000-011']?.map((l) => l.ip), ['10.20.0.11']);
  // a network logon of the host to itself does tie its name to its address
  c.observe(logon('4624', 'APP-SRV01', 'APP-SRV01', '80.66.1.5', '3'));
  assert.deepEqual(c.snapshot().hosts['APP-SRV01']?.map((l) => l.ip), ['80.66.1.5']);
});

function conn(src: string, dst: string, t: number): SpoorEvent {
  return { '@timestamp': t, 'event.dataset': 'conn', ref: { evidence: 'E2', frame: t }, 'source.ip': src, 'destination.ip': dst, 'destination.port': 443, 'conn.state': 'SF' };
}

test('contacts: counted per outside address and source, capped, and a snapshot never changes after later events', () => {
  const c = new EntityCollector(new HomeNet(['10.0.0.0/8']), { maxContactSrcsPerDst: 2 });
  c.observe(conn('10.0.0.1', '203.0.113.9', 5));
  c.observe(conn('10.0.0.1', '203.0.113.9', 3));
  c.observe(conn('10.0.0.2', '203.0.113.9', 7));
  c.observe(conn('10.0.0.3', '203.0.113.9', 8)); // over the per-destination cap
  c.observe(conn('203.0.113.9', '10.0.0.1', 9)); // inbound: an exposure, not a contact
  const s1 = c.snapshot();
  assert.deepEqual(s1.contacts['203.0.113.9'].map((r) => [r.src, r.first, r.last, r.count]), [['10.0.0.1', 3, 5, 2], ['10.0.0.2', 7, 7, 1]]);
  assert.equal(s1.dropped, 1);
  assert.deepEqual(Object.keys(s1.contacts), ['203.0.113.9']);
  assert.equal(s1.exposed['10.0.0.1'][0].port, 443);
  c.observe(conn('10.0.0.1', '203.0.113.9', 1));
  c.observe(conn('10.0.0.4', '198.51.100.1', 2));
  const s2 = c.snapshot();
  assert.deepEqual(s1.contacts['203.0.113.9'].map((r) => [r.first, r.count]), [[3, 2], [7, 1]]);
  assert.equal(s1.contacts['198.51.100.1'], undefined);
  assert.deepEqual(s2.contacts['203.0.113.9'].map((r) => [r.first, r.count]), [[1, 3], [7, 1]]);
  assert.equal(s2.contacts['198.51.100.1'][0].src, '10.0.0.4');
});

test('a sweep and a logon from the same detector are told apart (the classification cache keys on what classify reads)', async () => {
  const { investigateAll } = await import('../../src/investigation/index.js');
  const t0 = Date.UTC(2024, 5, 12, 3, 20);
  const base = { detector: 'net.lateral', attack: ['T1021.002'], severity: 'high' as const, outcome: 'succeeded' as const, confidence: 0.9, src: '80.66.1.15', summary: { en: 'x', zh: 'x' } };
  const sweep = { ...base, id: 'net.lateral-1', first: t0, last: t0 + 10_000, host: '80.66.1.15', evidence: [{ evidence: 'E1', frame: 1 }], facts: { kind: 'sweep', sampleHosts: ['80.66.1.1', '80.66.1.2', '80.66.1.5'] } };
  const auth = { ...base, id: 'net.lateral-2', first: t0 + 34_000, last: t0 + 40_000, dst: '80.66.1.5', host: '80.66.1.5', evidence: [{ evidence: 'E1', frame: 9 }], facts: { kind: 'admin-share' } };
  const { graph } = investigateAll({ findings: [sweep, auth], homeNet: new HomeNet(['80.66.1.0/24']), tz: 'UTC' });
  const kindsOf = (id: string) => new Set(graph.edges.filter((e) => e.findings.includes(id)).map((e) => e.kind));
  assert.deepEqual([...kindsOf('net.lateral-1')], ['swept']);
  assert.deepEqual([...kindsOf('net.lateral-2')], ['authenticated-to']);
});
