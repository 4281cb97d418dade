import { describe, expect, it } from 'vitest';
import { preflight } from '../../src/alerts/escalation/preflight.js';
import { EscalationPoliciesConfig, SchedulesConfig, SeverityPoliciesConfig } from '../../src/alerts/escalation/schema.js';

const now = new Date('2026-01-06T10:00:00Z');

const schedules = SchedulesConfig.parse({
  'backend-primary': {
    timezone: 'Europe/Berlin', rotation: 'weekly', handoff: '09:00', handoffDay: 'monday', start: '2026-01-05',
    participants: ['U01AAA', 'U01BBB', 'U01CCC'],
  },
  // Starts in ten days: nobody until then.
  'db-oncall': { timezone: 'America/New_York', rotation: 'daily', handoff: '09:00', start: '2026-01-16', participants: ['U01DBA', 'U01DBB'] },
  empty: { timezone: 'UTC', rotation: 'daily', handoff: '09:00', start: '2026-01-01', participants: [] },
});

const policies = EscalationPoliciesConfig.parse({
  'critical-ladder': {
    levels: [
      { delay: '0m', targets: [{ schedule: 'backend-primary' }] },
      { delay: '15m', targets: [{ user: 'U01SENIOR' }] },
      { delay: '30m', targets: [{ usergroup: 'S01MANAGERS' }] },
      { delay: '60m', targets: [{ user: 'U01CTO' }] },
    ],
  },
  database: {
    levels: [
      { delay: '0m', targets: [{ schedule: 'db-oncall' }] },
      { delay: '5m', targets: [{ schedule: 'empty' }, { user: 'U01GHOST' }] },
    ],
  },
  'warning-post-only': { levels: [] },
});

const severities = SeverityPoliciesConfig.parse({ critical: 'critical-ladder', high: 'critical-ladder', warning: 'warning-post-only' });
const knownIds = {
  users: new Set(['U01AAA', 'U01BBB', 'U01SENIOR', 'U01CTO', 'U01DBA', 'U01DBB']),
  usergroups: new Set<string>(),
};

describe('preflight', () => {
  it('lists who would be paged now at each level, with what could go wrong', () => {
    expect(preflight(policies, schedules, severities, {}, now, knownIds)).toEqual([
      { policy: 'critical-ladder', level: 0, severities: ['critical', 'high'], who: ['U01AAA'], warnings: [
        'schedule "backend-primary" names user U01CCC, who is not in the workspace (or is deactivated)',
      ] },
      { policy: 'critical-ladder', level: 1, severities: ['critical', 'high'], who: ['U01SENIOR'], warnings: [] },
      { policy: 'critical-ladder', level: 2, severities: ['critical', 'high'], who: ['S01MANAGERS'], warnings: [
        'user group S01MANAGERS is not in the workspace (or is disabled)',
      ] },
      { policy: 'critical-ladder', level: 3, severities: ['critical', 'high'], who: ['U01CTO'], warnings: [] },
      { policy: 'database', level: 0, severities: [], who: [], warnings: [
        'L1 would page nobody right now',
        'schedule "db-oncall" has nobody on call from Tue 2026-01-06 05:00 America/New_York to Fri 2026-01-16 09:00 America/New_York',
      ] },
      { policy: 'database', level: 1, severities: [], who: ['U01GHOST'], warnings: [
        'user U01GHOST is not in the workspace (or is deactivated)',
        'schedule "empty" has no participants',
      ] },
    ]);
  });

  it('skips the id checks without known ids, and sees a gap an override leaves', () => {
    const overrides = {
      // Someone covers the first days of db-oncall; the rest of the gap remains.
      'db-oncall': [{ userId: 'U01TEMP', startsAt: new Date('2026-01-06T00:00:00Z'), endsAt: new Date('2026-01-10T00:00:00Z') }],
    };
    const result = preflight(policies, schedules, severities, overrides, now);
    expect(result.find((r) => r.policy === 'database' && r.level === 0)).toEqual({
      policy: 'database', level: 0, severities: [], who: ['U01TEMP'], warnings: [
        'schedule "db-oncall" has nobody on call from Fri 2026-01-09 19:00 America/New_York to Fri 2026-01-16 09:00 America/New_York',
      ],
    });
    expect(result.filter((r) => r.policy === 'critical-ladder').flatMap((r) => r.warnings)).toEqual([]);
  });

  it('warns about a gap that reaches past the horizon and a schedule missing from the catalog', () => {
    const later = SchedulesConfig.parse({
      far: { timezone: 'UTC', rotation: 'weekly', handoff: '09:00', handoffDay: 'monday', start: '2026-03-02', participants: ['U01AAA'] },
    });
    const policy = EscalationPoliciesConfig.parse({ p: { levels: [{ delay: '0m', targets: [{ schedule: 'far' }, { schedule: 'gone' }] }] } });
    expect(preflight(policy, later, {}, {}, now)).toEqual([
      { policy: 'p', level: 0, severities: [], who: [], warnings: [
        'L1 would page nobody right now',
        'schedule "far" has nobody on call from Tue 2026-01-06 10:00 UTC beyond the next 14 days',
        'there is no schedule "gone"',
      ] },
    ]);
  });
});
