/**
 * One seed program, run by supervisord: `node --import tsx stand-in-main.ts <base64 JSON config>`.
 * It starts healthy; a restart is how it gets well again.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { conditionsReader } from './conditions.js';
import { createGatewayBreaker } from './gateway-breaker.js';
import type { Mode } from './seed-systems.js';
import type { StandInConfig } from './simulator-plan.js';
import { createRole } from './stand-in-roles.js';
import { createStandInServer } from './stand-in-server.js';

const TICK_MS = 1_000;

const config = JSON.parse(Buffer.from(process.argv[2] ?? '', 'base64url').toString('utf8')) as StandInConfig;
// Commands wait for the connection (a fresh stand-in's first health check) but never longer than 2 s.
const connect = (url: string) => new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 2_000 });
const redis = config.redisUrl ? connect(config.redisUrl) : undefined;
const breakerRedis = config.breaker ? (config.breaker.redisUrl === config.redisUrl && redis ? redis : connect(config.breaker.redisUrl)) : undefined;
// A dependency that is down is reported by the health endpoints, not thrown at the process.
for (const client of new Set([redis, breakerRedis])) client?.on('error', () => undefined);
const db = config.databaseUrl ? new pg.Pool({ connectionString: config.databaseUrl, max: 2, connectionTimeoutMillis: 2_000, idleTimeoutMillis: 10_000 }) : undefined;
db?.on('error', () => undefined);

let mode: Mode = 'healthy';
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const breaker = config.breaker && breakerRedis ? createGatewayBreaker(breakerRedis, config.breaker.key) : undefined;
const role = createRole({ config, registry, mode: () => mode, conditions: conditionsReader(config.conditionsFile), ...(redis ? { redis } : {}), ...(db ? { db } : {}), ...(breaker ? { breaker } : {}) });

let ticking = false;
const ticker = setInterval(() => {
  if (ticking) return;
  ticking = true;
  role.tick().catch(() => undefined).finally(() => (ticking = false));
}, TICK_MS);

const server = createStandInServer({ role, registry, mode: { get: () => mode, set: (m) => (mode = m) }, onCrash: () => process.exit(1) });
if (config.port !== undefined) server.listen(config.port, '127.0.0.1');

const stop = () => {
  clearInterval(ticker);
  server.close();
  server.closeAllConnections();
  redis?.disconnect();
  breakerRedis?.disconnect();
  void db?.end().finally(() => process.exit(0));
  if (!db) process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
