import { createHash, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/db.js';
import {
  appendTimeline,
  insertIncident,
  groupId,
  latestIncidentForUpdate,
  latestIncidentsForUpdate,
  lockGroup,
  lockGroups,
  recordNotification,
  type StoredIncident,
  updateIncident,
  upsertAlerts,
} from '../store/incidents-repository.js';
import { storable, storableJson, toJsonb } from '../store/storable.js';
import { createNotificationWriter, type NotificationWriter } from '../store/notification-writer.js';
import { applyNotification, DEFAULT_REOPEN_WINDOW_MS, type IncidentEvent, type Notification } from './apply-notification.js';

/**
 * Called inside the intake transaction after an incident changed, so that what it writes (the
 * rendered message in the Slack outbox) commits or rolls back with the change. A throw rolls
 * everything back and Alertmanager is asked to retry.
 */
export type IncidentChangedHook = (tx: Queryable, incidentId: string, events: readonly IncidentEvent[]) => Promise<void>;

export interface IntakeOptions {
  db: Db;
  now: () => Date;
  reopenWindowMs?: number;
  onIncidentChanged?: IncidentChangedHook;
  newId?: () => string;
  /** Stores accepted notifications; by default one that batches concurrent ones (group commit). */
  writer?: NotificationWriter;
}

/** The body as it arrived, kept with the notification; without it the parsed notification is stored. */
export interface RawNotification {
  json: unknown;
  sha256: string;
  /** The body's text, stored as it is unless PostgreSQL would refuse it (a `\u0000` escape). */
  text?: string;
}

export interface Received {
  incidentId: string;
  number: number;
  /** A new incident was opened (rather than an existing one updated or reopened). */
  created: boolean;
  /** Empty for duplicates and stale notifications. */
  events: IncidentEvent[];
}

/** A notification stored by `accept` and not yet applied, as the processor claimed it. */
export interface StoredNotification {
  id: string;
  receivedAt: Date;
  payload: unknown;
}

export interface Intake {
  /** Records the notification and applies it to its group's incident, in one transaction. */
  receive(notification: Notification, raw?: RawNotification): Promise<Received>;
  /** Stores the notification as pending, in one statement; the processor applies it later. */
  accept(notification: Notification, raw?: RawNotification): Promise<void>;
  /**
   * Applies a stored notification and marks it processed, in one transaction. Undefined when it
   * was already processed (another processor got there first).
   */
  applyStored(stored: StoredNotification, notification: Notification): Promise<Received | undefined>;
  /**
   * `applyStored` for several notifications (in the order given) in one transaction: one commit,
   * one read of their groups. All or nothing: on a throw none is applied or marked processed.
   */
  applyStoredBatch(batch: ReadonlyArray<{ stored: StoredNotification; notification: Notification }>): Promise<Array<Received | undefined>>;
}

// Another writer's open incident can only appear between our read and insert if it does not take
// the group lock; a re-read settles it.
const ATTEMPTS = 3;

export function createIntake(options: IntakeOptions): Intake {
  const { db, now, onIncidentChanged } = options;
  const reopenWindowMs = options.reopenWindowMs ?? DEFAULT_REOPEN_WINDOW_MS;
  const newId = options.newId ?? randomUUID;
  const writer = options.writer ?? createNotificationWriter(db);

  const record = (tx: Queryable, notification: Notification, raw: RawNotification | undefined, at: Date) => {
    const payload = raw?.json ?? notification;
    const sha256 = raw?.sha256 ?? createHash('sha256').update(JSON.stringify(payload)).digest('hex');
    return recordNotification(tx, { receivedAt: at, receiver: notification.receiver, groupKey: notification.groupKey, bodySha256: sha256, payload });
  };

  /**
   * Applies one notification to `current`, its group's latest incident as read under the group
   * lock. Undefined when the group turned out to have an open incident this read did not see
   * (a writer that does not take the group lock): read again and retry.
   */
  const applyTo = async (tx: Queryable, n: Notification, at: Date, current: StoredIncident | undefined): Promise<{ received: Received; stored: StoredIncident } | undefined> => {
    const applied = applyNotification(current?.state, n, at, { reopenWindowMs });
    let incident: { id: string; number: number; version: number };
    if (applied.isNew) {
      const id = newId();
      const inserted = await insertIncident(tx, id, applied.next);
      if (!inserted) return undefined;
      incident = { id, number: inserted.number, version: 1 };
    } else {
      incident = { id: current!.id, number: current!.number, version: current!.version };
      if (applied.changedAlerts.length > 0) {
        await updateIncident(tx, incident.id, applied.next);
        incident.version += 1;
      }
    }
    await upsertAlerts(tx, incident.id, applied.changedAlerts);
    await appendTimeline(tx, incident.id, applied.events);
    // Nothing to render for a duplicate or a stale notification.
    if (applied.events.length > 0) await onIncidentChanged?.(tx, incident.id, applied.events);
    return {
      received: { incidentId: incident.id, number: incident.number, created: applied.isNew, events: applied.events },
      stored: { ...incident, state: applied.next },
    };
  };

  const apply = async (tx: Queryable, notification: Notification, at: Date): Promise<Received> => {
    const n = storable(notification);
    await lockGroup(tx, n.receiver, n.groupKey);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const result = await applyTo(tx, n, at, await latestIncidentForUpdate(tx, n.receiver, n.groupKey));
      if (result) return result.received;
    }
    throw new Error(`alert group ${n.receiver}/${n.groupKey} kept getting a competing open incident`);
  };

  /** Marks the notifications processed; the ids of those no other processor had already applied. */
  const markProcessed = async (tx: Queryable, ids: readonly string[]): Promise<Set<string>> => {
    // Marking also locks the rows: a second processor waits here, then finds them done.
    const { rows } = await tx.query<{ id: string }>(
      'UPDATE notifications SET processed_at = $2, claimed_until = NULL WHERE id = ANY($1::bigint[]) AND processed_at IS NULL RETURNING id::text AS id',
      [ids, now()],
    );
    return new Set(rows.map((r) => r.id));
  };

  return {
    async receive(notification, raw) {
      const at = now();
      return db.transaction(async (tx) => {
        await record(tx, storable(notification), raw, at);
        return apply(tx, notification, at);
      });
    },
    async accept(notification, raw) {
      const payloadJson = raw?.text !== undefined ? storableJson(raw.text, raw.json) : toJsonb(storable(raw?.json ?? notification));
      const bodySha256 = raw?.sha256 ?? createHash('sha256').update(payloadJson).digest('hex');
      await writer.write({ receivedAt: now(), receiver: storable(notification.receiver), groupKey: storable(notification.groupKey), bodySha256, payloadJson });
    },
    async applyStored(stored, notification) {
      return db.transaction(async (tx) => {
        if ((await markProcessed(tx, [stored.id])).size === 0) return undefined;
        // The time it arrived, not the time it is applied: a backlog must not shift the incident's clock.
        return apply(tx, notification, stored.receivedAt);
      });
    },
    async applyStoredBatch(batch) {
      return db.transaction(async (tx) => {
        const unprocessed = await markProcessed(tx, batch.map((b) => b.stored.id));
        const todo = batch.filter((b) => unprocessed.has(b.stored.id)).map((b) => ({ stored: b.stored, n: storable(b.notification) }));
        await lockGroups(tx, todo.map((t) => t.n));
        // Read once for the batch; a group's later notifications in it start from the state the earlier ones left.
        const latest = await latestIncidentsForUpdate(tx, todo.map((t) => t.n));
        const results = new Map<string, Received>();
        for (const { stored, n } of todo) {
          const group = groupId(n.receiver, n.groupKey);
          const result = await applyTo(tx, n, stored.receivedAt, latest.get(group));
          if (!result) throw new Error(`alert group ${n.receiver}/${n.groupKey} got a competing open incident during a batch`);
          latest.set(group, result.stored);
          results.set(stored.id, result.received);
        }
        return batch.map((b) => results.get(b.stored.id));
      });
    },
  };
}
