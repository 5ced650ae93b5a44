/**
 * host.execution — hacking tools, scanners, miners, downloaders, tunnels,
 * encoded PowerShell, defence-evasion and account commands run on the host
 * (Security 4688 and Sysmon 1, by image name, path, OriginalFileName and
 * command line; see catalog.ts), Sysmon 3/22 connections and DNS queries to
 * mining pools, Sysmon 3 fan-out (one process connecting to many addresses:
 * scanning), and Sysmon 11 tools/archives/executables dropped in user folders.
 * Credential-dumping hits are left to host.credential-access.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { hostDetector } from './base.js';
import { classify, MINING_POOL, MINING_PORTS, USER_FOLDER } from './catalog.js';
import { HitAggregator } from './hits.js';
import type { HostState } from './state.js';
import { baseName, code, field, hostKey, hostOf, intField, isSecurity, isSysmon, normIp } from './util.js';

export const ID = 'host.execution';
/** Event codes this detector examines (the rest only feed the shared state). */
const CODES: ReadonlySet<string> = new Set(['4688', '1', '3', '22', '11']);

export const EXECUTION_DEFAULTS = {
  /** Distinct destinations from one process within windowMs that make a scan (Sysmon 3). */
  scanDestinations: 50,
  scanWindowMs: 5 * 60_000,
  /** Report discovery commands (whoami, net user ...) here too; off by default: host.discovery reports them, with bursts. */
  recon: false,
  /** Report programs run from user folders (low). */
  userFolder: true,
};

const DROP_EXT = /\.(exe|dll|scr|sys|ps1|bat|cmd|vbs|js|hta|jar|rar|zip|7z|cab)$/i;

export const execution: DetectorModule = {
  id: ID,
  title: { en: 'Execution of attack tools', zh: '攻击工具执行' },
  attack: ['T1046', 'T1496', 'T1105', 'T1059.001', 'T1569.002', 'T1572', 'T1070.001', 'T1490', 'T1562.001', 'T1136.001', 'T1036.005', 'T1204.002', 'T1087'],
  defaults: { ...EXECUTION_DEFAULTS },
  create(ctx: DetectorContext) {
    const cfg = { ...EXECUTION_DEFAULTS, ...(ctx.settings[ID] ?? {}) } as typeof EXECUTION_DEFAULTS;
    const agg = new HitAggregator(ID);
    const fan = new Map<string, { q: { t: number; d: string }[]; win: Map<string, number>; peak: number; reported: boolean }>();
    const processHits = (e: SpoorEvent, state: HostState, image: string, cmd: string, user: string, extraName: string) => {
      const hits = classify(image, cmd, { recon: cfg.recon, path: true });
      if (extraName && extraName !== baseName(image)) {
        // renamed tools: Sysmon OriginalFileName
        for (const h of classify(extraName, '', { recon: false, path: false })) hits.push({ ...h, en: `${h.en} (renamed, original name ${extraName})`, zh: `${h.zh}（已改名，原名 ${extraName}）`, severity: 'critical' });
      }
      for (const h of hits) {
        if (h.category === 'credential') continue;
        if (h.category === 'user-folder' && !cfg.userFolder) continue;
        const name = baseName(image || cmd.split(' ')[0] || '?');
        agg.add(e, state, { rule: h.rule, attack: h.attack, severity: h.severity, en: h.en, zh: h.zh, subject: h.category === 'recon' ? 'discovery commands' : name, key: h.category === 'recon' ? 'recon' : name, detail: cmd || image, facts: { category: h.category, image } }, user);
      }
    };
    return hostDetector(ctx, ID, {
      codes: CODES,
      observe(e: SpoorEvent, state: HostState) {
        const c = code(e);
        if (isSecurity(e) && c === '4688') {
          processHits(e, state, field(e, 'NewProcessName'), field(e, 'CommandLine'), field(e, 'SubjectUserName'), '');
          return;
        }
        if (!isSysmon(e)) return;
        if (c === '1') {
          processHits(e, state, field(e, 'Image'), field(e, 'CommandLine'), field(e, 'User'), (field(e, 'OriginalFileName') || '').toLowerCase().replace(/\.mui$/, ''));
        } else if (c === '3') {
          const dst = normIp(field(e, 'DestinationIp'));
          const port = intField(field(e, 'DestinationPort'));
          const dhost = field(e, 'DestinationHostname');
          const image = field(e, 'Image');
          const name = baseName(image);
          const minerName = classify(image, '', { recon: false, path: false }).some((h) => h.category === 'miner');
          if (MINING_POOL.test(dhost) || minerName || (MINING_PORTS.has(port) && USER_FOLDER.test(image))) {
            agg.add(e, state, { rule: 'mining-pool-connection', attack: ['T1496', 'T1071'], severity: 'high', en: 'connection to a mining pool', zh: '连接矿池', subject: `${name} → ${dhost || dst}:${port}`, key: `${name}|${dhost || dst}`, detail: image, facts: { category: 'miner', destination: dhost || dst, port } }, field(e, 'User'));
          }
          if (field(e, 'Initiated').toLowerCase() === 'false' || !dst) return;
          const k = hostKey(hostOf(e)) + '|' + image.toLowerCase();
          let f = fan.get(k);
          if (!f) {
            if (fan.size > 5000) return;
            fan.set(k, (f = { q: [], win: new Map(), peak: 0, reported: false }));
          }
          const d = `${dst}:${port}`;
          const ts = e['@timestamp'];
          f.q.push({ t: ts, d });
          f.win.set(d, (f.win.get(d) ?? 0) + 1);
          while (f.q.length && (f.q[0].t < ts - cfg.scanWindowMs || f.q.length > 5000)) {
            const o = f.q.shift()!;
            const v = (f.win.get(o.d) ?? 1) - 1;
            if (v <= 0) f.win.delete(o.d);
            else f.win.set(o.d, v);
          }
          if (f.win.size > f.peak) f.peak = f.win.size;
          if (f.win.size >= cfg.scanDestinations) {
            agg.add(e, state, { rule: 'connection-fan-out', attack: ['T1046'], severity: 'high', en: 'one process connecting to many addresses (scan)', zh: '单一进程连接大量地址（扫描）', subject: name, key: name, detail: image, facts: { category: 'scanner' } }, field(e, 'User'));
          }
        } else if (c === '22') {
          const q = field(e, 'QueryName');
          if (MINING_POOL.test(q)) agg.add(e, state, { rule: 'mining-pool-dns', attack: ['T1496'], severity: 'high', en: 'DNS query for a mining pool', zh: '解析矿池域名', subject: q, detail: field(e, 'Image'), facts: { category: 'miner' } });
        } else if (c === '11') {
          const target = field(e, 'TargetFilename');
          const name = baseName(target);
          const hits = classify(target, '', { recon: false, path: false }).filter((h) => h.category !== 'credential');
          for (const h of hits) agg.add(e, state, { rule: 'dropped-' + h.rule, attack: [...h.attack, 'T1105'], severity: h.severity, en: `${h.en} written to disk`, zh: `${h.zh}文件落地`, subject: name, detail: target, facts: { category: h.category, path: target } });
          if (!hits.length && DROP_EXT.test(name) && USER_FOLDER.test(target.toLowerCase()) && cfg.userFolder) {
            const dir = target.slice(0, Math.max(target.lastIndexOf('\\'), 0)) || target;
            agg.add(e, state, { rule: 'dropped-in-user-folder', attack: ['T1105'], severity: 'low', en: 'executables or archives written to a user folder', zh: '用户目录中落地可执行文件或压缩包', subject: dir, key: dir, detail: target, facts: { category: 'user-folder', directory: dir } });
          }
        }
      },
      finish(state: HostState): Finding[] {
        return agg.findings(state);
      },
    });
  },
};
