import type { Logger } from 'pino';
import { createTicker } from '../jobs/ticker.js';
import type { Db, Queryable } from '../store/db.js';
import type { Notification } from './apply-notification.js';
import type { Intake, Received, StoredNotification } from './intake.js';
import { parseNotification } from './webhook-schema.js';

export interface NotificationProcessorOptions {
  db: Db;
  /** A claimed batch is applied in the transaction that claimed it (one at a time only if that fails). */
  intake: Pick<Intake, 'applyStored' | 'applyStoredBatch'>;
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
  /** A row leased to be applied alone (after its batch failed) is taken over after this, if its leaseholder died. */
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

  const PENDING = `processed_at IS NULL AND failed_at IS NULL
    AND (next_attempt_at IS NULL OR next_attempt_at <= now())
    AND (claimed_until IS NULL OR claimed_until < now())`;

  /** The oldest pending rows, locked until the transaction ends: the row locks are the batch's claim. */
  const claimIn = async (tx: Queryable): Promise<ClaimedRow[]> =>
    (
      await tx.query<ClaimedRow>(
        `SELECT id::text AS id, received_at, payload, attempts FROM notifications WHERE ${PENDING} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      )
    ).rows;

  /** Leases rows of a failed batch to apply them one at a time, each in its own transaction; those another processor took meanwhile are left out. */
  const lease = async (ids: readonly string[]): Promise<ClaimedRow[]> => {
    const { rows } = await db.query<ClaimedRow>(
      `UPDATE notifications SET claimed_until = now() + ($2::int * interval '1 millisecond')
        WHERE id = ANY($1::bigint[]) AND ${PENDING}
        RETURNING id::text AS id, received_at, payload, attempts`,
      [ids, claimMs],
    );
    return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  };

  const fail = async (q: Queryable, row: ClaimedRow, error: unknown) => {
    const attempts = row.attempts + 1;
    const message = error instanceof Error ? error.message : String(error);
    const giveUp = attempts >= maxAttempts;
    const delay = Math.min(maxBackoffMs, backoffMs * 2 ** (attempts - 1));
    await q.query(
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

  const invalid = (problems: readonly string[]) => new Error(`stored notification is not valid: ${problems.slice(0, 5).join('; ')}`);

  const recordFailure = (row: ClaimedRow, error: unknown) =>
    fail(db, row, error).catch((failError: unknown) =>
      log.error({ err: failError, notification: row.id, cause: error }, 'could not record a failed notification apply; it is retried'),
    );

  const processOne = async (row: ClaimedRow) => {
    const parsed = parseNotification(row.payload);
    try {
      if (!parsed.ok) throw invalid(parsed.problems);
      logApplied(row, parsed.notification, await intake.applyStored(toStored(row), parsed.notification));
    } catch (error) {
      await recordFailure(row, error);
    }
  };

  const processEach = async (rows: readonly ClaimedRow[]) => {
    let next = 0;
    const worker = async () => {
      while (next < rows.length) await processOne(rows[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
  };

  // Claims a batch and applies it in the same transaction, so each row is written once more (as
  // processed) rather than twice, and a claim dies with its transaction: nothing waits for a lease
  // to expire after a crash. If anything in the batch fails, it rolls back and each row is
  // applied on its own under a lease, so a bad one is retried and given up alone and the others
  // still land. Answers how many rows were claimed.
  const claimAndApply = async (): Promise<number> => {
    let claimed: ClaimedRow[] = [];
    try {
      await db.transaction(async (tx) => {
        claimed = await claimIn(tx);
        const parsed = claimed.map((row) => ({ row, parsed: parseNotification(row.payload) }));
        const valid = parsed.flatMap((p) => (p.parsed.ok ? [{ row: p.row, notification: p.parsed.notification }] : []));
        if (valid.length > 0) {
          const results = await intake.applyStoredBatch(valid.map((v) => ({ stored: toStored(v.row), notification: v.notification })), tx);
          valid.forEach((v, i) => logApplied(v.row, v.notification, results[i]));
        }
        for (const p of parsed) if (!p.parsed.ok) await fail(tx, p.row, invalid(p.parsed.problems));
      });
    } catch (error) {
      if (claimed.length === 0) throw error;
      if (claimed.length === 1) {
        await recordFailure(claimed[0]!, error);
        return 1;
      }
      log.warn({ err: error, notifications: claimed.length }, 'a batch of alertmanager notifications could not be applied together; applying them one at a time');
      await processEach(await lease(claimed.map((row) => row.id)));
    }
    return claimed.length;
  };

  // Each worker claims and applies a batch at a time; one goes on while its claim was full or
  // new work was stored since, so a lone notification never keeps two workers busy.
  const tick = async () => {
    const worker = async () => {
      for (;;) {
        again = false;
        const claimed = await claimAndApply();
        if (!(claimed === batchSize || again) || !started) return;
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
      while ((await claimAndApply()) > 0);
    },
  };
}
