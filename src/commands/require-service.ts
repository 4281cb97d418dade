import type { Catalog, ServiceConfig } from '../config/catalog-schema.js';
import { UserError } from './errors.js';
import { didYouMean } from './suggest.js';

/** The catalog entry for a service id, or a user error that names the closest ids. */
export function requireService(catalog: Catalog, id: string): ServiceConfig {
  const service = Object.hasOwn(catalog.services, id) ? catalog.services[id] : undefined;
  if (!service) throw new UserError('SERVICE_NOT_FOUND', { service: id, hint: didYouMean(id, Object.keys(catalog.services)) });
  return service;
}

/**
 * Picks one named entry of a service's list (a circuit breaker, a backup): the named one, or
 * the only one when no name is given.
 */
export function pickNamed<T extends { name: string }>(
  serviceId: string,
  list: readonly T[] | undefined,
  name: string | undefined,
  what: { label: string; key: string; usage: string },
): T {
  if (!list || list.length === 0) throw new UserError('NOT_CONFIGURED', { service: serviceId, what: `${what.label}s`, key: what.key });
  const known = list.map((item) => `\`${item.name}\``).join(', ');
  if (name === undefined) {
    if (list.length === 1) return list[0]!;
    throw new UserError('TARGET_AMBIGUOUS', { service: serviceId, what: what.label, known, usage: what.usage });
  }
  const found = list.find((item) => item.name === name);
  if (!found) throw new UserError('TARGET_NOT_FOUND', { service: serviceId, what: what.label, name, known });
  return found;
}
