/** Shared bits of the thin CLI layer. */
import { Option } from 'commander';

export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3 } as const;

/** A mistake in how spoor was called: printed in one line, exit code 2. */
export class UsageError extends Error {}

export const quietOption = () => new Option('-q, --quiet', 'no progress or informational messages');
export const logFormatOption = () => new Option('--log-format <format>', 'messages on stderr as text or json').choices(['text', 'json']).default('text');

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
