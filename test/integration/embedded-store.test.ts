import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirInUseError } from '../../src/store/data-dir-lock.js';
import { makeEmbeddedSeed } from '../../src/store/embedded-seed.js';
import { readMigrations } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';

let work: string;
let seed: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'switchboard-embedded-'));
  seed = join(work, 'seed.tar.gz');
  await makeEmbeddedSeed(seed);
}, 120_000);
afterAll(() => rm(work, { recursive: true, force: true }));

const appliedMigrations = async (dataDir: string) => {
  const db = await createPgliteDb(dataDir, { seed });
  try {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    return rows[0]!.n;
  } finally {
    await db.close();
  }
};

describe('the embedded store in a folder', () => {
  it('starts a new folder from the migrated seed, and keeps its data across restarts', async () => {
    const dataDir = join(work, 'restarts');
    expect(await appliedMigrations(dataDir)).toBe((await readMigrations()).length);

    const first = await createPgliteDb(dataDir, { seed });
    await first.exec('CREATE TABLE kept (note text); INSERT INTO kept VALUES ($$written before a restart$$)');
    await first.close();
    const second = await createPgliteDb(dataDir, { seed });
    const { rows } = await second.query<{ note: string }>('SELECT note FROM kept');
    await second.close();
    expect(rows).toEqual([{ note: 'written before a restart' }]);
  }, 120_000);

  it('refuses a second instance on the same folder, naming the way out', async () => {
    const dataDir = join(work, 'second');
    const first = await createPgliteDb(dataDir, { seed });
    try {
      const second = createPgliteDb(dataDir, { seed });
      await expect(second).rejects.toBeInstanceOf(DataDirInUseError);
      await expect(second).rejects.toThrow(/Another Switchboard \(pid \d+\) is using the embedded database in .*second.*SWITCHBOARD_DATA_DIR/);
    } finally {
      await first.close();
    }
    // Once the first is closed the folder is free again.
    await (await createPgliteDb(dataDir, { seed })).close();
  }, 120_000);

  it('takes over the lock of a process that died (kill -9), so a crash never blocks the next start', async () => {
    const dataDir = join(work, 'crashed');
    await (await createPgliteDb(dataDir, { seed })).close();
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => dead.once('exit', () => resolve(dead.pid!)));
    const lockFile = join(dataDir, 'switchboard.lock');
    await writeFile(lockFile, JSON.stringify({ pid: deadPid, host: hostname() }));

    const db = await createPgliteDb(dataDir, { seed });
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    await db.close();
  }, 120_000);
});
