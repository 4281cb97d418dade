import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Db, Queryable } from './db.js';
import { lockDataDir } from './data-dir-lock.js';
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

/**
 * A migrated data directory made by `npm run build` with the installed PGlite (`scripts/embedded-seed.mjs`).
 * A first start copies it instead of running initdb and every migration in WebAssembly, which
 * took most of that start's time and memory. Absent when running the sources (`npm run dev`).
 */
export const EMBEDDED_SEED = fileURLToPath(new URL('./embedded-seed.tar.gz', import.meta.url));

/** The embedded database: the same SQL as PostgreSQL, in a folder, for one instance. `dataDir` undefined keeps it in memory. */
export async function createPgliteDb(dataDir: string | undefined, options: { seed?: string } = {}): Promise<Db> {
  if (!dataDir) return pgliteDb(await PGlite.create());
  await mkdir(dataDir, { recursive: true });
  const lock = await lockDataDir(dataDir);
  try {
    const fresh = !(await exists(join(dataDir, 'PG_VERSION')));
    const loadDataDir = fresh && options.seed && (await exists(options.seed)) ? new Blob([await readFile(options.seed)]) : undefined;
    const db = pgliteDb(await PGlite.create(dataDir, loadDataDir ? { loadDataDir } : {}));
    return { ...db, close: () => db.close().finally(() => lock.release()) };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** The `Db` over an open PGlite; closing it closes the PGlite. */
export function pgliteDb(pglite: PGlite): Db {
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

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );
