import { z } from 'zod';
import { Duration } from '../config/duration.js';
import { strictObject } from '../config/schema-helpers.js';

/**
 * Catalog `storm:`: when a channel gets more than `threshold` new incidents within `window`, the
 * next ones go into one digest message instead of a thread each, until no new incident has
 * arrived for `quietAfter`.
 */
export const StormConfig = strictObject({
  threshold: z.number().int().min(1).max(1_000).default(20),
  window: Duration.pipe(z.number().min(1_000, 'must be at least 1s').max(86_400_000, 'must be at most 1d')).default(60_000),
  quietAfter: Duration.pipe(z.number().min(1_000, 'must be at least 1s').max(86_400_000, 'must be at most 1d')).default(300_000),
});

export type StormConfig = z.output<typeof StormConfig>;

export const DEFAULT_STORM: StormConfig = Object.freeze({ threshold: 20, window: 60_000, quietAfter: 300_000 });
