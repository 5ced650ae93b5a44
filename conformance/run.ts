/**
 * `npm run conformance`: every suite in conformance/suites/ against the public corpora
 * and reference tools. Prints each figure beside its floor (conformance/floors.json)
 * and fails only when a figure falls below its floor — a ratchet raised as spoor improves.
 *
 *   npm run conformance                 all suites
 *   npm run conformance -- evtx network only these suites
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface SuiteContext {
  corpus: string;
  repoRoot: string;
  tmp: string;
}
export interface SuiteResult {
  figures: Record<string, number>;
  report: string;
}
export interface Suite {
  name: string;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const corpus = process.env.SPOOR_CORPUS ?? resolve(repoRoot, '../shared/corpus');
const floorsPath = join(repoRoot, 'conformance', 'floors.json');

async function main(): Promise<number> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const floors: Record<string, number> = existsSync(floorsPath) ? JSON.parse(readFileSync(floorsPath, 'utf8')) : {};
  if (!existsSync(corpus)) {
    console.log(`conformance: corpus not found at ${corpus}; nothing to check`);
    return Object.keys(floors).length ? 1 : 0;
  }
  const suiteDir = join(here, 'suites');
  const files = existsSync(suiteDir) ? readdirSync(suiteDir).filter((f) => f.endsWith('.js')).sort() : [];
  const outDir = join(repoRoot, 'conformance', 'out');
  mkdirSync(outDir, { recursive: true });
  let failures = 0;
  const seen = new Set<string>();
  for (const f of files) {
    // Suite files are named after their suites: import only the ones asked for.
    if (only.length && !only.includes(f.replace(/\.js$/, ''))) continue;
    let suite: Suite;
    try {
      suite = ((await import(pathToFileURL(join(suiteDir, f)).href)) as { default: Suite }).default;
    } catch (err) {
      console.log(`suite ${f} could not be loaded: ${(err as Error).message}`);
      failures++;
      continue;
    }
    if (!suite?.run) continue;
    const tmp = mkdtempSync(join(tmpdir(), `spoor-conf-${suite.name}-`));
    const t0 = Date.now();
    console.log(`\n=== ${suite.name}`);
    let result: SuiteResult;
    try {
      result = await suite.run({ corpus, repoRoot, tmp });
    } catch (err) {
      console.log(`suite ${suite.name} crashed: ${(err as Error).stack}`);
      failures++;
      continue;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    writeFileSync(join(outDir, `${suite.name}.md`), result.report);
    for (const [k, v] of Object.entries(result.figures)) {
      const key = `${suite.name}.${k}`;
      seen.add(key);
      const floor = floors[key];
      const below = floor !== undefined && !(v >= floor);
      if (below) failures++;
      console.log(`${below ? 'BELOW' : 'ok   '} ${key} = ${fmt(v)}${floor !== undefined ? `   (floor ${fmt(floor)})` : ''}`);
    }
    console.log(`(${suite.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s; report in conformance/out/${suite.name}.md)`);
  }
  for (const key of Object.keys(floors)) {
    const suite = key.split('.')[0];
    if (!seen.has(key) && (!only.length || only.includes(suite))) {
      console.log(`MISSING ${key} (floor ${floors[key]}) was not reported`);
      failures++;
    }
  }
  console.log(`\nconformance: ${failures ? `${failures} figure(s) below floor` : 'all figures at or above their floors'}`);
  return failures ? 1 : 0;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

main().then((code) => {
  process.exitCode = code;
});
