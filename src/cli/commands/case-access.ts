/** Opening an existing case folder, and printing rows safely to a terminal. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncidentFile } from '../../incident/types.js';
import { terminalSafe } from '../../pipeline/log.js';
import { DuckDbCaseStore } from '../../store/duckdb-store.js';
import type { Row } from '../../store/store.js';
import { UsageError } from '../common.js';

export async function openCaseReadOnly(dir: string): Promise<{ store: DuckDbCaseStore; incident: IncidentFile | null }> {
  const db = join(dir, 'case.duckdb');
  try {
    await stat(db);
  } catch {
    throw new UsageError(`${dir} is not a spoor case folder (no case.duckdb)`);
  }
  let incident: IncidentFile | null = null;
  try {
    incident = JSON.parse(await readFile(join(dir, 'incident.json'), 'utf8')) as IncidentFile;
  } catch {
    incident = null;
  }
  return { store: await DuckDbCaseStore.open(db, { readOnly: true }), incident };
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Rows as an aligned text table (control characters neutralised) or JSON lines. */
export function printRows(rows: Row[], format: 'table' | 'json', out: NodeJS.WritableStream = process.stdout, maxWidth = 60): void {
  if (format === 'json') {
    for (const r of rows) out.write(JSON.stringify(r) + '\n');
    return;
  }
  if (!rows.length) {
    out.write('(no rows)\n');
    return;
  }
  const cols = Object.keys(rows[0]);
  const text = rows.map((r) => cols.map((c) => {
    const s = terminalSafe(cell(r[c]));
    return s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s;
  }));
  const widths = cols.map((c, i) => Math.max(c.length, ...text.map((t) => t[i].length)));
  out.write(cols.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
  out.write(widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
  for (const t of text) out.write(t.map((s, i) => s.padEnd(widths[i])).join('  ').trimEnd() + '\n');
}
