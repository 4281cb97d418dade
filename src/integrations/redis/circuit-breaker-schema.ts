import { z } from 'zod';
import { Duration } from '../../config/duration.js';
import { strictObject, uniqueNames, urlWith } from '../../config/schema-helpers.js';

const MAX_PROBE_TIMEOUT_MS = 60_000;

const ProbeConfig = strictObject({
  url: urlWith(['http:', 'https:'], 'http:// or https://').refine(
    (text) => {
      const url = new URL(text);
      return !url.username && !url.password;
    },
    // Probe results are shown in Slack; a URL with credentials would have to be scrubbed everywhere.
    { message: 'must not contain a user name or password' },
  ),
  expectStatus: z.number().int('must be a whole number').min(100, 'must be an HTTP status between 100 and 599').max(599, 'must be an HTTP status between 100 and 599').default(200),
  timeout: Duration.pipe(z.number().positive('must be longer than 0').max(MAX_PROBE_TIMEOUT_MS, 'must be at most 60s')).default(5_000),
});

/**
 * One circuit breaker kept in Redis by the service it protects, as written under `circuitBreakers:`.
 * The key comes from the catalog only: chat input selects a breaker by name and never names a key.
 */
export const CircuitBreakerConfig = strictObject({
  name: z
    .string()
    .max(63, 'must be at most 63 characters')
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lowercase letters, digits, "_" or "-", starting with a letter or digit'),
  redis: urlWith(['redis:', 'rediss:'], 'redis:// or rediss://'),
  key: z
    .string()
    .min(1, 'must not be empty')
    .max(512, 'must be at most 512 characters')
    .regex(/^[\x21-\x7e]+$/, 'use printable ASCII characters without spaces'),
  type: z.enum(['hash', 'string'], { error: 'must be "hash" or "string"' }).default('hash'),
  reset: z.enum(['delete', 'close'], { error: 'must be "delete" (remove the key) or "close" (write state closed, failures 0)' }).default('delete'),
  probe: ProbeConfig.optional(),
});

/** The `circuitBreakers:` list; names must be unique because chat selects breakers by name. */
export const CircuitBreakerList = z.array(CircuitBreakerConfig).superRefine(uniqueNames('circuit breaker'));

export type CircuitBreaker = z.output<typeof CircuitBreakerConfig>;
export type CircuitBreakerProbe = NonNullable<CircuitBreaker['probe']>;
