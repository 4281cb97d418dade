import { Redis } from 'ioredis';
import { describeError } from '../health/describe-error.js';
import { onAbort } from '../health/probes/on-abort.js';
import { targetOfUrl } from '../health/probes/target.js';
import { redact } from '../health/redact.js';
import { IntegrationError } from '../integration-error.js';

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
  const target = targetOfUrl(url);
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
  const signal = session.signal;
  // ioredis settles pending commands only once the socket has closed, which a stuck server can
  // delay by seconds; the abort therefore ends the wait at once and the socket closes behind it.
  let cancel: (reason: unknown) => void = () => {};
  const cancelled = new Promise<never>((_, reject) => {
    cancel = reject;
  });
  const unsubscribe = signal
    ? onAbort(signal, () => {
        cancel(signal.reason);
        client.disconnect();
      })
    : () => {};
  const running = client.connect().then(() => work(client));
  running.catch(() => {});
  try {
    return await Promise.race([running, cancelled]);
  } catch (error) {
    if (error instanceof IntegrationError) throw error;
    if (signal?.aborted) throw new IntegrationError(`${session.what} on Redis at ${target} was cancelled before it finished.`, { cause: error });
    throw new IntegrationError(`${session.what} failed: ${describeRedisError(socketError ?? error, url)}`, { cause: error });
  } finally {
    unsubscribe();
    client.disconnect();
  }
}

/** One line naming host:port, with the URL's password removed should a driver ever echo it. */
export function describeRedisError(error: unknown, url: string): string {
  const target = targetOfUrl(url);
  const reason = redact(describeError(error, target), passwordsOf(url));
  return reason.includes(target) ? reason : `${reason} (Redis at ${target})`;
}

function passwordsOf(url: string): string[] {
  try {
    const password = new URL(url).password;
    if (!password) return [];
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // Keep the raw form only.
    }
    return [...new Set([password, decoded])].sort((a, b) => b.length - a.length);
  } catch {
    return [];
  }
}
