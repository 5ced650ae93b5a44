/**
 * A worker-thread pool over EVTX files: small files are one job each, large files
 * are split into ranges of chunks (chunks are independent: each has its own
 * string and template tables). Used by the benchmark and `spoor dump`.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { EvtxEvent } from '../../core/event.js';
import type { ParseProblem } from '../../core/problems.js';
import { CHUNK_SIZE, ChunkTracker, FILE_HEADER_SIZE, parseFileHeader, type ParseOptions } from './parse.js';
import { evtxEventToJson, evtxEventToXml } from './xml.js';

export type JobMode = 'count' | 'jsonl' | 'xml' | 'events';

export interface WorkerJob {
  path: string;
  evidenceId: string;
  /** First and one-past-last chunk index of this job. */
  fromChunk: number;
  toChunk: number;
  /** Whether this job reads and checks the file header (the first job of a file). */
  header: boolean;
  mode: JobMode;
}

export interface JobResult {
  records: number;
  recovered: number;
  errors: number;
  warnings: number;
  bytes: number;
  chunks: number;
  problems: ParseProblem[];
  /** jsonl/xml modes: one string per record; events mode: the events. */
  lines?: string[];
  events?: EvtxEvent[];
}

/** Run one job in the current thread (the worker calls this; also usable inline). */
export function runJob(job: WorkerJob): JobResult {
  const res: JobResult = { records: 0, recovered: 0, errors: 0, warnings: 0, bytes: 0, chunks: 0, problems: [] };
  const o: ParseOptions = {
    evidenceId: job.evidenceId,
    xml: job.mode === 'xml',
    problem: (p) => {
      if (p.severity === 'error') res.errors++;
      else res.warnings++;
      if (res.problems.length < 1000) res.problems.push(p);
    },
  };
  const fd = openSync(job.path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(FILE_HEADER_SIZE, size));
    readSync(fd, head, 0, head.length, 0);
    const header = parseFileHeader(head, job.header ? o : { evidenceId: job.evidenceId });
    if (size < FILE_HEADER_SIZE) {
      if (job.header) o.problem!({ evidence: job.evidenceId, offset: size, reason: `file truncated inside its header (${size} bytes)`, severity: 'error' });
      return res;
    }
    if (job.header) res.bytes += FILE_HEADER_SIZE;
    const tracker = new ChunkTracker(o, header);
    const buf = Buffer.allocUnsafe(CHUNK_SIZE);
    const evs: EvtxEvent[] = [];
    const lines: string[] | undefined = job.mode === 'jsonl' || job.mode === 'xml' ? [] : undefined;
    const all: EvtxEvent[] | undefined = job.mode === 'events' ? [] : undefined;
    for (let idx = job.fromChunk; idx < job.toChunk; idx++) {
      const off = FILE_HEADER_SIZE + idx * CHUNK_SIZE;
      if (off >= size) break;
      const n = readSync(fd, buf, 0, Math.min(CHUNK_SIZE, size - off), off);
      if (n <= 0) break;
      evs.length = 0;
      const info = tracker.chunk(n === CHUNK_SIZE ? buf : buf.subarray(0, n), off, idx, evs);
      res.chunks++;
      res.bytes += n;
      res.records += evs.length;
      res.recovered += info.recovered;
      if (lines) for (const e of evs) lines.push(job.mode === 'xml' ? evtxEventToXml(e) : evtxEventToJson(e, job.path));
      if (all) for (const e of evs) all.push(e);
    }
    if (lines) res.lines = lines;
    if (all) res.events = all;
  } finally {
    closeSync(fd);
  }
  return res;
}

export interface ParallelOptions {
  /** Number of worker threads (default 2). 0 = run inline in this thread. */
  workers?: number;
  mode?: JobMode;
  /** Split files larger than this many chunks into ranges of this many chunks (default 64 = 4 MiB). */
  chunksPerJob?: number;
  /** Evidence id per path (default: the path). */
  evidenceIds?: string[];
  /** Called as each file completes, in file order. */
  onFile?: (index: number, res: JobResult) => void;
}

export interface ParallelResult {
  files: JobResult[];
  records: number;
  bytes: number;
  errors: number;
}

function mergeInto(a: JobResult, b: JobResult): void {
  a.records += b.records;
  a.recovered += b.recovered;
  a.errors += b.errors;
  a.warnings += b.warnings;
  a.bytes += b.bytes;
  a.chunks += b.chunks;
  for (const p of b.problems) if (a.problems.length < 1000) a.problems.push(p);
  if (b.lines) (a.lines ??= []).push(...b.lines);
  if (b.events) (a.events ??= []).push(...b.events);
}

/** Parse many EVTX files over a pool of worker threads; results in file order. */
export async function parseEvtxFilesParallel(paths: string[], workersOrOpts: number | ParallelOptions = 2): Promise<ParallelResult> {
  const opt: ParallelOptions = typeof workersOrOpts === 'number' ? { workers: workersOrOpts } : workersOrOpts;
  const mode = opt.mode ?? 'count';
  const per = Math.max(1, opt.chunksPerJob ?? 64);
  const jobs: { file: number; job: WorkerJob }[] = [];
  const parts: number[] = [];
  paths.forEach((path, file) => {
    let size = 0;
    try {
      const fd = openSync(path, 'r');
      size = fstatSync(fd).size;
      closeSync(fd);
    } catch {
      size = 0;
    }
    const chunks = Math.max(1, Math.ceil((size - FILE_HEADER_SIZE) / CHUNK_SIZE));
    const evidenceId = opt.evidenceIds?.[file] ?? path;
    let n = 0;
    for (let c = 0; c < chunks; c += per) {
      jobs.push({ file, job: { path, evidenceId, fromChunk: c, toChunk: Math.min(chunks, c + per), header: c === 0, mode } });
      n++;
    }
    parts.push(n);
  });
  const results: (JobResult | undefined)[] = new Array(jobs.length);
  const fileRes: JobResult[] = paths.map(() => ({ records: 0, recovered: 0, errors: 0, warnings: 0, bytes: 0, chunks: 0, problems: [] }));
  const jobStart: number[] = [];
  {
    let s = 0;
    for (const n of parts) {
      jobStart.push(s);
      s += n;
    }
  }
  let nextFile = 0;
  const flush = () => {
    while (nextFile < paths.length) {
      const s = jobStart[nextFile];
      const n = parts[nextFile];
      for (let j = s; j < s + n; j++) if (!results[j]) return;
      for (let j = s; j < s + n; j++) {
        mergeInto(fileRes[nextFile], results[j]!);
        results[j] = { records: 0, recovered: 0, errors: 0, warnings: 0, bytes: 0, chunks: 0, problems: [] };
      }
      opt.onFile?.(nextFile, fileRes[nextFile]);
      nextFile++;
    }
  };
  const nw = Math.min(opt.workers ?? 2, jobs.length);
  if (nw <= 0) {
    jobs.forEach((j, i) => {
      results[i] = runJob(j.job);
      flush();
    });
  } else {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      const pool: Worker[] = [];
      const feed = (w: Worker) => {
        if (next >= jobs.length) return;
        const id = next++;
        w.postMessage({ id, job: jobs[id].job });
      };
      for (let i = 0; i < nw; i++) {
        const w = new Worker(new URL('./worker.js', import.meta.url));
        pool.push(w);
        w.on('message', (m: { id: number; res: JobResult }) => {
          results[m.id] = m.res;
          done++;
          flush();
          if (done === jobs.length) {
            for (const x of pool) void x.terminate();
            resolve();
          } else feed(w);
        });
        w.on('error', (e) => {
          for (const x of pool) void x.terminate();
          reject(e);
        });
        feed(w);
      }
      if (jobs.length === 0) resolve();
    });
  }
  flush();
  let records = 0;
  let bytes = 0;
  let errors = 0;
  for (const r of fileRes) {
    records += r.records;
    bytes += r.bytes;
    errors += r.errors;
  }
  return { files: fileRes, records, bytes, errors };
}
