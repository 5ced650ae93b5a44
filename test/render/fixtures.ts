/**
 * Builders of realistic IncidentFiles for the renderer and export tests:
 * case 1 (RDP brute force → tools → outbound scan, as in the seed
 * "我的客户被通报了") and case 2 (Spring RCE → webshell → C2 → SMB lateral
 * movement, as in "记一次异常外联事件应急响应"), plus a hostile variant
 * that carries attack strings in every evidence-derived field.
 */
import type { EvidenceRef } from '../../src/core/event.js';
import type { FindingEntry, Incident, IncidentFile } from '../../src/incident/types.js';

const sha = (seed: string) => {
  let h = 0x811c9dc5;
  let out = '';
  for (let i = 0; out.length < 64; i++) {
    h ^= seed.charCodeAt(i % seed.length) + i;
    h = Math.imul(h, 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, 64);
};

const rec = (evidence: string, record: number): EvidenceRef => ({ evidence, record });
const frm = (evidence: string, frame: number, uid?: string): EvidenceRef => (uid ? { evidence, frame, uid } : { evidence, frame });

function finding(p: Partial<FindingEntry> & Pick<FindingEntry, 'id' | 'detector' | 'attack' | 'first' | 'summary' | 'evidence'>): FindingEntry {
  return { severity: 'high', outcome: 'attempt', confidence: 0.9, last: p.first, ...p };
}

export const CASE1 = {
  attacker: '45.135.232.19',
  victimIp: '10.20.1.5',
  victimName: 'WIN-APP01',
  pool: '185.71.65.238',
  entryTime: '2024-06-03T19:35:58.000Z',
  pwChange: '2024-06-03T19:36:12.000Z',
  secondLogon: '2024-07-01T20:05:33.000Z',
  tools: ['syste64.exe', 'host.exe', 'mz64.exe', 'masscan.exe'],
  scanned: ['198.51.100.7', '198.51.100.8', '198.51.100.9', '198.51.100.10', '198.51.100.11', '198.51.100.12', '198.51.100.13', '198.51.100.14'],
};

export function buildCase1(): IncidentFile {
  const c = CASE1;
  const findings: FindingEntry[] = [
    finding({
      id: 'host.bruteforce-1',
      detector: 'host.bruteforce',
      attack: ['T1110.001'],
      outcome: 'attempt',
      first: '2024-06-03T19:12:05.000Z',
      last: '2024-06-03T19:35:51.000Z',
      src: c.attacker,
      host: c.victimName,
      user: 'administrator',
      summary: { en: `2,816 failed RDP logons (4625, type 10) from ${c.attacker} against administrator`, zh: `${c.attacker} 对 administrator 账户发起 2816 次 RDP 登录失败（4625，登录类型 10）` },
      evidence: [rec('E1', 10021), rec('E1', 10022), rec('E1', 12870)],
      facts: { failures: 2816, users: ['administrator', 'admin', 'test'] },
    }),
    finding({
      id: 'host.bruteforce-success-1',
      detector: 'host.bruteforce',
      attack: ['T1110.001', 'T1078'],
      severity: 'critical',
      outcome: 'compromised',
      first: c.entryTime,
      src: c.attacker,
      host: c.victimName,
      user: 'administrator',
      summary: { en: `Logon success (4624, type 10) for administrator from ${c.attacker} right after the failures`, zh: `暴破后紧接着 ${c.attacker} 以 administrator 登录成功（4624，登录类型 10）` },
      evidence: [rec('E1', 12877)],
    }),
    finding({
      id: 'host.password-change-1',
      detector: 'host.account-change',
      attack: ['T1098'],
      outcome: 'succeeded',
      first: c.pwChange,
      host: c.victimName,
      user: 'administrator',
      summary: { en: 'Password of administrator reset (4724) at night, 14 s after the logon', zh: '登录 14 秒后 administrator 口令被重置（4724），时间为凌晨' },
      evidence: [rec('E1', 12880)],
    }),
    finding({
      id: 'host.rdp-logon-2',
      detector: 'host.remote-logon',
      attack: ['T1021.001'],
      outcome: 'succeeded',
      first: c.secondLogon,
      src: c.attacker,
      host: c.victimName,
      user: 'administrator',
      summary: { en: `Second RDP logon from ${c.attacker} at night`, zh: `${c.attacker} 再次于凌晨通过 RDP 登录` },
      evidence: [rec('E1', 20911)],
    }),
    finding({
      id: 'host.tools-1',
      detector: 'host.hacktool',
      attack: ['T1105', 'T1046', 'T1496'],
      outcome: 'succeeded',
      first: '2024-07-01T20:09:10.000Z',
      last: '2024-07-01T20:11:40.000Z',
      host: c.victimName,
      user: 'administrator',
      summary: { en: 'Hacking tools started: masscan.exe, mz64.exe, host.exe, syste64.exe (miner)', zh: '运行黑客工具：masscan.exe、mz64.exe、host.exe、syste64.exe（挖矿）' },
      evidence: [rec('E1', 20950), rec('E1', 20951), rec('E1', 20957), rec('E1', 20960)],
      facts: { images: c.tools.map((t) => `C:\\Users\\Public\\Downloads\\${t}`) },
    }),
    finding({
      id: 'net.scan-1',
      detector: 'net.scan',
      attack: ['T1046'],
      outcome: 'attempt',
      first: '2024-07-01T20:12:02.000Z',
      last: '2024-07-01T20:40:17.000Z',
      src: c.victimIp,
      summary: { en: `${c.victimIp} SYN-scanned 65,536 external addresses on 445/3389 (masscan fingerprint)`, zh: `${c.victimIp} 对外 65536 个地址的 445/3389 端口发起 SYN 扫描（masscan 特征）` },
      evidence: [frm('E3', 1201, 'C1a2b3'), frm('E3', 1202), frm('E3', 88100)],
      facts: { targets: 65536, ports: [445, 3389] },
    }),
    finding({
      id: 'net.mining-1',
      detector: 'net.stratum',
      attack: ['T1496'],
      outcome: 'succeeded',
      first: '2024-07-01T20:11:55.000Z',
      src: c.victimIp,
      dst: c.pool,
      summary: { en: `Stratum mining login to ${c.pool}:3333`, zh: `向矿池 ${c.pool}:3333 发送 Stratum 登录` },
      evidence: [frm('E3', 1190, 'CmIn1')],
    }),
  ];
  const inc: Incident = {
    id: 'INC-1',
    title: { en: `RDP brute force of ${c.victimName}, then tools and an outbound scan`, zh: `${c.victimName} 遭 RDP 暴力破解后被植入工具并对外扫描` },
    severity: 'critical',
    confidence: 0.92,
    first: '2024-06-03T19:12:05.000Z',
    last: '2024-07-01T20:40:17.000Z',
    attackers: [c.attacker],
    compromised: [{ host: c.victimName, ip: c.victimIp, since: c.entryTime, via: 'T1110.001', findings: ['host.bruteforce-success-1'] }],
    c2: [c.pool],
    entry: { host: c.victimName, technique: 'T1110.001', time: c.entryTime, from: c.attacker, findings: ['host.bruteforce-success-1'] },
    techniques: ['T1110.001', 'T1078', 'T1098', 'T1021.001', 'T1105', 'T1046', 'T1496'],
    hosts: [
      { host: c.attacker, ip: c.attacker, role: 'attacker', internal: false, confidence: 0.95, because: ['host.bruteforce-1', 'host.bruteforce-success-1'] },
      { host: c.victimName, ip: c.victimIp, names: ['WIN-APP01'], role: 'compromised', internal: true, since: c.entryTime, via: 'T1110.001', confidence: 0.95, because: ['host.bruteforce-success-1'] },
      { host: c.pool, ip: c.pool, role: 'c2', internal: false, confidence: 0.7, because: ['net.mining-1'] },
      ...c.scanned.map((ip) => ({ host: ip, ip, role: 'targeted' as const, internal: false, confidence: 0.6, because: ['net.scan-1'] })),
    ],
    chain: [
      { from: c.attacker, to: c.victimName, kind: 'brute-forced', technique: 'T1110.001', time: '2024-06-03T19:12:05.000Z', findings: ['host.bruteforce-1'], confidence: 0.95 },
      { from: c.attacker, to: c.victimName, kind: 'logged-on-to', technique: 'T1021.001', time: c.entryTime, findings: ['host.bruteforce-success-1'], confidence: 0.95 },
      { from: c.attacker, to: c.victimName, kind: 'logged-on-to', technique: 'T1021.001', time: c.secondLogon, findings: ['host.rdp-logon-2'], confidence: 0.9 },
      { from: c.victimIp, to: c.pool, kind: 'beaconed-to', technique: 'T1496', time: '2024-07-01T20:11:55.000Z', findings: ['net.mining-1'], confidence: 0.8 },
      ...c.scanned.map((ip, i) => ({ from: c.victimIp, to: ip, kind: 'scanned', technique: 'T1046', time: `2024-07-01T20:12:${String(2 + i).padStart(2, '0')}.000Z`, findings: ['net.scan-1'], confidence: 0.8 })),
    ],
    timeline: [
      { time: '2024-06-03T19:12:05.000Z', technique: 'T1110.001', src: c.attacker, dst: c.victimIp, host: c.victimName, text: { en: 'RDP password guessing begins (4625 × 2816)', zh: '开始 RDP 暴力破解（4625 共 2816 次）' }, findings: ['host.bruteforce-1'], evidence: [rec('E1', 10021)] },
      { time: c.entryTime, technique: 'T1110.001', src: c.attacker, host: c.victimName, text: { en: 'Brute force succeeds: administrator logs on (4624 type 10)', zh: '暴破成功，administrator 登录（4624 类型 10）' }, findings: ['host.bruteforce-success-1'], evidence: [rec('E1', 12877)] },
      { time: c.pwChange, technique: 'T1098', host: c.victimName, text: { en: 'administrator password reset (4724)', zh: 'administrator 口令被修改（4724）' }, findings: ['host.password-change-1'], evidence: [rec('E1', 12880)] },
      { time: c.secondLogon, technique: 'T1021.001', src: c.attacker, host: c.victimName, text: { en: 'Attacker returns over RDP', zh: '攻击者再次通过 RDP 登录' }, findings: ['host.rdp-logon-2'], evidence: [rec('E1', 20911)] },
      { time: '2024-07-01T20:09:10.000Z', technique: 'T1105', host: c.victimName, text: { en: 'Tools unpacked and started (masscan.exe, mz64.exe, host.exe, syste64.exe)', zh: '释放并运行工具（masscan.exe、mz64.exe、host.exe、syste64.exe）' }, findings: ['host.tools-1'], evidence: [rec('E1', 20950)] },
      { time: '2024-07-01T20:11:55.000Z', technique: 'T1496', src: c.victimIp, dst: c.pool, text: { en: 'Miner connects to pool', zh: '挖矿程序连接矿池' }, findings: ['net.mining-1'], evidence: [frm('E3', 1190)] },
      { time: '2024-07-01T20:12:02.000Z', technique: 'T1046', src: c.victimIp, text: { en: 'Outbound masscan scan of 445/3389 begins (the reported behaviour)', zh: '开始对外 masscan 扫描 445/3389（即被通报的行为）' }, findings: ['net.scan-1'], evidence: [frm('E3', 1201)] },
    ],
    steps: [
      { title: { en: 'Confirm the reported outbound scan', zh: '核实通报的对外扫描行为' }, query: `src=${c.victimIp} conn.state=S0`, found: { en: `${c.victimIp} sent SYNs to 65,536 external addresses on 445 and 3389 with a fixed masscan fingerprint`, zh: `${c.victimIp} 向外部 65536 个地址的 445、3389 端口发送 SYN，具有 masscan 固定特征` }, findings: ['net.scan-1'], evidence: [frm('E3', 1201), frm('E3', 1202)], excerpts: ['frame 1201 10.20.1.5:61000 → 198.51.100.7:445 SYN win=1024 ttl=255'] },
      { title: { en: 'Exposed services', zh: '梳理开放的高危端口' }, query: `dst=${c.victimIp} dport in (3389,445)`, found: { en: 'RDP (3389) and SMB (445) reachable from the internet', zh: '服务器对外开放 RDP（3389）、SMB（445）等高危端口' }, findings: ['host.bruteforce-1'], evidence: [frm('E3', 17)] },
      { title: { en: 'Security log: brute force', zh: '安全日志排查：暴力破解' }, query: 'event.code=4625 logon_type=10', found: { en: `2,816 failed logons from ${c.attacker}, then a success at 03:35:58`, zh: `${c.attacker} 登录失败 2816 次，随后于 03:35:58 登录成功` }, findings: ['host.bruteforce-1', 'host.bruteforce-success-1'], evidence: [rec('E1', 10021), rec('E1', 12877)], excerpts: ['4624 LogonType=10 TargetUserName=administrator IpAddress=45.135.232.19'] },
      { title: { en: 'Accounts', zh: '查看用户' }, query: 'event.code in (4723,4724)', found: { en: 'administrator password changed 14 s after the break-in, at 03:36 local time', zh: '暴破成功 14 秒后（凌晨 3 时 36 分）administrator 口令被修改' }, findings: ['host.password-change-1'], evidence: [rec('E1', 12880)] },
      { title: { en: 'Malware and tools', zh: '排查恶意程序' }, query: 'event.code=4688', found: { en: 'masscan.exe (scanner), mz64.exe (hack tool), host.exe (downloader), syste64.exe (miner) started from C:\\Users\\Public\\Downloads', zh: '在 C:\\Users\\Public\\Downloads 下运行 masscan.exe（扫描器）、mz64.exe（黑客工具）、host.exe（下载器木马）、syste64.exe（挖矿）' }, findings: ['host.tools-1'], evidence: [rec('E1', 20950), rec('E1', 20960)] },
    ],
    root_cause: {
      en: 'RDP was exposed to the internet on the default port 3389 with a guessable administrator password; the attacker brute-forced it, took the server, planted a miner, a downloader and masscan, and masscan produced the reported outbound scan.',
      zh: '服务器对外开放 RDP 服务且未修改默认 3389 端口，administrator 口令强度不足，遭到 RDP 暴力破解并被取得服务器权限。随后被植入挖矿、下载器木马和 masscan 等工具，通报中的对外扫描行为即 masscan 所为。',
    },
    iocs: { ips: [c.attacker, c.pool], domains: [], urls: [], files: c.tools, hashes: [sha('masscan')], accounts: ['administrator'] },
    recommendations: [
      { action: 'block-ip', target: c.attacker, text: { en: 'Block the attacker address at the border firewall', zh: '在边界防火墙封禁攻击者 IP' }, findings: ['host.bruteforce-1'], priority: 'immediate' },
      { action: 'remove-file', target: `${c.victimName}:C:\\Users\\Public\\Downloads`, text: { en: 'Full antivirus scan of the host; delete the malware and tools', zh: '对该主机进行全盘查杀，删除病毒文件' }, findings: ['host.tools-1'], priority: 'immediate' },
      { action: 'scan-hosts', target: '10.20.0.0/16', text: { en: 'Scan the other LAN hosts that may be infected', zh: '对局域网内其他可能感染病毒的主机进行全盘查杀' }, findings: ['net.scan-1'], priority: 'short-term' },
      { action: 'restrict-service', target: `${c.victimName}:3389/tcp`, text: { en: 'Disable RDP where possible, otherwise restrict it to known source addresses', zh: '能关闭 RDP 的关闭，不能关闭的限制源 IP 访问' }, findings: ['host.bruteforce-1'], priority: 'immediate' },
      { action: 'reset-credentials', target: `${c.victimName}\\administrator`, text: { en: 'Reset the administrator password', zh: '重置 administrator 口令' }, findings: ['host.password-change-1'], priority: 'immediate' },
      { action: 'enforce-password-policy', target: 'all servers', text: { en: 'Enforce strong passwords and account lockout', zh: '启用强密码策略和账户锁定' }, findings: ['host.bruteforce-1'], priority: 'long-term' },
      { action: 'deploy-monitoring', target: 'border', text: { en: 'Deploy EDR and border/zone firewalls to stop brute force and exploitation', zh: '部署 EDR 及边界、区域防火墙，防止暴破与漏洞利用攻击' }, findings: [], priority: 'long-term' },
    ],
    findings: findings.map((f) => f.id),
  };
  return {
    schema: 'spoor.incident/1',
    case: { id: 'case1-rdp', created: '2024-07-04T02:00:00.000Z', home_nets: ['10.20.0.0/16'], tz: 'Asia/Shanghai', spoor_version: '0.1.0', alert: { kind: 'outbound-scan', src: c.victimIp, text: `监测发现 ${c.victimIp} 对外发起扫描探测，存在安全隐患。` } },
    evidence: [
      { id: 'E1', path: '/cases/c1/Security.evtx', sha256: sha('E1'), size: 20_975_616, format: 'evtx', records: 24512, errors: 0, first: '2024-05-30T00:00:01.000Z', last: '2024-07-03T23:10:00.000Z' },
      { id: 'E2', path: '/cases/c1/System.evtx', sha256: sha('E2'), size: 1_052_672, format: 'evtx', records: 3110, errors: 2, first: '2024-05-30T00:00:05.000Z', last: '2024-07-03T23:00:00.000Z' },
      { id: 'E3', path: '/cases/c1/border.pcapng', sha256: sha('E3'), size: 88_000_000, format: 'pcapng', records: 183211, errors: 0, first: '2024-06-03T19:00:00.000Z', last: '2024-07-01T21:00:00.000Z' },
    ],
    skipped: [{ path: '/cases/c1/notes.docx', reason: 'unrecognised format' }],
    problems: [
      { evidence: 'E2', offset: 69632, reason: 'chunk header checksum mismatch', severity: 'warning' },
      { evidence: 'E2', record: 3001, reason: 'bad BinXml token 0x7f', severity: 'warning' },
    ],
    problems_total: 2,
    findings,
    incidents: [inc],
  };
}

export const CASE2 = {
  attacker: '10.10.10.3',
  web: '80.66.1.15',
  second: '80.66.1.5',
  c2: '124.223.206.156',
  shell: '/xxx.jsp',
  exploitTime: '2024-05-20T02:14:31.000Z',
  smbTime: '2024-05-20T02:40:09.000Z',
};

export function buildCase2(): IncidentFile {
  const c = CASE2;
  const E = 'E1';
  const findings: FindingEntry[] = [
    finding({ id: 'net.scan-1', detector: 'net.scan', attack: ['T1595.002'], first: '2024-05-20T02:01:00.000Z', last: '2024-05-20T02:12:44.000Z', src: c.attacker, dst: c.web, summary: { en: `${c.attacker} vulnerability-scanned ${c.web} (4,210 HTTP requests)`, zh: `${c.attacker} 对 ${c.web} 进行漏洞扫描（HTTP 请求 4210 次）` }, evidence: [frm(E, 310, 'Cs1')] }),
    finding({ id: 'net.exploit-1', detector: 'net.exploit', attack: ['T1190'], severity: 'critical', outcome: 'succeeded', first: c.exploitTime, src: c.attacker, dst: c.web, summary: { en: 'Spring Framework RCE (CVE-2022-22965) request writing xxx.jsp', zh: 'Spring Framework RCE（CVE-2022-22965）利用请求，写入 xxx.jsp' }, evidence: [frm(E, 20411, 'Cx9')], facts: { uri: '/?class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di', cve: 'CVE-2022-22965' } }),
    finding({ id: 'net.webshell-1', detector: 'net.webshell', attack: ['T1505.003'], severity: 'critical', outcome: 'compromised', first: '2024-05-20T02:15:02.000Z', src: c.attacker, dst: c.web, summary: { en: 'Webshell xxx.jsp answered commands', zh: 'WebShell xxx.jsp 执行命令并返回结果' }, evidence: [frm(E, 20502, 'Cx10')] }),
    finding({ id: 'net.beacon-1', detector: 'net.beacon', attack: ['T1071.001'], severity: 'critical', outcome: 'compromised', first: '2024-05-20T02:20:00.000Z', last: '2024-05-20T04:00:00.000Z', src: c.web, dst: c.c2, summary: { en: `${c.web} beacons to ${c.c2} every 60 s (Cobalt Strike profile)`, zh: `${c.web} 每 60 秒回连 ${c.c2}（Cobalt Strike 特征）` }, evidence: [frm(E, 21000, 'Cb1')] }),
    finding({ id: 'net.sweep-1', detector: 'net.scan', attack: ['T1046'], outcome: 'attempt', first: '2024-05-20T02:31:00.000Z', last: '2024-05-20T02:38:00.000Z', src: c.web, summary: { en: `${c.web} swept 80.66.1.0/24 on 445`, zh: `${c.web} 对 80.66.1.0/24 网段 445 端口扫描` }, evidence: [frm(E, 30001)] }),
    finding({ id: 'net.smb-auth-1', detector: 'net.lateral-smb', attack: ['T1021.002'], outcome: 'succeeded', first: c.smbTime, src: c.web, dst: c.second, user: 'administrator', summary: { en: `SMB/NTLM logon success from ${c.web} to ${c.second}`, zh: `${c.web} 以 SMB/NTLM 认证登录 ${c.second} 成功` }, evidence: [frm(E, 31877, 'Csmb1')] }),
    finding({ id: 'net.beacon-2', detector: 'net.beacon', attack: ['T1071.001'], severity: 'critical', outcome: 'compromised', first: '2024-05-20T02:45:00.000Z', last: '2024-05-20T04:00:00.000Z', src: c.second, dst: c.c2, summary: { en: `${c.second} beacons to ${c.c2}`, zh: `${c.second} 回连 ${c.c2}` }, evidence: [frm(E, 32010, 'Cb2')] }),
  ];
  const inc: Incident = {
    id: 'INC-1',
    title: { en: 'Spring RCE on the application server, C2, and SMB lateral movement', zh: '应用服务器遭 Spring 漏洞利用后外联 C2 并经 SMB 横向移动' },
    severity: 'critical',
    confidence: 0.9,
    first: '2024-05-20T02:01:00.000Z',
    last: '2024-05-20T04:00:00.000Z',
    attackers: [c.attacker],
    compromised: [
      { host: c.web, ip: c.web, since: c.exploitTime, via: 'T1190', findings: ['net.exploit-1', 'net.webshell-1'] },
      { host: c.second, ip: c.second, since: c.smbTime, via: 'T1021.002', findings: ['net.smb-auth-1'] },
    ],
    c2: [c.c2],
    entry: { host: c.web, technique: 'T1190', time: c.exploitTime, from: c.attacker, findings: ['net.exploit-1'] },
    techniques: ['T1595.002', 'T1190', 'T1505.003', 'T1071.001', 'T1046', 'T1021.002'],
    hosts: [
      { host: c.attacker, ip: c.attacker, role: 'attacker', internal: false, confidence: 0.95, because: ['net.scan-1', 'net.exploit-1'] },
      { host: c.web, ip: c.web, role: 'compromised', internal: true, since: c.exploitTime, via: 'T1190', confidence: 0.95, because: ['net.webshell-1', 'net.beacon-1'] },
      { host: c.second, ip: c.second, role: 'compromised', internal: true, since: c.smbTime, via: 'T1021.002', confidence: 0.9, because: ['net.smb-auth-1', 'net.beacon-2'] },
      { host: c.c2, ip: c.c2, role: 'c2', internal: false, confidence: 0.9, because: ['net.beacon-1', 'net.beacon-2'] },
    ],
    chain: [
      { from: c.attacker, to: c.web, kind: 'scanned', technique: 'T1595.002', time: '2024-05-20T02:01:00.000Z', findings: ['net.scan-1'], confidence: 0.9 },
      { from: c.attacker, to: c.web, kind: 'exploited', technique: 'T1190', time: c.exploitTime, findings: ['net.exploit-1'], confidence: 0.95 },
      { from: c.web, to: c.c2, kind: 'beaconed-to', technique: 'T1071.001', time: '2024-05-20T02:20:00.000Z', findings: ['net.beacon-1'], confidence: 0.9 },
      { from: c.web, to: c.second, kind: 'authenticated-to', technique: 'T1021.002', time: c.smbTime, findings: ['net.smb-auth-1'], confidence: 0.9 },
      { from: c.second, to: c.c2, kind: 'beaconed-to', technique: 'T1071.001', time: '2024-05-20T02:45:00.000Z', findings: ['net.beacon-2'], confidence: 0.9 },
    ],
    timeline: [
      { time: '2024-05-20T02:01:00.000Z', technique: 'T1595.002', src: c.attacker, dst: c.web, text: { en: 'Vulnerability scan of the application server', zh: '对应用服务器进行漏洞扫描' }, findings: ['net.scan-1'], evidence: [frm(E, 310)] },
      { time: c.exploitTime, technique: 'T1190', src: c.attacker, dst: c.web, text: { en: 'Spring Framework RCE writes xxx.jsp', zh: '利用 Spring Framework RCE 写入 xxx.jsp' }, findings: ['net.exploit-1'], evidence: [frm(E, 20411)] },
      { time: '2024-05-20T02:15:02.000Z', technique: 'T1505.003', src: c.attacker, dst: c.web, text: { en: 'Webshell used', zh: 'WebShell 被访问执行命令' }, findings: ['net.webshell-1'], evidence: [frm(E, 20502)] },
      { time: '2024-05-20T02:20:00.000Z', technique: 'T1071.001', src: c.web, dst: c.c2, text: { en: 'First beacon to the CS server', zh: '首次回连 CS 服务端' }, findings: ['net.beacon-1'], evidence: [frm(E, 21000)] },
      { time: '2024-05-20T02:31:00.000Z', technique: 'T1046', src: c.web, text: { en: 'SMB sweep of 80.66.1.0/24', zh: '对 80.66.1.0/24 网段进行 SMB 扫描' }, findings: ['net.sweep-1'], evidence: [frm(E, 30001)] },
      { time: c.smbTime, technique: 'T1021.002', src: c.web, dst: c.second, text: { en: 'SMB logon to 80.66.1.5 succeeds', zh: 'SMB 认证登录 80.66.1.5 成功' }, findings: ['net.smb-auth-1'], evidence: [frm(E, 31877)] },
      { time: '2024-05-20T02:45:00.000Z', technique: 'T1071.001', src: c.second, dst: c.c2, text: { en: '80.66.1.5 beacons to the same C2', zh: '80.66.1.5 回连同一 C2' }, findings: ['net.beacon-2'], evidence: [frm(E, 32010)] },
    ],
    steps: [
      { title: { en: 'Outbound connections of the application server', zh: '排查应用服务器外联' }, query: `src=${c.web} !dst in home_nets`, found: { en: `Periodic connections to ${c.c2}`, zh: `存在向 ${c.c2} 的周期性异常外联` }, findings: ['net.beacon-1'], evidence: [frm(E, 21000)] },
      { title: { en: 'Who attacked it', zh: '以应用服务器为目的地址寻找攻击主机' }, query: `dst=${c.web}`, found: { en: `${c.attacker} scanned it with a vulnerability scanner`, zh: `${c.attacker} 使用扫描器对其进行扫描` }, findings: ['net.scan-1'], evidence: [frm(E, 310)] },
      { title: { en: 'Exploitation', zh: '漏洞利用' }, query: `dst=${c.web} http.request.method=POST`, found: { en: 'Spring Framework RCE wrote xxx.jsp', zh: '攻击者利用 Spring Framework 漏洞写入恶意文件 xxx.jsp' }, findings: ['net.exploit-1', 'net.webshell-1'], evidence: [frm(E, 20411), frm(E, 20502)], excerpts: ['POST /?class.module.classLoader.resources.context.parent.pipeline.first.suffix=.jsp HTTP/1.1'] },
      { title: { en: 'Lateral movement from the compromised server', zh: '以失陷主机为源地址寻找横向移动' }, query: `src=${c.web} dport=445`, found: { en: `Sweep of 80.66.1.0/24 and an SMB logon success to ${c.second}`, zh: `对 80.66.1.0/24 段扫描，并成功 SMB 登录 ${c.second}` }, findings: ['net.sweep-1', 'net.smb-auth-1'], evidence: [frm(E, 30001), frm(E, 31877)] },
      { title: { en: 'The second host', zh: '排查第二台失陷主机' }, query: `src=${c.second}`, found: { en: `Cobalt Strike traffic to ${c.c2}`, zh: `发现典型 CS 通讯流量，外联目标同为 ${c.c2}` }, findings: ['net.beacon-2'], evidence: [frm(E, 32010)] },
    ],
    root_cause: {
      en: `${c.attacker} found and exploited a Spring Framework RCE on ${c.web}, wrote the webshell xxx.jsp, then used the server to sweep 80.66.1.0/24 and log on to ${c.second} over SMB; both hosts beacon to the C2 ${c.c2}.`,
      zh: `攻击者 ${c.attacker} 对 ${c.web} 进行漏洞扫描，发现 Spring Framework RCE 漏洞并利用成功，写入恶意文件 xxx.jsp；随后利用 ${c.web} 对 80.66.1.0/24 段进行 SMB 扫描，成功登录 ${c.second}。两台主机先后与 C2 服务器 ${c.c2} 建立通信。`,
    },
    iocs: { ips: [c.attacker, c.c2], domains: ['update.example-cdn.com'], urls: [`http://${c.web}:8080${c.shell}`], files: ['xxx.jsp'], hashes: [], accounts: ['administrator'] },
    recommendations: [
      { action: 'block-ip', target: c.attacker, text: { en: 'Block the attacker address on the firewall and IDS', zh: '在防火墙、IDS 等安全设备上封禁攻击 IP' }, findings: ['net.exploit-1'], priority: 'immediate' },
      { action: 'block-ip', target: c.c2, text: { en: 'Block the C2 address', zh: '封禁 C2 地址' }, findings: ['net.beacon-1'], priority: 'immediate' },
      { action: 'isolate-host', target: c.web, text: { en: 'Isolate the compromised host and look for further intrusion', zh: '对失陷主机进行网络隔离，排查入侵痕迹和内网横向情况' }, findings: ['net.webshell-1'], priority: 'immediate' },
      { action: 'isolate-host', target: c.second, text: { en: 'Isolate the second compromised host', zh: '对失陷主机进行网络隔离并排查' }, findings: ['net.smb-auth-1'], priority: 'immediate' },
      { action: 'patch', target: `${c.web}: Spring Framework (CVE-2022-22965)`, text: { en: 'Patch the Spring Framework RCE', zh: '修复 Spring Framework RCE 漏洞' }, findings: ['net.exploit-1'], priority: 'short-term' },
      { action: 'disable-service', target: `${c.second}:445/tcp`, text: { en: 'Close SMB or change the passwords', zh: '及时关闭 SMB 服务或更改口令' }, findings: ['net.smb-auth-1'], priority: 'short-term' },
    ],
    findings: findings.map((f) => f.id),
  };
  return {
    schema: 'spoor.incident/1',
    case: { id: 'case2-spring', created: '2024-05-21T01:00:00.000Z', home_nets: ['80.66.1.0/24'], tz: 'Asia/Shanghai', spoor_version: '0.1.0', alert: { kind: 'outbound', src: c.web, dst: c.c2, text: '业务部门告警：应用服务器存在异常外联' } },
    evidence: [{ id: E, path: '/cases/c2/drill.pcap', sha256: sha('c2'), size: 512_000_000, format: 'pcap', records: 1_204_331, errors: 1, first: '2024-05-20T01:00:00.000Z', last: '2024-05-20T04:00:00.000Z' }],
    skipped: [],
    problems: [{ evidence: E, offset: 400_000_004, reason: 'truncated packet record (caplen 1514 > remaining 12)', severity: 'warning' }],
    problems_total: 1,
    findings,
    incidents: [inc],
  };
}

/** Attack strings used by the hostile fixture. */
export const HOSTILE = {
  script: '<script>alert(1)</script>',
  img: '<img src=x onerror=alert(2)>',
  mdLink: '[click me](javascript:alert(3))',
  mdImage: '![x](https://evil.example/t.png)',
  formula: "=cmd|' /C calc'!A0",
  plusFormula: '+HYPERLINK("https://evil.example","x")',
  ansi: '\u001b[31mRED\u001b[0m\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007',
  pipe: 'a | b | c',
  backticks: '```` `x` ````',
  bidi: 'invoice\u202egnp.exe',
  url: 'https://evil.example/payload?a=<b>&c="d"',
};

/** Case 2 with attacker-controlled strings in user names, URIs, user agents, file names, excerpts. */
export function buildHostile(): IncidentFile {
  const f = buildCase2();
  const H = HOSTILE;
  const inc = f.incidents[0];
  f.case.alert = { kind: 'outbound', text: `${H.script} ${H.pipe} ${H.mdLink}` };
  f.evidence.push({ id: 'E2', path: `/cases/c2/${H.img}${H.formula}.evtx`, sha256: 'a'.repeat(64), size: 1, format: 'evtx', records: 1, errors: 0, first: null, last: null });
  f.findings.push({
    id: 'host.hostile-1',
    detector: 'host.logon',
    attack: ['T1078'],
    severity: 'high',
    outcome: 'succeeded',
    confidence: 0.8,
    first: '2024-05-20T03:00:00.000Z',
    last: '2024-05-20T03:00:00.000Z',
    src: CASE2.attacker,
    user: `${H.formula}${H.script}`,
    host: H.ansi,
    summary: { en: `logon by ${H.formula} with UA ${H.ansi} ${H.mdImage}`, zh: `用户 ${H.formula} 登录 ${H.mdLink} ${H.ansi}` },
    evidence: [{ evidence: 'E2', record: 1 }],
    facts: { 'user_agent.original': `${H.script}${H.ansi}`, 'url.original': H.mdLink },
  });
  inc.findings.push('host.hostile-1');
  inc.steps.push({
    title: { en: `User ${H.script}`, zh: `用户 ${H.mdLink}` },
    query: `user.name="${H.backticks}${H.pipe}"`,
    found: { en: `UA ${H.ansi} requested ${H.url} ${H.mdImage}`, zh: `UA ${H.ansi} 请求 ${H.url}` },
    findings: ['host.hostile-1'],
    evidence: [{ evidence: 'E2', record: 1 }],
    excerpts: [`</pre>${H.script}\n\`\`\`\n# heading\n${H.ansi}\n${H.bidi}`],
  });
  inc.timeline.push({ time: '2024-05-20T03:00:00.000Z', technique: 'T1078', host: H.img, text: { en: `${H.pipe} ${H.script}`, zh: `${H.pipe} ${H.mdLink}` }, findings: ['host.hostile-1'], evidence: [{ evidence: 'E2', record: 1 }] });
  inc.iocs.urls.push(H.url, H.mdLink);
  inc.iocs.files.push(H.formula, H.bidi, H.script);
  inc.iocs.accounts.push(`${H.formula}`, H.ansi);
  inc.iocs.domains.push('www.evil.example');
  inc.hosts.push({ host: H.script, role: 'targeted', internal: true, confidence: 0.3, because: [] });
  inc.chain.push({ from: CASE2.attacker, to: H.script, kind: H.img, technique: 'T1078', time: '2024-05-20T03:00:00.000Z', findings: ['host.hostile-1'], confidence: 0.3 });
  inc.recommendations.push({ action: 'reset-credentials', target: H.formula, text: { en: `Reset ${H.script}`, zh: `重置 ${H.mdLink}` }, findings: ['host.hostile-1'], priority: 'immediate' });
  // An attacker "address" that is not an address must never reach a firewall rule.
  inc.attackers.push(`1.2.3.4; rm -rf / #`);
  f.skipped.push({ path: `/x/${H.ansi}.bin`, reason: H.script });
  f.problems.push({ evidence: 'E2', record: 7, reason: `${H.ansi} bad ${H.script}`, severity: 'error' });
  f.problems_total = f.problems.length;
  return f;
}
