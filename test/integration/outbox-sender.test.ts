import type { KnownBlock } from '@slack/types';
import type { Logger as SlackLogger, LogLevel } from '@slack/web-api';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOutbox, messageTs } from '../../src/alerts/outbox.js';
import type { OutboxMessage } from '../../src/alerts/outbox-port.js';
import { createSlackChatPoster, createSlackWebClient, type ChatPoster } from '../../src/integrations/slack/chat-poster.js';
import { createOutboxSender, type OutboxSender, type OutboxSenderOptions } from '../../src/integrations/slack/outbox-sender.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { startFakeSlack, type FakeSlack, type RecordedCall } from '../fakes/fake-slack.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const silentSlackLogger: SlackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => 'error' as LogLevel,
  setName: () => {},
};

const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const post = (channel: string, messageKey: string, text: string, priority: 'page' | 'routine' = 'routine'): OutboxMessage => ({ kind: 'post', channel, messageKey, priority, text, blocks: [section(text)] });
const update = (messageKey: string, text: string): OutboxMessage => ({ kind: 'update', messageKey, priority: 'routine', text, blocks: [section(text)] });
const reply = (threadKey: string, text: string, priority: 'page' | 'routine' = 'routine'): OutboxMessage => ({ kind: 'reply', threadKey, priority, text });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const textsTo = (calls: RecordedCall[], channel: string) => calls.filter((c) => c.args.channel === channel).map((c) => c.args.text);

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe.each(['postgresql', 'pglite'] as const)('outbox on %s', (store) => {
  let db: Db;
  let drop: (() => Promise<void>) | undefined;
  let slack: FakeSlack;
  let poster: ChatPoster;
  let logLines: Array<Record<string, unknown>>;
  const outbox = createOutbox();
  const senders: OutboxSender[] = [];

  const enqueue = (...messages: OutboxMessage[]) =>
    db.transaction(async (tx) => {
      for (const m of messages) await outbox.enqueue(tx, m);
    });
  const sender = (options: Partial<OutboxSenderOptions> = {}) => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    const s = createOutboxSender({ db, poster, logger, backoffBaseMs: 100, backoffCapMs: 1_000, ...options });
    senders.push(s);
    return s;
  };
  const drainUntilIdle = async (s: OutboxSender) => {
    let total = 0;
    for (let n = await s.drainOnce(); n > 0; n = await s.drainOnce()) total += n;
    return total;
  };
  const rows = async () =>
    (
      await db.query<{ id: number; kind: string; message_key: string | null; state: string; attempts: number; last_error: string | null; payload: { text: string } }>(
        'SELECT id, kind, message_key, state, attempts, last_error, payload FROM outbox ORDER BY id',
      )
    ).rows;
  const pendingCount = async () => (await rows()).filter((r) => r.state === 'pending').length;

  beforeAll(async () => {
    if (store === 'postgresql') {
      const temp = await createTempDatabase('sb_outbox');
      drop = temp.drop;
      db = createPostgresDb(temp.url);
    } else {
      db = await createPgliteDb(undefined);
    }
    await migrate(db);
    slack = await startFakeSlack();
    poster = createSlackChatPoster(createSlackWebClient({ token: 'xoxb-test-token', slackApiUrl: slack.url, logger: silentSlackLogger, timeoutMs: 5_000 }));
  });

  afterAll(async () => {
    await slack?.close();
    await db?.close();
    await drop?.();
  });

  beforeEach(async () => {
    logLines = [];
    slack.reset();
    await db.exec('TRUNCATE outbox, slack_messages, slack_channels, slack_dm_channels, slack_channel_names');
  });

  afterEach(async () => {
    await Promise.all(senders.splice(0).map((s) => s.stop()));
  });

  it('sends only the latest render of a message, after posting it', async () => {
    await enqueue(post('C0OPS', 'inc-1', 'opened'));
    const s = sender({ perChannelIntervalMs: 0, updateIntervalMs: 0 });
    await drainUntilIdle(s);
    for (let i = 1; i <= 5; i += 1) await enqueue(update('inc-1', `render ${i}`));
    expect((await rows()).filter((r) => r.kind === 'update')).toHaveLength(1);
    await drainUntilIdle(s);

    const ref = await messageTs(db, 'inc-1');
    expect(ref?.channel).toBe('C0OPS');
    expect(slack.callsTo('chat.postMessage').map((c) => c.args.text)).toEqual(['opened']);
    const updates = slack.callsTo('chat.update');
    expect(updates.map((c) => c.args.text)).toEqual(['render 5']);
    expect(updates[0]!.args.ts).toBe(ref!.ts);
    expect(slack.message('C0OPS', ref!.ts)?.blocks).toEqual([section('render 5')]);
    expect(await pendingCount()).toBe(0);
  });

  it('retires an edit queued before its message was posted: the post carries that render', async () => {
    await enqueue(post('C0OPS', 'inc-1', 'opened'));
    for (let i = 1; i <= 5; i += 1) await enqueue(update('inc-1', `render ${i}`));
    await drainUntilIdle(sender({ perChannelIntervalMs: 0, updateIntervalMs: 0 }));

    expect(slack.callsTo('chat.postMessage').map((c) => c.args.text)).toEqual(['render 5']);
    expect(slack.callsTo('chat.update')).toHaveLength(0);
    expect((await rows()).map((r) => [r.kind, r.state])).toEqual([
      ['post', 'sent'],
      ['update', 'retired'],
    ]);
  });

  it('renders an edit queued with renderAtSend when it sends it, once however many changes queued it', async () => {
    await enqueue(post('C0OPS', 'digest-1', 'opened'));
    for (let i = 1; i <= 5; i += 1) await enqueue({ kind: 'update', messageKey: 'digest-1', priority: 'routine', renderAtSend: 'counter' });
    const rendered: string[] = [];
    const s = sender({
      perChannelIntervalMs: 0,
      updateIntervalMs: 0,
      renderers: {
        counter: async (messageKey) => {
          rendered.push(messageKey);
          return { text: `listing as of render ${rendered.length}`, blocks: [section(`render ${rendered.length}`)] };
        },
      },
    });
    await drainUntilIdle(s);
    expect(rendered).toEqual(['digest-1']);
    expect(slack.callsTo('chat.update').map((c) => c.args.text)).toEqual(['listing as of render 1']);
    expect(await pendingCount()).toBe(0);

    // A sender without that renderer says which one is missing, and the edit waits for a retry.
    await enqueue({ kind: 'update', messageKey: 'digest-1', priority: 'routine', renderAtSend: 'unknown' });
    await drainUntilIdle(sender({ perChannelIntervalMs: 0, updateIntervalMs: 0 }));
    expect((await rows()).find((r) => r.kind === 'update' && r.state === 'pending')?.last_error).toContain('no renderer "unknown"');
  });

  it('paces a channel named in a route under the id Slack answers with, so its replies never meet a 429', async () => {
    const strict = await startFakeSlack({ enforceChannelRate: true, resolveChannelNames: true });
    try {
      const strictPoster = createSlackChatPoster(createSlackWebClient({ token: 'xoxb-test-token', slackApiUrl: strict.url, logger: silentSlackLogger, timeoutMs: 5_000 }));
      await enqueue(post('#ops-alerts', 'inc-a', 'a opened'), post('#ops-alerts', 'inc-b', 'b opened'), reply('inc-a', 'a: alert joined'), reply('inc-b', 'b: alert joined'));
      const s = sender({ poster: strictPoster, pollMs: 20 });
      s.start();
      await eventually(async () => (await pendingCount()) === 0, 10_000, 'the outbox to drain');
      expect(strict.rateLimited).toBe(0);
      expect(strict.messages('C0OPSALERTS').map((m) => m.text)).toEqual(['a opened', 'b opened', 'a: alert joined', 'b: alert joined']);
      expect((await db.query<{ name: string; channel: string }>('SELECT name, channel FROM slack_channel_names')).rows).toEqual([{ name: '#ops-alerts', channel: 'C0OPSALERTS' }]);
    } finally {
      await strict.close();
    }
  });

  describe('a post whose answer was lost', () => {
    /** Posts for real, then fails as if the answer never came back (a timeout, a dropped connection). */
    const answerLost = (times = 1): ChatPoster => {
      let lost = 0;
      return {
        ...poster,
        async postMessage(message) {
          const posted = await poster.postMessage(message);
          if (lost++ < times) throw new Error('socket hang up');
          return posted;
        },
      };
    };
    const sent = async (key: string) => (await rows()).find((r) => r.message_key === key)?.state === 'sent';

    it('is found in the channel by the key in its metadata and not posted again', async () => {
      await enqueue(post('C0OPS', 'inc-lost', 'opened'), update('inc-lost', 'render 1'));
      const s = sender({ poster: answerLost(), perChannelIntervalMs: 0, updateIntervalMs: 0, backoffBaseMs: 1, backoffCapMs: 10 });
      await eventually(async () => (await s.drainOnce(), (await pendingCount()) === 0), 5_000, 'the outbox to drain');

      const posts = slack.callsTo('chat.postMessage');
      expect(posts).toHaveLength(1);
      expect(posts[0]!.args.metadata).toEqual({ event_type: 'switchboard_message', event_payload: { message_key: 'inc-lost' } });
      expect(slack.callsTo('conversations.history')).toHaveLength(1);
      const ref = await messageTs(db, 'inc-lost');
      expect(slack.messages('C0OPS').map((m) => m.ts)).toEqual([ref!.ts]);
      expect(slack.message('C0OPS', ref!.ts)?.text).toBe('render 1');
      expect(logLines.some((l) => String(l.msg).includes('already in Slack'))).toBe(true);
    });

    it('is found by the next sender when the one that posted it died before recording it', async () => {
      await enqueue(post('C0OPS', 'inc-dead', 'opened'));
      // The first sender posts and never hears back, like a process killed at that moment.
      let release: (() => void) | undefined;
      const dying: ChatPoster = {
        ...poster,
        async postMessage(message) {
          await poster.postMessage(message);
          await new Promise<void>((resolve) => (release = resolve));
          throw new Error('the process died');
        },
      };
      const first = sender({ poster: dying, leaseMs: 200, perChannelIntervalMs: 0 });
      void first.drainOnce();
      await slack.waitFor((c) => c.method === 'chat.postMessage');
      await sleep(250);
      await drainUntilIdle(sender({ leaseMs: 200, perChannelIntervalMs: 0 }));
      release?.();

      expect(await sent('inc-dead')).toBe(true);
      expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
      expect((await messageTs(db, 'inc-dead'))?.ts).toBe(slack.messages('C0OPS')[0]!.ts);
    });

    it('is posted again, once said in the log, when the app may not read the channel history', async () => {
      await enqueue(post('C0OPS', 'inc-noscope', 'opened'));
      slack.failNext('conversations.history', { error: 'missing_scope' });
      const s = sender({ poster: answerLost(), perChannelIntervalMs: 0, backoffBaseMs: 1, backoffCapMs: 10 });
      await eventually(async () => (await s.drainOnce(), await sent('inc-noscope')), 5_000, 'the post to be recorded');
      expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
      const warnings = logLines.filter((l) => String(l.msg).includes('channels:history'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.hint).toContain('reinstall');
    });

    it('is not looked for when Slack answered the post with an error', async () => {
      await enqueue(post('C0OPS', 'inc-500', 'opened'));
      slack.failNext('chat.postMessage', { status: 500 });
      const s = sender({ perChannelIntervalMs: 0, backoffBaseMs: 1, backoffCapMs: 10 });
      await eventually(async () => (await s.drainOnce(), await sent('inc-500')), 5_000, 'the post to be recorded');
      expect(slack.callsTo('conversations.history')).toHaveLength(0);
      expect(slack.messages('C0OPS')).toHaveLength(1);
    });
  });

  it('keeps a render that arrives while the previous one is being sent, and sends it next', async () => {
    await enqueue(post('C0OPS', 'inc-2', 'opened'));
    await drainUntilIdle(sender({ perChannelIntervalMs: 0 }));
    await enqueue(update('inc-2', 'render 1'));
    let injected = false;
    const racing: ChatPoster = {
      ...poster,
      async update(message) {
        await poster.update(message);
        if (!injected) {
          injected = true;
          await enqueue(update('inc-2', 'render 2'));
        }
      },
    };
    const s = sender({ poster: racing, perChannelIntervalMs: 0, updateIntervalMs: 0 });
    await drainUntilIdle(s);
    expect(slack.callsTo('chat.update').map((c) => c.args.text)).toEqual(['render 1', 'render 2']);
    expect(await pendingCount()).toBe(0);
  });

  it('paces edits of one message while renders coalesce', async () => {
    await enqueue(post('C0OPS', 'inc-3', 'opened'));
    const s = sender({ updateIntervalMs: 1_000, pollMs: 50 });
    s.start();
    await slack.waitFor((c) => c.method === 'chat.postMessage');
    for (let i = 1; i <= 6; i += 1) {
      await enqueue(update('inc-3', `render ${i}`));
      await sleep(150);
    }
    const ref = await messageTs(db, 'inc-3');
    await eventually(() => slack.message('C0OPS', ref!.ts)?.text === 'render 6', 5_000, 'the last render');
    const updates = slack.callsTo('chat.update');
    expect(updates.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < updates.length; i += 1) expect(updates[i]!.at - updates[i - 1]!.at).toBeGreaterThanOrEqual(950);
  });

  it('holds a reply until its parent is posted, without holding other channels', async () => {
    await enqueue(reply('inc-4', 'first detail'), post('C0OTHER', 'other-1', 'elsewhere'));
    const s = sender({ perChannelIntervalMs: 0 });
    await drainUntilIdle(s);
    expect(slack.callsTo('chat.postMessage').map((c) => c.args.text)).toEqual(['elsewhere']);
    expect((await rows())[0]).toMatchObject({ kind: 'reply', state: 'pending' });

    await enqueue(post('C0OPS', 'inc-4', 'parent'));
    await drainUntilIdle(s);
    const [, parent, detail] = slack.callsTo('chat.postMessage');
    expect(parent!.args.text).toBe('parent');
    expect(detail!.args).toMatchObject({ channel: 'C0OPS', text: 'first detail', thread_ts: parent!.response.ts });
  });

  it('keeps the order of one transaction’s posts and replies, and its latest edit at its most urgent priority', async () => {
    await enqueue({ ...update('inc-9', 'first edit'), priority: 'page' }, post('C0OPS', 'inc-9', 'parent'), reply('inc-9', 'one'), reply('inc-9', 'two', 'page'), update('inc-9', 'last edit'), reply('inc-9', 'three'));
    await enqueue(update('inc-9', 'next transaction'));
    const written = await rows();
    expect(written.filter((r) => r.kind !== 'update').map((r) => r.payload.text)).toEqual(['parent', 'one', 'two', 'three']);
    expect(written.filter((r) => r.kind === 'update').map((r) => r.payload.text)).toEqual(['next transaction']);
    const { rows: edits } = await db.query<{ priority: number; revision: number }>(`SELECT priority, revision FROM outbox WHERE kind = 'update'`);
    expect(edits).toEqual([{ priority: 0, revision: 1 }]);

    await drainUntilIdle(sender({ perChannelIntervalMs: 0, updateIntervalMs: 0 }));
    // The page goes ahead of the routine replies; the others keep their order. The edit still
    // waiting when the parent was posted rides on it.
    expect(slack.callsTo('chat.postMessage').map((c) => c.args.text)).toEqual(['next transaction', 'two', 'one', 'three']);
    expect(slack.callsTo('chat.update')).toHaveLength(0);
  });

  it('posts a message key once, however often it is enqueued or retried', async () => {
    await enqueue(post('C0OPS', 'inc-5', 'once'), post('C0OPS', 'inc-5', 'once'));
    await enqueue(post('C0OPS', 'inc-5', 'once'));
    const s = sender({ perChannelIntervalMs: 0 });
    await drainUntilIdle(s);
    await enqueue(post('C0OPS', 'inc-5', 'once'));
    // A row that slipped past enqueue (say, a retry after Slack's answer was lost) is skipped.
    await db.query(`INSERT INTO outbox (kind, channel, message_key, priority, payload) VALUES ('post', 'C0OPS', 'inc-5', 1, '{"text":"once"}')`);
    await drainUntilIdle(s);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.messages('C0OPS')).toHaveLength(1);
    expect((await rows()).every((r) => r.state === 'sent')).toBe(true);
  });

  it('sends a page ahead of routine posts waiting in the same channel', async () => {
    await enqueue(post('C0OPS', 'inc-6', 'parent'));
    const s = sender({ perChannelIntervalMs: 0 });
    await drainUntilIdle(s);
    for (let i = 1; i <= 10; i += 1) await enqueue(post('C0OPS', `routine-${i}`, `routine ${i}`));
    await enqueue(reply('inc-6', 'paging L2', 'page'));
    await drainUntilIdle(s);
    const texts = slack.callsTo('chat.postMessage').map((c) => c.args.text);
    expect(texts).toEqual(['parent', 'paging L2', ...Array.from({ length: 10 }, (_, i) => `routine ${i + 1}`)]);
  });

  it('opens a DM once per user and posts into it', async () => {
    await enqueue({ kind: 'dm', userId: 'U0ONCALL', priority: 'page', text: 'you are paged' });
    await enqueue({ kind: 'dm', userId: 'U0ONCALL', priority: 'page', text: 'still paged' });
    const s = sender({ perChannelIntervalMs: 0 });
    await drainUntilIdle(s);
    await enqueue({ kind: 'dm', userId: 'U0ONCALL', priority: 'routine', text: 'resolved' });
    await drainUntilIdle(s);
    expect(slack.callsTo('conversations.open')).toHaveLength(1);
    const dm = slack.callsTo('conversations.open')[0]!.response as { channel: { id: string } };
    expect(textsTo(slack.callsTo('chat.postMessage'), dm.channel.id)).toEqual(['you are paged', 'still paged', 'resolved']);
  });

  it('waits out a 429 in that channel only, making no calls to it meanwhile', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 2 });
    await enqueue(post('C0BUSY', 'busy-1', 'busy 1'));
    const s = sender({ pollMs: 50, perChannelIntervalMs: 300 });
    expect(await s.drainOnce()).toBe(1);
    const limitedAt = slack.rejected[0]!.at;
    expect(slack.rejected[0]).toMatchObject({ status: 429, args: { channel: 'C0BUSY' } });

    await enqueue(post('C0BUSY', 'busy-2', 'busy 2'), ...[1, 2, 3, 4].map((i) => post('C0CALM', `calm-${i}`, `calm ${i}`)));
    s.start();
    await eventually(async () => (await pendingCount()) === 0, 10_000, 'all rows sent');

    const posts = slack.callsTo('chat.postMessage');
    const busy = posts.filter((c) => c.args.channel === 'C0BUSY');
    expect(busy.map((c) => c.args.text)).toEqual(['busy 1', 'busy 2']);
    expect(busy[0]!.at - limitedAt).toBeGreaterThanOrEqual(1_990);
    expect(posts.filter((c) => c.args.channel === 'C0CALM' && c.at < limitedAt + 1_900).length).toBeGreaterThanOrEqual(2);
    expect(slack.rejected).toHaveLength(1);
    expect(slack.rateLimited).toBe(0);
    expect((await rows()).find((r) => r.message_key === 'busy-1')!.attempts).toBe(1);
  });

  it('retries 5xx with backoff and counts the attempts', async () => {
    slack.failNext('chat.postMessage', { status: 500 }, 2);
    await enqueue(post('C0OPS', 'inc-7', 'after two failures'));
    const sent: string[] = [];
    const s = sender({ pollMs: 50, metrics: { onSent: (kind) => sent.push(kind) } });
    s.start();
    await slack.waitFor((c) => c.method === 'chat.postMessage', 10_000);
    await eventually(async () => (await pendingCount()) === 0, 5_000, 'the row to be recorded');
    expect(slack.rejected.map((r) => r.status)).toEqual([500, 500]);
    expect((await rows())[0]).toMatchObject({ state: 'sent', attempts: 3 });
    expect(sent).toEqual(['post']);
  });

  it('keeps everything while Slack is unreachable and delivers it in order when it is back', async () => {
    slack.setUnreachable(true);
    const s = sender({ pollMs: 50, perChannelIntervalMs: 100, backoffBaseMs: 200, backoffCapMs: 800 });
    s.start();
    for (let i = 1; i <= 5; i += 1) await enqueue(post('C0ONE', `one-${i}`, `one ${i}`), post('C0TWO', `two-${i}`, `two ${i}`));
    await enqueue(reply('one-1', 'detail of one 1'));
    await sleep(2_500);
    expect(slack.calls).toHaveLength(0);
    expect(slack.rejected.length).toBeGreaterThan(2);
    expect(await pendingCount()).toBe(11);
    slack.setUnreachable(false);
    await eventually(async () => (await pendingCount()) === 0, 15_000, 'the outbox to drain');
    const posts = slack.callsTo('chat.postMessage');
    expect(textsTo(posts, 'C0ONE')).toEqual(['one 1', 'one 2', 'one 3', 'one 4', 'one 5', 'detail of one 1']);
    expect(textsTo(posts, 'C0TWO')).toEqual(['two 1', 'two 2', 'two 3', 'two 4', 'two 5']);
    expect((await rows()).every((r) => r.state === 'sent')).toBe(true);
  });

  it('gives up on a permanent error with its reason, and the rest keeps flowing', async () => {
    slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    await enqueue(post('C0GONE', 'gone-1', 'lost'), reply('gone-1', 'detail'), update('gone-1', 'render'));
    const failed: Array<[string, string]> = [];
    const s = sender({ perChannelIntervalMs: 0, metrics: { onFailed: (kind, code) => failed.push([kind, code]) } });
    await s.drainOnce();
    await enqueue(post('C0GONE', 'gone-2', 'second try'), post('C0OPS', 'ok-1', 'fine'));
    await drainUntilIdle(s);

    const all = await rows();
    expect(all.find((r) => r.message_key === 'gone-1' && r.kind === 'post')).toMatchObject({ state: 'failed', last_error: 'channel_not_found', attempts: 1 });
    expect(all.filter((r) => r.state === 'failed').map((r) => r.kind).sort()).toEqual(['post', 'reply', 'update']);
    expect(slack.callsTo('chat.postMessage').map((c) => c.args.text)).toEqual(['second try', 'fine']);
    expect(failed).toEqual([['post', 'channel_not_found']]);
    const log = logLines.find((l) => l.code === 'channel_not_found');
    expect(log).toMatchObject({ level: 50, hint: expect.stringContaining('C0GONE') });
  });

  it('tells the operator to invite the bot when it is not in the channel', async () => {
    slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    await enqueue(post('C0PRIVATE', 'priv-1', 'hello'));
    await sender().drainOnce();
    expect((await rows())[0]).toMatchObject({ state: 'failed', last_error: 'not_in_channel' });
    expect(logLines.find((l) => l.code === 'not_in_channel')?.hint).toMatch(/invite @switchboard to <#C0PRIVATE>/);
  });

  it('fails an edit of a message that no longer exists', async () => {
    await enqueue(post('C0OPS', 'inc-8', 'opened'));
    const s = sender({ perChannelIntervalMs: 0, updateIntervalMs: 0 });
    await drainUntilIdle(s);
    slack.reset(); // Slack forgets the message, as if someone deleted it.
    await enqueue(update('inc-8', 'render'));
    await drainUntilIdle(s);
    expect((await rows()).find((r) => r.kind === 'update')).toMatchObject({ state: 'failed', last_error: 'message_not_found' });
  });

  it('stop() lets the call in flight finish and records it', async () => {
    await enqueue(post('C0OPS', 'inc-9', 'in flight'));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: ChatPoster = {
      ...poster,
      async postMessage(message) {
        await gate;
        return poster.postMessage(message);
      },
    };
    const s = sender({ poster: slow, pollMs: 20 });
    s.start();
    try {
      await eventually(async () => (await db.query('SELECT 1 FROM slack_channels')).rows.length === 1, 5_000, 'the claim');
    } finally {
      const stopped = s.stop();
      release();
      await stopped;
    }
    expect((await rows())[0]).toMatchObject({ state: 'sent', attempts: 1 });
  });
});
