import { z } from 'zod';
import { ActionId, CatalogId, SlackUserId, SlackUsergroupId } from './catalog-id.js';
import { DefaultRouteConfig, RoutesConfig } from '../alerts/route-schema.js';
import { EscalationPoliciesConfig, escalationReferenceIssues, SchedulesConfig, SeverityPoliciesConfig } from '../alerts/escalation/schema.js';
import { StormConfig } from '../alerts/storm-schema.js';
import { AlertmanagerConfig } from '../integrations/alertmanager/schema.js';
import { BackupList } from '../integrations/backup/schema.js';
import { HealthCheckList } from '../integrations/health/schema.js';
import { PostgresTargetConfig } from '../integrations/postgres/schema.js';
import { CircuitBreakerList } from '../integrations/redis/circuit-breaker-schema.js';
import { RestartConfig } from '../integrations/restart/schema.js';
import { JobsConfig } from '../jobs/schema.js';
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

/** The keys whose values the escalation reference check reads; it runs once they parsed. */
const ESCALATION_KEYS = new Set(['schedules', 'escalationPolicies', 'severityPolicies', 'routes', 'defaultRoute']);

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
    /** When a channel gets too many new incidents at once, they share one digest message. */
    storm: StormConfig.prefault({}),
    /** Alertmanager's API, for silences and "is it still firing?". */
    alertmanager: AlertmanagerConfig.optional(),
    /** Scheduled jobs: health report, certificate check, escalation audit, notification retention (backups keep their own `schedule`). */
    jobs: JobsConfig.prefault({}),
    /** On-call rotations that escalation levels can target. */
    schedules: SchedulesConfig.default({}),
    /** Escalation ladders, named by routes (`escalation:`) and by `severityPolicies`. */
    escalationPolicies: EscalationPoliciesConfig.default({}),
    /** The policy of an incident whose route names none, by its severity. */
    severityPolicies: SeverityPoliciesConfig.default({}),
  })
  .strict()
  .superRefine(
    (catalog, ctx) => {
      const policyRefs = catalog.routes.flatMap((route, index) => (route.escalation ? [{ path: ['routes', index, 'escalation'], policy: route.escalation }] : []));
      if (catalog.defaultRoute?.escalation) policyRefs.push({ path: ['defaultRoute', 'escalation'], policy: catalog.defaultRoute.escalation });
      for (const issue of escalationReferenceIssues(catalog.schedules, catalog.escalationPolicies, catalog.severityPolicies, policyRefs)) {
        ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      }
    },
    // Also when other parts of the catalog have problems, so every problem is reported at once.
    { when: (payload) => !payload.issues.some((issue) => !issue.path?.length || ESCALATION_KEYS.has(String(issue.path[0]))) },
  );

export type Catalog = z.output<typeof CatalogSchema>;
export type ServiceConfig = z.output<typeof ServiceSchema>;
export type PermissionName = z.output<typeof Permission>;
