/**
 * STIX 2.1 bundle: identity (spoor), incident, attack-patterns for the
 * techniques, indicators with STIX patterns for the IOCs (ipv4/ipv6
 * addresses, domains, URLs, file hashes, file names) carrying
 * kill_chain_phases (mitre-attack), and relationships (indicator
 * `indicates` attack-pattern, `related-to` incident; attack-pattern
 * `related-to` incident). Ids are deterministic UUIDv5, so re-exporting the
 * same case gives the same ids and importers de-duplicate.
 */
import type { Incident, IncidentFile } from '../incident/types.js';
import { technique, techniqueUrl } from '../render/attack.js';
import { SPOOR_NAMESPACE, firstSeenAddress, ipVersion, parseHash, tacticsOf, techniquesForAddress, uuidv5 } from './common.js';

export type StixObject = Record<string, unknown> & { type: string; id: string; spec_version?: string };
export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

/** Escape a string literal for a STIX pattern ('…' with \\ and \'). */
export function stixString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** STIX timestamps: RFC 3339, UTC, `Z`, millisecond precision. */
function stamp(t: string | null | undefined, fallback: string): string {
  const ms = t ? Date.parse(t) : NaN;
  if (Number.isFinite(ms)) return new Date(ms).toISOString();
  const f = Date.parse(fallback);
  return new Date(Number.isFinite(f) ? f : 0).toISOString();
}

export function toStix(file: IncidentFile): StixBundle {
  const caseId = file.case?.id ?? 'case';
  const created = stamp(file.case?.created, '1970-01-01T00:00:00.000Z');
  const id = (type: string, key: string) => `${type}--${uuidv5(`${type}|${caseId}|${key}`, SPOOR_NAMESPACE)}`;
  const identityId = `identity--${uuidv5('identity|spoor', SPOOR_NAMESPACE)}`;
  const common = (type: string, key: string) => ({ type, spec_version: '2.1', id: id(type, key), created, modified: created, created_by_ref: identityId });
  const objects: StixObject[] = [];
  objects.push({ type: 'identity', spec_version: '2.1', id: identityId, created, modified: created, name: 'spoor', identity_class: 'system', description: 'spoor incident-response investigator' });

  const patterns = new Map<string, StixObject>();
  const relKeys = new Set<string>();
  const rel = (type: string, src: string, dst: string) => {
    const key = `${type}|${src}|${dst}`;
    if (relKeys.has(key)) return;
    relKeys.add(key);
    objects.push({ ...common('relationship', key), relationship_type: type, source_ref: src, target_ref: dst });
  };
  const attackPattern = (tech: string): string => {
    const existing = patterns.get(tech);
    if (existing) return existing.id;
    const info = technique(tech);
    const o: StixObject = {
      ...common('attack-pattern', tech),
      name: info.known ? info.en : tech,
      external_references: [{ source_name: 'mitre-attack', external_id: tech, url: techniqueUrl(tech) }],
      kill_chain_phases: info.tactics.map((t) => ({ kill_chain_name: 'mitre-attack', phase_name: t })),
    };
    patterns.set(tech, o);
    objects.push(o);
    return o.id;
  };

  const seenIndicator = new Set<string>();
  for (const inc of file.incidents ?? []) {
    const incTechs = inc.techniques?.length ? inc.techniques : [...new Set((inc.chain ?? []).map((l) => l.technique))];
    const incidentId = id('incident', inc.id);
    objects.push({
      ...common('incident', inc.id),
      name: inc.title?.en || inc.id,
      description: `${inc.title?.en ?? ''}\n\n${inc.root_cause?.en ?? ''}`.trim(),
      kill_chain_phases: tacticsOf(incTechs).map((t) => ({ kill_chain_name: 'mitre-attack', phase_name: t })),
      labels: [inc.severity],
    });
    for (const t of incTechs) rel('related-to', attackPattern(t), incidentId);

    const addIndicator = (kind: string, value: string, pattern: string, name: string, techs: string[], validFrom: string | null, desc: string) => {
      const key = `${kind}|${value}`;
      const indicatorId = id('indicator', key);
      if (!seenIndicator.has(key)) {
        seenIndicator.add(key);
        const use = techs.length ? techs : incTechs;
        objects.push({
          ...common('indicator', key),
          name,
          description: desc,
          indicator_types: ['malicious-activity'],
          pattern,
          pattern_type: 'stix',
          pattern_version: '2.1',
          valid_from: stamp(validFrom, inc.first ?? created),
          kill_chain_phases: tacticsOf(use).map((t) => ({ kill_chain_name: 'mitre-attack', phase_name: t })),
          confidence: Math.round(Math.max(0, Math.min(1, inc.confidence ?? 0.5)) * 100),
          labels: [kind],
        });
        for (const t of use) rel('indicates', indicatorId, attackPattern(t));
      }
      rel('related-to', indicatorId, incidentId);
    };

    const roleOf = (ip: string) => ((inc.c2 ?? []).includes(ip) ? 'c2' : (inc.attackers ?? []).includes(ip) ? 'attacker' : 'ioc');
    const ips = new Set<string>([...(inc.iocs?.ips ?? []), ...(inc.attackers ?? []), ...(inc.c2 ?? [])]);
    const compromised = new Set((inc.compromised ?? []).flatMap((c) => [c.host, c.ip]));
    for (const ip of ips) {
      const v = ipVersion(ip);
      if (!v || compromised.has(ip)) continue;
      const r = roleOf(ip);
      const label = r === 'c2' ? 'C2 server' : r === 'attacker' ? 'Attacker address' : 'Address';
      addIndicator(
        r,
        ip,
        `[${v === 4 ? 'ipv4-addr' : 'ipv6-addr'}:value = ${stixString(ip)}]`,
        `${label} ${ip}`,
        techniquesForAddress(file, inc, ip),
        firstSeenAddress(file, inc, ip),
        `${label} in ${inc.title?.en ?? inc.id}`,
      );
    }
    for (const d of inc.iocs?.domains ?? []) addIndicator('domain', d, `[domain-name:value = ${stixString(d)}]`, `Domain ${d}`, [], inc.first, `Domain in ${inc.title?.en ?? inc.id}`);
    for (const u of inc.iocs?.urls ?? []) addIndicator('url', u, `[url:value = ${stixString(u)}]`, `URL ${u}`, [], inc.first, `URL in ${inc.title?.en ?? inc.id}`);
    for (const h of inc.iocs?.hashes ?? []) {
      const p = parseHash(h);
      if (!p) continue;
      addIndicator('hash', p.hex, `[file:hashes.${stixString(p.algo)} = ${stixString(p.hex)}]`, `File ${p.algo} ${p.hex}`, [], inc.first, `File hash in ${inc.title?.en ?? inc.id}`);
    }
    for (const f of inc.iocs?.files ?? []) addIndicator('file', f, `[file:name = ${stixString(f)}]`, `File ${f}`, [], inc.first, `File name in ${inc.title?.en ?? inc.id}`);
  }
  return { type: 'bundle', id: `bundle--${uuidv5(`bundle|${caseId}`, SPOOR_NAMESPACE)}`, objects };
}

export type { Incident };
