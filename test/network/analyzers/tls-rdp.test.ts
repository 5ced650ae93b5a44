import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tlsAnalyzer } from '../../../src/network/analyzers/tls.js';
import { rdpAnalyzer } from '../../../src/network/analyzers/rdp.js';
import { parseCertificate } from '../../../src/network/analyzers/x509.js';
import { needTool } from '../../support/corpus.js';
import { alpn, certificateMsg, clientHello, ext, flow, serverHello, sni, stream, tlsRecord, u16be, u16list, u32 } from './build.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

// A Chrome-like hello with GREASE values, SNI, ALPN, groups, point formats, sig algs, supported_versions.
const CIPHERS = [0x2a2a, 0x1301, 0x1302, 0xc02b, 0xc02f, 0x009c];
const hello = clientHello({
  version: 0x0303,
  ciphers: CIPHERS,
  exts: [
    ext(0x1a1a, Buffer.alloc(0)),
    sni('www.example.org'),
    ext(23, Buffer.alloc(0)),
    u16list(10, [0x3a3a, 29, 23, 24]),
    ext(11, Buffer.from([1, 0])),
    u16list(13, [0x0403, 0x0804, 0x0401]),
    alpn('h2', 'http/1.1'),
    ext(43, Buffer.from([6, 0x4a, 0x4a, 0x03, 0x04, 0x03, 0x03])),
  ],
});

test('TLS ClientHello: SNI, ALPN, JA3 (GREASE removed) and JA4 per the published definitions', () => {
  const s = stream(tlsAnalyzer, flow(443));
  s.feed(0, tlsRecord(22, hello));
  s.feed(1, tlsRecord(22, serverHello(0x0303, 0x1301, [ext(43, u16be(0x0304)), ext(51, Buffer.alloc(36))]), 0x0303));
  s.end();
  const [t] = s.of('tls');
  assert.equal(t['tls.client.server_name'], 'www.example.org');
  assert.deepEqual(t['tls.client.alpn'], ['h2', 'http/1.1']);
  assert.equal(t['tls.version'], 'TLSv13', 'supported_versions in the ServerHello wins over legacy_version');
  assert.equal(t['tls.cipher'], 'TLS_AES_128_GCM_SHA256');
  // JA3 = SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats (decimal, GREASE dropped).
  const ja3 = '771,4865-4866-49195-49199-156,0-23-10-11-13-16-43,29-23-24,0';
  assert.equal(t['tls.client.ja3_string'], ja3);
  assert.equal(t['tls.client.ja3'], md5(ja3));
  assert.equal(t['tls.server.ja3s_string'], '771,4865,43-51');
  // JA4: t + 13 (highest supported_versions) + d (SNI) + 05 ciphers + 07 extensions + h2.
  const ja4b = sha12(['002f', '009c', '1301', '1302', 'c02b', 'c02f'].filter((x) => x !== '002f').sort().join(','));
  const ja4c = sha12(['0017', '000a', '000b', '000d', '002b'].sort().join(',') + '_0403,0804,0401');
  assert.equal(t['tls.client.ja4'], `t13d0507h2_${ja4b}_${ja4c}`);
});

test('TLS: handshake split across records and segments, several messages per record, certificate parsed', { skip: needTool('openssl') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'spoor-x509-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
      '-days', '30', '-subj', '/C=DE/O=Evil, Inc./CN=c2.example.net', '-set_serial', '0x0BADC0FFEE', '-addext', 'subjectAltName=DNS:c2.example.net,DNS:alt.example.net'], { stdio: 'ignore' });
    const der = execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-outform', 'DER']);
    const ref = execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-subject', '-issuer', '-serial', '-fingerprint', '-sha256', '-nameopt', 'RFC2253']).toString();
    const subject = /subject=(.*)/.exec(ref)![1].trim();
    const serial = /serial=(.*)/.exec(ref)![1].trim();
    const fp = /Fingerprint=(.*)/.exec(ref)![1].trim().replace(/:/g, '').toLowerCase();

    const info = parseCertificate(der)!;
    assert.equal(info.subject, subject);
    assert.equal(info.issuer, subject);
    assert.equal(info.serial, serial);
    assert.equal(info.sha256, fp);
    assert.deepEqual(info.san, ['c2.example.net', 'alt.example.net']);
    assert.ok(info.notAfter - info.notBefore >= 29 * 86400e3);

    // ServerHello + Certificate + ServerHelloDone in one handshake stream, cut into 3 records, delivered 11 bytes at a time.
    const hs = Buffer.concat([serverHello(0x0303, 0xc02f, [ext(0xff01, Buffer.from([0]))]), certificateMsg([der, der]), Buffer.from([14, 0, 0, 0])]);
    const a = Math.floor(hs.length / 3);
    const recs = Buffer.concat([tlsRecord(22, hs.subarray(0, a), 0x0303), tlsRecord(22, hs.subarray(a, 2 * a), 0x0303), tlsRecord(22, hs.subarray(2 * a), 0x0303)]);
    const s = stream(tlsAnalyzer, flow(443));
    s.feed(0, tlsRecord(22, hello), 5);
    s.feed(1, recs, 11);
    s.feed(0, Buffer.concat([tlsRecord(20, Buffer.from([1]), 0x0303), tlsRecord(22, Buffer.alloc(40), 0x0303)]));
    s.feed(1, Buffer.concat([tlsRecord(20, Buffer.from([1]), 0x0303), tlsRecord(22, Buffer.alloc(40), 0x0303)]));
    s.feed(0, tlsRecord(23, Buffer.alloc(100), 0x0303));
    s.feed(1, tlsRecord(23, Buffer.alloc(100), 0x0303));
    s.feed(0, tlsRecord(23, Buffer.alloc(100), 0x0303));
    s.end();
    const tls = s.of('tls');
    assert.equal(tls.length, 1);
    assert.equal(tls[0]['tls.version'], 'TLSv12');
    assert.equal(tls[0]['tls.cipher'], 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    assert.equal(tls[0]['tls.server.x509.subject'], subject);
    assert.equal(tls[0]['tls.server.hash.sha256'], fp);
    assert.equal(tls[0]['tls.established'], true);
    assert.equal((tls[0]['tls.server.certificate_chain_fps'] as string[]).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TLS and X.509 parsers never throw on damaged input', () => {
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const rec = tlsRecord(22, hello);
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(rec);
    for (let k = 0; k < 4; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const s = stream(tlsAnalyzer, flow(443));
    s.feed(0, b.subarray(0, Math.floor(rnd() * b.length) + 1), 1 + Math.floor(rnd() * 30));
    s.feed(1, b);
    s.end();
    parseCertificate(b.subarray(5));
  }
  assert.equal(parseCertificate(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])), null);
});

// ---------------------------------------------------------------- RDP
function tpkt(x224: Buffer): Buffer {
  return Buffer.concat([Buffer.from([3, 0]), u16be(4 + x224.length), x224]);
}
function connectionRequest(cookie: string | null, protocols: number): Buffer {
  const vari = Buffer.concat([cookie ? Buffer.from(`Cookie: mstshash=${cookie}\r\n`) : Buffer.alloc(0), Buffer.from([1, 0, 8, 0]), u32(protocols)]);
  return tpkt(Buffer.concat([Buffer.from([6 + vari.length, 0xe0, 0, 0, 0, 0, 0]), vari]));
}
function connectionConfirm(type: 2 | 3, value: number): Buffer {
  const v = Buffer.concat([Buffer.from([type, 0, 8, 0]), u32(value)]);
  return tpkt(Buffer.concat([Buffer.from([6 + v.length, 0xd0, 0, 0, 0x12, 0x34, 0]), v]));
}

test('RDP: cookie, requested protocols, CredSSP selected → TLS parsed from the same stream, one rdp record', () => {
  const s = stream(rdpAnalyzer, flow(3389));
  const cr = connectionRequest('administrator', 0x0b);
  assert.ok(rdpAnalyzer.probe(cr, Buffer.alloc(0), flow(3389)));
  s.feed(0, cr, 3);
  s.feed(1, Buffer.concat([connectionConfirm(2, 2), tlsRecord(22, serverHello(0x0303, 0x009d, []), 0x0303)]));
  s.feed(0, tlsRecord(22, clientHello({ ciphers: [0x009d, 0x002f], exts: [] })));
  s.end();
  const rdp = s.of('rdp');
  assert.equal(rdp.length, 1);
  assert.equal(rdp[0]['rdp.cookie'], 'administrator');
  assert.deepEqual(rdp[0]['rdp.requested_protocols'], ['RDP', 'SSL', 'HYBRID', 'HYBRID_EX']);
  assert.equal(rdp[0]['rdp.selected_protocol'], 'HYBRID');
  assert.equal(rdp[0]['rdp.result'], 'encrypted');
  const tls = s.of('tls');
  assert.equal(tls.length, 1);
  assert.equal(tls[0]['tls.cipher'], 'TLS_RSA_WITH_AES_256_GCM_SHA384');
});

test('RDP: negotiation failure code is the result', () => {
  const s = stream(rdpAnalyzer, flow(3389));
  s.feed(0, connectionRequest('bob', 0));
  s.feed(1, connectionConfirm(3, 5));
  s.end();
  const [r] = s.of('rdp');
  assert.equal(r['rdp.result'], 'HYBRID_REQUIRED_BY_SERVER');
  assert.equal(r['event.outcome'], 'failure');
  assert.deepEqual(r['rdp.requested_protocols'], ['RDP']);
});
