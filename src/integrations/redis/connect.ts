import { Redis } from 'ioredis';
import { targetOfUrl } from '../health/probes/target.js';
import { describeServerError, withConnection } from '../with-connection.js';

export const DEFAULT_REDIS_TIMEOUT_MS = 5_000;

export interface RedisSession {
  /** What the caller is doing, for messages: "Reading circuit breaker `upstream`". */
  what: string;
  signal?: AbortSignal;
  /** Connect and per-command timeout. */
  timeoutMs?: number;
}

/**
 * Opens one connection, runs `work`, and always disconnects. Any failure that is not already an
 * IntegrationError becomes one naming host:port, never the password.
 */
export async function withRedis<T>(url: string, session: RedisSession, work: (client: Redis) => Promise<T>): Promise<T> {
  const timeoutMs = session.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    // One attempt: an operator waiting in Slack wants "connection refused" now, not after retries.
    retryStrategy: () => null,
    enableOfflineQueue: false,
    // A server still loading its dataset should answer with LOADING, which we report, not stall.
    enableReadyCheck: false,
    // CLIENT SETINFO would be one more round trip before the first command, and one more timeout
    // to wait through on a server that accepts connections but never answers.
    disableClientInfo: true,
  });
  // ioredis emits 'error' besides rejecting; unhandled, it would crash the bot. The emitted error
  // also carries the socket code (ECONNREFUSED) that the rejection often lacks.
  let socketError: Error | undefined;
  client.on('error', (error: Error) => {
    socketError = error;
  });
  return withConnection(
    {
      what: session.what,
      server: `Redis at ${targetOfUrl(url)}`,
      signal: session.signal,
      connect: () => client.connect(),
      close: () => client.disconnect(),
      describe: (error) => describeRedisError(socketError ?? error, url),
    },
    () => work(client),
  );
}

/** One line naming host:port, with the URL's password removed should a driver ever echo it. */
export function describeRedisError(error: unknown, url: string): string {
  return describeServerError(error, url, `Redis at ${targetOfUrl(url)}`);
}
