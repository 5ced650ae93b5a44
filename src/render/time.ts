/**
 * Showing UTC instants in the case's time zone, with the zone named:
 * `2024-06-04 03:36:12 (Asia/Shanghai, UTC+8)`.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A valid IANA zone name, or 'UTC' when the given one is unknown to this Node. */
export function safeZone(tz: string | undefined | null): string {
  if (!tz) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    return 'UTC';
  }
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    });
    formatters.set(tz, f);
  }
  return f;
}

export interface ZonedParts {
  date: string;
  time: string;
  /** `UTC+8`, `UTC-3:30`, `UTC`. */
  offset: string;
}

function toMs(t: string | number | Date): number {
  if (typeof t === 'number') return t;
  if (t instanceof Date) return t.getTime();
  return Date.parse(t);
}

/** Split an instant into local date/time/offset for zone tz; null when the time is invalid. */
export function zonedParts(t: string | number | Date | null | undefined, tz: string): ZonedParts | null {
  if (t === null || t === undefined || t === '') return null;
  const ms = toMs(t);
  if (!Number.isFinite(ms)) return null;
  const parts = formatter(safeZone(tz)).formatToParts(new Date(ms));
  const get = (k: string) => parts.find((p) => p.type === k)?.value ?? '';
  const gmt = get('timeZoneName'); // GMT, GMT+08:00, GMT-03:30
  let offset = 'UTC';
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(gmt);
  if (m && (m[2] !== '00' || m[3] !== '00')) offset = `UTC${m[1]}${Number(m[2])}${m[3] === '00' ? '' : ':' + m[3]}`;
  return { date: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}:${get('minute')}:${get('second')}`, offset };
}

/** `2024-06-04 03:36:12 (Asia/Shanghai, UTC+8)`; the raw input when it is not a time. */
export function formatTime(t: string | number | null | undefined, tz: string): string {
  const p = zonedParts(t, tz);
  if (!p) return t === null || t === undefined ? '' : String(t);
  return `${p.date} ${p.time} (${zoneText(tz, p.offset)})`;
}

/** `2024-06-04 03:36:12` (zone stated elsewhere, e.g. in a table header). */
export function formatShort(t: string | number | null | undefined, tz: string): string {
  const p = zonedParts(t, tz);
  if (!p) return t === null || t === undefined ? '' : String(t);
  return `${p.date} ${p.time}`;
}

/** `06-04 03:36` for labels in pictures. */
export function formatCompact(t: string | number | null | undefined, tz: string): string {
  const p = zonedParts(t, tz);
  if (!p) return '';
  return `${p.date.slice(5)} ${p.time.slice(0, 5)}`;
}

function zoneText(tz: string, offset: string): string {
  const z = safeZone(tz);
  return z === offset || (offset === 'UTC' && /^(Etc\/)?(UTC|GMT|Zulu|UCT|Universal)$/.test(z)) ? 'UTC' : `${z}, ${offset}`;
}

/** `Asia/Shanghai, UTC+8` — the zone named, with the offset at the given instant (`UTC` for UTC). */
export function zoneLabel(tz: string, at?: string | number | null): string {
  const p = zonedParts(at ?? Date.now(), tz);
  return zoneText(tz, p ? p.offset : 'UTC');
}

const ISO_IN_TEXT = /\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z\b/g;

/**
 * Free text from detectors and the investigation names times in UTC (ISO 8601 with `Z`);
 * show them in the report's zone like every other time (the zone is named in the header).
 */
export function localizeTimes(text: string, tz: string): string {
  if (!text || text.indexOf('Z') < 0) return text;
  return text.replace(ISO_IN_TEXT, (m) => formatShort(m, tz) || m);
}
