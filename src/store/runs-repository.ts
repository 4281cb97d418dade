import type { Queryable } from './db.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'refused';
export type RunOrigin = 'slash' | 'button' | 'modal' | 'automation' | 'schedule' | 'api';

export interface RunRecord {
  id: string;
  ref: string;
  actionId: string;
  target: string | null;
  input: unknown;
  actorId: string;
  actorName: string | null;
  origin: RunOrigin;
  status: RunStatus;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  summary: string | null;
  errorCode: string | null;
}

interface RunRow {
  id: string;
  ref: string;
  action_id: string;
  target: string | null;
  input: unknown;
  actor_id: string;
  actor_name: string | null;
  origin: RunOrigin;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  summary: string | null;
  error_code: string | null;
}

const toRecord = (r: RunRow): RunRecord => ({
  id: r.id,
  ref: r.ref,
  actionId: r.action_id,
  target: r.target,
  input: r.input,
  actorId: r.actor_id,
  actorName: r.actor_name,
  origin: r.origin,
  status: r.status,
  startedAt: new Date(r.started_at),
  finishedAt: r.finished_at ? new Date(r.finished_at) : null,
  durationMs: r.duration_ms,
  summary: r.summary,
  errorCode: r.error_code,
});

// Summaries are for people scanning an audit list, not for storing whole outputs.
const SUMMARY_MAX = 2_000;
const clip = (text: string | null | undefined) => (text == null ? null : text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 1)}…` : text);

export interface NewRun {
  id: string;
  ref: string;
  actionId: string;
  target: string | undefined;
  input: unknown;
  actorId: string;
  actorName: string | undefined;
  origin: RunOrigin;
  startedAt: Date;
}

export function createRunsRepository(db: Queryable) {
  return {
    async start(run: NewRun): Promise<void> {
      await db.query(
        `INSERT INTO runs (id, ref, action_id, target, input, actor_id, actor_name, origin, status, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', $9)`,
        [run.id, run.ref, run.actionId, run.target ?? null, JSON.stringify(run.input ?? {}), run.actorId, run.actorName ?? null, run.origin, run.startedAt],
      );
    },

    /** Records a run that never started (refused), in one statement. */
    async refuse(run: NewRun, errorCode: string, summary: string): Promise<void> {
      await db.query(
        `INSERT INTO runs (id, ref, action_id, target, input, actor_id, actor_name, origin, status, started_at, finished_at, duration_ms, summary, error_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'refused', $9, $9, 0, $10, $11)`,
        [run.id, run.ref, run.actionId, run.target ?? null, JSON.stringify(run.input ?? {}), run.actorId, run.actorName ?? null, run.origin, run.startedAt, clip(summary), errorCode],
      );
    },

    async finish(id: string, end: { status: Exclude<RunStatus, 'running' | 'refused'>; finishedAt: Date; durationMs: number; summary: string; errorCode?: string }): Promise<void> {
      await db.query(
        `UPDATE runs SET status = $2, finished_at = $3, duration_ms = $4, summary = $5, error_code = $6 WHERE id = $1`,
        [id, end.status, end.finishedAt, Math.round(end.durationMs), clip(end.summary), end.errorCode ?? null],
      );
    },

    async byRef(ref: string): Promise<RunRecord | undefined> {
      const { rows } = await db.query<RunRow>('SELECT * FROM runs WHERE ref = $1', [ref]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async recent(filter: { target?: string; actionId?: string; limit?: number } = {}): Promise<RunRecord[]> {
      const { rows } = await db.query<RunRow>(
        `SELECT * FROM runs
          WHERE ($1::text IS NULL OR target = $1) AND ($2::text IS NULL OR action_id = $2)
          ORDER BY started_at DESC LIMIT $3`,
        [filter.target ?? null, filter.actionId ?? null, filter.limit ?? 20],
      );
      return rows.map(toRecord);
    },
  };
}

export type RunsRepository = ReturnType<typeof createRunsRepository>;
