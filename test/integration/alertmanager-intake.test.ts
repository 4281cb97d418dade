import { readFile } from 'node:fs/promises';
import { request as httpRequest, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntake, type Intake } from '../../src/alerts/intake.js';
import { createNotificationProcessor } from '../../src/alerts/notification-processor.js';
import { createAlertmanagerHandler, type AlertmanagerHandlerOptions } from '../../src/app/routes/alertmanager.js';
import type { Db } from '../../src/store/db.js';
import { byNumber } from '../../src/store/incidents-repository.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { firing, notification } from '../fixtures/alertmanager/notifications.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const TOKEN = 'am-webhook-token-0123456789';
const { logger, lines: logLines } = capturedLogger();

let temp: Awaited<ReturnType<typeof createTempDatabase>>;
let db: Db;
const servers: Server[] = [];

beforeAll(async () => {
  temp = await createTempDatabase('sb_am_intake');
  db = createPostgresDb(temp.url, { max: 4 });
  await migrate(db);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await db.close().catch(() => undefined);
  await temp.drop();
});

async function serve(options: Partial<AlertmanagerHandlerOptions> & { intake?: Pick<Intake, 'accept'> } = {}) {
  const handler = createAlertmanagerHandler({
    intake: options.intake ?? createIntake({ db, now: () => new Date() }),
    auth: options.auth ?? { bearerToken: TOKEN },
    logger,
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.answerWithinMs ? { answerWithinMs: options.answerWithinMs } : {}),
  });
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alertmanager`, handler };
}

const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
const basicAuth = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const body = (groupKey = `{}:{run="${Math.random()}"}`) => JSON.stringify(notification([firing('aaaa', '2026-03-01T10:00:00Z')], { groupKey }));

async function post(url: string, payload: string, headers: Record<string, string> = bearer()) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

describe('POST /alertmanager', () => {
  it('stores a real Alertmanager v4 body before answering, and the processor applies it', async () => {
    const { url, handler } = await serve();
    expect(handler.authenticated).toBe(true);
    const payload = await readFile(new URL('../fixtures/alertmanager/firing-v4.json', import.meta.url), 'utf8');
    const first = await post(url, payload);
    const again = await post(url, payload);
    expect(first).toEqual({ status: 200, headers: expect.anything(), json: { ok: true } });
    expect(again.json).toEqual(first.json);
    const groupKey = (JSON.parse(payload) as { groupKey: string }).groupKey;
    const pending = await db.query<{ processed_at: Date | null }>('SELECT processed_at FROM notifications WHERE group_key = $1', [groupKey]);
    expect(pending.rows).toEqual([{ processed_at: null }, { processed_at: null }]);
    await createNotificationProcessor({ db, intake: createIntake({ db, now: () => new Date() }), logger }).drain();
    const number = await db.query<{ number: number }>('SELECT number FROM incidents WHERE group_key = $1', [groupKey]);
    expect(number.rows).toHaveLength(1);
    const view = (await byNumber(db, number.rows[0]!.number))!;
    expect(view).toMatchObject({ title: 'RedisMemoryHigh', service: 'dried-fruits', severity: 'critical', counts: { firing: 2, resolved: 0 } });
    expect(view.startedAt?.toISOString()).toBe('2026-03-01T10:58:41.213Z');
    const stored = await db.query<{ payload: { receiver: string }; body_sha256: string }>('SELECT payload, body_sha256 FROM notifications WHERE group_key = $1', [view.groupKey]);
    expect(stored.rows).toHaveLength(2);
    expect(stored.rows[0]!.payload.receiver).toBe('switchboard');
  });

  it.each([
    ['missing', {}],
    ['wrong', bearer('am-webhook-token-0123456780')],
    ['shorter', bearer('am')],
    ['of another scheme', basicAuth('alertmanager', TOKEN)],
    ['malformed', { authorization: 'Bearer' }],
  ])('answers 401 to a %s token', async (_, headers) => {
    const { url } = await serve();
    const res = await post(url, body(), headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="switchboard"');
    expect(res.json).toEqual({ error: 'unauthorized' });
  });

  it('accepts basic auth, and either scheme when both are configured', async () => {
    const { url } = await serve({ auth: { basic: { username: 'alertmanager', password: 's3cret:with:colons' } } });
    expect((await post(url, body(), basicAuth('alertmanager', 's3cret:with:colons'))).status).toBe(200);
    expect((await post(url, body(), basicAuth('alertmanager', 's3cret'))).status).toBe(401);
    expect((await post(url, body(), basicAuth('someone', 's3cret:with:colons'))).status).toBe(401);
    expect((await post(url, body(), bearer())).status).toBe(401);

    const both = await serve({ auth: { bearerToken: TOKEN, basic: { username: 'am', password: 'pw' } } });
    expect((await post(both.url, body(), bearer())).status).toBe(200);
    expect((await post(both.url, body(), basicAuth('am', 'pw'))).status).toBe(200);
    const refused = await fetch(both.url, { method: 'POST', body: body() });
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="switchboard", Basic realm="switchboard"');
  });

  it('accepts anyone when no credentials are configured, and says so', async () => {
    const { url, handler } = await serve({ auth: {} });
    expect(handler.authenticated).toBe(false);
    expect((await post(url, body(), {})).status).toBe(200);
  });

  it('answers 413 to a body over the cap, declared or streamed, without reading it all', async () => {
    const { url } = await serve({ maxBodyBytes: 4096 });
    const declared = await post(url, JSON.stringify({ padding: 'x'.repeat(10_000) }));
    expect(declared).toMatchObject({ status: 413, json: { error: 'payload_too_large', maxBytes: 4096 } });

    // Chunked, with no length to go by: the handler has to count.
    const streamed = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += 16_384;
          if (!req.write('y'.repeat(16_384))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.text)).toMatchObject({ error: 'payload_too_large' });
  });

  it('answers 400 to a body that is not JSON', async () => {
    const { url } = await serve();
    const res = await post(url, '{"receiver": "switchboard", ');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_json', problems: [expect.stringMatching(/^body is not JSON/)] });
  });

  it('answers 400 naming the missing field', async () => {
    const { url } = await serve();
    const wire = notification([firing('aaaa', '2026-03-01T10:00:00Z')]);
    const { fingerprint: _, ...withoutFingerprint } = wire.alerts[0]!;
    const res = await post(url, JSON.stringify({ ...wire, alerts: [withoutFingerprint] }));
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_notification');
    expect(res.json.problems).toEqual([expect.stringContaining('alerts[0].fingerprint')]);
  });

  it('answers 200 once stored even when applying it will fail: the processor retries, not Alertmanager', async () => {
    const groupKey = `{}:{run="hook-${Math.random()}"}`;
    const intake = createIntake({
      db,
      now: () => new Date(),
      onIncidentChanged: async () => {
        throw new Error('outbox table missing');
      },
    });
    const { url } = await serve({ intake });
    const res = await post(url, body(groupKey));
    expect(res).toMatchObject({ status: 200, json: { ok: true } });
    await createNotificationProcessor({ db, intake, logger, backoffMs: 60_000 }).drain();
    const rows = await db.query<{ processed_at: Date | null; attempts: number; last_error: string }>('SELECT processed_at, attempts, last_error FROM notifications WHERE group_key = $1', [groupKey]);
    expect(rows.rows).toEqual([{ processed_at: null, attempts: 1, last_error: 'outbox table missing' }]);
    expect((await db.query('SELECT 1 FROM incidents WHERE group_key = $1', [groupKey])).rows).toHaveLength(0);
    expect(logLines.some((l) => l.includes('outbox table missing'))).toBe(true);
    // Out of the way of the other tests' processors.
    await db.query(`UPDATE notifications SET failed_at = now() WHERE group_key = $1`, [groupKey]);
  });

  it('answers 503 before Alertmanager gives up when the store is too slow', async () => {
    const { url } = await serve({ intake: { accept: () => new Promise(() => undefined) }, answerWithinMs: 200 });
    const started = Date.now();
    const res = await post(url, body());
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('answers 503 when the store is down', async () => {
    const down = createPostgresDb(temp.url, { max: 1 });
    const { url } = await serve({ intake: createIntake({ db: down, now: () => new Date() }) });
    await down.close();
    const res = await post(url, body());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
  });
});
