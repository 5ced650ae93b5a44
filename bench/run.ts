/**
 * `npm run bench`: every suite in bench/suites/ measures spoor against a reference
 * tool on the same input in the same run, and returns Markdown. The results are
 * written into docs/BENCHMARKS.md, one `## <suite>` section each (other sections kept).
 *
 *   npm run bench                   all suites
 *   npm run bench -- evtx --quick   only evtx, smaller inputs
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchContext {
  corpus: string;
  repoRoot: string;
  tmp: string;
  quick: boolean;
}
export interface BenchSuite {
  name: string;
  run(ctx: BenchContext): Promise<string>;
}

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const corpus = process.env.SPOOR_CORPUS ?? resolve(repoRoot, '../shared/corpus');
const docPath = join(repoRoot, 'docs', 'BENCHMARKS.md');

const HEADER = `# Benchmarks

Every figure here comes from \`npm run bench\` (bench/suites/), which runs spoor and a
reference tool on the same input in the same run. Each section records the command,
the input, both figures and the ratio. Re-run after changing a parser, detector or store path.
`;

function splitSections(doc: string): Map<string, string> {
  const map = new Map<string, string>();
  const parts = doc.split(/^## /m).slice(1);
  for (const p of parts) {
    const nl = p.indexOf('\n');
    map.set(p.slice(0, nl).trim(), p.slice(nl + 1).trim());
  }
  return map;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.filter((a) => !a.startsWith('-'));
  const suiteDir = join(here, 'suites');
  const files = existsSync(suiteDir) ? readdirSync(suiteDir).filter((f) => f.endsWith('.js')).sort() : [];
  const sections = splitSections(existsSync(docPath) ? readFileSync(docPath, 'utf8') : '');
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  let failed = 0;
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(suiteDir, f)).href)) as { default: BenchSuite };
    const suite = mod.default;
    if (!suite?.run || (only.length && !only.includes(suite.name))) continue;
    const tmp = mkdtempSync(join(tmpdir(), `spoor-bench-${suite.name}-`));
    console.log(`=== ${suite.name}`);
    try {
      const md = await suite.run({ corpus, repoRoot, tmp, quick });
      const load = loadavg().map((x) => x.toFixed(1)).join(' ');
      const stamp = `_Measured ${new Date().toISOString().slice(0, 10)} on ${machine}${quick ? ' (--quick)' : ''}; load average at the end ${load} (a shared machine: wall times above ~2 are inflated)._`;
      sections.set(suite.name, `${stamp}\n\n${md.trim()}`);
      console.log(md);
    } catch (err) {
      console.log(`bench ${suite.name} failed: ${(err as Error).stack}`);
      failed++;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const body = [...sections.entries()].map(([k, v]) => `## ${k}\n\n${v}\n`).join('\n');
  writeFileSync(docPath, `${HEADER}\n${body}`);
  console.log(`written ${docPath}`);
  return failed ? 1 : 0;
}

main().then((code) => {
  process.exitCode = code;
});
