/**
 * Sigma logsource → EVTX channel / provider / event id.
 *
 * Transcribed from SigmaHQ's tests/thor.yml (the mapping THOR/SPARK use, the same
 * one the SigmaHQ regression runner relies on) and its logsource.json, plus the
 * process_creation → Security 4688 variant with its field names.
 *
 * A logsource can map to several *variants* (process_creation = Sysmon 1 or
 * Security 4688); each variant is compiled separately with its own field mapping,
 * and matches on channel, provider and event id, so that another product's event
 * with the same id does not match.
 */

export interface LogsourceVariant {
  /** Channel names (compared case-insensitively). */
  channels: string[];
  /** Provider names (case-insensitive); empty = any provider of the channel. */
  providers: string[];
  /** Event ids; empty = any. */
  eventIds: number[];
  /** Extra field equalities the event must satisfy (e.g. registry_add: EventType CreateKey). */
  conditions?: Record<string, string[]>;
  /** Sigma field name → this source's field name. */
  fieldMap?: Record<string, string>;
  /** Short label, e.g. `sysmon`, `security`. */
  label: string;
}

const SYSMON_CH = 'Microsoft-Windows-Sysmon/Operational';
const SYSMON_PROV = 'Microsoft-Windows-Sysmon';
const PS_CH = ['Microsoft-Windows-PowerShell/Operational', 'PowerShellCore/Operational'];
const PS_PROV = ['Microsoft-Windows-PowerShell', 'PowerShellCore'];
const PSC_CH = ['Windows PowerShell'];

function sysmon(...ids: number[]): LogsourceVariant {
  return { channels: [SYSMON_CH], providers: [SYSMON_PROV], eventIds: ids, label: 'sysmon' };
}

/** Sysmon process-creation field names → Security 4688 field names. */
export const FIELDS_4688: Record<string, string> = {
  Image: 'NewProcessName',
  ParentImage: 'ParentProcessName',
  User: 'SubjectUserName',
  ProcessId: 'NewProcessId',
  ParentProcessId: 'ProcessId',
  LogonId: 'SubjectLogonId',
  IntegrityLevel: 'MandatoryLabel',
};

/** Generic categories (Sysmon-backed unless noted). */
const CATEGORIES: Record<string, LogsourceVariant[]> = {
  process_creation: [
    sysmon(1),
    {
      channels: ['Security'],
      providers: ['Microsoft-Windows-Security-Auditing'],
      eventIds: [4688],
      fieldMap: FIELDS_4688,
      label: 'security',
    },
  ],
  file_change: [sysmon(2)],
  network_connection: [sysmon(3)],
  sysmon_status: [sysmon(4, 16)],
  process_termination: [sysmon(5)],
  driver_load: [sysmon(6)],
  image_load: [sysmon(7)],
  create_remote_thread: [sysmon(8)],
  raw_access_thread: [sysmon(9)],
  process_access: [sysmon(10)],
  file_event: [sysmon(11)],
  registry_event: [sysmon(12, 13, 14)],
  registry_add: [{ ...sysmon(12), conditions: { EventType: ['CreateKey'] } }],
  registry_delete: [{ ...sysmon(12), conditions: { EventType: ['DeleteKey', 'DeleteValue'] } }],
  registry_set: [sysmon(13)],
  registry_rename: [sysmon(14)],
  create_stream_hash: [sysmon(15)],
  pipe_created: [sysmon(17, 18)],
  wmi_event: [sysmon(19, 20, 21)],
  dns_query: [sysmon(22)],
  file_delete: [sysmon(23, 26)],
  clipboard_change: [sysmon(24)],
  process_tampering: [sysmon(25)],
  file_delete_detected: [sysmon(26)],
  file_block_executable: [sysmon(27)],
  file_block_shredding: [sysmon(28)],
  file_executable_detected: [sysmon(29)],
  sysmon_error: [sysmon(255)],
  ps_module: [{ channels: PS_CH, providers: PS_PROV, eventIds: [4103], label: 'powershell' }],
  ps_script: [{ channels: PS_CH, providers: PS_PROV, eventIds: [4104], label: 'powershell' }],
  ps_classic_start: [{ channels: PSC_CH, providers: [], eventIds: [400], label: 'powershell-classic' }],
  ps_classic_provider_start: [{ channels: PSC_CH, providers: [], eventIds: [600], label: 'powershell-classic' }],
  ps_classic_script: [{ channels: PSC_CH, providers: [], eventIds: [800], label: 'powershell-classic' }],
  // ETW kernel-file sources: not normally in EVTX, but the analytic channel can be exported.
  file_access: [{ channels: ['Microsoft-Windows-Kernel-File/Analytic'], providers: [], eventIds: [], label: 'kernel-file' }],
  file_rename: [{ channels: ['Microsoft-Windows-Kernel-File/Analytic'], providers: [], eventIds: [], label: 'kernel-file' }],
  antivirus: [
    {
      channels: ['Microsoft-Windows-Windows Defender/Operational'],
      providers: [],
      eventIds: [1006, 1007, 1008, 1009, 1010, 1011, 1012, 1017, 1018, 1019, 1115, 1116],
      fieldMap: { Signature: 'ThreatName', Filename: 'Path' },
      label: 'windefend',
    },
  ],
};

/** Windows services → channels (thor.yml `sources`, plus a few it lacks). */
const SERVICES: Record<string, string[]> = {
  security: ['Security'],
  system: ['System'],
  application: ['Application'],
  sysmon: [SYSMON_CH],
  powershell: PS_CH,
  'powershell-classic': PSC_CH,
  ntlm: ['Microsoft-Windows-NTLM/Operational'],
  taskscheduler: ['Microsoft-Windows-TaskScheduler/Operational'],
  wmi: ['Microsoft-Windows-WMI-Activity/Operational'],
  dhcp: ['Microsoft-Windows-DHCP-Server/Operational'],
  'printservice-admin': ['Microsoft-Windows-PrintService/Admin'],
  'printservice-operational': ['Microsoft-Windows-PrintService/Operational'],
  'smbclient-security': ['Microsoft-Windows-SmbClient/Security'],
  'smbclient-connectivity': ['Microsoft-Windows-SmbClient/Connectivity'],
  'smbserver-connectivity': ['Microsoft-Windows-SMBServer/Connectivity'],
  'terminalservices-localsessionmanager': ['Microsoft-Windows-TerminalServices-LocalSessionManager/Operational'],
  'codeintegrity-operational': ['Microsoft-Windows-CodeIntegrity/Operational'],
  applocker: [
    'Microsoft-Windows-AppLocker/MSI and Script',
    'Microsoft-Windows-AppLocker/EXE and DLL',
    'Microsoft-Windows-AppLocker/Packaged app-Deployment',
    'Microsoft-Windows-AppLocker/Packaged app-Execution',
  ],
  'msexchange-management': ['MSExchange Management'],
  windefend: ['Microsoft-Windows-Windows Defender/Operational'],
  'firewall-as': ['Microsoft-Windows-Windows Firewall With Advanced Security/Firewall'],
  'bits-client': ['Microsoft-Windows-Bits-Client/Operational'],
  // thor.yml writes the display names with a space; the channels Windows writes are KernelMode/UserMode
  'security-mitigations': [
    'Microsoft-Windows-Security-Mitigations/KernelMode',
    'Microsoft-Windows-Security-Mitigations/UserMode',
    'Microsoft-Windows-Security-Mitigations/Kernel Mode',
    'Microsoft-Windows-Security-Mitigations/User Mode',
  ],
  'diagnosis-scripted': ['Microsoft-Windows-Diagnosis-Scripted/Operational'],
  'shell-core': ['Microsoft-Windows-Shell-Core/Operational'],
  openssh: ['OpenSSH/Operational'],
  ldap: ['Microsoft-Windows-LDAP-Client/Debug'],
  bitlocker: ['Microsoft-Windows-BitLocker/BitLocker Management'],
  vhdmp: ['Microsoft-Windows-VHDMP/Operational'],
  'appxdeployment-server': ['Microsoft-Windows-AppXDeploymentServer/Operational'],
  'lsa-server': ['Microsoft-Windows-LSA/Operational'],
  'appxpackaging-om': ['Microsoft-Windows-AppxPackaging/Operational'],
  // 'DNS Client Events' is the display name (thor.yml); the channel is Microsoft-Windows-DNS-Client/Operational
  'dns-client': ['Microsoft-Windows-DNS-Client/Operational', 'Microsoft-Windows-DNS Client Events/Operational'],
  'appmodel-runtime': ['Microsoft-Windows-AppModel-Runtime/Admin'],
  capi2: ['Microsoft-Windows-CAPI2/Operational'],
  'certificateservicesclient-lifecycle-system': ['Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational'],
  'kernel-shimengine': ['Microsoft-Windows-Kernel-ShimEngine/Operational', 'Microsoft-Windows-Kernel-ShimEngine/Diagnostic'],
  'application-experience': [
    'Microsoft-Windows-Application-Experience/Program-Telemetry',
    'Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant',
  ],
  ntfs: ['Microsoft-Windows-Ntfs/Operational'],
  'hyper-v-worker': ['Microsoft-Windows-Hyper-V-Worker'],
  'kernel-event-tracing': ['Microsoft-Windows-Kernel-EventTracing'],
  sense: ['Microsoft-Windows-SENSE/Operational'],
  'servicebus-client': ['Microsoft-ServiceBus-Client/Admin', 'Microsoft-ServiceBus-Client/Operational'],
  'microsoft-servicebus-client': ['Microsoft-ServiceBus-Client/Admin', 'Microsoft-ServiceBus-Client/Operational'],
  'iis-configuration': ['Microsoft-IIS-Configuration/Operational'],
  'dns-server': ['DNS Server'],
  'dns-server-analytic': ['Microsoft-Windows-DNSServer/Analytical'],
  'driver-framework': ['Microsoft-Windows-DriverFrameworks-UserMode/Operational'],
};

export interface Logsource {
  product?: string;
  category?: string;
  service?: string;
}

/** Variants for a logsource, or a reason it cannot be evaluated over EVTX events. */
export function mapLogsource(ls: Logsource | undefined): LogsourceVariant[] | { reason: string } {
  const product = ls?.product?.toLowerCase();
  const category = ls?.category?.toLowerCase();
  const service = ls?.service?.toLowerCase();
  if (product && product !== 'windows') return { reason: `logsource product '${ls?.product}' has no EVTX source` };
  if (!product && !(category && category in CATEGORIES && category === 'antivirus'))
    return { reason: `logsource without product windows (${JSON.stringify(ls ?? {})}) has no EVTX source` };
  let variants: LogsourceVariant[] | undefined;
  if (category) {
    variants = CATEGORIES[category];
    if (!variants) return { reason: `logsource category '${category}' has no EVTX mapping` };
  }
  if (service) {
    const chans = SERVICES[service];
    if (!chans) return { reason: `logsource service '${service}' has no EVTX channel mapping` };
    if (variants) {
      const set = new Set(chans.map((c) => c.toLowerCase()));
      variants = variants.filter((v) => v.channels.some((c) => set.has(c.toLowerCase())));
      if (!variants.length) return { reason: `logsource category '${category}' and service '${service}' do not meet` };
    } else {
      variants = [{ channels: chans, providers: [], eventIds: [], label: service }];
    }
  }
  if (!variants) {
    // product windows alone: any Windows channel
    return [{ channels: ['*'], providers: [], eventIds: [], label: 'windows' }];
  }
  return variants;
}

export function logsourceTable(): { categories: Record<string, LogsourceVariant[]>; services: Record<string, string[]> } {
  return { categories: CATEGORIES, services: SERVICES };
}
