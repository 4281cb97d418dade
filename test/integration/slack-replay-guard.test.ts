import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, sendJson } from '../../src/app/http-server.js';
import { createMetrics } from '../../src/app/metrics.js';
import { guardSlackReplay } from '../../src/app/slack-replay-guard.js';
import type { Db } from '../../src/store/db.js';
import { createSeenRequestsRepository } from '../../src/store/seen-requests-repository.js';
import { eventually } from '../helpers/eventually.js';
import { useMigratedStore } from '../helpers/migrated-store.js';
import { nowSeconds, postToSlack } from '../helpers/slack-requests.js';

const SECRET = 'replay-guard-secret';

let db: Db;
useMigratedStore('PostgreSQL', (d) => (db = d));

let server: Server;
let url = '';
let now = Date.now();
const reached: string[] = [];

beforeAll(async () => {
  // Stands in for Bolt: counts what gets past the guard, and sees the body the guard buffered.
  const next = (req: IncomingMessage & { rawBody?: Buffer }, res: ServerResponse) => {
    reached.push(req.rawBody?.toString('utf8') ?? '');
    sendJson(res, 200, { ran: true });
  };
  const handler = guardSlackReplay(next, { signingSecret: SECRET, seen: createSeenRequestsRepository(db), logger: pino({ level: 'silent' }), bodyLimit: 1024 * 1024, now: () => now });
  server = createHttpServer({ routes: [{ method: 'POST', path: '/slack/events', handler }], metrics: createMetrics(), logger: pino({ level: 'silent' }) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

const event = (id: string) => JSON.stringify({ type: 'event_callback', event_id: id, event_time: nowSeconds(), event: { type: 'app_mention', user: 'U0ALICE001', text: 'hi', ts: '1.2' } });
const json = { contentType: 'application/json' };

describe('Slack retries of an Events API delivery', () => {
  it('acknowledges a retry of an accepted event with 200 and does not run it again', async () => {
    reached.length = 0;
    const body = event('Ev0REPLAY1');
    expect((await postToSlack(url, '/slack/events', body, SECRET, json)).status).toBe(200);
    // Slack signs each retry afresh, with a new timestamp.
    const retry = await postToSlack(url, '/slack/events', body, SECRET, { ...json, timestampSeconds: nowSeconds() + 1, headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
    expect(retry.status).toBe(200);
    expect(reached).toEqual([body]);
  });

  it('runs a retry whose first delivery never arrived', async () => {
    reached.length = 0;
    const body = event('Ev0REPLAY2');
    const retry = await postToSlack(url, '/slack/events', body, SECRET, { ...json, headers: { 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_error' } });
    expect(retry.status).toBe(200);
    expect(reached).toEqual([body]);
  });

  it('passes requests without a valid signature through untouched and remembers nothing of them', async () => {
    reached.length = 0;
    const before = (await db.query('SELECT key FROM slack_requests_seen')).rows.length;
    await postToSlack(url, '/slack/events', event('Ev0UNSIGNED'), 'another-secret', json);
    await postToSlack(url, '/slack/events', event('Ev0UNSIGNED'), 'another-secret', json);
    expect(reached).toHaveLength(2);
    expect((await db.query('SELECT key FROM slack_requests_seen')).rows.length).toBe(before);
  });

  it('deletes expired records as requests come in', async () => {
    await db.query(`INSERT INTO slack_requests_seen (key, expires_at) VALUES ('sig:old', $1)`, [new Date(now - 1_000)]);
    now += 2 * 60_000;
    await postToSlack(url, '/slack/events', event('Ev0CLEANUP'), SECRET, { ...json, timestampSeconds: Math.floor(now / 1000) });
    await eventually('the expired record deleted', async () => (await db.query(`SELECT key FROM slack_requests_seen WHERE key = 'sig:old'`)).rows.length === 0);
  });
});
