import type { Queryable } from '../../store/db.js';
import type { ScheduleOverride } from './schedule.js';

/** An override as `/ops oncall override` stores it. */
export interface OnCallOverride extends ScheduleOverride {
  id: number;
  schedule: string;
  createdBy: string;
  createdAt: Date;
}

export type NewOnCallOverride = Omit<OnCallOverride, 'id'>;

/** Overrides per schedule name, oldest first (the order `onCallAt` expects: the newest covering wins). */
export type OverridesBySchedule = Readonly<Record<string, readonly OnCallOverride[]>>;

/** Stand-ins for schedule rotations; read live by escalation, so a takeover counts for running incidents too. */
export interface OnCallOverrides {
  /** Overrides that end after `after`, of `schedules` (all when omitted). */
  live(after: Date, schedules?: readonly string[]): Promise<OverridesBySchedule>;
  add(override: NewOnCallOverride): Promise<OnCallOverride>;
}

interface OverrideRow {
  id: number | string;
  schedule: string;
  user_id: string;
  starts_at: Date | string;
  ends_at: Date | string;
  created_by: string;
  created_at: Date | string;
}

const toOverride = (r: OverrideRow): OnCallOverride => ({
  id: Number(r.id),
  schedule: r.schedule,
  userId: r.user_id,
  startsAt: new Date(r.starts_at),
  endsAt: new Date(r.ends_at),
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
});

/** `live` in the caller's transaction. */
export async function liveOverrides(q: Queryable, after: Date, schedules?: readonly string[]): Promise<OverridesBySchedule> {
  const { rows } = schedules
    ? await q.query<OverrideRow>(
        `SELECT * FROM oncall_overrides
          WHERE ends_at > $1 AND schedule IN (SELECT jsonb_array_elements_text($2::jsonb))
          ORDER BY created_at, id`,
        [after, JSON.stringify(schedules)],
      )
    : await q.query<OverrideRow>('SELECT * FROM oncall_overrides WHERE ends_at > $1 ORDER BY created_at, id', [after]);
  const bySchedule: Record<string, OnCallOverride[]> = {};
  for (const row of rows) (bySchedule[row.schedule] ??= []).push(toOverride(row));
  return bySchedule;
}

export function createOnCallOverrides(db: Queryable): OnCallOverrides {
  return {
    live: (after, schedules) => liveOverrides(db, after, schedules),
    async add(o) {
      const { rows } = await db.query<OverrideRow>(
        `INSERT INTO oncall_overrides (schedule, user_id, starts_at, ends_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [o.schedule, o.userId, o.startsAt, o.endsAt, o.createdBy, o.createdAt],
      );
      return toOverride(rows[0]!);
    },
  };
}
