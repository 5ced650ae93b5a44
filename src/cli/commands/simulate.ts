import type { Command } from 'commander';
import { resolve } from 'node:path';
import { runScenario, SCENARIOS } from '../../simulate/index.js';
import type { ScenarioResult, SimulateOptions } from '../../simulate/index.js';

/** Simulate a scenario into outDir; returns the truth and where it was written. */
export async function simulate(name: string, outDir: string, opts: SimulateOptions = {}): Promise<ScenarioResult> {
  return runScenario(name, resolve(outDir), opts);
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('write a simulated incident (or benign background) as evidence files plus truth.json')
    .argument('[name]', 'scenario name (see --list)')
    .option('--out <dir>', 'output folder')
    .option('--seed <n>', 'random seed (deterministic output)', '1')
    .option('--scale <n>', 'multiply background activity (evidence size)', '1')
    .option('--format <fmt>', 'capture format: pcap or pcapng', 'pcap')
    .option('--no-background', 'attack only, no benign background')
    .option('--param <key=value...>', 'scenario parameter (JSON value or string), repeatable')
    .option('--list', 'list the scenarios')
    .action(async (name: string | undefined, flags: { out?: string; seed: string; scale: string; format: string; background: boolean; param?: string[]; list?: boolean }) => {
      if (flags.list || !name) {
        for (const s of SCENARIOS) process.stdout.write(`${s.name}\n    ${s.description}\n`);
        if (!flags.list) process.exitCode = 2;
        return;
      }
      if (!flags.out) { process.stderr.write('simulate: --out DIR is required\n'); process.exitCode = 2; return; }
      const params: Record<string, unknown> = {};
      for (const kv of flags.param ?? []) {
        const i = kv.indexOf('=');
        if (i < 0) { process.stderr.write(`simulate: bad --param ${kv} (want key=value)\n`); process.exitCode = 2; return; }
        const v = kv.slice(i + 1);
        try { params[kv.slice(0, i)] = JSON.parse(v); } catch { params[kv.slice(0, i)] = v; }
      }
      const format = flags.format === 'pcapng' ? 'pcapng' : 'pcap';
      const t0 = Date.now();
      const res = await simulate(name, flags.out, { seed: Number(flags.seed), scale: Number(flags.scale), format, background: flags.background, params });
      const ev = res.truth.evidence.map((e) => `  ${e.file}: ${e.records !== undefined ? `${e.records} records` : `${e.packets} packets, ${e.tcp_conversations} TCP / ${e.udp_conversations} UDP conversations`}`);
      process.stdout.write(`${name} → ${res.outDir} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n${ev.join('\n')}\n  truth: ${res.truthPath}\n`);
    });
}
