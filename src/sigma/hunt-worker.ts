/**
 * Worker thread of `spoor hunt --workers N`: loads the same rules (same order, so rule
 * indexes agree with the main thread), reads its share of the files, evaluates the rules
 * and posts the hits (rule index + hit) per batch. At the end it posts the base-match
 * records of correlation rules; the main thread evaluates correlations over all threads.
 * Evidence ids are prefixed with the worker's name (`W1.E3`) to stay unique.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HomeNet } from '../core/homenet.js';
import { readEvidence } from '../intake/read.js';
import { SigmaEngine, type SigmaHit } from './engine.js';
import { loadSigmaRules } from './rules.js';

export interface HuntWorkerData {
  files: string[];
  sigma: string[];
  level: string;
  /** Evidence id prefix, e.g. `W1.`. */
  prefix: string;
}

export type WorkerHit = Omit<SigmaHit, 'rule'> & { ri: number; file: string };

export type HuntWorkerMessage =
  | { t: 'skip'; path: string; reason: string; quiet: boolean }
  | { t: 'problem'; path: string; offset: number | undefined; reason: string }
  | { t: 'hits'; hits: WorkerHit[] }
  | { t: 'done'; base: unknown; events: number; duplicates: number; dropped: number; bytes: number; files: number; bad: number; evidence: [string, string][] }
  | { t: 'error'; message: string };

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as HuntWorkerData;
  const post = (m: HuntWorkerMessage) => port.postMessage(m);
  const { rules } = loadSigmaRules(data.sigma);
  const index = new Map<object, number>();
  rules.forEach((r, i) => index.set(r, i));
  const engine = new SigmaEngine(rules, { minLevel: data.level });
  const evidence: [string, string][] = [];
  const { visits, bad } = await readEvidence(data.files, {
    homeNet: new HomeNet(),
    accept: (format) => (format === 'evtx' ? null : `${format} (Sigma hunting reads EVTX)`),
    onSkip: (path, reason, quiet) => post({ t: 'skip', path, reason, quiet }),
    onProblem: (v, p) => post({ t: 'problem', path: v.path, offset: p.offset, reason: p.reason }),
    onBatch: (batch, v) => {
      const id = data.prefix + v.id;
      if (evidence.length === 0 || evidence[evidence.length - 1][0] !== id) evidence.push([id, v.path]);
      const hits: WorkerHit[] = [];
      for (const e of batch) {
        e.ref = { ...e.ref, evidence: id };
        engine.match(e, (h) => {
          const { rule, ...rest } = h;
          hits.push({ ...rest, ri: index.get(rule) ?? -1, file: v.path });
        });
      }
      if (hits.length) post({ t: 'hits', hits });
    },
  });
  post({
    t: 'done',
    base: engine.exportBase(),
    events: engine.events,
    duplicates: engine.duplicates,
    dropped: engine.correlationDropped,
    bytes: visits.reduce((s, v) => s + v.size, 0),
    files: visits.length,
    bad,
    evidence,
  });
}

main().catch((e) => parentPort?.postMessage({ t: 'error', message: (e as Error).message } satisfies HuntWorkerMessage));
