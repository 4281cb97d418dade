import { PG_URL_PARAMS, type PostgresBackup } from '../backup/schema.js';

/** Where and as whom pg_dump connects; the password stays apart so it can never reach argv. */
export interface PgConnection {
  host: string | undefined;
  port: string | undefined;
  user: string | undefined;
  database: string;
  password: string | undefined;
  /** libpq variables for URL parameters such as sslmode. */
  env: Record<string, string>;
}

/** Splits a catalog postgres:// URL into pg_dump's connection options (the schema has already checked it). */
export function parsePostgresUrl(text: string): PgConnection {
  const url = new URL(text);
  const env: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    const variable = PG_URL_PARAMS[key as keyof typeof PG_URL_PARAMS];
    if (variable) env[variable] = value;
  }
  // URL keeps IPv6 literals in brackets; libpq wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host: host ? safeDecode(host) : undefined,
    port: url.port || undefined,
    user: url.username ? safeDecode(url.username) : undefined,
    database: safeDecode(url.pathname.replace(/^\//, '')),
    password: url.password ? safeDecode(url.password) : undefined,
    env,
  };
}

/** "db at 10.0.0.5:5432", for messages; never holds the password. */
export function describeConnection(connection: PgConnection): string {
  const host = connection.host ?? connection.env.PGHOST ?? 'localhost';
  return `${connection.database} at ${host}${connection.port ? `:${connection.port}` : ''}`;
}

/** One PGPASSFILE line matching any server: the file exists for a single pg_dump run. ":" and "\" are escaped as libpq requires. */
export function pgPassFileLine(password: string): string {
  return `*:*:*:*:${password.replace(/[\\:]/g, (c) => `\\${c}`)}\n`;
}

export interface PgDumpCommand {
  argv: string[];
  env: Record<string, string>;
}

/**
 * The pg_dump invocation for a backup. Pure, so tests can prove the password is absent:
 * it reaches pg_dump only through the PGPASSFILE given here.
 */
export function buildPgDumpCommand(input: {
  config: Pick<PostgresBackup, 'url' | 'format'>;
  file: string;
  passFile: string | undefined;
  program?: string;
}): PgDumpCommand {
  const connection = parsePostgresUrl(input.config.url);
  const argv = [
    input.program ?? 'pg_dump',
    `--format=${input.config.format}`,
    // Never wait for a password prompt: there is no terminal, and a hang would only end at the timeout.
    '--no-password',
    `--file=${input.file}`,
    ...(connection.host ? [`--host=${connection.host}`] : []),
    ...(connection.port ? [`--port=${connection.port}`] : []),
    ...(connection.user ? [`--username=${connection.user}`] : []),
    `--dbname=${connection.database}`,
  ];
  const env: Record<string, string> = { ...connection.env, PGAPPNAME: 'switchboard-backup' };
  if (connection.password !== undefined && input.passFile) env.PGPASSFILE = input.passFile;
  return { argv, env };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
