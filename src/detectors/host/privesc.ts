/**
 * host.privilege-escalation —
 *  - UAC bypass shapes (T1548.002) in process creation (Sysmon 1, 4688): a
 *    shell or unexpected program started by an auto-elevating binary
 *    (fodhelper, computerdefaults, eventvwr, sdclt, slui, wsreset, changepk,
 *    compmgmtlauncher, cliconfg, mcx2prov, migwiz, sysprep, perfmon ...), by an
 *    elevated COM surrogate (dllhost /Processid:{CMSTPLUA|ColorDataProxy ...}),
 *    cmstp /au with an INF from a user folder, programs in a mocked system
 *    folder ("C:\Windows \System32"); Sysmon 11 files written into System32
 *    subfolders by explorer/dllhost/wusa/makecab or a user-folder program;
 *  - privileged sessions after a suspicious logon (T1078): 4672 special
 *    privileges for a session whose 4624 came from a brute-force or external
 *    source;
 *  - token impersonation (T1134.001): Potato-style named pipes
 *    (`\x\pipe\spoolss`, Sysmon 17/18), NTLM ANONYMOUS LOGON from the host
 *    itself (JuicyPotato, 4624 type 3 from loopback), SID history added
 *    (4765/4766, T1134.005), sensitive user rights granted (4704);
 *  - shells spawned by the print spooler (T1068), accessibility programs
 *    replaced or spawning shells from winlogon (T1546.008).
 */
import type { SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { hostDetector, mk } from './base.js';
import { HitAggregator, type Hit } from './hits.js';
import { describeSession } from './sessions.js';
import type { HostState } from './state.js';
import { baseName, code, field, intField, isLoopback, isSecurity, isSysmon, normIp } from './util.js';

export const ID = 'host.privilege-escalation';
/** Event codes this detector examines (the rest only feed the shared state). */
const CODES: ReadonlySet<string> = new Set(['1', '11', '17', '18', '4688', '4624', '4765', '4766', '4704']);
export const PRIVESC_DEFAULTS = {
  /** Report admin sessions (4672) whose logon came from a brute-force or external source. */
  suspiciousAdminSessions: true,
};

const AUTO_ELEVATE = /^(fodhelper|computerdefaults|eventvwr|sdclt|slui|wsreset|changepk|compmgmtlauncher|cliconfg|mcx2prov|migwiz|sysprep|perfmon|pkgmgr|dccw|bthudtask|iscsicpl|recdisc|rstrui|msconfig|systemsettingsadminflows|winsat)\.exe$/;
const EXPECTED_CHILD: Record<string, RegExp> = {
  'eventvwr.exe': /^mmc\.exe$/,
  'compmgmtlauncher.exe': /^mmc\.exe$/,
  'perfmon.exe': /^mmc\.exe$/,
  'mmc.exe': /^(mmc|werfault|dllhost|conhost|eventvwr)\.exe$/,
  'taskmgr.exe': /^(werfault|conhost|perfmon|resmon|mmc)\.exe$/,
  'msconfig.exe': /^(mmc|control|msinfo32|cmd|eventvwr|perfmon|resmon|compmgmt|taskmgr|regedit|perfmon)\.exe$/,
  'sdclt.exe': /^(control|sdclt|werfault)\.exe$/,
  'winsat.exe': /^(werfault|conhost)\.exe$/,
};
const ELEVATED_COM = /\/processid:\{(3e5fc7f9-9a51-4367-9063-a120244fbec7|d2e7041b-2927-42fb-8e9f-7ce93b6dc937|e9495b87-d950-4ab5-87a5-ff6d70bf3e90|4d111e08-cbf7-4f12-a926-2c7920af52fc|3ad05575-8857-4850-9277-11b85bdb8e09|bdb57ff2-79b9-4205-9447-f5fe85f37312)\}/;
const SHELL = /^(cmd|powershell|pwsh|mshta|wscript|cscript|rundll32|regsvr32|conhost|nc|nc64|ncat)\.exe$/;
const ACCESSIBILITY = /^(sethc|utilman|osk|magnify|narrator|displayswitch|atbroker)\.exe$/;
const SENSITIVE_RIGHTS = /setcbprivilege|sedebugprivilege|seimpersonateprivilege|seassignprimarytokenprivilege|seloaddriverprivilege|sebackupprivilege|serestoreprivilege|setakeownershipprivilege|secreatetokenprivilege/i;

/** Judge a process start for privilege-escalation shapes. */
export function judgeProcess(image: string, cmd: string, parent: string, parentCmd: string): Omit<Hit, 'subject'> | null {
  const c = baseName(image);
  const p = baseName(parent);
  const img = image.toLowerCase();
  const lc = cmd.toLowerCase();
  if (/^[a-z]:\\windows \\|\\windows \\system32\\/.test(img)) return { rule: 'mock-system-folder', attack: ['T1548.002', 'T1574.002'], severity: 'critical', en: 'program run from a mocked system folder ("C:\\Windows \\System32", UAC bypass)', zh: '从伪造的系统目录运行程序（“C:\\Windows \\System32”，UAC 绕过）' };
  if (p && AUTO_ELEVATE.test(p) && c && c !== p && !/^(werfault|conhost|consent)\.exe$/.test(c) && !(EXPECTED_CHILD[p]?.test(c) ?? false))
    return { rule: 'uac-bypass-child', attack: ['T1548.002'], severity: SHELL.test(c) ? 'high' : 'medium', en: `program started by the auto-elevating ${p} (UAC bypass)`, zh: `由自动提权程序 ${p} 启动的进程（UAC 绕过）` };
  if (p === 'dllhost.exe' && ELEVATED_COM.test(parentCmd.toLowerCase()) && c !== 'dllhost.exe')
    return { rule: 'uac-bypass-com', attack: ['T1548.002'], severity: 'high', en: 'program started by an elevated COM object (CMSTPLUA/ColorDataProxy UAC bypass)', zh: '由提权 COM 对象启动的进程（CMSTPLUA 等 UAC 绕过）' };
  if (c === 'cmstp.exe' && /\s\/au\s/.test(lc) && /\\users\\|\\temp\\|\\programdata\\/.test(lc))
    return { rule: 'uac-bypass-cmstp', attack: ['T1548.002', 'T1218.003'], severity: 'high', en: 'cmstp /au with an INF from a user folder (UAC bypass)', zh: 'cmstp /au 加载用户目录中的 INF（UAC 绕过）' };
  if (p === 'spoolsv.exe' && SHELL.test(c)) return { rule: 'spooler-shell', attack: ['T1068', 'T1574'], severity: 'critical', en: 'shell started by the print spooler (PrintNightmare-style)', zh: '打印服务启动命令行（PrintNightmare 类）' };
  if (((p === 'winlogon.exe' && SHELL.test(c)) || (ACCESSIBILITY.test(p) && !ACCESSIBILITY.test(c) && !/^(werfault|conhost|consent)\.exe$/.test(c))) && c) return { rule: 'accessibility-shell', attack: ['T1546.008'], severity: 'critical', en: 'shell started from the logon screen (accessibility backdoor)', zh: '登录界面启动命令行（辅助功能后门）' };
  if (ACCESSIBILITY.test(c) && !/\\windows\\(system32|syswow64)\\/.test(img) && img.includes('\\')) return { rule: 'accessibility-moved', attack: ['T1546.008'], severity: 'high', en: 'accessibility program outside System32', zh: '辅助功能程序不在 System32 中' };
  if (/\bcopy\b.*\b(cmd|powershell)\.exe.*\\(sethc|utilman|osk|magnify|narrator)\.exe/.test(lc)) return { rule: 'accessibility-replaced', attack: ['T1546.008'], severity: 'critical', en: 'accessibility program replaced by a shell', zh: '用命令行替换辅助功能程序' };
  if (/^(uacme|akagi(32|64)?|uacbypass|winpwnage)\.exe$/.test(c) || /winpwnage.*\s-u\s+(uac|elevate)\b|\bakagi(32|64)?\b/.test(lc)) return { rule: 'uac-bypass-tool', attack: ['T1548.002'], severity: 'high', en: 'UAC bypass tool', zh: 'UAC 绕过工具' };
  if (/^(juicypotato|roguepotato|sweetpotato|printspoofer(64)?|godpotato|efspotato|badpotato|rottenpotato(ng)?|lonelypotato|krbrelayup|runascs)\.exe$/.test(c)) return { rule: 'potato-tool', attack: ['T1134.001'], severity: 'critical', en: 'token impersonation (Potato) tool', zh: '令牌模拟提权（Potato）工具' };
  if (c === 'runas.exe' && /\/user:/i.test(cmd)) return { rule: 'runas-other-user', attack: ['T1134.002'], severity: 'low', en: 'program started as another user (runas)', zh: '以其他用户身份运行程序（runas）' };
  return null;
}

export const privilegeEscalation: DetectorModule = {
  id: ID,
  title: { en: 'Privilege escalation', zh: '权限提升' },
  attack: ['T1548.002', 'T1078', 'T1134.001', 'T1134.002', 'T1134.005', 'T1068', 'T1546.008', 'T1574.002'],
  defaults: { ...PRIVESC_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...PRIVESC_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof PRIVESC_DEFAULTS;
    const agg = new HitAggregator(ID);
    const proc = (e: SpoorEvent, state: HostState, image: string, cmd: string, parent: string, parentCmd: string, user: string) => {
      const h = judgeProcess(image, cmd, parent, parentCmd);
      if (h) agg.add(e, state, { ...h, subject: baseName(image) || '?', key: h.rule + '|' + baseName(image), detail: cmd || image, facts: { image, parent, parentCommandLine: parentCmd.slice(0, 400) } }, user);
    };
    return hostDetector(ctx, ID, {
      codes: CODES,
      observe(e: SpoorEvent, state: HostState) {
        const c = code(e);
        if (isSysmon(e)) {
          if (c === '1') return proc(e, state, field(e, 'Image'), field(e, 'CommandLine'), field(e, 'ParentImage'), field(e, 'ParentCommandLine'), field(e, 'User'));
          if (c === '17' || c === '18') {
            const pipe = field(e, 'PipeName').toLowerCase();
            if (/\\pipe\\.*\\pipe\\|^\\[^\\]+\\pipe\\(spoolss|srvsvc|epmapper|lsarpc|samr)$/.test(pipe) || /\/pipe\//.test(pipe))
              agg.add(e, state, { rule: 'potato-pipe', attack: ['T1134.001'], severity: 'critical', en: 'named pipe impersonation (Potato / PrintSpoofer style pipe)', zh: '命名管道模拟提权（Potato / PrintSpoofer 类管道）', subject: field(e, 'PipeName'), key: 'potato-pipe', detail: field(e, 'Image'), facts: { pipe: field(e, 'PipeName'), image: field(e, 'Image') } });
            return;
          }
          if (c === '11') {
            const target = field(e, 'TargetFilename').toLowerCase();
            const image = field(e, 'Image').toLowerCase();
            const name = baseName(image);
            if (/^[a-z]:\\windows \\/.test(target)) {
              agg.add(e, state, { rule: 'mock-system-folder', attack: ['T1548.002', 'T1574.002'], severity: 'critical', en: 'file written to a mocked system folder ("C:\\Windows \\", UAC bypass)', zh: '向伪造的系统目录写入文件（UAC 绕过）', subject: field(e, 'TargetFilename'), key: 'mock', detail: field(e, 'Image') });
            } else if (/^[a-z]:\\windows\\system32\\.+\.(dll|exe|ini|manifest)$/.test(target) && (/^(explorer|dllhost|wusa|makecab|expand|mshta|powershell|cmd)\.exe$/.test(name) || /\\users\\|\\temp\\|\\programdata\\/.test(image))) {
              agg.add(e, state, { rule: 'system32-write', attack: ['T1548.002', 'T1574.002'], severity: 'high', en: 'DLL or program written into System32 by a user-level process (UAC bypass / hijack)', zh: '用户级进程向 System32 写入 DLL 或程序（UAC 绕过/劫持）', subject: field(e, 'TargetFilename'), key: 'system32-write|' + target, detail: field(e, 'Image') });
            } else if (/\\windows\\system32\\(sethc|utilman|osk|magnify|narrator)\.exe$/.test(target) && !/^(trustedinstaller|tiworker|svchost)\.exe$/.test(name)) {
              agg.add(e, state, { rule: 'accessibility-replaced', attack: ['T1546.008'], severity: 'critical', en: 'accessibility program overwritten', zh: '辅助功能程序被覆盖', subject: field(e, 'TargetFilename'), key: 'acc|' + target, detail: field(e, 'Image') });
            }
          }
          return;
        }
        if (!isSecurity(e)) return;
        if (c === '4688') return proc(e, state, field(e, 'NewProcessName'), field(e, 'CommandLine'), field(e, 'ParentProcessName'), '', field(e, 'SubjectUserName'));
        if (c === '4624') {
          const ip = normIp(field(e, 'IpAddress'));
          if (intField(field(e, 'LogonType')) === 3 && /^anonymous logon$/i.test(field(e, 'TargetUserName')) && ip && isLoopback(ip) && /ntlm/i.test(field(e, 'AuthenticationPackageName')))
            agg.add(e, state, { rule: 'local-ntlm-anonymous', attack: ['T1134.001'], severity: 'medium', en: 'anonymous NTLM network logon from the host itself (local NTLM reflection, Potato-style)', zh: '来自本机的匿名 NTLM 网络登录（本地 NTLM 反射，Potato 类）', subject: `ANONYMOUS LOGON from ${ip}`, key: 'anon-local', confidence: 0.55 });
          return;
        }
        if (c === '4765' || c === '4766') {
          agg.add(e, state, { rule: 'sid-history', attack: ['T1134.005'], severity: 'high', en: c === '4765' ? 'SID history added to an account' : 'attempt to add SID history failed', zh: c === '4765' ? '账户被添加 SID 历史' : '添加 SID 历史失败', subject: field(e, 'TargetUserName') || '?', detail: field(e, 'SourceUserName'), outcome: c === '4765' ? 'succeeded' : 'failed' }, field(e, 'SubjectUserName'));
          return;
        }
        if (c === '4704') {
          const rights = field(e, 'PrivilegeList');
          if (SENSITIVE_RIGHTS.test(rights)) agg.add(e, state, { rule: 'sensitive-right-assigned', attack: ['T1134'], severity: 'medium', en: 'sensitive user right assigned', zh: '分配敏感用户权限', subject: field(e, 'TargetSid') || '?', detail: rights.replace(/\s+/g, ' '), facts: { rights: rights.replace(/\s+/g, ' ') } }, field(e, 'SubjectUserName'));
        }
      },
      finish(state: HostState): Finding[] {
        const out = agg.findings(state);
        if (!cfg.suspiciousAdminSessions) return out;
        let n = 0;
        for (const s of state.sessions.all()) {
          if (!s.admin || !s.src || n >= 200) continue;
          const brute = state.bruteSource(s.host, s.src);
          const external = !state.ctx.homeNet.isInternal(s.src);
          if (!brute && !external) continue;
          n++;
          const sum = state.sessions.summarize(s);
          const d = describeSession(sum);
          out.push(
            mk(ID, {
              attack: ['T1078'],
              severity: brute ? 'critical' : 'high',
              outcome: brute ? 'compromised' : 'succeeded',
              confidence: brute ? 0.85 : 0.6,
              first: s.start,
              last: s.end ?? s.start,
              host: s.host,
              user: s.user,
              src: s.src,
              summary: {
                en: `Administrative privileges (4672) granted to ${s.user} in ${d.en}, a logon from ${brute ? 'a brute-force source' : 'an external address'} ${s.src}.`,
                zh: `${s.user} 在${d.zh}中获得管理员特权（4672），该登录来自${brute ? '暴力破解来源' : '外部地址'} ${s.src}。`,
              },
              evidence: s.startRef ? [s.startRef] : [],
              facts: { rule: 'privileged-session-suspicious-source', session: sum, bruteForceSource: !!brute },
            }),
          );
        }
        return out;
      },
    });
  },
};
