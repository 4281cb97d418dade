import { z } from 'zod';
import { CatalogId } from '../../config/catalog-schema.js';
import { Duration, formatDuration } from '../../config/duration.js';
import { formatConnections, formatKillOutcome, formatLongQueries } from '../../integrations/postgres/diagnostics-format.js';
import { formatRedisMemory } from '../../integrations/redis/index.js';
import { defineAction, type ActionDeps } from '../action.js';
import { UserError } from '../errors.js';
import { requireService } from '../require-service.js';
import { ownValue } from '../../config/own.js';

const ServiceInput = z.object({ service: CatalogId }).strict();
const QueryInput = z.object({ service: CatalogId, olderThan: Duration.optional() }).strict();

function postgresOf(deps: ActionDeps, serviceId: string) {
  const service = requireService(deps.catalog, serviceId);
  if (!service.postgres) throw new UserError('NOT_CONFIGURED', { service: serviceId, what: 'PostgreSQL for diagnostics', key: 'postgres' });
  return service.postgres;
}

const olderThanFlag = { 'older-than': 'minimum query age, e.g. 5m (default: the service\'s longQueryThreshold)' };

export const dbConnections = defineAction({
  id: 'db.connections',
  title: 'Database connections',
  description: "connections of a service's PostgreSQL by state, against max_connections",
  risk: 'read',
  permission: 'read',
  input: ServiceInput,
  timeoutMs: 20_000,
  target: (input) => input.service,
  slash: { verb: 'db connections', args: [{ name: 'service', kind: 'service' }], examples: ['db connections brownie-metadata'] },
  async run({ input, deps, signal }) {
    const summary = await deps.postgres.connections(postgresOf(deps, input.service), { signal });
    return { ok: true, summary: `${summary.total}/${summary.max} connections`, reply: { text: `*Connections of \`${input.service}\`*\n${formatConnections(summary)}` } };
  },
});

export const dbLongQueries = defineAction({
  id: 'db.long-queries',
  title: 'Long queries',
  description: "queries of a service's database running longer than a threshold",
  risk: 'read',
  permission: 'read',
  input: QueryInput,
  timeoutMs: 20_000,
  target: (input) => input.service,
  slash: { verb: 'db long-queries', args: [{ name: 'service', kind: 'service' }], flags: olderThanFlag, examples: ['db long-queries selextract --older-than 5m'] },
  async run({ input, deps, signal }) {
    const target = postgresOf(deps, input.service);
    const olderThanMs = input.olderThan ?? target.longQueryThreshold;
    const queries = await deps.postgres.longQueries(target, { olderThanMs, signal });
    return { ok: true, summary: `${queries.length} queries over ${formatDuration(olderThanMs)}`, reply: { text: `*\`${input.service}\`*\n${formatLongQueries(queries, olderThanMs)}` } };
  },
});

export const dbKillLongQueries = defineAction({
  id: 'db.kill-long-queries',
  title: 'Kill long queries',
  description: "terminate the queries of a service's database running longer than a threshold",
  risk: 'destructive',
  permission: 'operate',
  input: QueryInput,
  timeoutMs: 30_000,
  target: (input) => input.service,
  confirmText: (input, deps) => {
    const threshold = input.olderThan ?? ownValue(deps.catalog.services, input.service)?.postgres?.longQueryThreshold;
    return threshold ? `This terminates (pg_terminate_backend) every query in its database running longer than ${formatDuration(threshold)}.` : '';
  },
  slash: { verb: 'db kill-long-queries', args: [{ name: 'service', kind: 'service' }], flags: olderThanFlag, examples: ['db kill-long-queries selextract --older-than 10m'] },
  async run({ input, deps, signal }) {
    const target = postgresOf(deps, input.service);
    const olderThanMs = input.olderThan ?? target.longQueryThreshold;
    const outcome = await deps.postgres.killLongQueries(target, { olderThanMs, signal });
    return {
      ok: outcome.failed.length === 0,
      summary: `terminated ${outcome.terminated.length}, failed ${outcome.failed.length} (over ${formatDuration(olderThanMs)})`,
      reply: { text: `*\`${input.service}\`*\n${formatKillOutcome(outcome, olderThanMs)}`, public: true },
    };
  },
});

export const redisMemory = defineAction({
  id: 'redis.memory',
  title: 'Redis memory',
  description: "memory of a service's Redis against maxmemory, with its eviction policy",
  risk: 'read',
  permission: 'read',
  input: ServiceInput,
  timeoutMs: 15_000,
  target: (input) => input.service,
  slash: { verb: 'redis memory', args: [{ name: 'service', kind: 'service' }], examples: ['redis memory api-gateway'] },
  async run({ input, deps, signal }) {
    const service = requireService(deps.catalog, input.service);
    if (!service.redis) throw new UserError('NOT_CONFIGURED', { service: input.service, what: 'Redis for diagnostics', key: 'redis' });
    const summary = await deps.redis.memory(service.redis.url, { signal });
    const text = formatRedisMemory(summary, { warnPercent: service.redis.warnPercent, critPercent: service.redis.critPercent });
    return { ok: true, summary: `${summary.usedPercent ?? '?'}% used`, reply: { text: `*Redis of \`${input.service}\`*\n${text}` } };
  },
});
