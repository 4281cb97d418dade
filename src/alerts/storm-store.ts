import type { Queryable } from '../store/db.js';
import { write, type BatchableWrite } from '../store/held-writes.js';
import type { DigestIncident } from './render-digest.js';

/** A digest message and the storm it belongs to. */
export interface StormDigest {
  messageKey: string;
  channel: string;
  startedAt: Date;
  lastIncidentAt: Date;
}

/** Whether a digested incident has a thread of its own yet. */
export type DigestThread = 'digest' | 'requested' | 'open';

/** Where a digested incident is listed. */
export interface DigestPlacement {
  digest: StormDigest;
  thread: DigestThread;
}

// Key space of the per-channel advisory locks ("stor"); the second key is a hash of the channel.
const CHANNEL_LOCK = 0x73746f72;

interface DigestRow {
  message_key: string;
  channel: string;
  started_at: Date | string;
  last_incident_at: Date | string;
}

const toDigest = (r: DigestRow): StormDigest => ({
  messageKey: r.message_key,
  channel: r.channel,
  startedAt: new Date(r.started_at),
  lastIncidentAt: new Date(r.last_incident_at),
});

/**
 * Serializes the storm decisions of these channels until the transaction ends, so instances and
 * concurrent notifications count each other's new incidents instead of racing past the
 * threshold. One statement, in a fixed order: two batches that both touch channels A and B
 * cannot each hold one and wait for the other.
 */
export async function lockChannels(tx: Queryable, channels: readonly string[]): Promise<void> {
  if (channels.length === 0) return;
  await tx.query('SELECT pg_advisory_xact_lock($1::int, h) FROM (SELECT DISTINCT hashtext(c) AS h FROM unnest($2::text[]) AS c ORDER BY 1) AS keys', [
    CHANNEL_LOCK,
    [...new Set(channels)],
  ]);
}

/** The digest of that message key. */
export async function digestByKey(db: Queryable, messageKey: string): Promise<StormDigest | undefined> {
  const { rows } = await db.query<DigestRow>('SELECT * FROM storm_digests WHERE message_key = $1', [messageKey]);
  return rows[0] ? toDigest(rows[0]) : undefined;
}

/** Each channel's most recent storm, for the channels that ever had one. */
export async function latestDigests(tx: Queryable, channels: readonly string[]): Promise<Map<string, StormDigest>> {
  const { rows } = await tx.query<DigestRow>('SELECT DISTINCT ON (channel) * FROM storm_digests WHERE channel = ANY($1::text[]) ORDER BY channel, started_at DESC', [channels]);
  return new Map(rows.map((row) => [row.channel, toDigest(row)]));
}

/** Incidents routed to the channel that Switchboard opened after `since`. */
export async function countOpenedSince(tx: Queryable, channel: string, since: Date): Promise<number> {
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE channel = $1 AND opened_at > $2', [channel, since]);
  return rows[0]?.n ?? 0;
}

/** Starts a storm; undefined when a digest of that key exists already. */
export async function insertDigest(tx: Queryable, digest: StormDigest): Promise<StormDigest | undefined> {
  const { rows } = await tx.query<DigestRow>(
    `INSERT INTO storm_digests (message_key, channel, started_at, last_incident_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (message_key) DO NOTHING RETURNING *`,
    [digest.messageKey, digest.channel, digest.startedAt, digest.lastIncidentAt],
  );
  return rows[0] ? toDigest(rows[0]) : undefined;
}

const LISTINGS: BatchableWrite<{ incidentId: string; messageKey: string; at: Date }> = {
  name: 'storm digest listings',
  statement: (rows, param) =>
    `INSERT INTO storm_incidents (incident_id, message_key, added_at)
     SELECT * FROM unnest(${param(rows.map((r) => r.incidentId))}::uuid[], ${param(rows.map((r) => r.messageKey))}::text[], ${param(rows.map((r) => r.at))}::timestamptz[])
     ON CONFLICT (incident_id) DO NOTHING`,
};

/** Lists the incident in the digest (held for the transaction's next statement). */
export function addToDigest(tx: Queryable, incidentId: string, messageKey: string, now: Date): Promise<void> {
  return write(tx, LISTINGS, { incidentId, messageKey, at: now });
}

const TOUCHES: BatchableWrite<{ messageKey: string; at: Date }> = {
  name: 'storm digest touches',
  statement: (rows, param) =>
    `UPDATE storm_digests d SET last_incident_at = greatest(d.last_incident_at, x.at)
       FROM (SELECT k, max(t) AS at FROM unnest(${param(rows.map((r) => r.messageKey))}::text[], ${param(rows.map((r) => r.at))}::timestamptz[]) AS u(k, t) GROUP BY k) AS x
      WHERE d.message_key = x.k`,
};

/** Keeps the storm going: its last new incident came at `at` (held for the transaction's next statement). */
export function touchDigest(tx: Queryable, messageKey: string, at: Date): Promise<void> {
  return write(tx, TOUCHES, { messageKey, at });
}

/** The digest listing the incident, locked for the transaction; undefined for incidents with a thread of their own from the start. */
export async function placementOf(tx: Queryable, incidentId: string): Promise<DigestPlacement | undefined> {
  return (await placementsOf(tx, [incidentId])).get(incidentId);
}

/** `placementOf` for several incidents in one statement, keyed by incident id; those not digested are absent. */
export async function placementsOf(tx: Queryable, incidentIds: readonly string[]): Promise<Map<string, DigestPlacement>> {
  if (incidentIds.length === 0) return new Map();
  const { rows } = await tx.query<DigestRow & { incident_id: string; thread: DigestThread }>(
    `SELECT d.*, s.incident_id, s.thread FROM storm_incidents s JOIN storm_digests d ON d.message_key = s.message_key
      WHERE s.incident_id = ANY($1::uuid[]) ORDER BY s.incident_id FOR UPDATE OF s`,
    [incidentIds],
  );
  return new Map(rows.map((row) => [row.incident_id, { digest: toDigest(row), thread: row.thread }]));
}

/** Moves the incident's thread from one of `from` to `to`; false when it was elsewhere (or not digested). */
export async function setThread(tx: Queryable, incidentId: string, from: readonly DigestThread[], to: DigestThread): Promise<boolean> {
  const { rows } = await tx.query<{ thread: DigestThread }>(
    'UPDATE storm_incidents SET thread = $3 WHERE incident_id = $1 AND thread = ANY($2::text[]) RETURNING thread',
    [incidentId, from, to],
  );
  return rows.length > 0;
}

/** What the digest message lists: every incident in it, with its alert counts. */
export async function digestIncidents(tx: Queryable, messageKey: string): Promise<DigestIncident[]> {
  const { rows } = await tx.query<{ id: string; number: number; title: string; service: string | null; severity: string; status: 'firing' | 'resolved'; firing: number; resolved: number }>(
    `SELECT i.id, i.number, i.title, i.service, i.severity, i.status,
            count(a.fingerprint) FILTER (WHERE a.status = 'firing')::int AS firing,
            count(a.fingerprint) FILTER (WHERE a.status = 'resolved')::int AS resolved
       FROM storm_incidents s
       JOIN incidents i ON i.id = s.incident_id
       LEFT JOIN alerts a ON a.incident_id = i.id
      WHERE s.message_key = $1
      GROUP BY i.id`,
    [messageKey],
  );
  return rows.map((r) => ({
    id: r.id,
    number: r.number,
    title: r.title,
    ...(r.service ? { service: r.service } : {}),
    severity: r.severity,
    status: r.status,
    counts: { firing: r.firing, resolved: r.resolved },
  }));
}
