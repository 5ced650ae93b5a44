import { test } from 'node:test';
import type { SpoorEvent } from '../../../src/core/event.js';
import assert from 'node:assert/strict';
import { scanDetector, toolFingerprint, isProbe, stealthProbe } from '../../../src/detectors/network/scan.js';
import { ipv4ToInt } from '../../../src/core/homenet.js';
import { conn, run, T0 } from './build.js';

test('inbound horizontal scan from outside is an attempt', () => {
  const ev = Array.from({ length: 30 }, (_, i) => conn({ ts: T0 + i * 1000, src: '203.0.113.9', dst: `10.1.1.${i + 1}`, dport: 22, state: i % 2 ? 'S0' : 'REJ' }));
  const f = run(scanDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'attempt');
  assert.equal(f[0].facts!.kind, 'horizontal');
  assert.equal(f[0].facts!.direction, 'inbound');
  assert.equal(f[0].facts!.topPort, 22);
  assert.ok(f[0].evidence.length >= 3 && f[0].evidence.length <= 12);
  assert.ok(f[0].evidence.every((r) => r.uid && r.frame));
  assert.match(f[0].summary.zh, /扫描/);
});

test('few failures or answered connections are not a scan', () => {
  const few = Array.from({ length: 10 }, (_, i) => conn({ ts: T0 + i * 1000, src: '203.0.113.9', dst: `10.1.1.${i + 1}`, dport: 22, state: 'S0' }));
  assert.equal(run(scanDetector, few).length, 0);
  const ok = Array.from({ length: 300 }, (_, i) => conn({ ts: T0 + i * 1000, src: '10.0.0.5', dst: `10.1.${i % 3}.${(i % 250) + 1}`, dport: 443, state: 'SF' }));
  assert.equal(run(scanDetector, ok).length, 0);
});

test('vertical scan of one host (REJ) from outside', () => {
  const ev = Array.from({ length: 40 }, (_, i) => conn({ ts: T0 + i * 200, src: '198.51.100.7', dst: '10.9.9.9', dport: 1000 + i, state: 'REJ' }));
  const f = run(scanDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].facts!.kind, 'vertical');
  assert.equal(f[0].dst, '10.9.9.9');
});

test('internal host scanning outward with masscan fingerprint is compromised', () => {
  const ev: SpoorEvent[] = [];
  for (let i = 0; i < 400; i++) {
    const dst = `45.${(i >> 8) & 255}.${i & 255}.7`;
    const seq = (i * 2654435761) >>> 0;
    const ipid = ((ipv4ToInt(dst) ^ 3389 ^ seq) & 0xffff) >>> 0;
    ev.push(conn({ ts: T0 + i * 10, src: '10.2.2.5', dst, dport: 3389, state: 'S0', ttl: 255, win: 1024, ipid, seq }));
  }
  const f = run(scanDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'compromised');
  assert.equal(f[0].host, '10.2.2.5');
  assert.equal(f[0].facts!.tool, 'masscan');
  assert.equal(f[0].facts!.direction, 'outbound');
  assert.match(f[0].summary.zh, /失陷/);
});

test('tool fingerprints: zmap IP ID, masscan XOR, nmap window', () => {
  assert.equal(toolFingerprint(conn({ ts: T0, src: '1.1.1.1', dst: '2.2.2.2', dport: 80, state: 'S0', ttl: 255, win: 65535, ipid: 54321, seq: 5 })), 'zmap');
  const seq = 123456789;
  const ipid = ((ipv4ToInt('2.2.2.2') ^ 80 ^ seq) & 0xffff) >>> 0;
  assert.equal(toolFingerprint(conn({ ts: T0, src: '1.1.1.1', dst: '2.2.2.2', dport: 80, state: 'S0', ttl: 255, win: 1024, ipid, seq })), 'masscan');
  assert.equal(toolFingerprint(conn({ ts: T0, src: '1.1.1.1', dst: '2.2.2.2', dport: 80, state: 'S0', ttl: 255, win: 1024, ipid: (ipid + 1) & 0xffff, seq })), undefined);
  assert.equal(toolFingerprint(conn({ ts: T0, src: '1.1.1.1', dst: '2.2.2.2', dport: 80, state: 'S0', ttl: 44, win: 1024, ipid: 999, seq })), 'nmap');
  assert.equal(toolFingerprint(conn({ ts: T0, src: '1.1.1.1', dst: '2.2.2.2', dport: 80, state: 'S0', ttl: 128, win: 64240, ipid: 999, seq })), undefined);
  assert.equal(isProbe(conn({ ts: T0, src: 'a', dst: 'b', dport: 1, state: 'RSTO', ob: 0, rb: 0 })), true);
  assert.equal(isProbe(conn({ ts: T0, src: 'a', dst: 'b', dport: 1, state: 'SF' })), false);
});

test('thresholds are configurable and episodes split after idle time', () => {
  const ev = Array.from({ length: 12 }, (_, i) => conn({ ts: T0 + i * 1000, src: '203.0.113.9', dst: `10.1.1.${i + 1}`, dport: 80, state: 'S0' }));
  assert.equal(run(scanDetector, ev, undefined, { 'net.scan': { remoteHostsOnPort: 10 } }).length, 1);
  const split = [
    ...Array.from({ length: 15 }, (_, i) => conn({ ts: T0 + i * 1000, src: '203.0.113.9', dst: `10.1.1.${i + 1}`, dport: 80, state: 'S0' })),
    ...Array.from({ length: 15 }, (_, i) => conn({ ts: T0 + 3600_000 + i * 1000, src: '203.0.113.9', dst: `10.1.2.${i + 1}`, dport: 80, state: 'S0' })),
  ];
  assert.equal(run(scanDetector, split).length, 0, 'two small episodes an hour apart are not one scan');
});

test('state stays bounded on a very large scan', () => {
  const det = scanDetector.create({ homeNet: new (class { isInternal(ip: string) { return ip.startsWith('10.'); } })() as never, settings: {} });
  const t0 = Date.now();
  for (let i = 0; i < 100_000; i++) {
    det.observe(conn({ ts: T0 + i, src: '10.3.3.3', dst: `${20 + (i % 200)}.${(i >> 8) & 255}.${i & 255}.1`, dport: 1 + (i % 1000), state: 'S0' }));
  }
  const f = det.finish();
  assert.equal(f.length, 1);
  assert.equal(f[0].facts!.uniqueTargetsCapped, true);
  assert.equal(f[0].facts!.probes, 100_000);
  assert.ok(f[0].evidence.length <= 12);
  assert.ok(Date.now() - t0 < 10_000);
});

test('a few FIN/NULL/Xmas stealth probes on distinct ports are a scan; mid-stream FINs are not', () => {
  const probe = (i: number, history: string, state: string) => ({ ...conn({ ts: T0 + i * 500, src: '192.168.1.178', dst: '192.168.1.2', dport: 3390 + i, state, history, ob: 0, rb: 0 }), 'source.packets': 1 });
  assert.equal(stealthProbe(probe(0, 'Fr', 'RSTR')), 'fin');
  assert.equal(stealthProbe(probe(0, 'r', 'RSTRH')), 'null');
  assert.equal(stealthProbe(probe(0, 'Sr', 'REJ')), undefined, 'a SYN probe is not stealth');
  assert.equal(stealthProbe({ ...probe(0, 'FfA', 'SF'), 'source.packets': 2 }), undefined, 'a close seen mid-stream has ACKs');
  assert.equal(stealthProbe({ ...probe(0, 'Fr', 'RSTR'), 'source.bytes': 10 }), undefined, 'payload is not a probe');
  const ev = [probe(0, 'Fr', 'RSTR'), probe(1, 'r', 'RSTRH'), probe(2, 'Fr', 'RSTR')];
  const f = run(scanDetector, ev);
  assert.equal(f.length, 1);
  assert.ok((f[0].facts!.reasons as string[]).some((r) => r.startsWith('stealth-probes')));
  assert.deepEqual(f[0].facts!.stealthProbes, { fin: 2, null: 1, ports: [3390, 3391, 3392] });
  assert.ok(f[0].evidence.length === 3 && f[0].evidence.every((r) => r.uid && r.frame));
  assert.match(f[0].summary.zh, /隐蔽探测/);
  // two stealth ports stay below the default threshold; the threshold is configurable
  assert.equal(run(scanDetector, ev.slice(0, 2)).length, 0);
  assert.equal(run(scanDetector, ev.slice(0, 2), undefined, { 'net.scan': { stealthPorts: 2 } }).length, 1);
  // many stray FINs answered by resets to one port (stale NAT state after a timeout) are not a scan
  const stale = Array.from({ length: 10 }, (_, i) => ({ ...conn({ ts: T0 + i * 60_000, src: '10.0.0.8', dst: '10.0.0.9', dport: 443, state: 'RSTR', history: 'Fr', ob: 0, rb: 0 }), 'source.packets': 1 }));
  assert.equal(run(scanDetector, stale).length, 0);
});
