import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ErrorCode,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type Logger,
} from '@slack/web-api';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { startResponseUrlRecorder, type ResponseUrlRecorder } from '../fakes/response-url-recorder.js';
import {
  BLOCK_KIT_LIMITS,
  formatProblem,
  truncateMessageText,
  validateMessage,
  validateMessageBlocks,
  validateModalView,
} from '../fakes/block-kit-limits.js';

const TOKEN = 'xoxb-test-token';
/** WebClient logs Slack's warnings and invalid_blocks errors; these tests provoke them on purpose. */
const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => 'error' as ReturnType<Logger['getLevel']>,
  setName: () => {},
};
const section = (text: string, extra: Record<string, unknown> = {}) => ({
  type: 'section',
  text: { type: 'mrkdwn', text },
  ...extra,
});
const button = (action_id: string, extra: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id,
  text: { type: 'plain_text', text: 'Go' },
  ...extra,
});
const pointers = (problems: Array<{ pointer: string }>) => problems.map((p) => p.pointer);

describe('Block Kit limits', () => {
  const cases: Array<[string, unknown[], string[]]> = [
    ['a valid message', [section('hi', { block_id: 'a' }), { type: 'actions', elements: [button('x')] }], []],
    ['51 blocks', Array.from({ length: 51 }, () => section('x')), ['/blocks']],
    ['section text of 3,001', [section('x'.repeat(3001))], ['/blocks/0/text/text']],
    ['section text of 3,000', [section('x'.repeat(3000))], []],
    ['empty section text', [section('')], ['/blocks/0/text/text']],
    [
      '11 fields',
      [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) }],
      ['/blocks/0/fields'],
    ],
    ['field of 2,001', [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] }], ['/blocks/0/fields/0/text']],
    ['header of 151', [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }], ['/blocks/0/text/text']],
    ['a mrkdwn header', [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }], ['/blocks/0/text/type']],
    ['context element of 3,001', [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'c'.repeat(3001) }] }], ['/blocks/0/elements/0/text']],
    ['empty context element', [{ type: 'context', elements: [{ type: 'mrkdwn', text: '' }] }], ['/blocks/0/elements/0/text']],
    ['button text of 76', [{ type: 'actions', elements: [button('x', { text: { type: 'plain_text', text: 'b'.repeat(76) } })] }], ['/blocks/0/elements/0/text/text']],
    ['button value of 2,001', [{ type: 'actions', elements: [button('x', { value: 'v'.repeat(2001) })] }], ['/blocks/0/elements/0/value']],
    ['action_id of 256', [{ type: 'actions', elements: [button('a'.repeat(256))] }], ['/blocks/0/elements/0/action_id']],
    ['block_id of 256', [section('x', { block_id: 'b'.repeat(256) })], ['/blocks/0/block_id']],
    [
      '11 context elements',
      [{ type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) }],
      ['/blocks/0/elements'],
    ],
    [
      '26 actions elements',
      [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`)) }],
      ['/blocks/0/elements'],
    ],
    ['button text of 76', [{ type: 'actions', elements: [button('b', { text: { type: 'plain_text', text: 't'.repeat(76) } })] }], ['/blocks/0/elements/0/text/text']],
    ['button value of 2,001', [{ type: 'actions', elements: [button('b', { value: 'v'.repeat(2001) })] }], ['/blocks/0/elements/0/value']],
    ['button url of 3,001', [{ type: 'actions', elements: [button('b', { url: 'u'.repeat(3001) })] }], ['/blocks/0/elements/0/url']],
    ['action_id of 256', [{ type: 'actions', elements: [button('a'.repeat(256))] }], ['/blocks/0/elements/0/action_id']],
    ['duplicate action_id in a block', [{ type: 'actions', elements: [button('same'), button('same')] }], ['/blocks/0/elements/1/action_id']],
    [
      'same action_id in two blocks (allowed: unique per containing block)',
      [section('a', { accessory: button('same') }), section('b', { accessory: button('same') })],
      [],
    ],
    ['block_id of 256', [section('x', { block_id: 'b'.repeat(256) })], ['/blocks/0/block_id']],
    ['duplicate block_id', [section('x', { block_id: 'dup' }), section('y', { block_id: 'dup' })], ['/blocks/1/block_id']],
    [
      'oversized confirm dialog',
      [
        section('x', {
          accessory: button('b', {
            confirm: {
              title: { type: 'plain_text', text: 't'.repeat(101) },
              text: { type: 'plain_text', text: 't'.repeat(301) },
              confirm: { type: 'plain_text', text: 't'.repeat(31) },
              deny: { type: 'plain_text', text: 't'.repeat(31) },
            },
          }),
        }),
      ],
      [
        '/blocks/0/accessory/confirm/title/text',
        '/blocks/0/accessory/confirm/text/text',
        '/blocks/0/accessory/confirm/confirm/text',
        '/blocks/0/accessory/confirm/deny/text',
      ],
    ],
  ];
  it.each(cases)('%s', (_name, blocks, expected) => {
    expect(pointers(validateMessageBlocks(blocks))).toEqual(expected);
  });

  it('allows 100 blocks in a modal but not 101, and checks the title', () => {
    const view = (n: number, title = 'Confirm') => ({
      type: 'modal',
      title: { type: 'plain_text', text: title },
      blocks: Array.from({ length: n }, () => section('x')),
    });
    expect(validateModalView(view(100))).toEqual([]);
    expect(pointers(validateModalView(view(101)))).toEqual(['/view/blocks']);
    expect(pointers(validateModalView(view(1, 't'.repeat(25))))).toEqual(['/view/title/text']);
  });

  it("formats problems the way Slack's errors array does", () => {
    const [p] = validateMessageBlocks([section('x'.repeat(3001))]);
    expect(formatProblem(p!)).toBe('must be less than 3001 characters [json-pointer:/blocks/0/text/text]');
  });

  it('counts a fallback text over 40,000 characters and a message with neither text nor blocks', () => {
    expect(validateMessage({ text: 'x'.repeat(40_000) })).toEqual([]);
    expect(pointers(validateMessage({ text: 'x'.repeat(40_001) }))).toEqual(['/text']);
    expect(pointers(validateMessage({ text: '' }))).toEqual(['/text']);
    expect(pointers(validateMessage({ text: 'ok', blocks: [section('x'.repeat(3001))] }))).toEqual(['/blocks/0/text/text']);
  });

  it('truncates message text at 40,000 characters instead of refusing it', () => {
    expect(truncateMessageText('x'.repeat(BLOCK_KIT_LIMITS.messageText))).toMatchObject({ truncated: false });
    const t = truncateMessageText('x'.repeat(40_001));
    expect(t).toMatchObject({ truncated: true });
    expect(t.text).toHaveLength(40_000);
  });
});

describe('fake Slack Web API', () => {
  let fake: FakeSlack;
  let client: WebClient;
  const clientWith = (token?: string) =>
    new WebClient(token, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger: silent });

  beforeAll(async () => {
    fake = await startFakeSlack();
    client = clientWith(TOKEN);
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('answers auth.test like Slack', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, team_id: expect.stringMatching(/^T/), user_id: expect.stringMatching(/^U/), bot_id: expect.stringMatching(/^B/) });
    expect(res.url).toMatch(/^https:\/\/.+\.slack\.com\/$/);
  });

  it('posts, updates and lets tests read the current message', async () => {
    const blocks = [section('*firing* 2 alerts', { block_id: 'summary' })];
    const posted = await client.chat.postMessage({ channel: 'C0OPS00001', text: 'firing', blocks });
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.channel).toBe('C0OPS00001');

    // Arrived form-encoded with blocks as a JSON string; recorded decoded.
    expect(fake.callsTo('chat.postMessage')[0]).toMatchObject({ token: TOKEN, args: { channel: 'C0OPS00001', blocks } });

    const updatedBlocks = [section('*resolved*', { block_id: 'summary-2' })];
    await client.chat.update({ channel: 'C0OPS00001', ts: posted.ts!, text: 'resolved', blocks: updatedBlocks });
    expect(fake.message('C0OPS00001', posted.ts!)).toMatchObject({ text: 'resolved', blocks: updatedBlocks, edited: expect.any(Object) });

    // An update without blocks keeps the previous blocks, as Slack does.
    await client.chat.update({ channel: 'C0OPS00001', ts: posted.ts!, text: 'resolved again' });
    expect(fake.message('C0OPS00001', posted.ts!)?.blocks).toEqual(updatedBlocks);
  });

  it('keeps thread_ts on replies, counts them on the parent, and issues increasing unique ts', async () => {
    const parent = await client.chat.postMessage({ channel: 'C1', text: 'parent' });
    const replies = [];
    for (let i = 0; i < 5; i += 1) {
      replies.push(await client.chat.postMessage({ channel: 'C1', text: `reply ${i}`, thread_ts: parent.ts! }));
    }
    const all = [parent.ts!, ...replies.map((r) => r.ts!)];
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort((a, b) => Number(a) - Number(b))).toEqual(all);
    expect(replies[0]!.message).toMatchObject({ thread_ts: parent.ts });
    expect(fake.message('C1', parent.ts!)).toMatchObject({ reply_count: 5, thread_ts: parent.ts });
    expect(fake.messages('C1')).toHaveLength(6);
  });

  it('lists top-level messages newest first in conversations.history, paged, with metadata only when asked', async () => {
    const metadata = { event_type: 'switchboard_message', event_payload: { message_key: 'incident:1' } };
    const first = await client.chat.postMessage({ channel: 'C2', text: 'first', metadata });
    await client.chat.postMessage({ channel: 'C2', text: 'reply', thread_ts: first.ts! });
    await client.chat.postMessage({ channel: 'C2', text: 'second' });
    await client.chat.postMessage({ channel: 'C2', text: 'third' });

    const page1 = await client.conversations.history({ channel: 'C2', limit: 2, include_all_metadata: true });
    expect(page1.messages?.map((m) => m.text)).toEqual(['third', 'second']);
    expect(page1.has_more).toBe(true);
    const page2 = await client.conversations.history({ channel: 'C2', limit: 2, include_all_metadata: true, cursor: page1.response_metadata!.next_cursor! });
    expect(page2.messages?.map((m) => [m.text, m.metadata])).toEqual([['first', metadata]]);
    expect(page2.has_more).toBe(false);

    expect((await client.conversations.history({ channel: 'C2' })).messages?.find((m) => m.text === 'first')?.metadata).toBeUndefined();
    expect((await client.conversations.history({ channel: 'C2', oldest: first.ts! })).messages?.map((m) => m.text)).toEqual(['third', 'second']);
    await expect(client.conversations.history({ channel: 'C0NONE' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
  });

  it('answers method-level errors with HTTP 200 and ok:false', async () => {
    await expect(client.chat.update({ channel: 'C1', ts: '1.000100', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'message_not_found' },
    });
    await expect(client.apiCall('chat.postMessage', { channel: 'C1' })).rejects.toMatchObject({ data: { error: 'no_text' } });
    await expect(client.apiCall('chat.frobnicate', {})).rejects.toMatchObject({ data: { error: 'unknown_method' } });
  });

  it('refuses 51 blocks with invalid_blocks and does not record the call', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => section(`line ${i}`));
    const error = await client.chat.postMessage({ channel: 'C1', text: 'too many', blocks }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebAPIPlatformError);
    expect((error as WebAPIPlatformError).data).toMatchObject({
      ok: false,
      error: 'invalid_blocks',
      errors: ['no more than 50 items allowed [json-pointer:/blocks]'],
    });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(0);
    expect(fake.rejected).toMatchObject([{ method: 'chat.postMessage', error: 'invalid_blocks' }]);
    expect(fake.messages('C1')).toEqual([]);
  });

  it('posts over-long text truncated with a message_truncated warning, as Slack does', async () => {
    const res = await client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_010) });
    expect(res.response_metadata?.warnings).toEqual(['message_truncated']);
    expect(fake.message('C1', res.ts!)?.text).toHaveLength(40_000);
  });

  it('refuses an edit whose text is over 40,000 characters with msg_too_long, keeping the message', async () => {
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'short' });
    await expect(client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'x'.repeat(40_001) })).rejects.toMatchObject({ data: { error: 'msg_too_long' } });
    expect(fake.message('C1', posted.ts!)?.text).toBe('short');
  });

  it('refuses a context element over 3,000 characters with invalid_blocks and Slack\'s pointer', async () => {
    const blocks = [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'l'.repeat(8_733) }] }];
    const error = await client.chat.postMessage({ channel: 'C1', text: 'links', blocks }).catch((e: unknown) => e);
    expect((error as WebAPIPlatformError).data).toMatchObject({ error: 'invalid_blocks', errors: ['must be less than 3001 characters [json-pointer:/blocks/0/elements/0/text]'] });
  });

  it('surfaces an injected 429 as a rate-limit error carrying Retry-After', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 7 });
    const error = await client.chat.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
    // Only the next call fails.
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('injects 5xx and platform errors the given number of times', async () => {
    fake.failNext('chat.update', { status: 503 }, 2);
    fake.failNext('users.info', { error: 'user_not_found' });
    for (let i = 0; i < 2; i += 1) {
      const e = await client.chat.update({ channel: 'C1', ts: '1.1', text: 'x' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(WebAPIHTTPError);
      expect(e).toMatchObject({ statusCode: 503 });
    }
    await expect(client.chat.update({ channel: 'C1', ts: '1.1', text: 'x' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    await expect(client.users.info({ user: 'U1' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });
    expect(fake.rejected.map((r) => r.error)).toEqual(['http_503', 'http_503', 'user_not_found']);
  });

  it('answers invalid_auth for a wrong token and not_authed for none', async () => {
    await expect(clientWith('xoxb-wrong').auth.test()).rejects.toMatchObject({ data: { ok: false, error: 'invalid_auth' } });
    await expect(clientWith().auth.test()).rejects.toMatchObject({ data: { ok: false, error: 'not_authed' } });
    expect(fake.calls).toEqual([]);
  });

  it('accepts JSON bodies with a Bearer token', async () => {
    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C2', blocks: [section('json')] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C2' });
    expect(fake.messages('C2')[0]?.blocks).toEqual([section('json')]);
  });

  it('drops connections while unreachable', async () => {
    fake.setUnreachable(true);
    try {
      const error = await client.auth.test().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebAPIRequestError);
    } finally {
      fake.setUnreachable(false);
    }
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });
  });

  it('opens stable DMs, lists usergroups, answers users.info, views.open, reactions and permalinks', async () => {
    const a = await client.conversations.open({ users: 'U0ALICE001' });
    const b = await client.conversations.open({ users: 'U0ALICE001' });
    const c = await client.conversations.open({ users: 'U0BOB00001' });
    expect(a.channel?.id).toMatch(/^D/);
    expect(b.channel?.id).toBe(a.channel?.id);
    expect(c.channel?.id).not.toBe(a.channel?.id);

    fake.usergroups.set('S0SRE00001', ['U0ALICE001', 'U0BOB00001']);
    await expect(client.usergroups.users.list({ usergroup: 'S0SRE00001' })).resolves.toMatchObject({ users: ['U0ALICE001', 'U0BOB00001'] });
    await expect(client.usergroups.users.list({ usergroup: 'S0NOPE0001' })).rejects.toMatchObject({ data: { error: 'no_such_subteam' } });

    fake.users.set('U0ALICE001', { name: 'alice', tz: 'Europe/Berlin' });
    await expect(client.users.info({ user: 'U0ALICE001' })).resolves.toMatchObject({ user: { id: 'U0ALICE001', name: 'alice', tz: 'Europe/Berlin' } });

    const view = await client.views.open({
      trigger_id: '1.2.abc',
      view: { type: 'modal', title: { type: 'plain_text', text: 'Restart?' }, blocks: [section('sure?')] },
    });
    expect(view.view?.id).toMatch(/^V/);

    const eph = await client.chat.postEphemeral({ channel: 'C1', user: 'U0ALICE001', text: 'only you' });
    expect(eph.message_ts).toMatch(/^\d+\.\d{6}$/);

    const posted = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    await client.reactions.add({ channel: 'C1', timestamp: posted.ts!, name: 'eyes' });
    await expect(client.reactions.add({ channel: 'C1', timestamp: posted.ts!, name: 'eyes' })).rejects.toMatchObject({ data: { error: 'already_reacted' } });
    const link = await client.chat.getPermalink({ channel: 'C1', message_ts: posted.ts! });
    expect(link.permalink).toContain(`/archives/C1/p${posted.ts!.replace('.', '')}`);
    await client.chat.delete({ channel: 'C1', ts: posted.ts! });
    expect(fake.message('C1', posted.ts!)).toBeUndefined();
  });

  it('waitFor resolves on past and future calls and times out with a readable list', async () => {
    await client.chat.postMessage({ channel: 'C3', text: 'first' });
    await expect(fake.waitFor((c) => c.args.text === 'first')).resolves.toMatchObject({ method: 'chat.postMessage' });

    const later = fake.waitFor((c) => c.method === 'chat.update', 2000);
    const posted = await client.chat.postMessage({ channel: 'C3', text: 'second' });
    await client.chat.update({ channel: 'C3', ts: posted.ts!, text: 'edited' });
    await expect(later).resolves.toMatchObject({ args: { text: 'edited' } });

    await expect(fake.waitFor((c) => c.method === 'views.open', 50)).rejects.toThrow(
      /no matching call within 50 ms[\s\S]*chat\.update\(channel="C3"/,
    );
  });
});

describe('fake Slack per-channel rate limit', () => {
  let fake: FakeSlack;
  let client: WebClient;
  beforeAll(async () => {
    fake = await startFakeSlack({ enforceChannelRate: true });
    client = new WebClient(TOKEN, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger: silent });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('answers a second post to one channel within 1 s with 429 and Retry-After 1', async () => {
    await client.chat.postMessage({ channel: 'C1', text: 'one' });
    await client.chat.postMessage({ channel: 'C2', text: 'other channel is fine' });
    await expect(client.chat.postMessage({ channel: 'C1', text: 'two' })).rejects.toMatchObject({ retryAfter: 1 });
    expect(fake.rateLimited).toBe(1);
    // Updates are not posts.
    const first = fake.messages('C1')[0]!;
    await expect(client.chat.update({ channel: 'C1', ts: first.ts, text: 'edited' })).resolves.toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 1050));
    await expect(client.chat.postMessage({ channel: 'C1', text: 'two' })).resolves.toMatchObject({ ok: true });
  });
});

describe('response_url recorder', () => {
  let recorder: ResponseUrlRecorder;
  beforeAll(async () => {
    recorder = await startResponseUrlRecorder();
  });
  afterAll(async () => {
    await recorder.close();
  });

  it('records JSON posts by path and answers ok', async () => {
    const url = recorder.url('cmd-1');
    const waiting = recorder.waitFor((r) => r.path === '/commands/cmd-1');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'Restarting api-gateway…' }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    await expect(waiting).resolves.toMatchObject({ body: { response_type: 'ephemeral', text: 'Restarting api-gateway…' } });
    expect(recorder.url()).not.toBe(recorder.url());
    await expect(recorder.waitFor((r) => r.path === '/commands/never', 30)).rejects.toThrow(/no matching post within 30 ms/);
  });
});
