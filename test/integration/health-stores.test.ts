import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthChecker, HealthCheckConfig } from '../../src/integrations/health/index.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env.js';
import { requires } from '../helpers/requires.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
for (const url of [TEST_DATABASE_URL, TEST_REDIS_URL]) {
  if (!LOOPBACK.has(new URL(url).hostname)) throw new Error(`refusing a non-loopback test target: ${new URL(url).host}`);
}

const checker = createHealthChecker();
const parse = (raw: Record<string, unknown>) => HealthCheckConfig.parse(raw);

/** Accepts connections and never says a word, like a server stuck before its handshake. */
let silentServer: Server;
const silentSockets = new Set<Socket>();
let silentPort: number;
let closedPort: number;
/** Holds one extra connection open so the postgres count is at least 2 while a check runs. */
let holder: pg.Client;
let maxConnections: number;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  silentServer = createServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
  });
  silentPort = await listen(silentServer);
  const spare = createServer();
  closedPort = await listen(spare);
  await new Promise((resolve) => spare.close(resolve));

  holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await holder.connect();
  const { rows } = await holder.query<{ max_connections: string }>('SHOW max_connections');
  maxConnections = Number(rows[0]!.max_connections);
});

afterAll(async () => {
  await holder?.end();
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silentServer.close(resolve));
});

describe('tcp checks', () => {
  it('is ok when the port accepts and fails when it refuses', async () => {
    const results = await checker.check([
      parse({ name: 'open', kind: 'tcp', host: '127.0.0.1', port: silentPort }),
      parse({ name: 'closed', kind: 'tcp', host: '127.0.0.1', port: closedPort }),
    ]);
    expect(results).toMatchObject([
      { name: 'open', kind: 'tcp', status: 'ok', detail: `connected to 127.0.0.1:${silentPort}` },
      { name: 'closed', kind: 'tcp', status: 'fail', reason: `connection refused (127.0.0.1:${closedPort})` },
    ]);
  });
});

requires('redis')('redis checks', () => {
  it('PINGs the real Redis', async () => {
    const [result] = await checker.check([parse({ name: 'cache', kind: 'redis', url: TEST_REDIS_URL })]);
    expect(result).toMatchObject({ name: 'cache', kind: 'redis', status: 'ok', detail: 'PONG' });
  });

  it('fails on a closed port without leaking the password', async () => {
    const [result] = await checker.check([parse({ name: 'cache', kind: 'redis', url: `redis://app:s3cret-pw@127.0.0.1:${closedPort}/0` })]);
    expect(result).toMatchObject({ status: 'fail', reason: `connection refused (127.0.0.1:${closedPort})` });
    expect(JSON.stringify(result)).not.toContain('s3cret-pw');
  });

  it('reports a server that rejects the credentials', async () => {
    const url = new URL(TEST_REDIS_URL);
    url.username = 'nobody-here';
    url.password = 'wrong-pw';
    const [result] = await checker.check([parse({ name: 'cache', kind: 'redis', url: url.toString() })]);
    expect(result!.status).toBe('fail');
    expect(result!.reason).toMatch(/WRONGPASS|NOAUTH|ERR/);
    expect(JSON.stringify(result)).not.toContain('wrong-pw');
  });
});

describe('postgres checks', () => {
  it('reports connections in use against max_connections on the real PostgreSQL', async () => {
    const [result] = await checker.check([parse({ name: 'db', kind: 'postgres', url: TEST_DATABASE_URL, warnConnectionsPercent: 100 })]);
    expect(result).toMatchObject({ name: 'db', kind: 'postgres', status: 'ok', detail: expect.stringMatching(new RegExp(`^\\d+/${maxConnections} connections$`)) });
    const used = Number(/^(\d+)\//.exec(result!.detail!)![1]);
    // At least the check's own connection and the one this test holds.
    expect(used).toBeGreaterThanOrEqual(2);
  });

  it('warns once connections in use reach the threshold', async () => {
    // One connection's share of max_connections; two are open (ours and the check's), so this always warns.
    const onePercent = 100 / maxConnections;
    const [result] = await checker.check([parse({ name: 'db', kind: 'postgres', url: TEST_DATABASE_URL, warnConnectionsPercent: onePercent })]);
    expect(result).toMatchObject({ status: 'warn', detail: expect.stringMatching(/ connections$/), reason: expect.stringMatching(/% of connections in use \(warn at /) });
  });

  it('fails on a closed port without leaking the password', async () => {
    const [result] = await checker.check([parse({ name: 'db', kind: 'postgres', url: `postgres://app:s3cret-pw@127.0.0.1:${closedPort}/db` })]);
    expect(result).toMatchObject({ status: 'fail', reason: `connection refused (127.0.0.1:${closedPort})` });
    expect(JSON.stringify(result)).not.toContain('s3cret-pw');
  });

  it('closes its connection after every check', async () => {
    const countOurs = async () => {
      const { rows } = await holder.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'switchboard-health'");
      return rows[0]!.n;
    };
    await checker.check([parse({ name: 'db', kind: 'postgres', url: TEST_DATABASE_URL })]);
    // The backend may need a moment to leave pg_stat_activity after the client said goodbye.
    await expect.poll(countOurs, { timeout: 2_000 }).toBe(0);
  });
});

requires('redis')('servers that accept and never answer', () => {
  it('time out each check at its own timeout, in parallel', async () => {
    const started = Date.now();
    const results = await checker.check([
      parse({ name: 'cache', kind: 'redis', url: `redis://127.0.0.1:${silentPort}`, timeout: '1s' }),
      parse({ name: 'db', kind: 'postgres', url: `postgres://app:s3cret-pw@127.0.0.1:${silentPort}/db`, timeout: '1s' }),
      parse({ name: 'real-cache', kind: 'redis', url: TEST_REDIS_URL }),
    ]);
    expect(results).toMatchObject([
      { name: 'cache', status: 'fail', reason: 'timed out after 1s' },
      { name: 'db', status: 'fail', reason: 'timed out after 1s' },
      { name: 'real-cache', status: 'ok' },
    ]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(JSON.stringify(results)).not.toContain('s3cret-pw');
  });
});
