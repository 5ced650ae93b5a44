/**
 * ids.alert — alerts of a network IDS (Suricata EVE `alert` records, dataset `alert`)
 * as findings of their own, like antivirus detections on hosts.
 *
 * One finding per (signature, source, destination), with the number of alerts, the
 * first and last time, and up to `maxRefs` cited lines. A signature is a claim by a
 * rule writer, not proof: confidence is `confidence` (default 0.6) and the outcome is
 * `attempt`, or `failed` when the IDS blocked every packet it alerted on (IPS mode).
 * Severity follows Suricata's priority (1 high, 2 medium, 3 low, 4 info). The ATT&CK
 * technique comes from the signature and class text (`techniqueOf`); signatures that
 * name none are kept with no technique.
 *
 * Settings: `minPriority` (drop alerts of a larger priority number, default 3: info-level
 * priority-4 alerts are left in the store for search), `ignoreSids` (signature ids to drop,
 * e.g. a site's known-noisy rules).
 */
import type { SpoorEvent, EvidenceRef } from '../../core/event.js';
import { settingsFor, type DetectorContext, type DetectorModule, type Finding, type Severity } from '../../core/finding.js';

export const ID = 'ids.alert';

const DEFAULTS = { minPriority: 3, ignoreSids: [] as (string | number)[], confidence: 0.6, maxRefs: 20 };

const RULES: [RegExp, string][] = [
  [/cobalt ?strike|beacon|\bc2\b|command and control|cnc|sliver|metasploit|meterpreter|empire|trojan|malware|backdoor|\brat\b/i, 'T1071'],
  [/coin ?miner|crypto ?currency miner|stratum|xmrig|monero|mining pool/i, 'T1496'],
  [/log4j|log4shell|jndi|spring4shell|springshell|cve-\d{4}-\d+|struts|ognl|weblogic|thinkphp|fastjson|exploit|remote code execution|\brce\b|sql injection|sqli|directory traversal|path traversal|web application attack/i, 'T1190'],
  [/web ?shell|china ?chopper|behinder|godzilla|antsword/i, 'T1505.003'],
  [/brute ?force|password guess|login attempt|failed login|excessive (?:login|auth)/i, 'T1110'],
  [/\bscan|nmap|masscan|zmap|sweep|network scan|probe/i, 'T1046'],
  [/psexec|remote service|svcctl|smb.*(?:admin\$|exec)/i, 'T1569.002'],
  [/dns tunnel|\bdga\b|iodine|dnscat/i, 'T1071.004'],
  [/executable download|exe download|pe download|\.exe\b.*(?:download|http)|downloader/i, 'T1105'],
  [/mimikatz|credential|lsass|kerberoast/i, 'T1003'],
];

/** ATT&CK technique named by a signature's text and class, or none. */
export function techniqueOf(signature: string, category: string): string[] {
  const text = `${signature} ${category}`;
  for (const [re, t] of RULES) if (re.test(text)) return [t];
  if (/network trojan|trojan activity/i.test(category)) return ['T1071'];
  if (/administrator privilege gain|user privilege gain/i.test(category)) return ['T1190'];
  if (/detection of a network scan|attempted information leak/i.test(category)) return ['T1046'];
  return [];
}

/** CVE ids named by a signature, as the `cves` fact the investigation reads. */
function cvesOf(signature: string): { cves?: string[] } {
  const ids = [...new Set([...signature.matchAll(/CVE[-_ ](\d{4})[-_ ](\d{4,7})/gi)].map((m) => `CVE-${m[1]}-${m[2]}`))];
  return ids.length ? { cves: ids } : {};
}

function severityOf(priority: number): Severity {
  if (priority <= 1) return 'high';
  if (priority === 2) return 'medium';
  if (priority === 3) return 'low';
  return 'info';
}

interface Group {
  sid: string;
  signature: string;
  category: string;
  priority: number;
  src?: string;
  dst?: string;
  dport?: number;
  count: number;
  blocked: number;
  first: number;
  last: number;
  refs: EvidenceRef[];
  sample: Record<string, unknown>;
}

export const idsAlert: DetectorModule = {
  id: ID,
  title: { en: 'Network IDS alerts', zh: '入侵检测告警' },
  attack: ['T1071', 'T1496', 'T1190', 'T1505.003', 'T1110', 'T1046', 'T1569.002', 'T1105', 'T1003'],
  defaults: DEFAULTS,
  create(ctx: DetectorContext) {
    const s = settingsFor(ctx, ID, DEFAULTS);
    const ignore = new Set((s.ignoreSids ?? []).map(String));
    const groups = new Map<string, Group>();
    const maxGroups = 100_000;
    return {
      id: ID,
      datasets: ['alert'],
      observe(e: SpoorEvent) {
        const sid = String(e['rule.id'] ?? '');
        if (ignore.has(sid)) return;
        const priority = typeof e['alert.severity'] === 'number' ? (e['alert.severity'] as number) : 3;
        if (priority > s.minPriority) return;
        const src = e['source.ip'] as string | undefined;
        const dst = e['destination.ip'] as string | undefined;
        const key = `${sid}|${src ?? ''}|${dst ?? ''}`;
        let g = groups.get(key);
        if (!g) {
          if (groups.size >= maxGroups) return;
          g = {
            sid,
            signature: String(e['rule.name'] ?? `signature ${sid}`),
            category: String(e['rule.category'] ?? ''),
            priority,
            src,
            dst,
            dport: e['destination.port'] as number | undefined,
            count: 0,
            blocked: 0,
            first: e['@timestamp'],
            last: e['@timestamp'],
            refs: [],
            sample: {},
          };
          for (const k of ['url.original', 'url.domain', 'http.request.method', 'user_agent.original', 'tls.client.server_name', 'dns.question.name']) {
            if (e[k] !== undefined) g.sample[k] = e[k];
          }
          groups.set(key, g);
        }
        g.count++;
        if (e['event.action'] === 'blocked') g.blocked++;
        if (e['@timestamp'] < g.first) g.first = e['@timestamp'];
        if (e['@timestamp'] > g.last) g.last = e['@timestamp'];
        if (g.refs.length < s.maxRefs) g.refs.push(e.ref);
      },
      finish(): Finding[] {
        const out: Finding[] = [];
        for (const g of groups.values()) {
          const attack = techniqueOf(g.signature, g.category);
          const where = `${g.src ?? '?'} → ${g.dst ?? '?'}${g.dport !== undefined ? `:${g.dport}` : ''}`;
          const times = g.count === 1 ? '' : ` (${g.count} alerts)`;
          const timesZh = g.count === 1 ? '' : `（共 ${g.count} 次）`;
          out.push({
            id: '',
            detector: ID,
            attack,
            severity: severityOf(g.priority),
            outcome: g.blocked === g.count ? 'failed' : 'attempt',
            confidence: s.confidence,
            first: g.first,
            last: g.last,
            src: g.src,
            dst: g.dst,
            host: g.dst,
            summary: {
              en: `IDS alert "${g.signature}" on ${where}${times}`,
              zh: `入侵检测告警“${g.signature}”：${where}${timesZh}`,
            },
            evidence: g.refs,
            facts: { sid: g.sid, signature: g.signature, category: g.category, priority: g.priority, alerts: g.count, blocked: g.blocked, ...cvesOf(g.signature), ...g.sample },
          });
        }
        out.sort((a, b) => a.first - b.first);
        return out;
      },
    };
  },
};
