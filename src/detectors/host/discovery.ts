/**
 * host.discovery — the attacker looking around (TA0007):
 *  - discovery commands (Security 4688, Sysmon 1): whoami, net user/group/
 *    localgroup/view/share/session, nltest, systeminfo, ipconfig, netstat,
 *    tasklist, quser, arp, route, setspn, dsquery, adfind, auditpol /get,
 *    netsh show, schtasks /query, reg query, wmic queries ... each low; a
 *    *burst* (≥ `burstCommands` distinct commands within `burstWindowMs` in one
 *    logon session, or under one parent when there is no logon id) is medium,
 *    high when the session came from a brute-force or external source;
 *  - group and account enumeration by a process (4798/4799 with a caller
 *    other than the usual system components);
 *  - SAM enumeration (4661 on SAM_USER/SAM_GROUP/SAM_ALIAS/SAM_DOMAIN by a
 *    non-machine account: sensitive groups, or ≥ `samObjects` objects);
 *  - remote RPC enumeration pipes (5145 IPC$ samr, lsarpc, srvsvc, wkssvc,
 *    winreg from a remote address, ≥ 2 distinct: BloodHound/NetSessionEnum,
 *    PsLoggedOn).
 */
import type { SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { hostDetector } from './base.js';
import { HitAggregator } from './hits.js';
import type { HostState } from './state.js';
import { baseName, code, field, hostKey, hostOf, isLoopback, isMachineAccount, isSecurity, isSysmon, normIp, normLogonId } from './util.js';

export const ID = 'host.discovery';
/** Event codes this detector examines (the rest only feed the shared state). */
const CODES: ReadonlySet<string> = new Set(['1', '4688', '4798', '4799', '4661', '5145']);
export const DISCOVERY_DEFAULTS = {
  burstCommands: 3,
  burstWindowMs: 10 * 60_000,
  /** Distinct SAM objects opened by one session that make an enumeration. */
  samObjects: 10,
  /** Report single discovery commands (low). */
  single: true,
};

interface DiscoveryCmd {
  name: string;
  attack: string[];
  re: RegExp;
}

const D = (name: string, attack: string[], re: RegExp): DiscoveryCmd => ({ name, attack, re });

/** Matched against "<image base name> <lower-case command line>". */
export const DISCOVERY_COMMANDS: DiscoveryCmd[] = [
  D('whoami', ['T1033'], /^whoami\.exe/),
  D('net user', ['T1087.001'], /^net1?\.exe .*\buser\b(?!.*\/(add|del))/),
  D('net group', ['T1069.002'], /^net1?\.exe .*\bgroup\b(?!.*\/(add|del))/),
  D('net localgroup', ['T1069.001'], /^net1?\.exe .*\blocalgroup\b(?!.*\/(add|del))/),
  D('net view', ['T1018', 'T1135'], /^net1?\.exe .*\bview\b/),
  D('net share', ['T1135'], /^net1?\.exe .*\bshare\b(?!.*=)/),
  D('net session', ['T1049'], /^net1?\.exe .*\b(session|use)\s*$/),
  D('net accounts', ['T1201'], /^net1?\.exe .*\baccounts\b(?!.*\/(maxpwage|minpwlen|uniquepw))/),
  D('net config', ['T1016'], /^net1?\.exe .*\bconfig\b/),
  D('nltest', ['T1482', 'T1018'], /^nltest\.exe .*\/(dclist|dsgetdc|domain_trusts|trusted_domains|all_trusts|dcname)/),
  D('systeminfo', ['T1082'], /^systeminfo\.exe/),
  D('hostname', ['T1082'], /^hostname\.exe/),
  D('ipconfig', ['T1016'], /^ipconfig\.exe .*\/(all|displaydns)/),
  D('netstat', ['T1049'], /^netstat\.exe .*-[a-z]*[ano]/),
  D('tasklist', ['T1057'], /^tasklist\.exe/),
  D('quser', ['T1033'], /^(quser|qwinsta|query)\.exe/),
  D('arp', ['T1018'], /^arp\.exe .*-a/),
  D('route print', ['T1016'], /^route\.exe .*print/),
  D('setspn', ['T1087.002', 'T1558.003'], /^setspn\.exe .*-[qtl]\b/),
  D('dsquery', ['T1087.002'], /^(dsquery|adfind|dsget)\.exe/),
  D('auditpol get', ['T1082'], /^auditpol\.exe .*\/get/),
  D('netsh show', ['T1016'], /^netsh\.exe .*\b(show|dump)\b/),
  D('schtasks query', ['T1082'], /^schtasks\.exe .*\/query/),
  D('sc query', ['T1007'], /^sc\.exe .*\b(query|qc|queryex)\b/),
  D('reg query', ['T1012'], /^reg\.exe .*\bquery\b/),
  D('wmic query', ['T1047', 'T1082'], /^wmic\.exe .*\b(useraccount|group|qfe|process|service|computersystem|os|share|startup|product|nicconfig|logicaldisk|ntdomain)\b.*\b(get|list)\b/),
  D('nslookup', ['T1018'], /^nslookup\.exe/),
  D('klist', ['T1558'], /^klist\.exe/),
  D('ping sweep', ['T1018'], /^ping\.exe .*-n\s+1\b/),
  D('dnscmd enum', ['T1018'], /^dnscmd\.exe .*\/(enumzones|enumrecords|zoneprint)/),
];

/** Image names the commands above start with (each regex is anchored on `<name>.exe`). */
const DISCOVERY_IMAGES = new Set(['whoami', 'net', 'net1', 'nltest', 'systeminfo', 'hostname', 'ipconfig', 'netstat', 'tasklist', 'quser', 'qwinsta', 'query', 'arp', 'route', 'setspn', 'dsquery', 'adfind', 'dsget', 'auditpol', 'netsh', 'schtasks', 'sc', 'reg', 'wmic', 'nslookup', 'klist', 'ping', 'dnscmd'].map((n) => n + '.exe'));

export function discoveryCommand(image: string, cmd: string): DiscoveryCmd | null {
  const name = baseName(image || cmd.trim().split(/\s+/)[0] || '');
  // a plain "<x>.exe" that is none of the commands cannot match: leave before building the text
  if (name.indexOf('.exe') === name.length - 4 && !DISCOVERY_IMAGES.has(name)) return null;
  const s = name + ' ' + cmd.toLowerCase();
  for (const d of DISCOVERY_COMMANDS) if (d.re.test(s)) return d;
  return null;
}

const NORMAL_CALLERS = /\\(svchost|lsass|services|vssvc|mmc|explorer|wininit|winlogon|searchindexer|taskhostw|dllhost|consent|logonui|sihost|compattelrunner|musnotification|systemsettings|msiexec|wmiprvse|trustedinstaller|tiworker)\.exe$/i;
const SENSITIVE_SAM = /-(500|502|512|516|518|519|520|544|548|549|551)\b|domain admins|enterprise admins|schema admins|administrators|krbtgt/i;

export const discovery: DetectorModule = {
  id: ID,
  title: { en: 'Discovery', zh: '信息收集' },
  attack: ['T1033', 'T1087', 'T1069', 'T1018', 'T1135', 'T1049', 'T1082', 'T1016', 'T1057', 'T1482', 'T1201', 'T1012', 'T1007'],
  defaults: { ...DISCOVERY_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...DISCOVERY_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof DISCOVERY_DEFAULTS;
    const agg = new HitAggregator(ID);
    const bursts = new Map<string, { q: { t: number; name: string }[]; reported: number }>();
    const sam = new Map<string, Set<string>>();
    const pipes = new Map<string, Set<string>>();
    const onProcess = (e: SpoorEvent, state: HostState, image: string, cmd: string, user: string, groupKey: string) => {
      const d = discoveryCommand(image, cmd);
      if (!d) return;
      if (cfg.single) agg.add(e, state, { rule: 'discovery-command', attack: d.attack, severity: 'low', en: 'discovery command', zh: '信息收集命令', subject: d.name, key: 'cmd|' + d.name, detail: cmd || image, confidence: 0.4, facts: { command: d.name } }, user);
      const k = hostKey(hostOf(e)) + '|' + groupKey;
      let b = bursts.get(k);
      if (!b) {
        if (bursts.size > 20_000) return;
        bursts.set(k, (b = { q: [], reported: 0 }));
      }
      const ts = e['@timestamp'];
      b.q.push({ t: ts, name: d.name });
      while (b.q.length && (b.q[0].t < ts - cfg.burstWindowMs || b.q.length > 200)) b.q.shift();
      const distinct = new Set(b.q.map((x) => x.name));
      if (distinct.size >= cfg.burstCommands) {
        const all = [...distinct];
        agg.add(e, state, { rule: 'discovery-burst', attack: ['T1087', 'T1082', 'T1016'], severity: 'medium', en: `burst of discovery commands (${all.length} different within ${Math.round(cfg.burstWindowMs / 60_000)} min)`, zh: `短时间内连续执行多条信息收集命令（${Math.round(cfg.burstWindowMs / 60_000)} 分钟内 ${all.length} 种）`, subject: all.slice(0, 8).join(', '), key: 'burst|' + groupKey, detail: cmd || image, confidence: 0.7, facts: { commands: all } }, user);
      }
    };
    return hostDetector(ctx, ID, {
      codes: CODES,
      observe(e: SpoorEvent, state: HostState) {
        const c = code(e);
        if (isSysmon(e)) {
          if (c === '1') {
            const lid = normLogonId(field(e, 'LogonId'));
            onProcess(e, state, field(e, 'Image'), field(e, 'CommandLine'), field(e, 'User'), lid && lid !== '0x3e7' ? 'L' + lid : 'P' + (field(e, 'ParentProcessGuid') || field(e, 'ParentImage')).toLowerCase());
          }
          return;
        }
        if (!isSecurity(e)) return;
        if (c === '4688') {
          const lid = normLogonId(field(e, 'SubjectLogonId'));
          onProcess(e, state, field(e, 'NewProcessName'), field(e, 'CommandLine'), field(e, 'SubjectUserName'), lid && lid !== '0x3e7' ? 'L' + lid : 'P' + (field(e, 'ProcessId') || field(e, 'ParentProcessName')).toLowerCase());
          return;
        }
        if (c === '4798' || c === '4799') {
          const caller = field(e, 'CallerProcessName');
          const subj = field(e, 'SubjectUserName');
          if (isMachineAccount(subj) || (caller && NORMAL_CALLERS.test(caller))) return;
          const sess = state.sessions.sessionOf(e);
          const remote = !caller && !!sess?.src;
          if (!caller && !remote) return;
          agg.add(e, state, { rule: c === '4799' ? 'group-enumeration' : 'account-enumeration', attack: c === '4799' ? ['T1069.001'] : ['T1087.001'], severity: /\\(net1?|powershell|pwsh|cmd|wmic|whoami)\.exe$/i.test(caller) || remote ? 'medium' : 'low', en: c === '4799' ? 'local group membership enumerated' : 'local account group membership enumerated', zh: c === '4799' ? '枚举本地组成员' : '枚举本地账户所属组', subject: `${field(e, 'TargetUserName')} by ${caller ? baseName(caller) : 'a remote session'}`, key: `${c}|${caller.toLowerCase()}`, detail: caller || `session from ${sess?.src}`, facts: { caller, target: field(e, 'TargetUserName') } }, subj);
          return;
        }
        if (c === '4661') {
          const subj = field(e, 'SubjectUserName');
          const type = field(e, 'ObjectType');
          if (isMachineAccount(subj) || !/^sam_(user|group|alias|domain)$/i.test(type)) return;
          const obj = field(e, 'ObjectName');
          const k = hostKey(hostOf(e)) + '|' + normLogonId(field(e, 'SubjectLogonId'));
          let s = sam.get(k);
          if (!s) {
            if (sam.size > 10_000) return;
            sam.set(k, (s = new Set()));
          }
          if (s.size < 1000) s.add(obj);
          if (SENSITIVE_SAM.test(obj) || s.size >= cfg.samObjects)
            agg.add(e, state, { rule: 'sam-enumeration', attack: ['T1087.002', 'T1069.002'], severity: 'low', en: 'SAM accounts and groups enumerated (sensitive groups or many objects)', zh: '枚举 SAM 账户与组（敏感组或大量对象）', subject: subj, key: 'sam|' + k, detail: obj, facts: { objects: s.size } }, subj);
          return;
        }
        if (c === '5145') {
          const ip = normIp(field(e, 'IpAddress'));
          const subj = field(e, 'SubjectUserName');
          if (!ip || isLoopback(ip) || isMachineAccount(subj)) return;
          if (!/ipc\$$/i.test(field(e, 'ShareName'))) return;
          const pipe = field(e, 'RelativeTargetName').toLowerCase();
          if (!/^(samr|lsarpc|srvsvc|wkssvc|winreg|netlogon)$/.test(pipe)) return;
          const k = hostKey(hostOf(e)) + '|' + ip + '|' + subj.toLowerCase();
          let s = pipes.get(k);
          if (!s) {
            if (pipes.size > 10_000) return;
            pipes.set(k, (s = new Set()));
          }
          s.add(pipe);
          if (s.size >= 2)
            agg.add(e, state, { rule: 'rpc-enumeration', attack: ['T1087.002', 'T1049', 'T1135'], severity: 'medium', en: 'remote enumeration over RPC pipes (users, groups, sessions, shares)', zh: '通过 RPC 管道远程枚举（用户、组、会话、共享）', subject: `${subj} from ${ip}`, key: 'rpc|' + k, detail: [...s].join(', '), facts: { pipes: [...s], source: ip } }, subj);
        }
      },
      finish(state: HostState): Finding[] {
        return agg.findings(state);
      },
    });
  },
};
