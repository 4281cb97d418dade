import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export class DataDirInUseError extends Error {}

/**
 * Holds `dataDir` for this process: the embedded database must never be opened by two processes,
 * which would corrupt it. A lock left by a process that no longer runs (a crash, `kill -9`) is
 * taken over, so a crash never blocks the next start.
 */
export async function lockDataDir(dataDir: string): Promise<{ release(): Promise<void> }> {
  const file = join(dataDir, 'switchboard.lock');
  const mine = JSON.stringify({ pid: process.pid, host: hostname() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(mine);
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(file);
    if (holder && holder.host === hostname() && isRunning(holder.pid)) {
      throw new DataDirInUseError(
        `Another Switchboard (pid ${holder.pid}) is using the embedded database in ${dataDir}. ` +
          'Stop it first, or set SWITCHBOARD_DATA_DIR to another folder. To run several instances, give them one PostgreSQL (DATABASE_URL).',
      );
    }
    if (holder && holder.host !== hostname()) {
      throw new DataDirInUseError(
        `${dataDir} is locked by a Switchboard on host ${holder.host} (pid ${holder.pid}). The embedded database is for one instance on one machine: ` +
          `if that instance is gone, delete ${file}; to run several instances, give them one PostgreSQL (DATABASE_URL).`,
      );
    }
    // The holder is gone: remove its lock and try again (another process starting now may win the race, and is then the holder).
    await rm(file, { force: true });
  }
  throw new DataDirInUseError(`Could not lock ${dataDir}: another process keeps taking ${file}.`);
}

async function readHolder(file: string): Promise<{ pid: number; host: string } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { pid?: unknown; host?: unknown };
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? { pid: parsed.pid, host: parsed.host } : undefined;
  } catch {
    // A lock torn by a crash while it was written holds no live process.
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
