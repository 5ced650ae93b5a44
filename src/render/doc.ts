/**
 * A small document model. The report is built once per language as blocks
 * (content.ts) and then written as Markdown (markdown.ts) or HTML (html.ts),
 * so both carry exactly the same facts. Every string in the model is raw
 * text; the writers escape it for their target.
 */

/** Inline text: plain strings, code (literal values such as addresses, paths, queries), bold. */
export type Span = string | { code: string } | { b: string };
export type Inline = Span[];

export type Block =
  | { kind: 'h'; level: 1 | 2 | 3 | 4; text: string; id?: string }
  | { kind: 'p'; text: Inline; cls?: string }
  | { kind: 'ul' | 'ol'; items: Inline[] }
  | { kind: 'table'; head: string[]; rows: Inline[][]; cls?: string }
  | { kind: 'pre'; text: string }
  /** Pre-rendered SVG (HTML only; Markdown writers skip it). */
  | { kind: 'figure'; svg: string; caption: string };

export function inlineText(i: Inline): string {
  return i.map((s) => (typeof s === 'string' ? s : 'code' in s ? s.code : s.b)).join('');
}
