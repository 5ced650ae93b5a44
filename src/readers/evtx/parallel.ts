/**
 * A worker-thread pool over EVTX files: small files are one job each, large files
 * are split into ranges of chunks (chunks are independent: each has its own
 * string and template tables). Used by the benchmark and `spoor dump`.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { EvtxEvent } from '../../core/event.js';
import type { ParseProblem } from '../../core/problems.js';
import { readFileSync } from 'node:fs';
import { CHUNK_SIZE, CarveDedup, ChunkTracker, FILE_HEADER_SIZE, parseFileHeader, type ParseOptions } from './parse.js';
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
  /** The job covers the whole file (carved records are settled in the job). */
  whole?: boolean;
  mode: JobMode;
}

/** A carved record of a partial-file job, settled against the whole file's live records by the pool. */
export interface CarvedEntry {
  id: number;
  t: number;
  offset: number;
  where: string;
  line?: string;
  event?: EvtxEvent;
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
  /** Carved copies of records already read that were dropped. */
  duplicatesDropped: number;
  firstDropOffset?: number;
  /** Partial-file jobs: live (EventRecordID, written-time key) pairs and carved records awaiting settlement. */
  live?: Float64Array;
  carved?: CarvedEntry[];
}

const emptyResult = (): JobResult => ({ records: 0, recovered: 0, errors: 0, warnings: 0, bytes: 0, chunks: 0, problems: [], duplicatesDropped: 0 });

/** CPU time (ms) used so far by the calling thread (Linux /proc; NaN elsewhere). */
export function threadCpuMs(): number {
  try {
    const st = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 (utime, stime) in clock ticks; f[0] is field 3
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Run one job in the current thread (the worker calls this; also usable inline). */
export function runJob(job: WorkerJob): JobResult {
  const res: JobResult = emptyResult();
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
    const line = (e: EvtxEvent) => (job.mode === 'xml' ? evtxEventToXml(e) : evtxEventToJson(e, job.path));
    if (job.whole) {
      const kept = tracker.finish();
      res.records += kept.length;
      res.recovered -= tracker.dedup.droppedParsed;
      if (lines) for (const e of kept) lines.push(line(e));
      if (all) for (const e of kept) all.push(e);
    } else {
      // settled by the pool against the live records of the other jobs of this file
      const d = tracker.dedup;
      const live = new Float64Array(d.live.size * 2);
      let i = 0;
      for (const [id, t] of d.live) {
        live[i++] = id;
        live[i++] = t;
      }
      res.live = live;
      res.carved = d.pending.map((p) => {
        const c: CarvedEntry = { id: p.id, t: p.t, offset: p.ev.ref.offset ?? 0, where: p.where };
        if (lines) c.line = line(p.ev);
        if (all) c.event = p.ev;
        return c;
      });
      res.recovered -= res.carved.length;
    }
    res.duplicatesDropped = tracker.dedup.dropped;
    res.firstDropOffset = tracker.dedup.firstDropOffset;
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
  /**
   * Keep the worker threads for the next call (default true): a worker pays its
   * start-up and JIT warm-up once per process, not once per call. Idle kept workers
   * do not hold the process open (unref).
   */
  reuse?: boolean;
}

interface PooledWorker {
  w: Worker;
  /** Thread CPU (ms) last reported by the worker. */
  cpu: number;
}

/** Workers kept between calls; a call takes them all, so concurrent calls start their own. */
const idle: PooledWorker[] = [];

function takeWorkers(n: number, reuse: boolean): PooledWorker[] {
  const out: PooledWorker[] = [];
  while (reuse && out.length < n && idle.length) out.push(idle.pop()!);
  while (out.length < n) {
    const w = new Worker(new URL('./worker.js', import.meta.url));
    out.push({ w, cpu: 0 });
  }
  for (const p of out) p.w.ref();
  return out;
}

/** Terminate the workers kept for reuse (tests, clean shutdown). */
export async function closeEvtxWorkers(): Promise<void> {
  const ws = idle.splice(0);
  await Promise.all(ws.map((p) => p.w.terminate()));
}

export interface ParallelResult {
  files: JobResult[];
  records: number;
  bytes: number;
  errors: number;
  /**
   * CPU time (ms) of each worker thread (inline mode: of the calling thread during the
   * parse), from /proc/thread-self/stat (10 ms ticks; NaN where unavailable). With a
   * loaded machine these, not wall time, show how evenly the work was spread.
   */
  workerCpuMs: number[];
  /** Bytes parsed by each worker (how the work was split). */
  workerBytes: number[];
}

/** Settle the carved records of a file split over several jobs (same rule as CarveDedup). */
function settle(file: JobResult, parts: JobResult[], evidenceId: string): void {
  const d = new CarveDedup();
  for (const r of parts) {
    if (!r.live) continue;
    for (let i = 0; i < r.live.length; i += 2) d.live.set(r.live[i], r.live[i + 1]);
  }
  const seen = new Map<number, number>();
  let dropped = 0;
  let firstDrop = -1;
  for (const r of parts) {
    for (const c of r.carved ?? []) {
      if (d.live.get(c.id) === c.t || seen.get(c.id) === c.t) {
        dropped++;
        if (firstDrop < 0 || c.offset < firstDrop) firstDrop = c.offset;
        continue;
      }
      seen.set(c.id, c.t);
      file.records++;
      file.recovered++;
      file.warnings++;
      if (file.problems.length < 1000) file.problems.push({ evidence: evidenceId, offset: c.offset, record: c.id, reason: `record ${c.id} recovered from ${c.where}`, severity: 'warning' });
      if (c.line !== undefined) (file.lines ??= []).push(c.line);
      if (c.event) (file.events ??= []).push(c.event);
    }
  }
  file.duplicatesDropped += dropped;
  if (file.duplicatesDropped > 0) {
    file.warnings++;
    let first = firstDrop;
    for (const r of parts) if (r.firstDropOffset !== undefined && r.firstDropOffset >= 0 && (first < 0 || r.firstDropOffset < first)) first = r.firstDropOffset;
    if (file.problems.length < 1000) {
      file.problems.push({ evidence: evidenceId, offset: first < 0 ? 0 : first, severity: 'warning',
        reason: `${file.duplicatesDropped} record cop${file.duplicatesDropped === 1 ? 'y' : 'ies'} carved from chunk slack duplicate records already read (same EventRecordID and written time) and were not emitted again` });
    }
  }
}

/** Jobs queued at each worker at once. */
const INFLIGHT = 3;

function mergeInto(a: JobResult, b: JobResult): void {
  a.records += b.records;
  a.recovered += b.recovered;
  a.errors += b.errors;
  a.warnings += b.warnings;
  a.bytes += b.bytes;
  a.chunks += b.chunks;
  a.duplicatesDropped += b.duplicatesDropped;
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
      size = statSync(path).size;
    } catch {
      size = 0;
    }
    const chunks = Math.max(1, Math.ceil((size - FILE_HEADER_SIZE) / CHUNK_SIZE));
    const evidenceId = opt.evidenceIds?.[file] ?? path;
    let n = 0;
    for (let c = 0; c < chunks; c += per) {
      jobs.push({ file, job: { path, evidenceId, fromChunk: c, toChunk: Math.min(chunks, c + per), header: c === 0, whole: c === 0 && chunks <= per, mode } });
      n++;
    }
    parts.push(n);
  });
  const results: (JobResult | undefined)[] = new Array(jobs.length);
  const fileRes: JobResult[] = paths.map(() => emptyResult());
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
      const got: JobResult[] = [];
      for (let j = s; j < s + n; j++) {
        mergeInto(fileRes[nextFile], results[j]!);
        got.push(results[j]!);
        results[j] = emptyResult();
      }
      if (n > 1 || got.some((r) => r.carved)) settle(fileRes[nextFile], got, jobs[s].job.evidenceId);
      opt.onFile?.(nextFile, fileRes[nextFile]);
      nextFile++;
    }
  };
  const nw = Math.min(opt.workers ?? 2, jobs.length);
  const workerCpuMs: number[] = [];
  const workerBytes: number[] = [];
  if (nw <= 0) {
    const c0 = threadCpuMs();
    jobs.forEach((j, i) => {
      results[i] = runJob(j.job);
      flush();
    });
    workerCpuMs.push(threadCpuMs() - c0);
    workerBytes.push(-1); // filled below: everything
  } else {
    const reuse = opt.reuse !== false;
    const pool = takeWorkers(nw, reuse);
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let failed = false;
      const release = (ok: boolean) => {
        for (const p of pool) {
          p.w.removeAllListeners('message');
          p.w.removeAllListeners('error');
          if (ok && reuse) {
            p.w.unref();
            idle.push(p);
          } else void p.w.terminate();
        }
      };
      const feed = (p: PooledWorker) => {
        if (next >= jobs.length) return;
        const id = next++;
        p.w.postMessage({ id, job: jobs[id].job });
      };
      pool.forEach((p, i) => {
        const base = p.cpu;
        workerCpuMs.push(0);
        workerBytes.push(0);
        p.w.on('message', (m: { id: number; res: JobResult; cpuMs: number }) => {
          p.cpu = m.cpuMs;
          workerCpuMs[i] = m.cpuMs - base;
          workerBytes[i] += m.res.bytes;
          results[m.id] = m.res;
          done++;
          flush();
          if (done === jobs.length) {
            release(true);
            resolve();
          } else feed(p);
        });
        p.w.on('error', (e) => {
          if (failed) return;
          failed = true;
          release(false);
          reject(e);
        });
        // several jobs in flight per worker: no idle round trip between jobs on a busy machine
        for (let k = 0; k < INFLIGHT; k++) feed(p);
      });
      if (jobs.length === 0) {
        release(true);
        resolve();
      }
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
  if (workerBytes[0] === -1) workerBytes[0] = bytes;
  return { files: fileRes, records, bytes, errors, workerCpuMs, workerBytes };
}
