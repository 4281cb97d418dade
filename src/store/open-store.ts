import type { Db } from './db.js';
import { createPostgresDb } from './postgres-db.js';

/** PostgreSQL when a URL is given, otherwise the embedded database in `dataDir`. */
export async function openDb(options: { databaseUrl: string | undefined; dataDir: string | undefined }): Promise<Db> {
  if (options.databaseUrl) return createPostgresDb(options.databaseUrl);
  // Loaded only when used: PGlite's module and WebAssembly are most of the memory a PostgreSQL-backed instance would not need.
  const { createPgliteDb, EMBEDDED_SEED } = await import('./pglite-db.js');
  return createPgliteDb(options.dataDir, { seed: EMBEDDED_SEED });
}
