import { redact } from '../health/redact.js';

const LAST_LINES = 5;
const MAX_CHARS = 600;

/** The last few non-empty lines of a program's output, for an operator-facing message. */
export function lastLines(output: string, count = LAST_LINES): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const text = lines.slice(-count).join('\n');
  return text.length > MAX_CHARS ? `…${text.slice(-(MAX_CHARS - 1))}` : text || '(no output)';
}

/** Removes URL credentials and the given secrets (raw and URL-encoded) from a text shown in Slack. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  const all = secrets.flatMap((secret) => (secret ? [secret, encodeURIComponent(secret)] : []));
  return redact(text, [...new Set(all)].sort((a, b) => b.length - a.length));
}
