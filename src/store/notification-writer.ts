import type { Queryable } from './db.js';

/** One webhook delivery to store as pending; `payloadJson` is JSON text PostgreSQL accepts as jsonb. */
export interface PendingNotification {
  receivedAt: Date;
  receiver: string;
  groupKey: string;
  bodySha256: string;
  payloadJson: string;
}

export interface NotificationWriter {
  /** Resolves once the notification is committed; rejects when its statement failed. */
  write(notification: PendingNotification): Promise<void>;
}

export interface NotificationWriterOptions {
  /** Rows in one INSERT at most. */
  maxBatch?: number;
  /** INSERTs under way at once; what arrives meanwhile waits for the next one. */
  maxInFlight?: number;
}

interface Waiting {
  row: PendingNotification;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const COLUMNS = 5;

/**
 * Group commit for `POST /alertmanager`: a notification that arrives while earlier INSERTs are
 * under way joins the next one, so a burst costs a few multi-row statements (one commit, one
 * round trip each) instead of one per request. A lone notification is written at once. Every
 * caller still waits for its own row's commit; when a batch fails, its rows are tried one by one,
 * so only the rows that really fail are refused (and their senders asked to retry).
 */
export function createNotificationWriter(db: Queryable, options: NotificationWriterOptions = {}): NotificationWriter {
  const maxBatch = options.maxBatch ?? 200;
  const maxInFlight = options.maxInFlight ?? 2;
  const queue: Waiting[] = [];
  let inFlight = 0;

  const insert = async (batch: readonly Waiting[]) => {
    const params: unknown[] = [];
    const values = batch.map(({ row }, i) => {
      params.push(row.receivedAt, row.receiver, row.groupKey, row.bodySha256, row.payloadJson);
      const at = i * COLUMNS;
      return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}::jsonb)`;
    });
    await db.query(`INSERT INTO notifications (received_at, receiver, group_key, body_sha256, payload) VALUES ${values.join(', ')}`, params);
  };

  // A row PostgreSQL refuses must not fail the others: a failed batch is written again row by row.
  const writeBatch = async (batch: readonly Waiting[]) => {
    try {
      await insert(batch);
      for (const w of batch) w.resolve();
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const w of batch) await insert([w]).then(w.resolve, w.reject);
    }
  };

  const pump = () => {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      inFlight++;
      writeBatch(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  };

  return {
    write(row) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ row, resolve, reject });
        pump();
      });
    },
  };
}
