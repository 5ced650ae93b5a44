import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileQuery, parseTime, QueryError } from '../../src/search/query.js';

const opts = { tz: 'Asia/Shanghai' };

test('times without an offset are read in the case time zone', () => {
  assert.equal(parseTime('2024-06-04T03:36', 'Asia/Shanghai'), Date.UTC(2024, 5, 3, 19, 36));
  assert.equal(parseTime('2024-06-04T03:36Z', 'Asia/Shanghai'), Date.UTC(2024, 5, 4, 3, 36));
  assert.equal(parseTime('2024-06-04 03:36:05+02:00', 'UTC'), Date.UTC(2024, 5, 4, 1, 36, 5));
  assert.equal(parseTime('2024-01-15T12:00', 'America/New_York'), Date.UTC(2024, 0, 15, 17, 0));
  assert.equal(parseTime('2024-07-15T12:00', 'America/New_York'), Date.UTC(2024, 6, 15, 16, 0));
  assert.throws(() => parseTime('yesterday', 'UTC'), QueryError);
});

test('queries compile to SQL with escaped literals', () => {
  const sql = compileQuery('src=80.66.1.15 and dport=445', opts);
  assert.match(sql, /src_ip = '80\.66\.1\.15'/);
  assert.match(sql, /dst_port = 445/);
  const inj = compileQuery(`user="x' or 1=1 --"`, opts);
  assert.ok(inj.includes("'x'' or 1=1 --'"), inj);
});

test('CIDR, either-side fields, negation, wildcards, datasets', () => {
  assert.match(compileQuery('ip=80.66.1.0/24', opts), /spoor_ip4\(src_ip\) BETWEEN 1346502912 AND 1346503167\) OR \(spoor_ip4\(dst_ip\)/);
  assert.match(compileQuery('not proto=udp', opts), /NOT coalesce/);
  assert.match(compileQuery('user=admin*', opts), /ILIKE 'admin%'/);
  assert.match(compileQuery('http and uri~.jsp', opts), /dataset = 'http'.*ILIKE '%\.jsp%'/);
});

test('bad queries explain themselves', () => {
  assert.throws(() => compileQuery('srcip=1.2.3.4', opts), /unknown field/);
  assert.throws(() => compileQuery('src=1.2.3', opts), /not an address/);
  assert.throws(() => compileQuery('(src=1.2.3.4', opts), /expected '\)'/);
  assert.throws(() => compileQuery('dport=http', opts), /needs a number/);
  assert.throws(() => compileQuery('src', opts), /expected an operator/);
});
