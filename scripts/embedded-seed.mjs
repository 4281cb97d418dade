// Part of `npm run build`: migrates an in-memory PGlite with the compiled migrations and saves its
// data directory beside the compiled store, so the embedded database's first start copies it
// instead of running initdb and the migrations (EMBEDDED_SEED in src/store/pglite-db.ts).
import { Buffer } from 'node:buffer';
import { writeFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from '../dist/store/migrate.js';
import { EMBEDDED_SEED, pgliteDb } from '../dist/store/pglite-db.js';

const pglite = await PGlite.create();
await migrate(pgliteDb(pglite));
const archive = await pglite.dumpDataDir('gzip');
await writeFile(EMBEDDED_SEED, Buffer.from(await archive.arrayBuffer()));
await pglite.close();
