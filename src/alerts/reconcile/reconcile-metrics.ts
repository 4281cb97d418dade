import { Counter, Gauge, type Registry } from 'prom-client';

/** What reconciliation reports to /metrics. */
export interface ReconcileMetrics {
  /** Alerts resolved because no reachable Alertmanager had them any more. */
  resolvedGone(count: number): void;
  /** A reconciliation that could ask no Alertmanager at all (nothing was resolved). */
  unreachable(): void;
}

/** Registers the reconciliation metrics; `reachability` (from the store, so every instance agrees) is read at each scrape. */
export function createReconcileMetrics(registry: Registry, reachability: () => Promise<Array<{ url: string; reachable: boolean }>>): ReconcileMetrics {
  const resolved = new Counter({
    name: 'switchboard_reconcile_resolved_alerts_total',
    help: 'Alerts resolved by reconciliation: no reachable Alertmanager had them any more, and no resolution had been notified.',
    registers: [registry],
  });
  const blind = new Counter({
    name: 'switchboard_reconcile_unreachable_total',
    help: 'Reconciliations that reached no configured Alertmanager; nothing is resolved while none answers.',
    registers: [registry],
  });
  new Gauge({
    name: 'switchboard_alertmanager_up',
    help: "Whether each configured Alertmanager answered reconciliation's last API call (1) or not (0).",
    labelNames: ['alertmanager'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { url, reachable } of await reachability()) this.set({ alertmanager: url }, reachable ? 1 : 0);
    },
  });
  return { resolvedGone: (count) => resolved.inc(count), unreachable: () => blind.inc() };
}
