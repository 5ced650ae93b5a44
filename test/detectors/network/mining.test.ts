import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../../src/core/event.js';
import { miningDetector, randomTokenUa } from '../../../src/detectors/network/mining.js';
import { conn, http, rec, run, T0 } from './build.js';

test('stratum login is mining; the host is compromised and the wallet cited', () => {
  const f = run(miningDetector, [rec('stratum', T0, '10.0.0.5', '51.15.1.2', 3333, { 'stratum.method': 'login', 'stratum.login': '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A', 'stratum.agent': 'XMRig/6.16.4' })]);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'compromised');
  assert.deepEqual(f[0].attack, ['T1496']);
  assert.equal(f[0].facts!.tool, 'XMRig/6.16.4');
  assert.match(f[0].summary.zh, /挖矿/);
});

test('pool names in DNS / SNI are mining; NTP pools are not', () => {
  const f = run(miningDetector, [rec('dns', T0, '10.0.0.5', '10.0.0.1', 53, { 'dns.question.name': 'xmr-eu1.nanopool.org' }), rec('tls', T0, '10.0.0.6', '3.3.3.3', 443, { 'tls.client.server_name': 'pool.supportxmr.com' })]);
  assert.equal(f.length, 2);
  const none = run(miningDetector, [rec('dns', T0, '10.0.0.5', '10.0.0.1', 53, { 'dns.question.name': '0.pool.ntp.org' }), rec('dns', T0, '10.0.0.5', '10.0.0.1', 53, { 'dns.question.name': 'www.carpool.com' })]);
  assert.deepEqual(none, []);
});

test('a server fetching an executable over HTTP is tool transfer; a workstation browser download is not', () => {
  const ev: SpoorEvent[] = [];
  for (let i = 0; i < 4; i++) ev.push(conn({ ts: T0 + i, src: `10.0.1.${i + 1}`, dst: '10.0.0.15', dport: 80, history: 'ShADadFf' }));
  ev.push(http(T0 + 1000, '10.0.0.15', '45.9.9.9', { uri: '/host.exe', host: '45.9.9.9', ua: 'Microsoft-CryptoAPI/6.1', mime: 'application/x-dosexec', resp: 'MZ\x90\x00' }));
  ev.push(http(T0 + 1000, '10.0.0.70', '23.1.1.1', { uri: '/downloads/Setup.exe', host: 'download.example.com', ua: 'Mozilla/5.0 (Windows NT 10.0)' }));
  const f = run(miningDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].src, '10.0.0.15');
  assert.deepEqual(f[0].attack, ['T1105']);
  assert.equal(f[0].facts!.server, true);
});

test('Monero P2P (Levin) is one medium finding per host; vendor update downloads are not tool transfer', () => {
  const levin = '\\x01!\\x01\\x01\\x01\\x01\\x01\\x01\\x06\\x01\\x00\\x00';
  const f = run(miningDetector, [
    rec('payload', T0, '10.0.0.5', '159.69.36.66', 18080, { 'payload.orig': levin }),
    rec('payload', T0 + 1, '10.0.0.5', '78.56.22.89', 18080, { 'payload.orig': levin }),
  ]);
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'medium');
  assert.equal((f[0].facts!.peers as string[]).length, 2);
  const ev: SpoorEvent[] = [];
  for (let i = 0; i < 4; i++) ev.push(conn({ ts: T0 + i, src: `10.0.1.${i + 1}`, dst: '10.0.0.15', dport: 80, history: 'ShADadFf' }));
  ev.push(http(T0 + 10, '10.0.0.15', '13.107.4.50', { uri: '/msdownload/update/kb890830.exe', host: 'au.download.windowsupdate.com', ua: 'Microsoft BITS/7.5', mime: 'application/octet-stream' }));
  assert.equal(run(miningDetector, ev).length, 0);
});

test('a workstation fetching a DLL with a random-token User-Agent (loader) is tool transfer; product UAs are not random', () => {
  assert.equal(randomTokenUa('vBKbaQgjyvRRbcgfvlsc'), true);
  for (const ua of ['MicrosoftEdgeUpdate', 'GoogleUpdate', 'Mozilla/5.0 (Windows NT 10.0)', 'okhttp/4.9.0', 'WindowsPowerShellISE', 'abcdefghijklmnop', 'Dalvik'])
    assert.equal(randomTokenUa(ua), false, ua);
  const dl = (ua: string) => http(T0, '10.4.25.101', '77.105.36.156', { uri: '/SpryAssets/gDR/', host: 'filmmogzivota.rs', ua, mime: 'application/x-msdownload', resp: 'MZ\x90\x00' });
  const f = run(miningDetector, [dl('vBKbaQgjyvRRbcgfvlsc')]);
  assert.equal(f.length, 1);
  assert.deepEqual(f[0].attack, ['T1105']);
  assert.equal(f[0].src, '10.4.25.101');
  assert.equal(run(miningDetector, [dl('Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko')]).length, 0);
});
