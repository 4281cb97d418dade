import { routeFor } from '../alerts/match-route.js';
import type { Catalog } from '../config/catalog-schema.js';

/**
 * Where a job's result about one service goes: the channel of the route an alert of that
 * service would take (`service` label), which falls back to `defaultRoute`.
 */
export function serviceChannel(catalog: Catalog, service: string): string | undefined {
  return routeFor(catalog, { service })?.channel || undefined;
}

/** Where a report about many services goes: the job's own `channel`, else the `defaultRoute` channel. */
export function reportChannel(catalog: Catalog, configured: string | undefined): string | undefined {
  return configured ?? catalog.defaultRoute?.channel;
}
