/**
 * Case 2 (../shared/seeds/case2-…): scan → Spring4Shell → .jsp web shell → beacon
 * → SMB sweep of the /24 → one SMB authentication success → second host beaconing
 * to the same C2 — built as records, with benign background around it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../../src/core/event.js';
import { networkDetectors } from '../../../src/detectors/network/index.js';
import { conn, http, rec, run, T0, MIN } from './build.js';

const HOME = ['10.0.0.0/8', '80.1.1.0/24'];
const ATT = '10.3.3.3';
const WEB = '80.1.1.15';
const DB = '80.1.1.5';
const C2 = '124.223.206.156';
const S4S =
  'class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di&class.module.classLoader.resources.context.parent.pipeline.first.suffix=.jsp&class.module.classLoader.resources.context.parent.pipeline.first.directory=webapps/ROOT&class.module.classLoader.resources.context.parent.pipeline.first.prefix=xxx&class.module.classLoader.resources.context.parent.pipeline.first.fileDateFormat=';

function build(): { attack: SpoorEvent[]; background: SpoorEvent[] } {
  let seed = 5;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
  const attack: SpoorEvent[] = [];
  const background: SpoorEvent[] = [];
  // 1. scanner against the web server
  for (let p = 1; p <= 400; p++) attack.push(conn({ ts: T0 + p * 50, src: ATT, dst: WEB, dport: p, state: p === 8080 ? 'SF' : p % 4 ? 'REJ' : 'S0', win: 1024, ttl: 52, ipid: p * 7, seq: p * 99 }));
  // 2. Spring4Shell writes xxx.jsp, 3. which is then used
  attack.push(http(T0 + 10 * MIN, ATT, WEB, { method: 'POST', uri: '/', body: S4S, port: 8080, status: 200 }));
  attack.push(http(T0 + 11 * MIN, ATT, WEB, { uri: '/xxx.jsp?pwd=j&cmd=whoami', port: 8080, status: 200, resp: 'nt authority\\system' }));
  // 4. the web server beacons to the C2
  for (let t = T0 + 15 * MIN; t < T0 + 8 * 60 * MIN; t += 60_000 + Math.round((rnd() - 0.5) * 4000)) attack.push(conn({ ts: t, src: WEB, dst: C2, dport: 443, ob: 310 + Math.round(rnd() * 6), dur: 200 }));
  // 5. sweep of the /24 over SMB, 6. one success
  for (let i = 1; i < 255; i++) if (i !== 15) attack.push(conn({ ts: T0 + 60 * MIN + i * 200, src: WEB, dst: `80.1.1.${i}`, dport: 445, state: i === 5 ? 'SF' : 'S0' }));
  attack.push(rec('ntlm', T0 + 65 * MIN, WEB, DB, 445, { 'user.name': 'administrator', 'event.outcome': 'success' }));
  // 7. the second host beacons to the same address
  for (let t = T0 + 70 * MIN; t < T0 + 8 * 60 * MIN; t += 60_000 + Math.round((rnd() - 0.5) * 4000)) attack.push(conn({ ts: t, src: DB, dst: C2, dport: 443, ob: 305 + Math.round(rnd() * 6), dur: 180 }));

  // benign background: users browsing, DNS to the internal resolver, a monitor polling every minute, site visitors
  for (let h = 100; h < 110; h++) {
    let t = T0 + h * 1000;
    while (t < T0 + 8 * 60 * MIN) {
      const site = `151.101.${h}.${Math.floor(rnd() * 4)}`;
      background.push(conn({ ts: t, src: `80.1.1.${h}`, dst: site, dport: 443, ob: Math.round(400 + rnd() * 30_000), dur: Math.round(rnd() * 20_000) }));
      background.push(rec('dns', t - 5, `80.1.1.${h}`, '80.1.1.2', 53, { 'dns.question.name': `www.site${Math.floor(rnd() * 50)}.example`, 'dns.resolved_ip': [site] }));
      t += Math.round(-Math.log(1 - rnd()) * 12 * MIN) + 1000;
    }
  }
  for (let t = T0; t < T0 + 8 * 60 * MIN; t += 60_000) {
    for (const target of [WEB, DB, '80.1.1.20']) {
      background.push(conn({ ts: t, src: '80.1.1.3', dst: target, dport: 8080, ob: 90, dur: 20 }));
      background.push(http(t + 1, '80.1.1.3', target, { uri: '/health', status: 200, ua: 'check_http/v2.3' }));
    }
  }
  for (let i = 0; i < 200; i++) {
    const v = `10.20.${i % 7}.${(i % 200) + 1}`;
    background.push(http(T0 + i * 90_000, v, WEB, { uri: ['/', '/index.jsp', '/products?id=3', '/static/app.js'][i % 4], port: 8080, ua: 'Mozilla/5.0' }));
  }
  return { attack, background };
}

test('case 2: every step of the chain, in order, and nothing on the background', () => {
  const { attack, background } = build();
  const f = run(networkDetectors, [...attack, ...background], HOME);
  if (process.env.SPOOR_PRINT_FINDINGS) for (const x of f) console.log(JSON.stringify({ d: x.detector, o: x.outcome, s: x.severity, c: x.confidence, en: x.summary.en, zh: x.summary.zh, ev: x.evidence.length }));
  const step = (name: string, pred: (x: (typeof f)[number]) => boolean) => {
    const hit = f.find(pred);
    assert.ok(hit, `missing step: ${name}\n${f.map((x) => `${x.detector} ${x.src}>${x.dst} ${x.outcome}`).join('\n')}`);
    return hit!;
  };
  const scan = step('scan', (x) => x.detector === 'net.scan' && x.src === ATT && x.dst === WEB);
  const exploit = step('exploit', (x) => x.detector === 'net.web-exploit' && x.facts!.cve === 'CVE-2022-22965');
  const shell = step('webshell', (x) => x.detector === 'net.webshell' && x.facts!.path === '/xxx.jsp');
  const beacon1 = step('beacon 1', (x) => x.detector === 'net.c2' && x.src === WEB && x.facts!.c2 === C2);
  const sweep = step('sweep', (x) => x.detector === 'net.lateral' && x.facts!.kind === 'sweep' && x.src === WEB);
  const auth = step('auth success', (x) => x.detector === 'net.lateral' && x.facts!.kind === 'auth-after-sweep' && x.dst === DB);
  const beacon2 = step('beacon 2', (x) => x.detector === 'net.c2' && x.src === DB && x.facts!.c2 === C2);
  assert.equal(exploit.outcome, 'compromised');
  assert.equal(shell.outcome, 'compromised');
  assert.equal(beacon1.outcome, 'compromised');
  assert.equal(beacon2.outcome, 'compromised');
  assert.equal(sweep.outcome, 'succeeded');
  const order = [scan, exploit, beacon1, sweep, auth, beacon2].map((x) => x.first);
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  assert.ok(shell.first >= exploit.first && shell.last >= exploit.first);
  assert.ok((beacon2.facts!.otherInternalSources as string[]).includes(WEB));
  // nothing about background actors
  const bg = new Set(['80.1.1.3', '80.1.1.2', '80.1.1.20', ...Array.from({ length: 10 }, (_, i) => `80.1.1.${100 + i}`)]);
  const noisy = f.filter((x) => bg.has(x.src ?? '') || (x.host && bg.has(x.host)) || (x.src ?? '').startsWith('10.20.'));
  assert.deepEqual(noisy.map((x) => `${x.detector} ${x.src}>${x.dst}`), []);
  // and the background alone yields nothing
  assert.deepEqual(run(networkDetectors, background, HOME).map((x) => `${x.detector} ${x.src}>${x.dst}`), []);
});

test('case 1 shape: RDP brute force in, success, then the server scans outward with masscan and mines', () => {
  const SRV = '10.0.0.5';
  const ev: SpoorEvent[] = [];
  for (let i = 0; i < 30; i++) {
    const c = conn({ ts: T0 + i * 4000, src: '185.1.2.3', dst: SRV, dport: 3389, dur: 1800, ob: 1500, rb: 2500 });
    ev.push(c, rec('rdp', T0 + i * 4000 + 5, '185.1.2.3', SRV, 3389, { 'rdp.cookie': 'administrator' }, c['conn.uid'] as string));
  }
  ev.push(conn({ ts: T0 + 10 * MIN, src: '185.1.2.3', dst: SRV, dport: 3389, dur: 50 * MIN, ob: 900_000, rb: 8_000_000 }));
  for (let i = 0; i < 300; i++) {
    const dst = `61.${(i >> 8) & 255}.${i & 255}.9`;
    const seq = (i * 40503 + 77) >>> 0;
    const ipv4 = dst.split('.').reduce((a, b) => a * 256 + Number(b), 0);
    ev.push(conn({ ts: T0 + 70 * MIN + i * 20, src: SRV, dst, dport: 3389, state: 'S0', ttl: 255, win: 1024, ipid: ((ipv4 ^ 3389 ^ seq) & 0xffff) >>> 0, seq }));
  }
  ev.push(rec('stratum', T0 + 80 * MIN, SRV, '51.15.1.2', 3333, { 'stratum.method': 'login', 'stratum.agent': 'XMRig/6.2' }));
  const f = run(networkDetectors, ev);
  const bf = f.find((x) => x.detector === 'net.bruteforce')!;
  assert.equal(bf.outcome, 'succeeded');
  assert.equal(bf.host, SRV);
  const sc = f.find((x) => x.detector === 'net.scan')!;
  assert.equal(sc.outcome, 'compromised');
  assert.equal(sc.facts!.tool, 'masscan');
  assert.ok(f.some((x) => x.detector === 'net.mining' && x.host === SRV));
  assert.ok(bf.first < sc.first);
});
