import pg from 'pg';
import type { PostgresHealthCheck } from '../schema.js';
import type { Probe } from '../types.js';
import { onAbort } from './on-abort.js';

interface ConnectionUsage {
  used: number;
  max: number;
}

/**
 * Only client backends count against max_connections; since PostgreSQL 10, pg_stat_activity
 * also lists background workers (checkpointer, autovacuum, ...), which would inflate the figure.
 */
const USAGE_SQL = `
  SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS used,
         current_setting('max_connections')::int AS max`;

/** Connects, runs SELECT 1, and warns when connections in use reach `warnConnectionsPercent`. */
export const postgresProbe: Probe<PostgresHealthCheck> = async (check, { signal, timeoutMs }) => {
  const client = new pg.Client({
    connectionString: check.url,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'switchboard-health',
  });
  // After connect, pg reports a dropped connection as an 'error' event; unhandled, it would crash the bot.
  client.on('error', () => {});
  // end() also destroys a socket that is still connecting or stuck in a query.
  const unsubscribe = onAbort(signal, () => void client.end().catch(() => {}));
  try {
    await client.connect();
    await client.query('SELECT 1');
    const { rows } = await client.query<ConnectionUsage>(USAGE_SQL);
    const usage = rows[0];
    if (!usage) return { status: 'fail', reason: 'connection count query returned no row' };
    return judgeUsage(usage, check.warnConnectionsPercent);
  } finally {
    unsubscribe();
    await client.end().catch(() => {});
  }
};

function judgeUsage({ used, max }: ConnectionUsage, warnPercent: number) {
  const detail = `${used}/${max} connections`;
  const percent = max > 0 ? (used / max) * 100 : 100;
  if (percent < warnPercent) return { status: 'ok', detail } as const;
  return { status: 'warn', detail, reason: `${Math.round(percent)}% of connections in use (warn at ${warnPercent}%)` } as const;
}
