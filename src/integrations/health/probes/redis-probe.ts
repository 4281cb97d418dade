import { Redis } from 'ioredis';
import type { RedisHealthCheck } from '../schema.js';
import type { Probe } from '../types.js';
import { onAbort } from './on-abort.js';

/** Connects once, sends PING, expects PONG; never retries, never queues, always disconnects. */
export const redisProbe: Probe<RedisHealthCheck> = async (check, { signal, timeoutMs }) => {
  const client = new Redis(check.url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    // A health check must not stall on a server that is loading its dataset; it should report it.
    enableReadyCheck: false,
    // disconnect() only half-closes; a hung server never answers the FIN, so destroy the socket soon after.
    disconnectTimeout: 100,
  });
  // ioredis emits 'error' besides rejecting; an unhandled 'error' event would crash the bot.
  // The emitted error carries the socket code (ECONNREFUSED) that the rejection often lacks.
  let lastError: Error | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
  });
  const unsubscribe = onAbort(signal, () => client.disconnect());
  try {
    await client.connect();
    const reply = await client.ping();
    return reply === 'PONG'
      ? { status: 'ok', detail: 'PONG' }
      : { status: 'fail', detail: String(reply), reason: `PING answered ${JSON.stringify(reply)}, expected "PONG"` };
  } catch (error) {
    throw lastError ?? error;
  } finally {
    unsubscribe();
    client.disconnect();
  }
};
