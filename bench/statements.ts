import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Pool } from 'undici';
import { buildAlerting } from '../src/app/build-alerting.js';
import { createLogger } from '../src/app/logger.js';
import { createMetrics } from '../src/app/metrics.js';
import { allActions } from '../src/commands/actions/index.js';
import { createRegistry } from '../src/commands/registry.js';
import { parseEnv } from '../src/config/env.js';
import { parseCatalog } from '../src/config/load-catalog.js';
import type { Db } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { createPostgresDb } from '../src/store/postgres-db.js';
import { createTempDatabase } from '../test/helpers/temp-database.js';
import { INGEST_CATALOG, INGEST_MIX } from './ingest.js';
import { createNotificationMix } from './lib/notifications.js';
import { WEBHOOK_HEADERS, WEBHOOK_TOKEN } from './lib/switchboard-under-test.js';

/**
 * Where one notification's time goes, statement by statement, in its two phases: accepting it
 * (the production `POST /alertmanager` handler, one connection, one notification at a time) and
 * applying it (the notification processor draining what was accepted: intake, escalation, storms,
 * projector, outbox, a batch per transaction). Every SQL statement is timed. Nothing else runs
 * (no sender, no ticks), so these are the floor the concurrent benchmark builds on.
 */
export interface StatementReport {
  phase: 'accept' | 'apply';
  notifications: number;
  perNotificationMs: number;
  transactionMs: number;
  statementsPerNotification: number;
  statements: Array<{ sql: string; calls: number; perNotificationMs: number; eachMs: number }>;
}

const TRANSACTION = new Set(['BEGIN', 'COMMIT', 'ROLLBACK']);

export async function runStatements(options: { notifications: number; warmup: number; log(line: string): void }): Promise<StatementReport[]> {
  const temp = await createTempDatabase('sb_bench');
  const inner = createPostgresDb(temp.url, { max: 1 });
  const server = createServer();
  let stats = new Map<string, { calls: number; ms: number }>();
  let measuring = false;
  const add = (key: string, ms: number) => {
    if (!measuring) return;
    const s = stats.get(key) ?? { calls: 0, ms: 0 };
    s.calls += 1;
    s.ms += ms;
    stats.set(key, s);
  };
  // Every statement the client sends, timed at the driver: held writes (held-writes.ts) are sent
  // as statements of their own, and BEGIN and COMMIT are listed as what they are.
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    const sql = typeof first === 'string' ? first : (first as { text?: string }).text ?? '';
    const t = performance.now();
    const done = () => add(sql.replace(/\s+/g, ' ').trim(), performance.now() - t);
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (...result: unknown[]) => {
        done();
        return (last as (...a: unknown[]) => unknown)(...result);
      };
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    }
    const result = (query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) result.then(done, done);
    return result;
  } as typeof query;
  const db: Db = inner;
  const report = (phase: StatementReport['phase'], n: number, elapsed: number): StatementReport => {
    const inside = [...stats].filter(([sql]) => !TRANSACTION.has(sql));
    return {
      phase,
      notifications: n,
      perNotificationMs: elapsed / n,
      transactionMs: [...stats.values()].reduce((a, s) => a + s.ms, 0) / n,
      statementsPerNotification: inside.reduce((a, [, s]) => a + s.calls, 0) / n,
      statements: [...stats]
        .map(([sql, s]) => ({ sql, calls: s.calls, perNotificationMs: s.ms / n, eachMs: s.ms / s.calls }))
        .sort((a, b) => b.perNotificationMs - a.perNotificationMs),
    };
  };
  try {
    await migrate(inner);
    const env = parseEnv({ ALERTMANAGER_WEBHOOK_TOKEN: WEBHOOK_TOKEN, DATABASE_URL: temp.url, LOG_LEVEL: 'silent' });
    const catalog = parseCatalog(INGEST_CATALOG, 'bench-catalog.yml', {});
    const alerting = buildAlerting({ db, env, catalog, registry: createRegistry(allActions), logger: createLogger({ level: 'silent' }), metrics: createMetrics(), slackToken: undefined });
    server.on('request', (req, res) => void alerting.webhook(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 1 });
    const mix = createNotificationMix({ seed: 20_260_301, runId: 'statements', ...INGEST_MIX });
    let started = 0;
    options.log(`  statements: ${options.notifications} notifications one at a time, after ${options.warmup} to warm up…`);
    for (let i = 0; i < options.warmup + options.notifications; i++) {
      if (i === options.warmup) {
        measuring = true;
        started = performance.now();
      }
      const item = mix.next();
      const res = await pool.request({ path: '/alertmanager', method: 'POST', headers: WEBHOOK_HEADERS, body: item.body });
      await res.body.text();
      item.release();
      if (res.statusCode !== 200) throw new Error(`statements: notification ${i} answered HTTP ${res.statusCode}`);
    }
    const acceptReport = report('accept', options.notifications, performance.now() - started);
    await pool.close();

    // The warm-up's notifications first, unmeasured; then everything the measured ones left.
    measuring = false;
    const { rows } = await inner.query<{ id: string }>('SELECT n.id::text AS id FROM notifications n ORDER BY n.id OFFSET $1 LIMIT 1', [options.warmup]);
    await inner.query('UPDATE notifications SET claimed_until = now() + interval \'1 hour\' WHERE id >= $1', [rows[0]!.id]);
    await alerting.notifications.drain();
    await inner.query('UPDATE notifications SET claimed_until = NULL WHERE processed_at IS NULL');
    stats = new Map();
    measuring = true;
    started = performance.now();
    await alerting.notifications.drain();
    const applyReport = report('apply', options.notifications, performance.now() - started);
    return [acceptReport, applyReport];
  } finally {
    pg.Client.prototype.query = query;
    await new Promise((resolve) => server.close(resolve));
    await inner.close().catch(() => undefined);
    await temp.drop();
  }
}
