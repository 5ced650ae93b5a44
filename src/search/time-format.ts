import { zoneOffsetMs } from './query.js';

/** `2024-06-04 03:36:12` in zone tz (the zone is named once by the caller). */
export function formatInZone(ms: number, tz: string): string {
  if (!Number.isFinite(ms)) return '';
  const local = ms + zoneOffsetMs(ms, tz);
  return new Date(local).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}
