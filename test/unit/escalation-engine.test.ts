import { describe, expect, it } from 'vitest';
import {
  describeLadder,
  nextStep,
  snapshotPolicy,
  stepDueAt,
  type EscalationDecision,
  type EscalationProgress,
  type EscalationSnapshot,
  type ScheduleOverrides,
} from '../../src/alerts/escalation/engine.js';
import { EscalationPoliciesConfig, SchedulesConfig } from '../../src/alerts/escalation/schema.js';

const MIN = 60_000;
const startedAt = new Date('2026-01-06T10:00:00Z'); // a Tuesday: U01AAA's week in backend-primary
const after = (minutes: number) => new Date(startedAt.getTime() + minutes * MIN);

const schedules = SchedulesConfig.parse({
  'backend-primary': {
    timezone: 'Europe/Berlin', rotation: 'weekly', handoff: '09:00', handoffDay: 'monday', start: '2026-01-05',
    participants: ['U01AAA', 'U01BBB', 'U01CCC'],
  },
  'not-yet': { timezone: 'UTC', rotation: 'daily', handoff: '09:00', start: '2027-01-01', participants: ['U01ZZZ'] },
});

/** Seed 001: L1 on-call 0-15 min, L2 senior 15-30, L3 manager 30+, L4 CTO 1 h+. */
const ladder = (extra: object = {}) => ({
  ...extra,
  levels: [
    { delay: '0m', targets: [{ schedule: 'backend-primary' }] },
    { delay: '15m', targets: [{ user: 'U01SENIOR' }] },
    { delay: '30m', targets: [{ usergroup: 'S01MANAGERS' }] },
    { delay: '60m', targets: [{ user: 'U01CTO' }] },
  ],
});

const policies = EscalationPoliciesConfig.parse({
  'critical-ladder': ladder(),
  'critical-twice': ladder({ repeat: 1 }),
  'critical-twice-soon': ladder({ repeat: 1, delayBetweenRounds: '10m' }),
  // Seed 002: critical answered within 5 minutes, L2 after 15.
  'seed-002': {
    levels: [
      { delay: '5m', targets: [{ schedule: 'backend-primary' }, { user: 'U01AAA' }] },
      { delay: '15m', targets: [{ schedule: 'not-yet' }, { usergroup: 'S01LEADS' }] },
    ],
  },
  'warning-post-only': { levels: [] },
});

const snapshot = (name: string) => snapshotPolicy(name, policies, schedules);

interface Page {
  minute: number;
  step: number;
  level: number;
  round: number;
  who: string[];
  collapsed: number;
}

/**
 * Drives the engine with a controlled clock, a tick a minute, doing what the caller does:
 * page on `notify`, record the step, and acknowledge or resolve at the given minute.
 */
function simulate(snap: EscalationSnapshot, minutes: number, events: { ackAt?: number; resolveAt?: number } = {}) {
  const progress: EscalationProgress = { notifiedSteps: 0 };
  const pages: Page[] = [];
  let last: EscalationDecision | undefined;
  for (let minute = 0; minute <= minutes; minute += 1) {
    if (minute === events.ackAt) progress.acknowledgedAt = after(minute);
    if (minute === events.resolveAt) progress.resolvedAt = after(minute);
    last = nextStep(snap, startedAt, progress, after(minute));
    if (last.kind === 'notify') {
      const who = last.targets.map((t) => (t.kind === 'user' ? t.userId : t.kind === 'usergroup' ? t.usergroupId : `nobody: ${t.reason}`));
      pages.push({ minute, step: last.step, level: last.level, round: last.round, who, collapsed: last.collapsed });
      progress.notifiedSteps = last.step + 1;
    }
  }
  return { pages, last };
}

const minutesOf = (pages: Page[]) => pages.map((p) => p.minute);

describe('nextStep over seed 001', () => {
  it('escalates through all four levels at 0, 15, 30 and 60 minutes, then stops', () => {
    const { pages, last } = simulate(snapshot('critical-ladder'), 120);
    expect(pages).toEqual([
      { minute: 0, step: 0, level: 0, round: 0, who: ['U01AAA'], collapsed: 0 },
      { minute: 15, step: 1, level: 1, round: 0, who: ['U01SENIOR'], collapsed: 0 },
      { minute: 30, step: 2, level: 2, round: 0, who: ['S01MANAGERS'], collapsed: 0 },
      { minute: 60, step: 3, level: 3, round: 0, who: ['U01CTO'], collapsed: 0 },
    ]);
    expect(last).toEqual({ kind: 'stop', reason: 'exhausted' });
  });

  it.each([
    ['acknowledged between L2 and L3', { ackAt: 20 }, [0, 15], 'acknowledged'],
    ['acknowledged at once', { ackAt: 0 }, [], 'acknowledged'],
    ['resolved between L3 and L4', { resolveAt: 45 }, [0, 15, 30], 'resolved'],
    ['acknowledged, then resolved', { ackAt: 20, resolveAt: 40 }, [0, 15], 'resolved'],
  ] as const)('stops when %s', (_, events, minutes, reason) => {
    const { pages, last } = simulate(snapshot('critical-ladder'), 120, events);
    expect(minutesOf(pages)).toEqual(minutes);
    expect(last).toEqual({ kind: 'stop', reason });
  });

  it.each([
    ['critical-twice', [0, 15, 30, 60, 90, 105, 120, 150]],
    ['critical-twice-soon', [0, 15, 30, 60, 70, 85, 100, 130]],
  ])('repeats the ladder (%s)', (name, minutes) => {
    const { pages, last } = simulate(snapshot(name), 200);
    expect(minutesOf(pages)).toEqual(minutes);
    expect(pages.map((p) => [p.level, p.round])).toEqual([[0, 0], [1, 0], [2, 0], [3, 0], [0, 1], [1, 1], [2, 1], [3, 1]]);
    expect(last).toEqual({ kind: 'stop', reason: 'exhausted' });
  });

  it.each([
    // minute, steps already notified, decision
    [0, 0, { kind: 'notify', step: 0, level: 0, collapsed: 0 }],
    [5, 1, { kind: 'wait', until: after(15), step: 1 }],
    [14, 1, { kind: 'wait', until: after(15), step: 1 }],
    [15, 1, { kind: 'notify', step: 1, level: 1, collapsed: 0 }],
    // Switchboard was down: several steps are due, and the caller pings once, for the latest.
    [61, 0, { kind: 'notify', step: 3, level: 3, round: 0, collapsed: 3, dueAt: after(60), targets: [{ kind: 'user', userId: 'U01CTO' }] }],
    [45, 1, { kind: 'notify', step: 2, level: 2, collapsed: 1, targets: [{ kind: 'usergroup', usergroupId: 'S01MANAGERS' }] }],
    [61, 4, { kind: 'stop', reason: 'exhausted' }],
  ] as const)('at minute %i with %i notified → %j', (minute, notifiedSteps, expected) => {
    expect(nextStep(snapshot('critical-ladder'), startedAt, { notifiedSteps }, after(minute))).toMatchObject(expected);
  });

  it('collapses across rounds into the latest due step', () => {
    expect(nextStep(snapshot('critical-twice'), startedAt, { notifiedSteps: 1 }, after(100))).toMatchObject({
      kind: 'notify', step: 4, level: 0, round: 1, collapsed: 3, dueAt: after(90),
    });
  });

  it('stops a policy without levels at once', () => {
    expect(nextStep(snapshot('warning-post-only'), startedAt, { notifiedSteps: 0 }, startedAt)).toEqual({ kind: 'stop', reason: 'exhausted' });
  });
});

describe('targets', () => {
  it('resolves a schedule at the step’s due time and pages each person once', () => {
    // Seed 002's L1 names the schedule and U01AAA, who is on call: one ping.
    expect(nextStep(snapshot('seed-002'), startedAt, { notifiedSteps: 0 }, after(5))).toMatchObject({
      kind: 'notify', targets: [{ kind: 'user', userId: 'U01AAA' }],
    });
    // The Monday handoff is at 08:00Z. A step resolves its schedule at its due time, not when asked.
    const beforeHandoff = new Date('2026-01-12T07:55:00Z');
    expect(nextStep(snapshot('critical-ladder'), beforeHandoff, { notifiedSteps: 0 }, new Date('2026-01-12T08:02:00Z'))).toMatchObject({
      kind: 'notify', step: 0, dueAt: beforeHandoff, targets: [{ kind: 'user', userId: 'U01AAA' }],
    });
    // Seed 002's L1 is due at 08:00Z, when U01BBB's week has begun; U01AAA is still paged directly.
    expect(nextStep(snapshot('seed-002'), beforeHandoff, { notifiedSteps: 0 }, new Date('2026-01-12T08:00:00Z'))).toMatchObject({
      kind: 'notify', step: 0, targets: [{ kind: 'user', userId: 'U01BBB' }, { kind: 'user', userId: 'U01AAA' }],
    });
  });

  it('says nobody, with the reason, instead of skipping an empty schedule', () => {
    expect(nextStep(snapshot('seed-002'), startedAt, { notifiedSteps: 1 }, after(15))).toMatchObject({
      kind: 'notify',
      targets: [
        { kind: 'nobody', reason: 'nobody is on call in schedule "not-yet" until Fri 2027-01-01 09:00 UTC', scheduleId: 'not-yet' },
        { kind: 'usergroup', usergroupId: 'S01LEADS' },
      ],
    });
  });

  it('applies live overrides', () => {
    const overrides: ScheduleOverrides = { 'backend-primary': [{ userId: 'U01CCC', startsAt: after(-60), endsAt: after(60) }] };
    expect(nextStep(snapshot('critical-ladder'), startedAt, { notifiedSteps: 0 }, startedAt, overrides)).toMatchObject({
      targets: [{ kind: 'user', userId: 'U01CCC' }],
    });
  });
});

describe('snapshotPolicy', () => {
  it('is a frozen, self-contained JSON copy the catalog can no longer change', () => {
    const catalogPolicies = EscalationPoliciesConfig.parse({ p: ladder({ repeat: 1 }) });
    const catalogSchedules = structuredClone(schedules);
    const snap = snapshotPolicy('p', catalogPolicies, catalogSchedules);
    expect(snap).toMatchObject({ version: 1, policy: 'p', repeat: 1, roundLength: 90 * MIN });
    expect(Object.keys(snap.schedules)).toEqual(['backend-primary']);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(Object.isFrozen(snap.levels[0]!.targets[0])).toBe(true);

    catalogPolicies.p!.levels[1]!.delay = 99 * MIN;
    catalogSchedules['backend-primary']!.participants.reverse();
    expect(stepDueAt(snap, startedAt, 1)).toEqual(after(15));
    expect(snap.schedules['backend-primary']!.participants).toEqual(['U01AAA', 'U01BBB', 'U01CCC']);
  });

  it('refuses an unknown policy', () => {
    expect(() => snapshotPolicy('nope', policies, schedules)).toThrow('there is no escalation policy "nope" in the catalog');
  });

  it('pages nobody, visibly, for a schedule missing from the catalog', () => {
    const snap = snapshotPolicy('p', EscalationPoliciesConfig.parse({ p: { levels: [{ delay: '0m', targets: [{ schedule: 'gone' }] }] } }), {});
    expect(nextStep(snap, startedAt, { notifiedSteps: 0 }, startedAt)).toMatchObject({
      targets: [{ kind: 'nobody', reason: 'schedule "gone" was not in the catalog when the incident opened' }],
    });
  });
});

describe('describeLadder', () => {
  it.each([
    [3, undefined, ['L1 <@U01AAA> 3 min ago', 'L2 <@U01SENIOR> in 12 min', 'L3 <!subteam^S01MANAGERS> in 27 min', 'L4 <@U01CTO> in 57 min']],
    [0, { notifiedSteps: 1 }, ['L1 <@U01AAA> paged just now', 'L2 <@U01SENIOR> in 15 min', 'L3 <!subteam^S01MANAGERS> in 30 min', 'L4 <@U01CTO> in 1 h']],
    [16, { notifiedSteps: 1 }, ['L1 <@U01AAA> paged 16 min ago', 'L2 <@U01SENIOR> due 1 min ago', 'L3 <!subteam^S01MANAGERS> in 14 min', 'L4 <@U01CTO> in 44 min']],
    [20, { notifiedSteps: 2, acknowledgedAt: after(18) }, [
      'L1 <@U01AAA> paged 20 min ago', 'L2 <@U01SENIOR> paged 5 min ago', 'L3 <!subteam^S01MANAGERS> not needed (acknowledged)', 'L4 <@U01CTO> not needed (acknowledged)',
    ]],
    [200, undefined, ['L1 <@U01AAA> 3 h 20 min ago', 'L2 <@U01SENIOR> 3 h 5 min ago', 'L3 <!subteam^S01MANAGERS> 2 h 50 min ago', 'L4 <@U01CTO> 2 h 20 min ago']],
  ] as const)('at minute %i with %j', (minute, progress, lines) => {
    expect(describeLadder(snapshot('critical-ladder'), startedAt, after(minute), progress ? { progress } : {})).toEqual(lines);
  });

  it('names the round of a repeating ladder, and can write ids without mentions', () => {
    const lines = describeLadder(snapshot('critical-twice'), startedAt, after(75), {
      format: (t) => (t.kind === 'user' ? t.userId : t.kind === 'usergroup' ? t.usergroupId : 'nobody'),
    });
    expect(lines).toEqual(['L1 U01AAA in 15 min (round 2 of 2)', 'L2 U01SENIOR in 30 min (round 2 of 2)', 'L3 S01MANAGERS in 45 min (round 2 of 2)', 'L4 U01CTO in 1 h 15 min (round 2 of 2)']);
  });

  it('shows a level with nobody on call, and why', () => {
    expect(describeLadder(snapshot('seed-002'), startedAt, startedAt)).toEqual([
      'L1 <@U01AAA> in 5 min',
      'L2 nobody (nobody is on call in schedule "not-yet" until Fri 2027-01-01 09:00 UTC), <!subteam^S01LEADS> in 15 min',
    ]);
  });

  it('says when a policy pages nobody', () => {
    expect(describeLadder(snapshot('warning-post-only'), startedAt, startedAt)).toEqual(['No escalation: this policy pages nobody.']);
  });
});
