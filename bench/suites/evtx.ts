/**
 * EVTX speed: spoor (1 and 2 worker threads) vs evtxexport vs evtx_dump.py on the
 * same input in the same run, MB/s and records/s; peak RSS of the streaming
 * reader on a large file made by concatenating real chunks.
 *
 * Inputs (deterministic): spoor and evtxexport on the largest files of the corpus
 * (20 in quick mode, 60 otherwise) plus spoor alone on the full corpus;
 * evtx_dump.py (about 0.1-0.2 MB/s) on the 3 (quick) / 6 largest files under 256 KiB.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32, parseEvtxFilesParallel } from '../../src/readers/evtx/index.js';
import { findEvtx } from '../../conformance/suites/evtx.js';

interface Ctx {
  corpus: string;
  repoRoot: string;
  tmp: string;
  quick: boolean;
}

function sh(cmd: string, args: string[]): Promise<{ out: string; ms: number }> {
  const t = performance.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 1 << 30, encoding: 'utf8' }, (_e, stdout) => resolve({ out: stdout ?? '', ms: performance.now() - t }));
  });
}

async function seq(files: string[], cmd: string, count: RegExp): Promise<{ records: number; ms: number }> {
  let records = 0;
  let ms = 0;
  for (const f of files) {
    const r = await sh(cmd, [f]);
    ms += r.ms;
    records += (r.out.match(count) ?? []).length;
  }
  return { records, ms };
}

/** Concatenate real chunks into one big EVTX with a consistent header. */
function buildLarge(files: string[], out: string, targetBytes: number): { bytes: number; chunks: number } {
  const fd = openSync(out, 'w');
  const header = Buffer.alloc(4096);
  readFileSync(files[0]).copy(header, 0, 0, 4096);
  writeSync(fd, header);
  let chunks = 0;
  const buf = Buffer.alloc(65536);
  outer: for (;;) {
    for (const f of files) {
      const size = statSync(f).size;
      const rfd = openSync(f, 'r');
      for (let off = 4096; off + 65536 <= size; off += 65536) {
        readSync(rfd, buf, 0, 65536, off);
        if (buf.toString('latin1', 0, 8) !== 'ElfChnk\0') continue;
        writeSync(fd, buf);
        chunks++;
        if (4096 + chunks * 65536 >= targetBytes || chunks >= 65535) {
          closeSync(rfd);
          break outer;
        }
      }
      closeSync(rfd);
    }
  }
  header.writeBigUInt64LE(0n, 8);
  header.writeBigUInt64LE(BigInt(chunks - 1), 16);
  header.writeUInt16LE(chunks, 42);
  header.writeUInt32LE(header.readUInt32LE(120) & ~1, 120);
  header.writeUInt32LE(crc32(header.subarray(0, 120)), 124);
  writeSync(fd, header, 0, 4096, 0);
  closeSync(fd);
  return { bytes: 4096 + chunks * 65536, chunks };
}

const f1 = (x: number) => x.toFixed(1);
const f0 = (x: number) => Math.round(x).toLocaleString('en-US');

async function suiteRun(ctx: Ctx): Promise<string> {
  const all = findEvtx(ctx.corpus);
  const sized = all.map((f) => ({ f, size: statSync(f).size }));
  const largest = [...sized].sort((a, b) => b.size - a.size || (a.f < b.f ? -1 : 1)).slice(0, ctx.quick ? 20 : 60).map((x) => x.f);
  const largestBytes = largest.reduce((s, f) => s + statSync(f).size, 0);
  const small = sized.filter((x) => x.size <= 262144).sort((a, b) => b.size - a.size || (a.f < b.f ? -1 : 1)).slice(0, ctx.quick ? 3 : 6).map((x) => x.f);
  const smallBytes = small.reduce((s, f) => s + statSync(f).size, 0);
  const allBytes = sized.reduce((s, x) => s + x.size, 0);

  const spoorRun = async (files: string[], workers: number) => {
    await parseEvtxFilesParallel(files.slice(0, 2), { workers }); // warm-up
    const t = performance.now();
    const r = await parseEvtxFilesParallel(files, { workers, chunksPerJob: 16 });
    return { records: r.records, ms: performance.now() - t };
  };
  const s0 = await spoorRun(largest, 0);
  const s1 = await spoorRun(largest, 1);
  const s2 = await spoorRun(largest, 2);
  const ex = await seq(largest, 'evtxexport', /^Event number\t/gm);
  const sAll1 = await spoorRun(all, 1);
  const sAll2 = await spoorRun(all, 2);
  const sSmall = await spoorRun(small, 0);
  const py = await seq(small, 'evtx_dump.py', /<Event xmlns=/g);

  const row = (name: string, bytes: number, r: { records: number; ms: number }, base?: { ms: number }) =>
    `| ${name} | ${(bytes / 1e6).toFixed(1)} | ${f0(r.records)} | ${f1(r.ms / 1000)} | ${f1(bytes / 1e6 / (r.ms / 1000))} | ${f0(r.records / (r.ms / 1000))} | ${base ? f1(base.ms / r.ms) + '×' : ''} |`;

  // memory: stream a large concatenated file in a child process
  const big = join(ctx.tmp, 'spoor-evtx-large.evtx');
  const target = ctx.quick ? 96 * 1024 * 1024 : 512 * 1024 * 1024;
  const built = buildLarge(largest, big, target);
  const script = join(ctx.tmp, 'spoor-evtx-rss.mjs');
  const mod = pathToFileURL(join(ctx.repoRoot, 'dist/src/readers/evtx/index.js')).href;
  writeFileSync(script, `
import { createReadStream } from 'node:fs';
const { evtxReader } = await import(${JSON.stringify(mod)});
const ctx = { evidenceId: 'E1', path: process.argv[2], homeNet: {}, problem: () => {}, stats: { records: 0, errors: 0 } };
const t = performance.now();
let n = 0;
for await (const b of evtxReader.read(createReadStream(process.argv[2], { highWaterMark: 1 << 20 }), ctx)) n += b.length;
console.log(JSON.stringify({ n, ms: performance.now() - t, rssMB: process.resourceUsage().maxRSS / 1024 }));
`);
  const rss = await sh(process.execPath, [script, big]);
  let mem = { n: 0, ms: 0, rssMB: NaN };
  try {
    mem = JSON.parse(rss.out.trim().split('\n').pop()!);
  } catch {
    /* reported as NaN */
  }
  try {
    unlinkSync(big);
    unlinkSync(script);
  } catch {
    /* ignore */
  }

  const md: string[] = [];
  md.push(`Machine: 2 cores shared with other jobs: numbers are noisy (wall-clock, one run). Node ${process.version}.`);
  md.push('');
  md.push(`Same input, same run: the ${largest.length} largest corpus files (${(largestBytes / 1e6).toFixed(1)} MB). spoor reads the files, parses every record into normalized events (including records carved from chunk slack); evtxexport prints its text export (allocated records) to a pipe.`);
  md.push('');
  md.push('| parser | MB | records | s | MB/s | records/s | ratio vs evtxexport |');
  md.push('| --- | --- | --- | --- | --- | --- | --- |');
  md.push(row('evtxexport (libevtx 20181227)', largestBytes, ex));
  md.push(row('spoor, main thread (no worker)', largestBytes, s0, ex));
  md.push(row('spoor, 1 worker', largestBytes, s1, ex));
  md.push(row('spoor, 2 workers', largestBytes, s2, ex));
  md.push('');
  md.push(`Whole corpus (${all.length} files, ${(allBytes / 1e6).toFixed(1)} MB): spoor 1 worker ${f1(allBytes / 1e6 / (sAll1.ms / 1000))} MB/s (${f0(sAll1.records / (sAll1.ms / 1000))} records/s), 2 workers ${f1(allBytes / 1e6 / (sAll2.ms / 1000))} MB/s; speed-up from the second worker ${f1(sAll1.ms / sAll2.ms)}×.`);
  md.push('');
  md.push(`python-evtx on ${small.length} files under 256 KiB (${(smallBytes / 1e6).toFixed(2)} MB):`);
  md.push('');
  md.push('| parser | MB | records | s | MB/s | records/s | ratio vs evtx_dump.py |');
  md.push('| --- | --- | --- | --- | --- | --- | --- |');
  md.push(row('evtx_dump.py (python3-evtx)', smallBytes, py));
  md.push(row('spoor, main thread', smallBytes, sSmall, py));
  md.push('');
  md.push(`Memory: streaming reader over one ${(built.bytes / 1e6).toFixed(0)} MB file (${built.chunks} real chunks concatenated, header fixed up): ${f0(mem.n)} records in ${f1(mem.ms / 1000)} s, peak RSS ${f1(mem.rssMB)} MB (limit 300 MB).`);
  return md.join('\n') + '\n';
}

export default { name: 'evtx', run: suiteRun };
