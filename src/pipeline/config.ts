/**
 * The case configuration: from `--config FILE` (YAML or JSON) and flags; flags win.
 *
 * ```yaml
 * home_nets: [10.0.0.0/8, 80.66.1.0/24]   # the site's internal ranges
 * tz: Asia/Shanghai                        # time zone of the reports
 * lang: both                               # zh | en | both
 * alert: "outbound-scan 80.66.1.15"        # the symptom the customer was told about
 * hosts: { 80.66.1.15: APP-SERVER }        # address → host name
 * detectors:                               # thresholds by detector id
 *   host.bruteforce: { min_failures: 5, window_minutes: 5 }
 * readers:                                 # reader options (memory caps ...)
 *   pcap: { max_flow_buffer: 1048576 }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_HOME_NETS, parseCidr } from '../core/homenet.js';

export interface CaseConfig {
  homeNets: string[];
  tz: string;
  langs: ('zh' | 'en')[];
  alert: string | null;
  hosts: Record<string, string>;
  detectors: Record<string, Record<string, unknown>>;
  readers: Record<string, Record<string, unknown>>;
  sigma: string[];
}

export class ConfigError extends Error {}

export function machineTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw new ConfigError(`unknown time zone: ${JSON.stringify(tz)} (use an IANA name such as Asia/Shanghai or UTC)`);
  }
}

export function parseLangs(v: string): ('zh' | 'en')[] {
  if (v === 'both') return ['zh', 'en'];
  if (v === 'zh' || v === 'en') return [v];
  throw new ConfigError(`--lang must be zh, en or both, not ${JSON.stringify(v)}`);
}

export function parseHomeNets(list: string[]): string[] {
  const out: string[] = [];
  for (const item of list) {
    for (const part of item.split(',')) {
      const t = part.trim();
      if (!t) continue;
      try {
        out.push(parseCidr(t).text);
      } catch (err) {
        throw new ConfigError((err as Error).message);
      }
    }
  }
  return out;
}

export interface ConfigFlags {
  config?: string;
  homeNet?: string;
  tz?: string;
  lang?: string;
  alert?: string;
  sigma?: string[];
}

export async function loadConfig(flags: ConfigFlags): Promise<CaseConfig> {
  let file: Record<string, unknown> = {};
  if (flags.config) {
    let text: string;
    try {
      text = await readFile(flags.config, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config ${flags.config}: ${(err as Error).message}`);
    }
    try {
      const parsed = parseYaml(text);
      if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw new Error('top level must be a mapping');
      }
      file = (parsed ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`config ${flags.config}: ${(err as Error).message}`);
    }
  }
  const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
  const homeNets = flags.homeNet
    ? parseHomeNets([flags.homeNet])
    : file.home_nets !== undefined
      ? parseHomeNets(asList(file.home_nets))
      : [...DEFAULT_HOME_NETS];
  const tz = checkTimeZone(flags.tz ?? (typeof file.tz === 'string' ? file.tz : machineTimeZone()));
  const langs = parseLangs(flags.lang ?? (typeof file.lang === 'string' ? file.lang : 'both'));
  const hosts: Record<string, string> = {};
  if (file.hosts && typeof file.hosts === 'object') {
    for (const [k, v] of Object.entries(file.hosts as Record<string, unknown>)) hosts[k] = String(v);
  }
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Record<string, unknown>>) : {});
  return {
    homeNets,
    tz,
    langs,
    alert: flags.alert ?? (typeof file.alert === 'string' ? file.alert : null),
    hosts,
    detectors: obj(file.detectors),
    readers: obj(file.readers),
    sigma: [...asList(file.sigma), ...(flags.sigma ?? [])],
  };
}
