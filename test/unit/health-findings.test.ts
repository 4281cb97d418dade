import { describe, expect, it } from 'vitest';
import { describeFindings } from '../../src/commands/actions/service-health.js';
import type { CheckResult, CheckStatus } from '../../src/integrations/health/index.js';

const results = (...statuses: Array<[string, CheckStatus]>): CheckResult[] =>
  statuses.map(([name, status]): CheckResult => ({ name, kind: 'http', status, latencyMs: 5 }));

describe('what a health run found', () => {
  it.each<[string, CheckResult[]]>([
    ['2 of 3 checks fail (api, detailed)', results(['api', 'fail'], ['detailed', 'fail'], ['redis', 'ok'])],
    ['1 of 3 checks fails (detailed)', results(['api', 'ok'], ['detailed', 'fail'], ['redis', 'ok'])],
    ['1 of 2 checks warns (database)', results(['api', 'ok'], ['database', 'warn'])],
    ['1 of 3 checks fails (api); 2 warn (database, redis)', results(['api', 'fail'], ['database', 'warn'], ['redis', 'warn'])],
    ['all 3 checks pass', results(['api', 'ok'], ['redis', 'ok'], ['database', 'ok'])],
    ['its 1 check passes', results(['api', 'ok'])],
    ['1 of 1 check fails (api)', results(['api', 'fail'])],
  ])('reads "%s"', (expected, input) => {
    expect(describeFindings(input)).toBe(expected);
  });
});
