/**
 * Words the report uses, per language. The Chinese is written for Chinese
 * responders in the style of their own write-ups (一、问题描述 … 五、建议与总结),
 * not translated word by word from the English.
 */
import type { FindingOutcome, Severity } from '../core/finding.js';
import type { HostRole } from '../incident/types.js';

export type Lang = 'zh' | 'en';

export const SEVERITY: Record<Lang, Record<Severity, string>> = {
  zh: { info: '信息', low: '低危', medium: '中危', high: '高危', critical: '严重' },
  en: { info: 'info', low: 'low', medium: 'medium', high: 'high', critical: 'critical' },
};

export const OUTCOME: Record<Lang, Record<FindingOutcome, string>> = {
  zh: { attempt: '尝试', failed: '失败', succeeded: '成功', compromised: '失陷' },
  en: { attempt: 'attempt', failed: 'failed', succeeded: 'succeeded', compromised: 'compromised' },
};

export const ROLE: Record<Lang, Record<HostRole, string>> = {
  zh: { attacker: '攻击者', compromised: '失陷主机', targeted: '被攻击目标', c2: 'C2 服务器', victim: '受害主机', benign: '正常主机' },
  en: { attacker: 'attacker', compromised: 'compromised', targeted: 'targeted', c2: 'C2 server', victim: 'victim', benign: 'benign' },
};

const LINK_KIND: Record<Lang, Record<string, string>> = {
  zh: {
    scanned: '扫描',
    swept: '网段扫描',
    'brute-forced': '暴力破解',
    'logged-on-to': '登录',
    exploited: '漏洞利用',
    wrote: '写入文件',
    'beaconed-to': '回连 C2',
    'authenticated-to': '认证成功',
    'installed-service-on': '安装服务',
    'downloaded-from': '下载',
    'mined-to': '挖矿连接',
    ran: '运行',
    detected: '杀毒检出',
    downloaded: '下载文件',
    'changed-account': '修改账户',
    discovered: '信息收集',
    'acted-on': '操作',
    'cleared-log': '清除日志',
  },
  en: {
    scanned: 'scanned',
    swept: 'swept',
    'brute-forced': 'brute-forced',
    'logged-on-to': 'logged on to',
    exploited: 'exploited',
    wrote: 'wrote a file to',
    'beaconed-to': 'beaconed to',
    'authenticated-to': 'authenticated to',
    'installed-service-on': 'installed a service on',
    'downloaded-from': 'downloaded from',
    'mined-to': 'mined via',
    ran: 'ran',
    detected: 'antivirus detected',
    downloaded: 'downloaded',
    'changed-account': 'changed account',
    discovered: 'ran discovery on',
    'acted-on': 'acted on',
    'cleared-log': 'cleared logs on',
  },
};

/** Chain targets that are not an address, host or object but a description. */
const PSEUDO_TARGET: Record<Lang, Record<string, string>> = {
  zh: { 'outside addresses': '外部地址（互联网）' },
  en: {},
};

export function linkKind(kind: string, lang: Lang): string {
  return LINK_KIND[lang][kind] ?? kind;
}

/** A chain target as shown: descriptions (`outside addresses`, `12 hosts`) in the report's language. */
export function chainTarget(to: string, lang: Lang): string {
  const known = PSEUDO_TARGET[lang][to];
  if (known) return known;
  const m = /^(\d+) hosts$/.exec(to);
  if (m && lang === 'zh') return `${m[1]} 台主机`;
  return to;
}

const ACTION: Record<Lang, Record<string, string>> = {
  zh: {
    'block-ip': '封禁 IP',
    'block-domain': '封禁域名',
    'isolate-host': '隔离主机',
    patch: '修复漏洞',
    'disable-service': '关闭服务',
    'restrict-service': '限制服务访问',
    'reset-credentials': '重置口令',
    'enforce-password-policy': '强密码策略',
    'remove-file': '清除恶意文件',
    'scan-hosts': '全盘查杀',
    'review-logs': '日志审计',
    'deploy-monitoring': '部署监测',
    'remove-persistence': '清除持久化',
    'check-vulnerability': '核查漏洞',
    'investigate-host': '排查主机',
  },
  en: {
    'block-ip': 'block address',
    'block-domain': 'block domain',
    'isolate-host': 'isolate host',
    patch: 'patch',
    'disable-service': 'disable service',
    'restrict-service': 'restrict service',
    'reset-credentials': 'reset credentials',
    'enforce-password-policy': 'password policy',
    'remove-file': 'remove file',
    'scan-hosts': 'scan hosts',
    'review-logs': 'review logs',
    'deploy-monitoring': 'monitoring',
    'remove-persistence': 'remove persistence',
    'check-vulnerability': 'check vulnerability',
    'investigate-host': 'investigate host',
  },
};

export function actionName(action: string, lang: Lang): string {
  return ACTION[lang][action] ?? action;
}

const ALERT_KIND: Record<Lang, Record<string, string>> = {
  zh: { 'outbound-scan': '对外扫描探测', outbound: '异常外联', inbound: '外部攻击', 'inbound-scan': '外部扫描', scan: '扫描探测', host: '主机异常' },
  en: { 'outbound-scan': 'outbound scanning', outbound: 'suspicious outbound connections', inbound: 'inbound attack', 'inbound-scan': 'inbound scanning', scan: 'scanning', host: 'host alert' },
};

/** What the alert kind means, in the report's language ('' for kinds spoor does not know). */
export function alertKindName(kind: string, lang: Lang): string {
  return Object.prototype.hasOwnProperty.call(ALERT_KIND[lang], kind) ? ALERT_KIND[lang][kind] : '';
}

export const PRIORITY: Record<Lang, Record<string, string>> = {
  zh: { immediate: '立即', 'short-term': '短期', 'long-term': '长期' },
  en: { immediate: 'immediate', 'short-term': 'short term', 'long-term': 'long term' },
};

/** Actions that are hardening (long-term) rather than remediation of this incident. */
export const HARDENING_ACTIONS = new Set(['enforce-password-policy', 'deploy-monitoring', 'review-logs']);

export const L = {
  zh: {
    title: '安全事件排查报告',
    generated: '报告生成',
    caseId: '案件编号',
    zone: '时区',
    toc: '目录',
    s1: '一、问题描述',
    s1_1: '1.1 告警来源',
    s1_2: '1.2 排查范围',
    s1_3: '1.3 排查结论',
    noAlert: '本次排查未提供外部告警/通报，由 spoor 对全部证据进行检测，结论如下。',
    alertGot: '接到告警/通报：',
    alertKind: '告警类型',
    alertSrc: '源地址',
    alertDst: '目的地址',
    evidenceFiles: (n: number, fmts: string) => `共收集证据文件 ${n} 个（${fmts}）`,
    records: (n: number) => `解析记录 ${n} 条`,
    span: (a: string, b: string) => `证据时间跨度：${a} 至 ${b}`,
    homeNets: '内网地址段',
    skippedProblems: (s: number, p: number) => `跳过文件 ${s} 个，解析问题 ${p} 处（详见附录）`,
    verdictIncident: (sev: string, title: string, conf: string) => `经排查，确认发生一起${sev}安全事件：${title}（置信度 ${conf}）。`,
    attackers: '攻击者地址',
    compromised: '失陷主机',
    c2: 'C2 服务器（外联地址）',
    entry: '入侵入口',
    entryText: (from: string, time: string, tech: string, host: string) => `${from} 于 ${time} 通过「${tech}」进入 ${host}`,
    compromisedText: (host: string, ip: string, since: string, via: string) => `${host}${ip && ip !== host ? `（${ip}）` : ''}，自 ${since} 起失陷，入侵方式：${via}`,
    none: '无',
    noIncident: '未能确认安全事件：现有证据没有形成完整的攻击链。以下为值得关注的检测结果，建议结合其他数据进一步核查。',
    noFindings: '未产生任何检测结果。',
    chainFigure: '攻击链路图',
    s2: '二、处理过程',
    stepQuery: '排查内容',
    stepFound: '发现',
    stepEvidence: '证据',
    stepExcerpt: '证据摘录',
    basis: '依据',
    provenBy: '证据',
    stepExcerptZoned: (zone: string) => `证据摘录（时间为 ${zone}，括号内为 UTC 原始时间）：`,
    moreRefs: (n: number) => `等，另有 ${n} 条`,
    noSteps: '本事件未记录排查步骤。',
    s3: '三、根因',
    chainTable: '攻击链路',
    chainHead: ['时间', '来源', '行为', '目标', 'ATT&CK 技术', '证据'],
    s4: '四、解决方案',
    target: '处置对象',
    noRemediation: '无针对性处置项。',
    s5: '五、建议与总结',
    s5_1: '5.1 安全加固建议',
    s5_2: '5.2 总结',
    s5_3: '5.3 事件时间线',
    noHardening: '无。',
    summaryPeriod: (a: string, b: string) => `攻击活动时间：${a} 至 ${b}。`,
    timelineFigure: '事件时间线',
    timelineHead: (zone: string) => [`时间（${zone}）`, 'ATT&CK 技术', '主机 / 源 → 目的', '事件', '证据'],
    appendix: '附录',
    iocs: '附录A 失陷指标（IOC）',
    iocHead: ['类型', '值', '说明'],
    iocTypes: { ip: 'IP 地址', domain: '域名', url: 'URL', file: '文件', hash: '文件哈希', account: '账户' },
    defangNote: '域名与 URL 已做去活处理（hxxp、[.]），原始值见导出文件。',
    techniques: '附录B ATT&CK 技术',
    techHead: ['编号', '名称', '战术', '相关检测结果'],
    findings: '附录C 检测结果',
    findingsHead: (zone: string) => [`首次出现（${zone}）`, '编号', '检测项', '级别', '结果', '摘要', '证据'],
    findingsCut: (n: number, total: number) => `仅列出前 ${n} 条，共 ${total} 条，全部检测结果见导出文件（spoor export --format csv）。`,
    evidence: '附录D 证据清单',
    evidenceHead: ['编号', '文件', '格式', '记录数', '错误数', '时间范围', 'SHA-256'],
    skipped: '附录E 跳过的文件与解析问题',
    skippedHead: ['文件', '原因'],
    noSkipped: '没有跳过的文件。',
    problemsSummary: (n: number, total: number) => `解析问题共 ${total} 处${n < total ? `（incident.json 中保留 ${n} 处）` : ''}。问题记录已跳过，其余数据照常分析。`,
    problemsHead: ['证据', '级别', '位置', '原因', '次数'],
    noProblems: '没有解析问题。',
    record: '记录号',
    frame: (n: number) => `第 ${n} 帧`,
    line: (n: number) => `第 ${n} 行`,
    offset: '偏移',
    conn: '连接',
    priority: '优先级',
  },
  en: {
    title: 'Incident investigation report',
    generated: 'Generated',
    caseId: 'Case',
    zone: 'Time zone',
    toc: 'Contents',
    s1: '1. Problem description and overview',
    s1_1: '1.1 Trigger',
    s1_2: '1.2 Scope',
    s1_3: '1.3 Verdict',
    noAlert: 'No external alert was given; spoor examined all evidence. Conclusions follow.',
    alertGot: 'Alert received: ',
    alertKind: 'kind',
    alertSrc: 'source',
    alertDst: 'destination',
    evidenceFiles: (n: number, fmts: string) => `${n} evidence file${n === 1 ? '' : 's'} collected (${fmts})`,
    records: (n: number) => `${n} records parsed`,
    span: (a: string, b: string) => `Evidence covers ${a} to ${b}`,
    homeNets: 'Internal networks',
    skippedProblems: (s: number, p: number) => `${s} file${s === 1 ? '' : 's'} skipped, ${p} parse problem${p === 1 ? '' : 's'} (see appendix)`,
    verdictIncident: (sev: string, title: string, conf: string) => `One ${sev}-severity incident was established: ${title} (confidence ${conf}).`,
    attackers: 'Attacker addresses',
    compromised: 'Compromised hosts',
    c2: 'C2 servers',
    entry: 'Entry point',
    entryText: (from: string, time: string, tech: string, host: string) => `${from} got into ${host} at ${time} by ${tech}`,
    compromisedText: (host: string, ip: string, since: string, via: string) => `${host}${ip && ip !== host ? ` (${ip})` : ''}, compromised since ${since} via ${via}`,
    none: 'none',
    noIncident: 'No incident could be established: the evidence does not form an attack chain. The notable findings are listed below for follow-up.',
    noFindings: 'No findings.',
    chainFigure: 'Attack chain',
    s2: '2. Investigation',
    stepQuery: 'Looked at',
    stepFound: 'Found',
    stepEvidence: 'Evidence',
    stepExcerpt: 'Excerpts',
    basis: 'basis',
    provenBy: 'evidence',
    stepExcerptZoned: (zone: string) => `Excerpts (times in ${zone}; the UTC original in parentheses):`,
    moreRefs: (n: number) => `and ${n} more`,
    noSteps: 'No investigation steps were recorded for this incident.',
    s3: '3. Root cause',
    chainTable: 'Attack chain',
    chainHead: ['Time', 'From', 'Action', 'To', 'ATT&CK technique', 'Evidence'],
    s4: '4. Remediation',
    target: 'target',
    noRemediation: 'No specific remediation items.',
    s5: '5. Recommendations and summary',
    s5_1: '5.1 Hardening recommendations',
    s5_2: '5.2 Summary',
    s5_3: '5.3 Timeline',
    noHardening: 'None.',
    summaryPeriod: (a: string, b: string) => `Attacker activity from ${a} to ${b}.`,
    timelineFigure: 'Timeline',
    timelineHead: (zone: string) => [`Time (${zone})`, 'ATT&CK technique', 'Host / source → destination', 'Event', 'Evidence'],
    appendix: 'Appendix',
    iocs: 'Appendix A. Indicators of compromise',
    iocHead: ['Type', 'Value', 'Note'],
    iocTypes: { ip: 'IP address', domain: 'domain', url: 'URL', file: 'file', hash: 'file hash', account: 'account' },
    defangNote: 'Domains and URLs are defanged (hxxp, [.]); the raw values are in the exports.',
    techniques: 'Appendix B. ATT&CK techniques',
    techHead: ['ID', 'Name', 'Tactics', 'Findings'],
    findings: 'Appendix C. Findings',
    findingsHead: (zone: string) => [`First seen (${zone})`, 'ID', 'Detector', 'Severity', 'Outcome', 'Summary', 'Evidence'],
    findingsCut: (n: number, total: number) => `First ${n} of ${total} shown; all findings are in the exports (spoor export --format csv).`,
    evidence: 'Appendix D. Evidence inventory',
    evidenceHead: ['ID', 'File', 'Format', 'Records', 'Errors', 'Time span', 'SHA-256'],
    skipped: 'Appendix E. Skipped files and parse problems',
    skippedHead: ['File', 'Reason'],
    noSkipped: 'No files were skipped.',
    problemsSummary: (n: number, total: number) => `${total} parse problem${total === 1 ? '' : 's'}${n < total ? ` (${n} kept in incident.json)` : ''}. Damaged records were skipped; everything else was analysed.`,
    problemsHead: ['Evidence', 'Severity', 'Where', 'Reason', 'Count'],
    noProblems: 'No parse problems.',
    record: 'record',
    frame: (n: number) => `frame ${n}`,
    line: (n: number) => `line ${n}`,
    offset: 'offset',
    conn: 'conn',
    priority: 'priority',
  },
};
