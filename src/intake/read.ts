/**
 * Read every evidence file under some paths, one after another, handing each
 * event batch to the caller. For the commands that stream evidence without
 * building a case (`dump`, `hunt`); the investigation pipeline adds custody
 * and the store on top of the same steps.
 */
import type { SpoorEvent } from '../core/event.js';
import type { HomeNet } from '../core/homenet.js';
import type { ParseProblem } from '../core/problems.js';
import { readers as allReaders } from '../readers/index.js';
import type { EvidenceReader, ReaderStats } from '../readers/types.js';
import { openEvidence, recognise, walkPaths } from './discover.js';

export interface EvidenceVisit {
  id: string;
  path: string;
  format: string;
  stats: ReaderStats;
  /** Raw size of the file (after it was read). */
  size: number;
}

export interface ReadEvidenceOptions {
  homeNet: HomeNet;
  readers?: readonly EvidenceReader[];
  /** Return a reason to skip a recognised file (e.g. a format this command does not read), or null. */
  accept?: (format: string) => string | null;
  /** A path that could not be read or was not recognised. `quiet` skips are formats the command ignores on purpose. */
  onSkip: (path: string, reason: string, quiet: boolean) => void;
  onProblem: (visit: EvidenceVisit, p: ParseProblem) => void;
  onBatch: (batch: SpoorEvent[], visit: EvidenceVisit) => void | Promise<void>;
  readerOptions?: (format: string) => Record<string, unknown> | undefined;
}

/** Returns how many paths could not be read, fully or partly (for exit code 3). */
export async function readEvidence(paths: string[], opts: ReadEvidenceOptions): Promise<{ visits: EvidenceVisit[]; bad: number }> {
  const { files, problems } = await walkPaths(paths);
  let bad = problems.length;
  for (const p of problems) opts.onSkip(p.path, p.reason, false);
  const visits: EvidenceVisit[] = [];
  for (const f of files) {
    const rec = await recognise(f.path, opts.readers ?? allReaders);
    if (!('reader' in rec)) {
      opts.onSkip(f.path, rec.reason, false);
      bad++;
      continue;
    }
    const refusal = opts.accept?.(rec.reader.format) ?? null;
    if (refusal) {
      opts.onSkip(f.path, refusal, true);
      continue;
    }
    const visit: EvidenceVisit = { id: `E${visits.length + 1}`, path: f.path, format: rec.reader.format, stats: { records: 0, errors: 0 }, size: f.size };
    visits.push(visit);
    const opened = openEvidence(f.path, rec.gzip);
    const problem = (p: ParseProblem) => {
      if (p.severity === 'error') visit.stats.errors++;
      opts.onProblem(visit, p);
    };
    try {
      for await (const batch of rec.reader.read(opened.stream, {
        evidenceId: visit.id,
        path: f.path,
        homeNet: opts.homeNet,
        stats: visit.stats,
        problem,
        options: opts.readerOptions?.(rec.reader.format),
      })) {
        await opts.onBatch(batch, visit);
      }
    } catch (err) {
      problem({ evidence: visit.id, reason: (err as Error).message, severity: 'error' });
    }
    const d = await opened.digest.catch(() => undefined);
    visit.size = d?.size ?? f.size;
    if (visit.stats.errors) bad++;
  }
  return { visits, bad };
}
