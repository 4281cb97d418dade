import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupRetention } from './schema.js';

const DAY_MS = 86_400_000;
/** Extensions a backup of ours may carry; retention looks at all of them, so changing `format` still prunes old files. */
const EXTENSIONS = ['dump', 'sql'] as const;
export type BackupExtension = (typeof EXTENSIONS)[number];

/** `2024-05-01T02:00:07.123Z` → `20240501T020007Z`: sortable, and safe in every file system. */
export function formatStamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function parseStamp(stamp: string): Date {
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp) ?? [];
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}

/** `<service>-<name>-<YYYYMMDDTHHMMSSZ>.<ext>`, the only names retention will ever delete. */
export function backupFileName(serviceId: string, name: string, at: Date, extension: BackupExtension): string {
  return `${serviceId}-${name}-${formatStamp(at)}.${extension}`;
}

export interface BackupFile {
  name: string;
  takenAt: Date;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Matches this service's and this backup's files only: "db-x-<stamp>.dump" never matches "db-x-y-<stamp>.dump". */
function patternFor(serviceId: string, name: string): RegExp {
  return new RegExp(`^${escapeRegExp(`${serviceId}-${name}-`)}(\\d{8}T\\d{6}Z)\\.(?:${EXTENSIONS.join('|')})$`);
}

/** Picks the files a name belongs to; everything else in the folder is ignored. */
export function matchBackupFiles(fileNames: readonly string[], serviceId: string, name: string): BackupFile[] {
  const pattern = patternFor(serviceId, name);
  return fileNames.flatMap((fileName) => {
    const match = pattern.exec(fileName);
    return match ? [{ name: fileName, takenAt: parseStamp(match[1]!) }] : [];
  });
}

/**
 * The files retention removes. A file survives when any rule keeps it: it is among the newest
 * `keep`, or younger than `days`. `protect` (the backup just made) always survives.
 */
export function selectExpired(files: readonly BackupFile[], retention: BackupRetention, now: Date, protect?: string): BackupFile[] {
  const newestFirst = [...files].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || b.name.localeCompare(a.name));
  return newestFirst.filter((file, index) => {
    if (file.name === protect) return false;
    const keptByCount = retention.keep !== undefined && index < retention.keep;
    const keptByAge = retention.days !== undefined && now.getTime() - file.takenAt.getTime() < retention.days * DAY_MS;
    return !keptByCount && !keptByAge;
  });
}

/** Deletes expired backups of one service+name in `folder`; returns the paths removed and the ones that could not be. */
export async function applyRetention(input: {
  folder: string;
  serviceId: string;
  name: string;
  retention: BackupRetention;
  now: Date;
  protect: string;
}): Promise<{ removed: string[]; failed: string[] }> {
  const entries = await readdir(input.folder, { withFileTypes: true });
  const regular = entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
  const expired = selectExpired(matchBackupFiles(regular, input.serviceId, input.name), input.retention, input.now, input.protect);
  const removed: string[] = [];
  const failed: string[] = [];
  for (const file of expired) {
    const path = join(input.folder, file.name);
    try {
      await unlink(path);
      removed.push(path);
    } catch (error) {
      // Already gone (another cleanup) is as good as removed; anything else is reported, not thrown:
      // the backup itself succeeded.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') removed.push(path);
      else failed.push(`${file.name} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return { removed, failed };
}
