import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationError } from '../../src/integrations/integration-error.js';
import { connections, killLongQueries, longQueries } from '../../src/integrations/postgres/diagnostics.js';
import { PostgresTargetConfig } from '../../src/integrations/postgres/schema.js';
import { TEST_DATABASE_URL } from '../helpers/env.js';

if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(TEST_DATABASE_URL).hostname)) throw new Error('refusing a non-loopback test PostgreSQL');

const RUN = randomBytes(4).toString('hex');
/** Every session this file opens has an application_name matching this, so cleanup finds them all. */
const OURS = `switchboard-test-%-${RUN}`;
const app = (what: string) => `switchboard-test-${what}-${RUN}`;
const OTHER_DB = `switchboard_diag_${RUN}`;
const VICTIM = `switchboard_victim_${RUN}`;
const KILLER = `switchboard_killer_${RUN}`;

const target = PostgresTargetConfig.parse({ url: TEST_DATABASE_URL, longQueryThreshold: '1s' });
const withUser = (user: string, database?: string) => {
  const url = new URL(TEST_DATABASE_URL);
  url.username = user;
  url.password = '';
  if (database) url.pathname = `/${database}`;
  return url.toString();
};

interface Sleeper {
  client: pg.Client;
  pid: number;
  /** Settles when pg_sleep ends: rejects when the backend is terminated. */
  running: Promise<unknown>;
}

const sleepers: Sleeper[] = [];
let admin: pg.Client;

async function startSleeper(url: string, applicationName: string): Promise<Sleeper> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  client.on('error', () => {});
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const running = client.query('SELECT pg_sleep(30)');
  running.catch(() => {});
  // Wait until the server shows it running, so ages are measured from a known start.
  await waitFor(async () => (await admin.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [rows[0]!.pid])).rows[0]?.state === 'active');
  const sleeper = { client, pid: rows[0]!.pid, running };
  sleepers.push(sleeper);
  return sleeper;
}

const isAlive = async (pid: number) => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 1;
/** Like expect.poll, usable in hooks too. */
async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await sleep(20);
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: app('admin') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${OTHER_DB}`);
  await admin.query(`CREATE ROLE ${VICTIM} LOGIN`);
  await admin.query(`CREATE ROLE ${KILLER} LOGIN IN ROLE pg_read_all_stats`);
});

afterAll(async () => {
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()', [OURS]);
  await Promise.all(sleepers.map((sleeper) => sleeper.client.end().catch(() => {})));
  await admin.query(`DROP DATABASE IF EXISTS ${OTHER_DB} WITH (FORCE)`);
  // The killer's and victim's backends must be gone before their roles can be dropped.
  await waitFor(async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE usename IN ($1, $2)', [VICTIM, KILLER])).rowCount === 0);
  await admin.query(`DROP ROLE IF EXISTS ${VICTIM}`);
  await admin.query(`DROP ROLE IF EXISTS ${KILLER}`);
  await admin.end();
});

describe('long queries', () => {
  let old: Sleeper;
  let otherDb: Sleeper;

  beforeAll(async () => {
    [old, otherDb] = await Promise.all([startSleeper(TEST_DATABASE_URL, app('old')), startSleeper(withUser(new URL(TEST_DATABASE_URL).username, OTHER_DB), app('otherdb'))]);
    await sleep(1_500);
  });

  it('counts connections on the whole server', async () => {
    const summary = await connections(target);
    const { rows } = await admin.query<{ max_connections: string }>('SHOW max_connections');
    expect(summary.max).toBe(Number(rows[0]!.max_connections));
    // The two sleepers, the admin client and the diagnostics' own connection at least.
    expect(summary.total).toBeGreaterThanOrEqual(4);
    expect(summary.byState.active).toBeGreaterThanOrEqual(3);
    expect(summary.total).toBe(Object.values(summary.byState).reduce((a, b) => a + b, 0));
    expect(summary.usedPercent).toBeCloseTo((summary.total / summary.max) * 100, 6);
    expect(summary.byApplication.length).toBeGreaterThan(0);
    expect(summary.byApplication.length).toBeLessThanOrEqual(5);
  });

  it('finds the query older than the threshold in the target database only', async () => {
    const found = await longQueries(target, { olderThanMs: 1_000, applicationLike: OURS });
    expect(found).toEqual([{ pid: old.pid, durationMs: expect.any(Number), user: new URL(TEST_DATABASE_URL).username, application: app('old'), state: 'active', query: 'SELECT pg_sleep(30)' }]);
    expect(found[0]!.durationMs).toBeGreaterThanOrEqual(1_400);
    // Without the application filter it is there too, and the other database's sleeper still is not.
    const all = await longQueries(target, { olderThanMs: 1_000 });
    expect(all.map((q) => q.pid)).toContain(old.pid);
    expect(all.map((q) => q.pid)).not.toContain(otherDb.pid);
  });

  it('uses the target threshold by default', async () => {
    const strict = PostgresTargetConfig.parse({ url: TEST_DATABASE_URL, longQueryThreshold: '1m' });
    expect(await longQueries(strict, { applicationLike: OURS })).toEqual([]);
  });

  it('lists without terminating on a dry run', async () => {
    const outcome = await killLongQueries(target, { olderThanMs: 1_000, applicationLike: OURS, dryRun: true });
    expect(outcome).toMatchObject({ dryRun: true, terminated: [], failed: [] });
    expect(outcome.candidates.map((q) => q.pid)).toEqual([old.pid]);
    expect(await isAlive(old.pid)).toBe(true);
  });

  it('terminates exactly the old query in the target database', async () => {
    const young = await startSleeper(TEST_DATABASE_URL, app('young'));
    const outcome = await killLongQueries(target, { olderThanMs: 1_000, applicationLike: OURS });
    expect(outcome.terminated).toEqual([{ pid: old.pid, durationMs: expect.any(Number), user: new URL(TEST_DATABASE_URL).username, query: 'SELECT pg_sleep(30)' }]);
    expect(outcome.failed).toEqual([]);
    await expect(old.running).rejects.toThrow(/terminating connection due to administrator command/);
    // Younger than the threshold, or in another database: untouched.
    expect(await isAlive(young.pid)).toBe(true);
    expect(await isAlive(otherDb.pid)).toBe(true);
  });
});

describe('terminating without the privilege', () => {
  it('reports per backend that the role needs pg_signal_backend, or superuser for a superuser', async () => {
    const victim = await startSleeper(withUser(VICTIM), app('priv-victim'));
    const superuserQuery = await startSleeper(TEST_DATABASE_URL, app('priv-superuser'));
    await sleep(1_200);
    const asKiller = PostgresTargetConfig.parse({ url: withUser(KILLER), longQueryThreshold: '1s' });
    const outcome = await killLongQueries(asKiller, { applicationLike: `switchboard-test-priv-%-${RUN}` });
    expect(outcome.terminated).toEqual([]);
    expect(outcome.failed).toEqual(
      expect.arrayContaining([
        { pid: victim.pid, reason: expect.stringMatching(/the role needs pg_signal_backend/) },
        { pid: superuserQuery.pid, reason: expect.stringMatching(/only a superuser may terminate a superuser/) },
      ]),
    );
    expect(outcome.failed).toHaveLength(2);
    expect(await isAlive(victim.pid)).toBe(true);
  });
});

describe('failures', () => {
  let silent: Server;
  const silentSockets = new Set<Socket>();
  let silentPort: number;
  let closedPort: number;

  beforeAll(async () => {
    silent = createServer((socket) => {
      silentSockets.add(socket);
      socket.on('close', () => silentSockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as AddressInfo).port;
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    closedPort = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
  });

  afterAll(async () => {
    for (const socket of silentSockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('names host:port and never the password when the server is unreachable', async () => {
    const unreachable = PostgresTargetConfig.parse({ url: `postgres://app:s3cret-pw@127.0.0.1:${closedPort}/app` });
    const error = await connections(unreachable).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrationError);
    expect((error as Error).message).toBe(`Counting PostgreSQL connections failed: connection refused (127.0.0.1:${closedPort})`);
    expect(JSON.stringify(error)).not.toContain('s3cret-pw');
  });

  it('gives up at the connect timeout on a server that never answers', async () => {
    const stuck = PostgresTargetConfig.parse({ url: `postgres://app@127.0.0.1:${silentPort}/app`, timeout: '500ms' });
    const started = Date.now();
    await expect(longQueries(stuck)).rejects.toThrow(IntegrationError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops waiting as soon as the caller cancels', async () => {
    const stuck = PostgresTargetConfig.parse({ url: `postgres://app@127.0.0.1:${silentPort}/app`, timeout: '30s' });
    const started = Date.now();
    const error = await killLongQueries(stuck, { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`Terminating long-running queries on PostgreSQL at 127.0.0.1:${silentPort}/app was cancelled before it finished.`);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
