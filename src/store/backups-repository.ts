import type { Queryable } from './db.js';

export type BackupRunStatus = 'running' | 'succeeded' | 'failed';

export interface BackupRecord {
  id: string;
  runRef: string | null;
  service: string;
  /** The backup's catalog name, e.g. "database". */
  target: string;
  kind: string;
  status: BackupRunStatus;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  file: string | null;
  bytes: number | null;
  sha256: string | null;
  verified: boolean;
  detail: string | null;
}

interface BackupRow {
  id: string;
  run_ref: string | null;
  service: string;
  target: string;
  kind: string;
  status: BackupRunStatus;
  started_at: Date | string;
  finished_at: Date | string | null;
  duration_ms: number | null;
  file: string | null;
  bytes: number | string | null;
  sha256: string | null;
  verified: boolean;
  detail: string | null;
}

const toRecord = (r: BackupRow): BackupRecord => ({
  id: r.id,
  runRef: r.run_ref,
  service: r.service,
  target: r.target,
  kind: r.kind,
  status: r.status,
  startedAt: new Date(r.started_at),
  finishedAt: r.finished_at ? new Date(r.finished_at) : null,
  durationMs: r.duration_ms,
  file: r.file,
  bytes: r.bytes == null ? null : Number(r.bytes),
  sha256: r.sha256,
  verified: r.verified,
  detail: r.detail,
});

// Details are one line for people scanning a list, not whole program outputs.
const DETAIL_MAX = 2_000;
const clip = (text: string | null | undefined) => (text == null ? null : text.length > DETAIL_MAX ? `${text.slice(0, DETAIL_MAX - 1)}…` : text);

export interface NewBackup {
  id: string;
  runRef?: string;
  service: string;
  target: string;
  kind: string;
  startedAt: Date;
}

export interface BackupEnd {
  status: Exclude<BackupRunStatus, 'running'>;
  finishedAt: Date;
  durationMs: number;
  file?: string;
  bytes?: number;
  sha256?: string;
  verified?: boolean;
  detail: string;
}

/** The latest finished backup per target, for the backup metrics. */
export interface LatestBackup {
  service: string;
  target: string;
  lastStatus: Exclude<BackupRunStatus, 'running'>;
  lastSuccessAt?: Date;
}

export function createBackupsRepository(db: Queryable) {
  return {
    async start(backup: NewBackup): Promise<void> {
      await db.query(
        `INSERT INTO backups (id, run_ref, service, target, kind, status, started_at)
         VALUES ($1, $2, $3, $4, $5, 'running', $6)`,
        [backup.id, backup.runRef ?? null, backup.service, backup.target, backup.kind, backup.startedAt],
      );
    },

    /** Records the end of a running backup; a second finish of the same backup changes nothing. */
    async finish(id: string, end: BackupEnd): Promise<boolean> {
      const { rowCount } = await db.query(
        `UPDATE backups
            SET status = $2, finished_at = $3, duration_ms = $4, file = $5, bytes = $6, sha256 = $7, verified = $8, detail = $9
          WHERE id = $1 AND status = 'running'`,
        [id, end.status, end.finishedAt, Math.round(end.durationMs), end.file ?? null, end.bytes ?? null, end.sha256 ?? null, end.verified ?? false, clip(end.detail)],
      );
      return rowCount > 0;
    },

    async recent(filter: { service: string; target?: string; limit: number }): Promise<BackupRecord[]> {
      const { rows } = await db.query<BackupRow>(
        `SELECT * FROM backups
          WHERE service = $1 AND ($2::text IS NULL OR target = $2)
          ORDER BY started_at DESC, id
          LIMIT $3`,
        [filter.service, filter.target ?? null, filter.limit],
      );
      return rows.map(toRecord);
    },

    /** A backup still running does not hide the result of the one before it. */
    async latestPerTarget(): Promise<LatestBackup[]> {
      const { rows } = await db.query<{ service: string; target: string; status: 'succeeded' | 'failed'; last_success_at: Date | string | null }>(
        `SELECT DISTINCT ON (b.service, b.target)
                b.service, b.target, b.status,
                (SELECT max(s.finished_at) FROM backups s
                  WHERE s.service = b.service AND s.target = b.target AND s.status = 'succeeded') AS last_success_at
           FROM backups b
          WHERE b.status <> 'running'
          ORDER BY b.service, b.target, b.started_at DESC, b.finished_at DESC`,
      );
      return rows.map((r) => ({
        service: r.service,
        target: r.target,
        lastStatus: r.status,
        ...(r.last_success_at ? { lastSuccessAt: new Date(r.last_success_at) } : {}),
      }));
    },
  };
}

export type BackupsRepository = ReturnType<typeof createBackupsRepository>;
