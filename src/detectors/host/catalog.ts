/**
 * What a process, service or file is, judged by name, path and command line:
 * hacking tools, credential dumpers, scanners, miners, downloaders, tunnels,
 * defence evasion, masquerading system names, binaries in user folders.
 * Used by the execution, persistence and credential-access detectors.
 * Every input is attacker-controlled text: only matched, never interpreted.
 */
import type { Severity } from '../../core/finding.js';
import { baseName } from './util.js';

export type ToolCategory = 'credential' | 'scanner' | 'miner' | 'downloader' | 'hacktool' | 'lateral' | 'tunnel' | 'evasion' | 'account' | 'recon' | 'masquerade' | 'user-folder' | 'encoded' | 'privesc' | 'persistence';

export interface ToolHit {
  rule: string;
  category: ToolCategory;
  attack: string[];
  severity: Severity;
  en: string;
  zh: string;
}

interface Rule extends ToolHit {
  /** Lower-case base name of the image. */
  name?: RegExp;
  /** Lower-case command line (or image path when there is no command line). */
  cmd?: RegExp;
}

const R = (rule: string, category: ToolCategory, attack: string[], severity: Severity, en: string, zh: string, name?: RegExp, cmd?: RegExp): Rule => ({ rule, category, attack, severity, en, zh, name, cmd });

const RULES: Rule[] = [
  // credential dumping
  R('mimikatz', 'credential', ['T1003.001'], 'critical', 'Mimikatz', '凭据窃取工具 Mimikatz', /^(mimikatz|mimilib|mimidrv|mimi(32|64)|mz(32|64))\.(exe|dll|sys)$/, /\b(sekurlsa::|lsadump::|kerberos::(golden|ptt|list)|privilege::debug|token::elevate|crypto::capi|vault::cred|dpapi::|misc::memssp|invoke-mimikatz)/),
  R('lsass-dump', 'credential', ['T1003.001'], 'critical', 'LSASS memory dump', '转储 LSASS 进程内存', undefined, /(procdump(64)?(\.exe)?["\s].*(lsass|-ma\s+\d+))|(comsvcs(\.dll)?[",\s]+(#\s*24|minidump))|(sqldumper(\.exe)?\s.*0x01100)|(rdrleakdiag.*\/fullmemdmp)|(out-minidump)|(nanodump|dumpert|safetykatz|pypykatz|handlekatz)/),
  R('sam-dump', 'credential', ['T1003.002'], 'high', 'SAM/SECURITY hive saved', '导出 SAM/SECURITY 注册表', undefined, /reg(\.exe)?["\s]+(save|export)\s+"?hklm\\(sam|security|system)\b/),
  R('ntds-dump', 'credential', ['T1003.003'], 'high', 'NTDS.dit extraction', '提取域控 NTDS.dit', undefined, /(ntdsutil.*(ifm|ac i ntds))|(\\ntds\.dit)|(vssadmin(\.exe)?\s+create\s+shadow)/),
  R('cred-tools', 'credential', ['T1003'], 'critical', 'credential dumping tool', '凭据窃取工具', /^(pwdump\d*|fgdump|gsecdump|wce(32|64)?|quarkspwdump|lazagne|nanodump|dumpert|safetykatz|pypykatz|outflank-dumpert|procdump(64)?)\.exe$/),
  R('kerberos-tools', 'credential', ['T1558'], 'high', 'Kerberos attack tool', 'Kerberos 攻击工具', /^(rubeus|kekeo|kerberoast)\.exe$/, /\b(kerberoast|asreproast|invoke-kerberoast)\b/),
  // scanners
  R('scanner', 'scanner', ['T1046'], 'high', 'network scanner', '端口/网络扫描器', /^(masscan|nmap|zmap|nbtscan|fscan(64)?|kscan|ladon|goby|advanced_ip_scanner|ipscan|netscan|portscan|s(yn)?scan|scanline|sl|angryip|x?portscan|kportscan\d*|netpass|nscan|ns)\.exe$/, /\b(masscan|nmap|zmap|fscan)\b.*(-p\s*\d|--rate|--ports|-h\s+\d)/),
  // miners
  R('miner', 'miner', ['T1496'], 'high', 'cryptocurrency miner', '挖矿程序', /^(xmrig|xmr-stak|xmrstak|minerd|cpuminer|ccminer|ethminer|nbminer|t-rex|phoenixminer|lolminer|nanominer|srbminer|nheqminer|claymore|nicehash\w*)\.exe$/, /(stratum\+(tcp|ssl|tls):\/\/)|(--donate-level)|(\s-a\s+(cryptonight|randomx|rx\/0|ethash|kawpow))|(--coin[=\s]+(monero|xmr))|(\bpool\.(minexmr|supportxmr|hashvault|nanopool))/),
  // downloaders
  R('downloader', 'downloader', ['T1105'], 'high', 'download of a remote file', '下载远程文件', undefined, /(certutil(\.exe)?["\s].*-(urlcache|verifyctl).*https?:)|(bitsadmin(\.exe)?["\s].*\/transfer)|(downloadstring|downloadfile|downloaddata|invoke-webrequest|\biwr\s+https?|start-bitstransfer|net\.webclient)|((curl|wget)(\.exe)?["\s]+.*https?:\/\/.*(-o\s|--output|>))/),
  R('lolbin-exec', 'downloader', ['T1218'], 'high', 'signed binary proxy execution', '利用系统程序代理执行', undefined, /(mshta(\.exe)?["\s]+.*(https?:|javascript:|vbscript:))|(regsvr32(\.exe)?["\s].*\/i:\s*https?:)|(rundll32(\.exe)?["\s].*(javascript:|url\.dll,|shell32\.dll,shellexec_rundll\s+https?))/),
  // encoded / hidden PowerShell
  R('encoded-powershell', 'encoded', ['T1059.001', 'T1027'], 'medium', 'encoded or hidden PowerShell', '编码/隐藏的 PowerShell 命令', undefined, /powershell(\.exe)?["\s].*(\s-e(nc|ncodedcommand)?\s+[a-z0-9+\/=]{20,}|frombase64string|-w(indowstyle)?\s+hidden.*-nop|-nop.*-w(indowstyle)?\s+hidden)/),
  R('offensive-powershell', 'hacktool', ['T1059.001'], 'high', 'offensive PowerShell framework', '攻击性 PowerShell 框架', /^(psattack|powersploit|empire|nishang)\.exe$/, /(invoke-(shellcode|reflectivepeinjection|tokenmanipulation|smbexec|wmiexec|thehash|bloodhound|sharphound|portscan)|powersploit|powerview|get-gpppassword|psattack)/),
  // lateral movement / remote execution
  R('psexec', 'lateral', ['T1569.002', 'T1021.002'], 'medium', 'PsExec-style remote execution', 'PsExec 类远程执行', /^(psexec(64)?|psexesvc|paexec|remcom(svc)?|csexec(svc)?|winexesvc)\.exe$/, /\bpsexec(64)?(\.exe)?\s+\\\\/),
  R('wmi-exec', 'lateral', ['T1047'], 'medium', 'WMI remote process creation', 'WMI 远程创建进程', undefined, /wmic(\.exe)?["\s].*\/node:.*process\s+call\s+create/),
  R('impacket', 'lateral', ['T1021.002', 'T1047'], 'high', 'Impacket-style remote shell', 'Impacket 类远程命令执行', undefined, /cmd(\.exe)?\s+\/q\s+\/c\s+.*1?>\s*\\\\127\.0\.0\.1\\(admin|c)\$\\\S+\s+2>&1/),
  R('net-use-admin-share', 'lateral', ['T1021.002'], 'medium', 'administrative share mapped from the command line', '命令行映射远程管理共享', undefined, /\bnet1?(\.exe)?["\s]+use\s+(\S+\s+)?\\\\[^\\\s]+\\(admin|[a-z])\$/),
  R('rdp-hijack', 'lateral', ['T1563.002'], 'high', 'RDP session hijacking (tscon)', 'RDP 会话劫持（tscon）', undefined, /\btscon(\.exe)?["\s]+\d+\s+\/dest:/),
  R('winrs', 'lateral', ['T1021.006'], 'medium', 'remote command through WinRM (winrs)', '通过 WinRM 远程执行命令（winrs）', undefined, /\bwinrs(\.exe)?["\s]+.*-r(emote)?:/),
  // persistence from the command line
  R('sc-create', 'persistence', ['T1543.003'], 'medium', 'service created or reconfigured from the command line', '命令行创建或修改服务', undefined, /\bsc(\.exe)?["\s]+(\\\\\S+\s+)?(create|config|failure)\s+\S+.*(binpath=|command=)/),
  R('sc-remote', 'lateral', ['T1021.002', 'T1569.002'], 'high', 'service created on a remote host (sc \\host)', '在远程主机上创建服务（sc \\host）', undefined, /\bsc(\.exe)?["\s]+\\\\\S+\s+(create|config|start)\s/),
  R('schtasks-create', 'persistence', ['T1053.005'], 'medium', 'scheduled task created from the command line', '命令行创建计划任务', undefined, /\bschtasks(\.exe)?["\s]+.*\/create\b/),
  R('bits-persist', 'persistence', ['T1197'], 'high', 'BITS job with a notify command (persistence)', '带通知命令的 BITS 任务（持久化）', undefined, /\bbitsadmin(\.exe)?["\s]+.*\/(setnotifycmdline|addfile|create)\b/),
  R('netsh-helper', 'persistence', ['T1546.007'], 'high', 'netsh helper DLL added', '添加 netsh 辅助 DLL', undefined, /\bnetsh(\.exe)?["\s]+(.*\s)?add\s+helper\s/),
  R('dns-plugin', 'persistence', ['T1574.002'], 'high', 'DNS server plugin DLL configured', '配置 DNS 服务器插件 DLL', undefined, /\bdnscmd(\.exe)?["\s]+.*\/config\s+.*\/serverlevelplugindll/),
  R('setspn-add', 'persistence', ['T1098'], 'medium', 'SPN added to an account', '为账户添加 SPN', undefined, /\bsetspn(\.exe)?["\s]+.*-[as]\s+\S+/),
  R('shim-install', 'persistence', ['T1546.011'], 'high', 'application shim installed (sdbinst)', '安装应用兼容性 Shim（sdbinst）', undefined, /\bsdbinst(\.exe)?["\s]+(?!.*-u\b)/),
  // tunnels and remote access
  R('tunnel', 'tunnel', ['T1572'], 'high', 'tunnelling / proxy tool', '隧道/代理工具', /^(frpc|frps|ngrok|nps|npc|ew|earthworm|lcx|htran|plink|chisel|iox|venom|stowaway|nc|ncat|netcat|socat)\.exe$/, /(\bplink(\.exe)?\s.*-r\s)|(\bnc(at)?(\.exe)?\s.*-e\s)/),
  R('brute-tool', 'hacktool', ['T1110'], 'high', 'password brute-force tool', '密码爆破工具', /^(nlbrute|dubrute|hydra|medusa|ncrack|kportscan|crack|rdpbrute|servu|hscan|x-scan)[\w.-]*\.exe$/),
  R('hacktool', 'hacktool', ['T1588.002'], 'high', 'hacking tool', '黑客工具', /^(cobaltstrike|beacon|artifact|meterpreter|metsvc|sharphound|bloodhound|adfind|pchunter(32|64)?|processhacker|gmer|powertool(64)?|killav|defendercontrol|dcontrol|churrasco|ms1[0-7]-\d{3}\w*)\.exe$/),
  R('potato', 'privesc', ['T1134.001'], 'high', 'token impersonation (Potato) tool', '令牌模拟提权（Potato）工具', /^(juicypotato|roguepotato|printspoofer(64)?|sweetpotato|badpotato|godpotato|efspotato|rottenpotato(ng)?)\.exe$/),
  R('uac-bypass-tool', 'privesc', ['T1548.002'], 'high', 'UAC bypass tool', 'UAC 绕过工具', /^(uacme|akagi(32|64)?|uacbypass)\.exe$/),
  R('privesc', 'privesc', ['T1134.001'], 'high', 'named-pipe impersonation (getsystem)', '命名管道提权（getsystem）', undefined, /cmd(\.exe)?\s+\/c\s+echo\s+\w+\s*>\s*\\\\\.\\pipe\\/),
  // defence evasion and impact
  R('clear-logs', 'evasion', ['T1070.001'], 'high', 'event log cleared from the command line', '命令行清除事件日志', undefined, /(wevtutil(\.exe)?["\s]+(cl|clear-log)\s)|(clear-eventlog)|(remove-eventlog)/),
  R('inhibit-recovery', 'evasion', ['T1490'], 'high', 'backups/shadow copies deleted', '删除卷影副本/备份', undefined, /(vssadmin(\.exe)?["\s]+delete\s+shadows)|(wbadmin(\.exe)?["\s]+delete\s+(catalog|systemstatebackup))|(bcdedit(\.exe)?["\s].*recoveryenabled\s+no)|(shadowcopy\s+delete)/),
  R('disable-security', 'evasion', ['T1562.001'], 'high', 'security tool or firewall disabled', '关闭安全软件或防火墙', undefined, /(set-mppreference\s+.*(-disable\w+\s+(\$?true|1)|-enablecontrolledfolderaccess\s+disabled|-puaprotection\s+(disabled?|0)|-enablenetworkprotection\s+disabled|-mapsreporting\s+(disabled|0)|-submitsamplesconsent\s+(2|never)|-\w+threatdefaultaction\s+(allow|6|9)))|(add-mppreference\s+.*-exclusion)|(netsh(\.exe)?\s+(advfirewall\s+set\s+\w+\s+state\s+off|firewall\s+set\s+opmode\s+(mode=)?disable))|(sc(\.exe)?\s+(stop|config)\s+(windefend|sense|wscsvc))/),
  R('audit-tamper', 'evasion', ['T1562.002'], 'high', 'audit policy cleared', '清除审核策略', undefined, /auditpol(\.exe)?["\s]+\/(clear|remove|set\s.*\/(success|failure):disable)/),
  // accounts
  R('net-user-add', 'account', ['T1136.001'], 'high', 'account created from the command line', '命令行创建账户', undefined, /\bnet1?(\.exe)?["\s]+user\s+\S+\s+\S*\s*\/add\b/),
  R('net-group-add', 'account', ['T1098'], 'high', 'account added to a group from the command line', '命令行将账户加入组', undefined, /\bnet1?(\.exe)?["\s]+(localgroup|group)\s+("[^"]+"|\S+)\s+\S+\s+\/add\b/),
  // discovery
  R('recon', 'recon', ['T1087', 'T1082', 'T1016'], 'low', 'discovery command', '信息收集命令', undefined, /^(?:.*\\)?(whoami(\.exe)?(\s+\/(all|priv|groups))?|systeminfo(\.exe)?|ipconfig(\.exe)?\s+\/all|net1?(\.exe)?["\s]+(user|group|localgroup|view|share|session|accounts)\b(?!.*\/add)|nltest(\.exe)?\s+\/(dclist|domain_trusts)|quser|query\s+user|qwinsta|tasklist(\.exe)?|netstat(\.exe)?\s+-an|arp(\.exe)?\s+-a|nslookup\s|route\s+print|dsquery|adfind)/),
];

/**
 * Literal pre-check per rule's command-line regex: every match of `cmd` contains at least one
 * of these (lower-case) strings, so the regex runs only when one occurs in the text. A rule
 * without an entry always runs its regex. Keep in step with RULES (test/detectors/host
 * checks every rule's literals against its regex on matching samples).
 */
export const CMD_LITERALS: Record<string, readonly string[]> = {
  mimikatz: ['::', 'invoke-mimikatz'],
  'lsass-dump': ['procdump', 'comsvcs', 'sqldumper', 'rdrleakdiag', 'out-minidump', 'nanodump', 'dumpert', 'safetykatz', 'pypykatz', 'handlekatz'],
  'sam-dump': ['hklm\\'],
  'ntds-dump': ['ntdsutil', '\\ntds.dit', 'vssadmin'],
  'kerberos-tools': ['kerberoast', 'asreproast'],
  scanner: ['masscan', 'nmap', 'zmap', 'fscan'],
  miner: ['stratum+', '--donate-level', '-a', '--coin', 'pool.'],
  downloader: ['certutil', 'bitsadmin', 'download', 'invoke-webrequest', 'iwr', 'start-bitstransfer', 'net.webclient', 'curl', 'wget'],
  'lolbin-exec': ['mshta', 'regsvr32', 'rundll32'],
  'encoded-powershell': ['powershell'],
  'offensive-powershell': ['invoke-', 'powersploit', 'powerview', 'get-gpppassword', 'psattack'],
  psexec: ['psexec'],
  'wmi-exec': ['wmic'],
  impacket: ['127.0.0.1'],
  'net-use-admin-share': ['$'],
  'rdp-hijack': ['tscon'],
  winrs: ['winrs'],
  'sc-create': ['binpath=', 'command='],
  'sc-remote': ['\\\\'],
  'schtasks-create': ['schtasks'],
  'bits-persist': ['bitsadmin'],
  'netsh-helper': ['netsh'],
  'dns-plugin': ['dnscmd'],
  'setspn-add': ['setspn'],
  'shim-install': ['sdbinst'],
  tunnel: ['plink', 'nc'],
  privesc: ['\\pipe\\'],
  'clear-logs': ['wevtutil', 'clear-eventlog', 'remove-eventlog'],
  'inhibit-recovery': ['vssadmin', 'wbadmin', 'bcdedit', 'shadowcopy'],
  'disable-security': ['set-mppreference', 'add-mppreference', 'netsh', 'windefend', 'sense', 'wscsvc'],
  'audit-tamper': ['auditpol'],
  'net-user-add': ['/add'],
  'net-group-add': ['/add'],
  recon: ['whoami', 'systeminfo', 'ipconfig', 'net', 'nltest', 'quser', 'query', 'qwinsta', 'tasklist', 'netstat', 'arp', 'nslookup', 'route', 'dsquery', 'adfind'],
};

/** All command-line literals, longest first, in one alternation: one left-to-right pass finds which occur. */
const ALL_CMD_LITERALS = [...new Set(Object.values(CMD_LITERALS).flat())].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
const CMD_LITERAL_RE = new RegExp(ALL_CMD_LITERALS.map((x) => x.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|'), 'g');
/** For each literal, the literals it starts with (itself included): a match of the longest implies these occur too. */
const PREFIXES = new Map(ALL_CMD_LITERALS.map((x) => [x, ALL_CMD_LITERALS.filter((y) => y.length <= x.length && x.startsWith(y))]));

/**
 * Literals present in `lower`. Every position is tried (the scan resumes one character
 * after each match) and at a position the longest literal wins, so a literal occurs iff it
 * is a prefix of some reported match.
 */
function presentCmdLiterals(lower: string): Set<string> {
  const present = new Set<string>();
  CMD_LITERAL_RE.lastIndex = 0;
  for (let m = CMD_LITERAL_RE.exec(lower); m; m = CMD_LITERAL_RE.exec(lower)) {
    for (const x of PREFIXES.get(m[0]) ?? [m[0]]) present.add(x);
    CMD_LITERAL_RE.lastIndex = m.index + 1;
  }
  return present;
}

/** Rules compiled once: each with its literal gate (undefined: always run the regex). */
const GATED = RULES.map((r) => ({ r, lits: r.cmd ? CMD_LITERALS[r.rule] : undefined }));

const SYSTEM_NAMES = ['svchost.exe', 'lsass.exe', 'csrss.exe', 'services.exe', 'smss.exe', 'winlogon.exe', 'wininit.exe', 'explorer.exe', 'spoolsv.exe', 'taskhost.exe', 'taskhostw.exe', 'conhost.exe', 'rundll32.exe', 'dllhost.exe', 'lsm.exe', 'system.exe', 'iexplore.exe', 'searchindexer.exe', 'wmiprvse.exe'];
const SYSTEM_DIR = /^(?:"?[a-z]:)?\\windows\\(system32|syswow64|winsxs|servicing|microsoft\.net|explorer\.exe$|\$ntuninstall)|\\windows\\explorer\.exe$|\\windows\\system32\\|\\program files( \(x86\))?\\internet explorer\\/i;

/** Damerau-free edit distance with an early exit above `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** User-writable folders where dropped tools live. */
export const USER_FOLDER = /\\users\\[^\\]+\\(downloads|desktop|documents|music|videos|pictures|appdata\\local\\temp|appdata\\roaming|appdata\\local)\\|\\users\\public\\|\\programdata\\[^\\]+\.(exe|dll|bat|ps1|vbs|scr)$|\\windows\\temp\\|\\perflogs\\|\\\$recycle\.bin\\|\\temp\\|^[a-z]:\\[^\\]+\.(exe|scr)$/i;

export interface ClassifyOptions {
  /** Include the 'recon' rule (noisy). */
  recon?: boolean;
  /** Include masquerading / user-folder heuristics over the image path. */
  path?: boolean;
}

/**
 * Full results (every rule, path heuristics included) for recent (image, command line):
 * the same processes repeat across a log, and every process event is classified by several
 * detectors with different options, which only filter the full result. Bounded (two-level map
 * keyed by image then command line, so lookups build no key string); the last pair is kept
 * apart, since the detectors of one event ask one after the other.
 */
const CLASSIFY_CACHE = new Map<string, Map<string, readonly ToolHit[]>>();
let cacheEntries = 0;
const CLASSIFY_CACHE_MAX = 4096;
const NO_HITS: readonly ToolHit[] = Object.freeze([]);
let lastImage: string | undefined;
let lastCmd: string | undefined;
let lastHits: readonly ToolHit[] = NO_HITS;

function classifyFull(image: string, commandLine: string): readonly ToolHit[] {
  if (image === lastImage && commandLine === lastCmd) return lastHits;
  let byCmd = CLASSIFY_CACHE.get(image);
  let hits = byCmd?.get(commandLine);
  if (!hits) {
    const found = classifyUncached(image, commandLine, { recon: true, path: true });
    hits = found.length ? found : NO_HITS;
    if (image.length + commandLine.length < 4096) {
      if (cacheEntries >= CLASSIFY_CACHE_MAX) {
        CLASSIFY_CACHE.clear();
        cacheEntries = 0;
        byCmd = undefined;
      }
      if (!byCmd) CLASSIFY_CACHE.set(image, (byCmd = new Map()));
      byCmd.set(commandLine, hits);
      cacheEntries++;
    }
  }
  lastImage = image;
  lastCmd = commandLine;
  lastHits = hits;
  return hits;
}

/**
 * Classify a process (or service binary, or task command) by image path and command line.
 * `recon: false` leaves out discovery commands, `path: false` the masquerading / user-folder
 * heuristics. Callers get a fresh array.
 */
export function classify(image: string, commandLine: string, opts: ClassifyOptions = { recon: true, path: true }): ToolHit[] {
  const full = classifyFull(image, commandLine);
  const out: ToolHit[] = [];
  for (const h of full) {
    if (!opts.recon && h.category === 'recon') continue;
    if (!opts.path && (h.category === 'masquerade' || h.category === 'user-folder')) continue;
    out.push({ ...h });
  }
  return out;
}

function classifyUncached(image: string, commandLine: string, opts: ClassifyOptions): ToolHit[] {
  const hits: ToolHit[] = [];
  const name = baseName(image || firstToken(commandLine));
  const cmd = (commandLine || image).toLowerCase();
  const present = cmd ? presentCmdLiterals(cmd) : null;
  for (const { r, lits } of GATED) {
    if (r.category === 'recon' && !opts.recon) continue;
    const m = (r.name && r.name.test(name)) || (r.cmd && present !== null && mayMatch(lits, present) && r.cmd.test(cmd));
    if (m) hits.push({ rule: r.rule, category: r.category, attack: r.attack, severity: r.severity, en: r.en, zh: r.zh });
  }
  if (opts.path && image) {
    const img = image.toLowerCase().replace(/^"|"$/g, '');
    const inSystem = SYSTEM_DIR.test(img);
    if (!inSystem && /\\/.test(img)) {
      if (SYSTEM_NAMES.includes(name)) hits.push({ rule: 'masquerade-system-name', category: 'masquerade', attack: ['T1036.005'], severity: 'high', en: `system process name ${name} outside System32`, zh: `系统进程名 ${name} 出现在 System32 之外` });
      else if (name.endsWith('.exe')) {
        const stem = name.slice(0, -4);
        for (const s of SYSTEM_NAMES) {
          const ss = s.slice(0, -4);
          if (stem !== ss && stem.length >= 4 && !/\\program files( \(x86\))?\\/.test(img) && editDistance(stem, ss, 2) <= 2) {
            hits.push({ rule: 'masquerade-lookalike', category: 'masquerade', attack: ['T1036.005'], severity: 'medium', en: `${name} imitates the system name ${s}`, zh: `${name} 仿冒系统程序名 ${s}` });
            break;
          }
        }
      }
      if (USER_FOLDER.test(img) && /\.(exe|scr|com|pif|bat|cmd|ps1|vbs|js|hta)$/.test(name) && !hits.some((h) => h.category !== 'recon'))
        hits.push({ rule: 'user-folder', category: 'user-folder', attack: ['T1204.002'], severity: 'low', en: 'program run from a user-writable folder', zh: '从用户可写目录运行的程序' });
    }
  }
  return hits;
}

function mayMatch(lits: readonly string[] | undefined, present: Set<string>): boolean {
  if (!lits) return true;
  for (const x of lits) if (present.has(x)) return true;
  return false;
}

function firstToken(cmd: string): string {
  const s = cmd.trim();
  if (s.startsWith('"')) return s.slice(1, s.indexOf('"', 1) > 0 ? s.indexOf('"', 1) : undefined);
  return s.split(/\s+/)[0] ?? '';
}

/** Mining pool host names (Sysmon 3 DestinationHostname, Sysmon 22 QueryName). */
export const MINING_POOL = /(^|\.)(pool\.|xmr|monero|nanopool|minexmr|supportxmr|f2pool|c3pool|hashvault|2miners|moneroocean|nicehash|minergate|crypto-pool|dwarfpool|ethermine|herominers|unmineable|antpool|viabtc|poolin|zpool|miningpoolhub|flypool|sparkpool|coinhive)/i;
/** Ports typical of stratum mining. */
export const MINING_PORTS = new Set([3333, 3334, 3335, 3336, 3357, 4444, 5555, 5556, 5588, 6666, 7777, 8899, 9999, 10001, 14433, 14444, 20580, 45560, 45700]);
