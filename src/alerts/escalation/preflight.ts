import { resolveTargets, snapshotPolicy, type ScheduleOverrides } from './engine.js';
import { scheduleGaps } from './schedule.js';
import type { EscalationPolicies, Schedules, SeverityPolicies } from './schema.js';
import { DAY_MS, formatInZone } from './zoned-time.js';

/** How far ahead preflight looks for hours with nobody on call. */
export const PREFLIGHT_HORIZON_MS = 14 * DAY_MS;

export interface PreflightLevel {
  policy: string;
  /** 0-based; shown as L1, L2, … */
  level: number;
  /** Severities whose default policy this is. */
  severities: string[];
  /** User and user group ids that would be paged right now. */
  who: string[];
  warnings: string[];
}

/** Ids that exist in the workspace, from `users.list` and `usergroups.list`; a missing set skips that check. */
export interface KnownIds {
  users?: ReadonlySet<string>;
  usergroups?: ReadonlySet<string>;
}

/** For every policy and level: who would be paged now, and what could leave an incident unanswered. */
export function preflight(
  policies: Readonly<EscalationPolicies>,
  schedules: Readonly<Schedules>,
  severityPolicies: Readonly<SeverityPolicies>,
  overrides: ScheduleOverrides,
  now: Date,
  knownIds: KnownIds = {},
): PreflightLevel[] {
  const horizon = new Date(now.getTime() + PREFLIGHT_HORIZON_MS);
  const overridesOf = (id: string) => (Object.hasOwn(overrides, id) ? overrides[id] : undefined) ?? [];
  const unknownUser = (id: string) => knownIds.users !== undefined && !knownIds.users.has(id);
  const result: PreflightLevel[] = [];
  for (const [name, policy] of Object.entries(policies)) {
    const snapshot = snapshotPolicy(name, policies, schedules);
    const severities = Object.entries(severityPolicies).filter(([, policyName]) => policyName === name).map(([severity]) => severity);
    policy.levels.forEach((level, index) => {
      const warnings: string[] = [];
      /** Schedules whose gap warning already says they have nobody now. */
      const emptyNow = new Set<string>();
      for (const target of level.targets) {
        if (target.kind === 'user' && unknownUser(target.userId)) {
          warnings.push(`user ${target.userId} is not in the workspace (or is deactivated)`);
        }
        if (target.kind === 'usergroup' && knownIds.usergroups !== undefined && !knownIds.usergroups.has(target.usergroupId)) {
          warnings.push(`user group ${target.usergroupId} is not in the workspace (or is disabled)`);
        }
        if (target.kind !== 'schedule') continue;
        const id = target.scheduleId;
        const schedule = Object.hasOwn(schedules, id) ? schedules[id] : undefined;
        if (!schedule) {
          warnings.push(`there is no schedule "${id}"`);
          continue;
        }
        const standIns = overridesOf(id).filter((o) => o.endsAt.getTime() > now.getTime()).map((o) => o.userId);
        for (const userId of new Set([...schedule.participants, ...standIns])) {
          if (unknownUser(userId)) warnings.push(`schedule "${id}" names user ${userId}, who is not in the workspace (or is deactivated)`);
        }
        if (schedule.participants.length === 0 && overridesOf(id).length === 0) continue; // resolveTargets says so
        for (const gap of scheduleGaps(schedule, overridesOf(id), now, horizon)) {
          if (gap.from.getTime() === now.getTime()) emptyNow.add(id);
          const to = gap.to.getTime() >= horizon.getTime() ? 'beyond the next 14 days' : `to ${formatInZone(gap.to, schedule.timezone)}`;
          warnings.push(`schedule "${id}" has nobody on call from ${formatInZone(gap.from, schedule.timezone)} ${to}`);
        }
      }
      const known = level.targets.filter((t) => t.kind !== 'schedule' || Object.hasOwn(schedules, t.scheduleId));
      const targets = resolveTargets(snapshot, known, now, overrides);
      const who: string[] = [];
      for (const target of targets) {
        if (target.kind === 'user') who.push(target.userId);
        else if (target.kind === 'usergroup') who.push(target.usergroupId);
        else if (target.scheduleId === undefined || !emptyNow.has(target.scheduleId)) warnings.push(target.reason);
      }
      if (who.length === 0) warnings.unshift(`L${index + 1} would page nobody right now`);
      result.push({ policy: name, level: index, severities, who, warnings: [...new Set(warnings)] });
    });
  }
  return result;
}
