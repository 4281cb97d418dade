import type { Logger } from 'pino';
import { createTicker } from '../jobs/ticker.js';
import type { Db } from '../store/db.js';
import type { Notification } from './apply-notification.js';
import type { Intake, Received, StoredNotification } from './intake.js';
import { parseNotification } from './webhook-schema.js';

export interface NotificationProcessorOptions {
  db: Db;
  /** With `applyStoredBatch`, a claimed batch is applied in one transaction (one at a time only if that fails). */
  intake: Pick<Intake, 'applyStored'> & Partial<Pick<Intake, 'applyStoredBatch'>>;
  logger: Logger;
  intervalMs?: number;
  batchSize?: number;
  /** Notifications applied at once when applied one at a time (each in its own transaction). */
  concurrency?: number;
  /** Batches applied at once (each in its own transaction); their locks are taken in order, so they do not deadlock. */
  batchConcurrency?: number;
  /** After this many failed applies a notification is marked failed and left alone. */
  maxAttempts?: number;
  /** Backoff after the first failure; it doubles per attempt up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A claimed row another instance may take over after this (its claimer died). */
  claimMs?: number;
  /**
   * An idle processor woken by a stored notification waits this long before claiming, so that
   * notifications arriving together are applied as one batch rather than one transaction each.
   */
  wakeDelayMs?: number;
}

export interface NotificationProcessor {
  start(): void;
  /** Stops claiming and waits for the batch in progress. */
  stop(): Promise<void>;
  /** Work was just stored: process it now rather than at the next tick (no-op when stopped). */
  wake(): void;
  /** Processes everything due now (tests). */
  drain(): Promise<void>;
}

interface ClaimedRow {
  id: string;
  received_at: Date | string;
  payload: unknown;
  attempts: number;
}

/**
 * Applies the notifications `POST /alertmanager` stored, in id order, a batch at a time. Claims
 * use `FOR UPDATE SKIP LOCKED`, so several instances share the queue; an apply marks its rows
 * processed in the same transaction, so a notification is applied once. A failed apply is
 * rolled back and retried with backoff; after `maxAttempts` the row is marked failed and logged.
 */
export function createNotificationProcessor(options: NotificationProcessorOptions): NotificationProcessor {
  const { db, intake } = options;
  const log = options.logger.child({ component: 'notification-processor' });
  const batchSize = options.batchSize ?? 50;
  const concurrency = options.concurrency ?? 4;
  const batchConcurrency = options.batchConcurrency ?? 2;
  const maxAttempts = options.maxAttempts ?? 10;
  const backoffMs = options.backoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  const claimMs = options.claimMs ?? 60_000;
  const wakeDelayMs = options.wakeDelayMs ?? 20;
  let started = false;
  let again = false;
  let wakeTimer: NodeJS.Timeout | undefined;

  const claim = async (): Promise<ClaimedRow[]> => {
    const { rows } = await db.query<ClaimedRow>(
      `UPDATE notifications n SET claimed_until = now() + ($2::int * interval '1 millisecond')
        WHERE n.id IN (SELECT id FROM notifications
                        WHERE processed_at IS NULL AND failed_at IS NULL
                          AND (next_attempt_at IS NULL OR next_attempt_at <= now())
                          AND (claimed_until IS NULL OR claimed_until < now())
                        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING n.id::text AS id, n.received_at, n.payload, n.attempts`,
      [batchSize, claimMs],
    );
    return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  };

  const fail = async (row: ClaimedRow, error: unknown) => {
    const attempts = row.attempts + 1;
    const message = error instanceof Error ? error.message : String(error);
    const giveUp = attempts >= maxAttempts;
    const delay = Math.min(maxBackoffMs, backoffMs * 2 ** (attempts - 1));
    await db.query(
      `UPDATE notifications SET attempts = $2, last_error = $3, claimed_until = NULL,
              next_attempt_at = now() + ($4::int * interval '1 millisecond'),
              failed_at = CASE WHEN $5::boolean THEN now() END
        WHERE id = $1 AND processed_at IS NULL`,
      [row.id, attempts, message.slice(0, 2_000), delay, giveUp],
    );
    if (giveUp) log.error({ err: error, notification: row.id, attempts }, `alertmanager notification ${row.id} failed ${attempts} times and is given up; it stays in the notifications table (failed_at, last_error)`);
    else log.warn({ err: error, notification: row.id, attempts, retryInMs: delay }, 'alertmanager notification could not be applied; it will be retried');
  };

  const logApplied = (row: ClaimedRow, notification: Notification, received: Received | undefined) => {
    if (!received) return;
    const fields = { notification: row.id, receiver: notification.receiver, groupKey: notification.groupKey, incident: received.number, created: received.created, events: received.events.map((e) => e.kind) };
    if (received.events.length) log.info(fields, 'alertmanager notification applied');
    else log.debug(fields, 'alertmanager notification changed nothing (duplicate or stale)');
  };

  const toStored = (row: ClaimedRow): StoredNotification => ({ id: row.id, receivedAt: new Date(row.received_at), payload: row.payload });

  const processOne = async (row: ClaimedRow) => {
    const parsed = parseNotification(row.payload);
    try {
      if (!parsed.ok) throw new Error(`stored notification is not valid: ${parsed.problems.slice(0, 5).join('; ')}`);
      logApplied(row, parsed.notification, await intake.applyStored(toStored(row), parsed.notification));
    } catch (error) {
      await fail(row, error).catch((failError: unknown) =>
        log.error({ err: failError, notification: row.id, cause: error }, 'could not record a failed notification apply; its claim expires and it is retried'),
      );
    }
  };

  const processEach = async (rows: readonly ClaimedRow[]) => {
    let next = 0;
    const worker = async () => {
      while (next < rows.length) await processOne(rows[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
  };

  // One transaction for the batch; if anything in it fails, each notification is applied on its
  // own, so a bad one is retried and given up alone and the others still land.
  const processBatch = async (rows: readonly ClaimedRow[]) => {
    const parsed = rows.map((row) => ({ row, parsed: parseNotification(row.payload) }));
    const valid = parsed.flatMap((p) => (p.parsed.ok ? [{ row: p.row, notification: p.parsed.notification }] : []));
    // A lone notification goes straight to the one-at-a-time path its failure would fall back to.
    if (!intake.applyStoredBatch || valid.length < 2) return processEach(rows);
    try {
      const results = await intake.applyStoredBatch(valid.map((v) => ({ stored: toStored(v.row), notification: v.notification })));
      valid.forEach((v, i) => logApplied(v.row, v.notification, results[i]));
    } catch (error) {
      log.warn({ err: error, notifications: valid.length }, 'a batch of alertmanager notifications could not be applied together; applying them one at a time');
      return processEach(rows);
    }
    // Invalid ones are recorded as failed attempts, one by one.
    await processEach(parsed.flatMap((p) => (p.parsed.ok ? [] : [p.row])));
  };

  // Each worker claims and applies a batch at a time; one goes on while its claim was full or
  // new work was stored since, so a lone notification never keeps two workers busy.
  const tick = async () => {
    const worker = async () => {
      for (;;) {
        again = false;
        const rows = await claim();
        if (rows.length > 0) await processBatch(rows);
        if (!(rows.length === batchSize || again) || !started) return;
      }
    };
    await Promise.all(Array.from({ length: batchConcurrency }, worker));
  };

  const ticker = createTicker({ name: 'notification processor', intervalMs: options.intervalMs ?? 100, tick, logger: log });
  return {
    start() {
      started = true;
      ticker.start();
    },
    async stop() {
      started = false;
      clearTimeout(wakeTimer);
      wakeTimer = undefined;
      await ticker.stop();
    },
    wake() {
      if (!started) return;
      // A tick under way goes on with what was just stored; an idle processor gathers a batch first.
      again = true;
      wakeTimer ??= setTimeout(() => {
        wakeTimer = undefined;
        void ticker.tickNow();
      }, wakeDelayMs);
    },
    async drain() {
      for (;;) {
        const rows = await claim();
        if (rows.length === 0) return;
        await processBatch(rows);
      }
    },
  };
}
