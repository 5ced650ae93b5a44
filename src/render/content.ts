/**
 * The report's content, once per language, as document blocks. Presents
 * what incident.json says; computes no conclusions (only groups, counts and
 * formats what is there).
 */
import type { EvidenceRef } from '../core/event.js';
import type { ChainLink, FindingEntry, IncidentFile, Recommendation } from '../incident/types.js';
import { technique, tacticName, techniqueName, TACTIC_NAMES } from './attack.js';
import type { Block, Inline } from './doc.js';
import { defang } from './escape.js';
import { HARDENING_ACTIONS, L, OUTCOME, PRIORITY, ROLE, SEVERITY, actionName, alertKindName, chainTarget, linkKind, type Lang } from './labels.js';
import { chainSvg, timelineSvg } from './svg.js';
import { formatShort, formatTime, localizeTimes, zoneLabel } from './time.js';

export interface ContentOptions {
  /** Include SVG figures (HTML). */
  figures: boolean;
  /** Unique prefix for ids inside this copy of the document (HTML holds two languages). */
  idPrefix: string;
  /** Maximum findings listed in the appendix. */
  maxFindings?: number;
}

const MAX_REFS = 8;
const MAX_EXCERPT = 400;

function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

export function evidenceNames(file: IncidentFile): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of file.evidence ?? []) m.set(e.id, baseName(e.path));
  return m;
}

/** `Security.evtx record 1234`, `case.pcap frame 56` / `Security.evtx 记录号 1234`, `case.pcap 第 56 帧`. */
export function refText(ref: EvidenceRef, names: Map<string, string>, lang: Lang): string {
  const l = L[lang];
  const name = names.get(ref.evidence) ?? ref.evidence;
  const parts = [name];
  if (ref.record !== undefined) parts.push(`${l.record} ${ref.record}`);
  if (ref.frame !== undefined) parts.push(l.frame(ref.frame));
  if (ref.line !== undefined) parts.push(l.line(ref.line));
  if (ref.record === undefined && ref.frame === undefined && ref.line === undefined && ref.offset !== undefined) parts.push(`${l.offset} ${ref.offset}`);
  let s = parts.join(' ');
  if (ref.uid) s += lang === 'zh' ? `（${l.conn} ${ref.uid}）` : ` (${l.conn} ${ref.uid})`;
  return s;
}

function refsInline(refs: EvidenceRef[] | undefined, names: Map<string, string>, lang: Lang, max = MAX_REFS): Inline {
  const list = refs ?? [];
  if (list.length === 0) return ['—'];
  const out: Inline = [];
  const sep = lang === 'zh' ? '；' : '; ';
  list.slice(0, max).forEach((r, i) => {
    if (i) out.push(sep);
    out.push(refText(r, names, lang));
  });
  if (list.length > max) out.push(lang === 'zh' ? ` ${L.zh.moreRefs(list.length - max)}` : `, ${L.en.moreRefs(list.length - max)}`);
  return out;
}

function techLabel(id: string, lang: Lang): string {
  const n = techniqueName(id, lang);
  return n === id ? id : `${id} ${n}`;
}

function pct(c: number): string {
  return `${Math.round((Number.isFinite(c) ? c : 0) * 100)}%`;
}

function listOrNone(items: string[], lang: Lang): Inline {
  if (!items.length) return [L[lang].none];
  const out: Inline = [];
  items.forEach((s, i) => {
    if (i) out.push(lang === 'zh' ? '、' : ', ');
    out.push({ code: s });
  });
  return out;
}

function caseSpan(file: IncidentFile): { first: string | null; last: string | null } {
  let first: string | null = null;
  let last: string | null = null;
  for (const e of file.evidence ?? []) {
    if (e.first && (!first || e.first < first)) first = e.first;
    if (e.last && (!last || e.last > last)) last = e.last;
  }
  return { first, last };
}

function firstTime(file: IncidentFile): string | null {
  return file.incidents?.[0]?.first ?? caseSpan(file).first ?? file.case?.created ?? null;
}

function sortedFindings(file: IncidentFile): FindingEntry[] {
  const rank: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  return [...(file.findings ?? [])].sort(
    (a, b) => (rank[b.severity] ?? 0) - (rank[a.severity] ?? 0) || b.confidence - a.confidence || a.first.localeCompare(b.first),
  );
}

function isHardening(r: Recommendation): boolean {
  return r.priority === 'long-term' || HARDENING_ACTIONS.has(r.action);
}

/** Build the whole report for one language. */
export function buildReport(file: IncidentFile, lang: Lang, opts: ContentOptions): Block[] {
  const l = L[lang];
  const tz = file.case?.tz || 'UTC';
  /** Evidence-derived prose with its UTC times shown in the case zone. */
  const tx = (text: string): string => localizeTimes(text, tz);
  const names = evidenceNames(file);
  const findingById = new Map((file.findings ?? []).map((f) => [f.id, f]));
  /** The first records of the given findings (at most `max`, one per finding first). */
  const findingRefs = (ids: string[], max: number): EvidenceRef[] => {
    const out: EvidenceRef[] = [];
    for (let i = 0; i < 2 && out.length < max; i++) {
      for (const id of ids) {
        const e = findingById.get(id)?.evidence?.[i];
        if (e && out.length < max) out.push(e);
      }
    }
    return out;
  };
  /** A recommendation's proof: its own evidence, else the first records of its findings. */
  const recEvidence = (r: Recommendation): EvidenceRef[] =>
    Array.isArray(r.evidence) && r.evidence.length ? r.evidence : (r.findings ?? []).flatMap((id) => findingById.get(id)?.evidence?.slice(0, 1) ?? []).slice(0, 3);
  /** ` (evidence: Security.evtx record 2414; findings host.x-1)` — what a statement rests on. */
  const cite = (refs: EvidenceRef[] | undefined, findings: string[] | undefined, max: number): Inline => {
    const fs = (findings ?? []).filter((x) => typeof x === 'string');
    if (!(refs ?? []).length && !fs.length) return [];
    const o: Inline = [lang === 'zh' ? `（${l.basis}：` : ` (${l.basis}: `];
    if ((refs ?? []).length) o.push(...refsInline(refs, names, lang, max));
    if (fs.length) {
      if ((refs ?? []).length) o.push(lang === 'zh' ? '；检测结果 ' : '; findings ');
      else o.push(lang === 'zh' ? '检测结果 ' : 'findings ');
      fs.slice(0, 4).forEach((id, i) => {
        if (i) o.push(lang === 'zh' ? '、' : ', ');
        o.push({ code: id });
      });
      if (fs.length > 4) o.push(lang === 'zh' ? ` 等 ${fs.length} 项` : ` and ${fs.length - 4} more`);
    }
    o.push(lang === 'zh' ? '）' : ')');
    return o;
  };
  const T = (t: string | null | undefined) => formatTime(t ?? null, tz);
  const C = lang === 'zh' ? '：' : ': ';
  const zone = zoneLabel(tz, firstTime(file));
  const incidents = file.incidents ?? [];
  const out: Block[] = [];
  const p = (text: Inline, cls?: string) => out.push({ kind: 'p', text, cls });
  const h = (level: 1 | 2 | 3 | 4, text: string, id?: string) => out.push({ kind: 'h', level, text, id: id ? `${opts.idPrefix}${id}` : undefined });

  h(1, `${l.title}${lang === 'zh' ? '：' : ': '}${file.case?.id ?? ''}`, 'top');
  p([
    `${l.caseId}${C}`,
    { code: file.case?.id ?? '' },
    ` · ${l.generated}: ${T(file.case?.created)} · spoor ${file.case?.spoor_version ?? ''} · ${l.zone}: ${zone}`,
  ], 'meta');

  // ------------------------------------------------------------ 1
  h(2, l.s1, 's1');
  h(3, l.s1_1);
  const alert = file.case?.alert;
  if (alert) {
    p([{ b: l.alertGot }, alert.text]);
    const kindName = alertKindName(alert.kind, lang);
    const meta: Inline[] = [[`${l.alertKind}${C}`, ...(kindName ? [`${kindName} `] : []), { code: alert.kind }]];
    if (alert.src) meta.push([`${l.alertSrc}${C}`, { code: alert.src }]);
    if (alert.dst) meta.push([`${l.alertDst}${C}`, { code: alert.dst }]);
    out.push({ kind: 'ul', items: meta });
  } else p([l.noAlert]);

  h(3, l.s1_2);
  const fmtCount = new Map<string, number>();
  let recs = 0;
  for (const e of file.evidence ?? []) {
    fmtCount.set(e.format, (fmtCount.get(e.format) ?? 0) + 1);
    recs += e.records || 0;
  }
  const fmts = [...fmtCount].map(([f, n]) => `${f} × ${n}`).join(lang === 'zh' ? '，' : ', ');
  const span = caseSpan(file);
  const scope: Inline[] = [[l.evidenceFiles((file.evidence ?? []).length, fmts || l.none)], [l.records(recs)]];
  if (span.first && span.last) scope.push([l.span(T(span.first), T(span.last))]);
  scope.push([`${l.homeNets}${C}`, ...listOrNone(file.case?.home_nets ?? [], lang)]);
  scope.push([l.skippedProblems((file.skipped ?? []).length, file.problems_total ?? (file.problems ?? []).length)]);
  out.push({ kind: 'ul', items: scope });

  h(3, l.s1_3);
  if (incidents.length === 0) {
    p([l.noIncident]);
    const top = sortedFindings(file).slice(0, 15);
    if (top.length) {
      out.push({
        kind: 'ul',
        items: top.map((f) => [
          { b: `[${SEVERITY[lang][f.severity] ?? f.severity}/${OUTCOME[lang][f.outcome] ?? f.outcome}]` },
          ` ${T(f.first)} `,
          tx(f.summary?.[lang] ?? ''),
          lang === 'zh' ? '（证据：' : ' (evidence: ',
          ...refsInline(f.evidence, names, lang, 3),
          lang === 'zh' ? '）' : ')',
        ]),
      });
    } else p([l.noFindings]);
  }
  incidents.forEach((inc, k) => {
    if (incidents.length > 1) h(4, `${k + 1}. ${inc.title?.[lang] ?? inc.id}`);
    p([l.verdictIncident(SEVERITY[lang][inc.severity] ?? inc.severity, inc.title?.[lang] ?? inc.id, pct(inc.confidence))]);
    const items: Inline[] = [];
    // Each conclusion with the findings (and their first records) that establish it.
    const because = (keys: string[]) => [...new Set((inc.hosts ?? []).filter((x) => keys.includes(x.host) || (x.ip !== undefined && keys.includes(x.ip))).flatMap((x) => x.because ?? []))];
    const proof = (ids: string[]) => cite(findingRefs(ids, 2), ids, 2);
    items.push([{ b: `${l.attackers}${C}` }, ...listOrNone(inc.attackers ?? [], lang), ...proof(because(inc.attackers ?? []))]);
    const comp = inc.compromised ?? [];
    if (comp.length) {
      for (const c of comp) items.push([{ b: `${l.compromised}${C}` }, l.compromisedText(c.host, c.ip, T(c.since), techLabel(c.via, lang)), ...proof(c.findings ?? [])]);
    } else items.push([{ b: `${l.compromised}${C}` }, l.none]);
    items.push([{ b: `${l.c2}${C}` }, ...listOrNone(inc.c2 ?? [], lang), ...proof(because(inc.c2 ?? []))]);
    if (inc.entry) items.push([{ b: `${l.entry}${C}` }, l.entryText(inc.entry.from, T(inc.entry.time), techLabel(inc.entry.technique, lang), inc.entry.host), ...proof(inc.entry.findings ?? [])]);
    out.push({ kind: 'ul', items });
    if (opts.figures && (inc.chain ?? []).length) {
      out.push({ kind: 'figure', svg: chainSvg(inc, tz, lang, `${opts.idPrefix}c${k}`), caption: `${l.chainFigure}${incidents.length > 1 ? ` ${k + 1}` : ''}` });
    }
  });

  // ------------------------------------------------------------ 2
  h(2, l.s2, 's2');
  let stepNo = 0;
  incidents.forEach((inc, k) => {
    if (incidents.length > 1) h(3, `${inc.title?.[lang] ?? inc.id}`);
    if (!(inc.steps ?? []).length) p([l.noSteps]);
    for (const st of inc.steps ?? []) {
      stepNo++;
      h(incidents.length > 1 ? 4 : 3, `${lang === 'zh' ? '2.' : '2.'}${stepNo} ${st.title?.[lang] ?? ''}`);
      const items: Inline[] = [];
      if (st.query) items.push([{ b: `${l.stepQuery}${C}` }, { code: st.query }]);
      items.push([{ b: `${l.stepFound}${C}` }, tx(st.found?.[lang] ?? '')]);
      items.push([{ b: `${l.stepEvidence}${C}` }, ...refsInline(st.evidence, names, lang)]);
      out.push({ kind: 'ul', items });
      // Quoted records: the time in the case zone, the UTC original beside it.
      const quotes = Array.isArray(st.quotes) ? st.quotes.filter((q) => q && typeof q.text === 'string') : [];
      const lines = quotes.length
        ? quotes.slice(0, 6).map((q) => [String(q.where ?? ''), q.time ? `${formatShort(q.time, tz)} (${q.time})` : '', q.text].filter(Boolean).join('  '))
        : (st.excerpts ?? []).slice(0, 6);
      const ex = lines.map((e) => (e.length > MAX_EXCERPT ? e.slice(0, MAX_EXCERPT) + ' …' : e));
      if (ex.length) {
        p([{ b: quotes.length ? l.stepExcerptZoned(zone) : `${l.stepExcerpt}:` }]);
        out.push({ kind: 'pre', text: ex.join('\n') });
      }
    }
    void k;
  });
  if (incidents.length === 0) {
    // No chain: show the findings the detectors produced as the investigation record.
    const top = sortedFindings(file).slice(0, 15);
    for (const f of top) {
      stepNo++;
      h(3, `2.${stepNo} ${tx(f.summary?.[lang] ?? f.id)}`);
      out.push({
        kind: 'ul',
        items: [
          [{ b: `${l.stepQuery}${C}` }, { code: f.detector }],
          [{ b: `${l.stepFound}${C}` }, `${SEVERITY[lang][f.severity]}, ${OUTCOME[lang][f.outcome]}, ${T(f.first)} – ${T(f.last)}`],
          [{ b: `${l.stepEvidence}${C}` }, ...refsInline(f.evidence, names, lang)],
        ],
      });
    }
    if (!top.length) p([l.noFindings]);
  }

  // ------------------------------------------------------------ 3
  h(2, l.s3, 's3');
  if (!incidents.length) p([l.none]);
  incidents.forEach((inc) => {
    if (incidents.length > 1) h(3, inc.title?.[lang] ?? inc.id);
    const points = Array.isArray(inc.root_cause_points) ? inc.root_cause_points.filter((x) => x && x.text) : [];
    if (points.length) {
      // Each statement with the records that prove it.
      out.push({
        kind: 'ul',
        items: points.map((pt) => [tx(pt.text?.[lang] ?? ''), ...cite(pt.evidence, pt.findings, 3)]),
      });
    } else p([tx(inc.root_cause?.[lang] ?? '')]);
    const chain = [...(inc.chain ?? [])].sort((a, b) => a.time.localeCompare(b.time));
    if (chain.length) {
      h(incidents.length > 1 ? 4 : 3, l.chainTable);
      // Links that fan out (one source, same action, many targets: a sweep) are shown as one row.
      const groups: { first: ChainLink; tos: string[] }[] = [];
      for (const c of chain) {
        const g = groups.find((x) => x.first.from === c.from && x.first.kind === c.kind && x.first.technique === c.technique && x.first.to !== c.to);
        if (g && (c.kind === 'scanned' || c.kind === 'swept')) {
          if (!g.tos.includes(c.to)) g.tos.push(c.to);
        } else groups.push({ first: c, tos: [c.to] });
      }
      out.push({
        kind: 'table',
        head: l.chainHead,
        rows: groups.map(({ first: c, tos }) => [
          [formatShort(c.time, tz)],
          [{ code: c.from }],
          [linkKind(c.kind, lang)],
          tos.length > 3 ? [{ code: chainTarget(tos[0], lang) }, lang === 'zh' ? '、' : ', ', { code: chainTarget(tos[1], lang) }, lang === 'zh' ? ` 等 ${tos.length} 个目标` : ` and ${tos.length - 2} more (${tos.length} targets)`] : listOrNone(tos.map((x) => chainTarget(x, lang)), lang),
          [techLabel(c.technique, lang)],
          refsInline(findingRefs(c.findings ?? [], 2), names, lang, 2),
        ]),
      });
    }
  });

  // ------------------------------------------------------------ 4
  h(2, l.s4, 's4');
  let recNo = 0;
  const remediation = incidents.flatMap((i) => (i.recommendations ?? []).filter((r) => !isHardening(r)));
  for (const r of remediation) {
    recNo++;
    const prio = r.priority ? `【${PRIORITY[lang][r.priority] ?? r.priority}】` : '';
    p([
      { b: `4.${recNo} ` },
      lang === 'zh' ? prio : prio.replace('【', '[').replace('】', '] '),
      tx(r.text?.[lang] ?? ''),
      lang === 'zh' ? `（${actionName(r.action, lang)}，${l.target}：` : ` (${actionName(r.action, lang)}, ${l.target}: `,
      { code: r.target },
      lang === 'zh' ? '）' : ')',
      ...cite(recEvidence(r), r.findings, 2),
    ]);
  }
  if (!remediation.length) p([l.noRemediation]);

  // ------------------------------------------------------------ 5
  h(2, l.s5, 's5');
  h(3, l.s5_1);
  const hardening = incidents.flatMap((i) => (i.recommendations ?? []).filter(isHardening));
  if (hardening.length) {
    out.push({
      kind: 'ol',
      items: hardening.map((r) => [tx(r.text?.[lang] ?? ''), lang === 'zh' ? `（${l.target}：` : ` (${l.target}: `, { code: r.target }, lang === 'zh' ? '）' : ')', ...cite(recEvidence(r), r.findings, 2)]),
    });
  } else p([l.noHardening]);

  h(3, l.s5_2);
  if (!incidents.length) p([l.noIncident]);
  for (const inc of incidents) {
    p([{ b: inc.title?.[lang] ?? inc.id }, lang === 'zh' ? '。' : '. ', l.summaryPeriod(T(inc.first), T(inc.last))]);
    const items: Inline[] = [[`${l.attackers}${C}`, ...listOrNone(inc.attackers ?? [], lang)]];
    items.push([`${l.compromised}${C}`, ...listOrNone((inc.compromised ?? []).map((c) => (c.ip && c.ip !== c.host ? `${c.host} (${c.ip})` : c.host)), lang)]);
    items.push([`${l.c2}${C}`, ...listOrNone(inc.c2 ?? [], lang)]);
    if (inc.entry) items.push([`${l.entry}${C}`, l.entryText(inc.entry.from, T(inc.entry.time), techLabel(inc.entry.technique, lang), inc.entry.host)]);
    out.push({ kind: 'ul', items });
    p([tx(inc.root_cause?.[lang] ?? '')]);
  }

  h(3, l.s5_3);
  incidents.forEach((inc, k) => {
    const tl = [...(inc.timeline ?? [])].sort((a, b) => a.time.localeCompare(b.time));
    if (!tl.length) return;
    if (incidents.length > 1) h(4, inc.title?.[lang] ?? inc.id);
    if (opts.figures) out.push({ kind: 'figure', svg: timelineSvg(inc, tz, lang, `${opts.idPrefix}t${k}`), caption: l.timelineFigure });
    out.push({
      kind: 'table',
      cls: 'timeline',
      head: l.timelineHead(zone),
      rows: tl.map((t) => {
        const where: Inline = [];
        if (t.host) where.push({ code: t.host });
        if (t.src || t.dst) {
          if (where.length) where.push(' ');
          if (t.src) where.push({ code: t.src });
          if (t.src && t.dst) where.push(' → ');
          if (t.dst) where.push(t.src ? { code: t.dst } : `→ `, ...(t.src ? [] : [{ code: t.dst }]));
        }
        // The time has its own column: do not repeat it at the start of the event text.
        const when = formatShort(t.time, tz);
        const text = tx(t.text?.[lang] ?? '');
        return [[when], [techLabel(t.technique, lang)], where.length ? where : ['—'], [when && text.startsWith(`${when} `) ? text.slice(when.length + 1) : text], refsInline(t.evidence, names, lang, 3)];
      }),
    });
  });
  if (!incidents.some((i) => (i.timeline ?? []).length)) p([l.none]);

  // ------------------------------------------------------------ appendices
  h(2, l.iocs, 'ioc');
  const roleOf = new Map<string, string>();
  for (const inc of incidents) for (const hh of inc.hosts ?? []) {
    roleOf.set(hh.host, ROLE[lang][hh.role] ?? hh.role);
    if (hh.ip) roleOf.set(hh.ip, ROLE[lang][hh.role] ?? hh.role);
  }
  for (const inc of incidents) {
    for (const a of inc.attackers ?? []) if (!roleOf.has(a)) roleOf.set(a, ROLE[lang].attacker);
    for (const c of inc.c2 ?? []) if (!roleOf.has(c)) roleOf.set(c, ROLE[lang].c2);
  }
  const iocRows: Inline[][] = [];
  const seen = new Set<string>();
  const addIoc = (type: string, value: string, note: string, show: string) => {
    const key = `${type}\u0000${value}`;
    if (seen.has(key)) return;
    seen.add(key);
    iocRows.push([[type], [{ code: show }], [note]]);
  };
  for (const inc of incidents) {
    const io = inc.iocs ?? { ips: [], domains: [], urls: [], files: [], hashes: [], accounts: [] };
    const note = (v: string) => {
      const n = io.notes && Object.prototype.hasOwnProperty.call(io.notes, v) ? io.notes[v]?.[lang] : undefined;
      return typeof n === 'string' ? n : '';
    };
    for (const v of io.ips ?? []) addIoc(l.iocTypes.ip, v, roleOf.get(v) ?? note(v), v);
    for (const v of io.domains ?? []) addIoc(l.iocTypes.domain, v, roleOf.get(v) ?? note(v), defangDomain(v));
    for (const v of io.urls ?? []) addIoc(l.iocTypes.url, v, note(v), defangDomain(defang(v)));
    for (const v of io.files ?? []) addIoc(l.iocTypes.file, v, note(v), v);
    for (const v of io.hashes ?? []) addIoc(l.iocTypes.hash, v, note(v) || hashKind(v), v);
    for (const v of io.accounts ?? []) addIoc(l.iocTypes.account, v, note(v), v);
  }
  if (iocRows.length) {
    out.push({ kind: 'table', head: l.iocHead, rows: iocRows });
    p([l.defangNote], 'note');
  } else p([l.none]);

  h(2, l.techniques, 'attack');
  const techCount = new Map<string, number>();
  for (const inc of incidents) for (const t of inc.techniques ?? []) techCount.set(t, 0);
  const incFindings = new Set(incidents.flatMap((i) => i.findings ?? []));
  for (const f of file.findings ?? []) {
    if (incidents.length && !incFindings.has(f.id)) continue;
    for (const t of f.attack ?? []) techCount.set(t, (techCount.get(t) ?? 0) + 1);
  }
  const order = (id: string) => Math.min(99, ...technique(id).tactics.map((t) => TACTIC_NAMES[t]?.order ?? 99));
  const techs = [...techCount.keys()].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  if (techs.length) {
    out.push({
      kind: 'table',
      head: l.techHead,
      rows: techs.map((id) => [[{ code: id }], [techniqueName(id, lang)], [technique(id).tactics.map((t) => tacticName(t, lang)).join(lang === 'zh' ? '、' : ', ') || '—'], [String(techCount.get(id) ?? 0)]]),
    });
  } else p([l.none]);

  h(2, l.findings, 'findings');
  const maxF = opts.maxFindings ?? 200;
  const fl = [...(file.findings ?? [])].sort((a, b) => a.first.localeCompare(b.first));
  if (fl.length) {
    out.push({
      kind: 'table',
      head: l.findingsHead(zone),
      rows: fl.slice(0, maxF).map((f) => [
        [formatShort(f.first, tz)],
        [{ code: f.id }],
        [{ code: f.detector }],
        [SEVERITY[lang][f.severity] ?? f.severity],
        [OUTCOME[lang][f.outcome] ?? f.outcome],
        [tx(f.summary?.[lang] ?? '')],
        refsInline(f.evidence, names, lang, 3),
      ]),
    });
    if (fl.length > maxF) p([l.findingsCut(maxF, fl.length)], 'note');
  } else p([l.noFindings]);

  h(2, l.evidence, 'evidence');
  if ((file.evidence ?? []).length) {
    out.push({
      kind: 'table',
      cls: 'evidence',
      head: l.evidenceHead,
      rows: file.evidence.map((e) => [
        [{ code: e.id }],
        [{ code: e.path }],
        [e.format],
        [String(e.records)],
        [String(e.errors)],
        [e.first && e.last ? `${formatShort(e.first, tz)} – ${formatShort(e.last, tz)}` : '—'],
        [{ code: e.sha256 }],
      ]),
    });
  } else p([l.none]);

  h(2, l.skipped, 'problems');
  if ((file.skipped ?? []).length) {
    out.push({ kind: 'table', head: l.skippedHead, rows: file.skipped.slice(0, 200).map((s) => [[{ code: s.path }], [s.reason]]) });
  } else p([l.noSkipped]);
  const probs = file.problems ?? [];
  const total = Math.max(file.problems_total ?? 0, probs.length);
  if (total) {
    p([l.problemsSummary(probs.length, total)]);
    // Group identical reasons per evidence, so a thousand damaged packets read as one line.
    const groups = new Map<string, { ev: string; sev: string; where: string; reason: string; n: number }>();
    for (const pr of probs) {
      const key = `${pr.evidence}\u0000${pr.severity}\u0000${pr.reason}`;
      const g = groups.get(key);
      if (g) g.n++;
      else {
        const where = pr.record !== undefined ? `${l.record} ${pr.record}` : pr.offset !== undefined ? `${l.offset} ${pr.offset}` : '—';
        groups.set(key, { ev: names.get(pr.evidence) ?? pr.evidence, sev: pr.severity, where, reason: pr.reason, n: 1 });
      }
    }
    const rows = [...groups.values()].sort((a, b) => b.n - a.n).slice(0, 50);
    out.push({ kind: 'table', head: l.problemsHead, rows: rows.map((g) => [[g.ev], [g.sev], [g.where], [g.reason], [String(g.n)]]) });
  } else p([l.noProblems]);

  return out;
}

function defangDomain(s: string): string {
  // Defang the last dot of the host part: evil.example.com → evil.example[.]com
  return s.replace(/^([^/]*?)\.([A-Za-z]{2,63})(?=$|[/:?#])/, '$1[.]$2').replace(/^(hxxps?:\/\/[^/]*?)\.([A-Za-z]{2,63})(?=$|[/:?#])/, '$1[.]$2');
}

function hashKind(h: string): string {
  const s = h.includes(':') ? h.slice(h.indexOf(':') + 1) : h;
  return s.length === 64 ? 'SHA-256' : s.length === 40 ? 'SHA-1' : s.length === 32 ? 'MD5' : '';
}
