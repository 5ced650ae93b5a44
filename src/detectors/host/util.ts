/**
 * Small helpers shared by the host (EVTX) detectors: field access, value
 * normalisation, bounded evidence samples, local-time hours.
 */
import type { EvidenceRef, EvtxEvent, SpoorEvent } from '../../core/event.js';
import type { DetectorContext, Severity } from '../../core/finding.js';

export const SECURITY = 'Microsoft-Windows-Security-Auditing';
export const EVENTLOG = 'Microsoft-Windows-Eventlog';
export const SCM = 'Service Control Manager';
export const SYSMON = 'Microsoft-Windows-Sysmon';
export const DEFENDER = 'Microsoft-Windows-Windows Defender';
export const RDP_RCM = 'Microsoft-Windows-TerminalServices-RemoteConnectionManager';
export const RDP_LSM = 'Microsoft-Windows-TerminalServices-LocalSessionManager';
export const RDP_CORE = 'Microsoft-Windows-RemoteDesktopServices-RdpCoreTS';

const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** EventData of an EVTX event (never undefined). */
export function ed(e: SpoorEvent): Record<string, string> {
  const d = e['winlog.event_data'];
  return d && typeof d === 'object' ? (d as Record<string, string>) : EMPTY;
}

/** A string field of EventData, trimmed; '' when absent. Accepts several candidate names. */
export function field(e: SpoorEvent, ...names: string[]): string {
  const d = ed(e);
  for (const n of names) {
    const v = d[n];
    if (typeof v === 'string') {
      const t = v.trim();
      if (t !== '') return t;
    } else if (v !== undefined && v !== null) return String(v);
  }
  return '';
}

export function code(e: SpoorEvent): string {
  return (e['event.code'] as string | undefined) ?? '';
}
export function provider(e: SpoorEvent): string {
  return (e['event.provider'] as string | undefined) ?? '';
}

/** Security-Auditing provider (the Security log's own events). */
export function isSecurity(e: SpoorEvent): boolean {
  return provider(e) === SECURITY;
}
export function isSysmon(e: SpoorEvent): boolean {
  return provider(e) === SYSMON;
}

/** Computer name of the record (display form). */
export function hostOf(e: SpoorEvent): string {
  return ((e['winlog.computer_name'] as string | undefined) ?? (e['host.name'] as string | undefined) ?? '').trim() || '?';
}

const HOST_KEYS = new Map<string, string>();

/** Host key: case-insensitive, short name (FQDN and short name of one machine compare equal). Memoised (a log names few hosts). */
export function hostKey(h: string): string {
  let k = HOST_KEYS.get(h);
  if (k !== undefined) return k;
  const l = h.toLowerCase();
  const dot = l.indexOf('.');
  k = dot > 0 ? l.slice(0, dot) : l;
  if (HOST_KEYS.size >= 4096) HOST_KEYS.clear();
  HOST_KEYS.set(h, k);
  return k;
}

/** Normalise an address field: '-', '', '::' → ''; strips IPv4-mapped prefix and brackets. */
export function normIp(v: string | undefined | null): string {
  if (!v) return '';
  let s = String(v).trim();
  if (s === '-' || s === '' || s === '::' || s === '0.0.0.0') return '';
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(s)) s = s.slice(7);
  return s;
}

export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip === 'localhost';
}

const IPV4_RE = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IPV6_RE = /^[0-9a-f:]+$/i;
export function looksLikeIp(s: string): boolean {
  return IPV4_RE.test(s) || (s.includes(':') && IPV6_RE.test(s));
}

/** Logon id as a canonical lower-case hex string without leading zeros ('0x3e7'); '' when absent. */
const LOGON_IDS = new Map<string, string>();

export function normLogonId(v: string | undefined | null): string {
  if (!v) return '';
  let id = LOGON_IDS.get(v);
  if (id === undefined) {
    id = normLogonIdUncached(v);
    if (LOGON_IDS.size >= 8192) LOGON_IDS.clear();
    LOGON_IDS.set(v, id);
  }
  return id;
}

function normLogonIdUncached(v: string): string {
  const s = String(v).trim().toLowerCase();
  if (s === '' || s === '-') return '';
  let hex: string;
  if (s.startsWith('0x')) hex = s.slice(2);
  else if (/^\d+$/.test(s)) {
    try {
      hex = BigInt(s).toString(16);
    } catch {
      return '';
    }
  } else return '';
  hex = hex.replace(/^0+/, '');
  if (!/^[0-9a-f]*$/.test(hex)) return '';
  return '0x' + (hex || '0');
}

/** Logon ids of the machine itself (SYSTEM, LOCAL SERVICE, NETWORK SERVICE, none). */
export function isSystemLogonId(id: string): boolean {
  return id === '0x3e7' || id === '0x3e4' || id === '0x3e5' || id === '0x0' || id === '';
}

/** User name for keys: lower-case, domain dropped. */
export function userKey(u: string): string {
  let s = u.trim().toLowerCase();
  const bs = s.lastIndexOf('\\');
  if (bs >= 0) s = s.slice(bs + 1);
  return s;
}

export function isMachineAccount(u: string): boolean {
  return u.endsWith('$');
}

/** Well-known non-person accounts that never count as a brute-forced "success". */
export function isNoiseAccount(u: string): boolean {
  const k = userKey(u);
  return k === '' || k === '-' || k === 'anonymous logon' || k === 'system' || k === 'local service' || k === 'network service' || k.startsWith('dwm-') || k.startsWith('umfd-');
}

/** Parse an integer field ("3", "0x3"), NaN when absent. */
export function intField(s: string): number {
  if (!s) return NaN;
  const t = s.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^-?\d+$/.test(t)) return parseInt(t, 10);
  return NaN;
}

/** Recent baseName() inputs and results: the detectors of one process event ask for the same paths in turn. */
const BASE_IN: string[] = ['', '', '', ''];
const BASE_OUT: string[] = ['', '', '', ''];
let baseAt = 0;

/** The file name part of a Windows or POSIX path, lower-case. */
export function baseName(p: string): string {
  for (let i = 0; i < 4; i++) if (BASE_IN[i] === p) return BASE_OUT[i];
  let s = p;
  if (s.charCodeAt(0) === 34 || s.charCodeAt(s.length - 1) === 34) s = s.replace(/^"+|"+$/g, '');
  const i = Math.max(s.lastIndexOf('\\'), s.lastIndexOf('/'));
  const out = (i >= 0 ? s.slice(i + 1) : s).toLowerCase();
  BASE_IN[baseAt] = p;
  BASE_OUT[baseAt] = out;
  baseAt = (baseAt + 1) & 3;
  return out;
}

/** Bounded evidence sample: the first N and the last N references, plus pinned key records. */
export class RefSample {
  private readonly firstRefs: EvidenceRef[] = [];
  private readonly lastRefs: EvidenceRef[] = [];
  private lastPos = 0;
  count = 0;
  constructor(private readonly n = 5) {}
  add(ref: EvidenceRef | undefined): void {
    this.count++;
    if (!ref) return;
    if (this.firstRefs.length < this.n) {
      this.firstRefs.push(ref);
      return;
    }
    if (this.lastRefs.length < this.n) this.lastRefs.push(ref);
    else {
      this.lastRefs[this.lastPos] = ref;
      this.lastPos = (this.lastPos + 1) % this.n;
    }
  }
  /** First N, then key records, then last N (in arrival order), de-duplicated. */
  refs(...key: (EvidenceRef | undefined)[]): EvidenceRef[] {
    const last = this.lastRefs.length < this.n ? this.lastRefs : [...this.lastRefs.slice(this.lastPos), ...this.lastRefs.slice(0, this.lastPos)];
    return uniqueRefs([...this.firstRefs, ...(key.filter(Boolean) as EvidenceRef[]), ...last]);
  }
}

export function refKey(r: EvidenceRef): string {
  return `${r.evidence}|${r.record ?? ''}|${r.frame ?? ''}|${r.line ?? ''}|${r.uid ?? ''}`;
}

export function uniqueRefs(refs: EvidenceRef[]): EvidenceRef[] {
  const seen = new Set<string>();
  const out: EvidenceRef[] = [];
  for (const r of refs) {
    const k = refKey(r);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}

/** Count values with a cap on distinct keys (further new keys are counted under `overflow`). */
export class CappedCounter {
  readonly map = new Map<string, number>();
  overflow = 0;
  constructor(private readonly cap = 200) {}
  add(k: string, n = 1): void {
    const v = this.map.get(k);
    if (v !== undefined) this.map.set(k, v + n);
    else if (this.map.size < this.cap) this.map.set(k, n);
    else this.overflow += n;
  }
  get distinct(): number {
    return this.map.size;
  }
  /** Distinct count is a lower bound when overflow > 0. */
  get saturated(): boolean {
    return this.overflow > 0;
  }
  top(n = 10): [string, number][] {
    return [...this.map.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  }
  topObject(n = 10): Record<string, number> {
    return Object.fromEntries(this.top(n));
  }
}

/** ISO time without milliseconds, for summaries. */
export function t(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  return new Date(Math.floor(ms)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const SEV: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
export function maxSev(a: Severity, b: Severity): Severity {
  return SEV.indexOf(a) >= SEV.indexOf(b) ? a : b;
}
export function raise(s: Severity, steps = 1): Severity {
  const i = SEV.indexOf(s);
  return SEV[Math.max(0, Math.min(SEV.length - 1, i + steps))];
}

/** Local hour-of-day (0..23) in an IANA time zone or a fixed offset, cached per UTC hour. */
export class HourClock {
  private readonly fmt: Intl.DateTimeFormat | null;
  private readonly offsetMs: number;
  private readonly cache = new Map<number, number>();
  readonly zone: string;
  constructor(zone: string | number | undefined) {
    this.offsetMs = 0;
    this.fmt = null;
    this.zone = 'UTC';
    if (typeof zone === 'number' && Number.isFinite(zone)) {
      this.offsetMs = zone * 60_000;
      this.zone = `UTC${zone >= 0 ? '+' : '-'}${Math.abs(zone / 60)}`;
    } else if (typeof zone === 'string' && zone && zone.toUpperCase() !== 'UTC') {
      const m = /^UTC([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(zone);
      if (m) {
        this.offsetMs = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) * 60_000;
        this.zone = zone;
      } else {
        try {
          this.fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' });
          this.zone = zone;
        } catch {
          this.fmt = null;
        }
      }
    }
  }
  hour(ms: number): number {
    if (!this.fmt) return new Date(ms + this.offsetMs).getUTCHours();
    const bucket = Math.floor(ms / 3_600_000);
    let h = this.cache.get(bucket);
    if (h === undefined) {
      h = Number(this.fmt.format(new Date(ms))) % 24;
      if (this.cache.size > 50_000) this.cache.clear();
      this.cache.set(bucket, h);
    }
    return h;
  }
  /** Local wall-clock text 'YYYY-MM-DD HH:MM' for summaries. */
  local(ms: number): string {
    if (!this.fmt) return new Date(ms + this.offsetMs).toISOString().slice(0, 16).replace('T', ' ');
    try {
      const parts = new Intl.DateTimeFormat('en-CA', { timeZone: this.zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms));
      const g = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
      return `${g('year')}-${g('month')}-${g('day')} ${g('hour')}:${g('minute')}`;
    } catch {
      return t(ms);
    }
  }
}

/** The zone hours are judged in: settings[id].timeZone, else the case's (ctx.tz), else settings.host/case.timeZone; UTC when none. */
export function zoneSetting(ctx: DetectorContext, id: string): string | number | undefined {
  const cands = [ctx.settings[id]?.timeZone, ctx.tz, ctx.settings['host']?.timeZone, ctx.settings['case']?.timeZone, ctx.settings[id]?.utcOffsetMinutes];
  for (const c of cands) if (typeof c === 'string' || typeof c === 'number') return c;
  return undefined;
}

export function asEvtx(e: SpoorEvent): EvtxEvent {
  return e as EvtxEvent;
}

/** Bound a piece of attacker-controlled text kept in facts. */
export function clip(s: string, n = 512): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}
