import { z } from 'zod';
import { Duration } from '../../config/duration.js';
import { strictObject, urlWith } from '../../config/schema-helpers.js';

const MAX_TIMEOUT_MS = 60_000;

/**
 * A PostgreSQL server the diagnostics read (and, for long queries, act on), as written under
 * `postgres:` in a service. The URL's database is the one whose queries may be terminated.
 */
export const PostgresTargetConfig = strictObject({
  url: urlWith(['postgres:', 'postgresql:'], 'postgres:// or postgresql://'),
  /** Active queries running longer than this are "long"; the runbooks use 5–10 minutes. */
  longQueryThreshold: Duration.pipe(z.number().positive('must be longer than 0')).default(600_000),
  /** Connect timeout and statement timeout of every diagnostic query. */
  timeout: Duration.pipe(z.number().positive('must be longer than 0').max(MAX_TIMEOUT_MS, 'must be at most 60s')).default(5_000),
});

export type PostgresTarget = z.output<typeof PostgresTargetConfig>;
