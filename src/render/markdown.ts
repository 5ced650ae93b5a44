/** Document blocks → GitHub-flavoured Markdown, every text escaped (escape.ts). */
import type { Block, Inline } from './doc.js';
import { escapeMd, escapeMdCell, mdCode, mdFence, mdLineStart } from './escape.js';

function inline(i: Inline, inTable = false): string {
  return i
    .map((s) => {
      if (typeof s === 'string') return inTable ? escapeMdCell(s) : escapeMd(s);
      if ('code' in s) return mdCode(s.code, inTable) || (inTable ? ' ' : '');
      // Keep trailing punctuation/space outside the emphasis: CommonMark does not close
      // `**` after punctuation when a CJK letter follows (`**告警：**监测` would not be bold).
      const m = /^([\s\S]*?)([\s\p{P}]*)$/u.exec(s.b)!;
      let [body, tail] = [m[1], m[2]];
      // A closing bracket whose opener is inside stays inside (`**C2 服务器（外联地址）**：`, not `…地址**）：`);
      // the delimiter still closes, being followed by the remaining punctuation.
      const pairs: Record<string, string> = { '）': '（', ')': '(', '】': '【', '」': '「', ']': '[' };
      while (tail && pairs[tail[0]] && body.lastIndexOf(pairs[tail[0]]) > body.lastIndexOf(tail[0]) && tail.length > 1) {
        body += tail[0];
        tail = tail.slice(1);
      }
      const esc = (t: string) => (inTable ? escapeMdCell(t) : escapeMd(t));
      return body ? `**${esc(body)}**${tail ? esc(tail) : ''}` : esc(s.b);
    })
    .join('');
}

export function blocksToMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h':
        out.push(`${'#'.repeat(b.level)} ${escapeMd(b.text)}`);
        break;
      case 'p':
        out.push(b.cls === 'note' ? `> ${inline(b.text)}` : mdLineStart(inline(b.text)));
        break;
      case 'ul':
        out.push(b.items.map((i) => `- ${inline(i)}`).join('\n'));
        break;
      case 'ol':
        out.push(b.items.map((i, n) => `${n + 1}. ${inline(i)}`).join('\n'));
        break;
      case 'table': {
        const head = `| ${b.head.map((c) => escapeMdCell(c)).join(' | ')} |`;
        const sep = `| ${b.head.map(() => '---').join(' | ')} |`;
        const rows = b.rows.map((r) => `| ${b.head.map((_, k) => inline(r[k] ?? [], true).trim() || ' ').join(' | ')} |`);
        out.push([head, sep, ...rows].join('\n'));
        break;
      }
      case 'pre':
        out.push(mdFence(b.text));
        break;
      case 'figure':
        break; // pictures are HTML-only
    }
  }
  return out.join('\n\n') + '\n';
}
