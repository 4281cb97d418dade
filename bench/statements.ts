import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { buildAlerting } from '../src/app/build-alerting.js';
import { createLogger } from '../src/app/logger.js';
import { createMetrics } from '../src/app/metrics.js';
import { allActions } from '../src/commands/actions/index.js';
import { createRegistry } from '../src/commands/registry.js';
import { parseEnv } from '../src/config/env.js';
import { parseCatalog } from '../src/config/load-catalog.js';
import type { Db, Queryable } from '../src/store/db.js';
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

const OUTSIDE = 'BEGIN, COMMIT and waiting for a connection';

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
  const timed = (q: Queryable): Queryable => ({
    async query(sql, params) {
      const t = performance.now();
      try {
        return await q.query(sql, params);
      } finally {
        add(sql.replace(/\s+/g, ' ').trim(), performance.now() - t);
      }
    },
    exec: (sql) => q.exec(sql),
    ...(q.defer ? { defer: (key: string, work: (tx: Queryable) => Promise<void>) => q.defer!(key, (tx) => work(timed(tx))) } : {}),
  });
  const db: Db = {
    kind: inner.kind,
    ...timed(inner),
    close: () => inner.close(),
    async transaction(fn) {
      const outer = performance.now();
      let body = 0;
      try {
        return await inner.transaction(async (tx) => {
          const t = performance.now();
          try {
            return await fn(timed(tx));
          } finally {
            body = performance.now() - t;
          }
        });
      } finally {
        add(OUTSIDE, performance.now() - outer - body);
      }
    },
  };
  const report = (phase: StatementReport['phase'], n: number, elapsed: number): StatementReport => {
    const inside = [...stats].filter(([sql]) => sql !== OUTSIDE);
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
    await new Promise((resolve) => server.close(resolve));
    await inner.close().catch(() => undefined);
    await temp.drop();
  }
}
