import { formatDuration } from '../../config/duration.js';
import type { ConnectionsSummary, KillOutcome, LongQuery } from './diagnostics.js';

const MAX_LINES = 10;

/**
 * Slack mrkdwn lines for `connections()`, e.g.
 * "*Connections:* 42/100 (42%) — active 5 · idle 30 · idle in transaction 7".
 */
export function formatConnections(summary: ConnectionsSummary, { warnPercent = 80 }: { warnPercent?: number } = {}): string {
  const states = Object.entries(summary.byState)
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
    .map(([state, n]) => `${escapeMrkdwn(state)} ${n}`)
    .join(' · ');
  const lines = [`*Connections:* ${summary.total}/${summary.max} (${Math.floor(summary.usedPercent)}%)${states ? ` — ${states}` : ''}`];
  if (summary.byApplication.length > 0) {
    lines.push(`*Top applications:* ${summary.byApplication.map(({ application, count }) => `\`${code(application)}\` ${count}`).join(' · ')}`);
  }
  if (summary.usedPercent >= warnPercent) {
    lines.push(`:warning: ${Math.floor(summary.usedPercent)}% of \`max_connections\` in use (warning at ${warnPercent}%); new clients will be refused at 100%.`);
  }
  const idleInTransaction = (summary.byState['idle in transaction'] ?? 0) + (summary.byState['idle in transaction (aborted)'] ?? 0);
  if (idleInTransaction > 0) {
    lines.push(`_Note:_ ${idleInTransaction} session${idleInTransaction === 1 ? ' is' : 's are'} idle in a transaction, holding a connection (and possibly locks) without working.`);
  }
  if ((summary.byState.unknown ?? 0) > 0) {
    lines.push('_Note:_ states of other roles’ sessions are hidden from this role; grant it `pg_read_all_stats` to see them.');
  }
  return lines.join('\n');
}

/** Slack mrkdwn lines for `longQueries()`: a heading and one line per query, at most ten. */
export function formatLongQueries(queries: readonly LongQuery[], olderThanMs: number): string {
  const threshold = formatDuration(olderThanMs);
  if (queries.length === 0) return `No queries running longer than ${threshold}.`;
  const heading = `*${queries.length} quer${queries.length === 1 ? 'y' : 'ies'} running longer than ${threshold}:*`;
  return [heading, ...capped(queries.map(formatQueryLine), queries.length)].join('\n');
}

/** Slack mrkdwn lines for `killLongQueries()`: what was terminated, what failed and why. */
export function formatKillOutcome(outcome: KillOutcome, olderThanMs: number): string {
  const threshold = formatDuration(olderThanMs);
  if (outcome.candidates.length === 0) return `No queries running longer than ${threshold}; nothing to terminate.`;
  if (outcome.dryRun) {
    return [`*Would terminate ${count(outcome.candidates.length)} running longer than ${threshold}:*`, ...capped(outcome.candidates.map(formatQueryLine), outcome.candidates.length)].join('\n');
  }
  const lines: string[] = [];
  if (outcome.terminated.length > 0) {
    lines.push(`*Terminated ${count(outcome.terminated.length)} running longer than ${threshold}:*`);
    lines.push(...capped(outcome.terminated.map((query) => formatQueryLine({ ...query })), outcome.terminated.length));
  }
  if (outcome.failed.length > 0) {
    lines.push(`:warning: *Could not terminate ${count(outcome.failed.length)}:*`);
    lines.push(...capped(outcome.failed.map(({ pid, reason }) => `• pid \`${pid}\`: ${escapeMrkdwn(reason)}`), outcome.failed.length));
  }
  const finished = outcome.candidates.length - outcome.terminated.length - outcome.failed.length;
  if (finished > 0) lines.push(`${count(finished)} finished on ${finished === 1 ? 'its' : 'their'} own before being terminated.`);
  return lines.join('\n');
}

function formatQueryLine(query: Pick<LongQuery, 'pid' | 'durationMs' | 'user' | 'query'> & Partial<Pick<LongQuery, 'application'>>): string {
  const who = [`user \`${code(query.user || '?')}\``];
  if (query.application) who.push(`app \`${code(query.application)}\``);
  return `• pid \`${query.pid}\` · ${formatDuration(query.durationMs)} · ${who.join(' · ')} · \`${code(query.query || '(no query text)')}\``;
}

function capped(lines: string[], total: number): string[] {
  return total > MAX_LINES ? [...lines.slice(0, MAX_LINES), `…and ${total - MAX_LINES} more`] : lines;
}

function count(n: number): string {
  return `${n} quer${n === 1 ? 'y' : 'ies'}`;
}

/** Text inside a code span: escaped, and without backticks that would end the span early. */
function code(text: string): string {
  return escapeMrkdwn(text).replace(/`/g, "'");
}

function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
