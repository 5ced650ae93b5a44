/**
 * The protocol-analyzer contract: the flow engine (src/network/flows) hands each
 * connection's reassembled byte streams (TCP) or datagrams (UDP) to analyzers,
 * which emit protocol records as SpoorEvents (datasets in docs/EVENTS.md).
 *
 * Analyzers are chosen by content (probe), not only by port. They must be
 * robust to arbitrary bytes: never throw out of data()/datagram(); report
 * anomalies by emitting a `weird` record instead. They keep bounded buffers.
 */
import type { SpoorEvent } from '../core/event.js';

/** Identity of a connection as analyzers see it. */
export interface FlowInfo {
  /** Zeek-style connection uid (`C...`). */
  uid: string;
  evidence: string;
  /** Originator (the side that sent the first SYN, or the first packet). */
  origIp: string;
  origPort: number;
  respIp: string;
  respPort: number;
  transport: 'tcp' | 'udp';
  communityId: string;
}

/** Direction: 0 = originator → responder, 1 = responder → originator. */
export type Dir = 0 | 1;

export type Emit = (event: SpoorEvent) => void;

export interface StreamAnalyzer {
  /** In-order bytes of one direction. `frame` is the frame that carried (the end of) them; `ts` ms. */
  data(dir: Dir, bytes: Buffer, frame: number, ts: number): void;
  /** `len` bytes are missing in direction `dir` (capture loss); parsers resynchronise or give up. */
  gap?(dir: Dir, len: number): void;
  /** The connection ended (FIN/RST/timeout/end of capture). Flush pending records. */
  end(ts: number): void;
}

export interface DatagramAnalyzer {
  datagram(dir: Dir, bytes: Buffer, frame: number, ts: number): void;
  end(ts: number): void;
}

export interface AnalyzerFactory {
  /** Service name recorded in conn `network.protocol` (Zeek's names: http, dns, ssl, smb, ntlm, rdp, ssh, krb, dce_rpc ...). */
  name: string;
  transport: 'tcp' | 'udp';
  /** Well-known ports: a hint, used first, never required. */
  ports?: number[];
  /**
   * Decide from content: `orig`/`resp` are the first bytes seen each way (either may be empty).
   * Return true to attach. Called until an analyzer attaches or enough bytes were seen.
   */
  probe(orig: Buffer, resp: Buffer, flow: FlowInfo): boolean;
  createStream?(flow: FlowInfo, emit: Emit): StreamAnalyzer;
  createDatagram?(flow: FlowInfo, emit: Emit): DatagramAnalyzer;
}

/** Common fields every protocol record carries; analyzers spread this into their events. */
export function flowFields(flow: FlowInfo, dataset: string, ts: number, frame: number): SpoorEvent {
  return {
    '@timestamp': ts,
    'event.dataset': dataset,
    ref: { evidence: flow.evidence, frame, uid: flow.uid },
    'conn.uid': flow.uid,
    'source.ip': flow.origIp,
    'source.port': flow.origPort,
    'destination.ip': flow.respIp,
    'destination.port': flow.respPort,
    'network.transport': flow.transport,
    'network.community_id': flow.communityId,
  };
}
