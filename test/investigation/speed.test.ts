import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HomeNet } from '../../src/core/homenet.js';
import type { Finding } from '../../src/core/finding.js';
import { analyze, groupRecs, isIncident, mayBeIncident } from '../../src/investigation/chain.js';
import { buildGraph, buildRecs, Resolver } from '../../src/investigation/graph.js';
import { benign, C1, case1, case2 } from './fixtures.js';

function noise(n: number): Finding[] {
  const out: Finding[] = [];
  for (let i = 0; i < n; i++) {
    const low = i % 3 !== 0;
    out.push({
      id: `n-${i}`,
      detector: low ? 'host.bruteforce' : i % 7 === 0 ? 'net.sweep' : 'net.scan',
      attack: low ? ['T1110.001'] : ['T1046'],
      severity: low ? 'low' : i % 11 === 0 ? 'high' : 'medium',
      outcome: low ? 'failed' : 'attempt',
      confidence: 0.6,
      first: 1_700_000_000_000 + i * 600_000,
      last: 1_700_000_000_000 + i * 600_000 + 1000,
      src: `192.0.2.${i % 50}`,
      dst: `80.66.1.${1 + (i % 20)}`,
      host: low ? `SRV-${i % 20}` : undefined,
      user: low ? 'admin' : undefined,
      summary: { en: 'noise', zh: '噪声' },
      evidence: [{ evidence: 'E9', record: i + 1 }],
      facts: { failures: 3 },
    });
  }
  return out;
}

test('mayBeIncident never skips a group that the full analysis would make an incident', () => {
  const hn = new HomeNet([...C1.homeNets, '80.66.1.0/24']);
  const res = new Resolver(hn, null);
  const mediumOnly = noise(300).map((f) => ({ ...f, severity: f.severity === 'high' ? ('medium' as const) : f.severity, detector: f.detector === 'net.sweep' ? 'net.scan' : f.detector }));
  const sets = [case1(), case2(), benign(), noise(300), mediumOnly, [...mediumOnly.slice(0, 100), ...case2()]];
  let skipped = 0;
  let kept = 0;
  for (const fs of sets) {
    for (const g of groupRecs(buildRecs(fs, res), res)) {
      const may = mayBeIncident(g);
      if (!may) skipped++;
      else kept++;
      if (!may) assert.equal(isIncident(analyze([...g], res, null)), false, `group of ${g[0].f.id} skipped but is an incident`);
    }
  }
  assert.ok(kept > 0 && skipped > 0, `kept ${kept}, skipped ${skipped}: both paths must be exercised`);
});

test('entity graph: one edge per from/to/kind with counts, capped finding lists, shared account node', () => {
  const hn = new HomeNet(['80.66.1.0/24']);
  const res = new Resolver(hn, null);
  const fs = noise(90);
  const g = buildGraph(buildRecs(fs, res), res);
  const total = g.edges.reduce((s, e) => s + e.count, 0);
  // each noise finding yields its attack edge, and brute-force ones an account edge too
  const accountFindings = fs.filter((f) => f.user).length;
  assert.equal(total, fs.length + accountFindings);
  const keys = new Set(g.edges.map((e) => `${e.from}|${e.to}|${e.kind}`));
  assert.equal(keys.size, g.edges.length);
  for (const e of g.edges) {
    assert.ok(e.findings.length === Math.min(e.count, 20));
    assert.ok(e.evidence.length <= 20 && e.evidence.length >= 1);
  }
  assert.equal(g.nodes.filter((n) => n.id === 'account:admin').length, 1);
  const acct = g.edges.filter((e) => e.to === 'account:admin');
  assert.equal(acct.reduce((s, e) => s + e.count, 0), accountFindings);
});
