import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { beforeCommit } from '../../src/store/deferred-work.js';
import { STORES, useMigratedStore } from '../helpers/migrated-store.js';

describe.each(STORES)('work deferred until commit on %s', (kind) => {
  let db: Db;
  useMigratedStore(kind, (opened) => (db = opened), { max: 2 });

  it('runs once per key, after the transaction body and inside the transaction', async () => {
    const seen: string[] = [];
    await db.transaction(async (tx) => {
      await tx.query('CREATE TEMP TABLE deferred_probe (n int) ON COMMIT DROP');
      for (const n of [1, 2, 3]) {
        await tx.query('INSERT INTO deferred_probe VALUES ($1)', [n]);
        await beforeCommit(tx, 'count', async (last) => {
          // Runs once, after all three inserts, and still sees the transaction's temp table.
          const { rows } = await last.query<{ n: number }>('SELECT count(*)::int AS n FROM deferred_probe');
          seen.push(`count ${rows[0]!.n} (registered at ${n})`);
          await beforeCommit(last, 'nested', async () => void seen.push('nested'));
        });
      }
      seen.push('body done');
    });
    expect(seen).toEqual(['body done', 'count 3 (registered at 1)', 'nested']);
  });

  it('is dropped with a rolled-back transaction', async () => {
    const seen: string[] = [];
    await expect(
      db.transaction(async (tx) => {
        await beforeCommit(tx, 'never', async () => void seen.push('ran'));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(seen).toEqual([]);
  });

  it('runs at once outside a transaction', async () => {
    const seen: string[] = [];
    await beforeCommit(db, 'now', async () => void seen.push('ran'));
    expect(seen).toEqual(['ran']);
  });
});
