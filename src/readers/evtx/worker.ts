/**
 * Worker-thread side of parseEvtxFilesParallel: parses one job (a file, or a
 * range of chunks of a large file) reading one 64 KiB chunk at a time.
 */
import { parentPort } from 'node:worker_threads';
import { runJob, threadCpuMs, type WorkerJob } from './parallel.js';

if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: { id: number; job: WorkerJob }) => {
    let res;
    try {
      res = runJob(msg.job);
    } catch (e) {
      res = { duplicatesDropped: 0, records: 0, recovered: 0, errors: 1, warnings: 0, bytes: 0, chunks: 0, problems: [{ evidence: msg.job.evidenceId, reason: `worker failed: ${(e as Error).message}`, severity: 'error' as const }] };
    }
    // cumulative CPU time of this thread (start-up included), for the pool's per-worker figures
    port.postMessage({ id: msg.id, res, cpuMs: threadCpuMs() });
  });
}
