import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { openEvidence, recognise, walkPaths } from '../../src/intake/discover.js';
import type { EvidenceReader } from '../../src/readers/types.js';

const fake: EvidenceReader = {
  format: 'fake',
  sniff: (h) => h.subarray(0, 4).toString('latin1') === 'FAKE',
  async *read() {},
};

test('walk: folders recursively in sorted order, missing paths reported not fatal', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-intake-'));
  try {
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'b', 'z.bin'), 'FAKE1');
    await writeFile(join(dir, 'a.bin'), 'x');
    const { files, problems } = await walkPaths([dir, join(dir, 'missing.evtx'), join(dir, 'a.bin')]);
    assert.deepEqual(files.map((f) => f.path), [join(dir, 'a.bin'), join(dir, 'b', 'z.bin')]);
    assert.deepEqual(problems, [{ path: join(dir, 'missing.evtx'), reason: 'no such file or folder' }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('formats are recognised by content, also inside gzip; names do not matter', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-intake-'));
  try {
    await writeFile(join(dir, 'capture.pcap'), 'FAKE content');
    await writeFile(join(dir, 'noext'), gzipSync(Buffer.from('FAKE zipped ' + 'x'.repeat(100000))));
    await writeFile(join(dir, 'Security.evtx'), 'not really');
    await writeFile(join(dir, 'empty'), '');
    await writeFile(join(dir, 'badgz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    const r1 = await recognise(join(dir, 'capture.pcap'), [fake]);
    assert.ok('reader' in r1 && r1.reader.format === 'fake' && !r1.gzip);
    const r2 = await recognise(join(dir, 'noext'), [fake]);
    assert.ok('reader' in r2 && r2.gzip);
    assert.deepEqual(await recognise(join(dir, 'Security.evtx'), [fake]), { reason: 'unrecognised format' });
    assert.deepEqual(await recognise(join(dir, 'empty'), [fake]), { reason: 'empty file' });
    const r5 = await recognise(join(dir, 'badgz'), [fake]);
    assert.ok(!('reader' in r5));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('openEvidence hashes the raw bytes while streaming the decompressed ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spoor-intake-'));
  try {
    const payload = Buffer.alloc(3 << 20, 7);
    const gz = gzipSync(payload);
    await writeFile(join(dir, 'e.gz'), gz);
    const o = openEvidence(join(dir, 'e.gz'), true);
    let n = 0;
    for await (const c of o.stream) n += c.length;
    assert.equal(n, payload.length);
    const d = await o.digest;
    assert.equal(d.sha256, createHash('sha256').update(gz).digest('hex'));
    assert.equal(d.size, gz.length);
    // a consumer that stops early still gets the digest of the whole file
    const o2 = openEvidence(join(dir, 'e.gz'), false);
    for await (const c of o2.stream) {
      void c;
      break;
    }
    assert.equal((await o2.digest).sha256, createHash('sha256').update(gz).digest('hex'));
    // a truncated gzip stream ends with an error, not a hang
    await writeFile(join(dir, 't.gz'), gz.subarray(0, gz.length >> 1));
    const o3 = openEvidence(join(dir, 't.gz'), true);
    await assert.rejects(async () => {
      for await (const c of o3.stream) void c;
    }, /gzip stream damaged/);
    assert.equal((await o3.digest).size, gz.length >> 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
