import type { Queryable } from '../store/db.js';

export type JobRunStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'abandoned';

export interface JobRunRecord {
  job: string;
  slot: Date;
  claimedBy: string;
  startedAt: Date;
  deadlineAt: Date;
  finishedAt: Date | null;
  status: JobRunStatus;
  summary: string | null;
  runRef: string | null;
  detail: unknown;
}

interface JobRunRow {
  job: string;
  slot: Date;
  claimed_by: string;
  started_at: Date;
  deadline_at: Date;
  finished_at: Date | null;
  status: JobRunStatus;
  summary: string | null;
  run_ref: string | null;
  detail: unknown;
}

const toRecord = (r: JobRunRow): JobRunRecord => ({
  job: r.job,
  slot: new Date(r.slot),
  claimedBy: r.claimed_by,
  startedAt: new Date(r.started_at),
  deadlineAt: new Date(r.deadline_at),
  finishedAt: r.finished_at ? new Date(r.finished_at) : null,
  status: r.status,
  summary: r.summary,
  runRef: r.run_ref,
  detail: r.detail,
});

const SUMMARY_MAX = 2_000;
const clip = (text: string) => (text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 1)}…` : text);

/** How a claim on a slot ended: this instance runs it, another instance has it, or the previous run is still going. */
export type Claim = { claimed: true } | { claimed: false; reason: 'taken' } | { claimed: false; reason: 'skipped'; running: JobRunRecord | undefined };

export interface NewClaim {
  job: string;
  slot: Date;
  instanceId: string;
  now: Date;
  deadlineAt: Date;
}

export interface JobRunEnd {
  status: Exclude<JobRunStatus, 'running' | 'skipped' | 'abandoned'>;
  finishedAt: Date;
  summary: string;
  runRef?: string;
  detail?: unknown;
}

/** `job_runs`: the claims that keep each scheduled run to one instance and one at a time. */
export function createJobRunsRepository(db: Queryable) {
  return {
    /**
     * Claims `(job, slot)`. The primary key lets one instance in; the partial unique index on
     * running rows refuses a claim while the previous slot of the same job runs, and that slot
     * is then recorded as skipped. A running row past its deadline is first marked abandoned.
     */
    async claim(claim: NewClaim): Promise<Claim> {
      const { job, slot, instanceId, now } = claim;
      await db.query(
        `UPDATE job_runs SET status = 'abandoned', finished_at = $2,
                summary = 'did not finish by its deadline; instance ' || claimed_by || ' probably stopped'
          WHERE job = $1 AND status = 'running' AND deadline_at < $2`,
        [job, now],
      );
      const inserted = await db.query(
        `INSERT INTO job_runs (job, slot, claimed_by, started_at, deadline_at, status)
         VALUES ($1, $2, $3, $4, $5, 'running')
         ON CONFLICT DO NOTHING`,
        [job, slot, instanceId, now, claim.deadlineAt],
      );
      if (inserted.rowCount === 1) return { claimed: true };
      const { rows: existing } = await db.query('SELECT 1 FROM job_runs WHERE job = $1 AND slot = $2', [job, slot]);
      if (existing.length > 0) return { claimed: false, reason: 'taken' };
      // Not this slot: the one running row of the job refused the claim.
      const running = (await db.query<JobRunRow>(`SELECT * FROM job_runs WHERE job = $1 AND status = 'running'`, [job])).rows.map(toRecord)[0];
      const summary = running
        ? `skipped: the run of ${running.slot.toISOString()} (instance ${running.claimedBy}) was still running`
        : 'skipped: the previous run was still running';
      const skipped = await db.query(
        `INSERT INTO job_runs (job, slot, claimed_by, started_at, deadline_at, finished_at, status, summary)
         VALUES ($1, $2, $3, $4, $4, $4, 'skipped', $5)
         ON CONFLICT DO NOTHING`,
        [job, slot, instanceId, now, summary],
      );
      // Another instance may have recorded the skip (or, the previous run just ended, claimed the slot).
      if (skipped.rowCount === 0) {
        const { rows } = await db.query<{ status: JobRunStatus }>('SELECT status FROM job_runs WHERE job = $1 AND slot = $2', [job, slot]);
        if (rows[0]?.status !== 'skipped') return { claimed: false, reason: 'taken' };
      }
      return { claimed: false, reason: 'skipped', running };
    },

    /** Records how a claimed run ended; `tx` lets the caller commit it with the Slack post it made. */
    async finish(tx: Queryable, job: string, slot: Date, instanceId: string, end: JobRunEnd): Promise<void> {
      await tx.query(
        `UPDATE job_runs SET status = $4, finished_at = $5, summary = $6, run_ref = $7, detail = $8::jsonb
          WHERE job = $1 AND slot = $2 AND claimed_by = $3`,
        [job, slot, instanceId, end.status, end.finishedAt, clip(end.summary), end.runRef ?? null, end.detail === undefined ? null : JSON.stringify(end.detail)],
      );
    },

    /** The newest run of `job` that succeeded, for jobs that compare with what they found last time. */
    async lastSucceeded(job: string): Promise<JobRunRecord | undefined> {
      const { rows } = await db.query<JobRunRow>(`SELECT * FROM job_runs WHERE job = $1 AND status = 'succeeded' ORDER BY slot DESC LIMIT 1`, [job]);
      return rows.map(toRecord)[0];
    },
  };
}

export type JobRunsRepository = ReturnType<typeof createJobRunsRepository>;
