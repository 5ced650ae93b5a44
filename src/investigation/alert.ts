/**
 * The symptom the customer was told about, as given on the command line or in
 * the config: `outbound-scan 80.66.1.15`, `outbound 80.66.1.15 -> 203.0.113.156`,
 * `inbound 203.0.113.7 -> 80.66.1.15`, `host WIN-SRV01`, or just `A -> B` / `A`.
 */
import type { AlertSpec } from '../incident/types.js';

const KINDS = new Set(['outbound-scan', 'outbound', 'inbound', 'inbound-scan', 'scan', 'host', 'c2', 'beacon', 'connection']);
const ALIASES: Record<string, string> = {
  'outbound_scan': 'outbound-scan',
  'outboundscan': 'outbound-scan',
  'scan-outbound': 'outbound-scan',
  'inbound_scan': 'inbound-scan',
  'beacon': 'outbound',
  'c2': 'outbound',
  'connection': 'outbound',
  '对外扫描': 'outbound-scan',
  '异常外联': 'outbound',
  '外联': 'outbound',
};

/** Parse an alert text; never throws (an unrecognised text gives kind `host` with the first word). */
export function parseAlert(text: string): AlertSpec {
  const raw = String(text ?? '').trim().slice(0, 1000);
  const norm = raw.replace(/→|=>|->/g, ' -> ').replace(/[,;]/g, ' ');
  const toks = norm.split(/\s+/).filter(Boolean);
  let kind = '';
  if (toks.length) {
    const k = toks[0].toLowerCase();
    const mapped = ALIASES[k] ?? (KINDS.has(k) ? k : '');
    if (mapped) {
      kind = mapped;
      toks.shift();
    }
  }
  let src: string | undefined;
  let dst: string | undefined;
  const arrow = toks.indexOf('->');
  if (arrow >= 0) {
    src = toks.slice(0, arrow).find((t) => t !== 'src' && t !== 'from') ?? undefined;
    dst = toks.slice(arrow + 1).find((t) => t !== 'dst' && t !== 'to') ?? undefined;
  } else {
    for (const t of toks) {
      const m = /^(src|dst|from|to)=(.+)$/i.exec(t);
      if (m) {
        if (/^(src|from)$/i.test(m[1])) src = m[2];
        else dst = m[2];
      } else if (!src) src = t;
      else if (!dst) dst = t;
    }
  }
  const clean = (s: string | undefined) => (s ? s.replace(/^\[|\]$/g, '').replace(/:(\d+)$/, (all, p) => (s.split(':').length === 2 ? '' : all)) : undefined);
  src = clean(src);
  dst = clean(dst);
  if (!kind) kind = dst ? 'outbound' : 'host';
  if (kind === 'inbound' || kind === 'inbound-scan') {
    // `inbound X` names the internal host that receives; keep it as dst.
    if (src && !dst && arrow < 0) {
      dst = src;
      src = undefined;
    }
  }
  const out: AlertSpec = { kind, text: raw };
  if (src) out.src = src;
  if (dst) out.dst = dst;
  return out;
}

/** The internal host the alert is about (the one the customer owns). */
export function alertSubject(a: AlertSpec): string | undefined {
  if (a.kind === 'inbound' || a.kind === 'inbound-scan') return a.dst ?? a.src;
  return a.src ?? a.dst;
}
