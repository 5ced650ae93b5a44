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
