import type { Queryable } from '../store/db.js';

/** One scheduled run of a route's automation rule for an incident. */
export interface DueAutomation {
  id: string;
  incidentId: string;
  routeName: string;
  alertname: string;
  actionId: string;
  target: string | null;
  input: Record<string, unknown>;
  maxPerHour: number;
  afterMs: number;
}

/** What the incident looks like when its automation is due. */
export interface IncidentAtDue {
  status: 'firing' | 'resolved';
  acknowledgedBy: string | null;
  /** An alert with the rule's alertname still fires. */
  stillFiring: boolean;
}

export interface NewAutomation extends DueAutomation {
  createdAt: Date;
  dueAt: Date;
}

// Key space of the per (action, target) advisory locks that make maxPerHour exact ("auto").
const RATE_LOCK = 0x6175746f;

interface AutomationRow {
  id: string;
  incident_id: string;
  route_name: string;
  alertname: string;
  action_id: string;
  target: string | null;
  input: Record<string, unknown>;
  max_per_hour: number;
  after_ms: number;
}

const toDue = (r: AutomationRow): DueAutomation => ({
  id: r.id,
  incidentId: r.incident_id,
  routeName: r.route_name,
  alertname: r.alertname,
  actionId: r.action_id,
  target: r.target,
  input: r.input,
  maxPerHour: r.max_per_hour,
  afterMs: r.after_ms,
});

/** Schedules a run unless one for the same incident and rule is still waiting. */
export async function insertAutomation(tx: Queryable, a: NewAutomation): Promise<void> {
  await tx.query(
    `INSERT INTO automations (id, incident_id, route_name, alertname, action_id, target, input, max_per_hour, after_ms, created_at, due_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)
     ON CONFLICT (incident_id, route_name, alertname, action_id) WHERE state = 'pending' DO NOTHING`,
    [a.id, a.incidentId, a.routeName, a.alertname, a.actionId, a.target, JSON.stringify(a.input), a.maxPerHour, a.afterMs, a.createdAt, a.dueAt],
  );
}

/** The alertnames among `fingerprints` of the incident that are firing now. */
export async function firingAlertnames(tx: Queryable, incidentId: string, fingerprints: readonly string[]): Promise<Set<string>> {
  const { rows } = await tx.query<{ alertname: string | null }>(
    `SELECT DISTINCT labels->>'alertname' AS alertname FROM alerts WHERE incident_id = $1 AND status = 'firing' AND fingerprint = ANY($2::text[])`,
    [incidentId, fingerprints],
  );
  return new Set(rows.flatMap((r) => (r.alertname ? [r.alertname] : [])));
}

/**
 * The oldest due run no other instance holds, locked until the transaction ends, with its
 * incident as it is now (share-locked, so an acknowledgement commits before or after the decision).
 */
export async function claimDue(tx: Queryable, now: Date): Promise<{ due: DueAutomation; incident: IncidentAtDue } | undefined> {
  const { rows } = await tx.query<AutomationRow>(
    `SELECT * FROM automations WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [now],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { rows: incidents } = await tx.query<{ status: 'firing' | 'resolved'; acknowledged_by: string | null; still_firing: boolean }>(
    `SELECT i.status, i.acknowledged_by,
            EXISTS (SELECT 1 FROM alerts a WHERE a.incident_id = i.id AND a.status = 'firing' AND a.labels->>'alertname' = $2) AS still_firing
       FROM incidents i WHERE i.id = $1 FOR SHARE`,
    [row.incident_id, row.alertname],
  );
  const incident = incidents[0]!;
  return { due: toDue(row), incident: { status: incident.status, acknowledgedBy: incident.acknowledged_by, stillFiring: incident.still_firing } };
}

/**
 * How many automatic runs of the action on the target started since `since` (refusals and invalid
 * input do not count: nothing ran). Takes the (action, target) lock first, so instances deciding at
 * the same time count each other.
 */
export async function startedSince(tx: Queryable, actionId: string, target: string, since: Date): Promise<{ count: number; last?: Date }> {
  await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))', [RATE_LOCK, `${actionId}\n${target}`]);
  const { rows } = await tx.query<{ n: number; last: Date | string | null }>(
    `SELECT count(*)::int AS n, max(started_at) AS last FROM automations
      WHERE action_id = $1 AND target = $2 AND started_at > $3 AND (run_status IS NULL OR run_status NOT IN ('refused', 'invalid'))`,
    [actionId, target, since],
  );
  const r = rows[0];
  return { count: r?.n ?? 0, ...(r?.last ? { last: new Date(r.last) } : {}) };
}

export async function markRunning(tx: Queryable, id: string, now: Date, leaseUntil: Date): Promise<void> {
  await tx.query(`UPDATE automations SET state = 'running', started_at = $2, lease_until = $3 WHERE id = $1`, [id, now, leaseUntil]);
}

export async function markSkipped(tx: Queryable, id: string, now: Date, reason: string): Promise<void> {
  await tx.query(`UPDATE automations SET state = 'skipped', finished_at = $2, reason = $3 WHERE id = $1`, [id, now, reason]);
}

/** Records what dispatch answered; false when the row was swept as abandoned meanwhile. */
export async function markDone(q: Queryable, id: string, outcome: { now: Date; ref: string; status: string; reason?: string }): Promise<boolean> {
  const { rows } = await q.query<{ id: string }>(
    `UPDATE automations SET state = 'done', finished_at = $2, run_ref = $3, run_status = $4, reason = $5 WHERE id = $1 AND state = 'running' RETURNING id`,
    [id, outcome.now, outcome.ref, outcome.status, outcome.reason ?? null],
  );
  return rows.length > 0;
}

/** Runs whose instance stopped mid-run (their lease ran out): ended as failed, once, by one instance. */
export async function sweepAbandoned(q: Queryable, now: Date, reason: string): Promise<DueAutomation[]> {
  const { rows } = await q.query<AutomationRow>(
    `UPDATE automations SET state = 'done', finished_at = $1, run_status = 'failed', reason = $2
      WHERE id IN (SELECT id FROM automations WHERE state = 'running' AND lease_until < $1 FOR UPDATE SKIP LOCKED)
      RETURNING *`,
    [now, reason],
  );
  return rows.map(toDue);
}
