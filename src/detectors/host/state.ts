/**
 * Shared host state, fed once per event: logon sessions, authentication
 * failures and successes aggregated per (host, source) and (host, account),
 * and per-account logon profiles (hours, sources).
 *
 * Every host detector created with the same DetectorContext shares one
 * HostState; the first detector created feeds it (so each event is processed
 * once), the others only read it in finish(). All structures are bounded.
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import type { DetectorContext } from '../../core/finding.js';
import { settingsFor } from '../../core/finding.js';
import { LogonSessions, SESSION_CODES } from './sessions.js';
import {
  CappedCounter,
  code,
  field,
  HourClock,
  hostKey,
  hostOf,
  intField,
  isLoopback,
  isMachineAccount,
  isNoiseAccount,
  isSecurity,
  looksLikeIp,
  normIp,
  normLogonId,
  provider,
  RDP_CORE,
  RDP_LSM,
  RDP_RCM,
  RefSample,
  userKey,
  zoneSetting,
} from './util.js';

export type FailureKind = 'bad-password' | 'unknown-user' | 'bad-credentials' | 'locked' | 'disabled' | 'expired' | 'restricted' | 'other';

export const BRUTE_DEFAULTS = {
  /** Failures from one source (or against one account) within windowMs that make a brute force. */
  threshold: 5,
  windowMs: 5 * 60_000,
  /** Failures over the whole log that also make one (slow guessing; DeepBlueCLI uses > 5). */
  totalThreshold: 20,
  /** 4625 logon types counted (others count only when they carry a remote address). */
  logonTypes: [3, 8, 10] as number[],
  /** Failures further apart than this start a new burst. */
  burstGapMs: 30 * 60_000,
  /** Failure counts at which severity rises (medium → high → critical is reserved for success). */
  highCount: 100,
};

export const SUCCESS_DEFAULTS = {
  /** Failures within lookbackMs before a success that make the success a brute-force success. */
  minFailures: 5,
  lookbackMs: 60 * 60_000,
  /** Logon types of 4624 that count as a remote success. */
  logonTypes: [3, 7, 8, 10, 11] as number[],
  /** Emit the weaker account-only match (success for an attacked account from another source). */
  accountMatch: true,
};

export const SPRAY_DEFAULTS = {
  /** Distinct accounts failed from one source within windowMs (password spraying). */
  users: 5,
  /** Distinct unknown accounts within windowMs (user guessing; Hayabusa: > 3). */
  unknownUsers: 4,
  windowMs: 5 * 60_000,
  /** 4648: distinct target accounts used by one subject within windowMs (Hayabusa: ≥ 5). */
  explicitUsers: 5,
};

export interface Burst {
  start: number;
  end: number;
  count: number;
}

export interface SuccessRec {
  t: number;
  user: string;
  src: string;
  logonType: number;
  code: string;
  logonId: string;
  ref: EvidenceRef;
}

/** Failures aggregated per (host, source) or per (host, account). */
export class FailureAgg {
  count = 0;
  first = Infinity;
  last = -Infinity;
  readonly kinds = new CappedCounter(16);
  readonly users = new CappedCounter(500);
  readonly sources = new CappedCounter(200);
  readonly logonTypes = new CappedCounter(16);
  readonly codes = new CappedCounter(16);
  readonly statuses = new CappedCounter(32);
  readonly sample = new RefSample(5);
  readonly bursts: Burst[] = [];
  /** Largest number of failures seen within one window. */
  peakWindow = 0;
  peakWindowAt = 0;
  /** Largest number of distinct accounts within one window (source aggregates). */
  peakUsers = 0;
  peakUsersAt = 0;
  peakUnknownUsers = 0;
  workstations = new CappedCounter(20);
  private readonly qt: number[] = [];
  private readonly qu: string[] = [];
  private readonly qk: boolean[] = [];
  private qh = 0;
  private readonly winUsers = new Map<string, number>();
  private readonly winUnknown = new Map<string, number>();
  constructor(
    readonly host: string,
    readonly key: string,
    private readonly windowMs: number,
    private readonly gapMs: number,
  ) {}

  add(t: number, user: string, src: string, kind: FailureKind, logonType: number, c: string, status: string, ref: EvidenceRef, ws: string): void {
    this.count++;
    if (t < this.first) this.first = t;
    if (t > this.last) this.last = t;
    this.kinds.add(kind);
    if (user) this.users.add(user);
    if (src) this.sources.add(src);
    if (ws) this.workstations.add(ws);
    if (!Number.isNaN(logonType)) this.logonTypes.add(String(logonType));
    this.codes.add(c);
    if (status) this.statuses.add(status);
    this.sample.add(ref);
    this.addBurst(t);
    // sliding window (assumes roughly time-ordered input; out-of-order records only widen it)
    const uk = userKey(user);
    const unknown = kind === 'unknown-user';
    this.qt.push(t);
    this.qu.push(uk);
    this.qk.push(unknown);
    inc(this.winUsers, uk);
    if (unknown) inc(this.winUnknown, uk);
    while (this.qh < this.qt.length && (this.qt[this.qh] < t - this.windowMs || this.qt.length - this.qh > 4096)) {
      dec(this.winUsers, this.qu[this.qh]);
      if (this.qk[this.qh]) dec(this.winUnknown, this.qu[this.qh]);
      this.qh++;
    }
    if (this.qh > 1024) {
      this.qt.splice(0, this.qh);
      this.qu.splice(0, this.qh);
      this.qk.splice(0, this.qh);
      this.qh = 0;
    }
    const inWin = this.qt.length - this.qh;
    if (inWin > this.peakWindow) {
      this.peakWindow = inWin;
      this.peakWindowAt = t;
    }
    if (this.winUsers.size > this.peakUsers) {
      this.peakUsers = this.winUsers.size;
      this.peakUsersAt = t;
    }
    if (this.winUnknown.size > this.peakUnknownUsers) this.peakUnknownUsers = this.winUnknown.size;
  }

  private addBurst(t: number): void {
    const b = this.bursts;
    for (const x of b) {
      if (t >= x.start - this.gapMs && t <= x.end + this.gapMs) {
        if (t < x.start) x.start = t;
        if (t > x.end) x.end = t;
        x.count++;
        return;
      }
    }
    b.push({ start: t, end: t, count: 1 });
    b.sort((p, q) => p.start - q.start);
    // merge overlapping neighbours, then cap the list by merging the closest pair
    for (let i = 0; i + 1 < b.length; ) {
      if (b[i + 1].start <= b[i].end + this.gapMs) {
        b[i].end = Math.max(b[i].end, b[i + 1].end);
        b[i].count += b[i + 1].count;
        b.splice(i + 1, 1);
      } else i++;
    }
    if (b.length > 32) {
      let best = 0;
      for (let i = 1; i + 1 < b.length; i++) if (b[i + 1].start - b[i].end < b[best + 1].start - b[best].end) best = i;
      b[best].end = b[best + 1].end;
      b[best].count += b[best + 1].count;
      b.splice(best + 1, 1);
    }
  }

  /** Failures within [a, b], prorated inside bursts that straddle the edges. */
  failuresBetween(a: number, b: number): number {
    let n = 0;
    for (const x of this.bursts) {
      if (x.end < a || x.start > b) continue;
      if (x.start >= a && x.end <= b) n += x.count;
      else {
        const span = x.end - x.start;
        const lo = Math.max(a, x.start);
        const hi = Math.min(b, x.end);
        n += span > 0 ? Math.round((x.count * (hi - lo)) / span) : x.count;
      }
    }
    return n;
  }
}

function inc(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
function dec(m: Map<string, number>, k: string): void {
  const v = (m.get(k) ?? 0) - 1;
  if (v <= 0) m.delete(k);
  else m.set(k, v);
}

/** Successful logons kept per key: first 8, last 8, and up to 8 pinned (those right after failures). */
export class SuccessList {
  count = 0;
  readonly firstItems: SuccessRec[] = [];
  readonly lastItems: SuccessRec[] = [];
  readonly pinned: SuccessRec[] = [];
  add(s: SuccessRec, pin: boolean): void {
    this.count++;
    if (pin && this.pinned.length < 8) this.pinned.push(s);
    if (this.firstItems.length < 8) this.firstItems.push(s);
    else {
      this.lastItems.push(s);
      if (this.lastItems.length > 8) this.lastItems.shift();
    }
  }
  items(): SuccessRec[] {
    const seen = new Set<SuccessRec>();
    const out: SuccessRec[] = [];
    for (const s of [...this.firstItems, ...this.pinned, ...this.lastItems]) if (!seen.has(s)) (seen.add(s), out.push(s));
    return out.sort((a, b) => a.t - b.t);
  }
}

/** Successful logons of one account from one source on one host (for hours and first-seen sources). */
export interface LogonGroup {
  host: string;
  user: string;
  src: string;
  /** 'security' (4624) or 'rdp' (TerminalServices logs). */
  via: string;
  count: number;
  first: number;
  last: number;
  firstRef: EvidenceRef;
  hours: number[];
  logonTypes: CappedCounter;
  logonIds: string[];
  /** Logons at night hours (sample). */
  night: RefSample;
  nightFirst: number;
  nightLast: number;
  sample: RefSample;
}

/** Explicit-credential use (4648) per (host, subject). */
export class ExplicitAgg {
  readonly targets = new CappedCounter(500);
  readonly servers = new CappedCounter(100);
  readonly sample = new RefSample(5);
  count = 0;
  first = Infinity;
  last = -Infinity;
  peakTargets = 0;
  private readonly q: { t: number; u: string }[] = [];
  private qh = 0;
  private readonly win = new Map<string, number>();
  constructor(
    readonly host: string,
    readonly subject: string,
    private readonly windowMs: number,
  ) {}
  add(t: number, target: string, server: string, ref: EvidenceRef): void {
    this.count++;
    this.first = Math.min(this.first, t);
    this.last = Math.max(this.last, t);
    this.targets.add(target);
    if (server) this.servers.add(server);
    this.sample.add(ref);
    const u = userKey(target);
    this.q.push({ t, u });
    inc(this.win, u);
    while (this.qh < this.q.length && (this.q[this.qh].t < t - this.windowMs || this.q.length - this.qh > 4096)) dec(this.win, this.q[this.qh++].u);
    if (this.qh > 1024) {
      this.q.splice(0, this.qh);
      this.qh = 0;
    }
    if (this.win.size > this.peakTargets) this.peakTargets = this.win.size;
  }
}

/** Event codes HostState.observe() acts on (its own and those of LogonSessions). */
export const STATE_CODES: ReadonlySet<string> = new Set([...SESSION_CODES, '4625', '4771', '4768', '4776', '4624', '4648', '18456', '140', '1149', '21', '25']);

const MAX_AGGS = 20_000;
const MAX_GROUPS = 20_000;

export class HostState {
  readonly sessions = new LogonSessions();
  readonly bySource = new Map<string, FailureAgg>();
  readonly byUser = new Map<string, FailureAgg>();
  readonly successBySource = new Map<string, SuccessList>();
  readonly successByUser = new Map<string, SuccessList>();
  readonly groups = new Map<string, LogonGroup>();
  readonly explicit = new Map<string, ExplicitAgg>();
  /** Hosts that have 4624 records (so TerminalServices logons are not double-counted). */
  readonly hostsWith4624 = new Set<string>();
  readonly brute: typeof BRUTE_DEFAULTS;
  readonly success: typeof SUCCESS_DEFAULTS;
  readonly spray: typeof SPRAY_DEFAULTS;
  readonly clock: HourClock;
  readonly nightHours: number[];
  dropped = 0;
  events = 0;

  constructor(readonly ctx: DetectorContext) {
    this.brute = settingsFor(ctx, 'host.bruteforce', { ...BRUTE_DEFAULTS });
    this.success = settingsFor(ctx, 'host.bruteforce-success', { ...SUCCESS_DEFAULTS });
    this.spray = settingsFor(ctx, 'host.spray', { ...SPRAY_DEFAULTS });
    this.clock = new HourClock(zoneSetting(ctx, 'host.unusual-logon'));
    const nh = ctx.settings['host.unusual-logon']?.nightHours;
    this.nightHours = Array.isArray(nh) ? (nh as number[]) : [0, 1, 2, 3, 4, 5];
  }

  isNight(ms: number): boolean {
    return this.nightHours.includes(this.clock.hour(ms));
  }

  observe(e: SpoorEvent): void {
    this.events++;
    // most events (Sysmon, PowerShell, system noise) touch no shared structure: leave before any other work
    if (!STATE_CODES.has(e['event.code'] as string)) return;
    this.sessions.observe(e);
    const c = code(e);
    if (isSecurity(e)) {
      switch (c) {
        case '4625':
          return this.on4625(e);
        case '4771':
        case '4768':
          return this.onKerberos(e, c);
        case '4776':
          return this.on4776(e);
        case '4624':
          return this.on4624(e);
        case '4648':
          return this.on4648(e);
      }
      return;
    }
    const p = provider(e);
    if (c === '18456' && /^MSSQL/i.test(p)) return this.onMssql(e);
    if (p === RDP_CORE && c === '140') return this.onRdp140(e);
    if (p === RDP_RCM && c === '1149') {
      const user = field(e, 'Param1', 'param1');
      const dom = field(e, 'Param2', 'param2');
      const ip = normIp(field(e, 'Param3', 'param3'));
      return this.onSuccess(e, dom && user ? user : user, ip, 10, '', 'rdp');
    }
    if (p === RDP_LSM && (c === '21' || c === '25')) {
      const ip = normIp(field(e, 'Address'));
      if (!ip || !looksLikeIp(ip)) return; // "LOCAL" console logons
      return this.onSuccess(e, field(e, 'User'), ip, 10, '', 'rdp');
    }
  }

  private failure(e: SpoorEvent, user: string, src: string, ws: string, kind: FailureKind, logonType: number, status: string): void {
    const host = hostOf(e);
    const hk = hostKey(host);
    const t = e['@timestamp'];
    const srcKey = src || (ws ? 'ws:' + ws.toLowerCase() : '');
    const uk = userKey(user);
    const c = code(e);
    if (srcKey) {
      const k = hk + '|' + srcKey;
      let a = this.bySource.get(k);
      if (!a) {
        if (this.bySource.size >= MAX_AGGS) {
          this.dropped++;
        } else {
          a = new FailureAgg(host, src || ws, this.brute.windowMs, this.brute.burstGapMs);
          this.bySource.set(k, a);
        }
      }
      a?.add(t, user, src, kind, logonType, c, status, e.ref, ws);
    }
    if (uk) {
      const k = hk + '|' + uk;
      let a = this.byUser.get(k);
      if (!a) {
        if (this.byUser.size >= MAX_AGGS) this.dropped++;
        else {
          a = new FailureAgg(host, user, this.brute.windowMs, this.brute.burstGapMs);
          this.byUser.set(k, a);
        }
      }
      a?.add(t, user, srcKey ? src || 'ws:' + ws : '', kind, logonType, c, status, e.ref, ws);
    }
  }

  private on4625(e: SpoorEvent): void {
    const lt = intField(field(e, 'LogonType'));
    const ip = normIp(field(e, 'IpAddress'));
    const remote = ip !== '' && !isLoopback(ip);
    if (!this.brute.logonTypes.includes(lt) && !remote) return;
    const status = (field(e, 'SubStatus') || '').toLowerCase();
    const st = (field(e, 'Status') || '').toLowerCase();
    const use = status && status !== '0x0' && status !== '0x00000000' ? status : st;
    this.failure(e, field(e, 'TargetUserName'), remote ? ip : '', field(e, 'WorkstationName').replace(/^-$/, ''), ntKind(use), lt, use);
  }

  private onKerberos(e: SpoorEvent, c: string): void {
    const st = field(e, 'Status').toLowerCase();
    const n = intField(st);
    if (!(n > 0)) return; // 4768 success or no status
    let kind: FailureKind;
    if (n === 0x18) kind = 'bad-password';
    else if (n === 0x6) kind = 'unknown-user';
    else if (n === 0x12) kind = 'disabled';
    else if (n === 0x17) kind = 'expired';
    else if (c === '4771') kind = 'other';
    else return; // other 4768 errors (e.g. 0x25 clock skew, 0xe etype) are not guesses
    const ip = normIp(field(e, 'IpAddress'));
    this.failure(e, field(e, 'TargetUserName'), isLoopback(ip) ? '' : ip, '', kind, NaN, st);
  }

  private on4776(e: SpoorEvent): void {
    const st = field(e, 'Status').toLowerCase();
    const n = intField(st);
    if (!(n > 0)) return;
    this.failure(e, field(e, 'TargetUserName'), '', field(e, 'Workstation').replace(/^-$/, ''), ntKind(st), NaN, st);
  }

  private onMssql(e: SpoorEvent): void {
    const d = e['winlog.event_data'] as Record<string, string> | undefined;
    const text = d ? Object.values(d).join(' ') : '';
    const ip = normIp(/CLIENT:\s*([0-9A-Fa-f:.]+)\]/.exec(text)?.[1] ?? '');
    let user = /Login failed for user '([^']*)'/.exec(text)?.[1] ?? '';
    if (!user) {
      const m = /<string>([^<]*)<\/string>/.exec(text);
      user = m ? m[1] : field(e, 'param1', 'Param1');
      if (user.startsWith('<') || user.includes('Reason:')) user = '';
    }
    const reason = /Reason:\s*([^.<\]]*)/.exec(text)?.[1] ?? '';
    let kind: FailureKind = 'other';
    if (/password did not match/i.test(reason)) kind = 'bad-password';
    else if (/could not find a login/i.test(reason)) kind = 'unknown-user';
    else if (/disabled/i.test(reason)) kind = 'disabled';
    this.failure(e, user, isLoopback(ip) ? '' : ip, '', kind, NaN, reason.trim().slice(0, 80));
  }

  private onRdp140(e: SpoorEvent): void {
    const d = e['winlog.event_data'] as Record<string, string> | undefined;
    let ip = normIp(field(e, 'IPString', 'ClientIP'));
    if (!ip && d) for (const v of Object.values(d)) if (looksLikeIp(normIp(v))) (ip = normIp(v));
    this.failure(e, '', isLoopback(ip) ? '' : ip, '', 'bad-credentials', 10, '');
  }

  private on4624(e: SpoorEvent): void {
    const host = hostOf(e);
    this.hostsWith4624.add(hostKey(host));
    const lt = intField(field(e, 'LogonType'));
    const ip = normIp(field(e, 'IpAddress'));
    this.onSuccess(e, field(e, 'TargetUserName'), ip && !isLoopback(ip) ? ip : '', lt, normLogonId(field(e, 'TargetLogonId')), 'security', field(e, 'WorkstationName').replace(/^-$/, ''));
  }

  private onSuccess(e: SpoorEvent, user: string, ip: string, lt: number, logonId: string, via: string, ws = ''): void {
    if (isNoiseAccount(user) || isMachineAccount(user)) return;
    const host = hostOf(e);
    const hk = hostKey(host);
    const t = e['@timestamp'];
    const rec: SuccessRec = { t, user, src: ip, logonType: lt, code: code(e), logonId, ref: e.ref };
    // brute-force success candidates: remote logon types only
    if (via === 'rdp' || this.success.logonTypes.includes(lt)) {
      const srcKey = ip || (ws ? 'ws:' + ws.toLowerCase() : '');
      if (srcKey) {
        const k = hk + '|' + srcKey;
        const agg = this.bySource.get(k);
        const pin = !!agg && agg.count > 0 && t >= agg.last - this.success.lookbackMs && t <= agg.last + this.success.lookbackMs;
        this.successList(this.successBySource, k)?.add(rec, pin);
      }
      const uk = userKey(user);
      const ua = this.byUser.get(hk + '|' + uk);
      const pin = !!ua && ua.count > 0 && t >= ua.last - this.success.lookbackMs && t <= ua.last + this.success.lookbackMs;
      this.successList(this.successByUser, hk + '|' + uk)?.add(rec, pin);
    }
    // logon profile (interactive and remote logons with a person behind them)
    if (lt === 0 || lt === 4 || lt === 5 || lt === 9) return;
    if (lt === 3 && !ip) return; // local network logons (services talking to themselves)
    const gk = hk + '|' + userKey(user) + '|' + (ip || '-') + '|' + via;
    let g = this.groups.get(gk);
    if (!g) {
      if (this.groups.size >= MAX_GROUPS) {
        this.dropped++;
        return;
      }
      g = {
        host,
        user,
        src: ip,
        via,
        count: 0,
        first: t,
        last: t,
        firstRef: e.ref,
        hours: new Array(24).fill(0),
        logonTypes: new CappedCounter(16),
        logonIds: [],
        night: new RefSample(5),
        nightFirst: Infinity,
        nightLast: -Infinity,
        sample: new RefSample(3),
      };
      this.groups.set(gk, g);
    }
    g.count++;
    if (t < g.first) {
      g.first = t;
      g.firstRef = e.ref;
    }
    if (t > g.last) g.last = t;
    const h = this.clock.hour(t);
    g.hours[h]++;
    if (!Number.isNaN(lt)) g.logonTypes.add(String(lt));
    if (logonId && g.logonIds.length < 8) g.logonIds.push(logonId);
    g.sample.add(e.ref);
    if (this.nightHours.includes(h)) {
      g.night.add(e.ref);
      g.nightFirst = Math.min(g.nightFirst, t);
      g.nightLast = Math.max(g.nightLast, t);
    }
  }

  private successList(m: Map<string, SuccessList>, k: string): SuccessList | undefined {
    let l = m.get(k);
    if (!l) {
      if (m.size >= MAX_AGGS) {
        this.dropped++;
        return undefined;
      }
      l = new SuccessList();
      m.set(k, l);
    }
    return l;
  }

  private on4648(e: SpoorEvent): void {
    const target = field(e, 'TargetUserName');
    if (!target || isMachineAccount(target) || isNoiseAccount(target)) return;
    const subj = field(e, 'SubjectUserName');
    if (isMachineAccount(subj)) return; // machine accounts (services) use explicit credentials legitimately
    const host = hostOf(e);
    const ip = normIp(field(e, 'IpAddress'));
    const k = hostKey(host) + '|' + userKey(subj) + '|' + normLogonId(field(e, 'SubjectLogonId'));
    let a = this.explicit.get(k);
    if (!a) {
      if (this.explicit.size >= MAX_AGGS) return void this.dropped++;
      a = new ExplicitAgg(host, subj, this.spray.windowMs);
      this.explicit.set(k, a);
    }
    a.add(e['@timestamp'], target, field(e, 'TargetServerName') || ip, e.ref);
  }

  /** Is this (host, source) a brute-force source by the configured thresholds? */
  bruteSource(host: string, src: string): FailureAgg | undefined {
    if (!src) return undefined;
    const a = this.bySource.get(hostKey(host) + '|' + src) ?? this.bySource.get(hostKey(host) + '|ws:' + src.toLowerCase());
    return a && this.isBrute(a) ? a : undefined;
  }

  isBrute(a: FailureAgg): boolean {
    return a.peakWindow >= this.brute.threshold || a.count >= this.brute.totalThreshold;
  }

  /** Brute-force sources on any host (for cross-host correlation). */
  bruteSourceAnywhere(src: string): FailureAgg | undefined {
    if (!src) return undefined;
    for (const a of this.bySource.values()) if (a.key === src && this.isBrute(a)) return a;
    return undefined;
  }
}

/** NTSTATUS of a logon failure → what it means for guessing. */
export function ntKind(status: string): FailureKind {
  const s = status.toLowerCase().replace(/^0x0*/, '0x');
  switch (s) {
    case '0xc000006a':
      return 'bad-password';
    case '0xc0000064':
      return 'unknown-user';
    case '0xc000006d':
      return 'bad-credentials';
    case '0xc0000234':
      return 'locked';
    case '0xc0000072':
      return 'disabled';
    case '0xc0000071':
    case '0xc0000193':
    case '0xc0000224':
      return 'expired';
    case '0xc000006f':
    case '0xc0000070':
    case '0xc000015b':
    case '0xc0000413':
      return 'restricted';
    default:
      return 'other';
  }
}

export const FAILURE_TEXT: Record<FailureKind, { en: string; zh: string }> = {
  'bad-password': { en: 'wrong password', zh: '密码错误' },
  'unknown-user': { en: 'no such account', zh: '账户不存在' },
  'bad-credentials': { en: 'bad user name or password', zh: '用户名或密码错误' },
  locked: { en: 'account locked out', zh: '账户已锁定' },
  disabled: { en: 'account disabled', zh: '账户已禁用' },
  expired: { en: 'password or account expired', zh: '密码或账户已过期' },
  restricted: { en: 'logon restriction', zh: '登录受限' },
  other: { en: 'other failure', zh: '其他失败' },
};

const registry = new WeakMap<DetectorContext, { state: HostState; feeder: symbol | null }>();

/** Mark a state finished so that detectors created later with the same context start afresh. */
export function releaseHostState(ctx: DetectorContext, state: HostState): void {
  const r = registry.get(ctx);
  if (r && r.state === state) registry.delete(ctx);
}

/**
 * The HostState shared by host detectors of one context. Returns whether the
 * caller is the feeder (the one that must pass events to state.observe()).
 */
export function hostState(ctx: DetectorContext, who: symbol): { state: HostState; feeds: boolean } {
  let r = registry.get(ctx);
  if (!r) {
    r = { state: new HostState(ctx), feeder: null };
    registry.set(ctx, r);
  }
  if (r.feeder === null) r.feeder = who;
  return { state: r.state, feeds: r.feeder === who };
}
