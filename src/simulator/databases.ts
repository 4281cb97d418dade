import pg from 'pg';

/** A table of sample rows per database, so a backup has something to dump. */
const SAMPLE_TABLE = `
CREATE TABLE IF NOT EXISTS simulator_samples (id serial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO simulator_samples (name) SELECT 'sample ' || n FROM generate_series(1, 25) AS n WHERE NOT EXISTS (SELECT 1 FROM simulator_samples);
`;
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates each database the catalog names, if missing, with a table of sample rows; returns the names it created. */
export async function ensureDatabases(urls: readonly string[]): Promise<string[]> {
  const created: string[] = [];
  for (const url of urls) {
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    if (!DATABASE_NAME.test(name)) throw new Error(`the simulator creates databases with plain names only, not "${name}"`);
    const admin = new URL(url);
    admin.pathname = '/postgres';
    const client = new pg.Client({ connectionString: admin.href, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE DATABASE ${name}`);
        created.push(name);
      }
    } finally {
      await client.end();
    }
    const db = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    await db.connect();
    try {
      await db.query(SAMPLE_TABLE);
    } finally {
      await db.end();
    }
  }
  return created;
}

/** A query that runs until stopped, for `/ops db long-queries` and `kill-long-queries` to find. */
export async function startLongQuery(url: string): Promise<{ stop(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url, application_name: 'simulator-long-query' });
  client.on('error', () => undefined);
  await client.connect();
  // Terminated by `db.kill-long-queries`, or cancelled by stop(); either way the error is expected.
  void client.query('SELECT pg_sleep(3600) /* simulator: a long report */').catch(() => undefined);
  return { stop: () => client.end().catch(() => undefined) };
}
