/**
 * The simulator's benign office day (monitoring every minute, update checks, browsing, file
 * shares, an administrator who mistypes an RDP password twice) written as a real pcap, read
 * with spoor's reader and fed to every network detector: nothing may be raised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpoorEvent } from '../../../src/core/event.js';
import { HomeNet } from '../../../src/core/homenet.js';
import { networkDetectors } from '../../../src/detectors/network/index.js';
import { pcapReader } from '../../../src/readers/pcap/index.js';
import { runScenario } from '../../../src/simulate/index.js';

test('the simulated benign office day raises no network finding', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spoor-netdet-benign-'));
  try {
    const { truth } = await runScenario('benign-office', dir, { seed: 2, scale: 0.5 });
    const homeNet = new HomeNet(truth.home_nets);
    const dets = networkDetectors.map((m) => m.create({ homeNet, settings: { [m.id]: { ...m.defaults } } }));
    const path = join(dir, 'office.pcap');
    const ctx = { evidenceId: 'E1', path, homeNet, problem: () => {}, stats: { records: 0, errors: 0 } };
    const seen: Record<string, number> = {};
    let rdpAdmin = 0;
    for await (const batch of pcapReader.read(createReadStream(path), ctx)) {
      for (const e of batch as SpoorEvent[]) {
        const ds = e['event.dataset'];
        seen[ds] = (seen[ds] ?? 0) + 1;
        if (ds === 'rdp' && e['rdp.cookie'] === 'administrator') rdpAdmin++;
        for (const d of dets) if (d.datasets.includes(ds)) d.observe(e);
      }
    }
    // the day really holds what looks suspicious to a naive detector
    assert.ok(rdpAdmin >= 2, `admin RDP attempts: ${rdpAdmin}`);
    assert.ok((seen.conn ?? 0) > 1000 && (seen.dns ?? 0) > 100 && (seen.http ?? 0) > 10, JSON.stringify(seen));
    assert.ok(truth.benign_periodic.length >= 4);
    const findings = dets.flatMap((d) => d.finish());
    assert.deepEqual(
      findings.map((f) => `${f.detector} ${f.outcome}: ${f.summary.en}`),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
