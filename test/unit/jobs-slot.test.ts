import { createTask, getTasks } from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { slotOf, slotsBetween } from '../../src/jobs/job-slot.js';

const at = (iso: string) => new Date(iso);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('slotsBetween: a schedule read in its time zone, as UTC slots', () => {
  it.each([
    ['winter (CET, UTC+1)', '2026-01-15T00:00:00Z', '2026-01-16T00:00:00Z', ['2026-01-15T01:00:00.000Z']],
    ['summer (CEST, UTC+2)', '2026-07-15T00:00:00Z', '2026-07-16T00:00:00Z', ['2026-07-15T00:00:00.000Z']],
    // 2026-03-29: Berlin jumps from 02:00 to 03:00, so 02:00 never happens that night.
    ['the spring-forward night has no 02:00', '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z', ['2026-03-30T00:00:00.000Z']],
    // 2026-10-25: Berlin goes back from 03:00 to 02:00, so 02:00 happens twice; node-cron runs the second (CET).
    ['the fall-back night runs once', '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z', ['2026-10-25T01:00:00.000Z', '2026-10-26T01:00:00.000Z']],
  ])('0 2 * * * Europe/Berlin in %s', (_name, from, to, expected) => {
    expect(iso(slotsBetween('0 2 * * *', 'Europe/Berlin', at(from), at(to)))).toEqual(expected);
  });

  it('reads the same schedule in UTC as UTC', () => {
    expect(iso(slotsBetween('0 2 * * *', 'UTC', at('2026-01-15T00:00:00Z'), at('2026-01-16T00:00:00Z')))).toEqual(['2026-01-15T02:00:00.000Z']);
  });

  it('includes `from` and excludes `to`', () => {
    expect(iso(slotsBetween('*/15 * * * *', 'UTC', at('2026-01-15T09:00:00Z'), at('2026-01-15T09:45:00Z')))).toEqual([
      '2026-01-15T09:00:00.000Z',
      '2026-01-15T09:15:00.000Z',
      '2026-01-15T09:30:00.000Z',
    ]);
  });

  it('handles a zone with a half-hour offset (Asia/Kolkata, UTC+5:30)', () => {
    expect(iso(slotsBetween('0 9 * * 1-5', 'Asia/Kolkata', at('2026-01-16T00:00:00Z'), at('2026-01-20T00:00:00Z')))).toEqual([
      '2026-01-16T03:30:00.000Z', // Friday
      '2026-01-19T03:30:00.000Z', // Monday
    ]);
  });

  describe('agrees with what node-cron fires', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    it.each([
      ['0 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z'],
      ['0 2 * * *', 'Europe/Berlin', '2026-10-23T12:00:00Z'],
      ['0 2 * * *', 'Europe/Berlin', '2026-07-01T12:00:00Z'],
      ['30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z'],
      ['30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z'],
      ['30 3 * * *', 'America/New_York', '2026-03-06T12:00:00Z'],
      ['*/20 1-3 * * *', 'America/New_York', '2026-10-31T12:00:00Z'],
      ['*/20 1-3 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z'],
    ])('%s %s from %s', (schedule, zone, start) => {
      vi.useFakeTimers({ toFake: ['Date'], now: at(start) });
      const task = createTask(schedule, () => undefined, { timezone: zone });
      const fired = task.getNextRuns(12);
      void task.destroy();
      expect(iso(slotsBetween(schedule, zone, at(start), new Date(fired[11]!.getTime() + 1)))).toEqual(iso(fired));
    });
  });

  it('leaves no task registered with node-cron', () => {
    const before = getTasks().size;
    slotsBetween('0 9 * * *', 'UTC', at('2026-01-15T00:00:00Z'), at('2026-01-16T00:00:00Z'));
    expect(getTasks().size).toBe(before);
  });

  it('refuses windows longer than 35 days', () => {
    expect(() => slotsBetween('0 9 * * *', 'UTC', at('2026-01-01T00:00:00Z'), at('2026-03-01T00:00:00Z'))).toThrow(RangeError);
  });
});

describe('slotOf', () => {
  it('is the scheduled minute in UTC, whatever seconds the timer fired at', () => {
    expect(slotOf(at('2026-01-15T01:00:00.000Z')).toISOString()).toBe('2026-01-15T01:00:00.000Z');
    expect(slotOf(at('2026-01-15T01:00:59.999Z')).toISOString()).toBe('2026-01-15T01:00:00.000Z');
  });
});
