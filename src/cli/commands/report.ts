/**
 * `spoor report DIR [--lang zh|en|both] [--format md|html|pdf|all]`:
 * re-render the report from DIR/incident.json without re-parsing evidence.
 * PDF goes through headless Chromium when installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Option, type Command } from 'commander';
import { INCIDENT_SCHEMA, type IncidentFile } from '../../incident/types.js';
import { writeReports, type Lang } from '../../render/index.js';
import { escapeTerminal } from '../../render/escape.js';
import { UsageError } from '../common.js';

/** Read DIR/incident.json (or a path to the JSON file itself). */
export async function readIncidentFile(dirOrFile: string): Promise<{ file: IncidentFile; dir: string; path: string }> {
  let path = dirOrFile;
  let dir = dirOrFile;
  try {
    const st = await stat(dirOrFile);
    if (st.isDirectory()) path = join(dirOrFile, 'incident.json');
    else dir = resolve(dirOrFile, '..');
  } catch {
    throw new UsageError(`${escapeTerminal(dirOrFile, true)}: no such case folder`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`${escapeTerminal(dir, true)} is not a spoor case folder (no incident.json; run spoor investigate first)`);
  }
  let file: IncidentFile;
  try {
    file = JSON.parse(text) as IncidentFile;
  } catch (e) {
    throw new UsageError(`${escapeTerminal(path, true)} is not valid JSON: ${(e as Error).message}`);
  }
  if (!file || typeof file !== 'object' || file.schema !== INCIDENT_SCHEMA) {
    throw new UsageError(`${escapeTerminal(path, true)} is not a ${INCIDENT_SCHEMA} file`);
  }
  return { file, dir, path };
}

/** Headless Chromium executable: $SPOOR_CHROMIUM, /usr/bin/chromium, or chromium/chromium-browser/google-chrome on PATH. */
export function findChromium(): string | null {
  const env = process.env.SPOOR_CHROMIUM;
  if (env && existsSync(env)) return env;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  '--mute-audio',
];

/** Print an HTML file to PDF with headless Chromium. Throws with a clear message when it cannot. */
export async function htmlToPdf(htmlPath: string, pdfPath: string, chromium = findChromium(), timeoutMs = 120_000): Promise<void> {
  if (!chromium) {
    throw new Error('PDF needs Chromium, which was not found (install Debian\'s "chromium" package, or set SPOOR_CHROMIUM to a Chromium/Chrome executable). The HTML report prints to PDF from any browser too.');
  }
  const profile = await mkdtemp(join(tmpdir(), 'spoor-chromium-'));
  try {
    const args = [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--no-pdf-header-footer', `--print-to-pdf=${pdfPath}`, pathToFileURL(resolve(htmlPath)).href];
    await new Promise<void>((ok, fail) => {
      execFile(chromium, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, _out, errOut) => {
        if (err) fail(new Error(`Chromium failed to print the PDF: ${err.message}${errOut ? `\n${String(errOut).split('\n').slice(-5).join('\n')}` : ''}`));
        else ok();
      });
    });
    const st = await stat(pdfPath).catch(() => null);
    if (!st || st.size === 0) throw new Error('Chromium ran but wrote no PDF');
  } finally {
    await rm(profile, { recursive: true, force: true }).catch(() => undefined);
  }
}

export function parseLangOption(v: string): Lang[] {
  return v === 'both' ? ['zh', 'en'] : [v as Lang];
}

export function register(program: Command): void {
  program
    .command('report')
    .description('re-render the responder report (Chinese/English Markdown, HTML, PDF) from DIR/incident.json without re-parsing evidence')
    .argument('<dir>', 'case folder (holding incident.json)')
    .addOption(new Option('--lang <lang>', 'report language').choices(['zh', 'en', 'both']).default('both'))
    .addOption(new Option('--format <format>', 'md, html, pdf (also writes the HTML it prints), or all').choices(['md', 'html', 'pdf', 'all']).default('all'))
    .option('--out <dir>', 'write the reports here instead of DIR')
    .addHelpText(
      'after',
      `
Writes report.zh.md, report.en.md, report.html (both languages, self-contained) and, with --format pdf|all, report.pdf.
PDF uses headless Chromium (/usr/bin/chromium, chromium on PATH, or $SPOOR_CHROMIUM).

Examples:
  spoor report ./case1
  spoor report ./case1 --lang zh --format pdf`,
    )
    .action(async (dirArg: string, flags: { lang: string; format: string; out?: string }) => {
      const { file, dir } = await readIncidentFile(dirArg);
      const outDir = flags.out ?? dir;
      const langs = parseLangOption(flags.lang);
      const fmt = flags.format;
      const formats: ('md' | 'html')[] = fmt === 'md' ? ['md'] : fmt === 'html' || fmt === 'pdf' ? ['html'] : ['md', 'html'];
      const { files } = await writeReports(outDir, file, langs, formats);
      for (const f of files) process.stdout.write(`${escapeTerminal(f, true)}\n`);
      if (fmt === 'pdf' || fmt === 'all') {
        const chromium = findChromium();
        const pdf = join(outDir, 'report.pdf');
        if (!chromium) {
          process.stderr.write('spoor: PDF not written: Chromium was not found (apt-get install chromium, or set SPOOR_CHROMIUM). Open report.html in a browser and print it instead.\n');
          if (fmt === 'pdf') process.exitCode = 1;
          return;
        }
        try {
          await htmlToPdf(join(outDir, 'report.html'), pdf, chromium);
          process.stdout.write(`${escapeTerminal(pdf, true)}\n`);
        } catch (e) {
          process.stderr.write(`spoor: ${escapeTerminal((e as Error).message)}\n`);
          process.exitCode = 1;
        }
      }
    });
}
