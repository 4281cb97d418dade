import type { Queryable } from './db.js';

/** Slack requests accepted recently, shared by every replica through the store (`slack_requests_seen`). */
export function createSeenRequestsRepository(db: Queryable) {
  return {
    /**
     * Records `key` until `expiresAt`; false when a live record of it already exists. One
     * statement, so two replicas receiving the same request cannot both see it as new. An expired
     * row that cleanup has not reached yet counts as absent.
     */
    async remember(key: string, expiresAt: Date, now: Date): Promise<boolean> {
      const { rows } = await db.query(
        `INSERT INTO slack_requests_seen (key, expires_at) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE slack_requests_seen.expires_at <= $3
         RETURNING key`,
        [key, expiresAt, now],
      );
      return rows.length === 1;
    },

    async seen(key: string, now: Date): Promise<boolean> {
      const { rows } = await db.query('SELECT 1 FROM slack_requests_seen WHERE key = $1 AND expires_at > $2', [key, now]);
      return rows.length > 0;
    },

    /** Deletes expired records; returns how many. */
    async forgetExpired(now: Date): Promise<number> {
      const { rowCount } = await db.query('DELETE FROM slack_requests_seen WHERE expires_at <= $1', [now]);
      return rowCount;
    },
  };
}

export type SeenRequestsRepository = ReturnType<typeof createSeenRequestsRepository>;
