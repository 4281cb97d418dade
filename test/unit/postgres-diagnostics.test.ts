import { describe, expect, it } from 'vitest';
import { formatConnections, formatKillOutcome, formatLongQueries } from '../../src/integrations/postgres/diagnostics-format.js';
import { summarizeQuery, type ConnectionsSummary, type KillOutcome, type LongQuery } from '../../src/integrations/postgres/diagnostics.js';
import { PostgresTargetConfig } from '../../src/integrations/postgres/schema.js';

describe('PostgresTargetConfig', () => {
  it('reads durations and fills defaults', () => {
    expect(PostgresTargetConfig.parse({ url: 'postgres://app@db:5432/app' })).toEqual({ url: 'postgres://app@db:5432/app', longQueryThreshold: 600_000, timeout: 5_000 });
    expect(PostgresTargetConfig.parse({ url: 'postgresql://db/app', longQueryThreshold: '5m', timeout: '10s' })).toMatchObject({ longQueryThreshold: 300_000, timeout: 10_000 });
  });

  it('reports every problem without echoing the URL', () => {
    const result = PostgresTargetConfig.safeParse({ url: 'mysql://root:s3cret@db/app', longQueryThreshold: 'ten minutes', timeout: '2m', extra: true });
    const problems = result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        ': unknown key "extra" (allowed: url, longQueryThreshold, timeout)',
        'url: must be a valid postgres:// or postgresql:// URL',
        expect.stringMatching(/^longQueryThreshold: "ten minutes" is not a duration/),
        'timeout: must be at most 60s',
      ]),
    );
    expect(problems.join('\n')).not.toContain('s3cret');
  });
});

describe('summarizeQuery', () => {
  it('collapses whitespace', () => {
    expect(summarizeQuery('  SELECT *\n\tFROM   orders\r\n WHERE id = 1 ')).toBe('SELECT * FROM orders WHERE id = 1');
  });

  it('cuts to 200 characters with an ellipsis', () => {
    const long = `SELECT ${'x, '.repeat(100)}1`;
    const summary = summarizeQuery(long);
    expect(summary).toHaveLength(200);
    expect(summary.endsWith('…')).toBe(true);
    expect(summarizeQuery('a'.repeat(200))).toBe('a'.repeat(200));
  });
});

describe('formatConnections', () => {
  const summary: ConnectionsSummary = {
    byState: { idle: 30, active: 5, 'idle in transaction': 7 },
    total: 42,
    max: 100,
    usedPercent: 42,
    byApplication: [
      { application: 'api', count: 20 },
      { application: '<psql>', count: 2 },
    ],
  };

  it('lists states by count and the top applications', () => {
    expect(formatConnections(summary)).toBe(
      [
        '*Connections:* 42/100 (42%) — idle 30 · idle in transaction 7 · active 5',
        '*Top applications:* `api` 20 · `&lt;psql&gt;` 2',
        '_Note:_ 7 sessions are idle in a transaction, holding a connection (and possibly locks) without working.',
      ].join('\n'),
    );
  });

  it('warns near max_connections and explains hidden states', () => {
    const text = formatConnections({ byState: { active: 80, unknown: 5 }, total: 85, max: 100, usedPercent: 85, byApplication: [] });
    expect(text).toContain(':warning: 85% of `max_connections` in use (warning at 80%)');
    expect(text).toContain('grant it `pg_read_all_stats`');
    expect(text).not.toContain('Top applications');
  });
});

const query = (pid: number, partial: Partial<LongQuery> = {}): LongQuery => ({
  pid,
  durationMs: 12 * 60_000,
  user: 'app',
  application: 'worker',
  state: 'active',
  query: 'SELECT pg_sleep(`x`)',
  ...partial,
});

describe('formatLongQueries', () => {
  it('says when there are none', () => {
    expect(formatLongQueries([], 600_000)).toBe('No queries running longer than 10m.');
  });

  it('lists each query on one line, at most ten', () => {
    const lines = formatLongQueries(Array.from({ length: 12 }, (_, i) => query(100 + i, i === 0 ? { application: '' } : {})), 600_000).split('\n');
    expect(lines[0]).toBe('*12 queries running longer than 10m:*');
    expect(lines[1]).toBe("• pid `100` · 12m · user `app` · `SELECT pg_sleep('x')`");
    expect(lines[2]).toBe("• pid `101` · 12m · user `app` · app `worker` · `SELECT pg_sleep('x')`");
    expect(lines).toHaveLength(12);
    expect(lines[11]).toBe('…and 2 more');
  });
});

describe('formatKillOutcome', () => {
  const outcome = (partial: Partial<KillOutcome>): KillOutcome => ({ dryRun: false, candidates: [], terminated: [], failed: [], ...partial });

  it('says when nothing matched', () => {
    expect(formatKillOutcome(outcome({}), 600_000)).toBe('No queries running longer than 10m; nothing to terminate.');
  });

  it('shows a dry run as what would be terminated', () => {
    expect(formatKillOutcome(outcome({ dryRun: true, candidates: [query(7)] }), 600_000)).toBe(
      "*Would terminate 1 query running longer than 10m:*\n• pid `7` · 12m · user `app` · app `worker` · `SELECT pg_sleep('x')`",
    );
  });

  it('reports terminated, failed and finished queries', () => {
    const text = formatKillOutcome(
      outcome({
        candidates: [query(1), query(2), query(3)],
        terminated: [{ pid: 1, durationMs: 61_000, user: 'app', query: 'SELECT 1' }],
        failed: [{ pid: 2, reason: 'permission denied: the role needs pg_signal_backend' }],
      }),
      60_000,
    );
    expect(text).toBe(
      [
        '*Terminated 1 query running longer than 1m:*',
        '• pid `1` · 1m · user `app` · `SELECT 1`',
        ':warning: *Could not terminate 1 query:*',
        '• pid `2`: permission denied: the role needs pg_signal_backend',
        '1 query finished on its own before being terminated.',
      ].join('\n'),
    );
  });
});
