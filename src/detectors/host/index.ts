/**
 * Host detectors over EVTX events. See docs/DETECTORS-HOST.md.
 *
 * All detectors created with one DetectorContext share a HostState (logon
 * sessions, failure/success aggregates, logon profiles) that the first of them
 * feeds, so each event is interpreted once.
 */
import type { DetectorModule } from '../../core/finding.js';
import { accountManipulation } from './account.js';
import { avAlert } from './defender.js';
import { bruteforce } from './bruteforce.js';
import { bruteforceSuccess } from './bruteforce-success.js';
import { credentialAccess } from './credential.js';
import { defenseEvasion } from './evasion.js';
import { execution } from './execution.js';
import { logonSessions } from './logon-sessions.js';
import { lateralMovement } from './lateral.js';
import { powershell } from './powershell.js';
import { registry } from './registry.js';
import { privilegeEscalation } from './privesc.js';
import { discovery } from './discovery.js';
import { persistence } from './persistence.js';
import { spray } from './spray.js';
import { unusualLogon } from './unusual-logon.js';

export const hostDetectors: DetectorModule[] = [
  bruteforce,
  spray,
  bruteforceSuccess,
  accountManipulation,
  unusualLogon,
  logonSessions,
  persistence,
  execution,
  credentialAccess,
  defenseEvasion,
  avAlert,
  lateralMovement,
  powershell,
  registry,
  privilegeEscalation,
  discovery,
];

export { LogonSessions, summarizeSession, describeSession, LOGON_TYPE_NAMES } from './sessions.js';
export type { LogonSession, SessionSummary, SessionAction } from './sessions.js';
export { HostState, hostState } from './state.js';
export { classify } from './catalog.js';
export { TECHNIQUE_TACTICS, tacticsOf } from './attack.js';
export { classifyShare, remoteExecParent } from './lateral.js';
export { matchPowerShell, PS_RULES } from './powershell.js';
export { matchKey, parseRegAdd, KEY_RULES } from './registry.js';
export { judgeProcess } from './privesc.js';
export { discoveryCommand, DISCOVERY_COMMANDS } from './discovery.js';
export { lateralMovement, powershell, registry, privilegeEscalation, discovery };
export { accountManipulation, avAlert, bruteforce, bruteforceSuccess, credentialAccess, defenseEvasion, execution, logonSessions, persistence, spray, unusualLogon };
