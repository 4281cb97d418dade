import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgPassFileLine } from './backup-command.js';

/**
 * Runs `fn` with a PGPASSFILE holding `password` (mode 0600 in a private 0700 temp folder, as libpq
 * requires) and removes it afterwards, whatever happens. No password: `fn` gets undefined.
 */
export async function withPassFile<T>(password: string | undefined, fn: (passFile: string | undefined) => Promise<T>): Promise<T> {
  if (password === undefined) return fn(undefined);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-pgpass-'));
  try {
    const passFile = join(dir, 'pgpass');
    await writeFile(passFile, pgPassFileLine(password), { mode: 0o600, flag: 'wx' });
    return await fn(passFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
