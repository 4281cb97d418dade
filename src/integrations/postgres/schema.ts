import { z } from 'zod';
import { Duration } from '../../config/duration.js';

const MAX_TIMEOUT_MS = 60_000;

/** Rejects unknown keys and names the allowed ones, so a typo such as `longQueryThreshhold` is easy to fix. */
function strict<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((key) => `"${key}"`).join(', ')} (allowed: ${allowed})` : undefined,
  });
}

/** Messages never echo the value: the URL may hold a password. */
const PostgresUrl = z.string().refine(
  (text) => {
    try {
      return ['postgres:', 'postgresql:'].includes(new URL(text).protocol);
    } catch {
      return false;
    }
  },
  { message: 'must be a valid postgres:// or postgresql:// URL' },
);

/**
 * A PostgreSQL server the diagnostics read (and, for long queries, act on), as written under
 * `postgres:` in a service. The URL's database is the one whose queries may be terminated.
 */
export const PostgresTargetConfig = strict({
  url: PostgresUrl,
  /** Active queries running longer than this are "long"; the runbooks use 5–10 minutes. */
  longQueryThreshold: Duration.pipe(z.number().positive('must be longer than 0')).default(600_000),
  /** Connect timeout and statement timeout of every diagnostic query. */
  timeout: Duration.pipe(z.number().positive('must be longer than 0').max(MAX_TIMEOUT_MS, 'must be at most 60s')).default(5_000),
});

export type PostgresTarget = z.output<typeof PostgresTargetConfig>;
