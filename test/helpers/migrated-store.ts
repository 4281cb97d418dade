import { afterAll, beforeAll } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { createTempDatabase } from './temp-database.js';

/** The two stores every repository must work on; use with `describe.each(STORES)`. */
export const STORES = ['PostgreSQL', 'PGlite'] as const;
export type StoreKind = (typeof STORES)[number];

/**
 * Opens a migrated store of `kind` before the suite (PostgreSQL in a database of its own, PGlite in
 * memory), hands it over through `use`, and closes (and drops) it after.
 */
export function useMigratedStore(kind: StoreKind, use: (db: Db) => void, options: { max?: number } = {}): void {
  let db: Db | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (kind === 'PostgreSQL') {
      const temp = await createTempDatabase('sb_store');
      drop = temp.drop;
      db = createPostgresDb(temp.url, { max: options.max ?? 10 });
    } else {
      db = await createPgliteDb(undefined);
    }
    await migrate(db);
    use(db);
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });
}
