import type { Db } from './db.js';
import { createPgliteDb } from './pglite-db.js';
import { createPostgresDb } from './postgres-db.js';

/** PostgreSQL when a URL is given, otherwise the embedded database in `dataDir`. */
export async function openDb(options: { databaseUrl: string | undefined; dataDir: string | undefined }): Promise<Db> {
  return options.databaseUrl ? createPostgresDb(options.databaseUrl) : createPgliteDb(options.dataDir);
}
