import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IntegrationError } from '../../src/integrations/integration-error.js';
import { parseRedisInfo, redisBgsave } from '../../src/integrations/redis/index.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { leaveRedisSnapshotAsFound } from '../helpers/redis-snapshot.js';
import { requires } from '../helpers/requires.js';
import { testRedisClient } from '../helpers/test-redis-client.js';

if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(TEST_REDIS_URL).hostname)) throw new Error('refusing a non-loopback test Redis');

const PREFIX = `switchboard-test:${randomUUID()}`;

let admin: Redis;
let originalDir: string;
let tempDir: string | undefined;
/** Whether the Redis process (on this machine) can write its snapshot where it is configured to. */
let dirWritable: boolean;
let restoreSnapshot: (() => Promise<void>) | undefined;

const persistence = async () => parseRedisInfo(await admin.info('persistence'));
const configGet = async (name: string) => ((await admin.config('GET', name)) as [string, string])[1];

async function waitForNoSave() {
  await expect.poll(async () => (await persistence()).rdb_bgsave_in_progress, { timeout: 30_000, interval: 100 }).toBe('0');
}

beforeAll(async () => {
  admin = testRedisClient();
  originalDir = await configGet('dir');
  // Prefer a directory of our own, removed afterwards. Redis 7 refuses CONFIG SET dir unless
  // enable-protected-configs allows it; then the server's own dir is used, writable or not.
  const candidate = await mkdtemp(join(tmpdir(), 'switchboard-bgsave-'));
  try {
    await admin.config('SET', 'dir', candidate);
    tempDir = candidate;
  } catch {
    await rm(candidate, { recursive: true, force: true });
    restoreSnapshot = await leaveRedisSnapshotAsFound(TEST_REDIS_URL);
  }
  dirWritable = await access(await configGet('dir'), constants.W_OK).then(
    () => true,
    () => false,
  );
});

afterAll(async () => {
  // A save started by the timeout test may still be writing into the directory we remove.
  await waitForNoSave().catch(() => {});
  if (tempDir) {
    await admin.config('SET', 'dir', originalDir);
    await rm(tempDir, { recursive: true, force: true });
  }
  await restoreSnapshot?.();
  const leftovers: string[] = [];
  for await (const keys of admin.scanStream({ match: `${PREFIX}:*`, count: 1_000 })) leftovers.push(...(keys as string[]));
  if (leftovers.length) await admin.del(...leftovers);
  await admin.quit();
});

requires('redis')('redisBgsave against the real Redis', () => {
  it('runs a real BGSAVE and reports what Redis recorded', async () => {
    await waitForNoSave();
    const lastSaveBefore = await admin.lastsave();
    const result = await redisBgsave(TEST_REDIS_URL, { timeoutMs: 20_000 });
    const info = await persistence();
    // Truthful either way: the result is what Redis itself recorded for the save.
    expect(result.status).toBe(info.rdb_last_bgsave_status);
    expect(result.status).toBe(dirWritable ? 'ok' : 'err');
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    if (result.status === 'ok') {
      expect(result.lastSave.getTime() / 1_000).toBeGreaterThanOrEqual(lastSaveBefore);
      expect(result).not.toHaveProperty('reason');
      if (tempDir) await expect(access(join(tempDir, await configGet('dbfilename')))).resolves.toBeUndefined();
    } else {
      expect(result.reason).toMatch(/could not write the snapshot/);
    }
  });

  it('reports progress, lets a second caller join a running save, and times out truthfully', async (ctx) => {
    // A failing save ends before it reaches the keys, so it cannot be slowed down.
    if (!dirWritable) ctx.skip();
    await waitForNoSave();
    const originalDelay = await configGet('rdb-key-save-delay');
    // Microseconds per key in the forked child: with our five keys, the save takes at least 0.5 s.
    await admin.config('SET', 'rdb-key-save-delay', '100000');
    try {
      await Promise.all(Array.from({ length: 5 }, (_, i) => admin.set(`${PREFIX}:slow-save:${i}`, 'x')));
      const progress: number[] = [];
      const first = redisBgsave(TEST_REDIS_URL, { timeoutMs: 20_000, pollMs: 50, onProgress: (elapsed) => progress.push(elapsed) });
      await expect.poll(async () => (await persistence()).rdb_bgsave_in_progress, { timeout: 5_000, interval: 20 }).toBe('1');

      const joined = redisBgsave(TEST_REDIS_URL, { timeoutMs: 20_000, pollMs: 50 });
      const impatient = await redisBgsave(TEST_REDIS_URL, { timeoutMs: 1 }).catch((e: unknown) => e);
      expect(impatient).toBeInstanceOf(IntegrationError);
      expect((impatient as Error).message).toMatch(/^BGSAVE on Redis at .+ did not finish within 1ms; it keeps running in Redis\.$/);

      const [a, b] = await Promise.all([first, joined]);
      expect(a).toMatchObject({ status: 'ok', joined: false });
      expect(b).toMatchObject({ status: 'ok', joined: true });
      expect(a.durationMs).toBeGreaterThanOrEqual(400);
      expect(progress.length).toBeGreaterThan(2);
      expect(progress).toEqual([...progress].sort((x, y) => x - y));
    } finally {
      await admin.config('SET', 'rdb-key-save-delay', originalDelay);
    }
  });

  it('names host:port and hides the password when Redis is unreachable', async () => {
    const error = await redisBgsave('redis://:pw-s3cret@127.0.0.1:1/0', { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrationError);
    expect((error as Error).message).toBe('BGSAVE on Redis at 127.0.0.1:1 failed: connection refused (127.0.0.1:1)');
    expect(JSON.stringify(error)).not.toContain('pw-s3cret');
  });
});
