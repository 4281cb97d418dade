import { assertNever } from './assert-never.js';
import { onCallAt, END_OF_TIME, type ScheduleOverride } from './schedule.js';
import { defaultRoundGap, type EscalationPolicies, type EscalationTarget, type Schedule, type Schedules } from './schema.js';
import { formatInZone } from './zoned-time.js';

/**
 * The escalation engine only decides; the caller pages, records `notifiedSteps` and asks
 * again. Steps are the levels repeated `repeat + 1` times; step s is level `s % levels`
 * of round `floor(s / levels)` (all 0-based; people read level 0 as "L1"), due at
 *
 *   startedAt + round × roundLength + level.delay
 *
 * where `roundLength` = last level's delay + `delayBetweenRounds` (default: the gap before
 * the last level). Seed 001's 0/15/30/60 min ladder with `repeat: 1` pages at 0, 15, 30, 60,
 * then 90, 105, 120, 150 min.
 */

/** A policy as it was when the incident opened: self-contained plain JSON, stored on the incident. */
export interface EscalationSnapshot {
  version: 1;
  policy: string;
  repeat: number;
  /** Milliseconds from the start of one round to the start of the next. */
  roundLength: number;
  levels: Array<{ delay: number; targets: EscalationTarget[] }>;
  /** The schedules the levels name, as they were. */
  schedules: Record<string, Schedule>;
  /** Milliseconds between reminders to whoever acknowledged, while the incident keeps firing. */
  remindAfter?: number;
}

export interface EscalationProgress {
  /** How many steps already fired. */
  notifiedSteps: number;
  acknowledgedAt?: Date;
  resolvedAt?: Date;
}

/** Live overrides per schedule name; unlike the policy they are not frozen, so a takeover mid-incident counts. */
export type ScheduleOverrides = Readonly<Record<string, readonly ScheduleOverride[]>>;

export type ResolvedTarget =
  | { kind: 'user'; userId: string }
  | { kind: 'usergroup'; usergroupId: string }
  | { kind: 'nobody'; reason: string; /** The schedule with nobody, when one is the cause. */ scheduleId?: string };

export type StopReason = 'acknowledged' | 'resolved' | 'exhausted';

export type EscalationDecision =
  | { kind: 'stop'; reason: StopReason }
  | { kind: 'wait'; until: Date; step: number }
  | {
      kind: 'notify';
      step: number;
      level: number;
      round: number;
      /** When the step was due; later than this is late (the auditor's measure). */
      dueAt: Date;
      targets: ResolvedTarget[];
      /** Earlier due steps folded into this page (a late notification, a burst, downtime): paged with it, once. */
      collapsed: number;
      /**
       * Every level due now, oldest first, this step's last: when several fell due at once, one
       * page names the people of each, so the first level is never skipped.
       */
      due: DueLevel[];
    };

/** One level due in a page, with the people behind its targets when it was due. */
export interface DueLevel {
  step: number;
  level: number;
  round: number;
  dueAt: Date;
  targets: ResolvedTarget[];
}

export class EscalationPolicyNotFoundError extends Error {
  constructor(readonly policy: string) {
    super(`there is no escalation policy "${policy}" in the catalog`);
    this.name = 'EscalationPolicyNotFoundError';
  }
}

/** Freezes `policyName` and the schedules it names into a snapshot to store on the incident. */
export function snapshotPolicy(policyName: string, policies: Readonly<EscalationPolicies>, schedules: Readonly<Schedules>): EscalationSnapshot {
  if (!Object.hasOwn(policies, policyName)) throw new EscalationPolicyNotFoundError(policyName);
  const policy = policies[policyName] as EscalationPolicies[string];
  const delays = policy.levels.map((level) => level.delay);
  const lastDelay = delays[delays.length - 1] ?? 0;
  const used: Record<string, Schedule> = {};
  for (const level of policy.levels) {
    for (const target of level.targets) {
      if (target.kind === 'schedule' && Object.hasOwn(schedules, target.scheduleId)) {
        used[target.scheduleId] = schedules[target.scheduleId] as Schedule;
      }
    }
  }
  const snapshot: EscalationSnapshot = {
    version: 1,
    policy: policyName,
    repeat: policy.repeat,
    roundLength: lastDelay + defaultRoundGap(delays, policy.delayBetweenRounds),
    levels: policy.levels.map((level) => ({ delay: level.delay, targets: level.targets })),
    schedules: used,
    ...(policy.remindAfter !== undefined ? { remindAfter: policy.remindAfter } : {}),
  };
  return deepFreeze(structuredClone(snapshot));
}

/** How many steps the snapshot has in all rounds. */
export function totalSteps(snapshot: EscalationSnapshot): number {
  return snapshot.levels.length * (snapshot.repeat + 1);
}

/** When step `step` is due. */
export function stepDueAt(snapshot: EscalationSnapshot, startedAt: Date, step: number): Date {
  const levels = snapshot.levels.length;
  const level = snapshot.levels[step % levels];
  if (!level) throw new RangeError(`step ${step} is outside a ladder of ${levels} levels`);
  return new Date(startedAt.getTime() + Math.floor(step / levels) * snapshot.roundLength + level.delay);
}

/** What to do now: stop, wait until a step is due, or page: the latest due step, with every other step due with it. */
export function nextStep(
  snapshot: EscalationSnapshot,
  startedAt: Date,
  progress: EscalationProgress,
  now: Date,
  overrides: ScheduleOverrides = {},
): EscalationDecision {
  if (progress.resolvedAt) return { kind: 'stop', reason: 'resolved' };
  if (progress.acknowledgedAt) return { kind: 'stop', reason: 'acknowledged' };
  const total = totalSteps(snapshot);
  const first = Math.max(0, Math.floor(progress.notifiedSteps));
  if (first >= total) return { kind: 'stop', reason: 'exhausted' };
  const firstDue = stepDueAt(snapshot, startedAt, first);
  if (firstDue.getTime() > now.getTime()) return { kind: 'wait', until: firstDue, step: first };
  let step = first;
  while (step + 1 < total && stepDueAt(snapshot, startedAt, step + 1).getTime() <= now.getTime()) step += 1;
  const levels = snapshot.levels.length;
  const due: DueLevel[] = [];
  for (let s = first; s <= step; s++) {
    const level = s % levels;
    const dueAt = stepDueAt(snapshot, startedAt, s);
    due.push({ step: s, level, round: Math.floor(s / levels), dueAt, targets: resolveTargets(snapshot, snapshot.levels[level]?.targets ?? [], dueAt, overrides) });
  }
  const last = due[due.length - 1]!;
  return {
    kind: 'notify',
    step,
    level: last.level,
    round: last.round,
    dueAt: last.dueAt,
    targets: last.targets,
    collapsed: step - first,
    due,
  };
}

/** The people and groups behind a level's targets at `at`; a schedule with nobody is `nobody`, never dropped. */
export function resolveTargets(
  snapshot: EscalationSnapshot,
  targets: readonly EscalationTarget[],
  at: Date,
  overrides: ScheduleOverrides = {},
): ResolvedTarget[] {
  const resolved: ResolvedTarget[] = [];
  const seen = new Set<string>();
  const add = (target: ResolvedTarget, key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    resolved.push(target);
  };
  for (const target of targets) {
    switch (target.kind) {
      case 'user':
        add({ kind: 'user', userId: target.userId }, `user:${target.userId}`);
        break;
      case 'usergroup':
        add({ kind: 'usergroup', usergroupId: target.usergroupId }, `usergroup:${target.usergroupId}`);
        break;
      case 'schedule': {
        const id = target.scheduleId;
        const schedule = Object.hasOwn(snapshot.schedules, id) ? snapshot.schedules[id] : undefined;
        if (!schedule) {
          add({ kind: 'nobody', reason: `schedule "${id}" was not in the catalog when the incident opened`, scheduleId: id }, `nobody:${id}`);
          break;
        }
        const who = onCallAt(schedule, (Object.hasOwn(overrides, id) ? overrides[id] : undefined) ?? [], at);
        if (who.userId !== undefined) add({ kind: 'user', userId: who.userId }, `user:${who.userId}`);
        else add({ kind: 'nobody', reason: nobodyReason(id, schedule, who.until), scheduleId: id }, `nobody:${id}`);
        break;
      }
      default:
        assertNever(target, 'escalation target');
    }
  }
  return resolved;
}

function nobodyReason(id: string, schedule: Schedule, until: Date): string {
  if (schedule.participants.length === 0) return `schedule "${id}" has no participants`;
  if (until.getTime() >= END_OF_TIME.getTime()) return `nobody is on call in schedule "${id}"`;
  return `nobody is on call in schedule "${id}" until ${formatInZone(until, schedule.timezone)}`;
}

/** Slack mrkdwn for a target: a mention for users and groups. */
export function mentionTarget(target: ResolvedTarget): string {
  switch (target.kind) {
    case 'user':
      return `<@${target.userId}>`;
    case 'usergroup':
      return `<!subteam^${target.usergroupId}>`;
    case 'nobody':
      return `nobody (${target.reason})`;
    default:
      return assertNever(target, 'resolved target');
  }
}

export interface DescribeLadderOptions {
  progress?: EscalationProgress;
  overrides?: ScheduleOverrides;
  /**
   * How a target is written; default `mentionTarget`. Mentions in a newly posted message notify
   * people, so a parent message posted at the start should pass a non-mentioning format.
   */
  format?: (target: ResolvedTarget) => string;
}

/**
 * One line per level of the round under way (the round of the next step still to come, else
 * the last): "L2 <@U01SENIOR> in 12 min", "L1 <@U01AAA> paged 3 min ago".
 */
export function describeLadder(snapshot: EscalationSnapshot, startedAt: Date, now: Date, options: DescribeLadderOptions = {}): string[] {
  const levels = snapshot.levels.length;
  if (levels === 0) return ['No escalation: this policy pages nobody.'];
  const { progress, overrides = {}, format = mentionTarget } = options;
  const stopped: StopReason | undefined = progress?.resolvedAt ? 'resolved' : progress?.acknowledgedAt ? 'acknowledged' : undefined;
  const total = totalSteps(snapshot);
  let upcoming = 0;
  while (upcoming < total && stepDueAt(snapshot, startedAt, upcoming).getTime() <= now.getTime()) upcoming += 1;
  const round = Math.floor(Math.min(upcoming, total - 1) / levels);
  return snapshot.levels.map((level, index) => {
    const step = round * levels + index;
    const dueAt = stepDueAt(snapshot, startedAt, step);
    const who = resolveTargets(snapshot, level.targets, dueAt, overrides).map(format).join(', ');
    const fired = progress ? step < progress.notifiedSteps : dueAt.getTime() <= now.getTime();
    let when: string;
    if (fired) when = `${progress ? 'paged ' : ''}${ago(now.getTime() - dueAt.getTime())}`;
    else if (stopped) when = `not needed (${stopped})`;
    else if (dueAt.getTime() <= now.getTime()) when = `due ${ago(now.getTime() - dueAt.getTime())}`;
    else when = `in ${relative(dueAt.getTime() - now.getTime(), 'up')}`;
    const ofRounds = snapshot.repeat > 0 ? ` (round ${round + 1} of ${snapshot.repeat + 1})` : '';
    return `L${index + 1} ${who} ${when}${ofRounds}`;
  });
}

/** "12 min", "1 h 5 min"; future times round up so "in 1 min" never means "now". */
function relative(ms: number, rounding: 'up' | 'down' = 'down'): string {
  const minutes = rounding === 'up' ? Math.ceil(ms / 60_000) : Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

function ago(ms: number): string {
  return ms < 60_000 ? 'just now' : `${relative(ms)} ago`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
