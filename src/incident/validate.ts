/** Validation of incident.json against docs/incident.schema.json (JSON Schema 2020-12). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { packageRoot } from '../pipeline/paths.js';

let validator: ValidateFunction | null = null;

export function incidentSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageRoot, 'docs', 'incident.schema.json'), 'utf8')) as Record<string, unknown>;
}

/** null when valid; otherwise a one-line description of the first errors. */
export function validateIncidentFile(file: unknown): string | null {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    validator = ajv.compile(incidentSchema());
  }
  if (validator(file)) return null;
  return (validator.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message}`)
    .join('; ');
}
