import { checkJsonExpect } from '../json-expect.js';
import type { HttpHealthCheck } from '../schema.js';
import type { Probe, ProbeOutcome } from '../types.js';
import { readLimitedBody } from './read-limited-body.js';

/** GETs (or HEADs) the URL and compares status and, if configured, JSON fields. */
export const httpProbe: Probe<HttpHealthCheck> = async (check, { signal }) => {
  const { url, headers } = moveCredentialsToHeader(check.url, check.headers ?? {});
  const response = await fetch(url, {
    method: check.method,
    headers,
    signal,
    // A redirect is reported rather than followed: the configured URL is the one that must answer,
    // and following could send configured API-key headers to another origin.
    redirect: 'manual',
  });
  const detail = `HTTP ${response.status}`;
  const expectedStatus = check.expect?.status;
  const statusOk = expectedStatus === undefined ? response.ok : response.status === expectedStatus;
  const json = check.expect?.json;
  if (!statusOk || !json) {
    // Free the connection without downloading a body nobody reads.
    await response.body?.cancel().catch(() => {});
    if (statusOk) return { status: 'ok', detail };
    return { status: 'fail', detail, reason: `${detail} (expected ${expectedStatus ?? '2xx'})` };
  }
  return compareJson(await readLimitedBody(response), json, detail);
};

/**
 * fetch refuses URLs with `user:pass@` (and echoes the URL in its error), yet operators write
 * them for basic-auth endpoints; send them as an Authorization header instead.
 */
function moveCredentialsToHeader(text: string, headers: Record<string, string>) {
  const url = new URL(text);
  if (!url.username && !url.password) return { url, headers };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  const hasAuthorization = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  if (hasAuthorization) return { url, headers };
  return { url, headers: { ...headers, Authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } };
}

function compareJson(text: string, json: NonNullable<NonNullable<HttpHealthCheck['expect']>['json']>, detail: string): ProbeOutcome {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { status: 'fail', detail, reason: `response is not JSON (${detail})` };
  }
  const [first, ...more] = checkJsonExpect(body, json);
  if (first === undefined) return { status: 'ok', detail };
  return { status: 'fail', detail, reason: more.length ? `${first} (+${more.length} more)` : first };
}
