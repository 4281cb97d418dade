import pg from 'pg';
import { describeError } from '../health/describe-error.js';
import { onAbort } from '../health/probes/on-abort.js';
import { targetOfUrl } from '../health/probes/target.js';
import { redact } from '../health/redact.js';
import { IntegrationError } from '../integration-error.js';

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
  const signal = session.signal;
  // The abort ends the wait at once; end() then destroys a socket that is still connecting or
  // waiting for a result, and whatever pg rejects with afterwards has nobody left to tell.
  let cancel: (reason: unknown) => void = () => {};
  const cancelled = new Promise<never>((_, reject) => {
    cancel = reject;
  });
  const unsubscribe = signal
    ? onAbort(signal, () => {
        cancel(signal.reason);
        void client.end().catch(() => {});
      })
    : () => {};
  const running = client.connect().then(() => work(client));
  running.catch(() => {});
  try {
    return await Promise.race([running, cancelled]);
  } catch (error) {
    if (error instanceof IntegrationError) throw error;
    if (signal?.aborted) throw new IntegrationError(`${session.what} on PostgreSQL at ${postgresTarget(url)} was cancelled before it finished.`, { cause: error });
    throw new IntegrationError(`${session.what} failed: ${describePostgresError(error, url)}`, { cause: error });
  } finally {
    unsubscribe();
    // After an abort, a server that never answers may never acknowledge the goodbye either; the
    // caller is not kept waiting for it, and pg's connect timeout still destroys the socket.
    const ending = client.end().catch(() => {});
    if (!signal?.aborted) await ending;
  }
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
  const target = postgresTarget(url);
  const reason = redact(describeError(error, targetOfUrl(url)), passwordsOf(url));
  return reason.includes(targetOfUrl(url)) ? reason : `${reason} (PostgreSQL at ${target})`;
}

function passwordsOf(url: string): string[] {
  try {
    const password = new URL(url).password;
    if (!password) return [];
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // Keep the raw form only.
    }
    return [...new Set([password, decoded])].sort((a, b) => b.length - a.length);
  } catch {
    return [];
  }
}
