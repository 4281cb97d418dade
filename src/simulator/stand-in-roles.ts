import type { Redis } from 'ioredis';
import type pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Condition } from './conditions.js';
import { BREAKER_STATE, type GatewayBreaker } from './gateway-breaker.js';
import type { Mode } from './seed-systems.js';
import type { StandInConfig } from './simulator-plan.js';
import { createTraffic } from './traffic.js';

export interface Answer {
  status: number;
  body: unknown;
}

export interface RoleDeps {
  config: StandInConfig;
  registry: Registry;
  mode: () => Mode;
  /** The system's simulated conditions, read at each use. */
  conditions: () => ReadonlySet<Condition>;
  redis?: Redis;
  db?: pg.Pool;
  breaker?: GatewayBreaker;
}

/** What one stand-in answers (path → answer) and the traffic it pretends to serve each second. */
export interface Role {
  routes: Record<string, (path: string) => Promise<Answer>>;
  tick(): Promise<void>;
}

type Health = 'healthy' | 'unhealthy';

const check = async (probe: (() => Promise<unknown>) | undefined, simulatedDown: boolean): Promise<Health | undefined> =>
  !probe ? undefined : simulatedDown ? 'unhealthy' : probe().then(() => 'healthy' as const, () => 'unhealthy' as const);
// A simulated outage is reported without asking the real server, which stays up.
const redisHealth = (deps: RoleDeps) => check(deps.redis ? () => deps.redis!.ping() : undefined, deps.conditions().has('redis-down'));
const databaseHealth = (deps: RoleDeps) => check(deps.db ? () => deps.db!.query('SELECT 1') : undefined, deps.conditions().has('postgres-down'));

/** A health document: `status` is unhealthy when the stand-in is set so or a dependency fails; 503 then. */
function health(deps: RoleDeps, fields: Record<string, unknown>, dependencies: Record<string, Health | undefined> = {}): Answer {
  const known = Object.fromEntries(Object.entries(dependencies).filter(([, v]) => v !== undefined));
  const healthy = deps.mode() !== 'unhealthy' && Object.values(known).every((v) => v === 'healthy');
  const body = { status: healthy ? 'healthy' : 'unhealthy', timestamp: new Date().toISOString(), ...fields, ...(Object.keys(known).length ? { dependencies: known } : {}) };
  return { status: healthy ? 200 : 503, body };
}

/** The brownie API's pool size, as the runbook's sample figures give it. */
const POOL_SIZE = 20;
const UPSTREAM_TIMEOUT_MS = 10_000;

const gauge = (registry: Registry, name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });

/** The HTTP surface and metrics of each seed program, as its runbook documents them. */
export function createRole(deps: RoleDeps): Role {
  const { registry, mode } = deps;
  const has = (condition: Condition) => deps.conditions().has(condition);
  const http = (histogram: string, slowSeconds: number, counter = 'http_requests_total') => createTraffic(registry, { counter, histogram, slowSeconds, withStatus: true });
  switch (deps.config.role) {
    case 'company-api': {
      // Runbook 000: GET /api/v1/health (basic) and /api/v1/company/health (service status, Redis and external APIs, resources, errors).
      const traffic = http('http_request_duration_seconds', 40);
      const external = gauge(registry, 'external_api_success_rate', 'Share of external API calls that succeed.');
      const detailed = async () => {
        const redis = await redisHealth(deps);
        const apis = mode() === 'unhealthy' ? 'degraded' : 'healthy';
        return health(deps, { service: 'company-extraction-api', version: '1.0.0', external_apis: { opencorporates: apis, clearbit: apis }, resources: { memory_percent: 41.2, cpu_percent: 12.5 }, error_rate: mode() === 'unhealthy' ? 0.4 : 0 }, { redis });
      };
      return {
        routes: { '/api/v1/health': async () => health(deps, { service: 'company-extraction-api', version: '1.0.0' }), '/api/v1/company/health': detailed, '/api/v1/health/detailed': detailed },
        tick: async () => {
          traffic.tick(mode());
          external.set(mode() === 'unhealthy' ? 0.8 : 0.99);
        },
      };
    }
    case 'brownie-api': {
      // Runbook 001 documents this answer: {"status","timestamp","version","dependencies":{"database","redis"}}.
      const traffic = http('http_request_duration_seconds', 3);
      const active = gauge(registry, 'database_connections_active', 'Connections of the pool in use.');
      const max = gauge(registry, 'database_connections_max', 'Size of the connection pool.');
      const authFailures = new Counter({ name: 'authentication_failures_total', help: 'Failed authentications.', registers: [registry] });
      new Counter({ name: 'jwt_tokens_issued_total', help: 'JWT tokens issued.', registers: [registry] }).inc(0);
      return {
        routes: {
          '/health': async () => health(deps, { version: '1.0.0' }),
          '/health/detailed': async () => health(deps, { version: '1.0.0' }, { database: await databaseHealth(deps), redis: await redisHealth(deps) }),
        },
        tick: async () => {
          traffic.tick(mode());
          max.set(POOL_SIZE);
          // The stand-in's own pool is tiny; exhaustion is simulated, the usual figure is real.
          active.set(has('connections-exhausted') ? POOL_SIZE - 1 : deps.db ? deps.db.totalCount - deps.db.idleCount + 2 : 2);
          if (mode() === 'unhealthy') authFailures.inc(2);
        },
      };
    }
    case 'selextract-api': {
      const traffic = http('http_request_duration_seconds', 5);
      const cpu = new Counter({ name: 'cpu_usage_total', help: 'CPU seconds used by the API.', registers: [registry] });
      const certificate = gauge(registry, 'ssl_certificate_expiry_seconds', 'Seconds until the TLS certificate expires.');
      return {
        routes: { '/health': async () => health(deps, { service: 'selextract-api' }, { database: await databaseHealth(deps), redis: await redisHealth(deps) }) },
        tick: async () => {
          traffic.tick(mode());
          cpu.inc(has('cpu-busy') ? 0.95 : 0.05);
          certificate.set((has('certificate-expiring') ? 3 : 60) * 86_400);
        },
      };
    }
    case 'selextract-worker': {
      // The runbook checks workers with `celery inspect`; the catalog reads /health on the worker's metrics port.
      const queue = gauge(registry, 'celery_queue_length', 'Tasks waiting in the queue.');
      const tasks = new Counter({ name: 'tasks_total', help: 'Tasks run, by status.', labelNames: ['status'], registers: [registry] });
      return {
        routes: { '/health': async () => health(deps, { service: 'selextract-worker', active_tasks: mode() === 'unhealthy' ? 0 : 2 }, { redis: await redisHealth(deps) }) },
        tick: async () => {
          const behind = mode() === 'unhealthy' || has('worker-backlog');
          queue.set(behind ? 250 : 3);
          tasks.inc({ status: 'success' }, behind ? 2 : 3);
          tasks.inc({ status: 'failed' }, behind ? 1 : 0);
        },
      };
    }
    case 'dried-fruits-api': {
      // Runbook 003: /health, /api/v1/health/database and /api/v1/health/redis, each failing with a non-2xx.
      const traffic = http('api_request_duration_seconds', 3, 'api_requests_total');
      return {
        routes: {
          '/health': async () => health(deps, { service: 'dried-fruits-inventory' }),
          '/api/v1/health/database': async () => health(deps, { component: 'database' }, { database: await databaseHealth(deps) }),
          '/api/v1/health/redis': async () => health(deps, { component: 'redis' }, { redis: await redisHealth(deps) }),
        },
        tick: async () => void traffic.tick(mode()),
      };
    }
    case 'gateway-upstream':
      return {
        routes: {
          '/health': async () => health(deps, { service: 'upstream-service' }),
          '/ok': async () => (mode() === 'unhealthy' ? { status: 500, body: { error: 'upstream failure' } } : { status: 200, body: { message: 'ok' } }),
          '/fail': async () => ({ status: 500, body: { error: 'simulated failure' } }),
          '/slow': async () => new Promise<Answer>((resolve) => setTimeout(() => resolve({ status: 200, body: { message: 'slow' } }), 2_000)),
        },
        tick: async () => undefined,
      };
    case 'gateway-proxy':
      return createGatewayProxy(deps);
    case 'company-worker':
      return { routes: {}, tick: async () => undefined };
  }
}

/** Runbook 004's proxy-service: `/proxy/<path>` to the upstream through the Redis-backed circuit breaker. */
function createGatewayProxy(deps: RoleDeps): Role {
  const { registry, mode, breaker } = deps;
  const has = (condition: Condition) => deps.conditions().has(condition);
  const total = new Counter({ name: 'http_requests_total', help: 'Requests served.', registers: [registry] });
  const errors = new Counter({ name: 'http_requests_5xx_total', help: 'Requests answered with a 5xx.', registers: [registry] });
  const rateLimited = new Counter({ name: 'http_requests_429_total', help: 'Requests refused by the rate limiter.', registers: [registry] });
  const latency = createTraffic(registry, { counter: 'gateway_synthetic_requests_total', histogram: 'http_request_duration_seconds', slowSeconds: 2, withStatus: false });
  // The proxy's latency includes the upstream's: the last real call's duration, or the one in flight if longer.
  let upstreamSeconds = 0;
  let inFlightSince: number | undefined;
  const waitingOnUpstream = () => Math.max(upstreamSeconds, inFlightSince === undefined ? 0 : (Date.now() - inFlightSince) / 1000);
  new Gauge({
    name: 'circuit_breaker_state',
    help: 'Circuit breaker state: 1 = CLOSED, 2 = OPEN, 3 = HALF_OPEN.',
    registers: [registry],
    async collect() {
      const state = breaker ? await breaker.read().then((b) => b.state, () => 'CLOSED' as const) : 'CLOSED';
      this.set(BREAKER_STATE[state]);
    },
  });

  const proxy = async (path: string): Promise<Answer> => {
    total.inc();
    const answer = await forward(path);
    if (answer.status >= 500) errors.inc();
    return answer;
  };
  const forward = async (path: string): Promise<Answer> => {
    if (mode() === 'unhealthy') return { status: 502, body: { error: 'proxy failure' } };
    if (breaker && !(await breaker.allow())) return { status: 503, body: { error: 'Circuit breaker is OPEN', retry_after: 'reset timeout' } };
    try {
      // Longer than a slow upstream takes (SLOW_DELAY_MS), so "slow" reads as slow, not as failing.
      const res = await fetch(`${deps.config.upstreamUrl}${path}`, { signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
      const body: unknown = await res.json().catch(() => ({}));
      await (res.status >= 500 ? breaker?.failure() : breaker?.success());
      return { status: res.status, body };
    } catch {
      await breaker?.failure();
      return { status: 502, body: { error: 'upstream unreachable' } };
    }
  };
  return {
    routes: {
      '/health': async () => health(deps, { service: 'proxy-service', circuit_breaker: breaker ? (await breaker.read().catch(() => undefined))?.state : undefined }, { redis: await redisHealth(deps) }),
      '/proxy/': proxy,
    },
    tick: async () => {
      latency.tick(mode(), waitingOnUpstream());
      if (has('rate-limited')) rateLimited.inc(2);
      // One real call a second through the breaker, so an ailing upstream trips it as it would in
      // production; not awaited, so a slow upstream does not stop the ticks.
      if (inFlightSince !== undefined) return;
      const started = (inFlightSince = Date.now());
      void proxy('/ok')
        .catch(() => undefined)
        .finally(() => {
          upstreamSeconds = (Date.now() - started) / 1000;
          inFlightSince = undefined;
        });
    },
  };
}
