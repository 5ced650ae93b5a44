/**
 * The case store on its own thread: the same CaseStore interface, with DuckDB's
 * appender running in a worker so that writing the store overlaps parsing on
 * the other core instead of adding to it. Batches are posted (structured clone)
 * and acknowledged; at most `maxInFlight` batches wait, which bounds memory and
 * makes a fast reader wait for a slow store rather than pile up events.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { SpoorEvent } from '../core/event.js';
import type { Finding } from '../core/finding.js';
import type { CaseStore, EvidenceRecord, Row } from './store.js';
import { DuckDbCaseStore } from './duckdb-store.js';

type Op =
  | { op: 'events'; events: SpoorEvent[] }
  | { op: 'findings'; findings: Finding[] }
  | { op: 'evidence'; records: EvidenceRecord[] }
  | { op: 'rows'; table: string; rows: Row[] }
  | { op: 'flush' }
  | { op: 'query'; sql: string }
  | { op: 'close' };

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export class WorkerCaseStore implements CaseStore {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker, private readonly maxInFlight: number) {
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (this.pending.size) this.failAll(new Error(`store worker exited (${code})`));
    });
  }

  static async open(path: string, opts: { maxInFlight?: number } = {}): Promise<WorkerCaseStore> {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { path } });
    const store = new WorkerCaseStore(worker, opts.maxInFlight ?? 8);
    await store.call({ op: 'flush' }); // waits until the database is open
    return store;
  }

  private failAll(err: Error): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private call(op: Op): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const p = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ id, ...op });
    return p;
  }

  /** Posts the batch and returns once fewer than maxInFlight batches are unacknowledged. */
  async appendEvents(events: SpoorEvent[]): Promise<void> {
    if (!events.length) return;
    const p = this.call({ op: 'events', events });
    this.inFlight.add(p);
    p.then(
      () => this.inFlight.delete(p),
      () => this.inFlight.delete(p),
    );
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async appendFindings(findings: Finding[]): Promise<void> {
    await this.call({ op: 'findings', findings });
  }
  async putEvidence(records: EvidenceRecord[]): Promise<void> {
    await this.call({ op: 'evidence', records });
  }
  async putRows(table: string, rows: Row[]): Promise<void> {
    await this.call({ op: 'rows', table, rows });
  }
  async flush(): Promise<void> {
    await Promise.all([...this.inFlight]);
    await this.call({ op: 'flush' });
  }
  async query(sql: string): Promise<Row[]> {
    return (await this.call({ op: 'query', sql })) as Row[];
  }
  async close(): Promise<void> {
    try {
      if (!this.failure) {
        await Promise.allSettled([...this.inFlight]);
        await this.call({ op: 'close' });
      }
    } finally {
      await this.worker.terminate();
    }
    if (this.failure) throw this.failure;
  }
}

// ---- worker side ----
if (!isMainThread && parentPort && (workerData as { path?: string })?.path) {
  const port = parentPort;
  const storeP = DuckDbCaseStore.open((workerData as { path: string }).path);
  // Messages are handled strictly in order.
  let chain: Promise<unknown> = Promise.resolve();
  port.on('message', (m: Op & { id: number }) => {
    chain = chain.then(async () => {
      try {
        const store = await storeP;
        let result: unknown;
        switch (m.op) {
          case 'events':
            await store.appendEvents(m.events);
            break;
          case 'findings':
            await store.appendFindings(m.findings);
            break;
          case 'evidence':
            await store.putEvidence(m.records);
            break;
          case 'rows':
            await store.putRows(m.table, m.rows);
            break;
          case 'flush':
            await store.flush();
            break;
          case 'query':
            result = await store.query(m.sql);
            break;
          case 'close':
            await store.close();
            break;
        }
        port.postMessage({ id: m.id, ok: true, result } satisfies Reply);
      } catch (err) {
        port.postMessage({ id: m.id, ok: false, error: (err as Error)?.stack ?? String(err) } satisfies Reply);
      }
    });
  });
}
