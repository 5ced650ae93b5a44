/**
 * Access to the public corpora in ../shared/corpus (never copied into the repo).
 * Tests that need them skip, with a reason, when they are absent.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (works from src/ and from dist/). */
export const repoRoot = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('repository root not found');
    d = up;
  }
  return d;
})();

export const corpusRoot = process.env.SPOOR_CORPUS ?? resolve(repoRoot, '../shared/corpus');

/** Absolute path of a corpus file, or null when the corpus (or that file) is not here. */
export function corpusFile(rel: string): string | null {
  const p = resolve(corpusRoot, rel);
  return existsSync(p) ? p : null;
}

/** Reason to skip a test when a corpus file is missing, else false (for `{ skip: ... }`). */
export function needCorpus(...rels: string[]): string | false {
  for (const r of rels) if (!corpusFile(r)) return `corpus file not available: ${r}`;
  return false;
}

/** Reason to skip when a command-line tool is not installed, else false. */
export function needTool(cmd: string): string | false {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return false;
  } catch {
    return `tool not installed: ${cmd}`;
  }
}
