import type { Catalog, ServiceConfig } from '../config/catalog-schema.js';
import { UserError } from './errors.js';
import { didYouMean } from './suggest.js';

/** The catalog entry for a service id, or a user error that names the closest ids. */
export function requireService(catalog: Catalog, id: string): ServiceConfig {
  const service = Object.hasOwn(catalog.services, id) ? catalog.services[id] : undefined;
  if (!service) throw new UserError('SERVICE_NOT_FOUND', { service: id, hint: didYouMean(id, Object.keys(catalog.services)) });
  return service;
}
