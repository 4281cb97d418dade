import type { Queryable } from './db.js';

export type ConsumeResult =
  | { ok: true; actionId: string; input: unknown }
  | { ok: false; reason: 'unknown' | 'used' | 'expired' | 'not_yours' };

/** Confirmations of destructive actions asked for from /ops: each works once, for its asker, before it expires. */
export function createConfirmationsRepository(db: Queryable) {
  return {
    async create(c: { id: string; actionId: string; input: unknown; actorId: string; now: Date; ttlMs: number }): Promise<void> {
      await db.query(
        'INSERT INTO confirmations (id, action_id, input, actor_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [c.id, c.actionId, JSON.stringify(c.input ?? {}), c.actorId, c.now, new Date(c.now.getTime() + c.ttlMs)],
      );
    },

    /** Uses the confirmation in one statement, so two clicks on Confirm cannot both succeed. */
    async consume(id: string, actorId: string, now: Date): Promise<ConsumeResult> {
      const { rows } = await db.query<{ action_id: string; input: unknown }>(
        `UPDATE confirmations SET used_at = $3
          WHERE id = $1 AND actor_id = $2 AND used_at IS NULL AND expires_at > $3
          RETURNING action_id, input`,
        [id, actorId, now],
      );
      if (rows[0]) return { ok: true, actionId: rows[0].action_id, input: rows[0].input };
      const found = await db.query<{ actor_id: string; used_at: Date | null }>('SELECT actor_id, used_at FROM confirmations WHERE id = $1', [id]);
      const row = found.rows[0];
      if (!row) return { ok: false, reason: 'unknown' };
      if (row.actor_id !== actorId) return { ok: false, reason: 'not_yours' };
      return { ok: false, reason: row.used_at ? 'used' : 'expired' };
    },

    /** Cancel is a use too: the prompt cannot be confirmed afterwards. */
    async cancel(id: string, actorId: string, now: Date): Promise<boolean> {
      const { rowCount } = await db.query('UPDATE confirmations SET used_at = $3 WHERE id = $1 AND actor_id = $2 AND used_at IS NULL', [id, actorId, now]);
      return rowCount > 0;
    },
  };
}

export type ConfirmationsRepository = ReturnType<typeof createConfirmationsRepository>;
