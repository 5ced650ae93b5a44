/**
 * Suppression of benign regular traffic (issue item 8). Periodic monitoring,
 * update checks, DNS/NTP resolvers and backup jobs look regular too; these
 * allowances keep them from becoming C2 findings. All lists are configurable
 * through settings['net.c2'] (see docs/DETECTORS-NETWORK.md).
 */
import { parseCidr, cidrContains, type Cidr } from '../../core/homenet.js';

export const allowDefaults = {
  /** Domain suffixes of well-known update, time, telemetry and certificate services. */
  allowDomains: [
    'windowsupdate.com',
    'update.microsoft.com',
    'delivery.mp.microsoft.com',
    'msftncsi.com',
    'msftconnecttest.com',
    'time.windows.com',
    'ntp.org',
    'time.apple.com',
    'apple.com',
    'icloud.com',
    'gstatic.com',
    'googleapis.com',
    'clients2.google.com',
    'ubuntu.com',
    'canonical.com',
    'debian.org',
    'centos.org',
    'fedoraproject.org',
    'digicert.com',
    'ocsp.sectigo.com',
    'lencr.org',
    'letsencrypt.org',
    'globalsign.com',
    'verisign.com',
    'symcd.com',
    'mozilla.com',
    'mozilla.net',
    'windows.com',
    'office.com',
    'office365.com',
    'skype.com',
    'teams.microsoft.com',
  ],
  /** Addresses never scored (e.g. the site's upstream resolvers, backup target). */
  allowIps: [] as string[],
  allowCidrs: [] as string[],
  /** Destination ports not scored: DNS, NTP, NetBIOS, mDNS, DHCP, SNMP traps. */
  ignorePorts: [53, 123, 137, 138, 5353, 67, 68, 162],
  /** Score internal → internal pairs too (monitoring lives there; off by default, as in RITA's usual setup). */
  scoreInternalPeers: false,
  /** "Many hosts talk to it the same way": suppressed when at least this many internal hosts… */
  prevalenceMinHosts: 5,
  /** …and at least this fraction of the internal hosts seen contact the destination. */
  prevalenceFraction: 0.5,
  /** Backup-shaped series: median originator bytes per connection at or above this is bulk, not beaconing. */
  bulkBytes: 1_048_576,
};

export type AllowSettings = typeof allowDefaults;

export class Allowance {
  private readonly domains: string[];
  private readonly ips: Set<string>;
  private readonly cidrs: Cidr[];
  readonly ports: Set<number>;
  constructor(s: Partial<AllowSettings>) {
    const d = s.allowDomains ?? allowDefaults.allowDomains;
    this.domains = d.map((x) => x.toLowerCase().replace(/^\*?\./, ''));
    this.ips = new Set(s.allowIps ?? []);
    this.cidrs = [];
    for (const c of s.allowCidrs ?? []) {
      try {
        this.cidrs.push(parseCidr(c));
      } catch {
        /* a bad entry in the config is ignored */
      }
    }
    this.ports = new Set(s.ignorePorts ?? allowDefaults.ignorePorts);
  }
  /** Why `ip` (known by `names`) is allowed, or undefined. */
  why(ip: string, names: Iterable<string>): string | undefined {
    if (this.ips.has(ip)) return `allow-listed address ${ip}`;
    for (const c of this.cidrs) if (cidrContains(c, ip)) return `allow-listed network ${c.text}`;
    for (const n of names) {
      const nl = n.toLowerCase().replace(/\.$/, '');
      for (const d of this.domains) if (nl === d || nl.endsWith('.' + d)) return `allow-listed domain ${d} (${nl})`;
    }
    return undefined;
  }
}
