import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { testRedisClient } from './test-redis-client.js';

/**
 * Tests that run a real BGSAVE make the test Redis write its snapshot file. Call this before
 * them: the returned function, called after, waits for a save still running and removes the
 * file if there was none before, so the machine's Redis is left as it was found. Only for a
 * Redis on this machine (the file must be reachable here); otherwise it does nothing.
 */
export async function leaveRedisSnapshotAsFound(url: string): Promise<() => Promise<void>> {
  const admin = testRedisClient(url);
  try {
    const [, dir] = (await admin.config('GET', 'dir')) as [string, string];
    const [, name] = (await admin.config('GET', 'dbfilename')) as [string, string];
    const file = join(dir, name);
    const existed = await access(file).then(
      () => true,
      () => false,
    );
    return async () => {
      if (existed) return;
      const again = testRedisClient(url);
      try {
        for (let i = 0; i < 300 && /rdb_bgsave_in_progress:1/.test(await again.info('persistence')); i++) await new Promise((r) => setTimeout(r, 100));
      } finally {
        again.disconnect();
      }
      await rm(file, { force: true });
    };
  } finally {
    admin.disconnect();
  }
}
