import type { Queryable } from '../../src/store/db.js';

/**
 * `POST /alertmanager` answers once the notification is stored and applies it afterwards: this
 * waits until no notification of the group is pending, then gives the group's latest incident number.
 */
export async function appliedIncident(db: Queryable, groupKey: string, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ pending: number; number: number | null }>(
      `SELECT (SELECT count(*)::int FROM notifications WHERE group_key = $1 AND processed_at IS NULL) AS pending,
              (SELECT number FROM incidents WHERE group_key = $1 ORDER BY opened_at DESC, number DESC LIMIT 1) AS number`,
      [groupKey],
    );
    if (rows[0]!.pending === 0 && rows[0]!.number !== null) return rows[0]!.number;
    if (Date.now() > deadline) throw new Error(`the notification for ${groupKey} was not applied within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
