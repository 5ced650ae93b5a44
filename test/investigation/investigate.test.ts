import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HomeNet } from '../../src/core/homenet.js';
import type { SpoorEvent } from '../../src/core/event.js';
import type { Incident } from '../../src/incident/types.js';
import { EntityCollector, investigate, investigateAll, parseAlert } from '../../src/investigation/index.js';
import { benign, C1, C2, case1, case2 } from './fixtures.js';

function collectorFor(homeNets: string[], extra: SpoorEvent[] = []): EntityCollector {
  const ec = new EntityCollector(new HomeNet(homeNets));
  // A local logon on the case-1 server: its own workstation name with its own address.
  ec.observe({
    '@timestamp': Date.parse('2024-06-01T00:00:00Z'),
    'event.dataset': 'evtx',
    'event.code': '4624',
    ref: { evidence: 'E1', record: 17 },
    'winlog.computer_name': 'WIN-APPSRV.corp.local',
    'winlog.event_data': { WorkstationName: 'WIN-APPSRV', IpAddress: C1.server, LogonType: '3' },
  });
  for (const e of extra) ec.observe(e);
  return ec;
}

const hostsWithRole = (inc: Incident, role: string) => inc.hosts.filter((h) => h.role === role).map((h) => h.host);
const recTargets = (inc: Incident, action: string) => inc.recommendations.filter((r) => r.action === action).map((r) => r.target);

test('case 1: RDP brute force → compromised server, entry, recommendations', () => {
  const hn = new HomeNet(C1.homeNets);
  const incs = investigate({ findings: case1(), entities: collectorFor(C1.homeNets).snapshot(), homeNet: hn, alert: parseAlert(`outbound-scan ${C1.server}`), tz: 'Asia/Shanghai' });
  assert.equal(incs.length, 1);
  const inc = incs[0];
  assert.deepEqual(inc.attackers, [C1.attacker]);
  assert.equal(inc.compromised.length, 1);
  assert.equal(inc.compromised[0].ip, C1.server);
  assert.equal(inc.compromised[0].host, C1.name);
  assert.equal(inc.compromised[0].via, 'T1110.001');
  assert.equal(inc.compromised[0].since, C1.success);
  assert.deepEqual(inc.c2, []);
  assert.ok(inc.entry);
  assert.equal(inc.entry.host, C1.name);
  assert.equal(inc.entry.ip, C1.server);
  assert.equal(inc.entry.technique, 'T1110.001');
  assert.equal(inc.entry.from, C1.attacker);
  assert.equal(inc.entry.time, C1.success);
  // The seed's remediation.
  assert.ok(recTargets(inc, 'block-ip').includes(C1.attacker));
  assert.ok(recTargets(inc, 'isolate-host').includes(C1.server));
  assert.ok(recTargets(inc, 'restrict-service').includes(`${C1.server}:3389/tcp`));
  assert.ok(recTargets(inc, 'enforce-password-policy').length >= 1);
  assert.ok(recTargets(inc, 'reset-credentials').includes('Administrator'));
  assert.ok(recTargets(inc, 'scan-hosts').includes(C1.server), 'full scan of the server');
  assert.ok(recTargets(inc, 'scan-hosts').some((t) => t.includes('80.66.0.0/16')), 'scan the other LAN hosts');
  const removed = recTargets(inc, 'remove-file').join('\n');
  for (const f of ['syste64.exe', 'host.exe', 'mz64.exe', 'masscan.exe']) assert.match(removed, new RegExp(f.replace('.', '\\.')));
  assert.ok(recTargets(inc, 'deploy-monitoring').length === 1);
  for (const r of inc.recommendations) assert.ok(r.findings.length > 0, `${r.action} ${r.target} cites findings`);
  // Root cause names RDP on the default port and the weak password; times in the case's zone.
  assert.match(inc.root_cause.en, /RDP\) on the default port 3389/);
  assert.match(inc.root_cause.en, /weak password/);
  assert.match(inc.root_cause.zh, /3389/);
  assert.match(inc.root_cause.en, /2024-06-04 03:35:40/);
  assert.match(inc.root_cause.en, /masscan/);
  // Steps: from the outbound scan back to the host logs.
  assert.equal(inc.steps[0].query, `src=${C1.server}`);
  assert.ok(inc.steps.some((s) => s.query === `host=${C1.name}`));
  // Timeline: password change at 03:36 local, the second night logon.
  assert.ok(inc.timeline.some((t) => t.text.en.startsWith('2024-06-04 03:36:12') && /account Administrator was changed/.test(t.text.en)));
  assert.ok(inc.timeline.some((t) => t.text.en.startsWith('2024-07-02 04:05')));
  assert.ok(inc.timeline.every((t, i, a) => i === 0 || a[i - 1].time <= t.time));
});

test('case 1 without entity events: the name is joined to the address through the same attacker on the wire', () => {
  const hn = new HomeNet(C1.homeNets);
  const { incidents, graph } = investigateAll({ findings: case1({ netBrute: true }), entities: null, homeNet: hn, tz: 'UTC' });
  assert.equal(incidents.length, 1);
  const inc = incidents[0];
  assert.equal(inc.compromised.length, 1);
  assert.equal(inc.compromised[0].ip, C1.server);
  assert.equal(inc.compromised[0].host, C1.name);
  assert.equal(graph.inferred.length, 1);
  assert.equal(graph.inferred[0].ip, C1.server);
  assert.ok(recTargets(inc, 'restrict-service').includes(`${C1.server}:3389/tcp`));
});

test('case 2: scanner → Spring4Shell → C2 → SMB lateral, as the seed concludes', () => {
  const hn = new HomeNet(C2.homeNets);
  const incs = investigate({ findings: case2(), entities: null, homeNet: hn, alert: parseAlert(`outbound ${C2.web} -> ${C2.c2}`), tz: 'Asia/Shanghai' });
  assert.equal(incs.length, 1);
  const inc = incs[0];
  assert.deepEqual(inc.attackers, [C2.scanner]);
  assert.deepEqual(inc.c2, [C2.c2]);
  assert.deepEqual(
    inc.compromised.map((c) => [c.ip, c.via, c.since]),
    [
      [C2.web, 'T1190', C2.exploit],
      [C2.second, 'T1021.002', C2.lateral],
    ],
  );
  assert.ok(inc.entry);
  assert.equal(inc.entry.host, C2.web);
  assert.equal(inc.entry.technique, 'T1190');
  assert.equal(inc.entry.from, C2.scanner);
  assert.equal(inc.entry.time, C2.exploit);
  // Chain links: exploited, beaconed-to, swept, authenticated-to.
  const kinds = inc.chain.map((l) => `${l.from} ${l.kind} ${l.to}`);
  assert.ok(kinds.includes(`${C2.scanner} exploited ${C2.web}`));
  assert.ok(kinds.includes(`${C2.web} beaconed-to ${C2.c2}`));
  assert.ok(kinds.includes(`${C2.web} swept 80.66.1.0/24`));
  assert.ok(kinds.includes(`${C2.web} authenticated-to ${C2.second}`));
  assert.ok(kinds.includes(`${C2.second} beaconed-to ${C2.c2}`));
  // The seed's pivots in order: symptom, dst=web, src=web, src=second.
  const qs = inc.steps.map((s) => s.query);
  const order = [`src=${C2.web} dst=${C2.c2}`, `dst=${C2.web}`, `src=${C2.web}`, `src=${C2.second}`];
  let at = -1;
  for (const q of order) {
    const i = qs.indexOf(q);
    assert.ok(i > at, `step ${q} after the previous one in ${JSON.stringify(qs)}`);
    at = i;
  }
  for (const s of inc.steps) assert.ok(s.findings.length > 0 && s.evidence.length > 0);
  // Every finding is cited by exactly one step.
  const cited = inc.steps.flatMap((s) => s.findings);
  assert.equal(new Set(cited).size, cited.length);
  assert.equal(cited.length, inc.findings.length);
  // Recommendations as the seed lists them.
  assert.deepEqual(recTargets(inc, 'block-ip').sort(), [C2.scanner, C2.c2].sort());
  assert.deepEqual(recTargets(inc, 'isolate-host').sort(), [C2.web, C2.second].sort());
  assert.deepEqual(recTargets(inc, 'patch'), ['CVE-2022-22965']);
  assert.deepEqual(recTargets(inc, 'disable-service'), [`${C2.second}:445/tcp`]);
  assert.ok(recTargets(inc, 'reset-credentials').includes('admin'));
  assert.ok(recTargets(inc, 'remove-file').includes('tomcatwar.jsp'));
  assert.match(inc.root_cause.en, /Spring Framework/);
  assert.match(inc.root_cause.en, /CVE-2022-22965/);
  assert.match(inc.root_cause.en, /weak or reused/);
  assert.equal(inc.severity, 'critical');
  assert.ok(inc.iocs.ips.includes(C2.c2) && inc.iocs.ips.includes(C2.scanner));
  assert.ok(inc.iocs.files.includes('tomcatwar.jsp'));
  const hostRoles = Object.fromEntries(inc.hosts.filter((h) => h.role !== 'targeted').map((h) => [h.host, h.role]));
  assert.deepEqual(hostRoles, { [C2.scanner]: 'attacker', [C2.web]: 'compromised', [C2.second]: 'compromised', [C2.c2]: 'c2' });
  assert.ok(hostsWithRole(inc, 'targeted').length >= 250, 'the swept /24');
});

test('case 2 without an alert starts from the most severe symptom and reaches the same chain', () => {
  const inc = investigate({ findings: case2(), entities: null, homeNet: new HomeNet(C2.homeNets), tz: 'UTC' })[0];
  assert.equal(inc.entry?.host, C2.web);
  assert.ok(inc.steps.length >= 3);
  assert.match(inc.steps[0].query ?? '', /^src=80\.66\.1\./);
  assert.ok(inc.steps.some((s) => s.query === `dst=${C2.web}`));
});

test('a compromised host that never talks to the C2 gets lower confidence and a doubt', () => {
  const hn = new HomeNet(C2.homeNets);
  const full = investigate({ findings: case2(), entities: null, homeNet: hn, tz: 'UTC' })[0];
  const part = investigate({ findings: case2({ secondBeacons: false }), entities: null, homeNet: hn, tz: 'UTC' })[0];
  const h1 = full.hosts.find((h) => h.host === C2.second)!;
  const h2 = part.hosts.find((h) => h.host === C2.second)!;
  assert.equal(h2.role, 'compromised');
  assert.ok(h2.confidence < h1.confidence, `${h2.confidence} < ${h1.confidence}`);
  assert.ok(h2.doubts?.some((d) => /Never seen talking to the incident's C2/.test(d.en)));
  assert.ok(!h1.doubts?.some((d) => /Never seen/.test(d.en)));
});

test('both cases with benign findings: two incidents, chains unchanged, benign hosts never attacker or compromised', () => {
  const homeNets = [...new Set([...C1.homeNets, ...C2.homeNets])];
  const hn = new HomeNet(homeNets);
  const findings = [...benign(), ...case2(), ...case1()];
  const { incidents, isolated } = investigateAll({ findings, entities: collectorFor(homeNets).snapshot(), homeNet: hn, tz: 'Asia/Shanghai' });
  const real = incidents.filter((i) => i.compromised.length);
  assert.equal(real.length, 2, JSON.stringify(incidents.map((i) => i.title.en)));
  const i1 = real.find((i) => i.attackers.includes(C1.attacker))!;
  const i2 = real.find((i) => i.attackers.includes(C2.scanner))!;
  assert.deepEqual(i1.attackers, [C1.attacker]);
  assert.deepEqual(i2.attackers, [C2.scanner]);
  assert.deepEqual(i1.compromised.map((c) => c.ip), [C1.server]);
  assert.deepEqual(i2.compromised.map((c) => c.ip), [C2.web, C2.second]);
  assert.equal(i1.entry?.from, C1.attacker);
  assert.equal(i2.entry?.from, C2.scanner);
  const benignHosts = ['80.66.2.40', '80.66.1.50', '80.66.1.60', '198.51.100.99', '10.1.1.9', 'FILESRV'];
  for (const inc of incidents) {
    for (const h of inc.hosts) {
      if (benignHosts.includes(h.host)) assert.ok(h.role !== 'attacker' && h.role !== 'compromised', `${h.host} is ${h.role} in ${inc.title.en}`);
    }
    for (const b of benignHosts) assert.ok(!inc.attackers.includes(b));
  }
  // The lone low-severity findings stay findings.
  const lone = findings.filter((f) => f.host === 'FILESRV' || f.src === '80.66.1.50').map((f) => f.id);
  for (const id of lone) assert.ok(isolated.includes(id), `${id} isolated`);
});

test('parseAlert', () => {
  assert.deepEqual(parseAlert('outbound-scan 80.66.1.15'), { kind: 'outbound-scan', src: '80.66.1.15', text: 'outbound-scan 80.66.1.15' });
  assert.deepEqual(parseAlert('outbound 80.66.1.15 -> 203.0.113.156'), { kind: 'outbound', src: '80.66.1.15', dst: '203.0.113.156', text: 'outbound 80.66.1.15 -> 203.0.113.156' });
  assert.equal(parseAlert('80.66.1.15→203.0.113.156').dst, '203.0.113.156');
  assert.equal(parseAlert('80.66.1.15→203.0.113.156').kind, 'outbound');
  assert.deepEqual(parseAlert('inbound 80.66.1.15'), { kind: 'inbound', dst: '80.66.1.15', text: 'inbound 80.66.1.15' });
  assert.equal(parseAlert('host WIN-APPSRV').src, 'WIN-APPSRV');
  assert.equal(parseAlert('').kind, 'host');
});

test('EntityCollector joins names and addresses from EVTX, NTLM, DNS and keeps bounded memory', () => {
  const hn = new HomeNet(['80.66.0.0/16']);
  const ec = new EntityCollector(hn, { maxNames: 3, maxContactSrcsPerDst: 2 });
  const base = { '@timestamp': 1, ref: { evidence: 'E2', frame: 1 } };
  ec.observe({ ...base, 'event.dataset': 'ntlm', 'source.ip': '80.66.1.15', 'destination.ip': '80.66.1.5', 'ntlm.workstation': 'WEB01', 'ntlm.server_nb_computer': 'FS02' });
  ec.observe({ ...base, 'event.dataset': 'dns', 'dns.question.name': 'evil.example.com', 'dns.answers': [{ name: 'evil.example.com', type: 'A', data: '203.0.113.156', ttl: 60 }] });
  ec.observe({ ...base, 'event.dataset': 'evtx', 'event.code': '4624', 'winlog.computer_name': 'DC1', 'winlog.event_data': { WorkstationName: 'DC1', IpAddress: '127.0.0.1' } });
  for (let i = 0; i < 5; i++) ec.observe({ ...base, 'event.dataset': 'conn', 'source.ip': `80.66.1.${i + 1}`, 'destination.ip': '203.0.113.156', 'destination.port': 443 });
  ec.observe({ ...base, 'event.dataset': 'conn', 'source.ip': '198.51.100.1', 'destination.ip': '80.66.1.5', 'destination.port': 3389, 'conn.state': 'SF' });
  ec.observe({ ...base, 'event.dataset': 'conn', 'source.ip': '198.51.100.1', 'destination.ip': '80.66.1.5', 'destination.port': 445, 'conn.state': 'S0' });
  for (let i = 0; i < 10; i++) ec.observe({ ...base, 'event.dataset': 'ntlm', 'source.ip': `80.66.2.${i + 1}`, 'ntlm.workstation': `PC${i}` });
  // Garbage must not throw.
  ec.observe({ ...base, 'event.dataset': 'dns', 'dns.answers': [null, 5, { type: 'A', data: 'x' }] } as unknown as SpoorEvent);
  ec.observe({ ...base, 'event.dataset': 'evtx', 'event.code': '4624', 'winlog.event_data': null } as unknown as SpoorEvent);
  const s = ec.snapshot();
  assert.equal(s.hosts.WEB01[0].ip, '80.66.1.15');
  assert.equal(s.hosts.FS02[0].ip, '80.66.1.5');
  assert.equal(s.hosts.DC1, undefined, 'loopback is not an address of the host');
  assert.equal(Object.keys(s.hosts).length, 3);
  assert.ok(s.dropped > 0);
  assert.deepEqual(s.domains['evil.example.com'], ['203.0.113.156']);
  assert.equal(s.contacts['203.0.113.156'].length, 2);
  assert.deepEqual(s.exposed['80.66.1.5'].map((x) => x.port), [3389]);
});

test('connection records add hosts that contacted the C2 to the blast radius, with a doubt', () => {
  const homeNets = C2.homeNets;
  const hn = new HomeNet(homeNets);
  const ec = new EntityCollector(hn);
  ec.observe({ '@timestamp': Date.parse('2024-03-11T05:00:00Z'), 'event.dataset': 'conn', ref: { evidence: 'E2', frame: 9 }, 'source.ip': '80.66.1.77', 'destination.ip': C2.c2, 'destination.port': 443 });
  const inc = investigate({ findings: case2(), entities: ec.snapshot(), homeNet: hn, tz: 'UTC' })[0];
  const h = inc.hosts.find((x) => x.host === '80.66.1.77');
  assert.equal(h?.role, 'compromised');
  assert.ok((h?.confidence ?? 1) < 0.5);
  assert.ok(h?.doubts?.length);
  assert.ok(inc.steps.some((s) => s.query === `dst=${C2.c2}` && /80\.66\.1\.77/.test(s.found.en)));
});

test('corrupt findings do not crash the investigation', () => {
  const bad = [
    null,
    { id: 'x1', detector: 'net.beacon', attack: 'T1071', severity: 'bogus', outcome: 'succeeded', confidence: NaN, first: NaN, last: 'x', summary: null, evidence: null },
    { id: 'x2', detector: 5, attack: [null, 7], severity: 'high', outcome: 'compromised', first: 0, last: 0, src: {}, dst: [], host: 12, summary: { en: '', zh: '' }, evidence: [], facts: { targets: 'nope', cve: 12 } },
  ] as unknown as Parameters<typeof investigate>[0]['findings'];
  const out = investigateAll({ findings: [...bad, ...case2()], entities: null, homeNet: new HomeNet(C2.homeNets), tz: 'Not/AZone' });
  assert.ok(out.incidents.some((i) => i.entry?.host === C2.web));
});

test('a web shell after refused exploit probes: compromised since the proof, not since the first probe', () => {
  const hn = new HomeNet(C2.homeNets);
  const base = case2().filter((f) => !/web_exploit|webshell/.test(f.detector));
  const probeAt = '2024-03-11T02:05:29.000Z';
  const shellAt = '2024-03-11T02:31:07.000Z';
  const probe = { ...case2().find((f) => /web_exploit/.test(f.detector))!, id: 'net.web-exploit-probes', detector: 'net.web-exploit', outcome: 'failed' as const, severity: 'medium' as const, first: Date.parse(probeAt), last: Date.parse(probeAt) + 60_000 };
  const shell = { ...case2().find((f) => /webshell/.test(f.detector))!, id: 'net.webshell-1', detector: 'net.webshell', outcome: 'compromised' as const, first: Date.parse(shellAt), last: Date.parse(shellAt) + 120_000 };
  const web = (inc: Incident) => inc.compromised.find((c) => c.ip === C2.web)!;
  // only refused probes before the shell: the way in is the exploit, dated by the shell that proves it
  let inc = investigate({ findings: [...base, probe, shell], entities: null, homeNet: hn, alert: parseAlert(`outbound ${C2.web} -> ${C2.c2}`), tz: 'UTC' })[0];
  assert.equal(web(inc).via, 'T1190');
  assert.equal(web(inc).since, shellAt);
  // with the successful exploitation as its own finding: its time
  const wonAt = '2024-03-11T02:31:06.000Z';
  const won = { ...probe, id: 'net.web-exploit-won', outcome: 'compromised' as const, severity: 'critical' as const, first: Date.parse(wonAt), last: Date.parse(shellAt) };
  inc = investigate({ findings: [...base, probe, won, shell], entities: null, homeNet: hn, alert: parseAlert(`outbound ${C2.web} -> ${C2.c2}`), tz: 'UTC' })[0];
  assert.equal(web(inc).since, wonAt);
  assert.equal(inc.entry?.time, wonAt);
});
