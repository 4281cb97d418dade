import type { CommandBackup, PostgresBackup } from './schema.js';

export interface BackupProgress {
  phase: 'dumping' | 'verifying' | 'pruning' | 'running';
  elapsedMs: number;
}

export interface BackupOutcome {
  /** Absolute path of the published backup file (postgres kind). */
  file?: string;
  bytes?: number;
  sha256?: string;
  durationMs: number;
  /** True only when the file was read back and found complete. */
  verified: boolean;
  /** Absolute paths removed by retention after this success. */
  pruned: string[];
  /** One line for the operator, shown in Slack and stored with the backup record. */
  detail: string;
}

export interface BackupRunOptions {
  signal: AbortSignal;
  /** Catalog id of the service; part of every file name, so retention never touches another service's files. */
  serviceId: string;
  onProgress?: (progress: BackupProgress) => void;
  now?: () => Date;
}

/** Port used by backup.start for kinds postgres and command. */
export interface BackupRunner {
  run(config: PostgresBackup | CommandBackup, opts: BackupRunOptions): Promise<BackupOutcome>;
}
