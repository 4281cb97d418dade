import { z } from 'zod';
import { CatalogId, SlackUserId, SlackUsergroupId } from '../../config/catalog-id.js';
import { Duration, formatDuration } from '../../config/duration.js';
import type { ConfigProblem } from '../../config/problems.js';
import { formatPath } from '../../config/problems.js';
import { strictObject } from '../../config/schema-helpers.js';
import { isValidTimeZone, localValue, localWeekday } from './zoned-time.js';

/**
 * Catalog `schedules:`, `escalationPolicies:` and `severityPolicies:`. The parsed shapes are
 * plain JSON (strings and numbers), so they can be frozen onto an incident as they are.
 */


export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const TimeZone = z
  .string()
  .refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin, America/New_York or UTC' });

const HandoffTime = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour local time such as "09:00" (quote it in YAML)');

function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const local = localValue(Number(match[1]), Number(match[2]), Number(match[3]));
  return new Date(local).toISOString().startsWith(text);
}

const LocalDate = z.string().refine(isCalendarDate, { message: 'must be a calendar date such as "2026-01-05" (YYYY-MM-DD, quote it in YAML)' });

/** Shorter custom shifts would hand off more than once in a daylight-saving jump. */
const MIN_CUSTOM_LENGTH_MS = 3_600_000;

const ScheduleInput = strictObject({
  timezone: TimeZone,
  rotation: z.enum(['daily', 'weekly', 'custom'], { message: 'must be daily, weekly or custom' }),
  /** Shift length of a `custom` rotation, counted on the local wall clock. */
  length: Duration.optional(),
  handoff: HandoffTime,
  handoffDay: z.enum(WEEKDAYS, { message: `must be a weekday: ${WEEKDAYS.join(', ')}` }).optional(),
  start: LocalDate,
  participants: z.array(SlackUserId).max(200),
});

/** One rotation; shifts start at `handoff` local time, the first on `start`, participants in order. */
export const ScheduleConfig = ScheduleInput.superRefine((input, ctx) => {
  if (input.rotation === 'custom') {
    if (input.length === undefined) ctx.addIssue({ code: 'custom', path: ['length'], message: 'a custom rotation needs a shift length such as "3d" or "12h"' });
    else if (input.length < MIN_CUSTOM_LENGTH_MS || input.length % 60_000 !== 0) {
      ctx.addIssue({ code: 'custom', path: ['length'], message: 'must be whole minutes and at least 1h' });
    }
  } else if (input.length !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['length'], message: `only a custom rotation takes a length; a ${input.rotation} rotation hands off every ${input.rotation === 'daily' ? 'day' : 'week'}` });
  }
  if (input.rotation === 'weekly') {
    if (input.handoffDay === undefined) {
      ctx.addIssue({ code: 'custom', path: ['handoffDay'], message: 'a weekly rotation needs handoffDay, such as monday' });
    } else if (isCalendarDate(input.start)) {
      const [year, month, day] = input.start.split('-').map(Number) as [number, number, number];
      const startDay = WEEKDAYS[localWeekday(localValue(year, month, day)) - 1];
      if (startDay !== input.handoffDay) {
        ctx.addIssue({ code: 'custom', path: ['start'], message: `${input.start} is a ${startDay}, but handoffDay is ${input.handoffDay}; start the rotation on a ${input.handoffDay}` });
      }
    }
  } else if (input.handoffDay !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['handoffDay'], message: 'only a weekly rotation takes handoffDay' });
  }
}).transform((input): Schedule => {
  const base = { timezone: input.timezone, handoff: input.handoff, start: input.start, participants: input.participants };
  if (input.rotation === 'weekly') return { rotation: 'weekly', handoffDay: input.handoffDay ?? 'monday', ...base };
  if (input.rotation === 'custom') return { rotation: 'custom', length: input.length ?? MIN_CUSTOM_LENGTH_MS, ...base };
  return { rotation: 'daily', ...base };
});

interface ScheduleBase {
  /** IANA zone of `handoff` and `start`. */
  timezone: string;
  /** Local "HH:MM" of every handoff. */
  handoff: string;
  /** Local "YYYY-MM-DD" on which the first participant starts, at `handoff`. */
  start: string;
  /** Slack user ids, in rotation order; may be empty (nobody is on call). */
  participants: string[];
}

/** A parsed schedule: plain JSON, safe to freeze onto an incident. */
export type Schedule =
  | (ScheduleBase & { rotation: 'daily' })
  | (ScheduleBase & { rotation: 'weekly'; handoffDay: Weekday })
  | (ScheduleBase & { rotation: 'custom'; /** Milliseconds on the local wall clock. */ length: number });

export const SchedulesConfig = z.record(CatalogId, ScheduleConfig);
export type Schedules = Record<string, Schedule>;

/** A level's target; the catalog writes `{ schedule: x }`, `{ user: U… }` or `{ usergroup: S… }`. */
export const EscalationTargetConfig = strictObject({
  schedule: CatalogId.optional(),
  user: SlackUserId.optional(),
  usergroup: SlackUsergroupId.optional(),
})
  .superRefine((input, ctx) => {
    const keys = Object.keys(input).filter((key) => input[key as keyof typeof input] !== undefined);
    if (keys.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a target is exactly one of { schedule: backend-primary }, { user: U012AB3CD } or { usergroup: S0614TZR7 }${keys.length > 1 ? `, not ${keys.join(' and ')} together` : ''}`,
      });
    }
  })
  .transform((input): EscalationTarget => {
    if (input.schedule !== undefined) return { kind: 'schedule', scheduleId: input.schedule };
    if (input.user !== undefined) return { kind: 'user', userId: input.user };
    return { kind: 'usergroup', usergroupId: input.usergroup ?? '' };
  });

export type EscalationTarget =
  | { kind: 'schedule'; scheduleId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'usergroup'; usergroupId: string };

const EscalationLevelConfig = strictObject({
  /** Time from the incident's start (not from the previous level) until this level is paged. */
  delay: Duration,
  targets: z.array(EscalationTargetConfig).min(1, 'list at least one target; a level that pages nobody is never what you want').max(20),
});

export type EscalationLevel = { delay: number; targets: EscalationTarget[] };

/** Levels with absolute delays, run `repeat + 1` times; rounds are `delay of the last level + delayBetweenRounds` apart. */
export const EscalationPolicyConfig = strictObject({
  repeat: z.number({ message: 'must be a whole number from 0 to 10' }).int().min(0).max(10, 'must be at most 10').default(0),
  /** Pause after the last level before the ladder starts again; default: the gap before the last level. */
  delayBetweenRounds: Duration.optional(),
  /** After an acknowledgement, remind the acknowledger this often while the incident keeps firing. */
  remindAfter: Duration.pipe(z.number().min(60_000, 'must be at least 1m')).optional(),
  levels: z.array(EscalationLevelConfig).max(20, 'list at most 20 levels'),
}).superRefine((policy, ctx) => {
  policy.levels.forEach((level, index) => {
    const previous = policy.levels[index - 1];
    if (previous && level.delay < previous.delay) {
      ctx.addIssue({
        code: 'custom',
        path: ['levels', index, 'delay'],
        message: `delays count from the incident's start and must not decrease: level ${index + 1} comes after level ${index} (delay ${formatDuration(previous.delay)})`,
      });
    }
  });
  if (policy.repeat > 0) {
    if (policy.levels.length === 0) ctx.addIssue({ code: 'custom', path: ['repeat'], message: 'a policy without levels has nothing to repeat' });
    else if (defaultRoundGap(policy.levels.map((l) => l.delay), policy.delayBetweenRounds) <= 0) {
      ctx.addIssue({ code: 'custom', path: ['delayBetweenRounds'], message: 'with repeat, set a delayBetweenRounds (such as 15m): the levels alone give no pause before the ladder starts again' });
    }
  }
});

export type EscalationPolicy = z.output<typeof EscalationPolicyConfig>;

export const EscalationPoliciesConfig = z.record(CatalogId, EscalationPolicyConfig);
export type EscalationPolicies = Record<string, EscalationPolicy>;

/** The default policy per alert severity label value: `{ critical: critical-ladder }`. */
export const SeverityPoliciesConfig = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/, 'must be a severity label value such as critical or warning'),
  CatalogId,
);
export type SeverityPolicies = Record<string, string>;

/**
 * The pause between the last level of one round and the first level of the next: the
 * configured `delayBetweenRounds`, else the gap before the last level (0, 15, 30, 60 → 30),
 * else, for a single level, its own delay.
 */
export function defaultRoundGap(delays: readonly number[], delayBetweenRounds: number | undefined): number {
  if (delayBetweenRounds !== undefined) return delayBetweenRounds;
  const last = delays[delays.length - 1] ?? 0;
  const beforeLast = delays[delays.length - 2];
  return beforeLast === undefined ? last : last - beforeLast;
}

/** A reference to something the catalog does not define, with its path as zod reports paths. */
export interface ReferenceIssue {
  path: Array<string | number>;
  message: string;
}

/**
 * Problems no single schema can see: levels naming unknown schedules, severities (and, when
 * given, routes) naming unknown policies. `policyRefs` are other places that name a policy,
 * such as `routes[0].escalation`.
 */
export function escalationReferenceIssues(
  schedules: Readonly<Schedules>,
  policies: Readonly<EscalationPolicies>,
  severityPolicies: Readonly<SeverityPolicies>,
  policyRefs: ReadonlyArray<{ path: Array<string | number>; policy: string }> = [],
): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const scheduleNames = Object.keys(schedules);
  const policyNames = Object.keys(policies);
  for (const [policyName, policy] of Object.entries(policies)) {
    policy.levels.forEach((level, levelIndex) => {
      level.targets.forEach((target, targetIndex) => {
        if (target.kind === 'schedule' && !Object.hasOwn(schedules, target.scheduleId)) {
          issues.push({
            path: ['escalationPolicies', policyName, 'levels', levelIndex, 'targets', targetIndex, 'schedule'],
            message: `there is no schedule "${target.scheduleId}"; ${known('schedules', scheduleNames)}`,
          });
        }
      });
    });
  }
  const refs = [...Object.entries(severityPolicies).map(([severity, policy]) => ({ path: ['severityPolicies', severity], policy })), ...policyRefs];
  for (const { path, policy } of refs) {
    if (!Object.hasOwn(policies, policy)) {
      issues.push({ path, message: `there is no escalation policy "${policy}"; ${known('escalationPolicies', policyNames)}` });
    }
  }
  return issues;
}

/** `escalationReferenceIssues` as configuration problems with dotted paths. */
export function checkEscalationReferences(
  schedules: Readonly<Schedules>,
  policies: Readonly<EscalationPolicies>,
  severityPolicies: Readonly<SeverityPolicies>,
): ConfigProblem[] {
  return escalationReferenceIssues(schedules, policies, severityPolicies).map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

function known(what: string, names: readonly string[]): string {
  return names.length === 0 ? `${what} is empty` : `${what} has ${names.map((n) => `"${n}"`).join(', ')}`;
}
