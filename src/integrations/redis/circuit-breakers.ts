import type { Redis } from 'ioredis';
import { targetOfUrl } from '../health/probes/target.js';
import { IntegrationError } from '../integration-error.js';
import { runCircuitProbe, type CircuitProbeResult } from './circuit-breaker-probe.js';
import type { CircuitBreaker } from './circuit-breaker-schema.js';
import {
  absentCircuit,
  circuitStatusFromFields,
  circuitStatusFromString,
  FAILURE_FIELDS,
  pick,
  STATE_FIELDS,
  type CircuitStatus,
} from './circuit-breaker-status.js';
import { withRedis } from './connect.js';

export interface CircuitResetOutcome {
  before: CircuitStatus;
  after: CircuitStatus;
  /** Present when the catalog configures a probe; it runs after the reset. */
  probe?: CircuitProbeResult;
}

/** Port used by the circuit actions: reads and resets a catalog circuit breaker, touching only its key. */
export interface CircuitBreakers {
  status(breaker: CircuitBreaker, options?: { signal?: AbortSignal }): Promise<CircuitStatus>;
  reset(breaker: CircuitBreaker, options?: { signal?: AbortSignal }): Promise<CircuitResetOutcome>;
}

export interface RedisCircuitBreakersOptions {
  /** Connect and per-command timeout; default 5 s. */
  timeoutMs?: number;
  /** Wall clock in ms, for the probe's latency. */
  now?: () => number;
}

/** The Redis adapter of {@link CircuitBreakers}: one short-lived connection per call. */
export function createRedisCircuitBreakers(options: RedisCircuitBreakersOptions = {}): CircuitBreakers {
  const now = options.now ?? Date.now;
  const session = (what: string, signal: AbortSignal | undefined) => ({ what, ...(signal ? { signal } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });

  return {
    status(breaker, { signal } = {}) {
      return withRedis(breaker.redis, session(`Reading circuit breaker \`${breaker.name}\``, signal), (client) => readStatus(client, breaker));
    },

    async reset(breaker, { signal } = {}) {
      const { before, after } = await withRedis(breaker.redis, session(`Resetting circuit breaker \`${breaker.name}\``, signal), async (client) => {
        const before = await readStatus(client, breaker);
        // An absent key already reads as closed; writing one would only invent state the gateway never had.
        if (before.exists) {
          if (breaker.reset === 'delete') await client.del(breaker.key);
          else await close(client, breaker, before);
        }
        return { before, after: await readStatus(client, breaker) };
      });
      if (!breaker.probe) return { before, after };
      return { before, after, probe: await runCircuitProbe(breaker.probe, signal, now) };
    },
  };
}

/** TYPE, value and TTL in one MULTI, so the three describe the same moment. */
async function readStatus(client: Redis, breaker: CircuitBreaker): Promise<CircuitStatus> {
  const multi = client.multi().type(breaker.key).ttl(breaker.key);
  const replies = await (breaker.type === 'hash' ? multi.hgetall(breaker.key) : multi.get(breaker.key)).exec();
  if (!replies) throw new IntegrationError(`Reading circuit breaker \`${breaker.name}\` was interrupted (the transaction was discarded); try again.`);
  const [[, type], [, ttl], [valueError, value]] = replies as [[Error | null, string], [Error | null, number], [Error | null, unknown]];
  if (type === 'none') return absentCircuit();
  if (type !== breaker.type) throw wrongType(breaker, type);
  if (valueError) throw valueError;
  const ttlSeconds = typeof ttl === 'number' && ttl >= 0 ? ttl : undefined;
  if (breaker.type === 'hash') return circuitStatusFromFields(value as Record<string, string>, ttlSeconds);
  return circuitStatusFromString(String(value), ttlSeconds);
}

function wrongType(breaker: CircuitBreaker, found: string): IntegrationError {
  const where = `Redis at ${targetOfUrl(breaker.redis)}`;
  const fixable = found === 'hash' || found === 'string';
  return new IntegrationError(
    `Circuit breaker \`${breaker.name}\`: key \`${breaker.key}\` in ${where} is a ${found}, but the catalog says ${breaker.type}. Nothing was changed.`,
    {
      hint: fixable
        ? `If the gateway stores its breaker as a ${found}, set \`type: ${found}\` for \`${breaker.name}\` in the catalog.`
        : `Check that \`key\` names the circuit breaker: a ${found} is not a breaker state.`,
    },
  );
}

/**
 * "close" keeps the gateway's own field names and letter case (`status`/`failure_count`,
 * "CLOSED"), so the gateway reads back what it would have written itself.
 */
async function close(client: Redis, breaker: CircuitBreaker, before: CircuitStatus): Promise<void> {
  if (breaker.type === 'hash') {
    const state = pick(before.fields, STATE_FIELDS);
    const failures = pick(before.fields, FAILURE_FIELDS);
    await client.hset(breaker.key, state?.name ?? 'state', closedLike(state?.value), failures?.name ?? 'failures', '0');
    return;
  }
  // Re-read the raw value: the parsed fields cannot tell a plain "open" from JSON holding a `value` field.
  const value = await client.get(breaker.key);
  if (value === null) return;
  if (value.trim().startsWith('{')) {
    throw new IntegrationError(
      `Circuit breaker \`${breaker.name}\`: key \`${breaker.key}\` holds JSON, and \`reset: close\` only writes a plain "closed". Nothing was changed.`,
      { hint: `Use \`reset: delete\` for \`${breaker.name}\`, which removes the key as the runbook does.` },
    );
  }
  // KEEPTTL: a breaker that expires on its own should still expire.
  await client.set(breaker.key, closedLike(value), 'KEEPTTL');
}

function closedLike(previous: string | undefined): string {
  return previous !== undefined && previous === previous.toUpperCase() && /[A-Z]/.test(previous) ? 'CLOSED' : 'closed';
}
