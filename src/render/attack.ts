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
