/**
 * Files under a folder (recursively, sorted), for tests, conformance suites and benchmarks
 * that sweep the corpora. A missing folder or an unreadable entry is passed over.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function filesUnder(dir: string, keep: (path: string) => boolean, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) filesUnder(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}

export const isEvtxPath = (p: string): boolean => p.toLowerCase().endsWith('.evtx');
