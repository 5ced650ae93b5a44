/**
 * Corpus captures through the full pipeline (capture reader → flows → analyzers),
 * checked against Zeek's baselines and tshark where they exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { SpoorEvent } from '../../../src/core/event.js';
import { corpusFile, needCorpus, needTool } from '../../support/corpus.js';

async function events(rel: string): Promise<SpoorEvent[]> {
  const { analyzeCapture } = await import('../../../src/network/engine.js');
  const { analyzers } = await import('../../../src/network/analyzers/index.js');
  return (await analyzeCapture(readFileSync(corpusFile(rel)!), { evidence: 'E1', analyzers })).events;
}

function zeekRows(rel: string): Record<string, string>[] {
  const lines = readFileSync(corpusFile(rel)!, 'utf8').split('\n');
  const fields = lines.find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
  return lines.filter((l) => l && !l.startsWith('#')).map((l) => Object.fromEntries(l.split('\t').map((v, i) => [fields[i], v])));
}

const PSEXEC = 'community-pcaps/401trg-detections/pcaps/20171220_smb_psexec_add_user.pcap';
test('PsExec capture: svcctl service creation with PSEXESVC binary path, started, over SMB2 named pipe', { skip: needCorpus(PSEXEC) }, async () => {
  const ev = await events(PSEXEC);
  const rpc = ev.filter((e) => e['event.dataset'] === 'dcerpc' && e['dcerpc.endpoint'] === 'svcctl');
  const create = rpc.find((e) => String(e['dcerpc.operation']).startsWith('CreateService'));
  assert.ok(create, 'CreateService call seen');
  assert.equal(create['service.name'], 'PSEXESVC');
  assert.equal(create['process.command_line'], '%SystemRoot%\\PSEXESVC.exe');
  assert.equal(create['conn.uid'], (create.ref as { uid: string }).uid);
  const start = rpc.find((e) => e['dcerpc.operation'] === 'StartServiceW');
  assert.equal(start?.['service.name'], 'PSEXESVC');
  const trees = ev.filter((e) => e['event.dataset'] === 'smb' && e['event.action'] === 'tree-connect').map((e) => String(e['smb.tree']).split('\\').pop());
  assert.ok(trees.includes('IPC$'));
  const conn = ev.find((e) => e['event.dataset'] === 'conn' && e['conn.uid'] === create['conn.uid']);
  assert.equal(conn?.['network.protocol'], 'smb');
});

const SSH = 'zeek/Traces/ssh/ssh.pcap';
const SSH_LOG = 'zeek/Baseline/scripts.base.protocols.ssh.basic/ssh.log';
test('SSH: banners, algorithms and auth estimate equal Zeek ssh.log row for row', { skip: needCorpus(SSH, SSH_LOG) }, async () => {
  const ev = (await events(SSH)).filter((e) => e['event.dataset'] === 'ssh');
  const zeek = zeekRows(SSH_LOG);
  assert.equal(ev.length, zeek.length);
  const key = (h: string, p: string) => `${h}:${p}`;
  const ours = new Map(ev.map((e) => [key(String(e['source.ip']), String(e['source.port'])), e]));
  for (const z of zeek) {
    const e = ours.get(key(z['id.orig_h'], z['id.orig_p']));
    assert.ok(e, `row ${z['id.orig_h']}:${z['id.orig_p']}`);
    assert.equal(e['ssh.client'], z.client);
    assert.equal(e['ssh.server'], z.server);
    assert.equal(e['ssh.auth_success'] === true ? 'T' : e['ssh.auth_success'] === false ? 'F' : '-', z.auth_success);
    assert.equal(String(e['ssh.auth_attempts']), z.auth_attempts);
    assert.equal(e['ssh.kex_alg'] ?? '-', z.kex_alg);
    assert.equal(e['ssh.cipher_alg'] ?? '-', z.cipher_alg);
  }
});

const RDP = 'zeek/Traces/rdp/rdp-to-ssl.pcap';
test('RDP to TLS: Zeek rdp.log cookie/security protocol and ssl.log certificate fingerprint', { skip: needCorpus(RDP) }, async () => {
  const ev = await events(RDP);
  const rdp = ev.filter((e) => e['event.dataset'] === 'rdp');
  const tls = ev.filter((e) => e['event.dataset'] === 'tls');
  const zr = zeekRows('zeek/Baseline/scripts.base.protocols.rdp.rdp-to-ssl/rdp.log');
  const zs = zeekRows('zeek/Baseline/scripts.base.protocols.rdp.rdp-to-ssl/ssl.log');
  assert.deepEqual(rdp.map((e) => [e['rdp.cookie'], e['rdp.selected_protocol'], e['rdp.result']]), zr.map((z) => [z.cookie, z.security_protocol, z.result]));
  assert.deepEqual(tls.map((e) => [e['tls.version'], e['tls.cipher'], e['tls.client.server_name'], (e['tls.server.certificate_chain_fps'] as string[]).join(',')]),
    zs.map((z) => [z.version, z.cipher, z.server_name, z.cert_chain_fps]));
  for (const e of ev.filter((x) => x['event.dataset'] === 'conn')) assert.equal(e['network.protocol'], 'rdp');
});

const TLS = 'zeek/Traces/tls/chrome-34-google.pcap';
test('TLS JA3 and SNI equal tshark on a corpus capture', { skip: needCorpus(TLS) || needTool('tshark') }, async () => {
  const out = execFileSync('tshark', ['-r', corpusFile(TLS)!, '-n', '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tls.handshake.ja3', '-e', 'tls.handshake.extensions_server_name'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const ref = out.trim().split('\n').map((l) => l.split('\t'));
  const tls = (await events(TLS)).filter((e) => e['event.dataset'] === 'tls');
  assert.ok(ref.length >= 1);
  assert.deepEqual(tls.map((e) => [e['tls.client.ja3'], e['tls.client.server_name']]), ref);
});

const SMB2 = 'zeek/Traces/smb/smb2.pcap';
test('SMB2 capture: tree connects equal Zeek smb_mapping.log, NTLM user equals tshark', { skip: needCorpus(SMB2) }, async () => {
  const ev = await events(SMB2);
  const trees = ev.filter((e) => e['event.dataset'] === 'smb' && e['event.action'] === 'tree-connect');
  const z = zeekRows('zeek/Baseline/scripts.base.protocols.smb.smb2/smb_mapping.log');
  assert.deepEqual(trees.map((e) => [String(e['smb.tree']).replace(/\\/g, '\\\\'), e['smb.share_type']]), z.map((r) => [r.path, r.share_type]));
  const ntlm = ev.filter((e) => e['event.dataset'] === 'ntlm');
  assert.equal(ntlm.length, 1);
  assert.equal(ntlm[0]['event.outcome'], 'success');
  if (!needTool('tshark')) {
    const out = execFileSync('tshark', ['-r', corpusFile(SMB2)!, '-n', '-Y', 'ntlmssp.messagetype == 3', '-T', 'fields', '-e', 'ntlmssp.auth.username', '-e', 'ntlmssp.auth.domain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.deepEqual([ntlm[0]['user.name'], ntlm[0]['user.domain']], out.trim().split('\t'));
  }
});

const SMB1 = 'community-pcaps/401trg-detections/pcaps/20171220_smb_metasploit_psexec_pth_download_meterpreter.pcap';
test('SMB1 (Metasploit psexec): NT LM 0.12 negotiate, NTLM user, ADMIN$ and svcctl CreateServiceW over SMB1 transactions', { skip: needCorpus(SMB1) }, async () => {
  const ev = await events(SMB1);
  const neg = ev.find((e) => e['event.dataset'] === 'smb' && e['event.action'] === 'negotiate');
  assert.equal(neg?.['smb.version'], 1);
  assert.equal(neg?.['smb.dialect'], 'NT LM 0.12');
  const ntlm = ev.filter((e) => e['event.dataset'] === 'ntlm');
  assert.equal(ntlm[0]?.['user.name'], 'JeffV');
  assert.equal(ntlm[0]?.['event.outcome'], 'success');
  const trees = ev.filter((e) => e['event.dataset'] === 'smb' && e['event.action'] === 'tree-connect').map((e) => String(e['smb.tree']).split('\\').pop());
  assert.ok(trees.includes('ADMIN$') && trees.includes('IPC$'));
  const create = ev.find((e) => e['event.dataset'] === 'dcerpc' && e['dcerpc.operation'] === 'CreateServiceW');
  assert.ok(create && typeof create['service.name'] === 'string' && String(create['process.command_line']).length > 0);
  const del = ev.find((e) => e['event.dataset'] === 'dcerpc' && e['dcerpc.operation'] === 'DeleteService');
  assert.equal(del?.['service.name'], create['service.name']);
});
