import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvtxWriter, encodeSid, encodeGuid, filetimeFromMs, type EvtxEvent } from '../../src/simulate/evtx-writer.js';
import { crc32 } from '../../src/simulate/crc32.js';
import { needTool } from '../support/corpus.js';
import { evtxDumpRecords, evtxexportRecords, compareRecords } from '../../src/simulate/verify.js';
import { parseEvtxBuffer } from '../../src/readers/evtx/index.js';

const dir = mkdtempSync(join(tmpdir(), 'spoor-evtxw-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const SEC = { name: 'Microsoft-Windows-Security-Auditing', guid: '54849625-5478-4994-A5BA-3E3B0328C30D' };
const T0 = Date.UTC(2024, 5, 3, 19, 36, 12, 345);

function event(i: number): EvtxEvent {
  if (i % 3 === 2) {
    return {
      time: T0 + i * 1000, eventId: 4624, provider: SEC, channel: 'Security', computer: 'APP-SRV01', task: 12544, keywords: '0x8020000000000000', pid: 500, tid: 7,
      data: { TargetUserSid: { type: 'sid', value: 'S-1-5-21-1-2-3-500' }, TargetUserName: 'administrator', TargetLogonId: { type: 'hex64', value: 0x1a2b3cn + BigInt(i) }, LogonType: 10, IpAddress: '198.51.100.23', IpPort: String(50000 + i) },
    };
  }
  return {
    time: T0 + i * 1000, eventId: 4625, provider: SEC, channel: 'Security', computer: 'APP-SRV01', task: 12544, keywords: '0x8010000000000000', pid: 500, tid: 7,
    data: { TargetUserName: i % 2 ? 'admin' : 'administrator', Status: { type: 'hex32', value: 0xc000006d }, SubStatus: { type: 'hex32', value: 0xc000006a }, LogonType: 3, WorkstationName: '', IpAddress: '198.51.100.23', IpPort: String(40000 + i), Note: 'a <b> & "c"' },
  };
}

function writeFile(name: string, n: number): string {
  const p = join(dir, name);
  const w = new EvtxWriter(p);
  for (let i = 0; i < n; i++) w.write(event(i));
  const s = w.close();
  assert.equal(s.records, n);
  return p;
}

test('file header, chunk header and record checksums recompute; record sizes and ids are consistent', () => {
  const n = 800; // several chunks
  const buf = readFileSync(writeFile('many.evtx', n));
  assert.equal(buf.subarray(0, 8).toString('latin1'), 'ElfFile\0');
  assert.equal(buf.readUInt32LE(124), crc32(buf, 0, 120), 'file header CRC');
  const chunks = buf.readUInt16LE(42);
  assert.ok(chunks >= 3, `expected several chunks, got ${chunks}`);
  assert.equal(buf.length, 4096 + chunks * 65536);
  assert.equal(Number(buf.readBigUInt64LE(24)), n + 1, 'next record id');
  let expectId = 1;
  for (let c = 0; c < chunks; c++) {
    const ch = buf.subarray(4096 + c * 65536, 4096 + (c + 1) * 65536);
    assert.equal(ch.subarray(0, 8).toString('latin1'), 'ElfChnk\0');
    const free = ch.readUInt32LE(48);
    assert.equal(ch.readUInt32LE(52), crc32(ch, 512, free), `chunk ${c} data CRC`);
    assert.equal(ch.readUInt32LE(124), crc32(ch, 128, 512, crc32(ch, 0, 120)), `chunk ${c} header CRC`);
    assert.ok(65536 - free >= 4, 'libevtx needs slack after the last record');
    let off = 512, last = 0;
    while (off < free) {
      assert.equal(ch.readUInt32LE(off), 0x2a2a, 'record signature');
      const size = ch.readUInt32LE(off + 4);
      assert.equal(ch.readUInt32LE(off + size - 4), size, 'size copy');
      assert.equal(Number(ch.readBigUInt64LE(off + 8)), expectId++);
      assert.equal(ch.readBigUInt64LE(off + 16), filetimeFromMs(T0 + (expectId - 2) * 1000));
      last = off;
      off += size;
    }
    assert.equal(off, free);
    assert.equal(ch.readUInt32LE(44), last, 'last record offset');
    // each chunk defines its templates again: the first record of a chunk holds a resident template
    const tplOff = ch.readUInt32LE(512 + 24 + 4 + 6);
    assert.equal(tplOff, 512 + 24 + 4 + 10, 'first record of a chunk carries its template inline');
    // the template table points at that definition
    const table = [...Array(32).keys()].map((i) => ch.readUInt32LE(384 + 4 * i)).filter(Boolean);
    assert.ok(table.includes(tplOff));
  }
  assert.equal(expectId - 1, n);
});

test('SID and GUID encodings follow the Windows layouts', () => {
  assert.deepEqual([...encodeSid('S-1-5-18')], [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]);
  assert.equal(encodeGuid('{54849625-5478-4994-A5BA-3E3B0328C30D}').toString('hex'), '25968454785494 49a5ba3e3b0328c30d'.replace(' ', ''));
});

test('spoor\'s EVTX reader reads back every record and value', () => {
  const p = writeFile('rt.evtx', 400);
  const evs = parseEvtxBuffer(readFileSync(p), 'T') as unknown as Record<string, unknown>[];
  assert.equal(evs.length, 400);
  const e = evs[2];
  assert.equal(e['winlog.event_id'], 4624);
  assert.equal(e['@timestamp'], T0 + 2000);
  const d = e['winlog.event_data'] as Record<string, string>;
  assert.equal(d.TargetUserName, 'administrator');
  assert.equal(d.TargetUserSid, 'S-1-5-21-1-2-3-500');
  assert.equal(BigInt(d.TargetLogonId), 0x1a2b3cn + 2n);
  const f = evs[1]['winlog.event_data'] as Record<string, string>;
  assert.equal(f.Note, 'a <b> & "c"');
  assert.equal(BigInt(f.Status), 0xc000006dn);
});

test('evtxexport and evtx_dump.py read the same records and values', { skip: needTool('evtxexport') || needTool('evtx_dump.py') }, async () => {
  const p = writeFile('tools.evtx', 300);
  const a = await evtxexportRecords(p);
  const b = await evtxDumpRecords(p);
  assert.equal(a.records.length, 300);
  assert.equal(b.records.length, 300);
  const cmp = compareRecords(a.records, b.records);
  assert.deepEqual(cmp.mismatches, []);
  assert.equal(a.records[1].data.Note, 'a <b> & "c"');
  assert.equal(a.records[1].data.Status, '0xc000006d');
  assert.equal(a.records[2].timeMs, T0 + 2000);
});
