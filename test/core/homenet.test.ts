import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HomeNet, ipToBigInt, parseCidr, cidrContains, ipv4ToInt } from '../../src/core/homenet.js';

test('default home nets cover RFC 1918, loopback, link-local, ULA and nothing public', () => {
  const h = new HomeNet();
  for (const ip of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '127.0.0.1', '169.254.3.4', 'fd00::1', 'fe80::1', '::1']) {
    assert.equal(h.isInternal(ip), true, ip);
  }
  for (const ip of ['172.32.0.1', '8.8.8.8', '80.66.1.15', '2001:db8::1', '', 'garbage', '1.2.3']) {
    assert.equal(h.isInternal(ip), false, ip);
  }
});

test('custom home nets: the seed cases use public ranges internally', () => {
  const h = new HomeNet(['80.66.1.0/24', '10.0.0.0/8']);
  assert.equal(h.isInternal('80.66.1.15'), true);
  assert.equal(h.isInternal('80.66.2.15'), false);
  assert.equal(h.isInternal('192.168.1.1'), false);
  assert.deepEqual(h.texts, ['80.66.1.0/24', '10.0.0.0/8']);
});

test('CIDR parsing normalises the network and rejects nonsense', () => {
  const c = parseCidr('80.66.1.77/24');
  assert.equal(c.net, BigInt(ipv4ToInt('80.66.1.0')));
  assert.equal(cidrContains(c, '80.66.1.200'), true);
  assert.throws(() => parseCidr('80.66.1.0/33'));
  assert.throws(() => parseCidr('not-an-ip'));
  assert.throws(() => parseCidr('300.1.1.1/8'));
  const v6 = parseCidr('2001:db8::/32');
  assert.equal(cidrContains(v6, '2001:db8:1::5'), true);
  assert.equal(cidrContains(v6, '2001:db9::5'), false);
});

test('IPv6 forms: compressed, full, v4-mapped', () => {
  assert.equal(ipToBigInt('::1')?.value, 1n);
  assert.equal(ipToBigInt('0:0:0:0:0:0:0:1')?.value, 1n);
  assert.equal(ipToBigInt('::ffff:10.0.0.1')?.value, (0xffffn << 32n) | 0x0a000001n);
  assert.equal(ipToBigInt('1::2::3'), null);
  assert.equal(ipToBigInt('12345::'), null);
});
