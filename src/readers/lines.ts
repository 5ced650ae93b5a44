/**
 * Lines of a text evidence file (Zeek and Suricata logs, web server logs), streamed.
 *
 * Splits on LF (a CR before it is dropped), keeps the 1-based line number and the
 * byte offset of each line's start, decodes UTF-8 (invalid bytes become U+FFFD:
 * logs are attacker-influenced text, not trusted encodings). A line longer than
 * `maxLine` bytes is reported once and cut there: a hostile or corrupt file
 * without newlines cannot make the reader hold it whole.
 */
import type { ReaderContext } from './types.js';

export interface Line {
  text: string;
  /** 1-based line number. */
  no: number;
  /** Byte offset of the line's first byte in the (decompressed) file. */
  offset: number;
}

export const MAX_LINE = 1 << 20;

export async function* readLines(input: AsyncIterable<Buffer>, ctx: ReaderContext, maxLine = MAX_LINE): AsyncIterable<Line[]> {
  let carry: Buffer | null = null;
  let carryStart = 0;
  let no = 0;
  let base = 0; // file offset of the current chunk's first byte
  let skipping = false; // inside an over-long line: drop bytes until the next LF
  const out: Line[] = [];
  const emit = (buf: Buffer, start: number, end: number, offset: number) => {
    if (end > start && buf[end - 1] === 0x0d) end--;
    out.push({ text: buf.toString('utf8', start, end), no, offset });
  };
  for await (const chunk of input) {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      if (skipping) {
        if (nl < 0) break;
        skipping = false;
        pos = nl + 1;
        continue;
      }
      if (nl < 0) {
        const rest = chunk.subarray(pos);
        const pending = carry ? carry.length + rest.length : rest.length;
        if (pending > maxLine) {
          no++;
          const whole = carry ? Buffer.concat([carry, rest]) : rest;
          const at = carry ? carryStart : base + pos;
          ctx.problem({ evidence: ctx.evidenceId, offset: at, record: no, reason: `line longer than ${maxLine} bytes: cut there`, severity: 'warning' });
          emit(whole, 0, maxLine, at);
          carry = null;
          skipping = true;
        } else if (carry) {
          carry = Buffer.concat([carry, rest]);
        } else {
          carry = Buffer.from(rest);
          carryStart = base + pos;
        }
        break;
      }
      no++;
      if (carry) {
        const whole = Buffer.concat([carry, chunk.subarray(pos, nl)]);
        if (whole.length > maxLine) ctx.problem({ evidence: ctx.evidenceId, offset: carryStart, record: no, reason: `line longer than ${maxLine} bytes: cut there`, severity: 'warning' });
        emit(whole, 0, Math.min(whole.length, maxLine), carryStart);
        carry = null;
      } else {
        if (nl - pos > maxLine) ctx.problem({ evidence: ctx.evidenceId, offset: base + pos, record: no, reason: `line longer than ${maxLine} bytes: cut there`, severity: 'warning' });
        emit(chunk, pos, Math.min(nl, pos + maxLine), base + pos);
      }
      pos = nl + 1;
    }
    base += chunk.length;
    if (out.length >= 1024) yield out.splice(0, out.length);
  }
  if (carry && carry.length) {
    no++;
    emit(carry, 0, carry.length, carryStart);
  }
  if (out.length) yield out.splice(0, out.length);
}

/** The first line of a sniffed head, without its line break. */
export function firstLine(head: Buffer): string {
  const nl = head.indexOf(0x0a);
  const s = head.toString('utf8', 0, nl < 0 ? head.length : nl);
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** Record a reader's time bounds. */
export function noteTime(ctx: ReaderContext, ms: number): void {
  if (!Number.isFinite(ms)) return;
  const s = ctx.stats;
  if (s.first === undefined || ms < s.first) s.first = ms;
  if (s.last === undefined || ms > s.last) s.last = ms;
}
