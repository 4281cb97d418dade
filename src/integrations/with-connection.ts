import { describeError } from './health/describe-error.js';
import { onAbort } from './health/probes/on-abort.js';
import { targetOfUrl } from './health/probes/target.js';
import { passwordsOf, redact } from './health/redact.js';
import { IntegrationError } from './integration-error.js';

/** One driver client, opened for one piece of work on behalf of an operator. */
export interface Connection {
  /** What the caller is doing, for messages: "Listing long queries". */
  what: string;
  /** The server, for messages: "Redis at 10.0.0.5:6379". */
  server: string;
  signal?: AbortSignal;
  connect(): Promise<unknown>;
  /** Ends the client, also one still connecting or waiting for a reply; called on abort and when done. */
  close(): Promise<void> | void;
  /** One line saying why the work failed, for a failure that is not an IntegrationError. */
  describe(error: unknown): string;
}

/**
 * Connects, runs `work`, and always closes. Failures that are not IntegrationErrors become one
 * saying what was being done and on which server.
 */
export async function withConnection<T>(connection: Connection, work: () => Promise<T>): Promise<T> {
  const { what, server, signal } = connection;
  // Drivers settle pending work only once the socket has closed, which a stuck server can delay
  // by seconds; the abort therefore ends the wait at once and the socket closes behind it, and
  // whatever the driver rejects with afterwards has nobody left to tell.
  let cancel: (reason: unknown) => void = () => {};
  const cancelled = new Promise<never>((_, reject) => {
    cancel = reject;
  });
  const unsubscribe = signal
    ? onAbort(signal, () => {
        cancel(signal.reason);
        void connection.close();
      })
    : () => {};
  const running = connection.connect().then(work);
  running.catch(() => {});
  try {
    return await Promise.race([running, cancelled]);
  } catch (error) {
    if (error instanceof IntegrationError) throw error;
    if (signal?.aborted) throw new IntegrationError(`${what} on ${server} was cancelled before it finished.`, { cause: error });
    throw new IntegrationError(`${what} failed: ${connection.describe(error)}`, { cause: error });
  } finally {
    unsubscribe();
    // After an abort, a server that never answers may never acknowledge the goodbye either; the
    // caller is not kept waiting for it.
    const closing = connection.close();
    if (!signal?.aborted) await closing;
  }
}

/** One line naming the server, with the URL's password removed should a driver ever echo it. */
export function describeServerError(error: unknown, url: string, server: string): string {
  const reason = redact(describeError(error, targetOfUrl(url)), passwordsOf(url));
  return reason.includes(targetOfUrl(url)) ? reason : `${reason} (${server})`;
}
