import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupConfig, createBackupRunner, type BackupProgress, type PostgresBackup } from '../../src/integrations/backup/index.js';
import { IntegrationError } from '../../src/integrations/integration-error.js';
import { TEST_DATABASE_URL } from '../helpers/env.js';
import { programPath, requires } from '../helpers/requires.js';

const run = promisify(execFile);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
if (!LOOPBACK.has(new URL(TEST_DATABASE_URL).hostname)) throw new Error(`refusing a non-loopback test target: ${new URL(TEST_DATABASE_URL).host}`);

const suffix = randomBytes(4).toString('hex');
const SOURCE_DB = `sb_backup_src_${suffix}`;
const ROLE = `sb_backup_role_${suffix}`;
// ":" and "\" must be escaped in a PGPASSFILE; "@" and "/" must be encoded in a URL.
const ROLE_PASSWORD = `pw:${suffix}\\x@y/z`;
const SERVICE = 'brownie';
const created: string[] = [];
let admin: pg.Client;
let work: string;

function dbUrl(database: string, credentials?: { user: string; password?: string }): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  if (credentials) {
    url.username = encodeURIComponent(credentials.user);
    url.password = credentials.password ? encodeURIComponent(credentials.password) : '';
  }
  return url.toString();
}

async function createDatabase(prefix: string): Promise<string> {
  const name = `${prefix}_${suffix}_${randomBytes(2).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  created.push(name);
  return name;
}

async function withDb<T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: dbUrl(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** What the restore must reproduce: row count and a digest of every value, in key order. */
const fingerprint = (database: string) =>
  withDb(database, async (client) => {
    const { rows } = await client.query(
      `SELECT (SELECT count(*)::int FROM items) AS items,
              (SELECT md5(string_agg(id || ':' || name || ':' || price, ',' ORDER BY id)) FROM items) AS digest,
              (SELECT count(*)::int FROM notes) AS notes`,
    );
    return rows[0] as { items: number; digest: string; notes: number };
  });

const sha256Of = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

const config = (raw: Record<string, unknown>): PostgresBackup => BackupConfig.parse({ name: 'database', kind: 'postgres', ...raw }) as PostgresBackup;

const newFolder = () => mkdtemp(join(work, 'folder-'));

/**
 * Speaks just enough of the PostgreSQL protocol to ask for a cleartext password, record it, and
 * refuse it with a message that (unlike a real server's) echoes it, to prove the error is scrubbed.
 */
async function startPasswordRecorder(): Promise<{ port: number; passwords: string[]; server: Server }> {
  const passwords: string[] = [];
  const server = createServer((socket) => {
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          buffer = buffer.subarray(length);
          // SSLRequest and GSSENCRequest: "not supported", then the client sends its startup packet.
          if (code === 80877103 || code === 80877104) socket.write('N');
          else {
            started = true;
            const ask = Buffer.alloc(9);
            ask.write('R', 0);
            ask.writeInt32BE(8, 1);
            ask.writeInt32BE(3, 5); // AuthenticationCleartextPassword
            socket.write(ask);
          }
          continue;
        }
        if (buffer.length < 5) return;
        const length = buffer.readInt32BE(1);
        if (buffer.length < length + 1) return;
        const password = buffer.subarray(5, length).toString('utf8').replace(/\0$/, '');
        buffer = buffer.subarray(length + 1);
        passwords.push(password);
        const fields = Buffer.from(`SFATAL\0C28P01\0Mpassword authentication failed: "${password}" is wrong\0\0`);
        const error = Buffer.alloc(5);
        error.write('E', 0);
        error.writeInt32BE(4 + fields.length, 1);
        socket.end(Buffer.concat([error, fields]));
        return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, passwords, server };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'switchboard-backup-test-'));
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${SOURCE_DB}`);
  created.push(SOURCE_DB);
  await withDb(SOURCE_DB, async (client) => {
    await client.query(`CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL)`);
    await client.query(`INSERT INTO items SELECT g, 'item ' || g || ' ' || md5(g::text), g * 1.25 FROM generate_series(1, 2000) g`);
    await client.query(`CREATE TABLE notes (id serial PRIMARY KEY, body text)`);
    await client.query(`INSERT INTO notes (body) VALUES ('tab\there'), ('quote '' and backslash \\'), (NULL)`);
    await client.query(`CREATE ROLE ${ROLE} WITH LOGIN PASSWORD '${ROLE_PASSWORD.replace(/'/g, "''")}'`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ROLE}`);
    await client.query(`GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO ${ROLE}`);
  });
});

afterAll(async () => {
  for (const name of created.reverse()) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  await admin.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  await admin.end();
  await rm(work, { recursive: true, force: true });
});

requires('pg_dump', 'pg_restore', 'psql')('postgres backup', () => {
  const runner = createBackupRunner();

  it('dumps in custom format, verifies, and restores into a new database with the same rows', async () => {
    const folder = join(await newFolder(), 'not', 'yet', 'there');
    const phases: BackupProgress['phase'][] = [];
    const outcome = await runner.run(config({ url: dbUrl(SOURCE_DB), folder }), {
      signal: new AbortController().signal,
      serviceId: SERVICE,
      now: () => new Date('2024-05-01T02:00:07.500Z'),
      onProgress: (p) => phases.push(p.phase),
    });

    const file = join(folder, 'brownie-database-20240501T020007Z.dump');
    expect(outcome).toMatchObject({ file, verified: true, pruned: [] });
    expect(outcome.detail).toMatch(new RegExp(`^${SOURCE_DB} at 127\\.0\\.0\\.1:5432 → brownie-database-20240501T020007Z\\.dump \\(`));
    expect(outcome.bytes).toBe((await stat(file)).size);
    expect(outcome.sha256).toBe(await sha256Of(file));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(folder)).toEqual(['brownie-database-20240501T020007Z.dump']);
    expect(phases[0]).toBe('dumping');
    expect(phases).toContain('verifying');

    const target = await createDatabase('sb_backup_restore');
    await run('pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${dbUrl(target)}`, file]);
    const restored = await fingerprint(target);
    expect(restored).toEqual(await fingerprint(SOURCE_DB));
    expect(restored.items).toBe(2000);
  });

  it('dumps in plain format that psql restores', async () => {
    const folder = await newFolder();
    const outcome = await runner.run(config({ url: dbUrl(SOURCE_DB), folder, format: 'plain' }), { signal: new AbortController().signal, serviceId: SERVICE });
    expect(outcome.file).toMatch(/\/brownie-database-\d{8}T\d{6}Z\.sql$/);
    expect(outcome.detail).toContain('ends with the pg_dump completion line');

    const target = await createDatabase('sb_backup_plain');
    await run('psql', ['--no-psqlrc', '--quiet', '-v', 'ON_ERROR_STOP=1', `--dbname=${dbUrl(target)}`, `--file=${outcome.file}`]);
    expect(await fingerprint(target)).toEqual(await fingerprint(SOURCE_DB));
  });

  it('gives pg_dump the password only in a private PGPASSFILE that is gone afterwards', async () => {
    // A stand-in pg_dump records what it was given, then runs the real one.
    const spyDir = await newFolder();
    const spy = join(spyDir, 'pg_dump');
    await writeFile(
      spy,
      [
        '#!/bin/sh',
        `printf '%s\\n' "$0" "$@" > '${spyDir}/argv.txt'`,
        `env > '${spyDir}/env.txt'`,
        `cp "$PGPASSFILE" '${spyDir}/pgpass.txt'`,
        `stat -c %a "$PGPASSFILE" > '${spyDir}/pgpass-mode.txt'`,
        `printf '%s' "$PGPASSFILE" > '${spyDir}/pgpass-path.txt'`,
        `exec '${programPath('pg_dump')}' "$@"`,
      ].join('\n'),
    );
    await chmod(spy, 0o700);
    const folder = await newFolder();
    const outcome = await createBackupRunner({ pgDump: spy }).run(
      config({ url: dbUrl(SOURCE_DB, { user: ROLE, password: ROLE_PASSWORD }), folder }),
      { signal: new AbortController().signal, serviceId: SERVICE },
    );
    expect(outcome.verified).toBe(true);

    const argv = await readFile(join(spyDir, 'argv.txt'), 'utf8');
    expect(argv).toContain(`--username=${ROLE}`);
    for (const form of [ROLE_PASSWORD, encodeURIComponent(ROLE_PASSWORD), `pw:${suffix}`]) expect(argv).not.toContain(form);
    const env = await readFile(join(spyDir, 'env.txt'), 'utf8');
    expect(env).not.toContain(ROLE_PASSWORD);
    expect(env).not.toMatch(/^PGPASSWORD=/m);
    expect(await readFile(join(spyDir, 'pgpass.txt'), 'utf8')).toBe(`*:*:*:*:pw\\:${suffix}\\\\x@y/z\n`);
    expect((await readFile(join(spyDir, 'pgpass-mode.txt'), 'utf8')).trim()).toBe('600');
    await expect(stat(await readFile(join(spyDir, 'pgpass-path.txt'), 'utf8'))).rejects.toMatchObject({ code: 'ENOENT' });

    // The role could read everything: the dump restores whole.
    const target = await createDatabase('sb_backup_role');
    await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${dbUrl(target)}`, outcome.file!]);
    expect(await fingerprint(target)).toEqual(await fingerprint(SOURCE_DB));
  });

  it('sends the PGPASSFILE password when the server asks for it, and scrubs it from the refusal', async () => {
    const recorder = await startPasswordRecorder();
    try {
      const folder = await newFolder();
      const url = `postgres://${ROLE}:${encodeURIComponent(ROLE_PASSWORD)}@127.0.0.1:${recorder.port}/app?sslmode=disable`;
      const error = await runner.run(config({ url, folder }), { signal: new AbortController().signal, serviceId: SERVICE }).catch((e: unknown) => e);
      expect(recorder.passwords).toEqual([ROLE_PASSWORD]);
      expect(error).toBeInstanceOf(IntegrationError);
      expect((error as Error).message).toContain(`pg_dump of app at 127.0.0.1:${recorder.port} failed (exit 1):`);
      expect((error as Error).message).toContain('password authentication failed: "***" is wrong');
      expect((error as Error).message).not.toContain(`pw:${suffix}`);
      expect(await readdir(folder)).toEqual([]);
    } finally {
      recorder.server.close();
    }
  });

  it('prunes only older backups of this service and name, and only after a verified success', async () => {
    const folder = await newFolder();
    const old = ['20240101T020000Z', '20240102T020000Z', '20240103T020000Z'].map((stamp) => `brownie-database-${stamp}.dump`);
    const unrelated = [
      'notes.txt',
      'brownie-database-main-20240101T020000Z.dump',
      'other-database-20240101T020000Z.dump',
      'brownie-database-20240101T020000Z.dump.partial',
      'brownie-database-latest.dump',
    ];
    for (const [index, name] of [...old, ...unrelated].entries()) {
      await writeFile(join(folder, name), `not a real dump ${index}\n`);
      // Newest mtime on the oldest stamp: retention must go by the stamp in the name.
      const mtime = new Date(Date.UTC(2024, 5, 30 - index));
      await utimes(join(folder, name), mtime, mtime);
    }

    // A failed run (the database does not exist) removes nothing, not even with keep: 1.
    const failing = runner.run(config({ url: dbUrl(`sb_missing_${suffix}`), folder, retention: { keep: 1 } }), {
      signal: new AbortController().signal,
      serviceId: SERVICE,
    });
    await expect(failing).rejects.toThrow(IntegrationError);
    await expect(failing).rejects.toThrow(new RegExp(`pg_dump of sb_missing_\\w+ at 127\\.0\\.0\\.1:${new URL(TEST_DATABASE_URL).port || 5432} failed \\(exit 1\\):\n.*does not exist`));
    expect((await readdir(folder)).sort()).toEqual([...old, ...unrelated].sort());

    const outcome = await runner.run(config({ url: dbUrl(SOURCE_DB), folder, retention: { keep: 2 } }), {
      signal: new AbortController().signal,
      serviceId: SERVICE,
      now: () => new Date('2024-01-04T02:00:00Z'),
    });
    expect(outcome.pruned.sort()).toEqual([join(folder, old[0]!), join(folder, old[1]!)]);
    expect(outcome.detail).toContain('removed 2 old');
    expect((await readdir(folder)).sort()).toEqual(['brownie-database-20240104T020000Z.dump', old[2]!, ...unrelated].sort());
  });

  it('reports a host it cannot reach by name, without the password', async () => {
    const folder = await newFolder();
    const password = `secret-${suffix}`;
    const failing = runner.run(config({ url: `postgres://backup:${password}@nonexistent-${suffix}.invalid:5432/app?connect_timeout=5`, folder }), {
      signal: new AbortController().signal,
      serviceId: SERVICE,
    });
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrationError);
    expect((error as Error).message).toContain(`app at nonexistent-${suffix}.invalid:5432`);
    expect((error as Error).message).toMatch(/could not translate host name/);
    expect((error as Error).message).not.toContain(password);
    expect(await readdir(folder)).toEqual([]);
  });

  describe('while pg_dump waits on a lock', () => {
    let holder: pg.Client;
    beforeAll(async () => {
      holder = new pg.Client({ connectionString: dbUrl(SOURCE_DB) });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE');
    });
    afterAll(async () => {
      await holder.query('ROLLBACK');
      await holder.end();
    });

    it('times out, removes the partial file and reports progress meanwhile', async () => {
      const folder = await newFolder();
      const progress: BackupProgress[] = [];
      const failing = createBackupRunner({ progressEveryMs: 100 }).run(config({ url: dbUrl(SOURCE_DB), folder, timeout: '1s', retention: { keep: 1 } }), {
        signal: new AbortController().signal,
        serviceId: SERVICE,
        onProgress: (p) => progress.push(p),
      });
      await expect(failing).rejects.toThrow(`Backup of ${SOURCE_DB} at 127.0.0.1:5432 timed out after 1.0s while dumping; the partial file was removed`);
      expect(await readdir(folder)).toEqual([]);
      expect(progress.length).toBeGreaterThanOrEqual(5);
      expect(progress.every((p) => p.phase === 'dumping')).toBe(true);
      expect(progress.at(-1)!.elapsedMs).toBeGreaterThanOrEqual(800);
    });

    it('stops when cancelled and removes the partial file', async () => {
      const folder = await newFolder();
      const controller = new AbortController();
      const failing = runner.run(config({ url: dbUrl(SOURCE_DB), folder }), { signal: controller.signal, serviceId: SERVICE });
      setTimeout(() => controller.abort(), 300);
      await expect(failing).rejects.toThrow(`Backup of ${SOURCE_DB} at 127.0.0.1:5432 was cancelled while dumping; the partial file was removed`);
      expect(await readdir(folder)).toEqual([]);
    });
  });

  it('never overwrites a backup, nor the partial file of a run in progress', async () => {
    const folder = await newFolder();
    const now = () => new Date('2024-05-01T02:00:00Z');
    await writeFile(join(folder, 'brownie-database-20240501T020000Z.dump.partial'), 'another run');
    await expect(runner.run(config({ url: dbUrl(SOURCE_DB), folder }), { signal: new AbortController().signal, serviceId: SERVICE, now })).rejects.toThrow(
      `brownie-database-20240501T020000Z.dump.partial exists in ${folder}: another run of this backup is writing it`,
    );
    expect(await readFile(join(folder, 'brownie-database-20240501T020000Z.dump.partial'), 'utf8')).toBe('another run');

    await rm(join(folder, 'brownie-database-20240501T020000Z.dump.partial'));
    await writeFile(join(folder, 'brownie-database-20240501T020000Z.dump'), 'earlier backup');
    await expect(runner.run(config({ url: dbUrl(SOURCE_DB), folder }), { signal: new AbortController().signal, serviceId: SERVICE, now })).rejects.toThrow(
      `brownie-database-20240501T020000Z.dump already exists in ${folder}; wait a second and start the backup again`,
    );
    expect(await readdir(folder)).toEqual(['brownie-database-20240501T020000Z.dump']);
  });

  it('refuses a service id that is not a catalog id', async () => {
    const folder = await newFolder();
    await expect(runner.run(config({ url: dbUrl(SOURCE_DB), folder }), { signal: new AbortController().signal, serviceId: '../etc' })).rejects.toThrow(
      '"../etc" is not a valid service id for a backup file name',
    );
  });
});
