/**
 * HTTP/1.x analyzer: requests and responses paired in order (pipelining),
 * Content-Length / chunked / read-until-close bodies, the first 64 KiB of
 * request bodies and 4 KiB of response bodies kept (chunked and
 * gzip/deflate decoded within that bound), NTLM in Authorization /
 * WWW-Authenticate headers (via parseNtlmMessage from analyzers/ntlm.ts).
 *
 * One `http` record per request/response pair (as Zeek's http.log), emitted
 * when the response ends, or at connection end for unanswered requests.
 * Everything is bounded: header blocks ≤ 64 KiB, at most 64 pending requests.
 */
import { constants as zc, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { SpoorEvent } from '../core/event.js';
import { flowFields, type AnalyzerFactory, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from './analyzer.js';
import { parseNtlmMessage } from './analyzers/ntlm.js';

export const REQ_BODY_MAX = 64 * 1024;
export const RESP_BODY_MAX = 4 * 1024;
const HEADER_MAX = 64 * 1024;
const MAX_PENDING = 64;
/** Compressed bytes kept for decoding (bounded). */
const COMPRESSED_MAX = 256 * 1024;

const METHOD_RE = /^[A-Z][A-Z0-9_\-]{0,19}$/;
const KNOWN_METHODS = new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'RPC_IN_DATA', 'RPC_OUT_DATA', 'SUBSCRIBE', 'NOTIFY', 'M-SEARCH', 'REPORT', 'BPROPFIND', 'POLL']);

interface Message {
  ts: number;
  frame: number;
  method?: string;
  uri?: string;
  version?: string;
  status?: number;
  reason?: string;
  headers: Record<string, string>;
  bodyLen: number;
  body: Buffer[];
  bodyKept: number;
  encoding: string;
  endFrame: number;
  endTs: number;
}

const enum St {
  Header,
  Body,
  Chunk,
  ChunkTrailer,
  Close,
  Tunnel,
  Dead,
}

class Side {
  st = St.Header;
  buf: Buffer | null = null;
  msg: Message | null = null;
  remaining = 0;
  chunkLeft = 0;
  chunkCrlf = false;
  constructor(readonly dir: Dir) {}
}

function firstLine(b: Buffer): string {
  const nl = b.indexOf(10);
  return b.toString('latin1', 0, nl < 0 ? Math.min(b.length, 256) : Math.min(nl, 256)).replace(/\r$/, '');
}

export function looksLikeHttpRequest(b: Buffer): boolean {
  if (b.length < 4) return false;
  const sp = b.indexOf(32);
  if (sp <= 0 || sp > 20) return false;
  const m = b.toString('latin1', 0, sp);
  if (!METHOD_RE.test(m)) return false;
  if (KNOWN_METHODS.has(m)) return true;
  return / HTTP\/\d\.\d$/.test(firstLine(b));
}

const SEPARATORS = '()<>@,;:\\"/[]?={} \t';
const isTokenChar = (c: number) => c > 0x20 && c < 0x7f && !SEPARATORS.includes(String.fromCharCode(c));
const isUriChar = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || ";/?:@&=+$,-_.!~*'()%".includes(String.fromCharCode(c));

/**
 * Parse a request line as Zeek's HTTP analyzer does: the method is an RFC 7230
 * token followed by whitespace (else the request is bad); the URI runs to the
 * last character before whitespace + "HTTP/"; with no "HTTP/" the request is
 * HTTP/0.9; a version shorter than "HTTP/x.y" is left unset.
 */
export function parseRequestLine(line: string): { method: string; uri: string; version?: string } | null {
  const end = line.length;
  let eom = 0;
  while (eom < end && isTokenChar(line.charCodeAt(eom))) eom++;
  if (eom === 0) return null;
  let rest = eom;
  while (rest < end && (line[rest] === ' ' || line[rest] === '\t')) rest++;
  if (rest === eom) return null;
  const method = line.slice(0, eom);
  let eou = rest;
  while (eou < end && isUriChar(line.charCodeAt(eou))) eou++;
  if (eou >= end && line.startsWith('HTTP/', rest)) eou = rest; // missing URI
  let vs = eou;
  for (; vs < end; vs++) {
    eou = vs;
    while (vs < end && (line[vs] === ' ' || line[vs] === '\t')) vs++;
    if (line.startsWith('HTTP/', vs)) break;
  }
  let version: string | undefined;
  if (vs >= end) version = '0.9';
  else if (vs + 8 <= end) {
    const v = /^(\d+)\.(\d+)/.exec(line.slice(vs + 5));
    version = v ? `${Number(v[1])}.${Number(v[2])}` : undefined;
  }
  return { method, uri: line.slice(rest, eou), version };
}

export function looksLikeHttpResponse(b: Buffer): boolean {
  return b.length >= 5 && b.toString('latin1', 0, 5) === 'HTTP/';
}

function mimeOf(ct: string | undefined): string | undefined {
  if (!ct) return undefined;
  const m = ct.split(';')[0].trim().toLowerCase();
  return m || undefined;
}

/** Binary signatures: [mime, magic bytes at offset 0]. */
const MAGIC: [string, Buffer][] = [
  ['image/png', Buffer.from('89504e470d0a1a0a', 'hex')],
  ['image/gif', Buffer.from('GIF87a')],
  ['image/gif', Buffer.from('GIF89a')],
  ['image/jpeg', Buffer.from('ffd8ff', 'hex')],
  ['image/bmp', Buffer.from('BM')],
  ['image/x-icon', Buffer.from('00000100', 'hex')],
  ['image/webp', Buffer.from('RIFF')],
  ['application/pdf', Buffer.from('%PDF-')],
  ['application/zip', Buffer.from('504b0304', 'hex')],
  ['application/x-gzip', Buffer.from('1f8b', 'hex')],
  ['application/x-bzip2', Buffer.from('BZh')],
  ['application/x-7z-compressed', Buffer.from('377abcaf271c', 'hex')],
  ['application/x-rar', Buffer.from('Rar!\x1a\x07', 'latin1')],
  ['application/vnd.ms-cab-compressed', Buffer.from('MSCF')],
  ['application/x-executable', Buffer.from('7f454c46', 'hex')],
  ['application/x-java-applet', Buffer.from('cafebabe', 'hex')],
  ['application/x-shockwave-flash', Buffer.from('FWS')],
  ['application/x-shockwave-flash', Buffer.from('CWS')],
  ['application/msword', Buffer.from('d0cf11e0a1b11ae1', 'hex')],
  ['application/x-dosexec', Buffer.from('MZ')],
];
const HTML_START = /^(?:\xef\xbb\xbf)?[\s]*<(?:!doctype html|html|head|title|body|script|style|table|div|meta|iframe|frameset|h[1-6][\s>]|p[\s>]|a\s|br[\s/>]|center|font|link|form|pre[\s>]|!--)/i;
const XML_START = /^(?:\xef\xbb\xbf)?\s*<\?xml/;
const JSON_START = /^(?:\xef\xbb\xbf)?\s*\{\s*(?:"[^"]+"|[a-zA-Z][a-zA-Z0-9_]*)\s*:\s*(?:"|\[|\{|[0-9-]|true|false|null)/;

/**
 * MIME type of a body from its first bytes, as Zeek's file analysis reports it
 * in http.log (resp_mime_types / orig_mime_types), not from Content-Type:
 * binary magic numbers, then HTML, XML and JSON openings, then text/plain when
 * the first bytes are printable text. Undefined for empty or unrecognised data.
 */
export function sniffMime(b: Buffer): string | undefined {
  if (!b.length) return undefined;
  for (const [mime, magic] of MAGIC) {
    if (b.length >= magic.length && b.subarray(0, magic.length).equals(magic)) {
      if (mime === 'image/webp' && b.toString('latin1', 8, 12) !== 'WEBP') continue;
      return mime;
    }
  }
  const head = b.toString('latin1', 0, Math.min(b.length, 1024));
  if (/^%!PS/.test(head)) return 'application/postscript';
  if (HTML_START.test(head)) return 'text/html';
  if (XML_START.test(head)) return /<(?:html|!doctype html)/i.test(head) ? 'text/html' : 'application/xml';
  if (JSON_START.test(head)) return 'text/json';
  if (/^\s*(?:document\.write\s*\(|<script\s+(?:type|language)=['"]?(?:text\/)?javascript)/i.test(head)) return 'application/javascript';
  // Zeek's lowest-strength signature: ten printable or space characters
  if (b.length < 10) return undefined;
  for (let i = 0; i < 10; i++) {
    const c = b[i];
    if (!((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13 || c === 11 || c === 12)) return undefined;
  }
  return 'text/plain';
}

/**
 * Sniffed types of a message body: one per MIME part for multipart bodies
 * (Zeek analyses each part as a file), else one for the whole body. A 206
 * reply whose Content-Range cannot be parsed is not typed (Zeek does not
 * analyse it as a file).
 */
export function sniffBody(body: Buffer, headers: Record<string, string>, status?: number): string[] {
  if (status === 206 && !/^\s*bytes\s+\d+-\d+\/(?:\d+|\*)\s*$/i.test(headers['content-range'] ?? '')) return [];
  const out: string[] = [];
  sniffEntity(body, headers['content-type'] ?? '', 0, out);
  return out;
}

const BOUNDARY_RE = /boundary=(?:"([^"]+)"|([^;\s]+))/i;

/** Split a MIME entity into its header block's Content-Type and its body. */
function splitEntity(b: Buffer): { ct: string; body: Buffer } | null {
  const crlf = b.indexOf('\r\n\r\n', 0, 'latin1');
  const lf = b.indexOf('\n\n', 0, 'latin1');
  const he = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
  if (he < 0) return null;
  const hdr = b.toString('latin1', 0, he).replace(/\r?\n[ \t]+/g, ' ');
  const m = /^content-type:[ \t]*(.*)$/im.exec(hdr);
  return { ct: m ? m[1].trim() : '', body: b.subarray(he) };
}

function sniffEntity(body: Buffer, ct: string, depth: number, out: string[]): void {
  if (out.length >= 100) return;
  if (depth < 64 && /^\s*message\/rfc822/i.test(ct)) {
    const e = splitEntity(body);
    if (e) sniffEntity(e.body, e.ct, depth + 1, out);
    return;
  }
  const bm = depth < 64 && /^\s*multipart\//i.test(ct) ? BOUNDARY_RE.exec(ct) : null;
  if (!bm) {
    const t = sniffMime(body);
    if (t) out.push(t);
    return;
  }
  const delim = Buffer.from('--' + (bm[1] ?? bm[2]), 'latin1');
  let p = body.indexOf(delim);
  while (p >= 0 && out.length < 100) {
    const q = p + delim.length;
    if (body[q] === 0x2d && body[q + 1] === 0x2d) break; // closing delimiter
    const nl = body.indexOf(10, q);
    if (nl < 0) break;
    const next = body.indexOf(delim, nl + 1);
    let end = next < 0 ? body.length : next;
    if (next >= 0 && body[end - 1] === 0x0a) end -= body[end - 2] === 0x0d ? 2 : 1;
    const part = body.subarray(nl + 1, Math.max(nl + 1, end));
    // a part may have no header block at all: then it starts with the blank line
    const e = part[0] === 0x0a || (part[0] === 0x0d && part[1] === 0x0a) ? { ct: '', body: part.subarray(part[0] === 0x0a ? 1 : 2) } : splitEntity(part);
    if (e) sniffEntity(e.body, e.ct, depth + 1, out);
    if (next < 0) break;
    p = next;
  }
}

/** Decode gzip/deflate within `max` output bytes; partial input allowed. */
function decodeBody(raw: Buffer, enc: string, max: number): Buffer {
  const e = enc.toLowerCase();
  if (!raw.length || (e !== 'gzip' && e !== 'x-gzip' && e !== 'deflate')) return raw.subarray(0, max);
  const opts = { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: max };
  let input = raw;
  for (let tries = 0; tries < 12 && input.length; tries++) {
    try {
      if (e === 'deflate') {
        try {
          return inflateSync(input, opts);
        } catch (err) {
          if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw err;
          return inflateRawSync(input, opts);
        }
      }
      return gunzipSync(input, opts);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        input = input.subarray(0, input.length >> 1); // too much output: decode a shorter prefix
        continue;
      }
      return raw.subarray(0, max); // not decodable: keep raw bytes
    }
  }
  return raw.subarray(0, max);
}

/** Body length after content decoding (as Zeek counts it) when the whole compressed body was kept; else the wire length. */
function decodedLength(m: Message): number {
  if (!m.encoding || !m.body.length || m.bodyKept < m.bodyLen) return m.bodyLen;
  const e = m.encoding.toLowerCase();
  if (e !== 'gzip' && e !== 'x-gzip' && e !== 'deflate') return m.bodyLen;
  const raw = Buffer.concat(m.body);
  const out = decodeBody(raw, e, 16 << 20);
  return out === raw || out.length === 0 ? m.bodyLen : out.length;
}

export class HttpAnalyzer implements StreamAnalyzer {
  private sides: [Side, Side] = [new Side(0), new Side(1)];
  /** An HTTP/1.x request was seen: a later version-less line is cruft, not HTTP/0.9. */
  private saw1x = false;

  /** Non-HTTP data after HTTP/1.x requests (as Zeek: a protocol violation, analysis of the connection stops). */
  private cruftAfter1x(consumed: number, ts: number, frame: number): number {
    this.weird('bad_HTTP_request', ts, frame);
    this.sides[0].st = St.Dead;
    this.sides[1].st = St.Dead;
    return consumed;
  }
  private pending: Message[] = [];
  private depth = 0;
  private lastFrame = 0;
  private ntlmAuth: { user?: string; domain?: string; workstation?: string } | null = null;
  private ntlmChallenge: { nb?: string; dns?: string } | null = null;

  constructor(private flow: FlowInfo, private emit: Emit) {}

  data(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    this.lastFrame = frame;
    const s = this.sides[dir];
    if (s.st === St.Dead || s.st === St.Tunnel) return;
    let b: Buffer = bytes;
    if (s.buf && s.buf.length) {
      b = Buffer.concat([s.buf, bytes]);
      s.buf = null;
    }
    let off = 0;
    let guard = 0;
    while (off < b.length && guard++ < 100000) {
      const used = this.step(s, b, off, frame, ts);
      if (used < 0) {
        // need more bytes: keep the rest (bounded)
        const rest = b.length - off;
        if (rest > HEADER_MAX) {
          this.weird('http_header_too_long', ts, frame);
          s.st = St.Dead;
          return;
        }
        s.buf = Buffer.from(b.subarray(off));
        return;
      }
      off += used;
      if ((s.st as St) === St.Dead || (s.st as St) === St.Tunnel) return;
    }
  }

  gap(dir: Dir, _len: number): void {
    const s = this.sides[dir];
    s.buf = null;
    if (s.st === St.Body && s.remaining > 0) {
      // account the missing bytes as body, keep parsing after
      const n = Math.min(_len, s.remaining);
      s.remaining -= n;
      if (s.msg) s.msg.bodyLen += n;
      if (s.remaining === 0) this.finishMessage(s, 0, 0);
      return;
    }
    if (s.st === St.Close) return;
    // cannot resynchronise reliably inside headers/chunks: stop this side
    if (s.msg) this.finishMessage(s, 0, 0);
    s.st = St.Dead;
  }

  end(ts: number): void {
    for (const s of this.sides) {
      if (s.msg && (s.st === St.Close || s.st === St.Body || s.st === St.Chunk)) this.finishMessage(s, this.lastFrame, ts);
    }
    for (const req of this.pending.splice(0)) this.record(req, null);
    void ts;
  }

  /** Parse from b[off]; returns bytes consumed or -1 when more data is needed. */
  private step(s: Side, b: Buffer, off: number, frame: number, ts: number): number {
    switch (s.st) {
      case St.Header: {
        // skip blank lines between messages
        let p = off;
        while (p < b.length && (b[p] === 13 || b[p] === 10)) p++;
        if (p >= b.length) return b.length - off;
        let end = b.indexOf('\r\n\r\n', p, 'latin1');
        let termLen = 4;
        const lf = b.indexOf('\n\n', p, 'latin1');
        if (lf >= 0 && (end < 0 || lf < end)) {
          end = lf;
          termLen = 2;
        }
        if (end < 0 && s.dir === 1 && b.length - p >= 5 && !/^HTTP\//i.test(b.toString('latin1', p, p + 5))) {
          end = p;
          termLen = 0;
        }
        if (end < 0) {
          // HTTP/0.9 simple request: "GET /path\r\n"
          if (s.dir === 0) {
            const nl = b.indexOf(10, p);
            if (nl >= 0) {
              const line = b.toString('latin1', p, nl).replace(/\r$/, '');
              const rl = parseRequestLine(line);
              // a request line without "HTTP/x.y" is HTTP/0.9: no header block follows
              if (rl && rl.version === '0.9' && !line.includes(' HTTP/')) {
                if (this.saw1x) return this.cruftAfter1x(nl + 1 - off, ts, frame);
                const m = this.newMsg(ts, frame);
                m.method = rl.method;
                m.uri = rl.uri;
                m.version = '0.9';
                this.request(m);
                return nl + 1 - off;
              }
            }
          }
          return -1;
        }
        const text = b.toString('latin1', p, end);
        const consumed = end + termLen - off;
        const lines = text.split(/\r?\n/);
        const m = this.newMsg(ts, frame);
        const start = lines[0];
        if (s.dir === 0) {
          const rl = parseRequestLine(start);
          if (!rl) {
            this.weird('bad_HTTP_request', ts, frame);
            s.st = St.Dead;
            return consumed;
          }
          if (rl.version === '0.9' && this.saw1x) return this.cruftAfter1x(consumed, ts, frame);
          if (rl.version !== '0.9') this.saw1x = true;
          m.method = rl.method;
          m.uri = rl.uri;
          m.version = rl.version;
        } else {
          const mm = /^HTTP\/(\d\.\d+)\s+(\d{3})\s?(.*)$/i.exec(start);
          // A reply to an HTTP/0.9 request has no status line and no headers (as Zeek: all bytes are body);
          // any other reply without a status line is not HTTP (Zeek: bad_HTTP_reply, the side is ignored)
          if (this.pending[0]?.version === '0.9') {
            // HTTP/0.9 reply: no status line, the body runs to the end of the connection
            m.version = '0.9';
            m.status = 0;
            m.reason = '<empty>';
            s.msg = m;
            s.st = St.Close;
            return p - off;
          }
          if (!mm) {
            this.weird('bad_HTTP_reply', ts, frame);
            s.st = St.Dead;
            return consumed;
          }
          m.version = mm[1];
          m.status = Number(mm[2]);
          m.reason = mm[3];
        }
        let last = '';
        for (let i = 1; i < lines.length; i++) {
          const line = lines[i];
          if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
            m.headers[last] += ' ' + line.trim(); // obsolete line folding
            continue;
          }
          const c = line.indexOf(':');
          if (c <= 0) continue;
          const name = line.slice(0, c).trim().toLowerCase();
          const value = line.slice(c + 1).trim();
          if (name in m.headers) m.headers[name] += ', ' + value;
          else m.headers[name] = value;
          last = name;
        }
        m.encoding = (m.headers['content-encoding'] ?? '').trim();
        this.headersDone(s, m, ts, frame);
        return consumed;
      }
      case St.Body: {
        const n = Math.min(s.remaining, b.length - off);
        this.bodyBytes(s, b, off, n);
        s.remaining -= n;
        if (s.remaining === 0) this.finishMessage(s, frame, ts);
        return n;
      }
      case St.Close: {
        const n = b.length - off;
        this.bodyBytes(s, b, off, n);
        return n;
      }
      case St.Chunk: {
        if (s.chunkLeft > 0) {
          const n = Math.min(s.chunkLeft, b.length - off);
          this.bodyBytes(s, b, off, n);
          s.chunkLeft -= n;
          if (s.chunkLeft === 0) s.chunkCrlf = true;
          return n;
        }
        if (s.chunkCrlf) {
          // CRLF after chunk data
          if (b.length - off < 1) return -1;
          if (b[off] === 13) {
            if (b.length - off < 2) return -1;
            s.chunkCrlf = false;
            return b[off + 1] === 10 ? 2 : 1;
          }
          s.chunkCrlf = false;
          return b[off] === 10 ? 1 : 0;
        }
        const nl = b.indexOf(10, off);
        if (nl < 0) return b.length - off > 1024 ? this.badChunk(s, ts, frame) : -1;
        const line = b.toString('latin1', off, nl).replace(/\r$/, '');
        const hex = line.split(';')[0].trim();
        if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) return this.badChunk(s, ts, frame);
        const size = parseInt(hex, 16);
        if (!Number.isSafeInteger(size)) return this.badChunk(s, ts, frame);
        if (size === 0) s.st = St.ChunkTrailer;
        else s.chunkLeft = size;
        return nl + 1 - off;
      }
      case St.ChunkTrailer: {
        const nl = b.indexOf(10, off);
        if (nl < 0) return -1;
        const line = b.toString('latin1', off, nl).replace(/\r$/, '');
        if (line === '') this.finishMessage(s, frame, ts);
        return nl + 1 - off;
      }
      default:
        return b.length - off;
    }
  }

  private badChunk(s: Side, ts: number, frame: number): number {
    this.weird('bad_HTTP_chunked_encoding', ts, frame);
    if (s.msg) this.finishMessage(s, frame, ts);
    s.st = St.Dead;
    return 0;
  }

  private newMsg(ts: number, frame: number): Message {
    return { ts, frame, headers: {}, bodyLen: 0, body: [], bodyKept: 0, encoding: '', endFrame: frame, endTs: ts };
  }

  private bodyBytes(s: Side, b: Buffer, off: number, n: number): void {
    const m = s.msg;
    if (!m || n <= 0) return;
    m.bodyLen += n;
    const cap = m.encoding ? COMPRESSED_MAX : s.dir === 0 ? REQ_BODY_MAX : RESP_BODY_MAX;
    if (m.bodyKept < cap) {
      const k = Math.min(n, cap - m.bodyKept);
      m.body.push(Buffer.from(b.subarray(off, off + k)));
      m.bodyKept += k;
    }
  }

  private headersDone(s: Side, m: Message, ts: number, frame: number): void {
    s.msg = m;
    const h = m.headers;
    this.ntlmHeaders(s.dir, h, m);
    const te = (h['transfer-encoding'] ?? '').toLowerCase();
    const clRaw = h['content-length'];
    let cl = -1;
    if (clRaw !== undefined) {
      const t = clRaw.split(',')[0].trim();
      if (/^\d{1,15}$/.test(t)) cl = Number(t);
      else this.weird('HTTP_bad_content_length', ts, frame);
    }
    if (s.dir === 0) {
      this.request(m);
      if (m.method === 'CONNECT') {
        // body-less; after a 2xx the connection becomes a tunnel
        this.finishMessage(s, frame, ts);
        return;
      }
      if (te.includes('chunked')) s.st = St.Chunk;
      else if (cl > 0) {
        s.st = St.Body;
        s.remaining = cl;
      } else this.finishMessage(s, frame, ts);
      return;
    }
    // response
    const req = this.pending[0];
    const status = m.status ?? 0;
    if (status >= 100 && status < 200 && status !== 101) {
      s.msg = null; // informational: not paired
      s.st = St.Header;
      return;
    }
    const noBody = status === 204 || status === 304 || req?.method === 'HEAD' || status === 101 || (req?.method === 'CONNECT' && status >= 200 && status < 300);
    if (noBody) {
      this.finishMessage(s, frame, ts);
      if (status === 101 || (req?.method === 'CONNECT' && status >= 200 && status < 300)) {
        this.sides[0].st = St.Tunnel;
        this.sides[1].st = St.Tunnel;
      }
      return;
    }
    if (te.includes('chunked')) s.st = St.Chunk;
    else if (cl >= 0) {
      if (cl === 0) this.finishMessage(s, frame, ts);
      else {
        s.st = St.Body;
        s.remaining = cl;
      }
    } else s.st = St.Close;
  }

  private request(m: Message): void {
    if (this.pending.length >= MAX_PENDING) this.record(this.pending.shift()!, null);
    this.pending.push(m);
  }

  private finishMessage(s: Side, frame: number, ts: number): void {
    const m = s.msg;
    s.msg = null;
    if (s.st !== St.Dead && s.st !== St.Tunnel) s.st = St.Header;
    s.remaining = 0;
    s.chunkLeft = 0;
    s.chunkCrlf = false;
    if (!m) return;
    if (frame) {
      m.endFrame = frame;
      m.endTs = ts;
    }
    if (s.dir === 1) {
      const req = this.pending.shift() ?? null;
      if (req) this.record(req, m);
      else this.record(null, m);
    }
  }

  private ntlmHeaders(dir: Dir, h: Record<string, string>, m: Message): void {
    const v = dir === 0 ? h['authorization'] ?? h['proxy-authorization'] : h['www-authenticate'] ?? h['proxy-authenticate'];
    if (!v) return;
    const mm = /(?:NTLM|Negotiate)\s+([A-Za-z0-9+/=]{16,})/.exec(v);
    if (!mm) return;
    let msg: ReturnType<typeof parseNtlmMessage> = null;
    try {
      msg = parseNtlmMessage(Buffer.from(mm[1], 'base64'));
    } catch {
      msg = null;
    }
    if (!msg) return;
    if (msg.type === 3) {
      this.ntlmAuth = { user: msg.user, domain: msg.domain, workstation: msg.workstation };
      (m as Message & { ntlm?: boolean }).ntlm = true;
    } else if (msg.type === 2) {
      this.ntlmChallenge = { nb: msg.nbComputer, dns: msg.dnsComputer };
    }
  }

  private record(req: Message | null, resp: Message | null): void {
    const base = req ?? resp!;
    const ev: SpoorEvent = {
      ...flowFields(this.flow, 'http', base.ts, (resp ?? req)!.endFrame),
      'event.provider': 'http',
      'http.trans_depth': ++this.depth,
    };
    if (req) {
      ev.ref.frame = req.frame;
      ev['event.action'] = req.method;
      ev['http.request.method'] = req.method;
      ev['url.original'] = req.uri;
      if (req.headers['host'] !== undefined) ev['url.domain'] = req.headers['host'];
      if (req.headers['user-agent'] !== undefined) ev['user_agent.original'] = req.headers['user-agent'];
      if (req.headers['referer'] !== undefined) ev['http.request.referrer'] = req.headers['referer'];
      ev['http.version'] = resp?.version ?? req.version;
      ev['http.request.body.bytes'] = decodedLength(req);
      const mt = mimeOf(req.headers['content-type']);
      if (mt) ev['http.request.mime_type'] = mt;
      if (req.body.length) {
        const body = decodeBody(Buffer.concat(req.body), req.encoding, REQ_BODY_MAX);
        ev['http.request.body.content'] = body.toString('latin1');
        const sn = sniffBody(body, req.headers);
        if (sn.length) ev['http.request.mime_sniffed'] = sn;
      }
      ev['http.request.headers'] = req.headers;
    } else {
      ev['http.version'] = resp!.version;
    }
    if (resp) {
      ev['http.response.status_code'] = resp.status;
      ev['http.response.status_msg'] = resp.reason;
      ev['http.response.body.bytes'] = decodedLength(resp);
      if (resp.encoding) ev['http.response.body.wire_bytes'] = resp.bodyLen;
      const mt = mimeOf(resp.headers['content-type']);
      if (mt) ev['http.response.mime_type'] = mt;
      if (resp.body.length) {
        const body = decodeBody(Buffer.concat(resp.body), resp.encoding, RESP_BODY_MAX);
        ev['http.response.body.content'] = body.toString('latin1');
        const sn = sniffBody(body, resp.headers, resp.status);
        if (sn.length) ev['http.response.mime_sniffed'] = sn;
      }
      ev['http.response.headers'] = resp.headers;
      ev['event.outcome'] = (resp.status ?? 0) < 400 ? 'success' : 'failure';
      ev['http.response.frame'] = resp.endFrame;
    } else {
      ev['event.outcome'] = 'unknown';
    }
    this.emit(ev);
    if (req && (req as Message & { ntlm?: boolean }).ntlm && this.ntlmAuth) {
      const a = this.ntlmAuth;
      const st = resp?.status;
      const n: SpoorEvent = {
        ...flowFields(this.flow, 'ntlm', req.ts, req.frame),
        'event.provider': 'http',
        'event.action': 'ntlm-authenticate',
        'event.outcome': st === undefined ? 'unknown' : st === 401 || st === 407 || st === 403 ? 'failure' : 'success',
      };
      if (a.user) n['user.name'] = a.user;
      if (a.domain) n['user.domain'] = a.domain;
      if (a.workstation) n['ntlm.workstation'] = a.workstation;
      if (this.ntlmChallenge?.nb) n['ntlm.server_nb_computer'] = this.ntlmChallenge.nb;
      if (this.ntlmChallenge?.dns) n['ntlm.server_dns_computer'] = this.ntlmChallenge.dns;
      if (st !== undefined) n['ntlm.status'] = String(st);
      this.emit(n);
      this.ntlmAuth = null;
    }
  }

  private weird(name: string, ts: number, frame: number): void {
    this.emit({ ...flowFields(this.flow, 'weird', ts, frame), 'event.provider': 'http', 'event.action': name, 'weird.name': name });
  }
}

export const httpAnalyzer: AnalyzerFactory = {
  name: 'http',
  transport: 'tcp',
  ports: [80, 81, 631, 1080, 3128, 8000, 8080, 8888],
  probe(orig: Buffer, resp: Buffer): boolean {
    // Zeek attaches by port too: a malformed request line still yields the reply's record
    if (orig.length && looksLikeHttpRequest(orig)) return true;
    return looksLikeHttpResponse(resp);
  },
  createStream(flow: FlowInfo, emit: Emit): StreamAnalyzer {
    return new HttpAnalyzer(flow, emit);
  },
};
