import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { isMigrated, migrate, readMigrations } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { createRunsRepository } from '../../src/store/runs-repository.js';
import { createTempDatabase } from '../helpers/temp-database.js';

type Store = { name: string; open: () => Promise<Db>; cleanup: () => Promise<void> };

const stores: Store[] = [];
let dropPostgres: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const temp = await createTempDatabase('sb_store');
  dropPostgres = temp.drop;
  const opened: Db[] = [];
  stores.push({
    name: 'postgresql',
    open: async () => {
      const db = createPostgresDb(temp.url);
      opened.push(db);
      return db;
    },
    cleanup: async () => {
      await Promise.all(opened.map((db) => db.close()));
    },
  });
});

afterAll(async () => {
  for (const store of stores) await store.cleanup();
  await dropPostgres?.();
});

describe.each(['postgresql', 'pglite'])('store on %s', (kind) => {
  let db: Db;
  let second: Db | undefined;

  beforeAll(async () => {
    if (kind === 'postgresql') {
      db = await stores[0]!.open();
      second = await stores[0]!.open();
    } else {
      db = await createPgliteDb(undefined);
    }
  });

  afterAll(async () => {
    if (kind === 'pglite') await db.close();
  });

  it('migrates once when two instances start together, and again is a no-op', async () => {
    const migrations = await readMigrations();
    const runners = kind === 'postgresql' ? [migrate(db, migrations), migrate(second!, migrations), migrate(db, migrations)] : [migrate(db, migrations), migrate(db, migrations)];
    const applied = await Promise.all(runners);
    const names = applied.flat();
    expect(names.sort()).toEqual(migrations.map((m) => m.name).sort());
    expect(await migrate(db, migrations)).toEqual([]);
    expect(await isMigrated(db, migrations.length)).toBe(true);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]!.n).toBe(migrations.length);
  });

  it('rolls back a failing migration completely', async () => {
    const bad = [{ version: 900, name: '900_bad', sql: 'CREATE TABLE half_done (x int); SELECT no_such_function();' }];
    await expect(migrate(db, bad)).rejects.toThrow();
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'half_done'");
    expect(rows[0]!.n).toBe(0);
  });

  it('keeps the audit record of a run from start to finish, and refusals', async () => {
    const runs = createRunsRepository(db);
    const id = randomUUID();
    const ref = `r${id.slice(0, 7)}`;
    const startedAt = new Date('2026-11-22T03:00:00Z');
    await runs.start({ id, ref, actionId: 'service.health', target: 'api-gateway', input: { service: 'api-gateway' }, actorId: 'U1', actorName: 'ana', origin: 'slash', startedAt });
    expect((await runs.byRef(ref))!.status).toBe('running');
    await runs.finish(id, { status: 'failed', finishedAt: new Date('2026-11-22T03:00:02Z'), durationMs: 2000, summary: 'x'.repeat(5000), errorCode: 'E' });
    const done = (await runs.byRef(ref))!;
    expect(done).toMatchObject({ actionId: 'service.health', target: 'api-gateway', input: { service: 'api-gateway' }, actorId: 'U1', actorName: 'ana', origin: 'slash', status: 'failed', durationMs: 2000, errorCode: 'E' });
    expect(done.startedAt.toISOString()).toBe('2026-11-22T03:00:00.000Z');
    expect(done.summary!.length).toBe(2000);

    const refusedRef = `q${id.slice(0, 7)}`;
    await runs.refuse({ id: randomUUID(), ref: refusedRef, actionId: 'service.restart', target: 'api-gateway', input: {}, actorId: 'U2', actorName: undefined, origin: 'button', startedAt }, 'PERMISSION_DENIED', 'needs operate');
    expect(await runs.byRef(refusedRef)).toMatchObject({ status: 'refused', errorCode: 'PERMISSION_DENIED', durationMs: 0 });
    const recent = await runs.recent({ target: 'api-gateway' });
    expect(recent.map((r) => r.ref)).toEqual(expect.arrayContaining([ref, refusedRef]));
  });
});
