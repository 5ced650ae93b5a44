/**
 * Loading Sigma rules (specification 2.0) from YAML files: detection rules and
 * correlation rules, each compiled once. Rules that use something spoor cannot
 * evaluate are returned in `unsupported` with the reason, never dropped silently.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { compileDetection, SigmaUnsupported, type CompileOptions, type CompiledDetection } from './compile.js';
import { mapLogsource, type Logsource, type LogsourceVariant } from './logsource.js';
import type { Severity } from '../core/finding.js';

export type SigmaLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';

export interface RuleMeta {
  id: string;
  title: string;
  name?: string;
  status?: string;
  level: SigmaLevel;
  author: string;
  description?: string;
  references: string[];
  tags: string[];
  /** ATT&CK technique ids from `attack.tXXXX[.YYY]` tags, upper-case. */
  attack: string[];
  /** Rule file. */
  path: string;
  /** Link to the rule (SigmaHQ GitHub URL when the file is in a SigmaHQ tree, else the path). */
  link: string;
  /** Licence note: SigmaHQ rules are under the Detection Rule License 1.1. */
  license: string;
}

export interface CompiledVariant {
  variant: LogsourceVariant;
  det: CompiledDetection;
}

export interface DetectionRule extends RuleMeta {
  kind: 'detection';
  logsource: Logsource;
  variants: CompiledVariant[];
}

export type CorrelationType = 'event_count' | 'value_count' | 'temporal' | 'temporal_ordered';

export interface CorrelationRule extends RuleMeta {
  kind: 'correlation';
  type: CorrelationType;
  /** Referenced rule ids or names, as written. */
  rules: string[];
  groupBy: string[];
  /** Milliseconds. */
  timespan: number;
  condition: { gt?: number; gte?: number; lt?: number; lte?: number; eq?: number; field?: string };
  /** alias → (rule id/name → field). */
  aliases: Record<string, Record<string, string>>;
  generate: boolean;
}

export type SigmaRule = DetectionRule | CorrelationRule;

export interface Unsupported {
  path: string;
  title: string;
  id?: string;
  reason: string;
}

export interface LoadResult {
  rules: SigmaRule[];
  unsupported: Unsupported[];
  /** Files that were read. */
  files: number;
}

export interface LoadOptions extends CompileOptions {
  /** Keep rules whose logsource has no EVTX mapping out of `unsupported` (default false: report them). */
  quietLogsource?: boolean;
}

const LEVELS: SigmaLevel[] = ['informational', 'low', 'medium', 'high', 'critical'];

export function levelRank(l: string): number {
  const i = LEVELS.indexOf(l as SigmaLevel);
  return i < 0 ? 2 : i;
}

export function levelToSeverity(l: string): Severity {
  switch (l) {
    case 'informational':
      return 'info';
    case 'low':
      return 'low';
    case 'high':
      return 'high';
    case 'critical':
      return 'critical';
    default:
      return 'medium';
  }
}

export function ruleLink(path: string): string {
  const parts = path.split(sep);
  const i = parts.findIndex((p) => /^(rules|rules-[a-z-]+|deprecated|unsupported)$/.test(p));
  if (i >= 0) return 'https://github.com/SigmaHQ/sigma/blob/master/' + parts.slice(i).join('/');
  return path;
}

function listYaml(p: string, out: string[]): void {
  let st;
  try {
    st = statSync(p);
  } catch {
    out.push(p); // reported by the reader as missing
    return;
  }
  if (st.isDirectory()) {
    for (const e of readdirSync(p).sort()) {
      if (e.startsWith('.')) continue;
      const q = join(p, e);
      let s2;
      try {
        s2 = statSync(q);
      } catch {
        continue;
      }
      if (s2.isDirectory()) listYaml(q, out);
      else if (/\.ya?ml$/i.test(e)) out.push(q);
    }
  } else out.push(p);
}

const TIMESPAN_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, M: 30 * 86_400_000, y: 365 * 86_400_000 };

export function parseTimespan(s: unknown): number {
  const m = /^\s*(\d+)\s*([smhdwMy])\s*$/.exec(String(s ?? ''));
  if (!m) throw new SigmaUnsupported(`timespan '${String(s)}' is not <number><s|m|h|d|w|M|y>`);
  return +m[1] * TIMESPAN_UNITS[m[2]];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : v === undefined || v === null ? undefined : String(v);
}

function metaOf(doc: Record<string, unknown>, path: string): RuleMeta {
  const tags = Array.isArray(doc.tags) ? doc.tags.map(String) : [];
  const attack = [
    ...new Set(
      tags
        .map((t) => /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t)?.[1]?.toUpperCase())
        .filter((x): x is string => !!x),
    ),
  ];
  const level = (str(doc.level) ?? 'medium').toLowerCase();
  return {
    id: str(doc.id) ?? '',
    title: str(doc.title) ?? '(untitled)',
    name: str(doc.name),
    status: str(doc.status),
    level: (LEVELS.includes(level as SigmaLevel) ? level : 'medium') as SigmaLevel,
    author: str(doc.author) ?? 'unknown',
    description: str(doc.description),
    references: Array.isArray(doc.references) ? doc.references.map(String) : [],
    tags,
    attack,
    path,
    link: ruleLink(path),
    license: 'DRL 1.1',
  };
}

function compileRuleDoc(doc: Record<string, unknown>, path: string, opts: LoadOptions): SigmaRule {
  const meta = metaOf(doc, path);
  if (doc.correlation !== undefined) {
    const c = doc.correlation as Record<string, unknown>;
    if (!c || typeof c !== 'object') throw new SigmaUnsupported('correlation section is not a map');
    const type = str(c.type) as CorrelationType;
    if (!['event_count', 'value_count', 'temporal', 'temporal_ordered'].includes(type)) throw new SigmaUnsupported(`correlation type '${String(c.type)}' unknown`);
    const rules = Array.isArray(c.rules) ? c.rules.map(String) : c.rules !== undefined ? [String(c.rules)] : [];
    if (!rules.length) throw new SigmaUnsupported('correlation without rules');
    const groupBy = Array.isArray(c['group-by']) ? (c['group-by'] as unknown[]).map(String) : c['group-by'] !== undefined ? [String(c['group-by'])] : [];
    const timespan = parseTimespan(c.timespan ?? c.timeframe);
    const condRaw = (c.condition ?? {}) as Record<string, unknown>;
    const condition: CorrelationRule['condition'] = {};
    for (const k of ['gt', 'gte', 'lt', 'lte', 'eq'] as const) if (condRaw[k] !== undefined) condition[k] = Number(condRaw[k]);
    if (condRaw.field !== undefined) condition.field = String(condRaw.field);
    if ((type === 'event_count' || type === 'value_count') && Object.keys(condition).filter((k) => k !== 'field').length === 0)
      throw new SigmaUnsupported(`${type} correlation without a numeric condition`);
    if (type === 'value_count' && !condition.field) throw new SigmaUnsupported('value_count correlation without condition.field');
    const aliases: CorrelationRule['aliases'] = {};
    if (c.aliases && typeof c.aliases === 'object') {
      for (const [a, m] of Object.entries(c.aliases as Record<string, unknown>)) {
        if (m && typeof m === 'object') aliases[a] = Object.fromEntries(Object.entries(m as Record<string, unknown>).map(([r, f]) => [r, String(f)]));
      }
    }
    const generate = c.generate === true || doc.generate === true;
    return { ...meta, kind: 'correlation', type, rules, groupBy, timespan, condition, aliases, generate };
  }
  const ls = (doc.logsource ?? {}) as Logsource;
  const mapped = mapLogsource(ls);
  if (!Array.isArray(mapped)) throw new SigmaUnsupported(mapped.reason);
  if (!doc.detection) throw new SigmaUnsupported('no detection section');
  const variants: CompiledVariant[] = mapped.map((variant) => ({ variant, det: compileDetection(doc.detection as Record<string, unknown>, variant.fieldMap, opts) }));
  return { ...meta, kind: 'detection', logsource: ls, variants };
}

/** Load and compile rules from files and folders (recursively, `.yml`/`.yaml`). */
export function loadSigmaRules(paths: string[], opts: LoadOptions = {}): LoadResult {
  const files: string[] = [];
  for (const p of paths) listYaml(p, files);
  const rules: SigmaRule[] = [];
  const unsupported: Unsupported[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      unsupported.push({ path: f, title: '(unreadable file)', reason: (e as Error).message });
      continue;
    }
    rules.push(...parseSigmaYaml(text, f, opts, unsupported));
  }
  return { rules, unsupported, files: files.length };
}

/** Parse one YAML text (possibly several documents). Problems go to `unsupported`. */
export function parseSigmaYaml(text: string, path: string, opts: LoadOptions = {}, unsupported: Unsupported[] = []): SigmaRule[] {
  const out: SigmaRule[] = [];
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch (e) {
    unsupported.push({ path, title: '(YAML)', reason: `YAML not readable: ${(e as Error).message}` });
    return out;
  }
  const list = Array.isArray(docs) ? docs : [docs];
  let global: Record<string, unknown> | null = null;
  for (const d of list) {
    if ('errors' in d && d.errors.length) {
      unsupported.push({ path, title: '(YAML)', reason: `YAML error: ${d.errors[0].message.split('\n')[0]}` });
      continue;
    }
    let doc = d.toJS({ maxAliasCount: 100 }) as Record<string, unknown> | null;
    if (!doc || typeof doc !== 'object') continue;
    if (doc.action === 'global') {
      global = doc;
      continue;
    }
    if (doc.action === 'reset') {
      global = null;
      continue;
    }
    if (global) doc = deepMerge(global, doc);
    if (!doc.detection && !doc.correlation && !doc.title) continue;
    try {
      out.push(compileRuleDoc(doc, path, opts));
    } catch (e) {
      if (e instanceof SigmaUnsupported) {
        unsupported.push({ path, title: str(doc.title) ?? '(untitled)', id: str(doc.id), reason: e.message });
      } else {
        unsupported.push({ path, title: str(doc.title) ?? '(untitled)', id: str(doc.id), reason: `could not compile: ${(e as Error).message}` });
      }
    }
  }
  return out;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  delete out.action;
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    if (av && v && typeof av === 'object' && typeof v === 'object' && !Array.isArray(av) && !Array.isArray(v)) out[k] = deepMerge(av as Record<string, unknown>, v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}
