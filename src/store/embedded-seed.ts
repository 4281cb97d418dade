import { writeFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from './migrate.js';
import { pgliteDb } from './pglite-db.js';

/** Writes to `file` the data directory of a freshly migrated PGlite, for `createPgliteDb`'s `seed`. */
export async function makeEmbeddedSeed(file: string): Promise<void> {
  const pglite = await PGlite.create();
  try {
    await migrate(pgliteDb(pglite));
    const archive = await pglite.dumpDataDir('gzip');
    await writeFile(file, new Uint8Array(await archive.arrayBuffer()));
  } finally {
    await pglite.close();
  }
}
