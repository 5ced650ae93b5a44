import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../../src/core/event.js';
import { HomeNet } from '../../../src/core/homenet.js';
import { networkDetectors } from '../../../src/detectors/network/index.js';

const DATASETS = ['conn', 'http', 'dns', 'tls', 'smb', 'ntlm', 'kerberos', 'rdp', 'ssh', 'stratum', 'dcerpc', 'payload', 'weird'];
const FIELDS = [
  'source.ip', 'destination.ip', 'destination.port', 'conn.state', 'conn.history', 'source.bytes', 'destination.bytes', 'event.duration', 'conn.orig_ttl',
  'conn.orig_window', 'conn.orig_ipid', 'conn.orig_seq', 'url.original', 'url.domain', 'http.request.method', 'http.request.body.content', 'http.response.body.content',
  'http.request.headers', 'http.response.status_code', 'rdp.cookie', 'event.outcome', 'ntlm.status', 'smb.status', 'smb.tree', 'event.action', 'file.name', 'dcerpc.endpoint',
  'dcerpc.operation', 'stratum.login', 'dns.question.name', 'dns.resolved_ip', 'tls.client.server_name', 'tls.server.x509.serial_number', 'payload.orig', 'ssh.auth_success',
];

test('garbage records never throw and state stays usable', () => {
  let seed = 99;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed / 4294967296);
  const values = (): unknown => {
    const k = Math.floor(rnd() * 12);
    return [undefined, null, 0, -1, NaN, 1e308, '', '10.0.0.1', '999.1.1.1', '%%%${jndi:', { a: 1 }, ['x', 2]][k];
  };
  const ev: SpoorEvent[] = [];
  for (let i = 0; i < 2000; i++) {
    const e: Record<string, unknown> = { '@timestamp': rnd() < 0.05 ? ('x' as unknown) : 1.7e12 + i * 1000, 'event.dataset': DATASETS[i % DATASETS.length], ref: rnd() < 0.05 ? undefined : { evidence: 'E1', frame: i } };
    for (const f of FIELDS) if (rnd() < 0.5) e[f] = values();
    if (rnd() < 0.7) e['source.ip'] = `10.0.${i % 3}.${i % 250}`;
    if (rnd() < 0.7) e['destination.ip'] = `${rnd() < 0.5 ? 10 : 45}.1.${i % 7}.${i % 200}`;
    ev.push(e as unknown as SpoorEvent);
  }
  const homeNet = new HomeNet();
  for (const m of networkDetectors) {
    const d = m.create({ homeNet, settings: { [m.id]: { ...m.defaults } } });
    for (const e of ev) if (d.datasets.includes(e['event.dataset'])) assert.doesNotThrow(() => d.observe(e), m.id);
    const f = d.finish();
    assert.ok(Array.isArray(f));
    for (const x of f) {
      assert.ok(x.summary.en && x.summary.zh, m.id);
      assert.ok(x.evidence.length <= 20, `${m.id} evidence bounded`);
      assert.doesNotThrow(() => JSON.stringify(x));
    }
  }
});

test('every module documents id, bilingual title, ATT&CK ids and defaults', () => {
  const ids = new Set<string>();
  for (const m of networkDetectors) {
    assert.match(m.id, /^net\.[a-z0-9-]+$/);
    assert.ok(!ids.has(m.id));
    ids.add(m.id);
    assert.ok(m.title.en && m.title.zh);
    assert.ok(m.attack.length > 0 && m.attack.every((a) => /^T\d{4}(\.\d{3})?$/.test(a)));
    assert.ok(Object.keys(m.defaults).length > 0);
  }
});
