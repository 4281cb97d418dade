import { createTask } from 'node-cron';
import { offsetAt, toLocal } from '../alerts/escalation/zoned-time.js';

const MINUTE_MS = 60_000;
const MAX_WINDOW_MS = 35 * 86_400_000;

/**
 * The slot of a run: the scheduled minute, in UTC. Every instance that fires for the same
 * schedule computes the same slot, which is what makes the store's claim on `(job, slot)` work.
 */
export function slotOf(scheduledAt: Date): Date {
  return new Date(Math.floor(scheduledAt.getTime() / MINUTE_MS) * MINUTE_MS);
}

/**
 * The slots of `schedule`, read as wall-clock time in `timeZone`, from `from` (inclusive) to
 * `to` (exclusive), as UTC instants, as node-cron fires them (its own matcher decides which
 * minutes match). Daylight saving time: a wall-clock minute that does not exist (spring) has
 * no slot; one that happens twice (autumn) has one, the instant node-cron picks, which is the
 * reading taken with the offset in force at that reading taken as UTC: the second occurrence
 * in zones east of UTC (Berlin), the first west of it (New York).
 */
export function slotsBetween(schedule: string, timeZone: string, from: Date, to: Date): Date[] {
  if (to.getTime() - from.getTime() > MAX_WINDOW_MS) throw new RangeError('slotsBetween looks at most 35 days ahead');
  const matcher = createTask(schedule, () => undefined, { timezone: timeZone, name: `slots:${schedule}:${timeZone}` });
  try {
    const slots: Date[] = [];
    for (let at = Math.ceil(from.getTime() / MINUTE_MS) * MINUTE_MS; at < to.getTime(); at += MINUTE_MS) {
      if (matcher.match(new Date(at)) && firesAt(timeZone, at)) slots.push(new Date(at));
    }
    return slots;
  } finally {
    // createTask registers the (never started) task globally; destroying it unregisters it.
    void matcher.destroy();
  }
}

/** Whether `instant` is the one instant the scheduler resolves its wall-clock reading to. */
function firesAt(timeZone: string, instant: number): boolean {
  const wallClock = toLocal(timeZone, instant);
  const picked = wallClock - offsetAt(timeZone, wallClock);
  // When that pick does not read back (just after a spring jump), the reading is unambiguous.
  return toLocal(timeZone, picked) !== wallClock || picked === instant;
}
