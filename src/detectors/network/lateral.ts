/**
 * net.lateral — lateral movement inside the site (T1021.002, T1021.001, T1021.006,
 * T1569.002): an internal host sweeping SMB/RDP/WinRM/RPC across internal hosts,
 * then an authentication that succeeded to one of them; admin-share tree
 * connects (ADMIN$, C$); service creation over SMB (svcctl CreateService —
 * the PsExec pattern) and PsExec service binaries written to a share.
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import type { Detector, DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { settingsFor } from '../../core/finding.js';
import { asNum, asNumList, BoundedMap, CappedSet, clip, EvidenceSample, num, refOf, str } from './util.js';

const ID = 'net.lateral';

export const lateralDefaults = {
  /** Ports of remote administration: SMB, NetBIOS-SSN, RDP, WinRM, RPC endpoint mapper. */
  adminPorts: [445, 139, 3389, 5985, 5986, 135],
  /** Distinct internal hosts contacted on admin ports by one internal source, within the window. */
  sweepHosts: 10,
  windowMs: 30 * 60_000,
  /** Time after a sweep in which a successful authentication is linked to it. */
  linkMs: 6 * 3600_000,
  maxSources: 50_000,
};

const PORT_TECH: Record<number, string> = { 445: 'T1021.002', 139: 'T1021.002', 3389: 'T1021.001', 5985: 'T1021.006', 5986: 'T1021.006', 135: 'T1021.003' };
const PORT_NAME: Record<number, string> = { 445: 'SMB', 139: 'SMB', 3389: 'RDP', 5985: 'WinRM', 5986: 'WinRM', 135: 'RPC' };

interface Sweep {
  src: string;
  first: number;
  last: number;
  hosts: CappedSet<string>;
  ports: Record<number, number>;
  failed: number;
  ev: EvidenceSample;
}

interface Access {
  src: string;
  dst: string;
  first: number;
  last: number;
  auth?: { user?: string; ref: EvidenceRef; ts: number; how: string };
  shares: string[];
  services: { name?: string; op: string; cmd?: string; ref: EvidenceRef }[];
  files: string[];
  ev: EvidenceSample;
}

export const lateralDetector: DetectorModule = {
  id: ID,
  title: { en: 'Lateral movement', zh: '内网横向移动' },
  attack: ['T1021.002', 'T1569.002', 'T1570', 'T1021.001', 'T1021.006'],
  defaults: lateralDefaults,
  create(ctx: DetectorContext): Detector {
    const s = settingsFor(ctx, ID, lateralDefaults);
    const adminPorts = new Set(asNumList(s.adminPorts, lateralDefaults.adminPorts));
    const windowMs = asNum(s.windowMs, 1_800_000);
    const sweeps: Sweep[] = [];
    const current = new BoundedMap<string, Sweep>(asNum(s.maxSources, 50_000), (_k, v) => sweeps.push(v));
    const access = new BoundedMap<string, Access>(100_000);
    const acc = (src: string, dst: string, ts: number): Access => {
      const a = access.getOrCreate(`${src}>${dst}`, () => ({ src, dst, first: ts, last: ts, shares: [], services: [], files: [], ev: new EvidenceSample(2, 2, 8) }));
      if (ts < a.first) a.first = ts;
      if (ts > a.last) a.last = ts;
      return a;
    };

    return {
      id: ID,
      datasets: ['conn', 'ntlm', 'smb', 'dcerpc', 'kerberos'],
      observe(e: SpoorEvent): void {
        const ds = e['event.dataset'];
        if (ds === 'conn') {
          const p0 = e['destination.port'];
          if (typeof p0 !== 'number' || !adminPorts.has(p0)) return;
        }
        const src = str(e, 'source.ip');
        const dst = str(e, 'destination.ip');
        const ts = e['@timestamp'];
        if (!src || !dst || typeof ts !== 'number' || src === dst) return;
        if (!ctx.homeNet.isInternal(dst)) return;
        if (ds === 'conn') {
          const port = num(e, 'destination.port');
          if (port === undefined || !adminPorts.has(port) || !ctx.homeNet.isInternal(src)) return;
          let sw = current.get(src);
          if (sw && ts - sw.last > windowMs) {
            current.delete(src);
            sweeps.push(sw);
            sw = undefined;
          }
          sw = current.getOrCreate(src, () => ({ src, first: ts, last: ts, hosts: new CappedSet(4096), ports: {}, failed: 0, ev: new EvidenceSample(3, 3, 4) }));
          if (ts < sw.first) sw.first = ts;
          if (ts > sw.last) sw.last = ts;
          if (sw.hosts.add(dst)) sw.ev.addEvent(e);
          sw.ports[port] = (sw.ports[port] ?? 0) + 1;
          const st = str(e, 'conn.state');
          if (st === 'S0' || st === 'REJ' || st === 'RSTOS0' || st === 'OTH') sw.failed++;
          return;
        }
        if (ds === 'ntlm' || ds === 'kerberos') {
          if (str(e, 'event.outcome') !== 'success') return;
          const a = acc(src, dst, ts);
          if (!a.auth) {
            const user = str(e, 'user.name') ?? str(e, 'kerberos.client');
            const dom = str(e, 'user.domain');
            a.auth = { user: user ? clip(dom ? `${dom}\\${user}` : user, 96) : undefined, ref: refOf(e), ts, how: ds === 'ntlm' ? 'NTLM authentication succeeded' : 'Kerberos ticket accepted' };
            a.ev.key(a.auth.ref);
          }
          return;
        }
        if (ds === 'smb') {
          const action = str(e, 'event.action');
          const status = (str(e, 'smb.status') ?? '0x00000000').toLowerCase();
          if (status !== '0x00000000') return;
          if (action === 'tree-connect') {
            const tree = str(e, 'smb.tree') ?? '';
            const share = tree.replace(/^.*\\/, '').toUpperCase();
            if (/^(?:ADMIN\$|[A-Z]\$)$/.test(share)) {
              const a = acc(src, dst, ts);
              if (a.shares.length < 8 && !a.shares.includes(share)) {
                a.shares.push(share);
                a.ev.key(refOf(e));
              }
            }
          } else if (action === 'session-setup') {
            const user = str(e, 'user.name');
            const a = acc(src, dst, ts);
            if (!a.auth && user) {
              a.auth = { user: clip(user, 96), ref: refOf(e), ts, how: 'SMB session setup succeeded' };
              a.ev.key(a.auth.ref);
            }
          } else if (action === 'create' || action === 'write') {
            const name = str(e, 'file.name') ?? str(e, 'file.path') ?? '';
            const tree = str(e, 'smb.tree') ?? '';
            if (/\.(?:exe|dll|bat|ps1|vbs|scr)$/i.test(name) && (/\\(?:ADMIN\$|[A-Z]\$)$/i.test(tree) || /psexesvc|remcom|paexec|csexec/i.test(name))) {
              const a = acc(src, dst, ts);
              const f = clip(`${tree}\\${name}`.replace(/^\\\\/, '\\\\'), 160);
              if (a.files.length < 8 && !a.files.includes(f)) {
                a.files.push(f);
                a.ev.key(refOf(e));
              }
            }
          }
          return;
        }
        if (ds === 'dcerpc') {
          const ep = (str(e, 'dcerpc.endpoint') ?? '').toLowerCase();
          const op = str(e, 'dcerpc.operation') ?? '';
          if ((ep === 'svcctl' || ep.includes('svcctl')) && /^(?:CreateService[AW]?|CreateServiceWOW64[AW]?|StartService[AW]?|ChangeServiceConfig[AW]?)$/i.test(op)) {
            const a = acc(src, dst, ts);
            if (a.services.length < 8) {
              a.services.push({ name: str(e, 'service.name'), op, cmd: str(e, 'process.command_line'), ref: refOf(e) });
              a.ev.key(refOf(e));
            }
          } else if (ep === 'atsvc' || ep === 'itaskschedulerservice' || /^SchRpcRegisterTask|NetrJobAdd$/i.test(op)) {
            const a = acc(src, dst, ts);
            if (a.services.length < 8) {
              a.services.push({ name: str(e, 'service.name'), op: `${ep}:${op}`, ref: refOf(e) });
              a.ev.key(refOf(e));
            }
          }
        }
      },
      finish(): Finding[] {
        for (const sw of current.map.values()) sweeps.push(sw);
        current.map.clear();
        const out: Finding[] = [];
        const minHosts = asNum(s.sweepHosts, 10);
        const linkMs = asNum(s.linkMs, 6 * 3600_000);
        const sweepBySrc = new Map<string, Sweep[]>();
        for (const sw of sweeps) {
          if (sw.hosts.size < minHosts) continue;
          const l = sweepBySrc.get(sw.src) ?? [];
          l.push(sw);
          sweepBySrc.set(sw.src, l);
        }
        for (const [src, list] of sweepBySrc) {
          for (const sw of list) {
            const successes = [...access.map.values()].filter((a) => a.src === src && a.auth && sw.hosts.has(a.dst) && a.auth.ts >= sw.first && a.auth.ts - sw.last <= linkMs);
            const ports = Object.keys(sw.ports).map(Number);
            const svc = [...new Set(ports.map((p) => PORT_NAME[p] ?? String(p)))].join('/');
            for (const a of successes.slice(0, 5)) sw.ev.key(a.auth!.ref);
            const hostsTxt = sw.hosts.size + (sw.hosts.overflow ? '+' : '');
            const succ = successes.map((a) => `${a.dst}${a.auth!.user ? ` (${a.auth!.user})` : ''}`);
            out.push({
              id: '',
              detector: ID,
              attack: [...new Set(ports.map((p) => PORT_TECH[p] ?? 'T1021'))],
              severity: successes.length ? 'high' : 'medium',
              outcome: successes.length ? 'succeeded' : 'attempt',
              confidence: successes.length ? 0.85 : 0.65,
              first: sw.first,
              last: Math.max(sw.last, ...successes.map((a) => a.auth!.ts)),
              src,
              host: src,
              summary: {
                en: `Internal host ${src} swept ${hostsTxt} internal hosts over ${svc} (${sw.failed} unanswered).${succ.length ? ` Authentication then succeeded to ${succ.join(', ')}.` : ''}`,
                zh: `内网主机 ${src} 对 ${hostsTxt} 台内网主机进行 ${svc} 探测扫描（${sw.failed} 次无响应）。${succ.length ? `随后成功认证登录 ${succ.join('、')}。` : ''}${succ.length ? '判断存在横向移动。' : ''}`,
              },
              evidence: sw.ev.refs(),
              facts: {
                kind: 'sweep',
                hosts: sw.hosts.size,
                sampleHosts: sw.hosts.values(30),
                ports: sw.ports,
                unanswered: sw.failed,
                successTargets: successes.map((a) => ({ dst: a.dst, user: a.auth!.user, how: a.auth!.how, ref: a.auth!.ref })),
              },
            });
          }
        }
        // per target: authentication after a sweep, admin shares, service creation
        for (const a of access.map.values()) {
          const sws = sweepBySrc.get(a.src) ?? [];
          const afterSweep = !!a.auth && sws.some((sw) => sw.hosts.has(a.dst) && a.auth!.ts >= sw.first && a.auth!.ts - sw.last <= linkMs);
          const psexec = a.files.some((f) => /psexesvc/i.test(f)) || a.services.some((x) => /psexesvc/i.test(`${x.name ?? ''} ${x.cmd ?? ''}`));
          // remote execution: a service/task was created, or a PsExec-style service binary was dropped
          const exec = a.services.length > 0 || a.files.some((f) => /psexesvc|remcom|paexec|csexec/i.test(f));
          if (!afterSweep && !exec && a.shares.length === 0 && a.files.length === 0) continue;
          const attack: string[] = ['T1021.002'];
          if (a.files.length) attack.push('T1570');
          if (exec) attack.push('T1569.002');
          const parts: string[] = [];
          const partsZh: string[] = [];
          if (a.auth) {
            parts.push(`authenticated${a.auth.user ? ` as ${a.auth.user}` : ''} (${a.auth.how})`);
            partsZh.push(`${a.auth.user ? `以账户 ${a.auth.user} ` : ''}认证成功`);
          }
          if (a.shares.length) {
            parts.push(`connected to admin share(s) ${a.shares.join(', ')}`);
            partsZh.push(`连接管理共享 ${a.shares.join('、')}`);
          }
          if (a.files.length) {
            parts.push(`wrote ${a.files.slice(0, 3).join(', ')}`);
            partsZh.push(`写入文件 ${a.files.slice(0, 3).join('、')}`);
          }
          if (a.services.length) {
            parts.push(`created/started service(s) ${a.services.map((x) => `${x.op}${x.name ? ` ${x.name}` : ''}${x.cmd ? ` → ${clip(x.cmd, 80)}` : ''}`).slice(0, 3).join('; ')}`);
            partsZh.push(`远程创建/启动服务 ${a.services.map((x) => x.name ?? x.op).slice(0, 3).join('、')}`);
          }
          const outcome = exec ? 'compromised' : 'succeeded';
          out.push({
            id: '',
            detector: ID,
            attack,
            severity: exec ? 'critical' : 'high',
            outcome,
            confidence: exec ? 0.9 : afterSweep ? 0.8 : 0.6,
            first: a.first,
            last: a.last,
            src: a.src,
            dst: a.dst,
            host: a.dst,
            user: a.auth?.user,
            summary: {
              en: `${a.src} → ${a.dst}: ${parts.join('; ')}${afterSweep ? ', after sweeping the network' : ''}.${psexec ? ' This is the PsExec pattern.' : ''}${exec ? ` ${a.dst} is compromised (remote service execution).` : ''}`,
              zh: `${a.src} → ${a.dst}：${afterSweep ? '在内网扫描后' : ''}${partsZh.join('，')}。${psexec ? '符合 PsExec 远程执行特征。' : ''}${exec ? `判断 ${a.dst} 已被远程控制。` : ''}`,
            },
            evidence: a.ev.refs(),
            facts: {
              kind: exec ? 'remote-execution' : a.files.length ? 'tool-transfer' : a.shares.length ? 'admin-share' : 'auth-after-sweep',
              user: a.auth?.user,
              authRef: a.auth?.ref,
              adminShares: a.shares,
              files: a.files,
              services: a.services.map((x) => ({ op: x.op, name: x.name, command: x.cmd })),
              afterSweep,
              tool: psexec ? 'PsExec' : undefined,
            },
          });
        }
        return out;
      },
    };
  },
};
