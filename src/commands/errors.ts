import { codeSpan } from '../alerts/mrkdwn.js';

/** What a person typed, shown as code: escaped, so it cannot mention, link or close the span. */
const typed = (text: string): string => codeSpan(text, 200);

/**
 * Every error a user can see, by code. The text says what went wrong and what to do;
 * anything not listed here is unexpected and shown as "Something went wrong (ref …)".
 */
export const USER_ERRORS = {
  COMMAND_UNPARSABLE: (p: { reason: string }) => `${p.reason} Try \`/ops help\`.`,
  COMMAND_UNKNOWN: (p: { verb: string; hint: string }) => `${typed(p.verb)} is not an /ops command.${p.hint} Type \`/ops help\` for the list.`,
  COMMAND_USAGE: (p: { problem: string; usage: string }) => `${p.problem} Usage: \`/ops ${p.usage}\``,
  INPUT_INVALID: (p: { problems: string }) => `That request is not valid: ${p.problems}`,
  SERVICE_NOT_FOUND: (p: { service: string; hint: string }) =>
    `There is no service ${typed(p.service)} in the catalog.${p.hint} \`/ops health\` lists every service.`,
  SERVICE_HAS_NO_CHECKS: (p: { service: string }) =>
    `\`${p.service}\` has no health checks; add some under \`services.${p.service}.health\` in the catalog.`,
  NOT_CONFIGURED: (p: { service: string; what: string; key: string }) =>
    `\`${p.service}\` has no ${p.what}; add \`${p.key}:\` under \`services.${p.service}\` in the catalog.`,
  TARGET_NOT_FOUND: (p: { service: string; what: string; name: string; known: string }) =>
    `\`${p.service}\` has no ${p.what} ${typed(p.name)}; it has ${p.known}.`,
  TARGET_AMBIGUOUS: (p: { service: string; what: string; known: string; usage: string }) =>
    `\`${p.service}\` has several ${p.what}s (${p.known}); name one: \`/ops ${p.usage}\`.`,
  INCIDENT_NOT_FOUND: (p: { ref: string }) => `There is no incident #${p.ref}. \`/ops incidents\` lists the open ones.`,
  INCIDENT_NOT_SILENCED: (p: { ref: string }) => `Incident #${p.ref} has no silence to lift; give the silence id instead.`,
  ALERTMANAGER_NOT_CONFIGURED: (_p: Record<string, never>) =>
    'Switchboard does not know your Alertmanager; add `alertmanager: { url: http://alertmanager:9093 }` to the catalog.',
  SILENCE_TARGET_INVALID: (p: { what: string }) =>
    `${typed(p.what)} is not an incident (#42), a service, or label=value pairs separated by commas.`,
  PERMISSION_DENIED: (p: { action: string; permission: string; target: string; roles: string }) =>
    `You need the \`${p.permission}\` permission to ${p.action}${p.target}${p.roles}. Ask an admin to add you to such a role in the catalog (\`roles\`).`,
  CONFIRMATION_REQUIRED: (p: { action: string; target: string }) =>
    `${p.action}${p.target} is destructive and needs a confirmation; use \`/ops\` or the button, which ask for it.`,
  CONFIRMATION_INVALID: (p: { reason: string }) => `This confirmation cannot be used: ${p.reason}. Run the command again to get a new one.`,
  RUN_IN_PROGRESS: (p: { action: string; target: string; who: string }) =>
    `${p.action}${p.target} is already running${p.who}. Wait for its result in this channel; it runs once at a time.`,
  RUN_COOLING_DOWN: (p: { action: string; target: string; last: string; until: string }) =>
    `${p.action}${p.target} last succeeded ${p.last}; it can run again ${p.until}. The cooldown is set in the catalog (\`cooldowns\`).`,
  ACTION_TIMED_OUT: (p: { action: string; after: string }) => `${p.action} did not finish within ${p.after} and was stopped.`,
  BUTTON_INVALID: (_p: Record<string, never>) =>
    'This button is not one Switchboard made, or it is from a version that no longer exists. Use `/ops help` to run the action.',
  BUTTON_MISPLACED: (_p: Record<string, never>) =>
    'This button does not belong to the message it is on, so nothing ran. Use the buttons on the incident\'s own message, or `/ops`.',
} as const;

export type UserErrorCode = keyof typeof USER_ERRORS;
type ParamsOf<C extends UserErrorCode> = Parameters<(typeof USER_ERRORS)[C]>[0];

/** An error whose message is meant for the person who asked; it never carries a stack to Slack. */
export class UserError<C extends UserErrorCode = UserErrorCode> extends Error {
  readonly code: C;
  constructor(code: C, params: ParamsOf<C>) {
    super((USER_ERRORS[code] as (p: ParamsOf<C>) => string)(params));
    this.name = 'UserError';
    this.code = code;
  }
}

export const isUserError = (error: unknown): error is UserError => error instanceof UserError;
