import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, type Logger as SlackLogger, type LogLevel } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChatPostError, createSlackChatPoster, createSlackWebClient, toChatPostFailure, type ChatPoster } from '../../src/integrations/slack/chat-poster.js';
import { slackErrorHint } from '../../src/integrations/slack/slack-error-hints.js';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';

const silentSlackLogger: SlackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => 'error' as LogLevel,
  setName: () => {},
};

describe('toChatPostFailure', () => {
  const cases: Array<[string, unknown, ReturnType<typeof toChatPostFailure>]> = [
    ['429 with Retry-After', new WebAPIRateLimitedError(7), { kind: 'rate_limited', retryAfterMs: 7_000 }],
    ['ratelimited as an API error', new WebAPIPlatformError({ ok: false, error: 'ratelimited' }), { kind: 'rate_limited', retryAfterMs: 5_000 }],
    ['not_in_channel', new WebAPIPlatformError({ ok: false, error: 'not_in_channel' }), { kind: 'permanent', code: 'not_in_channel' }],
    ['channel_not_found', new WebAPIPlatformError({ ok: false, error: 'channel_not_found' }), { kind: 'permanent', code: 'channel_not_found' }],
    ['message_not_found', new WebAPIPlatformError({ ok: false, error: 'message_not_found' }), { kind: 'permanent', code: 'message_not_found' }],
    ['msg_too_long', new WebAPIPlatformError({ ok: false, error: 'msg_too_long' }), { kind: 'permanent', code: 'msg_too_long' }],
    [
      'invalid_blocks with details',
      new WebAPIPlatformError({ ok: false, error: 'invalid_blocks', errors: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'] } as never),
      { kind: 'permanent', code: 'invalid_blocks', detail: 'must be less than 3001 characters [json-pointer:/blocks/0/text/text]' },
    ],
    ['internal_error', new WebAPIPlatformError({ ok: false, error: 'internal_error' }), { kind: 'transient', detail: 'internal_error' }],
    ['HTTP 503', new WebAPIHTTPError(503, 'Service Unavailable', {}, ''), { kind: 'transient', detail: 'HTTP 503' }],
    ['HTTP 404', new WebAPIHTTPError(404, 'Not Found', {}, ''), { kind: 'permanent', code: 'http_404' }],
    ['a reset connection', new WebAPIRequestError(new Error('socket hang up')), { kind: 'transient', detail: 'socket hang up', unanswered: true }],
    ['anything else', new Error('boom'), { kind: 'transient', detail: 'boom', unanswered: true }],
  ];
  it.each(cases)('%s', (_name, error, expected) => {
    expect(toChatPostFailure(error)).toEqual(expected);
  });
});

describe('slackErrorHint', () => {
  it.each([
    ['not_in_channel', /invite @switchboard to <#C0OPS>/],
    ['channel_not_found', /check the channel id C0OPS/],
    ['is_archived', /archived/],
    ['invalid_auth', /SLACK_BOT_TOKEN/],
    ['missing_scope', /manifest\.yml/],
  ])('%s', (code, hint) => {
    expect(slackErrorHint(code, 'C0OPS')).toMatch(hint);
  });
  it('has none for codes it does not know', () => {
    expect(slackErrorHint('something_new', 'C0OPS')).toBeUndefined();
  });
});

describe('createSlackChatPoster against the fake Slack Web API', () => {
  let slack: FakeSlack;
  let poster: ChatPoster;

  beforeAll(async () => {
    slack = await startFakeSlack();
    poster = createSlackChatPoster(createSlackWebClient({ token: 'xoxb-test-token', slackApiUrl: slack.url, logger: silentSlackLogger, timeoutMs: 2_000 }));
  });
  afterAll(() => slack.close());
  beforeEach(() => slack.reset());

  const failureOf = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChatPostError);
    return (error as ChatPostError).failure;
  };

  it('posts, replies in the thread, edits and opens a DM', async () => {
    const parent = await poster.postMessage({ channel: 'C0OPS', text: 'parent' });
    const child = await poster.postMessage({ channel: 'C0OPS', text: 'child', thread_ts: parent.ts });
    await poster.update({ channel: 'C0OPS', ts: parent.ts, text: 'edited', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*edited*' } }] });
    expect(parent.channel).toBe('C0OPS');
    expect(slack.message('C0OPS', child.ts)?.thread_ts).toBe(parent.ts);
    expect(slack.message('C0OPS', parent.ts)?.text).toBe('edited');
    expect(await poster.openDm('U0ANA')).toMatch(/^D/);
  });

  it('reports a 429 at once instead of waiting inside the client', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 30 });
    const started = Date.now();
    expect(await failureOf(poster.postMessage({ channel: 'C0OPS', text: 'x' }))).toEqual({ kind: 'rate_limited', retryAfterMs: 30_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(slack.rejected).toHaveLength(1);
  });

  it('makes one call on a 5xx; the outbox does the retrying', async () => {
    slack.failNext('chat.postMessage', { status: 503 }, 3);
    expect(await failureOf(poster.postMessage({ channel: 'C0OPS', text: 'x' }))).toEqual({ kind: 'transient', detail: 'HTTP 503' });
    expect(slack.rejected).toHaveLength(1);
  });

  it('sorts API errors and an unreachable Slack', async () => {
    slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    expect(await failureOf(poster.postMessage({ channel: 'C0OPS', text: 'x' }))).toEqual({ kind: 'permanent', code: 'not_in_channel' });
    expect(await failureOf(poster.update({ channel: 'C0OPS', ts: '1.000100', text: 'x' }))).toEqual({ kind: 'permanent', code: 'message_not_found' });
    slack.setUnreachable(true);
    try {
      expect((await failureOf(poster.postMessage({ channel: 'C0OPS', text: 'x' }))).kind).toBe('transient');
    } finally {
      slack.setUnreachable(false);
    }
  });
});
