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
import type { AlertSpec, InvestigationStep, Recommendation, TimelineEntry, ChainLink, Iocs } from '../incident/types.js';
import { CVE_PRODUCTS, LINK_KIND, STAGE, techniqueName } from './classify.js';
import { factNum, factStr, FACTS_USED, type Rec, type Resolver } from './graph.js';
import type { Analysis, HostState } from './chain.js';
import type { EntitySnapshot } from './entities.js';
import { alertSubject } from './alert.js';
import { isIp } from './entities.js';

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
}

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
      return {
        en: `${A} exploited ${V}${cve ? ` (${cve}${CVE_PRODUCTS[cve] ? `, ${CVE_PRODUCTS[cve].en}` : ''})` : ''}${file ? `, writing ${file}` : ''}`,
        zh: `${A} 利用 ${V} 的漏洞${cve ? `（${cve}${CVE_PRODUCTS[cve] ? `，${CVE_PRODUCTS[cve].zh}` : ''}）` : ''}${file ? `，写入恶意文件 ${file}` : ''}`,
      };
    case 'webshell':
      return { en: `${A} used the web shell ${file ?? r.urls[0] ?? ''} on ${V}`, zh: `${A} 访问 ${V} 上的 Webshell ${file ?? r.urls[0] ?? ''}` };
    case 'service':
      return { en: `${r.actor ? A : 'someone'} installed a service on ${V === '?' ? A : V}`, zh: `${r.actor ? A : ''} 在 ${V === '?' ? A : V} 上创建服务` };
    case 'lateral-auth':
      return { en: `${A} authenticated to ${V}${u ? ` as ${u}` : ''} (lateral movement)`, zh: `${A} 成功认证登录 ${V}${u ? `（账户 ${u}）` : ''}（横向移动）` };
    case 'sweep': {
      const s = r.targets.length ? targetsSummary(r.targets) : { en: V, zh: V };
      return { en: `${A} swept ${s.en} over SMB/remote services`, zh: `${A} 对${s.zh}进行 SMB 横向探测` };
    }
    case 'beacon':
      return { en: `${A} beaconed to ${P} (command and control)`, zh: `${A} 向 C2 ${P} 发起外联` };
    case 'mining':
      return { en: `${A} mined cryptocurrency${file ? ` (${file})` : ''}${r.peer ? ` via ${P}` : ''}`, zh: `${A} 进行挖矿${file ? `（${file}）` : ''}${r.peer ? `（矿池 ${P}）` : ''}` };
    case 'download':
      return { en: `${A} downloaded ${file ?? 'tools'}${r.peer ? ` from ${P}` : ''}`, zh: `${A}${r.peer ? ` 从 ${P}` : ''} 下载 ${file ?? '工具'}` };
    case 'process':
      return { en: `${file ?? 'a hacking tool'} ran on ${A}`, zh: `${A} 上运行了 ${file ?? '黑客工具'}` };
    case 'av':
      return { en: `antivirus detected ${file ?? 'malware'} on ${A}`, zh: `杀毒软件在 ${A} 上检出 ${file ?? '恶意文件'}` };
    case 'account':
      return { en: `account ${u ?? '?'} was changed on ${A}${r.remote ? ` from a session of ${L(ctx, r.remote)}` : ''}`, zh: `${A} 上账户 ${u ?? '?'} 被修改${r.remote ? `（来自 ${L(ctx, r.remote)} 的会话）` : ''}` };
    case 'evasion':
      return { en: `event logs were cleared on ${A}`, zh: `${A} 的日志被清除` };
    default:
      return { en: r.f.summary?.en ?? r.f.detector, zh: r.f.summary?.zh ?? r.f.detector };
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
    else if (r.actor && (r.files[0] ?? r.accounts[0])) add(r.actor, r.files[0] ?? r.accounts[0], kind, r, r.t);
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
    const uniq = new Map<string, Bilingual>();
    for (const r of rs) {
      const d = describe(r, ctx);
      if (!uniq.has(d.en)) uniq.set(d.en, { en: `${d.en} (${localTime(r.c.success ? r.at : r.t, ctx.tz)})`, zh: `${d.zh}（${localTime(r.c.success ? r.at : r.t, ctx.tz)}）` });
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

/** The root cause paragraph from the facts of the way in. */
export function rootCause(a: Analysis, ctx: Ctx): Bilingual {
  const en: string[] = [];
  const zh: string[] = [];
  if (!a.compromised.length) {
    const at = a.attackers.map((h) => L(ctx, h.key)).join(', ');
    const tg = [...a.hosts.values()].filter((h) => h.role === 'targeted').map((h) => L(ctx, h.key));
    return {
      en: `${at || 'Unknown sources'} attacked ${tg.slice(0, 5).join(', ') || 'internal hosts'}; no compromise is shown by the evidence.`,
      zh: `${at || '未知来源'} 对 ${tg.slice(0, 5).join('、') || '内网主机'} 发起攻击；证据未显示入侵成功。`,
    };
  }
  const ordered = a.entry ? [a.entry.host, ...a.compromised.filter((h) => h !== a.entry!.host)] : a.compromised;
  for (const h of ordered) {
    const e = h.entry;
    const V = L(ctx, h.key);
    const from = e?.from ? L(ctx, e.from) : undefined;
    const t = localTime(e?.time ?? h.since ?? 0, ctx.tz);
    const r0 = e?.recs[0];
    if (!e || !e.from) {
      en.push(`How ${V} was first compromised is not in the evidence; its own activity from ${t} shows it was.`);
      zh.push(`证据中未见 ${V} 的入侵方式；其自 ${t} 起的行为表明其已失陷。`);
      continue;
    }
    const fromOutside = !ctx.res.internal(e.from);
    if (e.kind === 'logon' || e.kind === 'bruteforce' || e.technique.startsWith('T1110')) {
      const svc = serviceOf(a, h, e, ctx);
      const brute = a.recs.filter((r) => (r.c.kind === 'bruteforce' || r.c.kind === 'logon') && r.actor === e.from && r.victim === h.key);
      // Host logs and the wire see the same failures: count per side, take the larger.
      const side = (x: string) => brute.filter((r) => r.c.side === x).reduce((s, r) => s + (factNum(r.f, FACTS_USED.failures) ?? 0), 0);
      const n = Math.max(side('host'), side('net'), side('other'));
      const firstT = brute.reduce((m, r) => Math.min(m, r.t), Infinity);
      const u = brute.flatMap((r) => r.accounts)[0];
      const svcEn = svc === 'rdp' ? 'Remote Desktop (RDP) on the default port 3389' : svc === 'smb' ? 'SMB (445)' : svc === 'ssh' ? 'SSH (22)' : 'a logon service';
      const svcZh = svc === 'rdp' ? 'RDP 服务且未修改默认的 3389 端口' : svc === 'smb' ? 'SMB（445）服务' : svc === 'ssh' ? 'SSH（22）服务' : '登录服务';
      en.push(
        `${V} exposed ${svcEn} to ${fromOutside ? 'the internet' : 'the internal network'} and the account ${u ?? '(unknown)'} had a weak password: ${from} brute-forced it${n ? ` (${n} failed logons` : ' ('}${Number.isFinite(firstT) ? `${n ? ' ' : ''}from ${localTime(firstT, ctx.tz)}` : ''}) and logged on at ${t}, taking control of the server.`,
      );
      zh.push(`${V} 对${fromOutside ? '互联网' : '内网'}开放了${svcZh}，账户 ${u ?? '（未知）'} 使用弱口令，${from}${Number.isFinite(firstT) ? ` 自 ${localTime(firstT, ctx.tz)} 起` : ''}对其进行暴力破解${n ? `（失败 ${n} 次）` : ''}，于 ${t} 登录成功，取得服务器权限。`);
    } else if (e.kind === 'exploit' || e.kind === 'webshell') {
      const exploits = a.recs.filter((r) => r.c.kind === 'exploit' && r.victim === h.key);
      const cve = [...new Set(exploits.flatMap((r) => r.cves))][0];
      const file = [...new Set([...exploits, ...a.recs.filter((r) => r.c.kind === 'webshell' && r.victim === h.key)].flatMap((r) => r.files))][0];
      const scanned = a.recs.some((r) => r.c.kind === 'scan' && r.actor === e.from && r.victim === h.key);
      const prod = cve ? CVE_PRODUCTS[cve] : undefined;
      en.push(
        `${V} ran an unpatched ${prod ? prod.en : 'web application'}${cve ? ` (${cve})` : ''}: ${from}${scanned ? ' scanned it, then' : ''} exploited it at ${t}${file ? `, writing the malicious file ${file}` : ''}.`,
      );
      zh.push(`${V} 存在未修复的${prod ? prod.zh : ' Web 应用'}漏洞${cve ? `（${cve}）` : ''}：${from}${scanned ? ' 先对其进行扫描，' : ' '}于 ${t} 利用该漏洞成功${file ? `，写入恶意文件 ${file}` : ''}。`);
    } else if (e.kind === 'lateral-auth' || e.kind === 'service' || e.kind === 'sweep') {
      const sweep = a.recs.find((r) => r.c.kind === 'sweep' && r.actor === e.from);
      const u = e.recs.flatMap((r) => r.accounts)[0];
      const range = sweep ? sweepRange(sweep) : undefined;
      en.push(
        `From ${from}, the attacker${sweep ? ` swept ${range ?? 'the network'} over SMB and` : ''} logged on to ${V} over SMB at ${t}${u ? ` as ${u}` : ''}: its SMB credentials were weak or reused.`,
      );
      zh.push(`攻击者利用 ${from}${sweep ? ` 对 ${range ?? '内网'} 进行 SMB 探测，并` : ' '}于 ${t} 通过 SMB 成功登录 ${V}${u ? `（账户 ${u}）` : ''}，说明其 SMB 口令较弱或被复用。`);
    } else {
      const tn = techniqueName(e.technique);
      en.push(`${from} reached ${V} by ${tn.en} at ${t}.`);
      zh.push(`${from} 于 ${t} 通过${tn.zh}进入 ${V}。`);
    }
    void r0;
  }
  // What followed.
  for (const h of ordered) {
    const V = L(ctx, h.key);
    const mine = a.recs.filter((r) => r.actor === h.key && r.sig);
    const files = [...new Set(mine.filter((r) => r.c.kind === 'process' || r.c.kind === 'av' || r.c.kind === 'download' || r.c.kind === 'mining').flatMap((r) => r.files.map(baseName)))].slice(0, 6);
    const c2 = [...h.beaconsTo];
    const outScan = mine.find((r) => r.outbound);
    const parts: Bilingual[] = [];
    if (files.length) parts.push({ en: `tools and malware were dropped on it (${files.join(', ')})`, zh: `被植入多种病毒和黑客工具（${files.join('、')}）` });
    if (mine.some((r) => r.c.kind === 'mining')) parts.push({ en: 'it mined cryptocurrency', zh: '被用于挖矿' });
    if (c2.length) parts.push({ en: `it called the C2 ${c2.join(', ')}`, zh: `其与 C2 服务器 ${c2.join('、')} 建立通信` });
    if (outScan) {
      const tool = factStr(outScan.f, FACTS_USED.tool);
      parts.push({ en: `it scanned outside addresses${tool ? ` with ${tool}` : ''} from ${localTime(outScan.t, ctx.tz)} — the scanning that was reported`, zh: `自 ${localTime(outScan.t, ctx.tz)} 起对外扫描${tool ? `（${tool}）` : ''}，即被通报的扫描行为` });
    }
    if (parts.length) {
      en.push(`After that, on ${V}: ${parts.map((p) => p.en).join('; ')}.`);
      zh.push(`此后 ${V}：${parts.map((p) => p.zh).join('；')}。`);
    }
  }
  return { en: en.join(' '), zh: zh.join('') };
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
  const out: Recommendation[] = [];
  const seen = new Set<string>();
  const ids = (rs: Rec[]) => [...new Set(rs.map((r) => r.f.id))].slice(0, 20);
  const add = (action: string, target: string, text: Bilingual, rs: Rec[], priority: Recommendation['priority']) => {
    const k = `${action}|${target}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ action, target, text, findings: ids(rs), priority });
  };
  for (const h of a.attackers) {
    add('block-ip', h.key, { en: `Block ${h.key} on the firewall and IDS (attacker).`, zh: `在防火墙、IDS 等安全设备上封禁攻击 IP ${h.key}。` }, h.because, 'immediate');
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
  const cves = new Map<string, Rec[]>();
  for (const r of a.recs) if (r.c.kind === 'exploit') for (const c of r.cves) cves.set(c, [...(cves.get(c) ?? []), r]);
  for (const [cve, rs] of cves) {
    const hosts = [...new Set(rs.map((r) => r.victim).filter((x): x is string => !!x))].map((k) => L(ctx, k));
    const prod = CVE_PRODUCTS[cve];
    add('patch', cve, { en: `Patch ${prod ? prod.en : 'the vulnerable software'} (${cve}) on ${hosts.join(', ')}.`, zh: `修复 ${hosts.join('、')} 上的${prod ? prod.zh : ''}漏洞（${cve}）。` }, rs, 'immediate');
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
    add('reset-credentials', u, { en: `Reset the password of ${u} (used by the attacker on ${where.join(', ')}) and of any account sharing it.`, zh: `重置账户 ${u} 的口令（攻击者已在 ${where.join('、')} 上使用），并排查使用相同口令的其他账户。` }, rs, 'immediate');
    if (!seen.has(`enforce-password-policy|${u}`)) add('enforce-password-policy', u, { en: `Give ${u} a strong, unique password.`, zh: `为账户 ${u} 设置强且唯一的口令。` }, rs, 'short-term');
  }
  // Files dropped on compromised hosts.
  for (const r of a.recs) {
    if (!r.sig) continue;
    const host = r.c.kind === 'exploit' || r.c.kind === 'webshell' ? r.victim : r.actor;
    if (!host || a.hosts.get(host)?.role !== 'compromised') continue;
    if (!['exploit', 'webshell', 'process', 'av', 'download', 'mining'].includes(r.c.kind)) continue;
    for (const f of r.files.slice(0, 4)) add('remove-file', f, { en: `Remove ${f} from ${L(ctx, host)}.`, zh: `删除 ${L(ctx, host)} 上的 ${f}。` }, [r], 'immediate');
  }
  // Other hosts.
  if (a.compromised.length) {
    const swept = a.recs.filter((r) => r.c.kind === 'sweep' && r.sig);
    const targeted = [...a.hosts.values()].filter((h) => h.role === 'targeted' && h.internal);
    const range = swept.map(sweepRange).find(Boolean);
    const target = range ?? (ctx.homeNets.length ? ctx.homeNets.join(',') : 'LAN');
    add('scan-hosts', target, {
      en: `Scan the other hosts of ${target} that may be infected${targeted.length ? ` (${targeted.length} were targeted)` : ''} and check them for the same indicators.`,
      zh: `对 ${target} 内其他可能感染病毒的主机进行全盘查杀，排查相同的入侵痕迹${targeted.length ? `（其中 ${targeted.length} 台曾被攻击探测）` : ''}。`,
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
  const put = (k: string) => (ctx.res.isDomain(k) ? domains.add(k) : isIp(k) ? ips.add(k) : undefined);
  for (const h of a.attackers) put(h.key);
  for (const h of a.c2) put(h.key);
  for (const r of a.recs) {
    if (!r.sig) continue;
    if (r.peer && (r.c.kind === 'mining' || r.c.kind === 'download') && !ctx.res.internal(r.peer)) put(r.peer);
    const onComp = [r.actor, r.victim].some((k) => k && a.hosts.get(k)?.role === 'compromised');
    if (!onComp) continue;
    for (const u of r.urls) urls.add(u);
    for (const f of r.files) files.add(f);
    for (const h of r.hashes) hashes.add(h.toLowerCase());
    if (r.c.success || r.c.kind === 'account') for (const u of r.accounts) accounts.add(u);
  }
  const s = (x: Set<string>) => [...x].sort().slice(0, 1000);
  return { ips: s(ips), domains: s(domains), urls: s(urls), files: s(files), hashes: s(hashes), accounts: s(accounts) };
}
