import type { Redis } from 'ioredis';
import { formatDuration } from '../../config/duration.js';
import { targetOfUrl } from '../health/probes/target.js';
import { IntegrationError } from '../integration-error.js';
import { withRedis } from './connect.js';
import { infoNumber, parseRedisInfo } from './info.js';

export interface RedisBgsaveOptions {
  signal?: AbortSignal;
  /** How long to wait for the save to finish; the save itself goes on in Redis after a timeout. */
  timeoutMs: number;
  /** How often to read `INFO persistence`; default 250 ms. */
  pollMs?: number;
  /** Called on every poll while the save runs, for a "still saving… 12s" update. */
  onProgress?: (elapsedMs: number) => void;
  /** Connect and per-command timeout; default 5 s. */
  commandTimeoutMs?: number;
}

export interface RedisBgsaveResult {
  /** LASTSAVE after the save: the time of the last successful save. */
  lastSave: Date;
  /** `rdb_last_bgsave_status`: whether this save reached the disk. */
  status: 'ok' | 'err';
  durationMs: number;
  /** True when a save was already running and we waited for it instead of starting one. */
  joined: boolean;
  /** Why the save failed, when `status` is 'err'. */
  reason?: string;
}

/**
 * Runs `BGSAVE` and waits until Redis reports it finished, then tells whether it succeeded.
 * A save already in progress is waited for rather than treated as an error.
 */
export function redisBgsave(url: string, options: RedisBgsaveOptions): Promise<RedisBgsaveResult> {
  const target = targetOfUrl(url);
  const session = { what: `BGSAVE on Redis at ${target}`, ...(options.signal ? { signal: options.signal } : {}), ...(options.commandTimeoutMs ? { timeoutMs: options.commandTimeoutMs } : {}) };
  return withRedis(url, session, async (client) => {
    const lastSaveBefore = await client.lastsave();
    const started = Date.now();
    const start = await startBgsave(client, target);
    if (start === 'fork-failed') {
      return { lastSave: new Date(lastSaveBefore * 1_000), status: 'err', durationMs: Date.now() - started, joined: false, reason: 'Redis could not fork the background save process (see the Redis log; often too little memory or vm.overcommit_memory=0)' };
    }
    const pollMs = options.pollMs ?? 250;
    for (;;) {
      const persistence = parseRedisInfo(await client.info('persistence'));
      const elapsed = Date.now() - started;
      // `rdb_bgsave_in_progress` drops to 0 only after Redis has recorded the child's result
      // (status and LASTSAVE), so from here on the fields describe the save we started or joined.
      if (infoNumber(persistence, 'rdb_bgsave_in_progress') === 0) return finished(client, persistence, elapsed, start === 'joined');
      options.onProgress?.(elapsed);
      if (elapsed + pollMs > options.timeoutMs) {
        throw new IntegrationError(`BGSAVE on Redis at ${target} did not finish within ${formatDuration(options.timeoutMs)}; it keeps running in Redis.`, {
          hint: 'Check `INFO persistence` (rdb_bgsave_in_progress, rdb_last_bgsave_status) in a while, or wait longer next time.',
        });
      }
      await sleep(pollMs, options.signal);
    }
  });
}

type Start = 'started' | 'joined' | 'fork-failed';

async function startBgsave(client: Redis, target: string): Promise<Start> {
  try {
    await client.bgsave();
    return 'started';
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/already in progress/i.test(message)) return 'joined';
    // Redis 2.6–6.x and 7.x word this differently; all mean another child (an AOF rewrite) is running.
    if (/AOF|child process is active|append only/i.test(message)) {
      throw new IntegrationError(`Redis at ${target} refused BGSAVE: an AOF rewrite (or another child process) is running.`, {
        cause: error,
        hint: 'Wait for `aof_rewrite_in_progress:0` in `INFO persistence` and try again.',
      });
    }
    // A bare "ERR" is the reply when fork() fails; Redis records it as a failed save.
    if (message.trim() === 'ERR') return 'fork-failed';
    throw new IntegrationError(`Redis at ${target} refused BGSAVE: ${message.split('\n')[0]}`, { cause: error });
  }
}

async function finished(client: Redis, persistence: Record<string, string>, durationMs: number, joined: boolean): Promise<RedisBgsaveResult> {
  // LASTSAVE moves only on success and counts whole seconds: a save in the same second as the
  // previous one leaves it unchanged, so the status field, not LASTSAVE, says whether it worked.
  const lastSave = new Date((await client.lastsave()) * 1_000);
  if (persistence.rdb_last_bgsave_status === 'ok') return { lastSave, status: 'ok', durationMs, joined };
  return { lastSave, status: 'err', durationMs, joined, reason: 'Redis could not write the snapshot (see the Redis log; often the `dir` is not writable or the disk is full)' };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    // On abort, withRedis has disconnected; the next command fails and is reported as cancelled.
    signal?.addEventListener('abort', done, { once: true });
  });
}
