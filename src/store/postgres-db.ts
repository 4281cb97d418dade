import pg from 'pg';
import type { Db, Queryable } from './db.js';
import { withDeferredWork } from './deferred-work.js';

// BIGINT and NUMERIC arrive as strings by default; our counters and durations fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query(sql, params) {
      const result = await client.query(sql, params as unknown[] | undefined);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    async exec(sql) {
      await client.query(sql);
    },
  };
}

export function createPostgresDb(url: string, options: { max?: number; applicationName?: string } = {}): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'switchboard',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      // A connection lost between statements (a failover, a terminated backend) is reported on the
      // client, not on a query; unheard, it would crash the process. The next statement fails
      // instead, and the client is discarded rather than returned to the pool.
      let lost: Error | undefined;
      const onError = (error: Error) => void (lost ??= error);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const { tx, runDeferred } = withDeferredWork(wrap(client));
        const result = await fn(tx);
        await runDeferred();
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (!lost) await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.off('error', onError);
        client.release(lost);
      }
    },
    close: () => pool.end(),
  };
}
