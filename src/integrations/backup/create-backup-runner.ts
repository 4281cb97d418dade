import { runPostgresBackup } from '../postgres/backup-postgres.js';
import { runCommandBackup } from './command-backup.js';
import { PROGRESS_EVERY_MS } from './progress.js';
import type { BackupRunner } from './types.js';

export interface BackupRunnerOptions {
  /** pg_dump to run; default "pg_dump" from PATH. Point it at a versioned binary to match the server. */
  pgDump?: string;
  /** pg_restore used to verify custom-format dumps; default "pg_restore" from PATH. */
  pgRestore?: string;
  progressEveryMs?: number;
}

/** The BackupRunner for kinds postgres and command (redis BGSAVE lives with the redis integration). */
export function createBackupRunner(options: BackupRunnerOptions = {}): BackupRunner {
  const progressEveryMs = options.progressEveryMs ?? PROGRESS_EVERY_MS;
  return {
    run(config, opts) {
      switch (config.kind) {
        case 'postgres':
          return runPostgresBackup(config, opts, { pgDump: options.pgDump ?? 'pg_dump', pgRestore: options.pgRestore ?? 'pg_restore', progressEveryMs });
        case 'command':
          return runCommandBackup(config, opts, progressEveryMs);
      }
    },
  };
}
