import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../store/db.js';
import { createOutboxRepository } from '../store/outbox-repository.js';

/**
 * The Slack outbox as Prometheus sees it, read at scrape time from the store (so every instance's
 * backlog counts): how many writes wait, and how long the oldest has waited. The outbox never gives
 * up on a transient failure, so a Slack outage or a stuck sender shows here, not as lost pages.
 */
export function registerOutboxMetrics(registry: Registry, db: Db): void {
  const repo = createOutboxRepository(db);
  let last = { pending: 0, oldestSeconds: 0 };
  let reading: Promise<typeof last> | undefined;
  const read = () => {
    reading ??= repo
      .oldestPending()
      .then((value) => (last = value))
      // A scrape while the store is unreachable shows the last known values rather than failing /metrics.
      .catch(() => last)
      .finally(() => (reading = undefined));
    return reading;
  };
  new Gauge({
    name: 'switchboard_outbox_pending',
    help: 'Slack writes (posts, replies, edits, DMs) committed but not yet delivered.',
    registers: [registry],
    async collect() {
      this.set((await read()).pending);
    },
  });
  new Gauge({
    name: 'switchboard_outbox_oldest_pending_seconds',
    help: 'How long the oldest undelivered Slack write has waited (0 when none waits). Alert when above 120.',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestSeconds);
    },
  });
}
