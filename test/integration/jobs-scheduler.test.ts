import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger as SlackLogger, LogLevel } from '@slack/web-api';
import { getTasks } from 'node-cron';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/alerts/outbox.js';
import { allActions } from '../../src/commands/actions/index.js';
import type { ActionDeps } from '../../src/commands/action.js';
import { allowEveryone } from '../../src/commands/authorize.js';
import { createDispatcher } from '../../src/commands/dispatch.js';
import { createRegistry } from '../../src/commands/registry.js';
import type { Catalog } from '../../src/config/catalog-schema.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { createBackupRunner } from '../../src/integrations/backup/index.js';
import { createHealthChecker } from '../../src/integrations/health/index.js';
import { createSlackChatPoster, createSlackWebClient } from '../../src/integrations/slack/chat-poster.js';
import { createOutboxSender } from '../../src/integrations/slack/outbox-sender.js';
import { createJobScheduler, type JobScheduler } from '../../src/jobs/create-job-scheduler.js';
import { createBackupsRepository } from '../../src/store/backups-repository.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { createRunsRepository } from '../../src/store/runs-repository.js';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { createTempDatabase } from '../helpers/temp-database.js';
import { requires } from '../helpers/requires.js';

const TOKEN = 'xoxb-jobs-test';
const silent = pino({ level: 'silent' });
const silentSlackLogger: SlackLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, setLevel: () => {}, getLevel: () => 'error' as LogLevel, setName: () => {} };

let store: Awaited<ReturnType<typeof createTempDatabase>>;
let source: Awaited<ReturnType<typeof createTempDatabase>>;
let backupFolder: string;
let slack: FakeSlack;
let healthServer: HttpServer;
let closedPort: number;
let catalog: Catalog;
const dbs: Db[] = [];
let migrationDb: Db | undefined;
const schedulers: JobScheduler[] = [];

// The api service's health endpoint answers at once, unless a test holds it to make a run slow.
let hold: Promise<void> | undefined;
const healthRequests: number[] = [];

/** One Switchboard instance as far as jobs go: its own pool, dispatcher and scheduler on the shared store. */
function instance(name: string): { db: Db; scheduler: JobScheduler } {
  const db = createPostgresDb(store.url);
  dbs.push(db);
  // Only the ports the scheduled actions here use (service.health, backup.start) are real.
  const deps = { catalog, health: createHealthChecker(), backupRunner: createBackupRunner(), backups: createBackupsRepository(db), now: () => new Date(), newId: randomUUID } as unknown as ActionDeps;
  const dispatcher = createDispatcher({ registry: createRegistry(allActions), deps, runs: createRunsRepository(db), authorize: allowEveryone, logger: silent, newId: randomUUID, newRef: () => randomBytes(4).toString('hex') });
  const scheduler = createJobScheduler({ db, catalog, dispatcher, outbox: createOutbox(), logger: silent, instanceId: name });
  schedulers.push(scheduler);
  return { db, scheduler };
}

async function drainToSlack(db: Db): Promise<void> {
  const sender = createOutboxSender({ db, poster: createSlackChatPoster(createSlackWebClient({ token: TOKEN, slackApiUrl: slack.url, logger: silentSlackLogger })), logger: silent, perChannelIntervalMs: 0 });
  for (let n = await sender.drainOnce(); n > 0; n = await sender.drainOnce());
  await sender.stop();
}

const jobRuns = async (db: Db, job: string) =>
  (await db.query<{ slot: Date; status: string; claimed_by: string; summary: string | null; run_ref: string | null }>('SELECT slot, status, claimed_by, summary, run_ref FROM job_runs WHERE job = $1 ORDER BY slot', [job])).rows;

const slot = (iso: string) => new Date(iso);

beforeAll(async () => {
  store = await createTempDatabase('sb_jobs');
  source = await createTempDatabase('sb_jobs_src');
  const client = new pg.Client({ connectionString: source.url });
  await client.connect();
  await client.query('CREATE TABLE orders (id integer PRIMARY KEY, total numeric(10, 2) NOT NULL)');
  await client.query('INSERT INTO orders SELECT g, g * 2.5 FROM generate_series(1, 500) g');
  await client.end();
  backupFolder = await mkdtemp(join(tmpdir(), 'switchboard-jobs-'));
  slack = await startFakeSlack({ token: TOKEN });

  healthServer = createHttpServer((_req, res) => {
    healthRequests.push(Date.now());
    void (hold ?? Promise.resolve()).then(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));
  });
  await new Promise<void>((resolve) => healthServer.listen(0, '127.0.0.1', resolve));
  const healthPort = (healthServer.address() as AddressInfo).port;
  // A port nothing listens on: the worker's check fails, and the report must say so.
  const probe: Server = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));

  const missing = new URL(source.url);
  missing.pathname = `/${source.name}_missing`;
  catalog = parseCatalog(
    `version: 1
services:
  api:
    name: API
    health:
      - { name: http, kind: http, url: "http://127.0.0.1:${healthPort}/health", timeout: 20s }
  worker:
    name: Worker
    health:
      - { name: port, kind: tcp, host: 127.0.0.1, port: ${closedPort}, timeout: 2s }
  cache:
    name: Cache
  brownie:
    name: Brownie metadata
    backups:
      - { name: database, kind: postgres, url: "${source.url}", folder: "${backupFolder}", schedule: "0 2 * * *", timezone: Europe/Berlin }
      - { name: broken, kind: postgres, url: "${missing.toString()}", folder: "${backupFolder}", schedule: "30 2 * * *", timezone: Europe/Berlin, timeout: 30s }
defaultRoute: { channel: C0OPS }
routes:
  - { name: brownie, match: { service: brownie }, channel: C0DATA }
jobs:
  escalationAudit: { enabled: false }
`,
    'jobs-test.yml',
    {},
  );
  migrationDb = createPostgresDb(store.url);
  await migrate(migrationDb);
});

afterAll(async () => {
  hold = undefined;
  await Promise.all(schedulers.map((s) => s.stop(1_000)));
  await Promise.all([...dbs, ...(migrationDb ? [migrationDb] : [])].map((db) => db.close()));
  await new Promise((resolve) => healthServer?.close(resolve));
  await slack?.close();
  await store?.drop();
  await source?.drop();
  if (backupFolder) await rm(backupFolder, { recursive: true, force: true });
});

describe('scheduled jobs on one PostgreSQL store', () => {
  it('runs a slot once when two instances fire it together', async () => {
    const a = instance('instance-a');
    const b = instance('instance-b');
    const at = slot('2026-01-15T09:00:00Z');
    const results = await Promise.all([a.scheduler.runNow('healthReport', at), b.scheduler.runNow('healthReport', at)]);
    expect(results.map((r) => r.status).sort()).toEqual(['succeeded', 'taken']);

    const rows = await jobRuns(a.db, 'healthReport');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'succeeded', claimed_by: results[0]!.status === 'succeeded' ? 'instance-a' : 'instance-b' });
    const runs = await a.db.query<{ ref: string; origin: string; actor_id: string; actor_name: string; status: string }>(
      `SELECT ref, origin, actor_id, actor_name, status FROM runs WHERE action_id = 'service.health'`,
    );
    expect(runs.rows).toEqual([{ ref: rows[0]!.run_ref, origin: 'schedule', actor_id: 'schedule', actor_name: 'schedule:healthReport', status: 'succeeded' }]);
    const posts = await a.db.query<{ channel: string }>(`SELECT channel FROM outbox WHERE message_key = 'job:healthReport:2026-01-15T09:00:00.000Z'`);
    expect(posts.rows).toEqual([{ channel: 'C0OPS' }]);
  });

  it('posts one health report listing every service', async () => {
    const a = instance('instance-report');
    await drainToSlack(a.db);
    const before = slack.messages('C0OPS').length;
    expect((await a.scheduler.runNow('healthReport', slot('2026-01-14T09:00:00Z'))).status).toBe('succeeded');
    await drainToSlack(a.db);
    const messages = slack.messages('C0OPS').slice(before);
    expect(messages).toHaveLength(1);
    const text = messages[0]!.text;
    expect(text).toMatch(/^\*Health of 4 services\*/);
    const lines = text.split('\n').slice(1);
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.includes('`api`'))).toMatch(/^✓ `api` — 1\/1 checks ok$/);
    expect(lines.find((l) => l.includes('`worker`'))).toMatch(/^✗ `worker` — port: /);
    expect(lines.find((l) => l.includes('`cache`'))).toBe('• `cache` — no health checks configured');
    expect(lines.find((l) => l.includes('`brownie`'))).toBe('• `brownie` — no health checks configured');
    expect(JSON.stringify(messages[0]!.blocks)).toContain('Scheduled health report');
  });

  it('skips a slot, and records it, while the previous run of the job is still going, on any instance', async () => {
    const a = instance('instance-slow');
    const b = instance('instance-other');
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    const seen = healthRequests.length;
    const slow = a.scheduler.runNow('healthReport', slot('2026-01-16T09:00:00Z'));
    try {
      await expect.poll(() => healthRequests.length, { timeout: 10_000 }).toBeGreaterThan(seen);
      const [elsewhere, here] = [await b.scheduler.runNow('healthReport', slot('2026-01-17T09:00:00Z')), await a.scheduler.runNow('healthReport', slot('2026-01-18T09:00:00Z'))];
      expect(elsewhere.status).toBe('skipped');
      expect(here.status).toBe('skipped');
    } finally {
      release();
      hold = undefined;
    }
    expect((await slow).status).toBe('succeeded');
    expect((await b.scheduler.runNow('healthReport', slot('2026-01-19T09:00:00Z'))).status).toBe('succeeded');

    const rows = (await jobRuns(a.db, 'healthReport')).filter((r) => r.slot >= slot('2026-01-16T00:00:00Z'));
    expect(rows.map((r) => [r.slot.toISOString().slice(0, 10), r.status, r.claimed_by])).toEqual([
      ['2026-01-16', 'succeeded', 'instance-slow'],
      ['2026-01-17', 'skipped', 'instance-other'],
      ['2026-01-18', 'skipped', 'instance-slow'],
      ['2026-01-19', 'succeeded', 'instance-other'],
    ]);
    expect(rows[1]!.summary).toBe('skipped: the run of 2026-01-16T09:00:00.000Z (instance instance-slow) was still running');
    // Skipped slots ran nothing and posted nothing.
    const posts = await a.db.query<{ message_key: string }>(`SELECT message_key FROM outbox WHERE message_key >= 'job:healthReport:2026-01-16' AND message_key < 'job:healthReport:2026-01-20' ORDER BY message_key`);
    expect(posts.rows.map((r) => r.message_key)).toEqual(['job:healthReport:2026-01-16T09:00:00.000Z', 'job:healthReport:2026-01-19T09:00:00.000Z']);
  });

  it('takes over from a run whose instance died, once its deadline has passed', async () => {
    const a = instance('instance-survivor');
    await a.db.query(
      `INSERT INTO job_runs (job, slot, claimed_by, started_at, deadline_at, status) VALUES ('healthReport', '2026-01-20T09:00:00Z', 'instance-dead', now() - interval '1 hour', now() - interval '1 minute', 'running')`,
    );
    expect((await a.scheduler.runNow('healthReport', slot('2026-01-21T09:00:00Z'))).status).toBe('succeeded');
    const rows = (await jobRuns(a.db, 'healthReport')).filter((r) => r.slot >= slot('2026-01-20T00:00:00Z'));
    expect(rows.map((r) => [r.claimed_by, r.status])).toEqual([
      ['instance-dead', 'abandoned'],
      ['instance-survivor', 'succeeded'],
    ]);
    expect(rows[0]!.summary).toContain('instance instance-dead probably stopped');
  });

  requires('pg_dump').it("runs a scheduled backup through dispatch (a real pg_dump) and reports it in the service's channel", async () => {
    const a = instance('instance-backup');
    await drainToSlack(a.db);
    const before = slack.messages('C0DATA').length;
    const at = slot('2026-01-15T01:00:00Z'); // 02:00 in Berlin
    const result = await a.scheduler.runNow('backup:brownie:database', at);
    expect(result).toMatchObject({ status: 'succeeded', summary: 'backup done' });

    const [jobRun] = await jobRuns(a.db, 'backup:brownie:database');
    const runs = await a.db.query<{ ref: string; action_id: string; target: string; input: unknown; origin: string; actor_name: string; status: string }>(
      `SELECT ref, action_id, target, input, origin, actor_name, status FROM runs WHERE action_id = 'backup.start'`,
    );
    expect(runs.rows).toEqual([
      { ref: jobRun!.run_ref, action_id: 'backup.start', target: 'brownie', input: { service: 'brownie', target: 'database' }, origin: 'schedule', actor_name: 'schedule:backup:brownie:database', status: 'succeeded' },
    ]);
    const backups = await a.db.query<{ status: string; file: string; bytes: string; verified: boolean }>(`SELECT status, file, bytes, verified FROM backups WHERE service = 'brownie'`);
    expect(backups.rows).toHaveLength(1);
    expect(backups.rows[0]).toMatchObject({ status: 'succeeded', verified: true });
    expect(existsSync(backups.rows[0]!.file)).toBe(true);
    expect(Number(backups.rows[0]!.bytes)).toBeGreaterThan(1_000);

    await drainToSlack(a.db);
    const posted = slack.messages('C0DATA').slice(before);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.text).toMatch(/^✓ Backup `database` of `brownie` done in .* \(verified\)\./);
    expect(JSON.stringify(posted[0]!.blocks)).toContain('Scheduled backup `database` of `brownie` · `0 2 * * *` Europe/Berlin');
  });

  it('records a failed backup as failed and still reports it', async () => {
    const a = instance('instance-broken');
    await drainToSlack(a.db);
    const before = slack.messages('C0DATA').length;
    const result = await a.scheduler.runNow('backup:brownie:broken', slot('2026-01-15T01:30:00Z'));
    expect(result.status).toBe('failed');
    const [jobRun] = await jobRuns(a.db, 'backup:brownie:broken');
    expect(jobRun).toMatchObject({ status: 'failed', summary: 'backup.start ended failed' });
    const run = await a.db.query<{ status: string; origin: string }>('SELECT status, origin FROM runs WHERE ref = $1', [jobRun!.run_ref]);
    expect(run.rows).toEqual([{ status: 'failed', origin: 'schedule' }]);
    await drainToSlack(a.db);
    const posted = slack.messages('C0DATA').slice(before);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.text).toMatch(/^✗ Start backup of `brownie` failed: /);
  });

  it('schedules its jobs with node-cron on start and removes them on stop', async () => {
    const a = instance('instance-cron');
    expect(a.scheduler.jobs.map((j) => j.name)).toEqual(['healthReport', 'notificationRetention', 'backup:brownie:database', 'backup:brownie:broken']);
    const ours = () => [...getTasks().values()].filter((t) => t.name?.startsWith('switchboard:')).map((t) => [t.name, t.getStatus(), t.getNextRun() !== null]);
    a.scheduler.start();
    expect(ours()).toEqual([
      ['switchboard:healthReport', 'idle', true],
      ['switchboard:notificationRetention', 'idle', true],
      ['switchboard:backup:brownie:database', 'idle', true],
      ['switchboard:backup:brownie:broken', 'idle', true],
    ]);
    await a.scheduler.stop();
    expect(ours()).toEqual([]);
  });

  it('deletes notifications applied or given up more than 30 days ago, and keeps the rest', async () => {
    const a = instance('instance-retention');
    const days = (n: number) => new Date(Date.now() - n * 86_400_000);
    const rows = [
      ['old-applied', days(40), days(40), null],
      ['old-given-up', days(40), null, days(39)],
      ['old-pending', days(40), null, null],
      ['recent-applied', days(5), days(5), null],
    ] as const;
    for (const [groupKey, receivedAt, processedAt, failedAt] of rows) {
      await a.db.query(
        `INSERT INTO notifications (received_at, receiver, group_key, body_sha256, payload, processed_at, failed_at) VALUES ($1, 'retention', $2, $3, '{}', $4, $5)`,
        [receivedAt, groupKey, 'c'.repeat(64), processedAt, failedAt],
      );
    }
    const run = await a.scheduler.runNow('notificationRetention', slot('2026-01-15T03:30:00Z'));
    expect(run).toMatchObject({ status: 'succeeded', summary: 'deleted 2 notifications received more than 30d ago' });
    const { rows: kept } = await a.db.query<{ group_key: string }>(`SELECT group_key FROM notifications WHERE receiver = 'retention' ORDER BY group_key`);
    expect(kept.map((r) => r.group_key)).toEqual(['old-pending', 'recent-applied']);
  });

  it('refuses to run a job it does not schedule', async () => {
    const a = instance('instance-unknown');
    await expect(a.scheduler.runNow('nightlyReport', slot('2026-01-15T09:00:00Z'))).rejects.toThrow('no scheduled job "nightlyReport"');
  });
});
