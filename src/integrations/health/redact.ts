import type { HealthCheck } from './schema.js';

const URL_CREDENTIALS = /\/\/([^/\s:@]*):[^/\s@]*@/g;

/** Rewrites `scheme://user:pass@host` to `scheme://user:***@host` anywhere in a text. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '//$1:***@');
}

/**
 * Secrets a check carries. Drivers sometimes echo a URL or header back in an error,
 * so every reason and detail is scrubbed of these before it reaches Slack.
 */
export function secretsOf(check: HealthCheck): string[] {
  const secrets: string[] = [];
  if ('url' in check) secrets.push(...passwordsOf(check.url));
  if (check.kind === 'http' && check.headers) secrets.push(...Object.values(check.headers));
  // Longest first, so a secret that contains another is replaced whole.
  return [...new Set(secrets.filter((secret) => secret.length > 0))].sort((a, b) => b.length - a.length);
}

/** Removes URL credentials and the given secrets from an operator-facing text. */
export function redact(text: string, secrets: readonly string[]): string {
  let clean = redactUrlCredentials(text);
  for (const secret of secrets) clean = clean.split(secret).join('***');
  return clean;
}

/** The password of a URL, raw and decoded, longest first; none for a URL without one or an unparsable one. */
export function passwordsOf(url: string): string[] {
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
