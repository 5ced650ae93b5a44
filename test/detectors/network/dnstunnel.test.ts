import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoorEvent } from '../../../src/core/event.js';
import { dnsTunnelDetector, baseDomain, encodedSubdomain } from '../../../src/detectors/network/dnstunnel.js';
import { rec, run, T0 } from './build.js';

const q = (i: number, src: string, name: string, type = 'A') => rec('dns', T0 + i * 1000, src, '10.0.0.53', 53, { 'dns.question.name': name, 'dns.question.type': type });
/** Deterministic encoded-looking label (base32 alphabet). */
function label(i: number, n = 40): string {
  const abc = 'abcdefghijklmnopqrstuvwxyz234567';
  let x = i * 2654435761 + 12345;
  let s = '';
  for (let k = 0; k < n; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += abc[x >>> 27];
  }
  return s;
}

test('names and encodings: registered domain, encoded subdomains', () => {
  assert.equal(baseDomain('a.b.example.com'), 'example.com');
  assert.equal(baseDomain('x.y.example.co.uk'), 'example.co.uk');
  assert.equal(encodedSubdomain(label(1)), true);
  assert.equal(encodedSubdomain('546b03f50000000000a6023ed4df184d6ac5c2628b47714f'), true);
  assert.equal(encodedSubdomain('www'), false);
  assert.equal(encodedSubdomain('images-na.ssl-images-amazon'), false);
});

test('a host sending encoded data in many names under one domain is a DNS tunnel (compromised)', () => {
  const ev = Array.from({ length: 150 }, (_, i) => q(i, '10.0.2.30', `${label(i)}.t.pirate.sea`, 'NULL'));
  const f = run(dnsTunnelDetector, ev);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'compromised');
  assert.equal(f[0].host, '10.0.2.30');
  assert.equal(f[0].facts!.domain, 'pirate.sea');
  assert.ok(f[0].attack.includes('T1071.004'));
  assert.ok(f[0].evidence.length >= 3 && f[0].evidence.every((r) => r.uid && r.frame));
  assert.match(f[0].summary.zh, /DNS/);
});

test('TXT command fetches under one domain are a command channel; dnscat2 names are recognised across domains', () => {
  const txt = Array.from({ length: 40 }, (_, i) => q(i, '192.168.100.121', `l.${i % 19}.ns.ostrykebs.pl`, 'TXT'));
  const f = run(dnsTunnelDetector, txt);
  assert.equal(f.length, 1);
  assert.deepEqual(f[0].facts!.reasons, ['txt-null-names>=15']);
  // dnscat2 direct mode: every name is its own "domain"
  const hex = (i: number, n: number) => Buffer.from(label(i, n)).toString('hex').slice(0, n);
  const dc = Array.from({ length: 40 }, (_, i) => q(i, '192.168.220.56', `dnscat.${hex(i, 60)}.${hex(i + 500, 30)}`, ['MX', 'TXT', 'CNAME'][i % 3]));
  const g = run(dnsTunnelDetector, dc);
  assert.equal(g.length, 1);
  assert.equal(g[0].facts!.tool, 'dnscat2');
  assert.deepEqual(g[0].facts!.reasons, ['encoded-queries>=30']);
});

test('one query carrying a gzip file header in its name is exfiltration', () => {
  const f = run(dnsTunnelDetector, [q(0, '192.168.2.225', 'H4sICN03A2QAA3Rlc3QudHh0AAvJyCxWAKJEheLU5KLUEoW0zJxULgAge-.4S2FgAAAA-.test.txt')]);
  assert.equal(f.length, 1);
  assert.equal(f[0].outcome, 'succeeded');
  assert.ok(f[0].attack.includes('T1048.003'));
  assert.equal(run(dnsTunnelDetector, [q(0, '192.168.2.225', 'h4sicn03a2qaa3rlc3qudhh0.example.org')]).length, 0, 'base64 is case-sensitive');
});

test('benign DNS stays quiet: CDN names, blocklist and reverse lookups, service records, mail-server TXT', () => {
  const ev: SpoorEvent[] = [];
  // a browser touching 150 CDN hosts under one domain (readable names, A/AAAA)
  for (let i = 0; i < 150; i++) ev.push(q(i, '10.0.0.5', `img${i}.static.cdn-example.net`, i % 2 ? 'A' : 'AAAA'));
  // a mail server checking senders against a DNS blocklist (TXT and A on reversed addresses)
  for (let i = 0; i < 120; i++) ev.push(q(i, '10.0.0.25', `${i % 250}.${(i * 7) % 250}.113.203.zen.spamhaus.org`, i % 2 ? 'TXT' : 'A'));
  // SPF/DMARC/DKIM lookups of many sender domains
  for (let i = 0; i < 60; i++) ev.push(q(i, '10.0.0.25', `_dmarc.sender${i}.example`, 'TXT'), q(i, '10.0.0.25', `sender${i}.example`, 'TXT'));
  // reverse lookups and service records
  for (let i = 0; i < 120; i++) ev.push(q(i, '10.0.0.7', `${i}.1.168.192.in-addr.arpa`, 'PTR'), q(i, '10.0.0.7', `_ldap._tcp.dc${i}._msdcs.corp.example`, 'SRV'));
  assert.deepEqual(run(dnsTunnelDetector, ev), []);
});
