import { describe, expect, it } from 'vitest';
import { createIntake } from '../../src/alerts/intake.js';
import { parseNotification } from '../../src/alerts/webhook-schema.js';
import type { Db, Queryable } from '../../src/store/db.js';
import { createNotificationWriter, type PendingNotification } from '../../src/store/notification-writer.js';
import { firing, notification } from '../fixtures/alertmanager/notifications.js';
import { STORES, useMigratedStore } from '../helpers/migrated-store.js';

const pending = (groupKey: string, payloadJson = JSON.stringify({ groupKey })): PendingNotification => ({
  receivedAt: new Date(),
  receiver: 'team',
  groupKey,
  bodySha256: 'a'.repeat(64),
  payloadJson,
});

/** The store, counting the INSERTs sent to it. */
function countingInserts(db: Db): { store: Queryable; inserts: () => number } {
  let inserts = 0;
  return {
    store: {
      query: (sql, params) => {
        if (sql.startsWith('INSERT INTO notifications')) inserts += 1;
        return db.query(sql, params);
      },
      exec: (sql) => db.exec(sql),
    },
    inserts: () => inserts,
  };
}

const storedGroups = async (db: Db, prefix: string) =>
  (await db.query<{ group_key: string }>('SELECT group_key FROM notifications WHERE group_key LIKE $1 ORDER BY id', [`${prefix}%`])).rows.map((r) => r.group_key);

describe.each(STORES)('notification writer on %s', (kind) => {
  let db: Db;
  useMigratedStore(kind, (opened) => (db = opened), { max: 4 });

  it('writes a lone notification at once and groups the ones arriving meanwhile into few INSERTs', async () => {
    const { store, inserts } = countingInserts(db);
    const writer = createNotificationWriter(store, { maxInFlight: 1, maxBatch: 100 });
    const prefix = `group-commit-${Math.random()}-`;
    await writer.write(pending(`${prefix}lone`));
    expect(inserts()).toBe(1);
    await Promise.all(Array.from({ length: 40 }, (_, i) => writer.write(pending(`${prefix}${String(i).padStart(2, '0')}`))));
    // At most the first of the 40 goes alone (if nothing is under way); the others share one statement.
    expect(inserts() - 1).toBeLessThanOrEqual(2);
    const groups = await storedGroups(db, prefix);
    expect(groups).toHaveLength(41);
    expect(groups.slice(1)).toEqual(Array.from({ length: 40 }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`));
  });

  it('refuses only the row the store refuses; the rest of its batch is stored', async () => {
    const writer = createNotificationWriter(db, { maxInFlight: 1 });
    const prefix = `poison-${Math.random()}-`;
    const outcomes = await Promise.allSettled([
      writer.write(pending(`${prefix}first`)),
      writer.write(pending(`${prefix}a`)),
      writer.write(pending(`${prefix}bad`, '{"not json')),
      writer.write(pending(`${prefix}b`)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await storedGroups(db, prefix)).toEqual([`${prefix}first`, `${prefix}a`, `${prefix}b`]);
  });

  it('accepts bodies with characters the store refuses, replaced, and applies them in a batch', async () => {
    const intake = createIntake({ db, now: () => new Date() });
    const groupKey = `{}:{run="unstorable-${Math.random()}"}`;
    const body = notification([firing('aaaa', '2026-03-01T10:00:00Z', { note: 'nul \u0000 and lone \ud83d surrogate' })], { groupKey });
    const text = JSON.stringify(body);
    const parsed = parseNotification(JSON.parse(text));
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    await intake.accept(parsed.notification, { json: JSON.parse(text), sha256: 'b'.repeat(64), text });
    await intake.accept(parsed.notification, { json: JSON.parse(text), sha256: 'b'.repeat(64), text });

    const { rows } = await db.query<{ id: string; received_at: Date; payload: unknown }>('SELECT id::text AS id, received_at, payload FROM notifications WHERE group_key = $1 ORDER BY id', [groupKey]);
    expect(rows).toHaveLength(2);
    const batch = rows.map((row) => {
      const stored = parseNotification(row.payload);
      if (!stored.ok) throw new Error(stored.problems.join('; '));
      return { stored: { id: row.id, receivedAt: new Date(row.received_at), payload: row.payload }, notification: stored.notification };
    });
    expect(batch[0]!.notification.alerts[0]!.labels.note).toBe('nul \uFFFD and lone \uFFFD surrogate');
    const results = await intake.applyStoredBatch(batch);
    expect(results.map((r) => [r?.created, r?.events.map((e) => e.kind)])).toEqual([[true, ['opened']], [false, []]]);
  });
});
