/** Helpers shared by the exports: deterministic UUIDv5, evidence labels, IOC context. */
import { createHash } from 'node:crypto';
import { ipToBigInt } from '../core/homenet.js';
import type { FindingEntry, Incident, IncidentFile } from '../incident/types.js';
import { technique } from '../render/attack.js';

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidv5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`bad UUID namespace ${namespace}`);
  const h = createHash('sha1').update(ns).update(Buffer.from(name, 'utf8')).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** spoor's own namespace for STIX ids (uuidv5('spoor', URL namespace)). */
export const SPOOR_NAMESPACE = uuidv5('https://github.com/spoor-ir/spoor', '6ba7b811-9dad-11d1-80b4-00c04fd430c8');

/** Parsed address: 4 or 6, or null when the text is not an IP address. */
export function ipVersion(s: string): 4 | 6 | null {
  const p = ipToBigInt(s.trim());
  return p ? (p.v6 ? 6 : 4) : null;
}

export function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

/** Findings by id. */
export function findingIndex(file: IncidentFile): Map<string, FindingEntry> {
  return new Map((file.findings ?? []).map((f) => [f.id, f]));
}

/** Techniques whose findings or chain links mention this address (as src/dst/host/from/to). */
export function techniquesForAddress(file: IncidentFile, inc: Incident | null, addr: string): string[] {
  const out = new Set<string>();
  for (const f of file.findings ?? []) if (f.src === addr || f.dst === addr || f.host === addr) for (const t of f.attack ?? []) out.add(t);
  if (inc) for (const l of inc.chain ?? []) if (l.from === addr || l.to === addr) out.add(l.technique);
  return [...out];
}

/** Earliest time an address appears in findings or chain links. */
export function firstSeenAddress(file: IncidentFile, inc: Incident | null, addr: string): string | null {
  let first: string | null = null;
  const see = (t: string | undefined) => {
    if (t && (!first || t < first)) first = t;
  };
  for (const f of file.findings ?? []) if (f.src === addr || f.dst === addr || f.host === addr) see(f.first);
  if (inc) for (const l of inc.chain ?? []) if (l.from === addr || l.to === addr) see(l.time);
  return first;
}

/** Unique tactics (ATT&CK short names) of a set of techniques, in first-seen order. */
export function tacticsOf(techs: string[]): string[] {
  const out: string[] = [];
  for (const t of techs) for (const ta of technique(t).tactics) if (!out.includes(ta)) out.push(ta);
  return out;
}

/** Normalise a hash IOC (`sha256:abc…` or bare hex) to {algo, hex}, or null. */
export function parseHash(s: string): { algo: 'MD5' | 'SHA-1' | 'SHA-256' | 'SHA-512'; hex: string } | null {
  const v = s.includes(':') ? s.slice(s.indexOf(':') + 1) : s;
  const hex = v.trim().toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return null;
  const algo = hex.length === 32 ? 'MD5' : hex.length === 40 ? 'SHA-1' : hex.length === 64 ? 'SHA-256' : hex.length === 128 ? 'SHA-512' : null;
  return algo ? { algo, hex } : null;
}

const SEV_SCORE: Record<string, number> = { info: 10, low: 25, medium: 50, high: 75, critical: 100 };
export function severityScore(s: string): number {
  return SEV_SCORE[s] ?? 50;
}
