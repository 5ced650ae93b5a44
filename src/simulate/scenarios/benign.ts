/**
 * Benign office background: workstations browsing (DNS then HTTPS/HTTP), file-share
 * access with successful NTLM, a monitoring server polling every server once a minute,
 * periodic update checks, and an administrator who mistypes a password twice before
 * logging on. Used on its own (`benign-office`) and mixed into the attack scenarios.
 */
import * as P from '../protocols.js';
import {
  EvidenceSet, Timeline, Rng, NetSim, iso, localTime, params, writeTruth, ev4624, ev4625, ev4634, ev4647, ev4672, evLsm,
  type HostCtx, type LogonInfo, type Scenario, type SimulateOptions, type Truth,
} from './common.js';
import type { EvtxWriter } from '../evtx-writer.js';

export interface OfficeServer { ip: string; name: string }
export interface OfficeParams {
  tz: string;
  homeNets: string[];
  dns: string;
  monitor: string;
  fileServer: OfficeServer;
  servers: OfficeServer[];
  /** workstations are wsPrefix + (11 .. 10 + count); count = round(workstations * scale) */
  wsPrefix: string;
  workstations: number;
  domain: string;
  users: string[];
  admin: string;
  adminWorkstation: string;
  /** server the admin logs on to by RDP each working day (mistyping on the first day) */
  adminTarget: OfficeServer;
  sites: { name: string; ip: string; tls: boolean }[];
  update: { name: string; ip: string; everyHours: number };
  monitorPort: number;
}

export const OFFICE_DEFAULTS: OfficeParams = {
  tz: '+08:00',
  homeNets: ['80.66.1.0/24', '10.0.0.0/8'],
  dns: '80.66.1.53',
  monitor: '80.66.1.250',
  fileServer: { ip: '80.66.1.20', name: 'FS01' },
  servers: [
    { ip: '80.66.1.5', name: 'APP-SRV01' },
    { ip: '80.66.1.15', name: 'WEB01' },
    { ip: '80.66.1.20', name: 'FS01' },
    { ip: '80.66.1.53', name: 'DNS01' },
  ],
  wsPrefix: '10.20.0.',
  workstations: 6,
  domain: 'GOV',
  users: ['zhangwei', 'liuyang', 'wangfang', 'chenjing', 'lina', 'zhaolei', 'sunli', 'zhoujie'],
  admin: 'administrator',
  adminWorkstation: '10.20.0.11',
  adminTarget: { ip: '80.66.1.20', name: 'FS01' },
  sites: [
    { name: 'portal.example.com', ip: '198.51.100.80', tls: true },
    { name: 'mail.example.net', ip: '198.51.100.25', tls: true },
    { name: 'news.example.org', ip: '203.0.113.10', tls: true },
    { name: 'docs.example.com', ip: '203.0.113.44', tls: true },
    { name: 'intranet.example.gov', ip: '198.51.100.120', tls: false },
  ],
  update: { name: 'update.example.com', ip: '203.0.113.200', everyHours: 6 },
  monitorPort: 10050,
};

export interface OfficeOptions {
  /** packets are emitted only inside these windows (ms), events of logs everywhere in [start, end) */
  netWindows: [number, number][];
  /** keep a conversation in the capture (e.g. only traffic of one server) */
  keep?: (a: string, b: string) => boolean;
  /** Security logs of servers by IP (logons to that server are written there) */
  logs?: Map<string, { writer: EvtxWriter; host: HostCtx }>;
  scale: number;
}

function zabbix(key: string): Buffer {
  const k = Buffer.from(key, 'latin1');
  const h = Buffer.alloc(13);
  h.write('ZBXD\x01', 0, 'latin1');
  h.writeUInt32LE(k.length, 5);
  return Buffer.concat([h, k]);
}

const inWin = (t: number, w: [number, number][]) => w.some(([a, b]) => t >= a && t < b);

/** Schedule office activity into a timeline. Returns the benign periodic flows. */
export function scheduleOffice(tl: Timeline, net: NetSim, rng: Rng, p: OfficeParams, start: number, end: number, o: OfficeOptions) {
  const keep = o.keep ?? (() => true);
  const wsCount = Math.max(1, Math.round(p.workstations * o.scale));
  const ws: string[] = [];
  for (let i = 0; i < wsCount; i++) {
    const n = 11 + i;
    const base = p.wsPrefix.split('.').map(Number);
    // spill over into the next octets when there are many workstations
    const a = base[2] + Math.floor(n / 250), b = (n % 250) + 1;
    ws.push(`${base[0]}.${base[1]}.${a}.${b}`);
  }
  if (!ws.includes(p.adminWorkstation)) ws[0] = p.adminWorkstation;
  const netOk = (t: number, a: string, b: string) => inWin(t, o.netWindows) && keep(a, b);
  const periodic: { src: string; dst: string; port: number }[] = [];
  const dnsId = () => rng.int(1, 0xffff);
  const cache = new Map<string, number>();
  const resolve = (t: number, client: string, name: string, ip: string) => {
    const k = client + name;
    if ((cache.get(k) ?? -Infinity) > t) return t;
    cache.set(k, t + 300000);
    if (!netOk(t, client, p.dns)) return t;
    const id = dnsId();
    const sport = net.ephemeralPort(client);
    net.udp(t, client, sport, p.dns, 53, P.dnsQuery(id, name));
    net.udp(t + 0.8, p.dns, 53, client, sport, P.dnsResponse(id, name, [{ type: 'A', data: ip, ttl: 300 }]), 128);
    return t + 1;
  };
  const localHour = (t: number) => new Date(t + tzMs(p.tz)).getUTCHours();
  const working = (t: number) => { const h = localHour(t); const d = new Date(t + tzMs(p.tz)).getUTCDay(); return h >= 9 && h < 18 && d !== 0 && d !== 6; };

  // monitoring: every server, every minute
  for (const s of p.servers) {
    periodic.push({ src: p.monitor, dst: s.ip, port: p.monitorPort });
    const first = start + rng.int(0, 59999);
    const tick = (t: number) => {
      if (t >= end) return;
      if (netOk(t, p.monitor, s.ip)) {
        const key = rng.pick(['agent.ping', 'system.cpu.load[all,avg1]', 'vm.memory.size[available]', 'vfs.fs.size[C:,pfree]']);
        const val = key === 'agent.ping' ? '1' : String(rng.int(1, 9000) / 100);
        net.tcp({ t, client: p.monitor, server: s.ip, dport: p.monitorPort, clientOs: 'linux', messages: [
          { from: 'c', data: zabbix(key) }, { from: 's', data: zabbix(val), gap: 1.2 },
        ], end: 'fin-server' });
      }
      tl.at(t + 60000 + rng.int(-40, 40), () => tick(tl.now));
    };
    tl.at(first, () => tick(first));
  }

  // update checks from every workstation and server
  for (const h of [...ws, ...p.servers.map((s) => s.ip)]) {
    periodic.push({ src: h, dst: p.update.ip, port: 80 });
    const every = p.update.everyHours * 3600000;
    const tick = (t: number) => {
      if (t >= end) return;
      if (netOk(t, h, p.update.ip)) {
        const t1 = resolve(t, h, p.update.name, p.update.ip);
        const body = `<?xml version="1.0"?><updates checked="${iso(t)}" count="0"/>`;
        net.tcp({ t: t1, client: h, server: p.update.ip, dport: 80, rtt: 28, serverOs: 'linux', messages: [
          { from: 'c', data: P.httpRequest('GET', '/v3/check?os=win&arch=x64', [['Host', p.update.name], ['User-Agent', 'Windows-Update-Agent/7.6.7601.24436 Client-Protocol/1.81'], ['Accept', '*/*']]) },
          { from: 's', data: P.httpResponse(200, [['Date', P.httpDate(t1)], ['Content-Type', 'text/xml'], ['Server', 'nginx']], body), gap: 35 },
        ] });
      }
      tl.at(t + every, () => tick(tl.now));
    };
    const first = start + rng.int(0, every);
    tl.at(first, () => tick(first));
  }

  // workstation activity, scheduled per 10-minute slice
  const slice = 600000;
  const userOf = (w: string) => p.users[ws.indexOf(w) % p.users.length];
  const sliceJob = (s0: number) => {
    if (s0 >= end) return;
    const busy = working(s0);
    for (const w of ws) {
      const browses = busy ? Math.round(rng.exp(3)) : (rng.chance(0.02) ? 1 : 0);
      for (let i = 0; i < browses; i++) {
        const t = s0 + rng.int(0, slice - 60000);
        const site = rng.pick(p.sites);
        tl.at(t, () => {
          if (!netOk(t, w, site.ip)) { resolve(t, w, site.name, site.ip); return; }
          const t1 = resolve(t, w, site.name, site.ip);
          const big = rng.int(1500, 30000);
          const msgs = site.tls
            ? [
              { from: 'c' as const, data: P.tlsClientHello(rng, site.name) },
              { from: 's' as const, data: P.tlsServerFlight(rng, rng.int(2500, 4200)), gap: 30 },
              { from: 'c' as const, data: P.tlsClientFinish(rng, 53) },
              { from: 'c' as const, data: P.tlsAppData(rng, rng.int(300, 700)) },
              { from: 's' as const, data: P.tlsAppData(rng, big), gap: rng.int(20, 120) },
            ]
            : [
              { from: 'c' as const, data: P.httpRequest('GET', rng.pick(['/', '/index.html', '/news/list.html', '/static/app.js', '/images/logo.png']), [['Host', site.name], ['User-Agent', 'Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0'], ['Accept', '*/*'], ['Connection', 'close']]) },
              { from: 's' as const, data: P.httpResponse(200, [['Date', P.httpDate(t1)], ['Server', 'nginx'], ['Content-Type', 'text/html; charset=utf-8']], Buffer.alloc(Math.min(big, 20000), 0x61)), gap: rng.int(10, 60) },
            ];
          net.tcp({ t: t1, client: w, server: site.ip, dport: site.tls ? 443 : 80, rtt: rng.int(20, 45), serverOs: 'linux', messages: msgs, end: site.tls ? 'fin' : 'fin-server' });
        });
      }
      // file share once an hour or so
      if (busy && rng.chance(1 / 6)) {
        const t = s0 + rng.int(0, slice - 60000);
        tl.at(t, () => shareAccess(t, w, userOf(w)));
      }
    }
    tl.at(s0 + slice, () => sliceJob(s0 + slice));
  };
  tl.at(start, () => sliceJob(start));

  const fs = p.fileServer;
  const fsInfo = { nbDomain: p.domain, nbComputer: fs.name, dnsDomain: p.domain.toLowerCase() + '.local', dnsComputer: `${fs.name.toLowerCase()}.${p.domain.toLowerCase()}.local` };
  const shareAccess = (t: number, w: string, user: string) => {
    const sport = net.ephemeralPort(w);
    if (netOk(t, w, fs.ip)) {
      net.tcp({ t, client: w, server: fs.ip, sport, dport: 445, messages: P.smb2LogonExchange(rng, {
        timeMs: t, serverIp: fs.ip, server: fsInfo, user, domain: p.domain, workstation: wsName(w), success: true, share: 'share',
      }) });
    }
    const log = o.logs?.get(fs.ip);
    if (log) {
      const l: LogonInfo = { user, userSid: `${log.host.machineSid}-${1100 + p.users.indexOf(user)}`, domain: p.domain, logonId: BigInt(rng.int(0x100000, 0xfffffff)), type: 3, ip: w, port: sport, workstation: wsName(w) };
      log.writer.write(ev4624(log.host, t + 3, l, rng));
      tl.at(t + rng.int(60000, 900000), () => log.writer.write(ev4634(log.host, tl.now, l)));
    }
  };

  // the administrator: RDP to a server every working day at ~09:10; mistypes twice on the first day
  let firstDay = true;
  const adminDay = (d0: number) => {
    if (d0 >= end) return;
    const t = d0 + rng.int(9 * 3600000 + 5 * 60000, 9 * 3600000 + 25 * 60000);
    const dow = new Date(d0 + tzMs(p.tz) + 12 * 3600000).getUTCDay();
    if (t >= start && t < end && dow !== 0 && dow !== 6) {
      const mistype = firstDay;
      firstDay = false;
      tl.at(t, () => adminLogon(tl.now, mistype));
    }
    tl.at(d0 + 86400000, () => adminDay(d0 + 86400000));
  };
  const dayStart = (() => { const local = start + tzMs(p.tz); return local - (local % 86400000) - tzMs(p.tz); })();
  tl.at(Math.max(start, dayStart), () => adminDay(dayStart));

  const adminLogon = (t: number, mistype: boolean) => {
    const target = p.adminTarget;
    const log = o.logs?.get(target.ip);
    let tt = t;
    const attempts = mistype ? [false, false, true] : [true];
    for (const ok of attempts) {
      const sport = net.ephemeralPort(p.adminWorkstation);
      if (netOk(tt, p.adminWorkstation, target.ip)) {
        tt = net.tcp({ t: tt, client: p.adminWorkstation, server: target.ip, sport, dport: 3389, messages: P.rdpNlaExchange(rng, p.admin, ok), end: ok ? 'fin' : 'rst-server' });
      } else tt += 2000;
      if (log) {
        if (!ok) log.writer.write(ev4625(log.host, tt - 30, { user: p.admin, domain: target.name, type: 3, ip: p.adminWorkstation, port: sport, workstation: wsName(p.adminWorkstation), subStatus: 0xc000006a }));
        else {
          const l: LogonInfo = { user: p.admin, userSid: `${log.host.machineSid}-500`, domain: target.name, logonId: BigInt(rng.int(0x100000, 0xfffffff)), type: 10, ip: p.adminWorkstation, port: sport, workstation: target.name };
          log.writer.write(ev4624(log.host, tt - 20, l, rng));
          log.writer.write(ev4672(log.host, tt - 20, l));
          log.writer.write(evLsm(log.host, tt - 10, 21, `${target.name}\\${p.admin}`, 2, p.adminWorkstation));
          tl.at(tt + rng.int(600000, 2400000), () => { log.writer.write(ev4647(log.host, tl.now, l)); log.writer.write(ev4634(log.host, tl.now + 200, l)); });
        }
      }
      tt += rng.int(3000, 9000);
    }
  };
  return { periodic, workstations: ws };
}


export function wsName(ip: string): string {
  const p = ip.split('.');
  return `PC-${p[2].padStart(3, '0')}-${p[3].padStart(3, '0')}`;
}

export function tzMs(tz: string): number {
  const m = /^([+-])(\d\d):(\d\d)$/.exec(tz);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000;
}

export function hostCtx(name: string, seed: Rng, domain = name): HostCtx {
  return { computer: name, domain, machineSid: `S-1-5-21-${seed.int(1e9, 4e9)}-${seed.int(1e9, 4e9)}-${seed.int(1e8, 4e9)}`, lsassPid: 4 * seed.int(100, 200) };
}

// ---------------------------------------------------------------- the scenario

export const benignOffice: Scenario = {
  name: 'benign-office',
  description: 'Days of ordinary small-office activity (browsing, DNS, file shares, monitoring every minute, updates, an admin mistyping a password twice); no attack.',
  async run(outDir: string, opts: SimulateOptions) {
    const seed = opts.seed ?? 1;
    const scale = opts.scale ?? 1;
    const pr = params({ ...OFFICE_DEFAULTS, start: '2024-06-12T00:00:00', days: 1 }, opts.params);
    const rng = new Rng(seed);
    const ev = new EvidenceSet(outDir, rng.fork('files'), opts.format ?? 'pcap');
    const start = localTime(pr.start, pr.tz);
    const end = start + pr.days * 86400000;
    const net = ev.capture('office', pr.homeNets);
    const fsHost = hostCtx(pr.fileServer.name, rng.fork('fs'), pr.domain);
    const logs = new Map([[pr.fileServer.ip, { writer: ev.log(`${pr.fileServer.name}-Security.evtx`), host: fsHost }]]);
    const tl = new Timeline((t) => ev.advance(t));
    const { periodic } = scheduleOffice(tl, net, rng.fork('office'), pr, start, end, { netWindows: [[start, end]], logs, scale });
    tl.run();
    const evidence = ev.close();
    const truth: Truth = {
      scenario: 'benign-office', seed, scale, timezone: pr.tz, home_nets: pr.homeNets, attackers: [], compromised: [], c2: [],
      entry: null, steps: [], benign_periodic: periodic, evidence,
    };
    return { outDir, truth, truthPath: writeTruth(outDir, truth) };
  },
};
