import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IntegrationError } from '../../src/integrations/integration-error.js';
import { CircuitBreakerConfig, createRedisCircuitBreakers } from '../../src/integrations/redis/index.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { requires } from '../helpers/requires.js';
import { testRedisClient } from '../helpers/test-redis-client.js';

if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(TEST_REDIS_URL).hostname)) throw new Error('refusing a non-loopback test Redis');

const PREFIX = `switchboard-test:${randomUUID()}`;
const KEY = `${PREFIX}:api-gateway:circuit-breaker`;
const REDIS_TARGET = `${new URL(TEST_REDIS_URL).hostname}:${new URL(TEST_REDIS_URL).port || 6379}`;
const SIBLING = `${PREFIX}:api-gateway:rate-limit:192.168.1.100`;

let admin: Redis;
let upstream: Server;
let upstreamUrl: string;
let closedPort: number;
const breakers = createRedisCircuitBreakers();

const breaker = (raw: Record<string, unknown> = {}) => CircuitBreakerConfig.parse({ name: 'upstream', redis: TEST_REDIS_URL, key: KEY, ...raw });
const unix = (iso: string) => String(Date.parse(iso) / 1_000);

beforeAll(async () => {
  admin = testRedisClient();
  upstream = createServer((request, response) => {
    response.statusCode = request.url === '/proxy/ok' ? 200 : 503;
    response.end(request.url === '/proxy/ok' ? 'ok' : 'circuit open');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  closedPort = (spare.address() as AddressInfo).port;
  await new Promise((resolve) => spare.close(resolve));
});

afterAll(async () => {
  // Only this run's keys, found by their random prefix.
  const leftovers: string[] = [];
  for await (const keys of admin.scanStream({ match: `${PREFIX}:*`, count: 1_000 })) leftovers.push(...(keys as string[]));
  if (leftovers.length) await admin.del(...leftovers);
  await admin.quit();
  await new Promise((resolve) => upstream.close(resolve));
});

async function seedOpenHash() {
  await admin.del(KEY);
  await admin.hset(KEY, 'state', 'open', 'failures', '12', 'opened_at', unix('2024-05-29T16:02:00Z'));
}

requires('redis')('status', () => {
  it('reads the seed gateway hash', async () => {
    await seedOpenHash();
    await admin.expire(KEY, 300);
    const status = await breakers.status(breaker());
    expect(status).toMatchObject({ exists: true, state: 'open', failures: 12, openedAt: new Date('2024-05-29T16:02:00Z'), fields: { state: 'open', failures: '12' } });
    expect(status.ttlSeconds).toBeGreaterThan(290);
  });

  it('reads an absent key as closed', async () => {
    await admin.del(KEY);
    expect(await breakers.status(breaker())).toEqual({ exists: false, state: 'closed', fields: {} });
  });

  it('refuses a key of another type, saying what it found', async () => {
    await admin.del(KEY);
    await admin.set(KEY, 'open');
    const error = await breakers.status(breaker()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrationError);
    expect((error as IntegrationError).message).toBe(
      `Circuit breaker \`upstream\`: key \`${KEY}\` in Redis at ${REDIS_TARGET} is a string, but the catalog says hash. Nothing was changed.`,
    );
    expect((error as IntegrationError).options.hint).toBe('If the gateway stores its breaker as a string, set `type: string` for `upstream` in the catalog.');
  });

  it('names host:port and never the password when Redis is unreachable', async () => {
    const unreachable = breaker({ redis: `redis://:s3cret-pw@127.0.0.1:${closedPort}/2` });
    const error = await breakers.status(unreachable).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrationError);
    expect((error as Error).message).toBe(`Reading circuit breaker \`upstream\` failed: connection refused (127.0.0.1:${closedPort})`);
    expect(JSON.stringify(error)).not.toContain('s3cret-pw');
  });

  it('gives up on a server that never answers when the caller cancels', async () => {
    const silent = createNetServer((socket) => sockets.push(socket));
    const sockets: Socket[] = [];
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const error = await breakers.status(breaker({ redis: `redis://127.0.0.1:${port}` }), { signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
      expect((error as Error).message).toBe(`Reading circuit breaker \`upstream\` on Redis at 127.0.0.1:${port} was cancelled before it finished.`);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

requires('redis')('reset: delete', () => {
  it('removes the breaker key and only it', async () => {
    await seedOpenHash();
    await admin.hset(SIBLING, 'tokens', '5');
    const outcome = await breakers.reset(breaker());
    expect(outcome.before).toMatchObject({ exists: true, state: 'open', failures: 12 });
    expect(outcome.after).toEqual({ exists: false, state: 'closed', fields: {} });
    expect(outcome).not.toHaveProperty('probe');
    expect(await admin.exists(KEY)).toBe(0);
    expect(await admin.hgetall(SIBLING)).toEqual({ tokens: '5' });
  });

  it('refuses a wrong-typed key and leaves it alone', async () => {
    await admin.del(KEY);
    await admin.set(KEY, 'open');
    await expect(breakers.reset(breaker())).rejects.toThrow(/is a string, but the catalog says hash/);
    expect(await admin.get(KEY)).toBe('open');
  });
});

requires('redis')('reset: close', () => {
  it('writes state closed and failures 0 into a hash, keeping other fields', async () => {
    await seedOpenHash();
    const outcome = await breakers.reset(breaker({ reset: 'close' }));
    expect(outcome.after).toMatchObject({ exists: true, state: 'closed', failures: 0 });
    expect(await admin.hgetall(KEY)).toEqual({ state: 'closed', failures: '0', opened_at: unix('2024-05-29T16:02:00Z') });
  });

  it("keeps the gateway's own field names and letter case", async () => {
    await admin.del(KEY);
    await admin.hset(KEY, 'status', 'OPEN', 'failure_count', '9');
    await breakers.reset(breaker({ reset: 'close' }));
    expect(await admin.hgetall(KEY)).toEqual({ status: 'CLOSED', failure_count: '0' });
  });

  it('SETs a string breaker to "closed" and keeps its TTL', async () => {
    await admin.del(KEY);
    await admin.set(KEY, 'open', 'EX', 600);
    const outcome = await breakers.reset(breaker({ type: 'string', reset: 'close' }));
    expect(outcome.before).toMatchObject({ exists: true, state: 'open', fields: { value: 'open' } });
    expect(outcome.after).toMatchObject({ exists: true, state: 'closed', fields: { value: 'closed' } });
    expect(await admin.get(KEY)).toBe('closed');
    expect(await admin.ttl(KEY)).toBeGreaterThan(590);
  });

  it('refuses to overwrite a JSON string breaker', async () => {
    await admin.del(KEY);
    const json = JSON.stringify({ state: 'open', failures: 4 });
    await admin.set(KEY, json);
    await expect(breakers.reset(breaker({ type: 'string', reset: 'close' }))).rejects.toThrow(/holds JSON/);
    expect(await admin.get(KEY)).toBe(json);
  });

  it('creates nothing when the key is absent', async () => {
    await admin.del(KEY);
    const outcome = await breakers.reset(breaker({ reset: 'close' }));
    expect(outcome.before.exists).toBe(false);
    expect(outcome.after.exists).toBe(false);
    expect(await admin.exists(KEY)).toBe(0);
  });
});

requires('redis')('reset with a probe', () => {
  it('reports the upstream answering as expected', async () => {
    await seedOpenHash();
    const outcome = await breakers.reset(breaker({ probe: { url: `${upstreamUrl}/proxy/ok` } }));
    expect(outcome.after.exists).toBe(false);
    expect(outcome.probe).toEqual({ ok: true, status: 200, latencyMs: expect.any(Number) });
  });

  it('reports an unexpected status without undoing the reset', async () => {
    await seedOpenHash();
    const outcome = await breakers.reset(breaker({ probe: { url: `${upstreamUrl}/proxy/fail`, timeout: '2s' } }));
    expect(outcome.after.exists).toBe(false);
    expect(outcome.probe).toEqual({ ok: false, status: 503, latencyMs: expect.any(Number), reason: 'HTTP 503 (expected 200)' });
  });

  it('reports a refused connection', async () => {
    await seedOpenHash();
    const outcome = await breakers.reset(breaker({ probe: { url: `http://127.0.0.1:${closedPort}/proxy/ok` } }));
    expect(outcome.probe).toMatchObject({ ok: false, reason: `connection refused (127.0.0.1:${closedPort})` });
  });
});
