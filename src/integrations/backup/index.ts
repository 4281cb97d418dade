export { BackupConfig, BackupList, cronProblem } from './schema.js';
export type { Backup, BackupKind, BackupRetention, CommandBackup, PostgresBackup, RedisBackup } from './schema.js';
export type { BackupOutcome, BackupProgress, BackupRunner, BackupRunOptions } from './types.js';
export { createBackupRunner, type BackupRunnerOptions } from './create-backup-runner.js';
export { registerBackupMetrics, type BackupStatus } from './metrics.js';
