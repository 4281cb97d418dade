import type { Schedule } from './schema.js';
import { DAY_MS, fromLocal, localValue, toLocal } from './zoned-time.js';

/**
 * Pure on-call math. Every rotation is counted on the schedule's local wall clock: shift k
 * starts at `start` + `handoff` + k × (1 day | 7 days | custom length) *local time*, then
 * converted to an instant. So a 09:00 Europe/Berlin handoff stays at 09:00 local across
 * daylight-saving changes, and a shift spanning a change is an hour shorter or longer.
 * Handoffs that fall in a skipped or repeated hour follow `fromLocal` (RFC 5545 rules).
 */

/** Somebody standing in for the rotation between `startsAt` (inclusive) and `endsAt` (exclusive). */
export interface ScheduleOverride {
  userId: string;
  startsAt: Date;
  endsAt: Date;
}

/** Who is on call at an instant, and the window in which that stays true. */
export interface OnCall {
  /** Undefined when nobody is: before the rotation starts, or with no participants. */
  userId: string | undefined;
  since: Date;
  until: Date;
  /** True when an override, not the rotation, decides. */
  override: boolean;
}

/** The bounds of what a `Date` can hold; open-ended windows use them. */
export const BEGINNING_OF_TIME = new Date(-8.64e15);
export const END_OF_TIME = new Date(8.64e15);

interface Shift {
  /** -1 before the rotation starts. */
  index: number;
  startsAt: number;
  endsAt: number;
}

function shiftLength(schedule: Schedule): number {
  switch (schedule.rotation) {
    case 'daily':
      return DAY_MS;
    case 'weekly':
      return 7 * DAY_MS;
    case 'custom':
      return schedule.length;
  }
}

/** The local value of the first handoff. */
function origin(schedule: Schedule): number {
  const [year, month, day] = schedule.start.split('-').map(Number) as [number, number, number];
  const [hour, minute] = schedule.handoff.split(':').map(Number) as [number, number];
  return localValue(year, month, day, hour, minute);
}

function shiftAt(schedule: Schedule, atMs: number): Shift {
  const zone = schedule.timezone;
  const first = origin(schedule);
  const length = shiftLength(schedule);
  const startOf = (index: number) => fromLocal(zone, first + index * length);
  const rotationStart = startOf(0);
  if (atMs < rotationStart) return { index: -1, startsAt: BEGINNING_OF_TIME.getTime(), endsAt: rotationStart };
  // The wall-clock guess is off by one at most next to a handoff in a skipped or repeated hour.
  let index = Math.max(0, Math.floor((toLocal(zone, atMs) - first) / length));
  while (index > 0 && startOf(index) > atMs) index -= 1;
  while (startOf(index + 1) <= atMs) index += 1;
  return { index, startsAt: startOf(index), endsAt: startOf(index + 1) };
}

/** The rotation alone, without overrides. */
function rotationAt(schedule: Schedule, atMs: number): { userId: string | undefined; since: number; until: number } {
  if (schedule.participants.length === 0) return { userId: undefined, since: BEGINNING_OF_TIME.getTime(), until: END_OF_TIME.getTime() };
  const shift = shiftAt(schedule, atMs);
  const userId = shift.index < 0 ? undefined : schedule.participants[shift.index % schedule.participants.length];
  return { userId, since: shift.startsAt, until: shift.endsAt };
}

/**
 * Who is on call at `at`. Overrides are in creation order: of those covering `at`, the last
 * wins. `since`/`until` bound the shift or override that decides, cut where a newer override
 * takes over.
 */
export function onCallAt(schedule: Schedule, overrides: readonly ScheduleOverride[], at: Date): OnCall {
  const atMs = at.getTime();
  const covers = (o: ScheduleOverride) => o.startsAt.getTime() <= atMs && atMs < o.endsAt.getTime();
  let winner = -1;
  for (let i = overrides.length - 1; i >= 0; i -= 1) {
    if (covers(overrides[i] as ScheduleOverride)) {
      winner = i;
      break;
    }
  }
  const base = winner >= 0 ? undefined : rotationAt(schedule, atMs);
  const decider = overrides[winner];
  let since = decider ? decider.startsAt.getTime() : (base?.since ?? atMs);
  let until = decider ? decider.endsAt.getTime() : (base?.until ?? atMs);
  // Newer overrides (than the winner; all of them when the rotation decides) cut the window.
  for (let i = winner + 1; i < overrides.length; i += 1) {
    const other = overrides[i] as ScheduleOverride;
    const start = other.startsAt.getTime();
    const end = other.endsAt.getTime();
    if (end <= start) continue;
    if (end <= atMs) since = Math.max(since, end);
    if (start > atMs) until = Math.min(until, start);
  }
  return { userId: decider ? decider.userId : base?.userId, since: new Date(since), until: new Date(until), override: decider !== undefined };
}

/** The first rotation handoff after `at` (before the rotation starts: its start). Overrides do not count. */
export function nextHandoff(schedule: Schedule, at: Date): Date {
  return new Date(shiftAt(schedule, at.getTime()).endsAt);
}

export interface ScheduleGap {
  from: Date;
  to: Date;
}

/** Windows in [from, to) with nobody on call, overrides included, adjacent windows merged. */
export function scheduleGaps(schedule: Schedule, overrides: readonly ScheduleOverride[], from: Date, to: Date): ScheduleGap[] {
  const gaps: ScheduleGap[] = [];
  const end = to.getTime();
  let cursor = from.getTime();
  // A bound on the walk (one step per shift or override edge); 100k one-hour shifts is 11 years.
  for (let steps = 0; cursor < end && steps < 100_000; steps += 1) {
    const who = onCallAt(schedule, overrides, new Date(cursor));
    const until = Math.min(who.until.getTime(), end);
    if (who.userId === undefined) {
      const last = gaps[gaps.length - 1];
      if (last && last.to.getTime() === cursor) last.to = new Date(until);
      else gaps.push({ from: new Date(cursor), to: new Date(until) });
    }
    cursor = until;
  }
  return gaps;
}
