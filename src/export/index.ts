/**
 * Exports other tools import: STIX 2.1, ATT&CK Navigator 4.5, Timesketch
 * JSONL, ECS NDJSON, CSV and firewall block lists. All take the IncidentFile
 * (DIR/incident.json) and return the file's text.
 */
import type { IncidentFile } from '../incident/types.js';
import { safeJson } from '../render/escape.js';
import { toBlocklist, type BlocklistFormat } from './blocklist.js';
import { toNavigator } from './navigator.js';
import { toStix } from './stix.js';
import { toCsv, toNdjson, toTimesketch, type NdjsonOptions } from './timeline.js';

export { toStix, stixString, type StixBundle, type StixObject } from './stix.js';
export { toNavigator, NAVIGATOR_VERSIONS, type NavigatorLayer } from './navigator.js';
export { toTimesketch, toNdjson, toCsv, findingToEcs, CSV_HEAD, ECS_VERSION } from './timeline.js';
export { toBlocklist, selectBlockAddresses, BLOCKLIST_FORMATS, type BlocklistFormat, type BlockEntry } from './blocklist.js';
export { uuidv5, SPOOR_NAMESPACE } from './common.js';

export type ExportFormat = 'stix' | 'navigator' | 'timesketch' | 'ndjson' | 'csv' | 'blocklist';
export const EXPORT_FORMATS: ExportFormat[] = ['stix', 'navigator', 'timesketch', 'ndjson', 'csv', 'blocklist'];

export interface ExportOptions extends NdjsonOptions {
  blocklistFormat?: BlocklistFormat;
  /** CSV: write a UTF-8 byte-order mark (default true). */
  bom?: boolean;
}

/** The conventional file name for an export (`spoor export --out` default suggestions). */
export function exportFileName(format: ExportFormat, opts: ExportOptions = {}): string {
  switch (format) {
    case 'stix':
      return 'stix-bundle.json';
    case 'navigator':
      return 'attack-navigator-layer.json';
    case 'timesketch':
      return 'timesketch.jsonl';
    case 'ndjson':
      return 'findings.ecs.ndjson';
    case 'csv':
      return 'findings.csv';
    case 'blocklist': {
      const f = opts.blocklistFormat ?? 'plain';
      return { plain: 'blocklist.txt', nftables: 'blocklist.nft', iptables: 'blocklist.iptables.sh', netsh: 'blocklist.netsh.cmd', powershell: 'blocklist.ps1', suricata: 'blocklist.rules' }[f];
    }
  }
}

export function exportCase(file: IncidentFile, format: ExportFormat, opts: ExportOptions = {}): string {
  switch (format) {
    case 'stix':
      return safeJson(toStix(file), 2) + '\n';
    case 'navigator':
      return safeJson(toNavigator(file), 2) + '\n';
    case 'timesketch':
      return toTimesketch(file);
    case 'ndjson':
      return toNdjson(file, opts);
    case 'csv':
      return toCsv(file, opts.bom ?? true);
    case 'blocklist':
      return toBlocklist(file, opts.blocklistFormat ?? 'plain');
  }
}
