/**
 * Protocol-analyzer conformance (TLS/X.509, SMB, NTLM, DCE/RPC, RDP, SSH, Kerberos):
 *  1. Zeek's own test baselines (../shared/corpus/zeek, manifest.tsv maps trace → baseline):
 *     ssl.log, x509.log, smb_files.log, smb_mapping.log, ntlm.log, rdp.log, ssh.log,
 *     dce_rpc.log, kerberos.log. Rows are matched by 5-tuple and order (ts/uid are masked),
 *     x509 rows by certificate fingerprint; per log: rows_expected, rows_identical, pct.
 *  2. tshark on the same captures: TLS SNI and JA3 per ClientHello, NTLMSSP user/domain per
 *     AUTHENTICATE, SMB2 NT status per response of the commands spoor records (multiset overlap).
 *  3. suricata-verify test.yaml expectations for SMB/DCERPC/RDP that map onto spoor records
 *     (file names opened, shares, NTLMSSP user/domain, DCE/RPC interface/operation, RDP cookie).
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { analyzeCapture } from '../../src/network/engine.js';
import { analyzers } from '../../src/network/analyzers/index.js';
import { compareLogRows, parseZeekLog, tupleKey } from '../../src/network/zeeklog.js';
import type { SpoorEvent } from '../../src/core/event.js';

type Row = Record<string, string>;

const zb = (b: unknown) => (b === true ? 'T' : b === false ? 'F' : '-');
const zv = (v: unknown) => (v === undefined || v === null || v === '' ? '-' : Array.isArray(v) ? (v.length ? v.join(',') : '(empty)') : String(v));
/** Zeek escapes non-printable bytes and backslash-doubles nothing in TSV, but its TSV writer escapes '\\' as '\\\\'. */
const zs = (s: unknown) => (typeof s === 'string' && s !== '' ? s.replace(/\\/g, '\\\\') : zv(s));
const ztime = (ms: unknown) => (typeof ms === 'number' ? (ms / 1000).toFixed(6) : '-');

function tuple(e: SpoorEvent): Row {
  return {
    'id.orig_h': String(e['source.ip']), 'id.orig_p': String(e['source.port']),
    'id.resp_h': String(e['destination.ip']), 'id.resp_p': String(e['destination.port']),
  };
}

const SMB_ACTION: Record<string, string> = { create: 'SMB::FILE_OPEN', write: 'SMB::FILE_WRITE', read: 'SMB::FILE_READ', close: 'SMB::FILE_CLOSE', delete: 'SMB::FILE_DELETE', rename: 'SMB::FILE_RENAME' };

/** spoor records → Zeek-log-shaped rows, per log type. */
const CONVERT: Record<string, (ev: SpoorEvent[]) => Row[]> = {
  ssl: (ev) => ev.filter((e) => e['event.dataset'] === 'tls').map((e) => ({
    ...tuple(e), version: zv(e['tls.version']), cipher: zv(e['tls.cipher']), server_name: zs(e['tls.client.server_name']),
    cert_chain_fps: zv(e['tls.server.certificate_chain_fps']), subject: zs(e['tls.server.x509.subject']), issuer: zs(e['tls.server.x509.issuer']),
    established: zb(e['tls.established']),
  })),
  x509: (ev) => {
    const rows: Row[] = [];
    for (const e of ev) {
      if (e['event.dataset'] !== 'tls' && e['event.dataset'] !== 'rdp') continue;
      for (const key of ['tls.server.x509.chain', 'tls.client.x509.chain', 'rdp.x509.chain']) {
        for (const c of (e[key] as Record<string, unknown>[] | undefined) ?? []) {
          rows.push({
            fingerprint: String(c.sha256), 'certificate.version': zv(c.version), 'certificate.serial': zv(c.serial),
            'certificate.subject': zs(c.subject), 'certificate.issuer': zs(c.issuer),
            'certificate.not_valid_before': ztime(c.not_before), 'certificate.not_valid_after': ztime(c.not_after),
            'san.dns': zv(c.san),
          });
        }
      }
    }
    return rows;
  },
  smb_mapping: (ev) => ev.filter((e) => e['event.dataset'] === 'smb' && e['event.action'] === 'tree-connect' && e['event.outcome'] === 'success')
    .map((e) => ({ ...tuple(e), path: zs(e['smb.tree']), share_type: zv(e['smb.share_type']) })),
  smb_files: (ev) => ev.filter((e) => e['event.dataset'] === 'smb' && SMB_ACTION[e['event.action'] as string] && !e['smb.pipe'] && e['event.outcome'] !== 'failure')
    .map((e) => ({ ...tuple(e), action: SMB_ACTION[e['event.action'] as string], path: zs(e['smb.tree']), name: zs(e['file.name']) })),
  ntlm: (ev) => ev.filter((e) => e['event.dataset'] === 'ntlm').map((e) => ({
    ...tuple(e), username: zs(e['user.name']), domainname: zs(e['user.domain']), hostname: zs(e['ntlm.workstation']),
    server_nb_computer_name: zs(e['ntlm.server_nb_computer']), server_dns_computer_name: zs(e['ntlm.server_dns_computer']),
    server_tree_name: zs(e['ntlm.server_tree']), success: zb(e['ntlm.success']),
  })),
  rdp: (ev) => ev.filter((e) => e['event.dataset'] === 'rdp').map((e) => ({
    ...tuple(e), cookie: e['rdp.cookie'] === '' ? '(empty)' : zs(e['rdp.cookie']), result: zv(e['rdp.result']), security_protocol: zv(e['rdp.selected_protocol']),
    cert_type: zv(e['rdp.cert_type']), cert_count: zv(e['rdp.cert_count'] ?? 0), cert_permanent: zb(e['rdp.cert_permanent']),
    encryption_level: zv(e['rdp.encryption_level']), encryption_method: zv(e['rdp.encryption_method']),
    client_name: zs(e['rdp.client_name']), desktop_width: zv(e['rdp.desktop_width']), desktop_height: zv(e['rdp.desktop_height']),
  })),
  ssh: (ev) => ev.filter((e) => e['event.dataset'] === 'ssh').map((e) => ({
    ...tuple(e), version: zv(e['ssh.version']), auth_success: zb(e['ssh.auth_success']), auth_attempts: zv(e['ssh.auth_attempts']),
    client: zs(e['ssh.client']), server: zs(e['ssh.server']), cipher_alg: zv(e['ssh.cipher_alg']), mac_alg: zv(e['ssh.mac_alg']),
    compression_alg: zv(e['ssh.compression_alg']), kex_alg: zv(e['ssh.kex_alg']), host_key_alg: zv(e['ssh.host_key_alg']),
  })),
  dce_rpc: (ev) => ev.filter((e) => e['event.dataset'] === 'dcerpc').map((e) => ({
    ...tuple(e), endpoint: zv(e['dcerpc.endpoint']), operation: zv(e['dcerpc.operation']),
  })),
  kerberos: (ev) => ev.filter((e) => e['event.dataset'] === 'kerberos').map((e) => ({
    ...tuple(e), request_type: zv(e['kerberos.request_type']), client: zs(e['kerberos.client']), service: zs(e['kerberos.service']),
    success: zb(e['kerberos.success']), error_msg: zv(e['kerberos.error_msg']), cipher: zv(e['kerberos.cipher']),
  })),
};

/** Compared fields per log (only those present in the baseline's #fields are compared). */
const FIELDS: Record<string, string[]> = {
  ssl: ['version', 'cipher', 'server_name', 'cert_chain_fps', 'subject', 'issuer'],
  x509: ['certificate.serial', 'certificate.subject', 'certificate.issuer', 'certificate.not_valid_before', 'certificate.not_valid_after', 'san.dns'],
  smb_mapping: ['path', 'share_type'],
  smb_files: ['action', 'path', 'name'],
  ntlm: ['username', 'domainname', 'hostname', 'success', 'server_nb_computer_name', 'server_dns_computer_name'],
  rdp: ['cookie', 'result', 'security_protocol', 'client_name', 'desktop_width', 'desktop_height', 'cert_type', 'cert_count', 'cert_permanent', 'encryption_level', 'encryption_method'],
  ssh: ['version', 'auth_success', 'auth_attempts', 'client', 'server', 'cipher_alg', 'mac_alg', 'compression_alg', 'kex_alg', 'host_key_alg'],
  dce_rpc: ['endpoint', 'operation'],
  kerberos: ['request_type', 'client', 'service', 'success', 'error_msg'],
};

/** Row key: 5-tuple (no proto column in these logs); x509 by fingerprint; smb_files by tuple + action + name (Zeek dedups). */
const KEYS: Record<string, (r: Row) => string> = {
  x509: (r) => r.fingerprint,
  smb_files: (r) => `${tupleKey({ ...r, proto: '' })}|${r.action}|${r.name}`,
};

function hasTool(t: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

function tshark(file: string, filter: string, fields: string[]): string[][] {
  try {
    const out = execFileSync('tshark', ['-r', file, '-n', '-Y', filter, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|', ...fields.flatMap((f) => ['-e', f])],
      { encoding: 'latin1', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
  } catch { return []; }
}

/** Multiset overlap of two string lists. */
function overlap(expected: string[], actual: string[]): number {
  const m = new Map<string, number>();
  for (const a of actual) m.set(a, (m.get(a) ?? 0) + 1);
  let n = 0;
  for (const e of expected) { const c = m.get(e) ?? 0; if (c > 0) { n++; m.set(e, c - 1); } }
  return n;
}

const pct = (a: number, b: number) => (b ? Math.round((1000 * a) / b) / 10 : 100);

export default {
  name: 'protocols',
  async run(ctx: { corpus: string; repoRoot: string; tmp: string }) {
    const figures: Record<string, number> = {};
    const report: string[] = ['# Protocol analyzers conformance', ''];
    const cache = new Map<string, SpoorEvent[]>();
    const eventsOf = async (file: string): Promise<SpoorEvent[]> => {
      let ev = cache.get(file);
      if (!ev) {
        let buf = readFileSync(file);
        if (file.endsWith('.gz')) buf = gunzipSync(buf);
        ev = (await analyzeCapture(buf, { evidence: 'E1', analyzers })).events.filter((e) => e['event.dataset'] !== 'conn');
        cache.set(file, ev);
      }
      return ev;
    };

    // ------------------------------------------------------------ 1. Zeek baselines
    const zeek = join(ctx.corpus, 'zeek');
    const manifest = readFileSync(join(zeek, 'manifest.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t'));
    const byTest = new Map<string, { traces: string[]; baselines: string[] }>();
    for (const [trace, present, test, , copied] of manifest) {
      if (present !== 'yes' || !copied || copied === '-') continue;
      const logs = copied.split(',').filter((b) => CONVERT[b.split('/').pop()!.replace(/\.log$/, '')]);
      if (!logs.length) continue;
      const t = byTest.get(test) ?? { traces: [], baselines: logs };
      if (!t.traces.includes(trace)) t.traces.push(trace);
      byTest.set(test, t);
    }
    const totals: Record<string, { rows: number; identical: number; diffs: string[] }> = {};
    for (const [test, { traces, baselines }] of byTest) {
      const ev: SpoorEvent[] = [];
      for (const t of traces) {
        const p = join(zeek, t);
        if (existsSync(p)) ev.push(...(await eventsOf(p)));
      }
      for (const b of baselines) {
        const type = b.split('/').pop()!.replace(/\.log$/, '');
        const bp = join(zeek, b);
        if (!existsSync(bp)) continue;
        const log = parseZeekLog(readFileSync(bp, 'utf8'));
        const expected = log.rows;
        const actual = CONVERT[type](ev);
        const fields = FIELDS[type].filter((f) => log.fields.includes(f));
        const key = KEYS[type] ?? ((r: Row) => tupleKey({ ...r, proto: '' }));
        const exp = type === 'smb_files' ? dedup(expected, key) : expected;
        const act = type === 'smb_files' ? dedup(actual, key) : actual;
        const res = compareLogRows(exp, act, fields, key);
        const tot = (totals[type] ??= { rows: 0, identical: 0, diffs: [] });
        tot.rows += res.rows;
        tot.identical += res.identical;
        for (const d of res.diffs.slice(0, 6)) tot.diffs.push(`${test}: ${d.key} ${d.field}: expected \`${d.expected}\` got \`${d.actual}\``);
      }
    }
    report.push('## Zeek baselines', '', '| log | rows expected | rows identical | % |', '| --- | --- | --- | --- |');
    for (const [type, t] of Object.entries(totals)) {
      figures[`${type}.rows_expected`] = t.rows;
      figures[`${type}.rows_identical`] = t.identical;
      figures[`${type}.pct`] = pct(t.identical, t.rows);
      report.push(`| ${type} | ${t.rows} | ${t.identical} | ${pct(t.identical, t.rows)} |`);
    }
    report.push('', '### Differences (first per test)', '');
    for (const [type, t] of Object.entries(totals)) for (const d of t.diffs.slice(0, 25)) report.push(`- ${type}: ${d.replace(/\|/g, '\\|')}`);

    // ------------------------------------------------------------ 2. tshark fields
    const ja3Misses: string[] = [];
    const statusMisses: string[] = [];
    if (hasTool('tshark') && !process.env.SPOOR_PROTOCOLS_SKIP_EXTERNAL) {
      const files = [...new Set([
        ...listCaptures(join(zeek, 'Traces', 'tls')), ...listCaptures(join(zeek, 'Traces', 'rdp')), ...listCaptures(join(zeek, 'Traces', 'smb')),
        ...listCaptures(join(zeek, 'Traces', 'dce-rpc')), ...listCaptures(join(ctx.corpus, 'community-pcaps', '401trg-detections')),
      ])];
      const sni = { exp: 0, same: 0 }, ja3 = { exp: 0, same: 0 }, ntlmU = { exp: 0, same: 0 }, st = { exp: 0, same: 0 };
      const cmdName: Record<string, string> = { '0': 'negotiate', '1': 'session-setup', '3': 'tree-connect', '5': 'create' };
      const norm = (x: string) => (x === 'NULL' ? '' : x);
      for (const f of files) {
        // One tshark pass per file: ClientHellos, NTLMSSP AUTHENTICATE messages, SMB2 responses.
        const rows = tshark(f, '(tls.handshake.type == 1 || ntlmssp.messagetype == 3 || smb2.flags.response == 1) && !tcp.analysis.retransmission',
          ['tls.handshake.type', 'tls.handshake.extensions_server_name', 'tls.handshake.ja3', 'ntlmssp.messagetype', 'ntlmssp.auth.username', 'ntlmssp.auth.domain', 'smb2.cmd', 'smb2.nt_status', 'smb2.flags.response']);
        const all = await eventsOf(f);
        const tls = all.filter((e) => e['event.dataset'] === 'tls');
        const es: string[] = [], ej: string[] = [], en: string[] = [], expS: string[] = [];
        for (const r of rows) {
          const types = (r[0] ?? '').split('|');
          if (types.includes('1')) {
            if (r[1]) es.push(r[1]);
            if (r[2]) ej.push(r[2].split('|')[0]);
          }
          if ((r[3] ?? '').split('|').some((x) => Number(x) === 3)) {
            const us = (r[4] ?? '').split('|'), ds = (r[5] ?? '').split('|');
            us.forEach((u, i) => en.push(`${norm(u)}\\${norm(ds[i] ?? '')}`));
          }
          if (r[6]) {
            const cmds = r[6].split('|'), sts = (r[7] ?? '').split('|'), resp = (r[8] ?? '').split('|');
            cmds.forEach((c, i) => {
              if (!cmdName[c] || (resp[i] ?? resp[0]) !== '1' && (resp[i] ?? resp[0]) !== 'True') return;
              const sv = Number(sts[i] ?? sts[0]);
              if ((c === '1' && sv === 0xc0000016) || sv === 0x103) return;
              expS.push(`${cmdName[c]}:0x${sv.toString(16).padStart(8, '0')}`);
            });
          }
        }
        sni.exp += es.length;
        sni.same += overlap(es, tls.map((e) => String(e['tls.client.server_name'] ?? '')));
        ja3.exp += ej.length;
        ja3.same += overlap(ej, tls.map((e) => String(e['tls.client.ja3'] ?? '')));
        ntlmU.exp += en.length;
        ntlmU.same += overlap(en, all.filter((e) => e['event.dataset'] === 'ntlm').map((e) => `${e['user.name'] ?? ''}\\${e['user.domain'] ?? ''}`));
        const gotS = all.filter((e) => e['event.dataset'] === 'smb' && (e['smb.version'] as number) >= 2 && e['smb.command']).map((e) => `${e['smb.command']}:${e['smb.status']}`);
        if (overlap(expS, gotS) < expS.length && statusMisses.length < 10) statusMisses.push(`${f.replace(ctx.corpus + '/', '')} (${overlap(expS, gotS)}/${expS.length})`);
        st.exp += expS.length;
        st.same += overlap(expS, all.filter((e) => e['event.dataset'] === 'smb' && (e['smb.version'] as number) >= 2 && e['smb.command']).map((e) => `${e['smb.command']}:${e['smb.status']}`));
        if (ej.length > overlap(ej, tls.map((e) => String(e['tls.client.ja3'] ?? ''))) && ja3Misses.length < 10) ja3Misses.push(f.replace(ctx.corpus + '/', ''));
      }
      const put = (n: string, v: { exp: number; same: number }) => {
        figures[`tshark.${n}.rows_expected`] = v.exp;
        figures[`tshark.${n}.rows_identical`] = v.same;
        figures[`tshark.${n}.pct`] = pct(v.same, v.exp);
        report.push(`| ${n} | ${v.exp} | ${v.same} | ${pct(v.same, v.exp)} |`);
      };
      report.push('', '## tshark fields (same captures)', '', '| field | tshark values | spoor identical | % |', '| --- | --- | --- | --- |');
      put('tls_sni', sni);
      put('tls_ja3', ja3);
      put('ntlmssp_user_domain', ntlmU);
      put('smb2_nt_status', st);
      if (ja3Misses.length) report.push('', `JA3 differences in: ${ja3Misses.join(', ')}`);
      if (statusMisses.length) report.push('', `SMB2 status differences in: ${statusMisses.join(', ')}`);
    } else report.push('', 'tshark not installed: tshark comparison skipped.');

    // ------------------------------------------------------------ 3. suricata-verify
    const sv = join(ctx.corpus, 'suricata-verify', 'tests');
    if (existsSync(sv)) {
      let exp = 0, ok = 0;
      const misses: string[] = [];
      for (const t of readdirSync(sv).filter((d) => /smb|dcerpc|rdp/.test(d)).sort()) {
        const dir = join(sv, t);
        if (!existsSync(join(dir, 'test.yaml'))) continue;
        let y: { checks?: { filter?: { match?: Record<string, unknown> } }[] };
        try { y = parseYaml(readFileSync(join(dir, 'test.yaml'), 'utf8')); } catch { continue; }
        const caps = readdirSync(dir).filter((n) => /\.(pcap|pcapng)$/.test(n));
        if (!caps.length) continue;
        const ev: SpoorEvent[] = [];
        for (const c of caps) ev.push(...(await eventsOf(join(dir, c))));
        for (const chk of y.checks ?? []) {
          const m = chk.filter?.match;
          if (!m) continue;
          const exps = svExpectations(m);
          for (const [label, pred] of exps) {
            exp++;
            if (ev.some(pred)) ok++;
            else if (misses.length < 40) misses.push(`${t}: ${label}`);
          }
        }
      }
      figures['suricata.expectations'] = exp;
      figures['suricata.met'] = ok;
      figures['suricata.pct'] = pct(ok, exp);
      report.push('', '## suricata-verify expectations (SMB/DCERPC/RDP)', '', `${ok} of ${exp} met (${pct(ok, exp)} %).`, '');
      for (const m of misses) report.push(`- missed ${m}`);
    }
    return { figures, report: report.join('\n') };
  },
};

function dedup(rows: Row[], key: (r: Row) => string): Row[] {
  const seen = new Set<string>();
  return rows.filter((r) => { const k = key(r); if (seen.has(k)) return false; seen.add(k); return true; });
}

function listCaptures(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, n.name);
      if (n.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|cap)$/i.test(n.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Map one suricata-verify `match` block onto spoor record predicates (only the fields spoor records). */
function svExpectations(m: Record<string, unknown>): [string, (e: SpoorEvent) => boolean][] {
  const out: [string, (e: SpoorEvent) => boolean][] = [];
  const norm = (s: string) => s.replace(/^\\+/, '').toLowerCase();
  if (m.event_type === 'smb') {
    if (typeof m['smb.filename'] === 'string' && /CREATE|NT_CREATE/.test(String(m['smb.command'] ?? 'CREATE'))) {
      const fn = norm(m['smb.filename'] as string);
      out.push([`smb create ${fn}`, (e) => e['event.dataset'] === 'smb' && e['event.action'] === 'create' && norm(String(e['file.name'] ?? '')) === fn]);
    }
    if (typeof m['smb.share'] === 'string') {
      const sh = (m['smb.share'] as string).toLowerCase();
      out.push([`smb tree ${sh}`, (e) => e['event.dataset'] === 'smb' && e['event.action'] === 'tree-connect' && String(e['smb.tree'] ?? '').toLowerCase() === sh]);
    }
    if (typeof m['smb.ntlmssp.user'] === 'string') {
      const u = m['smb.ntlmssp.user'] as string, d = String(m['smb.ntlmssp.domain'] ?? '');
      out.push([`ntlm ${d}\\${u}`, (e) => e['event.dataset'] === 'ntlm' && e['user.name'] === u && (!d || e['user.domain'] === d)]);
    }
  }
  if (m.event_type === 'dcerpc' || m.event_type === 'smb') {
    const svc = m['dcerpc.interfaces[0].service'] ?? m['smb.dcerpc.interfaces[0].service'];
    if (typeof svc === 'string') out.push([`dcerpc uuid ${svc}`, (e) => e['event.dataset'] === 'dcerpc' && e['dcerpc.uuid'] === svc.toLowerCase()]);
    const opnum = m['dcerpc.req.opnum'] ?? m['smb.dcerpc.opnum'];
    if (typeof opnum === 'number') out.push([`dcerpc opnum ${opnum}`, (e) => e['event.dataset'] === 'dcerpc' && e['dcerpc.opnum'] === opnum]);
  }
  if (m.event_type === 'rdp') {
    const cookie = m['rdp.cookie'];
    if (typeof cookie === 'string') out.push([`rdp cookie ${cookie}`, (e) => e['event.dataset'] === 'rdp' && e['rdp.cookie'] === cookie]);
  }
  return out;
}
