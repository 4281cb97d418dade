import { createHash, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/db.js';
import {
  appendTimeline,
  appendTimelines,
  insertIncident,
  insertIncidents,
  groupId,
  latestIncidentForUpdate,
  latestIncidentsForUpdate,
  lockGroup,
  lockGroups,
  recordNotification,
  type StoredIncident,
  updateIncident,
  updateIncidents,
  upsertAlerts,
  upsertAlertsOf,
} from '../store/incidents-repository.js';
import { storable, storableJson, toJsonb } from '../store/storable.js';
import { createNotificationWriter, type NotificationWriter } from '../store/notification-writer.js';
import type { IncidentsChanged } from './incident-desk.js';
import { applyNotification, DEFAULT_REOPEN_WINDOW_MS, type AlertState, type IncidentEvent, type IncidentState, type Notification } from './apply-notification.js';

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
  /** The hook for a batch's changes at once; without it, `onIncidentChanged` is called for each. */
  onIncidentsChanged?: IncidentsChanged;
  newId?: () => string;
  /** Stores accepted notifications; by default one that batches concurrent ones (group commit). */
  writer?: NotificationWriter;
  /**
   * In a batch, after its groups are locked: takes the locks the changes will take (the storm
   * channel locks), all at once and in order, so concurrent batches cannot deadlock on them.
   */
  lockForBatch?: (tx: Queryable, incidents: ReadonlyArray<{ labels: Readonly<Record<string, string>>; channel: string | null }>) => Promise<void>;
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
   * `applyStored` for several notifications (in the order given) in one transaction, `tx` when
   * given (the processor's, which claimed them): one commit, one read of their groups. All or
   * nothing: on a throw none is applied or marked processed.
   */
  applyStoredBatch(batch: ReadonlyArray<{ stored: StoredNotification; notification: Notification }>, tx?: Queryable): Promise<Array<Received | undefined>>;
}

/** What a batch did to one incident, written once the whole batch was applied in memory. */
interface AppliedChange {
  id: string;
  isNew: boolean;
  /** The row needs writing (an existing incident whose alerts changed, or a new one). */
  changed: boolean;
  state: IncidentState;
  /** The latest version of each alert the batch changed. */
  alerts: Map<string, AlertState>;
  events: IncidentEvent[];
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
  const applyTo = async (tx: Queryable, n: Notification, at: Date, current: StoredIncident | undefined): Promise<Received | undefined> => {
    const applied = applyNotification(current?.state, n, at, { reopenWindowMs });
    let incident: { id: string; number: number };
    if (applied.isNew) {
      const id = newId();
      const inserted = await insertIncident(tx, id, applied.next);
      if (!inserted) return undefined;
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
  };

  const apply = async (tx: Queryable, notification: Notification, at: Date): Promise<Received> => {
    const n = storable(notification);
    await lockGroup(tx, n.receiver, n.groupKey);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const received = await applyTo(tx, n, at, await latestIncidentForUpdate(tx, n.receiver, n.groupKey));
      if (received) return received;
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
        // `alerts: []` says nothing about any alert: it opens and posts nothing.
        if (notification.alerts.length === 0) return undefined;
        // The time it arrived, not the time it is applied: a backlog must not shift the incident's clock.
        return apply(tx, notification, stored.receivedAt);
      });
    },
    async applyStoredBatch(batch, inTransaction) {
      const body = async (tx: Queryable) => {
        const unprocessed = await markProcessed(tx, batch.map((b) => b.stored.id));
        // `alerts: []` says nothing about any alert: it is marked processed and opens and posts nothing.
        const todo = batch.filter((b) => unprocessed.has(b.stored.id) && b.notification.alerts.length > 0).map((b) => ({ stored: b.stored, n: storable(b.notification) }));
        await lockGroups(tx, todo.map((t) => t.n));
        const stored = await latestIncidentsForUpdate(tx, todo.map((t) => t.n));
        await options.lockForBatch?.(
          tx,
          todo.map(({ n }) => ({ labels: { ...n.commonLabels, ...n.groupLabels }, channel: stored.get(groupId(n.receiver, n.groupKey))?.channel ?? null })),
        );
        const numberOf = new Map([...stored.values()].map((i) => [i.id, i.number]));

        // In memory first, in order: a group's later notifications start from the state the earlier ones left.
        const latest = new Map<string, { id: string; state: IncidentState }>(stored);
        const changes = new Map<string, AppliedChange>();
        const results = new Map<string, Omit<Received, 'number'>>();
        const timeline: Array<{ incidentId: string; event: IncidentEvent }> = [];
        for (const { stored: notification, n } of todo) {
          const group = groupId(n.receiver, n.groupKey);
          const current = latest.get(group);
          const applied = applyNotification(current?.state, n, notification.receivedAt, { reopenWindowMs });
          const id = applied.isNew ? newId() : current!.id;
          const change: AppliedChange = changes.get(id) ?? { id, isNew: applied.isNew, changed: false, state: applied.next, alerts: new Map(), events: [] };
          changes.set(id, change);
          if (applied.isNew || applied.changedAlerts.length > 0) Object.assign(change, { changed: true, state: applied.next });
          for (const alert of applied.changedAlerts) change.alerts.set(alert.fingerprint, alert);
          change.events.push(...applied.events);
          timeline.push(...applied.events.map((event) => ({ incidentId: id, event })));
          latest.set(group, { id, state: change.state });
          results.set(notification.id, { incidentId: id, created: applied.isNew, events: applied.events });
        }

        // Then one statement per table. Updates first: an incident resolved here frees its group for one opened after it.
        const all = [...changes.values()];
        await updateIncidents(tx, all.filter((c) => !c.isNew && c.changed));
        const opened = all.filter((c) => c.isNew);
        const numbers = await insertIncidents(tx, opened);
        if (numbers.size < opened.length) throw new Error('an alert group got a competing open incident during a batch');
        await upsertAlertsOf(tx, all.flatMap((c) => [...c.alerts.values()].map((alert) => ({ incidentId: c.id, alert }))));
        await appendTimelines(tx, timeline);
        for (const [id, number] of numbers) numberOf.set(id, number);

        // Each incident is projected once, with everything the batch did to it (nothing for duplicates).
        const projected = all.filter((c) => c.events.length > 0).map((c) => ({ incidentId: c.id, events: c.events }));
        if (options.onIncidentsChanged) await options.onIncidentsChanged(tx, projected);
        else for (const change of projected) await onIncidentChanged?.(tx, change.incidentId, change.events);
        return batch.map((b) => {
          const received = results.get(b.stored.id);
          return received && { ...received, number: numberOf.get(received.incidentId) ?? 0 };
        });
      };
      return inTransaction ? body(inTransaction) : db.transaction(body);
    },
  };
}
