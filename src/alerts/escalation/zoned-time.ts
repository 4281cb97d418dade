/**
 * Wall-clock time in an IANA zone, with nothing but `Intl.DateTimeFormat` (Node 20 ships full ICU).
 *
 * A "local" value is a wall-clock reading encoded as milliseconds since 1970-01-01T00:00 *in
 * that reading*, i.e. `Date.UTC(year, month - 1, day, hour, minute)`. Arithmetic on local
 * values is calendar arithmetic: adding one day keeps the time of day, whatever the zone's
 * offset does in between.
 */

export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether `timeZone` is an IANA zone (or alias) this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock reading in `timeZone` at `instantMs`, as a local value (whole seconds). */
export function toLocal(timeZone: string, instantMs: number): number {
  const wholeSeconds = Math.floor(instantMs / 1_000) * 1_000;
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(wholeSeconds))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const { year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const local = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  local.setUTCFullYear(year);
  return local.getTime() + (instantMs - wholeSeconds);
}

/** The zone's offset from UTC at `instantMs`, in milliseconds (Berlin in summer: +2 h). */
export function offsetAt(timeZone: string, instantMs: number): number {
  return toLocal(timeZone, instantMs) - instantMs;
}

/**
 * The instant a wall clock in `timeZone` shows `local`, following RFC 5545 (iCalendar) and
 * Temporal's "compatible" rule:
 * - a reading that happens twice (autumn, clocks go back) is its first occurrence;
 * - a reading that never happens (spring, clocks jump forward) is read with the offset in force
 *   before the jump, which moves it forward by the jump: 02:30 on a 02:00→03:00 night is 03:30.
 */
export function fromLocal(timeZone: string, local: number): number {
  // Offsets a day either side bracket any transition near `local` (zones change at most once a day).
  const before = offsetAt(timeZone, local - DAY_MS);
  const after = offsetAt(timeZone, local + DAY_MS);
  const candidates = [...new Set([before, after])]
    .map((offset) => local - offset)
    .filter((instant) => toLocal(timeZone, instant) === local)
    .sort((a, b) => a - b);
  const first = candidates[0];
  if (first !== undefined) return first;
  // In a gap: neither offset reproduces the reading. Use the one from before the jump.
  return local - before;
}

/** A local value from calendar fields (month 1-12). */
export function localValue(year: number, month: number, day: number, hour = 0, minute = 0): number {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute));
  date.setUTCFullYear(year);
  return date.getTime();
}

/** The ISO weekday (1 = Monday … 7 = Sunday) of a local value. */
export function localWeekday(local: number): number {
  const day = new Date(local).getUTCDay();
  return day === 0 ? 7 : day;
}

/** `2026-03-29 09:00` for a local value. */
export function formatLocalValue(local: number): string {
  const iso = new Date(local).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** An instant as operators in that zone read it: `Mon 2026-03-30 09:00 Europe/Berlin`. */
export function formatInZone(instant: Date, timeZone: string): string {
  const local = toLocal(timeZone, instant.getTime());
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][localWeekday(local) - 1];
  return `${weekday} ${formatLocalValue(local)} ${timeZone}`;
}
