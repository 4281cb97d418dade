import { Gauge, type Registry } from 'prom-client';
import type { Queryable } from '../store/db.js';

/**
 * The intake queue as Prometheus sees it: how many stored notifications wait to be applied, and
 * for how long the oldest has. Both read at scrape time from the store (its pending-rows index),
 * so they count every instance's backlog.
 */
export function registerNotificationQueueMetrics(registry: Registry, db: Queryable): void {
  let last = { pending: 0, oldestSeconds: 0 };
  // A scrape collects both gauges at once: they share the read in flight.
  let reading: Promise<typeof last> | undefined;
  const query = async () => {
    try {
      const { rows } = await db.query<{ pending: number; oldest: number | null }>(
        `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(received_at))::float8 AS oldest
           FROM notifications WHERE processed_at IS NULL AND failed_at IS NULL`,
      );
      last = { pending: rows[0]!.pending, oldestSeconds: Math.max(0, rows[0]!.oldest ?? 0) };
    } catch {
      // A scrape while the store is unreachable shows the last known values rather than failing /metrics.
    }
    return last;
  };
  const read = () => {
    reading ??= query().finally(() => (reading = undefined));
    return reading;
  };
  new Gauge({
    name: 'switchboard_notifications_pending',
    help: 'Alertmanager notifications stored and answered but not yet applied to their incidents.',
    registers: [registry],
    async collect() {
      this.set((await read()).pending);
    },
  });
  new Gauge({
    name: 'switchboard_notifications_oldest_pending_seconds',
    help: 'How long the oldest notification not yet applied has waited (0 when none waits).',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestSeconds);
    },
  });
}
