/**
 * net.dns-tunnel — command and control or tunnelling over DNS (T1071.004, T1572): one host
 * asking a resolver for many unique names under one domain whose leftmost labels carry
 * encoded data (iodine, dnscat2, DNS exfiltration), or fetching commands from TXT/NULL
 * records of many names under one domain. RITA's "C2 over DNS" counts unique subdomains per
 * domain (its thresholds: 100 / 500 / 800 / 1000); spoor adds the shape of the names and the
 * record types, so that busy CDN domains are not called tunnels.
 *
 * Not tunnels (documented allowance): DNS blocklist lookups (reversed addresses under
 * spamhaus and kin), anti-virus cloud lookups, reverse lookups (in-addr.arpa / ip6.arpa),
 * service names starting with `_` (SRV, DMARC, DKIM), mDNS `.local`.
 */
import type { SpoorEvent } from '../../core/event.js';
import type { Detector, DetectorContext, DetectorModule, Finding } from '../../core/finding.js';
import { settingsFor } from '../../core/finding.js';
import { asNum, asStrList, BoundedMap, CappedSet, clip, EvidenceSample, str } from './util.js';

const ID = 'net.dns-tunnel';

export const dnsTunnelDefaults = {
  /** Unique names under one domain from one host, with most of them encoded or of tunnel record types (RITA's lowest C2-over-DNS threshold: 100). */
  uniqueSubdomains: 100,
  /** Fraction of those names that must look encoded or ask for TXT/NULL/… for the volume rule. */
  shapeFraction: 0.5,
  /** Unique names under one domain asked for TXT/NULL records (a command channel in TXT answers). */
  txtUniqueNames: 15,
  /** Fraction of that host's queries for the domain that are TXT/NULL. */
  txtFraction: 0.8,
  /** Queries from one host whose subdomain part looks encoded, whatever the domain (dnscat2 direct mode). */
  encodedQueries: 30,
  /** Shortest subdomain part (without dots) that can look encoded. */
  encodedMinChars: 24,
  /** Shannon entropy (bits per character) at or above which a long subdomain looks encoded. */
  encodedEntropy: 3.5,
  /** Domains never reported (blocklist and anti-virus lookup services, large clouds can be added). */
  allowDomains: [
    'spamhaus.org', 'spamcop.net', 'sorbs.net', 'barracudacentral.org', 'surbl.org', 'uribl.com', 'dnswl.org', 'mailspike.net', 'senderscore.com', 'abuseat.org',
    'sophosxl.net', 'avqs.mcafee.com', 'e5.sk', 'avts.mcafee.com', 'trendmicro.com', 'webroot.com',
  ],
  /** Tracked (host, domain) pairs; each keeps at most 2 × the larger name threshold hashes. */
  maxKeys: 20_000,
};

/**
 * File headers encoded in a name: base64 of gzip (H4sI), PE (TVqQ), ZIP (UEsDB), or hex of
 * the same (1f8b08, 4d5a90, 504b0304). One such query is data leaving over DNS.
 */
const FILE_IN_NAME = /(?:^|[.\-_])(?:H4sI|TVqQ|UEsDB|1f8b08|4d5a90|504b0304)/;

const TUNNEL_TYPES = new Set(['TXT', 'NULL', 'KEY', 'PRIVATE', 'ANY', 'CNAME', 'MX']);
const CMD_TYPES = new Set(['TXT', 'NULL']);

/** Registered-domain approximation: last two labels, or three under short second-level labels (co.uk, com.cn). */
export function baseDomain(name: string): string {
  const labels = name.split('.');
  const n = labels.length;
  if (n <= 2) return name;
  const sld = labels[n - 2];
  const tld = labels[n - 1];
  if (tld.length === 2 && sld.length <= 3 && n >= 3) return labels.slice(n - 3).join('.');
  return labels.slice(n - 2).join('.');
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function entropy(s: string): number {
  if (!s) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) counts.set(s.charCodeAt(i), (counts.get(s.charCodeAt(i)) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Does the part left of the base domain look like encoded data (hex, base32, base64-ish)? */
export function encodedSubdomain(sub: string, minChars = 24, minEntropy = 3.5): boolean {
  const flat = sub.replace(/\./g, '');
  if (flat.length < minChars) return false;
  if (/^[0-9a-f]+$/i.test(flat)) return true;
  return entropy(flat) >= minEntropy;
}

interface State {
  src: string;
  base: string;
  first: number;
  last: number;
  queries: number;
  /** Unique names as 32-bit FNV-1a hashes (bounded memory; collisions are negligible at these counts). */
  names: CappedSet<number>;
  samples: string[];
  encoded: number;
  tunnelTypes: number;
  cmdTypes: number;
  types: Record<string, number>;
  resolvers: CappedSet<string>;
  maxLen: number;
  tool?: string;
  /** Queries whose name carries an encoded file header. */
  files: number;
  ev: EvidenceSample;
}

export const dnsTunnelDetector: DetectorModule = {
  id: ID,
  title: { en: 'DNS tunnelling / C2 over DNS', zh: 'DNS 隧道 / DNS 远控通道' },
  attack: ['T1071.004', 'T1572'],
  defaults: dnsTunnelDefaults,
  create(ctx: DetectorContext): Detector {
    const s = settingsFor(ctx, ID, dnsTunnelDefaults);
    const allow = asStrList(s.allowDomains, dnsTunnelDefaults.allowDomains).map((d) => d.toLowerCase());
    const minChars = asNum(s.encodedMinChars, 24);
    const minEnt = asNum(s.encodedEntropy, 3.5);
    const states = new BoundedMap<string, State>(asNum(s.maxKeys, 20_000));
    // enough to pass every threshold, and no more
    const nameCap = Math.max(64, 2 * Math.max(asNum(s.uniqueSubdomains, 100), asNum(s.txtUniqueNames, 15)));
    /** Encoded queries per source whatever the domain (key `src|*`). */
    const mk = (src: string, base: string, ts: number): State => ({
      src,
      base,
      first: ts,
      last: ts,
      queries: 0,
      names: new CappedSet(nameCap),
      samples: [],
      encoded: 0,
      tunnelTypes: 0,
      cmdTypes: 0,
      types: {},
      resolvers: new CappedSet(8),
      maxLen: 0,
      files: 0,
      ev: new EvidenceSample(3, 2, 3),
    });
    const bump = (st: State, e: SpoorEvent, name: string, type: string, enc: boolean, dst: string, ts: number) => {
      st.queries++;
      if (ts < st.first) st.first = ts;
      if (ts > st.last) st.last = ts;
      const isNew = st.names.add(fnv1a(name));
      if (isNew && st.samples.length < 3) st.samples.push(clip(name, 80));
      if (enc) st.encoded++;
      if (TUNNEL_TYPES.has(type)) st.tunnelTypes++;
      if (CMD_TYPES.has(type)) st.cmdTypes++;
      if (type && Object.keys(st.types).length < 12) st.types[type] = (st.types[type] ?? 0) + 1;
      st.resolvers.add(dst);
      if (name.length > st.maxLen) st.maxLen = name.length;
      if (isNew || st.ev.count < 3) st.ev.addEvent(e);
    };

    return {
      id: ID,
      datasets: ['dns'],
      observe(e: SpoorEvent): void {
        const raw = str(e, 'dns.question.name');
        const src = e['source.ip'];
        const dst = e['destination.ip'];
        const ts = e['@timestamp'];
        if (!raw || typeof src !== 'string' || typeof dst !== 'string' || typeof ts !== 'number') return;
        // only queries the host asked (a reply without a query still names the question)
        const name = raw.toLowerCase().replace(/\.$/, '');
        if (name.length < 4 || name.charCodeAt(0) === 95 /* _ */) return;
        if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa') || name.endsWith('.local') || !name.includes('.')) return;
        // a name whose last label is no plausible top-level domain (hex, 30 characters...) has no
        // registered domain at all: dnscat2 "direct" mode talks to the resolver's own address
        const tld = name.slice(name.lastIndexOf('.') + 1);
        const noDomain = name.startsWith('dnscat.') || !/^[a-z][a-z0-9-]{1,23}$/.test(tld);
        const base = noDomain ? '' : baseDomain(name);
        if (!noDomain && allow.some((a) => base === a || name.endsWith('.' + a))) return;
        const sub = noDomain ? name.replace(/^dnscat\./, '') : name.length > base.length ? name.slice(0, name.length - base.length - 1) : '';
        // DNS blocklist style: a reversed IPv4 address in front of the list's domain
        if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(sub)) return;
        const type = str(e, 'dns.question.type') ?? '';
        const enc = encodedSubdomain(sub, minChars, minEnt);
        // case matters for base64: test the name as it was asked
        const fileHdr = FILE_IN_NAME.test(noDomain ? raw : raw.slice(0, Math.max(0, raw.length - base.length)));
        if (!noDomain) {
          const st = states.getOrCreate(`${src}|${base}`, () => mk(src, base, ts));
          bump(st, e, name, type, enc, dst, ts);
          if (fileHdr) {
            st.files++;
            st.ev.key(e.ref && e.ref.uid ? e.ref : { evidence: e.ref?.evidence ?? '?', frame: e.ref?.frame, uid: str(e, 'conn.uid') });
          }
        }
        if (enc) {
          const all = states.getOrCreate(`${src}|*`, () => mk(src, '*', ts));
          if (name.startsWith('dnscat.')) all.tool = 'dnscat2';
          bump(all, e, name, type, enc, dst, ts);
        }
      },
      finish(): Finding[] {
        const out: Finding[] = [];
        const reportedSrc = new Set<string>();
        const uniqMin = asNum(s.uniqueSubdomains, 100);
        const shapeMin = asNum(s.shapeFraction, 0.5);
        const txtMin = asNum(s.txtUniqueNames, 15);
        const txtFrac = asNum(s.txtFraction, 0.8);
        const encMin = asNum(s.encodedQueries, 30);
        // per-domain first, then the per-source encoded aggregate for hosts not already reported
        const ordered = [...states.map.values()].sort((a, b) => (a.base === '*' ? 1 : 0) - (b.base === '*' ? 1 : 0));
        for (const st of ordered) {
          const reasons: string[] = [];
          const uniq = st.names.size;
          if (st.base === '*') {
            if (reportedSrc.has(st.src) || st.encoded < encMin) continue;
            reasons.push(`encoded-queries>=${encMin}`);
          } else {
            const shaped = Math.max(st.encoded, st.tunnelTypes) / Math.max(1, st.queries);
            if (uniq >= uniqMin && shaped >= shapeMin) reasons.push(`unique-subdomains>=${uniqMin}`);
            if (uniq >= txtMin && st.cmdTypes / Math.max(1, st.queries) >= txtFrac) reasons.push(`txt-null-names>=${txtMin}`);
            if (st.files > 0) reasons.push('file-header-in-name');
            if (!reasons.length) continue;
          }
          reportedSrc.add(st.src);
          // a command channel when only the TXT/NULL rule fired; a tunnel when names carry data
          const txt = reasons.length === 1 && reasons[0].startsWith('txt');
          const fileOnly = reasons.length === 1 && reasons[0] === 'file-header-in-name';
          const where = st.base === '*' ? 'no single registered domain' : st.base;
          const typesTxt = Object.entries(st.types)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 4)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          const confidence = fileOnly ? 0.6 : Math.min(0.9, 0.6 + 0.1 * reasons.length + (st.tool ? 0.1 : 0) + (uniq >= 5 * uniqMin ? 0.1 : 0));
          const sample = st.samples;
          out.push({
            id: '',
            detector: ID,
            attack: fileOnly ? ['T1048.003', 'T1071.004'] : st.files ? ['T1071.004', 'T1572', 'T1048.003'] : ['T1071.004', 'T1572'],
            severity: 'high',
            outcome: fileOnly ? 'succeeded' : 'compromised',
            confidence: Math.round(confidence * 100) / 100,
            first: st.first,
            last: st.last,
            src: st.src,
            dst: st.resolvers.values(1)[0],
            host: st.src,
            summary: fileOnly ? {
              en: `${st.src} sent data out in DNS names under ${where}: ${st.files} quer${st.files === 1 ? 'y carries' : 'ies carry'} an encoded file header (gzip/PE/ZIP) in the name (e.g. ${sample[0]}). Exfiltration over DNS; ${st.src} is likely compromised.`,
              zh: `${st.src} 通过 DNS 查询名向 ${where} 外传数据：${st.files} 个查询名中含编码后的文件头（gzip/PE/ZIP），如 ${sample[0]}。疑似利用 DNS 外泄数据，判断 ${st.src} 已失陷。`,
            } : {
              en: `${st.src} ${txt ? 'fetches TXT/NULL records for' : 'sends encoded data in'} ${uniq}${st.names.overflow ? '+' : ''} unique names under ${where} (${st.queries} queries; ${st.encoded} encoded-looking; types ${typesTxt})${st.tool ? `; names match ${st.tool}` : ''}: a ${txt ? 'command channel' : 'tunnel'} over DNS. ${st.src} is likely compromised${st.base !== '*' ? `; ${st.base} is a C2 candidate` : ''}. Examples: ${sample.join(', ')}.`,
              zh: `${st.src} 向${st.base === "*" ? "多个（无注册域名的）" : ` ${where} 下的`} ${uniq}${st.names.overflow ? '+' : ''} 个不同域名发起 DNS 查询（共 ${st.queries} 次，其中 ${st.encoded} 个子域名呈编码特征；记录类型 ${typesTxt}）${st.tool ? `，域名格式符合 ${st.tool}` : ''}，疑似利用 DNS ${txt ? '下发指令（TXT/NULL 记录）' : '隧道传输数据'}。判断 ${st.src} 已失陷${st.base !== '*' ? `，${st.base} 疑似 C2 域名` : ''}。`,
            },
            evidence: st.ev.refs(),
            facts: {
              domain: st.base === '*' ? undefined : st.base,
              reasons,
              queries: st.queries,
              uniqueNames: uniq,
              uniqueNamesCapped: st.names.overflow,
              encodedNames: st.encoded,
              types: st.types,
              resolvers: st.resolvers.values(8),
              longestName: st.maxLen,
              sampleNames: sample,
              tool: st.tool,
              fileHeaderQueries: st.files || undefined,
            },
          });
        }
        return out;
      },
    };
  },
};
