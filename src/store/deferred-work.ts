import type { Queryable } from './db.js';

/**
 * Work to do once per transaction, however many changes ask for it: the storm digest lists every
 * incident a batch added, so it is rendered once, before COMMIT, rather than once per incident.
 * Outside a transaction (no `defer`), the work runs at once.
 */
export async function beforeCommit(tx: Queryable, key: string, work: (tx: Queryable) => Promise<void>): Promise<void> {
  if (tx.defer) tx.defer(key, work);
  else await work(tx);
}

/** A transaction's Queryable with `defer`, and what its Db runs before COMMIT. */
export function withDeferredWork(tx: Queryable): { tx: Queryable; runDeferred(): Promise<void> } {
  const pending = new Map<string, (tx: Queryable) => Promise<void>>();
  const done = new Set<string>();
  const deferring: Queryable = {
    query: (sql, params) => tx.query(sql, params),
    exec: (sql) => tx.exec(sql),
    defer(key, work) {
      if (!pending.has(key) && !done.has(key)) pending.set(key, work);
    },
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
    },
  };
}
