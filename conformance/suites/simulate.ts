/**
 * Simulator conformance: every simulated evidence file must read cleanly in the
 * reference tools.
 *
 * - EVTX: evtxexport (libevtx) and evtx_dump.py (python-evtx) must both return every
 *   record the simulator wrote, with identical EventID, time, Channel, Computer and
 *   every EventData value; spoor's own reader is compared with evtxexport the same way.
 * - Captures: tshark with IP/TCP/UDP checksum validation must report no malformed
 *   packet and no checksum error, and its TCP/UDP stream counts must equal the
 *   simulator's conversation counts (truth.json `evidence`).
 *
 * Figures: evtx_records_matched_pct (evtxexport ≡ evtx_dump.py ≡ written),
 * evtx_spoor_matched_pct, pcap_malformed (0 expected), pcap_checksum_errors (0 expected),
 * pcap_clean_pct, conversations_matched (captures whose stream counts match exactly),
 * captures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { runScenario } from '../../src/simulate/index.js';
import type { Truth } from '../../src/simulate/index.js';
import { compareRecords, evtxDumpRecords, evtxexportRecords, tsharkCheck, type ToolRecord } from '../../src/simulate/verify.js';
import { parseEvtxBuffer } from '../../src/readers/evtx/index.js';

interface Ctx { corpus: string; repoRoot: string; tmp: string }

function have(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** spoor's reader output as ToolRecords (values normalised like the tools print them). */
function spoorRecords(path: string): ToolRecord[] {
  const evs = parseEvtxBuffer(readFileSync(path), 'sim') as unknown as Record<string, unknown>[];
  return evs.filter((e) => !e['winlog.recovered']).map((e) => ({
    recordId: Number(e['winlog.record_id']),
    eventId: Number(e['winlog.event_id']),
    timeMs: Number(e['@timestamp']),
    channel: String(e['winlog.channel'] ?? ''),
    computer: String(e['winlog.computer_name'] ?? ''),
    data: Object.fromEntries(Object.entries((e['winlog.event_data'] ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v ?? '')])),
  }));
}

/** Hex values may be printed padded (0x00000000000003e7) or not (0x3e7): compare numerically. */
function normHex(r: ToolRecord): ToolRecord {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.data)) data[k] = /^0x[0-9a-f]+$/i.test(v) ? '0x' + BigInt(v).toString(16) : v;
  return { ...r, data };
}

export default {
  name: 'simulate',
  async run(ctx: Ctx): Promise<{ figures: Record<string, number>; report: string }> {
    const lines: string[] = ['# Simulator conformance', ''];
    const truths: { dir: string; truth: Truth }[] = [];
    const t0 = Date.now();
    for (const name of ['case1-rdp-bruteforce', 'case2-spring-webshell-c2-lateral', 'benign-office']) {
      const dir = join(ctx.tmp, 'simulate', name);
      const res = await runScenario(name, dir, { seed: 7 });
      truths.push({ dir, truth: res.truth });
    }
    lines.push(`Simulated 3 scenarios (seed 7) in ${((Date.now() - t0) / 1000).toFixed(1)} s.`, '');
    const hasExport = have('evtxexport'), hasDump = have('evtx_dump.py'), hasTshark = have('tshark');
    let written = 0, matched = 0, spoorMatched = 0;
    let malformed = 0, checksum = 0, captures = 0, convMatched = 0, cleanCaptures = 0;
    lines.push('| file | written | evtxexport | evtx_dump.py | matched | spoor matched |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    const notes: string[] = [];
    for (const { dir, truth } of truths) {
      for (const ev of truth.evidence) {
        const path = join(dir, ev.file);
        if (ev.format === 'evtx') {
          written += ev.records ?? 0;
          if (!hasExport || !hasDump) continue;
          const a = await evtxexportRecords(path);
          const b = await evtxDumpRecords(path);
          const cmp = compareRecords(a.records, b.records);
          const ok = a.records.length === ev.records && b.records.length === ev.records ? cmp.matched : 0;
          matched += ok;
          // spoor adds derived names (LogonType_name ...): compare the fields the tools print
          const toolKeys = new Map(a.records.map((r) => [r.recordId, new Set(Object.keys(r.data))]));
          const mine = spoorRecords(path).map((r) => ({ ...r, data: Object.fromEntries(Object.entries(r.data).filter(([k]) => toolKeys.get(r.recordId)?.has(k) ?? true)) }));
          const sp = compareRecords(mine.map(normHex), a.records.map(normHex));
          spoorMatched += sp.matched;
          lines.push(`| ${truth.scenario}/${ev.file} | ${ev.records} | ${a.records.length} | ${b.records.length} | ${ok} | ${sp.matched} |`);
          if (a.stderr.trim()) notes.push(`evtxexport stderr on ${ev.file}: ${a.stderr.trim().slice(0, 300)}`);
          notes.push(...cmp.mismatches.map((m) => `${ev.file} evtxexport vs evtx_dump: ${m}`));
          notes.push(...sp.mismatches.slice(0, 5).map((m) => `${ev.file} spoor vs evtxexport: ${m}`));
        }
      }
    }
    lines.push('', '| capture | packets (sim/tshark) | TCP conv (sim/tshark) | UDP conv (sim/tshark) | malformed | checksum errors |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const { dir, truth } of truths) {
      for (const ev of truth.evidence) {
        if (ev.format !== 'pcap' && ev.format !== 'pcapng') continue;
        captures++;
        if (!hasTshark) continue;
        const c = await tsharkCheck(join(dir, ev.file));
        malformed += c.malformed;
        checksum += c.checksumErrors;
        if (c.malformed === 0 && c.checksumErrors === 0 && c.errors === 0) cleanCaptures++;
        if (c.tcpStreams === ev.tcp_conversations && c.udpStreams === ev.udp_conversations && c.packets === ev.packets) convMatched++;
        lines.push(`| ${truth.scenario}/${ev.file} | ${ev.packets}/${c.packets} | ${ev.tcp_conversations}/${c.tcpStreams} | ${ev.udp_conversations}/${c.udpStreams} | ${c.malformed} | ${c.checksumErrors} |`);
        notes.push(...c.expertErrors.map((e) => `${ev.file} tshark error: ${e}`));
      }
    }
    if (!hasExport || !hasDump) notes.push('evtxexport or evtx_dump.py not installed: EVTX figures are 0');
    if (!hasTshark) notes.push('tshark not installed: capture figures are 0');
    if (notes.length) lines.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
    const figures = {
      evtx_records_matched_pct: written ? (100 * matched) / written : 0,
      evtx_spoor_matched_pct: written ? (100 * spoorMatched) / written : 0,
      pcap_malformed: hasTshark ? malformed : -1,
      pcap_checksum_errors: hasTshark ? checksum : -1,
      pcap_clean_pct: captures && hasTshark ? (100 * cleanCaptures) / captures : 0,
      conversations_matched: convMatched,
      captures,
    };
    return { figures, report: lines.join('\n') + '\n' };
  },
};
