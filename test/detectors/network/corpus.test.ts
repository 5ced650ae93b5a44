/**
 * Network detectors over real captures from ../shared/corpus/community-pcaps, read by
 * the project's capture reader (skipped when the corpus or the reader is absent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EvidenceReader } from '../../../src/readers/types.js';
import { corpusFile, repoRoot } from '../../support/corpus.js';

const readerPath = resolve(repoRoot, 'dist/src/readers/pcap/index.js');
const haveReader = existsSync(readerPath);

async function analyze(rel: string) {
  const { analyzeCapture } = await import('../../../conformance/suites/network-detections.js');
  const pcap = (await import('../../../src/readers/pcap/index.js')) as { pcapReader: EvidenceReader; pcapngReader: EvidenceReader };
  const path = corpusFile(`community-pcaps/${rel}`)!;
  return analyzeCapture(path, rel.endsWith('.pcapng') ? pcap.pcapngReader : pcap.pcapReader);
}

function skip(rel: string): string | false {
  if (!haveReader) return 'capture reader not built (src/readers/pcap)';
  return corpusFile(`community-pcaps/${rel}`) ? false : `corpus file not available: community-pcaps/${rel}`;
}

const CASES: { rel: string; check: (f: Awaited<ReturnType<typeof analyze>>['findings']) => void }[] = [
  {
    rel: 'gubertoli-ProbingDataset/old/pcap/zmap_tcp_5k.pcapng',
    check: (f) => {
      const s = f.find((x) => x.detector === 'net.scan');
      assert.ok(s);
      assert.equal(s!.facts!.tool, 'zmap');
      assert.equal(s!.outcome, 'compromised');
    },
  },
  { rel: 'ntop-nDPI/tests/cfgs/default/pcap/synscan.pcap', check: (f) => assert.equal(f.find((x) => x.detector === 'net.scan')?.facts!.tool, 'nmap') },
  {
    rel: 'initconf-RDP-bruteforce/tests/Traces/RDP-bruteforce.pcap',
    check: (f) => {
      const b = f.filter((x) => x.detector === 'net.bruteforce' && x.facts!.service === 'rdp');
      assert.ok(b.length >= 1);
      assert.ok(b.every((x) => x.src === '51.235.163.75'), 'the Zeek notice names 51.235.163.75');
    },
  },
  {
    rel: 'corelight-cve-2021-44228/testing/Traces/log4j-attack.pcap',
    check: (f) => assert.ok(f.some((x) => x.detector === 'net.web-exploit' && x.facts!.cve === 'CVE-2021-44228')),
  },
  { rel: 'nesfit-DI-cryptominingdetection/PCAPs/xmr-eu1.nanopool.org.pcapng', check: (f) => assert.ok(f.some((x) => x.detector === 'net.mining' && x.outcome === 'compromised')) },
  {
    rel: '401trg-detections/pcaps/20171220_smb_psexec_add_user.pcap',
    check: (f) => {
      const l = f.find((x) => x.detector === 'net.lateral' && x.facts!.kind === 'remote-execution');
      assert.ok(l);
      assert.ok(l!.attack.includes('T1569.002'));
      assert.ok(l!.evidence.every((r) => r.evidence === 'E1' && typeof r.frame === 'number'));
    },
  },
  { rel: 'corelight-zeek-caldera-detector/testing/Traces/ragdoll.pcap', check: (f) => assert.ok(f.some((x) => x.detector === 'net.c2' && String(x.facts!.tool).includes('Ragdoll'))) },
];

for (const c of CASES) {
  test(`corpus: ${c.rel}`, { skip: skip(c.rel) }, async () => {
    const r = await analyze(c.rel);
    assert.equal(r.error, undefined);
    c.check(r.findings);
  });
}
