import { test } from 'node:test';
import assert from 'node:assert/strict';
import { c2Detector } from '../../../src/detectors/network/c2.js';
import { checkinIndicators, malwareCertificate, normSubject } from '../../../src/detectors/network/c2indicators.js';
import { http, rec, run, T0 } from './build.js';

/** Deterministic pseudo-random bytes, base64-encoded (the shape of an encrypted implant message). */
function blob(n: number, seed = 5): string {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) % 2147483648) >>> 16;
  return b.toString('base64');
}
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const withMime = (e: ReturnType<typeof http>) => ({ ...e, 'http.request.mime_type': 'application/x-www-form-urlencoded' });

test('an opaque encoded form POST to a bare address on an odd port is an implant check-in', () => {
  const token = 'OK21pqJAtyyGBEo00sk';
  const body = `${token}=${encodeURIComponent(blob(400))}`;
  const e = withMime(http(T0, '10.12.29.101', '82.118.225.196', { method: 'POST', uri: `/${token}`, host: '82.118.225.196:7080', port: 7080, body, headers: form }));
  const hit = checkinIndicators(e)!;
  assert.deepEqual(hit.kinds, ['opaque-blob']);
  assert.deepEqual(hit.signs, ['bare-ip-host', 'port-7080', 'field-named-like-path-token']);
  const f = run(c2Detector, [e]);
  assert.equal(f.length, 1);
  assert.equal(f[0].detector, 'net.c2');
  assert.equal(f[0].outcome, 'compromised');
  assert.equal(f[0].host, '10.12.29.101');
  assert.ok(f[0].attack.includes('T1071.001'));
  assert.ok(f[0].evidence.some((r) => r.uid === e.ref!.uid && r.frame === e.ref!.frame));
  assert.match(f[0].summary.en, /check-in/);
  assert.match(f[0].summary.zh, /木马上线/);
});

test('victim identity (computer, user, machine GUID) sent to an outside host is a check-in', () => {
  const uri = '/2014/?c=MSEDGEWIN10&u=IEUser&v=00021&s=TehN002&mi=747f3d96%2D68a7%2D43f1%2D8cbe%2De8d6dadd0358&b=64';
  const get = http(T0, '10.0.2.15', '185.56.137.138', { uri, host: 'db54a845.top', status: 404 });
  assert.deepEqual(checkinIndicators(get)!.kinds, ['victim-identity']);
  // alone: one sign, reported but not yet "compromised"
  const one = run(c2Detector, [get]);
  assert.equal(one.length, 1);
  assert.equal(one[0].outcome, 'attempt');
  // followed by a POST carrying the identity and an encrypted blob: two signs agree
  const post = withMime(http(T0 + 500, '10.0.2.15', '185.56.137.138', { method: 'POST', uri: '/en/?x', host: 'db54a845.top', body: `c=MSEDGEWIN10&u=IEUser&mi=747f3d96-68a7-43f1-8cbe-e8d6dadd0358&txt=${encodeURIComponent(blob(3000, 9))}`, headers: form }));
  const f = run(c2Detector, [get, post]);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'compromised');
  assert.deepEqual((f[0].facts!.checkin as { kinds: string[] }).kinds.sort(), ['opaque-blob', 'victim-identity']);
});

test('ordinary forms, logins, ASP.NET state and internal peers are not check-ins', () => {
  const mk = (body: string, o: Partial<Parameters<typeof http>[3]> = {}) =>
    withMime(http(T0, '10.0.0.5', '93.184.216.34', { method: 'POST', uri: '/login', host: 'www.example.org', body, headers: form, ...o }));
  assert.equal(checkinIndicators(mk('user=alice&password=secret&remember=1')), undefined);
  // a long base64 field that ASP.NET and SAML put in every postback
  assert.equal(checkinIndicators(mk(`__VIEWSTATE=${encodeURIComponent(blob(600))}&btn=OK`, { host: '93.184.216.34', port: 8081 })), undefined);
  assert.equal(checkinIndicators(mk(`SAMLResponse=${encodeURIComponent(blob(900))}`, { host: '93.184.216.34', port: 9443 })), undefined);
  // an encoded upload to a named host on 443 with no other sign
  assert.equal(checkinIndicators(mk(`data=${encodeURIComponent(blob(600))}`, { port: 443 })), undefined);
  // a blob that is only a small part of a larger form
  assert.equal(checkinIndicators(mk(`data=${encodeURIComponent(blob(200))}&comment=${'x'.repeat(900)}`, { host: '93.184.216.34', port: 81 })), undefined);
  // a long base64 of repetitive content (low alphabet use)
  assert.equal(checkinIndicators(mk(`d=${'QUFB'.repeat(100)}`, { host: '93.184.216.34', port: 81 })), undefined);
  // GUID and a user name without a computer name (licence checks, analytics)
  assert.equal(checkinIndicators(http(T0, '10.0.0.5', '93.184.216.34', { uri: '/check?user=alice&id=747f3d96-68a7-43f1-8cbe-e8d6dadd0358&ver=2' })), undefined);
  // the same check-in between two internal hosts is not C2 to the outside
  const token = 'OK21pqJAtyyGBEo00sk';
  const internal = withMime(http(T0, '10.0.0.5', '10.0.0.6', { method: 'POST', uri: `/${token}`, host: '10.0.0.6:7080', port: 7080, body: `${token}=${encodeURIComponent(blob(400))}`, headers: form }));
  assert.equal(run(c2Detector, [internal]).length, 0);
  // an explicit allowance suppresses a check-in
  const out = withMime(http(T0, '10.0.0.5', '82.118.225.196', { method: 'POST', uri: `/${token}`, host: '82.118.225.196:7080', port: 7080, body: `${token}=${encodeURIComponent(blob(400))}`, headers: form }));
  assert.equal(run(c2Detector, [out], undefined, { 'net.c2': { allowIps: ['82.118.225.196'] } }).length, 0);
});

test('a malware default certificate (Emotet) is C2 even on one connection; other self-signed certificates are not', () => {
  const subject = 'CN=example.com,OU=IT Department,O=Global Security,L=London,ST=London,C=GB';
  const tls = (subj: string, issuer: string, sni?: string) =>
    rec('tls', T0, '10.4.25.101', '138.197.147.101', 443, { 'tls.server.x509.subject': subj, 'tls.server.x509.issuer': issuer, ...(sni ? { 'tls.client.server_name': sni } : {}) });
  const certs = new Map([[normSubject(subject), 'Emotet']]);
  assert.equal(malwareCertificate(tls(subject, subject), certs), 'Emotet');
  assert.equal(malwareCertificate(tls(subject, 'CN=R3,O=Let\'s Encrypt,C=US'), certs), undefined, 'same subject issued by a CA is not the default certificate');
  assert.equal(malwareCertificate(tls('CN = example.com, OU = IT Department, O = Global Security, L = London, ST = London, C = GB', subject), certs), 'Emotet');
  const f = run(c2Detector, [tls(subject, subject)]);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'compromised');
  assert.equal(f[0].facts!.tool, 'Emotet');
  assert.deepEqual(f[0].facts!.malwareCertificate, { family: 'Emotet', noSni: true });
  assert.ok(f[0].attack.includes('T1573.002'));
  assert.equal(run(c2Detector, [tls('CN=nas.local,O=Synology', 'CN=nas.local,O=Synology')]).length, 0);
  // the list is configurable
  assert.equal(run(c2Detector, [tls(subject, subject)], undefined, { 'net.c2': { malwareCerts: [] } }).length, 0);
});
