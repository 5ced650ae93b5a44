/**
 * Words for the chain: step descriptions, the timeline, the pivot steps from
 * the symptom to the root cause, the root cause paragraph and the
 * recommendations. Everything here is computed from the Analysis; renderers
 * only show it. Attacker-controlled strings (file names, accounts) are data:
 * they are copied as they are and escaped by the renderers.
 */
import type { Bilingual } from '../core/finding.js';
import type { EvidenceRef } from '../core/event.js';
import { isoTime } from '../core/event.js';
import type { AlertSpec, CitedStatement, InvestigationStep, Recommendation, TimelineEntry, ChainLink, Iocs } from '../incident/types.js';
import { CVE_PRODUCTS, LINK_KIND, STAGE, techniqueName } from './classify.js';
import { factNum, factStr, FACTS_USED, type Rec, type Resolver } from './graph.js';
import type { Analysis, HostState } from './chain.js';
import type { EntitySnapshot } from './entities.js';
import { alertSubject } from './alert.js';
import { isIp } from './entities.js';
import { isSystemBinary, malwareKind, savedDownloads } from './malware.js';

const fmtCache = new Map<string, Intl.DateTimeFormat | null>();
/** `2024-06-04 03:36:12` in the case's zone (UTC when the zone is unknown). */
export function localTime(ms: number, tz: string): string {
  let f = fmtCache.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('sv-SE', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    } catch {
      f = null;
    }
    fmtCache.set(tz, f);
  }
  if (!Number.isFinite(ms)) return '?';
  if (!f) return isoTime(ms).replace('T', ' ').slice(0, 19) + ' UTC';
  return f.format(new Date(ms));
}

export interface Ctx {
  res: Resolver;
  tz: string;
  snap?: EntitySnapshot | null;
  homeNets: string[];
  /** Mining pools of this incident (set by prepare()): a long connection to one is mining, not C2. */
  pools?: Set<string>;
}

/** Facts the sentences need about the whole incident, computed once per Analysis. */
function prepare(a: Analysis, ctx: Ctx): void {
  if (ctx.pools) return;
  ctx.pools = new Set(a.recs.filter((r) => r.c.kind === 'mining' && r.peer).map((r) => r.peer!));
}

const factList = (r: Rec, name: string): string[] => {
  const v = (r.f.facts as Record<string, unknown> | undefined)?.[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 50) : [];
};
const isCobaltStrike = (r: Rec) => factList(r, 'reasons').some((x) => /cobalt/i.test(x)) || /cobalt/i.test(r.f.detector);
/** The threat name an antivirus finding reports. */
const threatOf = (r: Rec) => factStr(r.f, ['threat', 'threat_name', 'signature_name']);
/** HTTP statuses an exploit attempt got back: `404`, `400/404`. */
function statusesOf(r: Rec): string {
  const v = (r.f.facts as Record<string, unknown> | undefined)?.statuses;
  if (!v || typeof v !== 'object') return '';
  return Object.keys(v as object).filter((k) => /^\d{3}$/.test(k)).sort().slice(0, 4).join('/');
}
/** `/tomcatwar.jsp` and `host/dir/file.exe` are web paths, not paths on the host's disk. */
const isWebPath = (f: string) => !/^[a-z]:\\|^\\\\/i.test(f) && (f.startsWith('/') || /^[\w.-]+(:\d+)?\//.test(f));

const L = (ctx: Ctx, k: string | undefined) => (k ? ctx.res.label(k) : '?');

function targetsSummary(ts: string[]): { en: string; zh: string } {
  if (!ts.length) return { en: 'many hosts', zh: '大量主机' };
  const v4 = ts.filter((t) => /^\d+\.\d+\.\d+\.\d+$/.test(t));
  const nets = new Set(v4.map((t) => t.slice(0, t.lastIndexOf('.')) + '.0/24'));
  if (v4.length === ts.length && nets.size === 1) return { en: `${ts.length} hosts of ${[...nets][0]}`, zh: `${[...nets][0]} 网段 ${ts.length} 台主机` };
  return { en: `${ts.length} hosts`, zh: `${ts.length} 台主机` };
}

export function sweepRange(r: Rec): string | undefined {
  const v4 = r.targets.filter((t) => /^\d+\.\d+\.\d+\.\d+$/.test(t));
  const nets = new Set(v4.map((t) => t.slice(0, t.lastIndexOf('.')) + '.0/24'));
  return nets.size === 1 && v4.length ? [...nets][0] : undefined;
}

/** One sentence for a step. */
export function describe(r: Rec, ctx: Ctx): Bilingual {
  const A = L(ctx, r.actor);
  const V = L(ctx, r.victim);
  const P = L(ctx, r.peer);
  const u = r.accounts[0];
  const file = r.files[0];
  const cve = r.cves[0];
  const tool = factStr(r.f, FACTS_USED.tool);
  // An antivirus detection is a detection, whatever the threat's technique (a miner found is not mining seen).
  const th = r.c.side === 'host' ? threatOf(r) : undefined;
  if (th) {
    const k = malwareKind(th, file);
    return {
      en: `antivirus detected ${file ?? 'malware'} on ${A} (${th}${k ? `, ${k.name.en}` : ''})`,
      zh: `杀毒软件在 ${A} 上检出 ${file ?? '恶意文件'}（${th}${k ? `，${k.name.zh}` : ''}）`,
    };
  }
  switch (r.c.kind) {
    case 'scan':
      if (r.outbound) return { en: `${A} scanned outside addresses${tool ? ` with ${tool}` : ''}`, zh: `${A} 对外发起扫描${tool ? `（${tool}）` : ''}` };
      if (!r.victim && r.targets.length) {
        const s = targetsSummary(r.targets);
        return { en: `${A} scanned ${s.en}`, zh: `${A} 扫描了${s.zh}` };
      }
      return { en: `${A} scanned ${V}${tool ? ` with ${tool}` : ''}`, zh: `${A} 对 ${V} 进行扫描${tool ? `（${tool}）` : ''}` };
    case 'bruteforce': {
      const n = factNum(r.f, FACTS_USED.failures);
      return {
        en: `${A} brute-forced logons on ${V}${u ? ` (account ${u})` : ''}${n ? `, ${n} failures` : ''}`,
        zh: `${A} 对 ${V} 进行口令暴力破解${u ? `（账户 ${u}）` : ''}${n ? `，失败 ${n} 次` : ''}`,
      };
    }
    case 'logon':
      return { en: `${A} logged on to ${V}${u ? ` as ${u}` : ''} after guessing the password`, zh: `${A} 暴破成功并登录 ${V}${u ? `（账户 ${u}）` : ''}` };
    case 'unusual-logon':
      return { en: `${A} logged on to ${V}${u ? ` as ${u}` : ''} at an unusual time or from an unusual source`, zh: `${A} 在异常时间或从异常来源登录 ${V}${u ? `（账户 ${u}）` : ''}` };
    case 'exploit':
      if (!r.c.success) {
        const st = statusesOf(r);
        const what = cve ? `${cve}${CVE_PRODUCTS[cve] ? `, ${CVE_PRODUCTS[cve].en}` : ''}` : factStr(r.f, ['exploit', 'signature']) ?? '';
        const whatZh = cve ? `${cve}${CVE_PRODUCTS[cve] ? `，${CVE_PRODUCTS[cve].zh}` : ''}` : factStr(r.f, ['exploit', 'signature']) ?? '';
        return {
          // outcome `failed`: the evidence shows the failure; `attempt`: it shows no success (e.g. an IDS alert)
          en: `${A} tried to exploit ${V}${what ? ` (${what})` : ''}${r.f.outcome === 'failed' ? ' without success' : ', success not shown by this record'}${st ? ` (the server answered ${st})` : ''}`,
          zh: `${A} 尝试利用 ${V} 的漏洞${whatZh ? `（${whatZh}）` : ''}，${r.f.outcome === 'failed' ? '未成功' : '该记录本身未显示成功'}${st ? `（服务器返回 ${st}）` : ''}`,
        };
      }
      return {
        en: `${A} exploited ${V}${cve ? ` (${cve}${CVE_PRODUCTS[cve] ? `, ${CVE_PRODUCTS[cve].en}` : ''})` : ''}${file ? `, writing ${file}` : ''}`,
        zh: `${A} 利用 ${V} 的漏洞${cve ? `（${cve}${CVE_PRODUCTS[cve] ? `，${CVE_PRODUCTS[cve].zh}` : ''}）` : ''}${file ? `，写入恶意文件 ${file}` : ''}`,
      };
    case 'webshell':
      return { en: `${A} used the web shell ${file ?? r.urls[0] ?? ''} on ${V}`, zh: `${A} 访问 ${V} 上的 Webshell ${file ?? r.urls[0] ?? ''}` };
    case 'service': {
      const name = factStr(r.f, ['name', 'service', 'service_name']);
      const on = V === '?' ? A : V;
      const svc = name ? ` ${name}` : '';
      if (!r.actor || r.actor === r.victim || V === '?') return { en: `a service${svc} was installed on ${on}`, zh: `${on} 上被创建服务${svc}` };
      return { en: `${A} installed a service${svc} on ${on}`, zh: `${A} 在 ${on} 上创建服务${svc}` };
    }
    case 'lateral-auth':
      return { en: `${A} authenticated to ${V}${u ? ` as ${u}` : ''} (lateral movement)`, zh: `${A} 成功认证登录 ${V}${u ? `（账户 ${u}）` : ''}（横向移动）` };
    case 'sweep': {
      const s = r.targets.length ? targetsSummary(r.targets) : { en: V, zh: V };
      return { en: `${A} swept ${s.en} over SMB/remote services`, zh: `${A} 对${s.zh}进行 SMB 横向探测` };
    }
    case 'beacon':
      if (r.peer && ctx.pools?.has(r.peer)) return { en: `${A} kept a long connection to the mining pool ${P}`, zh: `${A} 与矿池 ${P} 保持长连接` };
      if (isCobaltStrike(r)) return { en: `${A} beaconed to ${P} (command and control; typical Cobalt Strike traffic)`, zh: `${A} 向 C2 ${P} 发起外联（典型的 Cobalt Strike 通讯流量）` };
      return { en: `${A} beaconed to ${P} (command and control)`, zh: `${A} 向 C2 ${P} 发起外联` };
    case 'mining':
      return { en: `${A} mined cryptocurrency${file ? ` (${file})` : ''}${r.peer ? ` via ${P}` : ''}`, zh: `${A} 进行挖矿${file ? `（${file}）` : ''}${r.peer ? `（矿池 ${P}）` : ''}` };
    case 'download':
      return { en: `${A} downloaded ${file ?? 'tools'}${r.peer ? ` from ${P}` : ''}`, zh: `${A}${r.peer ? ` 从 ${P}` : ''} 下载 ${file ?? '工具'}` };
    case 'process':
      return { en: `${file ?? 'a hacking tool'} ran on ${A}`, zh: `${A} 上运行了 ${file ?? '黑客工具'}` };
    case 'av': {
      const th = threatOf(r);
      return { en: `antivirus detected ${file ?? 'malware'} on ${A}${th ? ` (${th})` : ''}`, zh: `杀毒软件在 ${A} 上检出 ${file ?? '恶意文件'}${th ? `（${th}）` : ''}` };
    }
    case 'account': {
      const ch = (factStr(r.f, ['change']) ?? '').toLowerCase();
      return {
        en: `${ch ? `${ch} of account ${u ?? '?'}` : `account ${u ?? '?'} was changed`} on ${A}${r.remote ? ` from a session of ${L(ctx, r.remote)}` : ''}`,
        zh: `${A} 上账户 ${u ?? '?'}${ACCOUNT_CHANGE_ZH[ch] ?? ' 被修改'}${r.remote ? `（来自 ${L(ctx, r.remote)} 的会话）` : ''}`,
      };
    }
    case 'evasion':
      return { en: `event logs were cleared on ${A}`, zh: `${A} 的日志被清除` };
    default: {
      const subject = factStr(r.f, ['subject']);
      if (subject && /^T10(87|82|16|49|57|69|18|33)/.test(r.c.technique)) {
        const from = r.remote ? L(ctx, r.remote) : undefined;
        return {
          en: `discovery commands ran on ${A} (${subject})${from ? ` in a session from ${from}` : ''}`,
          zh: `${A} 上执行了信息收集命令（${subject}）${from ? `，来自 ${from} 的会话` : ''}`,
        };
      }
      return { en: r.f.summary?.en ?? r.f.detector, zh: r.f.summary?.zh ?? r.f.detector };
    }
  }
}

function evidenceOf(rs: Rec[], cap = 20): EvidenceRef[] {
  const out: EvidenceRef[] = [];
  for (const r of rs) {
    for (const e of r.f.evidence ?? []) {
      if (out.length >= cap) return out;
      out.push(e);
    }
  }
  return out;
}

const TIMELINE_CAP = 300;
const DAY = 24 * 3600 * 1000;

/** Key moments: the first of each kind of step per actor/target (again after a day's gap), plus each success. */
export function timeline(a: Analysis, ctx: Ctx): TimelineEntry[] {
  prepare(a, ctx);
  const out: (TimelineEntry & { _t: number; _s: number })[] = [];
  const lastShown = new Map<string, number>();
  const pairsWithBrute = new Set(a.recs.filter((r) => r.c.kind === 'bruteforce').map((r) => `${r.actor}>${r.victim}`));
  const push = (t: number, r: Rec, text: Bilingual, stage: number) => {
    const e: TimelineEntry & { _t: number; _s: number } = { time: isoTime(t), technique: r.c.technique, text, findings: [r.f.id], evidence: evidenceOf([r], 5), _t: t, _s: stage };
    if (r.actor) e.src = r.actor;
    if (r.victim ?? r.peer) e.dst = (r.victim ?? r.peer)!;
    if (r.c.side === 'host' && typeof r.f.host === 'string') e.host = r.f.host;
    out.push(e);
  };
  const ordered = [...a.recs].sort((x, y) => Number(y.sig) - Number(x.sig) || x.t - y.t);
  for (const r of ordered) {
    if (out.length >= TIMELINE_CAP) break;
    const key = `${r.c.kind}|${r.actor}|${r.victim ?? r.peer ?? ''}|${r.outbound}`;
    const prev = lastShown.get(key);
    if (prev !== undefined && r.t - prev < DAY && r.t >= prev) continue;
    lastShown.set(key, r.t);
    const d = describe(r, ctx);
    if ((r.c.kind === 'logon' || r.c.kind === 'lateral-auth') && r.at !== r.t) {
      if (r.c.kind === 'logon' && !pairsWithBrute.has(`${r.actor}>${r.victim}`)) {
        push(r.t, r, { en: `${L(ctx, r.actor)} began guessing passwords on ${L(ctx, r.victim)}`, zh: `${L(ctx, r.actor)} 开始对 ${L(ctx, r.victim)} 进行口令暴力破解` }, STAGE.bruteforce);
      }
      push(r.at, r, d, STAGE[r.c.kind]);
    } else push(r.t, r, d, STAGE[r.c.kind]);
  }
  out.sort((x, y) => x._t - y._t || x._s - y._s);
  // The text is read on its own too (exports, timeline tools): it starts with the local time.
  for (const e of out) {
    const lt = localTime(e._t, ctx.tz);
    e.text = { en: `${lt} ${e.text.en}`, zh: `${lt} ${e.text.zh}` };
  }
  return out.map(({ _t, _s, ...e }) => e);
}

const CHAIN_CAP = 200;

/** Chain links: one per from/to/kind, with the findings behind it. */
export function chainLinks(a: Analysis, ctx: Ctx): ChainLink[] {
  const m = new Map<string, ChainLink & { _t: number; _s: number }>();
  const add = (from: string | undefined, to: string | undefined, kind: string, r: Rec, t: number) => {
    if (!from || !to) return;
    const k = `${from}|${to}|${kind}`;
    let l = m.get(k);
    if (!l) {
      if (m.size >= CHAIN_CAP) return;
      l = { from, to, kind, technique: r.c.technique, time: isoTime(t), findings: [], confidence: 0, _t: t, _s: STAGE[r.c.kind] };
      m.set(k, l);
    }
    if (t < l._t) {
      l._t = t;
      l.time = isoTime(t);
    }
    if (l.findings.length < 20 && !l.findings.includes(r.f.id)) l.findings.push(r.f.id);
    const c = typeof r.f.confidence === 'number' ? r.f.confidence : 0.7;
    if (c > l.confidence) l.confidence = Math.round(c * 100) / 100;
  };
  for (const r of a.recs) {
    if (!r.sig) continue;
    const kind = LINK_KIND[r.c.kind];
    if (r.c.kind === 'sweep' && r.targets.length) add(r.actor, sweepRange(r) ?? `${r.targets.length} hosts`, kind, r, r.t);
    else if (r.c.kind === 'scan' && r.outbound) add(r.actor, 'outside addresses', kind, r, r.t);
    else if (r.victim) add(r.actor, r.victim, kind, r, r.c.success ? r.at : r.t);
    else if (r.peer) add(r.actor, r.peer, kind, r, r.t);
    // A sweep reported without one victim (e.g. "swept 253 hosts, then logged on to one"): link to the range.
    else if (r.targets.length && (r.c.kind === 'scan' || r.c.kind === 'lateral-auth')) add(r.actor, sweepRange(r) ?? `${r.targets.length} hosts`, LINK_KIND[r.c.kind === 'scan' ? 'scan' : 'sweep'], r, r.t);
    else if (r.actor && (r.files[0] ?? r.accounts[0])) {
      // A host → file/account link says what happened to the object, not the step's network verb.
      const objKind = r.files[0]
        ? r.c.side === 'host' && threatOf(r) ? 'detected' : r.c.kind === 'download' ? 'downloaded' : r.c.kind === 'account' ? 'changed-account' : 'ran'
        : r.c.kind === 'account' ? 'changed-account' : /^T10(87|82|16|49|57|69|18|33)/.test(r.c.technique) ? 'discovered' : r.c.kind === 'other' ? 'acted-on' : kind;
      add(r.actor, r.files[0] ?? r.accounts[0], objKind, r, r.t);
    }
    if (r.c.kind === 'exploit' && r.victim) for (const f of r.files.slice(0, 3)) add(r.actor, `${r.victim}:${f}`, 'wrote', r, r.t);
  }
  void ctx;
  return [...m.values()].sort((x, y) => x._t - y._t || x._s - y._s).map(({ _t, _s, ...l }) => l);
}

/** The pivots from the symptom to the root cause, as a responder searches. */
export function pivotSteps(a: Analysis, ctx: Ctx, alert: AlertSpec | null | undefined): InvestigationStep[] {
  const res = ctx.res;
  const steps: InvestigationStep[] = [];
  const cited = new Set<string>();
  const byActor = new Map<string, Rec[]>();
  const byVictim = new Map<string, Rec[]>();
  const byPeer = new Map<string, Rec[]>();
  const idx = (m: Map<string, Rec[]>, k: string | undefined, r: Rec) => {
    if (!k) return;
    const l = m.get(k);
    if (l) l.push(r);
    else m.set(k, [r]);
  };
  for (const r of a.recs) {
    idx(byActor, r.actor, r);
    idx(byVictim, r.victim, r);
    idx(byPeer, r.peer, r);
  }
  const role = (k: string | undefined) => (k ? a.hosts.get(k)?.role : undefined);
  const found = (rs: Rec[]): Bilingual => {
    // One line per step: several detectors reporting the same logon at the same second (brute force,
    // its success, spraying) read as one, keeping the sentence that names the account.
    const uniq = new Map<string, Bilingual & { acc: boolean }>();
    for (const r of rs) {
      const d = describe(r, ctx);
      const lt = localTime(r.c.success ? r.at : r.t, ctx.tz);
      const k = r.c.kind === 'logon' || r.c.kind === 'lateral-auth' ? `${r.c.kind}|${L(ctx, r.actor)}|${L(ctx, r.victim)}|${lt.slice(0, 16)}` : d.en;
      const prev = uniq.get(k);
      if (!prev || (!prev.acc && r.accounts.length)) uniq.set(k, { en: `${d.en} (${lt})`, zh: `${d.zh}（${lt}）`, acc: r.accounts.length > 0 });
    }
    const ls = [...uniq.values()];
    const more = ls.length > 8 ? ls.length - 8 : 0;
    const shown = ls.slice(0, 8);
    return {
      en: shown.map((x) => x.en).join('; ') + (more ? `; and ${more} more` : '') + '.',
      zh: shown.map((x) => x.zh).join('；') + (more ? `；另有 ${more} 项` : '') + '。',
    };
  };
  const step = (title: Bilingual, query: string, rs: Rec[], extra?: Bilingual): boolean => {
    const fresh = rs.filter((r) => !cited.has(r.f.id) && r.sig);
    if (!fresh.length && !extra) return false;
    fresh.sort((x, y) => x.t - y.t || STAGE[x.c.kind] - STAGE[y.c.kind]);
    for (const r of fresh) cited.add(r.f.id);
    const f = fresh.length ? found(fresh) : { en: '', zh: '' };
    steps.push({
      title,
      query,
      found: extra ? { en: [f.en, extra.en].filter(Boolean).join(' '), zh: [f.zh, extra.zh].filter(Boolean).join('') } : f,
      findings: fresh.slice(0, 50).map((r) => r.f.id),
      evidence: evidenceOf(fresh),
      excerpts: fresh.slice(0, 5).map((r) => r.f.summary?.en ?? '').filter(Boolean),
    });
    return true;
  };

  // The symptom.
  let start: string | undefined;
  let sym: AlertSpec | null = alert ?? null;
  if (alert) {
    const subj = res.key(alertSubject(alert));
    const other = res.key(alert.kind === 'inbound' || alert.kind === 'inbound-scan' ? alert.src : alert.dst);
    start = subj;
    let rs: Rec[] = [];
    let q = '';
    if (subj) {
      if (alert.kind === 'outbound-scan' || alert.kind === 'scan') {
        q = `src=${alertSubject(alert)}`;
        rs = (byActor.get(subj) ?? []).filter((r) => r.c.kind === 'scan' || r.c.kind === 'sweep');
      } else if (alert.kind === 'inbound' || alert.kind === 'inbound-scan') {
        q = `dst=${alertSubject(alert)}${alert.src ? ` src=${alert.src}` : ''}`;
        rs = (byVictim.get(subj) ?? []).filter((r) => !other || r.actor === other);
      } else if (alert.kind === 'host') {
        q = `host=${alertSubject(alert)}`;
        rs = [...(byActor.get(subj) ?? []), ...(byVictim.get(subj) ?? [])].filter((r) => r.c.side === 'host');
      } else {
        q = `src=${alertSubject(alert)}${alert.dst ? ` dst=${alert.dst}` : ''}`;
        rs = (byActor.get(subj) ?? []).filter((r) => (other ? r.peer === other || r.victim === other : r.c.kind === 'beacon'));
      }
    }
    const title = { en: `The symptom: ${alert.text}`, zh: `告警现象：${alert.text}` };
    if (!step(title, q, rs)) {
      steps.push({
        title,
        query: q,
        found: { en: `No finding matches the alert itself${start ? `; the investigation continues from ${L(ctx, start)}` : ''}.`, zh: `未找到与告警本身对应的检测结果${start ? `；从 ${L(ctx, start)} 继续排查` : ''}。` },
        findings: [],
        evidence: [],
      });
    }
    if (start && !a.hosts.has(start)) start = undefined;
  }
  if (!start) {
    // No alert (or it names nothing here): the most severe symptom — the latest-stage activity of a compromised host.
    const cands = a.recs.filter((r) => r.sig && r.actor && (role(r.actor) === 'compromised') && (r.c.kind === 'beacon' || r.outbound || r.c.kind === 'mining' || r.c.kind === 'av' || r.c.kind === 'process'));
    const pool = cands.length ? cands : a.recs.filter((r) => r.sig);
    const best = pool.reduce<Rec | undefined>((m, r) => (!m || r.sev > m.sev || (r.sev === m.sev && (STAGE[r.c.kind] > STAGE[m.c.kind] || (STAGE[r.c.kind] === STAGE[m.c.kind] && r.t < m.t))) ? r : m), undefined);
    if (best) {
      start = best.c.kind === 'beacon' || best.outbound || role(best.actor) === 'compromised' || !best.victim ? best.actor : best.victim;
      const kind = best.c.kind === 'beacon' ? 'outbound' : best.outbound ? 'outbound-scan' : 'host';
      sym = { kind, src: start, dst: best.c.kind === 'beacon' ? best.peer : undefined, text: `${kind} ${start}${best.c.kind === 'beacon' && best.peer ? ` -> ${best.peer}` : ''}` };
      const rs = (byActor.get(start!) ?? []).filter((r) => r.c.kind === best.c.kind && (r.peer === best.peer || r.outbound === best.outbound));
      step({ en: `The most severe symptom: ${describe(best, ctx).en}`, zh: `最严重的现象：${describe(best, ctx).zh}` }, `src=${start}${kind === 'outbound' && best.peer ? ` dst=${best.peer}` : ''}`, rs.length ? rs : [best]);
    }
  }
  if (!start) return steps;
  void sym;

  // Pivot: hosts first (backwards, host logs, forwards), C2 addresses last.
  const hostQ: string[] = [start];
  const c2Q: string[] = [];
  const visited = new Set<string>();
  const c2Seen = new Set<string>();
  const enqueueFrom = (rs: Rec[]) => {
    for (const r of rs) {
      if (r.c.kind === 'beacon' && r.peer && !c2Seen.has(r.peer)) {
        c2Seen.add(r.peer);
        c2Q.push(r.peer);
      }
    }
  };
  for (const r of a.recs) if (cited.has(r.f.id)) enqueueFrom([r]);
  let guard = 0;
  while ((hostQ.length || c2Q.length) && guard++ < 200) {
    if (hostQ.length) {
      const h = hostQ.shift()!;
      if (visited.has(h)) continue;
      visited.add(h);
      const lab = L(ctx, h);
      const disp = isIp(h) ? h : h;
      // Backwards: who attacked it (network side).
      const inbound = (byVictim.get(h) ?? []).filter((r) => r.c.side !== 'host');
      if (step({ en: `Who attacked ${lab}? Search with it as the destination`, zh: `以 ${lab} 为目的地址，寻找攻击来源` }, `dst=${disp}`, inbound)) {
        for (const r of inbound) if (r.actor && role(r.actor) === 'compromised' && !visited.has(r.actor)) hostQ.push(r.actor);
      }
      // Its own logs.
      const names = res.names(h);
      const local = [...(byVictim.get(h) ?? []), ...(byActor.get(h) ?? [])].filter((r) => r.c.side === 'host');
      if (local.length) {
        step(
          { en: `What its own logs show on ${lab}`, zh: `排查 ${lab} 的系统日志` },
          `host=${names[0] ?? disp}`,
          local,
        );
        for (const r of local) if (r.actor && r.actor !== h && role(r.actor) === 'compromised' && !visited.has(r.actor)) hostQ.push(r.actor);
      }
      // Forwards: what it did next.
      const outbound = (byActor.get(h) ?? []).filter((r) => r.c.side !== 'host');
      if (step({ en: `What did ${lab} do next? Search with it as the source`, zh: `以 ${lab} 为源地址，寻找后续行为` }, `src=${disp}`, outbound)) {
        enqueueFrom(outbound);
      }
      for (const r of outbound) if (r.victim && role(r.victim) === 'compromised' && !visited.has(r.victim)) hostQ.push(r.victim);
      for (const r of outbound) for (const t of r.targets) if (role(t) === 'compromised' && !visited.has(t) && !hostQ.includes(t)) hostQ.push(t);
      enqueueFrom(outbound);
      continue;
    }
    const c = c2Q.shift()!;
    const talkers = (byPeer.get(c) ?? []).filter((r) => r.c.kind === 'beacon');
    const hs = a.hosts.get(c);
    const extra = hs?.contactOnly?.length
      ? {
          en: `Connection records also show ${hs.contactOnly.map((x) => L(ctx, x.src)).join(', ')} contacting it.`,
          zh: `连接记录还显示 ${hs.contactOnly.map((x) => L(ctx, x.src)).join('、')} 也连接过该地址。`,
        }
      : undefined;
    if (step({ en: `Who else talks to ${c}? Search with the C2 as the destination`, zh: `以 C2 ${c} 为目的地址，排查其他失陷主机` }, `dst=${c}`, talkers, extra)) {
      for (const r of talkers) if (r.actor && !visited.has(r.actor)) hostQ.push(r.actor);
    }
  }
  return steps;
}

/** The root cause paragraph: the statements of rootCausePoints() joined. */
export function rootCause(a: Analysis, ctx: Ctx): Bilingual {
  const pts = rootCausePointsCached(a, ctx);
  return { en: pts.map((p) => p.text.en).join(' '), zh: pts.map((p) => p.text.zh).join('') };
}

const ACCOUNT_CHANGE_ZH: Record<string, string> = {
  'password reset': ' 的口令被重置',
  'password change': ' 的口令被修改',
  'password changed': ' 的口令被修改',
  'user created': ' 被新建',
  'account created': ' 被新建',
  'group add': ' 被加入用户组',
  'added to group': ' 被加入用户组',
  enabled: ' 被启用',
};

const ACCOUNT_CHANGE_EN: Record<string, string> = {
  'password reset': 'the password of {a} was reset',
  'password change': 'the password of {a} was changed',
  'password changed': 'the password of {a} was changed',
  'user created': 'the account {a} was created',
  'account created': 'the account {a} was created',
  'group add': '{a} was added to a group',
  'added to group': '{a} was added to a group',
  enabled: 'the account {a} was enabled',
};

/** The space Chinese text puts between a Latin word and the next CJK character (none after a full-width bracket). */
const zhGap = (s: string) => (/[）」】]$/.test(s) ? '' : ' ');

/** Web attack signatures as a responder names them. */
const ATTACK_NAMES: Record<string, { en: string; zh: string }> = {
  'path-traversal': { en: 'path traversal', zh: '路径穿越' },
  'path traversal': { en: 'path traversal', zh: '路径穿越' },
  sqli: { en: 'SQL injection', zh: 'SQL 注入' },
  'sql-injection': { en: 'SQL injection', zh: 'SQL 注入' },
  xss: { en: 'cross-site scripting', zh: '跨站脚本' },
  'command-injection': { en: 'command injection', zh: '命令注入' },
};

/** Night in the case's zone (00:00–05:59 local), from the formatted local time. */
const isNight = (ms: number, tz: string) => {
  const h = Number(localTime(ms, tz).slice(11, 13));
  return Number.isFinite(h) && h < 6;
};

/**
 * The root cause as statements, each citing the findings (and through them the records)
 * that prove it: how each compromised host was entered, what was done in the attacker's
 * session, what was dropped and what it is, persistence, C2, mining, the reported symptom.
 */
const pointsCache = new WeakMap<Analysis, { tz: string; pts: CitedStatement[] }>();
/** rootCause() and rootCausePoints() of one incident share one computation. */
function rootCausePointsCached(a: Analysis, ctx: Ctx): CitedStatement[] {
  const c = pointsCache.get(a);
  if (c && c.tz === ctx.tz) return c.pts;
  const pts = computeRootCausePoints(a, ctx);
  pointsCache.set(a, { tz: ctx.tz, pts });
  return pts;
}

export function rootCausePoints(a: Analysis, ctx: Ctx): CitedStatement[] {
  return rootCausePointsCached(a, ctx).map((p) => ({ text: { ...p.text }, findings: [...p.findings], evidence: [...p.evidence] }));
}

function computeRootCausePoints(a: Analysis, ctx: Ctx): CitedStatement[] {
  prepare(a, ctx);
  const out: CitedStatement[] = [];
  const say = (en: string, zh: string, rs: Rec[]) => {
    const uniq = [...new Set(rs)];
    // Proof from every finding behind the statement (the first record of each, then the second …),
    // so the failures, the success and the session each show up, not six of the same failure.
    const ev: EvidenceRef[] = [];
    const seenRef = new Set<string>();
    for (let i = 0; i < 3 && ev.length < 6; i++) {
      for (const r of uniq) {
        const e = (r.f.evidence ?? [])[i];
        if (!e) continue;
        const k = `${e.evidence}|${e.record ?? ''}|${e.frame ?? ''}|${e.line ?? ''}`;
        if (seenRef.has(k)) continue;
        seenRef.add(k);
        ev.push(e);
        if (ev.length >= 6) break;
      }
    }
    out.push({ text: { en, zh }, findings: [...new Set(uniq.map((r) => r.f.id))].slice(0, 20), evidence: ev });
  };
  if (!a.compromised.length) {
    const at = a.attackers.map((h) => L(ctx, h.key)).join(', ');
    const tg = [...a.hosts.values()].filter((h) => h.role === 'targeted').map((h) => L(ctx, h.key));
    say(
      `${at || 'Unknown sources'} attacked ${tg.slice(0, 5).join(', ') || 'internal hosts'}; no compromise is shown by the evidence.`,
      `${at || '未知来源'} 对 ${tg.slice(0, 5).join('、') || '内网主机'} 发起攻击；证据未显示入侵成功。`,
      a.attackers.flatMap((h) => h.because.slice(0, 5)),
    );
    return out;
  }
  const ordered = a.entry ? [a.entry.host, ...a.compromised.filter((h) => h !== a.entry!.host)] : a.compromised;
  for (const h of ordered) {
    const e = h.entry;
    const V = L(ctx, h.key);
    const from = e?.from ? L(ctx, e.from) : undefined;
    const entryMs = e?.time ?? h.since ?? 0;
    const t = localTime(entryMs, ctx.tz);
    if (!e || !e.from) {
      say(`How ${V} was first compromised is not in the evidence; its own activity from ${t} shows it was.`, `证据中未见 ${V} 的入侵方式；其自 ${t} 起的行为表明其已失陷。`, h.because.slice(0, 5));
      continue;
    }
    const fromOutside = !ctx.res.internal(e.from);
    if (e.kind === 'logon' || e.kind === 'bruteforce' || e.technique.startsWith('T1110')) {
      const svc = serviceOf(a, h, e, ctx);
      const brute = a.recs.filter((r) => (r.c.kind === 'bruteforce' || r.c.kind === 'logon') && r.actor === e.from && r.victim === h.key);
      // Host logs and the wire see the same failures, and several detectors count the same
      // failures again (brute force, its success, spraying): per side, the largest count of one detector.
      const side = (x: string) => {
        const perDet = new Map<string, number>();
        for (const r of brute.filter((r) => r.c.side === x)) perDet.set(r.f.detector, (perDet.get(r.f.detector) ?? 0) + (factNum(r.f, FACTS_USED.failures) ?? 0));
        return Math.max(0, ...perDet.values());
      };
      const n = Math.max(side('host'), side('net'), side('other'));
      const firstT = brute.reduce((m, r) => Math.min(m, r.t), Infinity);
      const u = brute.flatMap((r) => r.accounts)[0];
      const svcEn = svc === 'rdp' ? 'Remote Desktop (RDP) on the default port 3389' : svc === 'smb' ? 'SMB (445)' : svc === 'ssh' ? 'SSH (22)' : 'a logon service';
      const svcZh = svc === 'rdp' ? ' RDP 服务且未修改默认的 3389 端口' : svc === 'smb' ? ' SMB（445）服务' : svc === 'ssh' ? ' SSH（22）服务' : '登录服务';
      say(
        `${V} exposed ${svcEn} to ${fromOutside ? 'the internet' : 'the internal network'} and the account ${u ?? '(unknown)'} had a weak password: ${from} brute-forced it${n ? ` (${n} failed logons` : ' ('}${Number.isFinite(firstT) ? `${n ? ' ' : ''}from ${localTime(firstT, ctx.tz)}` : ''}) and logged on at ${t}, taking control of the server.`,
        `${V} 对${fromOutside ? '互联网' : '内网'}开放了${svcZh}，账户 ${u ?? '（未知）'} 使用弱口令；${from}${Number.isFinite(firstT) ? ` 自 ${localTime(firstT, ctx.tz)} 起` : ''}对其进行暴力破解${n ? `（登录失败 ${n} 次）` : ''}，于 ${t} 登录成功，取得服务器权限。`,
        [...e.recs, ...brute],
      );
      // What the attacker did to accounts in that session.
      const changes = a.recs.filter((r) => r.c.kind === 'account' && (r.actor === h.key || r.victim === h.key) && (!r.remote || r.remote === e.from) && r.t >= entryMs - 60_000);
      for (const r of changes.slice(0, 3)) {
        const ch = factStr(r.f, ['change']) ?? '';
        const acc = r.accounts[0] ?? '?';
        const secs = Math.round((r.t - entryMs) / 1000);
        const soon = secs >= 0 && secs < 3600 ? { en: `${secs < 120 ? `${secs} s` : `${Math.round(secs / 60)} min`} after the logon`, zh: `登录成功后 ${secs < 120 ? `${secs} 秒` : `${Math.round(secs / 60)} 分钟`}` } : null;
        const night = isNight(r.t, ctx.tz);
        say(
          `At ${localTime(r.t, ctx.tz)}${soon ? `, ${soon.en},` : ''} ${(ACCOUNT_CHANGE_EN[ch.toLowerCase()] ?? 'the account {a} was changed').replace('{a}', acc)} ${r.remote ? `from the session of ${L(ctx, r.remote)}` : 'on the host'}${night ? ' — at night, which a legitimate user would not do' : ''}: the attacker did it after breaking in.`,
          `${soon ? `${soon.zh}（${localTime(r.t, ctx.tz)}）` : `${localTime(r.t, ctx.tz)}`}，账户 ${acc}${ACCOUNT_CHANGE_ZH[ch.toLowerCase()] ?? ' 被修改'}${r.remote ? `，操作来自 ${L(ctx, r.remote)} 的登录会话` : ''}${night ? '；正常用户不会在凌晨登录系统修改账户' : ''}，判断为攻击者暴破成功后所为。`,
          [r],
        );
      }
      // Came back later: a foothold first, the real work later.
      const later = a.recs
        .filter((r) => (r.c.kind === 'unusual-logon' || r.c.kind === 'logon') && r.actor === e.from && r.victim === h.key && r.c.success)
        .map((r) => ({ r, t: r.at }))
        .filter((x) => Number.isFinite(x.t) && x.t > entryMs + 12 * 3600_000);
      const days = new Map<string, { r: Rec; t: number }>();
      for (const x of later.sort((p, q) => p.t - q.t)) {
        const d = localTime(x.t, ctx.tz).slice(0, 10);
        if (!days.has(d)) days.set(d, x);
      }
      if (days.size) {
        const ts = [...days.values()].slice(0, 5);
        const allNight = isNight(entryMs, ctx.tz) && ts.every((x) => isNight(x.t, ctx.tz));
        say(
          `${from} logged on again at ${ts.map((x) => localTime(x.t, ctx.tz)).join(', ')}${allNight ? ' (again at night)' : ''}: a foothold first, the real work later.`,
          `${from} 此后于 ${ts.map((x) => localTime(x.t, ctx.tz)).join('、')} 再次登录${allNight ? '（同样在凌晨）' : ''}，即前期先打点、后续再接入。`,
          ts.map((x) => x.r),
        );
      }
    } else if (e.kind === 'exploit' || e.kind === 'webshell') {
      const exploits = a.recs.filter((r) => r.c.kind === 'exploit' && r.victim === h.key);
      const good = exploits.filter((r) => r.c.success);
      const cve = [...new Set((good.length ? good : exploits).flatMap((r) => r.cves))][0];
      const shells = a.recs.filter((r) => r.c.kind === 'webshell' && r.victim === h.key);
      const file = [...new Set([...good, ...shells].flatMap((r) => r.files))][0];
      const scans = a.recs.filter((r) => r.c.kind === 'scan' && r.actor === e.from && r.victim === h.key);
      const prod = cve ? CVE_PRODUCTS[cve] : undefined;
      say(
        `${V} ran an unpatched ${prod ? prod.en : 'web application'}${cve ? ` (${cve})` : ''}: ${from}${scans.length ? ' scanned it, then' : ''} exploited it at ${t}${file ? `, writing the malicious file ${file}` : ''}.`,
        `${V} 存在未修复的 ${prod ? prod.zh : 'Web 应用'}${zhGap(prod ? prod.zh : 'Web 应用')}漏洞${cve ? `（${cve}）` : ''}：${from}${scans.length ? ' 先对其进行扫描，' : ' '}于 ${t} 利用该漏洞成功${file ? `，写入恶意文件 ${file}` : ''}。`,
        [...e.recs, ...good, ...scans, ...shells],
      );
      // the entry's own records are the exploitation (possibly inferred from what followed), not other tries
      const failed = exploits.filter((r) => !r.c.success && !e.recs.includes(r) && !good.some((g) => g.cves.length && r.cves.length && g.cves[0] === r.cves[0]));
      if (failed.length) {
        const nm = (r: Rec, lang: 'en' | 'zh') => {
          const c = r.cves[0];
          if (c) return CVE_PRODUCTS[c] ? `${CVE_PRODUCTS[c][lang].replace(/（.*|\s*\(.*/, '')}（${c}）`.replace(/（/g, lang === 'en' ? ' (' : '（').replace(/）/g, lang === 'en' ? ')' : '）') : c;
          const sig = (factStr(r.f, ['signature', 'exploit']) ?? r.f.detector).toLowerCase();
          const k = ATTACK_NAMES[sig];
          return k ? k[lang] : factStr(r.f, ['exploit', 'signature']) ?? r.f.detector;
        };
        const en = [...new Set(failed.map((r) => nm(r, 'en')))].slice(0, 5);
        const zh = [...new Set(failed.map((r) => nm(r, 'zh')))].slice(0, 5);
        // `failed`: the evidence shows the failure; `attempt`: nothing shows success (an IDS alert, a probe)
        const allFailed = failed.every((r) => r.f.outcome === 'failed');
        say(
          `${from} also tried ${en.join(', ')} against ${V}; ${allFailed ? 'those attempts failed' : 'nothing shows that those attempts succeeded'}.`,
          `${from} 还对 ${V} 尝试了${zh.join('、')}等攻击，${allFailed ? '均未成功' : '未见成功迹象'}。`,
          failed,
        );
      }
      const cmds = shells.flatMap((r) => factList(r, 'commands')).map((c) => c.replace(/^cmd=/i, '').trim()).filter(Boolean);
      if (cmds.length) {
        const shown = [...new Set(cmds)].slice(0, 4).map((c) => (c.length > 80 ? c.slice(0, 79) + '…' : c));
        const saved = savedDownloads(cmds);
        say(
          `Through the web shell the attacker ran commands (${shown.join('; ')}${cmds.length > shown.length ? '; …' : ''})${saved.length ? ` and saved ${saved.map((x) => `${x.url} as ${x.path}`).join(', ')}` : ''}.`,
          `攻击者通过 Webshell 执行了 ${shown.join('、')}${cmds.length > shown.length ? ' 等' : ' '}命令${saved.length ? `，并下载 ${saved.map((x) => `${x.url} 保存为 ${x.path}`).join('、')}` : ''}。`,
          shells,
        );
      }
    } else if (e.kind === 'lateral-auth' || e.kind === 'service' || e.kind === 'sweep') {
      const sweep = a.recs.find((r) => r.c.kind === 'sweep' && r.actor === e.from);
      const u = e.recs.flatMap((r) => r.accounts)[0];
      const range = sweep ? sweepRange(sweep) : undefined;
      say(
        `From ${from}, the attacker${sweep ? ` swept ${range ?? 'the network'} over SMB and` : ''} logged on to ${V} over SMB at ${t}${u ? ` as ${u}` : ''}: its SMB credentials were weak or reused.`,
        `攻击者利用 ${from}${sweep ? ` 对 ${range ?? '内网'} 进行 SMB 探测，并` : ' '}于 ${t} 通过 SMB 成功登录 ${V}${u ? `（账户 ${u}）` : ''}，说明其 SMB 口令较弱或被复用。`,
        [...e.recs, ...(sweep ? [sweep] : [])],
      );
    } else {
      const tn = techniqueName(e.technique);
      say(`${from} reached ${V} by ${tn.en} at ${t}.`, `${from} 于 ${t} 通过${tn.zh}进入 ${V}。`, e.recs);
    }
  }
  // What followed, per host: each fact with its own findings.
  for (const h of ordered) {
    const V = L(ctx, h.key);
    const mine = a.recs.filter((r) => r.sig && (r.actor === h.key || (r.victim === h.key && (r.c.kind === 'service' || r.c.kind === 'account'))));
    // Files, with what they are when an antivirus named them.
    const av = mine.filter((r) => r.c.side === 'host' && threatOf(r) && r.files.length);
    const known = new Map<string, { th: string; rs: Rec[] }>();
    for (const r of av) {
      const f = r.files[0];
      const k = known.get(f);
      if (k) k.rs.push(r);
      else known.set(f, { th: threatOf(r)!, rs: [r] });
    }
    if (known.size) {
      const items = [...known].slice(0, 8).map(([f, x]) => ({ f, th: x.th, k: malwareKind(x.th, f) }));
      const dirs = new Set([...known.keys()].map((f) => f.slice(0, Math.max(0, f.search(/[\\/][^\\/]*$/)))));
      const dir = dirs.size === 1 ? [...dirs][0] : '';
      say(
        `Antivirus found ${known.size} malicious file${known.size > 1 ? 's' : ''} on ${V}: ${items.map((x) => `${baseName(x.f)} — ${x.k ? `${x.k.name.en}, ${x.k.does.en}` : 'malware'} (${x.th})`).join('; ')}${dir ? `; all in ${dir}` : ''}.`,
        `杀毒软件在 ${V} 上共检出 ${known.size} 个恶意文件：${items.map((x) => `${baseName(x.f)} 是${x.k ? `${x.k.name.zh}，${x.k.does.zh}` : '恶意程序'}（${x.th}）`).join('；')}${dir ? `；均位于 ${dir}` : ''}。`,
        [...known.values()].flatMap((x) => x.rs),
      );
    }
    const dropped = mine.filter((r) => (r.c.kind === 'process' || r.c.kind === 'download' || r.c.kind === 'mining' || r.c.kind === 'av') && !(r.c.side === 'host' && threatOf(r)));
    const files = [...new Set(dropped.flatMap((r) => r.files).filter((f) => !isSystemBinary(f)).map(baseName))].filter((f) => ![...known.keys()].some((k) => baseName(k) === f)).slice(0, 6);
    if (files.length) {
      say(
        `${known.size ? 'Also run or dropped' : 'Tools and malware were dropped'} on ${V}: ${files.join(', ')}.`,
        `${V} 上${known.size ? '还运行或落地了 ' : files.length > 1 ? '被植入多种病毒和黑客工具：' : '被植入恶意程序 '}${files.join('、')}。`,
        dropped.filter((r) => r.files.some((f) => files.includes(baseName(f)))),
      );
    }
    const persist = mine.filter((r) => r.c.kind === 'service' && r.c.side === 'host' && factStr(r.f, ['name']));
    if (persist.length) {
      const names = [...new Set(persist.map((r) => factStr(r.f, ['name'])!))].slice(0, 4);
      const cmd = factStr(persist[0].f, ['command', 'image_path', 'ImagePath']);
      say(
        `The attacker installed the service${names.length > 1 ? 's' : ''} ${names.join(', ')} on ${V} to survive reboots${cmd ? ` (${cmd.length > 100 ? cmd.slice(0, 99) + '…' : cmd})` : ''}.`,
        `攻击者在 ${V} 上创建服务 ${names.join('、')} 实现持久化（开机自启）${cmd ? `，启动命令为 ${cmd.length > 100 ? cmd.slice(0, 99) + '…' : cmd}` : ''}。`,
        persist,
      );
    }
    const mining = mine.filter((r) => r.c.kind === 'mining' && r.peer);
    if (mining.length) {
      const pools = [...new Set(mining.map((r) => r.peer!))].slice(0, 3);
      say(`${V} mined cryptocurrency for the attacker (pool ${pools.join(', ')}).`, `${V} 被用于挖矿（矿池 ${pools.join('、')}）。`, mining);
    }
    const c2 = [...h.beaconsTo];
    if (c2.length) {
      const bs = mine.filter((r) => r.c.kind === 'beacon' && r.peer && c2.includes(r.peer));
      const cs = bs.some(isCobaltStrike);
      say(
        `${V} then talked to the C2 ${c2.join(', ')}${cs ? ' with typical Cobalt Strike traffic' : ''}.`,
        `${V} 随后与 C2 服务器 ${c2.join('、')} 建立通信${cs ? '，流量为典型的 Cobalt Strike 通讯特征' : ''}。`,
        bs.length ? bs : h.because.slice(0, 3),
      );
    }
    const outScan = mine.filter((r) => r.outbound);
    if (outScan.length) {
      const tool = factStr(outScan[0].f, FACTS_USED.tool);
      const ran = mine.filter((r) => r.c.side === 'host' && r.files.some((f) => /masscan|nmap|scan/i.test(baseName(f))));
      say(
        `From ${localTime(outScan[0].t, ctx.tz)} ${V} scanned outside addresses${tool ? ` with ${tool}` : ''}${ran.length ? `, started from the uploaded ${baseName(ran[0].files[0])}` : ''} — the scanning that was reported.`,
        `${V} 自 ${localTime(outScan[0].t, ctx.tz)} 起对外发起扫描${tool ? `（${tool}）` : ''}，即被通报的扫描行为${ran.length ? `，由攻击者上传的 ${baseName(ran[0].files[0])} 发起` : ''}。`,
        [...outScan, ...ran.slice(0, 2)],
      );
    }
  }
  return out;
}

const baseName = (p: string) => p.split(/[\\/]/).pop() || p;

function serviceOf(a: Analysis, h: HostState, e: { recs: Rec[]; from?: string }, ctx: Ctx): 'rdp' | 'smb' | 'ssh' | '' {
  const rs = [...e.recs, ...a.recs.filter((r) => (r.c.kind === 'bruteforce' || r.c.kind === 'logon') && r.victim === h.key && r.actor === e.from)];
  for (const r of rs) {
    const lt = factNum(r.f, FACTS_USED.logonType);
    const port = factNum(r.f, FACTS_USED.port);
    const svc = `${factStr(r.f, ['service', 'protocol']) ?? ''} ${r.f.detector}`.toLowerCase();
    if (lt === 10 || port === 3389 || /rdp|terminal|remote ?desktop/.test(svc)) return 'rdp';
    if (port === 445 || port === 139 || /smb|ntlm/.test(svc)) return 'smb';
    if (port === 22 || /ssh/.test(svc)) return 'ssh';
  }
  const exp = ctx.snap?.exposed?.[h.key];
  if (Array.isArray(exp)) {
    if (exp.some((x) => x.port === 3389)) return 'rdp';
    if (exp.some((x) => x.port === 445)) return 'smb';
    if (exp.some((x) => x.port === 22)) return 'ssh';
  }
  return '';
}

const HIGH_RISK_PORTS: Record<number, string> = { 21: 'FTP', 22: 'SSH', 23: 'Telnet', 135: 'RPC', 139: 'NetBIOS', 445: 'SMB', 1433: 'MSSQL', 3306: 'MySQL', 3389: 'RDP', 5900: 'VNC', 5985: 'WinRM', 6379: 'Redis' };

/** Recommendations from the facts, each naming its target and the findings behind it. */
export function recommendations(a: Analysis, ctx: Ctx): Recommendation[] {
  prepare(a, ctx);
  const out: Recommendation[] = [];
  const seen = new Set<string>();
  const ids = (rs: Rec[]) => [...new Set(rs.map((r) => r.f.id))].slice(0, 20);
  const add = (action: string, target: string, text: Bilingual, rs: Rec[], priority: Recommendation['priority']) => {
    const k = `${action}|${target}`;
    if (seen.has(k)) return;
    seen.add(k);
    const rec: Recommendation = { action, target, text, findings: ids(rs), priority };
    const ev = evidenceOf(rs, 3);
    if (ev.length) rec.evidence = ev;
    out.push(rec);
  };
  for (const h of a.attackers) {
    add('block-ip', h.key, { en: `Block ${h.key} on the firewall and IDS (attacker).`, zh: `在防火墙、IDS 等安全设备上封禁攻击 IP ${h.key}。` }, h.because, 'immediate');
  }
  // An attacker inside the network is a host of ours: whoever runs it (a test, or an intruder) must be found.
  for (const h of a.attackers) {
    if (!h.internal) continue;
    const A = L(ctx, h.key);
    add('investigate-host', h.key, {
      en: `Find out who uses the internal address ${A}: confirm whether the activity was an authorised test; if not, treat ${A} as compromised (isolate it and examine it).`,
      zh: `攻击源 ${A} 为内网地址：核实其使用者及是否为授权测试；如非授权，应将其视为失陷主机，进行隔离并排查。`,
    }, h.because, 'immediate');
  }
  for (const c of a.c2) {
    const dom = ctx.res.isDomain(c.key);
    add(dom ? 'block-domain' : 'block-ip', c.key, { en: `Block the C2 ${c.key} on the firewall and IDS.`, zh: `在防火墙、IDS 上封禁 C2 ${dom ? '域名' : '地址'} ${c.key}。` }, c.because, 'immediate');
  }
  for (const r of a.recs) {
    if (!r.sig || !r.peer || (r.c.kind !== 'mining' && r.c.kind !== 'download') || ctx.res.internal(r.peer)) continue;
    const what = r.c.kind === 'mining' ? { en: 'mining pool', zh: '矿池' } : { en: 'tool download server', zh: '工具下载服务器' };
    add(ctx.res.isDomain(r.peer) ? 'block-domain' : 'block-ip', r.peer, { en: `Block the ${what.en} ${r.peer}.`, zh: `封禁${what.zh} ${r.peer}。` }, [r], 'immediate');
  }
  for (const h of a.compromised) {
    const V = L(ctx, h.key);
    add('isolate-host', h.key, { en: `Isolate the compromised host ${V} from the network, then check it for intrusion traces and lateral movement.`, zh: `对失陷主机 ${V} 进行网络隔离，排查入侵痕迹和内网横向情况。` }, h.because, 'immediate');
    add('scan-hosts', h.key, { en: `Run a full anti-malware scan of ${V} and delete the malware found.`, zh: `对 ${V} 进行全盘查杀，删除病毒文件。` }, h.because, 'immediate');
  }
  // Patch the exploited CVEs.
  const entryRecs = new Set<Rec>(a.compromised.flatMap((h) => h.entry?.recs ?? []));
  const cves = new Map<string, Rec[]>();
  for (const r of a.recs) if (r.c.kind === 'exploit') for (const c of r.cves) cves.set(c, [...(cves.get(c) ?? []), r]);
  // Exploited (a success on record): patch now. Only tried: check whether the host is affected.
  for (const [cve, all] of [...cves].sort((x, y) => Number(y[1].some((r) => r.c.success || entryRecs.has(r))) - Number(x[1].some((r) => r.c.success || entryRecs.has(r))))) {
    // a success on record, or the way into a compromised host (inferred from what followed the attempt)
    const ok = all.filter((r) => r.c.success || entryRecs.has(r));
    const rs = ok.length ? ok : all;
    const hosts = [...new Set(rs.map((r) => r.victim).filter((x): x is string => !!x))].map((k) => L(ctx, k));
    const prod = CVE_PRODUCTS[cve];
    if (ok.length) {
      add('patch', cve, {
        en: `Patch ${prod ? prod.en : 'the vulnerable software'} (${cve}) on ${hosts.join(', ')}: upgrade to a fixed version (the attacker exploited it).`,
        zh: `修复 ${hosts.join('、')} 上的${prod ? ` ${prod.zh}${zhGap(prod.zh)}` : ''}漏洞（${cve}），升级到已修复的版本（攻击者已利用该漏洞成功）。`,
      }, rs, 'immediate');
    } else {
      add('check-vulnerability', cve, {
        en: `Check whether ${hosts.join(', ')} is affected by ${prod ? prod.en : ''} (${cve}) and patch it if so (attempts were seen, none succeeded).`,
        zh: `核查 ${hosts.join('、')} 是否受${prod ? ` ${prod.zh}${zhGap(prod.zh)}` : ''}漏洞（${cve}）影响，如受影响及时修复（已发现利用尝试，未成功）。`,
      }, rs, 'short-term');
    }
  }
  // Services used to get in.
  for (const h of a.compromised) {
    const e = h.entry;
    if (!e || !e.from) continue;
    const V = L(ctx, h.key);
    const ip = isIp(h.key) ? h.key : V;
    if (e.kind === 'logon' || e.kind === 'bruteforce' || e.technique.startsWith('T1110')) {
      const svc = serviceOf(a, h, e, ctx);
      const brute = a.recs.filter((r) => (r.c.kind === 'bruteforce' || r.c.kind === 'logon') && r.victim === h.key);
      if (svc === 'rdp') {
        add('restrict-service', `${ip}:3389/tcp`, {
          en: `Close RDP on ${V} if it is not needed; otherwise allow it only from known management addresses (not ${e.from}), move it off the default port 3389 and enforce account lockout.`,
          zh: `如非必要关闭 ${V} 的 RDP 服务；不能关闭的，限制源 IP（仅允许运维地址访问，禁止 ${e.from} 等来源）、修改默认 3389 端口并启用账户锁定策略。`,
        }, brute, 'short-term');
      } else if (svc) {
        const port = svc === 'smb' ? 445 : 22;
        add('restrict-service', `${ip}:${port}/tcp`, { en: `Close ${svc.toUpperCase()} on ${V} or restrict it to known sources.`, zh: `关闭 ${V} 的 ${svc.toUpperCase()} 服务或限制访问来源。` }, brute, 'short-term');
      }
      add('enforce-password-policy', V, { en: `Enforce strong passwords on ${V} (the password was guessed).`, zh: `${V} 启用强密码认证（口令已被暴力破解）。` }, brute, 'short-term');
    }
    if (e.kind === 'lateral-auth' || e.kind === 'service') {
      add('disable-service', `${ip}:445/tcp`, { en: `Close SMB on ${V} if it is not needed, or change the password of the account used (the SMB login from ${L(ctx, e.from)} succeeded).`, zh: `及时关闭 ${V} 的 SMB 服务或更改口令（来自 ${L(ctx, e.from)} 的 SMB 登录成功）。` }, e.recs, 'immediate');
    }
  }
  // Other high-risk services the capture shows answering outside sources on compromised hosts.
  for (const h of a.compromised) {
    const exp = ctx.snap?.exposed?.[h.key];
    if (!Array.isArray(exp)) continue;
    const risky = exp.filter((x) => HIGH_RISK_PORTS[x.port]).map((x) => x.port);
    if (!risky.length) continue;
    const V = L(ctx, h.key);
    for (const p of risky) {
      const k = `${h.key}:${p}/tcp`;
      if (seen.has(`restrict-service|${k}`) || seen.has(`disable-service|${k}`)) continue;
      add('restrict-service', k, {
        en: `${HIGH_RISK_PORTS[p]} (${p}) on ${V} answers outside addresses: close it if not needed${p === 445 || p === 139 ? ', or close network shares and restrict share permissions' : ''}, else restrict its sources.`,
        zh: `${V} 的 ${HIGH_RISK_PORTS[p]}（${p}）端口对外开放：非必要请关闭${p === 445 || p === 139 ? '，关闭网络共享或对共享文件做权限访问限制' : ''}，否则限制访问来源。`,
      }, h.because.slice(0, 3), 'short-term');
    }
  }
  // Accounts used by the attacker.
  const acct = new Map<string, Rec[]>();
  for (const r of a.recs) {
    if (!r.sig) continue;
    const onComp = (r.victim && a.hosts.get(r.victim)?.role === 'compromised') || (r.actor && a.hosts.get(r.actor)?.role === 'compromised');
    if (!onComp) continue;
    if ((r.c.success && (r.c.kind === 'logon' || r.c.kind === 'lateral-auth' || r.c.kind === 'unusual-logon')) || r.c.kind === 'account') for (const u of r.accounts) acct.set(u, [...(acct.get(u) ?? []), r]);
  }
  for (const [u, rs] of acct) {
    const where = [...new Set(rs.map((r) => (r.c.kind === 'account' ? r.actor : r.victim)).filter((x): x is string => !!x))].map((k) => L(ctx, k));
    const changed = rs.some((r) => r.c.kind === 'account');
    add('reset-credentials', u, {
      en: `Reset the password of ${u} to a strong, unique one (${changed ? 'the attacker changed it and ' : ''}used it on ${where.join(', ')}) and of any account sharing it.`,
      zh: `重置账户 ${u} 的口令并设置为强且唯一的口令（${changed ? '攻击者已修改过该账户，并' : '攻击者已'}在 ${where.join('、')} 上使用），同时排查使用相同口令的其他账户。`,
    }, rs, 'immediate');
  }
  const normUrl = (u: string) => u.replace(/^[a-z]+:\/\//i, '').replace(/:(80|443)(?=\/)/, '').toLowerCase();
  const savedUrls = new Set(a.recs.filter((r) => r.sig && r.c.kind === 'webshell').flatMap((r) => savedDownloads(factList(r, 'commands')).map((c) => normUrl(c.url))));
  // The threat name an antivirus gave each file, for what the removal is about.
  const threatByFile = new Map<string, string>();
  for (const r of a.recs) {
    const th = r.c.side === 'host' ? threatOf(r) : undefined;
    if (th) for (const f of r.files) if (!threatByFile.has(f)) threatByFile.set(f, th);
  }
  // Files dropped on compromised hosts: a path on the disk is removed; a web path is the web shell in the
  // application's web root; a download URL is removed where the commands saved it (or looked for).
  for (const r of a.recs) {
    if (!r.sig) continue;
    const host = r.c.kind === 'exploit' || r.c.kind === 'webshell' ? r.victim : r.actor;
    if (!host || a.hosts.get(host)?.role !== 'compromised') continue;
    const H = L(ctx, host);
    if (r.c.kind === 'webshell') {
      for (const c of savedDownloads(factList(r, 'commands'))) {
        add('remove-file', c.path, { en: `Remove ${c.path} from ${H} (downloaded through the web shell from ${c.url}) and look for it running.`, zh: `删除 ${H} 上经 Webshell 下载的 ${c.path}（来源 ${c.url}），并排查该程序是否仍在运行。` }, [r], 'immediate');
      }
    }
    if (!['exploit', 'webshell', 'process', 'av', 'download', 'mining'].includes(r.c.kind) && !(r.c.side === 'host' && threatOf(r))) continue;
    if (r.c.kind === 'exploit' && !r.c.success) continue;
    for (const f of r.files.slice(0, 4)) {
      if (isSystemBinary(f)) continue;
      if (isWebPath(f) && (r.c.kind === 'webshell' || r.c.kind === 'exploit')) {
        add('remove-file', f, { en: `Remove the web shell ${baseName(f)} (served as ${f}) from the web root of ${H}, and check that directory for other planted scripts.`, zh: `删除 ${H} Web 目录下的 Webshell 文件 ${baseName(f)}（访问路径 ${f}），并排查该目录下是否还有其他恶意脚本。` }, [r], 'immediate');
      } else if (isWebPath(f)) {
        if (savedUrls.has(normUrl(f))) continue;
        add('remove-file', f, { en: `Find and remove the file ${baseName(f)} that ${H} downloaded (${f}).`, zh: `排查并删除 ${H} 下载的文件 ${baseName(f)}（下载地址 ${f}）。` }, [r], 'immediate');
      } else {
        const k = malwareKind(threatByFile.get(f) ?? threatOf(r), f);
        add('remove-file', f, { en: `Remove ${f} from ${H}${k ? ` (${k.name.en})` : ''}.`, zh: `删除 ${H} 上的 ${f}${k ? `（${k.name.zh}）` : ''}。` }, [r], 'immediate');
      }
    }
  }
  // Persistence the attacker left: services (other kinds when detectors report them).
  for (const r of a.recs) {
    if (!r.sig || r.c.kind !== 'service' || r.c.side !== 'host') continue;
    const host = r.victim ?? r.actor;
    const name = factStr(r.f, ['name']);
    if (!host || !name || a.hosts.get(host)?.role !== 'compromised') continue;
    const H = L(ctx, host);
    add('remove-persistence', `service:${name}`, {
      en: `Stop and delete the service ${name} on ${H} (sc stop / sc delete), then check the other autostart places (services, scheduled tasks, Run keys) for more.`,
      zh: `停止并删除 ${H} 上的恶意服务 ${name}（sc stop / sc delete），并排查服务、计划任务、启动项（Run 注册表键）等其他持久化位置。`,
    }, [r], 'immediate');
  }
  // Other hosts.
  if (a.compromised.length) {
    const swept = a.recs.filter((r) => r.c.kind === 'sweep' && r.sig);
    const targeted = [...a.hosts.values()].filter((h) => h.role === 'targeted' && h.internal);
    const range = swept.map(sweepRange).find(Boolean);
    const target = range ?? (ctx.homeNets.length ? ctx.homeNets.join(',') : 'LAN');
    const shownEn = range ?? (ctx.homeNets.length ? ctx.homeNets.join(', ') : 'the LAN');
    const shownZh = range ?? (ctx.homeNets.length ? ctx.homeNets.join('、') : '局域网');
    add('scan-hosts', target, {
      en: `Scan the other hosts of ${shownEn} that may be infected${targeted.length ? ` (${targeted.length} were targeted)` : ''} and check them for the same indicators.`,
      zh: `对 ${shownZh} 内其他可能感染病毒的主机进行全盘查杀，排查相同的入侵痕迹${targeted.length ? `（其中 ${targeted.length} 台曾被攻击探测）` : ''}。`,
    }, swept.length ? swept : a.compromised.flatMap((h) => h.because.slice(0, 2)), 'short-term');
    const entryRecs = a.entry ? a.entry.access.recs : a.compromised[0].because.slice(0, 3);
    add('deploy-monitoring', ctx.homeNets.join(',') || 'LAN', {
      en: 'Deploy EDR on servers to stop malware as it lands, border and zone firewalls with policies against brute force and exploits, and network monitoring of outbound connections.',
      zh: '推进部署 EDR，及时阻断病毒落地传播；部署边界防火墙和区域防火墙并配置安全策略，防止暴破攻击或漏洞利用攻击；加强网络监控。',
    }, entryRecs, 'long-term');
  }
  return out;
}

export function iocs(a: Analysis, ctx: Ctx): Iocs {
  const ips = new Set<string>();
  const domains = new Set<string>();
  const urls = new Set<string>();
  const files = new Set<string>();
  const hashes = new Set<string>();
  const accounts = new Set<string>();
  const notes: Record<string, Bilingual> = {};
  const note = (k: string, b: Bilingual) => {
    if (!notes[k] && Object.keys(notes).length < 500) notes[k] = b;
  };
  const put = (k: string) => (ctx.res.isDomain(k) ? domains.add(k) : isIp(k) ? ips.add(k) : undefined);
  for (const h of a.attackers) put(h.key);
  for (const h of a.c2) put(h.key);
  for (const r of a.recs) {
    if (!r.sig) continue;
    if (r.peer && (r.c.kind === 'mining' || r.c.kind === 'download') && !ctx.res.internal(r.peer)) {
      put(r.peer);
      note(r.peer, r.c.kind === 'mining' ? { en: 'mining pool', zh: '矿池' } : { en: 'tool download server', zh: '工具下载服务器' });
    }
    const onComp = [r.actor, r.victim].some((k) => k && a.hosts.get(k)?.role === 'compromised');
    if (!onComp) continue;
    for (const u of r.urls) urls.add(u);
    const th = r.c.side === 'host' ? threatOf(r) : undefined;
    for (const f of r.files) {
      // The system's own tools (sc.exe, net.exe) are how the attacker acted, not what to hunt for.
      if (isSystemBinary(f)) continue;
      // A download named by its address (`host/dir/tool.exe`) is a URL to block, not a path on a disk.
      if (r.c.kind === 'download' && isWebPath(f) && !f.startsWith('/')) {
        urls.add(f);
        note(f, { en: 'download address', zh: '下载地址' });
        continue;
      }
      files.add(f);
      const k = malwareKind(th, f);
      if (th) note(f, { en: `${k ? `${k.name.en}, ` : ''}${th}`, zh: `${k ? `${k.name.zh}，` : ''}${th}` });
      else if (r.c.kind === 'webshell' || (r.c.kind === 'exploit' && isWebPath(f))) note(f, { en: 'web shell', zh: 'Webshell' });
      else if (r.c.kind === 'download') note(f, { en: 'downloaded file', zh: '下载的文件' });
    }
    if (r.c.kind === 'webshell') for (const c of savedDownloads(factList(r, 'commands'))) {
      files.add(c.path);
      note(c.path, { en: `saved from ${c.url}`, zh: `下载自 ${c.url}` });
    }
    for (const h of r.hashes) hashes.add(h.toLowerCase());
    // Machine accounts (NAME$) act for the system itself; they are not credentials the attacker used.
    if (r.c.success || r.c.kind === 'account') for (const u of r.accounts) if (!u.endsWith('$')) accounts.add(u);
  }
  for (const r of a.recs) if (r.sig && r.c.kind === 'account') for (const u of r.accounts) note(u, { en: 'changed in the attacker’s session', zh: '在攻击者会话中被修改' });
  const s = (x: Set<string>) => [...x].sort().slice(0, 1000);
  const out: Iocs = { ips: s(ips), domains: s(domains), urls: s(urls), files: s(files), hashes: s(hashes), accounts: s(accounts) };
  const listed = new Set([...out.ips, ...out.domains, ...out.urls, ...out.files, ...out.hashes, ...out.accounts]);
  for (const k of Object.keys(notes)) if (!listed.has(k)) delete notes[k];
  if (Object.keys(notes).length) out.notes = notes;
  return out;
}
