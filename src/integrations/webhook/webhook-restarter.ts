import { IntegrationError } from '../integration-error.js';
import { withDeadline } from '../restart/deadline.js';
import type { WebhookRestartConfig } from '../restart/schema.js';
import { describeSocketProblem, excerpt } from '../restart/socket-problem.js';
import type { KindRestarter, RestartOutcome } from '../restart/types.js';

const BODY_EXCERPT = 200;
const MAX_READ = 64_000;

/** Asks another system (CI, a deploy tool) to do the restart with one HTTP request. */
export function createWebhookRestarter(options: { fetchImpl?: typeof fetch } = {}): KindRestarter<WebhookRestartConfig> {
  const fetchImpl = options.fetchImpl ?? fetch;
  return {
    restart: (config, { signal }) =>
      withDeadline(signal, config.timeout, async (deadline): Promise<RestartOutcome> => {
        const where = describeUrl(config.url);
        const secrets = secretsOf(config);
        const headers: Record<string, string> = { ...config.headers };
        if (config.body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
          headers['content-type'] = 'application/json';
        }
        let response: Response;
        try {
          response = await fetchImpl(config.url, {
            method: config.method,
            headers,
            ...(config.body !== undefined ? { body: JSON.stringify(config.body) } : {}),
            // A redirect would resend the request somewhere the catalog does not name.
            redirect: 'manual',
            signal: deadline.signal,
          });
        } catch (error) {
          const why = deadline.why();
          throw new IntegrationError(
            redact(why ? `The restart webhook ${config.method} ${where} ${why}` : `The restart webhook ${where} ${describeSocketProblem(error)}`, secrets),
            { cause: error },
          );
        }
        const text = await readSome(response);
        const expected = config.expectStatus ? config.expectStatus.includes(response.status) : response.status >= 200 && response.status < 300;
        if (!expected) {
          const body = text.trim() ? `: ${excerpt(text, BODY_EXCERPT)}` : '';
          throw new IntegrationError(
            redact(`The restart webhook ${config.method} ${where} answered HTTP ${response.status}${body}`, secrets),
            config.expectStatus ? { hint: `Expected status ${config.expectStatus.join(', ')}.` } : {},
          );
        }
        return { detail: `webhook ${config.method} ${where} answered HTTP ${response.status}`, targets: [where] };
      }),
  };
}

/** Scheme, host and path only: a query string or user info may carry a token. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** Header values and URL credentials may be echoed back in an error body; none of them reaches Slack. */
function secretsOf(config: WebhookRestartConfig): string[] {
  const parsed = new URL(config.url);
  const secrets = [...Object.values(config.headers ?? {}), parsed.password, ...parsed.searchParams.values()];
  // "Bearer abc" is often echoed as just "abc".
  for (const value of Object.values(config.headers ?? {})) {
    const [, credential] = /^\S+\s+(\S+)$/.exec(value) ?? [];
    if (credential) secrets.push(credential);
  }
  return [...new Set(secrets.filter((secret) => secret.length >= 4))].sort((a, b) => b.length - a.length);
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((clean, secret) => clean.split(secret).join('***'), text);
}

async function readSome(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_READ) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut short still says enough for the excerpt.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}
