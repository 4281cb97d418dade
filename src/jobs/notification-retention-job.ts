import { formatDuration } from '../config/duration.js';
import type { Queryable } from '../store/db.js';
import type { JobDefinition } from './job.js';
import type { JobsConfig } from './schema.js';

export const NOTIFICATION_RETENTION_JOB = 'notificationRetention';

// Small enough that each DELETE is a short transaction next to the webhook's INSERTs.
const CHUNK = 5_000;

/**
 * Deletes webhook deliveries (`notifications`) received more than `keep` ago once they are
 * applied or given up: every delivery of every group is kept as it arrived, and without this the
 * table grows for as long as Switchboard runs. Incidents, alerts and timelines are kept; rows not
 * applied yet are never deleted.
 */
export function notificationRetentionJob(config: JobsConfig['notificationRetention']): JobDefinition {
  return {
    name: NOTIFICATION_RETENTION_JOB,
    title: 'notification retention',
    schedule: config.schedule,
    timezone: config.timezone,
    maxDurationMs: 30 * 60_000,
    // Nothing to tell a channel: a failure is in the log and in job_runs.
    channel: undefined,
    postsNothing: true,
    async run({ db, now, signal }) {
      const before = new Date(now().getTime() - config.keep);
      let deleted = 0;
      for (;;) {
        const n = await deleteChunk(db, before);
        deleted += n;
        if (n < CHUNK || signal.aborted) break;
      }
      return { ok: true, summary: `deleted ${deleted} notification${deleted === 1 ? '' : 's'} received more than ${formatDuration(config.keep)} ago` };
    },
  };
}

async function deleteChunk(db: Queryable, before: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM notifications WHERE id IN (
       SELECT id FROM notifications
        WHERE received_at < $1 AND (processed_at IS NOT NULL OR failed_at IS NOT NULL)
        ORDER BY received_at LIMIT $2)`,
    [before, CHUNK],
  );
  return rowCount;
}
