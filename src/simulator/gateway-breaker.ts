import type { Redis } from 'ioredis';

/** circuit_breaker_state as the gateway runbook documents it: 1 = CLOSED, 2 = OPEN, 3 = HALF_OPEN. */
export const BREAKER_STATE = { CLOSED: 1, OPEN: 2, HALF_OPEN: 3 } as const;
export type BreakerState = keyof typeof BREAKER_STATE;

// The runbook's "tolerant" tuning: CIRCUIT_BREAKER_FAILURE_THRESHOLD=20 would take minutes of
// demo traffic, so the failure threshold is its aggressive 3; the reset timeout is the tolerant
// 300 s, so an opened breaker stays open long enough to alert and to be reset by hand.
const FAILURE_THRESHOLD = 3;
const RESET_TIMEOUT_SECONDS = 300;

/**
 * The gateway's circuit breaker, kept where the real one keeps it: a Redis hash
 * (`state`, `failures`, `opened_at`). Deleting the key is a reset, as in the runbook.
 */
export function createGatewayBreaker(redis: Redis, key: string) {
  const read = async (): Promise<{ state: BreakerState; failures: number; openedAt: number }> => {
    const fields = await redis.hgetall(key);
    const state = (['CLOSED', 'OPEN', 'HALF_OPEN'] as const).find((s) => s === (fields.state ?? '').toUpperCase()) ?? 'CLOSED';
    return { state, failures: Number(fields.failures ?? 0) || 0, openedAt: Number(fields.opened_at ?? 0) || 0 };
  };

  return {
    read,
    /** Whether a call may go to the upstream now; an open breaker lets one trial through after the reset timeout. */
    async allow(): Promise<boolean> {
      const { state, openedAt } = await read();
      if (state !== 'OPEN') return true;
      if (Date.now() / 1000 - openedAt < RESET_TIMEOUT_SECONDS) return false;
      await redis.hset(key, 'state', 'HALF_OPEN');
      return true;
    },
    async success(): Promise<void> {
      const { state, failures } = await read();
      if (state !== 'CLOSED' || failures > 0) await redis.hset(key, { state: 'CLOSED', failures: 0 });
    },
    async failure(): Promise<void> {
      const { state } = await read();
      const failures = await redis.hincrby(key, 'failures', 1);
      if (state === 'HALF_OPEN' || failures >= FAILURE_THRESHOLD) await open(failures);
    },
    /** Trips the breaker at once, as a burst of upstream failures would. */
    trip: () => open(FAILURE_THRESHOLD * 5),
  };

  async function open(failures: number): Promise<void> {
    await redis.hset(key, { state: 'OPEN', failures, opened_at: Math.floor(Date.now() / 1000) });
  }
}

export type GatewayBreaker = ReturnType<typeof createGatewayBreaker>;
