import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbCaseStore } from '../../src/store/duckdb-store.js';
import { compileQuery } from '../../src/search/query.js';
import type { SpoorEvent } from '../../src/core/event.js';

function events(): SpoorEvent[] {
  const t0 = Date.UTC(2024, 5, 3, 19, 30);
  const out: SpoorEvent[] = [];
  for (let i = 0; i < 2500; i++) {
    out.push({
      '@timestamp': t0 + i * 1000,
      'event.dataset': 'evtx',
      'event.code': '4625',
      'host.name': 'WIN-APP01',
      'source.ip': '198.51.100.23',
      'user.name': i === 7 ? `evil'name|<script>` : 'administrator',
      ref: { evidence: 'E1', record: i + 1 },
      'winlog.event_data': { LogonType: '10', Status: '0xc000006d' },
    });
  }
  out.push({
    '@timestamp': t0 + 3_600_000,
    'event.dataset': 'conn',
    'source.ip': '80.66.1.15',
    'source.port': 49152,
    'destination.ip': '80.66.1.5',
    'destination.port': 445,
    'network.transport': 'tcp',
    ref: { evidence: 'E2', frame: 12, uid: 'Cabc' },
    'conn.uid': 'Cabc',
    'conn.state': 'SF',
  });
  return out;
}

test('events round-trip through the DuckDB store, with columns and JSON data', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-store-test-'));
  try {
    const path = join(dir, 'case.duckdb');
    const store = await DuckDbCaseStore.open(path, { batchRows: 1000 });
    const evs = events();
    await store.appendEvents(evs.slice(0, 1200));
    await store.appendEvents(evs.slice(1200));
    await store.appendFindings([
      {
        id: 'host.bruteforce-1', detector: 'host.bruteforce', attack: ['T1110.001'], severity: 'high', outcome: 'attempt',
        confidence: 0.9, first: evs[0]['@timestamp'], last: evs[2499]['@timestamp'], src: '198.51.100.23', host: 'WIN-APP01',
        summary: { en: 'brute force', zh: '暴力破解' }, evidence: [{ evidence: 'E1', record: 1 }], facts: { failures: 2500 },
      },
    ]);
    await store.putEvidence([{ id: 'E1', path: 'Security.evtx', sha256: 'a'.repeat(64), size: 10, format: 'evtx', records: 2500, errors: 0 }]);
    await store.putRows('problems', [{ evidence: 'E1', offset: 4096, reason: 'bad chunk', severity: 'error' }]);
    await store.putRows('problems', [{ evidence: 'E2', offset: null, reason: 'truncated', severity: 'error' }]);
    const byDs = await store.query('select dataset, count(*) as n from events group by 1 order by 1');
    assert.deepEqual(byDs.map((r) => [r.dataset, Number(r.n)]), [['conn', 1], ['evtx', 2500]]);
    const conn = await store.query('select conn_uid, conn_state, src_ip, dst_port, frame, uid from conn');
    assert.deepEqual(conn, [{ conn_uid: 'Cabc', conn_state: 'SF', src_ip: '80.66.1.15', dst_port: 445, frame: '12', uid: 'Cabc' }]);
    const odd = await store.query(`select user_name, record from events where record = 8`);
    assert.equal(odd[0].user_name, `evil'name|<script>`);
    const f = await store.query(`select id, list_contains(attack, 'T1110.001') as t, json_extract(facts, '$.failures')::int as n from findings`);
    assert.deepEqual(f, [{ id: 'host.bruteforce-1', t: true, n: 2500 }]);
    const p = await store.query('select count(*) as n from problems');
    assert.equal(Number(p[0].n), 2);
    await store.close();

    // reopen read-only: search queries run against the same data
    const ro = await DuckDbCaseStore.open(path, { readOnly: true });
    const where = compileQuery('ip=80.66.1.0/24 and dport=445', { tz: 'UTC' });
    const hits = await ro.query(`select src_ip from events where ${where}`);
    assert.deepEqual(hits, [{ src_ip: '80.66.1.15' }]);
    const win = compileQuery('code=4625 and time>=2024-06-04T03:30 and time<2024-06-04T03:31', { tz: 'Asia/Shanghai' });
    const inWindow = await ro.query(`select count(*) as n from events where ${win}`);
    assert.equal(Number(inWindow[0].n), 60);
    await assert.rejects(ro.query(`insert into events (dataset) values ('x')`));
    await ro.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the worker-thread store holds the same events and answers queries', async () => {
  const { WorkerCaseStore } = await import('../../src/store/worker-store.js');
  const dir = await mkdtemp(join(tmpdir(), 'spoor-store-test-'));
  try {
    const store = await WorkerCaseStore.open(join(dir, 'case.duckdb'), { maxInFlight: 2 });
    const evs = events();
    for (let i = 0; i < evs.length; i += 100) await store.appendEvents(evs.slice(i, i + 100));
    await store.putRows('problems', [{ evidence: 'E1', offset: 1, reason: 'x', severity: 'error' }]);
    const n = await store.query('select count(*) as n, count(distinct record) as r from events');
    assert.deepEqual(n.map((r) => [Number(r.n), Number(r.r)]), [[2501, 2500]]);
    await assert.rejects(store.query('select * from no_such_table'), /no_such_table/);
    await store.close();
    const ro = await DuckDbCaseStore.open(join(dir, 'case.duckdb'), { readOnly: true });
    assert.equal(Number((await ro.query('select count(*) as n from events'))[0].n), 2501);
    await ro.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
