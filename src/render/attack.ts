/**
 * The ATT&CK (Enterprise) techniques spoor's detectors assert: names in
 * English and Chinese, and their tactics (short names as ATT&CK and the
 * Navigator use them). Renderers and exports look names up here; an unknown id
 * is shown as-is.
 */

export interface TechniqueInfo {
  en: string;
  zh: string;
  tactics: string[];
}

const T = (en: string, zh: string, ...tactics: string[]): TechniqueInfo => ({ en, zh, tactics });

export const TECHNIQUES: Record<string, TechniqueInfo> = {
  T1595: T('Active Scanning', '主动扫描', 'reconnaissance'),
  'T1595.001': T('Active Scanning: Scanning IP Blocks', '主动扫描：扫描IP段', 'reconnaissance'),
  'T1595.002': T('Active Scanning: Vulnerability Scanning', '主动扫描：漏洞扫描', 'reconnaissance'),
  'T1588.002': T('Obtain Capabilities: Tool', '获取能力：工具', 'resource-development'),
  T1190: T('Exploit Public-Facing Application', '利用面向公众的应用程序', 'initial-access'),
  T1133: T('External Remote Services', '外部远程服务', 'initial-access', 'persistence'),
  T1078: T('Valid Accounts', '有效账户', 'initial-access', 'persistence', 'privilege-escalation', 'defense-evasion'),
  'T1078.003': T('Valid Accounts: Local Accounts', '有效账户：本地账户', 'initial-access', 'persistence', 'privilege-escalation', 'defense-evasion'),
  T1059: T('Command and Scripting Interpreter', '命令与脚本解释器', 'execution'),
  'T1059.001': T('Command and Scripting Interpreter: PowerShell', '命令与脚本解释器：PowerShell', 'execution'),
  'T1059.003': T('Command and Scripting Interpreter: Windows Command Shell', '命令与脚本解释器：Windows 命令行', 'execution'),
  'T1059.004': T('Command and Scripting Interpreter: Unix Shell', '命令与脚本解释器：Unix Shell', 'execution'),
  T1047: T('Windows Management Instrumentation', 'Windows 管理规范（WMI）', 'execution'),
  'T1053.005': T('Scheduled Task/Job: Scheduled Task', '计划任务', 'execution', 'persistence', 'privilege-escalation'),
  'T1569.002': T('System Services: Service Execution', '系统服务：服务执行', 'execution'),
  'T1204.002': T('User Execution: Malicious File', '用户执行：恶意文件', 'execution'),
  T1098: T('Account Manipulation', '账户操纵', 'persistence', 'privilege-escalation'),
  T1136: T('Create Account', '创建账户', 'persistence'),
  'T1136.001': T('Create Account: Local Account', '创建账户：本地账户', 'persistence'),
  'T1543.003': T('Create or Modify System Process: Windows Service', '创建或修改系统进程：Windows 服务', 'persistence', 'privilege-escalation'),
  T1505: T('Server Software Component', '服务器软件组件', 'persistence'),
  'T1505.003': T('Server Software Component: Web Shell', '服务器软件组件：WebShell', 'persistence'),
  T1068: T('Exploitation for Privilege Escalation', '利用漏洞提权', 'privilege-escalation'),
  T1027: T('Obfuscated Files or Information', '混淆文件或信息', 'defense-evasion'),
  T1036: T('Masquerading', '伪装', 'defense-evasion'),
  'T1070.001': T('Indicator Removal: Clear Windows Event Logs', '痕迹清除：清除 Windows 事件日志', 'defense-evasion'),
  T1112: T('Modify Registry', '修改注册表', 'defense-evasion'),
  'T1562.001': T('Impair Defenses: Disable or Modify Tools', '削弱防御：禁用或篡改安全工具', 'defense-evasion'),
  'T1550.002': T('Use Alternate Authentication Material: Pass the Hash', '哈希传递', 'defense-evasion', 'lateral-movement'),
  T1110: T('Brute Force', '暴力破解', 'credential-access'),
  'T1110.001': T('Brute Force: Password Guessing', '暴力破解：密码猜测', 'credential-access'),
  'T1110.002': T('Brute Force: Password Cracking', '暴力破解：密码破解', 'credential-access'),
  'T1110.003': T('Brute Force: Password Spraying', '暴力破解：密码喷洒', 'credential-access'),
  'T1110.004': T('Brute Force: Credential Stuffing', '暴力破解：撞库', 'credential-access'),
  T1003: T('OS Credential Dumping', '操作系统凭据转储', 'credential-access'),
  'T1003.001': T('OS Credential Dumping: LSASS Memory', '凭据转储：LSASS 内存', 'credential-access'),
  T1046: T('Network Service Discovery', '网络服务发现（端口扫描）', 'discovery'),
  T1018: T('Remote System Discovery', '远程系统发现', 'discovery'),
  T1087: T('Account Discovery', '账户发现', 'discovery'),
  T1135: T('Network Share Discovery', '网络共享发现', 'discovery'),
  T1021: T('Remote Services', '远程服务', 'lateral-movement'),
  'T1021.001': T('Remote Services: Remote Desktop Protocol', '远程服务：远程桌面协议（RDP）', 'lateral-movement'),
  'T1021.002': T('Remote Services: SMB/Windows Admin Shares', '远程服务：SMB/Windows 管理共享', 'lateral-movement'),
  'T1021.004': T('Remote Services: SSH', '远程服务：SSH', 'lateral-movement'),
  'T1021.006': T('Remote Services: Windows Remote Management', '远程服务：Windows 远程管理（WinRM）', 'lateral-movement'),
  T1210: T('Exploitation of Remote Services', '利用远程服务漏洞', 'lateral-movement'),
  T1570: T('Lateral Tool Transfer', '横向工具传输', 'lateral-movement'),
  T1071: T('Application Layer Protocol', '应用层协议', 'command-and-control'),
  'T1071.001': T('Application Layer Protocol: Web Protocols', '应用层协议：Web 协议', 'command-and-control'),
  'T1071.004': T('Application Layer Protocol: DNS', '应用层协议：DNS', 'command-and-control'),
  T1090: T('Proxy', '代理', 'command-and-control'),
  T1095: T('Non-Application Layer Protocol', '非应用层协议', 'command-and-control'),
  T1105: T('Ingress Tool Transfer', '入口工具传输（下载工具）', 'command-and-control'),
  T1219: T('Remote Access Software', '远程访问软件', 'command-and-control'),
  'T1568.002': T('Dynamic Resolution: Domain Generation Algorithms', '动态解析：域名生成算法', 'command-and-control'),
  T1571: T('Non-Standard Port', '非标准端口', 'command-and-control'),
  T1573: T('Encrypted Channel', '加密信道', 'command-and-control'),
  'T1573.002': T('Encrypted Channel: Asymmetric Cryptography', '加密信道：非对称加密', 'command-and-control'),
  T1041: T('Exfiltration Over C2 Channel', '通过 C2 信道外传数据', 'exfiltration'),
  T1486: T('Data Encrypted for Impact', '数据加密勒索', 'impact'),
  T1496: T('Resource Hijacking', '资源劫持（挖矿）', 'impact'),
  // Further techniques the host detectors assert.
  'T1003.002': T('OS Credential Dumping: Security Account Manager', '凭据转储：SAM 数据库', 'credential-access'),
  'T1003.003': T('OS Credential Dumping: NTDS', '凭据转储：NTDS', 'credential-access'),
  'T1003.006': T('OS Credential Dumping: DCSync', '凭据转储：DCSync', 'credential-access'),
  T1007: T('System Service Discovery', '系统服务发现', 'discovery'),
  T1012: T('Query Registry', '查询注册表', 'discovery'),
  T1016: T('System Network Configuration Discovery', '系统网络配置发现', 'discovery'),
  'T1021.003': T('Remote Services: Distributed Component Object Model', '远程服务：DCOM', 'lateral-movement'),
  T1033: T('System Owner/User Discovery', '系统所有者/用户发现', 'discovery'),
  'T1036.005': T('Masquerading: Match Legitimate Name or Location', '伪装：仿冒合法名称或路径', 'defense-evasion'),
  T1049: T('System Network Connections Discovery', '系统网络连接发现', 'discovery'),
  T1055: T('Process Injection', '进程注入', 'defense-evasion', 'privilege-escalation'),
  T1057: T('Process Discovery', '进程发现', 'discovery'),
  T1069: T('Permission Groups Discovery', '权限组发现', 'discovery'),
  'T1069.001': T('Permission Groups Discovery: Local Groups', '权限组发现：本地组', 'discovery'),
  'T1069.002': T('Permission Groups Discovery: Domain Groups', '权限组发现：域组', 'discovery'),
  T1070: T('Indicator Removal', '痕迹清除', 'defense-evasion'),
  T1082: T('System Information Discovery', '系统信息发现', 'discovery'),
  'T1087.001': T('Account Discovery: Local Account', '账户发现：本地账户', 'discovery'),
  'T1087.002': T('Account Discovery: Domain Account', '账户发现：域账户', 'discovery'),
  'T1132.001': T('Data Encoding: Standard Encoding', '数据编码：标准编码', 'command-and-control'),
  T1134: T('Access Token Manipulation', '访问令牌操纵', 'defense-evasion', 'privilege-escalation'),
  'T1134.001': T('Access Token Manipulation: Token Impersonation/Theft', '访问令牌操纵：令牌模拟/窃取', 'defense-evasion', 'privilege-escalation'),
  'T1134.002': T('Access Token Manipulation: Create Process with Token', '访问令牌操纵：使用令牌创建进程', 'defense-evasion', 'privilege-escalation'),
  'T1134.005': T('Access Token Manipulation: SID-History Injection', '访问令牌操纵：SID 历史注入', 'defense-evasion', 'privilege-escalation'),
  T1140: T('Deobfuscate/Decode Files or Information', '反混淆/解码文件或信息', 'defense-evasion'),
  T1187: T('Forced Authentication', '强制认证', 'credential-access'),
  T1197: T('BITS Jobs', 'BITS 任务', 'defense-evasion', 'persistence'),
  T1201: T('Password Policy Discovery', '密码策略发现', 'discovery'),
  T1218: T('System Binary Proxy Execution', '系统二进制代理执行', 'defense-evasion'),
  'T1218.003': T('System Binary Proxy Execution: CMSTP', '系统二进制代理执行：CMSTP', 'defense-evasion'),
  'T1218.005': T('System Binary Proxy Execution: Mshta', '系统二进制代理执行：Mshta', 'defense-evasion'),
  T1482: T('Domain Trust Discovery', '域信任发现', 'discovery'),
  T1490: T('Inhibit System Recovery', '阻止系统恢复', 'impact'),
  'T1505.001': T('Server Software Component: SQL Stored Procedures', '服务器软件组件：SQL 存储过程', 'persistence'),
  T1543: T('Create or Modify System Process', '创建或修改系统进程', 'persistence', 'privilege-escalation'),
  'T1546.003': T('Event Triggered Execution: WMI Event Subscription', '事件触发执行：WMI 事件订阅', 'privilege-escalation', 'persistence'),
  'T1546.007': T('Event Triggered Execution: Netsh Helper DLL', '事件触发执行：Netsh 帮助程序 DLL', 'privilege-escalation', 'persistence'),
  'T1546.008': T('Event Triggered Execution: Accessibility Features', '事件触发执行：辅助功能（粘滞键等）', 'privilege-escalation', 'persistence'),
  'T1546.009': T('Event Triggered Execution: AppCert DLLs', '事件触发执行：AppCert DLL', 'privilege-escalation', 'persistence'),
  'T1546.010': T('Event Triggered Execution: AppInit DLLs', '事件触发执行：AppInit DLL', 'privilege-escalation', 'persistence'),
  'T1546.011': T('Event Triggered Execution: Application Shimming', '事件触发执行：应用程序垫片', 'privilege-escalation', 'persistence'),
  'T1546.012': T('Event Triggered Execution: Image File Execution Options Injection', '事件触发执行：IFEO 注入', 'privilege-escalation', 'persistence'),
  'T1546.015': T('Event Triggered Execution: Component Object Model Hijacking', '事件触发执行：COM 劫持', 'privilege-escalation', 'persistence'),
  T1547: T('Boot or Logon Autostart Execution', '开机或登录自启动', 'persistence', 'privilege-escalation'),
  'T1547.001': T('Boot or Logon Autostart Execution: Registry Run Keys / Startup Folder', '自启动：注册表 Run 键/启动文件夹', 'persistence', 'privilege-escalation'),
  'T1547.002': T('Boot or Logon Autostart Execution: Authentication Package', '自启动：认证包', 'persistence', 'privilege-escalation'),
  'T1547.004': T('Boot or Logon Autostart Execution: Winlogon Helper DLL', '自启动：Winlogon 帮助程序 DLL', 'persistence', 'privilege-escalation'),
  'T1547.005': T('Boot or Logon Autostart Execution: Security Support Provider', '自启动：安全支持提供程序（SSP）', 'persistence', 'privilege-escalation'),
  'T1547.010': T('Boot or Logon Autostart Execution: Port Monitors', '自启动：端口监视器', 'persistence', 'privilege-escalation'),
  'T1548.002': T('Abuse Elevation Control Mechanism: Bypass User Account Control', '滥用提权控制机制：绕过 UAC', 'privilege-escalation', 'defense-evasion'),
  T1558: T('Steal or Forge Kerberos Tickets', '窃取或伪造 Kerberos 票据', 'credential-access'),
  'T1558.003': T('Steal or Forge Kerberos Tickets: Kerberoasting', 'Kerberos 票据：Kerberoasting', 'credential-access'),
  'T1562.002': T('Impair Defenses: Disable Windows Event Logging', '削弱防御：禁用 Windows 事件日志', 'defense-evasion'),
  'T1562.010': T('Impair Defenses: Downgrade Attack', '削弱防御：降级攻击', 'defense-evasion'),
  'T1563.002': T('Remote Service Session Hijacking: RDP Hijacking', '远程服务会话劫持：RDP 劫持', 'lateral-movement'),
  'T1564.003': T('Hide Artifacts: Hidden Window', '隐藏痕迹：隐藏窗口', 'defense-evasion'),
  T1569: T('System Services', '系统服务', 'execution'),
  T1572: T('Protocol Tunneling', '协议隧道', 'command-and-control'),
  T1574: T('Hijack Execution Flow', '劫持执行流', 'persistence', 'privilege-escalation', 'defense-evasion'),
  'T1574.002': T('Hijack Execution Flow: DLL Side-Loading', '劫持执行流：DLL 侧加载', 'persistence', 'privilege-escalation', 'defense-evasion'),
  T1620: T('Reflective Code Loading', '反射式代码加载', 'defense-evasion'),
};

export const TACTIC_NAMES: Record<string, { en: string; zh: string; order: number }> = {
  reconnaissance: { en: 'Reconnaissance', zh: '侦察', order: 1 },
  'resource-development': { en: 'Resource Development', zh: '资源开发', order: 2 },
  'initial-access': { en: 'Initial Access', zh: '初始访问', order: 3 },
  execution: { en: 'Execution', zh: '执行', order: 4 },
  persistence: { en: 'Persistence', zh: '持久化', order: 5 },
  'privilege-escalation': { en: 'Privilege Escalation', zh: '权限提升', order: 6 },
  'defense-evasion': { en: 'Defense Evasion', zh: '防御规避', order: 7 },
  'credential-access': { en: 'Credential Access', zh: '凭据访问', order: 8 },
  discovery: { en: 'Discovery', zh: '发现', order: 9 },
  'lateral-movement': { en: 'Lateral Movement', zh: '横向移动', order: 10 },
  collection: { en: 'Collection', zh: '收集', order: 11 },
  'command-and-control': { en: 'Command and Control', zh: '命令与控制', order: 12 },
  exfiltration: { en: 'Exfiltration', zh: '数据渗出', order: 13 },
  impact: { en: 'Impact', zh: '影响', order: 14 },
};

/** Is this a syntactically valid ATT&CK technique id (`T1234` or `T1234.001`)? */
export function isTechniqueId(id: string): boolean {
  return /^T\d{4}(\.\d{3})?$/.test(id);
}

/** Technique info: the table entry, else the parent's tactics with the id as name. */
export function technique(id: string): TechniqueInfo & { known: boolean } {
  const t = TECHNIQUES[id];
  if (t) return { ...t, known: true };
  const parent = TECHNIQUES[id.split('.')[0]];
  return { en: id, zh: id, tactics: parent ? parent.tactics : [], known: false };
}

export function techniqueName(id: string, lang: 'zh' | 'en'): string {
  const t = technique(id);
  return t.known ? t[lang] : id;
}

export function tacticName(tactic: string, lang: 'zh' | 'en'): string {
  return TACTIC_NAMES[tactic]?.[lang] ?? tactic;
}

/** https://attack.mitre.org/techniques/T1110/001/ */
export function techniqueUrl(id: string): string {
  return `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`;
}
