import type { AnyAction, SlashBinding } from './action.js';
import type { Registry } from './registry.js';
import { escapeMrkdwn, textReply, type Reply } from './reply.js';

/**
 * `restart &lt;service&gt;`: mrkdwn, since every usage goes to Slack, which would take a bare
 * `<service>` for a link or a mention even inside a code span; it shows as `<service>`.
 */
export function usage(binding: SlashBinding): string {
  const args = binding.args.map((a) => (a.optional ? `[${a.name}${a.rest ? '…' : ''}]` : `<${a.name}${a.rest ? '…' : ''}>`));
  const flags = Object.keys(binding.flags ?? {}).map((f) => `[--${f} …]`);
  return escapeMrkdwn([binding.verb, ...args, ...flags].join(' '));
}

const RISK_NOTE = { read: '', change: ' (changes things)', destructive: ' (destructive: asks to confirm)' } as const;

/** `/ops help`: one line per verb, generated from the registry so it cannot drift. */
export function renderHelp(registry: Registry): Reply {
  const lines = registry.slashActions().map((a) => `• \`/ops ${usage(a.slash!)}\` — ${a.description}${RISK_NOTE[a.risk]}`);
  return textReply(
    ['*Switchboard* runs your runbooks from Slack.', ...lines, '• `/ops help &lt;command&gt;` — details and examples for one command'].join('\n'),
  );
}

/** `/ops help <verb>`: usage, flags, permission and examples of one action. */
export function renderVerbHelp(action: AnyAction): Reply {
  const binding = action.slash!;
  const flags = Object.entries(binding.flags ?? {}).map(([name, text]) => `  \`--${name}\` ${text}`);
  const examples = (binding.examples ?? []).map((e) => `  \`/ops ${e}\``);
  return textReply(
    [
      `*/ops ${usage(binding)}* — ${action.description}`,
      `Needs the \`${action.permission}\` permission${RISK_NOTE[action.risk]}.`,
      ...(flags.length ? ['Flags:', ...flags] : []),
      ...(examples.length ? ['Examples:', ...examples] : []),
    ].join('\n'),
  );
}
