/**
 * Seed case 1: an internet address brute-forces RDP on a Windows Server 2008 R2
 * (RDP 3389 and SMB open), logs on at about 03:36 local time, resets the account's
 * password in that session, brings in a RAR of tools (miner syste64.exe, downloader
 * host.exe, hack tool mz64.exe, masscan.exe), installs the miner as a service, comes
 * back one night four weeks later and scans the internet with masscan. Defender finds
 * the four files when the responders scan the disk.
 *
 * Evidence: Security.evtx, System.evtx, the Defender and LocalSessionManager logs, and a
 * capture of the server's traffic during the two nights (brute force; scanning).
 */
import * as P from '../protocols.js';
import {
  EvidenceSet, Timeline, Rng, iso, localTime, params, writeTruth,
  ev4624, ev4625, ev4634, ev4647, ev4672, ev4688, ev4738, ev7036, ev7045, evDefender, evLsm, evPasswordChange,
  type LogonInfo, type Scenario, type SimulateOptions, type Truth, type TruthStep,
} from './common.js';
import { OFFICE_DEFAULTS, scheduleOffice, hostCtx } from './benign.js';

export const CASE1_DEFAULTS = {
  tz: '+08:00',
  homeNets: ['80.66.1.0/24', '10.0.0.0/8'],
  server: { ip: '80.66.1.5', name: 'APP-SRV01' },
  attacker: '198.51.100.23',
  attackerWorkstation: 'WIN-3D5IB4G2F7K',
  /** second-night logon source (the seed's attacker came back; default: same address) */
  secondIp: '198.51.100.23',
  account: 'administrator',
  sprayUsers: ['administrator', 'admin', 'Administrator', 'user', 'test', 'server', 'guest', 'sa', 'ftpuser', 'backup'],
  bruteStart: '2024-06-04T01:10:00',
  success: '2024-06-04T03:36:12',
  attempts: 2400,
  secondLogin: '2024-07-02T04:02:41',
  responders: '2024-07-04T10:30:00',
  scanBursts: 8,
  probesPerBurst: 1500,
  scanRate: 400,
  scanPorts: [3389, 445, 22],
  scanNets: ['203.0.113.0/24', '198.51.100.0/24', '192.0.2.0/24'],
  pool: { ip: '203.0.113.77', port: 3333 },
  downloader: { ip: '203.0.113.99', port: 8080, everyMinutes: 10 },
  rarBytes: 8 * 1024 * 1024,
  toolDir: 'C:\\Users\\Administrator\\Desktop\\Downloads',
};

function cidrHosts(cidr: string): string[] {
  const [net, bits] = cidr.split('/');
  const b = net.split('.').map(Number);
  const n = 2 ** (32 - Number(bits));
  const base = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  const out: string[] = [];
  for (let i = 1; i < n - 1; i++) { const v = base + i; out.push(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`); }
  return out;
}

export const case1: Scenario = {
  name: 'case1-rdp-bruteforce',
  description: 'RDP brute force of a Windows Server 2008 R2 from the internet, password reset, miner/downloader/hack tools, second night logon, outbound masscan scan.',
  async run(outDir: string, opts: SimulateOptions) {
    const seed = opts.seed ?? 1;
    const scale = opts.scale ?? 1;
    const p = params(CASE1_DEFAULTS, opts.params);
    const rng = new Rng(seed);
    const ev = new EvidenceSet(outDir, rng.fork('files'), opts.format ?? 'pcap');
    const srv = p.server;
    const host = hostCtx(srv.name, rng.fork('host'));
    const sec = ev.log('Security.evtx');
    const sys = ev.log('System.evtx');
    const lsmLog = ev.log('Microsoft-Windows-TerminalServices-LocalSessionManager%4Operational.evtx');
    const def = ev.log('Microsoft-Windows-Windows Defender%4Operational.evtx');
    const net = ev.capture(`${srv.name}-traffic`, p.homeNets);
    const tl = new Timeline((t) => ev.advance(t));
    const r = rng.fork('attack');

    const T = (s: string) => localTime(s, p.tz);
    const bruteStart = T(p.bruteStart);
    const success = T(p.success);
    const second = T(p.secondLogin);
    const responders = T(p.responders);
    const scanStart = second + 24 * 60000;
    const scanEnd = scanStart + p.scanBursts * 45 * 60000;
    const windows: [number, number][] = [[bruteStart - 30 * 60000, success + 4 * 3600000], [second - 30 * 60000, scanEnd + 30 * 60000]];
    const adminSid = `${host.machineSid}-500`;
    const steps: TruthStep[] = [];
    const step = (time: number, src: string | null, dst: string | null, attack_id: string, what: string) => steps.push({ time: iso(time), src, dst, host: srv.name, attack_id, what });

    // ---- background: the office's monitoring, update checks and the admin's own logons to this server
    let periodic: Truth['benign_periodic'] = [];
    if (opts.background !== false) {
      const office = { ...OFFICE_DEFAULTS, tz: p.tz, homeNets: p.homeNets, adminTarget: srv };
      office.servers = office.servers.some((s) => s.ip === srv.ip) ? office.servers : [...office.servers, srv];
      const res = scheduleOffice(tl, net, rng.fork('office'), office, bruteStart - 86400000, responders, {
        netWindows: windows, keep: (a, b) => a === srv.ip || b === srv.ip, logs: new Map([[srv.ip, { writer: sec, host }]]), scale,
      });
      periodic = res.periodic.filter((x) => x.src === srv.ip || x.dst === srv.ip);
      // daily service noise in System.evtx
      for (let d = bruteStart - 86400000; d < responders; d += 86400000) {
        const t = d + r.int(0, 3600000);
        tl.at(t, () => { sys.write(ev7036(host, t, 'Windows Modules Installer', 'running')); });
        tl.at(t + 600000, () => { sys.write(ev7036(host, t + 600000, 'Windows Modules Installer', 'stopped')); });
      }
    }

    // ---- 1. brute force: one RDP (NLA) connection and one 4625 per attempt
    const gap = (success - bruteStart) / p.attempts;
    step(bruteStart, p.attacker, srv.ip, 'T1110.001', `RDP password guessing from ${p.attacker}: ${p.attempts} failed logons (4625, status 0xC000006D)`);
    for (let i = 0; i < p.attempts; i++) {
      const t = bruteStart + i * gap + r.next() * gap * 0.5;
      const user = i % 5 === 4 ? r.pick(p.sprayUsers) : p.account;
      const type = r.chance(0.15) ? 10 : 3;
      tl.at(t, () => {
        const sport = net.ephemeralPort(p.attacker);
        const end = net.tcp({ t, client: p.attacker, server: srv.ip, sport, dport: 3389, rtt: 48, clientTtl: 116, messages: P.rdpNlaExchange(r, user, false), end: 'rst-server' });
        const exists = ['administrator', 'Administrator', 'guest'].includes(user);
        sec.write(ev4625(host, end - 25, { user, domain: type === 3 ? '' : srv.name, type, ip: p.attacker, port: sport, workstation: p.attackerWorkstation, subStatus: exists ? 0xc000006a : 0xc0000064 }));
      });
    }

    // ---- 2. success at ~03:36 local, logon type 10
    const s1: LogonInfo = { user: p.account, userSid: adminSid, domain: srv.name, logonId: BigInt(0x1a2b000 + r.int(0, 0xfff)), type: 10, ip: p.attacker, port: 0, workstation: srv.name };
    const toolDir = p.toolDir;
    const proc = (t: number, l: LogonInfo, image: string, cmd: string, parent: number) => {
      const pid = 4 * r.int(300, 2000);
      sec.write(ev4688(host, t, l, { pid, image, cmd, parentPid: parent }));
      return pid;
    };
    tl.at(success - 2000, () => {
      const sport = net.ephemeralPort(p.attacker);
      s1.port = sport;
      const nla: LogonInfo = { ...s1, type: 3, logonId: s1.logonId - 7n, workstation: p.attackerWorkstation, port: sport };
      // the winning connection carries the whole session, including the RAR pasted over the clipboard
      const msgs = P.rdpNlaExchange(r, p.account, true);
      const rar = Buffer.concat([Buffer.from('Rar!\x1a\x07\x00', 'latin1'), P.opaqueBytes(r, Math.max(64, p.rarBytes - 7))]);
      msgs.push({ from: 'c', data: tlsWrap(rar), gap: 200000 });
      for (let i = 0; i < 20; i++) msgs.push({ from: 's', data: P.tlsAppData(r, r.int(2000, 9000)), gap: r.int(5000, 60000) }, { from: 'c', data: P.tlsAppData(r, r.int(40, 200)), gap: 200 });
      net.tcp({ t: success - 2000, client: p.attacker, server: srv.ip, sport, dport: 3389, rtt: 48, clientTtl: 116, messages: msgs, end: 'fin' });
      sec.write(ev4624(host, success - 600, nla, r));
      sec.write(ev4634(host, success - 500, nla));
      sec.write(ev4624(host, success, s1, r));
      sec.write(ev4672(host, success, s1));
      lsmLog.write(evLsm(host, success + 900, 21, `${srv.name}\\${p.account}`, 2, p.attacker));
    });
    step(success, p.attacker, srv.ip, 'T1021.001', `successful RDP logon (4624 type 10) as ${p.account} from ${p.attacker}`);

    // ---- 3. password reset in that session
    const tPwd = success + 38000;
    tl.at(tPwd - 1500, () => {
      const cmd = proc(tPwd - 3000, s1, 'C:\\Windows\\System32\\cmd.exe', 'cmd.exe', 0x8d4);
      proc(tPwd - 1500, s1, 'C:\\Windows\\System32\\net.exe', `net  user ${p.account} *`, cmd);
      sec.write(evPasswordChange(host, tPwd, 4724, s1, { user: p.account, sid: adminSid }));
      sec.write(ev4738(host, tPwd, s1, { user: p.account, sid: adminSid }, new Date(tPwd + 8 * 3600000).toISOString().slice(0, 19).replace('T', ' ')));
    });
    step(tPwd, p.attacker, srv.ip, 'T1098', `password of ${p.account} reset (4724) by the intruder's session`);

    // ---- 4. tools: RAR over the session, extraction, execution
    const tRar = success + 205000;
    step(tRar, p.attacker, srv.ip, 'T1105', `Downloads.rar (${Math.round(p.rarBytes / 1048576)} MB) copied in over RDP and extracted to ${toolDir}`);
    const tools = {
      miner: `${toolDir}\\syste64.exe`, downloader: `${toolDir}\\host.exe`, hack: `${toolDir}\\mz64.exe`, masscan: `${toolDir}\\masscan.exe`,
    };
    const tExtract = tRar + 60000;
    let explorer = 0x7c4;
    tl.at(tExtract, () => {
      proc(tExtract, s1, 'C:\\Program Files\\WinRAR\\WinRAR.exe', `"C:\\Program Files\\WinRAR\\WinRAR.exe" x -iext -ver -imon1 -- "C:\\Users\\Administrator\\Desktop\\Downloads.rar" "C:\\Users\\Administrator\\Desktop\\"`, explorer);
    });
    const tHack = tExtract + 95000;
    tl.at(tHack, () => { proc(tHack, s1, tools.hack, `"${tools.hack}"`, explorer); });
    step(tHack, null, null, 'T1003.001', 'hack tool mz64.exe run (credential dumping)');
    const tDl = tHack + 120000;
    tl.at(tDl, () => { explorer = proc(tDl, s1, tools.downloader, `"${tools.downloader}"`, explorer) || explorer; });
    step(tDl, srv.ip, p.downloader.ip, 'T1105', `downloader host.exe fetches payloads from ${p.downloader.ip}:${p.downloader.port} every ${p.downloader.everyMinutes} minutes`);
    const tMiner = tDl + 90000;
    tl.at(tMiner, () => {
      const cmd = proc(tMiner - 2000, s1, 'C:\\Windows\\System32\\cmd.exe', 'cmd.exe', explorer);
      proc(tMiner - 1000, s1, 'C:\\Windows\\System32\\sc.exe', `sc  create Syste64 binPath= "${tools.miner} -o ${p.pool.ip}:${p.pool.port} -u 4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge -p x" start= auto`, cmd);
      sys.write(ev7045(host, tMiner, { name: 'Syste64', image: `${tools.miner} -o ${p.pool.ip}:${p.pool.port} -u 4AdUndXH... -p x`, start: 'auto start', account: 'LocalSystem' }));
      sys.write(ev7036(host, tMiner + 1500, 'Syste64', 'running'));
      sec.write(ev4688(host, tMiner + 1400, { ...s1, user: srv.name + '$', userSid: 'S-1-5-18', domain: 'WORKGROUP', logonId: 0x3e7n }, { pid: 4 * r.int(300, 2000), image: tools.miner, cmd: `${tools.miner} -o ${p.pool.ip}:${p.pool.port} -u 4AdUndXH... -p x`, parentPid: 0x1f0 }));
    });
    step(tMiner, srv.ip, `${p.pool.ip}`, 'T1543.003', 'miner syste64.exe installed as service Syste64 (7045)');
    step(tMiner + 3000, srv.ip, p.pool.ip, 'T1496', `syste64.exe mines to ${p.pool.ip}:${p.pool.port} (stratum)`);
    const tOff = tMiner + 1100000;
    tl.at(tOff, () => {
      sec.write(ev4647(host, tOff, s1));
      sec.write(ev4634(host, tOff + 400, s1));
    });

    // miner: one long stratum connection per capture window
    const stratum = (t0: number, t1: number) => {
      const login = JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'login', params: { login: '4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge', pass: 'x', agent: 'XMRig/6.21.0 (Windows NT 6.1; Win64; x64) libuv/1.44.2 msvc/2019', algo: ['rx/0'] } }) + '\n';
      const msgs: P.TcpMsg[] = [{ from: 'c', data: Buffer.from(login) }, { from: 's', data: Buffer.from(JSON.stringify({ id: 1, jsonrpc: '2.0', error: null, result: { id: r.bytes(8).toString('hex'), job: { blob: r.bytes(76).toString('hex'), job_id: r.bytes(4).toString('hex'), target: 'f3220000', algo: 'rx/0', height: 3163000 }, status: 'OK' } }) + '\n'), gap: 60 }];
      let t = t0 + 2000;
      let id = 2;
      while (t < t1) {
        const dt = r.int(60000, 240000);
        t += dt;
        msgs.push({ from: 'c', data: Buffer.from(JSON.stringify({ id, jsonrpc: '2.0', method: 'submit', params: { id: 'w', job_id: r.bytes(4).toString('hex'), nonce: r.bytes(4).toString('hex'), result: r.bytes(32).toString('hex') } }) + '\n'), gap: dt });
        msgs.push({ from: 's', data: Buffer.from(JSON.stringify({ id: id++, jsonrpc: '2.0', error: null, result: { status: 'OK' } }) + '\n'), gap: 60 });
      }
      tl.at(t0, () => { net.tcp({ t: t0, client: srv.ip, server: p.pool.ip, dport: p.pool.port, rtt: 60, serverOs: 'linux', messages: msgs, end: 'rst-client' }); });
    };
    stratum(tMiner + 3000, windows[0][1] - 300000);
    stratum(windows[1][0] + 60000, windows[1][1] - 300000);

    // downloader: periodic HTTP polls to its server (inside the capture windows)
    for (const [a, b] of [[tDl + 5000, windows[0][1]], [windows[1][0] + 30000, windows[1][1]]] as [number, number][]) {
      for (let t = a; t < b; t += p.downloader.everyMinutes * 60000 + r.int(-20000, 20000)) {
        const tt = t;
        tl.at(tt, () => {
          net.tcp({ t: tt, client: srv.ip, server: p.downloader.ip, dport: p.downloader.port, rtt: 55, serverOs: 'linux', messages: [
            { from: 'c', data: P.httpRequest('GET', `/cfg.txt?h=${srv.name}&v=2.1`, [['User-Agent', 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)'], ['Host', `${p.downloader.ip}:${p.downloader.port}`], ['Cache-Control', 'no-cache']]) },
            { from: 's', data: P.httpResponse(200, [['Server', 'HFS 2.3m'], ['Content-Type', 'text/plain']], `http://${p.downloader.ip}:${p.downloader.port}/s64.exe\r\n`), gap: 70 },
          ], end: 'fin-server' });
        });
      }
    }

    // ---- 5. second night: direct logon with the known password, masscan outward
    const s2: LogonInfo = { user: p.account, userSid: adminSid, domain: srv.name, logonId: BigInt(0x5c81000 + r.int(0, 0xfff)), type: 10, ip: p.secondIp, port: 0, workstation: srv.name };
    tl.at(second - 1500, () => {
      const sport = net.ephemeralPort(p.secondIp);
      s2.port = sport;
      const msgs = P.rdpNlaExchange(r, p.account, true);
      for (let i = 0; i < 30; i++) msgs.push({ from: 's', data: P.tlsAppData(r, r.int(2000, 9000)), gap: r.int(5000, 60000) }, { from: 'c', data: P.tlsAppData(r, r.int(40, 200)), gap: 200 });
      net.tcp({ t: second - 1500, client: p.secondIp, server: srv.ip, sport, dport: 3389, rtt: 48, clientTtl: 116, messages: msgs, end: 'fin' });
      const nla: LogonInfo = { ...s2, type: 3, logonId: s2.logonId - 5n, workstation: p.attackerWorkstation };
      sec.write(ev4624(host, second - 500, nla, r));
      sec.write(ev4634(host, second - 400, nla));
      sec.write(ev4624(host, second, s2, r));
      sec.write(ev4672(host, second, s2));
      lsmLog.write(evLsm(host, second + 900, 21, `${srv.name}\\${p.account}`, 3, p.secondIp));
    });
    step(second, p.secondIp, srv.ip, 'T1021.001', `second night-time RDP logon (4624 type 10) as ${p.account} from ${p.secondIp}`);
    tl.at(scanStart - 5000, () => {
      proc(scanStart - 5000, s2, tools.masscan, `masscan.exe -p${p.scanPorts.join(',')} ${p.scanNets.join(' ')} --rate ${p.scanRate}`, 0x9a0);
    });
    tl.at(scanStart + 1800000, () => { lsmLog.write(evLsm(host, tl.now, 24, `${srv.name}\\${p.account}`, 3, p.secondIp)); });
    const targets = p.scanNets.flatMap(cidrHosts);
    for (let b = 0; b < p.scanBursts; b++) {
      const t0 = scanStart + b * 45 * 60000;
      const sport = r.int(40000, 60000);
      // a masscan run: a random permutation of (address, port), each once
      const combos = targets.length * p.scanPorts.length;
      const n = Math.min(p.probesPerBurst, combos);
      const startIdx = r.int(0, combos - 1);
      const stepK = 7919; // co-prime walk over the combination space
      for (let i = 0; i < n; i++) {
        const k = (startIdx + i * stepK) % combos;
        const dst = targets[Math.floor(k / p.scanPorts.length)];
        const dport = p.scanPorts[k % p.scanPorts.length];
        const t = t0 + (i * 1000) / p.scanRate;
        const roll = r.next();
        const answer = roll < 0.03 ? 'open' : roll < 0.12 ? 'closed' : 'filtered';
        tl.at(t, () => { net.synProbe({ t, src: srv.ip, dst, sport, dport, answer, style: 'masscan', rtt: 40 + (k % 30), targetTtl: 50 }); });
      }
    }
    step(scanStart, srv.ip, p.scanNets.join(','), 'T1046', `masscan.exe scans ${p.scanNets.join(', ')} ports ${p.scanPorts.join('/')} from the server (TTL 255, window 1024), ${p.scanBursts} runs`);

    // ---- 6. responders' scan: Defender detections
    const det = [
      { threat: 'Trojan:Win32/CoinMiner.ASG!MTB', id: 2147815011, severity: 'Severe' as const, category: 'Trojan', path: tools.miner },
      { threat: 'TrojanDownloader:Win32/Agent.ABC', id: 2147726418, severity: 'Severe' as const, category: 'Trojan Downloader', path: tools.downloader },
      { threat: 'HackTool:Win64/Mikatz!dha', id: 2147731373, severity: 'High' as const, category: 'Tool', path: tools.hack },
      { threat: 'HackTool:Win32/Masscan', id: 2147722921, severity: 'High' as const, category: 'Tool', path: tools.masscan },
    ];
    det.forEach((d, i) => {
      const t = responders + i * 4000;
      const detId = '{' + [r.bytes(4), r.bytes(2), r.bytes(2), r.bytes(2), r.bytes(6)].map((b) => b.toString('hex').toUpperCase()).join('-') + '}';
      const dd = { time: t, threat: d.threat, threatId: d.id, severity: d.severity, category: d.category, path: d.path, process: 'Unknown', user: `${srv.name}\\${p.account}` };
      tl.at(t, () => { def.write(evDefender(host, 1116, t, dd, detId)); });
      tl.at(t + 2500, () => { def.write(evDefender(host, 1117, t + 2500, dd, detId)); });
    });

    tl.run();
    const evidence = ev.close();
    steps.sort((a, b) => a.time.localeCompare(b.time));
    const truth: Truth = {
      scenario: 'case1-rdp-bruteforce', seed, scale, timezone: p.tz,
      home_nets: p.homeNets,
      attackers: [...new Set([p.attacker, p.secondIp])],
      compromised: [{ ip: srv.ip, host: srv.name, technique: 'T1110.001', since: iso(success) }],
      c2: [p.downloader.ip],
      entry: { host: srv.name, technique: 'T1110.001', time: iso(success), from: p.attacker },
      steps,
      benign_periodic: periodic,
      evidence,
    };
    return { outDir, truth, truthPath: writeTruth(outDir, truth) };
  },
};

/** Application data records carrying a large payload (records aligned to 11 segments). */
function tlsWrap(data: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let o = 0; o < data.length; o += P.TLS_RECORD_PAYLOAD) {
    const chunk = data.subarray(o, o + P.TLS_RECORD_PAYLOAD);
    const h = Buffer.from([23, 3, 3, 0, 0]);
    h.writeUInt16BE(chunk.length, 3);
    out.push(h, chunk);
  }
  return Buffer.concat(out);
}
