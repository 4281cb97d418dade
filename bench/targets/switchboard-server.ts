/**
 * A real Switchboard as `src/main.ts` builds it (production logger at the given level, PostgreSQL
 * store, outbox sender on), with the environment and catalog the bench sends in its `start` message.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { startSwitchboard, type Switchboard } from '../../src/app/switchboard.js';
import { createLogger } from '../../src/app/logger.js';
import { parseEnv } from '../../src/config/env.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { serveTarget } from '../lib/target.js';

// Counts SQL statements (each one a round trip with node-postgres), to explain where the time goes.
// One increment per query: nothing next to a round trip to PostgreSQL.
let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements += 1;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

let switchboard: Switchboard | undefined;
// How long the event loop was blocked: a request arriving meanwhile waits that long for its answer.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });

serveTarget({
  async start(message) {
    const env = parseEnv(message.env as Record<string, string>);
    const catalog = parseCatalog(String(message.catalogYaml), 'bench-catalog.yml', {});
    const logger = createLogger({ level: env.LOG_LEVEL });
    switchboard = await startSwitchboard({ env, catalog, logger });
    statements = 0;
    loopDelay.enable();
    return switchboard.url;
  },
  async stop() {
    await switchboard?.stop(2_000);
  },
  stats: () => ({ statements, loopDelayP99Ms: loopDelay.percentile(99) / 1e6, loopDelayMaxMs: loopDelay.max / 1e6 }),
});
