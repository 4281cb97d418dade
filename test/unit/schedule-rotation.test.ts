import { describe, expect, it } from 'vitest';
import { nextHandoff, onCallAt, scheduleGaps, type ScheduleOverride } from '../../src/alerts/escalation/schedule.js';
import { ScheduleConfig } from '../../src/alerts/escalation/schema.js';

const HOUR = 3_600_000;
const at = (text: string) => new Date(text);
const before = (text: string) => new Date(Date.parse(text) - 1_000);

const berlinWeekly = ScheduleConfig.parse({
  timezone: 'Europe/Berlin', rotation: 'weekly', handoff: '09:00', handoffDay: 'monday', start: '2026-01-05',
  participants: ['U01AAA', 'U01BBB', 'U01CCC'],
});
const newYorkDaily = ScheduleConfig.parse({
  timezone: 'America/New_York', rotation: 'daily', handoff: '09:00', start: '2026-03-01', participants: ['U01XXX', 'U01YYY'],
});

function who(schedule = berlinWeekly, instant: Date, overrides: ScheduleOverride[] = []) {
  const result = onCallAt(schedule, overrides, instant);
  return { userId: result.userId, since: result.since.toISOString(), until: result.until.toISOString(), override: result.override };
}

describe('weekly rotation, Europe/Berlin, Monday 09:00', () => {
  it.each([
    // instant, on call, shift start, shift end
    [before('2026-01-05T08:00:00Z'), undefined, '-271821-04-20T00:00:00.000Z', '2026-01-05T08:00:00.000Z'],
    [at('2026-01-05T08:00:00Z'), 'U01AAA', '2026-01-05T08:00:00.000Z', '2026-01-12T08:00:00.000Z'],
    [before('2026-01-12T08:00:00Z'), 'U01AAA', '2026-01-05T08:00:00.000Z', '2026-01-12T08:00:00.000Z'],
    [at('2026-01-12T08:00:00Z'), 'U01BBB', '2026-01-12T08:00:00.000Z', '2026-01-19T08:00:00.000Z'],
    [at('2026-01-26T08:00:00Z'), 'U01AAA', '2026-01-26T08:00:00.000Z', '2026-02-02T08:00:00.000Z'],
    // Spring forward on Sunday 29 March: the shift of 23 March is 167 h; 09:00 CEST is 07:00Z.
    [at('2026-03-29T12:00:00Z'), 'U01CCC', '2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z'],
    [before('2026-03-30T07:00:00Z'), 'U01CCC', '2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z'],
    [at('2026-03-30T07:00:00Z'), 'U01AAA', '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z'],
    // Fall back on Sunday 25 October: the shift of 19 October is 169 h.
    [at('2026-10-25T01:30:00Z'), 'U01CCC', '2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z'],
    [before('2026-10-26T08:00:00Z'), 'U01CCC', '2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z'],
    [at('2026-10-26T08:00:00Z'), 'U01AAA', '2026-10-26T08:00:00.000Z', '2026-11-02T08:00:00.000Z'],
  ])('%s → %s', (instant, userId, since, until) => {
    expect(who(berlinWeekly, instant)).toEqual({ userId, since, until, override: false });
  });

  it('keeps the handoff at 09:00 local, so the shifts around a change are 167 h and 169 h', () => {
    const spring = onCallAt(berlinWeekly, [], at('2026-03-25T12:00:00Z'));
    expect((spring.until.getTime() - spring.since.getTime()) / HOUR).toBe(167);
    const autumn = onCallAt(berlinWeekly, [], at('2026-10-21T12:00:00Z'));
    expect((autumn.until.getTime() - autumn.since.getTime()) / HOUR).toBe(169);
  });

  it.each([
    [at('2026-01-01T00:00:00Z'), '2026-01-05T08:00:00.000Z'],
    [before('2026-01-12T08:00:00Z'), '2026-01-12T08:00:00.000Z'],
    [at('2026-01-12T08:00:00Z'), '2026-01-19T08:00:00.000Z'],
    [at('2026-03-25T12:00:00Z'), '2026-03-30T07:00:00.000Z'],
    [at('2026-10-20T12:00:00Z'), '2026-10-26T08:00:00.000Z'],
  ])('nextHandoff(%s) → %s', (instant, expected) => {
    expect(nextHandoff(berlinWeekly, instant).toISOString()).toBe(expected);
  });
});

describe('daily rotation, America/New_York, 09:00', () => {
  it.each([
    [at('2026-03-01T14:00:00Z'), 'U01XXX', '2026-03-01T14:00:00.000Z', '2026-03-02T14:00:00.000Z'],
    [before('2026-03-02T14:00:00Z'), 'U01XXX', '2026-03-01T14:00:00.000Z', '2026-03-02T14:00:00.000Z'],
    [at('2026-03-02T14:00:00Z'), 'U01YYY', '2026-03-02T14:00:00.000Z', '2026-03-03T14:00:00.000Z'],
    // Spring forward on Sunday 8 March: the shift of 7 March is 23 h.
    [at('2026-03-08T12:00:00Z'), 'U01XXX', '2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z'],
    [at('2026-03-08T13:00:00Z'), 'U01YYY', '2026-03-08T13:00:00.000Z', '2026-03-09T13:00:00.000Z'],
    // Fall back on Sunday 1 November: the shift of 31 October is 25 h.
    [at('2026-11-01T13:30:00Z'), 'U01XXX', '2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z'],
    [at('2026-11-01T14:00:00Z'), 'U01YYY', '2026-11-01T14:00:00.000Z', '2026-11-02T14:00:00.000Z'],
  ])('%s → %s', (instant, userId, since, until) => {
    expect(who(newYorkDaily, instant)).toEqual({ userId, since, until, override: false });
  });

  it('makes the shifts spanning a change 23 h and 25 h long', () => {
    const length = (text: string) => {
      const shift = onCallAt(newYorkDaily, [], at(text));
      return (shift.until.getTime() - shift.since.getTime()) / HOUR;
    };
    expect([length('2026-03-07T20:00:00Z'), length('2026-03-08T20:00:00Z'), length('2026-10-31T20:00:00Z'), length('2026-11-01T20:00:00Z')]).toEqual([23, 24, 25, 24]);
  });
});

describe('handoffs inside the changing hour (Europe/Berlin, daily 02:30)', () => {
  const night = ScheduleConfig.parse({ timezone: 'Europe/Berlin', rotation: 'daily', handoff: '02:30', start: '2026-03-01', participants: ['U01AAA', 'U01BBB'] });

  it.each([
    // 29 March has no 02:30: the handoff moves forward to 03:30 CEST (01:30Z).
    [at('2026-03-29T01:29:59Z'), '2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z'],
    [at('2026-03-29T01:30:00Z'), '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'],
    // 25 October has 02:30 twice: the handoff is the first, 02:30 CEST (00:30Z).
    [at('2026-10-25T00:29:59Z'), '2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z'],
    [at('2026-10-25T01:30:00Z'), '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
  ])('%s is in the shift %s – %s', (instant, since, until) => {
    const result = onCallAt(night, [], instant);
    expect([result.since.toISOString(), result.until.toISOString()]).toEqual([since, until]);
  });
});

describe('custom rotation', () => {
  it('hands off every 12 h at the same local times across a change', () => {
    const halves = ScheduleConfig.parse({ timezone: 'Europe/Berlin', rotation: 'custom', length: '12h', handoff: '09:00', start: '2026-03-27', participants: ['U01DAY', 'U01NIGHT'] });
    const handoffs: string[] = [];
    let cursor = at('2026-03-27T00:00:00Z');
    for (let i = 0; i < 6; i += 1) {
      cursor = nextHandoff(halves, cursor);
      handoffs.push(cursor.toISOString());
    }
    expect(handoffs).toEqual([
      '2026-03-27T08:00:00.000Z', '2026-03-27T20:00:00.000Z', '2026-03-28T08:00:00.000Z',
      '2026-03-28T20:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-29T19:00:00.000Z',
    ]);
    expect(onCallAt(halves, [], at('2026-03-29T06:59:59Z')).userId).toBe('U01NIGHT');
    expect(onCallAt(halves, [], at('2026-03-29T07:00:00Z')).userId).toBe('U01DAY');
  });

  it('runs three-day shifts', () => {
    const threeDays = ScheduleConfig.parse({ timezone: 'UTC', rotation: 'custom', length: '3d', handoff: '00:00', start: '2026-01-01', participants: ['U01A', 'U01B'] });
    expect(who(threeDays, at('2026-01-03T23:59:59Z')).userId).toBe('U01A');
    expect(who(threeDays, at('2026-01-04T00:00:00Z'))).toEqual({ userId: 'U01B', since: '2026-01-04T00:00:00.000Z', until: '2026-01-07T00:00:00.000Z', override: false });
  });
});

describe('overrides', () => {
  const window = { userId: 'U01CCC', startsAt: at('2026-01-06T12:00:00Z'), endsAt: at('2026-01-07T12:00:00Z') };

  it.each([
    [before('2026-01-06T12:00:00Z'), { userId: 'U01AAA', since: '2026-01-05T08:00:00.000Z', until: '2026-01-06T12:00:00.000Z', override: false }],
    [at('2026-01-06T12:00:00Z'), { userId: 'U01CCC', since: '2026-01-06T12:00:00.000Z', until: '2026-01-07T12:00:00.000Z', override: true }],
    [before('2026-01-07T12:00:00Z'), { userId: 'U01CCC', since: '2026-01-06T12:00:00.000Z', until: '2026-01-07T12:00:00.000Z', override: true }],
    [at('2026-01-07T12:00:00Z'), { userId: 'U01AAA', since: '2026-01-07T12:00:00.000Z', until: '2026-01-12T08:00:00.000Z', override: false }],
  ])('one window: %s', (instant, expected) => {
    expect(who(berlinWeekly, instant, [window])).toEqual(expected);
  });

  it('lets the latest-created override win where they overlap', () => {
    const older = { userId: 'U01BBB', startsAt: at('2026-01-06T10:00:00Z'), endsAt: at('2026-01-06T20:00:00Z') };
    const newer = { userId: 'U01CCC', startsAt: at('2026-01-06T12:00:00Z'), endsAt: at('2026-01-06T14:00:00Z') };
    expect(who(berlinWeekly, at('2026-01-06T11:00:00Z'), [older, newer])).toEqual({ userId: 'U01BBB', since: '2026-01-06T10:00:00.000Z', until: '2026-01-06T12:00:00.000Z', override: true });
    expect(who(berlinWeekly, at('2026-01-06T13:00:00Z'), [older, newer])).toEqual({ userId: 'U01CCC', since: '2026-01-06T12:00:00.000Z', until: '2026-01-06T14:00:00.000Z', override: true });
    expect(who(berlinWeekly, at('2026-01-06T15:00:00Z'), [older, newer])).toEqual({ userId: 'U01BBB', since: '2026-01-06T14:00:00.000Z', until: '2026-01-06T20:00:00.000Z', override: true });
    // Created the other way round, the wide one covers the narrow one entirely.
    expect(who(berlinWeekly, at('2026-01-06T13:00:00Z'), [newer, older]).userId).toBe('U01BBB');
  });

  it('covers a rotation that has not started, and an override changes no handoff', () => {
    const early = { userId: 'U01CCC', startsAt: at('2026-01-04T00:00:00Z'), endsAt: at('2026-01-06T00:00:00Z') };
    expect(who(berlinWeekly, at('2026-01-04T12:00:00Z'), [early])).toMatchObject({ userId: 'U01CCC', override: true });
    expect(nextHandoff(berlinWeekly, at('2026-01-04T12:00:00Z')).toISOString()).toBe('2026-01-05T08:00:00.000Z');
  });
});

describe('scheduleGaps', () => {
  const iso = (gaps: ReturnType<typeof scheduleGaps>) => gaps.map((g) => [g.from.toISOString(), g.to.toISOString()]);

  it('finds the time before a future start', () => {
    expect(iso(scheduleGaps(berlinWeekly, [], at('2026-01-01T00:00:00Z'), at('2026-01-15T00:00:00Z')))).toEqual([
      ['2026-01-01T00:00:00.000Z', '2026-01-05T08:00:00.000Z'],
    ]);
  });

  it('finds none in a running rotation', () => {
    expect(scheduleGaps(berlinWeekly, [], at('2026-03-20T00:00:00Z'), at('2026-04-20T00:00:00Z'))).toEqual([]);
  });

  it('treats an empty rotation as one gap, cut by overrides', () => {
    const empty = ScheduleConfig.parse({ timezone: 'UTC', rotation: 'daily', handoff: '09:00', start: '2026-01-01', participants: [] });
    const cover = { userId: 'U01AAA', startsAt: at('2026-02-02T00:00:00Z'), endsAt: at('2026-02-03T00:00:00Z') };
    expect(iso(scheduleGaps(empty, [cover], at('2026-02-01T00:00:00Z'), at('2026-02-04T00:00:00Z')))).toEqual([
      ['2026-02-01T00:00:00.000Z', '2026-02-02T00:00:00.000Z'],
      ['2026-02-03T00:00:00.000Z', '2026-02-04T00:00:00.000Z'],
    ]);
  });
});
