import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EvtxEvent } from '../../src/core/event.js';
import { parseSigmaYaml, SigmaEngine, type DetectionRule, type SigmaHit, type Unsupported } from '../../src/sigma/index.js';
import { classifyMiss, techniqueRelated, techniquesFromPath } from '../../conformance/suites/sigma.js';

let rec = 0;
function ev(channel: string, provider: string, eventId: number, data: Record<string, string>, evidence = 'E1', record?: number): EvtxEvent {
  rec++;
  return {
    '@timestamp': 1_700_000_000_000 + rec,
    'event.dataset': 'evtx',
    ref: { evidence, record: record ?? rec },
    'event.code': String(eventId),
    'event.provider': provider,
    'winlog.channel': channel,
    'winlog.record_id': record ?? rec,
    'winlog.computer_name': 'WS1',
    'winlog.event_id': eventId,
    'winlog.event_data': data,
  };
}

function rules(yamlText: string): DetectionRule[] {
  const uns: Unsupported[] = [];
  const r = parseSigmaYaml(yamlText, 'mem.yml', {}, uns);
  assert.deepEqual(uns, []);
  return r.filter((x): x is DetectionRule => x.kind === 'detection');
}

function hits(rs: DetectionRule[], events: EvtxEvent[]): SigmaHit[] {
  const eng = new SigmaEngine(rs);
  const out: SigmaHit[] = [];
  for (const e of events) eng.match(e, (h) => out.push(h));
  return out;
}

const MITIGATIONS = `title: Unsigned DLL
id: 00000000-0000-0000-0000-0000000000a1
level: high
tags: [attack.t1574.002]
logsource:
  product: windows
  service: security-mitigations
detection:
  s:
    EventID: [11, 12]
    ImageName|contains: '\\Users\\Public\\'
  condition: s
`;

test('service security-mitigations reads the channels Windows writes (KernelMode / UserMode, no space)', () => {
  const rs = rules(MITIGATIONS);
  const data = { ImageName: 'C:\\Users\\Public\\x.dll' };
  const h = hits(rs, [
    ev('Microsoft-Windows-Security-Mitigations/KernelMode', 'Microsoft-Windows-Security-Mitigations', 11, data),
    ev('Microsoft-Windows-Security-Mitigations/UserMode', 'Microsoft-Windows-Security-Mitigations', 12, data),
    ev('Microsoft-Windows-Security-Mitigations/KernelMode', 'Microsoft-Windows-Security-Mitigations', 11, { ImageName: 'C:\\Windows\\x.dll' }),
    ev('Microsoft-Windows-Sysmon/Operational', 'Microsoft-Windows-Sysmon', 11, data),
  ]);
  assert.equal(h.length, 2);
});

test('service dns-client reads Microsoft-Windows-DNS-Client/Operational', () => {
  const rs = rules(`title: DNS
id: 00000000-0000-0000-0000-0000000000a2
level: medium
logsource:
  product: windows
  service: dns-client
detection:
  s:
    EventID: 3008
    QueryName|endswith: '.ngrok.io'
  condition: s
`);
  const h = hits(rs, [
    ev('Microsoft-Windows-DNS-Client/Operational', 'Microsoft-Windows-DNS-Client', 3008, { QueryName: 'a.ngrok.io' }),
    ev('Microsoft-Windows-DNS-Client/Operational', 'Microsoft-Windows-DNS-Client', 3008, { QueryName: 'a.example.org' }),
  ]);
  assert.equal(h.length, 1);
});

test('one record counts once per evidence, and again in another evidence (the agreement suite numbers files)', () => {
  const rs = rules(MITIGATIONS);
  const data = { ImageName: 'C:\\Users\\Public\\x.dll' };
  const ch = 'Microsoft-Windows-Security-Mitigations/KernelMode';
  const p = 'Microsoft-Windows-Security-Mitigations';
  const h = hits(rs, [ev(ch, p, 11, data, 'A1', 500), ev(ch, p, 11, data, 'A1', 500), ev(ch, p, 11, data, 'A2', 500)]);
  assert.deepEqual(
    h.map((x) => x.ref.evidence),
    ['A1', 'A2'],
  );
});

test('expected technique from a path: ATT&CK ids in folders or name, else name keywords', () => {
  assert.deepEqual(techniquesFromPath('EVTX-to-MITRE-Attack/TA0006-Credential Access/T1110.xxx-Brut force/ID4625-x.evtx'), { techniques: ['T1110'], source: 'id' });
  assert.deepEqual(techniquesFromPath('YamatoSecurity/CredentialAccess/T1558.004_StealOrForge_Security.evtx'), { techniques: ['T1558.004'], source: 'id' });
  assert.deepEqual(techniquesFromPath('Defense Evasion/Win_4985_T1186_Process_Doppelganging.evtx').techniques, ['T1186']);
  // TA0006 is a tactic, not a technique
  assert.deepEqual(techniquesFromPath('EVTX-to-MITRE-Attack/TA0006-Credential Access/x.evtx'), { techniques: [], source: 'none' });
  const kw = techniquesFromPath('Privilege Escalation/Sysmon_UACME_22.evtx');
  assert.equal(kw.source, 'keyword');
  assert.deepEqual(kw.techniques, ['T1548.002']);
  assert.equal(techniquesFromPath('Discovery/discovery_psloggedon.evtx').source, 'none');
});

test('technique agreement: same id, parent/sub-technique, ATT&CK v18 renumbering; siblings do not agree', () => {
  assert.ok(techniqueRelated('T1003', 'T1003.001'));
  assert.ok(techniqueRelated('T1003.001', 'T1003'));
  assert.ok(techniqueRelated('t1059.001', 'T1059.001'));
  assert.ok(!techniqueRelated('T1003.001', 'T1003.002'));
  assert.ok(!techniqueRelated('T1003', 'T1030'));
  assert.ok(techniqueRelated('T1070.001', 'T1685.005'));
  assert.ok(techniqueRelated('T1562.002', 'T1685.001'));
  assert.ok(!techniqueRelated('T1070.001', 'T1685.001'));
  assert.ok(!techniqueRelated('T1070.004', 'T1685.005'));
  assert.ok(techniqueRelated('T1562.004', 'T1686.003'));
  assert.ok(techniqueRelated('T1562', 'T1686.003'));
  assert.ok(!techniqueRelated('T1562.010', 'T1685.001'));
});

test('classifyMiss names the cause from the events and the rules carrying the technique', () => {
  const rs = rules(`title: Sysmon Rule
id: 00000000-0000-0000-0000-0000000000b1
level: high
tags: [attack.t1055]
logsource:
  product: windows
  category: create_remote_thread
detection:
  s:
    SourceImage|endswith: '\\evil.exe'
  condition: s
---
title: Security Rule
id: 00000000-0000-0000-0000-0000000000b2
level: high
tags: [attack.t1098]
logsource:
  product: windows
  service: security
detection:
  s:
    EventID: 4738
    UserAccountControl|contains: '%%2089'
  condition: s
`);
  const sys8 = ev('Microsoft-Windows-Sysmon/Operational', 'Microsoft-Windows-Sysmon', 8, { SourceImage: 'C:\\good.exe' });
  const sec4738 = ev('Security', 'Microsoft-Windows-Security-Auditing', 4738, { UserAccountControl: '-' });
  const tsrcm = ev('Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational', 'X', 1149, {});
  const asRec = (e: EvtxEvent) => e as unknown as Record<string, unknown>;
  const none = new Set<string>();
  assert.match(classifyMiss('f', { techniques: ['T1055'] }, [asRec(sys8)], rs, none).cause, /read this log source, but their detection does not match/);
  assert.match(classifyMiss('f', { techniques: ['T1055.012'] }, [asRec(sec4738)], rs, none).cause, /read other log sources/);
  assert.match(classifyMiss('f', { techniques: ['T1055'] }, [asRec(tsrcm)], rs, none).cause, /no SigmaHQ rule reads this file's log source/);
  assert.match(classifyMiss('f', { techniques: ['T1186'] }, [asRec(sys8)], rs, none).cause, /no SigmaHQ Windows rule tagged/);
  assert.match(classifyMiss('f', { techniques: ['T1098'] }, [], rs, none).cause, /no events/);
  const m = classifyMiss('f', { techniques: ['T1098'] }, [asRec(sec4738)], rs, new Set(['T1078']));
  assert.equal(m.otherFired, true);
  assert.match(m.sources, /Security:4738×1/);
});

test('classifyMiss tells rules that fired without a technique tag from no rule firing', () => {
  const rs = rules(`title: Untagged
id: 00000000-0000-0000-0000-0000000000c1
level: low
logsource:
  product: windows
  category: process_creation
detection:
  s:
    Image|endswith: '\\wusa.exe'
  condition: s
`);
  const e = ev('Microsoft-Windows-Sysmon/Operational', 'Microsoft-Windows-Sysmon', 1, { Image: 'C:\\w\\wusa.exe' }) as unknown as Record<string, unknown>;
  const a = classifyMiss('f', { techniques: ['T1548.002'] }, [e], rs, new Set(), 1);
  assert.equal(a.otherFired, true);
  assert.match(a.detail, /1 rule\(s\) fired, with no technique tag/);
  const b = classifyMiss('f', { techniques: ['T1548.002'] }, [e], rs, new Set(), 0);
  assert.equal(b.otherFired, false);
  assert.match(b.detail, /no rule fired/);
});
