/**
 * Case store append rate: spoor's DuckDB appender path vs DuckDB's own bulk
 * loader (read_json over the same events written as NDJSON), same events, same run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpoorEvent } from '../../src/core/event.js';
import { DuckDbCaseStore } from '../../src/store/duckdb-store.js';
import type { BenchContext } from '../run.js';

function makeEvents(n: number): SpoorEvent[] {
  const out: SpoorEvent[] = [];
  const t0 = Date.UTC(2024, 5, 3, 19, 0, 0);
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      out.push({
        '@timestamp': t0 + i * 10,
        'event.dataset': 'evtx',
        'event.code': '4625',
        'event.provider': 'Microsoft-Windows-Security-Auditing',
        'event.outcome': 'failure',
        'host.name': 'WIN-APP01',
        'source.ip': `198.51.100.${i % 250}`,
        'source.port': 40000 + (i % 20000),
        'user.name': 'administrator',
        ref: { evidence: 'E1', record: i + 1 },
        'winlog.channel': 'Security',
        'winlog.record_id': i + 1,
        'winlog.event_id': 4625,
        'winlog.computer_name': 'WIN-APP01',
        'winlog.event_data': { TargetUserName: 'administrator', LogonType: '10', Status: '0xc000006d', SubStatus: '0xc000006a', IpAddress: `198.51.100.${i % 250}` },
      });
    } else {
      out.push({
        '@timestamp': t0 + i * 10,
        'event.dataset': 'conn',
        'source.ip': '80.66.1.15',
        'source.port': 30000 + (i % 30000),
        'destination.ip': `203.0.${(i >> 8) & 255}.${i & 255}`,
        'destination.port': 445,
        'network.transport': 'tcp',
        'network.community_id': '1:abcdefghijklmnopqrstuvwxyz0=',
        ref: { evidence: 'E2', frame: i, uid: `C${i.toString(36)}` },
        'conn.uid': `C${i.toString(36)}`,
        'conn.state': 'S0',
        'conn.history': 'S',
        'source.bytes': 0,
        'destination.bytes': 0,
        'event.duration': 0,
      });
    }
  }
  return out;
}

export default {
  name: 'store',
  async run(ctx: BenchContext): Promise<string> {
    const n = ctx.quick ? 200_000 : 1_000_000;
    const events = makeEvents(n);
    // spoor: appendEvents in batches of 10,000 (as readers deliver them)
    const store = await DuckDbCaseStore.open(join(ctx.tmp, 'a.duckdb'));
    let t = process.hrtime.bigint();
    for (let i = 0; i < n; i += 10_000) await store.appendEvents(events.slice(i, i + 10_000));
    await store.flush();
    const spoorSec = Number(process.hrtime.bigint() - t) / 1e9;
    const count = Number((await store.query('select count(*) as n from events'))[0].n);
    await store.close();
    if (count !== n) throw new Error(`store holds ${count} of ${n} events`);
    // the pipeline's store: the same appender on its own thread (the reader's thread only posts batches)
    const { WorkerCaseStore } = await import('../../src/store/worker-store.js');
    const ws = await WorkerCaseStore.open(join(ctx.tmp, 'w.duckdb'));
    t = process.hrtime.bigint();
    let postNs = 0n;
    for (let i = 0; i < n; i += 10_000) {
      const p0 = process.hrtime.bigint();
      await ws.appendEvents(events.slice(i, i + 10_000));
      postNs += process.hrtime.bigint() - p0;
    }
    await ws.flush();
    const workerSec = Number(process.hrtime.bigint() - t) / 1e9;
    await ws.close();
    // reference: DuckDB's native NDJSON bulk load of the same events into the same table shape
    const nd = join(ctx.tmp, 'events.ndjson');
    writeFileSync(nd, events.map((e) => JSON.stringify(e)).join('\n'));
    const ref = await DuckDbCaseStore.open(join(ctx.tmp, 'b.duckdb'));
    t = process.hrtime.bigint();
    await ref.query(`CREATE TABLE bulk AS SELECT * FROM read_json('${nd}', format = 'newline_delimited', maximum_object_size = 1048576)`);
    const refSec = Number(process.hrtime.bigint() - t) / 1e9;
    await ref.close();
    const rate = (x: number) => Math.round(n / x).toLocaleString('en-US');
    return [
      `Input: ${n.toLocaleString('en-US')} normalized events (half EVTX 4625, half conn records), in memory.`,
      '',
      '| path | seconds | events/s |',
      '| --- | ---: | ---: |',
      `| spoor \`DuckDbCaseStore.appendEvents\` (appender, batches of 10,000) | ${spoorSec.toFixed(2)} | ${rate(spoorSec)} |`,
      `| spoor \`WorkerCaseStore\` (the pipeline's store: appender on its own thread), until flushed | ${workerSec.toFixed(2)} | ${rate(workerSec)} |`,
      `| … of which the reader's thread spent posting batches (incl. waiting when 8 batches are queued) | ${(Number(postNs) / 1e9).toFixed(2)} | ${rate(Number(postNs) / 1e9)} |`,
      `| DuckDB \`read_json\` bulk load of the same events as NDJSON (file already written) | ${refSec.toFixed(2)} | ${rate(refSec)} |`,
      '',
      `Ratio spoor / DuckDB bulk load: ${(refSec / spoorSec).toFixed(2)}× (target ≥ 1,000,000 events/s: ${n / spoorSec >= 1e6 ? 'met' : 'not met'}).`,
    ].join('\n');
  },
};
