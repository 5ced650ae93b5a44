/**
 * The one normalized event model. Every reader and protocol analyzer yields
 * SpoorEvents; detectors, the store, search and Sigma read them.
 *
 * Field names follow ECS (Elastic Common Schema) dotted names, kept flat
 * (`event['source.ip']`, not `event.source.ip`) so that lookups by name
 * (search, Sigma, store columns) need no path walking. docs/EVENTS.md lists
 * every field and which dataset fills it.
 */

/** Where an event came from: evidence id plus the position inside it. */
export interface EvidenceRef {
  /** Evidence id as recorded in the case (`E1`, `E2`, ...). */
  evidence: string;
  /** EVTX EventRecordID. */
  record?: number;
  /** Capture frame number (1-based, as tshark and Wireshark count). */
  frame?: number;
  /** Text log line number (1-based). */
  line?: number;
  /** Byte offset in the (decompressed) evidence file, where useful. */
  offset?: number;
  /** Connection uid (network records), so a finding can cite the flow. */
  uid?: string;
}

/** Datasets: what kind of record an event is. One store table each for network kinds. */
export type Dataset =
  | 'evtx'
  | 'conn'
  | 'http'
  | 'dns'
  | 'tls'
  | 'smb'
  | 'ntlm'
  | 'kerberos'
  | 'rdp'
  | 'ssh'
  | 'stratum'
  | 'dcerpc'
  | 'payload'
  | 'weird'
  | string;

export type Outcome = 'success' | 'failure' | 'unknown';

/**
 * A normalized event. Common fields are typed; dataset-specific fields use
 * their ECS (or, where ECS has none, Zeek-derived `<dataset>.<field>`) names.
 */
export interface SpoorEvent {
  /** Milliseconds since the Unix epoch, UTC (fractional part allowed for sub-ms precision). */
  '@timestamp': number;
  'event.dataset': Dataset;
  /** Pointer back to the evidence. Always present. */
  ref: EvidenceRef;

  'event.code'?: string;
  'event.action'?: string;
  'event.outcome'?: Outcome;
  'event.provider'?: string;
  /** Milliseconds. */
  'event.duration'?: number;

  'host.name'?: string;
  'host.ip'?: string;

  'source.ip'?: string;
  'source.port'?: number;
  'source.bytes'?: number;
  'source.packets'?: number;
  'destination.ip'?: string;
  'destination.port'?: number;
  'destination.bytes'?: number;
  'destination.packets'?: number;
  'network.transport'?: string;
  /** Application protocol (Zeek "service"), e.g. `http`, `smb`, `ssl`. */
  'network.protocol'?: string;
  'network.community_id'?: string;

  'user.name'?: string;
  'user.domain'?: string;

  [field: string]: unknown;
}

/** EVTX events additionally carry these (see docs/EVENTS.md). */
export interface EvtxEvent extends SpoorEvent {
  'event.dataset': 'evtx';
  'event.code': string;
  'event.provider': string;
  'winlog.channel': string;
  'winlog.record_id': number;
  'winlog.computer_name': string;
  'winlog.provider_guid'?: string;
  'winlog.event_id': number;
  'winlog.version'?: number;
  'winlog.level'?: number;
  'winlog.task'?: number;
  'winlog.opcode'?: number;
  'winlog.keywords'?: string;
  'winlog.process.pid'?: number;
  'winlog.process.thread.id'?: number;
  'winlog.user.identifier'?: string;
  'winlog.activity_id'?: string;
  'winlog.related_activity_id'?: string;
  /** EventData / UserData fields flattened by name (values as strings, as the XML shows them). */
  'winlog.event_data': Record<string, string>;
  /** True when the record was carved from slack or a damaged chunk. */
  'winlog.recovered'?: boolean;
}

export function isEvtx(e: SpoorEvent): e is EvtxEvent {
  return e['event.dataset'] === 'evtx';
}

const MAX_ISO_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MIN_ISO_MS = Date.parse('0000-01-01T00:00:00.000Z');

/**
 * Milliseconds since epoch → ISO 8601 UTC with millisecond precision. Times that cannot be
 * written with a 4-digit year (corrupt records) are clamped to the nearest representable end.
 */
export function isoTime(ms: number): string {
  if (!Number.isFinite(ms)) return new Date(0).toISOString();
  if (ms > MAX_ISO_MS) ms = MAX_ISO_MS;
  if (ms < MIN_ISO_MS) ms = MIN_ISO_MS;
  return new Date(Math.floor(ms)).toISOString();
}
