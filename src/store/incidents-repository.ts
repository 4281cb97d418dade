import type { AlertState, IncidentEvent, IncidentState, Severity } from '../alerts/apply-notification.js';
import { viewOfState, type IncidentStatus, type IncidentView } from '../alerts/incident-view.js';
import type { Queryable } from './db.js';
import { write, type BatchableWrite } from './held-writes.js';
import { toJsonb } from './storable.js';
import { labelSet } from '../alerts/webhook-schema.js';

/** An incident as stored: its identity, and the state the transitions work on. */
export interface StoredIncident {
  id: string;
  number: number;
  version: number;
  /** The Slack channel it was routed to; null before it was. */
  channel: string | null;
  state: IncidentState;
}

/** One row of an incident's timeline. */
export interface TimelineEntry {
  id: number;
  incidentId: string;
  at: Date;
  kind: IncidentEvent['kind'];
  actor: string;
  data: Record<string, unknown>;
}

/** What a button or command changed; `events` is empty when it was already so (or not allowed). */
export interface ChangeResult {
  found: boolean;
  events: IncidentEvent[];
}

type Labels = Record<string, string>;
type Timestamp = Date | string;

interface IncidentRow {
  id: string;
  number: number;
  receiver: string;
  group_key: string;
  status: IncidentStatus;
  severity: Severity;
  title: string;
  service: string | null;
  group_labels: Labels;
  common_labels: Labels;
  common_annotations: Labels;
  external_url: string;
  truncated_alerts: number;
  started_at: Timestamp | null;
  resolved_at: Timestamp | null;
  resolved_by: string | null;
  acknowledged_by: string | null;
  acknowledged_at: Timestamp | null;
  silence_id: string | null;
  silence_ends_at: Timestamp | null;
  silence_by: string | null;
  channel: string | null;
  opened_at: Timestamp;
  updated_at: Timestamp;
  version: number;
}

interface AlertRow {
  incident_id: string;
  fingerprint: string;
  status: IncidentStatus;
  labels: Labels;
  annotations: Labels;
  starts_at: Timestamp | null;
  ends_at: Timestamp | null;
  generator_url: string;
  updated_at: Timestamp;
}

interface TimelineRow {
  id: number | string;
  incident_id: string;
  at: Timestamp;
  kind: IncidentEvent['kind'];
  actor: string;
  data: Record<string, unknown>;
}

const date = (value: Timestamp) => new Date(value);
// Label sets as the intake parsed them: null-prototype, so `__proto__` or `toString` labels are ordinary entries.
const ownLabels = (labels: Labels) => labelSet(Object.entries(labels));

const toAlertState = (r: AlertRow): AlertState => ({
  fingerprint: r.fingerprint,
  status: r.status,
  labels: ownLabels(r.labels),
  annotations: ownLabels(r.annotations),
  ...(r.starts_at ? { startsAt: date(r.starts_at) } : {}),
  ...(r.ends_at ? { endsAt: date(r.ends_at) } : {}),
  generatorURL: r.generator_url,
  updatedAt: date(r.updated_at),
});

function toState(r: IncidentRow, alerts: readonly AlertRow[]): IncidentState {
  return {
    status: r.status,
    severity: r.severity,
    title: r.title,
    ...(r.service ? { service: r.service } : {}),
    receiver: r.receiver,
    groupKey: r.group_key,
    groupLabels: ownLabels(r.group_labels),
    commonLabels: ownLabels(r.common_labels),
    commonAnnotations: ownLabels(r.common_annotations),
    externalURL: r.external_url,
    truncatedAlerts: r.truncated_alerts,
    ...(r.started_at ? { startedAt: date(r.started_at) } : {}),
    openedAt: date(r.opened_at),
    updatedAt: date(r.updated_at),
    ...(r.resolved_at ? { resolvedAt: date(r.resolved_at) } : {}),
    ...(r.resolved_by ? { resolvedBy: r.resolved_by } : {}),
    ...(r.acknowledged_by && r.acknowledged_at ? { acknowledged: { userId: r.acknowledged_by, at: date(r.acknowledged_at) } } : {}),
    ...(r.silence_id && r.silence_ends_at ? { silence: { id: r.silence_id, endsAt: date(r.silence_ends_at), by: r.silence_by ?? '' } } : {}),
    alerts: new Map(alerts.map((a) => [a.fingerprint, toAlertState(a)])),
  };
}

const toView = (r: IncidentRow, alertRows: readonly AlertRow[]): IncidentView => viewOfState(r.id, r.number, toState(r, alertRows));

interface EscalationRow {
  levels: number;
  notified_steps: number;
  next_due_at: Timestamp | null;
}

/** An incident row with what its view needs besides: its alerts and its escalation, read in the same statement. */
type ViewRow = IncidentRow & { alert_rows: AlertRow[]; escalation_row: EscalationRow | null };

// An incident's alerts as a column of `SELECT i.* … FROM incidents i`.
const ALERT_ROWS = `coalesce((SELECT jsonb_agg(to_jsonb(a)) FROM alerts a WHERE a.incident_id = i.id), '[]'::jsonb) AS alert_rows`;

// Appended to `SELECT i.*` over `incidents i`: one round trip per view, whatever the number of incidents.
const VIEW_COLUMNS = `
  ${ALERT_ROWS},
  (SELECT jsonb_build_object('notified_steps', e.notified_steps, 'next_due_at', e.next_due_at, 'levels', jsonb_array_length(i.escalation_policy -> 'levels'))
     FROM escalations e WHERE e.incident_id = i.id AND i.escalation_policy IS NOT NULL) AS escalation_row`;

/** How far an incident's escalation (migration 006) went: the level last paged (1-based; 0 before the first) and the next step. */
function escalationOf(r: ViewRow): IncidentView['escalation'] {
  const e = r.escalation_row;
  if (!e || !(e.levels > 0)) return undefined;
  const level = e.notified_steps === 0 ? 0 : ((e.notified_steps - 1) % e.levels) + 1;
  // Once acknowledged, next_due_at is the acknowledger's reminder, not a next level.
  const nextAt = e.next_due_at && !r.acknowledged_at ? { nextAt: date(e.next_due_at) } : {};
  return { level, levels: e.levels, ...nextAt };
}

function viewOf(r: ViewRow): IncidentView {
  const view = toView(r, r.alert_rows);
  const escalation = escalationOf(r);
  return escalation ? { ...view, escalation } : view;
}

// --- intake (inside its transaction) -------------------------------------------------------

// Key space of the per-group advisory locks; the second key is a hash of receiver and groupKey.
const GROUP_LOCK_CLASS = 0x73776269;

/**
 * Serializes every intake of one alert group until the transaction ends. A row lock cannot do
 * this alone: when the group has no open incident there may be no row to lock, and the choice
 * between reopening and opening anew must see the latest incident. Hash collisions only make
 * two groups wait for each other.
 */
export async function lockGroup(tx: Queryable, receiver: string, groupKey: string): Promise<void> {
  await lockGroups(tx, [{ receiver, groupKey }]);
}

/**
 * Rows of `table` in the alert group (receiver, groupKey). The indexes hold a hash of the two
 * texts (migration 012: a btree entry cannot hold a group key of any length), so the hash finds
 * the rows and the texts decide.
 */
const SAME_GROUP = (table: string, receiver: string, groupKey: string) =>
  `alert_group_hash(${table}.receiver, ${table}.group_key) = alert_group_hash(${receiver}, ${groupKey}) AND ${table}.receiver = ${receiver} AND ${table}.group_key = ${groupKey}`;

/** The group's open incident, else its latest resolved one, locked for the transaction. */
export async function latestIncidentForUpdate(tx: Queryable, receiver: string, groupKey: string): Promise<StoredIncident | undefined> {
  const open = await tx.query<IncidentRow>(`SELECT * FROM incidents WHERE ${SAME_GROUP('incidents', '$1', '$2')} AND status = 'firing' FOR UPDATE`, [receiver, groupKey]);
  const row =
    open.rows[0] ??
    (
      await tx.query<IncidentRow>(
        `SELECT * FROM incidents WHERE ${SAME_GROUP('incidents', '$1', '$2')} ORDER BY opened_at DESC, number DESC LIMIT 1 FOR UPDATE`,
        [receiver, groupKey],
      )
    ).rows[0];
  if (!row) return undefined;
  const { rows: alerts } = await tx.query<AlertRow>('SELECT * FROM alerts WHERE incident_id = $1', [row.id]);
  return { id: row.id, number: row.number, version: row.version, channel: row.channel, state: toState(row, alerts) };
}

/** An alert group's key: in `latestIncidentsForUpdate`'s answer, and hashed for its advisory lock. */
export const groupId = (receiver: string, groupKey: string) => `${receiver}\n${groupKey}`;

/** Takes the group locks of several groups in one statement, in a fixed order, so two batches cannot deadlock on them. */
export async function lockGroups(tx: Queryable, groups: ReadonlyArray<{ receiver: string; groupKey: string }>): Promise<void> {
  if (groups.length === 0) return;
  await tx.query(
    `SELECT pg_advisory_xact_lock($1::int, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY 1) AS keys`,
    [GROUP_LOCK_CLASS, groups.map((g) => groupId(g.receiver, g.groupKey))],
  );
}

/**
 * `latestIncidentForUpdate` for several groups in one statement, keyed by `groupId`; a group
 * without incidents is absent. Call it holding the groups' locks (`lockGroups`).
 */
export async function latestIncidentsForUpdate(tx: Queryable, groups: ReadonlyArray<{ receiver: string; groupKey: string }>): Promise<Map<string, StoredIncident>> {
  const found = new Map<string, StoredIncident>();
  if (groups.length === 0) return found;
  // The row lock re-reads a row another transaction changed meanwhile (an acknowledgement), so
  // the state is current; alerts only change under the group lock this transaction holds.
  const { rows } = await tx.query<IncidentRow & { alert_rows: AlertRow[] }>(
    `SELECT i.*, ${ALERT_ROWS}
       FROM incidents i
      WHERE i.id IN (SELECT (SELECT l.id FROM incidents l
                              WHERE ${SAME_GROUP('l', 'g.receiver', 'g.group_key')}
                              ORDER BY l.status = 'firing' DESC, l.opened_at DESC, l.number DESC LIMIT 1)
                       FROM unnest($1::text[], $2::text[]) AS g(receiver, group_key))
        FOR UPDATE OF i`,
    [groups.map((g) => g.receiver), groups.map((g) => g.groupKey)],
  );
  for (const row of rows) found.set(groupId(row.receiver, row.group_key), { id: row.id, number: row.number, version: row.version, channel: row.channel, state: toState(row, row.alert_rows) });
  return found;
}

/** An incident's columns as a `jsonb_to_recordset` row (see INCIDENT_RECORD). */
const incidentRecord = (id: string, s: IncidentState) => ({
  id,
  receiver: s.receiver,
  group_key: s.groupKey,
  status: s.status,
  severity: s.severity,
  title: s.title,
  service: s.service ?? null,
  group_labels: s.groupLabels,
  common_labels: s.commonLabels,
  common_annotations: s.commonAnnotations,
  external_url: s.externalURL,
  truncated_alerts: s.truncatedAlerts,
  started_at: s.startedAt?.toISOString() ?? null,
  resolved_at: s.resolvedAt?.toISOString() ?? null,
  resolved_by: s.resolvedBy ?? null,
  opened_at: s.openedAt.toISOString(),
  updated_at: s.updatedAt.toISOString(),
});

const INCIDENT_RECORD = `x(ord int, id uuid, receiver text, group_key text, status text, severity text, title text, service text, group_labels jsonb,
    common_labels jsonb, common_annotations jsonb, external_url text, truncated_alerts int, started_at timestamptz, resolved_at timestamptz,
    resolved_by text, opened_at timestamptz, updated_at timestamptz)`;

/** Rows for a `jsonb_to_recordset`, numbered so that a statement can keep their order. */
const records = <T extends object>(rows: readonly T[]) => toJsonb(rows.map((row, ord) => ({ ord, ...row })));

/**
 * Inserts new incidents in one statement, in the order given (their numbers follow it). The
 * answer lacks those whose group already has an open incident (the partial unique index decides,
 * also against writers that do not take the group lock).
 */
export async function insertIncidents(tx: Queryable, incidents: ReadonlyArray<{ id: string; state: IncidentState }>): Promise<Map<string, number>> {
  if (incidents.length === 0) return new Map();
  const { rows } = await tx.query<{ id: string; number: number }>(
    `INSERT INTO incidents (id, receiver, group_key, status, severity, title, service, group_labels, common_labels, common_annotations,
                            external_url, truncated_alerts, started_at, resolved_at, resolved_by, opened_at, updated_at)
     SELECT x.id, x.receiver, x.group_key, x.status, x.severity, x.title, x.service, x.group_labels, x.common_labels, x.common_annotations,
            x.external_url, x.truncated_alerts, x.started_at, x.resolved_at, x.resolved_by, x.opened_at, x.updated_at
       FROM jsonb_to_recordset($1::jsonb) AS ${INCIDENT_RECORD}
      ORDER BY x.ord
     ON CONFLICT (alert_group_hash(receiver, group_key)) WHERE status = 'firing' DO NOTHING
     RETURNING id, number`,
    [records(incidents.map((i) => incidentRecord(i.id, i.state)))],
  );
  return new Map(rows.map((r) => [r.id, r.number]));
}

export async function insertIncident(tx: Queryable, id: string, s: IncidentState): Promise<{ number: number } | undefined> {
  const number = (await insertIncidents(tx, [{ id, state: s }])).get(id);
  return number === undefined ? undefined : { number };
}

/** Writes what notifications changed, in one statement; acknowledgement and silence belong to their own calls. */
export async function updateIncidents(tx: Queryable, incidents: ReadonlyArray<{ id: string; state: IncidentState }>): Promise<void> {
  if (incidents.length === 0) return;
  await tx.query(
    `UPDATE incidents i
        SET receiver = x.receiver, group_key = x.group_key, status = x.status, severity = x.severity, title = x.title, service = x.service,
            group_labels = x.group_labels, common_labels = x.common_labels, common_annotations = x.common_annotations, external_url = x.external_url,
            truncated_alerts = x.truncated_alerts, started_at = x.started_at, resolved_at = x.resolved_at, resolved_by = x.resolved_by,
            opened_at = x.opened_at, updated_at = x.updated_at, version = i.version + 1
       FROM jsonb_to_recordset($1::jsonb) AS ${INCIDENT_RECORD}
      WHERE i.id = x.id`,
    [records(incidents.map((i) => incidentRecord(i.id, i.state)))],
  );
}

export async function updateIncident(tx: Queryable, id: string, s: IncidentState): Promise<void> {
  await updateIncidents(tx, [{ id, state: s }]);
}

/** Inserts or replaces alerts of any number of incidents in one statement; at most one row per incident and fingerprint. */
export async function upsertAlertsOf(tx: Queryable, alerts: ReadonlyArray<{ incidentId: string; alert: AlertState }>): Promise<void> {
  if (alerts.length === 0) return;
  const rows = alerts.map(({ incidentId, alert: a }) => ({
    incident_id: incidentId,
    fingerprint: a.fingerprint,
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    starts_at: a.startsAt?.toISOString() ?? null,
    ends_at: a.endsAt?.toISOString() ?? null,
    generator_url: a.generatorURL,
    updated_at: a.updatedAt.toISOString(),
  }));
  await tx.query(
    `INSERT INTO alerts (incident_id, fingerprint, status, labels, annotations, starts_at, ends_at, generator_url, updated_at)
     SELECT x.incident_id, x.fingerprint, x.status, x.labels, x.annotations, x.starts_at, x.ends_at, x.generator_url, x.updated_at
       FROM jsonb_to_recordset($1::jsonb) AS x(incident_id uuid, fingerprint text, status text, labels jsonb, annotations jsonb,
                                                starts_at timestamptz, ends_at timestamptz, generator_url text, updated_at timestamptz)
     ON CONFLICT (incident_id, fingerprint) DO UPDATE
        SET status = excluded.status, labels = excluded.labels, annotations = excluded.annotations, starts_at = excluded.starts_at,
            ends_at = excluded.ends_at, generator_url = excluded.generator_url, updated_at = excluded.updated_at`,
    [toJsonb(rows)],
  );
}

export async function upsertAlerts(tx: Queryable, incidentId: string, alerts: readonly AlertState[]): Promise<void> {
  await upsertAlertsOf(tx, alerts.map((alert) => ({ incidentId, alert })));
}

/** Appends events of any number of incidents in one statement; their ids follow the order given. */
export async function appendTimelines(tx: Queryable, events: ReadonlyArray<{ incidentId: string; event: IncidentEvent }>): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map(({ incidentId, event: e }) => ({ incident_id: incidentId, at: e.at.toISOString(), kind: e.kind, actor: e.actor, data: e.data }));
  await tx.query(
    `INSERT INTO timeline (incident_id, at, kind, actor, data)
     SELECT x.incident_id, x.at, x.kind, x.actor, x.data
       FROM jsonb_to_recordset($1::jsonb) AS x(ord int, incident_id uuid, at timestamptz, kind text, actor text, data jsonb)
      ORDER BY x.ord`,
    [records(rows)],
  );
}

export async function appendTimeline(tx: Queryable, incidentId: string, events: readonly IncidentEvent[]): Promise<void> {
  await appendTimelines(tx, events.map((event) => ({ incidentId, event })));
}

const ROUTES: BatchableWrite<{ incidentId: string; channel: string; routeName: string }> = {
  name: 'incident routes',
  statement: (rows, param) =>
    `UPDATE incidents i SET channel = x.channel, route_name = x.route_name
       FROM unnest(${param(rows.map((r) => r.incidentId))}::uuid[], ${param(rows.map((r) => r.channel))}::text[], ${param(rows.map((r) => r.routeName))}::text[])
            AS x(id, channel, route_name)
      WHERE i.id = x.id`,
};

/** Records where the incident was routed (held for the transaction's next statement). */
export function setRoute(tx: Queryable, incidentId: string, channel: string, routeName: string): Promise<void> {
  return write(tx, ROUTES, { incidentId, channel, routeName });
}

export interface NotificationRecord {
  receivedAt: Date;
  receiver: string;
  groupKey: string;
  bodySha256: string;
  payload: unknown;
}

export async function recordNotification(tx: Queryable, n: NotificationRecord): Promise<void> {
  await tx.query('INSERT INTO notifications (received_at, receiver, group_key, body_sha256, payload) VALUES ($1, $2, $3, $4, $5)', [
    n.receivedAt,
    n.receiver,
    n.groupKey,
    n.bodySha256,
    toJsonb(n.payload),
  ]);
}

// --- reads --------------------------------------------------------------------------------

export async function incidentView(db: Queryable, id: string): Promise<IncidentView | undefined> {
  return (await incidentViewWithChannel(db, id))?.view;
}

/** The view, and the channel the incident was routed to (null before it was). */
export async function incidentViewWithChannel(db: Queryable, id: string): Promise<{ view: IncidentView; channel: string | null } | undefined> {
  return (await incidentViewsWithChannel(db, [id])).get(id);
}

/** `incidentViewWithChannel` for several incidents in one statement, keyed by id; unknown ids are absent. */
export async function incidentViewsWithChannel(db: Queryable, ids: readonly string[]): Promise<Map<string, { view: IncidentView; channel: string | null }>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<ViewRow>(`SELECT i.*, ${VIEW_COLUMNS} FROM incidents i WHERE i.id = ANY($1::uuid[])`, [ids]);
  return new Map(rows.map((row) => [row.id, { view: viewOf(row), channel: row.channel }]));
}

export async function byNumber(db: Queryable, number: number): Promise<IncidentView | undefined> {
  if (!Number.isSafeInteger(number) || number < 1 || number > 2 ** 31 - 1) return undefined;
  const { rows } = await db.query<ViewRow>(`SELECT i.*, ${VIEW_COLUMNS} FROM incidents i WHERE i.number = $1`, [number]);
  return rows[0] ? viewOf(rows[0]) : undefined;
}

/** Open (firing) incidents, newest first. */
export async function openIncidents(db: Queryable, options: { limit: number }): Promise<IncidentView[]> {
  const { rows } = await db.query<ViewRow>(`SELECT i.*, ${VIEW_COLUMNS} FROM incidents i WHERE i.status = 'firing' ORDER BY i.opened_at DESC, i.number DESC LIMIT $1`, [
    options.limit,
  ]);
  return rows.map(viewOf);
}

export async function timelineOf(db: Queryable, incidentId: string): Promise<TimelineEntry[]> {
  const { rows } = await db.query<TimelineRow>('SELECT * FROM timeline WHERE incident_id = $1 ORDER BY id', [incidentId]);
  return rows.map((r) => ({ id: Number(r.id), incidentId: r.incident_id, at: date(r.at), kind: r.kind, actor: r.actor, data: r.data }));
}

// --- changes from buttons and commands ------------------------------------------------------

async function changed(tx: Queryable, id: string, event: IncidentEvent, result: { rowCount: number }): Promise<ChangeResult> {
  if (result.rowCount > 0) {
    await appendTimeline(tx, id, [event]);
    return { found: true, events: [event] };
  }
  const { rows } = await tx.query('SELECT 1 FROM incidents WHERE id = $1', [id]);
  return { found: rows.length > 0, events: [] };
}

/** Acknowledges an open incident; the first acknowledgement stands, and a resolved incident needs none. */
export async function acknowledge(tx: Queryable, id: string, userId: string, now: Date): Promise<ChangeResult> {
  const result = await tx.query(
    `UPDATE incidents SET acknowledged_by = $2, acknowledged_at = $3, updated_at = $3, version = version + 1
      WHERE id = $1 AND status = 'firing' AND acknowledged_at IS NULL`,
    [id, userId, now],
  );
  return changed(tx, id, { kind: 'acknowledged', at: now, actor: userId, data: {} }, result);
}

/**
 * Resolves an open incident by hand, while Alertmanager may still fire. Its alerts keep their
 * Alertmanager status; only an alert firing anew reopens or replaces the incident.
 */
export async function resolveManually(tx: Queryable, id: string, userId: string, now: Date): Promise<ChangeResult> {
  const result = await tx.query(
    `UPDATE incidents SET status = 'resolved', resolved_at = $3, resolved_by = $2, updated_at = $3, version = version + 1
      WHERE id = $1 AND status = 'firing'`,
    [id, userId, now],
  );
  return changed(tx, id, { kind: 'resolved', at: now, actor: userId, data: {} }, result);
}

/** Records the Alertmanager silence covering an incident (null: it was removed or expired). */
export async function setSilence(
  tx: Queryable,
  id: string,
  silence: { silenceId: string; endsAt: Date; by: string } | null,
  now: Date = new Date(),
  /** Who lifted the silence, when `silence` is null: a Slack user id, or what acted for Switchboard. */
  clearedBy = 'switchboard',
): Promise<ChangeResult> {
  if (silence) {
    const result = await tx.query(
      `UPDATE incidents SET silence_id = $2, silence_ends_at = $3, silence_by = $4, updated_at = $5, version = version + 1
        WHERE id = $1 AND (silence_id IS DISTINCT FROM $2 OR silence_ends_at IS DISTINCT FROM $3)`,
      [id, silence.silenceId, silence.endsAt, silence.by, now],
    );
    const event: IncidentEvent = { kind: 'silenced', at: now, actor: silence.by, data: { silenceId: silence.silenceId, endsAt: silence.endsAt.toISOString() } };
    return changed(tx, id, event, result);
  }
  const { rows } = await tx.query<{ silence_id: string }>(
    `UPDATE incidents i SET silence_id = NULL, silence_ends_at = NULL, silence_by = NULL, updated_at = $2, version = i.version + 1
       FROM (SELECT id, silence_id FROM incidents WHERE id = $1 AND silence_id IS NOT NULL FOR UPDATE) old
      WHERE i.id = old.id
      RETURNING old.silence_id`,
    [id, now],
  );
  const event: IncidentEvent = { kind: 'unsilenced', at: now, actor: clearedBy, data: { silenceId: rows[0]?.silence_id ?? '' } };
  return changed(tx, id, event, { rowCount: rows.length });
}
