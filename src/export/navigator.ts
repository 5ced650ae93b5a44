/**
 * MITRE ATT&CK Navigator layer, format 4.5: the incident's techniques, each
 * scored by the highest severity of the findings that assert it, coloured,
 * and commented with counts, first time and hosts.
 */
import type { IncidentFile } from '../incident/types.js';
import { technique } from '../render/attack.js';
import { severityScore } from './common.js';

export const NAVIGATOR_VERSIONS = { attack: '16', navigator: '5.1.0', layer: '4.5' } as const;

const COLOURS: [number, string][] = [
  [100, '#d62728'],
  [75, '#ff7f0e'],
  [50, '#ffbb78'],
  [25, '#ffe8a0'],
  [0, '#e0e0e0'],
];
function colourFor(score: number): string {
  for (const [min, c] of COLOURS) if (score >= min) return c;
  return '#e0e0e0';
}

export interface NavigatorTechnique {
  techniqueID: string;
  tactic?: string;
  score?: number;
  color?: string;
  comment?: string;
  enabled: boolean;
  showSubtechniques?: boolean;
  metadata?: { name: string; value: string }[];
}

export interface NavigatorLayer {
  name: string;
  versions: { attack: string; navigator: string; layer: string };
  domain: 'enterprise-attack';
  description: string;
  filters: { platforms: string[] };
  sorting: number;
  layout: Record<string, unknown>;
  hideDisabled: boolean;
  techniques: NavigatorTechnique[];
  gradient: { colors: string[]; minValue: number; maxValue: number };
  legendItems: { label: string; color: string }[];
  metadata: { name: string; value: string }[];
  showTacticRowBackground: boolean;
  tacticRowBackground: string;
  selectTechniquesAcrossTactics: boolean;
  selectSubtechniquesWithParent: boolean;
  selectVisibleTechniques: boolean;
}

export function toNavigator(file: IncidentFile): NavigatorLayer {
  const incidents = file.incidents ?? [];
  const incFindings = new Set(incidents.flatMap((i) => i.findings ?? []));
  const techs = new Map<string, { score: number; n: number; first: string | null; hosts: Set<string>; summaries: string[] }>();
  const touch = (t: string) => {
    let e = techs.get(t);
    if (!e) techs.set(t, (e = { score: 0, n: 0, first: null, hosts: new Set(), summaries: [] }));
    return e;
  };
  for (const inc of incidents) for (const t of inc.techniques ?? []) touch(t);
  for (const f of file.findings ?? []) {
    if (incidents.length && !incFindings.has(f.id)) continue;
    for (const t of f.attack ?? []) {
      const e = touch(t);
      e.n++;
      e.score = Math.max(e.score, severityScore(f.severity));
      if (!e.first || f.first < e.first) e.first = f.first;
      for (const h of [f.host, f.src, f.dst]) if (h) e.hosts.add(h);
      if (e.summaries.length < 2 && f.summary?.en) e.summaries.push(f.summary.en);
    }
  }
  const out: NavigatorTechnique[] = [];
  const parents = new Set<string>();
  for (const [id, e] of [...techs].sort((a, b) => a[0].localeCompare(b[0]))) {
    const info = technique(id);
    const score = e.score || 50;
    const hosts = [...e.hosts].slice(0, 6);
    const comment = [
      `${e.n} finding${e.n === 1 ? '' : 's'}`,
      e.first ? `first ${e.first}` : '',
      hosts.length ? `hosts: ${hosts.join(', ')}` : '',
      ...e.summaries,
    ]
      .filter(Boolean)
      .join('; ')
      .slice(0, 1000);
    const base = { techniqueID: id, score, color: colourFor(score), comment, enabled: true, metadata: [{ name: 'findings', value: String(e.n) }] };
    if (info.tactics.length) for (const tactic of info.tactics) out.push({ ...base, tactic });
    else out.push(base);
    if (id.includes('.')) parents.add(id.split('.')[0]);
  }
  for (const p of parents) {
    if (techs.has(p)) {
      for (const t of out) if (t.techniqueID === p) t.showSubtechniques = true;
      continue;
    }
    const tactics = technique(p).tactics;
    if (tactics.length) for (const tactic of tactics) out.push({ techniqueID: p, tactic, enabled: true, showSubtechniques: true });
    else out.push({ techniqueID: p, enabled: true, showSubtechniques: true });
  }
  const caseId = file.case?.id ?? 'case';
  const title = incidents[0]?.title?.en;
  return {
    name: `spoor ${caseId}`,
    versions: { ...NAVIGATOR_VERSIONS },
    domain: 'enterprise-attack',
    description: title ? `${title} (spoor case ${caseId})` : `spoor case ${caseId}: techniques of the findings`,
    filters: { platforms: ['Windows', 'Linux', 'macOS', 'Network Devices'] },
    sorting: 0,
    layout: { layout: 'side', aggregateFunction: 'max', showID: true, showName: true, showAggregateScores: false, countUnscored: false, expandedSubtechniques: 'annotated' },
    hideDisabled: false,
    techniques: out,
    gradient: { colors: ['#ffffff', '#ff6666'], minValue: 0, maxValue: 100 },
    legendItems: [
      { label: 'critical finding', color: '#d62728' },
      { label: 'high', color: '#ff7f0e' },
      { label: 'medium', color: '#ffbb78' },
      { label: 'low', color: '#ffe8a0' },
    ],
    metadata: [
      { name: 'case', value: caseId },
      { name: 'generator', value: `spoor ${file.case?.spoor_version ?? ''}`.trim() },
    ],
    showTacticRowBackground: false,
    tacticRowBackground: '#dddddd',
    selectTechniquesAcrossTactics: true,
    selectSubtechniquesWithParent: false,
    selectVisibleTechniques: false,
  };
}
