const MAX_REASON_LENGTH = 200;

/** Socket error codes, worded for an operator reading Slack; `target` is "host:port". */
const BY_CODE: Record<string, (target: string) => string> = {
  ECONNREFUSED: (target) => `connection refused (${target})`,
  ECONNRESET: (target) => `connection reset (${target})`,
  EPIPE: (target) => `connection closed by server (${target})`,
  ETIMEDOUT: (target) => `connection timed out (${target})`,
  EHOSTUNREACH: (target) => `host unreachable (${target})`,
  ENETUNREACH: (target) => `network unreachable (${target})`,
  ENOTFOUND: (target) => `host not found (${hostOf(target)})`,
  EAI_AGAIN: (target) => `DNS lookup failed (${hostOf(target)})`,
  UND_ERR_SOCKET: (target) => `connection closed by server (${target})`,
  UND_ERR_HEADERS_TIMEOUT: (target) => `no response headers (${target})`,
};

/**
 * Turns whatever a client library threw into one short line. Node's fetch hides the socket
 * error under `cause`, and ioredis/pg wrap theirs, so the chain is walked for a known code.
 */
export function describeError(error: unknown, target: string): string {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = codeOf(current);
    const describe = code ? BY_CODE[code] : undefined;
    if (describe) return describe(target);
    current = current instanceof Error ? current.cause : undefined;
  }
  return shorten(messageOf(error));
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    // "fetch failed" says nothing; its cause usually does.
    if (error.message === 'fetch failed' && error.cause instanceof Error) return error.cause.message;
    // An AggregateError (Happy Eyeballs, several addresses) has an empty message.
    if (!error.message && error instanceof AggregateError && error.errors[0] instanceof Error) return error.errors[0].message;
    return error.message || error.name;
  }
  return String(error);
}

function shorten(text: string): string {
  const line = text.split('\n')[0]?.trim() || 'unknown error';
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 1)}…` : line;
}

function hostOf(target: string): string {
  return target.replace(/:\d+$/, '');
}
