/**
 * Connection-oriented DCE/RPC (C706 ch. 12, MS-RPCE) over TCP (port 135 and
 * dynamic ports) and over SMB named pipes. Binds map context ids to interface
 * UUIDs (→ endpoint names), requests carry opnums (→ operation names). One
 * `dcerpc` record per request/response pair (emitted when the response or
 * fault arrives, or at the end for unanswered requests), like Zeek's dce_rpc.log.
 *
 * Selected requests are decoded for the responder (NDR20, little-endian):
 * svcctl CreateServiceW/ChangeServiceConfigW/OpenServiceW (service name and
 * binary path: the PsExec / smbexec pattern), Start/Delete/ControlService
 * (service name through the handle returned by Open/CreateServiceW), atsvc
 * NetrJobAdd (command), ITaskSchedulerService SchRpcRegisterTask (task path, command).
 */
import type { SpoorEvent } from '../../core/event.js';
import { flowFields, type AnalyzerFactory, type Dir, type Emit, type FlowInfo, type StreamAnalyzer } from '../analyzer.js';
import { guid, hex32, weirdEvent } from './common.js';
import { endpointName, operationName } from './dcerpc-names.js';
import { NtlmTracker, NTLMSSP_SIG, parseNtlmMessage } from './ntlm.js';

const MAX_PDU = 65536; // frag_length is 16 bits
const MAX_STUB = 256 * 1024;
const MAX_STUB_TOTAL = 1 << 20; // all pending request stubs of one association
const MAX_PENDING = 1024;

const PT_REQUEST = 0, PT_RESPONSE = 2, PT_FAULT = 3, PT_BIND = 11, PT_BIND_ACK = 12, PT_BIND_NAK = 13,
  PT_ALTER = 14, PT_ALTER_RESP = 15, PT_AUTH3 = 16;

interface Pending {
  opnum: number;
  ctx: number;
  ts: number;
  frame: number;
  stub: Buffer[];
  stubLen: number;
  args?: Record<string, unknown>;
}

/** NDR20 / NDR64 little-endian cursor (never throws; `ok` turns false when out of range). */
class Ndr {
  ok = true;
  constructor(public b: Buffer, public ndr64 = false, public o = 0) {}
  align(n: number) { this.o = (this.o + n - 1) & ~(n - 1); }
  u32(): number {
    this.align(4);
    if (this.o + 4 > this.b.length) { this.ok = false; return 0; }
    const v = this.b.readUInt32LE(this.o); this.o += 4; return v;
  }
  /** Pointer referent ids, conformance/variance counts: 4 bytes in NDR20, 8 in NDR64. */
  size(): number {
    if (!this.ndr64) return this.u32();
    this.align(8);
    if (this.o + 8 > this.b.length) { this.ok = false; return 0; }
    const lo = this.b.readUInt32LE(this.o), hi = this.b.readUInt32LE(this.o + 4);
    this.o += 8;
    return hi ? 0xffffffff : lo;
  }
  skip(n: number) { this.o += n; if (this.o > this.b.length) this.ok = false; }
  /** Conformant varying wide string (max, offset, actual, chars). */
  wstr(): string {
    this.size();
    this.size();
    const n = this.size();
    if (!this.ok || n > 32768 || this.o + n * 2 > this.b.length) { this.ok = false; return ''; }
    const s = this.b.toString('utf16le', this.o, this.o + n * 2).replace(/\0+$/, '');
    this.o += n * 2;
    this.align(4);
    return s;
  }
  /** Unique pointer to a wide string. */
  uwstr(): string | undefined {
    const ref = this.size();
    if (!this.ok || ref === 0) return undefined;
    return this.wstr();
  }
}

const NDR64_UUID = '71710533-beba-4937-8319-b5dbef9ccc36';

function decodeRequest(endpoint: string, op: string, stub: Buffer, ndr64: boolean): Record<string, unknown> | undefined {
  const n = new Ndr(stub, ndr64);
  const out: Record<string, unknown> = {};
  if (endpoint === 'svcctl') {
    if (op === 'CreateServiceW' || op === 'CreateServiceWOW64W') {
      n.skip(20);
      out['service.name'] = n.wstr();
      const disp = n.uwstr();
      if (disp !== undefined) out['dcerpc.service_display_name'] = disp;
      n.u32();
      out['dcerpc.service_type'] = n.u32();
      out['dcerpc.service_start_type'] = n.u32();
      n.u32();
      const bin = n.wstr();
      if (n.ok) out['process.command_line'] = bin;
    } else if (op === 'OpenServiceW') {
      n.skip(20);
      out['service.name'] = n.wstr();
    } else if (op === 'OpenSCManagerW') {
      const m = n.uwstr();
      if (m !== undefined) out['dcerpc.machine_name'] = m;
    } else if (op === 'ChangeServiceConfigW') {
      out['dcerpc.handle'] = stub.subarray(0, 20).toString('hex');
      n.skip(20);
      n.u32(); out['dcerpc.service_start_type'] = n.u32(); n.u32();
      const bin = n.uwstr();
      if (bin !== undefined) out['process.command_line'] = bin;
    } else if (['StartServiceW', 'DeleteService', 'ControlService', 'CloseServiceHandle', 'QueryServiceStatus', 'QueryServiceConfigW'].includes(op)) {
      if (stub.length >= 20) out['dcerpc.handle'] = stub.subarray(0, 20).toString('hex');
    }
  } else if (endpoint === 'atsvc' && op === 'NetrJobAdd') {
    n.uwstr();
    n.size(); n.u32(); n.skip(2);
    const ref = n.size();
    const cmd = ref ? n.wstr() : undefined;
    if (cmd !== undefined && n.ok) out['process.command_line'] = cmd;
  } else if (endpoint === 'ITaskSchedulerService' && op === 'SchRpcRegisterTask') {
    const path = n.uwstr();
    const xml = n.wstr();
    if (path !== undefined) out['dcerpc.task_path'] = path;
    if (xml) {
      const cmd = /<Command>([^<]*)<\/Command>/i.exec(xml)?.[1];
      const args = /<Arguments>([^<]*)<\/Arguments>/i.exec(xml)?.[1];
      if (cmd) out['process.command_line'] = args ? `${cmd} ${args}` : cmd;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * One DCE/RPC association (a TCP connection, or one SMB named-pipe file).
 * Orig→resp bytes are dir 0. Bytes may arrive in arbitrary chunks.
 */
export class DceRpcConn {
  private buf: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  private ctxUuid = new Map<number, string>();
  private ndr64 = new Set<number>();
  private bindOrder: number[] = [];
  private pending = new Map<number, Pending>();
  private handles = new Map<string, string>();
  private ntlm: NtlmTracker;
  private dead = false;
  private seenPdu = false;
  private stubBytes = 0;
  /** Count of records emitted (for callers that want to know if this was RPC). */
  records = 0;

  constructor(private flow: FlowInfo, private emit: Emit, private pipe: string, ntlm?: NtlmTracker) {
    this.ntlm = ntlm ?? new NtlmTracker(flow, emit, 'dce_rpc');
  }

  data(dir: Dir, bytes: Buffer, ts: number, frame: number): void {
    if (this.dead || !bytes.length) return;
    try {
      let b = this.buf[dir].length ? Buffer.concat([this.buf[dir], bytes]) : bytes;
      while (b.length >= 16) {
        if (b[0] !== 5 || b[1] > 1) {
          if (!this.seenPdu) {
            // Not DCE/RPC at all (e.g. PsExec's own stdin/stdout pipes): go quiet.
            this.dead = true;
            this.buf = [Buffer.alloc(0), Buffer.alloc(0)];
            return;
          }
          this.emit(weirdEvent(this.flow, 'dce_rpc', 'dce_rpc_bad_header', `version ${b[0]}.${b[1]}`, ts, frame));
          b = Buffer.alloc(0);
          break;
        }
        const le = (b[4] & 0x10) !== 0;
        const fragLen = le ? b.readUInt16LE(8) : b.readUInt16BE(8);
        if (fragLen < 16 || fragLen > MAX_PDU) {
          this.emit(weirdEvent(this.flow, 'dce_rpc', 'dce_rpc_bad_frag_length', String(fragLen), ts, frame));
          b = Buffer.alloc(0);
          break;
        }
        if (b.length < fragLen) break;
        this.seenPdu = true;
        this.pdu(dir, b.subarray(0, fragLen), le, ts, frame);
        b = b.subarray(fragLen);
      }
      if (b.length > MAX_PDU) b = Buffer.alloc(0);
      this.buf[dir] = b.length ? Buffer.from(b) : b;
    } catch (e) {
      this.dead = true;
      this.emit(weirdEvent(this.flow, 'dce_rpc', 'dce_rpc_analyzer_error', String((e as Error).message), ts, frame));
    }
  }

  private pdu(_dir: Dir, p: Buffer, le: boolean, ts: number, frame: number): void {
    const ptype = p[2];
    const flags = p[3];
    const rd16 = (o: number) => (o + 2 <= p.length ? (le ? p.readUInt16LE(o) : p.readUInt16BE(o)) : 0);
    const rd32 = (o: number) => (o + 4 <= p.length ? (le ? p.readUInt32LE(o) : p.readUInt32BE(o)) : 0);
    const authLen = rd16(10);
    const callId = rd32(12);
    let stubEnd = p.length;
    if (authLen) {
      const trailer = p.length - authLen - 8;
      if (trailer >= 16) {
        stubEnd = trailer - p[trailer + 2];
        const auth = p.subarray(p.length - authLen);
        if (auth.indexOf(NTLMSSP_SIG) >= 0) this.ntlm.message(parseNtlmMessage(auth), ts, frame);
      }
    }
    if (ptype === PT_BIND || ptype === PT_ALTER) {
      const n = p[24] ?? 0;
      let o = 28;
      this.bindOrder = [];
      for (let i = 0; i < n && o + 24 <= p.length; i++) {
        const ctxId = rd16(o);
        const nts = p[o + 2];
        this.ctxUuid.set(ctxId, guid(p, o + 4));
        this.bindOrder.push(ctxId);
        o += 24 + 20 * nts;
      }
    } else if (ptype === PT_BIND_ACK || ptype === PT_ALTER_RESP) {
      const sl = rd16(24);
      let o = (26 + sl + 3) & ~3;
      const n = p[o] ?? 0;
      o += 4;
      for (let i = 0; i < n && o + 24 <= p.length && i < this.bindOrder.length; i++, o += 24) {
        if (rd16(o) === 0 && guid(p, o + 4) === NDR64_UUID) this.ndr64.add(this.bindOrder[i]);
      }
    } else if (ptype === PT_REQUEST) {
      const ctxId = rd16(20);
      const opnum = rd16(22);
      const stubStart = flags & 0x80 ? 40 : 24;
      const stub = p.subarray(stubStart, Math.max(stubStart, stubEnd));
      let pend = this.pending.get(callId);
      if (!pend || flags & 0x01) {
        if (this.pending.size >= MAX_PENDING) {
          this.emit(weirdEvent(this.flow, 'dce_rpc', 'dce_rpc_too_many_pending', String(this.pending.size), ts, frame));
          this.pending.clear();
          this.stubBytes = 0;
        }
        if (pend) this.stubBytes -= pend.stubLen;
        pend = { opnum, ctx: ctxId, ts, frame, stub: [], stubLen: 0 };
        this.pending.set(callId, pend);
      }
      if (pend.stubLen + stub.length <= MAX_STUB && this.stubBytes + stub.length <= MAX_STUB_TOTAL) {
        pend.stub.push(Buffer.from(stub));
        pend.stubLen += stub.length;
        this.stubBytes += stub.length;
      }
      if (flags & 0x02) {
        const ep = endpointName(this.ctxUuid.get(pend.ctx) ?? 'unknown');
        const op = operationName(ep, pend.opnum);
        try {
          pend.args = decodeRequest(ep, op, Buffer.concat(pend.stub), this.ndr64.has(pend.ctx));
        } catch {
          /* argument decoding is best effort */
        }
        this.stubBytes -= pend.stubLen;
        pend.stubLen = 0;
        pend.stub = [];
      }
    } else if (ptype === PT_RESPONSE || ptype === PT_FAULT) {
      const pend = this.pending.get(callId);
      if (!pend) return;
      if (ptype === PT_RESPONSE && !(flags & 0x02)) {
        // Not the last fragment: keep only the tail for the return value.
        pend.stub = [Buffer.from(p.subarray(24, Math.max(24, stubEnd)).subarray(-32))];
        return;
      }
      let stub = p.subarray(24, Math.max(24, stubEnd));
      if (pend.stub.length && stub.length < 24) stub = Buffer.concat([...pend.stub, stub]);
      this.pending.delete(callId);
      this.stubBytes -= pend.stubLen;
      const ret = ptype === PT_FAULT ? rd32(24) : stub.length >= 4 ? stub.readUInt32LE(stub.length - 4) : undefined;
      this.record(pend, ts, frame, ptype === PT_FAULT, ret, stub);
    }
  }

  private record(pend: Pending, ts: number, frame: number, fault: boolean, ret: number | undefined, respStub: Buffer | null): void {
    const uuid = this.ctxUuid.get(pend.ctx) ?? '';
    const ep = uuid ? endpointName(uuid) : 'unknown';
    const op = operationName(ep, pend.opnum);
    const ev: SpoorEvent = {
      ...flowFields(this.flow, 'dcerpc', pend.ts, frame || pend.frame),
      'event.provider': 'dce_rpc',
      'event.action': op,
      'dcerpc.endpoint': ep,
      'dcerpc.operation': op,
      'dcerpc.opnum': pend.opnum,
      'dcerpc.named_pipe': this.pipe,
    };
    if (uuid) ev['dcerpc.uuid'] = uuid;
    if (respStub) ev['dcerpc.rtt'] = ts - pend.ts;
    if (pend.args) Object.assign(ev, pend.args);
    const handle = ev['dcerpc.handle'] as string | undefined;
    if (handle && !ev['service.name'] && this.handles.has(handle)) ev['service.name'] = this.handles.get(handle);
    delete ev['dcerpc.handle'];
    if (fault) {
      ev['dcerpc.fault'] = ret !== undefined ? hex32(ret) : 'unknown';
      ev['event.outcome'] = 'failure';
    } else if (ret !== undefined) {
      ev['dcerpc.return_code'] = ret;
      if (ep === 'svcctl' || ep === 'atsvc' || ep === 'ITaskSchedulerService') ev['event.outcome'] = ret === 0 ? 'success' : 'failure';
    }
    // Remember service handles so later Start/Delete/ControlService calls name their service.
    if (ep === 'svcctl' && respStub && respStub.length >= 24 && ret === 0 && (op === 'OpenServiceW' || op.startsWith('CreateService'))) {
      const h = respStub.subarray(respStub.length - 24, respStub.length - 4).toString('hex');
      if (ev['service.name'] && this.handles.size < 4096) this.handles.set(h, ev['service.name'] as string);
    }
    this.records++;
    this.emit(ev);
  }

  /** Capture loss in one direction: drop the partial PDU; the next header resynchronises. */
  gap(dir: Dir): void {
    this.buf[dir] = Buffer.alloc(0);
  }

  end(ts: number): void {
    if (this.dead) return;
    try {
      for (const p of this.pending.values()) this.record(p, ts, p.frame, false, undefined, null);
      this.pending.clear();
      this.ntlm.end(ts);
    } catch {
      /* never throw at end */
    }
  }
}

/** True when `b` begins with a plausible DCE/RPC CO bind/alter-context/request PDU. */
export function looksLikeDceRpc(b: Buffer): boolean {
  if (b.length < 16 || b[0] !== 5 || b[1] > 1) return false;
  if (![PT_BIND, PT_ALTER, PT_REQUEST].includes(b[2])) return false;
  const le = (b[4] & 0x10) !== 0;
  const fl = le ? b.readUInt16LE(8) : b.readUInt16BE(8);
  return fl >= 16 && fl <= 65535;
}

export const dceRpcAnalyzer: AnalyzerFactory = {
  name: 'dce_rpc',
  transport: 'tcp',
  ports: [135, 593],
  probe(orig) {
    return looksLikeDceRpc(orig);
  },
  createStream(flow: FlowInfo, emit: Emit): StreamAnalyzer {
    const c = new DceRpcConn(flow, emit, String(flow.respPort));
    return {
      data: (dir, bytes, frame, ts) => c.data(dir, bytes, ts, frame),
      gap: (dir) => c.gap(dir),
      end: (ts) => c.end(ts),
    };
  },
};
