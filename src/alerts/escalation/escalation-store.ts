import type { Queryable } from '../../store/db.js';
import type { Severity } from '../apply-notification.js';
import type { IncidentStatus } from '../incident-view.js';
import type { EscalationSnapshot } from './engine.js';

/** An escalation as the ticker sees it once claimed: progress, the frozen policy, and the incident now. */
export interface ClaimedEscalation {
  incidentId: string;
  episode: number;
  startedAt: Date;
  notifiedSteps: number;
  remindersSent: number;
  nextDueAt: Date;
  /** Since when a silence pauses the ladder; absent when it runs. */
  pausedAt?: Date;
  snapshot: EscalationSnapshot;
  incident: EscalationIncident;
}

/** What escalation needs to know of an incident, read under its row lock. */
export interface EscalationIncident {
  id: string;
  number: number;
  status: IncidentStatus;
  severity: Severity;
  title: string;
  service?: string;
  channel?: string;
  commonLabels: Readonly<Record<string, string>>;
  groupLabels: Readonly<Record<string, string>>;
  openedAt: Date;
  acknowledged?: { userId: string; at: Date };
  /** The Alertmanager silence covering every firing alert, as the incident records it (it may have ended since). */
  silence?: { id: string; endsAt: Date };
}

type Timestamp = Date | string;

interface IncidentColumns {
  id: string;
  number: number;
  status: IncidentStatus;
  severity: Severity;
  title: string;
  service: string | null;
  channel: string | null;
  common_labels: Record<string, string>;
  group_labels: Record<string, string>;
  opened_at: Timestamp;
  acknowledged_by: string | null;
  acknowledged_at: Timestamp | null;
  silence_id: string | null;
  silence_ends_at: Timestamp | null;
}

const INCIDENT_COLUMNS =
  'i.id, i.number, i.status, i.severity, i.title, i.service, i.channel, i.common_labels, i.group_labels, i.opened_at, i.acknowledged_by, i.acknowledged_at, i.silence_id, i.silence_ends_at';

const toIncident = (r: IncidentColumns): EscalationIncident => ({
  id: r.id,
  number: r.number,
  status: r.status,
  severity: r.severity,
  title: r.title,
  ...(r.service ? { service: r.service } : {}),
  ...(r.channel ? { channel: r.channel } : {}),
  commonLabels: r.common_labels,
  groupLabels: r.group_labels,
  openedAt: new Date(r.opened_at),
  ...(r.acknowledged_by && r.acknowledged_at ? { acknowledged: { userId: r.acknowledged_by, at: new Date(r.acknowledged_at) } } : {}),
  ...(r.silence_id && r.silence_ends_at ? { silence: { id: r.silence_id, endsAt: new Date(r.silence_ends_at) } } : {}),
});

type EscalationRow = IncidentColumns & { escalation_policy: EscalationSnapshot | null };

const toEscalationIncident = (row: EscalationRow) => ({ incident: toIncident(row), ...(row.escalation_policy ? { snapshot: row.escalation_policy } : {}) });

/**
 * The incidents with their frozen policies, read in one statement in the caller's transaction
 * (the intake and desk already hold their row locks), keyed by id; unknown ids are absent.
 */
export async function escalationIncidents(tx: Queryable, incidentIds: readonly string[]): Promise<Map<string, { incident: EscalationIncident; snapshot?: EscalationSnapshot }>> {
  if (incidentIds.length === 0) return new Map();
  const { rows } = await tx.query<EscalationRow>(`SELECT ${INCIDENT_COLUMNS}, i.escalation_policy FROM incidents i WHERE i.id = ANY($1::uuid[])`, [incidentIds]);
  return new Map(rows.map((row) => [row.id, toEscalationIncident(row)]));
}

/** Freezes the policy onto the incident and creates its progress row (once: a second call changes nothing). */
export async function beginEscalation(tx: Queryable, incidentId: string, snapshot: EscalationSnapshot, startedAt: Date, nextDueAt: Date | null): Promise<boolean> {
  await tx.query('UPDATE incidents SET escalation_policy = $2::jsonb WHERE id = $1 AND escalation_policy IS NULL', [incidentId, JSON.stringify(snapshot)]);
  const { rowCount } = await tx.query(
    `INSERT INTO escalations (incident_id, started_at, next_due_at, updated_at) VALUES ($1, $2, $3, $2)
     ON CONFLICT (incident_id) DO NOTHING`,
    [incidentId, startedAt, nextDueAt],
  );
  return rowCount > 0;
}

/** Starts the ladder again from its first level (the incident reopened); false when it has none. */
export async function restartEscalation(tx: Queryable, incidentId: string, startedAt: Date, nextDueAt: Date | null): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE escalations SET episode = episode + 1, started_at = $2, notified_steps = 0, reminders_sent = 0, next_due_at = $3, paused_at = NULL, updated_at = $2
      WHERE incident_id = $1`,
    [incidentId, startedAt, nextDueAt],
  );
  return rowCount > 0;
}

export interface EscalationProgressRow {
  episode: number;
  startedAt: Date;
  notifiedSteps: number;
  remindersSent: number;
  nextDueAt?: Date;
  pausedAt?: Date;
}

interface ProgressColumns {
  episode: number;
  started_at: Timestamp;
  notified_steps: number;
  reminders_sent: number;
  next_due_at: Timestamp | null;
  paused_at: Timestamp | null;
}

const toProgress = (r: ProgressColumns): EscalationProgressRow => ({
  episode: r.episode,
  startedAt: new Date(r.started_at),
  notifiedSteps: r.notified_steps,
  remindersSent: r.reminders_sent,
  ...(r.next_due_at ? { nextDueAt: new Date(r.next_due_at) } : {}),
  ...(r.paused_at ? { pausedAt: new Date(r.paused_at) } : {}),
});

/** The progress row, locked for the caller's transaction. */
export async function progressForUpdate(tx: Queryable, incidentId: string): Promise<EscalationProgressRow | undefined> {
  const { rows } = await tx.query<ProgressColumns>(
    'SELECT episode, started_at, notified_steps, reminders_sent, next_due_at, paused_at FROM escalations WHERE incident_id = $1 FOR UPDATE',
    [incidentId],
  );
  return rows[0] ? toProgress(rows[0]) : undefined;
}

/**
 * Claims the escalation due longest, skipping rows (and incidents) another transaction holds:
 * an instance firing a step, or a person acknowledging. Both rows stay locked until the caller's
 * transaction ends, so the incident state it reads is the one its writes commit against.
 */
export async function claimDueEscalation(tx: Queryable, now: Date, skip: readonly string[]): Promise<ClaimedEscalation | undefined> {
  const { rows } = await tx.query<IncidentColumns & ProgressColumns & { incident_id: string; escalation_policy: EscalationSnapshot | null }>(
    `SELECT e.incident_id, e.episode, e.started_at, e.notified_steps, e.reminders_sent, e.next_due_at, e.paused_at, i.escalation_policy, ${INCIDENT_COLUMNS}
       FROM escalations e JOIN incidents i ON i.id = e.incident_id
      WHERE e.next_due_at <= $1 AND e.incident_id::text NOT IN (SELECT jsonb_array_elements_text($2::jsonb))
      ORDER BY e.next_due_at, e.incident_id
      LIMIT 1
      FOR UPDATE OF e, i SKIP LOCKED`,
    [now, JSON.stringify(skip)],
  );
  const row = rows[0];
  if (!row) return undefined;
  const progress = toProgress(row);
  if (!row.escalation_policy) throw new Error(`escalation of incident ${row.incident_id} has no frozen policy`);
  return {
    incidentId: row.incident_id,
    episode: progress.episode,
    startedAt: progress.startedAt,
    notifiedSteps: progress.notifiedSteps,
    remindersSent: progress.remindersSent,
    nextDueAt: progress.nextDueAt ?? now,
    ...(progress.pausedAt ? { pausedAt: progress.pausedAt } : {}),
    snapshot: row.escalation_policy,
    incident: toIncident(row),
  };
}

/** Writes progress; fields left out keep their value. */
export async function saveProgress(
  tx: Queryable,
  incidentId: string,
  now: Date,
  change: { nextDueAt: Date | null; notifiedSteps?: number; remindersSent?: number },
): Promise<void> {
  await tx.query(
    `UPDATE escalations SET next_due_at = $2, notified_steps = coalesce($3, notified_steps), reminders_sent = coalesce($4, reminders_sent), updated_at = $5
      WHERE incident_id = $1`,
    [incidentId, change.nextDueAt, change.notifiedSteps ?? null, change.remindersSent ?? null, now],
  );
}

/** Pauses the ladder (a silence covers every firing alert) and looks again at `lookAgainAt`, when the silence ends; a pause keeps its first `paused_at`. */
export async function pauseEscalation(tx: Queryable, incidentId: string, now: Date, lookAgainAt: Date): Promise<void> {
  await tx.query('UPDATE escalations SET paused_at = coalesce(paused_at, $2), next_due_at = $3, updated_at = $2 WHERE incident_id = $1', [incidentId, now, lookAgainAt]);
}

/**
 * Ends a pause: the ladder's start moves on by the time it was paused, so the steps still to come
 * keep the distance they had and none already paged is paged again. Returns the new start.
 */
export async function resumeEscalation(tx: Queryable, incidentId: string, now: Date, startedAt: Date, pausedAt: Date): Promise<Date> {
  const resumedStart = new Date(startedAt.getTime() + Math.max(0, now.getTime() - pausedAt.getTime()));
  await tx.query('UPDATE escalations SET paused_at = NULL, started_at = $2, updated_at = $3 WHERE incident_id = $1', [incidentId, resumedStart, now]);
  return resumedStart;
}

export interface FiredStep {
  incidentId: string;
  episode: number;
  step: number;
  level: number;
  dueAt: Date;
  firedAt: Date;
  collapsed: number;
  targets: string[];
  nobody: string[];
}

/** Records a fired step; the primary key refuses the same step twice, which rolls the second firing back. */
export async function recordStep(tx: Queryable, s: FiredStep): Promise<void> {
  await tx.query(
    `INSERT INTO escalation_steps (incident_id, episode, step, level, due_at, fired_at, collapsed, targets, nobody)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)`,
    [s.incidentId, s.episode, s.step, s.level, s.dueAt, s.firedAt, s.collapsed, JSON.stringify(s.targets), JSON.stringify(s.nobody)],
  );
}

/**
 * Whether the incident's Slack thread exists or is about to (its parent posted, or its post
 * waiting in the outbox). Incidents with no route, or listed only in a storm digest, have none:
 * a reply to them would wait for a parent that may never come.
 */
export async function hasThread(tx: Queryable, messageKey: string): Promise<boolean> {
  const { rows } = await tx.query<{ yes: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM slack_messages WHERE message_key = $1)
         OR EXISTS (SELECT 1 FROM outbox WHERE message_key = $1 AND kind = 'post' AND state = 'pending') AS yes`,
    [messageKey],
  );
  return rows[0]?.yes === true;
}

/** Incidents firing now, for the open-incidents gauge. */
export async function countOpenIncidents(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM incidents WHERE status = 'firing'`);
  return rows[0]?.n ?? 0;
}
