/**
 * ATT&CK tactics of the techniques the host detectors assert (enterprise
 * matrix). Sub-techniques inherit their parent's tactics.
 */
export const TECHNIQUE_TACTICS: Record<string, string[]> = {
  T1003: ['credential-access'],
  T1016: ['discovery'],
  T1021: ['lateral-movement'],
  T1027: ['defense-evasion'],
  T1036: ['defense-evasion'],
  T1046: ['discovery'],
  T1047: ['execution'],
  T1053: ['execution', 'persistence', 'privilege-escalation'],
  T1059: ['execution'],
  T1070: ['defense-evasion'],
  T1071: ['command-and-control'],
  T1078: ['defense-evasion', 'persistence', 'privilege-escalation', 'initial-access'],
  T1082: ['discovery'],
  T1087: ['discovery'],
  T1098: ['persistence', 'privilege-escalation'],
  T1105: ['command-and-control'],
  T1110: ['credential-access'],
  T1134: ['defense-evasion', 'privilege-escalation'],
  T1136: ['persistence'],
  T1204: ['execution'],
  T1218: ['defense-evasion'],
  T1486: ['impact'],
  T1490: ['impact'],
  T1496: ['impact'],
  T1505: ['persistence'],
  T1543: ['persistence', 'privilege-escalation'],
  T1558: ['credential-access'],
  T1562: ['defense-evasion'],
  T1569: ['execution'],
  T1572: ['command-and-control'],
  T1588: ['resource-development'],
};

export function tacticsOf(technique: string): string[] {
  return TECHNIQUE_TACTICS[technique.split('.')[0]] ?? [];
}
