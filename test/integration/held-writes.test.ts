import { describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../src/store/db.js';
import { withDeferredWork } from '../../src/store/deferred-work.js';
import { write, type BatchableWrite } from '../../src/store/held-writes.js';
import { STORES, useMigratedStore } from '../helpers/migrated-store.js';

const NOTES: BatchableWrite<{ n: number; text: string }> = {
  name: 'notes',
  statement: (rows, param) =>
    `INSERT INTO held_notes (n, text) SELECT x.n, x.text FROM unnest(${param(rows.map((r) => r.n))}::int[], ${param(rows.map((r) => r.text))}::text[]) WITH ORDINALITY AS x(n, text, ord) ORDER BY x.ord`,
};
const TAGS: BatchableWrite<string> = {
  name: 'tags',
  statement: (rows, param) => `INSERT INTO held_tags (tag) SELECT unnest(${param(rows)}::text[])`,
};

describe.each(STORES)('writes held for the next statement on %s', (kind) => {
  let db: Db;
  useMigratedStore(kind, (opened) => (db = opened), { max: 2 });

  /** A transaction whose statements are recorded as they are sent, with a notes and a tags table. */
  async function inTransaction(fn: (tx: Queryable, sent: string[]) => Promise<void>): Promise<void> {
    await db.transaction(async (outer) => {
      await outer.query('CREATE TEMP TABLE held_notes (id serial PRIMARY KEY, n int, text text) ON COMMIT DROP');
      await outer.query('CREATE TEMP TABLE held_tags (tag text) ON COMMIT DROP');
      const sent: string[] = [];
      const recorded: Queryable = {
        query: (sql, params) => (sent.push(sql.startsWith('WITH') ? 'WITH …' : sql.split(' ').slice(0, 3).join(' ')), outer.query(sql, params)),
        exec: (sql) => outer.exec(sql),
      };
      const { tx, runDeferred } = withDeferredWork(recorded);
      await fn(tx, sent);
      await runDeferred();
    });
  }

  it('sends the held writes of two kinds as one statement, before the read that needs them', async () => {
    await inTransaction(async (tx, sent) => {
      for (let n = 1; n <= 3; n++) {
        await write(tx, NOTES, { n, text: `note ${n}` });
        await write(tx, TAGS, `tag ${n}`);
      }
      expect(sent).toEqual([]);
      const { rows } = await tx.query<{ notes: number; tags: number }>('SELECT (SELECT count(*)::int FROM held_notes) AS notes, (SELECT count(*)::int FROM held_tags) AS tags');
      expect(rows[0]).toEqual({ notes: 3, tags: 3 });
      expect(sent).toEqual(['WITH …', 'SELECT (SELECT count(*)::int']);
    });
  });

  it('keeps the order of a kind’s rows, and of statements issued together', async () => {
    await inTransaction(async (tx) => {
      for (const n of [3, 1, 2]) await write(tx, NOTES, { n, text: `note ${n}` });
      // Issued in the same tick: the held notes still go first, then these two in order.
      const [, after] = await Promise.all([
        tx.query("INSERT INTO held_notes (n, text) VALUES (4, 'direct')"),
        tx.query<{ n: number }>('SELECT n FROM held_notes ORDER BY id'),
      ]);
      expect(after.rows.map((r) => r.n)).toEqual([3, 1, 2, 4]);
    });
  });

  it('sends what is still held before COMMIT, and drops it with a rollback', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS held_probe (n int)');
    const PROBE: BatchableWrite<number> = { name: 'probe', statement: (rows, param) => `INSERT INTO held_probe (n) SELECT unnest(${param(rows)}::int[])` };
    try {
      await db.transaction(async (tx) => {
        await write(tx, PROBE, 1);
        await write(tx, PROBE, 2);
      });
      await expect(
        db.transaction(async (tx) => {
          await write(tx, PROBE, 3);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await write(db, PROBE, 4);
      const { rows } = await db.query<{ n: number }>('SELECT n FROM held_probe ORDER BY n');
      expect(rows.map((r) => r.n)).toEqual([1, 2, 4]);
    } finally {
      await db.query('DROP TABLE held_probe');
    }
  });

  it('fails the transaction when a held write fails, at the statement that sent it', async () => {
    await expect(
      inTransaction(async (tx) => {
        await write(tx, NOTES, { n: Number.NaN, text: 'not an int' });
        await tx.query('SELECT 1');
      }),
    ).rejects.toThrow(/\(writing the held notes\)$/);
  });
});
