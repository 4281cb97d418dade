import { describe, expect, it } from 'vitest';
import { formatInZone, fromLocal, isValidTimeZone, localValue, offsetAt, toLocal } from '../../src/alerts/escalation/zoned-time.js';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('fromLocal', () => {
  it.each([
    // zone, local wall clock, instant, why
    ['Europe/Berlin', [2026, 1, 5, 9, 0], '2026-01-05T08:00:00.000Z', 'winter, +01:00'],
    ['Europe/Berlin', [2026, 7, 1, 9, 0], '2026-07-01T07:00:00.000Z', 'summer, +02:00'],
    ['Europe/Berlin', [2026, 3, 29, 1, 59], '2026-03-29T00:59:00.000Z', 'just before the spring jump'],
    ['Europe/Berlin', [2026, 3, 29, 2, 30], '2026-03-29T01:30:00.000Z', 'skipped hour moves forward: 03:30 CEST'],
    ['Europe/Berlin', [2026, 3, 29, 3, 0], '2026-03-29T01:00:00.000Z', 'first minute after the jump'],
    ['Europe/Berlin', [2026, 10, 25, 2, 30], '2026-10-25T00:30:00.000Z', 'repeated hour takes the first (CEST)'],
    ['Europe/Berlin', [2026, 10, 25, 3, 0], '2026-10-25T02:00:00.000Z', 'after the repeat, +01:00'],
    ['America/New_York', [2026, 3, 8, 2, 30], '2026-03-08T07:30:00.000Z', 'skipped hour moves forward: 03:30 EDT'],
    ['America/New_York', [2026, 3, 8, 9, 0], '2026-03-08T13:00:00.000Z', 'EDT'],
    ['America/New_York', [2026, 11, 1, 1, 30], '2026-11-01T05:30:00.000Z', 'repeated hour takes the first (EDT)'],
    ['America/New_York', [2026, 11, 1, 9, 0], '2026-11-01T14:00:00.000Z', 'EST'],
    ['UTC', [2026, 3, 29, 2, 30], '2026-03-29T02:30:00.000Z', 'UTC has no transitions'],
    ['Asia/Kolkata', [2026, 1, 1, 0, 0], '2025-12-31T18:30:00.000Z', 'half-hour offset'],
  ] as const)('%s %j → %s (%s)', (zone, [y, m, d, h, min], expected, _why) => {
    expect(iso(fromLocal(zone, localValue(y, m, d, h, min)))).toBe(expected);
  });
});

describe('toLocal and offsetAt', () => {
  it('reads both sides of the repeated autumn hour as the same wall clock', () => {
    const first = Date.parse('2026-10-25T00:30:00Z');
    const second = first + HOUR;
    expect(toLocal('Europe/Berlin', first)).toBe(localValue(2026, 10, 25, 2, 30));
    expect(toLocal('Europe/Berlin', second)).toBe(localValue(2026, 10, 25, 2, 30));
    expect(offsetAt('Europe/Berlin', first)).toBe(2 * HOUR);
    expect(offsetAt('Europe/Berlin', second)).toBe(HOUR);
  });

  it('keeps milliseconds and handles midnight as 00, not 24', () => {
    expect(toLocal('UTC', Date.parse('2026-01-01T00:00:00.250Z'))).toBe(localValue(2026, 1, 1) + 250);
  });

  it('formats an instant as people in the zone read it', () => {
    expect(formatInZone(new Date('2026-03-30T07:00:00Z'), 'Europe/Berlin')).toBe('Mon 2026-03-30 09:00 Europe/Berlin');
  });
});

describe('isValidTimeZone', () => {
  it.each([
    ['Europe/Berlin', true],
    ['America/New_York', true],
    ['UTC', true],
    ['Europe/Berlinn', false],
    ['', false],
    ['+02:00 garbage', false],
  ])('%s → %s', (zone, valid) => {
    expect(isValidTimeZone(zone)).toBe(valid);
  });
});
