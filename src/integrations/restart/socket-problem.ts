/** Socket and TLS error codes in words an operator reads in Slack. */
const BY_CODE: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ECONNRESET: 'reset the connection',
  EPIPE: 'closed the connection',
  ETIMEDOUT: 'did not answer (connection timed out)',
  EHOSTUNREACH: 'is unreachable (no route to host)',
  ENETUNREACH: 'is unreachable (network unreachable)',
  ENOTFOUND: 'has a host name that does not resolve',
  EAI_AGAIN: 'has a host name that could not be looked up (DNS)',
  ENOENT: 'has no socket file at that path',
  EACCES: 'is not accessible: permission denied on the socket',
  ECONNABORTED: 'aborted the connection',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'presented a self-signed certificate that is not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'presented a certificate chain with an untrusted root',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'presented a certificate that cannot be verified against the given CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'presented a certificate whose issuer is not trusted',
  CERT_HAS_EXPIRED: 'presented an expired certificate',
  ERR_TLS_CERT_ALTNAME_INVALID: 'presented a certificate for another host name',
};

/** The error code anywhere in a cause chain. */
export function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current === 'object' && current !== null && 'code' in current && typeof current.code === 'string') {
      if (Object.hasOwn(BY_CODE, current.code)) return current.code;
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

/** "refused the connection"; falls back to the error's first line. */
export function describeSocketProblem(error: unknown): string {
  const code = errorCode(error);
  if (code) return BY_CODE[code] ?? code;
  // fetch says only "fetch failed"; its cause says what happened.
  const inner = error instanceof Error && error.message === 'fetch failed' && error.cause instanceof Error ? error.cause : error;
  const message = inner instanceof Error ? inner.message || inner.name : String(inner);
  return `failed: ${excerpt(message, 200)}`;
}

/** First line, trimmed to `max` characters. */
export function excerpt(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
