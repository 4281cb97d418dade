import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from './env.js';

/**
 * An ioredis client for test setup and checks that gives up instead of retrying forever: if the
 * test Redis goes away, commands fail at once with the cause, and no `Unhandled error event`
 * floods the output. (The run's global setup already skips files whose Redis is missing.)
 */
export function testRedisClient(url: string = TEST_REDIS_URL): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => (attempt > 3 ? null : 200),
  });
  let reported = false;
  client.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    console.error(`test Redis at ${url}: ${error.message}`);
  });
  return client;
}
