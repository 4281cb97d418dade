import type { Logger as SlackLogger, LogLevel } from '@slack/web-api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/alerts/outbox.js';
import { createSlackChatPoster, createSlackWebClient } from '../../src/integrations/slack/chat-poster.js';
import { createOutboxSender } from '../../src/integrations/slack/outbox-sender.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
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

describe.each(['postgresql', 'pglite'] as const)('outbox pacing on %s', (store) => {
  let db: Db;
  let drop: (() => Promise<void>) | undefined;
  let slack: FakeSlack;

  beforeAll(async () => {
    if (store === 'postgresql') {
      const temp = await createTempDatabase('sb_outbox_pace');
      drop = temp.drop;
      db = createPostgresDb(temp.url);
    } else {
      db = await createPgliteDb(undefined);
    }
    await migrate(db);
    slack = await startFakeSlack({ enforceChannelRate: true });
  });

  afterAll(async () => {
    await slack?.close();
    await db?.close();
    await drop?.();
  });

  it('posts about once a second per channel and takes no 429', async () => {
    const outbox = createOutbox();
    await db.transaction(async (tx) => {
      for (let i = 1; i <= 20; i += 1) {
        await outbox.enqueue(tx, { kind: 'post', channel: 'C0ALPHA', messageKey: `alpha-${i}`, priority: 'routine', text: `alpha ${i}` });
        await outbox.enqueue(tx, { kind: 'post', channel: 'C0BETA', messageKey: `beta-${i}`, priority: 'routine', text: `beta ${i}` });
      }
    });
    const poster = createSlackChatPoster(createSlackWebClient({ token: 'xoxb-test-token', slackApiUrl: slack.url, logger: silentSlackLogger }));
    const sender = createOutboxSender({ db, poster, logger: pino({ level: 'silent' }) });
    sender.start();
    try {
      await slack.waitFor(() => slack.callsTo('chat.postMessage').length === 40, 45_000);
    } finally {
      await sender.stop();
    }

    expect(slack.rateLimited).toBe(0);
    expect(slack.rejected).toEqual([]);
    for (const channel of ['C0ALPHA', 'C0BETA']) {
      const calls = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
      const prefix = channel === 'C0ALPHA' ? 'alpha' : 'beta';
      expect(calls.map((c) => c.args.text)).toEqual(Array.from({ length: 20 }, (_, i) => `${prefix} ${i + 1}`));
      const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000);
      // About one a second: not a benchmark, only a bound that catches a stalled channel.
      const span = calls.at(-1)!.at - calls[0]!.at;
      expect(span).toBeLessThan(19 * 1_600);
    }
  }, 60_000);
});
