import { createHash, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/db.js';
import {
  appendTimeline,
  insertIncident,
  latestIncidentForUpdate,
  lockGroup,
  recordNotification,
  updateIncident,
  upsertAlerts,
} from '../store/incidents-repository.js';
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
}

/** The body as it arrived, kept with the notification; without it the parsed notification is stored. */
export interface RawNotification {
  json: unknown;
  sha256: string;
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
}

// Another writer's open incident can only appear between our read and insert if it does not take
// the group lock; one re-read settles it.
const ATTEMPTS = 3;

export function createIntake(options: IntakeOptions): Intake {
  const { db, now, onIncidentChanged } = options;
  const reopenWindowMs = options.reopenWindowMs ?? DEFAULT_REOPEN_WINDOW_MS;
  const newId = options.newId ?? randomUUID;

  const record = (tx: Queryable, notification: Notification, raw: RawNotification | undefined, at: Date) => {
    const payload = raw?.json ?? notification;
    const sha256 = raw?.sha256 ?? createHash('sha256').update(JSON.stringify(payload)).digest('hex');
    return recordNotification(tx, { receivedAt: at, receiver: notification.receiver, groupKey: notification.groupKey, bodySha256: sha256, payload });
  };

  const apply = async (tx: Queryable, notification: Notification, at: Date): Promise<Received> => {
    const n = withoutNul(notification);
    await lockGroup(tx, n.receiver, n.groupKey);
    for (let attempt = 1; ; attempt++) {
      const current = await latestIncidentForUpdate(tx, n.receiver, n.groupKey);
      const applied = applyNotification(current?.state, n, at, { reopenWindowMs });
      let incident: { id: string; number: number };
      if (applied.isNew) {
        const id = newId();
        const inserted = await insertIncident(tx, id, applied.next);
        if (!inserted) {
          if (attempt < ATTEMPTS) continue;
          throw new Error(`alert group ${n.receiver}/${n.groupKey} kept getting a competing open incident`);
        }
        incident = { id, number: inserted.number };
      } else {
        incident = { id: current!.id, number: current!.number };
        if (applied.changedAlerts.length > 0) await updateIncident(tx, incident.id, applied.next);
      }
      await upsertAlerts(tx, incident.id, applied.changedAlerts);
      await appendTimeline(tx, incident.id, applied.events);
      // Nothing to render for a duplicate or a stale notification.
      if (applied.events.length > 0) await onIncidentChanged?.(tx, incident.id, applied.events);
      return { incidentId: incident.id, number: incident.number, created: applied.isNew, events: applied.events };
    }
  };

  return {
    async receive(notification, raw) {
      const at = now();
      return db.transaction(async (tx) => {
        await record(tx, withoutNul(notification), raw, at);
        return apply(tx, notification, at);
      });
    },
    async accept(notification, raw) {
      await record(db, withoutNul(notification), raw, now());
    },
    async applyStored(stored, notification) {
      return db.transaction(async (tx) => {
        // Marking it first also locks the row: a second processor waits here, then finds it done.
        const marked = await tx.query('UPDATE notifications SET processed_at = $2, claimed_until = NULL WHERE id = $1 AND processed_at IS NULL RETURNING id', [stored.id, now()]);
        if (marked.rowCount === 0) return undefined;
        // The time it arrived, not the time it is applied: a backlog must not shift the incident's clock.
        return apply(tx, notification, stored.receivedAt);
      });
    },
  };
}

// PostgreSQL refuses U+0000 in text and jsonb; a notification it refuses would be retried forever.
function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), withoutNul(v)])) as T;
}
