import type { Db, Queryable } from '../../store/db.js';
import type { OpenIncident } from './judge-incident.js';

type Timestamp = Date | string;

/**
 * Claims this interval's reconciliation for the caller: the one instance whose update moves the
 * slot (start time / interval) forward runs it, whatever the number of replicas ticking.
 */
export async function claimReconcile(db: Queryable, now: Date, intervalMs: number, instance: string): Promise<boolean> {
  const slot = Math.floor(now.getTime() / intervalMs);
  const { rowCount } = await db.query(
    `INSERT INTO reconcile_runs (name, slot, claimed_by, started_at) VALUES ('alertmanager', $1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET slot = excluded.slot, claimed_by = excluded.claimed_by, started_at = excluded.started_at
      WHERE reconcile_runs.slot < excluded.slot`,
    [slot, instance, now],
  );
  return rowCount > 0;
}

interface OpenIncidentRow {
  id: string;
  number: number;
  receiver: string;
  group_key: string;
  truncated_alerts: number;
  silence_id: string | null;
  silence_ends_at: Timestamp | null;
  silence_by: string | null;
  firing: Array<{ fingerprint: string; starts_at: string; missing_since: string | null }>;
}

/** Firing incidents with their firing alerts, in one statement. */
export async function openIncidentsToReconcile(db: Queryable): Promise<OpenIncident[]> {
  const { rows } = await db.query<OpenIncidentRow>(
    `SELECT i.id, i.number, i.receiver, i.group_key, i.truncated_alerts, i.silence_id, i.silence_ends_at, i.silence_by,
            coalesce((SELECT jsonb_agg(jsonb_build_object('fingerprint', a.fingerprint, 'starts_at', a.starts_at, 'missing_since', a.missing_since))
                        FROM alerts a WHERE a.incident_id = i.id AND a.status = 'firing'), '[]'::jsonb) AS firing
       FROM incidents i
      WHERE i.status = 'firing'
      ORDER BY i.opened_at`,
  );
  return rows.map((r) => ({
    id: r.id,
    number: r.number,
    receiver: r.receiver,
    groupKey: r.group_key,
    truncatedAlerts: r.truncated_alerts,
    ...(r.silence_id && r.silence_ends_at ? { silence: { id: r.silence_id, endsAt: new Date(r.silence_ends_at), by: r.silence_by ?? '' } } : {}),
    firing: r.firing.map((a) => ({ fingerprint: a.fingerprint, startsAt: new Date(a.starts_at), ...(a.missing_since ? { missingSince: new Date(a.missing_since) } : {}) })),
  }));
}

/** Remembers since when firing alerts are missing from every reachable Alertmanager (`since`), or forgets it (`null`). */
export async function markMissing(db: Queryable, incidentId: string, fingerprints: readonly string[], since: Date | null): Promise<void> {
  if (fingerprints.length === 0) return;
  await db.query(`UPDATE alerts SET missing_since = $3 WHERE incident_id = $1 AND fingerprint = ANY($2::text[]) AND status = 'firing'`, [incidentId, fingerprints, since]);
}

/** Locks the incident and reads its silence: what a silence change is compared with. */
export async function silenceForUpdate(tx: Queryable, incidentId: string): Promise<{ status: string; silence?: { id: string; endsAt: Date; by: string } } | undefined> {
  const { rows } = await tx.query<{ status: string; silence_id: string | null; silence_ends_at: Timestamp | null; silence_by: string | null }>(
    'SELECT status, silence_id, silence_ends_at, silence_by FROM incidents WHERE id = $1 FOR UPDATE',
    [incidentId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { status: r.status, ...(r.silence_id && r.silence_ends_at ? { silence: { id: r.silence_id, endsAt: new Date(r.silence_ends_at), by: r.silence_by ?? '' } } : {}) };
}

/**
 * Records whether an Alertmanager answered. Returns the change, when there is one: `down` at
 * the first failed check of an outage, `up` at the first good one after it (so each is logged once,
 * whichever instance checks), with since when it had been in the state it left.
 */
export async function recordReachability(db: Db, url: string, reachable: boolean, now: Date, error?: string): Promise<{ change?: 'down' | 'up'; since?: Date }> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ reachable: boolean; since: Timestamp }>('SELECT reachable, since FROM alertmanager_reachability WHERE url = $1 FOR UPDATE', [url]);
    const before = rows[0];
    if (!before) {
      await tx.query('INSERT INTO alertmanager_reachability (url, reachable, since, checked_at, last_error) VALUES ($1, $2, $3, $3, $4) ON CONFLICT (url) DO NOTHING', [url, reachable, now, error ?? null]);
      return reachable ? {} : { change: 'down' };
    }
    const flipped = before.reachable !== reachable;
    await tx.query(
      `UPDATE alertmanager_reachability SET reachable = $2, since = CASE WHEN $5 THEN $3 ELSE since END, checked_at = $3, last_error = $4 WHERE url = $1`,
      [url, reachable, now, error ?? null, flipped],
    );
    if (!flipped) return {};
    return { change: reachable ? 'up' : 'down', since: new Date(before.since) };
  });
}

/** Every Alertmanager's last known reachability, for the metric. */
export async function reachabilities(db: Queryable): Promise<Array<{ url: string; reachable: boolean }>> {
  const { rows } = await db.query<{ url: string; reachable: boolean }>('SELECT url, reachable FROM alertmanager_reachability ORDER BY url');
  return rows;
}
