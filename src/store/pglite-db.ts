import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Db, Queryable } from './db.js';
import { withDeferredWork } from './deferred-work.js';

function wrap(client: PGlite | Transaction): Queryable {
  return {
    async query(sql, params) {
      const result = await client.query(sql, params as unknown[] | undefined);
      return { rows: result.rows as never[], rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(sql) {
      await client.exec(sql);
    },
  };
}

/** The embedded database: the same SQL as PostgreSQL, in a folder, for one instance. `dataDir` undefined keeps it in memory. */
export async function createPgliteDb(dataDir: string | undefined): Promise<Db> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  return {
    kind: 'pglite',
    ...wrap(pglite),
    transaction: (fn) =>
      pglite.transaction(async (client) => {
        const { tx, runDeferred } = withDeferredWork(wrap(client));
        const result = await fn(tx);
        await runDeferred();
        return result;
      }),
    close: () => pglite.close(),
  };
}
