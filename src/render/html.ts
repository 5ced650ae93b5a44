/**
 * Document blocks → one self-contained HTML file: inline CSS, inline SVG, no
 * scripts, no external resources (a Content-Security-Policy forbids both, as a
 * second line of defence behind escaping). Chinese first, then English; the
 * language switch is anchors plus CSS `:target`.
 */
import type { Block, Inline } from './doc.js';
import { escapeAttr, escapeHtml } from './escape.js';

function inline(i: Inline): string {
  return i
    .map((s) => {
      if (typeof s === 'string') return escapeHtml(s);
      if ('code' in s) return `<code>${escapeHtml(s.code)}</code>`;
      return `<strong>${escapeHtml(s.b)}</strong>`;
    })
    .join('');
}

export function blocksToHtml(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h':
        out.push(`<h${b.level}${b.id ? ` id="${escapeAttr(b.id)}"` : ''}>${escapeHtml(b.text)}</h${b.level}>`);
        break;
      case 'p':
        out.push(`<p${b.cls ? ` class="${escapeAttr(b.cls)}"` : ''}>${inline(b.text)}</p>`);
        break;
      case 'ul':
      case 'ol':
        out.push(`<${b.kind}>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</${b.kind}>`);
        break;
      case 'table':
        out.push(
          `<div class="tw"><table${b.cls ? ` class="${escapeAttr(b.cls)}"` : ''}><thead><tr>${b.head.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>` +
            b.rows.map((r) => `<tr>${b.head.map((_, k) => `<td>${inline(r[k] ?? [])}</td>`).join('')}</tr>`).join('') +
            `</tbody></table></div>`,
        );
        break;
      case 'pre':
        out.push(`<pre>${escapeHtml(b.text)}</pre>`);
        break;
      case 'figure':
        out.push(`<figure><div class="fig">${b.svg}</div><figcaption>${escapeHtml(b.caption)}</figcaption></figure>`);
        break;
    }
  }
  return out.join('\n');
}

export const CSS = `
:root{--fg:#1d1f21;--muted:#666;--line:#d8dbe0;--accent:#b03a2e;--bg2:#f6f7f9}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--fg);font:14px/1.6 "Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","Segoe UI",Roboto,Helvetica,Arial,sans-serif}
nav.lang{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);padding:6px 24px;z-index:2;font-size:13px}
nav.lang a{color:var(--accent);text-decoration:none;margin-right:14px;font-weight:600}
main{max-width:1100px;margin:0 auto;padding:8px 24px 40px}
section.lang{padding-top:8px}
section.lang+section.lang{border-top:3px double var(--line);margin-top:40px}
h1{font-size:24px;margin:18px 0 6px;color:var(--accent)}
h2{font-size:19px;margin:28px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--accent)}
h3{font-size:16px;margin:20px 0 8px}
h4{font-size:14px;margin:16px 0 6px}
p.meta{color:var(--muted);font-size:12px}
p.note{color:var(--muted);font-size:12px;font-style:italic}
code{font-family:"DejaVu Sans Mono",Consolas,Menlo,monospace;font-size:12.5px;background:var(--bg2);padding:0 3px;border-radius:3px;word-break:break-all}
pre{font-family:"DejaVu Sans Mono",Consolas,Menlo,monospace;font-size:12px;background:var(--bg2);border:1px solid var(--line);border-left:3px solid var(--accent);padding:8px 10px;white-space:pre-wrap;word-break:break-all;overflow-wrap:anywhere}
.tw{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:8px 0 14px;font-size:12.5px}
th,td{border:1px solid var(--line);padding:4px 7px;text-align:left;vertical-align:top}
th{background:var(--bg2);font-weight:600}
tbody tr:nth-child(even){background:#fbfbfc}
table.evidence td:last-child code{font-size:11px}
figure{margin:12px 0 18px}
.fig{overflow-x:auto;border:1px solid var(--line);border-radius:6px;padding:6px;background:#fff}
.fig svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:12px;text-align:center;margin-top:4px}
body:has(#lang-en:target) #lang-zh{display:none}
body:has(#lang-zh:target) #lang-en{display:none}
body:has(#lang-zh:target) #lang-zh, body:has(#lang-en:target) #lang-en{border-top:0;margin-top:0}
@page{size:A4;margin:14mm 12mm}
@media print{
 nav.lang{display:none}
 main{max-width:none;padding:0}
 body{font-size:11.5px}
 section.lang+section.lang{break-before:page;border-top:0;margin-top:0}
 h1,h2,h3,h4{break-after:avoid}
 tr,figure,pre,li{break-inside:avoid}
 .tw,.fig{overflow:visible;border:0}
 thead{display:table-header-group}
 a{color:inherit;text-decoration:none}
}
`;

export interface HtmlSection {
  lang: 'zh' | 'en';
  blocks: Block[];
}

export function htmlPage(title: string, sections: HtmlSection[]): string {
  const names = { zh: '中文', en: 'English' };
  const nav = sections.length > 1 ? `<nav class="lang">${sections.map((s) => `<a href="#lang-${s.lang}">${names[s.lang]}</a>`).join('')}</nav>` : '';
  const body = sections.map((s) => `<section class="lang" id="lang-${s.lang}" lang="${s.lang === 'zh' ? 'zh-CN' : 'en'}">\n${blocksToHtml(s.blocks)}\n</section>`).join('\n');
  return `<!DOCTYPE html>
<html lang="${sections[0]?.lang === 'en' ? 'en' : 'zh-CN'}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="spoor">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${nav}
<main>
${body}
</main>
</body>
</html>
`;
}
