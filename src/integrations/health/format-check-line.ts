import { formatDuration } from '../../config/duration.js';
import type { CheckResult, CheckStatus } from './types.js';

const ICON: Record<CheckStatus, string> = { ok: '✓', warn: '⚠', fail: '✗' };

/** One Slack mrkdwn line per result, e.g. "✓ api — 12ms — HTTP 200". */
export function formatCheckLine(result: CheckResult): string {
  // A failure is explained by its reason; ok and warn lines show what was measured.
  const text = result.status === 'fail' ? (result.reason ?? result.detail) : (result.detail ?? result.reason);
  const parts = [`${ICON[result.status]} ${result.name}`, formatDuration(result.latencyMs)];
  if (text) parts.push(text);
  return escapeMrkdwn(parts.join(' — '));
}

/** Server-supplied text may contain `<`, which Slack would read as a link or mention. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
