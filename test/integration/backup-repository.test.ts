import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { createBackupsRepository } from '../../src/store/backups-repository.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { TEST_DATABASE_URL } from '../helpers/env.js';

const DATABASE = `sb_backups_repo_${randomBytes(4).toString('hex')}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DATABASE}`);
});

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.end();
});

const at = (iso: string) => new Date(iso);
const SHA = 'a'.repeat(64);

describe.each([
  ['PostgreSQL', () => { const url = new URL(TEST_DATABASE_URL); url.pathname = `/${DATABASE}`; return Promise.resolve(createPostgresDb(url.toString(), { max: 2 })); }],
  ['PGlite', () => createPgliteDb(undefined)],
] as const)('backups repository on %s', (_, open) => {
  let db: Db;
  beforeAll(async () => {
    db = await open();
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
  });

  it('records a backup from start to finish and lists the latest first', async () => {
    const repo = createBackupsRepository(db);
    const first = randomUUID();
    const second = randomUUID();
    await repo.start({ id: first, runRef: 'r-1', service: 'brownie', target: 'database', kind: 'postgres', startedAt: at('2024-05-01T02:00:00Z') });
    await repo.start({ id: second, service: 'brownie', target: 'database', kind: 'postgres', startedAt: at('2024-05-02T02:00:00Z') });
    expect(
      await repo.finish(first, {
        status: 'succeeded', finishedAt: at('2024-05-01T02:00:42Z'), durationMs: 42_000.4,
        file: '/var/backups/brownie/brownie-database-20240501T020000Z.dump', bytes: 6_000_000_000, sha256: SHA, verified: true, detail: 'ok',
      }),
    ).toBe(true);
    // Finishing twice changes nothing: the first result stands.
    expect(await repo.finish(first, { status: 'failed', finishedAt: at('2024-05-01T03:00:00Z'), durationMs: 1, detail: 'late' })).toBe(false);

    const recent = await repo.recent({ service: 'brownie', limit: 10 });
    expect(recent.map((b) => [b.id, b.status])).toEqual([[second, 'running'], [first, 'succeeded']]);
    expect(recent[1]).toEqual({
      id: first, runRef: 'r-1', service: 'brownie', target: 'database', kind: 'postgres', status: 'succeeded',
      startedAt: at('2024-05-01T02:00:00Z'), finishedAt: at('2024-05-01T02:00:42Z'), durationMs: 42_000,
      file: '/var/backups/brownie/brownie-database-20240501T020000Z.dump', bytes: 6_000_000_000, sha256: SHA, verified: true, detail: 'ok',
    });
    expect(recent[0]).toMatchObject({ runRef: null, finishedAt: null, durationMs: null, bytes: null, verified: false });
    expect(await repo.recent({ service: 'brownie', limit: 1 })).toHaveLength(1);
  });

  it('reports the latest finished result per target, and when each last succeeded', async () => {
    const repo = createBackupsRepository(db);
    const record = async (service: string, target: string, startedAt: string, status: 'succeeded' | 'failed' | 'running') => {
      const id = randomUUID();
      await repo.start({ id, service, target, kind: 'command', startedAt: at(startedAt) });
      if (status !== 'running') {
        const finishedAt = new Date(at(startedAt).getTime() + 60_000);
        await repo.finish(id, { status, finishedAt, durationMs: 60_000, detail: status });
      }
    };
    await record('dried-fruits', 'full', '2024-05-01T02:00:00Z', 'succeeded');
    await record('dried-fruits', 'full', '2024-05-02T02:00:00Z', 'failed');
    await record('dried-fruits', 'full', '2024-05-03T02:00:00Z', 'running');
    await record('dried-fruits', 'redis', '2024-05-02T02:00:00Z', 'failed');
    await record('selextract', 'database', '2024-05-01T02:00:00Z', 'failed');
    await record('selextract', 'database', '2024-05-02T02:00:00Z', 'succeeded');
    await record('selextract', 'only-running', '2024-05-02T02:00:00Z', 'running');

    const latest = (await repo.latestPerTarget()).filter((l) => l.service !== 'brownie');
    expect(latest).toEqual([
      { service: 'dried-fruits', target: 'full', lastStatus: 'failed', lastSuccessAt: at('2024-05-01T02:01:00Z') },
      { service: 'dried-fruits', target: 'redis', lastStatus: 'failed' },
      { service: 'selextract', target: 'database', lastStatus: 'succeeded', lastSuccessAt: at('2024-05-02T02:01:00Z') },
    ]);

    expect((await repo.recent({ service: 'dried-fruits', target: 'full', limit: 5 })).map((b) => b.status)).toEqual(['running', 'failed', 'succeeded']);
  });

  it('refuses rows that break the table rules', async () => {
    await expect(
      db.query(`INSERT INTO backups (id, service, target, kind, status, started_at) VALUES ($1, 's', 't', 'postgres', 'done', now())`, [randomUUID()]),
    ).rejects.toThrow(/check constraint/);
    await expect(
      db.query(`INSERT INTO backups (id, service, target, kind, status, started_at, finished_at) VALUES ($1, 's', 't', 'postgres', 'running', now(), now())`, [randomUUID()]),
    ).rejects.toThrow(/check constraint/);
  });
});
