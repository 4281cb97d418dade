import { randomUUID } from 'node:crypto';
import type { Catalog } from '../config/catalog-schema.js';
import { firingAlertnames, insertAutomation } from './automation-store.js';
import type { IncidentChanged } from './incident-desk.js';

/**
 * Schedules a route's `automations` inside the transaction of the change that made them due: an
 * incident opening, or alerts (re)joining it, with a rule's alertname. The run waits in the store
 * until `after`; the automation runner decides then whether it still should run. Call it after
 * the projector, which records the incident's route.
 */
export function createAutomationScheduler(options: { catalog: Catalog; now: () => Date; newId?: () => string }): IncidentChanged {
  const { catalog, now } = options;
  const newId = options.newId ?? randomUUID;
  const routes = new Map(catalog.routes.filter((r) => r.automations.length > 0).map((r) => [r.name, r]));
  const services = new Set(Object.keys(catalog.services));

  return async (tx, incidentId, events) => {
    if (routes.size === 0) return;
    const fingerprints = events.flatMap((e) => (e.kind === 'opened' ? e.data.firing : e.kind === 'alerts_firing' ? e.data.fingerprints : []));
    if (fingerprints.length === 0) return;
    const { rows } = await tx.query<{ route_name: string | null; service: string | null }>('SELECT route_name, service FROM incidents WHERE id = $1', [incidentId]);
    const route = rows[0]?.route_name ? routes.get(rows[0].route_name) : undefined;
    if (!route) return;
    const alertnames = await firingAlertnames(tx, incidentId, fingerprints);
    const labelService = rows[0]?.service && services.has(rows[0].service) ? rows[0].service : undefined;
    const service = route.service ?? labelService ?? null;
    const at = now();
    for (const rule of route.automations) {
      if (!alertnames.has(rule.alertname)) continue;
      await insertAutomation(tx, {
        id: newId(),
        incidentId,
        routeName: route.name,
        alertname: rule.alertname,
        actionId: rule.action,
        target: service,
        input: service ? { service } : {},
        maxPerHour: rule.maxPerHour,
        afterMs: rule.after,
        createdAt: at,
        dueAt: new Date(at.getTime() + rule.after),
      });
    }
  };
}
