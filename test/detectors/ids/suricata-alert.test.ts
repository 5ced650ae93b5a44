import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../../src/core/event.js';
import { HomeNet } from '../../../src/core/homenet.js';
import { idsAlert, techniqueOf } from '../../../src/detectors/ids/suricata-alert.js';

function alertEvent(i: number, o: Partial<SpoorEvent> = {}): SpoorEvent {
  return {
    '@timestamp': Date.UTC(2022, 3, 1, 3, 15, i),
    'event.dataset': 'alert',
    ref: { evidence: 'E1', line: i + 1 },
    'source.ip': '80.66.1.15',
    'destination.ip': '203.0.113.156',
    'destination.port': 443,
    'rule.id': '2027082',
    'rule.name': 'ET MALWARE Cobalt Strike Beacon Observed',
    'rule.category': 'A Network Trojan was detected',
    'alert.severity': 1,
    'event.action': 'allowed',
    ...o,
  };
}

function run(events: SpoorEvent[], settings: Record<string, unknown> = {}) {
  const d = idsAlert.create({ homeNet: new HomeNet(['80.66.1.0/24']), settings: { [idsAlert.id]: settings } });
  for (const e of events) d.observe(e);
  return d.finish();
}

test('IDS alerts are grouped per signature and address pair, with counts, times and cited lines', () => {
  const evs = [...Array.from({ length: 30 }, (_, i) => alertEvent(i)), alertEvent(40, { 'destination.ip': '198.51.100.7' })];
  const f = run(evs);
  assert.equal(f.length, 2);
  const [a] = f;
  assert.equal(a!.detector, 'ids.alert');
  assert.deepEqual(a!.attack, ['T1071']);
  assert.equal(a!.severity, 'high');
  assert.equal(a!.outcome, 'attempt');
  assert.equal(a!.facts?.alerts, 30);
  assert.equal(a!.first, Date.UTC(2022, 3, 1, 3, 15, 0));
  assert.equal(a!.last, Date.UTC(2022, 3, 1, 3, 15, 29));
  assert.equal(a!.evidence.length, 20, 'bounded sample of references');
  assert.deepEqual(a!.evidence[0], { evidence: 'E1', line: 1 });
  assert.match(a!.summary.en, /30 alerts/);
  assert.match(a!.summary.zh, /共 30 次/);
});

test('blocked alerts are failed attempts; low-priority and ignored signatures are dropped', () => {
  const blocked = run([alertEvent(1, { 'event.action': 'blocked' }), alertEvent(2, { 'event.action': 'blocked' })]);
  assert.equal(blocked[0]!.outcome, 'failed');
  assert.equal(run([alertEvent(1, { 'alert.severity': 4 })]).length, 0);
  assert.equal(run([alertEvent(1, { 'alert.severity': 4 })], { minPriority: 4 })[0]!.severity, 'info');
  assert.equal(run([alertEvent(1)], { ignoreSids: [2027082] }).length, 0);
});

test('CVE ids in a signature become the cves fact', () => {
  const f = run([alertEvent(1, { 'rule.name': 'ET EXPLOIT Possible SpringCore RCE/Spring4Shell Inbound (CVE-2022-22965)', 'rule.category': 'Attempted Administrator Privilege Gain' })]);
  assert.deepEqual(f[0]!.facts?.cves, ['CVE-2022-22965']);
  assert.deepEqual(f[0]!.attack, ['T1190']);
  assert.equal(run([alertEvent(1)])[0]!.facts?.cves, undefined);
});

test('techniques from signature and class text', () => {
  assert.deepEqual(techniqueOf('ET EXPLOIT Possible SpringCore RCE/Spring4Shell Inbound (CVE-2022-22965)', 'Attempted Administrator Privilege Gain'), ['T1190']);
  assert.deepEqual(techniqueOf('ET SCAN Potential SSH Scan', 'Attempted Information Leak'), ['T1046']);
  assert.deepEqual(techniqueOf('ET POLICY Cryptocurrency Miner Checkin', 'Potential Corporate Privacy Violation'), ['T1496']);
  assert.deepEqual(techniqueOf('GPL ATTACK_RESPONSE id check returned root', 'Potentially Bad Traffic'), []);
});
