import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startChildDaemon, waitUntil } from './child-daemon.js';

export type TestRedis = { url: string; origin: string; stop(): Promise<void> } | { missing: string };

/**
 * The Redis the run uses: `REDIS_URL` (default redis://127.0.0.1:6379) if it answers; else a
 * throwaway redis-server on a free port when one is installed; else none, and the tests that
 * need one are skipped.
 */
export async function provisionRedis(env: NodeJS.ProcessEnv, redisServer: string | undefined): Promise<TestRedis> {
  const url = env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (await answersPing(url)) return { url, origin: env.REDIS_URL ? 'REDIS_URL' : 'the default address (127.0.0.1:6379)', stop: async () => {} };
  if (!redisServer) return { missing: `nothing answers at ${url} and no redis-server was found` };
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-test-redis-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const own = `redis://127.0.0.1:${port}`;
    // Snapshots (the BGSAVE tests) land in the throwaway folder; nothing is kept across restarts.
    const daemon = startChildDaemon(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], {
      logFile: join(dir, 'redis.log'),
    });
    try {
      await waitUntil(daemon, 'The tests’ redis-server', () => answersPing(own), 20_000);
    } catch (error) {
      if (attempt < 3 && /address already in use/i.test(daemon.logTail())) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      url: own,
      origin: `a throwaway ${redisServer} (nothing answered at ${url})`,
      async stop() {
        await daemon.stop('SIGTERM');
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** Whether a Redis answers PING at `url` within a second (an error reply such as NOAUTH counts: it is there). */
function answersPing(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(/^[+-]/.test(chunk.toString())));
  });
}
