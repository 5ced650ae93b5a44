/**
 * The responder's report: `report.zh.md`, `report.en.md`, `report.html`
 * from an IncidentFile. Renderers present incident.json; they draw no
 * conclusions of their own. See docs/REPORTS.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncidentFile } from '../incident/types.js';
import { buildReport } from './content.js';
import { htmlPage } from './html.js';
import { L, type Lang } from './labels.js';
import { blocksToMarkdown } from './markdown.js';

export type { Lang } from './labels.js';
export { escapeHtml, escapeMd, escapeMdCell, mdCode, csvCell, csvRow, escapeTerminal, safeJson, defang } from './escape.js';
export { formatTime, formatShort, zoneLabel } from './time.js';
export { TECHNIQUES, technique, techniqueName, tacticName } from './attack.js';
export { chainSvg, timelineSvg } from './svg.js';

/** The report as Markdown in one language. */
export function renderMarkdown(file: IncidentFile, lang: Lang): string {
  return blocksToMarkdown(buildReport(file, lang, { figures: false, idPrefix: '' }));
}

/**
 * The report as one self-contained HTML page holding the given languages
 * (default: Chinese first, then English, with a CSS/anchor language switch),
 * with the attack chain and timeline drawn as inline SVG.
 */
export function renderHtml(file: IncidentFile, langs: Lang[] = ['zh', 'en']): string {
  const list = langs.length ? langs : (['zh', 'en'] as Lang[]);
  const sections = list.map((lang) => ({ lang, blocks: buildReport(file, lang, { figures: true, idPrefix: `${lang}-` }) }));
  const title = `${L[list[0]].title} ${file.case?.id ?? ''}`;
  return htmlPage(title, sections);
}

export interface WrittenReports {
  files: string[];
}

/**
 * Write the reports into dir: report.<lang>.md for each language and
 * report.html (holding the same languages). Returns the paths written.
 */
export async function writeReports(dir: string, file: IncidentFile, langs: Lang[] = ['zh', 'en'], formats: ('md' | 'html')[] = ['md', 'html']): Promise<WrittenReports> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  if (formats.includes('md')) {
    for (const lang of langs) {
      const p = join(dir, `report.${lang}.md`);
      await writeFile(p, renderMarkdown(file, lang), 'utf8');
      files.push(p);
    }
  }
  if (formats.includes('html')) {
    const p = join(dir, 'report.html');
    await writeFile(p, renderHtml(file, langs), 'utf8');
    files.push(p);
  }
  return { files };
}
