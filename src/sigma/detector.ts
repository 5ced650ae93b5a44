/**
 * Sigma matches as findings: `spoor investigate --sigma DIR` adds this module.
 * One finding per rule and host (counts, first/last, a bounded evidence sample);
 * each names the rule's title and author (Detection Rule License 1.1 requires the
 * author in every view of a match).
 */
import type { EvidenceRef, SpoorEvent } from '../core/event.js';
import type { Detector, DetectorModule, Finding } from '../core/finding.js';
import { SigmaEngine, type SigmaHit } from './engine.js';
import { levelToSeverity, type RuleMeta, type SigmaRule } from './rules.js';

export interface SigmaDetectorOptions {
  /** Minimum rule level (default informational: all). */
  minLevel?: string;
  /** Evidence refs kept per finding (default 20). */
  sample?: number;
}

interface Group {
  rule: RuleMeta;
  host: string;
  count: number;
  first: number;
  last: number;
  refs: EvidenceRef[];
  fields: Record<string, string>[];
  correlation?: SigmaHit['correlation'][];
}

const CONFIDENCE: Record<string, number> = { informational: 0.3, low: 0.4, medium: 0.55, high: 0.7, critical: 0.85 };

export function sigmaSourceNote(rule: RuleMeta): string {
  return `Sigma rule "${rule.title}" by ${rule.author} (${rule.link}; Detection Rule License 1.1)`;
}

export function sigmaDetectorModule(rules: readonly SigmaRule[], opts: SigmaDetectorOptions = {}): DetectorModule {
  const attack = [...new Set(rules.flatMap((r) => r.attack))].sort();
  return {
    id: 'sigma',
    title: { en: 'Sigma rules', zh: 'Sigma 规则' },
    attack,
    defaults: { minLevel: opts.minLevel ?? 'informational', sample: opts.sample ?? 20 },
    create(ctx): Detector {
      const s = { minLevel: opts.minLevel ?? 'informational', sample: opts.sample ?? 20, ...(ctx.settings.sigma ?? {}) } as { minLevel: string; sample: number };
      const engine = new SigmaEngine(rules, { minLevel: s.minLevel });
      const groups = new Map<string, Group>();
      const add = (h: SigmaHit) => {
        const key = (h.rule.id || h.rule.title) + '\u0000' + h.computer;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { rule: h.rule, host: h.computer, count: 0, first: h.time, last: h.time, refs: [], fields: [] }));
        g.count += h.correlation ? h.correlation.count : 1;
        const first = h.correlation ? h.correlation.first : h.time;
        if (first < g.first) g.first = first;
        if (h.time > g.last) g.last = h.time;
        const refs = h.correlation ? h.correlation.refs : [h.ref];
        for (const r of refs) if (g.refs.length < s.sample) g.refs.push(r);
        if (g.fields.length < 3) g.fields.push(h.fields);
        if (h.correlation) (g.correlation ??= []).length < 10 && g.correlation!.push(h.correlation);
      };
      return {
        id: 'sigma',
        datasets: ['evtx'],
        observe(ev: SpoorEvent) {
          engine.match(ev, add);
        },
        finish(): Finding[] {
          engine.finish(add);
          const out: Finding[] = [];
          for (const g of groups.values()) {
            const r = g.rule;
            const n = g.count;
            out.push({
              id: '',
              detector: 'sigma',
              attack: r.attack,
              severity: levelToSeverity(r.level),
              outcome: 'attempt',
              confidence: CONFIDENCE[r.level] ?? 0.5,
              first: g.first,
              last: g.last,
              host: g.host || undefined,
              summary: {
                en: `Sigma rule "${r.title}" (by ${r.author}) matched ${n} event${n === 1 ? '' : 's'}${g.host ? ` on ${g.host}` : ''}`,
                zh: `Sigma 规则“${r.title}”（作者 ${r.author}）在${g.host ? ` ${g.host} 上` : ''}命中 ${n} 条事件`,
              },
              evidence: g.refs,
              facts: {
                rule_id: r.id,
                title: r.title,
                author: r.author,
                level: r.level,
                status: r.status,
                link: r.link,
                tags: r.tags,
                count: n,
                matched_fields: g.fields,
                ...(g.correlation ? { correlation: g.correlation } : {}),
                license: 'DRL 1.1',
                source: sigmaSourceNote(r),
              },
            });
          }
          out.sort((a, b) => a.first - b.first);
          return out;
        },
      };
    },
  };
}
