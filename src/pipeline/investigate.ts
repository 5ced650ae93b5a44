/**
 * investigate(): the main job, in one direction:
 * intake → readers → (store + detectors + entity collector) → findings →
 * investigation → incident.json → reports.
 *
 * The case is built under a temporary folder beside --out and renamed when
 * complete, so a failed run never leaves a half-written case behind.
 */
import { mkdir, rename, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { SpoorEvent } from '../core/event.js';
import { isoTime } from '../core/event.js';
import type { Finding } from '../core/finding.js';
import { HomeNet } from '../core/homenet.js';
import type { ParseProblem } from '../core/problems.js';
import { INCIDENT_SCHEMA, type EvidenceEntry, type FindingEntry, type IncidentFile, type ProblemEntry, type SkippedFile } from '../incident/types.js';
import { validateIncidentFile } from '../incident/validate.js';
import { openEvidence, recognise, walkPaths } from '../intake/discover.js';
import { readers as allReaders } from '../readers/index.js';
import type { EvidenceReader, ReaderContext, ReaderStats } from '../readers/types.js';
import { WorkerCaseStore } from '../store/worker-store.js';
import type { CaseStore } from '../store/store.js';
import { detectorModules } from '../detectors/index.js';
import { EntityCollector, graphRows, investigateAll, parseAlert } from '../investigation/index.js';
import { writeReports } from '../render/index.js';
import type { CaseConfig } from './config.js';
import { DetectorHub } from './detect.js';
import { attachExcerpts } from './excerpts.js';
import type { Logger } from './log.js';
import { SPOOR_VERSION } from './version.js';

export interface InvestigateOptions {
  paths: string[];
  out: string;
  config: CaseConfig;
  logger: Logger;
  /** Replace an existing --out folder (never done silently). */
  force?: boolean;
  /** Extra detector modules (Sigma rules as findings). */
  extraDetectors?: import('../core/finding.js').DetectorModule[];
}

export interface InvestigateResult {
  outDir: string;
  file: IncidentFile;
  /** 0 all evidence read; 3 some evidence could not be read (fully or partly). */
  exitCode: 0 | 3;
}

export class OutputExistsError extends Error {}

/** Problems kept in incident.json (the rest are counted; all are in the store). */
const MAX_PROBLEMS_IN_FILE = 1000;

export async function investigateCase(opts: InvestigateOptions): Promise<InvestigateResult> {
  const outDir = resolve(opts.out);
  if (await exists(outDir)) {
    const entries = await readdir(outDir).catch(() => ['?']);
    if (entries.length > 0 && !opts.force) {
      throw new OutputExistsError(`output folder ${outDir} exists and is not empty; choose another --out or pass --force to replace it`);
    }
  }
  await mkdir(dirname(outDir), { recursive: true });
  const tmpDir = join(dirname(outDir), `.${basename(outDir)}.partial-${process.pid}-${Date.now()}`);
  await mkdir(tmpDir, { recursive: true });
  let store: CaseStore | null = null;
  try {
    store = await WorkerCaseStore.open(join(tmpDir, 'case.duckdb'));
    const file = await runCase(opts, store, tmpDir);
    await store.close();
    store = null;
    if (await exists(outDir)) await rm(outDir, { recursive: true, force: true });
    await rename(tmpDir, outDir);
    const unreadable = file.skipped.some(isUnreadEvidence) || file.evidence.some((e) => e.errors > 0);
    return { outDir, file, exitCode: unreadable ? 3 : 0 };
  } catch (err) {
    if (store) await store.close().catch(() => undefined);
    await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

async function runCase(opts: InvestigateOptions, store: CaseStore, caseDir: string): Promise<IncidentFile> {
  const { config, logger } = opts;
  const homeNet = new HomeNet(config.homeNets);
  const started = Date.now();
  const { files, problems: walkProblems } = await walkPaths(opts.paths);
  const skipped: SkippedFile[] = walkProblems.map((p) => ({ path: p.path, reason: p.reason }));
  for (const s of skipped) logger.error(`${s.path}: ${s.reason}`);
  if (files.length === 0 && skipped.length === 0) logger.warn('no files found in the given paths');

  const hub = new DetectorHub([...detectorModules, ...(opts.extraDetectors ?? [])], {
    homeNet,
    tz: config.tz,
    settings: config.detectors,
  });
  const entities = new EntityCollector(homeNet);
  entities.addHostMap(config.hosts);

  const evidence: EvidenceEntry[] = [];
  const problems: ProblemEntry[] = [];
  let problemsTotal = 0;
  const problemRows: Record<string, unknown>[] = [];
  const bytesTotal = files.reduce((s, f) => s + f.size, 0);
  let bytesDone = 0;
  let eventsTotal = 0;
  let n = 0;

  for (const f of files) {
    const rec = await recognise(f.path, allReaders);
    if (!('reader' in rec)) {
      skipped.push({ path: f.path, reason: rec.reason });
      logger.warn(`skipped ${f.path}: ${rec.reason}`);
      bytesDone += f.size;
      continue;
    }
    const id = `E${++n}`;
    const stats: ReaderStats = { records: 0, errors: 0 };
    const sink = (p: ParseProblem) => {
      problemsTotal++;
      if (p.severity === 'error') stats.errors++;
      const entry: ProblemEntry = { evidence: p.evidence, reason: p.reason, severity: p.severity };
      if (p.offset !== undefined) entry.offset = p.offset;
      if (p.record !== undefined) entry.record = p.record;
      if (problems.length < MAX_PROBLEMS_IN_FILE) problems.push(entry);
      if (problemRows.length < 100_000) problemRows.push({ evidence: p.evidence, offset: p.offset ?? null, record: p.record ?? null, reason: p.reason, severity: p.severity });
    };
    const ctx: ReaderContext = {
      evidenceId: id,
      path: f.path,
      homeNet,
      problem: sink,
      stats,
      options: config.readers[rec.reader.format],
    };
    const opened = openEvidence(f.path, rec.gzip);
    const before = eventsTotal;
    try {
      eventsTotal += await readOne(rec.reader, opened.stream, ctx, async (batch) => {
        await store.appendEvents(batch);
        hub.observe(batch);
        for (const e of batch) entities.observe(e);
        logger.progress({ filesDone: evidence.length, filesTotal: files.length, bytesDone, bytesTotal, events: eventsTotal, startedMs: started, current: f.path });
      });
    } catch (err) {
      // A reader must not throw; if one does, the file counts as damaged and the rest goes on.
      sink({ evidence: id, reason: `reader stopped: ${(err as Error).message}`, severity: 'error' });
      logger.error(`${f.path}: reader stopped: ${(err as Error).message}`);
    }
    let digest: { sha256: string; size: number };
    try {
      digest = await opened.digest;
    } catch (err) {
      digest = { sha256: '', size: f.size };
      sink({ evidence: id, reason: `could not hash: ${(err as Error).message}`, severity: 'error' });
    }
    bytesDone += f.size;
    evidence.push({
      id,
      path: f.path,
      sha256: digest.sha256,
      size: digest.size,
      format: rec.reader.format + (rec.gzip ? '+gzip' : ''),
      records: stats.records,
      errors: stats.errors,
      first: stats.first !== undefined ? isoTime(stats.first) : null,
      last: stats.last !== undefined ? isoTime(stats.last) : null,
    });
    const note = stats.errors ? `, ${stats.errors} damaged parts skipped` : '';
    logger.info(`${id} ${f.path}: ${rec.reader.format}${rec.gzip ? ' (gzip)' : ''}, ${stats.records} records, ${eventsTotal - before} events${note}`);
  }
  logger.done();

  await store.flush();
  await store.putEvidence(evidence.map((e) => ({ ...e, first: e.first ?? undefined, last: e.last ?? undefined })));
  if (problemRows.length) await store.putRows('problems', problemRows);
  if (skipped.length) await store.putRows('skipped', skipped.map((s) => ({ ...s })));

  const findings = hub.finish();
  for (const fail of hub.failures) logger.error(`detector ${fail.detector} failed: ${fail.reason.split('\n')[0]}`);
  await store.appendFindings(findings);

  const alert = config.alert ? parseAlert(config.alert) : null;
  const { incidents, graph } = investigateAll({
    findings,
    entities: entities.snapshot(),
    homeNet,
    alert,
    tz: config.tz,
    hostMap: config.hosts,
  });
  await attachExcerpts(incidents, store, evidence);
  const rows = graphRows(graph);
  await store.putRows('entities', rows.entities);
  await store.putRows('edges', rows.edges);

  const file: IncidentFile = {
    schema: INCIDENT_SCHEMA,
    case: {
      id: `case-${randomUUID()}`,
      created: new Date().toISOString(),
      home_nets: config.homeNets,
      tz: config.tz,
      spoor_version: SPOOR_VERSION,
      alert,
    },
    evidence,
    skipped,
    problems,
    problems_total: problemsTotal,
    findings: findings.map(findingEntry),
    incidents,
  };
  const invalid = validateIncidentFile(file);
  if (invalid) throw new Error(`internal error: incident.json does not match its schema: ${invalid}`);
  await writeFile(join(caseDir, 'incident.json'), JSON.stringify(file, null, 2) + '\n');
  await writeReports(caseDir, file, config.langs);
  return file;
}

async function readOne(
  reader: EvidenceReader,
  stream: AsyncIterable<Buffer>,
  ctx: ReaderContext,
  onBatch: (b: SpoorEvent[]) => Promise<void>,
): Promise<number> {
  let count = 0;
  for await (const batch of reader.read(stream, ctx)) {
    if (!batch.length) continue;
    count += batch.length;
    await onBatch(batch);
  }
  return count;
}

export function findingEntry(f: Finding): FindingEntry {
  const e: FindingEntry = {
    id: f.id,
    detector: f.detector,
    attack: f.attack,
    severity: f.severity,
    outcome: f.outcome,
    confidence: f.confidence,
    first: isoTime(f.first),
    last: isoTime(f.last),
    summary: f.summary,
    evidence: f.evidence,
  };
  if (f.src) e.src = f.src;
  if (f.dst) e.dst = f.dst;
  if (f.host) e.host = f.host;
  if (f.user) e.user = f.user;
  if (f.facts) e.facts = f.facts;
  return e;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** File names that claim to be evidence spoor reads: when such a file is not recognised, evidence was lost. */
const EVIDENCE_NAME = /\.(evtx|evt|pcap|pcapng|cap|dmp|log)(\.gz)?$/i;

/**
 * Whether a skipped file means evidence went unread (exit 3). A path that does not exist, a file that could
 * not be read, an empty or undecodable file, or one named like evidence (`*.evtx`, `*.pcap`…) all do; other
 * files spoor does not recognise (notes, hashes, README, a truth file) are listed in the case but do not make
 * the run partial.
 */
export function isUnreadEvidence(s: SkippedFile): boolean {
  if (!s.reason.startsWith('unrecognised format')) return true;
  return EVIDENCE_NAME.test(s.path);
}
