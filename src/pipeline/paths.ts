import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root folder (holds package.json and docs/), from src/ or dist/src/. */
export const packageRoot: string = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'docs'))) return d;
    const up = dirname(d);
    if (up === d) throw new Error('spoor package root not found');
    d = up;
  }
})();
