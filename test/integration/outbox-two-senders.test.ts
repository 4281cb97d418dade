import type { Logger as SlackLogger, LogLevel } from '@slack/web-api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/alerts/outbox.js';
import { createSlackChatPoster, createSlackWebClient } from '../../src/integrations/slack/chat-poster.js';
import { createOutboxSender, type OutboxSender } from '../../src/integrations/slack/outbox-sender.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
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
const CHANNELS = ['C0RED', 'C0GREEN', 'C0BLUE'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two outbox senders on one PostgreSQL database', () => {
  let temp: Awaited<ReturnType<typeof createTempDatabase>>;
  let dbs: Db[];
  let slack: FakeSlack;

  beforeAll(async () => {
    temp = await createTempDatabase('sb_outbox_two');
    dbs = [createPostgresDb(temp.url), createPostgresDb(temp.url), createPostgresDb(temp.url)];
    await migrate(dbs[0]!);
    slack = await startFakeSlack();
  });

  afterAll(async () => {
    await slack?.close();
    await Promise.all((dbs ?? []).map((db) => db.close()));
    await temp?.drop();
  });

  const pending = async () => (await dbs[0]!.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE state = 'pending'`)).rows[0]!.n;
  const until = async (check: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await sleep(50);
    }
  };

  it('sends each of 30 rows exactly once, in order per channel, and each edit once', async () => {
    const outbox = createOutbox();
    await dbs[0]!.transaction(async (tx) => {
      for (let i = 1; i <= 30; i += 1) {
        const channel = CHANNELS[i % CHANNELS.length]!;
        await outbox.enqueue(tx, { kind: 'post', channel, messageKey: `m-${i}`, priority: 'routine', text: `${channel} ${i}` });
      }
    });
    const poster = createSlackChatPoster(createSlackWebClient({ token: 'xoxb-test-token', slackApiUrl: slack.url, logger: silentSlackLogger }));
    // No pacing gap, a short poll: the two instances race for every row.
    const sentBy = [0, 0];
    const senders: OutboxSender[] = [dbs[1]!, dbs[2]!].map((db, i) =>
      createOutboxSender({ db, poster, logger: pino({ level: 'silent' }), perChannelIntervalMs: 0, updateIntervalMs: 0, pollMs: 5, metrics: { onSent: () => (sentBy[i]! += 1) } }),
    );
    senders.forEach((s) => s.start());
    try {
      await until(async () => (await pending()) === 0, 20_000);
      await dbs[0]!.transaction(async (tx) => {
        for (let i = 1; i <= 30; i += 1) await outbox.enqueue(tx, { kind: 'update', messageKey: `m-${i}`, priority: 'routine', text: `edited ${i}` });
      });
      await until(async () => (await pending()) === 0, 20_000);
      await sleep(300);
    } finally {
      await Promise.all(senders.map((s) => s.stop()));
    }

    const posts = slack.callsTo('chat.postMessage');
    // Both instances took part; together they sent every row once.
    expect(sentBy[0]! + sentBy[1]!).toBe(60);
    expect(Math.min(...sentBy)).toBeGreaterThan(0);
    expect(posts).toHaveLength(30);
    expect(new Set(posts.map((c) => c.args.text)).size).toBe(30);
    for (const channel of CHANNELS) {
      const numbers = posts.filter((c) => c.args.channel === channel).map((c) => Number(String(c.args.text).split(' ')[1]));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    }
    const updates = slack.callsTo('chat.update');
    expect(updates).toHaveLength(30);
    expect(new Set(updates.map((c) => c.args.ts)).size).toBe(30);
    const { rows } = await dbs[0]!.query<{ state: string; attempts: number }>('SELECT state, attempts FROM outbox');
    expect(rows.every((r) => r.state === 'sent' && r.attempts === 1)).toBe(true);
  });
});
