/** Every built-in detector. Each is a small module under host/ or network/ with its ATT&CK techniques and thresholds. */
import type { DetectorModule } from '../core/finding.js';
import { hostDetectors } from './host/index.js';
import { networkDetectors } from './network/index.js';

export const detectorModules: readonly DetectorModule[] = [...hostDetectors, ...networkDetectors];
