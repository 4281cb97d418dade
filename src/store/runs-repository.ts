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

/** Why a run could not start: another is running, or the last one finished too recently. */
export type StartBlocked =
  | { blocked: 'running'; by: RunRecord | undefined }
  | { blocked: 'cooldown'; last: RunRecord; until: Date };

const UNIQUE_VIOLATION = '23505';

export function createRunsRepository(db: Queryable & { transaction?: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T> }) {
  const insert = (tx: Queryable, run: NewRun, exclusive: boolean, deadlineAt: Date | null) =>
    tx.query(
      `INSERT INTO runs (id, ref, action_id, target, input, actor_id, actor_name, origin, status, started_at, exclusive, deadline_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', $9, $10, $11)`,
      [run.id, run.ref, run.actionId, run.target ?? null, JSON.stringify(run.input ?? {}), run.actorId, run.actorName ?? null, run.origin, run.startedAt, exclusive, deadlineAt],
    );

  return {
    /** Records a run that may run alongside others of its kind (read-only actions). */
    async start(run: NewRun): Promise<void> {
      await insert(db, run, false, null);
    },

    /**
     * Records an exclusive run, unless one of the same action on the same target is running or
     * succeeded within `cooldownMs`. The unique index decides races between replicas.
     */
    async startExclusive(run: NewRun, options: { deadlineAt: Date; cooldownMs: number }): Promise<StartBlocked | undefined> {
      const target = run.target ?? '';
      const attempt = async (tx: Queryable): Promise<StartBlocked | undefined> => {
        // A run whose process died keeps its 'running' row; past its deadline it no longer blocks.
        await tx.query(
          `UPDATE runs SET status = 'failed', finished_at = $3, summary = 'abandoned: Switchboard stopped during the run', error_code = 'RUN_ABANDONED'
            WHERE action_id = $1 AND coalesce(target, '') = $2 AND status = 'running' AND exclusive AND deadline_at < $3`,
          [run.actionId, target, run.startedAt],
        );
        if (options.cooldownMs > 0) {
          const { rows } = await tx.query<RunRow>(
            `SELECT * FROM runs WHERE action_id = $1 AND coalesce(target, '') = $2 AND status = 'succeeded' AND finished_at > $3
              ORDER BY finished_at DESC LIMIT 1`,
            [run.actionId, target, new Date(run.startedAt.getTime() - options.cooldownMs)],
          );
          const last = rows[0] ? toRecord(rows[0]) : undefined;
          if (last?.finishedAt) return { blocked: 'cooldown', last, until: new Date(last.finishedAt.getTime() + options.cooldownMs) };
        }
        await insert(tx, run, true, options.deadlineAt);
        return undefined;
      };
      try {
        return db.transaction ? await db.transaction(attempt) : await attempt(db);
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
        const { rows } = await db.query<RunRow>(
          `SELECT * FROM runs WHERE action_id = $1 AND coalesce(target, '') = $2 AND status = 'running' AND exclusive LIMIT 1`,
          [run.actionId, target],
        );
        // The other run may have finished in between; it was still running a moment ago.
        return { blocked: 'running', by: rows[0] ? toRecord(rows[0]) : undefined };
      }
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
