// Runs node's test runner on every compiled *.test.js under dist/test (Node 20 has no globs in --test).
// Extra arguments select areas: `npm test -- evtx network` runs dist/test/evtx and dist/test/network only.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const areas = process.argv.slice(2);
const files = [];
(function walk(d) {
  for (const e of readdirSync(d).sort()) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith('.test.js')) files.push(p);
  }
})(root);
const chosen = areas.length ? files.filter((f) => areas.some((a) => f.startsWith(join(root, a)))) : files;
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...chosen], { stdio: 'inherit' });
process.exit(r.status ?? 1);
