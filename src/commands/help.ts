import type { PermissionName } from '../config/catalog-schema.js';
import type { AnyAction, SlashBinding } from './action.js';
import type { Registry } from './registry.js';
import { escapeMrkdwn, textReply, type Reply } from './reply.js';

/**
 * The usage line of a verb as Slack mrkdwn, e.g. `restart &lt;service&gt;`: Slack reads a bare
 * `<service>` as a link (even inside backticks) and shows "service", so the brackets are escaped.
 */
export function usage(binding: SlashBinding): string {
  const args = binding.args.map((a) => (a.optional ? `[${a.name}${a.rest ? '…' : ''}]` : `<${a.name}${a.rest ? '…' : ''}>`));
  const flags = Object.keys(binding.flags ?? {}).map((f) => `[--${f} …]`);
  return escapeMrkdwn([binding.verb, ...args, ...flags].join(' '));
}

/** What running the action means for the person typing it, as a sentence. */
const RISK_SENTENCE = {
  read: 'It only reads.',
  change: 'It changes things.',
  destructive: 'It is destructive: Switchboard asks you to confirm first.',
} as const;

/** Group headings of `/ops help`, in the order of the permission ladder. */
const GROUP = [
  { permission: 'read', heading: '*Needs the `read` permission:*' },
  { permission: 'operate', heading: '*Needs the `operate` permission:*' },
  { permission: 'admin', heading: '*Needs the `admin` permission:*' },
] as const satisfies readonly { permission: PermissionName; heading: string }[];

/** A description is written as a phrase; in help it ends as a sentence so the next one does not run on. */
const sentence = (text: string) => (/[.!?…]$/.test(text) ? text : `${text}.`);

const line = (action: AnyAction) =>
  `• \`/ops ${usage(action.slash!)}\` — ${escapeMrkdwn(action.description)}${action.risk === 'destructive' ? ' _(asks to confirm)_' : ''}`;

/** `/ops help`: the verbs grouped by the permission they need, generated from the registry so it cannot drift. */
export function renderHelp(registry: Registry): Reply {
  const actions = registry.slashActions();
  const groups = GROUP.flatMap(({ permission, heading }) => {
    const members = actions.filter((a) => a.permission === permission);
    return members.length ? [heading, ...members.map(line)] : [];
  });
  return textReply(
    [
      '*Switchboard* runs your runbooks from Slack. Type `/ops help &lt;command&gt;` for the details and examples of one command.',
      ...groups,
      'Roles in the catalog grant permissions; `operate` includes `read`, and `admin` includes both. The `permissions:` of a service in the catalog may set another one for a command.',
    ].join('\n'),
  );
}

/** `/ops help <verb>`: usage, permission, flags and examples of one action. */
export function renderVerbHelp(action: AnyAction): Reply {
  const binding = action.slash!;
  const flags = Object.entries(binding.flags ?? {}).map(([name, text]) => `• \`--${name}\` ${escapeMrkdwn(text)}`);
  const examples = (binding.examples ?? []).map((e) => `• \`/ops ${escapeMrkdwn(e)}\``);
  return textReply(
    [
      `*/ops ${usage(binding)}* — ${sentence(escapeMrkdwn(action.description))}`,
      `Needs the \`${action.permission}\` permission. ${RISK_SENTENCE[action.risk]}`,
      ...(flags.length ? ['*Flags:*', ...flags] : []),
      ...(examples.length ? ['*Examples:*', ...examples] : []),
    ].join('\n'),
  );
}
