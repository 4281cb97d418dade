/**
 * The requests Slack sends to an app's Request URL, built and signed as Slack does
 * (docs.slack.dev/authentication/verifying-requests-from-slack; interaction payload reference),
 * so the sandbox drives the bot through its real, verified `/slack/events` route.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { FAKE_WORKSPACE } from './fake-slack.js';

/** The deprecated verification token Slack still puts in payloads; the bot must not rely on it. */
const VERIFICATION_TOKEN = 'sandboxVerificationToken';

export interface SandboxUser {
  id: string;
  name: string;
}

/** Headers Slack adds: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`, keyed by the signing secret. */
export function signSlackRequest(rawBody: string, signingSecret: string, timestampSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const ts = String(timestampSeconds);
  const hex = createHmac('sha256', signingSecret).update(`v0:${ts}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${hex}`, 'x-slack-request-timestamp': ts };
}

/** Shaped like Slack's (`<digits>.<digits>.<hex>`). */
export const newTriggerId = (): string =>
  `${randomBytes(5).readUIntBE(0, 5)}.${randomBytes(5).readUIntBE(0, 5)}.${randomBytes(16).toString('hex')}`;

/** A form-encoded slash command with the fields Slack sends. */
export function slashCommandBody(input: { text: string; user: SandboxUser; channelId: string; channelName: string; responseUrl: string; triggerId: string }): string {
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: FAKE_WORKSPACE.teamId,
    team_domain: FAKE_WORKSPACE.teamDomain,
    channel_id: input.channelId,
    channel_name: input.channelName,
    user_id: input.user.id,
    user_name: input.user.name,
    command: '/ops',
    text: input.text,
    api_app_id: FAKE_WORKSPACE.appId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId,
  }).toString();
}

/** An interaction is posted form-encoded as one `payload` field of JSON. */
export const interactionBody = (payload: object): string => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

const userOf = (user: SandboxUser) => ({ id: user.id, username: user.name, name: user.name, team_id: FAKE_WORKSPACE.teamId });

/** A `block_actions` payload for a click on a button of `message` (as the clicking user sees it). */
export function blockActionsPayload(input: {
  user: SandboxUser;
  channelId: string;
  channelName: string;
  message: Record<string, unknown> & { ts: string; thread_ts?: string };
  isEphemeral: boolean;
  blockId: string;
  element: Record<string, unknown>;
  responseUrl: string;
  triggerId: string;
}): Record<string, unknown> {
  const { message } = input;
  const threadTs = message.thread_ts && message.thread_ts !== message.ts ? message.thread_ts : undefined;
  return {
    type: 'block_actions',
    user: userOf(input.user),
    api_app_id: FAKE_WORKSPACE.appId,
    token: VERIFICATION_TOKEN,
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: input.channelId,
      is_ephemeral: input.isEphemeral,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    },
    trigger_id: input.triggerId,
    team: { id: FAKE_WORKSPACE.teamId, domain: FAKE_WORKSPACE.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: input.channelName },
    // Slack leaves the message out of payloads from ephemeral messages.
    ...(input.isEphemeral ? {} : { message: Object.fromEntries(Object.entries(message).filter(([k]) => k !== 'channel')) }),
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        type: input.element.type,
        action_id: input.element.action_id,
        block_id: input.blockId,
        ...(input.element.text ? { text: input.element.text } : {}),
        ...(input.element.value !== undefined ? { value: input.element.value } : {}),
        ...(input.element.style ? { style: input.element.style } : {}),
        action_ts: (Date.now() / 1000).toFixed(6),
      },
    ],
  };
}

/** A `view_submission` payload for a modal the bot opened, with the values the user entered. */
export function viewSubmissionPayload(input: { user: SandboxUser; view: Record<string, unknown>; values: Record<string, Record<string, unknown>>; triggerId: string }): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: FAKE_WORKSPACE.teamId, domain: FAKE_WORKSPACE.teamDomain },
    user: userOf(input.user),
    api_app_id: FAKE_WORKSPACE.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId,
    view: { ...input.view, state: { values: input.values } },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}
