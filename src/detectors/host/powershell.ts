/**
 * host.powershell — suspicious PowerShell content (T1059.001 and what the
 * script does): script blocks (Microsoft-Windows-PowerShell 4104), module
 * logging (4103 Payload/ContextInfo), Windows PowerShell engine/pipeline
 * events (400/403/600/800, HostApplication and pipeline text), and the
 * command lines of powershell.exe/pwsh.exe processes (Security 4688, Sysmon 1;
 * encoded commands and download cradles there are left to host.execution).
 *
 * Rules match lower-cased text only (attacker-controlled, never evaluated);
 * at most `maxChars` characters of each record are examined. One finding per
 * (host, rule) with counts, first/last and a few distinct excerpts.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding, Severity } from '../../core/finding.js';
import { hostDetector } from './base.js';
import { HitAggregator } from './hits.js';
import type { HostState } from './state.js';
import { baseName, code, ed, field, isSecurity, isSysmon, provider } from './util.js';

export const ID = 'host.powershell';
/** Event codes this detector examines (the rest only feed the shared state). */
const CODES: ReadonlySet<string> = new Set(['4104', '4103', '400', '403', '600', '800', '4100', '4688', '1']);
export const POWERSHELL_DEFAULTS = {
  /** Characters of each record examined. */
  maxChars: 32_768,
  /** Report discovery cmdlets (AD module, ADSI searches) as low findings. */
  discovery: true,
};

/** Context lines of engine/provider events that carry the command or the engine version. */
const ENGINE_LINES = /^\s*(HostApplication|EngineVersion|CommandLine)=.*$/gm;
const PS_PROVIDERS = new Set(['Microsoft-Windows-PowerShell', 'PowerShell', 'Microsoft-Windows-PowerShell-Core', 'PowerShellCore']);

interface PsRule {
  rule: string;
  attack: string[];
  severity: Severity;
  en: string;
  zh: string;
  re: RegExp;
  /** Not applied to process command lines (host.execution covers them). */
  scriptOnly?: boolean;
  discovery?: boolean;
}

const P = (rule: string, attack: string[], severity: Severity, en: string, zh: string, re: RegExp, o: Partial<PsRule> = {}): PsRule => ({ rule, attack, severity, en, zh, re, ...o });

export const PS_RULES: PsRule[] = [
  P('ps-mimikatz', ['T1059.001', 'T1003.001'], 'critical', 'Mimikatz in PowerShell', 'PowerShell 中运行 Mimikatz', /invoke-mimikatz|sekurlsa::|lsadump::|kerberos::(golden|ptt)|dumpcreds|invoke-(dcsync|ninjacopy)|out-minidump/),
  P('ps-amsi-bypass', ['T1059.001', 'T1562.001'], 'high', 'AMSI bypass', '绕过 AMSI', /amsiutils|amsiinitfailed|amsiscanbuffer|amsicontext|amsi\.dll/),
  P('ps-reflection', ['T1059.001', 'T1620', 'T1055'], 'high', 'in-memory code loading / injection', '内存加载或注入代码', /\[(system\.)?reflection\.assembly\]::load(\(|file)|virtualalloc|getdelegateforfunctionpointer|getprocaddress|createremotethread|writeprocessmemory|invoke-(shellcode|reflectivepeinjection|dllinjection)|definedynamicassembly/),
  P('ps-download', ['T1059.001', 'T1105'], 'high', 'download cradle', '下载执行（download cradle）', /(net\.webclient|downloadstring|downloadfile|downloaddata|invoke-webrequest|\biwr\s+(-uri\s+)?["']?https?:|invoke-restmethod\s+["']?https?:|start-bitstransfer|msxml2\.xmlhttp|winhttp\.winhttprequest)/, { scriptOnly: true }),
  P('ps-encoded', ['T1059.001', 'T1027', 'T1140'], 'medium', 'encoded or compressed payload', '编码或压缩的载荷', /frombase64string|\s-e(nc|ncodedcommand)?\s+[a-z0-9+/=]{40,}|io\.compression\.(gzipstream|deflatestream)|-bxor\s*\d+|(\[char\]\s*\d+\s*[+,)]\s*(\[char\]|\+|-join|\()?\s*){8}/, { scriptOnly: true }),
  P('ps-offensive', ['T1059.001'], 'high', 'offensive PowerShell framework', '攻击性 PowerShell 框架', /powersploit|invoke-(tokenmanipulation|smbexec|wmiexec|thehash|psinject|runas|portscan|sharefinder|userhunter|stealthuserhunter|filefinder|bloodhound|kerberoast|allchecks|powerdump|credentialinjection)|get-gpppassword|get-keystrokes|get-timedscreenshot|powercat|nishang|empire|invoke-obfuscation|find-localadminaccess/),
  P('ps-kerberoast', ['T1558.003'], 'high', 'Kerberoasting from PowerShell', 'PowerShell Kerberoasting', /invoke-kerberoast|kerberosrequestorsecuritytoken|requestserviceticket/),
  P('ps-wmi-subscription', ['T1546.003'], 'high', 'WMI event subscription created', '创建 WMI 事件订阅', /(__eventfilter|commandlineeventconsumer|activescripteventconsumer|__filtertoconsumerbinding|register-wmievent\s+[-$'"\w])/),
  P('ps-service', ['T1543.003'], 'medium', 'service created or changed from PowerShell', 'PowerShell 创建或修改服务', /new-service\s|set-service\s.*-binarypathname|sc(\.exe)?\s+(\\\\\S+\s+)?(create|config|failure)\s/),
  P('ps-task', ['T1053.005'], 'medium', 'scheduled task registered from PowerShell', 'PowerShell 注册计划任务', /register-scheduledtask|new-scheduledtaskaction|schtasks(\.exe)?\s+\/create/),
  P('ps-runkey', ['T1547.001'], 'high', 'Run key written from PowerShell', 'PowerShell 写入 Run 启动项', /(new|set)-itemproperty.*currentversion\\run/),
  P('ps-bits', ['T1197'], 'medium', 'BITS job from PowerShell', 'PowerShell 创建 BITS 任务', /start-bitstransfer|add-bitsfile|bitsadmin(\.exe)?\s+\/(create|addfile|setnotifycmdline)/),
  P('ps-defender', ['T1562.001'], 'high', 'Defender or firewall weakened from PowerShell', 'PowerShell 关闭 Defender 或防火墙', /set-mppreference\s.*(-disable\w+\s+(\$?true|1)|-enablecontrolledfolderaccess\s+disabled|-puaprotection\s+(disabled?|0)|-\w+threatdefaultaction\s+(allow|6|9))|add-mppreference\s.*-exclusion|set-netfirewallprofile\s.*-enabled\s+(\$?false|0)/),
  P('ps-clear-log', ['T1070.001'], 'high', 'event log cleared from PowerShell', 'PowerShell 清除事件日志', /(clear-eventlog|remove-eventlog)\s+[-$'"\w]|wevtutil(\.exe)?\s+cl\s|\.clearlog\(/),
  P('ps-dcom', ['T1021.003'], 'high', 'DCOM remote execution from PowerShell', 'PowerShell 通过 DCOM 远程执行', /gettypefromprogid\(["'](mmc20\.application|shell\.application|excel\.application)["']\s*,\s*["']?[^"')]+|gettypefromclsid\(["']?(9ba05972-f6a8-11cf-a442-00a0c90a8f39|c08afd90-f2a1-11d1-8455-00a0c91f3880)/),
  P('ps-remoting', ['T1021.006'], 'medium', 'PowerShell remoting to another computer', 'PowerShell 远程连接其他计算机', /(invoke-command|enter-pssession|new-pssession)\s.*-computername\s/),
  P('ps-ssh-server', ['T1021.004'], 'medium', 'OpenSSH server installed', '安装 OpenSSH 服务端', /add-windowscapability.*openssh\.server|start-service\s+sshd/),
  P('ps-downgrade', ['T1562.010'], 'high', 'PowerShell version 2 engine started (downgrade, no script block logging)', '启动 PowerShell 2.0 引擎（降级攻击，绕过脚本块日志）', /engineversion=2\.0|\s-v(ersion)?\s+2(\.0)?(\s|$)/),
  P('ps-hidden', ['T1059.001', 'T1564.003'], 'low', 'hidden, non-interactive PowerShell', '隐藏窗口运行 PowerShell', /-w(indowstyle)?\s+hidden|-noni(nteractive)?\s.*-nop|-nop\s.*-noni/, { scriptOnly: true }),
  P('ps-ad-discovery', ['T1087.002', 'T1069.002'], 'low', 'Active Directory discovery from PowerShell', 'PowerShell 查询活动目录', /get-ad(user|group|groupmember|computer|domain|trust|forest|object)\b|\[adsisearcher\]|directoryservices\.directorysearcher|get-net(user|group|computer|domain|session|localgroup|loggedon)|get-domain(user|group|computer|trust)|serviceprincipalname=|activedirectory\.(forest|domain)\]::getcurrent/, { discovery: true }),
  P('ps-local-discovery', ['T1069.001', 'T1087.001'], 'low', 'local account or group discovery from PowerShell', 'PowerShell 查询本地账户或组', /get-local(user|group|groupmember)\b|win32_(useraccount|group)\b/, { discovery: true }),
  P('ps-printer-port', ['T1068'], 'high', 'printer port set to a file path (spooler privilege escalation)', '打印端口指向文件（打印服务提权）', /add-printerport\s.*-name\s+["']?[a-z]:\\/),
];

/**
 * Literal pre-check per rule: every match of the rule's regex contains at least
 * one of these strings (checked with indexOf on the lower-cased text before the
 * regex runs; large script blocks make the regexes the dominant cost). A rule
 * without an entry always runs its regex.
 */
const PS_LITERALS: Record<string, readonly string[]> = {
  'ps-mimikatz': ['invoke-', 'sekurlsa::', 'lsadump::', 'kerberos::', 'dumpcreds', 'out-minidump'],
  'ps-amsi-bypass': ['amsi'],
  'ps-reflection': ['reflection.assembly]::load', 'virtualalloc', 'getdelegateforfunctionpointer', 'getprocaddress', 'createremotethread', 'writeprocessmemory', 'invoke-', 'definedynamicassembly'],
  'ps-download': ['net.webclient', 'download', 'invoke-webrequest', 'iwr', 'invoke-restmethod', 'start-bitstransfer', 'msxml2.xmlhttp', 'winhttp.winhttprequest'],
  'ps-encoded': ['frombase64string', '-e', 'io.compression.', '-bxor', '[char]'],
  'ps-offensive': ['powersploit', 'invoke-', 'get-gpppassword', 'get-keystrokes', 'get-timedscreenshot', 'powercat', 'nishang', 'empire', 'find-localadminaccess'],
  'ps-kerberoast': ['invoke-kerberoast', 'kerberosrequestorsecuritytoken', 'requestserviceticket'],
  'ps-wmi-subscription': ['__eventfilter', 'commandlineeventconsumer', 'activescripteventconsumer', '__filtertoconsumerbinding', 'register-wmievent'],
  'ps-service': ['new-service', '-binarypathname', 'create', 'config', 'failure'],
  'ps-task': ['register-scheduledtask', 'new-scheduledtaskaction', '/create'],
  'ps-runkey': ['currentversion\\run'],
  'ps-bits': ['start-bitstransfer', 'add-bitsfile', 'bitsadmin'],
  'ps-defender': ['set-mppreference', 'add-mppreference', 'set-netfirewallprofile'],
  'ps-clear-log': ['clear-eventlog', 'remove-eventlog', 'wevtutil', '.clearlog('],
  'ps-dcom': ['gettypefromprogid(', 'gettypefromclsid('],
  'ps-remoting': ['-computername'],
  'ps-ssh-server': ['openssh.server', 'sshd'],
  'ps-downgrade': ['engineversion=2', '-v'],
  'ps-hidden': ['hidden', '-noni'],
  'ps-ad-discovery': ['get-ad', '[adsisearcher]', 'directorysearcher', 'get-net', 'get-domain', 'serviceprincipalname=', 'activedirectory.'],
  'ps-local-discovery': ['get-local', 'win32_useraccount', 'win32_group'],
  'ps-printer-port': ['add-printerport'],
};

/** All literals, longest first, in one alternation: one left-to-right pass finds which occur. */
const ALL_LITERALS = [...new Set(Object.values(PS_LITERALS).flat())].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
const LITERAL_RE = new RegExp(ALL_LITERALS.map((x) => x.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|'), 'g');

/**
 * Literals present in `lower`. Every position is tried (the scan resumes one
 * character after each match), and at a position the longest literal wins, so
 * a literal occurs iff it is a prefix of some reported match.
 */
function presentLiterals(lower: string): Set<string> {
  const found = new Set<string>();
  LITERAL_RE.lastIndex = 0;
  for (let m = LITERAL_RE.exec(lower); m; m = LITERAL_RE.exec(lower)) {
    found.add(m[0]);
    LITERAL_RE.lastIndex = m.index + 1;
  }
  const present = new Set<string>();
  for (const f of found) for (const x of ALL_LITERALS) if (x.length <= f.length && f.startsWith(x)) present.add(x);
  return present;
}

function mayMatch(rule: string, present: Set<string>): boolean {
  const lits = PS_LITERALS[rule];
  if (!lits) return true;
  for (const x of lits) if (present.has(x)) return true;
  return false;
}

/** Match PowerShell text against the rules; `process` restricts to rules that apply to command lines. */
export function matchPowerShell(text: string, opts: { process?: boolean; discovery?: boolean } = {}): { rule: PsRule; excerpt: string }[] {
  const l = text.toLowerCase();
  const out: { rule: PsRule; excerpt: string }[] = [];
  const present = presentLiterals(l);
  for (const r of PS_RULES) {
    if (opts.process && r.scriptOnly) continue;
    if (r.discovery && opts.discovery === false) continue;
    if (!mayMatch(r.rule, present)) continue;
    const m = r.re.exec(l);
    if (!m) continue;
    const a = Math.max(0, m.index - 60);
    out.push({ rule: r, excerpt: text.slice(a, m.index + m[0].length + 80).replace(/\s+/g, ' ').trim() });
  }
  return out;
}

export const powershell: DetectorModule = {
  id: ID,
  title: { en: 'Suspicious PowerShell', zh: '可疑 PowerShell' },
  attack: [...new Set(PS_RULES.flatMap((r) => r.attack))],
  defaults: { ...POWERSHELL_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...POWERSHELL_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof POWERSHELL_DEFAULTS;
    const agg = new HitAggregator(ID);
    // PowerShell logs repeat the same text (pipeline events, re-run scripts): match each distinct text once.
    const caches = [new Map<string, ReturnType<typeof matchPowerShell>>(), new Map<string, ReturnType<typeof matchPowerShell>>()];
    const report = (e: SpoorEvent, state: HostState, text: string, source: string, user: string, isProcess: boolean) => {
      if (!text) return;
      const t = text.length > cfg.maxChars ? text.slice(0, cfg.maxChars) : text;
      const cache = caches[isProcess ? 1 : 0];
      let matches = cache.get(t);
      if (!matches) {
        matches = matchPowerShell(t, { process: isProcess, discovery: cfg.discovery });
        if (cache.size >= 1024) cache.clear();
        cache.set(t, matches);
      }
      for (const { rule, excerpt } of matches) {
        agg.add(e, state, { rule: rule.rule, attack: rule.attack, severity: rule.severity, en: rule.en, zh: rule.zh, subject: source, key: rule.rule, detail: excerpt, facts: { source, eventId: code(e) } }, user);
      }
    };
    return hostDetector(ctx, ID, {
      codes: CODES,
      observe(e: SpoorEvent, state: HostState) {
        const c = code(e);
        const p = provider(e);
        if (PS_PROVIDERS.has(p) || /powershell/i.test((e['winlog.channel'] as string) ?? '')) {
          if (c === '4104') return report(e, state, field(e, 'ScriptBlockText'), 'script block (4104)', '', false);
          if (c === '4103') return report(e, state, field(e, 'Payload') + '\n' + field(e, 'ContextInfo'), 'module logging (4103)', '', false);
          if (c === '400' || c === '403' || c === '600' || c === '800' || c === '4100') {
            // Engine/provider events repeat the same context with new sequence numbers: only the
            // host application line (and, for 800, the pipeline text) can differ meaningfully.
            const d = ed(e);
            let text = '';
            for (const v of Object.values(d)) {
              if (typeof v !== 'string' || !v) continue;
              const ctxAt = v.search(/\s(NewEngineState|NewProviderState|DetailSequence|ProviderName)=/);
              const head = ctxAt >= 0 ? v.slice(0, ctxAt) : v;
              if ((c === '800' || c === '4100') && head.trim()) text += head + '\n';
              for (const m of v.matchAll(ENGINE_LINES)) text += m[0].trim() + '\n';
            }
            return report(e, state, text, `PowerShell engine (${c})`, '', false);
          }
          return;
        }
        let image = '';
        let cmd = '';
        let user = '';
        if (isSecurity(e) && c === '4688') {
          image = field(e, 'NewProcessName');
          cmd = field(e, 'CommandLine');
          user = field(e, 'SubjectUserName');
        } else if (isSysmon(e) && c === '1') {
          image = field(e, 'Image');
          cmd = field(e, 'CommandLine');
          user = field(e, 'User');
        } else return;
        if (!cmd || !/^(powershell(_ise)?|pwsh)\.exe$/.test(baseName(image))) return;
        report(e, state, cmd, 'powershell.exe command line', user, true);
      },
      finish(state: HostState): Finding[] {
        return agg.findings(state);
      },
    });
  },
};
