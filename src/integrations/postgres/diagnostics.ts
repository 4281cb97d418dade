import type pg from 'pg';
import { withPostgres } from './connect.js';
import type { PostgresTarget } from './schema.js';

/** Client connections on the whole server, against `max_connections`. */
export interface ConnectionsSummary {
  /** Client backends by `state` ("active", "idle", "idle in transaction", …); "unknown" when hidden from our role. */
  byState: Record<string, number>;
  total: number;
  max: number;
  usedPercent: number;
  /** The five applications (`application_name`) holding the most connections. */
  byApplication: Array<{ application: string; count: number }>;
}

/** An active query in the target database, running longer than the threshold. */
export interface LongQuery {
  pid: number;
  durationMs: number;
  user: string;
  application: string;
  state: string;
  /** Whitespace collapsed, at most 200 characters. */
  query: string;
}

export interface LongQueryOptions {
  /** Default: the target's `longQueryThreshold`. */
  olderThanMs?: number;
  signal?: AbortSignal;
  /** Only sessions whose `application_name` matches this SQL LIKE pattern. */
  applicationLike?: string;
}

export interface KillLongQueriesOptions extends LongQueryOptions {
  /** List what would be terminated without terminating anything. */
  dryRun?: boolean;
}

export interface KillOutcome {
  dryRun: boolean;
  /** Every query that matched; those neither terminated nor failed finished on their own meanwhile. */
  candidates: LongQuery[];
  terminated: Array<Pick<LongQuery, 'pid' | 'durationMs' | 'user' | 'query'>>;
  failed: Array<{ pid: number; reason: string }>;
}

const QUERY_PREVIEW = 200;

/**
 * Only client backends count against max_connections; pg_stat_activity also lists background
 * workers (checkpointer, autovacuum…). One statement, so the figures describe one snapshot.
 */
const CONNECTIONS_SQL = `
  WITH clients AS (SELECT state, application_name FROM pg_stat_activity WHERE backend_type = 'client backend'),
       states AS (SELECT coalesce(state, 'unknown') AS state, count(*)::int AS n FROM clients GROUP BY 1),
       apps AS (SELECT coalesce(nullif(application_name, ''), '(none)') AS application, count(*)::int AS n
                FROM clients GROUP BY 1 ORDER BY n DESC, application LIMIT 5)
  SELECT current_setting('max_connections')::int AS max,
         (SELECT coalesce(json_object_agg(state, n), '{}'::json) FROM states) AS by_state,
         (SELECT coalesce(json_agg(json_build_object('application', application, 'count', n) ORDER BY n DESC, application), '[]'::json) FROM apps) AS by_application`;

/**
 * The filter shared by listing and terminating: active client queries in this database, older than
 * $1, never our own backend, optionally only some applications ($2, a LIKE pattern).
 */
const LONG_QUERY_FILTER = `
  datname = current_database()
  AND backend_type = 'client backend'
  AND pid <> pg_backend_pid()
  AND state = 'active'
  AND now() - query_start > $1::interval
  AND ($2::text IS NULL OR application_name LIKE $2)`;

const LONG_QUERIES_SQL = `
  SELECT pid, coalesce(usename, '') AS "user", coalesce(application_name, '') AS application, state,
         left(coalesce(query, ''), 2000) AS query, query_start::text AS query_start,
         (extract(epoch FROM now() - query_start) * 1000)::float8 AS duration_ms
  FROM pg_stat_activity
  WHERE ${LONG_QUERY_FILTER}
  ORDER BY query_start`;

/**
 * Terminates one listed query, re-checking everything inside the statement: if the query finished
 * (or the backend moved on to another one, so query_start changed), no row matches and nothing is killed.
 */
const TERMINATE_SQL = `
  SELECT pg_terminate_backend(pid) AS terminated
  FROM pg_stat_activity
  WHERE ${LONG_QUERY_FILTER}
    AND pid = $3 AND query_start = $4::timestamptz`;

interface LongQueryRow {
  pid: number;
  user: string;
  application: string;
  state: string;
  query: string;
  query_start: string;
  duration_ms: number;
}

/** Connection counts on the whole server, by state and by application; the count includes this diagnostic's own connection. */
export function connections(target: PostgresTarget, options: { signal?: AbortSignal } = {}): Promise<ConnectionsSummary> {
  return withPostgres(target.url, session('Counting PostgreSQL connections', target, options.signal), async (client) => {
    const { rows } = await client.query<{ max: number; by_state: Record<string, number>; by_application: Array<{ application: string; count: number }> }>(CONNECTIONS_SQL);
    const row = rows[0];
    const byState = row?.by_state ?? {};
    const max = row?.max ?? 0;
    const total = Object.values(byState).reduce((sum, n) => sum + n, 0);
    return { byState, total, max, usedPercent: max > 0 ? (total / max) * 100 : 0, byApplication: row?.by_application ?? [] };
  });
}

/**
 * Active queries in the target's database running longer than the threshold, oldest first.
 * A role without pg_read_all_stats sees the state of its own sessions only, so it finds only its own.
 */
export function longQueries(target: PostgresTarget, options: LongQueryOptions = {}): Promise<LongQuery[]> {
  return withPostgres(target.url, session('Listing long-running queries', target, options.signal), async (client) => {
    return (await selectLongQueries(client, target, options)).map(toLongQuery);
  });
}

/**
 * Terminates exactly the long queries `longQueries` would list, one statement per backend so one
 * refusal (a superuser's query, a missing pg_signal_backend) does not stop the others.
 */
export function killLongQueries(target: PostgresTarget, options: KillLongQueriesOptions = {}): Promise<KillOutcome> {
  const dryRun = options.dryRun ?? false;
  return withPostgres(target.url, session('Terminating long-running queries', target, options.signal), async (client) => {
    const rows = await selectLongQueries(client, target, options);
    const outcome: KillOutcome = { dryRun, candidates: rows.map(toLongQuery), terminated: [], failed: [] };
    if (dryRun) return outcome;
    for (const row of rows) {
      const candidate = toLongQuery(row);
      try {
        const { rows: result } = await client.query<{ terminated: boolean }>(TERMINATE_SQL, [...filterParams(target, options), row.pid, row.query_start]);
        const first = result[0];
        if (!first) continue; // finished on its own between listing and terminating
        if (first.terminated) outcome.terminated.push({ pid: candidate.pid, durationMs: candidate.durationMs, user: candidate.user, query: candidate.query });
        else outcome.failed.push({ pid: row.pid, reason: 'PostgreSQL could not signal the backend (it had probably just exited)' });
      } catch (error) {
        if (!isServerError(error)) throw error;
        outcome.failed.push({ pid: row.pid, reason: terminateFailure(error) });
      }
    }
    return outcome;
  });
}

/** Collapses whitespace and cuts to `max` characters, for one line in Slack. */
export function summarizeQuery(text: string, max = QUERY_PREVIEW): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

async function selectLongQueries(client: pg.Client, target: PostgresTarget, options: LongQueryOptions): Promise<LongQueryRow[]> {
  const { rows } = await client.query<LongQueryRow>(LONG_QUERIES_SQL, filterParams(target, options));
  return rows;
}

function filterParams(target: PostgresTarget, options: LongQueryOptions): [string, string | null] {
  const olderThanMs = Math.max(0, Math.round(options.olderThanMs ?? target.longQueryThreshold));
  return [`${olderThanMs} milliseconds`, options.applicationLike ?? null];
}

function toLongQuery(row: LongQueryRow): LongQuery {
  return {
    pid: row.pid,
    durationMs: Math.round(row.duration_ms),
    user: row.user,
    application: row.application,
    state: row.state,
    query: summarizeQuery(row.query),
  };
}

function session(what: string, target: PostgresTarget, signal: AbortSignal | undefined) {
  return { what, timeoutMs: target.timeout, ...(signal ? { signal } : {}) };
}

interface ServerError extends Error {
  code: string;
  detail?: string;
}

/** An error the server sent for one statement (it has a SQLSTATE); the connection is still usable. */
function isServerError(error: unknown): error is ServerError {
  return error instanceof Error && 'severity' in error && typeof (error as { code?: unknown }).code === 'string';
}

function terminateFailure(error: ServerError): string {
  if (error.code === '42501') {
    // PostgreSQL ≤15 says "must be a superuser to terminate superuser process"; 16+ puts it in the detail.
    if (/superuser/i.test(`${error.message} ${error.detail ?? ''}`)) return 'permission denied: only a superuser may terminate a superuser’s query';
    return 'permission denied: the role needs pg_signal_backend (GRANT pg_signal_backend TO <role>) to terminate other roles’ queries';
  }
  if (error.code === '57014') return 'timed out (statement_timeout) while terminating';
  return error.message.split('\n')[0] ?? 'unknown error';
}
