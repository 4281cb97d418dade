/**
 * Requests built and signed the way Slack sends them to an app's Request URL, so tests go
 * through the app's real signature check. Scheme: docs.slack.dev/authentication/verifying-requests-from-slack.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { FAKE_WORKSPACE } from '../fakes/fake-slack.js';

/** The deprecated verification token Slack still puts in payloads; apps must not rely on it. */
export const FAKE_VERIFICATION_TOKEN = 'fakeVerificationToken0001';

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Headers Slack adds: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` keyed by the signing secret. */
export function signSlackRequest(
  rawBody: string,
  signingSecret: string,
  timestampSeconds: number = nowSeconds(),
): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const ts = String(timestampSeconds);
  const hex = createHmac('sha256', signingSecret).update(`v0:${ts}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${hex}`, 'x-slack-request-timestamp': ts };
}

/** A trigger_id shaped like Slack's (`<digits>.<digits>.<hex>`). */
export const fakeTriggerId = (): string =>
  `${randomBytes(5).readUIntBE(0, 5)}.${randomBytes(5).readUIntBE(0, 5)}.${randomBytes(16).toString('hex')}`;

export interface SlashCommandFields {
  text: string;
  response_url: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  trigger_id?: string;
  /** Default '/ops'. */
  command?: string;
  team_id?: string;
}

/** The form-encoded body of a slash command, with every field Slack sends, in Slack's order. */
export function slashCommandBody(fields: SlashCommandFields): string {
  return new URLSearchParams({
    token: FAKE_VERIFICATION_TOKEN,
    team_id: fields.team_id ?? FAKE_WORKSPACE.teamId,
    team_domain: FAKE_WORKSPACE.teamDomain,
    channel_id: fields.channel_id ?? 'C0OPS00001',
    channel_name: fields.channel_name ?? 'ops',
    user_id: fields.user_id ?? 'U0ALICE001',
    user_name: fields.user_name ?? 'alice',
    command: fields.command ?? '/ops',
    text: fields.text,
    api_app_id: FAKE_WORKSPACE.appId,
    is_enterprise_install: 'false',
    response_url: fields.response_url,
    trigger_id: fields.trigger_id ?? fakeTriggerId(),
  }).toString();
}

/** The form-encoded body of an interaction (block_actions, view_submission): one `payload` field of JSON. */
export function interactionBody(payload: object): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface BlockActionsInput {
  actionId: string;
  value: string;
  userId: string;
  channelId: string;
  /** ts of the message that carries the button. */
  messageTs: string;
  /** Set when that message is a thread reply. */
  threadTs?: string;
  responseUrl: string;
  blockId?: string;
  userName?: string;
  buttonText?: string;
  /** The message as the clicking user sees it (e.g. `fake.message(channel, ts)`); a minimal one otherwise. */
  message?: Record<string, unknown>;
}

/** A `block_actions` payload for a button click, shaped as in docs.slack.dev/reference/interaction-payloads/block_actions-payload. */
export function blockActionsPayload(input: BlockActionsInput): Record<string, unknown> {
  const userName = input.userName ?? `user-${input.userId.toLowerCase()}`;
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  const message = input.message
    ? // Stored messages carry `channel`; Slack's payload message does not.
      Object.fromEntries(Object.entries(input.message).filter(([k]) => k !== 'channel'))
    : {
        type: 'message',
        user: FAKE_WORKSPACE.botUserId,
        bot_id: FAKE_WORKSPACE.botId,
        text: '',
        ts: input.messageTs,
        ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
      };
  return {
    type: 'block_actions',
    user: { id: input.userId, username: userName, name: userName, team_id: FAKE_WORKSPACE.teamId },
    api_app_id: FAKE_WORKSPACE.appId,
    token: FAKE_VERIFICATION_TOKEN,
    container: {
      type: 'message',
      message_ts: input.messageTs,
      channel_id: input.channelId,
      is_ephemeral: false,
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
    },
    trigger_id: fakeTriggerId(),
    team: { id: FAKE_WORKSPACE.teamId, domain: FAKE_WORKSPACE.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: 'ops' },
    message,
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: input.blockId ?? 'actions',
        text: { type: 'plain_text', text: input.buttonText ?? input.actionId, emoji: true },
        value: input.value,
        action_ts: actionTs,
      },
    ],
  };
}

export interface PostToSlackOptions {
  timestampSeconds?: number;
  /** Send this signature instead of the computed one. */
  signature?: string;
  /** Default 'application/x-www-form-urlencoded'. */
  contentType?: string;
  /** Extra headers, e.g. `x-slack-retry-num`. */
  headers?: Record<string, string>;
}

export interface SlackPostResult {
  status: number;
  body: string;
  elapsedMs: number;
  headers: Record<string, string>;
}

/** POST a raw body to the app as Slack would; `signingSecret: null` sends no signature headers. */
export async function postToSlack(
  appBaseUrl: string,
  path: string,
  rawBody: string,
  signingSecret: string | null,
  opts: PostToSlackOptions = {},
): Promise<SlackPostResult> {
  const headers: Record<string, string> = {
    'content-type': opts.contentType ?? 'application/x-www-form-urlencoded',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    ...opts.headers,
  };
  if (signingSecret !== null) {
    Object.assign(headers, signSlackRequest(rawBody, signingSecret, opts.timestampSeconds));
  }
  if (opts.signature !== undefined) headers['x-slack-signature'] = opts.signature;
  if (opts.timestampSeconds !== undefined && signingSecret === null) {
    headers['x-slack-request-timestamp'] = String(opts.timestampSeconds);
  }
  const url = `${appBaseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body: rawBody });
  const body = await res.text();
  return {
    status: res.status,
    body,
    elapsedMs: performance.now() - started,
    headers: Object.fromEntries(res.headers.entries()),
  };
}
