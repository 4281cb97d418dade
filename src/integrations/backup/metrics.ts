import { Gauge, type Registry } from 'prom-client';

/** The latest finished backup of one service target, as the store reports it. */
export interface BackupStatus {
  service: string;
  target: string;
  lastStatus: 'succeeded' | 'failed';
  lastSuccessAt?: Date;
}

/**
 * Adds `backup_success` and `backup_last_success_timestamp_seconds` to `registry`, read from
 * `source` at every scrape, so every replica reports what the store holds rather than what it ran.
 * A failing source fails the scrape: Prometheus then shows `up == 0` instead of series that silently vanish.
 */
export function registerBackupMetrics(registry: Registry, source: () => Promise<BackupStatus[]>): void {
  // Both gauges are collected concurrently in one scrape; they share one read of the store.
  let pending: Promise<BackupStatus[]> | undefined;
  const load = () => {
    pending ??= source().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  new Gauge({
    name: 'backup_success',
    help: '1 when the latest finished backup of the target succeeded, 0 when it failed.',
    labelNames: ['service', 'target'] as const,
    registers: [registry],
    async collect() {
      const statuses = await load();
      this.reset();
      for (const s of statuses) this.set({ service: s.service, target: s.target }, s.lastStatus === 'succeeded' ? 1 : 0);
    },
  });

  new Gauge({
    name: 'backup_last_success_timestamp_seconds',
    help: 'Unix time when the last successful backup of the target finished; absent if it never succeeded.',
    labelNames: ['service', 'target'] as const,
    registers: [registry],
    async collect() {
      const statuses = await load();
      this.reset();
      for (const s of statuses) {
        if (s.lastSuccessAt) this.set({ service: s.service, target: s.target }, s.lastSuccessAt.getTime() / 1000);
      }
    },
  });
}
