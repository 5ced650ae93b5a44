import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../support/corpus.js';
import { validateIncidentFile } from '../../src/incident/validate.js';
import type { IncidentFile } from '../../src/incident/types.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

async function spoor(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [cli, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('investigate over a folder of junk reports each file and exits 3; the case is complete and valid', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-junk-'));
  try {
    const ev = join(dir, 'evidence');
    await mkdir(join(ev, 'sub'), { recursive: true });
    await writeFile(join(ev, 'notes.txt'), 'hello, not evidence\n');
    await writeFile(join(ev, 'empty.pcap'), '');
    await writeFile(join(ev, 'sub', 'fake.evtx'), Buffer.alloc(5000, 0x41));
    // a real-looking but truncated EVTX header and a truncated pcap header: recognised, damaged
    const evtxHead = Buffer.alloc(200);
    evtxHead.write('ElfFile\0', 0, 'latin1');
    await writeFile(join(ev, 'sub', 'truncated.evtx'), evtxHead);
    const pcapHead = Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0, 1, 2, 3]);
    await writeFile(join(ev, 'cap.bin'), pcapHead);
    await writeFile(join(ev, 'junk.gz'), gzipSync(Buffer.from('still junk')));
    const out = join(dir, 'case');
    const r = await spoor(['investigate', ev, join(dir, 'does-not-exist'), '--out', out, '--tz', 'UTC', '--quiet']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout.trim(), out);
    for (const name of ['notes.txt', 'empty.pcap', 'fake.evtx', 'junk.gz', 'does-not-exist']) assert.match(r.stderr, new RegExp(name.replace('.', '\\.')));
    const file = JSON.parse(await readFile(join(out, 'incident.json'), 'utf8')) as IncidentFile;
    assert.equal(validateIncidentFile(file), null);
    const skipped = new Map(file.skipped.map((s) => [s.path.split('/').pop(), s.reason]));
    assert.equal(skipped.get('notes.txt'), 'unrecognised format');
    assert.equal(skipped.get('empty.pcap'), 'empty file');
    assert.equal(skipped.get('junk.gz'), 'unrecognised format inside gzip');
    assert.equal(skipped.get('does-not-exist'), 'no such file or folder');
    const formats = new Map(file.evidence.map((e) => [e.path.split('/').pop(), e]));
    assert.equal(formats.get('truncated.evtx')?.format, 'evtx');
    assert.equal(formats.get('cap.bin')?.format, 'pcap');
    assert.ok((formats.get('cap.bin')?.errors ?? 0) > 0, 'truncated capture counts as damaged');
    assert.match(formats.get('cap.bin')?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(file.incidents, []);
    const files = await readdir(out);
    for (const f of ['incident.json', 'report.zh.md', 'report.en.md', 'report.html', 'case.duckdb']) assert.ok(files.includes(f), f);
    // never silently overwritten
    const again = await spoor(['investigate', ev, '--out', out, '--quiet']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists/);
    // and no temporary folders are left behind
    assert.deepEqual((await readdir(dir)).sort(), ['case', 'evidence']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('files that are not evidence are listed but do not make the run partial; an unreadable *.evtx does', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-notes-'));
  try {
    const ev = join(dir, 'evidence');
    await mkdir(ev, { recursive: true });
    await writeFile(join(ev, 'README.md'), '# evidence handed over by the customer\n');
    await writeFile(join(ev, 'hashes.json'), '{"a": 1}\n');
    const out = join(dir, 'case');
    const r = await spoor(['investigate', ev, '--out', out, '--tz', 'UTC', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const file = JSON.parse(await readFile(join(out, 'incident.json'), 'utf8')) as IncidentFile;
    assert.deepEqual(file.skipped.map((s) => s.path.split('/').pop()).sort(), ['README.md', 'hashes.json']);
    // the same folder with a file that claims to be an event log but is not one: evidence went unread
    await writeFile(join(ev, 'Security.evtx'), 'not an event log');
    const r2 = await spoor(['investigate', ev, '--out', join(dir, 'case2'), '--tz', 'UTC', '--quiet']);
    assert.equal(r2.code, 3, r2.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2 with a one-line reason', async () => {
  const r = await spoor(['investigate', '.', '--home-net', '10.0.0.0/99', '--quiet']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /prefix length/);
  const z = await spoor(['investigate', '.', '--tz', 'Mars/Olympus', '--quiet']);
  assert.equal(z.code, 2);
  assert.match(z.stderr, /unknown time zone/);
  const u = await spoor(['frobnicate']);
  assert.equal(u.code, 2);
  const h = await spoor(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Examples:/);
});
