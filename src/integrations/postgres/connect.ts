import pg from 'pg';
import { targetOfUrl } from '../health/probes/target.js';
import { describeServerError, withConnection } from '../with-connection.js';

export interface PostgresSession {
  /** What the caller is doing, for messages: "Listing long queries". */
  what: string;
  /** Connect timeout and statement timeout. */
  timeoutMs: number;
  signal?: AbortSignal;
  applicationName?: string;
}

/** pg's own timer fires a little after the server's statement_timeout, which should decide. */
const CLIENT_TIMEOUT_GRACE_MS = 1_000;

/**
 * Opens one client, runs `work`, and always ends the client. Every statement runs under
 * `statement_timeout`; failures that are not IntegrationErrors become one naming host:port/db.
 */
export async function withPostgres<T>(url: string, session: PostgresSession, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: session.timeoutMs,
    statement_timeout: session.timeoutMs,
    query_timeout: session.timeoutMs + CLIENT_TIMEOUT_GRACE_MS,
    application_name: session.applicationName ?? 'switchboard-diagnostics',
  });
  // After connect, pg reports a dropped connection as an 'error' event; unhandled, it would crash the bot.
  client.on('error', () => {});
  return withConnection(
    {
      what: session.what,
      server: `PostgreSQL at ${postgresTarget(url)}`,
      signal: session.signal,
      connect: () => client.connect(),
      // end() destroys a socket still connecting or waiting for a result; should the server never
      // acknowledge the goodbye, pg's connect timeout still destroys the socket.
      close: () => client.end().catch(() => {}),
      describe: (error) => describePostgresError(error, url),
    },
    () => work(client),
  );
}

/** "host:port/database" of a URL, for messages; never the user's password. */
export function postgresTarget(url: string): string {
  try {
    const database = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
    return database ? `${targetOfUrl(url)}/${database}` : targetOfUrl(url);
  } catch {
    return 'invalid URL';
  }
}

/** One line naming the server, with the URL's password removed should a driver ever echo it. */
export function describePostgresError(error: unknown, url: string): string {
  return describeServerError(error, url, `PostgreSQL at ${postgresTarget(url)}`);
}
