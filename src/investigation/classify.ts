/**
 * What a finding means for the chain, decided from its ATT&CK ids, outcome,
 * src/dst/host and detector-id prefix (`host.*` or `net.*`); fact names are
 * consulted only where listed in docs/INVESTIGATION.md, always optionally.
 */
import type { Finding } from '../core/finding.js';

export type StepKind =
  | 'scan'
  | 'bruteforce'
  | 'logon'
  | 'exploit'
  | 'webshell'
  | 'service'
  | 'lateral-auth'
  | 'sweep'
  | 'beacon'
  | 'mining'
  | 'download'
  | 'process'
  | 'av'
  | 'account'
  | 'evasion'
  | 'unusual-logon'
  | 'other';

/** Kill-chain order used to sort steps that share a time. */
export const STAGE: Record<StepKind, number> = {
  scan: 1,
  bruteforce: 2,
  exploit: 3,
  logon: 3,
  'unusual-logon': 3,
  webshell: 4,
  account: 5,
  service: 5,
  process: 5,
  av: 5,
  download: 5,
  evasion: 6,
  beacon: 7,
  sweep: 8,
  'lateral-auth': 9,
  mining: 10,
  other: 11,
};

/** ChainLink.kind for each step kind (host → host or host → object). */
export const LINK_KIND: Record<StepKind, string> = {
  scan: 'scanned',
  bruteforce: 'brute-forced',
  logon: 'logged-on-to',
  'unusual-logon': 'logged-on-to',
  exploit: 'exploited',
  webshell: 'exploited',
  service: 'installed-service-on',
  'lateral-auth': 'authenticated-to',
  sweep: 'swept',
  beacon: 'beaconed-to',
  mining: 'mined-to',
  download: 'downloaded-from',
  process: 'ran',
  av: 'detected',
  account: 'changed-account',
  evasion: 'cleared-log',
  other: 'related-to',
};

export interface Classified {
  kind: StepKind;
  /** Detector family from the id prefix. */
  side: 'host' | 'net' | 'other';
  /** True when the finding asserts success (outcome succeeded/compromised). */
  success: boolean;
  /** Main technique id for the step (first matching id, else first id, else ''). */
  technique: string;
}

const has = (ids: string[], ...prefixes: string[]) => ids.some((a) => prefixes.some((p) => a === p || a.startsWith(p + '.')));

/** Everything this reads must be in classifyCached()'s key (graph.ts). */
export function classify(f: Finding): Classified {
  const ids = Array.isArray(f.attack) ? f.attack.filter((a) => typeof a === 'string').map((a) => a.toUpperCase()) : [];
  const det = typeof f.detector === 'string' ? f.detector.toLowerCase() : '';
  const side: Classified['side'] = det.startsWith('host.') ? 'host' : det.startsWith('net.') ? 'net' : 'other';
  const success = f.outcome === 'succeeded' || f.outcome === 'compromised';
  const pick = (...p: string[]) => ids.find((a) => p.some((x) => a === x || a.startsWith(x + '.'))) ?? ids[0] ?? '';
  const facts = (f.facts ?? {}) as Record<string, unknown>;
  const r = (kind: StepKind, technique: string): Classified => ({ kind, side, success, technique });

  // A tool download reported by the mining detector is a download, not mining.
  if (has(ids, 'T1105') && !has(ids, 'T1496')) return r('download', pick('T1105'));
  if (has(ids, 'T1496') || /min(er|ing)|stratum/.test(det)) {
    if (side === 'host' && !has(ids, 'T1496') && /process|tool/.test(det)) return r('process', pick('T1059', 'T1588'));
    return r('mining', pick('T1496'));
  }
  if (has(ids, 'T1071', 'T1573', 'T1095', 'T1571', 'T1572', 'T1090', 'T1219', 'T1102', 'T1568', 'T1008') || /beacon|\bc2\b|\.c2|cobalt/.test(det))
    return r('beacon', pick('T1071', 'T1573', 'T1095', 'T1571', 'T1572', 'T1090', 'T1219', 'T1102', 'T1568', 'T1008'));
  if (has(ids, 'T1190') || /exploit/.test(det)) return r('exploit', pick('T1190'));
  if (has(ids, 'T1505') || /webshell/.test(det)) return r('webshell', pick('T1505'));
  if (has(ids, 'T1569', 'T1543') || /service|psexec/.test(det)) return r('service', pick('T1569', 'T1543'));
  const targets = Array.isArray(facts.targets) ? facts.targets : null;
  // A sweep (no single destination) stays a sweep even when one of its targets later accepted a logon:
  // that logon is a finding of its own.
  const sweepish = /sweep/.test(det) || facts.kind === 'sweep' || !f.dst;
  if (side !== 'host' && /sweep|lateral|ntlm/.test(det)) return r(success && !sweepish ? 'lateral-auth' : 'sweep', pick('T1021', 'T1550', 'T1078', 'T1110'));
  if (has(ids, 'T1110') || /brute|spray|guess/.test(det)) return r(success ? 'logon' : 'bruteforce', pick('T1110'));
  if (has(ids, 'T1021', 'T1550', 'T1078') && side !== 'host') {
    if (success && !/sweep/.test(det)) return r('lateral-auth', pick('T1021', 'T1550', 'T1078'));
    return r('sweep', pick('T1021', 'T1550', 'T1078'));
  }
  if (targets && has(ids, 'T1021')) return r(success ? 'lateral-auth' : 'sweep', pick('T1021'));
  if (has(ids, 'T1046', 'T1595', 'T1018') || /scan/.test(det)) return side === 'host' ? r('process', pick('T1046', 'T1595')) : r('scan', pick('T1046', 'T1595', 'T1018'));
  if (has(ids, 'T1105') || /download/.test(det)) return r('download', pick('T1105'));
  if (has(ids, 'T1070', 'T1562') || /clear|tamper/.test(det)) return r('evasion', pick('T1070', 'T1562'));
  if (/defender|antivirus|\bav\b|\.av/.test(det)) return r('av', ids[0] ?? '');
  if (has(ids, 'T1098', 'T1136', 'T1531') || /account/.test(det)) return r('account', pick('T1098', 'T1136', 'T1531'));
  if (has(ids, 'T1059', 'T1588', 'T1003', 'T1204', 'T1053', 'T1547') || /process|tool|hack/.test(det)) return r('process', pick('T1059', 'T1588', 'T1003', 'T1204', 'T1053', 'T1547'));
  if (has(ids, 'T1078', 'T1021') || /logon/.test(det)) return r('unusual-logon', pick('T1078', 'T1021'));
  return r('other', ids[0] ?? '');
}

/** Step kinds that show the actor host itself is compromised (post-compromise activity). */
export const INDICATOR_KINDS = new Set<StepKind>(['beacon', 'mining', 'process', 'av', 'evasion', 'download']);
/** Step kinds that, when successful, give the attacker access to the victim. */
export const ACCESS_KINDS = new Set<StepKind>(['logon', 'exploit', 'webshell', 'lateral-auth', 'service', 'unusual-logon']);
/** Step kinds an attacker performs against a victim (attempts included). */
export const ATTACK_KINDS = new Set<StepKind>(['scan', 'bruteforce', 'logon', 'exploit', 'webshell', 'service', 'lateral-auth', 'sweep', 'unusual-logon']);
/** Host-local kinds: the finding is about `host` (or the only address given). */
export const LOCAL_KINDS = new Set<StepKind>(['process', 'av', 'account', 'evasion', 'mining', 'other']);

export const TECHNIQUE_NAMES: Record<string, { en: string; zh: string }> = {
  T1110: { en: 'brute force', zh: '暴力破解' },
  'T1110.001': { en: 'password guessing (brute force)', zh: '口令暴力破解' },
  'T1110.003': { en: 'password spraying', zh: '口令喷洒' },
  T1190: { en: 'exploitation of a public-facing application', zh: '利用对外应用漏洞' },
  'T1505.003': { en: 'web shell', zh: 'Webshell' },
  T1021: { en: 'remote services', zh: '远程服务横向移动' },
  'T1021.002': { en: 'SMB/admin shares with valid credentials', zh: 'SMB 凭据横向移动' },
  'T1021.001': { en: 'RDP with valid credentials', zh: 'RDP 凭据横向移动' },
  'T1569.002': { en: 'service execution (PsExec-style)', zh: '服务执行（PsExec 类）' },
  'T1543.003': { en: 'Windows service installation', zh: '安装 Windows 服务' },
  T1078: { en: 'valid accounts', zh: '有效账户登录' },
  T1071: { en: 'command-and-control channel', zh: 'C2 通信' },
  'T1071.001': { en: 'command-and-control over HTTP(S)', zh: '基于 HTTP(S) 的 C2 通信' },
  T1573: { en: 'encrypted command-and-control channel', zh: '加密 C2 通信' },
  T1046: { en: 'network service scanning', zh: '网络服务扫描' },
  T1595: { en: 'active scanning', zh: '主动扫描' },
  T1496: { en: 'resource hijacking (mining)', zh: '资源劫持（挖矿）' },
  T1105: { en: 'ingress tool transfer', zh: '下载攻击工具' },
  T1098: { en: 'account manipulation', zh: '账户操纵' },
  'T1070.001': { en: 'clearing Windows event logs', zh: '清除 Windows 日志' },
  T1059: { en: 'command and scripting interpreter', zh: '命令执行' },
};

export function techniqueName(t: string): { en: string; zh: string } {
  return TECHNIQUE_NAMES[t] ?? TECHNIQUE_NAMES[t.split('.')[0]] ?? { en: t || 'unknown technique', zh: t || '未知手法' };
}

/** Product names for CVEs spoor's exploit detectors know (for the root cause text). */
export const CVE_PRODUCTS: Record<string, { en: string; zh: string }> = {
  'CVE-2022-22965': { en: 'Spring Framework (Spring4Shell remote code execution)', zh: 'Spring Framework（Spring4Shell 远程代码执行）' },
  'CVE-2021-44228': { en: 'Apache Log4j (Log4Shell)', zh: 'Apache Log4j（Log4Shell）' },
  'CVE-2017-5638': { en: 'Apache Struts 2 (OGNL injection)', zh: 'Apache Struts 2（OGNL 注入）' },
  'CVE-2018-11776': { en: 'Apache Struts 2 (OGNL injection)', zh: 'Apache Struts 2（OGNL 注入）' },
  'CVE-2017-18349': { en: 'fastjson (autoType deserialization)', zh: 'fastjson（autoType 反序列化）' },
  'CVE-2022-25845': { en: 'fastjson (autoType deserialization)', zh: 'fastjson（autoType 反序列化）' },
  'CVE-2018-20062': { en: 'ThinkPHP (remote code execution)', zh: 'ThinkPHP（远程代码执行）' },
  'CVE-2019-9082': { en: 'ThinkPHP (remote code execution)', zh: 'ThinkPHP（远程代码执行）' },
  'CVE-2020-14882': { en: 'Oracle WebLogic (console RCE)', zh: 'Oracle WebLogic（控制台远程代码执行）' },
  'CVE-2019-2725': { en: 'Oracle WebLogic (deserialization)', zh: 'Oracle WebLogic（反序列化）' },
};
