/**
 * Fallback for TCP connections no analyzer recognised: one `payload` record
 * per connection with the first ≤ 256 bytes each way as printable text
 * (`\xNN` escapes), so signatures and analysts can match unknown services.
 * Not a service: the flow engine does not record `payload` as the
 * connection's service.
 *
 * Upgrades to TLS (STARTTLS in SMTP/IMAP/POP3/XMPP/FTP, MySQL SSL, ...): when a
 * client chunk begins with a TLS handshake record after plaintext, the rest of
 * the connection is handed to the TLS parser, which emits the `tls` record.
 */
import { flowFields, type AnalyzerFactory, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from '../analyzer.js';
import { escapeBytes } from './common.js';
import { looksLikeTls, TlsParser } from './tls.js';

export const PAYLOAD_BYTES = 256;

class PayloadStream implements StreamAnalyzer {
  private parts: [Buffer[], Buffer[]] = [[], []];
  private len: [number, number] = [0, 0];
  private ts = 0;
  private frame = 0;
  private tls: TlsParser | null = null;
  private clientChunks = 0;
  constructor(private flow: FlowInfo, private emit: Emit) {}
  data(dir: Dir, bytes: Buffer, frame: number, ts: number): void {
    if (!this.ts) { this.ts = ts; this.frame = frame; }
    if (this.tls) this.tls.data(dir, bytes, frame, ts);
    else if (dir === 0 && this.clientChunks++ < 64 && looksLikeTls(bytes)) {
      this.tls = new TlsParser(this.flow, this.emit);
      this.tls.data(dir, bytes, frame, ts);
    }
    const need = PAYLOAD_BYTES - this.len[dir];
    if (need <= 0 || !bytes.length) return;
    const b = Buffer.from(bytes.subarray(0, need));
    this.parts[dir].push(b);
    this.len[dir] += b.length;
  }
  end(ts: number): void {
    this.tls?.end(ts);
    if (!this.len[0] && !this.len[1]) return;
    const ev = { ...flowFields(this.flow, 'payload', this.ts || ts, this.frame), 'event.provider': 'payload', 'event.action': 'payload' } as Record<string, unknown>;
    if (this.len[0]) ev['payload.orig'] = escapeBytes(Buffer.concat(this.parts[0]), PAYLOAD_BYTES);
    if (this.len[1]) ev['payload.resp'] = escapeBytes(Buffer.concat(this.parts[1]), PAYLOAD_BYTES);
    this.emit(ev as never);
  }
}

export const payloadAnalyzer: AnalyzerFactory = {
  name: 'payload',
  transport: 'tcp',
  /**
   * Catch-all, so it must be last in the registry: it accepts once both sides
   * spoke (or one side sent a full window), by which time any real analyzer
   * earlier in the list had its chance on the same bytes.
   */
  probe: (orig, resp) => (orig.length > 0 && resp.length > 0) || orig.length >= PAYLOAD_BYTES || resp.length >= PAYLOAD_BYTES,
  createStream(flow, emit) {
    return new PayloadStream(flow, emit);
  },
};
