import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App, LogLevel, type BlockAction, type SlashCommand } from '@slack/bolt';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import {
  blockActionsPayload,
  interactionBody,
  postToSlack,
  signSlackRequest,
  slashCommandBody,
} from '../helpers/slack-requests.js';

describe('signSlackRequest', () => {
  it("reproduces the worked example in Slack's 'Verifying requests from Slack'", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
      '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
      '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest(body, '8f742231b10e8888abcd99yyyzzz85a5', 1531420618)).toEqual({
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'x-slack-request-timestamp': '1531420618',
    });
  });

  it('matches an HMAC computed independently with node:crypto', () => {
    const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
    const expected = createHmac('sha256', 'shh').update(`v0:1700000000:${body}`).digest('hex');
    expect(signSlackRequest(body, 'shh', 1700000000)['x-slack-signature']).toBe(`v0=${expected}`);
  });

  it('defaults the timestamp to now, in seconds', () => {
    const ts = Number(signSlackRequest('x', 's')['x-slack-request-timestamp']);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(5);
  });
});

describe('request bodies', () => {
  it('encodes a slash command with every field Slack sends, in order', () => {
    const body = slashCommandBody({ text: 'restart api-gateway', response_url: 'http://127.0.0.1:1/commands/x', user_id: 'U1' });
    const params = new URLSearchParams(body);
    expect([...params.keys()]).toEqual([
      'token', 'team_id', 'team_domain', 'channel_id', 'channel_name', 'user_id', 'user_name',
      'command', 'text', 'api_app_id', 'is_enterprise_install', 'response_url', 'trigger_id',
    ]);
    expect(params.get('command')).toBe('/ops');
    expect(params.get('text')).toBe('restart api-gateway');
    expect(params.get('user_id')).toBe('U1');
    expect(params.get('trigger_id')).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
  });

  it('wraps an interaction payload as one form field of JSON', () => {
    const payload = blockActionsPayload({
      actionId: 'act:incident.ack', value: '{"v":1,"incident":"i1"}', userId: 'U1', channelId: 'C1',
      messageTs: '1732270000.000200', threadTs: '1732270000.000100', responseUrl: 'http://127.0.0.1:1/commands/r',
    });
    const body = interactionBody(payload);
    expect(body.startsWith('payload=')).toBe(true);
    expect(JSON.parse(new URLSearchParams(body).get('payload')!)).toEqual(payload);
    expect(payload).toMatchObject({
      type: 'block_actions',
      container: { type: 'message', message_ts: '1732270000.000200', channel_id: 'C1', thread_ts: '1732270000.000100' },
      channel: { id: 'C1' },
      message: { ts: '1732270000.000200', thread_ts: '1732270000.000100' },
      actions: [{ type: 'button', action_id: 'act:incident.ack', value: '{"v":1,"incident":"i1"}', action_ts: expect.stringMatching(/^\d+\.\d{6}$/) }],
    });
  });
});

describe('postToSlack against a real Bolt app', () => {
  const secret = 'test-signing-secret';
  let fake: FakeSlack;
  let app: App;
  let base: string;
  const commands: SlashCommand[] = [];
  const actions: BlockAction[] = [];

  beforeAll(async () => {
    fake = await startFakeSlack();
    app = new App({
      token: 'xoxb-test-token',
      signingSecret: secret,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
    });
    app.command('/ops', async ({ ack, command }) => {
      commands.push(command);
      await ack();
    });
    app.action<BlockAction>('act:incident.ack', async ({ ack, body }) => {
      actions.push(body);
      await ack();
    });
    const server = await app.start(0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });

  it('delivers a signed slash command and a signed button click', async () => {
    const cmd = await postToSlack(base, '/slack/events', slashCommandBody({ text: 'health api', response_url: 'http://127.0.0.1:1/r' }), secret);
    expect(cmd.status).toBe(200);
    expect(commands.at(-1)).toMatchObject({ command: '/ops', text: 'health api', is_enterprise_install: 'false' });

    const payload = blockActionsPayload({
      actionId: 'act:incident.ack', value: 'v', userId: 'U1', channelId: 'C1', messageTs: '1.000100', responseUrl: 'http://127.0.0.1:1/r',
    });
    const click = await postToSlack(base, 'slack/events', interactionBody(payload), secret);
    expect(click.status).toBe(200);
    expect(click.elapsedMs).toBeGreaterThan(0);
    expect(actions.at(-1)).toMatchObject({ type: 'block_actions', actions: [{ action_id: 'act:incident.ack' }] });
  });

  it('is refused when unsigned, mis-signed or stale', async () => {
    const body = slashCommandBody({ text: 'help', response_url: 'http://127.0.0.1:1/r' });
    const before = commands.length;
    expect((await postToSlack(base, '/slack/events', body, null)).status).toBe(401);
    expect((await postToSlack(base, '/slack/events', body, 'wrong-secret')).status).toBe(401);
    expect((await postToSlack(base, '/slack/events', body, secret, { signature: 'v0=deadbeef' })).status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 10 * 60;
    expect((await postToSlack(base, '/slack/events', body, secret, { timestampSeconds: stale })).status).toBe(401);
    expect(commands.length).toBe(before);
  });
});
