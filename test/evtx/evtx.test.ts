import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusFile, needCorpus } from '../support/corpus.js';
import type { ParseProblem } from '../../src/core/problems.js';
import type { EvtxEvent } from '../../src/core/event.js';
import type { ReaderContext } from '../../src/readers/types.js';
import { evtxReader, parseEvtxBuffer, evtxEventToXml, evtxEventToJson, parseEvtxFilesParallel, crc32 } from '../../src/readers/evtx/index.js';
import { planStats, setExtractionPlans } from '../../src/readers/evtx/extract.js';

const SMB = 'deepbluecli/evtx/smb-password-guessing-security.evtx';
const PTH = 'hayabusa-sample-evtx/EVTX-to-MITRE-Attack/TA0008-Lateral Movement/T1550-Use Alternate Authentication Material/ID4624-Mimikatz Pass the hash.evtx';
const NODEP = 'hayabusa-sample-evtx/EVTX-to-MITRE-Attack/Antivirus/ID1151-Defender health status.evtx';
const CHUNK = 65536;
const HDR = 4096;

function parse(buf: Buffer): { evs: EvtxEvent[]; probs: ParseProblem[] } {
  const probs: ParseProblem[] = [];
  const evs = parseEvtxBuffer(buf, 'E1', (p) => probs.push(p));
  return { evs, probs };
}
const allocated = (evs: EvtxEvent[]) => evs.filter((e) => !e['winlog.recovered']);
const ids = (evs: EvtxEvent[]) => new Set(evs.map((e) => e['winlog.record_id']));
const chunkOf = (e: EvtxEvent) => Math.floor(((e.ref.offset ?? 0) - HDR) / CHUNK);

test('crc32 matches the IEEE check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('Security log: count and 4625 fields match evtxexport / evtx_dump.py', { skip: needCorpus(SMB) }, () => {
  const { evs, probs } = parse(readFileSync(corpusFile(SMB)!));
  // evtxexport prints 3561 records for this file
  assert.equal(allocated(evs).length, 3561);
  assert.equal(probs.filter((p) => p.severity === 'error').length, 0);
  const e = evs.find((x) => x['winlog.record_id'] === 2455)!;
  assert.ok(e);
  // values as evtx_dump.py prints them for record 2455
  assert.equal(e['winlog.event_id'], 4625);
  assert.equal(e['event.code'], '4625');
  assert.equal(e['event.provider'], 'Microsoft-Windows-Security-Auditing');
  assert.equal(e['winlog.provider_guid'], '{54849625-5478-4994-A5BA-3E3B0328C30D}');
  assert.equal(e['winlog.channel'], 'Security');
  assert.equal(e['host.name'], 'DESKTOP-M5SN04R');
  assert.equal(e['winlog.task'], 12544);
  assert.equal(e['winlog.keywords'], '0x8010000000000000');
  assert.equal(e['winlog.process.pid'], 752);
  assert.equal(e['winlog.process.thread.id'], 4068);
  assert.equal(e['winlog.activity_id'], '{B864D168-0B7B-0000-89D1-64B87B0BD201}');
  assert.equal(new Date(e['@timestamp']).toISOString(), '2016-09-19T16:50:06.477Z');
  assert.match(String(e['winlog.time_created']), /^2016-09-19T16:50:06\.47787\d\dZ$/);
  const d = e['winlog.event_data'];
  assert.equal(d.TargetUserName, 'JcDfcZTc');
  assert.equal(d.Status, '0xc000006d');
  assert.equal(d.SubStatus, '0xc0000064');
  assert.equal(d.SubStatus_name, 'no such user');
  assert.equal(d.Status_name, 'bad user name or password');
  assert.equal(d.LogonType, '3');
  assert.equal(d.LogonType_name, 'Network');
  assert.equal(d.LogonProcessName, 'NtLmSsp ');
  assert.equal(d.SubjectLogonId, '0x0');
  assert.equal(e['source.ip'], '192.168.198.149');
  assert.equal(e['source.port'], 50249);
  assert.equal(e['user.name'], 'JcDfcZTc');
  assert.equal(e['user.domain'], '.');
  assert.equal(e['event.outcome'], 'failure');
  assert.equal(e['event.action'], 'logon-failed');
  assert.deepEqual(e.ref, { evidence: 'E1', record: 2455, offset: e.ref.offset });
  const xml = evtxEventToXml(e);
  assert.match(xml, /<Data Name="TargetUserName">JcDfcZTc<\/Data>/);
  assert.match(xml, /<EventRecordID>2455<\/EventRecordID>/);
  const j = JSON.parse(evtxEventToJson(e, 'x.evtx'));
  assert.equal(j.record_id, 2455);
  assert.equal(j.time, '2016-09-19T16:50:06.477Z');
  assert.equal(j.event_data.IpPort, '50249');
});

test('UserData (1102 log cleared) and XML rendering', { skip: needCorpus(PTH) }, () => {
  const buf = readFileSync(corpusFile(PTH)!);
  const evs = parseEvtxBuffer(buf, 'E2', undefined, { xml: true });
  const e = evs.find((x) => x['winlog.record_id'] === 67099)!;
  assert.equal(e['winlog.event_id'], 1102);
  assert.equal(e['winlog.data_kind'], 'UserData');
  assert.equal(e['winlog.user_data_element'], 'LogFileCleared');
  assert.equal(e['winlog.event_data'].SubjectUserName, 'admmig');
  assert.equal(e['winlog.event_data'].SubjectLogonId, '0x1f4c65f');
  assert.equal(e['winlog.computer_name'], 'FS03.offsec.lan');
  const xml = evtxEventToXml(e);
  assert.match(xml, /^<Event xmlns="http:\/\/schemas.microsoft.com\/win\/2004\/08\/events\/event"><System><Provider Name="Microsoft-Windows-Eventlog"/);
  assert.match(xml, /<UserData><LogFileCleared xmlns="http:\/\/manifests.microsoft.com\/win\/2004\/08\/windows\/eventlog"><SubjectUserSid>S-1-5-21-4230534742-2542757381-3142984815-1111<\/SubjectUserSid>/);
  // 4624 of the same file carries LogonType 9 (NewCredentials, pass-the-hash)
  const logon = evs.find((x) => x['winlog.event_id'] === 4624 && x['winlog.event_data'].LogonType === '9');
  assert.ok(logon);
  assert.equal(logon['winlog.event_data'].LogonType_name, 'NewCredentials');
  assert.equal(logon['event.outcome'], 'success');
});

test('binary XML without dependency identifiers (evtxexport aborts on this file)', { skip: needCorpus(NODEP) }, () => {
  const { evs, probs } = parse(readFileSync(corpusFile(NODEP)!));
  assert.equal(probs.filter((p) => p.severity === 'error').length, 0);
  assert.equal(allocated(evs).length, 455);
  assert.ok(evs.every((e) => e['winlog.event_id'] === 1151 && e['winlog.channel'] !== ''));
});

test('streaming reader yields the same events in odd-sized pieces and fills stats', { skip: needCorpus(SMB) }, async () => {
  const buf = readFileSync(corpusFile(SMB)!);
  async function* pieces() {
    for (let i = 0; i < buf.length; i += 9973) yield buf.subarray(i, i + 9973);
  }
  assert.ok(evtxReader.sniff(buf.subarray(0, 4096)));
  assert.ok(!evtxReader.sniff(Buffer.from('not an evtx file')));
  const probs: ParseProblem[] = [];
  const ctx: ReaderContext = { evidenceId: 'E3', path: 'x', homeNet: {} as ReaderContext['homeNet'], problem: (p) => probs.push(p), stats: { records: 0, errors: 0 } };
  const got: EvtxEvent[] = [];
  for await (const batch of evtxReader.read(pieces(), ctx)) got.push(...(batch as EvtxEvent[]));
  const ref = parseEvtxBuffer(buf, 'E3');
  assert.equal(got.length, ref.length);
  assert.deepEqual(got.map((e) => e['winlog.record_id']), ref.map((e) => e['winlog.record_id']));
  assert.equal(ctx.stats.records, ref.length);
  assert.equal(ctx.stats.errors, 0);
  assert.equal(ctx.stats.first, Math.min(...ref.map((e) => e['@timestamp'])));
  assert.equal(ctx.stats.last, Math.max(...ref.map((e) => e['@timestamp'])));
});

// ------------------------------------------------------------------ damage
let origCache: EvtxEvent[] | undefined;
function damageCase(name: string, f: (b: Buffer, orig: EvtxEvent[]) => Buffer, check: (r: { evs: EvtxEvent[]; probs: ParseProblem[] }, orig: EvtxEvent[]) => void) {
  test(`damage: ${name}`, { skip: needCorpus(SMB) }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoor-evtx-'));
    try {
      const orig = (origCache ??= allocated(parseEvtxBuffer(readFileSync(corpusFile(SMB)!), 'E1')));
      const copy = join(dir, 'damaged.evtx');
      writeFileSync(copy, f(Buffer.from(readFileSync(corpusFile(SMB)!)), orig));
      check(parse(readFileSync(copy)), orig);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

const has = (probs: ParseProblem[], re: RegExp, sev?: string) => probs.some((p) => re.test(p.reason) && (!sev || p.severity === sev) && p.evidence === 'E1' && typeof p.offset === 'number');

damageCase('file header and chunk header bytes flipped', (b) => {
  b[HDR - 4096 + 100] ^= 0xff; // inside the CRC-covered header area
  b[HDR + CHUNK * 1 + 60] ^= 0xff; // chunk 1 header, unused field covered by its CRC
  return b;
}, ({ evs, probs }, orig) => {
  assert.ok(has(probs, /file header checksum mismatch/, 'warning'));
  assert.ok(probs.some((p) => /chunk header checksum mismatch/.test(p.reason) && p.offset === HDR + CHUNK + 124));
  assert.deepEqual(ids(allocated(evs)), ids(orig));
});

damageCase('record header destroyed in chunk 2', (b, orig) => {
  const victim = orig.filter((e) => chunkOf(e) === 2)[3];
  b.writeUInt32LE(0xdeadbeef, victim.ref.offset! + 4); // size field
  return b;
}, ({ evs, probs }, orig) => {
  const victim = orig.filter((e) => chunkOf(e) === 2)[3];
  assert.ok(probs.some((p) => p.severity === 'error' && p.offset === victim.ref.offset && /invalid event record header/.test(p.reason)));
  assert.ok(has(probs, /event records checksum mismatch/, 'warning'));
  const got = ids(evs);
  for (const e of orig) if (e !== victim) assert.ok(got.has(e['winlog.record_id']), `record ${e['winlog.record_id']} lost`);
  assert.ok(!got.has(victim['winlog.record_id']));
  // records after the damage were reached by resynchronising: marked recovered
  assert.ok(evs.some((e) => e['winlog.recovered'] && chunkOf(e) === 2));
});

damageCase('template definition corrupted in chunk 3', (b, orig) => {
  // the first record of a chunk defines its template inline: break the template's first element token
  const first = orig.filter((e) => chunkOf(e) === 3)[0];
  const o = first.ref.offset! + 24; // binary XML: fragment header (4), template instance (10), template header (24)
  assert.equal(b[o + 4], 0x0c);
  b[o + 4 + 10 + 24 + 4] = 0x77;
  return b;
}, ({ evs, probs }, orig) => {
  assert.ok(probs.some((p) => p.severity === 'error' && /template at \d+/.test(p.reason)));
  const got = ids(evs);
  for (const e of orig) if (chunkOf(e) !== 3) assert.ok(got.has(e['winlog.record_id']));
  const lost = orig.filter((e) => chunkOf(e) === 3 && !got.has(e['winlog.record_id']));
  assert.ok(lost.length > 0);
  // each lost record is reported with its file offset
  for (const e of lost) assert.ok(probs.some((p) => p.severity === 'error' && p.reason.includes(`at file offset ${e.ref.offset} skipped`)));
});

damageCase('file truncated in the middle of chunk 5', (b) => b.subarray(0, HDR + CHUNK * 5 + 30000), ({ evs, probs }, orig) => {
  assert.ok(has(probs, /truncated/, 'error'));
  const got = ids(evs);
  for (const e of orig) {
    const end = e.ref.offset! - HDR - CHUNK * 5;
    if (chunkOf(e) < 5) assert.ok(got.has(e['winlog.record_id']));
    else if (chunkOf(e) === 5 && end + 2000 < 30000) assert.ok(got.has(e['winlog.record_id']), `record ${e['winlog.record_id']} in the kept part`);
  }
  assert.ok(evs.some((e) => chunkOf(e) === 5));
});

damageCase('chunk 2 zeroed', (b) => {
  b.fill(0, HDR + CHUNK * 2, HDR + CHUNK * 3);
  return b;
}, ({ evs, probs }, orig) => {
  assert.ok(probs.some((p) => p.severity === 'error' && p.offset === HDR + CHUNK * 2 && /all zero/.test(p.reason)));
  const got = ids(evs);
  for (const e of orig) assert.equal(got.has(e['winlog.record_id']), chunkOf(e) !== 2);
});

damageCase('chunk 4 header overwritten with garbage: records carved', (b) => {
  for (let i = 0; i < 512; i++) b[HDR + CHUNK * 4 + i] = (i * 37 + 11) & 0xff;
  return b;
}, ({ evs, probs }, orig) => {
  assert.ok(probs.some((p) => p.severity === 'error' && p.offset === HDR + CHUNK * 4 && /signature/.test(p.reason)));
  const carved = evs.filter((e) => chunkOf(e) === 4);
  const want = orig.filter((e) => chunkOf(e) === 4);
  assert.ok(carved.length >= want.length);
  assert.ok(carved.every((e) => e['winlog.recovered'] === true));
  const got = ids(carved);
  for (const e of want) assert.ok(got.has(e['winlog.record_id']));
  for (const e of orig) if (chunkOf(e) !== 4) assert.ok(ids(evs).has(e['winlog.record_id']));
});

test('random corruption never throws', { skip: needCorpus(SMB) }, () => {
  const base = readFileSync(corpusFile(SMB)!).subarray(0, HDR + CHUNK * 3);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let round = 0; round < 30; round++) {
    const b = Buffer.from(base);
    for (let k = 0; k < 40; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const probs: ParseProblem[] = [];
    assert.doesNotThrow(() => parseEvtxBuffer(b, 'E9', (p) => probs.push(p)));
  }
});

test('worker pool gives the same counts as the inline parser', { skip: needCorpus(SMB, PTH) }, async () => {
  const paths = [corpusFile(SMB)!, corpusFile(PTH)!];
  const r = await parseEvtxFilesParallel(paths, { workers: 2, chunksPerJob: 8 });
  assert.equal(r.files.length, 2);
  assert.equal(r.files[0].records, parseEvtxBuffer(readFileSync(paths[0]), 'x').length);
  assert.equal(r.files[1].records, parseEvtxBuffer(readFileSync(paths[1]), 'x').length);
  const x = await parseEvtxFilesParallel([paths[1]], { workers: 1, mode: 'xml' });
  assert.equal(x.files[0].lines!.length, x.files[0].records);
  assert.match(x.files[0].lines![0], /^<Event xmlns=/);
});

test('slack copies of live records are dropped (one summary), new carved records kept and marked', { skip: needCorpus(SMB) }, async () => {
  const orig = readFileSync(corpusFile(SMB)!);
  const live = allocated(parseEvtxBuffer(orig, 'E1'));
  // a chunk with room for two more records after its free-space offset
  let c = -1;
  let victim: EvtxEvent | undefined;
  let size = 0;
  for (let k = 0; k * CHUNK + HDR < orig.length && c < 0; k++) {
    const inChunk = live.filter((e) => chunkOf(e) === k);
    if (!inChunk.length) continue;
    const last = inChunk[inChunk.length - 1];
    const s = orig.readUInt32LE(last.ref.offset! + 4);
    const free = orig.readUInt32LE(HDR + k * CHUNK + 48);
    if (free + 2 * s <= CHUNK) {
      c = k;
      victim = last;
      size = s;
    }
  }
  assert.ok(victim, 'a chunk with slack room');
  const base = Buffer.from(orig);
  const cs = HDR + c * CHUNK;
  const free = base.readUInt32LE(cs + 48);
  base.fill(0, cs + free, cs + CHUNK); // clean slack: the baseline
  const dirty = Buffer.from(base);
  const rec = orig.subarray(victim!.ref.offset!, victim!.ref.offset! + size);
  rec.copy(dirty, cs + free); // stale copy: same id, same written time
  const newId = Math.max(...live.map((e) => e['winlog.record_id'])) + 1000;
  rec.copy(dirty, cs + free + size);
  dirty.writeUInt32LE(newId, cs + free + size + 8); // a record the live log no longer holds
  dirty.writeUInt32LE(0, cs + free + size + 12);
  // and its EventRecordID substitution value (UInt64 in the values array)
  const idBytes = Buffer.alloc(8);
  idBytes.writeBigUInt64LE(BigInt(victim!['winlog.record_id']));
  const at = rec.indexOf(idBytes, 24);
  assert.ok(at > 0);
  dirty.writeBigUInt64LE(BigInt(newId), cs + free + size + at);

  const dropped = (probs: ParseProblem[]) => probs.map((p) => /^(\d+) record cop(y|ies) carved from chunk slack duplicate/.exec(p.reason)).filter(Boolean).map((m) => Number(m![1]));
  const a = parse(base);
  const b = parse(dirty);
  assert.deepEqual(ids(allocated(b.evs)), ids(allocated(a.evs)));
  const recA = a.evs.filter((e) => e['winlog.recovered']);
  const recB = b.evs.filter((e) => e['winlog.recovered']);
  assert.equal(recB.length, recA.length + 1);
  // the stale copy is not emitted again: the victim's id occurs exactly once
  assert.equal(b.evs.filter((e) => e['winlog.record_id'] === victim!['winlog.record_id']).length, 1);
  const fresh = b.evs.find((e) => e['winlog.record_id'] === newId);
  assert.ok(fresh, 'the new carved record is kept');
  assert.equal(fresh['winlog.recovered'], true);
  assert.equal(fresh['winlog.event_id'], victim!['winlog.event_id']);
  assert.deepEqual(fresh['winlog.event_data'], victim!['winlog.event_data']);
  assert.equal(fresh.ref.offset, cs + free + size);
  // exactly one summary per file, counting one more copy than the baseline, at the copy's offset or before
  const da = dropped(a.probs);
  const db = dropped(b.probs);
  assert.equal(db.length, 1);
  assert.equal(db[0], (da[0] ?? 0) + 1);
  assert.ok(!b.probs.some((p) => p.record === victim!['winlog.record_id'] && /recovered/.test(p.reason)));
  // streaming reader and the pool with one chunk per job agree
  const dir = mkdtempSync(join(tmpdir(), 'spoor-evtx-'));
  try {
    const path = join(dir, 'slack.evtx');
    writeFileSync(path, dirty);
    const ctx: ReaderContext = { evidenceId: 'E1', path, homeNet: {} as ReaderContext['homeNet'], problem: () => {}, stats: { records: 0, errors: 0 } };
    const got: EvtxEvent[] = [];
    async function* one() { yield dirty; }
    for await (const batch of evtxReader.read(one(), ctx)) got.push(...(batch as EvtxEvent[]));
    assert.equal(got.length, b.evs.length);
    for (const per of [1, 1000]) {
      const r = await parseEvtxFilesParallel([path], { workers: 0, chunksPerJob: per, mode: 'events' });
      assert.equal(r.files[0].records, b.evs.length, `chunksPerJob ${per}`);
      assert.equal(r.files[0].events!.filter((e) => e['winlog.recovered']).length, recB.length);
      assert.equal(r.files[0].duplicatesDropped, db[0]);
      assert.equal(r.files[0].events!.filter((e) => e['winlog.record_id'] === victim!['winlog.record_id']).length, 1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compiled extraction plans give exactly the generic walk\'s events', { skip: needCorpus(SMB, PTH, NODEP) }, () => {
  const SYSMON = 'deepbluecli/evtx/metasploit-sysmon.evtx';
  for (const rel of [SMB, PTH, NODEP, SYSMON]) {
    const path = corpusFile(rel);
    if (!path) continue;
    const buf = readFileSync(path);
    const before = planStats.planned;
    const planned = parseEvtxBuffer(buf, 'E1', undefined, { xml: true });
    if (rel === SMB) assert.ok(planStats.planned - before > 3000, 'the Security log takes the plan path');
    setExtractionPlans(false);
    let walked: EvtxEvent[];
    try {
      walked = parseEvtxBuffer(buf, 'E1', undefined, { xml: true });
    } finally {
      setExtractionPlans(true);
    }
    assert.equal(planned.length, walked.length, rel);
    // same fields, same values, same key order (JSON keeps insertion order)
    assert.equal(JSON.stringify(planned), JSON.stringify(walked), rel);
  }
});
