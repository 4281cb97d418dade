import { formatDuration } from '../../config/duration.js';
import { mentionUser, slackDate } from '../mrkdwn.js';
import { fitMrkdwn, SLACK_LIMITS } from '../slack-budget.js';
import type { OnCallOverride, OverridesBySchedule } from './oncall-overrides.js';
import { END_OF_TIME, onCallAt } from './schedule.js';
import type { EscalationPolicies, EscalationTarget, Schedule, Schedules, SeverityPolicies } from './schema.js';

export interface OnCallCatalog {
  schedules: Readonly<Schedules>;
  escalationPolicies: Readonly<EscalationPolicies>;
  severityPolicies: Readonly<SeverityPolicies>;
  /** Route names per policy they name, for "used by". */
  routesByPolicy?: Readonly<Record<string, readonly string[]>>;
}

const MAX_LINES = 120;

/** `/ops oncall`: who is on call now in every schedule and at every level of every policy, and the next handoff. Pure. */
export function renderOnCall(catalog: OnCallCatalog, overrides: OverridesBySchedule, now: Date): string {
  const schedules = Object.entries(catalog.schedules);
  const policies = Object.entries(catalog.escalationPolicies);
  if (schedules.length === 0 && policies.length === 0) {
    return 'The catalog has no on-call schedules and no escalation policies: add `schedules:` and `escalationPolicies:` (README.md → "Escalation").';
  }
  const overridesOf = (id: string) => (Object.hasOwn(overrides, id) ? overrides[id] : undefined) ?? [];
  const lines: string[] = [];
  if (schedules.length > 0) {
    lines.push('*On call now*');
    for (const [id, schedule] of schedules) lines.push(`• \`${id}\` (${rotationText(schedule)}): ${scheduleNow(schedule, overridesOf(id), now)}`);
  }
  if (policies.length > 0) {
    lines.push('*Escalation policies*');
    for (const [name, policy] of policies) {
      const severities = Object.entries(catalog.severityPolicies).filter(([, p]) => p === name).map(([s]) => s);
      const routes = catalog.routesByPolicy?.[name] ?? [];
      const usedBy = [...severities.map((s) => `severity ${s}`), ...routes.map((r) => `route ${r}`)];
      const remind = policy.remindAfter ? `, reminds the acknowledger every ${formatDuration(policy.remindAfter)}` : '';
      const repeat = policy.repeat > 0 ? `, ${policy.repeat + 1} rounds` : '';
      lines.push(`*\`${name}\`*${usedBy.length ? ` (${usedBy.join(', ')})` : ' (named by no route or severity)'}${repeat}${remind}`);
      if (policy.levels.length === 0) lines.push('    pages nobody: posts the incident only');
      policy.levels.forEach((level, index) => {
        const who = level.targets.map((t) => targetNow(t, catalog.schedules, overrides, now)).join(', ');
        lines.push(`    L${index + 1} ${level.delay === 0 ? 'at once' : `after ${formatDuration(level.delay)}`}: ${who}`);
      });
    }
  }
  // A reply of text only: Slack shows up to 40,000 characters of it.
  if (lines.length > MAX_LINES) return fitMrkdwn([...lines.slice(0, MAX_LINES), `_…and ${lines.length - MAX_LINES} more lines_`].join('\n'), SLACK_LIMITS.messageText);
  return fitMrkdwn(lines.join('\n'), SLACK_LIMITS.messageText);
}

function rotationText(schedule: Schedule): string {
  const every = schedule.rotation === 'custom' ? `every ${formatDuration(schedule.length)}` : schedule.rotation;
  const day = schedule.rotation === 'weekly' ? ` ${schedule.handoffDay}` : '';
  return `${every}, hands off${day} at ${schedule.handoff} ${schedule.timezone}`;
}

function scheduleNow(schedule: Schedule, overrides: readonly OnCallOverride[], now: Date): string {
  const who = onCallAt(schedule, overrides, now);
  // The newest covering override decides, as in onCallAt.
  const override = who.override ? [...overrides].reverse().find((o) => o.userId === who.userId && o.startsAt <= now && now < o.endsAt) : undefined;
  const person = who.userId
    ? `${mentionUser(who.userId)}${override ? ` (override by ${mentionUser(override.createdBy)})` : ''}`
    : `⚠️ nobody${schedule.participants.length === 0 ? ' (no participants)' : ''}`;
  if (who.until.getTime() >= END_OF_TIME.getTime()) return `${person}, no handoff ahead`;
  const next = onCallAt(schedule, overrides, who.until).userId;
  return `${person} until ${slackDate(who.until)}, then ${next ? mentionUser(next) : '⚠️ nobody'}`;
}

function targetNow(target: EscalationTarget, schedules: Readonly<Schedules>, overrides: OverridesBySchedule, now: Date): string {
  switch (target.kind) {
    case 'user':
      return mentionUser(target.userId);
    case 'usergroup':
      return `<!subteam^${target.usergroupId}>`;
    case 'schedule': {
      const schedule = Object.hasOwn(schedules, target.scheduleId) ? schedules[target.scheduleId] : undefined;
      if (!schedule) return `⚠️ unknown schedule \`${target.scheduleId}\``;
      const who = onCallAt(schedule, (Object.hasOwn(overrides, target.scheduleId) ? overrides[target.scheduleId] : undefined) ?? [], now).userId;
      return `${who ? mentionUser(who) : '⚠️ nobody'} (\`${target.scheduleId}\`)`;
    }
  }
}
