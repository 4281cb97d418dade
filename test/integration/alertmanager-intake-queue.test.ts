import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createIntake, type Intake } from '../../src/alerts/intake.js';
import { createNotificationProcessor, type NotificationProcessor } from '../../src/alerts/notification-processor.js';
import { registerNotificationQueueMetrics } from '../../src/alerts/notification-queue-metrics.js';
import { createAlertmanagerHandler } from '../../src/app/routes/alertmanager.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { parseNotification } from '../../src/alerts/webhook-schema.js';
import { firing, notification } from '../fixtures/alertmanager/notifications.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { eventually } from '../helpers/eventually.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const { logger, lines: logLines } = capturedLogger();

let temp: Awaited<ReturnType<typeof createTempDatabase>>;
let db: Db;
let other: Db;
const servers: Server[] = [];
const processors: NotificationProcessor[] = [];

beforeAll(async () => {
  temp = await createTempDatabase('sb_am_queue');
  db = createPostgresDb(temp.url, { max: 6 });
  other = createPostgresDb(temp.url, { max: 6 });
  await migrate(db);
});
afterAll(async () => {
  await Promise.all(processors.map((p) => p.stop()));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await db.close().catch(() => undefined);
  await other.close().catch(() => undefined);
  await temp.drop();
});

// A test that fails half-way must not leave its processor claiming the next test's notifications.
afterEach(async () => {
  await Promise.all(processors.splice(0).map((p) => p.stop()));
});

function processor(options: Parameters<typeof createNotificationProcessor>[0]): NotificationProcessor {
  const p = createNotificationProcessor(options);
  processors.push(p);
  return p;
}

async function serve(intake: Pick<Intake, 'accept'>, onAccepted?: () => void): Promise<string> {
  const handler = createAlertmanagerHandler({ intake, auth: {}, logger, ...(onAccepted ? { onAccepted } : {}) });
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/alertmanager`;
}

async function post(url: string, groupKey: string, fingerprint = 'aaaa'): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(notification([firing(fingerprint, '2026-03-01T10:00:00Z')], { groupKey })) });
  await res.text();
  return res.status;
}

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) => eventually(what, probe, 10_000, 25);

const incidentsOf = async (groupKey: string) => (await db.query<{ number: number }>('SELECT number FROM incidents WHERE group_key = $1', [groupKey])).rows;
const notificationsOf = async (groupKey: string) =>
  (await db.query<{ processed_at: Date | null; attempts: number; last_error: string | null; failed_at: Date | null }>('SELECT processed_at, attempts, last_error, failed_at FROM notifications WHERE group_key = $1 ORDER BY id', [groupKey])).rows;

describe('the notification queue', () => {
  it('applies a notification accepted while the processor was stopped once it starts', async () => {
    const intake = createIntake({ db, now: () => new Date() });
    const p = processor({ db, intake, logger, intervalMs: 50 });
    const url = await serve(intake, () => p.wake());
    const groupKey = `{}:{run="durable-${Math.random()}"}`;
    expect(await post(url, groupKey)).toBe(200);
    // Stopped: wake does nothing and the row waits, committed.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await incidentsOf(groupKey)).toEqual([]);
    expect(await notificationsOf(groupKey)).toMatchObject([{ processed_at: null, attempts: 0 }]);
    // The backlog shows in /metrics: one waiting, for at least the 200 ms above.
    const registry = new Registry();
    registerNotificationQueueMetrics(registry, db);
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await registry.getSingleMetricAsString(name))?.[1]);
    expect(await metric('switchboard_notifications_pending')).toBe(1);
    expect(await metric('switchboard_notifications_oldest_pending_seconds')).toBeGreaterThanOrEqual(0.2);

    p.start();
    await waitFor('the incident', async () => ((await incidentsOf(groupKey)).length === 1 ? true : undefined));
    await waitFor('the row marked processed', async () => ((await notificationsOf(groupKey))[0]!.processed_at ? true : undefined));
    // Started: the handler's wake-up applies the next one too.
    expect(await post(url, groupKey, 'bbbb')).toBe(200);
    await waitFor('the second alert', async () => {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts a JOIN incidents i ON i.id = a.incident_id WHERE i.group_key = $1', [groupKey]);
      return rows[0]!.n === 2 ? true : undefined;
    });
    expect(await incidentsOf(groupKey)).toHaveLength(1);
    await p.stop();
    expect(await metric('switchboard_notifications_pending')).toBe(0);
    expect(await metric('switchboard_notifications_oldest_pending_seconds')).toBe(0);
  });

  it('retries a failing apply with backoff until it succeeds, and gives up loudly after maxAttempts', async () => {
    let failures = 2;
    const intake = createIntake({
      db,
      now: () => new Date(),
      onIncidentChanged: async (tx) => {
        await tx.query('SELECT 1');
        if (failures-- > 0) throw new Error('projector exploded');
      },
    });
    const groupKey = `{}:{run="retry-${Math.random()}"}`;
    const url = await serve(intake);
    expect(await post(url, groupKey)).toBe(200);
    const p = processor({ db, intake, logger, intervalMs: 20, backoffMs: 50 });
    p.start();
    await waitFor('the incident after retries', async () => ((await incidentsOf(groupKey)).length === 1 ? true : undefined));
    await waitFor('the row marked processed', async () => ((await notificationsOf(groupKey))[0]!.processed_at ? true : undefined));
    expect(await notificationsOf(groupKey)).toMatchObject([{ attempts: 2, last_error: 'projector exploded', failed_at: null }]);
    await p.stop();

    const broken = createIntake({
      db,
      now: () => new Date(),
      onIncidentChanged: async () => {
        throw new Error('always broken');
      },
    });
    const doomed = `{}:{run="doomed-${Math.random()}"}`;
    expect(await post(await serve(broken), doomed)).toBe(200);
    const q = processor({ db, intake: broken, logger, intervalMs: 20, backoffMs: 10, maxAttempts: 3 });
    q.start();
    await waitFor('the row given up', async () => ((await notificationsOf(doomed))[0]!.failed_at ? true : undefined));
    expect(await notificationsOf(doomed)).toMatchObject([{ processed_at: null, attempts: 3, last_error: 'always broken' }]);
    expect(await incidentsOf(doomed)).toEqual([]);
    expect(logLines.some((l) => l.includes('"level":50') && l.includes('failed 3 times and is given up'))).toBe(true);
    await q.stop();
  });

  it('two processors on one database apply each notification exactly once', async () => {
    const applied = new Map<string, number>();
    const count = (id: string) => applied.set(id, (applied.get(id) ?? 0) + 1);
    const counted = (target: Db): Pick<Intake, 'applyStored' | 'applyStoredBatch'> => {
      const intake = createIntake({ db: target, now: () => new Date() });
      return {
        async applyStored(stored, n) {
          const result = await intake.applyStored(stored, n);
          if (result) count(stored.id);
          return result;
        },
        async applyStoredBatch(batch, tx) {
          const results = await intake.applyStoredBatch(batch, tx);
          batch.forEach((b, i) => results[i] && count(b.stored.id));
          return results;
        },
      };
    };
    const url = await serve(createIntake({ db, now: () => new Date() }));
    const run = Math.random();
    const groups = Array.from({ length: 8 }, (_, g) => `{}:{run="pair-${run}", g="${g}"}`);
    const total = 160;
    const statuses = await Promise.all(Array.from({ length: total }, (_, i) => post(url, groups[i % groups.length]!, `f${String(i).padStart(4, '0')}`)));
    expect(statuses.every((s) => s === 200)).toBe(true);

    const a = processor({ db, intake: counted(db), logger, intervalMs: 10, batchSize: 7 });
    const b = processor({ db: other, intake: counted(other), logger, intervalMs: 10, batchSize: 7 });
    a.start();
    b.start();
    await waitFor('every notification processed', async () => {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE group_key LIKE $1 AND processed_at IS NULL`, [`{}:{run="pair-${run}"%`]);
      return rows[0]!.n === 0 ? true : undefined;
    });
    await Promise.all([a.stop(), b.stop()]);

    expect(applied.size).toBe(total);
    expect([...applied.values()].every((n) => n === 1)).toBe(true);
    for (const groupKey of groups) {
      const { rows } = await db.query<{ incidents: number; alerts: number }>(
        'SELECT count(DISTINCT i.id)::int AS incidents, count(a.fingerprint)::int AS alerts FROM incidents i LEFT JOIN alerts a ON a.incident_id = i.id WHERE i.group_key = $1',
        [groupKey],
      );
      expect(rows[0]).toEqual({ incidents: 1, alerts: total / groups.length });
    }
  });

  it('lets another processor apply a batch at once when the processor that claimed it loses its connection', async () => {
    const run = Math.random();
    const groups = Array.from({ length: 3 }, (_, g) => `{}:{run="orphaned-${run}", g="${g}"}`);
    const url = await serve(createIntake({ db, now: () => new Date() }));
    for (const groupKey of groups) expect(await post(url, groupKey)).toBe(200);

    // The first processor claims the batch, then hangs inside it, holding its connection.
    let claimedBy: (pid: number) => void;
    const claimerPid = new Promise<number>((resolve) => (claimedBy = resolve));
    let release: () => void;
    const released = new Promise<never>((_, reject) => (release = () => reject(new Error('released'))));
    const intake = createIntake({ db: other, now: () => new Date() });
    const hanging = processor({
      db: other,
      logger,
      intake: {
        applyStored: (stored, n) => intake.applyStored(stored, n),
        async applyStoredBatch(batch, tx) {
          claimedBy((await tx!.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
          return released;
        },
      },
    });
    const hangingDone = hanging.drain().catch(() => undefined);
    const pid = await claimerPid;
    const second = processor({ db, intake: createIntake({ db, now: () => new Date() }), logger });
    await second.drain();
    for (const groupKey of groups) expect(await incidentsOf(groupKey)).toEqual([]);

    // Its connection is lost: PostgreSQL rolls its transaction back, and the claim goes with it.
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor('the claimer gone', async () => ((await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0 ? true : undefined));
    await second.drain();
    for (const groupKey of groups) expect(await incidentsOf(groupKey)).toHaveLength(1);
    release!();
    await hangingDone;
  });

  it('applies a batch in one transaction, and when one notification of it fails, lands the others and retries that one alone', async () => {
    const run = Math.random();
    const doomed = `{}:{run="batch-doomed-${run}"}`;
    const fine = Array.from({ length: 5 }, (_, g) => `{}:{run="batch-fine-${run}", g="${g}"}`);
    let batchTransactions = 0;
    const intake = createIntake({
      db,
      now: () => new Date(),
      onIncidentChanged: async (tx, incidentId) => {
        const { rows } = await tx.query<{ group_key: string }>('SELECT group_key FROM incidents WHERE id = $1', [incidentId]);
        if (rows[0]!.group_key === doomed) throw new Error('this group always fails');
      },
    });
    const counting: Pick<Intake, 'applyStored' | 'applyStoredBatch'> = {
      applyStored: (stored, n) => intake.applyStored(stored, n),
      applyStoredBatch: (batch, tx) => {
        batchTransactions += 1;
        return intake.applyStoredBatch(batch, tx);
      },
    };
    const url = await serve(intake);
    // Two notifications per good group, the doomed one in the middle: all seven in one batch.
    for (const groupKey of fine.slice(0, 3)) expect(await post(url, groupKey, 'aaaa')).toBe(200);
    expect(await post(url, doomed)).toBe(200);
    for (const groupKey of fine.slice(3)) expect(await post(url, groupKey, 'aaaa')).toBe(200);
    for (const groupKey of fine) expect(await post(url, groupKey, 'bbbb')).toBe(200);

    const q = processor({ db, intake: counting, logger, intervalMs: 20, backoffMs: 10, maxAttempts: 3, batchSize: 50 });
    q.start();
    await waitFor('the doomed row given up', async () => ((await notificationsOf(doomed))[0]!.failed_at ? true : undefined));
    await q.stop();

    expect(batchTransactions).toBeGreaterThanOrEqual(1);
    for (const groupKey of fine) {
      const { rows } = await db.query<{ incidents: number; alerts: number }>(
        'SELECT count(DISTINCT i.id)::int AS incidents, count(a.fingerprint)::int AS alerts FROM incidents i LEFT JOIN alerts a ON a.incident_id = i.id WHERE i.group_key = $1',
        [groupKey],
      );
      expect(rows[0]).toEqual({ incidents: 1, alerts: 2 });
      expect(await notificationsOf(groupKey)).toMatchObject([{ attempts: 0, failed_at: null }, { attempts: 0, failed_at: null }]);
      expect((await notificationsOf(groupKey)).every((n) => n.processed_at)).toBe(true);
    }
    expect(await incidentsOf(doomed)).toEqual([]);
    expect(await notificationsOf(doomed)).toMatchObject([{ processed_at: null, attempts: 3, last_error: 'this group always fails' }]);
    expect(logLines.some((l) => l.includes('could not be applied together'))).toBe(true);
  });

  it('applies several notifications of one group in one batch in order, as if one at a time', async () => {
    const groupKey = `{}:{run="batch-order-${Math.random()}"}`;
    const intake = createIntake({ db, now: () => new Date() });
    const url = await serve(intake);
    // Firing a, b, then a resolved: the incident keeps firing with b.
    expect(await post(url, groupKey, 'aaaa')).toBe(200);
    expect(await post(url, groupKey, 'bbbb')).toBe(200);
    const resolved = notification([{ ...firing('aaaa', '2026-03-01T10:00:00Z'), status: 'resolved', endsAt: '2026-03-01T10:05:00Z' }, firing('bbbb', '2026-03-01T10:00:00Z')], { groupKey });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(resolved) });
    expect(res.status).toBe(200);
    const { rows: pending } = await db.query<{ id: string; received_at: Date; payload: unknown }>('SELECT id::text AS id, received_at, payload FROM notifications WHERE group_key = $1 ORDER BY id', [groupKey]);
    expect(pending).toHaveLength(3);
    const batch = pending.map((row) => {
      const parsed = parseNotification(row.payload);
      if (!parsed.ok) throw new Error(parsed.problems.join('; '));
      return { stored: { id: row.id, receivedAt: row.received_at, payload: row.payload }, notification: parsed.notification };
    });
    const results = await intake.applyStoredBatch(batch);
    expect(results.map((r) => r?.created)).toEqual([true, false, false]);
    expect(new Set(results.map((r) => r?.incidentId)).size).toBe(1);
    expect(results.map((r) => r?.events.map((e) => e.kind))).toEqual([['opened'], ['alerts_firing'], ['alerts_resolved']]);
    const { rows: alerts } = await db.query<{ fingerprint: string; status: string }>(
      'SELECT a.fingerprint, a.status FROM alerts a JOIN incidents i ON i.id = a.incident_id WHERE i.group_key = $1 ORDER BY a.fingerprint',
      [groupKey],
    );
    expect(alerts).toEqual([{ fingerprint: 'aaaa', status: 'resolved' }, { fingerprint: 'bbbb', status: 'firing' }]);
    // Applied already: a second batch of the same rows changes nothing.
    expect(await intake.applyStoredBatch(batch)).toEqual([undefined, undefined, undefined]);
  });

  it('in one batch, resolves the incident of a group and opens its next one, and projects each incident once with all its events', async () => {
    const groupKey = `{}:{run="batch-reopen-${Math.random()}"}`;
    let clock = new Date('2026-03-01T10:00:00Z');
    const projected: Array<{ incidentId: string; events: string[] }> = [];
    const intake = createIntake({ db, now: () => clock, onIncidentChanged: async (_tx, incidentId, events) => void projected.push({ incidentId, events: events.map((e) => e.kind) }) });
    const accept = async (status: 'firing' | 'resolved', fingerprints: string[], startsAt = '2026-03-01T10:00:00Z') => {
      const alerts = fingerprints.map((f) => (status === 'firing' ? firing(f, startsAt) : { ...firing(f, startsAt), status, endsAt: clock.toISOString() }));
      const parsed = parseNotification(JSON.parse(JSON.stringify(notification(alerts, { groupKey, status }))));
      if (!parsed.ok) throw new Error(parsed.problems.join('; '));
      await intake.accept(parsed.notification);
    };
    const pendingBatch = async () => {
      const { rows } = await db.query<{ id: string; received_at: Date; payload: unknown }>(
        'SELECT id::text AS id, received_at, payload FROM notifications WHERE group_key = $1 AND processed_at IS NULL ORDER BY id',
        [groupKey],
      );
      return rows.map((row) => {
        const parsed = parseNotification(row.payload);
        if (!parsed.ok) throw new Error(parsed.problems.join('; '));
        return { stored: { id: row.id, receivedAt: new Date(row.received_at), payload: row.payload }, notification: parsed.notification };
      });
    };

    await accept('firing', ['aaaa']);
    const [first] = await intake.applyStoredBatch(await pendingBatch());
    // One minute later it resolves; an hour later (past the 30 minute reopen window) it fires again, twice.
    clock = new Date('2026-03-01T10:01:00Z');
    await accept('resolved', ['aaaa']);
    clock = new Date('2026-03-01T11:00:00Z');
    await accept('firing', ['aaaa'], '2026-03-01T10:59:00Z');
    clock = new Date('2026-03-01T11:00:30Z');
    await accept('firing', ['aaaa', 'bbbb'], '2026-03-01T10:59:00Z');
    projected.length = 0;
    const results = await intake.applyStoredBatch(await pendingBatch());

    expect(results.map((r) => r?.created)).toEqual([false, true, false]);
    expect(results[0]!.incidentId).toBe(first!.incidentId);
    const next = results[1]!.incidentId;
    expect(results[2]!.incidentId).toBe(next);
    expect(results[1]!.number).toBeGreaterThan(first!.number);
    const { rows } = await db.query<{ id: string; status: string; alerts: number }>(
      'SELECT i.id, i.status, (SELECT count(*)::int FROM alerts a WHERE a.incident_id = i.id) AS alerts FROM incidents i WHERE i.group_key = $1 ORDER BY i.number',
      [groupKey],
    );
    expect(rows).toEqual([
      { id: first!.incidentId, status: 'resolved', alerts: 1 },
      { id: next, status: 'firing', alerts: 2 },
    ]);
    expect(projected).toEqual([
      { incidentId: first!.incidentId, events: ['alerts_resolved', 'resolved'] },
      { incidentId: next, events: ['opened', 'alerts_firing'] },
    ]);
    const { rows: timeline } = await db.query<{ incident_id: string; kind: string }>('SELECT incident_id, kind FROM timeline WHERE incident_id = ANY($1::uuid[]) ORDER BY id', [[first!.incidentId, next]]);
    expect(timeline.map((t) => [t.incident_id === next ? 'next' : 'first', t.kind])).toEqual([
      ['first', 'opened'],
      ['first', 'alerts_resolved'],
      ['first', 'resolved'],
      ['next', 'opened'],
      ['next', 'alerts_firing'],
    ]);
  });
});
