import { runCheck } from './run-check.js';
import type { HealthChecker } from './types.js';

/**
 * Runs all checks of a call in parallel, each under its own timeout, and returns results in
 * input order. `now` is the wall clock in ms (latency and certificate expiry); tests inject it.
 */
export function createHealthChecker(opts: { now?: () => number } = {}): HealthChecker {
  const now = opts.now ?? Date.now;
  return {
    check: (checks, { signal } = {}) => Promise.all(checks.map((check) => runCheck(check, signal, now))),
  };
}
