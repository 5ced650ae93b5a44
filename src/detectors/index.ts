/** Every built-in detector. Each is a small module under host/, network/ or ids/ with its ATT&CK techniques and thresholds. */
import type { DetectorModule } from '../core/finding.js';
import { hostDetectors } from './host/index.js';
import { networkDetectors } from './network/index.js';
import { idsAlert } from './ids/suricata-alert.js';

export const detectorModules: readonly DetectorModule[] = [...hostDetectors, ...networkDetectors, idsAlert];
