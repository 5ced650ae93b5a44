/**
 * Logon sessions: 4624 linked to its 4634/4647 by TargetLogonId (per host), with
 * source address, logon type, start and end, and everything done under the
 * session's logon id (SubjectLogonId / Sysmon LogonId): account changes,
 * processes, services, tasks, explicit-credential use, log clearing.
 *
 * The report's host story is built from these sessions: a finding about an
 * action (e.g. a password change) carries `facts.session = summarizeSession(s)`.
 * State is bounded: at most `maxSessions` sessions, at most `maxActions`
 * actions kept per session (counts are exact).
 */
import type { EvidenceRef, SpoorEvent } from '../../core/event.js';
import { code, field, hostKey, hostOf, intField, isSecurity, isSysmon, isSystemLogonId, normIp, normLogonId, provider, SECURITY } from './util.js';

export const LOGON_TYPE_NAMES: Record<number, string> = {
  0: 'system',
  2: 'interactive',
  3: 'network',
  4: 'batch',
  5: 'service',
  7: 'unlock',
  8: 'network-cleartext',
  9: 'new-credentials',
  10: 'remote-interactive',
  11: 'cached-interactive',
  12: 'cached-remote-interactive',
  13: 'cached-unlock',
};

export const LOGON_TYPE_ZH: Record<number, string> = {
  2: '本地交互',
  3: '网络',
  4: '批处理',
  5: '服务',
  7: '解锁',
  8: '网络明文',
  9: '新凭据',
  10: '远程桌面',
  11: '缓存交互',
};

export interface SessionAction {
  t: number;
  /** EventID of the action record. */
  code: string;
  /** account | process | service | task | explicit-credentials | log-cleared | audit-policy | other */
  kind: string;
  /** Short description (attacker-controlled parts are data). */
  what: string;
  ref: EvidenceRef;
}

export interface LogonSession {
  host: string;
  logonId: string;
  user: string;
  domain: string;
  sid: string;
  logonType: number;
  /** Source address ('' when none). */
  src: string;
  workstation: string;
  authPackage: string;
  logonProcess: string;
  start: number;
  end?: number;
  startRef?: EvidenceRef;
  endRef?: EvidenceRef;
  /** The other half of a UAC split-token pair. */
  linkedLogonId: string;
  /** 4672: special (admin) privileges assigned at logon. */
  admin: boolean;
  /** True when the session was seen only through actions (its 4624 is not in the log). */
  inferred: boolean;
  /** Addresses of later reconnects (4778), capped. */
  reconnects: string[];
  actions: SessionAction[];
  actionCount: number;
  actionKinds: Record<string, number>;
}

export interface SessionSummary {
  host: string;
  logonId: string;
  user: string;
  logonType: number;
  logonTypeName: string;
  src: string;
  workstation: string;
  start: number | null;
  end: number | null;
  durationMs: number | null;
  admin: boolean;
  inferred: boolean;
  startRef: EvidenceRef | null;
  endRef: EvidenceRef | null;
  actionCount: number;
  actionKinds: Record<string, number>;
  /** First few actions (time, event id, kind, what). */
  actions: { t: number; code: string; kind: string; what: string }[];
}

export interface LogonSessionsOptions {
  maxSessions?: number;
  maxActions?: number;
}

const ACCOUNT_CODES = new Set(['4720', '4722', '4723', '4724', '4725', '4726', '4738', '4740', '4767', '4781', '4728', '4732', '4756', '4729', '4733', '4757', '4794']);

/** Every event code LogonSessions.observe() acts on (all other events are ignored by it). */
export const SESSION_CODES: ReadonlySet<string> = new Set([...ACCOUNT_CODES, '4624', '4634', '4647', '4672', '4778', '4688', '4697', '4698', '4702', '4648', '4719', '1102', '1']);

export class LogonSessions {
  private readonly map = new Map<string, LogonSession>();
  private readonly maxSessions: number;
  private readonly maxActions: number;
  /** Sessions dropped because of the cap. */
  evicted = 0;

  constructor(opts: LogonSessionsOptions = {}) {
    this.maxSessions = opts.maxSessions ?? 50_000;
    this.maxActions = opts.maxActions ?? 40;
  }

  private key(host: string, id: string): string {
    return hostKey(host) + '|' + id;
  }

  get size(): number {
    return this.map.size;
  }

  get(host: string, logonId: string): LogonSession | undefined {
    const id = normLogonId(logonId);
    if (!id) return undefined;
    return this.map.get(this.key(host, id));
  }

  all(): IterableIterator<LogonSession> {
    return this.map.values();
  }

  /** Feed one event; returns the session it touched (if any). */
  observe(e: SpoorEvent): LogonSession | undefined {
    const c = code(e);
    if (isSecurity(e)) {
      switch (c) {
        case '4624':
          return this.onLogon(e);
        case '4634':
        case '4647':
          return this.onLogoff(e);
        case '4672': {
          const s = this.subjectSession(e, false);
          if (s) s.admin = true;
          return s;
        }
        case '4778': {
          const s = this.lookup(hostOf(e), field(e, 'LogonID', 'LogonId'));
          const ip = normIp(field(e, 'ClientAddress'));
          if (s && ip && s.reconnects.length < 10 && !s.reconnects.includes(ip)) s.reconnects.push(ip);
          return s;
        }
        case '4688':
          return this.attach(e, 'process', field(e, 'CommandLine') || field(e, 'NewProcessName'));
        case '4697':
          return this.attach(e, 'service', `${field(e, 'ServiceName')}: ${field(e, 'ServiceFileName')}`);
        case '4698':
        case '4702':
          return this.attach(e, 'task', field(e, 'TaskName'));
        case '4648':
          return this.attach(e, 'explicit-credentials', `${field(e, 'TargetUserName')} → ${field(e, 'TargetServerName')}`);
        case '4719':
          return this.attach(e, 'audit-policy', field(e, 'SubcategoryGuid', 'SubcategoryId'));
        default:
          if (ACCOUNT_CODES.has(c)) return this.attach(e, 'account', accountWhat(e));
          return undefined;
      }
    }
    if (c === '1102' && provider(e) === 'Microsoft-Windows-Eventlog') return this.attach(e, 'log-cleared', 'Security log cleared');
    if (isSysmon(e) && c === '1') {
      const id = normLogonId(field(e, 'LogonId'));
      if (!id || isSystemLogonId(id)) return undefined;
      return this.addAction(this.ensure(hostOf(e), id, field(e, 'User'), e), e, 'process', field(e, 'CommandLine') || field(e, 'Image'));
    }
    return undefined;
  }

  private lookup(host: string, rawId: string): LogonSession | undefined {
    const id = normLogonId(rawId);
    if (!id) return undefined;
    return this.map.get(this.key(host, id));
  }

  private onLogon(e: SpoorEvent): LogonSession | undefined {
    const id = normLogonId(field(e, 'TargetLogonId'));
    if (!id || isSystemLogonId(id)) return undefined;
    const host = hostOf(e);
    const k = this.key(host, id);
    const prev = this.map.get(k);
    if (prev) this.map.delete(k); // logon id reused (reboot) or duplicate record: the newer logon wins
    const s: LogonSession = {
      host,
      logonId: id,
      user: field(e, 'TargetUserName'),
      domain: field(e, 'TargetDomainName'),
      sid: field(e, 'TargetUserSid'),
      logonType: intField(field(e, 'LogonType')),
      src: normIp(field(e, 'IpAddress')),
      workstation: field(e, 'WorkstationName').replace(/^-$/, ''),
      authPackage: field(e, 'AuthenticationPackageName'),
      logonProcess: field(e, 'LogonProcessName'),
      start: e['@timestamp'],
      startRef: e.ref,
      linkedLogonId: normLogonId(field(e, 'TargetLinkedLogonId')).replace(/^0x0$/, ''),
      admin: prev?.inferred ? prev.admin : false,
      inferred: false,
      reconnects: [],
      actions: prev?.inferred ? prev.actions : [],
      actionCount: prev?.inferred ? prev.actionCount : 0,
      actionKinds: prev?.inferred ? prev.actionKinds : {},
    };
    this.insert(k, s);
    return s;
  }

  private onLogoff(e: SpoorEvent): LogonSession | undefined {
    const s = this.lookup(hostOf(e), field(e, 'TargetLogonId'));
    if (!s) return undefined;
    if (s.end === undefined || e['@timestamp'] < s.end) {
      s.end = e['@timestamp'];
      s.endRef = e.ref;
    }
    return s;
  }

  private subjectSession(e: SpoorEvent, create: boolean): LogonSession | undefined {
    const id = normLogonId(field(e, 'SubjectLogonId'));
    if (!id || isSystemLogonId(id)) return undefined;
    const host = hostOf(e);
    const s = this.map.get(this.key(host, id));
    if (s || !create) return s;
    return this.ensure(host, id, field(e, 'SubjectUserName'), e);
  }

  private ensure(host: string, id: string, user: string, e: SpoorEvent): LogonSession {
    const k = this.key(host, id);
    let s = this.map.get(k);
    if (s) return s;
    const bs = user.lastIndexOf('\\');
    s = {
      host,
      logonId: id,
      user: bs >= 0 ? user.slice(bs + 1) : user,
      domain: bs >= 0 ? user.slice(0, bs) : field(e, 'SubjectDomainName'),
      sid: field(e, 'SubjectUserSid'),
      logonType: NaN,
      src: '',
      workstation: '',
      authPackage: '',
      logonProcess: '',
      start: e['@timestamp'],
      linkedLogonId: '',
      admin: false,
      inferred: true,
      reconnects: [],
      actions: [],
      actionCount: 0,
      actionKinds: {},
    };
    this.insert(k, s);
    return s;
  }

  /** Attribute an action to the session of the event's SubjectLogonId. */
  private attach(e: SpoorEvent, kind: string, what: string): LogonSession | undefined {
    const s = this.subjectSession(e, true);
    if (!s) return undefined;
    return this.addAction(s, e, kind, what);
  }

  private addAction(s: LogonSession, e: SpoorEvent, kind: string, what: string): LogonSession {
    s.actionCount++;
    s.actionKinds[kind] = (s.actionKinds[kind] ?? 0) + 1;
    if (s.actions.length < this.maxActions) s.actions.push({ t: e['@timestamp'], code: code(e), kind, what: what.length > 200 ? what.slice(0, 200) + '…' : what, ref: e.ref });
    if (s.inferred && e['@timestamp'] < s.start) s.start = e['@timestamp'];
    return s;
  }

  private insert(k: string, s: LogonSession): void {
    this.map.set(k, s);
    if (this.map.size <= this.maxSessions) return;
    // Evict: first the oldest sessions without actions, then the oldest at all.
    let toDrop = Math.max(1, Math.floor(this.maxSessions / 10));
    for (const [key, v] of this.map) {
      if (toDrop <= 0) break;
      if (v.actionCount === 0 && key !== k) {
        this.map.delete(key);
        this.evicted++;
        toDrop--;
      }
    }
    for (const key of this.map.keys()) {
      if (this.map.size <= this.maxSessions) break;
      if (key === k) continue;
      this.map.delete(key);
      this.evicted++;
    }
  }

  /** The session an event was done under (SubjectLogonId, or Sysmon LogonId), following a UAC link to the half that has the source. */
  sessionOf(e: SpoorEvent): LogonSession | undefined {
    const raw = isSysmon(e) ? field(e, 'LogonId') : field(e, 'SubjectLogonId');
    const s = this.lookup(hostOf(e), raw);
    if (!s) return undefined;
    return this.primary(s);
  }

  /** For a UAC split token, the linked half that carries the logon type/source when this one does not. */
  primary(s: LogonSession): LogonSession {
    if (s.linkedLogonId && (s.inferred || !s.src)) {
      const o = this.map.get(this.key(s.host, s.linkedLogonId));
      if (o && !o.inferred && (o.src || s.inferred)) {
        return o;
      }
    }
    return s;
  }

  summarize(s: LogonSession): SessionSummary {
    return summarizeSession(this.primary(s), s);
  }
}

function accountWhat(e: SpoorEvent): string {
  const c = code(e);
  const target = field(e, 'TargetUserName');
  const member = field(e, 'MemberName', 'MemberSid');
  switch (c) {
    case '4720':
      return `created ${target}`;
    case '4722':
      return `enabled ${target}`;
    case '4723':
      return `password change ${target}`;
    case '4724':
      return `password reset ${target}`;
    case '4725':
      return `disabled ${target}`;
    case '4726':
      return `deleted ${target}`;
    case '4738':
      return `changed ${target}`;
    case '4781':
      return `renamed ${field(e, 'OldTargetUserName')} → ${field(e, 'NewTargetUserName')}`;
    case '4728':
    case '4732':
    case '4756':
      return `added ${member} to ${target}`;
    default:
      return `${c} ${target}`;
  }
}

/** A JSON-friendly summary of a session (for finding facts). `actor` is the half the action was logged under. */
export function summarizeSession(s: LogonSession, actor?: LogonSession): SessionSummary {
  const acts = actor && actor !== s ? [...s.actions, ...actor.actions] : s.actions;
  const kinds: Record<string, number> = { ...s.actionKinds };
  if (actor && actor !== s) for (const [k, v] of Object.entries(actor.actionKinds)) kinds[k] = (kinds[k] ?? 0) + v;
  return {
    host: s.host,
    logonId: actor?.logonId ?? s.logonId,
    user: s.domain && s.user ? `${s.domain}\\${s.user}` : s.user,
    logonType: Number.isNaN(s.logonType) ? -1 : s.logonType,
    logonTypeName: LOGON_TYPE_NAMES[s.logonType] ?? (Number.isNaN(s.logonType) ? 'unknown' : String(s.logonType)),
    src: s.src,
    workstation: s.workstation,
    start: s.inferred ? null : s.start,
    end: s.end ?? null,
    durationMs: s.end !== undefined && !s.inferred ? s.end - s.start : null,
    admin: s.admin || !!actor?.admin,
    inferred: s.inferred,
    startRef: s.startRef ?? null,
    endRef: s.endRef ?? null,
    actionCount: s.actionCount + (actor && actor !== s ? actor.actionCount : 0),
    actionKinds: kinds,
    actions: acts
      .slice()
      .sort((a, b) => a.t - b.t)
      .slice(0, 10)
      .map((a) => ({ t: a.t, code: a.code, kind: a.kind, what: a.what })),
  };
}

/** Short bilingual phrase describing a session, for summaries. */
export function describeSession(s: SessionSummary): { en: string; zh: string } {
  const type = s.logonType >= 0 ? `type ${s.logonType} (${s.logonTypeName})` : 'unknown type';
  const zhType = s.logonType >= 0 ? `${LOGON_TYPE_ZH[s.logonType] ?? '类型'}登录（类型 ${s.logonType}）` : '登录类型未知';
  const from = s.src ? ` from ${s.src}` : s.workstation ? ` from workstation ${s.workstation}` : '';
  const zhFrom = s.src ? `来自 ${s.src} 的` : s.workstation ? `来自工作站 ${s.workstation} 的` : '';
  const start = s.start !== null ? ` started ${new Date(s.start).toISOString().replace(/\.\d{3}Z$/, 'Z')}` : '';
  const zhStart = s.start !== null ? `，登录于 ${new Date(s.start).toISOString().replace(/\.\d{3}Z$/, 'Z')}` : '';
  return {
    en: `logon session ${s.logonId} of ${s.user || '?'} (${type}${from}${start})`,
    zh: `${zhFrom}${zhType}会话 ${s.logonId}（账户 ${s.user || '?'}${zhStart}）`,
  };
}

export { SECURITY };
