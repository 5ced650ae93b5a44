import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../../src/core/event.js';
import { c2Detector } from '../../../src/detectors/network/c2.js';
import { conn, http, rec, run, T0, MIN } from './build.js';

let seed = 11;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);

function series(src: string, dst: string, from: number, to: number, every: number, jitter: number, bytes: number, dport = 443): SpoorEvent[] {
  const out: SpoorEvent[] = [];
  for (let t = from; t < to; t += every + Math.round((rnd() - 0.5) * 2 * jitter)) out.push(conn({ ts: t, src, dst, dport, ob: bytes + Math.round(rnd() * 8), dur: 300 }));
  return out;
}

test('a jittered HTTPS beacon to an outside address is C2; the host is compromised', () => {
  const ev = series('10.0.0.15', '124.223.206.156', T0, T0 + 6 * 60 * MIN, 60_000, 3000, 400);
  const f = run(c2Detector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'compromised');
  assert.equal(f[0].host, '10.0.0.15');
  assert.equal(f[0].facts!.c2, '124.223.206.156');
  const b = f[0].facts!.beacon as { score: number; tsScore: number };
  assert.ok(b.score >= 0.9, `score ${b.score}`);
  assert.ok(f[0].evidence.length <= 10 && f[0].evidence.length >= 3);
  assert.match(f[0].summary.zh, /C2/);
});

test('benign periodic traffic is suppressed', () => {
  const ev: SpoorEvent[] = [];
  // a monitoring server polling internal hosts every minute (peer is internal)
  for (let h = 1; h <= 5; h++) ev.push(...series('10.0.0.2', `10.0.1.${h}`, T0, T0 + 6 * 60 * MIN, 60_000, 0, 120, 161 + h));
  // update checks to an allow-listed service (name known from TLS SNI)
  ev.push(...series('10.0.0.30', '40.1.2.3', T0, T0 + 6 * 60 * MIN, 15 * MIN, 0, 800));
  ev.push(rec('tls', T0 + 1, '10.0.0.30', '40.1.2.3', 443, { 'tls.client.server_name': 'fe2.update.microsoft.com' }));
  // DNS to an outside resolver every minute
  ev.push(...series('10.0.0.31', '8.8.8.8', T0, T0 + 6 * 60 * MIN, 60_000, 0, 70, 53));
  // six of eight hosts poll the same outside telemetry endpoint the same way
  for (let h = 40; h < 46; h++) ev.push(...series(`10.0.0.${h}`, '52.9.9.9', T0 + h * 1000, T0 + 6 * 60 * MIN, 5 * MIN, 0, 600));
  ev.push(conn({ ts: T0, src: '10.0.0.46', dst: '93.184.216.34', dport: 443 }), conn({ ts: T0, src: '10.0.0.47', dst: '93.184.216.34', dport: 443 }));
  // a nightly-style backup: big regular uploads
  ev.push(...series('10.0.0.50', '198.51.100.200', T0, T0 + 6 * 60 * MIN, 30 * MIN, 0, 50_000_000));
  const f = run(c2Detector, ev);
  assert.deepEqual(f.map((x) => `${x.src}>${x.dst}`), []);
  // the same allowance is configurable: with suppression of internal peers switched on, the monitor is scored
  const g = run(c2Detector, ev, undefined, { 'net.c2': { scoreInternalPeers: true } });
  assert.ok(g.some((x) => x.src === '10.0.0.2'));
});

test('irregular browsing is not a beacon', () => {
  const ev: SpoorEvent[] = [];
  let t = T0;
  while (t < T0 + 8 * 60 * MIN) {
    ev.push(conn({ ts: t, src: '10.0.0.60', dst: '151.101.1.1', dport: 443, ob: Math.round(500 + rnd() * 40_000) }));
    t += Math.round(-Math.log(1 - rnd()) * 20 * MIN);
  }
  assert.equal(run(c2Detector, ev).length, 0);
});

test('Cobalt Strike default profile over HTTP is critical even without many connections', () => {
  const cookie = Buffer.from(Array.from({ length: 128 }, (_, i) => (i * 37) & 255)).toString('base64');
  const ev = [
    http(T0, '10.0.0.5', '124.223.206.156', { uri: '/pixel.gif', headers: { cookie } }),
    http(T0 + 60_000, '10.0.0.5', '124.223.206.156', { uri: '/__utm.gif', headers: { cookie } }),
    http(T0 + 120_000, '10.0.0.5', '124.223.206.156', { uri: '/submit.php?id=12345', method: 'POST', headers: { 'content-type': 'application/octet-stream' } }),
  ];
  const f = run(c2Detector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'critical');
  assert.equal(f[0].facts!.tool, 'Cobalt Strike');
  // the same URIs without cookie metadata are ordinary tracking pixels
  assert.equal(run(c2Detector, [http(T0, '10.0.0.5', '1.2.3.4', { uri: '/pixel.gif', headers: { cookie: 'a=b' } })]).length, 0);
});

test('default teamserver certificate and long connections', () => {
  const f = run(c2Detector, [rec('tls', T0, '10.0.0.5', '5.6.7.8', 443, { 'tls.server.x509.serial_number': '08:BB:00:EE' })]);
  assert.equal(f.length, 1);
  assert.equal(f[0].facts!.tool, 'Cobalt Strike');
  const l = run(c2Detector, [conn({ ts: T0, src: '10.0.0.5', dst: '5.6.7.9', dport: 8443, dur: 5 * 3600_000 })]);
  assert.equal(l.length, 1);
  assert.equal(l[0].outcome, 'attempt');
  assert.deepEqual(l[0].facts!.reasons, ['long-connection']);
});

test('C2-framework client shapes are reported even between internal peers', () => {
  const ev = [
    http(T0, '172.18.0.3', '172.18.0.2', { method: 'POST', uri: '/beacon', ua: 'Go-http-client/1.1', port: 8888 }),
    http(T0 + 5000, '172.18.0.3', '172.18.0.2', { method: 'POST', uri: '/beacon', ua: 'Go-http-client/1.1', port: 8888 }),
  ];
  const f = run(c2Detector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].facts!.tool, 'Caldera Sandcat');
  assert.equal(f[0].outcome, 'compromised');
  assert.equal(run(c2Detector, [http(T0, '172.18.0.3', '172.18.0.2', { method: 'POST', uri: '/beacon', ua: 'Mozilla/5.0' })]).length, 0);
});

test('a port sweep to one outside host is a scan, not a beacon', () => {
  const ev = Array.from({ length: 500 }, (_, i) => conn({ ts: T0 + i * 1000, src: '172.16.0.8', dst: '64.13.134.52', dport: 1 + i, state: 'REJ' }));
  assert.equal(run(c2Detector, ev).length, 0);
});

test('a beacon to one server name behind rotating addresses is found by name (RITA sni type)', () => {
  const ev: SpoorEvent[] = [];
  const ips = ['104.16.1.1', '104.16.2.2', '104.16.3.3', '172.67.4.4', '172.67.5.5'];
  for (let t = T0; t < T0 + 6 * 60 * MIN; t += 60_000 + Math.round((rnd() - 0.5) * 4000)) {
    const ip = ips[Math.floor(rnd() * ips.length)];
    const c = conn({ ts: t, src: '10.0.0.77', dst: ip, dport: 443, ob: 2200 + Math.round(rnd() * 10) });
    ev.push(c, rec('tls', t + 20, '10.0.0.77', ip, 443, { 'tls.client.server_name': 'cdn-c2.example.net' }, c['conn.uid'] as string));
  }
  const f = run(c2Detector, ev);
  const byName = f.filter((x) => x.facts!.c2 === 'cdn-c2.example.net');
  assert.equal(byName.length, 1, JSON.stringify(f.map((x) => x.summary.en)));
  assert.equal(byName[0].outcome, 'compromised');
  assert.equal((byName[0].facts!.c2Ips as string[]).length, 5);
  assert.ok((byName[0].facts!.beacon as { dsScore: number }).dsScore > 0.9, 'sizes come from the conn records of the same uid');
});
