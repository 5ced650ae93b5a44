/**
 * host.registry — autostart, hijack and tampering through the registry, and
 * WMI event subscriptions:
 *  - Sysmon 12/13/14 (TargetObject, Details), and `reg add` command lines
 *    (Security 4688, Sysmon 1): Run/RunOnce/Policies Run and Startup folder
 *    (T1547.001), Winlogon Shell/Userinit/Notify (T1547.004), IFEO Debugger,
 *    GlobalFlag and SilentProcessExit (T1546.012; accessibility binaries
 *    T1546.008), AppInit_DLLs (T1546.010), AppCertDlls (T1546.009), LSA
 *    packages (T1547.002/.005), BootExecute, shims (T1546.011), netsh
 *    helpers (T1546.007), services ImagePath/ServiceDll/FailureCommand
 *    changed by a process other than the service manager (T1543.003), COM
 *    hijacks in the user hive (T1546.015), print monitors (T1547.010);
 *  - UAC bypass keys (T1548.002): ms-settings/mscfile/exefile/Folder shell
 *    open command in the user hive, App Paths control.exe, HKCU Environment
 *    windir, and UAC disabled (EnableLUA = 0);
 *  - defence evasion (T1562.001/.002, T1112, T1090): script block logging
 *    off, Defender disabled or excluded, PowerShell language mode, RDP
 *    settings, netsh portproxy, null-session pipes and new shares (T1021.002),
 *    WDigest UseLogonCredential (T1003.001);
 *  - WMI event subscriptions (T1546.003): Sysmon 19/20/21 and WMI-Activity
 *    5861 (the built-in "SCM Event Log" subscription is ignored).
 */
import type { SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding, Severity } from '../../core/finding.js';
import { hostDetector } from './base.js';
import { USER_FOLDER } from './catalog.js';
import { HitAggregator } from './hits.js';
import type { HostState } from './state.js';
import { baseName, code, ed, field, isSecurity, isSysmon, provider } from './util.js';

export const ID = 'host.registry';
/** Event codes this detector examines (the rest only feed the shared state). */
const CODES: ReadonlySet<string> = new Set(['12', '13', '14', '19', '20', '21', '1', '4688', '5861']);
export const REGISTRY_DEFAULTS = {
  /** Report COM object registrations in the user hive (noisy on desktops: low). */
  comHijack: true,
};

interface KeyRule {
  rule: string;
  attack: string[];
  severity: Severity;
  en: string;
  zh: string;
  key: RegExp;
  /** Value data condition (lower-cased Details). */
  value?: RegExp;
  /** Writers that are normal for this key (lower-case image base names). */
  benign?: RegExp;
  /** Matches deletions only (and not writes). */
  onDelete?: boolean;
}

const K = (rule: string, attack: string[], severity: Severity, en: string, zh: string, key: RegExp, o: Partial<KeyRule> = {}): KeyRule => ({ rule, attack, severity, en, zh, key, ...o });
const INSTALLERS = /^(msiexec|trustedinstaller|tiworker|setup|drvinst|dismhost|onedrivesetup|onedrive|teams|update|svchost|services|mmc|poqexec|wuauclt|musnotification)\.exe$/;
const SUSPICIOUS_DATA = /\\windows\\tasks\\|powershell|pwsh|cmd(\.exe)?\s+\/[ck]|mshta|rundll32|regsvr32|wscript|cscript|\\users\\public\\|\\temp\\|\\appdata\\roaming\\|\\programdata\\|https?:\/\/|frombase64|-enc/;

export const KEY_RULES: KeyRule[] = [
  K('run-key', ['T1547.001'], 'medium', 'autostart Run key set', '写入 Run 自启动项', /\\(currentversion|policies\\explorer)\\(run|runonce|runonceex|runservices|runservicesonce)\\[^\\]*$|\\currentversion\\runonceex\\.+\\[^\\]+$/, { benign: /^(msiexec|trustedinstaller|tiworker|onedrivesetup|onedrive|teams|update|setup|drvinst|explorer)\.exe$/ }),
  K('startup-folder', ['T1547.001'], 'high', 'Startup folder location changed', '修改启动文件夹位置', /\\(user )?shell folders\\(common )?startup$/, { value: /^(?!%(user)?profile%\\appdata\\roaming\\microsoft\\windows\\start menu\\programs\\startup$|%programdata%\\microsoft\\windows\\start menu\\programs\\startup$)/ }),
  K('winlogon', ['T1547.004'], 'high', 'Winlogon Shell/Userinit/Notify changed', '修改 Winlogon Shell/Userinit/Notify', /\\windows nt\\currentversion\\winlogon\\(shell|userinit|notify\\.*|taskman|appsetup|vmapplet)$/, { value: /^(?!(explorer\.exe|c:\\windows\\system32\\userinit\.exe,?|userinit\.exe,?|sysdm\.cpl,?.*)$)/ }),
  K('ifee-accessibility', ['T1546.008', 'T1546.012'], 'critical', 'debugger set for an accessibility program (sticky-keys backdoor)', '为辅助功能程序设置调试器（粘滞键后门）', /\\image file execution options\\(sethc|utilman|osk|magnify|narrator|displayswitch|atbroker)\.exe\\debugger$/),
  K('ifeo-debugger', ['T1546.012'], 'high', 'Image File Execution Options debugger or global flag set', '设置映像劫持（IFEO）调试器或全局标志', /\\image file execution options\\[^\\]+\\(debugger|globalflag)$|\\silentprocessexit\\[^\\]+\\(monitorprocess|reportingmode)$/, { benign: /^(vsjitdebugger|devenv|procexp64|procexp)\.exe$/ }),
  K('appinit', ['T1546.010'], 'high', 'AppInit_DLLs set', '设置 AppInit_DLLs', /\\windows nt\\currentversion\\windows\\(appinit_dlls|loadappinit_dlls)$/, { value: /^(?!$|dword \(0x00000000\)$|0$)/ }),
  K('appcert', ['T1546.009'], 'high', 'AppCertDlls set', '设置 AppCertDlls', /\\session manager\\appcertdlls\\/),
  K('lsa-packages', ['T1547.005', 'T1547.002'], 'high', 'LSA security/authentication/notification package added', '添加 LSA 安全/认证/通知包', /\\control\\lsa\\(security packages|authentication packages|notification packages)$|\\control\\lsa\\osconfig\\security packages$/),
  K('boot-execute', ['T1547'], 'high', 'Session Manager BootExecute/SetupExecute changed', '修改 BootExecute/SetupExecute', /\\session manager\\(bootexecute|setupexecute|execute|s0initialcommand)$/, { value: /^(?!autocheck autochk \*$)/ }),
  K('shim', ['T1546.011'], 'high', 'application shim database installed', '安装应用兼容性 Shim 数据库', /\\appcompatflags\\(installedsdb|custom)\\/),
  K('netsh-helper', ['T1546.007'], 'high', 'netsh helper DLL registered', '注册 netsh 辅助 DLL', /\\software\\(wow6432node\\)?microsoft\\netsh\\[^\\]+$/, { benign: /^(msiexec|trustedinstaller|tiworker)\.exe$/ }),
  K('service-path', ['T1543.003'], 'medium', 'service binary, DLL or failure command changed', '修改服务程序路径、DLL 或失败命令', /\\currentcontrolset\\services\\[^\\]+\\(imagepath|parameters\\servicedll|failurecommand)$/, { benign: INSTALLERS }),
  K('print-monitor', ['T1547.010'], 'high', 'print monitor registered', '注册打印监视器', /\\control\\print\\monitors\\[^\\]+\\driver$/, { benign: /^(spoolsv|msiexec|trustedinstaller|drvinst)\.exe$/ }),
  K('com-hijack', ['T1546.015'], 'low', 'COM object registered in the user hive (COM hijack)', '用户注册表中注册 COM 对象（COM 劫持）', /^(hku\\[^\\]+|hkcu)\\((software\\)?classes\\)?clsid\\\{[^}]+\}\\(inprocserver32|localserver32|treatas)\\/, { benign: /^(onedrive|teams|msiexec|explorer|onedrivesetup|filecoauth|update)\.exe$/ }),
  // UAC bypass
  K('uac-bypass-key', ['T1548.002'], 'high', 'UAC bypass: shell open command hijacked in the user hive', 'UAC 绕过：用户注册表劫持 shell open 命令', /[\\_]classes\\(ms-settings|mscfile|exefile|folder|launcher\.systemsettings|ms-windows-store)\\shell\\(open|runas)\\command(\\(\(default\)|delegateexecute|isolatedcommand))?$/, { value: /./ }),
  K('uac-bypass-apppath', ['T1548.002'], 'high', 'UAC bypass: App Paths control.exe or environment windir hijacked', 'UAC 绕过：劫持 App Paths 或 windir 环境变量', /^(hku\\[^\\]+|hkcu)\\.*\\app paths\\control\.exe|^(hku\\[^\\]+|hkcu)\\environment\\(windir|systemroot)$/),
  K('uac-disabled', ['T1548.002', 'T1562.001'], 'high', 'UAC disabled (EnableLUA = 0)', '关闭 UAC（EnableLUA = 0）', /\\policies\\system\\(enablelua|consentpromptbehavioradmin)$/, { value: /^dword \(0x00000000\)$|^0$/ }),
  // defence evasion
  K('scriptblock-logging-off', ['T1562.002'], 'high', 'PowerShell logging disabled', '关闭 PowerShell 日志', /\\powershell\\(scriptblocklogging\\enablescriptblocklogging|modulelogging\\enablemodulelogging|transcription\\enabletranscripting)$/, { value: /^dword \(0x00000000\)$|^0$/ }),
  K('defender-off', ['T1562.001'], 'high', 'Windows Defender disabled or excluded', '关闭 Windows Defender 或添加排除项', /\\windows defender\\(disableantispyware|disableantivirus|real-time protection\\disable\w+|spynet\\spynetreporting)$|\\windows defender\\exclusions\\(paths|processes|extensions)\\/, { benign: /^(msmpeng|mpcmdrun|msiexec)\.exe$/ }),
  K('security-service-off', ['T1562.001'], 'high', 'security or logging service disabled', '禁用安全或日志服务', /\\currentcontrolset\\services\\(windefend|sense|wscsvc|eventlog|sysmon\w*|wdboot|wdfilter|wdnisdrv|wdnissvc|mpssvc)\\start$/, { value: /^dword \(0x00000004\)$|^4$/ }),
  K('ps-language-mode', ['T1562.001'], 'medium', 'PowerShell language mode or execution policy changed', '修改 PowerShell 语言模式或执行策略', /\\environment\\__pslockdownpolicy$|\\shellids\\microsoft\.powershell\\executionpolicy$|\\powershell\\executionpolicy$/, { value: /^(?!restricted$|allsigned$|remotesigned$|4$|dword \(0x00000004\)$)/ }),
  K('clm-removed', ['T1562.001'], 'high', 'PowerShell Constrained Language Mode policy removed', '删除 PowerShell 受限语言模式策略', /\\environment\\__pslockdownpolicy$/, { onDelete: true }),
  K('rdp-settings', ['T1112', 'T1021.001'], 'medium', 'Remote Desktop settings changed', '修改远程桌面设置', /\\terminal server\\(fdenytsconnections|fsinglesessionperuser|winstations\\rdp-tcp\\(portnumber|userauthentication|securitylayer))$|\\terminal services\\(fdenytsconnections|fallowunsolicited|shadow)$/, { benign: /^(svchost|services|systemsettingsadminflows)\.exe$/ }),
  K('portproxy', ['T1090'], 'high', 'netsh port forwarding configured', '配置 netsh 端口转发', /\\services\\portproxy\\v4tov[46]\\/),
  K('null-session-pipes', ['T1021.002', 'T1112'], 'high', 'null-session pipe or share added', '添加空会话管道或共享', /\\lanmanserver\\parameters\\(nullsessionpipes|nullsessionshares)$/),
  K('new-share', ['T1021.002', 'T1135'], 'low', 'file share added', '新增文件共享', /\\lanmanserver\\shares\\(?!security\\)[^\\]+$/),
  K('local-account-created', ['T1136.001'], 'medium', 'local account created (SAM registry)', '创建本地账户（SAM 注册表）', /\\sam\\domains\\account\\users\\names\\[^\\]+(\\\(default\))?$/),
  K('wdigest', ['T1003.001', 'T1112'], 'high', 'WDigest clear-text credential caching enabled', '开启 WDigest 明文凭据缓存', /\\securityproviders\\wdigest\\uselogoncredential$/, { value: /^dword \(0x00000001\)$|^1$/ }),
  K('vba-trust', ['T1112'], 'medium', 'Office VBA project access or macro security lowered', '降低 Office VBA 宏安全设置', /\\office\\[\d.]+\\\w+\\security\\(accessvbom|vbawarnings)$/, { value: /^dword \(0x00000001\)$|^1$/ }),
  K('mru-wipe', ['T1070'], 'low', 'Explorer history (MRU) deleted', '删除资源管理器历史（MRU）', /\\explorer\\(runmru|recentdocs|typedpaths|comdlg32\\opensavepidlmru)(\\|$)/, { onDelete: true }),
];

/** Normalise a key from a Sysmon TargetObject or a `reg add` argument to `hklm\...` / `hku\sid\...` / `hkcu\...`. */
export function normKey(k: string): string {
  return k
    .toLowerCase()
    .replace(/^"|"$/g, '')
    .replace(/^hkey_local_machine\\|^registry\\machine\\/, 'hklm\\')
    .replace(/^hkey_current_user\\/, 'hkcu\\')
    .replace(/^hkey_users\\|^registry\\user\\/, 'hku\\');
}

/** Match a registry write (normalised key path ending in the value name, value data). */
export function matchKey(key: string, details: string, image: string, eventType: string): KeyRule[] {
  const k = normKey(key);
  const d = details.toLowerCase().trim();
  const img = baseName(image);
  const del = /delete/i.test(eventType);
  const out: KeyRule[] = [];
  for (const r of KEY_RULES) {
    if (!r.key.test(k)) continue;
    if (del !== !!r.onDelete) continue;
    if (r.value && !del && (eventType === 'CreateKey' || !r.value.test(d))) continue;
    if (r.benign && img && r.benign.test(img) && !SUSPICIOUS_DATA.test(d)) continue;
    if (r.rule === 'uac-bypass-key' && !/^(hku\\[^\\]+|hkcu)\\/.test(k)) continue;
    out.push(r);
    if (r.rule === 'ifee-accessibility') break;
  }
  // the accessibility rule is a stronger form of the IFEO rule
  if (out.some((r) => r.rule === 'ifee-accessibility')) return out.filter((r) => r.rule !== 'ifeo-debugger');
  return out;
}

/** `reg add <key> /v <name> /d <data>` → key\name and data. */
export function parseRegAdd(cmd: string): { key: string; data: string } | null {
  const m = /\breg(?:\.exe)?"?\s+add\s+("[^"]+"|\S+)(.*)$/i.exec(cmd);
  if (!m) return null;
  const rest = m[2];
  const v = /\s\/v\s+("[^"]*"|\S+)/i.exec(rest)?.[1]?.replace(/^"|"$/g, '') ?? (/\s\/ve\b/i.test(rest) ? '(Default)' : '');
  const d = /\s\/d\s+("[^"]*"|\S+)/i.exec(rest)?.[1]?.replace(/^"|"$/g, '') ?? '';
  const key = m[1].replace(/^"|"$/g, '');
  return { key: v ? key + '\\' + v : key, data: /^(0x)?\d+$/i.test(d) && /reg_dword/i.test(rest) ? `dword (0x${Number(d).toString(16).padStart(8, '0')})` : d };
}

export const registry: DetectorModule = {
  id: ID,
  title: { en: 'Registry autostart, hijacks and WMI subscriptions', zh: '注册表自启动、劫持与 WMI 订阅' },
  attack: [...new Set([...KEY_RULES.flatMap((r) => r.attack), 'T1546.003'])],
  defaults: { ...REGISTRY_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...REGISTRY_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof REGISTRY_DEFAULTS;
    const agg = new HitAggregator(ID);
    const onKey = (e: SpoorEvent, state: HostState, key: string, details: string, image: string, eventType: string, user: string) => {
      for (const r of matchKey(key, details, image, eventType)) {
        if (r.rule === 'com-hijack' && !cfg.comHijack) continue;
        let sev = r.severity;
        if (r.rule === 'run-key' && (SUSPICIOUS_DATA.test(details.toLowerCase()) || USER_FOLDER.test(image))) sev = 'high';
        if (r.rule === 'com-hijack' && SUSPICIOUS_DATA.test(details.toLowerCase())) sev = 'medium';
        if (r.rule === 'local-account-created' && /\$(\\|$)/.test(key.replace(/\\\(default\)$/i, ''))) sev = 'high';
        agg.add(e, state, { rule: r.rule, attack: r.attack, severity: sev, en: r.en, zh: r.zh, subject: key.slice(0, 300), key: normKey(key), detail: `${details ? details.slice(0, 300) + ' ' : ''}by ${image || '?'}`.trim(), facts: { key, value: details.slice(0, 1000), image, eventType, eventId: code(e) } }, user);
      }
    };
    return hostDetector(ctx, ID, {
      codes: CODES,
      observe(e: SpoorEvent, state: HostState) {
        const c = code(e);
        if (isSysmon(e)) {
          if (c === '12' || c === '13' || c === '14') {
            const key = field(e, 'TargetObject');
            if (!key) return;
            onKey(e, state, c === '14' ? field(e, 'NewName') || key : key, field(e, 'Details'), field(e, 'Image'), field(e, 'EventType') || (c === '13' ? 'SetValue' : ''), field(e, 'User'));
            return;
          }
          if (c === '19' || c === '20' || c === '21') {
            const op = field(e, 'Operation');
            if (/deleted/i.test(op)) return;
            const name = field(e, 'Name', 'Consumer', 'Filter');
            const detail = c === '19' ? field(e, 'Query') : c === '20' ? `${field(e, 'Type')}: ${field(e, 'Destination')}` : `${field(e, 'Consumer')} ← ${field(e, 'Filter')}`;
            agg.add(e, state, { rule: 'wmi-subscription', attack: ['T1546.003'], severity: c === '20' && /powershell|cmd|script|\\users\\|\\temp\\|http/i.test(detail) ? 'critical' : 'high', en: 'WMI event subscription (filter/consumer/binding) created', zh: '创建 WMI 事件订阅（过滤器/消费者/绑定）', subject: name.slice(0, 200) || '?', key: 'wmi', detail, facts: { eventId: c, operation: op, name, detail: detail.slice(0, 1000) } }, field(e, 'User'));
            return;
          }
          if (c === '1') {
            const r = parseRegAdd(field(e, 'CommandLine'));
            if (r) onKey(e, state, r.key, r.data, field(e, 'Image'), 'SetValue', field(e, 'User'));
          }
          return;
        }
        if (isSecurity(e) && c === '4688') {
          const r = parseRegAdd(field(e, 'CommandLine'));
          if (r) onKey(e, state, r.key, r.data, field(e, 'NewProcessName'), 'SetValue', field(e, 'SubjectUserName'));
          return;
        }
        if (c === '5861' && provider(e) === 'Microsoft-Windows-WMI-Activity') {
          const d = ed(e);
          const text = Object.values(d).join(' ');
          if (/scm event log (consumer|filter)|bvtfilter|bvtconsumer/i.test(text)) return;
          agg.add(e, state, { rule: 'wmi-subscription', attack: ['T1546.003'], severity: /commandlineeventconsumer|activescripteventconsumer/i.test(text) ? 'critical' : 'high', en: 'WMI event subscription (filter/consumer/binding) created', zh: '创建 WMI 事件订阅（过滤器/消费者/绑定）', subject: (field(e, 'Consumer') || field(e, 'ESS') || 'WMI-Activity 5861').slice(0, 200), key: 'wmi', detail: (field(e, 'PossibleCause') || text).slice(0, 400), facts: { eventId: c } });
        }
      },
      finish(state: HostState): Finding[] {
        return agg.findings(state);
      },
    });
  },
};
