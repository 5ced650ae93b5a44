/**
 * What the end-to-end seed cases showed wrong: a beacon in an early capture of an evidence set that spans
 * weeks, the scanner's refused probes dating a Spring4Shell compromise, Cobalt Strike's submit.php taken for a
 * web shell, an RDP "brute force" of 0 attempts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../../src/core/event.js';
import { bruteforceDetector } from '../../../src/detectors/network/bruteforce.js';
import { c2Detector } from '../../../src/detectors/network/c2.js';
import { webExploitDetector } from '../../../src/detectors/network/webexploit.js';
import { webshellDetector } from '../../../src/detectors/network/webshell.js';
import { conn, http, rec, run, T0, MIN } from './build.js';

const HOME = ['80.66.1.0/24', '10.0.0.0/8'];
const DAY = 24 * 60 * MIN;
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);

/** An internal monitor polling a server every minute: keeps the capture "on" over [from, to). */
function background(from: number, to: number): SpoorEvent[] {
  const out: SpoorEvent[] = [];
  for (let t = from; t < to; t += MIN) out.push(conn({ ts: t, src: '80.66.1.250', dst: '80.66.1.5', dport: 10050, ob: 38, rb: 17 }));
  return out;
}

/** A downloader polling one URI every ~10 min with constant sizes. */
function poll(from: number, to: number): SpoorEvent[] {
  const out: SpoorEvent[] = [];
  for (let t = from; t < to; t += 10 * MIN + Math.round((rnd() - 0.5) * 40_000)) out.push(conn({ ts: t, src: '80.66.1.5', dst: '203.0.113.99', dport: 8080, ob: 157, rb: 117 }));
  return out;
}

test('a 10-minute poll in the first capture of a weeks-long evidence set is a beacon (per-pair windows)', () => {
  // capture 1: 7 h, the downloader starts 3 h in and polls until the capture ends; capture 2, four weeks later: 8 h
  const c1 = T0;
  const c2 = T0 + 28 * DAY;
  const ev = [...background(c1, c1 + 7 * 60 * MIN), ...poll(c1 + 3 * 60 * MIN, c1 + 7 * 60 * MIN), ...background(c2, c2 + 8 * 60 * MIN)];
  const f = run(c2Detector, ev, HOME).filter((x) => x.outcome === 'compromised');
  assert.equal(f.length, 1, JSON.stringify(f.map((x) => x.summary.en)));
  assert.equal(f[0].host, '80.66.1.5');
  assert.equal(f[0].facts!.c2, '203.0.113.99');
  const b = f[0].facts!.beacon as { score: number; tsScore: number; durScore: number };
  assert.ok(b.score >= 0.7 && b.tsScore >= 0.75, JSON.stringify(b));
  const w = f[0].facts!.beaconWindow as { from: string; to: string };
  assert.ok(Date.parse(w.from) < c1 + DAY && Date.parse(w.to) <= c1 + 7 * 60 * MIN + 15 * MIN, JSON.stringify(w));
  // the same poll continuing in the later capture is scored there too (its best window is reported once)
  const g = run(c2Detector, [...ev, ...poll(c2, c2 + 8 * 60 * MIN)], HOME).filter((x) => x.outcome === 'compromised');
  assert.equal(g.length, 1);
});

test('a poll the evidence saw stop early in a full day is not a beacon; benign periodic traffic stays quiet', () => {
  // 4 h of polling, then 20 h more of capture without it: RITA's duration and histogram parts stay low
  const ev = [...background(T0, T0 + DAY), ...poll(T0 + 60 * MIN, T0 + 5 * 60 * MIN)];
  assert.deepEqual(run(c2Detector, ev, HOME).filter((x) => x.outcome === 'compromised').map((x) => x.dst), []);
  // update checks every 6 h to an outside server over weeks, monitor polling (internal peer): nothing
  const upd: SpoorEvent[] = [];
  for (let d = 0; d < 3; d++) for (let h = 0; h < 24; h += 6) upd.push(conn({ ts: T0 + d * 9 * DAY + h * 60 * MIN + 35 * MIN, src: '80.66.1.5', dst: '203.0.113.200', dport: 80, ob: 151 }));
  const bg = [0, 9, 18].flatMap((d) => background(T0 + d * DAY, T0 + d * DAY + DAY));
  assert.deepEqual(run(c2Detector, [...bg, ...upd], HOME).map((x) => `${x.src}>${x.dst}`), []);
});

const S4S_BODY =
  'class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di' +
  '&class.module.classLoader.resources.context.parent.pipeline.first.suffix=.jsp' +
  '&class.module.classLoader.resources.context.parent.pipeline.first.directory=webapps/ROOT' +
  '&class.module.classLoader.resources.context.parent.pipeline.first.prefix=tomcatwar' +
  '&class.module.classLoader.resources.context.parent.pipeline.first.fileDateFormat=';

test('Spring4Shell: refused scanner probes and the successful exploitation are separate findings', () => {
  const probes = ['/actuator/env', '/admin', '/', '/login'].map((p, i) =>
    http(T0 + i * 2000, '10.10.10.3', '80.66.1.15', { uri: `${p}?class.module.classLoader.URLs%5B0%5D=0`, status: 400, port: 8080 }),
  );
  const exploit = http(T0 + 26 * MIN, '10.10.10.3', '80.66.1.15', { method: 'POST', uri: '/index', body: S4S_BODY, status: 200, port: 8080 });
  const shell = http(T0 + 26 * MIN + 12_000, '10.10.10.3', '80.66.1.15', { uri: '/tomcatwar.jsp?pwd=j&cmd=whoami', status: 200, resp: 'nt authority\\system\n', port: 8080 });
  const f = run(webExploitDetector, [...probes, exploit, shell], HOME).filter((x) => x.facts!.signature === 'spring4shell');
  assert.equal(f.length, 2, JSON.stringify(f.map((x) => x.summary.en)));
  const won = f.find((x) => x.outcome === 'compromised')!;
  const lost = f.find((x) => x.outcome !== 'compromised')!;
  assert.equal(won.first, exploit['@timestamp']);
  assert.equal(won.facts!.requests, 1);
  assert.deepEqual(
    won.evidence.map((r) => r.frame),
    [exploit.ref.frame, shell.ref.frame],
  );
  assert.equal(lost.outcome, 'failed');
  assert.equal(lost.first, probes[0]['@timestamp']);
  assert.equal(lost.facts!.requests, probes.length);
  assert.ok(!lost.evidence.some((r) => r.frame === exploit.ref.frame));
  // the web shell is dated by the accepted write, not by a refused one that named the same file
  const refused = http(T0 + 5 * MIN, '10.10.10.3', '80.66.1.15', { method: 'POST', uri: '/index', body: S4S_BODY, status: 400, port: 8080 });
  const w = run(webshellDetector, [refused, exploit, shell], HOME);
  assert.equal(w.length, 1);
  assert.equal(w[0].first, exploit['@timestamp']);
});

test('Cobalt Strike submit.php to an outside C2 is not a web shell; encrypted posts to our own server still are', () => {
  const blob = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37 + 11) % 256)).toString('latin1');
  const ev: SpoorEvent[] = [];
  for (let i = 0; i < 6; i++)
    ev.push(http(T0 + i * 60_000, '80.66.1.15', '203.0.113.156', { method: 'POST', uri: `/submit.php?id=${1234567 + i}`, body: blob, status: 200, headers: { 'content-type': 'application/octet-stream' } }));
  assert.deepEqual(run(webshellDetector, ev, HOME), []);
  const inbound: SpoorEvent[] = [];
  for (let i = 0; i < 4; i++) inbound.push(http(T0 + i * 60_000, '198.51.100.7', '80.66.1.15', { method: 'POST', uri: '/upload/x.php', body: Buffer.from(blob).toString('base64'), status: 200 }));
  const f = run(webshellDetector, inbound, HOME);
  assert.equal(f.length, 1);
  assert.ok((f[0].facts!.reasons as string[]).includes('encrypted-posts'));
});

test('an RDP session with a "hot" cookie but no short attempt is a logon, not guessing', () => {
  const c = conn({ ts: T0, src: '198.51.100.23', dst: '80.66.1.5', dport: 3389, dur: 40 * MIN, rb: 2_000_000 });
  const f = run(bruteforceDetector, [c, rec('rdp', T0 + 5, '198.51.100.23', '80.66.1.5', 3389, { 'rdp.cookie': 'administrator' }, c['conn.uid'] as string)], HOME);
  assert.deepEqual(f, []);
  for (const x of run(bruteforceDetector, [conn({ ts: T0, src: '198.51.100.9', dst: '80.66.1.5', dport: 3389, dur: 1000 }), c], HOME)) assert.doesNotMatch(x.summary.en, /\b0 attempts/);
});
