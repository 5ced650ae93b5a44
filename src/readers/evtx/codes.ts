/**
 * Readable names for well-known Windows event codes, added beside the raw values
 * (`LogonType_name`, `Status_name`, `SubStatus_name`, `FailureReason_name`, ...).
 * Sources: Microsoft's documentation of Security events 4624/4625/4768/4771/4776.
 */

export const LOGON_TYPES: Record<string, string> = {
  '0': 'System',
  '2': 'Interactive',
  '3': 'Network',
  '4': 'Batch',
  '5': 'Service',
  '7': 'Unlock',
  '8': 'NetworkCleartext',
  '9': 'NewCredentials',
  '10': 'RemoteInteractive',
  '11': 'CachedInteractive',
  '12': 'CachedRemoteInteractive',
  '13': 'CachedUnlock',
};

/** NTSTATUS codes seen in logon failures (4625, 4776, 4771 ...), lower-case hex without padding. */
export const NT_STATUS: Record<string, string> = {
  '0x0': 'success',
  '0xc000006d': 'bad user name or password',
  '0xc000006a': 'wrong password',
  '0xc0000064': 'no such user',
  '0xc000006c': 'password policy not met',
  '0xc000006e': 'account restriction',
  '0xc000006f': 'logon outside authorized hours',
  '0xc0000070': 'workstation restriction',
  '0xc0000071': 'password expired',
  '0xc0000072': 'account disabled',
  '0xc00000dc': 'server in wrong state',
  '0xc0000133': 'clock skew too great',
  '0xc000015b': 'logon type not granted',
  '0xc000018c': 'trust relationship failed',
  '0xc0000192': 'netlogon service not started',
  '0xc0000193': 'account expired',
  '0xc0000224': 'password must change',
  '0xc0000225': 'internal error',
  '0xc0000234': 'account locked out',
  '0xc00002ee': 'failure during logon',
  '0xc0000413': 'authentication firewall denied',
  '0xc000005e': 'no logon servers',
  '0xc0000371': 'local account store does not contain secret',
  '0xc0000022': 'access denied',
};

/** Kerberos result codes (4768, 4769, 4771 Status / FailureCode). */
export const KERBEROS_STATUS: Record<string, string> = {
  '0x0': 'success',
  '0x6': 'client not found in Kerberos database (no such user)',
  '0x7': 'server not found in Kerberos database',
  '0xc': 'policy restriction',
  '0xe': 'encryption type not supported',
  '0x12': 'client revoked (account disabled, expired or locked out)',
  '0x17': 'password expired',
  '0x18': 'pre-authentication failed (wrong password)',
  '0x1b': 'server requires pre-authentication',
  '0x1f': 'integrity check failed',
  '0x20': 'ticket expired',
  '0x25': 'clock skew too great',
};

/** %%23xx message references of 4625 FailureReason. */
export const FAILURE_REASON: Record<string, string> = {
  '%%2304': 'an error occurred during logon',
  '%%2305': 'the specified user account has expired',
  '%%2306': 'the NetLogon component is not active',
  '%%2307': 'account locked out',
  '%%2308': 'the user has not been granted the requested logon type at this machine',
  '%%2309': "the specified account's password has expired",
  '%%2310': 'account currently disabled',
  '%%2311': 'account logon time restriction violation',
  '%%2312': 'user not allowed to logon at this computer',
  '%%2313': 'unknown user name or bad password',
};

export const IMPERSONATION: Record<string, string> = {
  '%%1832': 'Identification',
  '%%1833': 'Impersonation',
  '%%1840': 'Delegation',
  '%%1841': 'Denied by Process Trust Label ACE',
};

/** Normalise `0xC000006A`, `0xc000006a`, `-1073741718`, `3221225578` to `0xc000006a`. */
const NORM_CACHE = new Map<string, string>();
export function normHex(v: string): string {
  let r = NORM_CACHE.get(v);
  if (r !== undefined) return r;
  r = normHexRaw(v);
  if (NORM_CACHE.size >= 1024) NORM_CACHE.clear();
  NORM_CACHE.set(v, r);
  return r;
}

function normHexRaw(v: string): string {
  const s = v.trim();
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^-?\d+$/.test(s)) n = Number(s);
  else return s.toLowerCase();
  if (!Number.isFinite(n)) return s.toLowerCase();
  return '0x' + (n >>> 0).toString(16);
}

const STATUS_FIELDS = ['Status', 'SubStatus', 'FailureCode', 'ResultCode'];
const KERBEROS_EVENTS = new Set([4768, 4769, 4771, 4772, 4773]);

/** Add readable `<field>_name` entries to an event-data map (in place). */
export function addReadableNames(eventId: number, data: Record<string, string>): void {
  const lt = data.LogonType;
  if (lt !== undefined) {
    const n = LOGON_TYPES[lt.trim()];
    if (n) data.LogonType_name = n;
  }
  const table = KERBEROS_EVENTS.has(eventId) ? KERBEROS_STATUS : NT_STATUS;
  for (const k of STATUS_FIELDS) {
    const v = data[k];
    if (v === undefined || v === '' || v === '-') continue;
    const n = table[normHex(v)];
    if (n) data[k + '_name'] = n;
  }
  const fr = data.FailureReason;
  if (fr !== undefined) {
    const n = FAILURE_REASON[fr.trim()];
    if (n) data.FailureReason_name = n;
  }
  const il = data.ImpersonationLevel;
  if (il !== undefined) {
    const n = IMPERSONATION[il.trim()];
    if (n) data.ImpersonationLevel_name = n;
  }
}

/** Short action names for common event ids (Security, System, Sysmon share ids only per provider). */
export const SECURITY_ACTIONS: Record<number, string> = {
  1102: 'log-cleared',
  4624: 'logon',
  4625: 'logon-failed',
  4634: 'logoff',
  4647: 'logoff',
  4648: 'explicit-credentials-logon',
  4672: 'special-privileges-assigned',
  4688: 'process-created',
  4697: 'service-installed',
  4698: 'scheduled-task-created',
  4720: 'user-account-created',
  4722: 'user-account-enabled',
  4724: 'password-reset',
  4728: 'group-member-added',
  4732: 'group-member-added',
  4740: 'user-account-locked',
  4756: 'group-member-added',
  4768: 'kerberos-tgt-request',
  4769: 'kerberos-service-ticket-request',
  4771: 'kerberos-preauth-failed',
  4776: 'credential-validation',
  4778: 'session-reconnected',
  4779: 'session-disconnected',
  5140: 'network-share-access',
  5145: 'network-share-check',
};

export const SYSMON_ACTIONS: Record<number, string> = {
  1: 'process-created',
  3: 'network-connection',
  5: 'process-terminated',
  7: 'image-loaded',
  8: 'create-remote-thread',
  10: 'process-access',
  11: 'file-created',
  12: 'registry-object-added-or-deleted',
  13: 'registry-value-set',
  15: 'file-stream-created',
  17: 'pipe-created',
  18: 'pipe-connected',
  22: 'dns-query',
  23: 'file-deleted',
};

export const SYSTEM_ACTIONS: Record<number, string> = {
  104: 'log-cleared',
  7045: 'service-installed',
  7036: 'service-state-changed',
  7040: 'service-start-type-changed',
};
