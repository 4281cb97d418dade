/**
 * The outbox against Slack outages, refusals and rate tiers: real PostgreSQL, the fake Slack Web
 * API, the sender as Switchboard runs it.
 */
import type { Logger as SlackLogger, LogLevel } from '@slack/web-api';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/alerts/outbox.js';
import type { OutboxMessage } from '../../src/alerts/outbox-port.js';
import { createSlackChatPoster, createSlackWebClient, type ChatPoster } from '../../src/integrations/slack/chat-poster.js';
import { createOutboxSender, type OutboxSender, type OutboxSenderOptions } from '../../src/integrations/slack/outbox-sender.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from '../fakes/fake-slack.js';
import { eventually } from '../helpers/eventually.js';
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

const post = (channel: string, messageKey: string, text: string): OutboxMessage => ({
  kind: 'post',
  channel,
  messageKey,
  priority: 'routine',
  text,
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
});
const reply = (threadKey: string, text: string): OutboxMessage => ({ kind: 'reply', threadKey, priority: 'routine', text });
const dm = (userId: string, text: string): OutboxMessage => ({ kind: 'dm', userId, priority: 'page', text });

let db: Db;
let temp: Awaited<ReturnType<typeof createTempDatabase>>;
let slack: FakeSlack;
const extraSlacks: FakeSlack[] = [];
const outbox = createOutbox();
const senders: OutboxSender[] = [];

const posterFor = (fake: FakeSlack): ChatPoster => createSlackChatPoster(createSlackWebClient({ token: 'xoxb-test-token', slackApiUrl: fake.url, logger: silentSlackLogger, timeoutMs: 5_000 }));
const enqueue = (...messages: OutboxMessage[]) =>
  db.transaction(async (tx) => {
    for (const m of messages) await outbox.enqueue(tx, m);
  });
const sender = (options: Partial<OutboxSenderOptions> = {}) => {
  const s = createOutboxSender({ db, poster: posterFor(slack), logger: pino({ level: process.env.OUTBOX_LOG ?? 'silent' }), pollMs: 20, ...options });
  senders.push(s);
  return s;
};
const states = async () => (await db.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM outbox GROUP BY state ORDER BY state')).rows;
const pending = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE state = 'pending'`)).rows[0]!.n;
const strictSlack = async (options: FakeSlackOptions) => {
  const fake = await startFakeSlack(options);
  extraSlacks.push(fake);
  return fake;
};

beforeAll(async () => {
  temp = await createTempDatabase('sb_outbox_delivery');
  db = createPostgresDb(temp.url);
  await migrate(db);
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
  await db?.close();
  await temp?.drop();
});
beforeEach(async () => {
  slack.reset();
  await db.exec('TRUNCATE outbox, slack_messages, slack_channels, slack_dm_channels, slack_channel_names, slack_dm_opens, slack_channel_problems');
});
afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.stop()));
  await Promise.all(extraSlacks.splice(0).map((s) => s.close()));
});

describe('a Slack outage', () => {
  it('loses nothing however long it lasts, and delivers everything within seconds of Slack’s recovery', { timeout: 60_000 }, async () => {
    // Backoff shortened so that the outage outlasts the old give-up point (25 attempts) many times over.
    const s = sender({ backoffBaseMs: 10, backoffCapMs: 100, perChannelIntervalMs: 50 });
    slack.setOutage([{ status: 500 }, { status: 503 }, 'unreachable', { status: 429, retryAfterSeconds: 1 }, { status: 502 }]);
    const channels = Array.from({ length: 10 }, (_, i) => `C0OUT${i}`);
    for (const c of channels) await enqueue(post(c, `${c}:parent`, `${c} parent`), reply(`${c}:parent`, `${c} detail`));
    for (let u = 0; u < 5; u += 1) await enqueue(dm(`U0OUT${u}`, `page ${u}`), dm(`U0OUT${u}`, `page ${u} again`));
    s.start();
    const attempts = async () => (await db.query<{ n: number }>(`SELECT min(attempts)::int AS n FROM outbox WHERE kind = 'post'`)).rows[0]!.n;
    await eventually('every parent tried more often than the old give-up point', async () => (await attempts()) > 30, 40_000, 50);
    expect(await pending()).toBe(30);

    slack.setOutage(undefined);
    const recovered = Date.now();
    await eventually('the outbox to drain', async () => (await pending()) === 0, 10_000, 20).catch(async (e) => {
      console.log((await db.query(`SELECT id, kind, state, not_before, transient_retry, sending_since, last_error, attempts FROM outbox WHERE state = 'pending'`)).rows, (await db.query('SELECT * FROM slack_dm_opens')).rows, slack.calls.length);
      throw e;
    });
    expect(Date.now() - recovered).toBeLessThan(10_000);
    expect(await states()).toEqual([{ state: 'sent', n: 30 }]);
    for (const c of channels) expect(slack.messages(c).map((m) => m.text)).toEqual([`${c} parent`, `${c} detail`]);
  });

  it('wakes the writes waiting out a long backoff as soon as one call goes through again', async () => {
    // A 20 s backoff: without the wake-up these rows would wait seconds after Slack is back.
    const s = sender({ backoffBaseMs: 20_000, backoffCapMs: 20_000, perChannelIntervalMs: 0, random: () => 1 });
    slack.setOutage([{ status: 503 }]);
    await enqueue(post('C0WAKE1', 'wake-1', 'one'), post('C0WAKE2', 'wake-2', 'two'));
    s.start();
    await eventually('both refused once', () => slack.rejected.length >= 2, 5_000, 20);
    slack.setOutage(undefined);
    // Something new goes through at once; its success wakes the others.
    await enqueue(post('C0WAKE3', 'wake-3', 'three'));
    const recovered = Date.now();
    await eventually('the outbox to drain', async () => (await pending()) === 0, 5_000, 20).catch(async (e) => {
      console.log(slack.calls.map((c) => c.method), (await db.query('SELECT id, state, not_before, transient_retry, sending_since FROM outbox')).rows, (await db.query('SELECT * FROM slack_channels')).rows);
      throw e;
    });
    expect(Date.now() - recovered).toBeLessThan(3_000);
  });

  it('opens each user’s DM with one call per backoff, not one per DM, and keeps the channel', async () => {
    const s = sender({ backoffBaseMs: 200, backoffCapMs: 400, perChannelIntervalMs: 20 });
    slack.setOutage([{ status: 503 }]);
    const users = Array.from({ length: 6 }, (_, i) => `U0DM${i}`);
    for (let k = 0; k < 10; k += 1) await enqueue(...users.map((u) => dm(u, `page ${k} for ${u}`)));
    s.start();
    await new Promise((r) => setTimeout(r, 2_000));
    const opens = slack.rejected.filter((r) => r.method === 'conversations.open').length;
    // Each user at most once per backoff (≥ 100 ms): about 20 each in 2 s; one per DM would be 60 per round.
    expect(opens).toBeGreaterThan(0);
    expect(opens).toBeLessThanOrEqual(users.length * 21);
    const attempts = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM slack_dm_opens`)).rows[0]!.n;
    expect(attempts).toBe(users.length);

    slack.setOutage(undefined);
    await eventually('every DM delivered', async () => (await pending()) === 0, 10_000, 20).catch(async (e) => { console.log(JSON.stringify((await db.query('SELECT * FROM slack_dm_opens')).rows), JSON.stringify((await db.query("SELECT id, channel, user_id, not_before, last_error, sending_since FROM outbox WHERE state = 'pending' LIMIT 5")).rows), slack.callsTo('conversations.open').length, slack.rejected.slice(-3)); throw e; });
    expect(slack.callsTo('conversations.open')).toHaveLength(users.length);
    await s.stop();

    // A new sender (a restart) posts into the kept channels without opening them again.
    await enqueue(...users.map((u) => dm(u, `later for ${u}`)));
    const again = sender({ perChannelIntervalMs: 20 });
    again.start();
    await eventually('the later DMs', async () => (await pending()) === 0, 10_000, 20);
    expect(slack.callsTo('conversations.open')).toHaveLength(users.length);
  });
});

describe('Slack’s rate tiers', () => {
  it('keeps conversations.open and chat.update within their tier, so Slack answers no 429', async () => {
    const tiers = { 'conversations.open': { limit: 3, windowMs: 1_000 }, 'chat.update': { limit: 3, windowMs: 1_000 } };
    const strict = await strictSlack({ tiers });
    const s = sender({ poster: posterFor(strict), tiers, perChannelIntervalMs: 0, updateIntervalMs: 0 });
    const users = Array.from({ length: 8 }, (_, i) => `U0TIER${i}`);
    await enqueue(...users.map((u) => dm(u, `page for ${u}`)));
    for (let i = 0; i < 8; i += 1) await enqueue(post(`C0TIER${i}`, `tier-${i}`, `parent ${i}`));
    s.start();
    await eventually('the posts', async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM slack_messages')).rows[0]!.n === 8, 10_000, 20);
    await db.transaction(async (tx) => {
      for (let i = 0; i < 8; i += 1) await outbox.enqueue(tx, { kind: 'update', messageKey: `tier-${i}`, priority: 'routine', text: `edited ${i}` });
    });
    await eventually('everything delivered', async () => (await pending()) === 0, 15_000, 20);
    expect(strict.rejected.filter((r) => r.status === 429)).toEqual([]);
    expect(strict.callsTo('conversations.open')).toHaveLength(8);
    expect(strict.callsTo('chat.update')).toHaveLength(8);
  });
});

describe('writes Slack refuses', () => {
  it('sends a reply Slack refuses as too long again as plain text', async () => {
    await enqueue(post('C0LONG', 'long-1', 'parent'), reply('long-1', 'a very long detail'));
    slack.failNext('chat.postMessage', { error: 'msg_too_long' }, 1, (args) => Boolean(args.thread_ts));
    const s = sender({ perChannelIntervalMs: 0 });
    s.start();
    await eventually('the outbox to drain', async () => (await pending()) === 0, 5_000, 20);
    const [parent, detail] = slack.messages('C0LONG');
    expect(detail).toMatchObject({ text: 'a very long detail', thread_ts: parent!.ts });
    expect((await db.query<{ degraded: string }>(`SELECT degraded FROM outbox WHERE kind = 'reply'`)).rows[0]!.degraded).toContain('msg_too_long');
  });

  it('fails the replies and edits of a parent refused even in its minimal form, including ones queued later', async () => {
    slack.refuseChannel('C0DEAD', 'is_archived');
    await enqueue(post('C0DEAD', 'dead-1', 'parent'), reply('dead-1', 'first'));
    const s = sender({ perChannelIntervalMs: 0 });
    s.start();
    await eventually('the parent to fail', async () => (await db.query(`SELECT 1 FROM outbox WHERE kind = 'post' AND state = 'failed'`)).rows.length === 1, 5_000, 20);
    await enqueue(reply('dead-1', 'later'), { kind: 'update', messageKey: 'dead-1', priority: 'routine', text: 'edit' });
    await eventually('nothing left pending', async () => (await pending()) === 0, 5_000, 20);
    expect(await states()).toEqual([{ state: 'failed', n: 4 }]);
  });
});
