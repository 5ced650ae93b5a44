/**
 * The network detectors (docs/DETECTORS-NETWORK.md). Each is a DetectorModule;
 * the pipeline creates them with a DetectorContext and routes the datasets they list.
 */
import type { DetectorModule } from '../../core/finding.js';
import { scanDetector } from './scan.js';
import { bruteforceDetector } from './bruteforce.js';
import { webExploitDetector } from './webexploit.js';
import { webshellDetector } from './webshell.js';
import { c2Detector } from './c2.js';
import { lateralDetector } from './lateral.js';
import { miningDetector } from './mining.js';
import { dnsTunnelDetector } from './dnstunnel.js';

export const networkDetectors: DetectorModule[] = [scanDetector, bruteforceDetector, webExploitDetector, webshellDetector, c2Detector, lateralDetector, miningDetector, dnsTunnelDetector];

export { scanDetector, bruteforceDetector, webExploitDetector, webshellDetector, c2Detector, lateralDetector, miningDetector, dnsTunnelDetector };
export { scoreBeacon, timestampScore, dataSizeScore, histogramScore, durationScore, combineBeaconScore, statisticalScore, bowleySkew, madScore, quartiles, beaconCategory } from './rita.js';
export type { BeaconResult, BeaconOptions } from './rita.js';
export { matchExploits, deobfuscateLog4j, spring4ShellTarget } from './webexploit.js';
export { toolFingerprint, isProbe, stealthProbe } from './scan.js';
export { Allowance, allowDefaults } from './allowlist.js';
