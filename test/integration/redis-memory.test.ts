import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatRedisMemory, redisMemory } from '../../src/integrations/redis/index.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { requires } from '../helpers/requires.js';
import { testRedisClient } from '../helpers/test-redis-client.js';

if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(TEST_REDIS_URL).hostname)) throw new Error('refusing a non-loopback test Redis');

let admin: Redis;

beforeAll(() => {
  admin = testRedisClient();
});

afterAll(async () => {
  await admin.quit();
});

requires('redis')('redisMemory against the real Redis', () => {
  it('reads the INFO memory and stats fields', async () => {
    const summary = await redisMemory(TEST_REDIS_URL);
    expect(summary.usedBytes).toBeGreaterThan(0);
    expect(summary.peakBytes).toBeGreaterThanOrEqual(summary.usedBytes * 0.5);
    expect(summary.fragmentationRatio).toBeGreaterThan(0);
    expect(summary.evictionPolicy).toMatch(/^(noeviction|allkeys-|volatile-)/);
    expect(summary.evictedKeys).toBeGreaterThanOrEqual(0);
    const [, maxmemory] = (await admin.config('GET', 'maxmemory')) as [string, string];
    expect(summary.maxBytes).toBe(Number(maxmemory));
    if (summary.maxBytes === 0) expect(summary).not.toHaveProperty('usedPercent');
    expect(formatRedisMemory(summary)).toMatch(/^\*Memory:\* /);
  });

  it('computes the percent while a limit is set, then restores the old limit', async () => {
    const [, previous] = (await admin.config('GET', 'maxmemory')) as [string, string];
    // Far above what the test server holds, so nobody else's writes start failing meanwhile.
    const limit = 8 * 1024 ** 3;
    await admin.config('SET', 'maxmemory', String(limit));
    try {
      const summary = await redisMemory(TEST_REDIS_URL);
      expect(summary.maxBytes).toBe(limit);
      expect(summary.usedPercent).toBeCloseTo((summary.usedBytes / limit) * 100, 6);
      expect(formatRedisMemory(summary)).toContain('of 8.00 GiB (');
    } finally {
      await admin.config('SET', 'maxmemory', previous);
    }
    const [, restored] = (await admin.config('GET', 'maxmemory')) as [string, string];
    expect(restored).toBe(previous);
  });

  it('names host:port and hides the password when Redis is unreachable', async () => {
    const error = await redisMemory('redis://:pw-s3cret@127.0.0.1:1/0').catch((e: unknown) => e);
    expect((error as Error).message).toBe('Reading Redis memory failed: connection refused (127.0.0.1:1)');
    expect(JSON.stringify(error)).not.toContain('pw-s3cret');
  });
});
