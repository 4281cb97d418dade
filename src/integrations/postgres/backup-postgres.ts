import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { formatDuration } from '../../config/duration.js';
import { IntegrationError, isIntegrationError } from '../integration-error.js';
import { runCommand } from '../command/run-command.js';
import { applyRetention, backupFileName } from '../backup/backup-files.js';
import { fileDigest } from '../backup/file-digest.js';
import { startProgress } from '../backup/progress.js';
import type { PostgresBackup } from '../backup/schema.js';
import { lastLines, scrub } from '../backup/scrub.js';
import type { BackupOutcome, BackupProgress, BackupRunOptions } from '../backup/types.js';
import { buildPgDumpCommand, describeConnection, parsePostgresUrl } from './backup-command.js';
import { withPassFile } from './backup-passfile.js';
import { verifyDump } from './backup-verify.js';

export interface PostgresBackupTools {
  pgDump: string;
  pgRestore: string;
  progressEveryMs: number;
}

const SERVICE_ID = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * pg_dump into `<folder>/<service>-<name>-<stamp>.<ext>.partial`, read it back, hash it, then
 * publish it by rename and only then apply retention. Any failure, abort or timeout removes the
 * partial file and leaves older backups alone.
 */
export async function runPostgresBackup(config: PostgresBackup, opts: BackupRunOptions, tools: PostgresBackupTools): Promise<BackupOutcome> {
  // The service id becomes part of a path; a catalog id never holds "/" or "..", but this runs with the bot's file rights.
  if (!SERVICE_ID.test(opts.serviceId)) throw new IntegrationError(`"${opts.serviceId}" is not a valid service id for a backup file name`);
  const now = opts.now ?? (() => new Date());
  const takenAt = now();
  const started = Date.now();
  const connection = parsePostgresUrl(config.url);
  const where = describeConnection(connection);
  const clean = (text: string) => scrub(text, [connection.password]);
  const fileName = backupFileName(opts.serviceId, config.name, takenAt, config.format === 'custom' ? 'dump' : 'sql');
  const file = join(config.folder, fileName);
  const partial = `${file}.partial`;
  const deadline = AbortSignal.timeout(config.timeout);
  const signal = AbortSignal.any([opts.signal, deadline]);
  const remainingMs = () => Math.max(1, started + config.timeout - Date.now());
  const progress = startProgress(opts.onProgress, tools.progressEveryMs, started);
  let phase: BackupProgress['phase'] = 'dumping';
  let ownsPartial = false;
  const enter = (next: BackupProgress['phase']) => {
    phase = next;
    progress.phase(next);
  };

  try {
    await prepareFolder(config.folder);
    if (await exists(file)) throw new IntegrationError(`${fileName} already exists in ${config.folder}; wait a second and start the backup again`);
    // pg_dump keeps the mode of a file it overwrites: create it private first, a dump holds every row.
    // "wx" also stops a second run of the same backup in the same second from sharing the file.
    try {
      await writeFile(partial, '', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new IntegrationError(`${basename(partial)} exists in ${config.folder}: another run of this backup is writing it`, { cause: error });
      throw error;
    }
    ownsPartial = true;

    enter('dumping');
    await withPassFile(connection.password, async (passFile) => {
      const command = buildPgDumpCommand({ config, file: partial, passFile, program: tools.pgDump });
      // The deadline signal fires first; runCommand's own timer is only a backstop.
      const result = await runCommand({ argv: command.argv, env: command.env, timeoutMs: remainingMs() + 1_000 }, { signal });
      if (result.exitCode !== 0) {
        throw new IntegrationError(`pg_dump of ${where} failed (exit ${result.exitCode}):\n${clean(lastLines(result.output))}`);
      }
    });

    enter('verifying');
    const verification = await verifyDump(partial, config.format, { pgRestore: tools.pgRestore, timeoutMs: remainingMs() + 1_000, signal });
    const { sha256, bytes } = await fileDigest(partial, signal);
    signal.throwIfAborted();
    await rename(partial, file);

    let pruned: string[] = [];
    let pruneProblem = '';
    if (config.retention) {
      enter('pruning');
      try {
        const result = await applyRetention({ folder: config.folder, serviceId: opts.serviceId, name: config.name, retention: config.retention, now: now(), protect: fileName });
        pruned = result.removed;
        if (result.failed.length > 0) pruneProblem = `; could not remove ${result.failed.join(', ')}`;
      } catch (error) {
        pruneProblem = `; retention skipped (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
      }
    }
    const durationMs = Date.now() - started;
    const prunedText = pruned.length > 0 ? `, removed ${pruned.length} old` : '';
    return {
      file,
      bytes,
      sha256,
      durationMs,
      verified: true,
      pruned,
      detail: `${where} → ${fileName} (${formatBytes(bytes)}, ${formatDuration(durationMs)}, ${verification}${prunedText})${pruneProblem}`,
    };
  } catch (error) {
    if (ownsPartial) await rm(partial, { force: true }).catch(() => undefined);
    if (deadline.aborted) {
      throw new IntegrationError(`Backup of ${where} timed out after ${formatDuration(config.timeout)} while ${phase}; the partial file was removed`, {
        cause: error,
        hint: 'raise `timeout` for this backup, or look for locks that block pg_dump',
      });
    }
    if (opts.signal.aborted) throw new IntegrationError(`Backup of ${where} was cancelled while ${phase}; the partial file was removed`, { cause: error });
    if (isIntegrationError(error)) throw new IntegrationError(clean(error.message), { cause: error, hint: error.options.hint });
    throw new IntegrationError(`Backup of ${where} failed while ${phase}: ${clean(describeFsError(error))}`, { cause: error });
  } finally {
    progress.stop();
  }
}

async function prepareFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new IntegrationError(`cannot create the backup folder ${folder} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.code && e.path) return `${e.code} on ${basename(e.path)}`;
  return e?.message ?? String(error);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
