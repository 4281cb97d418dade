import { z } from 'zod';
import { renderOnCall } from '../../alerts/escalation/render-oncall.js';
import { codeSpan, mentionUser } from '../../alerts/mrkdwn.js';
import { CatalogId } from '../../config/catalog-id.js';
import { Duration, formatDuration } from '../../config/duration.js';
import { defineAction, type ActionDeps } from '../action.js';
import { UserError } from '../errors.js';

/** The longest override `/ops` sets; longer stand-ins belong in the catalog's rotation. */
const MAX_OVERRIDE_MS = 30 * 86_400_000;

const MENTION = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/;
const MEMBER_ID = /^[UW][A-Z0-9]{2,}$/;

/**
 * A Slack user as `/ops` text carries one: `<@U123>` or `<@U123|name>` (a command with escaping on)
 * or a member id. Our manifest has `should_escape: false`, so a picked mention arrives as plain
 * `@name`, which names nobody for certain: it is refused with how to write it instead.
 */
export const SlackUserArgument = z.string().transform((text, ctx) => {
  const value = text.trim();
  const mention = MENTION.exec(value);
  if (mention) return mention[1]!;
  if (MEMBER_ID.test(value)) return value;
  ctx.addIssue({
    code: 'custom',
    message: value.startsWith('@')
      ? 'Slack sends an @name in /ops as plain text, and a name is not a unique Slack user: write their member ID instead (their profile → ⋮ → Copy member ID), such as U012AB3CD'
      : 'must be a Slack member ID such as U012AB3CD (their profile → ⋮ → Copy member ID)',
  });
  return z.NEVER;
});

const OverrideDuration = Duration.pipe(z.number().min(60_000, 'must be at least 1m').max(MAX_OVERRIDE_MS, 'must be at most 30d'));

function routesByPolicy(deps: ActionDeps): Record<string, string[]> {
  const byPolicy: Record<string, string[]> = {};
  for (const route of deps.catalog.routes) if (route.escalation) (byPolicy[route.escalation] ??= []).push(route.name);
  if (deps.catalog.defaultRoute?.escalation) (byPolicy[deps.catalog.defaultRoute.escalation] ??= []).push('defaultRoute');
  return byPolicy;
}

export const oncallShow = defineAction({
  id: 'oncall.show',
  title: 'On call',
  description: 'who is on call now in each schedule and at each escalation level, and the next handoff',
  risk: 'read',
  permission: 'read',
  input: z.object({}).strict(),
  timeoutMs: 10_000,
  target: () => undefined,
  slash: { verb: 'oncall', args: [], examples: ['oncall'] },
  async run({ deps }) {
    const now = deps.now();
    const overrides = await deps.oncall.live(now);
    const { schedules, escalationPolicies, severityPolicies } = deps.catalog;
    const text = renderOnCall({ schedules, escalationPolicies, severityPolicies, routesByPolicy: routesByPolicy(deps) }, overrides, now);
    return { ok: true, summary: `${Object.keys(schedules).length} schedules, ${Object.keys(escalationPolicies).length} policies`, reply: { text } };
  },
});

export const oncallOverride = defineAction({
  id: 'oncall.override',
  title: 'On-call override',
  description: 'put someone on call in a schedule from now for a while; running escalations use it at once',
  risk: 'change',
  permission: 'operate',
  input: z.object({ schedule: CatalogId, user: SlackUserArgument, duration: OverrideDuration }).strict(),
  timeoutMs: 10_000,
  target: (input) => input.schedule,
  slash: {
    verb: 'oncall override',
    args: [{ name: 'schedule' }, { name: 'user' }, { name: 'duration' }],
    examples: ['oncall override backend-primary U012AB3CD 4h'],
  },
  async run({ input, deps, actor }) {
    const { schedules } = deps.catalog;
    if (!Object.hasOwn(schedules, input.schedule)) {
      const known = Object.keys(schedules);
      const problems = `there is no schedule ${codeSpan(input.schedule, 80)}; ${known.length ? `the catalog has ${known.map((s) => `\`${s}\``).join(', ')}` : 'the catalog has no `schedules:`'}.`;
      throw new UserError('INPUT_INVALID', { problems });
    }
    const startsAt = deps.now();
    const endsAt = new Date(startsAt.getTime() + input.duration);
    const override = await deps.oncall.add({ schedule: input.schedule, userId: input.user, startsAt, endsAt, createdBy: actor.id, createdAt: startsAt });
    const until = `<!date^${Math.floor(endsAt.getTime() / 1000)}^{date_short_pretty} {time}|${endsAt.toISOString()}>`;
    return {
      ok: true,
      summary: `override ${override.id}: ${input.user} on call in ${input.schedule} for ${formatDuration(input.duration)}`,
      reply: {
        text: `🔁 <@${input.user}> is on call in \`${input.schedule}\` until ${until} (${formatDuration(input.duration)}, set by ${mentionUser(actor.id)}). Escalations page them from now on; \`/ops oncall\` shows the schedule.`,
        public: true,
      },
    };
  },
});
