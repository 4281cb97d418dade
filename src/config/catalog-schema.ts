import { z } from 'zod';
import { ActionId, CatalogId, SlackUserId, SlackUsergroupId } from './catalog-id.js';
import { DefaultRouteConfig, RoutesConfig } from '../alerts/route-schema.js';
import { AlertmanagerConfig } from '../integrations/alertmanager/schema.js';
import { BackupList } from '../integrations/backup/schema.js';
import { HealthCheckList } from '../integrations/health/schema.js';
import { PostgresTargetConfig } from '../integrations/postgres/schema.js';
import { CircuitBreakerList } from '../integrations/redis/circuit-breaker-schema.js';
import { RestartConfig } from '../integrations/restart/schema.js';
import { Duration } from './duration.js';

export { CatalogId } from './catalog-id.js';


const RedisTargetConfig = z
  .object({
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    warnPercent: z.number().min(1).max(100).default(80),
    critPercent: z.number().min(1).max(100).default(90),
  })
  .strict();

export const Permission = z.enum(['read', 'operate', 'admin'], { message: 'must be read, operate or admin' });

export const ServiceSchema = z
  .object({
    name: z.string().min(1).max(150),
    description: z.string().max(1_000).optional(),
    health: HealthCheckList.default([]),
    restart: RestartConfig.optional(),
    circuitBreakers: CircuitBreakerList.optional(),
    backups: BackupList.optional(),
    /** The PostgreSQL server of this service, for connection and long-query diagnostics. */
    postgres: PostgresTargetConfig.optional(),
    /** The Redis of this service, for memory diagnostics. */
    redis: RedisTargetConfig.optional(),
    /** Raise (or lower) the permission an action needs on this service. */
    permissions: z.record(ActionId, Permission).optional(),
    /** Minimum time between two successful runs of an action on this service. */
    cooldowns: z.record(ActionId, Duration).optional(),
  })
  .strict();

const RoleSchema = z
  .object({
    permissions: z.array(Permission).min(1),
    users: z.array(SlackUserId).default([]),
    usergroups: z.array(SlackUsergroupId).default([]),
  })
  .strict();

export const CatalogSchema = z
  .object({
    version: z.literal(1, { message: 'must be 1 (the only catalog version so far)' }),
    services: z.record(CatalogId, ServiceSchema).refine((s) => Object.keys(s).length > 0, {
      message: 'list at least one service',
    }),
    roles: z.record(CatalogId, RoleSchema).default({}),
    /** Where alerts go: the first route whose labels match, else `defaultRoute`. */
    routes: RoutesConfig.default([]),
    defaultRoute: DefaultRouteConfig.optional(),
    /** Alertmanager's API, for silences and "is it still firing?". */
    alertmanager: AlertmanagerConfig.optional(),
  })
  .strict();

export type Catalog = z.output<typeof CatalogSchema>;
export type ServiceConfig = z.output<typeof ServiceSchema>;
export type PermissionName = z.output<typeof Permission>;
