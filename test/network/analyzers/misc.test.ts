import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sshAnalyzer } from '../../../src/network/analyzers/ssh.js';
import { stratumAnalyzer } from '../../../src/network/analyzers/stratum.js';
import { payloadAnalyzer } from '../../../src/network/analyzers/payload.js';
import { krbTcpAnalyzer, krbUdpAnalyzer, parseKrb } from '../../../src/network/analyzers/kerberos.js';
import { dceRpcAnalyzer } from '../../../src/network/analyzers/dcerpc.js';
import { analyzers } from '../../../src/network/analyzers/index.js';
import type { SpoorEvent } from '../../../src/core/event.js';
import { dceBind, dceRequest, dceResponse, der, flow, kexinit, ntlmAuth, sshPacket, stream, u32be } from './build.js';

const LISTS = ['curve25519-sha256,ecdh-sha2-nistp256', 'ssh-ed25519,rsa-sha2-512', 'aes128-ctr,aes256-gcm@openssh.com', 'aes128-ctr',
  'hmac-sha2-256,hmac-sha1', 'hmac-sha2-256', 'none,zlib@openssh.com', 'none', '', ''];
const SRV = ['ecdh-sha2-nistp256,curve25519-sha256', 'rsa-sha2-512', 'aes256-gcm@openssh.com,aes128-ctr', 'aes128-ctr',
  'hmac-sha1,hmac-sha2-256', 'hmac-sha2-256', 'none', 'none', '', ''];

function sshSession(serverSizes: number[]) {
  const s = stream(sshAnalyzer, flow(22));
  s.feed(1, Buffer.from('SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n'));
  s.feed(0, Buffer.from('SSH-2.0-libssh2_1.10.0\r\n'));
  s.feed(0, sshPacket(kexinit(LISTS)));
  s.feed(1, sshPacket(kexinit(SRV)));
  s.feed(0, sshPacket(Buffer.from([21])));
  s.feed(1, sshPacket(Buffer.from([21])));
  s.feed(0, Buffer.alloc(52)); // SERVICE_REQUEST
  for (const n of serverSizes) {
    s.feed(1, Buffer.alloc(n));
    s.feed(0, Buffer.alloc(100));
  }
  s.end();
  return s.of('ssh')[0];
}

test('SSH banners, negotiated algorithms (client preference), brute-force shape: refusals then success', () => {
  // SERVICE_ACCEPT 52, first refusal 68 (baseline, not counted), 3 more refusals, then a 36-byte USERAUTH_SUCCESS.
  const e = sshSession([52, 68, 68, 68, 68, 36]);
  assert.equal(e['ssh.client'], 'SSH-2.0-libssh2_1.10.0');
  assert.equal(e['ssh.server'], 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3');
  assert.equal(e['ssh.kex_alg'], 'curve25519-sha256');
  assert.equal(e['ssh.host_key_alg'], 'rsa-sha2-512');
  assert.equal(e['ssh.cipher_alg'], 'aes128-ctr');
  assert.equal(e['ssh.mac_alg'], 'hmac-sha2-256');
  assert.equal(e['ssh.auth_success'], true);
  assert.equal(e['ssh.auth_attempts'], 4);
  const fail = sshSession([52, 68, 68, 68]);
  assert.equal(fail['ssh.auth_success'], false);
  assert.equal(fail['ssh.auth_attempts'], 2);
  const none = sshSession([]);
  assert.equal(none['ssh.auth_success'], null);
});

test('Stratum: subscribe agent, authorize wallet login, XMRig login, submits summarised', () => {
  const s = stream(stratumAnalyzer, flow(3333));
  const first = Buffer.from('{"id":1,"method":"mining.subscribe","params":["cgminer/4.10.0"]}\n');
  assert.ok(stratumAnalyzer.probe(first, Buffer.alloc(0), flow(80)), 'recognised by content on any port');
  s.feed(0, first, 9);
  s.feed(0, Buffer.from('{"id":2,"method":"mining.authorize","params":["1BoatSLRHtKNngkdXEeobR76b53LETtpyT.rig1","x"]}\n{"id":3,"method":"mining.submit","params":[]}\n{"id":4,"method":"mining.submit","params":[]}\n'));
  s.feed(0, Buffer.from('{"id":5,"jsonrpc":"2.0","method":"login","params":{"login":"44AFFq5kSiGBoZ","pass":"x","agent":"XMRig/6.21.0"}}\nnot json\n'));
  s.end();
  const r = s.of('stratum');
  assert.equal(r[0]['stratum.agent'], 'cgminer/4.10.0');
  assert.equal(r[1]['stratum.login'], '1BoatSLRHtKNngkdXEeobR76b53LETtpyT.rig1');
  assert.equal(r[2]['stratum.login'], '44AFFq5kSiGBoZ');
  assert.equal(r[2]['stratum.agent'], 'XMRig/6.21.0');
  assert.equal(r[3]['stratum.submits'], 2);
  assert.equal(stratumAnalyzer.probe(Buffer.from('{"id":1,"method":"getblock"}'), Buffer.alloc(0), flow(80)), false);
});

test('payload: first 256 bytes each way, printable with \\xNN escapes, one record', () => {
  const s = stream(payloadAnalyzer, flow(31337));
  s.feed(0, Buffer.from('HELLO\\\x00\x01\xff', 'latin1'));
  s.feed(0, Buffer.alloc(400, 0x41));
  s.feed(1, Buffer.from('OK\r\n'));
  s.end();
  const [p] = s.of('payload');
  assert.equal(s.of('payload').length, 1);
  assert.ok((p['payload.orig'] as string).startsWith('HELLO\\x5c\\x00\\x01\\xff' + 'A'.repeat(10)));
  assert.equal((p['payload.orig'] as string).length, 'HELLO'.length + 4 * 4 + (256 - 9));
  assert.equal(p['payload.resp'], 'OK\\x0d\\x0a');
});

test('payload: a STARTTLS upgrade is handed to the TLS parser (tls record from the same connection)', async () => {
  const { clientHello, tlsRecord, sni } = await import('./build.js');
  const s = stream(payloadAnalyzer, flow(25));
  s.feed(1, Buffer.from('220 mx ESMTP\r\n'));
  s.feed(0, Buffer.from('EHLO x\r\nSTARTTLS\r\n'));
  s.feed(1, Buffer.from('220 Ready to start TLS\r\n'));
  s.feed(0, tlsRecord(22, clientHello({ ciphers: [0xc02f], exts: [sni('mx.example')] })));
  s.end();
  assert.equal(s.of('tls')[0]?.['tls.client.server_name'], 'mx.example');
  assert.ok(String(s.of('payload')[0]['payload.orig']).startsWith('EHLO x\\x0d\\x0aSTARTTLS'));
});

// Kerberos AS-REQ / KRB-ERROR built with DER.
const gs = (s: string) => der(0x1b, Buffer.from(s));
const int = (n: number) => der(0x02, Buffer.from([n]));
const pname = (type: number, ...names: string[]) => der(0x30, Buffer.concat([der(0xa0, int(type)), der(0xa1, der(0x30, Buffer.concat(names.map(gs))))]));
function asReq(user: string, realm: string): Buffer {
  const body = der(0x30, Buffer.concat([der(0xa0, der(0x03, Buffer.from([0, 0x40, 0x81, 0, 0x10]))), der(0xa1, pname(1, user)), der(0xa2, gs(realm)),
    der(0xa3, pname(2, 'krbtgt', realm)), der(0xa5, der(0x18, Buffer.from('20370913024805Z'))), der(0xa7, int(5)), der(0xa8, der(0x30, Buffer.concat([int(18), int(23)])))]));
  return der(0x6a, der(0x30, Buffer.concat([der(0xa1, int(5)), der(0xa2, int(10)), der(0xa4, body)])));
}
function krbError(code: number, realm: string): Buffer {
  return der(0x7e, der(0x30, Buffer.concat([der(0xa0, int(5)), der(0xa1, int(30)), der(0xa4, der(0x18, Buffer.from('20240101000000Z'))), der(0xa5, int(0)),
    der(0xa6, int(code)), der(0xa9, gs(realm)), der(0xaa, pname(2, 'krbtgt', realm))])));
}

test('Kerberos AS-REQ + KRB-ERROR (UDP and TCP framing)', () => {
  const req = asReq('svc_backup', 'CORP.EXAMPLE');
  const m = parseKrb(req)!;
  assert.equal(m.client, 'svc_backup');
  assert.equal(m.service, 'krbtgt/CORP.EXAMPLE');
  assert.deepEqual(m.etypes, [18, 23]);
  const events: SpoorEvent[] = [];
  assert.ok(krbUdpAnalyzer.probe(req, Buffer.alloc(0), flow(88, 'udp')));
  const d = krbUdpAnalyzer.createDatagram!(flow(88, 'udp'), (e) => events.push(e));
  d.datagram(0, req, 1, 1);
  d.datagram(1, krbError(24, 'CORP.EXAMPLE'), 2, 2);
  d.end(3);
  assert.equal(events.length, 1);
  assert.equal(events[0]['kerberos.request_type'], 'AS');
  assert.equal(events[0]['kerberos.client'], 'svc_backup/CORP.EXAMPLE');
  assert.equal(events[0]['kerberos.error_msg'], 'KDC_ERR_PREAUTH_FAILED');
  assert.equal(events[0]['event.outcome'], 'failure');
  const framed = Buffer.concat([u32be(req.length), req]);
  assert.ok(krbTcpAnalyzer.probe(framed, Buffer.alloc(0), flow(88)));
  const s = stream(krbTcpAnalyzer, flow(88));
  s.feed(0, framed, 10);
  s.feed(1, Buffer.concat([u32be(krbError(6, 'X').length), krbError(6, 'X')]), 3);
  s.end();
  assert.equal(s.of('kerberos')[0]['kerberos.error_code'], 6);
});

test('DCE/RPC over TCP (dynamic port): bind, request/response pairs, NTLM AUTH3 verifier', () => {
  const s = stream(dceRpcAnalyzer, flow(49667));
  const bind = dceBind(1, '12345778-1234-abcd-ef00-0123456789ac');
  assert.ok(dceRpcAnalyzer.probe(bind, Buffer.alloc(0), flow(49667)));
  s.feed(0, bind);
  // AUTH3 carrying an NTLM AUTHENTICATE (sec_trailer + token).
  const tok = ntlmAuth('CORP', 'mallory', 'KALI');
  const auth3 = Buffer.concat([Buffer.from([5, 0, 16, 3, 0x10, 0, 0, 0]), Buffer.alloc(2), Buffer.alloc(2), Buffer.from([1, 0, 0, 0]), Buffer.alloc(4), Buffer.from([10, 2, 0, 0]), Buffer.alloc(4), tok]);
  auth3.writeUInt16LE(auth3.length, 8);
  auth3.writeUInt16LE(tok.length, 10);
  s.feed(0, auth3);
  s.feed(0, dceRequest(2, 64, Buffer.alloc(8)));
  s.feed(0, dceRequest(3, 13, Buffer.alloc(8)));
  s.feed(1, dceResponse(2, Buffer.alloc(24)));
  s.end();
  const r = s.of('dcerpc');
  assert.deepEqual(r.map((e) => e['dcerpc.operation']), ['SamrConnect5', 'SamrEnumerateUsersInDomain']);
  assert.equal(r[0]['dcerpc.endpoint'], 'samr');
  assert.ok(typeof r[0]['dcerpc.rtt'] === 'number');
  assert.equal(r[1]['dcerpc.rtt'], undefined, 'unanswered request flushed at the end');
  assert.equal(s.of('ntlm')[0]['user.name'], 'mallory');
});

test('every analyzer survives random bytes in both directions and empty input', () => {
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (const f of analyzers) {
    for (let i = 0; i < 40; i++) {
      const b = Buffer.alloc(1 + Math.floor(rnd() * 600));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
      if (i % 4 === 0) b[0] = [0x16, 0x00, 0x03, 0x05, 0x7b][i % 5];
      f.probe(b, b, flow(445, f.transport));
      if (f.createStream) {
        const s = stream(f, flow(445));
        s.feed(0, b, 1 + (i % 17));
        s.feed(1, b);
        s.a.gap?.(0, 100);
        s.feed(0, b);
        s.end();
      } else {
        const d = f.createDatagram!(flow(88, 'udp'), () => undefined);
        d.datagram(0, b, 1, 1);
        d.datagram(1, b, 2, 2);
        d.end(3);
      }
    }
  }
  assert.ok(analyzers.length >= 10);
});
