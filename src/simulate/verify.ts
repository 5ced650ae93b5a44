/**
 * Checks of simulated evidence against the reference tools: evtxexport (libevtx),
 * evtx_dump.py (python-evtx) and tshark. Used by the conformance suite and the tests.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIG = 1 << 30;

export interface ToolRecord { recordId: number; eventId: number; timeMs: number; channel: string; computer: string; data: Record<string, string> }

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e];
  });
}

/** Parse a time as either tool prints it ("2024-06-03T01:17:04.270000000Z" or "2024-06-03 01:17:04.269999") to ms. */
export function toolTimeMs(s: string): number {
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?/.exec(s.trim());
  if (!m) return NaN;
  const base = Date.parse(`${m[1]}T${m[2]}Z`);
  const frac = m[3] ? Number(`0.${m[3]}`) * 1000 : 0;
  return Math.round(base + frac);
}

/** Split rendered XML into records (both tools print one <Event ...>...</Event> per record). */
export function parseEventXml(text: string): ToolRecord[] {
  const out: ToolRecord[] = [];
  const re = /<Event[\s>][\s\S]*?<\/Event>/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const x = m[0];
    const g = (r: RegExp) => (r.exec(x)?.[1] ?? '');
    const data: Record<string, string> = {};
    const dre = /<Data Name="([^"]*)"(?:\s*\/>|>([\s\S]*?)<\/Data>)/g;
    let d: RegExpExecArray | null;
    while ((d = dre.exec(x))) data[unescapeXml(d[1])] = unescapeXml(d[2] ?? '');
    out.push({
      recordId: Number(g(/<EventRecordID>(\d+)<\/EventRecordID>/)),
      eventId: Number(g(/<EventID[^>]*>(\d+)<\/EventID>/)),
      timeMs: toolTimeMs(g(/<TimeCreated SystemTime="([^"]+)"/)),
      channel: unescapeXml(g(/<Channel>([\s\S]*?)<\/Channel>/)),
      computer: unescapeXml(g(/<Computer>([\s\S]*?)<\/Computer>/)),
      data,
    });
  }
  return out;
}

export async function evtxexportRecords(path: string): Promise<{ records: ToolRecord[]; stderr: string }> {
  const { stdout, stderr } = await run('evtxexport', ['-f', 'xml', path], { maxBuffer: BIG, encoding: 'utf8' });
  return { records: parseEventXml(stdout), stderr };
}

export async function evtxDumpRecords(path: string): Promise<{ records: ToolRecord[]; stderr: string }> {
  const { stdout, stderr } = await run('evtx_dump.py', [path], { maxBuffer: BIG, encoding: 'utf8' });
  return { records: parseEventXml(stdout), stderr };
}

export interface EvtxComparison { a: number; b: number; matched: number; mismatches: string[] }

/** Compare two record lists by record id: event id, time (ms), channel, computer and every Data value. */
export function compareRecords(a: ToolRecord[], b: ToolRecord[], max = 10): EvtxComparison {
  const byId = new Map(b.map((r) => [r.recordId, r]));
  const mismatches: string[] = [];
  let matched = 0;
  for (const r of a) {
    const o = byId.get(r.recordId);
    const why: string[] = [];
    if (!o) why.push('missing');
    else {
      if (o.eventId !== r.eventId) why.push(`EventID ${r.eventId}≠${o.eventId}`);
      if (Math.abs(o.timeMs - r.timeMs) > 1) why.push(`time ${r.timeMs}≠${o.timeMs}`);
      if (o.channel !== r.channel) why.push('Channel');
      if (o.computer !== r.computer) why.push('Computer');
      const keys = new Set([...Object.keys(r.data), ...Object.keys(o.data)]);
      for (const k of keys) if ((r.data[k] ?? '') !== (o.data[k] ?? '')) why.push(`Data ${k}: ${JSON.stringify(r.data[k])}≠${JSON.stringify(o.data[k])}`);
    }
    if (why.length) { if (mismatches.length < max) mismatches.push(`record ${r.recordId}: ${why.join('; ')}`); } else matched++;
  }
  return { a: a.length, b: b.length, matched, mismatches };
}

export interface TsharkCheck { packets: number; malformed: number; checksumErrors: number; errors: number; tcpStreams: number; udpStreams: number; expertErrors: string[] }

/** tshark with checksum validation: expert errors (malformed, bad checksums) and stream counts. */
export async function tsharkCheck(path: string): Promise<TsharkCheck> {
  const opts = ['-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE'];
  const ex = await run('tshark', ['-n', '-r', path, ...opts, '-z', 'expert,warn', '-q'], { maxBuffer: BIG, encoding: 'utf8' });
  const expertErrors: string[] = [];
  let malformed = 0, checksumErrors = 0, errors = 0;
  let section = '';
  for (const line of ex.stdout.split('\n')) {
    const h = /^(Errors|Warns|Notes|Chats) \((\d+)\)/.exec(line);
    if (h) { section = h[1]; if (section === 'Errors') errors = Number(h[2]); continue; }
    const row = /^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!row) continue;
    const [, n, group, proto, summary] = row;
    if (group === 'Malformed' || /Malformed/i.test(summary)) malformed += Number(n);
    if (group === 'Checksum' || /checksum/i.test(summary)) checksumErrors += Number(n);
    if (section === 'Errors') expertErrors.push(`${n} ${group} ${proto} ${summary}`);
  }
  const f = await run('tshark', ['-n', '-r', path, '-T', 'fields', '-e', 'tcp.stream', '-e', 'udp.stream'], { maxBuffer: BIG, encoding: 'utf8' });
  const tcp = new Set<string>(), udp = new Set<string>();
  let packets = 0;
  for (const line of f.stdout.split('\n')) {
    if (!line) continue;
    packets++;
    const [t, u] = line.split('\t');
    if (t) tcp.add(t);
    if (u) udp.add(u);
  }
  return { packets, malformed, checksumErrors, errors, tcpStreams: tcp.size, udpStreams: udp.size, expertErrors };
}
