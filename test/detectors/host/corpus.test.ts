/**
 * Host detectors over the DeepBlueCLI sample logs, read by spoor's own EVTX
 * reader. Skips when the corpus (or the reader) is not available.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { corpusFile, needCorpus } from '../../support/corpus.js';
import { hostDetectors } from '../../../src/detectors/host/index.js';
import type { Finding } from '../../../src/core/finding.js';
import type { SpoorEvent } from '../../../src/core/event.js';
import { ctxWith } from './builder.js';

type Parse = (buf: Buffer, id: string) => SpoorEvent[];
let parse: Parse | null = null;
try {
  const m = (await import('../../../src/readers/evtx/index.js')) as unknown as { parseEvtxBuffer?: Parse };
  parse = m.parseEvtxBuffer ?? null;
} catch {
  parse = null;
}

function detect(...rels: string[]): Finding[] {
  const ctx = ctxWith();
  const ds = hostDetectors.map((m) => m.create(ctx));
  for (const rel of rels) {
    const evs = parse!(readFileSync(corpusFile(rel)!), rel);
    for (const e of evs) for (const d of ds) d.observe(e);
  }
  return ds.flatMap((d) => d.finish());
}

const D = 'deepbluecli/evtx/';
const skip = (...f: string[]) => (parse ? needCorpus(...f.map((x) => D + x)) : 'EVTX reader not available');

test('smb-password-guessing: guessing against Administrator from 192.168.198.149, no success', { skip: skip('smb-password-guessing-security.evtx') }, () => {
  const fs = detect(D + 'smb-password-guessing-security.evtx');
  const bf = fs.filter((f) => f.detector === 'host.bruteforce');
  assert.equal(bf.length, 1);
  assert.equal(bf[0].src, '192.168.198.149');
  assert.equal(bf[0].user, 'Administrator');
  assert.equal(bf[0].outcome, 'failed');
  assert.ok((bf[0].facts?.failures as number) >= 3500);
  assert.equal(fs.filter((f) => f.detector === 'host.bruteforce-success').length, 0);
  assert.ok(bf[0].evidence.every((r) => r.evidence.endsWith('smb-password-guessing-security.evtx') && typeof r.record === 'number'));
});

test('password-spray: explicit-credential spraying', { skip: skip('password-spray.evtx') }, () => {
  const fs = detect(D + 'password-spray.evtx');
  const sp = fs.filter((f) => f.detector === 'host.spray');
  assert.equal(sp.length, 1);
  assert.ok((sp[0].facts?.distinctTargets as number) >= 10);
  assert.deepEqual(sp[0].attack, ['T1110.003']);
});

test('new-user-security: account creation and Administrators addition', { skip: skip('new-user-security.evtx') }, () => {
  const fs = detect(D + 'new-user-security.evtx').filter((f) => f.detector === 'host.account-manipulation');
  assert.ok(fs.some((f) => f.facts?.eventId === '4720' && f.facts?.target === 'IEUser'));
  assert.ok(fs.some((f) => f.facts?.group === 'Administrators' && f.facts?.privilegedGroup === true));
});

test('metasploit psexec: service installation', { skip: skip('metasploit-psexec-native-target-system.evtx', 'metasploit-psexec-powershell-target-system.evtx') }, () => {
  const a = detect(D + 'metasploit-psexec-native-target-system.evtx').filter((f) => f.detector === 'host.persistence');
  assert.ok(a.some((f) => f.facts?.name === 'KgXItsbKgTJzdzwl' && f.attack.includes('T1543.003')));
  const b = detect(D + 'metasploit-psexec-powershell-target-system.evtx').filter((f) => f.detector === 'host.persistence');
  assert.ok(b.some((f) => f.facts?.name === 'UWdKhYTIQWWJxHfx' && f.severity === 'critical'));
});

test('disablestop-eventlog: log tampering', { skip: skip('disablestop-eventlog.evtx') }, () => {
  const rules = detect(D + 'disablestop-eventlog.evtx')
    .filter((f) => f.detector === 'host.defense-evasion')
    .map((f) => f.facts?.rule);
  assert.ok(rules.includes('log-cleared'));
  assert.ok(rules.includes('eventlog-disabled'));
});

test('mimikatz-privesc-hashdump: credential dumping', { skip: skip('mimikatz-privesc-hashdump.evtx') }, () => {
  const fs = detect(D + 'mimikatz-privesc-hashdump.evtx').filter((f) => f.detector === 'host.credential-access');
  assert.ok(fs.some((f) => f.facts?.rule === 'mimikatz' && f.severity === 'critical'));
});
