import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNtlmMessage } from '../../../src/network/analyzers/ntlm.js';
import { smbAnalyzer } from '../../../src/network/analyzers/smb.js';
import {
  closeReq, closeResp, createReq, createResp, dceBind, dce, dceRequest, dceResponse, nbss, negReq, negResp, ndrWstr, ntlmAuth,
  ntlmChallenge, ntlmNegotiate, readReq, readResp, sessReq, sessResp, spnegoInit, spnegoResp, stream, treeReq, treeResp, u32,
  writeReq, writeResp, smb2,
} from './build.js';

const AV: [number, string][] = [[2, 'CORP'], [1, 'FS01'], [4, 'corp.example'], [3, 'fs01.corp.example'], [5, 'corp.example']];

test('parseNtlmMessage: NEGOTIATE, CHALLENGE target info, AUTHENTICATE user/domain/workstation', () => {
  assert.equal(parseNtlmMessage(ntlmNegotiate())?.type, 1);
  const c = parseNtlmMessage(Buffer.concat([Buffer.from('junk'), ntlmChallenge(AV)]));
  assert.ok(c && c.type === 2);
  assert.equal(c.nbComputer, 'FS01');
  assert.equal(c.dnsComputer, 'fs01.corp.example');
  assert.equal(c.nbDomain, 'CORP');
  assert.equal(c.dnsTree, 'corp.example');
  assert.equal(c.targetName, 'CORP');
  assert.equal(c.challenge, '0123456789abcdef');
  assert.deepEqual(c.version, { major: 10, minor: 0, build: 19041 });
  const a = parseNtlmMessage(ntlmAuth('CORP', 'alice', 'WS7'));
  assert.ok(a && a.type === 3);
  assert.equal(a.user, 'alice');
  assert.equal(a.domain, 'CORP');
  assert.equal(a.workstation, 'WS7');
  assert.equal(a.ntlmVersion, 2);
  assert.equal(a.anonymous, false);
  const anon = parseNtlmMessage(ntlmAuth('', '', 'WS7', 0));
  assert.ok(anon && anon.type === 3 && anon.anonymous);
});

test('parseNtlmMessage never throws on truncated or corrupted input', () => {
  const msgs = [ntlmNegotiate(), ntlmChallenge(AV), ntlmAuth('CORP', 'alice', 'WS7')];
  for (const m of msgs) {
    for (let n = 0; n <= m.length; n += 3) parseNtlmMessage(m.subarray(0, n));
    for (let i = 12; i < m.length; i += 5) {
      const c = Buffer.from(m);
      c[i] = 0xff; c[i + 1] = 0xff;
      parseNtlmMessage(c);
    }
  }
  assert.equal(parseNtlmMessage(Buffer.from('NTLMSSP')), null);
  assert.equal(parseNtlmMessage(Buffer.from('NTLMSSP\0\x09\0\0\0', 'latin1')), null);
});

const FID = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const FID2 = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');

function psexecSession(logonStatus: number) {
  const s = stream(smbAnalyzer);
  s.feed(0, nbss(negReq(0)));
  s.feed(1, nbss(negResp(0, 0x0311)));
  s.feed(0, nbss(sessReq(1, spnegoInit(ntlmNegotiate()))));
  s.feed(1, nbss(sessResp(1, 0xc0000016, spnegoResp(ntlmChallenge(AV)))));
  s.feed(0, nbss(sessReq(2, spnegoResp(ntlmAuth('CORP', 'alice', 'WS7')))));
  s.feed(1, nbss(sessResp(2, logonStatus, Buffer.alloc(0))));
  return s;
}

test('SMB2: negotiate dialect, NTLM in SPNEGO, logon failure 0xC000006D → ntlm failure record', () => {
  const s = psexecSession(0xc000006d);
  s.end();
  const neg = s.of('smb').find((e) => e['event.action'] === 'negotiate')!;
  assert.equal(neg['smb.dialect'], '3.1.1');
  assert.equal(neg['smb.version'], 3);
  const ntlm = s.of('ntlm');
  assert.equal(ntlm.length, 1);
  assert.equal(ntlm[0]['user.name'], 'alice');
  assert.equal(ntlm[0]['user.domain'], 'CORP');
  assert.equal(ntlm[0]['ntlm.workstation'], 'WS7');
  assert.equal(ntlm[0]['ntlm.server_nb_computer'], 'FS01');
  assert.equal(ntlm[0]['ntlm.server_dns_computer'], 'fs01.corp.example');
  assert.equal(ntlm[0]['event.outcome'], 'failure');
  assert.equal(ntlm[0]['ntlm.status'], '0xc000006d');
  const ss = s.of('smb').find((e) => e['event.action'] === 'session-setup')!;
  assert.equal(ss['smb.status'], '0xc000006d');
  assert.equal(ss['event.outcome'], 'failure');
  assert.equal(s.of('weird').length, 0);
});

test('SMB2 PsExec pattern: tree connect IPC$/ADMIN$, svcctl CreateServiceW/StartServiceW over a named pipe, file write', () => {
  const s = psexecSession(0);
  // Copy the service binary to ADMIN$.
  s.feed(0, nbss(treeReq(3, '\\\\10.0.0.9\\ADMIN$')));
  s.feed(1, nbss(treeResp(3, 5, 1)));
  s.feed(0, nbss(createReq(4, 5, 'PSEXESVC.exe')));
  s.feed(1, nbss(createResp(4, 5, FID2)));
  s.feed(0, nbss(writeReq(5, 5, FID2, Buffer.from('MZ\x90\0 pretend PE', 'latin1'))));
  s.feed(1, nbss(writeResp(5, 5, 17)));
  s.feed(0, nbss(closeReq(6, 5, FID2)));
  s.feed(1, nbss(closeResp(6, 5)));
  // svcctl over IPC$.
  s.feed(0, nbss(treeReq(7, '\\\\10.0.0.9\\IPC$')));
  s.feed(1, nbss(treeResp(7, 1, 2)));
  s.feed(0, nbss(createReq(8, 1, 'svcctl')));
  s.feed(1, nbss(createResp(8, 1, FID)));
  s.feed(0, nbss(writeReq(9, 1, FID, dceBind(1, '367abb81-9844-35f1-ad32-98f038001003'))));
  s.feed(1, nbss(writeResp(9, 1, 72)));
  s.feed(0, nbss(readReq(10, 1, FID)));
  s.feed(1, nbss(readResp(10, 1, dce(12, 1, Buffer.alloc(40)))));
  const scm = Buffer.alloc(20, 0xaa);
  const create = Buffer.concat([scm, ndrWstr('PSEXESVC'), u32(0x20000), ndrWstr('PSEXESVC'), u32(0xf01ff), u32(0x10), u32(3), u32(1), ndrWstr('%SystemRoot%\\PSEXESVC.exe'), Buffer.alloc(28)]);
  s.feed(0, nbss(writeReq(11, 1, FID, dceRequest(2, 12, create))));
  s.feed(1, nbss(writeResp(11, 1, 100)));
  const svc = Buffer.alloc(20, 0xbb);
  s.feed(0, nbss(readReq(12, 1, FID)));
  s.feed(1, nbss(readResp(12, 1, dceResponse(2, Buffer.concat([u32(0), svc, u32(0)])))));
  // StartServiceW(handle) — delivered one byte at a time to exercise framing.
  s.feed(0, nbss(writeReq(13, 1, FID, dceRequest(3, 19, Buffer.concat([svc, u32(0), u32(0)])))), 1);
  s.feed(1, nbss(writeResp(13, 1, 40)), 1);
  s.feed(0, nbss(readReq(14, 1, FID)), 7);
  s.feed(1, nbss(readResp(14, 1, dceResponse(3, u32(1053)))), 7);
  s.end();
  const trees = s.of('smb').filter((e) => e['event.action'] === 'tree-connect');
  assert.deepEqual(trees.map((e) => [e['smb.tree'], e['smb.share_type']]), [['\\\\10.0.0.9\\ADMIN$', 'DISK'], ['\\\\10.0.0.9\\IPC$', 'PIPE']]);
  const w = s.of('smb').find((e) => e['event.action'] === 'write')!;
  assert.equal(w['file.name'], 'PSEXESVC.exe');
  assert.equal(w['smb.tree'], '\\\\10.0.0.9\\ADMIN$');
  assert.equal(w['smb.bytes'], Buffer.from('MZ\x90\0 pretend PE', 'latin1').length);
  const rpc = s.of('dcerpc');
  assert.deepEqual(rpc.map((e) => e['dcerpc.operation']), ['CreateServiceW', 'StartServiceW']);
  assert.equal(rpc[0]['dcerpc.endpoint'], 'svcctl');
  assert.equal(rpc[0]['dcerpc.named_pipe'], 'svcctl');
  assert.equal(rpc[0]['service.name'], 'PSEXESVC');
  assert.equal(rpc[0]['process.command_line'], '%SystemRoot%\\PSEXESVC.exe');
  assert.equal(rpc[0]['event.outcome'], 'success');
  assert.equal(rpc[1]['service.name'], 'PSEXESVC', 'StartServiceW names the service through its handle');
  assert.equal(rpc[1]['dcerpc.return_code'], 1053);
  assert.equal(rpc[1]['event.outcome'], 'failure');
  assert.equal(s.of('ntlm')[0]['event.outcome'], 'success');
  assert.equal(s.of('weird').length, 0);
});

test('SMB2 compounded create+close in one NetBIOS message; related FileId', () => {
  const s = stream(smbAnalyzer);
  s.feed(0, nbss(treeReq(1, '\\\\srv\\C$')));
  s.feed(1, nbss(treeResp(1, 9, 1)));
  const c1 = createReq(2, 9, 'Windows\\Temp\\evil.bat', 0);
  const pad = Buffer.alloc((8 - (c1.length % 8)) % 8);
  const first = Buffer.concat([c1, pad]);
  first.writeUInt32LE(first.length, 20);
  const rel = closeReq(3, 9, Buffer.alloc(16, 0xff));
  rel.writeUInt32LE(rel.readUInt32LE(16) | 4, 16);
  s.feed(0, nbss(Buffer.concat([first, rel])));
  const r1 = createResp(2, 9, FID, 1234);
  const r1p = Buffer.concat([r1, Buffer.alloc((8 - (r1.length % 8)) % 8)]);
  r1p.writeUInt32LE(r1p.length, 20);
  s.feed(1, nbss(Buffer.concat([r1p, closeResp(3, 9)])));
  s.end();
  const create = s.of('smb').find((e) => e['event.action'] === 'create')!;
  assert.equal(create['file.name'], 'Windows\\Temp\\evil.bat');
  assert.equal(create['smb.tree'], '\\\\srv\\C$');
  assert.equal(create['file.size'], 1234);
  const close = s.of('smb').find((e) => e['event.action'] === 'close');
  assert.ok(close, 'the related close in the compound resolves to the created file');
  assert.equal(close!['file.name'], 'Windows\\Temp\\evil.bat');
});

test('SMB2 failed tree connect and access denied create carry their status', () => {
  const s = stream(smbAnalyzer);
  s.feed(0, nbss(treeReq(1, '\\\\srv\\C$')));
  s.feed(1, nbss(treeResp(1, 0, 0, 0xc0000022)));
  s.feed(0, nbss(smb2(5, { mid: 2, tree: 7 }, Buffer.alloc(56))));
  s.feed(1, nbss(createResp(2, 7, FID, 0, 0xc0000034)));
  s.end();
  const t = s.of('smb').find((e) => e['event.action'] === 'tree-connect')!;
  assert.equal(t['smb.status'], '0xc0000022');
  assert.equal(t['event.outcome'], 'failure');
  const c = s.of('smb').find((e) => e['event.action'] === 'create')!;
  assert.equal(c['smb.status'], '0xc0000034');
});

test('SMB analyzer survives garbage, truncation and bit flips (no throw, bounded)', () => {
  const good = Buffer.concat([nbss(negReq(0)), nbss(sessReq(1, spnegoInit(ntlmNegotiate()))), nbss(treeReq(2, '\\\\a\\b')), nbss(createReq(3, 1, 'x'))]);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 200; i++) {
    const s = stream(smbAnalyzer);
    const b = Buffer.from(good);
    for (let k = 0; k < 6; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    s.feed(0, b.subarray(0, Math.floor(rnd() * b.length)), 1 + Math.floor(rnd() * 50));
    s.feed(1, b, 13);
    s.end();
  }
  const s = stream(smbAnalyzer);
  s.feed(0, Buffer.from([0x42, 0x00, 0x00, 0x01, 1, 2, 3]));
  s.end();
  assert.ok(s.of('weird').length >= 1, 'a non-session NetBIOS message type is reported');
});
