/**
 * The scenario simulator: writes evidence files (EVTX, pcap/pcapng, web access logs)
 * and truth.json for known incidents and benign background.
 */
import { case1 } from './scenarios/case1.js';
import { case2 } from './scenarios/case2.js';
import { benignOffice } from './scenarios/benign.js';
import type { Scenario, ScenarioResult, SimulateOptions } from './scenarios/common.js';

export type { Scenario, ScenarioResult, SimulateOptions, Truth, TruthStep, TruthEvidence } from './scenarios/common.js';
export { EvtxWriter } from './evtx-writer.js';
export { CaptureFile, NetSim } from './pcap-writer.js';

export const SCENARIOS: Scenario[] = [case1, case2, benignOffice];

export function scenarioNames(): string[] { return SCENARIOS.map((s) => s.name); }

/** Run a scenario by name into outDir (created if needed). */
export async function runScenario(name: string, outDir: string, opts: SimulateOptions = {}): Promise<ScenarioResult> {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario: ${name} (known: ${scenarioNames().join(', ')})`);
  return s.run(outDir, opts);
}
