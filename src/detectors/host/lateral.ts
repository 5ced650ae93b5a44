/**
 * host.lateral-movement — the target side (and some source-side traces) of
 * remote execution between Windows hosts:
 *  - SMB admin shares and RPC pipes (Security 5140/5145, T1021.002): ADMIN$,
 *    C$ and other hidden disk shares from a remote address; IPC$ pipes svcctl
 *    (remote service control, T1569.002), atsvc (remote task, T1053.005),
 *    PsExec/RemCom/PAExec/CsExec pipes; executables written to an admin share;
 *    remote eventlog pipe (T1562.002) and spoolss (forced authentication, T1187)
 *    (samr/lsarpc/srvsvc/winreg enumeration is host.discovery's);
 *  - pass-the-hash shapes (T1550.002): 4624 type 9 with LogonProcessName
 *    seclogo (Mimikatz sekurlsa::pth / runas /netonly on the source), 4624
 *    type 3 NTLM with KeyLength 0 from a remote address (target side);
 *  - 4648 explicit credentials to another computer (T1021);
 *  - WinRM (T1021.006): WinRM/Operational 91 (shell created), 6 (client session),
 *    169 (user authenticated); processes spawned by wsmprovhost.exe/winrshost.exe;
 *  - DCOM and WMI remote execution (T1021.003, T1047): shells spawned by
 *    wmiprvse.exe, mmc.exe -Embedding, mshta -Embedding, excel/outlook DCOM;
 *  - remote service creation: a 7045/4697 service installed within
 *    `serviceWindowMs` after a network logon (4624 type 3) from a remote
 *    address on the same host, both records cited.
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding, Severity } from '../../core/finding.js';
import { hostDetector, mk } from './base.js';
import { HitAggregator, type Hit } from './hits.js';
import type { HostState } from './state.js';
import { baseName, code, field, hostKey, hostOf, intField, isLoopback, isMachineAccount, isSecurity, isSysmon, normIp, provider, SCM, t } from './util.js';

export const ID = 'host.lateral-movement';
/** Event codes this detector examines (the rest only feed the shared state). */
const CODES: ReadonlySet<string> = new Set(['5140', '5145', '4624', '4648', '4688', '4697', '7045', '1', '3', '11', '17', '18', '91', '169', '6']);

export const LATERAL_DEFAULTS = {
  /** A service installed within this time after a remote network logon is a remote service creation. */
  serviceWindowMs: 2 * 60_000,
  /** Report 4648 explicit credentials to other computers. */
  explicitRemote: true,
  /** Report 5140 access to admin shares (ADMIN$, C$ ...) from remote addresses. */
  adminShare: true,
};

const WINRM = 'Microsoft-Windows-WinRM';
const SHELLS = /^(cmd|powershell|pwsh|rundll32|regsvr32|mshta|wscript|cscript|certutil|bitsadmin|net1?|whoami|hostname|ipconfig|systeminfo|calc|notepad|tasklist|quser|reg|sc|schtasks|wmic|msbuild|installutil)\.exe$/;
const PSEXEC_PIPE = /^(psexesvc|remcom_|paexec|csexecsvc|winexesvc|ntsvcs_|\w+-stdin-|\w+-stdout-)/i;

export interface PipeHit {
  rule: string;
  attack: string[];
  severity: Severity;
  en: string;
  zh: string;
}

/** Share names and targets repeat across thousands of 5140/5145 records: normalise each once (bounded). */
const SHARES = new Map<string, string>();
const TARGETS = new Map<string, string>();
const normShare = (share: string): string => share.toLowerCase().replace(/^\\\\[^\\]*\\/, '');
const normTarget = (target: string): string => target.toLowerCase().replace(/^\\+/, '');
function memo(m: Map<string, string>, k: string, f: (s: string) => string): string {
  let v = m.get(k);
  if (v === undefined) {
    v = f(k);
    if (m.size >= 4096) m.clear();
    m.set(k, v);
  }
  return v;
}

/** Classify a share access (5140/5145): share name and relative target (pipe or file). */
const SH_REMOTE_SVCCTL: PipeHit = Object.freeze({ rule: 'remote-svcctl', attack: ['T1021.002', 'T1569.002'], severity: 'high', en: 'remote service control over SMB (svcctl pipe)', zh: '通过 SMB 远程控制服务（svcctl 管道）' });
const SH_REMOTE_ATSVC: PipeHit = Object.freeze({ rule: 'remote-atsvc', attack: ['T1021.002', 'T1053.005'], severity: 'high', en: 'remote scheduled task over SMB (atsvc pipe)', zh: '通过 SMB 远程创建计划任务（atsvc 管道）' });
const SH_PSEXEC_PIPE: PipeHit = Object.freeze({ rule: 'psexec-pipe', attack: ['T1021.002', 'T1569.002'], severity: 'high', en: 'PsExec-style named pipe opened remotely', zh: '远程打开 PsExec 类命名管道' });
const SH_REMOTE_EVENTLOG_PIPE: PipeHit = Object.freeze({ rule: 'remote-eventlog-pipe', attack: ['T1562.002'], severity: 'medium', en: 'remote access to the event log service pipe', zh: '远程访问事件日志服务管道' });
const SH_REMOTE_SPOOLSS_PIPE: PipeHit = Object.freeze({ rule: 'remote-spoolss-pipe', attack: ['T1187'], severity: 'low', en: 'remote access to the print spooler pipe (forced authentication)', zh: '远程访问打印服务管道（强制认证）' });
const SH_ADMIN_SHARE_WRITE: PipeHit = Object.freeze({ rule: 'admin-share-write', attack: ['T1021.002', 'T1570'], severity: 'high', en: 'executable written to an administrative share', zh: '向管理共享写入可执行文件' });
const SH_ADMIN_SHARE_OUTPUT: PipeHit = Object.freeze({ rule: 'admin-share-output', attack: ['T1021.002', 'T1047'], severity: 'high', en: 'command output file on an administrative share (Impacket style)', zh: '管理共享上的命令输出文件（Impacket 特征）' });
const SH_ADMIN_SHARE_MEDIUM: PipeHit = Object.freeze({ rule: 'admin-share', attack: ['T1021.002'], severity: 'medium', en: 'administrative share accessed from a remote address', zh: '远程访问管理共享' });
const SH_ADMIN_SHARE_LOW: PipeHit = Object.freeze({ rule: 'admin-share', attack: ['T1021.002'], severity: 'low', en: 'administrative share accessed from a remote address', zh: '远程访问管理共享' });

export function classifyShare(share: string, target: string, accessMask: string): PipeHit | null {
  // only hidden shares (IPC$, ADMIN$, C$ ...) matter: leave before any allocation otherwise
  if (share.charCodeAt(share.length - 1) !== 36) return null;
  const s = memo(SHARES, share, normShare);
  const r = memo(TARGETS, target, normTarget);
  if (s === 'ipc$') {
    if (r === 'svcctl') return SH_REMOTE_SVCCTL;
    if (r === 'atsvc') return SH_REMOTE_ATSVC;
    if (PSEXEC_PIPE.test(r)) return SH_PSEXEC_PIPE;
    if (r === 'eventlog') return SH_REMOTE_EVENTLOG_PIPE;
    if (r === 'spoolss') return SH_REMOTE_SPOOLSS_PIPE;
    return null;
  }
  if (/^[a-z]\$$|^admin\$$/.test(s)) {
    const write = (intField(accessMask) & 0x2) !== 0 || (intField(accessMask) & 0x4) !== 0;
    if (write && /\.(exe|dll|bat|cmd|ps1|vbs|js|hta|scr|sys)$/.test(r)) return SH_ADMIN_SHARE_WRITE;
    if (/^(__\d+(\.\d+)?|[a-z0-9]{8}\.(bat|tmp)|temp\\__output)$/.test(r)) return SH_ADMIN_SHARE_OUTPUT;
    return s === 'admin$' ? SH_ADMIN_SHARE_MEDIUM : SH_ADMIN_SHARE_LOW;
  }
  return null;
}

/** Parent process shapes of remote execution (child is a shell or tool). */
export function remoteExecParent(parent: string, parentCmd: string, child: string): PipeHit | null {
  const p = baseName(parent);
  const c = baseName(child);
  const pc = parentCmd.toLowerCase();
  if (p === 'wsmprovhost.exe' || p === 'winrshost.exe') return { rule: 'winrm-exec', attack: ['T1021.006'], severity: 'high', en: 'process started through WinRM / PowerShell remoting', zh: '通过 WinRM / PowerShell 远程执行进程' };
  if (!SHELLS.test(c)) return null;
  if (p === 'sqlservr.exe') return { rule: 'sql-xpcmdshell-exec', attack: ['T1505.001', 'T1059.003'], severity: 'high', en: 'shell started by SQL Server (xp_cmdshell)', zh: 'SQL Server 启动命令行（xp_cmdshell）' };
  if (p === 'wmiprvse.exe') return { rule: 'wmi-exec', attack: ['T1047'], severity: 'high', en: 'shell started by the WMI provider host (WMI execution, local or remote)', zh: 'WMI 服务进程启动命令行（本地或远程 WMI 执行）' };
  if (p === 'mmc.exe' && pc.includes('-embedding')) return { rule: 'dcom-mmc20', attack: ['T1021.003'], severity: 'high', en: 'shell started by MMC over DCOM (MMC20.Application)', zh: '通过 DCOM（MMC20.Application）启动命令行' };
  if (p === 'mshta.exe' && pc.includes('-embedding')) return { rule: 'dcom-htafile', attack: ['T1021.003', 'T1218.005'], severity: 'high', en: 'shell started by mshta over DCOM (htafile)', zh: '通过 DCOM（htafile）由 mshta 启动命令行' };
  if (/^(excel|winword|outlook|visio)\.exe$/.test(p) && pc.includes('-embedding')) return { rule: 'dcom-office', attack: ['T1021.003'], severity: 'high', en: 'shell started by an Office application over DCOM', zh: '通过 DCOM 由 Office 程序启动命令行' };
  return null;
}

/** WMI execution becomes lateral movement when the process runs in a network logon session from another host. */
function withRemote(e: SpoorEvent, state: HostState, h: PipeHit, hit: Hit): Hit {
  if (h.rule !== 'wmi-exec') return hit;
  const s = state.sessions.sessionOf(e);
  if (s && s.logonType === 3 && s.src && !isLoopback(s.src)) return { ...hit, attack: ['T1047', 'T1021.003'], en: `shell started by the WMI provider host in a network logon from ${s.src} (remote WMI execution)`, zh: `WMI 服务进程在来自 ${s.src} 的网络登录会话中启动命令行（远程 WMI 执行）`, facts: { ...hit.facts, remoteSource: s.src } };
  return hit;
}

interface NetLogon {
  t: number;
  src: string;
  user: string;
  ref: EvidenceRef;
}

export const lateralMovement: DetectorModule = {
  id: ID,
  title: { en: 'Lateral movement', zh: '横向移动' },
  attack: ['T1021.002', 'T1021.003', 'T1021.006', 'T1550.002', 'T1569.002', 'T1047', 'T1570', 'T1187'],
  defaults: { ...LATERAL_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...LATERAL_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof LATERAL_DEFAULTS;
    const agg = new HitAggregator(ID);
    /** Recent remote network logons per host (bounded ring). */
    const recent = new Map<string, NetLogon[]>();
    const remoteSvc: Finding[] = [];
    const remote = (ip: string) => !!ip && !isLoopback(ip) && ip !== '-';
    function remoteService(ev: SpoorEvent, name: string, path: string): void {
      const hk = hostKey(hostOf(ev));
      const r = recent.get(hk);
      if (!r || remoteSvc.length > 500) return;
      const ts = ev['@timestamp'];
      for (let i = r.length - 1; i >= 0; i--) {
        const l = r[i];
        if (l.t > ts + 1000) continue;
        if (ts - l.t > cfg.serviceWindowMs) break;
        remoteSvc.push(
          mk(ID, {
            attack: ['T1021.002', 'T1569.002', 'T1543.003'],
            severity: 'high',
            outcome: 'succeeded',
            confidence: 0.75,
            first: l.t,
            last: ts,
            host: hostOf(ev),
            user: l.user,
            src: l.src,
            summary: {
              en: `Remote service creation on ${hostOf(ev)}: service ${name} (${path.slice(0, 200)}) installed at ${t(ts)}, ${Math.round((ts - l.t) / 1000)} s after a network logon of ${l.user} from ${l.src}.`,
              zh: `主机 ${hostOf(ev)} 上的远程服务创建：${l.user} 自 ${l.src} 网络登录后 ${Math.round((ts - l.t) / 1000)} 秒，于 ${t(ts)} 安装服务 ${name}（${path.slice(0, 200)}）。`,
            },
            evidence: [l.ref, ev.ref],
            facts: { rule: 'remote-service-creation', service: name, command: path.slice(0, 1000), source: l.src, logonUser: l.user, secondsAfterLogon: Math.round((ts - l.t) / 1000) },
          }),
        );
        return;
      }
    }
    return hostDetector(ctx, ID, {
      codes: CODES,
      observe(e: SpoorEvent, state: HostState) {
        const c = code(e);
        if (isSecurity(e)) {
          if (c === '5140' || c === '5145') {
            const ip = normIp(field(e, 'IpAddress'));
            if (!remote(ip)) return;
            const user = field(e, 'SubjectUserName');
            if (isMachineAccount(user)) return;
            const share = field(e, 'ShareName');
            const h = classifyShare(share, c === '5145' ? field(e, 'RelativeTargetName') : '', field(e, 'AccessMask'));
            if (!h || (h.rule === 'admin-share' && !cfg.adminShare)) return;
            const rel = field(e, 'RelativeTargetName');
            agg.addLazy(e, state, h.rule, `${h.rule}|${ip}|${h.rule === 'admin-share' ? share : ''}`, `${user} from ${ip}`, () => ({ ...h, subject: `${share}${rel ? '\\' + rel : ''} from ${ip}`, facts: { share, target: rel, source: ip, eventId: c } }), user);
            return;
          }
          if (c === '4624') {
            const lt = intField(field(e, 'LogonType'));
            const user = field(e, 'TargetUserName');
            const ip = normIp(field(e, 'IpAddress'));
            const lp = field(e, 'LogonProcessName').toLowerCase();
            const pkg = field(e, 'AuthenticationPackageName').toLowerCase();
            if (lt === 9 && lp === 'seclogo') {
              agg.add(e, state, { rule: 'pth-source-seclogo', attack: ['T1550.002', 'T1134'], severity: 'high', en: 'new-credentials logon (type 9, seclogo): pass-the-hash / overpass-the-hash or token manipulation on the source host, or runas /netonly', zh: '新凭据登录（类型 9，seclogo）：源主机上的哈希传递/票据传递，或 runas /netonly', subject: `${field(e, 'SubjectUserName') || '?'} as ${user}`, key: user, detail: field(e, 'ProcessName'), confidence: 0.7, facts: { logonType: 9, logonProcess: 'seclogo', process: field(e, 'ProcessName') } }, field(e, 'SubjectUserName'));
              return;
            }
            if (lt === 3 && remote(ip) && user && !isMachineAccount(user) && !/^anonymous logon$/i.test(user)) {
              const hk = hostKey(hostOf(e));
              let r = recent.get(hk);
              if (!r) {
                if (recent.size > 5000) return;
                recent.set(hk, (r = []));
              }
              r.push({ t: e['@timestamp'], src: ip, user, ref: e.ref });
              if (r.length > 64) r.shift();
              if (pkg === 'ntlm' && lp.startsWith('ntlmssp') && field(e, 'KeyLength') === '0') {
                agg.add(e, state, { rule: 'pth-target-ntlm', attack: ['T1550.002'], severity: 'low', en: 'NTLM network logon without session key from a remote address (pass-the-hash shape)', zh: '来自远程地址、无会话密钥的 NTLM 网络登录（哈希传递特征）', subject: `${user} from ${ip}`, key: `${user}|${ip}`, detail: field(e, 'WorkstationName'), confidence: 0.55, facts: { source: ip, keyLength: 0 } }, user);
              }
            }
            return;
          }
          if (c === '4648' && cfg.explicitRemote) {
            const server = field(e, 'TargetServerName').toLowerCase();
            const host = hostKey(hostOf(e));
            if (!server || server === 'localhost' || server === '-' || hostKey(server) === host || server === '127.0.0.1' || server === '::1') return;
            const subj = field(e, 'SubjectUserName');
            if (isMachineAccount(subj)) return;
            const proc = field(e, 'ProcessName');
            const p = baseName(proc);
            const tool = /^(wmic|psexec(64)?|powershell|pwsh|cmd|net1?|sc|schtasks|reg|winrs|mstsc|rundll32|runas)\.exe$/.test(p) || !/\\windows\\/i.test(proc);
            agg.add(e, state, { rule: 'explicit-credentials-remote', attack: ['T1021', 'T1078'], severity: tool ? 'medium' : 'low', en: 'explicit credentials used to reach another computer', zh: '使用显式凭据访问其他计算机', subject: `${field(e, 'TargetUserName')} → ${field(e, 'TargetServerName')}`, key: `${field(e, 'TargetUserName')}|${server}`, detail: proc, confidence: tool ? 0.6 : 0.4, facts: { targetServer: field(e, 'TargetServerName'), targetUser: field(e, 'TargetUserName'), process: proc } }, subj);
            return;
          }
          if (c === '4688') {
            const h = remoteExecParent(field(e, 'ParentProcessName'), '', field(e, 'NewProcessName'));
            if (h) agg.add(e, state, withRemote(e, state, h, { ...h, subject: baseName(field(e, 'NewProcessName')), key: h.rule, detail: field(e, 'CommandLine') || field(e, 'NewProcessName'), facts: { parent: field(e, 'ParentProcessName') } }), field(e, 'SubjectUserName'));
            return;
          }
          if (c === '4697') return void remoteService(e, field(e, 'ServiceName'), field(e, 'ServiceFileName'));
          return;
        }
        if (c === '7045' && provider(e) === SCM) return void remoteService(e, field(e, 'ServiceName', 'param1'), field(e, 'ImagePath', 'param2'));
        if (isSysmon(e) && c === '11' && field(e, 'Image') === 'System') {
          // files created by the kernel's SMB server: written over the network by another host
          const target = field(e, 'TargetFilename');
          if (!/\.(exe|dll|sys|bat|cmd|ps1|vbs|js|hta|scr)$/i.test(target) && !/\\start menu\\programs\\startup\\/i.test(target)) return;
          agg.add(e, state, { rule: 'smb-file-drop', attack: ['T1570', 'T1021.002'], severity: 'high', en: 'executable written over SMB by another host', zh: '其他主机通过 SMB 写入可执行文件', subject: target, key: 'smb-drop|' + target.toLowerCase(), detail: target, facts: { path: target } });
          return;
        }
        if (isSysmon(e) && (c === '17' || c === '18')) {
          const pipe = field(e, 'PipeName');
          const m = /^\\([^\\]+?)(-[^\\-]+-\d+-(stdin|stdout|stderr))$/i.exec(pipe);
          const known = /^\\(psexesvc|remcom_communic|paexecsvc|csexecsvc|winexesvc)/i.test(pipe);
          if (!m && !known) return;
          const renamed = !known && !!m && !/^(psexesvc|paexec|remcom|csexec)/i.test(m[1]);
          agg.add(e, state, { rule: 'psexec-pipe', attack: renamed ? ['T1021.002', 'T1569.002', 'T1036'] : ['T1021.002', 'T1569.002'], severity: 'high', en: renamed ? `PsExec-style stdin/stdout pipe of a renamed service (${m![1]})` : 'PsExec-style named pipe', zh: renamed ? `改名服务（${m![1]}）的 PsExec 类输入输出管道` : 'PsExec 类命名管道', subject: pipe, key: 'psexec-pipe|' + (m ? m[1] : pipe).toLowerCase(), detail: field(e, 'Image'), facts: { pipe, image: field(e, 'Image'), renamed } });
          return;
        }
        if (isSysmon(e) && c === '3') {
          // inbound connection from another host to a process that only listens when activated over DCOM
          if (field(e, 'Initiated').toLowerCase() !== 'false') return;
          const img = baseName(field(e, 'Image'));
          const src = normIp(field(e, 'SourceIp'));
          const dst = normIp(field(e, 'DestinationIp'));
          if (!/^(explorer|mmc|mshta|excel|winword|outlook)\.exe$/.test(img) || !remote(src) || src === dst || intField(field(e, 'DestinationPort')) < 1024) return;
          agg.add(e, state, { rule: 'dcom-inbound', attack: ['T1021.003'], severity: 'medium', en: `inbound network connection to ${img} from another host (DCOM activation)`, zh: `其他主机连入 ${img}（DCOM 激活）`, subject: `${img} ← ${src}`, key: `dcom-in|${img}|${src}`, detail: field(e, 'Image'), confidence: 0.6, facts: { source: src, port: intField(field(e, 'DestinationPort')) } }, field(e, 'User'));
          return;
        }
        if (isSysmon(e) && c === '1') {
          const img = baseName(field(e, 'Image'));
          if (/^(mshta|mmc)\.exe$/.test(img) && /\s-embedding\b/i.test(field(e, 'CommandLine')) && /svchost\.exe$/i.test(field(e, 'ParentImage')) && img === 'mshta.exe') {
            agg.add(e, state, { rule: 'dcom-htafile', attack: ['T1021.003', 'T1218.005'], severity: 'high', en: 'mshta started over DCOM (-Embedding, htafile: LethalHTA)', zh: '通过 DCOM 启动 mshta（-Embedding，htafile：LethalHTA）', subject: img, key: 'dcom-htafile', detail: field(e, 'CommandLine'), facts: { parent: field(e, 'ParentImage') } }, field(e, 'User'));
          }
          const h = remoteExecParent(field(e, 'ParentImage'), field(e, 'ParentCommandLine'), field(e, 'Image'));
          if (h) agg.add(e, state, withRemote(e, state, h, { ...h, subject: baseName(field(e, 'Image')), key: h.rule, detail: field(e, 'CommandLine') || field(e, 'Image'), facts: { parent: field(e, 'ParentImage'), parentCommandLine: field(e, 'ParentCommandLine') } }), field(e, 'User'));
          return;
        }
        if (provider(e) === WINRM) {
          if (c === '91') agg.add(e, state, { rule: 'winrm-shell', attack: ['T1021.006'], severity: 'medium', en: 'WinRM remote shell created on this host', zh: '本机上创建了 WinRM 远程 Shell', subject: 'WinRM shell', key: 'winrm-shell', detail: field(e, 'resourceUri', 'ResourceUri'), facts: { eventId: c } });
          else if (c === '169') agg.add(e, state, { rule: 'winrm-auth', attack: ['T1021.006'], severity: 'low', en: 'user authenticated to WinRM', zh: '用户通过 WinRM 认证', subject: field(e, 'username', 'UserName') || '?', key: 'winrm-auth|' + field(e, 'username', 'UserName'), detail: field(e, 'authenticationMechanism'), facts: { eventId: c } }, field(e, 'username', 'UserName'));
          else if (c === '6') agg.add(e, state, { rule: 'winrm-client', attack: ['T1021.006'], severity: 'low', en: 'WinRM session opened to a remote computer (source side)', zh: '向远程计算机建立 WinRM 会话（源端）', subject: field(e, 'connection', 'Connection') || '?', key: 'winrm-client|' + field(e, 'connection', 'Connection'), facts: { eventId: c } });
        }
      },
      finish(state: HostState): Finding[] {
        return [...agg.findings(state), ...remoteSvc];
      },
    });
  },
};
