import type { CheckResult, CheckStatus } from './types.js';

const SEVERITY: Record<CheckStatus, number> = { ok: 0, warn: 1, fail: 2 };

/** The worst status of a set of results; no results count as ok. */
export function summarize(results: readonly Pick<CheckResult, 'status'>[]): CheckStatus {
  return results.reduce<CheckStatus>((worst, { status }) => (SEVERITY[status] > SEVERITY[worst] ? status : worst), 'ok');
}
