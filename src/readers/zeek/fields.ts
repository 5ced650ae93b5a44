/**
 * Zeek log rows → spoor's normalized events (docs/EVENTS.md).
 *
 * One table per Zeek log kind says which Zeek field becomes which spoor field, so
 * that network detectors read conn/http/dns/ssl/ssh/rdp/smb/ntlm/kerberos/dce_rpc
 * records from Zeek logs exactly as they read the records of spoor's own capture
 * engine. Log kinds without a table keep every field under `zeek.<field>` in a
 * dataset named `zeek.<path>` (searchable, not interpreted).
 */
import type { SpoorEvent } from '../../core/event.js';

/** A Zeek value after type conversion: TSV strings are converted by their #types; JSON values arrive typed. */
export type ZeekValue = string | number | boolean | (string | number)[] | null;

type Conv = 'ms' | 'num' | 'bool' | 'str' | 'list';
/** zeek field → [spoor field, conversion]. */
type Table = Record<string, [string, Conv]>;

const COMMON: Table = {
  uid: ['conn.uid', 'str'],
  'id.orig_h': ['source.ip', 'str'],
  'id.orig_p': ['source.port', 'num'],
  'id.resp_h': ['destination.ip', 'str'],
  'id.resp_p': ['destination.port', 'num'],
  community_id: ['network.community_id', 'str'],
  proto: ['network.transport', 'str'],
};

const TABLES: Record<string, { dataset: string; fields: Table }> = {
  conn: {
    dataset: 'conn',
    fields: {
      service: ['network.protocol', 'str'],
      duration: ['event.duration', 'ms'],
      orig_bytes: ['source.bytes', 'num'],
      resp_bytes: ['destination.bytes', 'num'],
      conn_state: ['conn.state', 'str'],
      local_orig: ['conn.local_orig', 'bool'],
      local_resp: ['conn.local_resp', 'bool'],
      missed_bytes: ['conn.missed_bytes', 'num'],
      history: ['conn.history', 'str'],
      orig_pkts: ['source.packets', 'num'],
      orig_ip_bytes: ['source.ip_bytes', 'num'],
      resp_pkts: ['destination.packets', 'num'],
      resp_ip_bytes: ['destination.ip_bytes', 'num'],
    },
  },
  http: {
    dataset: 'http',
    fields: {
      trans_depth: ['http.trans_depth', 'num'],
      method: ['http.request.method', 'str'],
      host: ['url.domain', 'str'],
      uri: ['url.original', 'str'],
      referrer: ['http.request.referrer', 'str'],
      version: ['http.version', 'str'],
      user_agent: ['user_agent.original', 'str'],
      request_body_len: ['http.request.body.bytes', 'num'],
      response_body_len: ['http.response.body.bytes', 'num'],
      status_code: ['http.response.status_code', 'num'],
      status_msg: ['http.response.status_msg', 'str'],
      username: ['user.name', 'str'],
      orig_mime_types: ['http.request.mime_sniffed', 'list'],
      resp_mime_types: ['http.response.mime_sniffed', 'list'],
    },
  },
  dns: {
    dataset: 'dns',
    fields: {
      trans_id: ['dns.id', 'num'],
      rtt: ['dns.rtt', 'ms'],
      query: ['dns.question.name', 'str'],
      qclass_name: ['dns.question.class', 'str'],
      qtype: ['dns.question.type_code', 'num'],
      qtype_name: ['dns.question.type', 'str'],
      rcode: ['dns.response_code_num', 'num'],
      rcode_name: ['dns.response_code', 'str'],
      AA: ['dns.flags.aa', 'bool'],
      TC: ['dns.flags.tc', 'bool'],
      RD: ['dns.flags.rd', 'bool'],
      RA: ['dns.flags.ra', 'bool'],
      Z: ['dns.z', 'num'],
      rejected: ['dns.rejected', 'bool'],
      opcode: ['dns.opcode', 'num'],
    },
  },
  ssl: {
    dataset: 'tls',
    fields: {
      version: ['tls.version', 'str'],
      cipher: ['tls.cipher', 'str'],
      curve: ['tls.curve', 'str'],
      server_name: ['tls.client.server_name', 'str'],
      resumed: ['tls.resumed', 'bool'],
      established: ['tls.established', 'bool'],
      next_protocol: ['tls.next_protocol', 'str'],
      last_alert: ['tls.last_alert', 'str'],
      ja3: ['tls.client.ja3', 'str'],
      ja3s: ['tls.server.ja3s', 'str'],
      ja4: ['tls.client.ja4', 'str'],
      subject: ['tls.server.x509.subject', 'str'],
      issuer: ['tls.server.x509.issuer', 'str'],
      cert_chain_fps: ['tls.server.certificate_chain_fps', 'list'],
      ssl_history: ['zeek.ssl_history', 'str'],
    },
  },
  ssh: {
    dataset: 'ssh',
    fields: {
      version: ['ssh.version', 'num'],
      auth_success: ['ssh.auth_success', 'bool'],
      auth_attempts: ['ssh.auth_attempts', 'num'],
      direction: ['ssh.direction', 'str'],
      client: ['ssh.client', 'str'],
      server: ['ssh.server', 'str'],
      cipher_alg: ['ssh.cipher_alg', 'str'],
      mac_alg: ['ssh.mac_alg', 'str'],
      compression_alg: ['ssh.compression_alg', 'str'],
      kex_alg: ['ssh.kex_alg', 'str'],
      host_key_alg: ['ssh.host_key_alg', 'str'],
      host_key: ['ssh.host_key', 'str'],
    },
  },
  rdp: {
    dataset: 'rdp',
    fields: {
      cookie: ['rdp.cookie', 'str'],
      result: ['rdp.result', 'str'],
      security_protocol: ['rdp.selected_protocol', 'str'],
      client_channels: ['rdp.client_channels', 'list'],
      keyboard_layout: ['rdp.keyboard_layout', 'str'],
      client_build: ['rdp.client_build', 'str'],
      client_name: ['rdp.client_name', 'str'],
      client_dig_product_id: ['rdp.client_dig_product_id', 'str'],
      desktop_width: ['rdp.desktop_width', 'num'],
      desktop_height: ['rdp.desktop_height', 'num'],
      requested_color_depth: ['rdp.requested_color_depth', 'str'],
      cert_type: ['rdp.cert_type', 'str'],
      cert_count: ['rdp.cert_count', 'num'],
      encryption_level: ['rdp.encryption_level', 'str'],
      encryption_method: ['rdp.encryption_method', 'str'],
    },
  },
  ntlm: {
    dataset: 'ntlm',
    fields: {
      username: ['user.name', 'str'],
      hostname: ['ntlm.workstation', 'str'],
      domainname: ['user.domain', 'str'],
      server_nb_computer_name: ['ntlm.server_nb_computer', 'str'],
      server_dns_computer_name: ['ntlm.server_dns_computer', 'str'],
      server_tree_name: ['ntlm.server_tree', 'str'],
      success: ['ntlm.success', 'bool'],
      status: ['ntlm.status', 'str'],
    },
  },
  smb_mapping: {
    dataset: 'smb',
    fields: {
      path: ['smb.tree', 'str'],
      service: ['smb.service', 'str'],
      native_file_system: ['smb.native_file_system', 'str'],
      share_type: ['smb.share_type', 'str'],
    },
  },
  smb_files: {
    dataset: 'smb',
    fields: {
      fuid: ['file.uid', 'str'],
      action: ['zeek.smb_action', 'str'],
      path: ['file.path', 'str'],
      name: ['file.name', 'str'],
      size: ['file.size', 'num'],
      prev_name: ['smb.prev_name', 'str'],
    },
  },
  kerberos: {
    dataset: 'kerberos',
    fields: {
      request_type: ['kerberos.request_type', 'str'],
      client: ['kerberos.client', 'str'],
      service: ['kerberos.service', 'str'],
      success: ['kerberos.success', 'bool'],
      error_code: ['kerberos.error_code', 'num'],
      error_msg: ['kerberos.error_msg', 'str'],
      cipher: ['kerberos.cipher', 'str'],
      forwardable: ['kerberos.forwardable', 'bool'],
      renewable: ['kerberos.renewable', 'bool'],
    },
  },
  dce_rpc: {
    dataset: 'dcerpc',
    fields: {
      rtt: ['dcerpc.rtt', 'ms'],
      named_pipe: ['dcerpc.named_pipe', 'str'],
      endpoint: ['dcerpc.endpoint', 'str'],
      operation: ['dcerpc.operation', 'str'],
    },
  },
  weird: {
    dataset: 'weird',
    fields: {
      name: ['weird.name', 'str'],
      addl: ['weird.addl', 'str'],
      notice: ['weird.notice', 'bool'],
      peer: ['weird.peer', 'str'],
      source: ['weird.source', 'str'],
    },
  },
};

/** Zeek's smb_files actions → spoor's SMB event actions. */
const SMB_ACTIONS: Record<string, string> = {
  'SMB::FILE_OPEN': 'create',
  'SMB::FILE_READ': 'read',
  'SMB::FILE_WRITE': 'write',
  'SMB::FILE_CLOSE': 'close',
  'SMB::FILE_DELETE': 'delete',
  'SMB::FILE_RENAME': 'rename',
  'SMB::FILE_SET_ATTRIBUTE': 'set-attribute',
  'SMB::PRINT_OPEN': 'print-open',
  'SMB::PRINT_WRITE': 'print-write',
  'SMB::PRINT_CLOSE': 'print-close',
};

/** The Zeek log kinds mapped onto spoor datasets. */
export const MAPPED_LOGS: readonly string[] = Object.keys(TABLES);

function convert(v: ZeekValue, conv: Conv): unknown {
  if (v === null) return undefined;
  switch (conv) {
    case 'ms': {
      const n = typeof v === 'number' ? v : Number(v);
      return Number.isFinite(n) ? n * 1000 : undefined;
    }
    case 'num': {
      const n = typeof v === 'number' ? v : Number(v);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'bool':
      return typeof v === 'boolean' ? v : v === 'T' || v === 'true';
    case 'list':
      return Array.isArray(v) ? v.map(String) : [String(v)];
    default:
      return Array.isArray(v) ? v.join(',') : String(v);
  }
}

/**
 * Build the event for one Zeek row. `row` maps field names to converted values (absent or null:
 * unset); `ts` is the row time in ms (NaN when the log masks it, as Zeek's test baselines do).
 */
export function zeekRowToEvent(path: string, row: Record<string, ZeekValue>, ts: number, ref: SpoorEvent['ref']): SpoorEvent {
  const table = TABLES[path];
  const ev: SpoorEvent = { '@timestamp': ts, 'event.dataset': table ? table.dataset : `zeek.${path || 'unknown'}`, ref, 'event.provider': 'zeek' };
  for (const [name, value] of Object.entries(row)) {
    if (name === 'ts' || value === null || value === undefined) continue;
    const m = COMMON[name] ?? table?.fields[name];
    if (!m) {
      ev[`zeek.${name}`] = Array.isArray(value) ? value.map(String) : value;
      continue;
    }
    const out = convert(value, m[1]);
    if (out !== undefined) ev[m[0]] = out;
  }
  if (typeof ev['conn.uid'] === 'string') ref.uid = ev['conn.uid'] as string;
  switch (path) {
    case 'conn':
      if (ev['conn.state'] !== undefined) ev['event.action'] = ev['conn.state'] as string;
      break;
    case 'http':
      if (ev['http.request.method'] !== undefined) ev['event.action'] = ev['http.request.method'] as string;
      break;
    case 'dns': {
      const answers = row.answers;
      if (answers !== null && answers !== undefined) {
        const list = Array.isArray(answers) ? answers.map(String) : [String(answers)];
        const ttls = Array.isArray(row.TTLs) ? row.TTLs.map(Number) : row.TTLs === null || row.TTLs === undefined ? [] : [Number(row.TTLs)];
        const q = (ev['dns.question.name'] as string | undefined) ?? '';
        ev['dns.answers'] = list.map((data, i) => ({ name: q, data, ttl: ttls[i] }));
        ev['dns.resolved_ip'] = list.filter((a) => /^[0-9.]+$|^[0-9a-f:]*:[0-9a-f:.]*$/i.test(a));
      }
      ev['event.action'] = 'query';
      break;
    }
    case 'ntlm': {
      const ok = ev['ntlm.success'];
      ev['event.action'] = 'ntlm-authenticate';
      ev['event.outcome'] = ok === true ? 'success' : ok === false ? 'failure' : 'unknown';
      break;
    }
    case 'smb_mapping':
      ev['event.action'] = 'tree-connect';
      if (ev['smb.tree'] !== undefined) ev['file.path'] = ev['smb.tree'];
      break;
    case 'smb_files': {
      const a = ev['zeek.smb_action'] as string | undefined;
      ev['event.action'] = a ? (SMB_ACTIONS[a] ?? a.replace(/^SMB::/, '').toLowerCase()) : 'file';
      break;
    }
    case 'kerberos': {
      const ok = ev['kerberos.success'];
      ev['event.outcome'] = ok === true ? 'success' : ok === false ? 'failure' : 'unknown';
      const client = ev['kerberos.client'] as string | undefined;
      if (client) {
        const slash = client.indexOf('/');
        ev['user.name'] = slash < 0 ? client : client.slice(0, slash);
        if (slash >= 0) ev['user.domain'] = client.slice(slash + 1);
      }
      break;
    }
    case 'rdp':
      if (typeof ev['rdp.cookie'] === 'string') ev['user.name'] = ev['rdp.cookie'];
      break;
    case 'weird':
      ev['event.action'] = (ev['weird.name'] as string | undefined) ?? 'weird';
      break;
  }
  return ev;
}
