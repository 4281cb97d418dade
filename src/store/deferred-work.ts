import type { Queryable } from './db.js';
import { createHeldWrites } from './held-writes.js';

/**
 * Work to do once per transaction, however many changes ask for it: the storm digest lists every
 * incident a batch added, so it is rendered once, before COMMIT, rather than once per incident.
 * Outside a transaction (no `defer`), the work runs at once.
 */
export async function beforeCommit(tx: Queryable, key: string, work: (tx: Queryable) => Promise<void>): Promise<void> {
  if (tx.defer) tx.defer(key, work);
  else await work(tx);
}

/**
 * A transaction's Queryable with `defer` and `hold`, and what its Db runs before COMMIT: the
 * deferred work, then the writes still held. Every statement sends the held writes first, so the
 * transaction reads its own writes as if they had been sent one by one.
 */
export function withDeferredWork(tx: Queryable): { tx: Queryable; runDeferred(): Promise<void> } {
  const pending = new Map<string, (tx: Queryable) => Promise<void>>();
  const done = new Set<string>();
  const held = createHeldWrites();
  // The held writes are queued right ahead of the statement, in the same tick, so statements
  // issued together still reach PostgreSQL in the order they were issued.
  const afterHeld = async <T>(send: () => Promise<T>): Promise<T> => {
    const batch = held.take();
    if (!batch) return send();
    const sent = tx.query(batch.sql, batch.params).catch((error: unknown) => {
      // The statement that sent them is not the one that failed: say which writes did.
      if (error instanceof Error) error.message = `${error.message} (writing the held ${batch.what})`;
      throw error;
    });
    const [, result] = await Promise.all([sent, send()]);
    return result;
  };
  const deferring: Queryable = {
    query: (sql, params) => afterHeld(() => tx.query(sql, params)),
    exec: (sql) => afterHeld(() => tx.exec(sql)),
    defer(key, work) {
      if (!pending.has(key) && !done.has(key)) pending.set(key, work);
    },
    hold: (kind, row) => held.hold(kind, row),
  };
  return {
    tx: deferring,
    async runDeferred() {
      // The iteration also reaches work deferred by deferred work.
      for (const [key, work] of pending) {
        pending.delete(key);
        done.add(key);
        await work(deferring);
      }
      await afterHeld(async () => undefined);
    },
  };
}
