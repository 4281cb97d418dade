/** A per-method limit: at most `limit` calls in any `windowMs`. */
export interface MethodTier {
  limit: number;
  windowMs: number;
}

export type MethodTiers = Readonly<Record<string, MethodTier>>;

/**
 * Slack's rate tiers for the methods the outbox calls besides chat.postMessage (paced per channel
 * in the store). Tier 3 is "50+ per minute" per workspace; 50 keeps under it without a 429.
 */
export const SLACK_METHOD_TIERS: MethodTiers = Object.freeze({
  'conversations.open': { limit: 50, windowMs: 60_000 },
  'chat.update': { limit: 50, windowMs: 60_000 },
  'conversations.history': { limit: 50, windowMs: 60_000 },
  'conversations.replies': { limit: 50, windowMs: 60_000 },
});

/** Calls this instance may start now, per method; a 429 holds the method for its Retry-After. */
export interface MethodGate {
  /** How many calls of `method` may start now (Infinity for a method without a tier). */
  available(method: string): number;
  /**
   * Counts one call of `method` started now; call the returned function when Slack answers, so the
   * call counts from then (Slack counts it when it arrives, which may be any time until the answer).
   */
  take(method: string): () => void;
  /** Slack said to wait: no call of `method` before `until` (epoch ms). */
  hold(method: string, until: number): void;
  /** When the next call of `method` may start (epoch ms). */
  nextFreeAt(method: string): number;
}

/** A sliding window per method: the window never holds more than the tier's calls, as Slack counts them. */
export function createMethodGate(tiers: MethodTiers, now: () => number): MethodGate {
  const started = new Map<string, number[]>();
  const held = new Map<string, number>();

  const recent = (method: string, t: number, tier: MethodTier): number[] => {
    const times = (started.get(method) ?? []).filter((at) => at > t - tier.windowMs);
    started.set(method, times);
    return times;
  };

  const gate: MethodGate = {
    available(method) {
      const t = now();
      if ((held.get(method) ?? 0) > t) return 0;
      const tier = tiers[method];
      if (!tier) return Number.POSITIVE_INFINITY;
      return Math.max(0, tier.limit - recent(method, t, tier).length);
    },
    take(method) {
      const tier = tiers[method];
      if (!tier) return () => {};
      const t = now();
      const stamp = [t];
      recent(method, t, tier).push(t);
      return () => {
        const times = started.get(method);
        const at = times?.indexOf(stamp[0]!) ?? -1;
        if (times && at >= 0) {
          times.splice(at, 1);
          times.push(now());
          times.sort((a, b) => a - b);
        }
        stamp[0] = now();
      };
    },
    hold(method, until) {
      held.set(method, Math.max(held.get(method) ?? 0, until));
    },
    nextFreeAt(method) {
      const t = now();
      const heldUntil = held.get(method) ?? 0;
      const tier = tiers[method];
      if (!tier) return Math.max(t, heldUntil);
      const times = recent(method, t, tier);
      const windowFree = times.length < tier.limit ? t : times[times.length - tier.limit]! + tier.windowMs;
      return Math.max(t, heldUntil, windowFree);
    },
  };
  return gate;
}
