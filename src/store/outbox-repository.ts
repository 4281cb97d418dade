import type { Db, Queryable } from './db.js';
import { write, type BatchableWrite } from './held-writes.js';

/** What a Slack write carries; blocks are Block Kit JSON, checked by the renderers that made them. */
export interface OutboxPayload {
  text: string;
  blocks?: unknown[];
}

/** An edit whose text the sender renders when it sends it, with the renderer of that name. */
export interface RenderAtSend {
  renderAtSend: string;
}

/** The renderers of `RenderAtSend` edits, by name: each renders the message named by its key. */
export type OutboxRenderers = Record<string, (messageKey: string) => Promise<OutboxPayload>>;

/** 0 page, 1 routine (the column's values). */
export type OutboxPriorityValue = 0 | 1;

export type NewOutboxRow =
  | { kind: 'post'; channel: string; messageKey: string; priority: OutboxPriorityValue; payload: OutboxPayload }
  | { kind: 'update'; messageKey: string; priority: OutboxPriorityValue; payload: OutboxPayload | RenderAtSend }
  | { kind: 'reply'; threadKey: string; messageKey?: string; priority: OutboxPriorityValue; payload: OutboxPayload }
  | { kind: 'dm'; userId: string; priority: OutboxPriorityValue; payload: OutboxPayload; afterKey?: string };

/** A Slack message the outbox posted. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

/** Work one sender took from the outbox: it holds a lease on the rows until it reports back. */
export type OutboxJob =
  /** chat.postMessage for a post, a reply (with the parent's ts) or a DM whose channel is known. */
  | {
      type: 'post';
      id: number;
      kind: 'post' | 'reply' | 'dm';
      channel: string;
      threadTs?: string;
      messageKey?: string;
      /** The DM's user, for a DM. */
      userId?: string;
      /** The key the message carries in its metadata: its message key, else `outbox:<id>`. */
      lookupKey: string;
      payload: OutboxPayload;
      attempts: number;
      /** A post an earlier claim took to Slack without learning the outcome (see migration 010). */
      inDoubtSince?: Date;
      /** Set once Slack refused the write and it was replaced by its minimal form or moved (migration 014). */
      degraded?: string;
      /** A pending edit of this message whose render the post carries instead; retired once posted. */
      foldedEdit?: { id: number; revision: number };
    }
  /** chat.update of the latest render; `revision` tells whether a newer one arrived meanwhile. */
  | { type: 'update'; id: number; messageKey: string; channel: string; ts: string; payload: OutboxPayload | RenderAtSend; attempts: number; revision: number; degraded?: string }
  /** conversations.open for a user whose DMs wait for their channel: one call per user, however many DMs. */
  | { type: 'open'; userId: string; attempts: number };

// Keys of the advisory locks that make one instance at a time claim in a channel ("sbox").
const CHANNEL_LOCK = 0x73626f78;
const PENDING_POST_CONFLICT = `ON CONFLICT (message_key) WHERE kind IN ('post', 'reply') AND state = 'pending' AND message_key IS NOT NULL DO NOTHING`;

interface PostOrReplyRow {
  kind: 'post' | 'reply';
  channel: string | null;
  threadKey: string | null;
  messageKey: string | null;
  priority: OutboxPriorityValue;
  payload: string;
}

/**
 * Posts and replies, in the order given (their ids are their send order within a channel). A
 * reply learns its channel from its parent once that is posted; a keyed one whose message exists
 * (or waits) is not added again.
 */
const POSTS_AND_REPLIES: BatchableWrite<PostOrReplyRow> = {
  name: 'outbox posts and replies',
  statement: (rows, param) => `INSERT INTO outbox (kind, channel, thread_key, message_key, priority, payload)
    SELECT x.kind, CASE x.kind WHEN 'reply' THEN (SELECT m.channel FROM slack_messages m WHERE m.message_key = x.thread_key) ELSE x.channel END,
           x.thread_key, x.message_key, x.priority, x.payload::jsonb
      FROM unnest(${param(rows.map((r) => r.kind))}::text[], ${param(rows.map((r) => r.channel))}::text[], ${param(rows.map((r) => r.threadKey))}::text[],
                  ${param(rows.map((r) => r.messageKey))}::text[], ${param(rows.map((r) => r.priority))}::smallint[], ${param(rows.map((r) => r.payload))}::text[])
           WITH ORDINALITY AS x(kind, channel, thread_key, message_key, priority, payload, n)
     WHERE x.message_key IS NULL OR NOT EXISTS (SELECT 1 FROM slack_messages m WHERE m.message_key = x.message_key)
     ORDER BY x.n
    ${PENDING_POST_CONFLICT}`,
};

interface UpdateRow {
  messageKey: string;
  priority: OutboxPriorityValue;
  payload: string;
}

/** Edits: only the latest render of a message matters, and the more urgent priority wins. */
const UPDATES: BatchableWrite<UpdateRow> = {
  name: 'outbox updates',
  statement(rows, param) {
    // One row per message: ON CONFLICT DO UPDATE may not meet the same row twice in a statement.
    const latest = new Map<string, UpdateRow>();
    for (const row of rows) {
      const earlier = latest.get(row.messageKey);
      latest.set(row.messageKey, earlier ? { ...row, priority: Math.min(earlier.priority, row.priority) as OutboxPriorityValue } : row);
    }
    const unique = [...latest.values()];
    return `INSERT INTO outbox (kind, channel, message_key, priority, payload)
      SELECT 'update', (SELECT m.channel FROM slack_messages m WHERE m.message_key = x.message_key), x.message_key, x.priority, x.payload::jsonb
        FROM unnest(${param(unique.map((r) => r.messageKey))}::text[], ${param(unique.map((r) => r.priority))}::smallint[], ${param(unique.map((r) => r.payload))}::text[])
             AS x(message_key, priority, payload)
      ON CONFLICT (message_key) WHERE kind = 'update' AND state = 'pending'
      DO UPDATE SET payload = EXCLUDED.payload, priority = LEAST(outbox.priority, EXCLUDED.priority), revision = outbox.revision + 1`;
  },
};

/**
 * Adds one Slack write in the caller's transaction (held and sent with the transaction's next
 * statement, see held-writes.ts). A post or keyed reply whose message already exists (or waits)
 * is not added again; an update replaces the payload of the one still waiting.
 */
export async function insertOutboxRow(tx: Queryable, row: NewOutboxRow): Promise<void> {
  const payload = JSON.stringify(row.payload);
  switch (row.kind) {
    case 'post':
      return write(tx, POSTS_AND_REPLIES, { kind: 'post', channel: row.channel, threadKey: null, messageKey: row.messageKey, priority: row.priority, payload });
    case 'reply':
      return write(tx, POSTS_AND_REPLIES, { kind: 'reply', channel: null, threadKey: row.threadKey, messageKey: row.messageKey ?? null, priority: row.priority, payload });
    case 'update':
      return write(tx, UPDATES, { messageKey: row.messageKey, priority: row.priority, payload });
    case 'dm':
      await tx.query(
        `INSERT INTO outbox (kind, channel, user_id, priority, payload, after_key)
         VALUES ('dm', (SELECT channel FROM slack_dm_channels WHERE user_id = $1), $1, $2, $3::jsonb, $4)`,
        [row.userId, row.priority, payload, row.afterKey ?? null],
      );
      return;
  }
}

/** The channel and ts of a message the outbox posted under `messageKey`, once Slack answered. */
export async function findSlackMessage(q: Queryable, messageKey: string): Promise<SlackMessageRef | undefined> {
  const { rows } = await q.query<SlackMessageRef>('SELECT channel, ts FROM slack_messages WHERE message_key = $1', [messageKey]);
  return rows[0];
}

interface HeadRow {
  id: number;
  kind: 'post' | 'reply' | 'dm';
  payload: OutboxPayload;
  message_key: string | null;
  attempts: number;
  waiting: boolean;
  thread_ts: string | null;
  done_ts: string | null;
  sending_since: Date | string | null;
  degraded: string | null;
  parent_pending: boolean;
  user_id: string | null;
}

/** Errors that say the message itself is refused (its blocks, length or metadata), not where it goes. */
export type PermanentKind = 'content' | 'channel' | 'other';

type PostJob = Extract<OutboxJob, { type: 'post' }>;

/** The sender's side of the outbox: claims with leases, and the outcome of each Slack call. */
export function createOutboxRepository(db: Db) {
  /** True when this report is new: a channel is reported once until a post there succeeds again. */
  async function reportChannel(tx: Queryable, report: { channel: string; code: string; post: NewOutboxRow & { kind: 'post' } }, now: Date): Promise<boolean> {
    const { rows } = await tx.query<{ channel: string }>(
      `INSERT INTO slack_channel_problems (channel, code, reported_at) VALUES ($1, $2, $3) ON CONFLICT (channel) DO NOTHING RETURNING channel`,
      [report.channel, report.code, now],
    );
    if (rows.length === 0) return false;
    await insertOutboxRow(tx, report.post);
    return true;
  }

  /** Replies and edits learn their channel from the parent, DMs from the opened conversation. */
  async function resolveChannels(tx: Queryable): Promise<void> {
    await tx.query(
      `UPDATE outbox o SET channel = m.channel
         FROM slack_messages m
        WHERE m.message_key = CASE o.kind WHEN 'reply' THEN o.thread_key ELSE o.message_key END
          AND o.id IN (SELECT u.id FROM outbox u
                        JOIN slack_messages p ON p.message_key = CASE u.kind WHEN 'reply' THEN u.thread_key ELSE u.message_key END
                        WHERE u.state = 'pending' AND u.channel IS NULL AND u.kind IN ('reply', 'update')
                        FOR UPDATE OF u SKIP LOCKED)`,
    );
    // Writes queued under a channel's name join its id's queue once Slack has told the id.
    await tx.query(
      `UPDATE outbox o SET channel = n.channel
         FROM slack_channel_names n
        WHERE n.name = o.channel
          AND o.id IN (SELECT u.id FROM outbox u JOIN slack_channel_names p ON p.name = u.channel
                        WHERE u.state = 'pending'
                        FOR UPDATE OF u SKIP LOCKED)`,
    );
    // A reply or edit whose parent Slack refused for good can never be sent: it fails with it
    // instead of waiting for ever (the refused parent is posted in its minimal form first, so this
    // is the case where even that was refused).
    await tx.query(
      `UPDATE outbox o SET state = 'failed', last_error = 'its parent message ' || coalesce(o.thread_key, o.message_key) || ' failed: ' || coalesce(p.last_error, 'refused')
         FROM outbox p
        WHERE o.state = 'pending' AND o.channel IS NULL AND o.kind IN ('reply', 'update')
          AND p.kind = 'post' AND p.state = 'failed' AND p.message_key = CASE o.kind WHEN 'reply' THEN o.thread_key ELSE o.message_key END
          AND NOT EXISTS (SELECT 1 FROM outbox q WHERE q.kind = 'post' AND q.state = 'pending' AND q.message_key = p.message_key)
          AND NOT EXISTS (SELECT 1 FROM slack_messages m WHERE m.message_key = p.message_key)`,
    );
    await tx.query(
      `UPDATE outbox o SET channel = d.channel
         FROM slack_dm_channels d
        WHERE d.user_id = o.user_id
          AND o.id IN (SELECT u.id FROM outbox u JOIN slack_dm_channels p ON p.user_id = u.user_id
                        WHERE u.state = 'pending' AND u.channel IS NULL AND u.kind = 'dm'
                        FOR UPDATE OF u SKIP LOCKED)`,
    );
  }

  /**
   * The head of one channel's queue (priority, then id), if the channel is free and the head is
   * due. The advisory lock makes this instance the only one claiming in the channel until commit,
   * so the head cannot be overtaken by a later row; posts already made are marked sent on the way.
   */
  async function claimChannelHead(tx: Queryable, channel: string, now: Date, lease: Date): Promise<{ job?: PostJob; skipped: number }> {
    let skipped = 0;
    const locked = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1::int, hashtext($2::text)) AS ok', [CHANNEL_LOCK, channel]);
    if (!locked.rows[0]?.ok) return { skipped };
    const busy = await tx.query('SELECT 1 FROM slack_channels WHERE channel = $1 AND next_post_at > $2', [channel, now]);
    // rows, not rowCount: PGlite counts no rows for a SELECT.
    if (busy.rows.length > 0) return { skipped };
    for (;;) {
      const { rows } = await tx.query<HeadRow>(
        `SELECT o.id, o.kind, o.payload, o.message_key, o.user_id, o.attempts, o.sending_since, o.degraded, o.not_before > $2 AS waiting,
                parent.ts AS thread_ts, done.ts AS done_ts,
                (o.after_key IS NOT NULL AND EXISTS (SELECT 1 FROM outbox p WHERE p.kind = 'post' AND p.state = 'pending' AND p.message_key = o.after_key)) AS parent_pending
           FROM outbox o
           LEFT JOIN slack_messages parent ON o.kind = 'reply' AND parent.message_key = o.thread_key
           LEFT JOIN slack_messages done ON o.kind IN ('post', 'reply') AND done.message_key = o.message_key
          WHERE o.channel = $1 AND o.state = 'pending' AND o.kind <> 'update'
          ORDER BY o.priority, o.id
          LIMIT 1
          FOR UPDATE OF o SKIP LOCKED`,
        [channel, now],
      );
      const head = rows[0];
      // A head in backoff holds its channel: later rows must not overtake it. So does a DM page whose
      // incident's parent message is still waiting: the page links to that thread.
      if (!head || head.waiting || head.parent_pending || (head.kind === 'reply' && !head.thread_ts)) return { skipped };
      if (head.done_ts) {
        // Posted already (a retry after a lost answer, or the same notification twice): never again.
        await tx.query(`UPDATE outbox SET state = 'sent', sent_at = $2, last_error = 'already posted' WHERE id = $1`, [head.id, now]);
        skipped += 1;
        continue;
      }
      // Every post carries its key in its metadata, so every post can be found again after a lost answer.
      await tx.query('UPDATE outbox SET not_before = $2, transient_retry = false, sending_since = coalesce(sending_since, $3) WHERE id = $1', [head.id, lease, now]);
      const folded = head.kind === 'post' && head.message_key && !head.degraded ? await foldPendingEdit(tx, head.message_key) : undefined;
      await tx.query(
        `INSERT INTO slack_channels (channel, next_post_at) VALUES ($1, $2)
         ON CONFLICT (channel) DO UPDATE SET next_post_at = EXCLUDED.next_post_at`,
        [channel, lease],
      );
      return {
        skipped,
        job: {
          type: 'post',
          id: Number(head.id),
          kind: head.kind,
          channel,
          ...(head.thread_ts ? { threadTs: head.thread_ts } : {}),
          ...(head.message_key ? { messageKey: head.message_key } : {}),
          ...(head.user_id ? { userId: head.user_id } : {}),
          lookupKey: head.message_key ?? `outbox:${Number(head.id)}`,
          payload: folded?.payload ?? head.payload,
          attempts: head.attempts,
          ...(head.sending_since ? { inDoubtSince: new Date(head.sending_since) } : {}),
          ...(head.degraded ? { degraded: head.degraded } : {}),
          ...(folded ? { foldedEdit: { id: folded.id, revision: folded.revision } } : {}),
        },
      };
    }
  }

  /**
   * An edit queued while its message is not posted yet (an outage, a busy channel) is pointless
   * once the post carries the same render: the post takes the edit's payload, and the edit is
   * retired when the post is recorded. Edits rendered at send time keep their own call.
   */
  async function foldPendingEdit(tx: Queryable, messageKey: string): Promise<{ id: number; revision: number; payload: OutboxPayload } | undefined> {
    const { rows } = await tx.query<{ id: number; revision: number; payload: OutboxPayload | RenderAtSend }>(
      `SELECT id, revision, payload FROM outbox WHERE kind = 'update' AND state = 'pending' AND message_key = $1 FOR UPDATE SKIP LOCKED`,
      [messageKey],
    );
    const edit = rows[0];
    if (!edit || 'renderAtSend' in edit.payload) return undefined;
    return { id: Number(edit.id), revision: edit.revision, payload: edit.payload };
  }

  async function claimUpdates(tx: Queryable, now: Date, lease: Date, limit: number): Promise<OutboxJob[]> {
    // At most one pending update per message exists; locking the message row too serializes
    // edits of one message across instances.
    if (limit <= 0) return [];
    const { rows } = await tx.query<{ id: number; message_key: string; payload: OutboxPayload; attempts: number; revision: number; channel: string; ts: string; degraded: string | null }>(
      `SELECT o.id, o.message_key, o.payload, o.attempts, o.revision, o.degraded, m.channel, m.ts
         FROM outbox o JOIN slack_messages m ON m.message_key = o.message_key
        WHERE o.state = 'pending' AND o.kind = 'update' AND o.not_before <= $1 AND m.next_update_at <= $1
        ORDER BY o.priority, o.id
        LIMIT $2
        FOR UPDATE OF o, m SKIP LOCKED`,
      [now, limit],
    );
    for (const row of rows) {
      await tx.query('UPDATE outbox SET not_before = $2, transient_retry = false WHERE id = $1', [row.id, lease]);
      await tx.query('UPDATE slack_messages SET next_update_at = $2 WHERE message_key = $1', [row.message_key, lease]);
    }
    return rows.map((r) => ({
      type: 'update',
      id: Number(r.id),
      messageKey: r.message_key,
      channel: r.channel,
      ts: r.ts,
      payload: r.payload,
      attempts: r.attempts,
      revision: r.revision,
      ...(r.degraded ? { degraded: r.degraded } : {}),
    }));
  }

  /**
   * Users whose DMs wait for a channel, one `open` per user: the conditional upsert of the user's
   * row is the claim (a concurrent claimer finds it leased), and its `next_open_at` is the user's
   * backoff, so an outage costs one call per user per backoff, not one per DM.
   */
  async function claimDmOpens(tx: Queryable, now: Date, lease: Date, limit: number): Promise<OutboxJob[]> {
    if (limit <= 0) return [];
    const { rows } = await tx.query<{ user_id: string; attempts: number }>(
      `WITH due AS (
         SELECT o.user_id FROM outbox o LEFT JOIN slack_dm_opens u ON u.user_id = o.user_id
          WHERE o.state = 'pending' AND o.kind = 'dm' AND o.channel IS NULL AND (u.next_open_at IS NULL OR u.next_open_at <= $1)
          GROUP BY o.user_id
          ORDER BY min(o.priority), min(o.id)
          LIMIT $3)
       INSERT INTO slack_dm_opens AS u (user_id, next_open_at) SELECT user_id, $2 FROM due
       ON CONFLICT (user_id) DO UPDATE SET next_open_at = EXCLUDED.next_open_at, transient_retry = false WHERE u.next_open_at <= $1
       RETURNING u.user_id, u.attempts`,
      [now, lease, limit],
    );
    return rows.map((r) => ({ type: 'open', userId: r.user_id, attempts: r.attempts }));
  }

  return {
    /**
     * Takes due work in one short transaction: the head of each free channel's queue, due edits of
     * messages not edited recently, and DMs to open. Each claimed row (and its channel or message)
     * is leased until `leaseMs` from now; a sender that dies just lets the lease run out.
     */
    async claim(options: { now: Date; leaseMs: number; limit: number; updateLimit?: number; openLimit?: number }): Promise<{ jobs: OutboxJob[]; skipped: number }> {
      const { now, limit } = options;
      const lease = new Date(now.getTime() + options.leaseMs);
      return db.transaction(async (tx) => {
        await resolveChannels(tx);
        const { rows: channels } = await tx.query<{ channel: string }>(
          `SELECT o.channel FROM outbox o LEFT JOIN slack_channels c ON c.channel = o.channel
            WHERE o.state = 'pending' AND o.kind <> 'update' AND o.channel IS NOT NULL AND o.not_before <= $1
              AND (c.next_post_at IS NULL OR c.next_post_at <= $1)
            GROUP BY o.channel
            ORDER BY min(o.priority), min(o.id)
            LIMIT $2`,
          [now, limit],
        );
        const jobs: OutboxJob[] = [];
        let skipped = 0;
        for (const { channel } of channels) {
          const head = await claimChannelHead(tx, channel, now, lease);
          skipped += head.skipped;
          if (head.job) jobs.push(head.job);
        }
        jobs.push(...(await claimUpdates(tx, now, lease, Math.min(options.updateLimit ?? limit, limit - jobs.length))));
        jobs.push(...(await claimDmOpens(tx, now, lease, Math.min(options.openLimit ?? limit, limit - jobs.length))));
        return { jobs, skipped };
      });
    },

    /** A post, reply or DM went out: the row is sent and, when keyed, its ts is the message's for good. */
    async posted(job: PostJob, message: SlackMessageRef, at: { now: Date; nextPostAt: Date }): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.query(`UPDATE outbox SET state = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL, sending_since = NULL WHERE id = $1`, [job.id, at.now]);
        if (job.foldedEdit) {
          // A newer render (another revision) arrived meanwhile: that one stays to be sent as an edit.
          await tx.query(`UPDATE outbox SET state = 'retired', last_error = 'carried by the post of its message' WHERE id = $1 AND revision = $2 AND state = 'pending'`, [
            job.foldedEdit.id,
            job.foldedEdit.revision,
          ]);
        }
        if (job.messageKey) {
          await tx.query(
            `INSERT INTO slack_messages (message_key, channel, ts, posted_at, next_update_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (message_key) DO NOTHING`,
            [job.messageKey, message.channel, message.ts, at.now],
          );
        }
        await tx.query('UPDATE slack_channels SET next_post_at = $2 WHERE channel = $1', [job.channel, at.nextPostAt]);
        if (!job.degraded) await tx.query('DELETE FROM slack_channel_problems WHERE channel = $1 OR channel = $2', [job.channel, message.channel]);
        if (message.channel !== job.channel) {
          // Posted to a name: from now on the channel is paced under the id Slack answered with.
          await tx.query(
            `INSERT INTO slack_channel_names (name, channel, seen_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET channel = EXCLUDED.channel, seen_at = EXCLUDED.seen_at`,
            [job.channel, message.channel, at.now],
          );
          await tx.query(
            `INSERT INTO slack_channels (channel, next_post_at) VALUES ($1, $2)
             ON CONFLICT (channel) DO UPDATE SET next_post_at = greatest(slack_channels.next_post_at, EXCLUDED.next_post_at)`,
            [message.channel, at.nextPostAt],
          );
        }
      });
    },

    /** An edit went out. Returns false when a newer render arrived meanwhile: that one stays pending. */
    async updated(job: Extract<OutboxJob, { type: 'update' }>, at: { now: Date; nextUpdateAt: Date }): Promise<boolean> {
      return db.transaction(async (tx) => {
        const sent = await tx.query(
          `UPDATE outbox SET state = 'sent', sent_at = $3, attempts = attempts + 1, last_error = NULL WHERE id = $1 AND revision = $2`,
          [job.id, job.revision, at.now],
        );
        if (sent.rowCount === 0) await tx.query(`UPDATE outbox SET not_before = $2, attempts = 0 WHERE id = $1 AND state = 'pending'`, [job.id, at.now]);
        await tx.query('UPDATE slack_messages SET next_update_at = $2 WHERE message_key = $1', [job.messageKey, at.nextUpdateAt]);
        return sent.rowCount > 0;
      });
    },

    /** The DM conversation is known and kept: the user's rows join that channel's queue. */
    async dmOpened(job: Extract<OutboxJob, { type: 'open' }>, channel: string, now: Date): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO slack_dm_channels (user_id, channel, opened_at) VALUES ($1, $2, $3)
           ON CONFLICT (user_id) DO UPDATE SET channel = EXCLUDED.channel, opened_at = EXCLUDED.opened_at`,
          [job.userId, channel, now],
        );
        await tx.query(`UPDATE outbox SET channel = $2 WHERE state = 'pending' AND kind = 'dm' AND user_id = $1 AND channel IS NULL`, [job.userId, channel]);
        await tx.query('DELETE FROM slack_dm_opens WHERE user_id = $1', [job.userId]);
      });
    },

    /** Slack no longer knows the kept DM channel: the user's DMs wait for a new conversations.open. */
    async dmChannelGone(userId: string, channel: string, reason: string): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM slack_dm_channels WHERE user_id = $1 AND channel = $2', [userId, channel]);
        await tx.query(
          `UPDATE outbox SET channel = NULL, sending_since = NULL, not_before = '-infinity', degraded = $3, last_error = $3 WHERE state = 'pending' AND kind = 'dm' AND user_id = $1 AND channel = $2`,
          [userId, channel, reason],
        );
        await tx.query('UPDATE slack_channels SET next_post_at = now() WHERE channel = $1', [channel]);
      });
    },

    /**
     * Tries again at `notBefore`. The channel (or message) waits as long, so later rows in the same
     * channel keep their order behind this one and a Retry-After is honoured for the whole channel.
     * `notPosted`: Slack's answer says the post was not made, so it is no longer in doubt.
     */
    async retry(job: OutboxJob, options: { notBefore: Date; countAttempt: boolean; error: string; notPosted: boolean; transient: boolean }): Promise<void> {
      await db.transaction(async (tx) => {
        if (job.type === 'open') {
          await tx.query(
            `UPDATE slack_dm_opens SET next_open_at = $2, attempts = attempts + $3, last_error = $4, transient_retry = $5 WHERE user_id = $1`,
            [job.userId, options.notBefore, options.countAttempt ? 1 : 0, options.error, options.transient],
          );
          return;
        }
        await tx.query(
          `UPDATE outbox SET not_before = $2, attempts = attempts + $3, last_error = $4, transient_retry = $6,
                  sending_since = CASE WHEN $5::boolean THEN NULL ELSE sending_since END
            WHERE id = $1 AND state = 'pending'`,
          [job.id, options.notBefore, options.countAttempt ? 1 : 0, options.error, options.notPosted, options.transient],
        );
        if (job.type === 'post') await tx.query('UPDATE slack_channels SET next_post_at = $2 WHERE channel = $1', [job.channel, options.notBefore]);
        if (job.type === 'update') await tx.query('UPDATE slack_messages SET next_update_at = $2 WHERE message_key = $1', [job.messageKey, options.notBefore]);
      });
    },

    /**
     * Gives up on the rows. Replies and edits waiting for a post that failed fail with it (they
     * could never be sent); returns how many did. An edit re-rendered meanwhile stays pending.
     */
    async fail(job: OutboxJob, options: { now: Date; error: string; nextAt: Date }): Promise<{ dependents: number }> {
      return db.transaction(async (tx) => {
        if (job.type === 'update') {
          await tx.query(`UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = $3 WHERE id = $1 AND revision = $2`, [job.id, job.revision, options.error]);
          await tx.query(`UPDATE outbox SET not_before = $2 WHERE id = $1 AND state = 'pending'`, [job.id, options.now]);
          await tx.query('UPDATE slack_messages SET next_update_at = $2 WHERE message_key = $1', [job.messageKey, options.nextAt]);
          return { dependents: 0 };
        }
        if (job.type === 'open') {
          // Slack will not open a conversation with this user (user_not_found, cannot_dm_bot, …).
          await tx.query('DELETE FROM slack_dm_opens WHERE user_id = $1', [job.userId]);
          const failed = await tx.query(
            `UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = $2 WHERE state = 'pending' AND kind = 'dm' AND user_id = $1 AND channel IS NULL`,
            [job.userId, options.error],
          );
          return { dependents: Math.max(0, failed.rowCount - 1) };
        }
        await tx.query(`UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = $2, sending_since = NULL WHERE id = $1`, [job.id, options.error]);
        await tx.query('UPDATE slack_channels SET next_post_at = $2 WHERE channel = $1', [job.channel, options.nextAt]);
        if (!job.messageKey) return { dependents: 0 };
        const dependents = await tx.query(
          `UPDATE outbox SET state = 'failed', last_error = $2
            WHERE state = 'pending' AND ((kind = 'reply' AND thread_key = $1) OR (kind = 'update' AND message_key = $1))`,
          [job.messageKey, `parent message ${job.messageKey} failed: ${options.error}`],
        );
        return { dependents: dependents.rowCount };
      });
    },

    /**
     * Slack refused the write for good as it is: it is sent again at once as `payload` (its minimal
     * form) and/or to `channel` (the default channel, for a post Slack will not take where it was
     * routed). When `report` is given and the channel was not reported yet, the report is posted
     * once in the default channel, in the same transaction.
     */
    async degrade(
      job: Exclude<OutboxJob, { type: 'open' }>,
      options: { now: Date; reason: string; payload?: OutboxPayload; channel?: string; report?: { channel: string; code: string; post: NewOutboxRow & { kind: 'post' } } },
    ): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.query(
          `UPDATE outbox SET degraded = $2, payload = coalesce($3::jsonb, payload), channel = coalesce($4, channel), not_before = $5, sending_since = NULL,
                  attempts = attempts + 1, last_error = $2, transient_retry = false
            WHERE id = $1 AND state = 'pending'`,
          [job.id, options.reason, options.payload ? JSON.stringify(options.payload) : null, options.channel ?? null, options.now],
        );
        if (job.type === 'post') await tx.query('UPDATE slack_channels SET next_post_at = $2 WHERE channel = $1', [job.channel, options.now]);
        else await tx.query('UPDATE slack_messages SET next_update_at = $2 WHERE message_key = $1', [job.messageKey, options.now]);
        if (options.report) await reportChannel(tx, options.report, options.now);
      });
    },

    /** Reports a channel the bot cannot post in, once (see `degrade`); for writes that cannot move. */
    async reportChannelOnce(report: { channel: string; code: string; post: NewOutboxRow & { kind: 'post' } }, now: Date): Promise<boolean> {
      return db.transaction((tx) => reportChannel(tx, report, now));
    },

    /**
     * Wakes every write waiting out a transient failure (Slack answers again): without it each
     * waits its own backoff. Rows in flight are not touched (a claim clears their flag).
     */
    async wakeTransient(now: Date): Promise<number> {
      const { rows } = await db.query<{ n: number }>(
        `WITH woken AS (
           UPDATE outbox SET not_before = $1, transient_retry = false WHERE state = 'pending' AND transient_retry RETURNING kind, channel, message_key),
         channels AS (
           UPDATE slack_channels SET next_post_at = $1 WHERE next_post_at > $1 AND channel IN (SELECT channel FROM woken WHERE kind <> 'update')),
         messages AS (
           UPDATE slack_messages SET next_update_at = $1 WHERE next_update_at > $1 AND message_key IN (SELECT message_key FROM woken WHERE kind = 'update')),
         opens AS (
           UPDATE slack_dm_opens SET next_open_at = $1, transient_retry = false WHERE transient_retry RETURNING 1)
         SELECT ((SELECT count(*) FROM woken) + (SELECT count(*) FROM opens))::int AS n`,
        [now],
      );
      return rows[0]?.n ?? 0;
    },

    /**
     * How long the oldest write Slack should have by now has waited. Replies and edits of a message
     * that has no post (an incident listed only in a storm digest) are not waiting on Slack.
     */
    async oldestPending(): Promise<{ pending: number; oldestSeconds: number }> {
      const { rows } = await db.query<{ pending: number; oldest: number | null }>(
        `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(o.created_at))::float8 AS oldest
           FROM outbox o
          WHERE o.state = 'pending'
            AND NOT (o.kind IN ('reply', 'update') AND o.channel IS NULL
                     AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.kind = 'post' AND p.state = 'pending'
                                       AND p.message_key = CASE o.kind WHEN 'reply' THEN o.thread_key ELSE o.message_key END))`,
      );
      return { pending: rows[0]?.pending ?? 0, oldestSeconds: Math.max(0, rows[0]?.oldest ?? 0) };
    },

    /** Rows by state, for the outbox gauges. */
    async counts(): Promise<{ pending: number; failed: number }> {
      const { rows } = await db.query<{ pending: number; failed: number }>(
        `SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'failed')::int AS failed FROM outbox`,
      );
      return rows[0] ?? { pending: 0, failed: 0 };
    },
  };
}

export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
