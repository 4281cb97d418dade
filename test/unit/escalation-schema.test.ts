import { describe, expect, it } from 'vitest';
import { problemsFromZod } from '../../src/config/problems.js';
import {
  checkEscalationReferences,
  EscalationPoliciesConfig,
  ScheduleConfig,
  SchedulesConfig,
  SeverityPoliciesConfig,
} from '../../src/alerts/escalation/schema.js';

const weekly = {
  timezone: 'Europe/Berlin', rotation: 'weekly', handoff: '09:00', handoffDay: 'monday', start: '2026-01-05',
  participants: ['U01AAA', 'U01BBB', 'U01CCC'],
};

/** Seed 001's ladder: L1 on-call 0-15 min, L2 senior 15-30, L3 manager 30+, L4 CTO 1 h+. */
const criticalLadder = {
  repeat: 1,
  levels: [
    { delay: '0m', targets: [{ schedule: 'backend-primary' }] },
    { delay: '15m', targets: [{ user: 'U01SENIOR' }] },
    { delay: '30m', targets: [{ usergroup: 'S01MANAGERS' }] },
    { delay: '60m', targets: [{ user: 'U01CTO' }] },
  ],
};

function scheduleProblems(input: unknown): string[] {
  const parsed = SchedulesConfig.safeParse({ s: input });
  return parsed.success ? [] : problemsFromZod(parsed.error, 'catalog').map((p) => `${p.path}: ${p.message}`);
}

function policyProblems(input: unknown): string[] {
  const parsed = EscalationPoliciesConfig.safeParse({ p: input });
  return parsed.success ? [] : problemsFromZod(parsed.error, 'catalog').map((p) => `${p.path}: ${p.message}`);
}

describe('ScheduleConfig', () => {
  it('parses each rotation into its own shape', () => {
    expect(ScheduleConfig.parse(weekly)).toEqual({ ...weekly, rotation: 'weekly' });
    expect(ScheduleConfig.parse({ timezone: 'UTC', rotation: 'daily', handoff: '00:00', start: '2026-02-28', participants: [] }))
      .toEqual({ timezone: 'UTC', rotation: 'daily', handoff: '00:00', start: '2026-02-28', participants: [] });
    expect(ScheduleConfig.parse({ timezone: 'America/New_York', rotation: 'custom', length: '3d', handoff: '18:30', start: '2026-03-01', participants: ['W01AAA'] }))
      .toMatchObject({ rotation: 'custom', length: 259_200_000 });
  });

  it.each([
    [{ ...weekly, timezone: 'Europe/Berlinn' }, 's.timezone: must be an IANA time zone such as Europe/Berlin, America/New_York or UTC'],
    [{ ...weekly, handoff: '9:00' }, 's.handoff: must be a 24-hour local time such as "09:00" (quote it in YAML)'],
    [{ ...weekly, handoff: '24:00' }, 's.handoff: must be a 24-hour local time such as "09:00" (quote it in YAML)'],
    [{ ...weekly, start: '2026-02-30' }, 's.start: must be a calendar date such as "2026-01-05" (YYYY-MM-DD, quote it in YAML)'],
    [{ ...weekly, start: '2026-01-06' }, 's.start: 2026-01-06 is a tuesday, but handoffDay is monday; start the rotation on a monday'],
    [{ ...weekly, handoffDay: undefined }, 's.handoffDay: a weekly rotation needs handoffDay, such as monday'],
    [{ ...weekly, handoffDay: 'Montag' }, 's.handoffDay: must be a weekday: monday, tuesday, wednesday, thursday, friday, saturday, sunday'],
    [{ ...weekly, rotation: 'daily' }, 's.handoffDay: only a weekly rotation takes handoffDay'],
    [{ ...weekly, length: '3d' }, 's.length: only a custom rotation takes a length; a weekly rotation hands off every week'],
    [{ ...weekly, rotation: 'custom', handoffDay: undefined }, 's.length: a custom rotation needs a shift length such as "3d" or "12h"'],
    [{ ...weekly, rotation: 'custom', handoffDay: undefined, length: '30m' }, 's.length: must be whole minutes and at least 1h'],
    [{ ...weekly, rotation: 'biweekly' }, 's.rotation: must be daily, weekly or custom'],
    [{ ...weekly, participants: ['alice'] }, 's.participants[0]: must be a Slack user id such as U012AB3CD (profile → ⋮ → Copy member ID)'],
    [{ ...weekly, handof: '09:00' }, 's.handof: is not a known setting; check its spelling against the configuration reference in README.md'],
  ])('rejects %j', (input, problem) => {
    expect(scheduleProblems(input)).toEqual([problem]);
  });
});

describe('EscalationPoliciesConfig', () => {
  it('parses seed 001 and a post-only policy', () => {
    const parsed = EscalationPoliciesConfig.parse({ 'critical-ladder': criticalLadder, 'warning-post-only': { levels: [] } });
    expect(parsed['critical-ladder']).toEqual({
      repeat: 1,
      levels: [
        { delay: 0, targets: [{ kind: 'schedule', scheduleId: 'backend-primary' }] },
        { delay: 900_000, targets: [{ kind: 'user', userId: 'U01SENIOR' }] },
        { delay: 1_800_000, targets: [{ kind: 'usergroup', usergroupId: 'S01MANAGERS' }] },
        { delay: 3_600_000, targets: [{ kind: 'user', userId: 'U01CTO' }] },
      ],
    });
    expect(parsed['warning-post-only']).toEqual({ repeat: 0, levels: [] });
  });

  it.each([
    [{ levels: [{ delay: '15m', targets: [{ user: 'U01A' }] }, { delay: '5m', targets: [{ user: 'U01B' }] }] },
      "p.levels[1].delay: delays count from the incident's start and must not decrease: level 2 comes after level 1 (delay 15m)"],
    [{ levels: [{ delay: '0m', targets: [{ user: 'U01A', usergroup: 'S01B' }] }] },
      'p.levels[0].targets[0]: a target is exactly one of { schedule: backend-primary }, { user: U012AB3CD } or { usergroup: S0614TZR7 }, not user and usergroup together'],
    [{ levels: [{ delay: '0m', targets: [{}] }] },
      'p.levels[0].targets[0]: a target is exactly one of { schedule: backend-primary }, { user: U012AB3CD } or { usergroup: S0614TZR7 }'],
    [{ levels: [{ delay: '0m', targets: [] }] },
      'p.levels[0].targets: list at least one target; a level that pages nobody is never what you want'],
    [{ levels: [{ delay: 'soon', targets: [{ user: 'U01A' }] }] },
      'p.levels[0].delay: "soon" is not a duration; write it like "500ms", "5s", "15m", "4h" or "1d"'],
    [{ repeat: 2, levels: [{ delay: '0m', targets: [{ user: 'U01A' }] }] },
      'p.delayBetweenRounds: with repeat, set a delayBetweenRounds (such as 15m): the levels alone give no pause before the ladder starts again'],
    [{ repeat: 1, levels: [] }, 'p.repeat: a policy without levels has nothing to repeat'],
    [{ levels: [{ delay: '0m', targets: [{ user: 'U01A' }], after: '5m' }] },
      'p.levels[0].after: is not a known setting; check its spelling against the configuration reference in README.md'],
  ])('rejects %j', (input, problem) => {
    expect(policyProblems(input)).toEqual([problem]);
  });

  it('accepts repeat on one level when the pause is given', () => {
    expect(policyProblems({ repeat: 2, delayBetweenRounds: '10m', levels: [{ delay: '0m', targets: [{ user: 'U01A' }] }] })).toEqual([]);
  });
});

describe('checkEscalationReferences', () => {
  it('reports unknown schedules and policies with their paths', () => {
    const schedules = SchedulesConfig.parse({ 'backend-primary': weekly });
    const policies = EscalationPoliciesConfig.parse({
      'critical-ladder': criticalLadder,
      typo: { levels: [{ delay: '0m', targets: [{ user: 'U01A' }, { schedule: 'backend-primry' }] }] },
    });
    // Seed 003's severities, one pointing at a policy that does not exist.
    const severities = SeverityPoliciesConfig.parse({ critical: 'critical-ladder', high: 'high-ladder' });
    expect(checkEscalationReferences(schedules, policies, severities)).toEqual([
      { path: 'escalationPolicies.typo.levels[0].targets[1].schedule', message: 'there is no schedule "backend-primry"; schedules has "backend-primary"' },
      { path: 'severityPolicies.high', message: 'there is no escalation policy "high-ladder"; escalationPolicies has "critical-ladder", "typo"' },
    ]);
    expect(checkEscalationReferences(schedules, { 'critical-ladder': policies['critical-ladder']! }, { critical: 'critical-ladder' })).toEqual([]);
  });

  it('rejects a severity name that is not a label value', () => {
    expect(SeverityPoliciesConfig.safeParse({ 'very bad': 'x' }).success).toBe(false);
  });
});
