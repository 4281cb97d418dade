// Part of `npm run build`: the migrated data directory that the embedded database's first start
// copies instead of running initdb and the migrations (EMBEDDED_SEED in src/store/pglite-db.ts).
import { makeEmbeddedSeed } from '../dist/store/embedded-seed.js';
import { EMBEDDED_SEED } from '../dist/store/pglite-db.js';

await makeEmbeddedSeed(EMBEDDED_SEED);
