import pg from 'pg';

/** The application name Switchboard's pg_dump connects with (src/integrations/postgres/backup-command.ts). */
const BACKUP_APPLICATION = 'switchboard-backup';
const POLL_MS = 200;

export interface ArmedBackupFailure {
  /** Resolves when a backup was made to fail. */
  fired: Promise<void>;
  /** Gives up waiting and releases the lock. */
  disarm(): Promise<void>;
}

/**
 * Makes the next pg_dump of `databaseUrl` fail the way a database restart mid-dump would:
 * the simulator holds an exclusive lock on its own sample table, so the dump waits at its
 * first lock instead of finishing in milliseconds, and then ends the dump's connection.
 * Only the demo's database and Switchboard's own backup session are touched.
 */
export async function failNextBackup(databaseUrl: string): Promise<ArmedBackupFailure> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'simulator-backup-failure', connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE simulator_samples IN ACCESS EXCLUSIVE MODE');
  let armed = true;
  let settle: () => void = () => undefined;
  const fired = new Promise<void>((resolve) => (settle = resolve));
  const release = async () => {
    armed = false;
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  };
  void (async () => {
    while (armed) {
      // Inside a transaction pg_stat_activity is read once and cached; drop the cache for a fresh look.
      await client.query('SELECT pg_stat_clear_snapshot()').catch(() => undefined);
      const ended = await client
        .query<{ ended: boolean }>(
          'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()',
          [BACKUP_APPLICATION],
        )
        .then((r) => r.rows.some((row) => row.ended), () => false);
      if (ended) {
        await release();
        settle();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return { fired, disarm: release };
}
